// Hardened safetensors reader and a matching writer.
//
// Format (https://huggingface.co/docs/safetensors): `u64 LE N`, then N bytes of UTF-8 JSON starting with `{` (padded
// with spaces), then the data area. The JSON maps tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}`
// (offsets relative to the data area) and may hold `"__metadata__"`, a string → string map.
//
// Checks and decisions, in the order they are applied (the first failure throws; each kind of defect has its own
// subclass of SafetensorsError, see errors.ts; every message names the tensor or the structural part):
//  1. Length field: the file has ≥ 8 bytes, N ≤ MAX_HEADER_BYTES (100 MB, as the reference implementation) and
//     N ≤ file size − 8.                                                            → SafetensorsHeaderLengthError
//  2. Header text: first byte `{` (as the spec demands; no BOM, no leading whitespace), valid UTF-8 (fatal decoder),
//     strict JSON (RFC 8259) ending with the object (trailing JSON whitespace allowed: the spec pads with spaces),
//     nesting ≤ 32 levels (a valid header needs 3).                                 → SafetensorsHeaderError
//     The header is read by the small two-pass reader below rather than JSON.parse, because JSON.parse silently
//     keeps the last of duplicate keys, turns `2.0` / `1e3` into integers, reorders integer-like keys and builds a
//     tree of up to ~20× the text's size; this reader is linear and keeps only what the schema needs.
//  3. Duplicate keys in any object of the header (tensor names, entry fields, `__metadata__` keys) are rejected:
//     the spec disallows them and two parsers keeping different duplicates would see different models.
//                                                                                   → SafetensorsDuplicateError
//  4. `__metadata__` (optional) must be an object of string values (`null` is rejected). → SafetensorsMetadataError
//  5. Each tensor entry is an object with exactly `dtype`, `shape`, `data_offsets`. Unknown fields are REJECTED
//     (the reference implementation ignores them; no writer emits them, and ignoring them would let a file carry
//     content this reader never checks).                                            → SafetensorsEntryError
//  6. dtype ∈ F64, F32, F16, BF16, I64, I32, U8, BOOL (F16/BF16 are widened to Float32Array). → SafetensorsDTypeError
//  7. shape: a list of at most 64 integer literals in [0, 2^53 − 1] (no `-1`, `2.0`, `1e3`). → SafetensorsShapeError
//  8. data_offsets: two integer literals begin ≤ end ≤ data area length.             → SafetensorsOffsetError
//  9. product(shape) × width == end − begin, computed with BigInt and stopped once it exceeds 2^64, so
//     `[2**40, 2**40]` (or a million huge dims) costs nothing and allocates nothing. → SafetensorsShapeError
// 10. Sorted by offsets (O(n log n)), the ranges must tile the data area exactly: no overlap
//     (→ SafetensorsOverlapError) and, as in the reference implementation (`MetadataIncompleteBuffer`), no unused
//     bytes before, between or after the tensors (→ SafetensorsGapError; the spec forbids holes to prevent
//     polyglot files). Zero-size tensors are allowed at any boundary.
// 11. Only now is tensor memory allocated: one fresh, aligned array per tensor, so the result never exceeds the data
//     area (×2 for F16/BF16 widening); the header costs a small constant times its own length. Values are then checked: BOOL bytes must be 0 or 1 (→ SafetensorsBoolError; U8 is
//     unrestricted) and float tensors (F64/F32/F16/BF16) must be finite unless `allowNonFinite` is set
//     (→ SafetensorsNonFiniteError naming the tensor and the element), so a model never silently computes NaN.
import {
  SafetensorsError, SafetensorsHeaderLengthError, SafetensorsHeaderError, SafetensorsEntryError,
  SafetensorsDuplicateError, SafetensorsMetadataError, SafetensorsDTypeError, SafetensorsShapeError,
  SafetensorsOffsetError, SafetensorsOverlapError, SafetensorsGapError, SafetensorsNonFiniteError,
  SafetensorsBoolError,
} from './errors.js';

// Re-exported so that the package index can export them next to the reader.
export {
  SafetensorsHeaderLengthError, SafetensorsHeaderError, SafetensorsEntryError, SafetensorsDuplicateError,
  SafetensorsMetadataError, SafetensorsDTypeError, SafetensorsShapeError, SafetensorsOffsetError,
  SafetensorsOverlapError, SafetensorsGapError, SafetensorsNonFiniteError, SafetensorsBoolError,
} from './errors.js';

