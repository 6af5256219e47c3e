// Small helpers shared by the layers and models of this package (not re-exported from the index).
import {
  checkBatchInput, type Core,
  batchNormAffine, foldBatchNorm, packDense, packConv1dAsDense, linear, linearWindows, channelAffine,
  ArgumentError, ShapeError, SpikewasmError, fmtShape,
  type Arena, type BatchNormParams, type DenseOptions, type PackedDense, type Tensor,
} from '@spikewasm/core-wasm';
import { lookupTensor, type StateDictLike } from './checkpoint.js';

/** A view of rows [row0, row0 + rows) of a tensor whose first axis is the row axis (no copy, no Wasm allocation). */
export function rowsView(t: Tensor, row0: number, rows: number, name = t.name): Tensor {
  const rowLen = t.shape.slice(1).reduce((a, b) => a * b, 1);
  if (t.dtype === 'bits') throw new ArgumentError(`${name}: row views of bit tensors are not supported`);
  if (row0 < 0 || rows < 0 || row0 + rows > t.shape[0]) {
    throw new ShapeError(`${name}: rows [${row0}, ${row0 + rows}) outside the ${t.shape[0]} rows of ${fmtShape(t.shape)}`);
  }
  return t.core.view(t.ptr + row0 * rowLen * 4, [rows, ...t.shape.slice(1)], t.dtype, name);
}

/** Throws a ShapeError naming `who` and `role` unless t is an f32 tensor of exactly `shape`. */
export function checkF32(who: string, role: string, t: Tensor, shape: readonly number[]): void {
  if (t.dtype !== 'f32') throw new ShapeError(`${who}: ${role} must be an f32 tensor, got ${t.dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${who}: ${role} expected shape ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  }
}

/** The axis names of the psMNIST models' input [B, seq_len, input_size], for messages. */
export const PSMNIST_AXES: readonly string[] = Object.freeze(['seq_len', 'input_size']);
const FRAME_AXES: readonly string[] = Object.freeze(['N', 'in_channels']);
/** Refilled per call (read synchronously by checkBatchInput, which keeps nothing): a forward creates no array. */
const frameSample = [0, 0];

/**
 * Checks an LMUFormer-family input x [B, N, in_channels] (a Float32Array of B·N·C values, or an f32 Tensor of `core`)
 * and, unless `allowNonFinite`, that it is finite; returns B (see core-wasm's `checkBatchInput`).
 */
export function checkFrames(who: string, x: unknown, N: number, C: number, core: Core, allowNonFinite: boolean): number {
  frameSample[0] = N;
  frameSample[1] = C;
  return checkBatchInput(who, 'input', x, frameSample, FRAME_AXES, core, allowNonFinite);
}

/** Stream options with `allowNonFinite` defaulting to the model's (a copy only when it is not given). */
export function streamOptions<O extends { allowNonFinite?: boolean }>(options: O, allowNonFinite: boolean): O {
  return options.allowNonFinite === undefined ? { ...options, allowNonFinite } : options;
}

/** Throws an ArgumentError unless every value is a positive safe integer. */
export function checkPositiveInts(who: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${who}: ${k} must be a positive integer, got ${v}`);
  }
}

/** Throws a ShapeError unless `values` holds exactly prod(shape) numbers. */
export function checkLength(who: string, role: string, values: ArrayLike<number>, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new ShapeError(`${who}: ${role} expected ${fmtShape(shape)} = ${n} values, got ${values.length}`);
}

/**
 * Copies `rows` rows of `cols` floats from src (row stride srcStride, starting at srcOffset) to dst (row stride
 * dstStride, starting at dstOffset). Used for the [m ; x] concatenation and the zero-padded frame buffers.
 */
export function copyRows(
  src: Float32Array, srcOffset: number, srcStride: number,
  dst: Float32Array, dstOffset: number, dstStride: number,
  rows: number, cols: number,
): void {
  if (srcStride === cols && dstStride === cols) {
    dst.set(src.subarray(srcOffset, srcOffset + rows * cols), dstOffset);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = srcOffset + r * srcStride;
    dst.set(src.subarray(s, s + cols), dstOffset + r * dstStride);
  }
}

/** The smallest power of two ≥ n (n ≥ 1). */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Prefixes a spikewasm error's message with a layer name (same class and stack) and returns it. */
export function tagError(name: string, e: unknown): unknown {
  if (e instanceof SpikewasmError && !e.message.startsWith(`${name}: `)) e.message = `${name}: ${e.message}`;
  return e;
}

