import { SafetensorsError } from './errors.js';

/** dtypes this reader understands, with their byte widths. F16 and BF16 are widened to float32 on load. */
export const SAFETENSORS_DTYPES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1,
} as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** One tensor read from a safetensors file. `data` is a fresh, aligned copy (F16/BF16 widened to Float32Array). */
export interface LoadedTensor {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, LoadedTensor>;
}

/** Largest header accepted (the format's reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function fail(msg: string): never {
  throw new SafetensorsError(msg);
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parses a safetensors buffer: `u64 LE header length N`, `N` bytes of JSON, then the data area.
 * Checks the header length against the buffer, every dtype, that every shape's element count × width equals its
 * byte range, that every range lies inside the data area, that ranges do not overlap, and that metadata values are
 * strings. Throws {@link SafetensorsError} naming the tensor on the first problem.
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.byteLength < 8) fail(`file too short for the 8-byte header length: ${bytes.byteLength} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    fail(`header length ${n64} exceeds ${n64 > BigInt(MAX_HEADER_BYTES) ? `the limit ${MAX_HEADER_BYTES}` : `the file (${bytes.byteLength - 8} bytes after the length)`}`);
  }
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header JSON is not an object');
  const dataStart = 8 + n;
  const dataLen = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  const tensors = new Map<string, LoadedTensor>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value of "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (info === null || typeof info !== 'object') fail(`tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets } = info as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPES)) {
      fail(`tensor "${name}": dtype ${JSON.stringify(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(data_offsets)} is not [begin, end]`);
    }
    const [b, e] = data_offsets as [number, number];
    if (b > e || e > dataLen) fail(`tensor "${name}": data_offsets [${b}, ${e}] outside the data area of ${dataLen} bytes`);
    const width = SAFETENSORS_DTYPES[dtype as SafetensorsDType];
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (count * width > dataLen) fail(`tensor "${name}": shape ${JSON.stringify(shape)} needs more bytes than the data area (${dataLen})`);
    }
    if (count * width !== e - b) fail(`tensor "${name}": shape ${JSON.stringify(shape)} × ${dtype} is ${count * width} bytes but data_offsets span ${e - b}`);
    ranges.push([b, e, name]);
    tensors.set(name, { name, dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], data: decode(bytes.subarray(dataStart + b, dataStart + e), dtype as SafetensorsDType, count) });
  }
  ranges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensor "${ranges[i][2]}": data overlaps tensor "${ranges[i - 1][2]}"`);
  }
  return { metadata, tensors };
}

function decode(src: Uint8Array, dtype: SafetensorsDType, count: number): TensorData {
  const copy = new Uint8Array(src.byteLength);
  copy.set(src);
  switch (dtype) {
    case 'F32': return new Float32Array(copy.buffer);
    case 'F64': return new Float64Array(copy.buffer);
    case 'I32': return new Int32Array(copy.buffer);
    case 'I64': return new BigInt64Array(copy.buffer);
    case 'U8': case 'BOOL': return copy;
    case 'F16': case 'BF16': {
      const h = new Uint16Array(copy.buffer);
      const out = new Float32Array(count);
      if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = f16ToF32(h[i]);
      else { const u = new Uint32Array(out.buffer); for (let i = 0; i < count; i++) u[i] = h[i] << 16; }
      return out;
    }
  }
}

/** A tensor to write: F32, F64, I32 or U8 data with its shape. */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

/** Serialises tensors (and string metadata) into safetensors bytes, header padded with spaces to 8 bytes. */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.data instanceof Float32Array ? 'F32' : t.data instanceof Float64Array ? 'F64' : t.data instanceof Int32Array ? 'I32' : 'U8';
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  const padded = Math.ceil(hb.byteLength / 8) * 8;
  json += ' '.repeat(padded - hb.byteLength);
  hb = enc.encode(json);
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const part of parts) { out.set(part, p); p += part.byteLength; }
  return out;
}
