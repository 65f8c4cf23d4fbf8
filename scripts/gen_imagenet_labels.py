#!/usr/bin/env python3
"""Writes data/imagenet-labels.json: the 1000 ImageNet-1k class names, index = model output index.

    /usr/bin/python3 scripts/gen_imagenet_labels.py

Source (offline): the category list that ships inside Debian's python3-torchvision, in the metadata of
torchvision.models.ResNet50_Weights.IMAGENET1K_V1 (no weights are downloaded; only the enum's metadata
is read). These are the names torchvision, the ONNX model zoo's ResNets and most ImageNet-1k
classifiers use, in the standard synset order (n01440764 "tench" first).
"""
import json
import os

from torchvision.models import ResNet50_Weights

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'data', 'imagenet-labels.json')

categories = list(ResNet50_Weights.IMAGENET1K_V1.meta['categories'])
assert len(categories) == 1000, len(categories)
assert categories[0] == 'tench' and categories[999] == 'toilet tissue', (categories[0], categories[999])
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w', encoding='utf-8') as f:
    # One name per line keeps diffs readable.
    f.write('[\n' + ',\n'.join('  ' + json.dumps(c, ensure_ascii=False) for c in categories) + '\n]\n')
print(f'wrote {OUT}: {len(categories)} labels')
