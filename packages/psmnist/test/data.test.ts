// The psMNIST split, the permutation, the model file format and the two evaluation modes.
import { describe, expect, it, beforeAll } from 'vitest';
import { init, Arena, SafetensorsError, type Core } from '@spikewasm/core-wasm';
import { psmnistConfig, PsMnistLMU } from '@spikewasm/lmu';
import {
  splitDigits, trainCount, makePermutation, checkPermutation, permuteDigits, PIXELS,
  writeModelFile, readModelFile, loadModelFile, ModelFileError, initialWeights,
  predictParallel, predictStreaming, compareModes, earlyStop, accuracy, textChart, svgChart, accuracyCurve,
} from '../src/index.js';
import { loadMnistSplit, readMnistClasses } from '../src/node.js';
import { rng } from '../../core-wasm/test/random.js';

let core: Core;
beforeAll(async () => { core = await init(); });

describe('the split of the mnist package', () => {
  it('holds 7,996 training and 2,004 held-out digits, class-major in file order', () => {
    const classes = readMnistClasses();
    const { train, heldOut } = splitDigits(classes);
    expect([train.count, heldOut.count]).toEqual([7996, 2004]);
    let ti = 0, hi = 0;
    classes.forEach((d, c) => {
      const n = d.length / PIXELS, t = trainCount(n);
      expect(t).toBe(Math.floor(0.8 * n));
      // first and last digit of each part of the class, pixel for pixel
      expect(train.images.subarray(ti * PIXELS, (ti + 1) * PIXELS)).toEqual(d.subarray(0, PIXELS));
      expect(heldOut.images.subarray(hi * PIXELS, (hi + 1) * PIXELS)).toEqual(d.subarray(t * PIXELS, (t + 1) * PIXELS));
      ti += t; hi += n - t;
      expect(heldOut.images.subarray((hi - 1) * PIXELS, hi * PIXELS)).toEqual(d.subarray((n - 1) * PIXELS));
      expect(train.labels[ti - 1]).toBe(c);
      expect(heldOut.labels[hi - 1]).toBe(c);
    });
  });

  it('rejects a class that is not whole digits or pixels outside [0, 1]', () => {
    const ok = Array.from({ length: 10 }, () => new Float32Array(PIXELS * 5));
    expect(() => splitDigits(ok.slice(0, 9))).toThrow(/expected 10 classes, got 9/);
    const bad = ok.slice(); bad[3] = new Float32Array(PIXELS + 1);
    expect(() => splitDigits(bad)).toThrow(/class 3 hold 785 values/);
    const nan = ok.slice(); nan[1] = new Float32Array(PIXELS * 5); nan[1][7] = NaN;
    expect(() => splitDigits(nan)).toThrow(/class 1 digit 0 pixel 7 is NaN/);
  });
});

describe('permutation', () => {
  it('is a seeded permutation of 0…783', () => {
    const p = makePermutation(0);
    checkPermutation(p);
    expect(makePermutation(0)).toEqual(p);
    expect(makePermutation(1)).not.toEqual(p);
    let fixed = 0;
    for (let i = 0; i < PIXELS; i++) if (p[i] === i) fixed++;
    expect(fixed).toBeLessThan(10);
  });
  it('checkPermutation names the bad entry', () => {
    const p = makePermutation(0);
    p[5] = p[6];
    expect(() => checkPermutation(p)).toThrow(/permutation\[6\] = \d+ repeats an earlier entry/);
    expect(() => checkPermutation(new Int32Array(783))).toThrow(/expected 784 entries, got 783/);
    const q = makePermutation(0); q[0] = 784;
    expect(() => checkPermutation(q)).toThrow(/permutation\[0\] = 784 is not a pixel index/);
  });
  it('permuteDigits feeds pixel perm[t] at step t', () => {
    const img = Float32Array.from({ length: 2 * PIXELS }, (_, i) => i);
    const p = makePermutation(3), out = permuteDigits(img, p);
    for (let t = 0; t < PIXELS; t++) expect([out[t], out[PIXELS + t]]).toEqual([p[t], PIXELS + p[t]]);
  });
});