/** dtypes this reader understands, with their byte widths. F16 and BF16 are widened to float32 on load. */
export const SAFETENSORS_DTYPES = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1,
} as const;
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** The array a tensor is loaded into: F32/F16/BF16 → Float32Array, F64, I32, I64 → BigInt64Array, U8/BOOL → Uint8Array. */
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** One tensor read from a safetensors file. `data` is a fresh, aligned copy (F16/BF16 widened to Float32Array). */
export interface LoadedTensor {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  data: TensorData;
}

/** A parsed file: string metadata and the tensors, in the order the header lists them. */
export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, LoadedTensor>;
}

/** Options of {@link parseSafetensors}. */
export interface ParseSafetensorsOptions {
  /**
   * Accept NaN and ±Infinity in F64/F32/F16/BF16 tensors. Default `false`: the first non-finite element throws
   * {@link SafetensorsNonFiniteError} naming the tensor and the element.
   */
  allowNonFinite?: boolean;
  /**
   * Largest header accepted, in bytes. Default {@link DEFAULT_MAX_HEADER_BYTES} (8 MiB: real checkpoints need well
   * under 1 MiB; a header of 8 MiB parses in about half a second). At most {@link MAX_HEADER_BYTES}.
   */
  maxHeaderBytes?: number;
}

/** Largest header ever accepted (the format's reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Default header limit: enough for any real checkpoint, small enough that a hostile header cannot stall a process
 *  (a 100 MB header of empty tensors takes seconds and a gigabyte to parse). */
export const DEFAULT_MAX_HEADER_BYTES = 8 * 1024 * 1024;

/**
 * Largest tensor rank accepted (numpy 2's limit; the format sets none). Keeps a hostile shape of millions of
 * dimensions from costing more than its tensor could ever need.
 */
const MAX_RANK = 64;

/** Deepest JSON nesting accepted in a header (a valid header needs 3: root, entry, shape). */
const MAX_JSON_DEPTH = 32;

const FLOAT_DTYPES: ReadonlySet<SafetensorsDType> = new Set(['F64', 'F32', 'F16', 'BF16']);

// ---------------------------------------------------------------------------------------------------------------
// Message helpers: names and values from the file are quoted and truncated, so a hostile 100 MB name cannot make a
// 100 MB message.

const MAX_QUOTED = 120;
const MAX_RAW = 60;

/** `"name"`, JSON-quoted, truncated to MAX_QUOTED characters. */
function q(s: string): string {
  return JSON.stringify(s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED)}…` : s);
}

/** A header value as written (raw JSON text), truncated to MAX_RAW characters. */
function show(raw: string): string {
  return raw.length > MAX_RAW ? `${raw.slice(0, MAX_RAW)}…` : raw;
}

/** `[2, 3]`, or the first 16 dimensions and the rank for a long shape. */
function fmtDims(shape: readonly number[]): string {
  return shape.length <= 16 ? `[${shape.join(', ')}]` : `[${shape.slice(0, 16).join(', ')}, … (rank ${shape.length})]`;
}

// ---------------------------------------------------------------------------------------------------------------
// Header JSON, in two linear passes over the text:
//  1. checkJsonSyntax: a strict RFC 8259 syntax check that allocates nothing (an explicit bracket stack, no
//     recursion), so every syntax error is reported as such, before any content error;
//  2. HeaderReader: reads the now well-formed text against the safetensors schema, allocating only what the schema
//     keeps (names, metadata strings, dimensions), never a generic JSON tree — a header costs a small constant times
//     its own size. It sees every member in order, so duplicate keys (which JSON.parse silently drops) are caught,
//     and reads numbers from their text, so `2.0`, `1e3`, `-0` and integers above 2^53 are not mistaken for
//     dimensions or offsets.

const enum Expect { Value, ValueOrClose, Key, KeyOrClose, Colon, After }

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function syntaxError(msg: string, at: number): never {
  throw new SafetensorsHeaderError(`header is not valid JSON: ${msg} at character ${at}`);
}

/** Index after the JSON string starting at `i` (a `"`); throws on a bad escape, control character or end of text. */
function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const c = s.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) {
      const e = s.charCodeAt(j + 1);
      if (e === 0x75) {
        if (!(isHex(s.charCodeAt(j + 2)) && isHex(s.charCodeAt(j + 3)) && isHex(s.charCodeAt(j + 4)) && isHex(s.charCodeAt(j + 5)))) {
          syntaxError('bad \\u escape', j);
        }
        j += 6;
      } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        j += 2;
      } else {
        syntaxError(Number.isNaN(e) ? 'unterminated string' : 'bad escape', j);
      }
    } else if (Number.isNaN(c)) {
      syntaxError('unterminated string', i);
    } else if (c < 0x20) {
      syntaxError('control character in a string', j);
    } else {
      j++;
    }
  }
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Index after the JSON number starting at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
function skipNumber(s: string, i: number): number {
  let j = i;
  if (s.charCodeAt(j) === 0x2d) j++;
  if (s.charCodeAt(j) === 0x30) j++;
  else if (isDigit(s.charCodeAt(j))) while (isDigit(s.charCodeAt(j))) j++;
  else syntaxError('bad number', i);
  if (s.charCodeAt(j) === 0x2e) {
    if (!isDigit(s.charCodeAt(++j))) syntaxError('bad number', i);
    while (isDigit(s.charCodeAt(j))) j++;
  }
  if ((s.charCodeAt(j) | 0x20) === 0x65) { // e or E
    j++;
    if (s.charCodeAt(j) === 0x2b || s.charCodeAt(j) === 0x2d) j++;
    if (!isDigit(s.charCodeAt(j))) syntaxError('bad number', i);
    while (isDigit(s.charCodeAt(j))) j++;
  }
  return j;
}

