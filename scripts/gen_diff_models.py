#!/usr/bin/env python3
"""Generates the models of the differential test (test/differential.test.ts) against onnxruntime-node.

    /usr/bin/python3 scripts/gen_diff_models.py

Writes test/models/diff/<name>.onnx and test/models/diff/manifest.json. Every model is small (seeded random
weights, well under 200 KB) and exported with torch.onnx.export at an opset between 13 and 17. The manifest
lists, per model, one or more test cases; each case is a list of concrete input specs
{name, dtype: 'float32'|'int64'|'bool', dims, range?}. Float inputs are drawn from [-1, 1] by the test;
'range' is [lo, hi] (both inclusive) for int64 inputs. Models with dynamic dims have two cases with different
concrete shapes.

Needs torch (1.13), onnx and numpy; the output is deterministic (fixed seeds, no timestamps).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, 'test', 'models', 'diff')
MAX_BYTES = 200 * 1024

warnings.filterwarnings('ignore')
torch.set_num_threads(1)


def f32(*dims):
    return ('float32', list(dims), None)


def i64(lo, hi, *dims):
    return ('int64', list(dims), [lo, hi])


def boolean(*dims):
    return ('bool', list(dims), None)


MODELS = []


def model(name, opset=17, dynamic=None):
    """Registers a builder returning (module, input names, output names, cases); cases[0] is also the
    export example. `dynamic` is torch's dynamic_axes."""

    def wrap(fn):
        MODELS.append((name, opset, dynamic, fn))
        return fn

    return wrap


# ---------------------------------------------------------------------------------------------- CNN


@model('conv_bn_relu', dynamic={'x': {0: 'batch'}, 'y': {0: 'batch'}})
def conv_bn_relu():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
            # A BatchNorm that does not follow a Conv stays a BatchNormalization node in the export.
            self.bn2 = nn.BatchNorm2d(8)

        def forward(self, x):
            y = F.relu(self.bn(self.conv(x)))
            y = F.relu(self.conv2(y))
            return F.relu(self.bn2(y + x.mean(dim=1, keepdim=True)))

    return M(), ['x'], ['y'], [[f32(2, 3, 10, 10)], [f32(3, 3, 10, 10)]]


@model('depthwise_grouped_conv')
def depthwise_grouped_conv():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.gc = nn.Conv2d(8, 12, 3, padding=1, groups=4)
            self.dw_mult = nn.Conv2d(12, 24, 5, padding=2, groups=12, bias=False)
            self.pw = nn.Conv2d(24, 6, 1)

        def forward(self, x):
            return self.pw(F.relu(self.dw_mult(F.relu(self.gc(F.relu(self.dw(x)))))))

    return M(), ['x'], ['y'], [[f32(1, 8, 9, 11)]]


@model('strided_dilated_conv', opset=13)
def strided_dilated_conv():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(4, 6, 3, stride=2, padding=1)
            self.b = nn.Conv2d(4, 6, (3, 5), stride=(2, 1), padding=(2, 1), dilation=(2, 1))
            self.c = nn.Conv2d(4, 5, 3, dilation=2, padding=0)
            self.d = nn.Conv2d(4, 3, 4, stride=3, padding=0)
            self.e = nn.Conv1d(4, 4, 3, padding=2, dilation=2, stride=2)
            self.f = nn.Conv3d(1, 2, 3, padding=1, stride=(1, 2, 2))

        def forward(self, x):
            z = x.flatten(2)
            v = x[:, :1].unsqueeze(1)  # [N, 1, 1, H, W] -> 5-D conv input
            v = torch.cat([v, v * 0.5], dim=2)
            return self.a(x), self.b(x), self.c(x), self.d(x), self.e(z), self.f(v)

    return M(), ['x'], ['a', 'b', 'c', 'd', 'e', 'f'], [[f32(2, 4, 13, 12)]]


@model('conv_transpose')
def conv_transpose():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
            self.grouped = nn.ConvTranspose2d(6, 4, 4, stride=2, padding=1, groups=2, bias=False)
            self.dil = nn.ConvTranspose2d(6, 3, 3, stride=1, padding=0, dilation=2)
            self.one_d = nn.ConvTranspose1d(6, 2, 5, stride=3, padding=2)

        def forward(self, x):
            return self.up(x), self.grouped(x), self.dil(x), self.one_d(x.mean(dim=2))

    return M(), ['x'], ['up', 'grouped', 'dilated', 'one_d'], [[f32(1, 6, 7, 5)]]