describe('model file', () => {
  const cfg = psmnistConfig({ hidden_size: 12, memory_size: 16 });
  const perm = makePermutation(0);
  const bytes = writeModelFile(cfg, initialWeights(cfg, 1), perm, { note: 'test' });

  it('round-trips config, permutation and metadata, and loads as a PsMnistLMU', () => {
    const info = readModelFile(bytes);
    expect(info.config).toEqual(cfg);
    expect(info.permutation).toEqual(perm);
    expect(info.metadata.factory).toBe('psmnist_lmu');
    expect(info.metadata.note).toBe('test');
    expect(JSON.parse(info.metadata.config)).toEqual({ input_size: 1, output_size: 10, hidden_size: 12, memory_size: 16, seq_len: 784, theta: 784 });
    const { model } = loadModelFile(new Arena(core), bytes);
    expect(model).toBeInstanceOf(PsMnistLMU);
  });

  it('rejects another factory, a missing or broken permutation, and a corrupt file', () => {
    const w = initialWeights(cfg, 1);
    expect(() => readModelFile(bytes.subarray(0, 100))).toThrow(SafetensorsError);
    const noPerm = bytes.slice();
    // rename the tensor: same length, so the file stays valid
    const at = Buffer.from(noPerm).indexOf('"permutation"');
    noPerm.set(Buffer.from('"permutatioN"'), at);
    expect(() => readModelFile(noPerm)).toThrow(ModelFileError);
    expect(() => readModelFile(noPerm)).toThrow(/tensor 'permutation' expected I32 \[784\], got none/);
    const dup = makePermutation(0); dup[1] = dup[0];
    expect(() => writeModelFile(cfg, w, dup)).toThrow(/repeats an earlier entry/);
  });
});

describe('parallel and streaming evaluation', () => {
  it('give the same predictions; the recurrent stream ≈ the FFT forward, the FIR stream ≡ the FIR forward', () => {
    const cfg = psmnistConfig({ hidden_size: 12, memory_size: 16 });
    const w = initialWeights(cfg, 4);
    const bytes = writeModelFile(cfg, w, makePermutation(0));
    const r = rng(5), n = 5;
    const x = Float32Array.from({ length: n * PIXELS }, () => (r() < 0.2 ? r() : 0));
    const labels = Uint8Array.from({ length: n }, (_, i) => i);
    const { model } = loadModelFile(new Arena(core), bytes);
    const par = predictParallel(model, x, 2);
    const rec = predictStreaming(model, x, labels, { batch: 3, mode: 'recurrent' });
    const cmp = compareModes(par, rec.logits, 10);
    expect(cmp.disagreements).toBe(0);
    expect(cmp.maxLogitDiff).toBeLessThan(1e-4);
    // the last step's prefix counts are the final predictions' hits
    expect(rec.correctAt[PIXELS - 1]).toBe(Math.round(accuracy(rec.logits, labels, 10) * n));
    const fir = loadModelFile(new Arena(core), bytes, { lmuMode: 'fir' }).model;
    const firPar = predictParallel(fir, x, 5), firStr = predictStreaming(fir, x, labels, { batch: 5, mode: 'fir' });
    expect(compareModes(firPar, firStr.logits, 10).identical).toBe(true);
  });

  it('earlyStop finds the fewest pixels after which accuracy stays ≥ 99 % of the final', () => {
    const c = new Int32Array(PIXELS);
    for (let t = 0; t < PIXELS; t++) c[t] = t < 100 ? 10 : t < 300 ? 980 : 1000;
    c[400] = 985; // a dip below 990 after 300 pixels moves the stop past it
    expect(earlyStop(c)).toEqual({ pixels: 402, correct: 1000, full: 1000 });
    c[400] = 1000;
    expect(earlyStop(c).pixels).toBe(301);
  });

  it('renders the curve as text and SVG', () => {
    const c = Int32Array.from({ length: PIXELS }, (_, t) => Math.round((1000 * t) / PIXELS));
    const curve = accuracyCurve(c, 1000);
    const text = textChart(curve, 98, 20, 500);
    expect(text.split('\n')).toHaveLength(9);
    expect(text).toMatch(/ 500 px .* ← early stop/);
    const svg = svgChart(curve, { title: 'a < b', stop: { pixels: 500, accuracy: 60 }, final: 99.9 });
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('a &lt; b');
    expect((svg.match(/<polyline points="([^"]*)"/)![1].split(' '))).toHaveLength(PIXELS);
  });
});

describe('loadMnistSplit', () => {
  it('reads the installed package', () => {
    const s = loadMnistSplit();
    expect(s.train.labels.filter((l) => l === 5).length).toBe(Math.floor(0.8 * 863));
  });
});
