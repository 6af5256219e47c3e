import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArgumentError, ShapeError, parseSafetensors } from '@spikewasm/core-wasm';
import {
  FbankStream, fbank, speechFeatures, fbankFrameCount, fbankFrameDetail, melFilterbank, hannWindow, detLog, detCosPi, detSinPi,
  SPEECH_PAD_VALUE, FBANK_ENERGY_FLOOR,
} from '../src/fbank.js';
import { readWav } from '../src/wav.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const fx = parseSafetensors(new Uint8Array(readFileSync(FIXTURES + 'kernel_fbank.safetensors')));
const f32 = (name: string) => fx.tensors.get(name)!.data as Float32Array;
const YES = f32('input'), NO = f32('input_short');
const wavSamples = (file: string) => readWav(new Uint8Array(readFileSync(`${FIXTURES}audio/${file}`))).samples;

const NMEL = 128, NBINS = 257;
const LOG_FLOOR = Math.log(2 ** -23); // test-side reference (Math.log is fine in tests)
const NORM = (v: number) => (v + 6.845978) / (2 * 5.5654526);

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** max and mean |got − want| and whether the README's two-part check passes. */
function twoPart(got: ArrayLike<number>, want: ArrayLike<number>, maxTol: number, meanTol: number) {
  expect(got.length).toBe(want.length);
  let max = 0, sum = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= max)) max = Number.isNaN(e) ? Infinity : e;
    sum += e;
  }
  const mean = sum / want.length;
  return { max, mean, pass: max <= maxTol && mean <= meanTol };
}