/** Throws SafetensorsHeaderError unless `s` is one JSON value (then only whitespace), nested ≤ MAX_JSON_DEPTH deep. */
function checkJsonSyntax(s: string): void {
  const n = s.length;
  const closers = new Uint8Array(MAX_JSON_DEPTH); // the closing bracket of each open container
  let depth = 0;
  let i = 0;
  let state = Expect.Value;
  for (;;) {
    while (isWs(s.charCodeAt(i))) i++;
    if (i >= n) {
      if (state === Expect.After && depth === 0) return;
      syntaxError('unexpected end of the header', i);
    }
    const c = s.charCodeAt(i);
    switch (state) {
      case Expect.Value:
      case Expect.ValueOrClose:
        if (state === Expect.ValueOrClose && c === 0x5d) { i++; depth--; state = Expect.After; break; }
        if (c === 0x7b || c === 0x5b) {
          if (depth === MAX_JSON_DEPTH) syntaxError(`nested deeper than ${MAX_JSON_DEPTH} levels`, i);
          closers[depth++] = c + 2; // { → }, [ → ]
          i++;
          state = c === 0x7b ? Expect.KeyOrClose : Expect.ValueOrClose;
          break;
        }
        if (c === 0x22) i = skipString(s, i);
        else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = skipNumber(s, i);
        else if (c === 0x74 && s.startsWith('true', i)) i += 4;
        else if (c === 0x66 && s.startsWith('false', i)) i += 5;
        else if (c === 0x6e && s.startsWith('null', i)) i += 4;
        else syntaxError('unexpected character', i);
        state = Expect.After;
        break;
      case Expect.After:
        if (depth === 0) syntaxError('unexpected text after the top-level object', i);
        if (c === 0x2c) { i++; state = closers[depth - 1] === 0x7d ? Expect.Key : Expect.Value; break; }
        if (c === closers[depth - 1]) { i++; depth--; break; }
        syntaxError(closers[depth - 1] === 0x7d ? "expected ',' or '}'" : "expected ',' or ']'", i);
      // falls through: syntaxError never returns
      case Expect.Key:
      case Expect.KeyOrClose:
        if (state === Expect.KeyOrClose && c === 0x7d) { i++; depth--; state = Expect.After; break; }
        if (c !== 0x22) syntaxError('expected a string key', i);
        i = skipString(s, i);
        state = Expect.Colon;
        break;
      case Expect.Colon:
        if (c !== 0x3a) syntaxError("expected ':'", i);
        i++;
        state = Expect.Value;
        break;
    }
  }
}

/** A validated tensor entry, before its data is read. */
interface Entry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  begin: number;
  end: number;
  count: number;
}

