// Input encoders: direct (a static input repeated over T steps, first layer computed once), rate (Bernoulli spikes
// from a seeded xoshiro128** stream) and event frames (DVS events integrated into per-step counts).
import { ArgumentError, ShapeError, bitWords, expectTensor, fmtShape, type Tensor } from '@spikewasm/core-wasm';
import type { LIFNode, LIFNodeOutputs } from './lif-node.js';
import type { SpikingModule } from './module.js';
import { SpikeTensor } from './spike-tensor.js';

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

function checkSteps(op: string, T: number): void {
  if (!Number.isSafeInteger(T) || T < 1) throw new ArgumentError(`${op}: T must be a positive integer, got ${T}`);
}

// ---------------------------------------------------------------- direct encoding

/**
 * Materialises the direct encoding of a static input: out[t] = x for t = 0…T−1, i.e. spikingjelly's
 * `x.unsqueeze(0).repeat(T, 1, …, 1)` (what Spikformer feeds its first conv). x [...S] f32 → out [T, ...S] f32.
 * Use it for references and for layers that need a whole sequence; a model should instead compute its first
 * (analog) layer once and call {@link repeatSteps}.
 * @example repeatInput(img, 4, arena.tensor([4, 1, 3, 32, 32]));   // img [1, 3, 32, 32]
 */
export function repeatInput(x: Tensor, T: number, out: Tensor): Tensor {
  const op = 'repeatInput';
  checkSteps(op, T);
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectTensor(op, 'output', out, 'f32', [T, ...x.shape]);
  const src = x.f32, dst = out.f32, n = x.size;
  for (let t = 0; t < T; t++) dst.set(src, t * n);
  return out;
}

/**
 * Direct encoding without the T-fold copy: runs `lif` for T steps on the same input x (the output of the first,
 * analog layer — conv + BN — computed ONCE for the static image) and writes every step's outputs.
 *
 * Equivalence: a static image repeated T times (`x.unsqueeze(0).repeat(T, …)` in spikingjelly/Spikformer) gives
 * the same first-layer output y at every step, because that layer has no state and our conv/linear kernels sum each
 * output in a fixed order independent of its row's position. Hence
 *
 *     lif([y, y, …, y])  (T copies, one multi-step call)  ≡  repeatSteps(y, T, lif, out)   bit for bit,
 *
 * since a multi-step LIF equals a loop of single steps (lif.md). The conv is computed once instead of T times,
 * which is also what the energy model charges (4.6 pJ × MACs of one application, see `profile`).
 *
 * Shapes: x [...N] = `lif.neuronShape`; outputs (each optional, as in {@link LIFNode.forward}) have shape
 * [T, ...N]: `spikes` bits, `floats` and `h` f32. Works with a multi-step node (T calls of one step through
 * [1, ...N] views) or a single-step node. The membrane continues from its current state: call `lif.reset()`
 * (or `resetNet`) first for an independent sample. Bit output for a multi-dimensional N needs its last dimension
 * to be a multiple of 32 (a {@link LIFNode} rule).
 * @example
 * conv2d3x3(img, w, y, { bias });                          // y [B, 48, 32, 32]: first conv + folded BN, once
 * const lif0 = new LIFNode(arena, [B, 48, 32, 32]);
 * repeatSteps(y, 4, lif0, { spikes: SpikeTensor.alloc(arena, [4, B, 48, 32, 32]) });
 */
