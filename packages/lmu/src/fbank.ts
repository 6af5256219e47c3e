import { ArgumentError, NonFiniteError, ShapeError, firstNonFinite } from '@spikewasm/core-wasm';

// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────
// Deterministic elementary functions.
//
// ECMAScript leaves Math.log / Math.cos / Math.sin "implementation-approximated": V8, SpiderMonkey and
// JavaScriptCore may return different bits. The front end therefore uses only operations IEEE 754 specifies
// exactly (+ − × ÷, comparisons, integer arithmetic, DataView bit access); the functions below are built from them.
// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────

const SCRATCH = new DataView(new ArrayBuffer(8));

// fdlibm e_log.c constants (FreeBSD msun, the code V8's and SpiderMonkey's Math.log derive from).
const LN2_HI = 6.93147180369123816490e-01; // 0x3fe62e42 fee00000: k·LN2_HI is exact for |k| < 2^11
const LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef 35793c76
const TWO54 = 1.80143985094819840000e+16;
const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

/**
 * Natural logarithm in float64, bit for bit the same in every JavaScript engine (< 1 ulp from the true value).
 *
 * A line-by-line port of fdlibm's `__ieee754_log`: frexp-style split `x = 2^k · (1 + f)` with `√2/2 ≤ 1 + f < √2`
 * (exponent and mantissa read through a DataView), `s = f / (2 + f)`, `ln(1 + f) = 2·atanh(s)` as
 * `f − (f²/2 − s·(f²/2 + R(s²)))` with fdlibm's degree-14 minimax polynomial `R`, and `k·ln 2` split in two parts
 * so that `k·LN2_HI` is exact. Only + − × ÷ and bit manipulation are used. Special values follow `Math.log`:
 * `log(0) = −∞`, `log(x < 0) = NaN`, `log(∞) = ∞`, `log(NaN) = NaN`.
 *
 * @example detLog(2 ** -23) // −15.942385152878742 (the log floor of the Kaldi fbank)
 */
