// Ops check, kernels compute: each op validates shapes, dtypes and ranges, then calls one Wasm kernel of the core's
// backend. Ops never allocate Wasm memory: outputs are tensors the caller allocated once (Arena).
import { ArgumentError, DTypeError, ShapeError, fmtShape } from './errors.js';
import type { Arena, DType, Tensor } from './core.js';

type Dim = number | null;

/** Checks a tensor's dtype and shape (null = any size) and returns it; throws naming the op and the tensor. */
export function expectTensor(op: string, role: string, t: Tensor, dtype: DType, shape: readonly Dim[]): Tensor {
  // the checks allocate nothing on success (ops run per frame when streaming); messages are built only on failure
  if (t.dtype !== dtype) throw new DTypeError(`${labelOf(op, role, t)} must be ${dtype}, got ${t.dtype}`);
  let ok = t.shape.length === shape.length;
  for (let i = 0; ok && i < shape.length; i++) ok = shape[i] === null || shape[i] === t.shape[i];
  if (!ok) {
    const exp = `[${shape.map((d) => (d === null ? '*' : d)).join(', ')}]`;
    throw new ShapeError(`${labelOf(op, role, t)} expected shape ${exp}, got ${fmtShape(t.shape)}`);
  }
  return t;
}

function labelOf(op: string, role: string, t: Tensor): string {
  return `${op}: ${role}${t.name && t.name !== 'tensor' && t.name !== role ? ` ("${t.name}")` : ''}`;
}

/** Throws unless every given tensor lives in the first one's Wasm instance (no rest array: called per op). */
function sameCore(op: string, a: Tensor, b?: Tensor, c?: Tensor, d?: Tensor, e?: Tensor, f?: Tensor): void {
  const k = a.core;
  if ((b && b.core !== k) || (c && c.core !== k) || (d && d.core !== k) || (e && e.core !== k) || (f && f.core !== k)) {
    throw new ArgumentError(`${op}: tensors come from different Wasm instances`);
  }
}

function rank(op: string, role: string, t: Tensor, min: number): void {
  if (t.shape.length < min) throw new ShapeError(`${op}: ${role} expected rank ≥ ${min}, got shape ${fmtShape(t.shape)}`);
}

/** The product of a[from .. to) (a loop: no slice, no closure). */
function prod(a: readonly number[], from = 0, to = a.length): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= a[i];
  return p;
}

/**
 * {@link expectTensor} against the shape [a, b, c, d] cut to `rank` dims (null = any size), without building that array
 * unless the check fails (then expectTensor throws its usual error).
 */
function expectShape(op: string, role: string, t: Tensor, dtype: DType, rank: number, a: Dim, b: Dim = null, c: Dim = null, d: Dim = null): Tensor {
  const s = t.shape;
  const ok = t.dtype === dtype && s.length === rank
    && (rank < 1 || a === null || s[0] === a) && (rank < 2 || b === null || s[1] === b)
    && (rank < 3 || c === null || s[2] === c) && (rank < 4 || d === null || s[3] === d);
  if (!ok) expectTensor(op, role, t, dtype, [a, b, c, d].slice(0, rank));
  return t;
}

/**
 * {@link expectTensor} against [...ref[0 .. lead), a] (or [..., a, b] when b is given), without building that array
 * unless the check fails.
 */
function expectLead(op: string, role: string, t: Tensor, dtype: DType, ref: readonly number[], lead: number, a: number, b?: number): Tensor {
  const s = t.shape, trail = b === undefined ? 1 : 2;
  let ok = t.dtype === dtype && s.length === lead + trail && s[lead] === a && (b === undefined || s[lead + 1] === b);
  for (let i = 0; ok && i < lead; i++) ok = s[i] === ref[i];
  if (!ok) expectTensor(op, role, t, dtype, b === undefined ? [...ref.slice(0, lead), a] : [...ref.slice(0, lead), a, b]);
  return t;
}

/** {@link expectTensor} against ref with axis `skip` removed (skip = −1: none), without building that array unless it fails. */
function expectSkip(op: string, role: string, t: Tensor, dtype: DType, ref: readonly number[], skip: number): Tensor {
  const s = t.shape, n = skip < 0 ? ref.length : ref.length - 1;
  let ok = t.dtype === dtype && s.length === n;
  for (let i = 0, j = 0; ok && i < ref.length; i++) if (i !== skip) ok = s[j++] === ref[i];
  if (!ok) expectTensor(op, role, t, dtype, ref.filter((_, i) => i !== skip));
  return t;
}

/** Shared default of the options arguments (a default `= {}` would allocate an object per call). */
const NO_OPTIONS: Readonly<Record<never, never>> = Object.freeze({});

// ---------------------------------------------------------------- dense

/** Weights of a linear layer packed for the GEMM kernels (panels of 8 outputs). */
export interface PackedDense {
  readonly packed: Tensor;
  /** N: output features. */
  readonly outFeatures: number;
  /** K: input features. */
  readonly inFeatures: number;
}

/**
 * Packs a PyTorch linear weight W [N, K] (row-major) into panels of 8 outputs: packed[(p·K + k)·8 + c] = W[8p+c, k].
 * Done once per model; every dense kernel reads this layout.
 */
export function packDense(arena: Arena, weight: ArrayLike<number>, outFeatures: number, inFeatures: number, name = 'weight'): PackedDense {
  if (weight.length !== outFeatures * inFeatures) {
    throw new ShapeError(`packDense: ${name} expected ${outFeatures}×${inFeatures} = ${outFeatures * inFeatures} values, got ${weight.length}`);
  }
  const panels = Math.ceil(outFeatures / 8);
  const packed: PackedDense = { packed: arena.tensor([panels, inFeatures, 8], 'f32', `${name} (packed)`), outFeatures, inFeatures };
  return repackDense(packed, weight, name);
}