export function repeatSteps(x: Tensor, T: number, lif: LIFNode, out: LIFNodeOutputs): void {
  const op = 'repeatSteps';
  checkSteps(op, T);
  const ns = lif.neuronShape;
  expectTensor(op, 'input', x, 'f32', ns);
  const seq = [T, ...ns];
  if (out.spikes && !sameShape(out.spikes.shape, seq)) throw new ShapeError(`${op}: spikes expected shape ${fmtShape(seq)}, got ${fmtShape(out.spikes.shape)}`);
  if (out.floats) expectTensor(op, 'floats', out.floats, 'f32', seq);
  if (out.h) expectTensor(op, 'h', out.h, 'f32', seq);
  if (!out.spikes && !out.floats && !out.h) throw new ArgumentError(`${op}: give at least one of out.spikes, out.floats, out.h`);
  const single = lif.stepMode === 's';
  const stepShape = single ? ns : [1, ...ns];
  const xs = single ? x : x.reshape(stepShape);
  const core = x.core;
  const n = x.size;
  const wordsPerStep = bitWords(ns); // [T, ...N] packed along the last axis: step t is a contiguous block of words
  for (let t = 0; t < T; t++) {
    const o: LIFNodeOutputs = {};
    if (out.spikes) o.spikes = new SpikeTensor(core.view(out.spikes.bits.ptr + t * wordsPerStep * 4, stepShape, 'bits', `${lif.name}.spikes[${t}]`));
    if (out.floats) o.floats = core.view(out.floats.ptr + t * n * 4, stepShape, 'f32');
    if (out.h) o.h = core.view(out.h.ptr + t * n * 4, stepShape, 'f32');
    lif.forward(xs, o);
  }
}

// ---------------------------------------------------------------- rate encoding

const U32 = 4294967296;

/** MurmurHash3's 32-bit finaliser (a bijection on u32 with fmix32(0) = 0). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna, prng.di.unimi.it/xoshiro128starstar.c): 128-bit state, period 2¹²⁸ − 1,
 * in pure 32-bit integer arithmetic (`Math.imul`, shifts, xor), so every JS engine produces the same stream.
 *
 *     out = rotl(s1 · 5, 7) · 9;   t = s1 << 9;
 *     s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11)
 *
 * From state {1, 2, 3, 4} the first outputs are 11520, 0, 5927040, 70819200, 2031721883 (the reference C code's,
 * as pinned by rand_xoshiro). {@link Xoshiro128StarStar.fromSeed} expands a u32 seed to the state as
 * s_i = fmix32(seed + (i + 1)·0x9E3779B9 mod 2³²), i = 0…3 (MurmurHash3's finaliser over a golden-ratio Weyl
 * sequence; fmix32 is a bijection with fmix32(0) = 0 and the four inputs differ, so the state is never all zero).
 * @example
 * const g = Xoshiro128StarStar.fromSeed(42);
 * g.nextU32();    // 0xa91e1cac
 */
export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator with the given raw state words (u32, not all zero). */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    for (const [i, w] of [s0, s1, s2, s3].entries()) {
      if (!Number.isInteger(w) || w < 0 || w >= U32) throw new ArgumentError(`Xoshiro128StarStar: state word ${i} must be a u32 integer, got ${w}`);
    }
    if ((s0 | s1 | s2 | s3) === 0) throw new ArgumentError('Xoshiro128StarStar: the state must not be all zero');
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** The generator for a u32 seed (integer in [0, 2³²)), state s_i = fmix32(seed + (i + 1)·0x9E3779B9). */
  static fromSeed(seed: number): Xoshiro128StarStar {
    if (!Number.isInteger(seed) || seed < 0 || seed >= U32) throw new ArgumentError(`Xoshiro128StarStar: seed must be an integer in [0, 2^32), got ${seed}`);
    const w = [1, 2, 3, 4].map((k) => fmix32((seed + Math.imul(k, 0x9e3779b9)) | 0));
    return new Xoshiro128StarStar(w[0], w[1], w[2], w[3]);
  }

  /** The next output as a u32 integer in [0, 2³²). */
  nextU32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** The current state words (u32), e.g. to checkpoint a stream: `new Xoshiro128StarStar(...g.state())` resumes it. */
  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }
}

/** Options of {@link RateEncoder}. */
export interface RateEncoderOptions {
  /** Name for tables and errors (default `rate_encoder`). */
  name?: string;
}

