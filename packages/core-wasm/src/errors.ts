/**
 * Typed errors thrown by spikewasm. Every message names the tensor (or argument), what was expected and what was
 * given, so a caller can show it as is. Catching {@link SpikewasmError} catches them all.
 */
export class SpikewasmError extends Error {
  override name = 'SpikewasmError';
}

/** A tensor's shape (rank or a dimension) is not what the op needs. */
export class ShapeError extends SpikewasmError {
  override name = 'ShapeError';
}

/** A tensor's dtype is not what the op needs. */
export class DTypeError extends SpikewasmError {
  override name = 'DTypeError';
}

/** A scalar argument is out of its allowed range (for example a kernel size other than 1 or 3). */
export class ArgumentError extends SpikewasmError {
  override name = 'ArgumentError';
}

/** The Wasm module was used before `init()` finished, or could not be loaded. */
export class InitError extends SpikewasmError {
  override name = 'InitError';
}

/** A safetensors file is malformed: the message says which structural part and, where known, which tensor. */
export class SafetensorsError extends SpikewasmError {
  override name = 'SafetensorsError';
}

/** Formats a shape as `[2, 3, 4]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