const bits32 = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
/** Distance in float32 ulps (both values float32, same sign). */
const ulps32 = (a: number, b: number) => Math.abs(bits32(a) - bits32(b));
const bitsF64 = (x: number) => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x); return v.getBigUint64(0); };
/** Distance in float64 ulps (same sign). */
const ulps64 = (a: number, b: number) => Number(bitsF64(a) > bitsF64(b) ? bitsF64(a) - bitsF64(b) : bitsF64(b) - bitsF64(a));
const u32 = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function rng(seed: number) { // mulberry32
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * cos(π·p/q) correctly rounded to float64 (up to a final tie), from 200-bit fixed-point BigInt arithmetic: π to 100
 * digits, exact integer reduction to [0, π], Taylor series to below 2⁻²⁰⁰. Independent of Math.cos and of detCosPi.
 */
function cosPiRef(p: number, q: number): number {
  const P = 200n, ONE = 1n << P;
  const PI = (BigInt('31415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679') * ONE) / 10n ** 100n;
  const Q = BigInt(q), Q2 = 2n * Q;
  let r = BigInt(p) % Q2;
  if (r < 0n) r += Q2;
  if (r > Q) r = Q2 - r; // cos(2π − x) = cos x
  const x = (PI * r) / Q, x2 = (x * x) >> P;
  let term = ONE, sum = ONE;
  for (let k = 1n; term !== 0n; k++) {
    term = -((term * x2) >> P) / ((2n * k - 1n) * (2n * k));
    sum += term;
  }
  return Number(sum) / 2 ** 200;
}

// ── an independent float64 oracle (Math.log / Math.cos, a direct DFT, the README's formulas) ─────────────────────

const melOf = (f: number) => 1127 * Math.log(1 + f / 700);
const melInv = (m: number) => 700 * (Math.exp(m / 1127) - 1);

/** The README's bank: bin k weight max(0, min((m_k − left)/Δ, (right − m_k)/Δ)); `hz` makes a deliberately wrong one. */
function oracleBank(hz = false): Float64Array {
  const low = melOf(20), delta = (melOf(8000) - low) / 129;
  const bank = new Float64Array(NMEL * NBINS);
  for (let i = 0; i < NMEL; i++) {
    const l = low + i * delta, c = low + (i + 1) * delta, r = low + (i + 2) * delta;
    for (let k = 0; k < 256; k++) {
      bank[i * NBINS + k] = hz
        ? Math.max(0, Math.min((31.25 * k - melInv(l)) / (melInv(c) - melInv(l)), (melInv(r) - 31.25 * k) / (melInv(r) - melInv(c))))
        : Math.max(0, Math.min((melOf(31.25 * k) - l) / delta, (r - melOf(31.25 * k)) / delta));
    }
  }
  return bank;
}
const BANK = oracleBank();

function logMelOf(power: ArrayLike<number>, bank = BANK): Float64Array {
  const out = new Float64Array(NMEL);
  for (let i = 0; i < NMEL; i++) {
    let e = 0;
    for (let k = 0; k < NBINS; k++) e += bank[i * NBINS + k] * power[k];
    out[i] = Math.log(Math.max(e, 2 ** -23));
  }
  return out;
}

interface Mistakes { periodicHann?: boolean; hzTriangles?: boolean; noFrameMean?: boolean }
/** The whole front end with a direct 512-point DFT; `[128, 128]` normalised features (and the raw log-mel rows). */
function oracleFeatures(x: Float32Array, m: Mistakes = {}): { features: Float64Array; logMel: Float64Array } {
  const cosT = new Float64Array(512), sinT = new Float64Array(512);
  for (let j = 0; j < 512; j++) { cosT[j] = Math.cos((2 * Math.PI * j) / 512); sinT[j] = Math.sin((2 * Math.PI * j) / 512); }
  const win = Float64Array.from({ length: 400 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (m.periodicHann ? 400 : 399)));
  const bank = m.hzTriangles ? oracleBank(true) : BANK;
  let wmean = 0;
  for (const v of x) wmean += v;
  wmean /= x.length;
  const frames = 1 + Math.floor((x.length - 400) / 160);
  const logMel = new Float64Array(frames * NMEL);
  const y = new Float64Array(400), power = new Float64Array(NBINS);
  for (let f = 0; f < frames; f++) {
    let mu = 0;
    for (let j = 0; j < 400; j++) { y[j] = x[f * 160 + j] - wmean; mu += y[j]; }
    mu = m.noFrameMean ? 0 : mu / 400;
    for (let j = 0; j < 400; j++) y[j] -= mu;
    for (let j = 399; j >= 1; j--) y[j] -= 0.97 * y[j - 1];
    y[0] -= 0.97 * y[0];
    for (let j = 0; j < 400; j++) y[j] *= win[j];
    for (let k = 0; k < NBINS; k++) {
      let re = 0, im = 0;
      for (let n = 0; n < 400; n++) { const t = (k * n) & 511; re += y[n] * cosT[t]; im -= y[n] * sinT[t]; }
      power[k] = re * re + im * im;
    }
    logMel.set(logMelOf(power, bank), f * NMEL);
  }
  const features = new Float64Array(128 * NMEL).fill(NORM(0));
  for (let i = 0; i < Math.min(frames, 128) * NMEL; i++) features[i] = NORM(logMel[i]);
  return { features, logMel };
}

// ── analytic oracles for exactly representable signals ───────────────────────────────────────────────────────────
// Every frame of the signals below is, after mean removal and pre-emphasis, a sum of complex exponentials
// Σ a_j e^{iα_j n} (n = 1 … 399), times the window w[n] = ½ − ¼e^{iβn} − ¼e^{−iβn} (β = 2π/399), plus at most two
// isolated samples. w[0] = 0, so the n = 0 sample, where Kaldi's y[0] = x[0] − 0.97·x[0] convention differs, never
// matters and the sums may run over n = 0 … 399. Each DFT bin is then a handful of closed-form geometric sums
// G(γ) = Σ_{n=0}^{399} e^{iγn} = e^{iγ·399/2} · sin(200γ) / sin(γ/2): no FFT, no window table, no frame loop.

type Cx = [number, number];
const cmul = (a: Cx, b: Cx): Cx => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cexp = (t: number): Cx => [Math.cos(t), Math.sin(t)];
function geom(g: number): Cx {
  const r = g - 2 * Math.PI * Math.round(g / (2 * Math.PI));
  if (Math.abs(r) < 1e-13) return [400, 0];
  const mag = Math.sin(200 * r) / Math.sin(r / 2);
  const [c, s] = cexp((r * 399) / 2);
  return [mag * c, mag * s];
}
const BETA = (2 * Math.PI) / 399;
const theta = (k: number) => (2 * Math.PI * k) / 512;
const hannAt = (n: number) => 0.5 - 0.5 * Math.cos(BETA * n);

/** |DFT_512|² of w[n]·Σ_j a_j e^{iα_j n} + Σ isolated (value, n) points, bins 0 … 256. */
function analyticPower(exps: { a: Cx; alpha: number }[], points: { v: number; n: number }[] = []): Float64Array {
  const out = new Float64Array(NBINS);
  for (let k = 0; k < NBINS; k++) {
    let re = 0, im = 0;
    for (const { a, alpha } of exps) {
      for (const [c, d] of [[0.5, 0], [-0.25, BETA], [-0.25, -BETA]] as const) {
        const z = cmul([a[0] * c, a[1] * c], geom(alpha + d - theta(k)));
        re += z[0]; im += z[1];
      }
    }
    for (const { v, n } of points) { const [c, s] = cexp(-theta(k) * n); re += v * c; im += v * s; }
    out[k] = re * re + im * im;
  }
  return out;
}

/**
 * Tone A·cos(2π·k0·n/512) at an FFT bin centre, with k0 ∈ {128 (4 kHz), 256 (Nyquist)} so that every sample
 * (A·{0, ±1}) is exact in float32. A frame holds whole periods, so its mean is exactly 0, and the frame shift (160)
 * is a whole number of periods, so every frame is the same. Pre-emphasis turns A·cos(ωn) into
 * (A/2)(H e^{iωn} + H̄ e^{−iωn}) with H = 1 − 0.97·e^{−iω}.
 */
function tonePower(A: number, k0: number): Float64Array {
  const w = theta(k0);
  const H: Cx = [1 - 0.97 * Math.cos(w), 0.97 * Math.sin(w)];
  return analyticPower([{ a: [(A / 2) * H[0], (A / 2) * H[1]], alpha: w }, { a: [(A / 2) * H[0], -(A / 2) * H[1]], alpha: -w }]);
}

/**
 * Impulse A at frame-local sample n0. Mean removal leaves A·δ[n − n0] − μ with μ = A/400; pre-emphasis gives, for
 * n ≥ 1, A·δ[n − n0] − 0.97·A·δ[n − n0 − 1] − 0.03·μ. So the frame is two isolated points (each dropped when it
 * falls on n = 0, where w = 0, or past n = 399) plus the windowed constant −0.03·μ.
 */
function impulsePower(A: number, n0: number): Float64Array {
  const points = [];
  if (n0 >= 1) points.push({ v: A * hannAt(n0), n: n0 });
  if (n0 + 1 <= 399) points.push({ v: -0.97 * A * hannAt(n0 + 1), n: n0 + 1 });
  return analyticPower([{ a: [-0.03 * (A / 400), 0], alpha: 0 }], points);
}

/** Checks one fbank row against an analytic power spectrum (float64 detail and the float32 output). */
function expectRowMatches(waveform: Float32Array, frame: number, power: Float64Array): void {
  const detail = fbankFrameDetail(waveform, frame);
  const peak = Math.max(...power);
  for (let k = 0; k < NBINS; k++) expect(Math.abs(detail.power[k] - power[k])).toBeLessThanOrEqual(1e-12 * peak);
  const want = logMelOf(power);
  const row = fbank(waveform).subarray(frame * NMEL, (frame + 1) * NMEL);
  for (let m = 0; m < NMEL; m++) {
    expect(Math.abs(detail.logMel[m] - want[m])).toBeLessThanOrEqual(1e-9);
    expect(ulps32(row[m], Math.fround(want[m]))).toBeLessThanOrEqual(1);
  }
}

// ── tests ────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('deterministic elementary functions', () => {
  it('detLog: special values like Math.log', () => {
    expect(detLog(0)).toBe(-Infinity);
    expect(detLog(-0)).toBe(-Infinity);
    expect(detLog(-1)).toBeNaN();
    expect(detLog(-Infinity)).toBeNaN();
    expect(detLog(NaN)).toBeNaN();
    expect(detLog(Infinity)).toBe(Infinity);
    expect(detLog(1)).toBe(0);
  });

  it('detLog: within 1 ulp of Math.log over 60 000 inputs (every binade, subnormals, near 1)', () => {
    const r = rng(7);
    const xs: number[] = [Number.MIN_VALUE, 2 ** -1074 * 3, 2 ** -1022, Number.MAX_VALUE, 2 ** -23, 0.5, 2, Math.E, 10, 700, 8000 / 700 + 1];
    for (let i = 0; i < 20000; i++) xs.push((1 + r()) * 2 ** Math.floor(r() * 2098 - 1074)); // every binade
    for (let i = 0; i < 20000; i++) xs.push(1 + (r() - 0.5) * 2 ** -Math.floor(r() * 52)); // |f| small, incl. < 2^-20
    for (let i = 0; i < 20000; i++) xs.push(r() * 2 ** Math.floor(r() * 40 - 20)); // the fbank's range
    let worst = 0;
    for (const x of xs) worst = Math.max(worst, ulps64(detLog(x), Math.log(x)));
    expect(worst).toBeLessThanOrEqual(1);
    // k·ln 2 exactly as the split constant allows
    for (let k = -1074; k <= 1023; k += 7) expect(ulps64(detLog(2 ** k), k * Math.LN2)).toBeLessThanOrEqual(1);
  });

  it('detCosPi / detSinPi: ≤ 2 ulp from a 200-bit reference, and consistent with Math.cos / Math.sin', () => {
    let worstRef = 0, worstMath = 0;
    for (const q of [1, 2, 3, 7, 128, 256, 399, 512, 1000]) {
      for (let p = -2 * q; p <= 4 * q; p++) {
        const c = detCosPi(p, q), s = detSinPi(p, q);
        const rc = cosPiRef(p, q), rs = cosPiRef(2 * p - q, 2 * q);
        worstRef = Math.max(worstRef, Math.abs(rc) < 1e-50 ? (c === 0 ? 0 : Infinity) : ulps64(c, rc));
        worstRef = Math.max(worstRef, Math.abs(rs) < 1e-50 ? (s === 0 ? 0 : Infinity) : ulps64(s, rs));
        // Math.cos(π·p/q) itself suffers from rounding π·p/q: allow that (≈ |π·p/q|·2⁻⁵³) plus 2⁻⁵²
        const slack = 2 ** -52 * (1 + Math.abs((Math.PI * p) / q));
        worstMath = Math.max(worstMath, Math.abs(c - Math.cos((Math.PI * p) / q)) / slack, Math.abs(s - Math.sin((Math.PI * p) / q)) / slack);
        expect(Math.abs(c * c + s * s - 1)).toBeLessThanOrEqual(4e-16);
        expect(detCosPi(-p, q)).toBe(c); // exact symmetries, by construction
        expect(detCosPi(2 * q - p, q)).toBe(c);
      }
    }
    expect(worstRef).toBeLessThanOrEqual(2);
    expect(worstMath).toBeLessThanOrEqual(1);
  });

  it('detCosPi / detSinPi: exact at multiples of π/2; integer arguments required', () => {
    expect([detCosPi(0, 1), detCosPi(1, 2), detCosPi(1, 1), detCosPi(3, 2), detCosPi(2, 1)]).toEqual([1, 0, -1, 0, 1]);
    expect([detSinPi(0, 1), detSinPi(1, 2), detSinPi(1, 1), detSinPi(3, 2)]).toEqual([0, 1, 0, -1]);
    expect(Object.is(detCosPi(1, 2), 0)).toBe(true); // +0, not −0
    expect(() => detCosPi(0.5, 2)).toThrow(ArgumentError);
    expect(() => detSinPi(1, 0)).toThrow(ArgumentError);
    expect(() => detCosPi(2 ** 41, 3)).toThrow(ArgumentError);
  });
});