/**
 * Writes new values W [N, K] into already packed weights, in place (no allocation): for training loops, or to swap
 * the weights of a built model. Padding columns of the last panel stay zero.
 * @example repackDense(model.lmu.wH, newWeights)
 */
export function repackDense(w: PackedDense, weight: ArrayLike<number>, name = 'weight'): PackedDense {
  const { outFeatures: N, inFeatures: K } = w;
  if (weight.length !== N * K) throw new ShapeError(`repackDense: ${name} expected ${N}×${K} = ${N * K} values, got ${weight.length}`);
  const d = w.packed.f32;
  for (let n = 0; n < N; n++) {
    const base = (n >> 3) * K * 8 + (n & 7);
    for (let k = 0; k < K; k++) d[base + k * 8] = weight[n * K + k];
  }
  return w;
}

export interface DenseOptions {
  /** Bias [N] (f32). */
  bias?: Tensor;
  /** Apply ReLU after the bias. */
  relu?: boolean;
}

function checkBias(op: string, bias: Tensor | undefined, n: number): number {
  if (!bias) return 0;
  expectShape(op, 'bias', bias, 'f32', 1, n);
  return bias.ptr;
}

/**
 * y = x Wᵀ + b (optionally ReLU) for x [..., K] → out [..., N]; all leading dims are rows of one GEMM.
 * Every output is summed in ascending k in float32 (mul then add), so scalar and SIMD paths agree bit for bit.
 * @example linear(x, packDense(arena, w, 256, 128), y, { bias })
 */
export function linear(x: Tensor, w: PackedDense, out: Tensor, opts: DenseOptions = NO_OPTIONS): Tensor {
  const op = 'linear';
  rank(op, 'input', x, 1);
  const lead = x.shape.length - 1;
  expectLead(op, 'input', x, 'f32', x.shape, lead, w.inFeatures);
  expectLead(op, 'output', out, 'f32', x.shape, lead, w.outFeatures);
  sameCore(op, x, w.packed, out, opts.bias);
  const b = checkBias(op, opts.bias, w.outFeatures);
  const M = prod(x.shape, 0, lead);
  const core = x.core;
  if (M === 1) core.kernel('gemv')(x.ptr, w.packed.ptr, b, out.ptr, w.outFeatures, w.inFeatures, opts.relu ? 1 : 0);
  else core.kernel('gemm')(x.ptr, w.inFeatures, w.packed.ptr, b, out.ptr, w.outFeatures, M, w.outFeatures, w.inFeatures, opts.relu ? 1 : 0);
  return out;
}

/**
 * The same layer on binary inputs bit-packed along K: adds the weight rows of the set bits, no multiplications.
 * Bit for bit equal to {@link linear} on the 0/1 floats.
 */
export function linearSpike(x: Tensor, w: PackedDense, out: Tensor, opts: DenseOptions = NO_OPTIONS): Tensor {
  const op = 'linearSpike';
  rank(op, 'input', x, 1);
  const lead = x.shape.length - 1;
  expectLead(op, 'input', x, 'bits', x.shape, lead, w.inFeatures);
  expectLead(op, 'output', out, 'f32', x.shape, lead, w.outFeatures);
  sameCore(op, x, w.packed, out, opts.bias);
  const b = checkBias(op, opts.bias, w.outFeatures);
  x.core.kernel('gemmSpike')(x.ptr, Math.ceil(w.inFeatures / 32), w.packed.ptr, b, out.ptr, w.outFeatures, prod(x.shape, 0, lead), w.outFeatures, w.inFeatures, opts.relu ? 1 : 0);
  return out;
}

/**
 * A dense layer over sliding windows of frames: row r of the (virtual) input matrix is the `span` consecutive
 * frames x[first + r .. first + r + span) of x [R, C] concatenated (K = span·C), for r < count; out [count, N].
 * No copy is made: the GEMM reads overlapping rows (stride C). This is how a k-tap convolution over time runs as
 * one GEMM in the frame-major layout: zero-pad the frames, pack W[co, ci, j] as W'[co, j·C + ci]
 * ({@link packConv1dAsDense}) and use span = k. With x of dtype `bits` (C a multiple of 32, so frames start on word
 * boundaries) the spike-input kernel runs; results equal the f32 path bit for bit.
 * @example linearWindows(paddedFrames, 0, L, 3, packConv1dAsDense(arena, w, Cout, C, 3), out) // [L+2, C] → [L, Cout]
 */
export function linearWindows(x: Tensor, first: number, count: number, span: number, w: PackedDense, out: Tensor, opts: DenseOptions = NO_OPTIONS): Tensor {
  const op = 'linearWindows';
  rank(op, 'input', x, 2);
  const R = x.shape[0], C = x.shape[1];
  const spike = x.dtype === 'bits';
  expectShape(op, 'input', x, spike ? 'bits' : 'f32', 2, R, C);
  checkIndex(op, 'first', first, 0);
  checkIndex(op, 'count', count, 1);
  checkIndex(op, 'span', span, 1);
  if (first + count - 1 + span > R) throw new ShapeError(`${op}: windows up to frame ${first + count - 1 + span} exceed the input's ${R} frames`);
  if (w.inFeatures !== span * C) throw new ShapeError(`${op}: weight expects ${w.inFeatures} inputs, windows of ${span} × ${C} give ${span * C}`);
  if (spike && C % 32 !== 0) throw new ShapeError(`${op}: bit-packed frames need C to be a multiple of 32, got ${C}`);
  expectShape(op, 'output', out, 'f32', 2, count, w.outFeatures);
  sameCore(op, x, w.packed, out, opts.bias);
  const b = checkBias(op, opts.bias, w.outFeatures);
  const relu = opts.relu ? 1 : 0;
  if (spike) {
    const words = C / 32;
    x.core.kernel('gemmSpike')(x.ptr + first * words * 4, words, w.packed.ptr, b, out.ptr, w.outFeatures, count, w.outFeatures, w.inFeatures, relu);
  } else {
    x.core.kernel('gemm')(x.ptr + first * C * 4, C, w.packed.ptr, b, out.ptr, w.outFeatures, count, w.outFeatures, w.inFeatures, relu);
  }
  return out;
}

