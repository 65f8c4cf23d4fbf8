#!/usr/bin/env python3
"""Generates the benchmark models in bench/models/ (described in bench/models/README.md).

    /usr/bin/python3 scripts/gen_bench_models.py

Four models with seeded random weights at their architectures' usual initialisation scales, so that the
activations have realistic ranges (no trained weights are downloaded):

  bert_encoder.onnx      BERT-like encoder: 2 layers, hidden 256, 4 heads, intermediate 1024, vocab 512
  mobilenetv2_050.onnx   torchvision MobileNetV2, width 0.5, 224x224 input, 100 classes
  gpt_decoder_step.onnx  GPT-2-style decoder step: 2 layers, hidden 256, 4 heads, past key/value inputs
  lstm.onnx              LSTM: input 64, hidden 256, 1 layer, sequence 64

All are exported with torch.onnx.export at opset 17 with dynamic batch (and sequence / past lengths where
they apply). The total stays under 20 MB; the script fails if it does not. Deterministic (fixed seeds).
"""
import math
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'bench', 'models')
MAX_TOTAL = 20_000_000

warnings.filterwarnings('ignore')
torch.set_num_threads(1)

HIDDEN, HEADS, INTER, LAYERS = 256, 4, 1024, 2
VOCAB, MAX_POS = 512, 256


def init_transformer(module, n_layers, scale_residual):
    """BERT / GPT-2 initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm; GPT-2 also scales the
    residual output projections by 1/sqrt(2·layers)."""
    for name, p in module.named_parameters():
        if name.endswith('bias'):
            nn.init.zeros_(p)
        elif '.ln' in name or name.startswith('ln') or 'norm' in name:
            nn.init.ones_(p)
        else:
            residual = scale_residual and name.endswith('proj.weight')
            std = 0.02 / math.sqrt(2 * n_layers) if residual else 0.02
            nn.init.normal_(p, 0.0, std)


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.fc1 = nn.Linear(HIDDEN, INTER)
        self.fc2 = nn.Linear(INTER, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, x, bias):
        b, s, _ = x.shape
        dh = HIDDEN // HEADS
        q, k, v = self.qkv(x).reshape(b, s, 3, HEADS, dh).permute(2, 0, 3, 1, 4)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + bias
        ctx = torch.matmul(att.softmax(-1), v).transpose(1, 2).reshape(b, s, HIDDEN)
        x = self.ln1(x + self.out(ctx))  # post-norm, as in BERT
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class BertEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.ln_emb = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer() for _ in range(LAYERS))
        self.pool = nn.Linear(HIDDEN, HIDDEN)

    def forward(self, input_ids, attention_mask, token_type_ids):
        s = input_ids.shape[1]
        pos = torch.arange(s, dtype=torch.int64).unsqueeze(0)
        x = self.ln_emb(self.word(input_ids) + self.pos(pos) + self.token_type(token_type_ids))
        # HF BERT's extended attention mask: 0 for kept keys, -10000 for padding.
        bias = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return x, torch.tanh(self.pool(x[:, 0]))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(HIDDEN)
        self.qkv = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.proj = nn.Linear(HIDDEN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN)
        self.fc = nn.Linear(HIDDEN, INTER)
        self.mlp_proj = nn.Linear(INTER, HIDDEN)

    def forward(self, x, past_k, past_v, mask):
        b, t, _ = x.shape
        dh = HIDDEN // HEADS
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, HEADS, dh).permute(2, 0, 3, 1, 4)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
        att = att.masked_fill(~mask, torch.finfo(torch.float32).min)
        ctx = torch.matmul(att.softmax(-1), v).transpose(1, 2).reshape(b, t, HIDDEN)
        x = x + self.proj(ctx)
        x = x + self.mlp_proj(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))
        return x, k, v


class GptDecoderStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, HIDDEN)
        self.wpe = nn.Embedding(MAX_POS, HIDDEN)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(HIDDEN)

    def forward(self, input_ids, *past):
        t = input_ids.shape[1]
        p = past[0].shape[2]
        pos = (torch.arange(t, dtype=torch.int64) + p).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        # New token i may attend to every past position and to new positions <= i.
        mask = torch.ones(t, p + t, dtype=torch.bool).tril(diagonal=p)
        presents = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer(x, past[2 * i], past[2 * i + 1], mask)
            presents += [k, v]
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())  # tied input / output embedding
        return (logits, *presents)


class LstmModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(64, 256, num_layers=1, batch_first=True)

    def forward(self, x):
        out, (h, c) = self.rnn(x)
        return out, h, c


def mobilenet():
    m = torchvision.models.mobilenet_v2(weights=None, width_mult=0.5, num_classes=100)
    # torchvision's initialisation (Kaiming conv, unit BatchNorm) plus BatchNorm statistics calibrated on
    # seeded random images, so that every layer's activations are normalised as in a trained network.
    for bn in m.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average
    m.train()
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for _ in range(4):
            m(torch.randn(16, 3, 224, 224, generator=gen))
    return m


def export(name, module, args, in_names, out_names, dynamic):
    path = os.path.join(OUT_DIR, name)
    module.eval()
    with torch.no_grad():
        expected = module(*args)
        torch.onnx.export(
            module,
            args,
            path,
            input_names=in_names,
            output_names=out_names,
            dynamic_axes=dynamic,
            opset_version=17,
            do_constant_folding=True,
        )
    m = onnx.load(path)
    m.producer_version = ''
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    params = sum(p.numel() for p in module.parameters())
    size = os.path.getsize(path)
    expected = expected if isinstance(expected, tuple) else (expected,)
    ranges = ', '.join(f'{n} std {float(t.float().std()):.3g}' for n, t in zip(out_names, expected))
    print(f'{name:22s} {params / 1e6:6.3f} M params  {size / 1e6:6.2f} MB  {len(m.graph.node):4d} nodes  ({ranges})')
    return size


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    total = 0

    torch.manual_seed(1)
    bert = BertEncoder()
    init_transformer(bert, LAYERS, scale_residual=False)
    b, s = 2, 128
    ids = torch.randint(0, VOCAB, (b, s), generator=gen)
    mask = torch.ones(b, s, dtype=torch.int64)
    mask[1, 100:] = 0
    types = torch.zeros(b, s, dtype=torch.int64)
    seq = {0: 'batch', 1: 'sequence'}
    total += export(
        'bert_encoder.onnx',
        bert,
        (ids, mask, types),
        ['input_ids', 'attention_mask', 'token_type_ids'],
        ['last_hidden_state', 'pooler_output'],
        {
            'input_ids': seq,
            'attention_mask': seq,
            'token_type_ids': seq,
            'last_hidden_state': seq,
            'pooler_output': {0: 'batch'},
        },
    )

    torch.manual_seed(2)
    total += export(
        'mobilenetv2_050.onnx',
        mobilenet(),
        (torch.rand(1, 3, 224, 224, generator=gen),),
        ['input'],
        ['logits'],
        {'input': {0: 'batch'}, 'logits': {0: 'batch'}},
    )

    torch.manual_seed(3)
    gpt = GptDecoderStep()
    init_transformer(gpt, LAYERS, scale_residual=True)
    past_len = 16
    dh = HIDDEN // HEADS
    past = [torch.randn(1, HEADS, past_len, dh, generator=gen) for _ in range(2 * LAYERS)]
    past_names = [f'past_{kind}_{i}' for i in range(LAYERS) for kind in ('key', 'value')]
    present_names = [f'present_{kind}_{i}' for i in range(LAYERS) for kind in ('key', 'value')]
    dynamic = {'input_ids': {0: 'batch', 1: 'sequence'}, 'logits': {0: 'batch', 1: 'sequence'}}
    dynamic.update({n: {0: 'batch', 2: 'past_sequence'} for n in past_names})
    dynamic.update({n: {0: 'batch', 2: 'total_sequence'} for n in present_names})
    total += export(
        'gpt_decoder_step.onnx',
        gpt,
        (torch.randint(0, VOCAB, (1, 1), generator=gen), *past),
        ['input_ids', *past_names],
        ['logits', *present_names],
        dynamic,
    )

    torch.manual_seed(4)
    total += export(
        'lstm.onnx',
        LstmModel(),
        (torch.randn(1, 64, 64, generator=gen),),
        ['input'],
        ['output', 'h_n', 'c_n'],
        {'input': {0: 'batch', 1: 'sequence'}, 'output': {0: 'batch', 1: 'sequence'}, 'h_n': {1: 'batch'}, 'c_n': {1: 'batch'}},
    )

    print(f'total {total / 1e6:.2f} MB -> {OUT_DIR}')
    if total > MAX_TOTAL:
        raise SystemExit(f'the benchmark models take {total} bytes, over the {MAX_TOTAL}-byte budget')


if __name__ == '__main__':
    np.random.seed(0)
    sys.exit(main())