describe('tables', () => {
  it('symmetric Hann window: w[n] = 0.5 − 0.5·cos(2πn/399), exactly symmetric, w[0] = 0', () => {
    const w = hannWindow();
    expect(w.length).toBe(400);
    expect(w[0]).toBe(0);
    expect(w[399]).toBe(0);
    for (let n = 0; n < 400; n++) {
      expect(Math.abs(w[n] - (0.5 - 0.5 * cosPiRef(2 * n, 399)))).toBeLessThanOrEqual(2 ** -52);
      expect(w[399 - n]).toBe(w[n]);
    }
  });

  it('mel bank vs the fixture (≤ 5e-5) and the README formula (≤ 1e-12); channel 3 empty; Nyquist weight 0', () => {
    const bank = melFilterbank();
    const r = twoPart(bank, f32('expected.mel_banks'), 5e-5, Infinity);
    expect(r.max).toBeLessThanOrEqual(5e-5);
    expect(r.max).toBeLessThan(1e-7); // what is left is the fixture's float32 rounding
    expect(twoPart(bank, BANK, 1e-12, Infinity).pass).toBe(true);
    for (let m = 0; m < NMEL; m++) {
      expect(bank[m * NBINS + 256]).toBe(0);
      const row = bank.subarray(m * NBINS, (m + 1) * NBINS);
      expect(Math.max(...row)).toBeLessThanOrEqual(1);
      if (m === 3) expect(row.every((v) => v === 0)).toBe(true);
      else expect(Math.max(...row)).toBeGreaterThan(0);
    }
  });
});