/** Transposes a row-major [rows, cols] array into a new Float32Array [cols, rows]. */
export function transpose(src: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** Reads the four BN tensors under `prefix`. */
export function readBatchNorm(sd: StateDictLike, prefix: string, who: string): BatchNormParams {
  const g = (k: string) => lookupTensor(sd, `${prefix}.${k}`, who)!;
  return { weight: g('weight'), bias: g('bias'), runningMean: g('running_mean'), runningVar: g('running_var') };
}

/** A BN's per-channel affine (scale, shift) in Wasm memory. */
export interface ChannelAffine {
  scale: Tensor;
  shift: Tensor;
}

/** The eval-mode BN as a per-channel affine in Wasm memory (float64, rounded once). */
export function affineOf(arena: Arena, bn: BatchNormParams, name: string): ChannelAffine {
  const a = batchNormAffine(bn);
  return { scale: arena.from(a.scale, [a.scale.length], 'f32', `${name}.scale`), shift: arena.from(a.shift, [a.shift.length], 'f32', `${name}.shift`) };
}

/**
 * Copies `rows` rows of `cols` floats like {@link copyRows}, element by element: no subarray objects, so nothing
 * for the garbage collector (used on the per-frame paths of the streams, where the copies are short).
 */
export function copyRowsLoop(
  src: Float32Array, srcOffset: number, srcStride: number,
  dst: Float32Array, dstOffset: number, dstStride: number,
  rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const s = srcOffset + r * srcStride, d = dstOffset + r * dstStride;
    for (let c = 0; c < cols; c++) dst[d + c] = src[s + c];
  }
}

/** A 1×1 conv (or linear) with an optional bias, optionally followed by a BN kept as an affine (or folded into it). */
export interface Dense {
  w: PackedDense;
  b: Tensor | null;
  bn: ChannelAffine | null;
}

/** A {@link Dense} from PyTorch weights [out, inp] and bias; the BN is folded into it when `fold` (exact up to rounding). */
export function dense(arena: Arena, weight: ArrayLike<number>, bias: ArrayLike<number> | null, out: number, inp: number, bn: BatchNormParams | null, fold: boolean, name: string): Dense {
  if (bn && fold) {
    const f = foldBatchNorm(weight, bias, bn);
    return { w: packDense(arena, f.weight, out, inp, `${name}.weight`), b: arena.from(f.bias, [out], 'f32', `${name}.bias`), bn: null };
  }
  return {
    w: packDense(arena, weight, out, inp, `${name}.weight`),
    b: bias ? arena.from(bias, [out], 'f32', `${name}.bias`) : null,
    bn: bn ? affineOf(arena, bn, `${name}.bn`) : null,
  };
}

/** A k = 3 conv over frames (no bias) as a {@link Dense} over windows of 3 frames, with its BN folded or kept. */
export function conv3(arena: Arena, weight: ArrayLike<number>, out: number, inp: number, bn: BatchNormParams | null, fold: boolean, name: string): Dense {
  if (bn && fold) {
    const f = foldBatchNorm(weight, null, bn);
    return { w: packConv1dAsDense(arena, f.weight, out, inp, 3, `${name}.weight`), b: arena.from(f.bias, [out], 'f32', `${name}.bias`), bn: null };
  }
  return { w: packConv1dAsDense(arena, weight, out, inp, 3, `${name}.weight`), b: null, bn: bn ? affineOf(arena, bn, `${name}.bn`) : null };
}

/**
 * Options objects of the per-frame calls below, refilled per call instead of written as literals (the ops read them
 * during the call and keep nothing): a streamed frame creates no objects.
 */
const denseOpts: DenseOptions = { bias: undefined, relu: false };
const affineOpts: { relu?: boolean } = { relu: false };

function opts(bias: Tensor | null, relu: boolean): DenseOptions {
  denseOpts.bias = bias ?? undefined;
  denseOpts.relu = relu;
  return denseOpts;
}

/** out = BN(x Wᵀ + b) over the last axis, then ReLU if asked (after the BN). */
export function runDense(x: Tensor, l: Dense, out: Tensor, relu = false): void {
  if (!l.bn) {
    linear(x, l.w, out, opts(l.b, relu));
  } else {
    linear(x, l.w, out, opts(l.b, false));
    affineOpts.relu = relu;
    channelAffine(out, l.bn.scale, l.bn.shift, out, out.shape.length - 1, affineOpts);
  }
}

/**
 * A k = 3 conv over `count` windows of a zero-padded frame buffer [R, C] starting at row `first` (output row r is
 * frames first + r .. first + r + 2), then its BN if kept: out [count, Cout].
 */
export function runConv3(padded: Tensor, first: number, count: number, l: Dense, out: Tensor): void {
  linearWindows(padded, first, count, 3, l.w, out, opts(l.b, false));
  if (l.bn) channelAffine(out, l.bn.scale, l.bn.shift, out, 1);
}