/**
 * Rate (Bernoulli / "Poisson") encoding, as spikingjelly's `PoissonEncoder`: each step and element spikes
 * independently with probability p,
 *
 *     s[t, i] = u[t, i] < p[i],    u = k / 2³²,  k the next u32 of a per-instance xoshiro128** stream
 *
 * (exact comparison in float64: p is f32 and k / 2³² a dyadic rational, so the bits are identical in every engine).
 * Draw order: t-major, then the elements of p in row-major order; one draw per (t, i). A T-step call consumes the
 * same stream as T one-step calls, so encoding in chunks gives identical spikes.
 *
 * p [...N] f32 in [0, 1]: p = 0 never spikes, p = 1 always does. Values outside [0, 1] (or NaN) throw an
 * ArgumentError naming the index — they usually mean an input that was normalised with mean/std instead of scaled
 * to [0, 1]; clamp them yourself if that is what you want. (spikingjelly draws u with `torch.rand` and spikes on
 * u ≤ p; with a continuous u the two rules agree with probability 1, and `<` keeps p = 0 silent.)
 *
 * The stream is per instance and is NOT rewound by `reset()`/`resetNet` (the encoder has no `reset`): consecutive
 * samples get fresh noise, reproducible for a fixed seed and sample order. Call {@link reseed} for per-sample
 * streams (e.g. seed = sample index).
 *
 * Output: a {@link SpikeTensor} [T, ...N] (bits) or an f32 tensor [T, ...N] of 0/1.
 * @example
 * const enc = new RateEncoder(1234);
 * enc.encode(pixels01, SpikeTensor.alloc(arena, [8, 1, 784]));   // pixels01 [1, 784] in [0, 1]
 */
export class RateEncoder implements SpikingModule {
  readonly name: string;
  private rng: Xoshiro128StarStar;

  constructor(seed: number, options: RateEncoderOptions = {}) {
    this.name = options.name ?? 'rate_encoder';
    this.rng = Xoshiro128StarStar.fromSeed(seed);
  }

  /** Restarts the stream from {@link Xoshiro128StarStar.fromSeed}(seed). */
  reseed(seed: number): void {
    this.rng = Xoshiro128StarStar.fromSeed(seed);
  }

  /** The generator (e.g. to checkpoint its `state()`). */
  get generator(): Xoshiro128StarStar {
    return this.rng;
  }