/** `tensor "name"` for messages, quoted only when an error is actually built (most entries never need it). */
class TensorLabel {
  constructor(private readonly name: string) {}
  toString(): string {
    return `tensor ${q(this.name)}`;
  }
}

const U64_LIMIT = 2n ** 64n;

/** Reads a syntactically valid header (see checkJsonSyntax) against the schema; throws the first content error. */
class HeaderReader {
  private pos = 0;
  constructor(private readonly s: string) {}

  /** Reads the whole header: metadata and the tensor entries in header order. */
  read(dataLen: number): { metadata: Record<string, string>; entries: Entry[] } {
    let metadata: Record<string, string> = {};
    const entries: Entry[] = [];
    const seen = new Set<string>();
    if (this.enter('}')) {
      do {
        const name = this.key();
        if (seen.has(name)) {
          throw new SafetensorsDuplicateError(name === '__metadata__' ? '__metadata__ appears twice in the header' : `tensor ${q(name)} appears twice in the header`);
        }
        seen.add(name);
        if (name === '__metadata__') metadata = this.metadata();
        else entries.push(this.entry(name, dataLen));
      } while (this.more('}'));
    }
    return { metadata, entries };
  }

  private ws(): void {
    while (isWs(this.s.charCodeAt(this.pos))) this.pos++;
  }

  /** After whitespace, the current character. */
  private peek(): string {
    this.ws();
    return this.s[this.pos];
  }

  /** Steps into the object or array at the cursor; false if it is empty (then also steps past its `close`). */
  private enter(close: '}' | ']'): boolean {
    this.pos++;
    if (this.peek() === close) { this.pos++; return false; }
    this.ws();
    return true;
  }

  /** After a member or element: true if another follows (cursor on it), false at `close` (stepped past). */
  private more(close: '}' | ']'): boolean {
    const c = this.peek();
    this.pos++;
    this.ws();
    return c !== close;
  }

  /** Reads `"key"` and the following `:`. */
  private key(): string {
    const k = this.string();
    this.ws();
    this.pos++; // :
    this.ws();
    return k;
  }

