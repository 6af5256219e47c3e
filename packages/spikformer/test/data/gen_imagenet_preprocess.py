#!/usr/bin/python3
"""Reference outputs of the ImageNet eval pipeline for packages/spikformer/test/input-imagenet.test.ts.

Run with Debian's python3 + python3-pil (Pillow 9.4 was used):  /usr/bin/python3 gen_imagenet_preprocess.py
No torch/timm needed: the transform chain of the official eval (ZK-Zhou/spikformer imagenet/test.py ->
timm create_loader -> transforms_imagenet_eval, config imagenet/imagenet.yml: crop_pct 1.0, bicubic) is
written out with the same Pillow calls torchvision makes on PIL images:
  Resize(scale_size)  : shorter side -> scale_size, longer side int(scale_size * long / short), PIL Image.resize
  CenterCrop(size)    : top = int(round((h - size) / 2)) (Python round, half to even); zero padding when smaller
The synthetic images are integer-only (LCG noise) so the TS test regenerates them bit for bit.
Writes imagenet_preprocess.json (cases, with the SHA-256 of each whole uint8 HWC crop) and
imagenet_preprocess.bin.gz (every ROW_STEP-th row of each crop, concatenated, for max-difference diagnostics;
the whole crops would be ~1.2 MB).
"""
import gzip, hashlib, json, math, os
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def synth(w, h, channels, seed):
    """Gradient + 8-pixel checkerboard (+-100, clipped, to exercise bicubic overshoot) + sparse LCG noise; HWC bytes."""
    s = seed & 0xFFFFFFFF
    out = bytearray(w * h * channels)
    i = 0
    for y in range(h):
        for x in range(w):
            chk = 100 if ((x >> 3) ^ (y >> 3)) & 1 else -100
            grads = (x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2))
            for c in range(channels):
                s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
                r = s >> 24
                if c == 3:
                    v = r
                else:
                    v = min(255, max(0, grads[c] + chk + ((r & 31) - 16 if (s >> 16) & 7 == 0 else 0)))
                out[i] = v
                i += 1
    return bytes(out)


def pipeline(img, size, crop_pct, interp):
    img = img.convert('RGB')  # timm's ImageFolder loader: PIL open + convert('RGB') (alpha dropped)
    scale = int(math.floor(size / crop_pct))
    w, h = img.size
    if w <= h:
        nw, nh = scale, int(scale * h / w)
    else:
        nw, nh = int(scale * w / h), scale
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR}[interp])
    w, h = img.size
    if size > w or size > h:  # torchvision center_crop pads with 0 (left/top = diff // 2)
        pl, pt = max(0, (size - w) // 2), max(0, (size - h) // 2)
        pr, pb = max(0, (size - w + 1) // 2), max(0, (size - h + 1) // 2)
        padded = Image.new('RGB', (w + pl + pr, h + pt + pb), (0, 0, 0))
        padded.paste(img, (pl, pt))
        img = padded
        w, h = img.size
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    img = img.crop((left, top, left + size, top + size))
    return img.tobytes(), (nw, nh)


CASES = [
    # name, w, h, channels, seed, size, crop_pct, interpolation
    ('official_300x200', 300, 200, 3, 1, 224, 1.0, 'bicubic'),      # upscale 200 -> 224
    ('official_512x384', 512, 384, 3, 2, 224, 1.0, 'bicubic'),      # downscale (antialias support)
    ('official_180x257', 180, 257, 3, 3, 224, 1.0, 'bicubic'),      # 319 rows, top = round(47.5) = 48
    ('rgba_640x480_crop0875', 640, 480, 4, 4, 224, 0.875, 'bicubic'),  # 341 cols, left = round(58.5) = 58
    ('bilinear_512x384_crop0875', 512, 384, 3, 5, 224, 0.875, 'bilinear'),
    ('bilinear_97x61_up', 97, 61, 3, 6, 224, 1.0, 'bilinear'),     # strong upscale
    ('small_1000x700_to64', 1000, 700, 3, 7, 64, 1.0, 'bicubic'),   # strong downscale, support x 10.9
    ('pad_300x200_crop125', 300, 200, 3, 8, 224, 1.25, 'bicubic'),  # scale 179 < 224 -> zero padding
    ('same_size_224x300', 224, 300, 3, 9, 224, 1.0, 'bicubic'),     # shorter side already 224: no resize
]

ROW_STEP = 7
blob = bytearray()
meta = []
for name, w, h, ch, seed, size, crop_pct, interp in CASES:
    img = Image.frombytes('RGBA' if ch == 4 else 'RGB', (w, h), synth(w, h, ch, seed))
    crop, resized = pipeline(img, size, crop_pct, interp)
    rows = b''.join(crop[r * size * 3:(r + 1) * size * 3] for r in range(0, size, ROW_STEP))
    meta.append(dict(name=name, width=w, height=h, channels=ch, seed=seed, size=size, cropPct=crop_pct,
                     interpolation=interp, resized=list(resized), sha256=hashlib.sha256(crop).hexdigest(),
                     rowStep=ROW_STEP, offset=len(blob), length=len(rows)))
    blob += rows
import PIL
with open(os.path.join(HERE, 'imagenet_preprocess.json'), 'w') as f:
    json.dump(dict(pillow=PIL.__version__, cases=meta), f, indent=1)
with gzip.GzipFile(os.path.join(HERE, 'imagenet_preprocess.bin.gz'), 'wb', mtime=0) as f:
    f.write(bytes(blob))
print(len(blob), 'bytes')