describe('fixture kernel_fbank: "yes" (1 s)', () => {
  const got = fbank(YES);
  const feats = speechFeatures(YES);

  it('frame counts', () => {
    expect(got.length / NMEL).toBe(98);
    expect(fbankFrameCount(16000)).toBe(98);
    expect(fbankFrameCount(9600)).toBe(58);
    expect(fbankFrameCount(20720)).toBe(128);
    expect(fbankFrameCount(20879)).toBe(128);
    expect(fbankFrameCount(20880)).toBe(129);
    expect(fbankFrameCount(400)).toBe(1);
    expect(fbankFrameCount(399)).toBe(0);
  });

  it('expected.windowed ≤ 1e-6 absolute, expected.power ≤ 1e-5 × frame max', () => {
    const W = f32('expected.windowed'), P = f32('expected.power');
    let worstW = 0, worstP = 0;
    for (let f = 0; f < 98; f++) {
      const d = fbankFrameDetail(YES, f);
      for (let j = 0; j < 400; j++) worstW = Math.max(worstW, Math.abs(d.windowed[j] - W[f * 400 + j]));
      let peak = 0;
      for (let k = 0; k < NBINS; k++) peak = Math.max(peak, P[f * NBINS + k]);
      for (let k = 0; k < NBINS; k++) worstP = Math.max(worstP, Math.abs(d.power[k] - P[f * NBINS + k]) / peak);
    }
    expect(worstW).toBeLessThanOrEqual(1e-6);
    expect(worstP).toBeLessThanOrEqual(1e-5);
  });

  it('expected.fbank (max ≤ 2e-3, mean ≤ 5e-5) and expected.features (max ≤ 2e-4, mean ≤ 5e-6)', () => {
    const a = twoPart(got, f32('expected.fbank'), 2e-3, 5e-5);
    const b = twoPart(feats, f32('expected.features'), 2e-4, 5e-6);
    expect(a.pass).toBe(true);
    expect(b.pass).toBe(true);
    // float64 throughout: within 1 float32 ulp of the stored float32 roundings of the float64 reference
    for (let i = 0; i < feats.length; i++) expect(ulps32(feats[i], f32('expected.features')[i])).toBeLessThanOrEqual(1);
  });

  it('padded rows are 0.6150423 and floor cells −0.8172208 (to 1 ulp); mel channel 3 is always on the floor', () => {
    const E = f32('expected.features'), F = f32('expected.fbank');
    expect(SPEECH_PAD_VALUE).toBe(Math.fround(0.6150423417495281));
    for (let i = 98 * NMEL; i < 128 * NMEL; i++) {
      expect(feats[i]).toBe(SPEECH_PAD_VALUE);
      expect(ulps32(feats[i], E[i])).toBeLessThanOrEqual(1);
    }
    const floorF = Math.fround(LOG_FLOOR), floorN = Math.fround(NORM(LOG_FLOOR));
    expect(floorN).toBe(Math.fround(-0.8172208));
    let floorCells = 0;
    for (let i = 0; i < 98 * NMEL; i++) {
      if (F[i] !== floorF) continue;
      floorCells++;
      expect(ulps32(got[i], floorF)).toBeLessThanOrEqual(1);
      expect(ulps32(feats[i], floorN)).toBeLessThanOrEqual(1);
    }
    expect(floorCells).toBe(215); // MANIFEST cases.main.floor_cells
    for (let f = 0; f < 98; f++) expect(got[f * NMEL + 3]).toBe(floorF);
  });

  it('WAV → features end to end', () => {
    const x = speechFeatures(wavSamples('main_yes_1000ms.wav'));
    expect(twoPart(x, f32('expected.features'), 2e-4, 5e-6).pass).toBe(true);
    expect(u32(x)).toEqual(u32(feats));
  });
});

