#!/usr/bin/env python3
"""Trains the digits classifier that `npm start` runs by default (models/digits.onnx).

    /usr/bin/python3 scripts/train_digits.py

Data: scikit-learn's bundled 8x8 handwritten digits (sklearn.datasets.load_digits, offline; 1797 images).
Pixel values 0..16 count ink, so after dividing by 16 a pixel is 0 (background) .. 1 (ink): the model sees
a white (bright) digit on a black background, and the sample PNGs are drawn the same way.
A stratified 20% held-out split (random_state 0) is never trained on; its accuracy is measured with torch.

Writes:
  models/digits.onnx           input 'image' float32 [batch, 1, 8, 8] (0..1), output 'logits' float32 [batch, 10]
  models/digits-heldout.json   {"accuracy", "images": [[64 floats 0..1], ...], "labels": [...]}
  models/samples/digit-<label>-<i>.png   6 held-out images, 64x64 (nearest-neighbour), white on black

Deterministic: fixed seeds, single thread, no timestamps.
"""
import json
import os
import struct
import sys
import warnings
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, 'models')
SAMPLES = os.path.join(MODELS, 'samples')
SEED = 0
EPOCHS = 60

warnings.filterwarnings('ignore')
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


class DigitsNet(nn.Module):
    """Two 3x3 conv layers, one 2x2 max pool, two linear layers: about 38k parameters."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(64, 10),
        )

    def forward(self, image):
        return self.classifier(self.features(image))


def write_png(path, pixels):
    """8-bit grayscale PNG from a 2-D uint8 array, with PIL when present, else by hand with zlib."""
    try:
        from PIL import Image

        Image.fromarray(pixels, mode='L').save(path, optimize=True)
        return
    except ImportError:
        pass
    h, w = pixels.shape
    raw = b''.join(b'\x00' + pixels[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)))
        f.write(chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(chunk(b'IEND', b''))


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # [n, 8, 8], 0..1, 1 = ink
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=SEED)
    xt = torch.from_numpy(x_train).unsqueeze(1)
    yt = torch.from_numpy(y_train)
    xv = torch.from_numpy(x_test).unsqueeze(1)
    yv = torch.from_numpy(y_test)

    model = DigitsNet()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), 32):
            idx = perm[i : i + 32]
            batch = xt[idx]
            # Light augmentation: shift by up to one pixel (zero fill), so that the model tolerates
            # off-centre drawings.
            dy, dx = torch.randint(-1, 2, (2,), generator=gen).tolist()
            batch = torch.roll(batch, shifts=(dy, dx), dims=(2, 3))
            if dy == 1:
                batch[:, :, 0, :] = 0
            elif dy == -1:
                batch[:, :, -1, :] = 0
            if dx == 1:
                batch[:, :, :, 0] = 0
            elif dx == -1:
                batch[:, :, :, -1] = 0
            opt.zero_grad()
            loss = loss_fn(model(batch), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if (epoch + 1) % 10 == 0:
            model.eval()
            with torch.no_grad():
                acc = (model(xv).argmax(1) == yv).float().mean().item()
            print(f'epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}  held-out accuracy {acc:.4f}')

    model.eval()
    with torch.no_grad():
        pred = model(xv).argmax(1)
    correct = int((pred == yv).sum())
    accuracy = correct / len(yv)
    print(f'held-out accuracy: {accuracy:.4f} ({correct}/{len(yv)})')

    os.makedirs(SAMPLES, exist_ok=True)
    onnx_path = os.path.join(MODELS, 'digits.onnx')
    with torch.no_grad():
        torch.onnx.export(
            model,
            xv[:1],
            onnx_path,
            input_names=['image'],
            output_names=['logits'],
            dynamic_axes={'image': {0: 'batch'}, 'logits': {0: 'batch'}},
            opset_version=17,
            do_constant_folding=True,
        )
    m = onnx.load(onnx_path)
    m.producer_version = ''
    m.doc_string = (
        f'Handwritten digit classifier (sklearn load_digits, 8x8). Input image [batch,1,8,8] in 0..1 '
        f'(ink = 1, white on black); output logits [batch,10]. Held-out accuracy {accuracy:.4f}.'
    )
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, onnx_path)

    heldout = {
        'accuracy': accuracy,
        # Pixels are k/16, so 4 decimals are exact.
        'images': [[round(float(v), 4) for v in img.reshape(-1)] for img in x_test],
        'labels': [int(v) for v in y_test],
    }
    with open(os.path.join(MODELS, 'digits-heldout.json'), 'w') as f:
        json.dump(heldout, f, separators=(',', ':'))
        f.write('\n')

    for name in os.listdir(SAMPLES):
        if name.startswith('digit-') and name.endswith('.png'):
            os.remove(os.path.join(SAMPLES, name))
    # Six held-out images of six different digits, each one the model classifies correctly.
    written, seen = 0, set()
    for i in range(len(y_test)):
        label = int(y_test[i])
        if label in seen or int(pred[i]) != label:
            continue
        seen.add(label)
        pixels = np.round(x_test[i] * 255).astype(np.uint8)
        big = np.kron(pixels, np.ones((8, 8), dtype=np.uint8))  # 64x64, nearest neighbour
        write_png(os.path.join(SAMPLES, f'digit-{label}-{written}.png'), big)
        written += 1
        if written == 6:
            break

    for name in ['digits.onnx', 'digits-heldout.json']:
        print(f'{name}: {os.path.getsize(os.path.join(MODELS, name))} bytes')
    print(f'{written} sample PNGs in {SAMPLES}')


if __name__ == '__main__':
    sys.exit(main())
