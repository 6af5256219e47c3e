// Small helpers shared by the layers and models of this package (not re-exported from the index).
import { batchNormAffine, ArgumentError, ShapeError, SpikewasmError, fmtShape, type Arena, type BatchNormParams, type Tensor } from '@spikewasm/core-wasm';
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