  /** Draws out.shape[0] = T steps of spikes for the probabilities p [...N] into out [T, ...N] (bits or f32 0/1). */
  encode(p: Tensor, out: SpikeTensor): SpikeTensor;
  encode(p: Tensor, out: Tensor): Tensor;
  encode(p: Tensor, out: SpikeTensor | Tensor): SpikeTensor | Tensor {
    const op = `${this.name}.encode`;
    expectTensor(op, 'p', p, 'f32', p.shape);
    if (p.shape.length === 0) throw new ShapeError(`${op}: p must have at least one dimension, got []`);
    const oshape = out.shape;
    if (oshape.length !== p.shape.length + 1 || !sameShape(oshape.slice(1), p.shape)) {
      throw new ShapeError(`${op}: output expected shape [T, ${p.shape.join(', ')}], got ${fmtShape(oshape)}`);
    }
    if (!(out instanceof SpikeTensor)) expectTensor(op, 'output', out, 'f32', oshape);
    const pv = p.f32;
    const n = pv.length;
    for (let i = 0; i < n; i++) {
      const v = pv[i];
      if (!(v >= 0 && v <= 1)) throw new ArgumentError(`${op}: p[${i}] = ${v} is outside [0, 1]`);
    }
    const T = oshape[0];
    const rng = this.rng;
    if (!(out instanceof SpikeTensor)) {
      const o = out.f32;
      for (let t = 0, j = 0; t < T; t++) for (let i = 0; i < n; i++, j++) o[j] = rng.nextU32() / U32 < pv[i] ? 1 : 0;
      return out;
    }
    // bits: rows of the last axis, ⌈cols/32⌉ words each; every word is written whole (padding bits stay 0)
    const cols = p.shape[p.shape.length - 1];
    const rows = cols ? n / cols : 0;
    const words = out.bits.data as Uint32Array;
    let w = 0;
    for (let t = 0; t < T; t++) {
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c0 = 0; c0 < cols; c0 += 32, w++) {
          const c1 = Math.min(c0 + 32, cols);
          let word = 0;
          for (let c = c0; c < c1; c++) if (rng.nextU32() / U32 < pv[base + c]) word |= 1 << (c - c0);
          words[w] = word;
        }
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------- event frames (DVS)

/**
 * Events of a DVS recording as parallel arrays (spikingjelly's dict with keys t, x, y, p): event i is at column
 * x[i] ∈ [0, W), row y[i] ∈ [0, H), polarity p[i] ∈ {0, 1} (0 = OFF → channel 0, 1 = ON → channel 1), time t[i]
 * (integer µs in the datasets; needed for splitBy 'time'). Events are in recording order.
 */
export interface DvsEvents {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  p: ArrayLike<number>;
  t?: ArrayLike<number>;
}

/** How events are divided among the T frames: equal event counts (`'number'`) or equal time windows (`'time'`). */
export type SplitBy = 'number' | 'time';

/** Python's float floor division a // b for a ≥ 0, b > 0 (CPython/numpy `divmod`: fmod, then round the quotient). */
function pyFloorDiv(a: number, b: number): number {
  const div = (a - (a % b)) / b;
  const fl = Math.floor(div);
  return div - fl > 0.5 ? fl + 1 : fl;
}

function lowerBound(t: ArrayLike<number>, v: number): number {
  let lo = 0, hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function eventCount(op: string, ev: DvsEvents, needT: boolean): number {
  const N = ev.x.length;
  for (const k of ['y', 'p', 't'] as const) {
    const a = ev[k];
    if (a === undefined) {
      if (k === 't' && needT) throw new ArgumentError(`${op}: events.t is required for splitBy 'time'`);
      continue;
    }
    if (a.length !== N) throw new ShapeError(`${op}: events.${k} has ${a.length} entries, events.x has ${N}`);
  }
  return N;
}

function checkTimes(op: string, t: ArrayLike<number>): void {
  for (let i = 0; i < t.length; i++) {
    if (!Number.isFinite(t[i])) throw new ArgumentError(`${op}: events.t[${i}] = ${t[i]} is not a finite number`);
    if (i > 0 && t[i] < t[i - 1]) {
      throw new ArgumentError(`${op}: events.t[${i}] = ${t[i]} < events.t[${i - 1}] = ${t[i - 1]} (timestamps must be non-decreasing for splitBy 'time')`);
    }
  }
}

/**
 * The event index range [start[j], end[j]) of each frame j < T, exactly spikingjelly's
 * `cal_fixed_frames_number_segment_index(t, split_by, T)` (spikingjelly/datasets/__init__.py):
 *
 * - `'number'`: with d = ⌊N/T⌋, start[j] = j·d, end[j] = (j+1)·d, and end[T−1] = N (the last frame takes the
 *   remainder N mod T; with N < T every event lands in the last frame). Timestamps are not used.
 * - `'time'`: with Δ = (t[N−1] − t[0]) // T (Python floor division), t_l = Δ·j + t[0], t_r = t_l + Δ:
 *   start[j] = first k with t[k] ≥ t_l, end[j] = first k with t[k] ≥ t_r, and end[T−1] = N (events at or after
 *   t[0] + T·Δ go to the last frame). Timestamps must be non-decreasing. Where spikingjelly raises IndexError on a
 *   window without events, this returns an empty range (a zero frame).
 *
 * N = 0 gives T empty ranges.
 * @example frameSegments({ x, y, p, t }, 'number', 16)   // { start: [...16], end: [...16] }
 */
export function frameSegments(events: DvsEvents, splitBy: SplitBy, T: number): { start: number[]; end: number[] } {
  const op = 'frameSegments';
  checkSteps(op, T);
  if (splitBy !== 'number' && splitBy !== 'time') throw new ArgumentError(`${op}: splitBy must be 'number' or 'time', got ${String(splitBy)}`);
  const N = eventCount(op, events, splitBy === 'time');
  const start = new Array<number>(T).fill(0), end = new Array<number>(T).fill(0);
  if (N === 0) return { start, end };
  if (splitBy === 'number') {
    const d = Math.floor(N / T);
    for (let j = 0; j < T; j++) {
      start[j] = j * d;
      end[j] = start[j] + d;
    }
  } else {
    const t = events.t!;
    checkTimes(op, t);
    const dt = pyFloorDiv(t[N - 1] - t[0], T);
    for (let j = 0; j < T; j++) {
      const tl = dt * j + t[0];
      start[j] = lowerBound(t, tl);
      end[j] = Math.max(start[j], lowerBound(t, tl + dt));
    }
  }
  end[T - 1] = N;
  return { start, end };
}

/**
 * Integrates DVS events into T frames of event counts, spikingjelly's
 * `integrate_events_by_fixed_frames_number(events, split_by, T, H, W)` (the CIFAR10-DVS / DVS128 Gesture input of
 * Spikformer, spikformer.md §2: counts, not binary spikes):
 *
 *     out[j, c, y, x] = #{ i ∈ [start[j], end[j]) : p_i = c, y_i = y, x_i = x }
 *
 * with the ranges of {@link frameSegments}. out f32 [T, 2, H, W] (T, H and W are read from its shape; counts are
 * exact up to 2²⁴ per pixel) is overwritten. For a batch [T, B, 2, H, W], write each sample through a view of
 * its slot. Inputs are checked before anything is written: field lengths (ShapeError), x, y integer coordinates in
 * range, p ∈ {0, 1} (datasets with ±1 polarity must map −1 → 0; spikingjelly would silently put −1 in channel 1),
 * and for 'time' finite, non-decreasing timestamps (ArgumentError naming the field and index).
 * @example
 * const frames = arena.tensor([16, 2, 128, 128]);      // CIFAR10-DVS, T = 16
 * eventFrames({ x, y, p, t }, 'number', frames);
 */
export function eventFrames(events: DvsEvents, splitBy: SplitBy, out: Tensor): Tensor {
  const op = 'eventFrames';
  if (out.shape.length !== 4 || out.shape[1] !== 2) throw new ShapeError(`${op}: output expected shape [T, 2, H, W], got ${fmtShape(out.shape)}`);
  expectTensor(op, 'output', out, 'f32', out.shape);
  const [T, , H, W] = out.shape;
  const N = eventCount(op, events, splitBy === 'time');
  const { x, y, p } = events;
  for (let i = 0; i < N; i++) {
    const xi = x[i], yi = y[i], pi = p[i];
    if (!Number.isInteger(xi) || xi < 0 || xi >= W) throw new ArgumentError(`${op}: events.x[${i}] = ${xi} is outside [0, ${W})`);
    if (!Number.isInteger(yi) || yi < 0 || yi >= H) throw new ArgumentError(`${op}: events.y[${i}] = ${yi} is outside [0, ${H})`);
    if (pi !== 0 && pi !== 1) throw new ArgumentError(`${op}: events.p[${i}] = ${pi}, expected 0 or 1`);
  }
  if (splitBy !== 'number' && splitBy !== 'time') throw new ArgumentError(`${op}: splitBy must be 'number' or 'time', got ${String(splitBy)}`);
  if (splitBy === 'time') checkTimes(op, events.t!);
  const f = out.f32;
  f.fill(0);
  if (T === 0) return out;
  const { start, end } = frameSegments(events, splitBy, T);
  const plane = H * W;
  for (let j = 0; j < T; j++) {
    const base = j * 2 * plane;
    for (let i = start[j]; i < end[j]; i++) f[base + p[i] * plane + y[i] * W + x[i]] += 1;
  }
  return out;
}