@model('pooling')
def pooling():
    class M(nn.Module):
        def forward(self, x):
            a = F.max_pool2d(x, 3, stride=2, padding=1)
            b = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)
            c = F.avg_pool2d(x, (2, 3), stride=(2, 1), padding=(1, 1), count_include_pad=True)
            d = F.max_pool2d(x, 2, stride=1, dilation=2)
            e = F.adaptive_avg_pool2d(x, 1)
            f = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
            g = F.adaptive_max_pool2d(x, 1)
            h = F.max_pool1d(x.flatten(2), 4, stride=3)
            return a, b, c, d, e, f, g, h

    return M(), ['x'], ['max', 'avg_excl', 'avg_incl', 'max_dil', 'gap', 'max_ceil', 'gmp', 'max1d'], [
        [f32(2, 3, 11, 10)]
    ]


@model('residual_block', dynamic={'x': {0: 'batch', 2: 'height', 3: 'width'}, 'y': {0: 'batch'}})
def residual_block():
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + idt)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.b1 = Block(8, 8, 1)
            self.b2 = Block(8, 16, 2)
            self.fc = nn.Linear(16, 5)

        def forward(self, x):
            y = self.b2(self.b1(F.relu(self.stem(x))))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))

    return M(), ['x'], ['y'], [[f32(2, 3, 12, 12)], [f32(1, 3, 9, 14)]]


@model('mobilenet_block', dynamic={'x': {0: 'batch'}, 'y': {0: 'batch'}})
def mobilenet_block():
    class InvRes(nn.Module):
        def __init__(self, c, expand, act):
            super().__init__()
            h = c * expand
            self.expand = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), act())
            self.dw = nn.Sequential(nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h), act())
            self.project = nn.Sequential(nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            return x + self.project(self.dw(self.expand(x)))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
            self.r1 = InvRes(8, 4, nn.ReLU6)
            self.r2 = InvRes(8, 3, nn.Hardswish)
            self.head = nn.Sequential(nn.Conv2d(8, 16, 1), nn.Hardswish())
            self.se = nn.Sequential(nn.Conv2d(16, 4, 1), nn.ReLU(), nn.Conv2d(4, 16, 1), nn.Hardsigmoid())
            self.fc = nn.Linear(16, 7)

        def forward(self, x):
            y = self.head(self.r2(self.r1(self.stem(x * 3.0))))
            y = y * self.se(F.adaptive_avg_pool2d(y, 1))
            return self.fc(y.mean(dim=(2, 3)))

    return M(), ['x'], ['y'], [[f32(1, 3, 16, 16)], [f32(3, 3, 16, 16)]]


@model('resize_upsample', opset=13)
def resize_upsample():
    class M(nn.Module):
        def forward(self, x):
            a = F.interpolate(x, scale_factor=2, mode='nearest')
            b = F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
            c = F.interpolate(x, size=(7, 9), mode='bilinear', align_corners=True)
            d = F.interpolate(x, scale_factor=(1.5, 2.5), mode='nearest')
            e = F.interpolate(x, size=(3, 4), mode='bilinear', align_corners=False)
            return a, b, c, d, e

    return M(), ['x'], ['nearest2x', 'bilinear2x', 'aligned', 'nearest_frac', 'down'], [[f32(1, 2, 5, 6)]]


@model('tiny_cnn_classifier', opset=15)
def tiny_cnn_classifier():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(1, 6, 3)
            self.c2 = nn.Conv2d(6, 10, 3)
            self.fc = nn.Linear(10 * 4 * 4, 10)
            self.drop = nn.Dropout(0.3)

        def forward(self, x):
            y = F.max_pool2d(F.leaky_relu(self.c1(x), 0.1), 2)
            y = F.elu(self.c2(y))
            y = self.drop(torch.flatten(y, 1))
            return F.log_softmax(self.fc(y), dim=-1)

    return M(), ['x'], ['log_probs'], [[f32(4, 1, 14, 14)]]


# ---------------------------------------------------------------------------------------------- transformer


class SelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x, mask=None):
        b, s, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        q = q.reshape(b, s, self.h, self.dh).transpose(1, 2)
        k = k.reshape(b, s, self.h, self.dh).transpose(1, 2)
        v = v.reshape(b, s, self.h, self.dh).transpose(1, 2)
        att = q @ k.transpose(-1, -2) / (self.dh**0.5)
        if mask is not None:
            att = att.masked_fill(~mask, -1e4)
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, s, d)
        return self.out(y)