describe('fixture kernel_fbank: "no" (0.6 s, starts with constant samples)', () => {
  const got = fbank(NO);
  const feats = speechFeatures(NO);

  it('58 frames; expected.short.fbank and expected.short.features pass the two-part check', () => {
    expect(got.length / NMEL).toBe(58);
    expect(twoPart(got, f32('expected.short.fbank'), 2e-3, 5e-5).pass).toBe(true);
    expect(twoPart(feats, f32('expected.short.features'), 2e-4, 5e-6).pass).toBe(true);
  });

  it('70 padded rows, floor cells (915) to 1 ulp, the constant opening frames entirely on the floor', () => {
    const F = f32('expected.short.fbank');
    for (let i = 58 * NMEL; i < 128 * NMEL; i++) expect(feats[i]).toBe(SPEECH_PAD_VALUE);
    const floorF = Math.fround(LOG_FLOOR);
    let floorCells = 0;
    for (let i = 0; i < 58 * NMEL; i++) {
      if (F[i] === floorF) { floorCells++; expect(ulps32(got[i], floorF)).toBeLessThanOrEqual(1); }
    }
    expect(floorCells).toBe(915);
    // 0.08 s = 1280 constant samples: frames 0 … 5 (last sample 5·160 + 399 = 1199) see only the constant
    for (let i = 0; i < 6 * NMEL; i++) expect(got[i]).toBe(floorF);
  });

  it('WAV → features end to end', () => {
    const x = speechFeatures(wavSamples('short_no_600ms.wav'));
    expect(twoPart(x, f32('expected.short.features'), 2e-4, 5e-6).pass).toBe(true);
    expect(u32(x)).toEqual(u32(feats));
  });
});