function checkIndex(op: string, k: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new ArgumentError(`${op}: ${k} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Packs a conv1d weight W [Cout, Cin, k] (PyTorch layout) as a dense layer over windows of k frames:
 * W'[co, j·Cin + ci] = W[co, ci, j], for {@link linearWindows}.
 */
export function packConv1dAsDense(arena: Arena, weight: ArrayLike<number>, outChannels: number, inChannels: number, kernelSize: number, name = 'conv weight'): PackedDense {
  if (weight.length !== outChannels * inChannels * kernelSize) {
    throw new ShapeError(`packConv1dAsDense: ${name} expected ${outChannels}×${inChannels}×${kernelSize} values, got ${weight.length}`);
  }
  const K = inChannels * kernelSize;
  const flat = new Float32Array(outChannels * K);
  for (let co = 0; co < outChannels; co++) {
    for (let ci = 0; ci < inChannels; ci++) {
      for (let j = 0; j < kernelSize; j++) flat[co * K + j * inChannels + ci] = weight[(co * inChannels + ci) * kernelSize + j];
    }
  }
  return packDense(arena, flat, outChannels, K, name);
}

// ---------------------------------------------------------------- conv

/**
 * conv1d, stride 1, zero padding (k−1)/2, k ∈ {1, 3}: x [B, Cin, L], weight [Cout, Cin, k] (PyTorch layout),
 * out [B, Cout, L]. With x of dtype `bits` (packed along L) the spike-input path adds weights where a spike is set.
 */
export function conv1d(x: Tensor, weight: Tensor, out: Tensor, opts: DenseOptions = NO_OPTIONS): Tensor {
  const op = 'conv1d';
  rank(op, 'input', x, 3);
  rank(op, 'weight', weight, 3);
  const B = x.shape[0], Cin = x.shape[1], L = x.shape[2];
  const Cout = weight.shape[0], K = weight.shape[2];
  if (K !== 1 && K !== 3) throw new ArgumentError(`${op}: kernel size must be 1 or 3, weight has shape ${fmtShape(weight.shape)}`);
  const spike = x.dtype === 'bits';
  expectShape(op, 'input', x, spike ? 'bits' : 'f32', 3, B, Cin, L);
  expectShape(op, 'weight', weight, 'f32', 3, Cout, Cin, K);
  expectShape(op, 'output', out, 'f32', 3, B, Cout, L);
  sameCore(op, x, weight, out, opts.bias);
  const b = checkBias(op, opts.bias, Cout);
  x.core.kernel(spike ? 'conv1dSpike' : 'conv1d')(x.ptr, weight.ptr, b, out.ptr, B, Cin, Cout, L, K, opts.relu ? 1 : 0);
  return out;
}

/**
 * conv2d 3×3, stride 1, padding 1: x [B, Cin, H, W], weight [Cout, Cin, 3, 3], out [B, Cout, H, W]. With x of dtype
 * `bits` (packed along W) the spike-input path adds weights where a spike is set.
 */
export function conv2d3x3(x: Tensor, weight: Tensor, out: Tensor, opts: DenseOptions = NO_OPTIONS): Tensor {
  const op = 'conv2d3x3';
  rank(op, 'input', x, 4);
  rank(op, 'weight', weight, 4);
  const B = x.shape[0], Cin = x.shape[1], H = x.shape[2], W = x.shape[3];
  const Cout = weight.shape[0];
  const spike = x.dtype === 'bits';
  expectShape(op, 'input', x, spike ? 'bits' : 'f32', 4, B, Cin, H, W);
  expectShape(op, 'weight', weight, 'f32', 4, Cout, Cin, 3, 3);
  expectShape(op, 'output', out, 'f32', 4, B, Cout, H, W);
  sameCore(op, x, weight, out, opts.bias);
  const b = checkBias(op, opts.bias, Cout);
  x.core.kernel(spike ? 'conv2d3x3Spike' : 'conv2d3x3')(x.ptr, weight.ptr, b, out.ptr, B, Cin, Cout, H, W, opts.relu ? 1 : 0);
  return out;
}

// ---------------------------------------------------------------- batch norm, activations

/** Batch-norm parameters as stored in a state_dict (eval mode). */
export interface BatchNormParams {
  weight: ArrayLike<number>;
  bias: ArrayLike<number>;
  runningMean: ArrayLike<number>;
  runningVar: ArrayLike<number>;
  /** Default 1e-5. */
  eps?: number;
}

/**
 * Per-channel affine form of eval-mode batch norm, computed in float64 and rounded once:
 * scale = weight / √(running_var + eps), shift = bias − running_mean · scale; y = x·scale + shift.
 */
export function batchNormAffine(bn: BatchNormParams): { scale: Float32Array; shift: Float32Array } {
  const C = bn.weight.length;
  for (const [k, v] of [['bias', bn.bias], ['running_mean', bn.runningMean], ['running_var', bn.runningVar]] as const) {
    if (v.length !== C) throw new ShapeError(`batchNorm: ${k} expected [${C}] (weight's length), got [${v.length}]`);
  }
  const eps = bn.eps ?? 1e-5;
  const scale = new Float32Array(C);
  const shift = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const s = bn.weight[c] / Math.sqrt(bn.runningVar[c] + eps);
    scale[c] = s;
    shift[c] = bn.bias[c] - bn.runningMean[c] * s;
  }
  return { scale, shift };
}

