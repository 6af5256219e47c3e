// Generates the malformed-safetensors corpus, deterministically and independently of the reader under test:
//
//   node packages/core-wasm/test/safetensors/make-corpus.mjs
//
// writes `base.safetensors` (a valid file holding every supported dtype) next to this script, and under `corpus/`
// one small malformed file per case plus `expected.json` mapping each file name to the error the reader must throw
// (`error`: class name, `message`: a substring of the message). The corpus test checks every file against it and
// that re-running this script would produce the committed bytes (so edit this script, never the files).
//
// `buildCorpus()` is exported for that test; running the file as a script writes everything.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------------------
// Byte helpers (little-endian, as the format requires).

const bytesOf = (ta) => new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength);
const f32 = (v) => bytesOf(new Float32Array(v));
const f64 = (v) => bytesOf(new Float64Array(v));
const i32 = (v) => bytesOf(new Int32Array(v));
const i64 = (v) => bytesOf(new BigInt64Array(v));
const u16 = (v) => bytesOf(new Uint16Array(v));
const u8 = (v) => new Uint8Array(v);

function concat(parts) {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

function u64(n) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

/** Header text bytes padded with spaces to a multiple of 8 (as writers do). */
function padded(text) {
  const t = new TextEncoder().encode(text);
  const out = new Uint8Array(Math.ceil(t.byteLength / 8) * 8).fill(0x20);
  out.set(t);
  return out;
}

/** A whole file from header bytes and data; `length` overrides the header-length field. */
function fileOf(header, data, length = header.byteLength) {
  return concat([u64(length), header, data]);
}

// `raw('2.0')` puts a literal JSON token where JSON.stringify cannot (2.0, 1e0, 2^64, …): it is a marker string that
// `stringify` replaces by the bare token.
const raw = (tok) => `\u0001${tok}\u0001`;
const stringify = (obj) => JSON.stringify(obj).replace(/"\\u0001(.*?)\\u0001"/g, '$1');

// ---------------------------------------------------------------------------------------------------------------
// The valid base file: every dtype, a scalar, an empty tensor, metadata; data contiguous in header order.

const BASE_METADATA = { format: 'pt', note: 'spikewasm safetensors corpus base' };
const BASE_TENSORS = [
  ['weight', 'F32', [2, 3], f32([0.5, -1.25, 3, 0, 1e-3, -2])],
  ['bias', 'F16', [4], u16([0x3c00, 0xc000, 0x0001, 0x7bff])], // 1, -2, 2^-24 (subnormal), 65504
  ['emb', 'BF16', [2, 2], u16([0x3f80, 0xbfc0, 0x4049, 0x8000])], // 1, -1.5, 3.140625, -0
  ['lmu.A', 'F64', [2, 2], f64([1 / 3, -0.25, 1e-300, 2.5])],
  ['ids', 'I64', [3], i64([1n, -2n, 2n ** 40n])],
  ['idx', 'I32', [2], i32([7, -9])],
  ['counts', 'U8', [2, 4], u8([0, 1, 1, 0, 0, 0, 2, 255])], // U8 is not restricted to 0/1
  ['mask', 'BOOL', [3], u8([1, 0, 1])],
  ['empty', 'F32', [0, 3], u8([])],
  ['scalar', 'F32', [], f32([42])],
];

/** A mutable description of the base file: header object (in order) and per-tensor data. */
function base() {
  const header = { __metadata__: { ...BASE_METADATA } };
  const data = [];
  let o = 0;
  for (const [name, dtype, shape, bytes] of BASE_TENSORS) {
    header[name] = { dtype, shape: [...shape], data_offsets: [o, o + bytes.byteLength] };
    data.push(bytes.slice());
    o += bytes.byteLength;
  }
  return { header, data: concat(data) };
}

/** Offsets of a base tensor. */
const off = (name) => base().header[name].data_offsets;

function build({ header, data }) {
  return fileOf(padded(stringify(header)), data);
}

// ---------------------------------------------------------------------------------------------------------------
// Cases. Each is [file name, bytes, expected error class, expected message substring].

export function buildCorpus() {
  const cases = [];
  const add = (name, bytes, error, message) => cases.push({ name: `${name}.safetensors`, bytes, error, message });
  /** Base file with `edit(header, data)` applied to a fresh copy (edit may return new data). */
  const edited = (edit) => { const b = base(); b.data = edit(b.header, b.data) ?? b.data; return build(b); };
  /** Base file with the header text replaced through `f(text)`. */
  const textEdited = (f) => { const b = base(); return fileOf(padded(f(stringify(b.header))), b.data); };
  /** Base file with raw header bytes. */
  const rawHeader = (hdr) => fileOf(hdr, base().data);

  const good = build(base());
  const hdrLen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const dataStart = 8 + hdrLen;
  const dataLen = good.byteLength - dataStart;

  // --- truncation at every structural point -----------------------------------------------------------------
  for (const n of [0, 1, 4, 7]) add(`trunc-length-${n}`, good.slice(0, n), 'SafetensorsHeaderLengthError', `file of ${n} bytes is too short`);
  add('trunc-header-0', good.slice(0, 8), 'SafetensorsHeaderLengthError', `header length ${hdrLen} runs past the end of the file (0 bytes`);
  add('trunc-header-1', good.slice(0, 9), 'SafetensorsHeaderLengthError', `header length ${hdrLen} runs past the end of the file (1 bytes`);
  add('trunc-header-half', good.slice(0, 8 + hdrLen / 2), 'SafetensorsHeaderLengthError', 'runs past the end of the file');
  add('trunc-header-last-byte', good.slice(0, dataStart - 1), 'SafetensorsHeaderLengthError', 'runs past the end of the file');
  add('trunc-data-0', good.slice(0, dataStart), 'SafetensorsOffsetError', 'tensor "weight": data_offsets [0, 24] reach past the data area of 0 bytes');
  // Inside every non-empty tensor's data (one byte in): that tensor is the first to reach past the end.
  for (const [name, , , bytes] of BASE_TENSORS) {
    if (bytes.byteLength === 0) continue;
    const [b, e] = off(name);
    add(`trunc-data-in-${name}`, good.slice(0, dataStart + b + 1), 'SafetensorsOffsetError', `tensor "${name}": data_offsets [${b}, ${e}] reach past the data area of ${b + 1} bytes`);
  }
  {
    const [, e] = off('idx'); // cut exactly on a tensor boundary: the next tensor is missing
    add('trunc-data-at-boundary', good.slice(0, dataStart + e), 'SafetensorsOffsetError', `tensor "counts": data_offsets [${e}, ${e + 8}] reach past the data area of ${e} bytes`);
  }
  add('trunc-data-last-byte', good.slice(0, good.byteLength - 1), 'SafetensorsOffsetError', 'tensor "scalar": data_offsets');

  // --- header length field ------------------------------------------------------------------------------------
  const withLength = (n) => { const f = good.slice(); f.set(u64(n), 0); return f; };
  // the default header limit is 8 MiB (DEFAULT_MAX_HEADER_BYTES = 8388608); the absolute one 100 MB
  add('length-u64-max', withLength(2n ** 64n - 1n), 'SafetensorsHeaderLengthError', 'header length 18446744073709551615 exceeds the limit of 8388608 bytes');
  add('length-limit-plus-1', withLength(8_388_609), 'SafetensorsHeaderLengthError', 'exceeds the limit of 8388608 bytes');
  add('length-limit-past-eof', withLength(8_388_608), 'SafetensorsHeaderLengthError', 'header length 8388608 runs past the end of the file');
  add('length-reference-limit', withLength(100_000_000), 'SafetensorsHeaderLengthError', 'header length 100000000 exceeds the limit of 8388608 bytes');
  add('length-past-eof-by-1', withLength(good.byteLength - 8 + 1), 'SafetensorsHeaderLengthError', 'runs past the end of the file');
  add('length-zero', withLength(0), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('length-short-by-8', withLength(hdrLen - 8), 'SafetensorsHeaderError', 'header is not valid JSON');
  // Eight bytes too long: the header swallows weight's first two floats (bytes 00 00 00 3f, 00 00 a0 bf).
  add('length-long-by-8', withLength(hdrLen + 8), 'SafetensorsHeaderError', 'not valid UTF-8');
  add('length-long-by-4', withLength(hdrLen + 4), 'SafetensorsHeaderError', 'unexpected text after the top-level object');

  // --- header text: not UTF-8, not JSON, not an object ----------------------------------------------------------
  const enc = (s) => new TextEncoder().encode(s);
  const pad8 = (b) => { const out = new Uint8Array(Math.ceil(b.byteLength / 8) * 8).fill(0x20); out.set(b); return out; };
  const goodText = stringify(base().header);
  const nameAt = goodText.indexOf('"weight"') + 1;
  const spliceName = (bytes) => pad8(concat([enc(goodText.slice(0, nameAt)), bytes, enc(goodText.slice(nameAt))]));
  add('utf8-invalid-byte', rawHeader(spliceName(u8([0xff]))), 'SafetensorsHeaderError', 'header is not valid UTF-8');
  add('utf8-overlong', rawHeader(spliceName(u8([0xc0, 0xaf]))), 'SafetensorsHeaderError', 'header is not valid UTF-8');
  add('utf8-surrogate', rawHeader(spliceName(u8([0xed, 0xa0, 0x80]))), 'SafetensorsHeaderError', 'header is not valid UTF-8');
  add('utf8-truncated-sequence', rawHeader(spliceName(u8([0xe2, 0x82]))), 'SafetensorsHeaderError', 'header is not valid UTF-8');
  add('utf8-bom', rawHeader(pad8(concat([u8([0xef, 0xbb, 0xbf]), enc(goodText)]))), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('json-leading-space', rawHeader(pad8(enc(` ${goodText}`))), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('json-array', rawHeader(padded('[1, 2, 3]')), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('json-string', rawHeader(padded('"weights"')), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('json-null', rawHeader(padded('null')), 'SafetensorsHeaderError', 'header does not start with "{"');
  add('json-garbage', rawHeader(padded('{not json at all}')), 'SafetensorsHeaderError', 'header is not valid JSON: expected a string key');
  add('json-trailing-comma', textEdited((t) => `${t.slice(0, -1)},}`), 'SafetensorsHeaderError', 'header is not valid JSON');
  add('json-single-quotes', textEdited((t) => t.replace('"weight"', "'weight'")), 'SafetensorsHeaderError', 'header is not valid JSON: expected a string key');
  add('json-trailing-text', textEdited((t) => `${t} x`), 'SafetensorsHeaderError', 'unexpected text after the top-level object');
  add('json-nul-padding', rawHeader(concat([enc(goodText), new Uint8Array(8 - (goodText.length % 8) || 8)])), 'SafetensorsHeaderError', 'unexpected text after the top-level object');
  add('json-unterminated', rawHeader(padded('{"weight": {"dtype": "F32')), 'SafetensorsHeaderError', 'unterminated string');
  add('json-control-char', textEdited((t) => t.replace('"weight"', '"wei\nght"')), 'SafetensorsHeaderError', 'control character in a string');
  add('json-bad-escape', textEdited((t) => t.replace('"weight"', '"wei\\ght"')), 'SafetensorsHeaderError', 'bad escape');
  add('json-deep-nesting', textEdited((t) => t.replace('"shape":[2,3]', `"shape":${'['.repeat(40)}${']'.repeat(40)}`)), 'SafetensorsHeaderError', 'nested deeper than 32 levels');

  // --- duplicate keys (JSON.parse would silently keep the last one) -----------------------------------------------
  const weightEntry = stringify(base().header.weight);
  add('dup-tensor', textEdited((t) => t.replace('"bias":', `"weight":${weightEntry},"bias":`)), 'SafetensorsDuplicateError', 'tensor "weight" appears twice in the header');
  add('dup-tensor-escaped', textEdited((t) => t.replace('"bias":', `"w\\u0065ight":${weightEntry},"bias":`)), 'SafetensorsDuplicateError', 'tensor "weight" appears twice in the header');
  add('dup-metadata', textEdited((t) => t.replace('"weight":', '"__metadata__":{},"weight":')), 'SafetensorsDuplicateError', '__metadata__ appears twice in the header');
  add('dup-metadata-key', textEdited((t) => t.replace('"format":"pt"', '"format":"pt","format":"np"')), 'SafetensorsDuplicateError', '__metadata__: key "format" appears twice');
  add('dup-entry-field', textEdited((t) => t.replace('{"dtype":"F32","shape":[2,3]', '{"dtype":"F32","dtype":"U8","shape":[2,3]')), 'SafetensorsDuplicateError', 'tensor "weight": field "dtype" appears twice');

  // --- __metadata__ --------------------------------------------------------------------------------------------
  add('meta-number-value', edited((h) => { h.__metadata__.kind = 3; }), 'SafetensorsMetadataError', '__metadata__: value of "kind" is 3, not a string');
  add('meta-null-value', edited((h) => { h.__metadata__.kind = null; }), 'SafetensorsMetadataError', '__metadata__: value of "kind" is null, not a string');
  add('meta-object-value', edited((h) => { h.__metadata__.config = { layers: 2 }; }), 'SafetensorsMetadataError', '__metadata__: value of "config" is {"layers":2}, not a string');
  add('meta-array-value', edited((h) => { h.__metadata__.tags = ['a', 'b']; }), 'SafetensorsMetadataError', '__metadata__: value of "tags" is ["a","b"], not a string');
  add('meta-not-object', edited((h) => { h.__metadata__ = 'pt'; }), 'SafetensorsMetadataError', '__metadata__ is "pt", not an object of strings');
  add('meta-null', edited((h) => { h.__metadata__ = null; }), 'SafetensorsMetadataError', '__metadata__ is null, not an object of strings');

  // --- tensor entries: missing and extra keys ------------------------------------------------------------------
  add('entry-number', edited((h) => { h.weight = 24; }), 'SafetensorsEntryError', 'tensor "weight": header entry is 24, not an object');
  add('entry-array', edited((h) => { h.weight = ['F32', [2, 3], [0, 24]]; }), 'SafetensorsEntryError', 'tensor "weight": header entry is ["F32",[2,3],[0,24]], not an object');
  add('entry-missing-dtype', edited((h) => { delete h.weight.dtype; }), 'SafetensorsEntryError', 'tensor "weight": missing field "dtype"');
  add('entry-missing-shape', edited((h) => { delete h.bias.shape; }), 'SafetensorsEntryError', 'tensor "bias": missing field "shape"');
  add('entry-missing-offsets', edited((h) => { delete h.scalar.data_offsets; }), 'SafetensorsEntryError', 'tensor "scalar": missing field "data_offsets"');
  add('entry-extra-field', edited((h) => { h.weight.requires_grad = false; }), 'SafetensorsEntryError', 'tensor "weight": unknown field "requires_grad"');
  add('entry-misspelled-offsets', edited((h) => { h.idx = { dtype: 'I32', shape: [2], offsets: h.idx.data_offsets }; }), 'SafetensorsEntryError', 'tensor "idx": unknown field "offsets"');

  // --- dtypes ---------------------------------------------------------------------------------------------------
  for (const [tag, dt, shown] of [
    ['lowercase', 'f32', '"f32"'], ['torch-name', 'float32', '"float32"'], ['i8', 'I8', '"I8"'], ['u16', 'U16', '"U16"'],
    ['complex', 'C64', '"C64"'], ['empty', '', '""'], ['prototype-key', 'toString', '"toString"'], ['number', 4, '4'],
  ]) {
    add(`dtype-${tag}`, edited((h) => { h.weight.dtype = dt; }), 'SafetensorsDTypeError', `tensor "weight": dtype ${shown} is not one of F64, F32, F16, BF16, I64, I32, U8, BOOL`);
  }

  // --- shapes -----------------------------------------------------------------------------------------------------
  const shapeCase = (tag, shape, message) => add(`shape-${tag}`, edited((h) => { h.weight.shape = shape; }), 'SafetensorsShapeError', `tensor "weight": ${message}`);
  shapeCase('not-list', 6, 'shape is 6, not a list of dimensions');
  shapeCase('negative-dim', [-2, 3], 'shape dimension 0 is -2, not an integer in [0, 2^53-1]');
  shapeCase('float-dim', [2, 1.5], 'shape dimension 1 is 1.5, not an integer');
  shapeCase('float-integral-dim', [raw('2.0'), 3], 'shape dimension 0 is 2.0, not an integer');
  shapeCase('exponent-dim', [2, raw('3e0')], 'shape dimension 1 is 3e0, not an integer');
  shapeCase('huge-dim', [raw('18446744073709551617'), 3], 'shape dimension 0 is 18446744073709551617, not an integer in [0, 2^53-1]');
  shapeCase('unsafe-dim', [2 ** 53, 0], 'shape dimension 0 is 9007199254740992, not an integer in [0, 2^53-1]');
  shapeCase('string-dim', ['2', 3], 'shape dimension 0 is "2", not an integer');
  shapeCase('null-dim', [2, null], 'shape dimension 1 is null, not an integer');
  shapeCase('nested-dim', [[2], 3], 'shape dimension 0 is [2], not an integer');
  shapeCase('product-2pow80', [2 ** 40, 2 ** 40], 'shape [1099511627776, 1099511627776] of F32 needs more than 2^64 bytes but data_offsets [0, 24] span 24');
  shapeCase('product-max-safe', [2 ** 53 - 1, 2 ** 53 - 1, 2 ** 53 - 1], 'shape [9007199254740991, 9007199254740991, 9007199254740991] of F32 needs more than 2^64 bytes');
  shapeCase('rank-65', [6, ...new Array(64).fill(1)], 'shape has more than 64 dimensions');
  shapeCase('too-few-bytes', [2, 2], 'shape [2, 2] of F32 needs 16 bytes but data_offsets [0, 24] span 24');
  shapeCase('too-many-bytes', [7], 'shape [7] of F32 needs 28 bytes but data_offsets [0, 24] span 24');
  shapeCase('zero-dim-nonempty', [0, 3], 'shape [0, 3] of F32 needs 0 bytes but data_offsets [0, 24] span 24');
  add('shape-dtype-width', edited((h) => { h.weight.dtype = 'F64'; }), 'SafetensorsShapeError', 'tensor "weight": shape [2, 3] of F64 needs 48 bytes but data_offsets [0, 24] span 24');
  // A u64 product that wraps to 0 (2^32 · 2^32 · 4 = 2^66) on an empty range: a wrapping reader would accept it.
  add('shape-u64-wrap', edited((h) => { h.empty.shape = [2 ** 32, 2 ** 32]; }), 'SafetensorsShapeError', 'tensor "empty": shape [4294967296, 4294967296] of F32 needs more than 2^64 bytes but data_offsets [115, 115] span 0');

  // --- data offsets ---------------------------------------------------------------------------------------------
  const offCase = (tag, offsets, message) => add(`offsets-${tag}`, edited((h) => { h.weight.data_offsets = offsets; }), 'SafetensorsOffsetError', `tensor "weight": ${message}`);
  offCase('not-list', 24, 'data_offsets 24 is not [begin, end] of non-negative integers');
  offCase('one-element', [0], 'data_offsets [0] is not [begin, end]');
  offCase('three-elements', [0, 24, 48], 'data_offsets [0,24,48] is not [begin, end]');
  offCase('negative', [-8, 16], 'data_offsets [-8,16] is not [begin, end] of non-negative integers');
  offCase('float', [0, raw('24.0')], 'data_offsets [0,24.0] is not [begin, end]');
  offCase('string', ['0', '24'], 'data_offsets ["0","24"] is not [begin, end]');
  offCase('u64-max', [0, raw('18446744073709551615')], 'data_offsets [0,18446744073709551615] is not [begin, end] of non-negative integers');
  offCase('reversed', [24, 0], 'data_offsets [24, 0] has begin > end');
  offCase('past-end', [0, 10_000], `data_offsets [0, 10000] reach past the data area of ${dataLen} bytes`);
  offCase('both-past-end', [5000, 5024], `data_offsets [5000, 5024] reach past the data area of ${dataLen} bytes`);

  // --- overlaps ---------------------------------------------------------------------------------------------------
  add('overlap-partial', edited((h) => { h.bias.data_offsets = [16, 24]; }), 'SafetensorsOverlapError', 'tensor "bias": data_offsets [16, 24] overlap tensor "weight" [0, 24]');
  add('overlap-identical', edited((h) => { h.scalar.data_offsets = [0, 4]; }), 'SafetensorsOverlapError', 'overlap tensor "scalar" [0, 4]');
  add('overlap-empty-inside', edited((h) => { h.empty.data_offsets = [4, 4]; }), 'SafetensorsOverlapError', 'tensor "empty": data_offsets [4, 4] overlap tensor "weight" [0, 24]');
  // Every tensor aliasing the same 24 bytes as F32 [6]: the classic "many names, one buffer" trick.
  add('overlap-aliases', (() => {
    const header = { a: { dtype: 'F32', shape: [6], data_offsets: [0, 24] }, b: { dtype: 'I32', shape: [6], data_offsets: [0, 24] } };
    return fileOf(padded(stringify(header)), f32([1, 2, 3, 4, 5, 6]));
  })(), 'SafetensorsOverlapError', 'tensor "b": data_offsets [0, 24] overlap tensor "a" [0, 24]');

  // --- gaps (the data area must be covered exactly) ---------------------------------------------------------------
  add('gap-trailing-byte', concat([good, u8([0])]), 'SafetensorsGapError', `tensor "scalar": 1 unused byte after it, the last tensor (data area is ${dataLen + 1} bytes)`);
  add('gap-trailing-polyglot', concat([good, new TextEncoder().encode('<script>alert(1)</script>')]), 'SafetensorsGapError', 'unused bytes after it, the last tensor');
  add('gap-leading', edited((h, d) => {
    for (const [k, v] of Object.entries(h)) if (k !== '__metadata__') v.data_offsets = v.data_offsets.map((x) => x + 4);
    return concat([u8([0, 0, 0, 0]), d]);
  }), 'SafetensorsGapError', 'tensor "weight": 4 unused bytes at the start of the data area before it');
  add('gap-middle', edited((h, d) => {
    let after = false;
    for (const [k, v] of Object.entries(h)) {
      if (k === '__metadata__') continue;
      if (after) v.data_offsets = v.data_offsets.map((x) => x + 8);
      if (k === 'lmu.A') after = true;
    }
    const [, e] = off('lmu.A');
    return concat([d.subarray(0, e), new Uint8Array(8), d.subarray(e)]);
  }), 'SafetensorsGapError', 'tensor "ids": 8 unused bytes between tensor "lmu.A" (ends at 72) and it (starts at 80)');
  add('gap-no-tensors', fileOf(padded(stringify({ __metadata__: BASE_METADATA })), f32([1, 2])), 'SafetensorsGapError', 'the data area holds 8 bytes but the header declares no tensors');

  // --- values: NaN/Inf weights, BOOL other than 0/1 ---------------------------------------------------------------
  const setData = (name, bytes, at = 0) => edited((h, d) => { d.set(bytes, h[name].data_offsets[0] + at); });
  add('nonfinite-f32-nan', setData('weight', f32([NaN]), 16), 'SafetensorsNonFiniteError', 'tensor "weight": F32 element 4 (index [1, 1]) is NaN');
  add('nonfinite-f32-inf', setData('weight', f32([Infinity]), 4), 'SafetensorsNonFiniteError', 'tensor "weight": F32 element 1 (index [0, 1]) is Infinity');
  add('nonfinite-f64-neg-inf', setData('lmu.A', f64([-Infinity]), 24), 'SafetensorsNonFiniteError', 'tensor "lmu.A": F64 element 3 (index [1, 1]) is -Infinity');
  add('nonfinite-f16-nan', setData('bias', u16([0x7e00]), 2), 'SafetensorsNonFiniteError', 'tensor "bias": F16 element 1 (index [1]) is NaN');
  add('nonfinite-f16-inf', setData('bias', u16([0xfc00]), 6), 'SafetensorsNonFiniteError', 'tensor "bias": F16 element 3 (index [3]) is -Infinity');
  add('nonfinite-bf16-inf', setData('emb', u16([0x7f80]), 4), 'SafetensorsNonFiniteError', 'tensor "emb": BF16 element 2 (index [1, 0]) is Infinity');
  add('nonfinite-scalar-nan', setData('scalar', u8([0x01, 0x00, 0xc0, 0x7f])), 'SafetensorsNonFiniteError', 'tensor "scalar": F32 element 0 (index []) is NaN');
  add('bool-two', setData('mask', u8([2]), 1), 'SafetensorsBoolError', 'tensor "mask": BOOL element 1 (index [1]) is 2, not 0 or 1');
  add('bool-255', setData('mask', u8([255]), 2), 'SafetensorsBoolError', 'tensor "mask": BOOL element 2 (index [2]) is 255, not 0 or 1');

  return { base: good, cases };
}

// ---------------------------------------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dir = `${here}corpus/`;
  const { base: baseFile, cases } = buildCorpus();
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.safetensors')) rmSync(dir + f);
  writeFileSync(`${here}base.safetensors`, baseFile);
  const expected = {};
  for (const c of cases) {
    if (expected[c.name]) throw new Error(`duplicate case ${c.name}`);
    writeFileSync(dir + c.name, c.bytes);
    expected[c.name] = { error: c.error, message: c.message };
  }
  writeFileSync(`${dir}expected.json`, `${JSON.stringify(expected, null, 2)}\n`);
  console.log(`wrote base.safetensors (${baseFile.byteLength} bytes) and ${cases.length} malformed files to ${dir}`);
}