@model(
    'mha_block',
    dynamic={'x': {0: 'batch', 1: 'seq'}, 'keep': {0: 'batch', 1: 'seq'}, 'y': {0: 'batch', 1: 'seq'}},
)
def mha_block():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(16)
            self.att = SelfAttention(16, 4)
            self.ln2 = nn.LayerNorm(16)
            self.mlp = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16))

        def forward(self, x, keep):
            s = x.shape[1]
            causal = torch.ones(s, s, dtype=torch.bool).tril()
            first = torch.arange(s) == 0  # the first key is always visible: no fully masked row
            mask = causal & (keep | first).unsqueeze(1).unsqueeze(1)
            x = x + self.att(self.ln1(x), mask)
            return x + self.mlp(self.ln2(x))

    return M(), ['x', 'keep'], ['y'], [
        [f32(2, 5, 16), boolean(2, 5)],
        [f32(1, 9, 16), boolean(1, 9)],
    ]


@model('gelu_mlp', dynamic={'x': {0: 'batch'}, 'probs': {0: 'batch'}, 'hidden': {0: 'batch'}})
def gelu_mlp():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(24, 48)
            self.fc2 = nn.Linear(48, 24)
            self.fc3 = nn.Linear(24, 10)

        def forward(self, x):
            h = F.gelu(self.fc1(x))
            h = F.gelu(self.fc2(h), approximate='tanh')
            return F.softmax(self.fc3(h) * 2.0, dim=-1), h

    return M(), ['x'], ['probs', 'hidden'], [[f32(3, 24)], [f32(7, 24)]]


@model(
    'embedding_posadd',
    dynamic={'ids': {0: 'batch', 1: 'seq'}, 'y': {0: 'batch', 1: 'seq'}},
)
def embedding_posadd():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(50, 16)
            self.pos = nn.Parameter(torch.randn(32, 16) * 0.1)
            self.ln = nn.LayerNorm(16)

        def forward(self, ids):
            s = ids.shape[1]
            return self.ln(self.tok(ids) + self.pos[:s].unsqueeze(0))

    return M(), ['ids'], ['y'], [[i64(0, 49, 2, 6)], [i64(0, 49, 3, 11)]]


@model(
    'decoder_step_kv',
    dynamic={
        'x': {0: 'batch'},
        'past_k': {0: 'batch', 2: 'past'},
        'past_v': {0: 'batch', 2: 'past'},
        'y': {0: 'batch'},
        'present_k': {0: 'batch', 2: 'total'},
        'present_v': {0: 'batch', 2: 'total'},
    },
)
def decoder_step_kv():
    d, h = 16, 2
    dh = d // h

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(d)
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)
            self.ff = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

        def forward(self, x, past_k, past_v):
            b = x.shape[0]
            hx = self.ln(x)
            q = self.q(hx).reshape(b, 1, h, dh).transpose(1, 2)
            k = torch.cat([past_k, self.k(hx).reshape(b, 1, h, dh).transpose(1, 2)], dim=2)
            v = torch.cat([past_v, self.v(hx).reshape(b, 1, h, dh).transpose(1, 2)], dim=2)
            att = torch.softmax(torch.matmul(q, k.transpose(2, 3)) * dh**-0.5, dim=-1)
            y = x + self.o(torch.matmul(att, v).transpose(1, 2).reshape(b, 1, d))
            return y + self.ff(y), k, v

    return M(), ['x', 'past_k', 'past_v'], ['y', 'present_k', 'present_v'], [
        [f32(2, 1, d), f32(2, h, 4, dh), f32(2, h, 4, dh)],
        [f32(1, 1, d), f32(1, h, 7, dh), f32(1, h, 7, dh)],
    ]