describe('independent float64 oracle (direct DFT, Math.log) and the mistakes the two-part check rejects', () => {
  const correct = oracleFeatures(YES);

  it('the oracle reproduces the fixture, and our output agrees with it', () => {
    expect(twoPart(correct.features, f32('expected.features'), 1e-6, 1e-7).pass).toBe(true);
    expect(twoPart(speechFeatures(YES), correct.features, 1e-6, 1e-7).pass).toBe(true);
    const short = oracleFeatures(NO);
    expect(twoPart(speechFeatures(NO), short.features, 1e-6, 1e-7).pass).toBe(true);
  });

  it.each([
    ['a periodic Hann window (÷400)', { periodicHann: true }],
    ['triangles linear in Hz', { hzTriangles: true }],
    ['no per-frame mean removal', { noFrameMean: true }],
  ] as const)('%s fails the check on expected.features', (_name, mistake) => {
    const wrong = oracleFeatures(YES, mistake).features;
    const r = twoPart(wrong, f32('expected.features'), 2e-4, 5e-6);
    expect(r.pass).toBe(false);
    if ('periodicHann' in mistake) { // README: max 2e-2, mean 3.8e-4: both halves of the check fail
      expect(r.max).toBeGreaterThan(2e-4);
      expect(r.mean).toBeGreaterThan(5e-6);
    }
  });
});

describe('analytic test vectors (float64, exactly representable inputs)', () => {
  it('DC: every frame is all zeros after mean removal → every cell on the floor, exactly', () => {
    // 400 copies of a float32 constant c sum exactly in float64 (≤ 33 significant bits), so the frame mean is c
    // and x − mean = 0 exactly: power 0, energies 0, ln(2⁻²³) in every cell.
    for (const c of [0.25, Math.fround(0.1), -1, 12345 / 32768]) {
      const x = new Float32Array(2000).fill(c);
      const got = fbank(x), feats = speechFeatures(x);
      expect(got.every((v) => v === Math.fround(detLog(FBANK_ENERGY_FLOOR)))).toBe(true);
      expect(got[0]).toBe(Math.fround(LOG_FLOOR));
      for (let i = 0; i < 11 * NMEL; i++) expect(feats[i]).toBe(Math.fround(-0.8172208));
    }
  });

  it('tone at bin 128 (4 kHz): power and all 128 log-mel values match the closed form; peak in the right channel', () => {
    const A = 0.5;
    const x = Float32Array.from({ length: 2000 }, (_, n) => A * [1, 0, -1, 0][n & 3]);
    const power = tonePower(A, 128);
    // main lobe: |X_128| ≈ (A/2)·|H|·Σw[n], Σw = 399/2, |H|² = |1 + 0.97i|² = 1.9409 → ≈ 4828
    expect(power[128] / ((A / 2) ** 2 * 1.9409 * 199.5 ** 2)).toBeCloseTo(1, 2);
    for (const f of [0, 5, 10]) expectRowMatches(x, f, power);
    // the channel holding most of bin 128's weight is the loudest; all frames are identical
    const row = fbank(x).subarray(0, NMEL);
    let best = 0, bestW = 0;
    for (let m = 0; m < NMEL; m++) if (BANK[m * NBINS + 128] > bestW) { bestW = BANK[m * NBINS + 128]; best = m; }
    expect(row.indexOf(Math.max(...row))).toBe(best);
    expect(u32(fbank(x).subarray(10 * NMEL, 11 * NMEL))).toEqual(u32(row));
  });

  it('Nyquist tone (−1)ⁿ: its bin has mel weight 0, the mel energies are pure window leakage', () => {
    const x = Float32Array.from({ length: 1000 }, (_, n) => (n & 1 ? -0.5 : 0.5));
    const power = tonePower(0.5, 256);
    expect(power.indexOf(Math.max(...power))).toBe(256);
    expectRowMatches(x, 2, power);
  });

  it('a constant offset added to the tone changes nothing, bit for bit', () => {
    const tone = Float32Array.from({ length: 2000 }, (_, n) => 0.5 * [1, 0, -1, 0][n & 3]);
    const offset = tone.map((v) => v + 0.25); // exact: {0.75, 0.25, −0.25}
    expect(u32(fbank(offset))).toEqual(u32(fbank(tone)));
  });

  it('impulse: the frames that contain it match the closed form (n0 = 360, 200, 40, 399, 239, 79, 0, 160, 320); the others sit on the floor', () => {
    const floorF = Math.fround(LOG_FLOOR);
    for (const [at, frames] of [[1000, { 4: 360, 5: 200, 6: 40 }], [399, { 0: 399, 1: 239, 2: 79 }], [480, { 1: 320, 2: 160, 3: 0 }]] as const) {
      const x = new Float32Array(2000);
      x[at] = 0.5;
      const got = fbank(x);
      for (let f = 0; f < 11; f++) {
        const n0 = (frames as Record<number, number>)[f];
        if (n0 === undefined) {
          for (let m = 0; m < NMEL; m++) expect(got[f * NMEL + m]).toBe(floorF);
        } else {
          expect(at - 160 * f).toBe(n0);
          expectRowMatches(x, f, impulsePower(0.5, n0));
        }
      }
    }
  });
});