/**
 * Folds an eval-mode batch norm into the PRECEDING conv/linear (weight [Cout, ...], optional bias [Cout]):
 * W' = W·scale[co], b' = b·scale + shift, in float64, rounded once. Exact up to that rounding; only valid when
 * nothing (ReLU, padding of a later layer) sits between the layer and the BN.
 */
export function foldBatchNorm(weight: ArrayLike<number>, bias: ArrayLike<number> | null, bn: BatchNormParams): { weight: Float32Array; bias: Float32Array } {
  const C = bn.weight.length;
  if (weight.length % C !== 0) throw new ShapeError(`foldBatchNorm: weight has ${weight.length} values, not a multiple of the ${C} BN channels`);
  if (bias && bias.length !== C) throw new ShapeError(`foldBatchNorm: bias expected [${C}], got [${bias.length}]`);
  const per = weight.length / C;
  const eps = bn.eps ?? 1e-5;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const s = bn.weight[c] / Math.sqrt(bn.runningVar[c] + eps);
    for (let k = 0; k < per; k++) w[c * per + k] = weight[c * per + k] * s;
    b[c] = ((bias ? bias[c] : 0) - bn.runningMean[c]) * s + bn.bias[c];
  }
  return { weight: w, bias: b };
}

/**
 * y = x·scale[c] + shift[c] (optionally ReLU) over channel axis `axis` of x (in place allowed: out may be x).
 * scale/shift: f32 tensors [C], e.g. from {@link batchNormAffine}.
 */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, out: Tensor, axis: number, opts: { relu?: boolean } = NO_OPTIONS): Tensor {
  const op = 'channelAffine';
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) throw new ArgumentError(`${op}: axis ${axis} out of range for input shape ${fmtShape(x.shape)}`);
  const C = x.shape[axis];
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectShape(op, 'scale', scale, 'f32', 1, C);
  expectShape(op, 'shift', shift, 'f32', 1, C);
  expectTensor(op, 'output', out, 'f32', x.shape);
  sameCore(op, x, scale, shift, out);
  x.core.kernel('affine')(x.ptr, out.ptr, prod(x.shape, 0, axis), C, prod(x.shape, axis + 1), scale.ptr, shift.ptr, opts.relu ? 1 : 0);
  return out;
}

function unary(op: string, kernel: 'relu' | 'gelu', x: Tensor, out: Tensor): Tensor {
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectTensor(op, 'output', out, 'f32', x.shape);
  sameCore(op, x, out);
  x.core.kernel(kernel)(x.ptr, out.ptr, x.size);
  return out;
}

/** out = a + b element-wise (float32, one rounding), e.g. the residual add of a spiking block. In place allowed. */
export function add(a: Tensor, b: Tensor, out: Tensor): Tensor {
  const op = 'add';
  expectTensor(op, 'a', a, 'f32', a.shape);
  expectTensor(op, 'b', b, 'f32', a.shape);
  expectTensor(op, 'output', out, 'f32', a.shape);
  sameCore(op, a, b, out);
  a.core.kernel('add')(a.ptr, b.ptr, out.ptr, a.size);
  return out;
}

/** ReLU, max(x, 0) (NaN propagates). In place allowed. */
export function relu(x: Tensor, out: Tensor): Tensor {
  return unary('relu', 'relu', x, out);
}

/** GELU, exact erf form: 0.5·x·(1 + erf(x/√2)), evaluated in float64 (erf/erfc minimax fits, ≤ 1e-11) and rounded once: within 0.5001 ulp of the true value. In place allowed. */
export function gelu(x: Tensor, out: Tensor): Tensor {
  return unary('gelu', 'gelu', x, out);
}

// ---------------------------------------------------------------- pooling, means

/** Output size of a 3×3 stride-2 pad-1 pool: ⌊(n − 1)/2⌋ + 1. */
export const pool3x3s2Size = (n: number): number => ((n - 1) >> 1) + 1;

/**
 * 3×3 max-pool, stride 2, padding 1 (ceil_mode off) over the last two axes: x [..., H, W] → out [..., Ho, Wo].
 * With x of dtype `bits` it is the OR of the window (max of spikes), on packed words.
 */
export function maxPool3x3s2(x: Tensor, out: Tensor): Tensor {
  const op = 'maxPool3x3s2';
  rank(op, 'input', x, 2);
  const lead = x.shape.length - 2;
  const H = x.shape[lead], W = x.shape[lead + 1];
  const spike = x.dtype === 'bits';
  expectTensor(op, 'input', x, spike ? 'bits' : 'f32', x.shape);
  expectLead(op, 'output', out, spike ? 'bits' : 'f32', x.shape, lead, pool3x3s2Size(H), pool3x3s2Size(W));
  sameCore(op, x, out);
  x.core.kernel(spike ? 'orPool3x3s2' : 'maxPool3x3s2')(x.ptr, out.ptr, prod(x.shape, 0, lead), H, W);
  return out;
}

/** Mean over one axis: x [..., n, ...] → out with that axis removed. Sums in ascending order in float32, then ÷ n. */
export function meanAxis(x: Tensor, axis: number, out: Tensor): Tensor {
  const op = 'meanAxis';
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) throw new ArgumentError(`${op}: axis ${axis} out of range for input shape ${fmtShape(x.shape)}`);
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectSkip(op, 'output', out, 'f32', x.shape, axis);
  sameCore(op, x, out);
  x.core.kernel('meanAxis')(x.ptr, out.ptr, prod(x.shape, 0, axis), x.shape[axis], prod(x.shape, axis + 1));
  return out;
}

// ---------------------------------------------------------------- LIF