# ---------------------------------------------------------------------------------------------- recurrent


@model(
    'lstm',
    dynamic={'x': {0: 'batch', 1: 'seq'}, 'out': {0: 'batch', 1: 'seq'}, 'h_n': {1: 'batch'}, 'c_n': {1: 'batch'}},
)
def lstm():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(6, 10, num_layers=2, batch_first=True)

        def forward(self, x):
            out, (h, c) = self.rnn(x)
            return out, h, c

    return M(), ['x'], ['out', 'h_n', 'c_n'], [[f32(2, 5, 6)], [f32(3, 8, 6)]]


@model('lstm_bidirectional', opset=14, dynamic={'x': {1: 'seq'}, 'out': {1: 'seq'}})
def lstm_bidirectional():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(5, 7, bidirectional=True)  # sequence-first
            self.fc = nn.Linear(14, 3)

        def forward(self, x, h0, c0):
            out, _ = self.rnn(x.transpose(0, 1), (h0, c0))
            return self.fc(out.transpose(0, 1))

    return M(), ['x', 'h0', 'c0'], ['out'], [
        [f32(2, 4, 5), f32(2, 2, 7), f32(2, 2, 7)],
        [f32(2, 9, 5), f32(2, 2, 7), f32(2, 2, 7)],
    ]


@model('gru', dynamic={'x': {1: 'seq'}, 'out': {1: 'seq'}})
def gru():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(6, 8, num_layers=1, batch_first=True)
            self.rnn2 = nn.GRU(8, 4, batch_first=True, bias=False)

        def forward(self, x, h0):
            out, h = self.rnn(x, h0)
            out2, h2 = self.rnn2(torch.tanh(out))
            return out2, h, h2

    return M(), ['x', 'h0'], ['out', 'h_n', 'h2_n'], [
        [f32(2, 6, 6), f32(1, 2, 8)],
        [f32(2, 3, 6), f32(1, 2, 8)],
    ]


# ---------------------------------------------------------------------------------------------- misc


@model('reductions', opset=13)
def reductions():
    class M(nn.Module):
        def forward(self, x):
            return (
                x.sum(dim=1),
                x.mean(dim=(1, 2), keepdim=True),
                x.amax(dim=-1),
                x.amin(dim=0),
                (x * 0.5 + 1.0).prod(dim=2),
                x.norm(p=2, dim=-1),
                x.abs().sum(dim=1),
                torch.logsumexp(x, dim=1),
                x.argmax(dim=2),
                x.argmin(dim=1, keepdim=True),
                (x * x).sum(),
                x.var(dim=-1, unbiased=False),
            )

    names = ['sum', 'mean', 'max', 'min', 'prod', 'l2', 'l1', 'logsumexp', 'argmax', 'argmin', 'sumsq', 'var']
    return M(), ['x'], names, [[f32(3, 4, 5)]]


@model('reductions_opset17', dynamic={'x': {0: 'batch'}})
def reductions_opset17():
    class M(nn.Module):
        def forward(self, x):
            return x.sum(dim=(0, 2)), x.mean(dim=-1), x.amax(dim=(1, 2)), torch.softmax(x, dim=1).max(dim=1)[0]

    return M(), ['x'], ['sum', 'mean', 'max', 'softmax_max'], [[f32(2, 3, 6)], [f32(5, 3, 6)]]


@model('shape_chain', dynamic={'x': {0: 'batch'}, 'a': {0: 'batch'}, 'b': {0: 'batch'}, 'c': {0: 'batch'}})
def shape_chain():
    class M(nn.Module):
        def forward(self, x):
            b = x.shape[0]
            y = x.permute(0, 2, 3, 1).reshape(b, -1, 4)  # [b, 30, 4]
            first, second, third = torch.split(y, [1, 2, 1], dim=-1)
            z = torch.cat([third, second[..., 1:] * 2.0, first - 1.0, y[:, ::3, :1]], dim=1)  # [b, 100, 1]
            z = z.flatten(1).unsqueeze(-1).squeeze(-1)
            w = y[:, 2:-3, 1:3].transpose(1, 2).contiguous()  # [b, 2, 25]
            w = w.expand(b, 2, 25).repeat(1, 2, 1)
            chunks = torch.chunk(x, 2, dim=3)
            v = torch.stack([chunks[1], chunks[0].flip(3)], dim=1).reshape(b, 2, -1)
            return z, w, v

    return M(), ['x'], ['a', 'b', 'c'], [[f32(2, 4, 5, 6)], [f32(3, 4, 5, 6)]]