describe('FbankStream', () => {
  const clip = wavSamples('main_yes_1000ms.wav');
  const batch = fbank(clip), batchFeatures = speechFeatures(clip);

  function streamAll(x: Float32Array, sizes: () => number, output: 'logmel' | 'features' = 'logmel'): Float32Array {
    const s = new FbankStream({ output });
    const out = new Float32Array(fbankFrameCount(x.length) * NMEL);
    let at = 0, expectIndex = 0;
    for (let i = 0; i < x.length;) {
      const n = Math.min(sizes(), x.length - i);
      const k = s.push(x.subarray(i, i + n), (row, index) => {
        expect(index).toBe(expectIndex++);
        expect(row.length).toBe(NMEL);
        out.set(row, at); at += NMEL;
      });
      i += n;
      // a frame is emitted as soon as its last sample has arrived, never later
      expect(s.framesEmitted).toBe(fbankFrameCount(i));
      expect(k).toBeGreaterThanOrEqual(0);
    }
    return out;
  }

  it.each([1, 3, 159, 160, 161, 399, 400, 401, 1000, 16000])('chunks of %i samples == fbank, bit for bit', (n) => {
    expect(u32(streamAll(clip, () => n))).toEqual(u32(batch));
  });

  it('random chunk sizes (0 … 700), logmel and features output', () => {
    const r = rng(99);
    expect(u32(streamAll(clip, () => Math.floor(r() * 700)))).toEqual(u32(batch));
    expect(u32(streamAll(clip, () => Math.floor(r() * 700), 'features'))).toEqual(u32(batchFeatures.subarray(0, 98 * NMEL)));
  });

  it('features output over a clip longer than 128 frames: the first 128 rows are speechFeatures (the crop)', () => {
    const long = new Float32Array(3 * 16000);
    long.set(clip, 0); long.set(wavSamples('short_no_600ms.wav'), 16000); long.set(clip, 25600);
    const rows = streamAll(long, () => 4096, 'features');
    expect(rows.length / NMEL).toBe(298);
    expect(u32(rows.subarray(0, 128 * NMEL))).toEqual(u32(speechFeatures(long)));
  });

  it('pushFrames, bufferedSamples, reset, empty chunks', () => {
    const s = new FbankStream();
    expect(s.pushFrames(clip.subarray(0, 399)).length).toBe(0);
    expect(s.bufferedSamples).toBe(399);
    expect(s.pushFrames(new Float32Array(0)).length).toBe(0);
    const a = s.pushFrames(clip.subarray(399, 1000)); // frames 0 … 3 (3·160 + 400 = 880 ≤ 1000 < 1040)
    expect(a.length).toBe(4 * NMEL);
    expect(s.bufferedSamples).toBe(1000 - 4 * 160);
    expect(u32(a)).toEqual(u32(batch.subarray(0, 4 * NMEL)));
    s.reset();
    expect([s.framesEmitted, s.bufferedSamples]).toEqual([0, 0]);
    expect(u32(s.pushFrames(clip))).toEqual(u32(batch));
  });

  it('a non-finite sample throws before anything is consumed', () => {
    const s = new FbankStream();
    s.pushFrames(clip.subarray(0, 100));
    const bad = clip.slice(100, 600);
    bad[450] = NaN;
    expect(() => s.push(bad, () => {})).toThrow(ArgumentError);
    expect(s.bufferedSamples).toBe(100);
    expect(s.framesEmitted).toBe(0);
    expect(() => new FbankStream({ output: 'mel' as never })).toThrow(ArgumentError);
  });
});