export function detLog(x: number): number {
  SCRATCH.setFloat64(0, x, true);
  let hx = SCRATCH.getInt32(4, true);
  const lx = SCRATCH.getUint32(0, true);
  let k = 0;
  if (hx < 0x00100000) { // x < 2^-1022 (or negative)
    if (((hx & 0x7fffffff) | lx) === 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= TWO54; // subnormal: scale up
    SCRATCH.setFloat64(0, x, true);
    hx = SCRATCH.getInt32(4, true);
  }
  if (hx >= 0x7ff00000) return x + x; // ∞ or NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  SCRATCH.setInt32(4, hx | (i ^ 0x3ff00000), true); // normalise x or x/2 into [√2/2, √2)
  x = SCRATCH.getFloat64(0, true);
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) { // |f| < 2^-20
    if (f === 0) return k === 0 ? 0 : k * LN2_HI + k * LN2_LO;
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    return k === 0 ? f - R : k * LN2_HI - ((R - k * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  let i2 = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  i2 |= j;
  const R = t2 + t1;
  if (i2 > 0) {
    const hfsq = 0.5 * f * f;
    return k === 0 ? f - (hfsq - s * (hfsq + R)) : k * LN2_HI - ((hfsq - (s * (hfsq + R) + k * LN2_LO)) - f);
  }
  return k === 0 ? f - s * (f - R) : k * LN2_HI - ((s * (f - R) - k * LN2_LO) - f);
}

// fdlibm k_sin.c / k_cos.c minimax kernels on |a| ≤ π/4 (tail y = 0), each < 1 ulp.
const S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03, S3 = -1.98412698298579493134e-04;
const S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
const C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03, C3 = 2.48015872894767294178e-05;
const C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;

function kernelSin(x: number): number {
  const z = x * x;
  const v = z * x;
  const r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x + v * (S1 + z * r);
}

function kernelCos(x: number): number {
  const z = x * x;
  const w2 = z * z;
  const r = z * (C1 + z * (C2 + z * C3)) + w2 * w2 * (C4 + z * (C5 + z * C6));
  const hz = 0.5 * z;
  const w = 1 - hz;
  return w + (((1 - w) - hz) + z * r);
}

const MAX_PI_ARG = 2 ** 40;

function checkPiArgs(fn: string, p: number, q: number): void {
  if (!Number.isInteger(p) || !Number.isInteger(q) || q < 1 || q > MAX_PI_ARG || Math.abs(p) > MAX_PI_ARG) {
    throw new ArgumentError(`${fn}: p and q must be integers with 1 ≤ q ≤ 2^40 and |p| ≤ 2^40, got p = ${p}, q = ${q}`);
  }
}

function cosPiUnchecked(p: number, q: number): number {
  // Exact argument reduction with integers: r = p mod 2q, then the nearest multiple j·(π/2) of the angle πr/q,
  // leaving a = π·s / (2q) with s = 2r − j·q, |a| ≤ π/4. Only a itself is rounded (two correctly rounded ops).
  const q2 = 2 * q;
  let r = p % q2;
  if (r < 0) r += q2;
  let j = 0;
  while (4 * r > (2 * j + 1) * q) j++;
  // On a tie (|s| = q/2, the angle an odd multiple of π/4) take the even quadrant, so that the reduction of
  // −p and 2q − p mirrors that of p and the result is exactly even: cos(−x) === cos(x).
  if (4 * r === (2 * j + 1) * q && (j & 1) === 1) j++;
  const s = 2 * r - j * q;
  const a = (s * Math.PI) / q2;
  let v: number;
  switch (j & 3) {
    case 0: v = kernelCos(a); break;
    case 1: v = -kernelSin(a); break;
    case 2: v = -kernelCos(a); break;
    default: v = kernelSin(a);
  }
  return v + 0; // −0 → +0
}

/**
 * `cos(π·p/q)` for integers `p`, `q` (q ≥ 1), bit for bit the same in every JavaScript engine, within about 1 ulp
 * (at most 2⁻⁵³ absolute) of the true value.
 *
 * The angle is never formed as a rounded float and then reduced: `p mod 2q` and the quadrant are found with exact
 * integer arithmetic, leaving `|a| ≤ π/4`, on which fdlibm's `__kernel_cos` / `__kernel_sin` minimax polynomials
 * are evaluated. Exact at multiples of π/2 (`detCosPi(1, 2) === 0`) and exactly symmetric
 * (`detCosPi(2q − p, q) === detCosPi(p, q)`).
 *
 * @example detCosPi(2 * 5, 399) // cos(2π·5/399), the Hann window's cosine at n = 5
 */
export function detCosPi(p: number, q: number): number {
  checkPiArgs('detCosPi', p, q);
  return cosPiUnchecked(p, q);
}

/** `sin(π·p/q)` for integers `p`, `q` (q ≥ 1), deterministic like {@link detCosPi} (it is `cos(π(2p − q)/(2q))`). */
export function detSinPi(p: number, q: number): number {
  checkPiArgs('detSinPi', p, q);
  return cosPiUnchecked(2 * p - q, 2 * q);
}

// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────
// The Kaldi fbank of LMUFormer's Speech Commands front end.
// ─────────────────────────────────────────────────────────────────────────────────────────────────────────────────

/** Sample rate the front end is built for (Speech Commands v2). */
export const FBANK_SAMPLE_RATE = 16000;
/** Frame length: 25 ms at 16 kHz. */
export const FBANK_FRAME_LENGTH = 400;
/** Frame shift: 10 ms at 16 kHz. */
export const FBANK_FRAME_SHIFT = 160;
/** FFT size (the frame zero-padded to the next power of two). */
export const FBANK_FFT_SIZE = 512;
/** Power-spectrum bins, 0 … Nyquist. */
export const FBANK_NUM_BINS = 257;
/** Mel channels. */
export const FBANK_NUM_MEL_BINS = 128;
/** Frames of the LMUFormer input (`target_length`): shorter clips are padded, longer ones cropped. */
export const SPEECH_TARGET_FRAMES = 128;
/** Dataset mean of the log-mel features (LMUFormer's `norm_mean`). */
export const SPEECH_NORM_MEAN = -6.845978;
/** Dataset standard deviation of the log-mel features (LMUFormer's `norm_std`); features are divided by 2·std. */
export const SPEECH_NORM_STD = 5.5654526;
/** Energies below this (float32 epsilon, 2⁻²³) are clamped before the log, as torchaudio does. */
export const FBANK_ENERGY_FLOOR = 2 ** -23;

const FRAME = FBANK_FRAME_LENGTH;
const SHIFT = FBANK_FRAME_SHIFT;
const HALF = FBANK_FFT_SIZE / 2; // 256: the real FFT runs as a 256-point complex FFT
const NBINS = FBANK_NUM_BINS;
const NMEL = FBANK_NUM_MEL_BINS;
const PREEMPH = 0.97;
const LOW_FREQ = 20;
const HIGH_FREQ = FBANK_SAMPLE_RATE / 2;
const NORM_DIV = SPEECH_NORM_STD * 2;

/** Value of a zero-padded row after the normalisation: `(0 − mean) / (2·std)` rounded to float32 (0.6150423). */
export const SPEECH_PAD_VALUE = Math.fround((0 - SPEECH_NORM_MEAN) / NORM_DIV);

interface Tables {
  window: Float64Array; // [400] symmetric Hann
  cos256: Float64Array; // [128] cos(2πj/256), the complex FFT's twiddles
  sin256: Float64Array;
  cos512: Float64Array; // [257] cos(πk/256), the real-FFT split's twiddles
  sin512: Float64Array;
  bitrev: Uint16Array; // [256]
  bank: Float64Array; // [128 × 257] dense triangle weights (Nyquist column 0)
  melLo: Int32Array; // first and one-past-last FFT bin with a non-zero weight, per mel channel
  melHi: Int32Array;
}
let tables: Tables | undefined;

function melScale(f: number): number {
  return 1127.0 * detLog(1.0 + f / 700.0);
}

// Built on first use (no work at import time), then shared by every frame engine.
function getTables(): Tables {
  if (tables) return tables;
  const window = new Float64Array(FRAME);
  for (let n = 0; n < FRAME; n++) window[n] = 0.5 - 0.5 * cosPiUnchecked(2 * n, FRAME - 1); // Kaldi/torch symmetric
  const cos256 = new Float64Array(HALF / 2), sin256 = new Float64Array(HALF / 2);
  for (let j = 0; j < HALF / 2; j++) { cos256[j] = cosPiUnchecked(j, HALF / 2); sin256[j] = cosPiUnchecked(2 * j - HALF / 2, HALF); }
  const cos512 = new Float64Array(NBINS), sin512 = new Float64Array(NBINS);
  for (let k = 0; k < NBINS; k++) { cos512[k] = cosPiUnchecked(k, HALF); sin512[k] = cosPiUnchecked(2 * k - HALF, 2 * HALF); }
  const bitrev = new Uint16Array(HALF);
  for (let i = 0; i < HALF; i++) {
    let r = 0;
    for (let b = 1, x = i; b < HALF; b <<= 1, x >>= 1) r = (r << 1) | (x & 1);
    bitrev[i] = r;
  }

  // torchaudio.compliance.kaldi.get_mel_banks with vtln_warp = 1, in float64 and in its operation order.
  const melLow = melScale(LOW_FREQ), melHigh = melScale(HIGH_FREQ);
  const delta = (melHigh - melLow) / (NMEL + 1);
  const binWidth = FBANK_SAMPLE_RATE / FBANK_FFT_SIZE; // 31.25 Hz, exact
  const melOfBin = new Float64Array(HALF);
  for (let k = 0; k < HALF; k++) melOfBin[k] = melScale(binWidth * k);
  const bank = new Float64Array(NMEL * NBINS);
  const melLo = new Int32Array(NMEL), melHi = new Int32Array(NMEL);
  for (let m = 0; m < NMEL; m++) {
    const left = melLow + m * delta, center = melLow + (m + 1) * delta, right = melLow + (m + 2) * delta;
    let lo = HALF, hi = 0;
    for (let k = 0; k < HALF; k++) { // k = 256 (Nyquist) keeps weight 0
      const up = (melOfBin[k] - left) / (center - left);
      const down = (right - melOfBin[k]) / (right - center);
      const w = Math.max(0, Math.min(up, down));
      bank[m * NBINS + k] = w;
      if (w > 0) { if (k < lo) lo = k; hi = k + 1; }
    }
    melLo[m] = lo < hi ? lo : 0;
    melHi[m] = lo < hi ? hi : 0; // an empty triangle (mel channel 3) sums nothing and lands on the floor
  }
  tables = { window, cos256, sin256, cos512, sin512, bitrev, bank, melLo, melHi };
  return tables;
}

/**
 * One frame through the Kaldi pipeline, in float64, with preallocated buffers (no allocation per frame).
 * Every entry point (batch, streaming, detail) runs this same code on the same float64 values, so they agree bit
 * for bit.
 */
class FrameEngine {
  readonly t = getTables();
  readonly windowed = new Float64Array(FRAME);
  readonly re = new Float64Array(HALF);
  readonly im = new Float64Array(HALF);
  readonly power = new Float64Array(NBINS);
  readonly logMel = new Float64Array(NMEL);

  /** Reads `src[off … off + 400)`, fills `windowed`, `power` and `logMel` (natural log, floored). */
  run(src: ArrayLike<number>, off: number): void {
    const { window, bitrev, cos256, sin256, cos512, sin512, bank, melLo, melHi } = this.t;
    const y = this.windowed, re = this.re, im = this.im, power = this.power;

    // 1. remove the frame's mean
    let sum = 0;
    for (let j = 0; j < FRAME; j++) sum += src[off + j];
    const mean = sum / FRAME;
    for (let j = 0; j < FRAME; j++) y[j] = src[off + j] - mean;
    // 2. pre-emphasis y[j] = x[j] − 0.97·x[j−1], y[0] = x[0] − 0.97·x[0] (in place, from the end); 3. window
    for (let j = FRAME - 1; j > 0; j--) y[j] = (y[j] - PREEMPH * y[j - 1]) * window[j];
    y[0] = (y[0] - PREEMPH * y[0]) * window[0];

    // 4–5. zero-pad to 512 and FFT: the real sequence packed as z[n] = y[2n] + i·y[2n+1], 256-point complex FFT
    // (iterative radix-2, bit-reversed load), then the standard split into the 257 bins of the real transform.
    for (let n = 0; n < HALF; n++) {
      const b = bitrev[n];
      const src2 = 2 * n;
      re[b] = src2 < FRAME ? y[src2] : 0;
      im[b] = src2 + 1 < FRAME ? y[src2 + 1] : 0;
    }
    for (let size = 2; size <= HALF; size <<= 1) {
      const half = size >> 1, step = HALF / size;
      for (let start = 0; start < HALF; start += size) {
        for (let j = 0; j < half; j++) {
          const wr = cos256[j * step], wi = -sin256[j * step]; // e^{−2πij/size}
          const a = start + j, b = a + half;
          const tr = wr * re[b] - wi * im[b];
          const ti = wr * im[b] + wi * re[b];
          re[b] = re[a] - tr; im[b] = im[a] - ti;
          re[a] += tr; im[a] += ti;
        }
      }
    }
    for (let k = 0; k < NBINS; k++) {
      const p = k & (HALF - 1), q = (HALF - k) & (HALF - 1);
      // even part E = (Z[k] + conj Z[N−k]) / 2, odd part O = (Z[k] − conj Z[N−k]) / 2i, X[k] = E + e^{−iπk/256}·O
      const er = (re[p] + re[q]) * 0.5, ei = (im[p] - im[q]) * 0.5;
      const or = (im[p] + im[q]) * 0.5, oi = (re[q] - re[p]) * 0.5;
      const c = cos512[k], s = sin512[k];
      const xr = er + (c * or + s * oi);
      const xi = ei + (c * oi - s * or);
      power[k] = xr * xr + xi * xi;
    }

    // mel energies (sparse rows, k ascending), then ln(max(·, 2^-23))
    const out = this.logMel;
    for (let m = 0; m < NMEL; m++) {
      let e = 0;
      const row = m * NBINS;
      for (let k = melLo[m]; k < melHi[m]; k++) e += bank[row + k] * power[k];
      out[m] = detLog(e > FBANK_ENERGY_FLOOR ? e : FBANK_ENERGY_FLOOR);
    }
  }
}

function checkWaveform(fn: string, waveform: Float32Array, minLength: number): void {
  if (!(waveform instanceof Float32Array)) {
    throw new ArgumentError(`${fn}: waveform must be a Float32Array, got ${Object.prototype.toString.call(waveform)}`);
  }
  if (waveform.length < minLength) {
    throw new ShapeError(`${fn}: waveform has ${waveform.length} samples, at least ${minLength} (one 25 ms frame) needed`);
  }
  // NaN/±Infinity samples: a NonFiniteError (an ArgumentError) naming the first one; nothing is consumed
  const i = firstNonFinite(waveform);
  if (i >= 0) throw new NonFiniteError(`${fn}: waveform[${i}] is ${waveform[i]}, samples must be finite`, 'waveform', i, waveform[i]);
}

/**
 * Number of frames the fbank makes from `numSamples` samples (snip_edges): `1 + ⌊(n − 400) / 160⌋`, and 0 for
 * `n < 400` (where {@link fbank} throws, like torchaudio). 98 for 1 s, 58 for 0.6 s, 128 for 20 720 … 20 879.
 */
export function fbankFrameCount(numSamples: number): number {
  if (!Number.isInteger(numSamples) || numSamples < 0) {
    throw new ArgumentError(`fbankFrameCount: numSamples must be a non-negative integer, got ${numSamples}`);
  }
  return numSamples < FRAME ? 0 : 1 + Math.floor((numSamples - FRAME) / SHIFT);
}

/** Options of {@link fbank} and {@link speechFeatures}. */
export interface FbankOptions {
  /**
   * Subtract the whole waveform's mean first, as LMUFormer's dataloader does. Mathematically a no-op (every frame's
   * own mean is removed next), numerically a rounding-level change (≤ 1 float32 ulp on the fixtures). Default
   * `false`, so that the batch functions agree bit for bit with {@link FbankStream}, which cannot know the mean.
   */
  subtractWaveformMean?: boolean;
  /** Write the result here instead of allocating (length ≥ the result's). */
  out?: Float32Array;
}

function prepare(fn: string, waveform: Float32Array, opts: FbankOptions): ArrayLike<number> {
  checkWaveform(fn, waveform, FRAME);
  if (!opts.subtractWaveformMean) return waveform;
  let sum = 0;
  for (let i = 0; i < waveform.length; i++) sum += waveform[i];
  const mean = sum / waveform.length;
  const centred = new Float64Array(waveform.length);
  for (let i = 0; i < waveform.length; i++) centred[i] = waveform[i] - mean;
  return centred;
}

function output(fn: string, opts: FbankOptions, length: number): Float32Array {
  if (opts.out === undefined) return new Float32Array(length);
  if (!(opts.out instanceof Float32Array) || opts.out.length < length) {
    throw new ShapeError(`${fn}: out must be a Float32Array of at least ${length} elements, got length ${opts.out?.length}`);
  }
  return opts.out;
}

/**
 * Kaldi log-mel filterbank of a 16 kHz waveform, exactly `torchaudio.compliance.kaldi.fbank` with LMUFormer's
 * arguments (`htk_compat, sample_frequency=16000, use_energy=False, window_type='hanning', num_mel_bins=128,
 * dither=0, frame_shift=10`, every other argument at its default).
 *
 * Pipeline per frame of 400 samples (25 ms), one frame every 160 samples (10 ms), `snip_edges` (no partial frames):
 * remove the frame's mean → pre-emphasis `y[j] = x[j] − 0.97·x[j−1]`, `y[0] = x[0] − 0.97·x[0]` → symmetric Hann
 * `w[n] = 0.5 − 0.5·cos(2πn/399)` → zero-pad to 512 → power spectrum `|rfft|²` (257 bins) → 128 triangular filters
 * linear in mel (`mel(f) = 1127·ln(1 + f/700)`, 20 Hz … 8 kHz, Nyquist bin weight 0) → `ln(max(E, 2⁻²³))`.
 * Computed in float64 with engine-independent arithmetic ({@link detLog}, {@link detCosPi}), rounded once to float32.
 *
 * @param waveform mono samples at 16 kHz (e.g. `int16 / 32768` from {@link readWav}); at least 400 samples.
 * @returns `Float32Array` of shape `[frames, 128]` (row-major, frame-major), `frames = fbankFrameCount(n)`.
 * @example
 * const logMel = fbank(readWav(bytes).samples); // 1 s → [98, 128]
 * const frames = logMel.length / 128;
 */
export function fbank(waveform: Float32Array, opts: FbankOptions = {}): Float32Array {
  const src = prepare('fbank', waveform, opts);
  const frames = fbankFrameCount(waveform.length);
  const out = output('fbank', opts, frames * NMEL);
  const eng = new FrameEngine();
  for (let f = 0; f < frames; f++) {
    eng.run(src, f * SHIFT);
    for (let m = 0; m < NMEL; m++) out[f * NMEL + m] = eng.logMel[m];
  }
  return out;
}

/**
 * The LMUFormer Speech Commands v2 input of a 16 kHz clip: {@link fbank}, padded with zero rows or cropped to the
 * first 128 frames, then normalised `(x − (−6.845978)) / (2 · 5.5654526)` (LMUFormer's `src/dataloader.py`, eval
 * path). Padded rows are {@link SPEECH_PAD_VALUE} (0.6150423); cells on the log floor are −0.8172208.
 *
 * @returns `Float32Array` of shape `[128, 128]`: `[N = frames, C = mel]`, one LMUFormer example without the batch
 * axis. Each value is the float64 log-mel normalised and rounded once to float32.
 * @example
 * const x = speechFeatures(readWav(bytes).samples); // [128, 128]
 * // batch of one: [1, 128, 128] = the same buffer
 */
export function speechFeatures(waveform: Float32Array, opts: FbankOptions = {}): Float32Array {
  const src = prepare('speechFeatures', waveform, opts);
  const T = SPEECH_TARGET_FRAMES;
  const out = output('speechFeatures', opts, T * NMEL);
  const frames = Math.min(fbankFrameCount(waveform.length), T);
  const eng = new FrameEngine();
  for (let f = 0; f < frames; f++) {
    eng.run(src, f * SHIFT);
    for (let m = 0; m < NMEL; m++) out[f * NMEL + m] = (eng.logMel[m] - SPEECH_NORM_MEAN) / NORM_DIV;
  }
  out.fill(SPEECH_PAD_VALUE, frames * NMEL, T * NMEL);
  return out;
}

/** What {@link FbankStream} emits per frame. */
export type FbankStreamOutput =
  /** The log-mel values, as {@link fbank} rows. */
  | 'logmel'
  /** Normalised like {@link speechFeatures} rows (no padding or cropping: the caller decides where to stop). */
  | 'features';

/** Options of {@link FbankStream}. */
export interface FbankStreamOptions {
  /** Default `'logmel'`. */
  output?: FbankStreamOutput;
}

/**
 * Streaming {@link fbank}: push samples in chunks of any size; each 400-sample frame is emitted as soon as its last
 * sample arrives (frame `n` covers samples `160n … 160n + 399`). No look-ahead is needed: the only whole-waveform
 * step of the official pipeline, subtracting the waveform's mean, cannot change any frame (each frame's own mean is
 * removed), so the emitted rows equal `fbank(all samples)` bit for bit, and with `output: 'features'` the rows of
 * `speechFeatures(all samples)` (for frames < 128).
 *
 * Holds at most 399 samples between calls; {@link push} allocates nothing.
 *
 * @example
 * const stream = new FbankStream({ output: 'features' });
 * mic.ondata = (chunk: Float32Array) => stream.push(chunk, (row, n) => model.step(row)); // row: [128], reused
 */
export class FbankStream {
  readonly output: FbankStreamOutput;
  private readonly eng = new FrameEngine();
  private readonly buf = new Float64Array(FRAME);
  private readonly row = new Float32Array(NMEL);
  private fill = 0;
  private emitted = 0;

  constructor(opts: FbankStreamOptions = {}) {
    const o = opts.output ?? 'logmel';
    if (o !== 'logmel' && o !== 'features') throw new ArgumentError(`FbankStream: output must be 'logmel' or 'features', got ${String(o)}`);
    this.output = o;
  }

  /** Frames emitted since construction or the last {@link reset}. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /** Samples held for the next frame (0 … 399). */
  get bufferedSamples(): number {
    return this.fill;
  }

  /**
   * Appends samples; calls `onFrame(row, frameIndex)` once per completed frame, in order. `row` is a `[128]` view
   * reused for every frame: copy it if you keep it. Returns the number of frames emitted by this call. Throws
   * (before consuming anything) if a sample is not finite.
   */
  push(samples: Float32Array, onFrame: (row: Float32Array, frameIndex: number) => void): number {
    checkWaveform('FbankStream.push', samples, 0);
    if (typeof onFrame !== 'function') throw new ArgumentError(`FbankStream.push: onFrame must be a function, got ${onFrame === null ? 'null' : typeof onFrame}`);
    const buf = this.buf, row = this.row, logMel = this.eng.logMel, features = this.output === 'features';
    let i = 0, count = 0;
    while (i < samples.length) {
      const take = Math.min(FRAME - this.fill, samples.length - i);
      for (let j = 0; j < take; j++) buf[this.fill + j] = samples[i + j];
      this.fill += take;
      i += take;
      if (this.fill < FRAME) break;
      this.eng.run(buf, 0);
      if (features) for (let m = 0; m < NMEL; m++) row[m] = (logMel[m] - SPEECH_NORM_MEAN) / NORM_DIV;
      else for (let m = 0; m < NMEL; m++) row[m] = logMel[m];
      buf.copyWithin(0, SHIFT, FRAME);
      this.fill = FRAME - SHIFT;
      onFrame(row, this.emitted++);
      count++;
    }
    return count;
  }

  /** {@link push}, collecting the frames completed by this chunk into a new `[k, 128]` array. */
  pushFrames(samples: Float32Array): Float32Array {
    const k = Math.max(0, Math.floor((this.fill + samples.length - FRAME) / SHIFT) + 1);
    const out = new Float32Array(k * NMEL);
    let at = 0;
    this.push(samples, (row) => { out.set(row, at); at += NMEL; });
    return out;
  }

  /** Forgets buffered samples and the frame count (start of a new utterance). */
  reset(): void {
    this.fill = 0;
    this.emitted = 0;
  }
}

/** Every intermediate of one frame, for inspection and tests (float64). */
export interface FbankFrameDetail {
  /** `[400]` after mean removal, pre-emphasis and the window (before zero-padding). */
  windowed: Float64Array;
  /** `[257]` `|rfft(512)|²`. */
  power: Float64Array;
  /** `[128]` `ln(max(mel energy, 2⁻²³))`. */
  logMel: Float64Array;
}

/**
 * The float64 intermediates of frame `frame` of {@link fbank}`(waveform)`: the same computation, not rounded.
 * @example fbankFrameDetail(samples, 0).power // [257]
 */
export function fbankFrameDetail(waveform: Float32Array, frame: number): FbankFrameDetail {
  checkWaveform('fbankFrameDetail', waveform, FRAME);
  const frames = fbankFrameCount(waveform.length);
  if (!Number.isInteger(frame) || frame < 0 || frame >= frames) {
    throw new ArgumentError(`fbankFrameDetail: frame must be an integer in [0, ${frames}), got ${frame}`);
  }
  const eng = new FrameEngine();
  eng.run(waveform, frame * SHIFT);
  return { windowed: eng.windowed.slice(), power: eng.power.slice(), logMel: eng.logMel.slice() };
}

/**
 * The mel filterbank, `[128, 257]` row-major float64 (torchaudio `get_mel_banks` plus the zero Nyquist column),
 * a fresh copy: `E[m] = Σ_k bank[m, k] · power[k]`.
 */
export function melFilterbank(): Float64Array {
  return getTables().bank.slice();
}

/** The symmetric Hann window `0.5 − 0.5·cos(2πn/399)`, `[400]` float64, a fresh copy. */
export function hannWindow(): Float64Array {
  return getTables().window.slice();
}