@model('where_compare', opset=16)
def where_compare():
    class M(nn.Module):
        def forward(self, x, y, flag):
            gt = x > y
            le = x <= 0.25
            eq = torch.round(x * 4.0) == torch.round(y * 4.0)
            sel = torch.where(gt & ~flag, x, y * 2.0)
            sel2 = torch.where(le | flag, torch.zeros_like(x), x.abs())
            both = torch.logical_xor(gt, flag)
            clamped = torch.clamp(x, -0.5, 0.3) + torch.maximum(x, y) - torch.minimum(x, y * 0.5)
            return sel, sel2, both, eq, clamped, (x != y).int().sum(dim=-1)

    return M(), ['x', 'y', 'flag'], ['sel', 'sel2', 'xor', 'eq', 'clamped', 'count_ne'], [
        [f32(3, 7), f32(3, 7), boolean(3, 7)]
    ]


@model('topk_sort', opset=15)
def topk_sort():
    class M(nn.Module):
        def forward(self, x):
            v, i = torch.topk(x, 3, dim=-1)
            v2, i2 = torch.topk(x, 2, dim=0, largest=False)
            s, si = torch.sort(x, dim=1, descending=True)
            return v, i, v2, i2, s, si

    return M(), ['x'], ['top_v', 'top_i', 'low_v', 'low_i', 'sorted', 'sorted_i'], [[f32(4, 9)]]


@model('cumsum_flip', opset=14, dynamic={'x': {1: 'len'}, 'fwd': {1: 'len'}, 'rev': {1: 'len'}})
def cumsum_flip():
    class M(nn.Module):
        def forward(self, x):
            fwd = torch.cumsum(x, dim=1)
            rev = torch.flip(torch.cumsum(torch.flip(x, [1]), dim=1), [1])
            return fwd, rev, torch.cumsum(x, dim=0)

    return M(), ['x'], ['fwd', 'rev', 'down'], [[f32(3, 6)], [f32(3, 11)]]


@model('einsum', opset=13)
def einsum():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.randn(5, 3))

        def forward(self, a, b):
            return (
                torch.einsum('bij,bjk->bik', a, b),
                torch.einsum('bij,bij->b', a, a),
                torch.einsum('bij->bji', a),
                torch.einsum('bij,jk->bik', b.transpose(1, 2), self.w),
                torch.einsum('i,j->ij', a[0, 0], b[0, :, 0]),
                torch.einsum('bij,bkj->bik', a, a),
            )

    return M(), ['a', 'b'], ['bmm', 'dot', 'transpose', 'project', 'outer', 'gram'], [
        [f32(2, 4, 5), f32(2, 5, 3)]
    ]


@model('pad_modes', opset=13)
def pad_modes():
    class M(nn.Module):
        def forward(self, x):
            return (
                F.pad(x, (2, 1, 1, 2), mode='reflect'),
                F.pad(x, (1, 3, 0, 2), mode='replicate'),
                F.pad(x, (1, 1, 2, 0), mode='constant', value=0.5),
                F.pad(x, (-1, 2, 1, -1)),
            )

    return M(), ['x'], ['reflect', 'edge', 'constant', 'negative'], [[f32(1, 2, 5, 6)]]


@model('instance_group_norm')
def instance_group_norm():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.inorm = nn.InstanceNorm2d(8, affine=True)
            self.gnorm = nn.GroupNorm(4, 8)
            self.inorm1d = nn.InstanceNorm1d(8)

        def forward(self, x):
            return self.inorm(x), self.gnorm(x * 2.0 + 0.5), self.inorm1d(x.flatten(2))

    m = M()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.3 + 1.0)
    return m, ['x'], ['instance', 'group', 'instance1d'], [[f32(2, 8, 5, 4)]]


