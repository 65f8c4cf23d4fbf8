#!/usr/bin/env python3
"""Generates the `onyx classify` parity fixture (test/models/classify/), checked by test/classify.test.ts.

    /usr/bin/python3 scripts/gen_classify_parity.py

- tiny_imagenet_cnn.onnx: a small torchvision-style CNN (conv/bn/relu, max-pool, global average pool,
  linear to 1000 classes) with random weights from a fixed seed; input 'input' float32 [batch, 3, 224, 224],
  output 'logits' float32 [batch, 1000], opset 13. The linear layer is re-centred and scaled on the
  photos' pooled features so the probabilities depend on the image and are peaked (a top-1 of 16-27%,
  not a near-uniform 0.001 that any preprocessing would "match").
- Three photos that ship offline with Debian's python3-sklearn and python3-skimage, shrunk to at most
  320 px and saved losslessly as PNG (see photos() for why not JPEG): one that Resize(256) upscales, one it
  downscales (antialiased), one portrait.
- golden.json: for each committed photo (read back from the committed file), torchvision's ImageNet
  evaluation transform — Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std) — then the
  model in torch and softmax: the SHA-256 of the preprocessed float32 tensor (little-endian bytes), all
  1000 probabilities, the top-5 indices, and the gap between the 5th and 6th logits (how far the
  top-5 is from a tie).

Deterministic: fixed seed, single thread, no timestamps.
"""
import hashlib
import json
import os
import warnings

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from skimage import data as skdata
from sklearn.datasets import load_sample_images
from torchvision import transforms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'models', 'classify')
SEED = 0

warnings.filterwarnings('ignore')
torch.set_num_threads(1)
torch.manual_seed(SEED)


class TinyImageNetCNN(nn.Module):
    def __init__(self):
        super().__init__()
        def block(cin, cout, stride):
            return [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(
            *block(3, 16, 2), nn.MaxPool2d(3, 2, 1), *block(16, 24, 1), *block(24, 32, 2), *block(32, 32, 2)
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def build_model(calibration):
    """Random weights; the linear layer is then re-centred on the pooled features of `calibration`
    (the three photos) so that its logits depend on the image and are spread enough (std ~4) for a
    peaked softmax."""
    model = TinyImageNetCNN()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # non-trivial eval-mode statistics
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.8, 1.2)
                m.bias.uniform_(-0.1, 0.1)
        model.eval()
        feats = torch.flatten(model.pool(model.features(calibration)), 1)
        mu, sigma = feats.mean(0), feats.std(0) + 1e-3
        w = torch.randn(1000, 32) * (4.0 / 32**0.5) / sigma
        model.fc.weight.copy_(w)
        model.fc.bias.copy_(-(w @ mu) + torch.randn(1000) * 0.5)
    return model


# name → (source image as HxWx3 uint8, target (width, height)). Every photo is saved as PNG: jpeg-js and
# libjpeg-turbo (Pillow) decode the same JPEG to pixels a few levels apart (different IDCT and chroma
# upsampling), which would test the decoders rather than the preprocessing.
def photos():
    sk = load_sample_images().images  # [china.jpg 427x640, flower.jpg 427x640]
    return {
        'china.png': (sk[0], (320, 213)),  # landscape; Resize(256) upscales
        'astronaut.png': (skdata.astronaut(), (300, 300)),  # square; Resize(256) downscales (antialias)
        'flower-portrait.png': (sk[1][:, 150:513], (272, 320)),  # portrait crop; downscales
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    onnx_path = os.path.join(OUT, 'tiny_imagenet_cnn.onnx')

    transform = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    inputs = {}
    for name, (pixels, size) in photos().items():
        path = os.path.join(OUT, name)
        Image.fromarray(np.ascontiguousarray(pixels)).convert('RGB').resize(size, Image.LANCZOS).save(path, optimize=True)
        inputs[name] = transform(Image.open(path).convert('RGB')).unsqueeze(0)  # the committed file, as a user loads it
    model = build_model(torch.cat(list(inputs.values())))
    torch.onnx.export(
        model, torch.zeros(1, 3, 224, 224), onnx_path, opset_version=13, input_names=['input'],
        output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
    )
    golden = {
        'model': 'tiny_imagenet_cnn.onnx',
        'transform': 'Resize(256), CenterCrop(224), ToTensor(), Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])',
        'images': [],
    }
    for name, x in inputs.items():
        img = Image.open(os.path.join(OUT, name))
        with torch.no_grad():
            logits = model(x)[0]
        probs = torch.softmax(logits, 0)
        order = torch.argsort(logits, descending=True)
        golden['images'].append({
            'file': name,
            'size': list(img.size),
            'inputMean': float(x.double().mean()),
            'inputSha256': hashlib.sha256(x.numpy().astype('<f4').tobytes()).hexdigest(),
            'top5': [int(i) for i in order[:5]],
            'top5Probabilities': [float(probs[i]) for i in order[:5]],
            'top5Margin': float(logits[order[4]] - logits[order[5]]),
            'probabilities': [round(float(p), 9) for p in probs],
        })
        print(f'{name} {img.size}: top5 {golden["images"][-1]["top5"]} '
              f'p={[round(p, 4) for p in golden["images"][-1]["top5Probabilities"]]} '
              f'margin {golden["images"][-1]["top5Margin"]:.4f}')
    with open(os.path.join(OUT, 'golden.json'), 'w') as f:
        json.dump(golden, f)
        f.write('\n')
    print(f'wrote {OUT}: model {os.path.getsize(onnx_path)} bytes')


if __name__ == '__main__':
    main()