/** LIF parameters (spikingjelly names and defaults). */
export interface LIFParams {
  /** Membrane time constant τ (default 2). */
  tau?: number;
  /** Firing threshold V_th (default 1). */
  vThreshold?: number;
  /** Hard-reset potential V_reset (default 0). */
  vReset?: number;
  /** h = v + (x − (v − v_reset))/τ when true (default), else h = v − (v − v_reset)/τ + x. */
  decayInput?: boolean;
}

/** Where the LIF writes; each optional, at least one required. */
export interface LIFOutputs {
  /** f32 [T, ...N] of 1/0. */
  spikes?: Tensor;
  /** bits [T, ...N] packed along the last axis of each step's [N] slice. */
  bits?: Tensor;
  /** f32 [T, ...N]: the charged potential h before firing (margin = h − V_th). */
  h?: Tensor;
}

/**
 * LIF (shared/spec/lif.md) with the membrane `v` [...N] as state, read and updated in place (keep it between calls
 * to stream; fill it with V_reset to reset). Multi-step: x [T, ...N]; single-step: x [...N] (the same shape as v).
 * Per element in float32, in this order: h = v + (x − (v − V_reset))/τ; s = h ≥ V_th; v = s ? V_reset : h. A T-step
 * call equals T one-step calls bit for bit. Outputs have x's shape, except `bits`: [T, N] (multi-step) or [N]
 * (single-step), packed per step over the flattened neurons.
 * @example lif(x, v, { bits }, { vThreshold: 0.5 })
 */
export function lif(x: Tensor, v: Tensor, outputs: LIFOutputs, params: LIFParams = NO_OPTIONS): void {
  const op = 'lif';
  rank(op, 'input', x, 1);
  let single = x.shape.length === v.shape.length;
  for (let i = 0; single && i < x.shape.length; i++) single = x.shape[i] === v.shape[i];
  const T = single ? 1 : x.shape[0];
  const N = prod(x.shape, single ? 0 : 1);
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectSkip(op, 'state v', v, 'f32', x.shape, single ? -1 : 0);
  if (!outputs.spikes && !outputs.bits && !outputs.h) throw new ArgumentError(`${op}: give at least one of outputs.spikes, outputs.bits, outputs.h`);
  if (outputs.spikes) expectTensor(op, 'spikes', outputs.spikes, 'f32', x.shape);
  if (outputs.h) expectTensor(op, 'h', outputs.h, 'f32', x.shape);
  if (outputs.bits) expectShape(op, 'bits', outputs.bits, 'bits', single ? 1 : 2, single ? N : T, N);
  sameCore(op, x, v, outputs.spikes, outputs.bits, outputs.h);
  const tau = params.tau ?? 2;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new ArgumentError(`${op}: tau must be a positive finite number, got ${tau}`);
  const vth = params.vThreshold ?? 1;
  const vr = params.vReset ?? 0;
  if (!Number.isFinite(vth) || !Number.isFinite(vr)) throw new ArgumentError(`${op}: vThreshold and vReset must be finite, got ${vth}, ${vr}`);
  // 1/τ exact (τ a power of two, e.g. the models' τ = 2): multiply, which gives the same bits as dividing
  const inv = 1 / tau;
  const invTau = Math.fround(tau) === tau && Number.isInteger(Math.log2(tau)) && Math.abs(Math.log2(tau)) < 100 ? inv : 0;
  x.core.kernel('lif')(x.ptr, v.ptr, T, N, tau, invTau, vth, vr, params.decayInput === false ? 0 : 1,
    outputs.spikes?.ptr ?? 0, outputs.bits?.ptr ?? 0, outputs.h?.ptr ?? 0);
}

// ---------------------------------------------------------------- LMU

/**
 * One LMU recurrence step for a batch: out = m Āᵀ + u B̄ᵀ, i.e. out[b] = Ā m[b] + B̄ u[b] (m [B, d], u [B],
 * Ā packed with {@link packDense} as a d×d layer, B̄ [d]). out must not alias m.
 */
export function lmuStep(m: Tensor, aPacked: PackedDense, bBar: Tensor, u: Tensor, out: Tensor): Tensor {
  const op = 'lmuStep';
  const d = aPacked.outFeatures;
  if (aPacked.inFeatures !== d) throw new ShapeError(`${op}: Ā must be square, got ${d}×${aPacked.inFeatures}`);
  rank(op, 'memory m', m, 2);
  const B = m.shape[0];
  expectShape(op, 'memory m', m, 'f32', 2, B, d);
  expectShape(op, 'B̄', bBar, 'f32', 1, d);
  expectShape(op, 'input u', u, 'f32', 1, B);
  expectShape(op, 'output', out, 'f32', 2, B, d);
  if (out.ptr === m.ptr) throw new ArgumentError(`${op}: output must not alias the memory m (double-buffer them)`);
  sameCore(op, m, aPacked.packed, bBar, u, out);
  linear(m, aPacked, out);
  m.core.kernel('rank1Add')(out.ptr, d, bBar.ptr, u.ptr, B, d);
  return out;
}

/**
 * FIR (parallel) LMU memory over whole sequences: out[b, t, :] = Σ_{s ≤ t} u[b, s]·H[:, t−s] for t < L, with
 * Ht = Hᵀ [L, d] (row i = Āⁱ B̄). u [B, L]; out [B, L, d] or, to leave room for a concatenation such as [m ; x],
 * [B, L, D] with D ≥ d (memory in the first d columns). Equal bit for bit to {@link lmuFirStep} at every t.
 */