@model('elementwise_math', opset=17)
def elementwise_math():
    class M(nn.Module):
        def forward(self, x):
            p = x.abs() + 0.1
            return (
                torch.exp(x) - torch.log(p) + torch.sqrt(p) * torch.pow(p, 1.7),
                torch.sigmoid(x) * torch.tanh(x * 2) + F.softplus(x * 3),
                F.selu(x * 2) + F.elu(x, 0.7) + F.leaky_relu(x, 0.2) + F.silu(x),
                torch.sin(x * 3) * torch.cos(x) + torch.erf(x) + torch.reciprocal(p) + torch.atan(x),
                torch.floor(x * 5) + torch.ceil(x * 3) + torch.sign(x) + torch.round(x * 7),
                F.hardtanh(x * 3, -1.5, 2.0) + F.softsign(x) + F.mish(x) + F.relu6(x * 8),
                torch.fmod(x * 5, 1.5) + torch.remainder(x * 5, 1.25) + x / p,
            )

    return M(), ['x'], [f'e{i}' for i in range(7)], [[f32(4, 6)]]


@model('matmul_gemm', opset=17, dynamic={'x': {0: 'batch'}, 'y': {0: 'batch'}})
def matmul_gemm():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(12, 20)
            self.l2 = nn.Linear(20, 8, bias=False)
            self.w = nn.Parameter(torch.randn(3, 8, 4) * 0.3)

        def forward(self, x, m):
            h = torch.relu(self.l1(x))
            h = self.l2(h)  # [b, 8]
            bm = torch.matmul(h.unsqueeze(0).expand(3, -1, -1), self.w)  # [3, b, 4]
            mv = torch.matmul(m, h[0])  # [5, 8] @ [8]
            return bm.sum(dim=0) + torch.addmm(x[:, :4], x, self.l1.weight[:4].t()), mv

    return M(), ['x', 'm'], ['y', 'mv'], [[f32(3, 12), f32(5, 8)], [f32(6, 12), f32(5, 8)]]


@model('conv1d_temporal', opset=16, dynamic={'x': {0: 'batch', 2: 'time'}, 'y': {0: 'batch', 2: 'time_out'}})
def conv1d_temporal():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv1d(4, 8, 5, padding=2)
            self.c2 = nn.Conv1d(8, 8, 3, padding=1, groups=2)
            self.c3 = nn.Conv1d(8, 6, 3, padding=2, dilation=2)

        def forward(self, x):
            y = F.max_pool1d(F.relu(self.c1(x)), 2, stride=2)
            y = F.avg_pool1d(torch.tanh(self.c2(y)), 3, stride=1, padding=1)
            return self.c3(y)

    return M(), ['x'], ['y'], [[f32(2, 4, 16)], [f32(1, 4, 23)]]


@model('gather_scatter_index', opset=16)
def gather_scatter_index():
    class M(nn.Module):
        def forward(self, x, idx):
            g = torch.gather(x, 1, idx)  # GatherElements
            picked = x[:, idx[0, :3]]  # Gather on a dynamic index
            perm = torch.tensor([[5, 0, 3, 1], [2, 4, 0, 5], [1, 3, 5, 2]])  # distinct indices per row
            s = torch.zeros_like(x).scatter(1, perm, g * 2.0)  # ScatterElements
            s2 = torch.zeros_like(x).scatter_add(1, idx[:, :1], x[:, :1])
            ix = x.clone()
            ix[1] = x[0] * 3.0  # ScatterND
            return g, picked, s2, ix, x[torch.tensor([2, 0])], s.sum(dim=1)

    return M(), ['x', 'idx'], ['gathered', 'picked', 'scatter_add', 'index_put', 'rows', 'scatter_sum'], [
        [f32(3, 6), i64(0, 5, 3, 4)]
    ]


@model('int_arithmetic', opset=17)
def int_arithmetic():
    class M(nn.Module):
        def forward(self, a, x):
            b = a * 3 + 7
            c = torch.div(b, 4, rounding_mode='floor')
            d = (a.float() * x).sum(dim=-1)
            e = torch.nn.functional.one_hot(a.clamp(0, 4), 5).float() @ torch.arange(5).float()
            return b, c, d, e, a.max(dim=1)[0], (a > 2).sum(dim=1)

    return M(), ['a', 'x'], ['affine', 'floordiv', 'weighted', 'onehot', 'rowmax', 'count'], [
        [i64(-3, 9, 3, 5), f32(3, 5)]
    ]