  /** The string at the cursor, unescaped (escapes are rare: they are handed to JSON.parse, which is native). */
  private string(): string {
    const s = this.s;
    const start = this.pos;
    let j = start + 1;
    let escaped = false;
    for (; j < s.length; j++) { // (the bound only guards against misuse: the syntax pass saw the closing quote)
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) { escaped = true; j++; }
    }
    this.pos = j + 1;
    return escaped ? (JSON.parse(s.slice(start, j + 1)) as string) : s.slice(start + 1, j);
  }

  /** Skips the value at the cursor (any JSON value) without building it. */
  private skip(): void {
    const s = this.s;
    this.ws();
    const c = s.charCodeAt(this.pos);
    if (c === 0x22) { this.string(); return; }
    if (c !== 0x7b && c !== 0x5b) { // number or literal: up to the next delimiter
      for (let d = c; !(isWs(d) || d === 0x2c || d === 0x5d || d === 0x7d || Number.isNaN(d)); d = s.charCodeAt(++this.pos));
      return;
    }
    let depth = 0;
    do {
      const d = s.charCodeAt(this.pos);
      if (d === 0x22) { this.string(); continue; }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) depth--;
      this.pos++;
    } while (depth > 0 && this.pos < s.length);
  }

  /** The raw text of the value at the cursor, which is skipped (for messages). */
  private raw(): string {
    this.ws();
    const start = this.pos;
    this.skip();
    return show(this.s.slice(start, this.pos));
  }

  /**
   * A non-negative integer literal ≤ 2^53 − 1 at the cursor (consumed), or undefined (cursor unchanged) for anything
   * else: another value, a sign, a fraction, an exponent, or a larger integer. While v ≤ 2^53 − 1, `v · 10 + digit`
   * is exact whenever its result is, so the range test is exact.
   */
  private uint(): number | undefined {
    this.ws();
    const s = this.s;
    let j = this.pos;
    let v = 0;
    for (let c = s.charCodeAt(j); isDigit(c); c = s.charCodeAt(++j)) {
      if (v <= Number.MAX_SAFE_INTEGER) v = v * 10 + (c - 0x30); // past the limit: only find the literal's end
    }
    const next = s.charCodeAt(j);
    if (j === this.pos || v > Number.MAX_SAFE_INTEGER || next === 0x2e || next === 0x65 || next === 0x45) return undefined;
    this.pos = j; // (a leading zero such as `01` cannot occur: the syntax pass rejected it)
    return v;
  }

  private metadata(): Record<string, string> {
    if (this.peek() !== '{') throw new SafetensorsMetadataError(`__metadata__ is ${this.raw()}, not an object of strings`);
    const out: [string, string][] = [];
    const seen = new Set<string>();
    if (this.enter('}')) {
      do {
        const k = this.key();
        if (seen.has(k)) throw new SafetensorsDuplicateError(`__metadata__: key ${q(k)} appears twice`);
        seen.add(k);
        if (this.peek() !== '"') throw new SafetensorsMetadataError(`__metadata__: value of ${q(k)} is ${this.raw()}, not a string`);
        out.push([k, this.string()]);
      } while (this.more('}'));
    }
    // fromEntries defines own properties, so a key such as "__proto__" is stored, not applied as a prototype.
    return Object.fromEntries(out);
  }

  private entry(name: string, dataLen: number): Entry {
    const t = new TensorLabel(name);
    if (this.peek() !== '{') throw new SafetensorsEntryError(`${t}: header entry is ${this.raw()}, not an object`);
    // First the field names (unknown and duplicate fields), remembering where each value starts; then the values in
    // a fixed order, so the error reported does not depend on the field order.
    let atDtype = -1;
    let atShape = -1;
    let atOffsets = -1;
    if (this.enter('}')) {
      do {
        const k = this.key();
        const prev = k === 'dtype' ? atDtype : k === 'shape' ? atShape : k === 'data_offsets' ? atOffsets : undefined;
        if (prev === undefined) throw new SafetensorsEntryError(`${t}: unknown field ${q(k)} (an entry has exactly dtype, shape, data_offsets)`);
        if (prev >= 0) throw new SafetensorsDuplicateError(`${t}: field ${q(k)} appears twice`);
        if (k === 'dtype') atDtype = this.pos;
        else if (k === 'shape') atShape = this.pos;
        else atOffsets = this.pos;
        this.skip();
      } while (this.more('}'));
    }
    const end = this.pos;
    if (atDtype < 0) throw new SafetensorsEntryError(`${t}: missing field "dtype"`);
    if (atShape < 0) throw new SafetensorsEntryError(`${t}: missing field "shape"`);
    if (atOffsets < 0) throw new SafetensorsEntryError(`${t}: missing field "data_offsets"`);

    this.pos = atDtype;
    const dtype = this.peek() === '"' ? this.string() : undefined;
    if (dtype === undefined || !Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
      this.pos = atDtype;
      throw new SafetensorsDTypeError(`${t}: dtype ${dtype === undefined ? this.raw() : q(dtype)} is not one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`);
    }
    const width = SAFETENSORS_DTYPES[dtype as SafetensorsDType];

    this.pos = atShape;
    if (this.peek() !== '[') throw new SafetensorsShapeError(`${t}: shape is ${this.raw()}, not a list of dimensions`);
    const dims: number[] = [];
    if (this.enter(']')) {
      do {
        if (dims.length === MAX_RANK) throw new SafetensorsShapeError(`${t}: shape has more than ${MAX_RANK} dimensions`);
        const d = this.uint();
        if (d === undefined) throw new SafetensorsShapeError(`${t}: shape dimension ${dims.length} is ${this.raw()}, not an integer in [0, 2^53-1]`);
        dims.push(d);
      } while (this.more(']'));
    }

    this.pos = atOffsets;
    let begin: number | undefined;
    let stop: number | undefined;
    if (this.peek() === '[' && this.enter(']')) {
      begin = this.uint();
      stop = begin !== undefined && this.more(']') ? this.uint() : undefined;
      if (stop !== undefined && this.more(']')) stop = undefined; // a third element
    }
    if (begin === undefined || stop === undefined) {
      this.pos = atOffsets;
      throw new SafetensorsOffsetError(`${t}: data_offsets ${this.raw()} is not [begin, end] of non-negative integers`);
    }
    if (begin > stop) throw new SafetensorsOffsetError(`${t}: data_offsets [${begin}, ${stop}] has begin > end`);
    if (stop > dataLen) {
      throw new SafetensorsOffsetError(`${t}: data_offsets [${begin}, ${stop}] reach past the data area of ${dataLen} bytes (truncated file?)`);
    }

    // Byte size of the shape, overflow-safe: exact in doubles while ≤ 2^53 − 1 (a product of two such numbers is
    // exact when its result is, and rounds to ≥ 2^53 when it is not), then exact in BigInt up to 2^64, then only
    // "more than 2^64" (every remaining dimension is ≥ 1, so the total cannot shrink). Dimensions of 1 are skipped,
    // so the BigInt work is a few multiplications at most: `[2**40, 2**40]` costs nothing and allocates nothing.
    let bytes = dims.includes(0) ? 0 : width;
    let big: bigint | undefined;
    for (let i = 0; i < dims.length && bytes !== 0; i++) {
      const d = dims[i];
      if (d === 1) continue;
      if (big === undefined) {
        if (bytes * d <= Number.MAX_SAFE_INTEGER) { bytes *= d; continue; }
        big = BigInt(bytes);
      }
      big *= BigInt(d);
      if (big > U64_LIMIT) break;
    }
    if (big !== undefined || bytes !== stop - begin) {
      const need = big === undefined ? bytes : big > U64_LIMIT ? 'more than 2^64' : big;
      throw new SafetensorsShapeError(`${t}: shape ${fmtDims(dims)} of ${dtype} needs ${need} bytes but data_offsets [${begin}, ${stop}] span ${stop - begin}`);
    }
    this.pos = end;
    return { name, dtype: dtype as SafetensorsDType, shape: dims, begin, end: stop, count: bytes / width };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Coverage of the data area.

/** `1 unused byte`, `8 unused bytes`. */
const unused = (n: number): string => `${n} unused byte${n === 1 ? '' : 's'}`;

/** Checks that the entries' byte ranges tile [0, dataLen) exactly. Sorts a copy: O(n log n). */
function checkCoverage(entries: readonly Entry[], dataLen: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      throw new SafetensorsOverlapError(
        `tensor ${q(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${q(prev!.name)} [${prev!.begin}, ${prev!.end}]`,
      );
    }
    if (e.begin > cursor) {
      throw new SafetensorsGapError(prev
        ? `tensor ${q(e.name)}: ${unused(e.begin - cursor)} between tensor ${q(prev.name)} (ends at ${cursor}) and it (starts at ${e.begin})`
        : `tensor ${q(e.name)}: ${unused(e.begin)} at the start of the data area before it`);
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLen) {
    throw new SafetensorsGapError(prev
      ? `tensor ${q(prev.name)}: ${unused(dataLen - cursor)} after it, the last tensor (data area is ${dataLen} bytes)`
      : `the data area holds ${dataLen} bytes but the header declares no tensors`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Data decoding and value checks.

/** float16 bits → number (exact). */
function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** number → float16 bits, via float32, rounding to nearest even (overflow → ±Inf, NaN stays NaN). */
function f32ToF16(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  if (exp > 112) {
    // Normal half (or overflow): keep 10 mantissa bits, round the 13 dropped ones; a carry bumps the exponent.
    let h = ((exp - 112) << 10) | (mant >>> 13);
    const r = mant & 0x1fff;
    if (r > 0x1000 || (r === 0x1000 && (h & 1))) h++;
    return sign | Math.min(h, 0x7c00);
  }
  // Subnormal half: value = (mant | 1 << 23) · 2^(exp − 150), in units of 2^−24 → shift right by 126 − exp.
  const shift = 126 - exp;
  if (shift > 24) return sign;
  const m = mant | 0x800000;
  let h = m >>> shift;
  const r = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (r > half || (r === half && (h & 1))) h++;
  return sign | h;
}

/** number → bfloat16 bits, via float32, rounding to nearest even (NaN stays a quiet NaN). */
function f32ToBf16(x: number): number {
  scratchF32[0] = x;
  const b = scratchU32[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return (b >>> 16) | 0x40;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // not NaN, so b ≤ 0xff800000 and the sum stays below 2^32
}

/**
 * Copies a tensor's bytes into a fresh array of its loaded type, F16/BF16 widened. The file is little-endian and
 * typed arrays use the platform's order, which is little-endian on every engine this package targets.
 */
function decode(src: Uint8Array, dtype: SafetensorsDType, count: number): TensorData {
  switch (dtype) {
    case 'F32': case 'F64': case 'I32': case 'I64': {
      const out = dtype === 'F32' ? new Float32Array(count) : dtype === 'F64' ? new Float64Array(count)
        : dtype === 'I32' ? new Int32Array(count) : new BigInt64Array(count);
      new Uint8Array(out.buffer).set(src);
      return out;
    }
    case 'U8': case 'BOOL':
      return src.slice();
    case 'F16': case 'BF16': {
      const out = new Float32Array(count);
      if (dtype === 'F16') {
        for (let i = 0; i < count; i++) out[i] = f16ToF32(src[2 * i] | (src[2 * i + 1] << 8));
      } else {
        const u = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) u[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >>> 0;
      }
      return out;
    }
  }
}

/** `element 5 (index [1, 2])` for messages. */
function fmtElement(shape: readonly number[], flat: number): string {
  const idx: number[] = new Array(shape.length);
  let r = flat;
  for (let i = shape.length - 1; i >= 0; i--) { idx[i] = r % shape[i]; r = Math.floor(r / shape[i]); }
  return `element ${flat} (index ${fmtDims(idx)})`;
}

function checkValues(e: Entry, data: TensorData, allowNonFinite: boolean): void {
  if (e.dtype === 'BOOL') {
    const u = data as Uint8Array;
    for (let i = 0; i < u.length; i++) {
      if (u[i] > 1) throw new SafetensorsBoolError(`tensor ${q(e.name)}: BOOL ${fmtElement(e.shape, i)} is ${u[i]}, not 0 or 1`);
    }
  } else if (!allowNonFinite && FLOAT_DTYPES.has(e.dtype)) {
    const f = data as Float32Array | Float64Array;
    for (let i = 0; i < f.length; i++) {
      const x = f[i];
      if (x - x !== 0) { // NaN or ±Infinity
        throw new SafetensorsNonFiniteError(
          `tensor ${q(e.name)}: ${e.dtype} ${fmtElement(e.shape, i)} is ${x} (non-finite weights are rejected; pass { allowNonFinite: true } to accept them)`,
        );
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Public API.

/**
 * Parses a safetensors buffer (`u64 LE header length N`, `N` bytes of JSON, then the data area) after validating
 * all of it; the checks and the policy choices are listed at the top of this file. Tensors come back in header
 * order, each as a fresh aligned copy (F16/BF16 widened to Float32Array). Memory: the tensor data is at most twice
 * the data area (nothing is allocated from declared sizes before they are checked against the file), and the header
 * costs a small constant times its own length (about 0.6 KB of JS objects per declared tensor).
 *
 * @throws {SafetensorsError} a subclass per kind of defect ({@link SafetensorsHeaderLengthError},
 *   {@link SafetensorsHeaderError}, {@link SafetensorsDuplicateError}, {@link SafetensorsMetadataError},
 *   {@link SafetensorsEntryError}, {@link SafetensorsDTypeError}, {@link SafetensorsShapeError},
 *   {@link SafetensorsOffsetError}, {@link SafetensorsOverlapError}, {@link SafetensorsGapError},
 *   {@link SafetensorsBoolError}, {@link SafetensorsNonFiniteError}), whose message names the tensor; never any
 *   other error for any input bytes.
 */
export function parseSafetensors(bytes: Uint8Array, options: ParseSafetensorsOptions = {}): SafetensorsFile {
  if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
    throw new SafetensorsError('parseSafetensors expects the file as a Uint8Array');
  }
  const size = bytes.byteLength;
  if (size < 8) throw new SafetensorsHeaderLengthError(`file of ${size} bytes is too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, size).getBigUint64(0, true);
  const limit = Math.min(MAX_HEADER_BYTES, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  if (n64 > BigInt(limit)) {
    throw new SafetensorsHeaderLengthError(`header length ${n64} exceeds the limit of ${limit} bytes`);
  }
  if (n64 > BigInt(size - 8)) {
    throw new SafetensorsHeaderLengthError(`header length ${n64} runs past the end of the file (${size - 8} bytes after the length field)`);
  }
  const n = Number(n64);
  if (n === 0 || bytes[8] !== 0x7b) throw new SafetensorsHeaderError('header does not start with "{"');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsHeaderError('header is not valid UTF-8');
  }
  checkJsonSyntax(text);
  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const { metadata, entries } = new HeaderReader(text).read(dataLen);
  checkCoverage(entries, dataLen);

  const allowNonFinite = options.allowNonFinite ?? false;
  const tensors = new Map<string, LoadedTensor>();
  for (const e of entries) {
    const data = decode(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, e.count);
    checkValues(e, data, allowNonFinite);
    tensors.set(e.name, { name: e.name, dtype: e.dtype, shape: e.shape, data });
  }
  return { metadata, tensors };
}

/**
 * A tensor to write. `dtype` defaults from the array type: Float32Array → F32, Float64Array → F64, Int32Array → I32,
 * BigInt64Array → I64, Uint8Array → U8. A Float32Array may also be written as F16 or BF16 (rounded to nearest even)
 * and a Uint8Array as BOOL (values 0/1). A {@link LoadedTensor} is a valid TensorToWrite (it is written back in its
 * original dtype).
 */
export interface TensorToWrite {
  shape: readonly number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
  dtype?: SafetensorsDType;
}

/** Which array types each dtype is written from. */
const WRITE_ARRAY: Record<SafetensorsDType, string> = {
  F64: 'Float64Array', F32: 'Float32Array', F16: 'Float32Array', BF16: 'Float32Array',
  I64: 'BigInt64Array', I32: 'Int32Array', U8: 'Uint8Array', BOOL: 'Uint8Array',
};

function defaultDType(data: TensorToWrite['data']): SafetensorsDType | undefined {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Uint8Array) return 'U8';
  return undefined;
}

/** The little-endian bytes of a tensor in its stored dtype (a view when no conversion is needed). */
function encode(data: TensorToWrite['data'], dtype: SafetensorsDType): Uint8Array {
  if (dtype === 'F16' || dtype === 'BF16') {
    const src = data as Float32Array;
    const out = new Uint16Array(src.length);
    const conv = dtype === 'F16' ? f32ToF16 : f32ToBf16;
    for (let i = 0; i < src.length; i++) out[i] = conv(src[i]);
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Serialises tensors (in `Object.entries` order, contiguous, no gaps) and string metadata into safetensors bytes,
 * header padded with spaces to a multiple of 8. `parseSafetensors(serializeSafetensors(t, m))` gives back `t` and
 * `m` (F16/BF16 rounded; non-finite floats are written, but the reader rejects them unless allowed).
 *
 * @throws {SafetensorsEntryError} a tensor named `__metadata__`.
 * @throws {SafetensorsDTypeError} a dtype that does not fit the data's array type.
 * @throws {SafetensorsShapeError} a shape that is not non-negative integers or whose product is not the data length.
 * @throws {SafetensorsBoolError} a BOOL tensor holding a value other than 0/1.
 * @throws {SafetensorsMetadataError} a metadata value that is not a string.
 */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  // The header is assembled as text rather than through an object, so no name (e.g. "__proto__") can touch a prototype.
  const members: string[] = [];
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsMetadataError(`__metadata__: value of ${q(k)} is a ${typeof v}, not a string`);
    }
    members.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const tn = `tensor ${q(name)}`;
    if (name === '__metadata__') throw new SafetensorsEntryError(`${tn}: the name is reserved for the metadata`);
    const dtype = t.dtype ?? defaultDType(t.data);
    if (dtype === undefined || !Object.hasOwn(WRITE_ARRAY, dtype) || Object.prototype.toString.call(t.data) !== `[object ${WRITE_ARRAY[dtype]}]`) {
      throw new SafetensorsDTypeError(`${tn}: cannot write dtype ${dtype ?? '(none)'} from ${Object.prototype.toString.call(t.data).slice(8, -1)}`);
    }
    let count = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new SafetensorsShapeError(`${tn}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
      count *= d;
    }
    if (count !== t.data.length) {
      throw new SafetensorsShapeError(`${tn}: shape ${fmtDims(t.shape)} has ${count} elements but the data has ${t.data.length}`);
    }
    if (dtype === 'BOOL') {
      const i = (t.data as Uint8Array).findIndex((x) => x > 1);
      if (i >= 0) throw new SafetensorsBoolError(`${tn}: BOOL ${fmtElement(t.shape, i)} is ${t.data[i]}, not 0 or 1`);
    }
    const bytes = encode(t.data, dtype);
    members.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] })}`);
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  const json = new TextEncoder().encode(`{${members.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);
  let p = 8 + headerLen;
  for (const part of parts) { out.set(part, p); p += part.byteLength; }
  return out;
}
