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

// One subclass of SafetensorsError per kind of defect, so callers (and the malformed-file corpus) can tell them apart.
// Every message names the tensor concerned, or the structural part (length field, header, `__metadata__`).

/** The 8-byte header-length field is missing (file < 8 bytes) or impossible (> MAX_HEADER_BYTES, or past the end of the file). */
export class SafetensorsHeaderLengthError extends SafetensorsError {
  override name = 'SafetensorsHeaderLengthError';
}

/** The header bytes are not a UTF-8 JSON object starting with `{` (invalid UTF-8, JSON syntax, nesting too deep). */
export class SafetensorsHeaderError extends SafetensorsError {
  override name = 'SafetensorsHeaderError';
}

/** A tensor's header entry is not an object with exactly the fields `dtype`, `shape` and `data_offsets`. */
export class SafetensorsEntryError extends SafetensorsError {
  override name = 'SafetensorsEntryError';
}

/** A key occurs twice in one JSON object of the header (tensor name, entry field, or `__metadata__` key). */
export class SafetensorsDuplicateError extends SafetensorsError {
  override name = 'SafetensorsDuplicateError';
}

/** `__metadata__` is not an object of string values. */
export class SafetensorsMetadataError extends SafetensorsError {
  override name = 'SafetensorsMetadataError';
}

/** A tensor's dtype is not one of the supported names (or, when writing, does not match the data's array type). */
export class SafetensorsDTypeError extends SafetensorsError {
  override name = 'SafetensorsDTypeError';
}

/** A tensor's shape is not a list of non-negative integers, or its element count × dtype width is not its byte span. */
export class SafetensorsShapeError extends SafetensorsError {
  override name = 'SafetensorsShapeError';
}

/** A tensor's `data_offsets` is not `[begin, end]` of integers with begin ≤ end ≤ the data area's length. */
export class SafetensorsOffsetError extends SafetensorsError {
  override name = 'SafetensorsOffsetError';
}

/** Two tensors' byte ranges overlap. */
export class SafetensorsOverlapError extends SafetensorsError {
  override name = 'SafetensorsOverlapError';
}

/** The tensors do not cover the data area exactly: bytes before the first, between two, or after the last tensor. */
export class SafetensorsGapError extends SafetensorsError {
  override name = 'SafetensorsGapError';
}

/** A float tensor holds NaN or ±Infinity (rejected unless `allowNonFinite` is set). */
export class SafetensorsNonFiniteError extends SafetensorsError {
  override name = 'SafetensorsNonFiniteError';
}

/** A BOOL tensor holds a byte other than 0 or 1. */
export class SafetensorsBoolError extends SafetensorsError {
  override name = 'SafetensorsBoolError';
}

/** Formats a shape as `[2, 3, 4]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