export function lmuFir(u: Tensor, ht: Tensor, out: Tensor): Tensor {
  const op = 'lmuFir';
  rank(op, 'input u', u, 2);
  rank(op, 'Ht', ht, 2);
  const B = u.shape[0], L = u.shape[1];
  const Lh = ht.shape[0], d = ht.shape[1];
  expectShape(op, 'input u', u, 'f32', 2, B, L);
  if (L > Lh) throw new ShapeError(`${op}: sequence length ${L} exceeds the ${Lh} rows of Ht (the FIR window)`);
  expectShape(op, 'Ht', ht, 'f32', 2, Lh, d);
  rank(op, 'output', out, 3);
  const D = out.shape[2];
  expectShape(op, 'output', out, 'f32', 3, B, L, D);
  if (D < d) throw new ShapeError(`${op}: output rows hold ${D} values, fewer than d = ${d}`);
  sameCore(op, u, ht, out);
  const k = u.core.kernel('lmuFir');
  for (let b = 0; b < B; b++) k(u.ptr + b * L * 4, 0, L, ht.ptr, d, out.ptr + b * L * D * 4, D);
  return out;
}

/**
 * Streaming FIR step: m = Σ_{j<n} window[j]·H[:, n−1−j] over the last n ≤ L inputs, oldest first
 * (window [n] of a [≥n] buffer), written to out [d]. Equals row n−1 of {@link lmuFir} on the same inputs.
 */
export function lmuFirStep(window: Tensor, n: number, ht: Tensor, out: Tensor): Tensor {
  const op = 'lmuFirStep';
  rank(op, 'Ht', ht, 2);
  const Lh = ht.shape[0], d = ht.shape[1];
  if (!Number.isInteger(n) || n < 1 || n > Lh) throw new ArgumentError(`${op}: n must be an integer in [1, ${Lh}], got ${n}`);
  expectShape(op, 'window', window, 'f32', 1, window.shape[0]);
  if (window.shape[0] < n) throw new ShapeError(`${op}: window holds ${window.shape[0]} inputs, fewer than n = ${n}`);
  expectShape(op, 'output', out, 'f32', 1, d);
  sameCore(op, window, ht, out);
  window.core.kernel('lmuFir')(window.ptr, n - 1, n, ht.ptr, d, out.ptr, d);
  return out;
}

// ---------------------------------------------------------------- spikes and spiking attention

/** Packs 0/1 floats (any non-zero is a spike) x [..., cols] → bits [..., cols]. */
export function packSpikes(x: Tensor, out: Tensor): Tensor {
  const op = 'packSpikes';
  rank(op, 'input', x, 1);
  expectTensor(op, 'input', x, 'f32', x.shape);
  expectTensor(op, 'output', out, 'bits', x.shape);
  sameCore(op, x, out);
  const cols = x.shape[x.shape.length - 1];
  x.core.kernel('packBits')(x.ptr, x.size / Math.max(cols, 1), cols, cols, out.ptr);
  return out;
}

/** Checks x [rows, stride] and the column block; returns nothing (callers read rows and stride from x.shape). */
function checkColumns(op: string, x: Tensor, col0: number, cols: number): void {
  rank(op, 'input', x, 2);
  const stride = x.shape[1];
  expectShape(op, 'input', x, 'f32', 2, x.shape[0], stride);
  if (!Number.isInteger(col0) || !Number.isInteger(cols) || col0 < 0 || cols < 0 || col0 + cols > stride) {
    throw new ArgumentError(`${op}: columns [${col0}, ${col0 + cols}) outside the input's ${stride} columns`);
  }
}

/**
 * Packs a column block of x [rows, stride] transposed: out bits [cols, rows], bit r of row c = x[r, col0 + c] ≠ 0.
 * Used for Kᵀ and Vᵀ of one attention head (columns packed over tokens).
 */
export function packSpikesTransposed(x: Tensor, col0: number, cols: number, out: Tensor): Tensor {
  const op = 'packSpikesTransposed';
  checkColumns(op, x, col0, cols);
  const rows = x.shape[0], stride = x.shape[1];
  expectShape(op, 'output', out, 'bits', 2, cols, rows);
  sameCore(op, x, out);
  x.core.kernel('packBitsT')(x.ptr + col0 * 4, rows, cols, stride, out.ptr);
  return out;
}

/** Packs a column block of x [rows, stride] row-wise: out bits [rows, cols] from columns [col0, col0 + cols). */
export function packSpikesColumns(x: Tensor, col0: number, cols: number, out: Tensor): Tensor {
  const op = 'packSpikesColumns';
  checkColumns(op, x, col0, cols);
  const rows = x.shape[0], stride = x.shape[1];
  expectShape(op, 'output', out, 'bits', 2, rows, cols);
  sameCore(op, x, out);
  x.core.kernel('packBits')(x.ptr + col0 * 4, rows, cols, stride, out.ptr);
  return out;
}

/** Unpacks bits [..., cols] → f32 [..., cols] of 1/0. */
export function unpackSpikes(x: Tensor, out: Tensor): Tensor {
  const op = 'unpackSpikes';
  rank(op, 'input', x, 1);
  expectTensor(op, 'input', x, 'bits', x.shape);
  expectTensor(op, 'output', out, 'f32', x.shape);
  sameCore(op, x, out);
  const cols = x.shape[x.shape.length - 1];
  x.core.kernel('unpackBits')(x.ptr, x.size / Math.max(cols, 1), cols, out.ptr);
  return out;
}

/**
 * Exact integer counts out[i, j] = popcount(a_i AND b_j) for bit rows a [Na, n], b [Nb, n]: the attention scores
 * Q Kᵀ (rows packed over the head dim) or M = Kᵀ V (columns packed over tokens). out i32 [Na, Nb].
 */
