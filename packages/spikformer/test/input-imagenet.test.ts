// ImageNet evaluation pipeline (src/input.ts) against Pillow 9.4 references from data/gen_imagenet_preprocess.py.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '@spikewasm/core-wasm';
import {
  imagenetPreprocess, imagenetPreprocessBatch, imagenetResizeCrop, pilResize, IMAGENET_MEAN, IMAGENET_STD,
  type RgbImage, type ResizeInterpolation,
} from '../src/input.js';

const DATA = fileURLToPath(new URL('./data/', import.meta.url));
interface Case {
  name: string; width: number; height: number; channels: 3 | 4; seed: number; size: number; cropPct: number;
  interpolation: ResizeInterpolation; resized: [number, number]; sha256: string; rowStep: number; offset: number; length: number;
}
const ref = JSON.parse(readFileSync(`${DATA}imagenet_preprocess.json`, 'utf8')) as { pillow: string; cases: Case[] };
const rows = new Uint8Array(gunzipSync(readFileSync(`${DATA}imagenet_preprocess.bin.gz`)));

/** The generator's synthetic image (gradient + checkerboard + sparse LCG noise), bit for bit. */
function synth(w: number, h: number, channels: 3 | 4, seed: number): RgbImage {
  let s = seed >>> 0;
  const data = new Uint8Array(w * h * channels);
  let i = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const chk = ((x >> 3) ^ (y >> 3)) & 1 ? 100 : -100;
      const grads = [Math.floor((x * 255) / (w - 1)), Math.floor((y * 255) / (h - 1)), Math.floor(((x + y) * 255) / (w + h - 2))];
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const r = s >>> 24;
        data[i++] = c === 3 ? r : Math.min(255, Math.max(0, grads[c] + chk + (((s >>> 16) & 7) === 0 ? (r & 31) - 16 : 0)));
      }
    }
  }
  return { data, width: w, height: h, channels };
}

describe('imagenetResizeCrop vs Pillow', () => {
  it(`reference data from Pillow ${ref.pillow}`, () => expect(ref.cases.length).toBeGreaterThanOrEqual(8));
  for (const c of ref.cases) {
    it(`${c.name}: ${c.width}×${c.height}×${c.channels} → ${c.resized.join('×')} ${c.interpolation} → crop ${c.size} equals PIL exactly`, () => {
      const crop = imagenetResizeCrop(synth(c.width, c.height, c.channels, c.seed), { size: c.size, cropPct: c.cropPct, interpolation: c.interpolation });
      expect(crop.length).toBe(c.size * c.size * 3);
      // sampled rows first: a max-difference diagnostic
      const line = c.size * 3;
      let maxDiff = 0, r = 0;
      for (let y = 0; y < c.size; y += c.rowStep, r++) {
        for (let i = 0; i < line; i++) maxDiff = Math.max(maxDiff, Math.abs(crop[y * line + i] - rows[c.offset + r * line + i]));
      }
      expect(r * line).toBe(c.length);
      expect(maxDiff).toBe(0);
      expect(createHash('sha256').update(crop).digest('hex')).toBe(c.sha256);
    });
  }
});

describe('pilResize', () => {
  it('same size is a copy; RGBA drops alpha', () => {
    const img = synth(5, 4, 4, 11);
    const out = pilResize(img, 5, 4);
    expect(out.length).toBe(60);
    for (let i = 0; i < 20; i++) for (let c = 0; c < 3; c++) expect(out[i * 3 + c]).toBe(img.data[i * 4 + c]);
  });
  it('a constant image stays constant (coefficients sum to 1 in fixed point)', () => {
    for (const interp of ['bicubic', 'bilinear'] as const) {
      const data = new Uint8Array(37 * 23 * 3).fill(200);
      for (const [w, h] of [[11, 7], [100, 64], [37, 1]]) expect(pilResize({ data, width: 37, height: 23, channels: 3 }, w, h, interp).every((v) => v === 200)).toBe(true);
    }
  });
});

describe('imagenetPreprocess', () => {
  const f = Math.fround;
  it('normalises the crop with the float32 prefetcher formula (default) and ToTensor formula', () => {
    const img = synth(300, 200, 3, 1);
    const crop = imagenetResizeCrop(img);
    const pre = imagenetPreprocess(img);
    const tt = imagenetPreprocess(img, { rounding: 'totensor' });
    expect(pre.length).toBe(3 * 224 * 224);
    let maxDiff = 0, bad = 0;
    for (let c = 0; c < 3; c++) {
      const m255 = f(IMAGENET_MEAN[c] * 255), s255 = f(IMAGENET_STD[c] * 255), m = f(IMAGENET_MEAN[c]), s = f(IMAGENET_STD[c]);
      for (let i = 0; i < 224 * 224; i++) {
        const u = crop[i * 3 + c], o = c * 224 * 224 + i;
        if (pre[o] !== f(f(u - m255) / s255) || tt[o] !== f(f(f(u / 255) - m) / s)) bad++;
        maxDiff = Math.max(maxDiff, Math.abs(pre[o] - ((u / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c])));
      }
    }
    expect(bad).toBe(0);
    expect(maxDiff).toBeLessThan(2e-6); // float32 rounding of the exact real formula
  });
  it('batch variant stacks images of different sizes into [B, 3, S, S]', () => {
    const a = synth(300, 200, 3, 1), b = synth(180, 257, 4, 3);
    const batch = imagenetPreprocessBatch([a, b], { size: 64, cropPct: 0.875 });
    expect(batch.length).toBe(2 * 3 * 64 * 64);
    expect(batch.subarray(0, 3 * 64 * 64)).toEqual(imagenetPreprocess(a, { size: 64, cropPct: 0.875 }));
    expect(batch.subarray(3 * 64 * 64)).toEqual(imagenetPreprocess(b, { size: 64, cropPct: 0.875 }));
    const out = new Float32Array(2 * 3 * 64 * 64);
    expect(imagenetPreprocessBatch([a, b], { size: 64, cropPct: 0.875, out })).toBe(out);
  });
  it('typed errors', () => {
    const img = synth(20, 10, 3, 1);
    expect(() => imagenetPreprocess({ ...img, data: img.data.subarray(1) })).toThrow(ShapeError);
    expect(() => imagenetPreprocess({ ...img, channels: 2 as 3 })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess({ ...img, width: 0 })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess({ ...img, data: [1, 2] as unknown as Uint8Array })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { size: 0 })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { cropPct: 0 })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { cropPct: 1000 })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { interpolation: 'nearest' as 'bicubic' })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { rounding: 'x' as 'totensor' })).toThrow(ArgumentError);
    expect(() => imagenetPreprocess(img, { out: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => imagenetPreprocessBatch([])).toThrow(ArgumentError);
    expect(() => imagenetPreprocessBatch([img], { out: new Float32Array(5) })).toThrow(ShapeError);
    expect(() => pilResize(img, 0, 5)).toThrow(ArgumentError);
  });
});