# ---------------------------------------------------------------------------------------------- driver


def make_inputs(case, gen):
    out = []
    for dtype, dims, rng in case:
        if dtype == 'float32':
            out.append(torch.rand(*dims, generator=gen) * 2 - 1)
        elif dtype == 'int64':
            out.append(torch.randint(rng[0], rng[1] + 1, tuple(dims), generator=gen))
        else:
            out.append(torch.rand(*dims, generator=gen) > 0.5)
    return tuple(out)


def check_model(path):
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return m


def export(name, opset, dynamic, builder):
    torch.manual_seed(1234 + sum(map(ord, name)))
    module, in_names, out_names, cases = builder()
    module.eval()
    # Give BatchNorm layers non-trivial running statistics so that they are not identities.
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.BatchNorm2d):
                sub.running_mean.copy_(torch.randn_like(sub.running_mean) * 0.2)
                sub.running_var.copy_(torch.rand_like(sub.running_var) + 0.5)
                sub.weight.copy_(torch.rand_like(sub.weight) + 0.5)
                sub.bias.copy_(torch.randn_like(sub.bias) * 0.2)
    gen = torch.Generator().manual_seed(99)
    example = make_inputs(cases[0], gen)
    path = os.path.join(OUT_DIR, name + '.onnx')
    with torch.no_grad():
        torch.onnx.export(
            module,
            example,
            path,
            input_names=in_names,
            output_names=out_names,
            dynamic_axes=dynamic or {},
            opset_version=opset,
            do_constant_folding=True,
        )
    m = check_model(path)
    # Strip the exporter's version string so that the files do not change with the torch build.
    m.producer_version = ''
    onnx.save(m, path)
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise SystemExit(f'{name}: {size} bytes is over the {MAX_BYTES}-byte limit')
    graph_inputs = [i.name for i in m.graph.input]
    if graph_inputs != in_names:
        raise SystemExit(f'{name}: graph inputs {graph_inputs} differ from {in_names}')
    ops = sorted({n.op_type for n in m.graph.node})
    entry = {
        'name': name,
        'file': name + '.onnx',
        'opset': opset,
        'dynamic': bool(dynamic),
        'ops': ops,
        'cases': [
            [
                dict({'name': n, 'dtype': dt, 'dims': dims}, **({'range': rng} if rng is not None else {}))
                for n, (dt, dims, rng) in zip(in_names, case)
            ]
            for case in cases
        ],
    }
    print(f'{name:24s} opset {opset}  {size:7d} B  {len(m.graph.node):3d} nodes  {" ".join(ops)}')
    return entry


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for f in os.listdir(OUT_DIR):
        if f.endswith('.onnx'):
            os.remove(os.path.join(OUT_DIR, f))
    entries = [export(*spec) for spec in MODELS]
    dynamic = sum(e['dynamic'] for e in entries)
    manifest = {
        'description': 'Models of test/differential.test.ts, generated by scripts/gen_diff_models.py. Float inputs '
        'are drawn from [-1, 1]; int64 inputs from range [lo, hi], both inclusive.',
        'models': entries,
    }
    path = os.path.join(OUT_DIR, 'manifest.json')
    text = json.dumps(manifest, indent=2)
    # Lists of scalars on one line (as Prettier prints them when they fit), not one element a line.
    text = re.sub(r'\[\s*([^\[\]{}]*?)\s*\]', lambda mo: '[' + ', '.join(x.strip() for x in mo.group(1).split(',')) + ']', text)
    with open(path, 'w') as f:
        f.write(text + '\n')
    # The repository checks JSON formatting with Prettier; format the manifest the same way when available.
    npx = shutil.which('npx')
    if npx:
        subprocess.run([npx, 'prettier', '--write', path], cwd=ROOT, check=False, capture_output=True)
    total = sum(os.path.getsize(os.path.join(OUT_DIR, e['file'])) for e in entries)
    print(f'{len(entries)} models ({dynamic} with dynamic dims), {total} bytes in all -> {OUT_DIR}')


if __name__ == '__main__':
    sys.exit(main())