export function spikeAndPopcount(a: Tensor, b: Tensor, out: Tensor): Tensor {
  const op = 'spikeAndPopcount';
  rank(op, 'a', a, 2);
  rank(op, 'b', b, 2);
  const Na = a.shape[0], n = a.shape[1];
  const Nb = b.shape[0];
  expectShape(op, 'a', a, 'bits', 2, Na, n);
  expectShape(op, 'b', b, 'bits', 2, Nb, n);
  expectShape(op, 'output', out, 'i32', 2, Na, Nb);
  sameCore(op, a, b, out);
  a.core.kernel('andPopcount')(a.ptr, b.ptr, Na, Nb, Math.ceil(n / 32), out.ptr);
  return out;
}

/** out[i, c] = Σ_j A[i, j]·V[j, c] for integer A [Nq, Nk] and binary V bits [Nk, d]: the (Q Kᵀ) V order. */
export function matmulCountsBits(A: Tensor, v: Tensor, out: Tensor): Tensor {
  const op = 'matmulCountsBits';
  rank(op, 'A', A, 2);
  rank(op, 'V', v, 2);
  const Nq = A.shape[0], Nk = A.shape[1];
  const d = v.shape[1];
  expectShape(op, 'A', A, 'i32', 2, Nq, Nk);
  expectShape(op, 'V', v, 'bits', 2, Nk, d);
  expectShape(op, 'output', out, 'i32', 2, Nq, d);
  sameCore(op, A, v, out);
  A.core.kernel('matmulCountsBits')(A.ptr, v.ptr, Nq, Nk, d, out.ptr);
  return out;
}

/** out[i, c] = Σ_{a : Q[i, a] = 1} M[a, c] for binary Q bits [N, d] and integer M [d, dm]: the Q (Kᵀ V) order. */
export function matmulBitsCounts(q: Tensor, M: Tensor, out: Tensor): Tensor {
  const op = 'matmulBitsCounts';
  rank(op, 'Q', q, 2);
  rank(op, 'M', M, 2);
  const N = q.shape[0], d = q.shape[1];
  const dm = M.shape[1];
  expectShape(op, 'Q', q, 'bits', 2, N, d);
  expectShape(op, 'M', M, 'i32', 2, d, dm);
  expectShape(op, 'output', out, 'i32', 2, N, dm);
  sameCore(op, q, M, out);
  q.core.kernel('matmulBitsCounts')(q.ptr, M.ptr, N, d, dm, out.ptr);
  return out;
}

/** out = f32(x)·s for an i32 tensor (exact for the attention scale 2⁻ᵏ and counts below 2²⁴). */
export function countsToF32(x: Tensor, s: number, out: Tensor): Tensor {
  const op = 'countsToF32';
  expectTensor(op, 'input', x, 'i32', x.shape);
  expectTensor(op, 'output', out, 'f32', x.shape);
  if (!Number.isFinite(s)) throw new ArgumentError(`${op}: scale must be finite, got ${s}`);
  sameCore(op, x, out);
  x.core.kernel('i32ToF32Scaled')(x.ptr, out.ptr, x.size, s);
  return out;
}

// ---------------------------------------------------------------- LMU, FFT form

/** The FFT form of the parallel LMU memory for one impulse response H and one sequence length L ({@link prepareLmuFft}). */
export interface LmuFftPlan {
  /**
   * Spectra S_i = rfft_{2L}(H[i, 0..L) zero-padded to 2L) / 2L for every memory channel i, f32 [⌈d/4⌉, L + 1, 2, 4]:
   * group of 4 channels, bin k = 0..L, re/im, channel within the group (channels past d are 0).
   */
  readonly spec: Tensor;
  /** Twiddles and bit reversal for L, f32 [5L]: c_k = e^{iπk/L} (k = 0..L), per-stage e^{iπj/m}, then L i32 indices. */
  readonly tables: Tensor;
  /** The kernel's scratch (f32): rfft of the input and the transform buffer, overwritten by every call. */
  readonly work: Tensor;
  /** Sequence length (a power of two); the FFT size is 2L. */
  readonly L: number;
  /** Memory order d (channels). */
  readonly d: number;
}

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n >= 1 && n <= 2 ** 30 && (n & (n - 1)) === 0;

/** [cos(πa/b), sin(πa/b)] in float64, exact at multiples of π/2. */
function cisPi(a: number, b: number): [number, number] {
  const r = ((a % (2 * b)) + 2 * b) % (2 * b);
  if ((2 * r) % b === 0) return ([[1, 0], [0, 1], [-1, 0], [0, -1]] as [number, number][])[(2 * r) / b];
  return [Math.cos((Math.PI * r) / b), Math.sin((Math.PI * r) / b)];
}

/** The bit reversal of log2 n bits (n a power of two) of 0..n−1. */
function bitReversal(n: number): Int32Array {
  const r = new Int32Array(n);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    r[i] = j ^= bit;
  }
  return r;
}

/**
 * Prepares the FFT form of the parallel LMU memory (once per model): from Ht = Hᵀ [Lh, d] (the {@link lmuFir}
 * weights, row t = Āᵗ B̄) and a sequence length L ≤ Lh (a power of two, default Lh), the spectra of the first L taps
 * of every channel, S_i[k] = Σ_{t<L} H[i, t]·e^{−iπkt/L} / 2L for k = 0..L, computed in float64 and rounded once
 * to f32, laid out for 4 channels per f32x4 lane group; plus the twiddle tables and the kernel's scratch. All three
 * tensors come from `arena`. Memory: 32(L+1)·⌈d/4⌉ bytes of spectra (528 KB at L = 128, d = 512; Ht is 256 KB).
 */