describe('batch API', () => {
  it('subtracting the waveform mean first (the official order) moves no value by more than 1 float32 ulp', () => {
    for (const x of [YES, NO]) {
      const a = speechFeatures(x), b = speechFeatures(x, { subtractWaveformMean: true });
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, ulps32(a[i], b[i]));
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('crop keeps the first 128 frames; 20 720 samples fill exactly 128 rows', () => {
    const long = new Float32Array(20720);
    for (let i = 0; i < long.length; i++) long[i] = YES[i % 16000];
    const feats = speechFeatures(long);
    expect(fbank(long).length).toBe(128 * NMEL);
    for (let f = 0; f < 128; f++) {
      const lm = fbankFrameDetail(long, f).logMel;
      for (let m = 0; m < NMEL; m++) expect(feats[f * NMEL + m]).toBe(Math.fround(NORM(lm[m])));
    }
    const longer = new Float32Array(40000);
    longer.set(long);
    expect(u32(speechFeatures(longer))).toEqual(u32(feats));
  });

  it('writes into `out`; validates its inputs', () => {
    const out = new Float32Array(98 * NMEL + 5).fill(NaN);
    expect(fbank(YES, { out })).toBe(out);
    expect(u32(out.subarray(0, 98 * NMEL))).toEqual(u32(fbank(YES)));
    expect(Number.isNaN(out[98 * NMEL])).toBe(true);
    expect(() => fbank(YES, { out: new Float32Array(10) })).toThrow(ShapeError);
    expect(() => speechFeatures(YES, { out: new Float32Array(128 * 127) })).toThrow(ShapeError);
    expect(() => fbank(new Float32Array(399))).toThrow(ShapeError);
    expect(() => speechFeatures(new Float32Array(0))).toThrow(ShapeError);
    expect(() => fbank(Array.from(YES) as never)).toThrow(ArgumentError);
    expect(() => fbank(new Float64Array(16000) as never)).toThrow(ArgumentError);
    const inf = YES.slice(); inf[7] = Infinity;
    expect(() => fbank(inf)).toThrow(/waveform\[7\] is Infinity/);
    expect(() => fbankFrameDetail(YES, 98)).toThrow(ArgumentError);
    expect(() => fbankFrameCount(-1)).toThrow(ArgumentError);
  });
});

describe('cross-engine determinism', () => {
  // Only IEEE-exact operations run at run time, so these bytes are the same in every engine. They are pinned here
  // (computed in Node); a different engine running this suite must reproduce them exactly.
  it('pinned SHA-256 of the tables, a detLog / detCosPi grid, one frame\'s float64 intermediates and both clips\' features', async () => {
    const grid = new Float64Array(4000);
    for (let i = 0; i < 2000; i++) grid[i] = detLog((i + 1) * 0.37 * 2 ** (i % 60 - 30));
    for (let i = 0; i < 2000; i++) grid[2000 + i] = detCosPi(i * 7 - 3000, 399 + (i % 5));
    const d = fbankFrameDetail(YES, 50); // float64 intermediates: the FFT to the last bit
    const parts = [hannWindow(), melFilterbank(), grid, d.windowed, d.power, d.logMel, speechFeatures(YES), speechFeatures(NO), fbank(YES)];
    const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let o = 0;
    for (const p of parts) { all.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o); o += p.byteLength; }
    const hex = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', all)), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(hex).toBe('2dccc2d0d1b966d981fed99eedfd623f717a29278a6aea9307d493760734ae5e');
  });
});