export function prepareLmuFft(arena: Arena, ht: Tensor, L: number = ht.shape[0]): LmuFftPlan {
  const op = 'prepareLmuFft';
  rank(op, 'Ht', ht, 2);
  const [Lh, d] = ht.shape;
  expectTensor(op, 'Ht', ht, 'f32', [Lh, d]);
  if (!isPow2(L)) throw new ArgumentError(`${op}: sequence length L must be a power of two (the FFT has size 2L), got ${L}`);
  if (L > Lh) throw new ShapeError(`${op}: sequence length ${L} exceeds the ${Lh} rows of Ht (the FIR window)`);
  const N = 2 * L;
  const groups = Math.ceil(d / 4);
  const spec = arena.tensor([groups, L + 1, 2, 4], 'f32', 'LMU spectra');
  const tables = arena.tensor([5 * L], 'f32', 'LMU FFT tables');
  const work = arena.tensor([((2 * L + 2 + 3) & ~3) + 8 * L], 'f32', 'LMU FFT scratch');
  // the spectra in float64 (a radix-2 FFT of size 2L per channel, error ≲ 1e-13 relative to ‖H[i]‖₂), rounded once
  const cosT = new Float64Array(N), sinT = new Float64Array(N);
  for (let j = 0; j < N; j++) [cosT[j], sinT[j]] = cisPi(j, L);
  const h = ht.f32;
  const s = spec.f32;
  const re = new Float64Array(N), im = new Float64Array(N);
  const revN = bitReversal(N);
  for (let i = 0; i < d; i++) {
    re.fill(0);
    im.fill(0);
    for (let t = 0; t < L; t++) re[revN[t]] = h[t * d + i];
    for (let m = 1; m < N; m *= 2) {
      const step = N / (2 * m);
      for (let j = 0; j < m; j++) {
        const wr = cosT[j * step], wi = -sinT[j * step]; // e^{−iπj/m}
        for (let q = j; q < N; q += 2 * m) {
          const xr = wr * re[q + m] - wi * im[q + m], xi = wr * im[q + m] + wi * re[q + m];
          re[q + m] = re[q] - xr;
          im[q + m] = im[q] - xi;
          re[q] += xr;
          im[q] += xi;
        }
      }
    }
    const base = (i >> 2) * (L + 1) * 8 + (i & 3);
    for (let k = 0; k <= L; k++) {
      s[base + k * 8] = re[k] / N;
      s[base + k * 8 + 4] = im[k] / N;
    }
  }
  const tw = tables.f32;
  for (let k = 0; k <= L; k++) [tw[2 * k], tw[2 * k + 1]] = cisPi(k, L);
  for (let m = 1; m < L; m *= 2) {
    for (let j = 0; j < m; j++) [tw[2 * L + 2 + 2 * (m - 1 + j)], tw[2 * L + 2 + 2 * (m - 1 + j) + 1]] = cisPi(j, m);
  }
  new Int32Array(tables.core.memory.buffer, tables.ptr + 16 * L, L).set(bitReversal(L));
  return { spec, tables, work, L, d };
}

/**
 * FFT (parallel) LMU memory over whole sequences, the same result as {@link lmuFir} up to rounding:
 * out[b, t, i] = Σ_{s ≤ t} u[b, s]·H[i, t−s] for t < L, computed as irfft_{2L}(rfft_{2L}(u[b]) · S_i)[t] with the
 * spectra S_i of {@link prepareLmuFft} (zero padding to 2L makes the circular convolution linear). u [B, L] with L
 * the plan's length, a power of two; out [B, L, D], D ≥ d (memory in the first d columns, the rest untouched).
 * Cost per sequence: one real FFT of u, then per channel a complex product per bin and an inverse FFT of size L
 * (4 channels per f32x4 on the SIMD backend) instead of L(L+1)/2 multiply-adds; zero inputs are not skipped. Not
 * bit-equal to {@link lmuFir}: every output of channel i is within 16·log2(2L)·2⁻²⁴·‖u[b]‖₂·max_k |Ŝ_i[k]| of the exact
 * value (Ŝ_i = 2L·S_i, max_k |Ŝ_i[k]| ≤ Σ_t |H[i, t]|; derivation in test/lmu-fft.test.ts), measured ≤ 2.1·2⁻²⁴·‖u‖₂·
 * max_k |Ŝ_i[k]|. Scalar and SIMD backends agree bit for bit. out must not overlap u or the plan's tensors.
 * @example const plan = prepareLmuFft(arena, ht, 128); lmuFft(u, plan, out)
 */
export function lmuFft(u: Tensor, plan: LmuFftPlan, out: Tensor): Tensor {
  const op = 'lmuFft';
  rank(op, 'input u', u, 2);
  const B = u.shape[0], L = u.shape[1];
  if (!isPow2(L)) throw new ArgumentError(`${op}: sequence length must be a power of two (the FFT has size 2L), got ${L}`);
  expectShape(op, 'input u', u, 'f32', 2, B, L);
  if (L !== plan.L) throw new ShapeError(`${op}: sequence length ${L} differs from the plan's L = ${plan.L} (prepare one per length)`);
  const d = plan.d;
  expectShape(op, 'plan spectra', plan.spec, 'f32', 4, Math.ceil(d / 4), L + 1, 2, 4);
  expectShape(op, 'plan tables', plan.tables, 'f32', 1, 5 * L);
  expectShape(op, 'plan scratch', plan.work, 'f32', 1, ((2 * L + 2 + 3) & ~3) + 8 * L);
  rank(op, 'output', out, 3);
  const D = out.shape[2];
  expectShape(op, 'output', out, 'f32', 3, B, L, D);
  if (D < d) throw new ShapeError(`${op}: output rows hold ${D} values, fewer than d = ${d}`);
  sameCore(op, u, plan.spec, plan.tables, plan.work, out);
  const k = u.core.kernel('lmuFft');
  for (let b = 0; b < B; b++) k(u.ptr + b * L * 4, L, plan.spec.ptr, d, plan.tables.ptr, plan.work.ptr, out.ptr + b * L * D * 4, D);
  return out;
}
