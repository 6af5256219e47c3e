// Property-based fuzzer for parseSafetensors (fast-check). Shared by the bounded CI run (fuzz.test.ts) and the long
// run (`node packages/core-wasm/scripts/fuzz-safetensors.mjs --runs 100000`, which bundles this file with esbuild).
//
// Inputs: valid files built by an independent writer (every dtype, random shapes, unicode names, metadata, data laid
// out in a random order), then mutated — bit flips, byte writes, insertions, deletions, truncations, appended bytes,
// edited length fields, and structural header edits (dtype / shape / offset values from a list of edge cases,
// missing, extra and duplicated keys, non-string metadata) — plus random JSON headers.
//
// Properties, checked on every case:
//  * parseSafetensors returns or throws a *subclass* of SafetensorsError with a short message — never another error;
//  * a result is consistent: known dtype, shape of safe non-negative integers, `data.length == product(shape)`, the
//    array type of the dtype, BOOL ∈ {0,1}, floats finite, total output ≤ 2 × file size (F16/BF16 widening), and
//    serializeSafetensors accepts it and round-trips it;
//  * no case takes more than 1 s; ArrayBuffer memory grows by at most 2 × file size + 64 KiB during a call;
//  * unmutated valid files parse, and re-serialise to exactly the bytes the independent writer produces;
//  * the reader accepts exactly the files a plain, independent re-implementation of the rules (reference.ts) accepts,
//    and returns the same metadata, names, dtypes, shapes and values;
//  * the header JSON parser agrees with JSON.parse on which texts are syntactically valid JSON.
import fc from 'fast-check';
import { parseSafetensors, serializeSafetensors, SAFETENSORS_DTYPES, type SafetensorsDType, type SafetensorsFile } from '../../src/safetensors.js';
import { SafetensorsError } from '../../src/errors.js';
import { referenceParse } from './reference.js';

const DTYPES = Object.keys(SAFETENSORS_DTYPES) as SafetensorsDType[];
const FLOATS = new Set<SafetensorsDType>(['F64', 'F32', 'F16', 'BF16']);
const MAX_CASE_MS = 1000;
const MAX_MESSAGE = 1000;

// ---------------------------------------------------------------------------------------------------------------
// An independent writer. A document is the header as a list of members whose values are raw JSON text, so edits can
// put in tokens JSON.stringify never makes (2.0, -0, 18446744073709551616, duplicate keys, …).

type Member = [key: string, value: string | Member[]];
interface Doc { members: Member[]; data: Uint8Array }

const jsonText = (members: Member[]): string =>
  `{${members.map(([k, v]) => `${JSON.stringify(k)}:${typeof v === 'string' ? v : jsonText(v)}`).join(',')}}`;

function writeDoc(doc: Doc, pad = true): Uint8Array {
  const text = new TextEncoder().encode(jsonText(doc.members));
  const n = pad ? Math.ceil(text.byteLength / 8) * 8 : text.byteLength;
  const out = new Uint8Array(8 + n + doc.data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.fill(0x20, 8, 8 + n);
  out.set(text, 8);
  out.set(doc.data, 8 + n);
  return out;
}

interface TensorSpec { name: string; dtype: SafetensorsDType; shape: number[]; material: Uint8Array }
interface FileSpec { metadata: [string, string][]; tensors: TensorSpec[]; rotate: number; reverse: boolean }

/** The tensor's bytes: `material` repeated to size, then sanitised so the file is valid (finite floats, 0/1 BOOL). */
function tensorBytes(t: TensorSpec): Uint8Array {
  const width = SAFETENSORS_DTYPES[t.dtype];
  const b = new Uint8Array(t.shape.reduce((a, d) => a * d, 1) * width);
  for (let i = 0; i < b.length; i++) b[i] = t.material.length ? t.material[i % t.material.length] : 0;
  const dv = new DataView(b.buffer);
  for (let i = 0; i < b.length; i += width) {
    switch (t.dtype) {
      case 'BOOL': b[i] &= 1; break;
      case 'F32': if (!Number.isFinite(dv.getFloat32(i, true))) dv.setUint32(i, 0); break;
      case 'F64': if (!Number.isFinite(dv.getFloat64(i, true))) dv.setFloat64(i, 0); break;
      case 'F16': if ((dv.getUint16(i, true) & 0x7c00) === 0x7c00) dv.setUint16(i, 0); break;
      case 'BF16': if ((dv.getUint16(i, true) & 0x7f80) === 0x7f80) dv.setUint16(i, 0); break;
      default: break;
    }
  }
  return b;
}

/** A valid document; data laid out in header order rotated by `rotate` (and maybe reversed) — offsets stay exact. */
function validDoc(spec: FileSpec, canonical = false): Doc {
  const bytes = spec.tensors.map(tensorBytes);
  let order = spec.tensors.map((_, i) => i);
  if (!canonical && order.length) {
    const r = spec.rotate % order.length;
    order = [...order.slice(r), ...order.slice(0, r)];
    if (spec.reverse) order.reverse();
  }
  const offsets: [number, number][] = [];
  let o = 0;
  for (const i of order) { offsets[i] = [o, o + bytes[i].byteLength]; o += bytes[i].byteLength; }
  const data = new Uint8Array(o);
  for (const i of order) data.set(bytes[i], offsets[i][0]);
  const members: Member[] = [];
  if (spec.metadata.length) members.push(['__metadata__', spec.metadata.map(([k, v]) => [k, JSON.stringify(v)])]);
  spec.tensors.forEach((t, i) => members.push([t.name, [
    ['dtype', JSON.stringify(t.dtype)], ['shape', JSON.stringify(t.shape)], ['data_offsets', JSON.stringify(offsets[i])],
  ]]));
  return { members, data };
}

// Names avoid integer-like strings (`t3:…`, `k…`) so that object key order — and hence the serialised bytes — is
// the header order; anything else in them is arbitrary unicode.
const fileSpecArb: fc.Arbitrary<FileSpec> = fc.record({
  metadata: fc.uniqueArray(fc.tuple(fc.string({ maxLength: 6, unit: 'binary' }).map((k) => `k${k}`), fc.string({ maxLength: 10, unit: 'binary' })), { maxLength: 3, selector: (e) => e[0] }),
  tensors: fc.array(fc.record({
    name: fc.string({ maxLength: 8, unit: 'binary' }),
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
    material: fc.uint8Array({ maxLength: 64 }),
  }), { maxLength: 6 }).map((ts) => ts.map((t, i) => ({ ...t, name: `t${i}:${t.name}` }))),
  rotate: fc.nat(),
  reverse: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------------------------
// Mutations.

const NUMBER_TOKENS = [
  '0', '1', '2', '3', '4', '7', '8', '24', '255', '256', '65535', '4294967295', '4294967296', '1099511627776',
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615', '18446744073709551616',
  '-1', '-0', '1.5', '2.0', '1e3', '1E+2', '0.0', '1e400', '-1e-400',
];
const VALUE_TOKENS = [...NUMBER_TOKENS, 'null', 'true', 'false', '""', '"F32"', '"BOOL"', '"f32"', '"float16"', '"I8"', '"toString"', '[]', '{}', '[[1]]', '[1,[2]]', '{"a":1}'];
const numberTok = fc.oneof(fc.constantFrom(...NUMBER_TOKENS), fc.nat({ max: 70 }).map(String));

type HeaderEdit =
  | { kind: 'dtype'; t: number; v: string }
  | { kind: 'shape'; t: number; v: string }
  | { kind: 'offsets'; t: number; d0: number; d1: number }
  | { kind: 'shift'; t: number; d: number }
  | { kind: 'copyOffsets'; t: number; u: number }
  | { kind: 'offsetsRaw'; t: number; v: string }
  | { kind: 'field'; t: number; key: string; v: string }
  | { kind: 'drop'; t: number; field: number }
  | { kind: 'dupField'; t: number; field: number; v: string }
  | { kind: 'dupName'; t: number; u: number }
  | { kind: 'entry'; t: number; v: string }
  | { kind: 'meta'; v: string; asWhole: boolean };

const headerEditArb: fc.Arbitrary<HeaderEdit> = fc.oneof(
  fc.record({ kind: fc.constant('dtype' as const), t: fc.nat(), v: fc.oneof(fc.constantFrom(...VALUE_TOKENS), fc.constantFrom(...DTYPES).map((d) => JSON.stringify(d))) }),
  fc.record({ kind: fc.constant('shape' as const), t: fc.nat(), v: fc.oneof(
    fc.array(numberTok, { maxLength: 5 }).map((a) => `[${a.join(',')}]`),
    fc.constantFrom(...VALUE_TOKENS),
    fc.integer({ min: 63, max: 66 }).map((r) => `[${new Array(r).fill(1).join(',')}]`), // around the rank limit
  ) }),
  fc.record({ kind: fc.constant('offsets' as const), t: fc.nat(), d0: fc.integer({ min: -4, max: 4 }), d1: fc.integer({ min: -4, max: 4 }) }),
  fc.record({ kind: fc.constant('shift' as const), t: fc.nat(), d: fc.integer({ min: -8, max: 8 }) }),
  fc.record({ kind: fc.constant('copyOffsets' as const), t: fc.nat(), u: fc.nat() }),
  fc.record({ kind: fc.constant('offsetsRaw' as const), t: fc.nat(), v: fc.oneof(fc.tuple(numberTok, numberTok).map(([a, b]) => `[${a},${b}]`), fc.array(numberTok, { maxLength: 3 }).map((a) => `[${a.join(',')}]`), fc.constantFrom(...VALUE_TOKENS)) }),
  fc.record({ kind: fc.constant('field' as const), t: fc.nat(), key: fc.constantFrom('extra', 'offsets', 'DTYPE', '__proto__', 'dtype '), v: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant('drop' as const), t: fc.nat(), field: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant('dupField' as const), t: fc.nat(), field: fc.nat({ max: 2 }), v: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant('dupName' as const), t: fc.nat(), u: fc.nat() }),
  fc.record({ kind: fc.constant('entry' as const), t: fc.nat(), v: fc.constantFrom(...VALUE_TOKENS) }),
  fc.record({ kind: fc.constant('meta' as const), v: fc.constantFrom(...VALUE_TOKENS), asWhole: fc.boolean() }),
);

function applyHeaderEdit(doc: Doc, e: HeaderEdit): void {
  const tensors = doc.members.filter(([k]) => k !== '__metadata__');
  if (e.kind === 'meta') {
    let meta = doc.members.find(([k]) => k === '__metadata__');
    if (!meta) doc.members.unshift(meta = ['__metadata__', []]);
    if (e.asWhole) meta[1] = e.v;
    else if (Array.isArray(meta[1])) meta[1].push(['kx', e.v]);
    return;
  }
  if (!tensors.length) return;
  const m = tensors[e.t % tensors.length];
  const fields = Array.isArray(m[1]) ? m[1] : undefined;
  const set = (key: string, v: string) => { const f = fields?.find(([k]) => k === key); if (f) f[1] = v; };
  switch (e.kind) {
    case 'dtype': set('dtype', e.v); break;
    case 'shape': set('shape', e.v); break;
    case 'offsetsRaw': set('data_offsets', e.v); break;
    case 'offsets': case 'shift': {
      // Only the writer's own `[b,e]` (not an earlier raw edit) is parsed here.
      const f = fields?.find(([k]) => k === 'data_offsets');
      if (f && typeof f[1] === 'string' && /^\[\d+,\d+\]$/.test(f[1])) {
        const [b, en] = JSON.parse(f[1]) as [number, number];
        f[1] = e.kind === 'shift' ? `[${b + e.d},${en + e.d}]` : `[${b + e.d0},${en + e.d1}]`;
      }
      break;
    }
    case 'copyOffsets': {
      const src = tensors[e.u % tensors.length][1];
      const from = Array.isArray(src) ? src.find(([k]) => k === 'data_offsets') : undefined;
      if (from) set('data_offsets', from[1] as string);
      break;
    }
    case 'field': fields?.push([e.key, e.v]); break;
    case 'drop': fields?.splice(e.field % Math.max(1, fields.length), 1); break;
    case 'dupField': if (fields?.length) fields.push([fields[e.field % fields.length][0], e.v]); break;
    case 'dupName': m[0] = tensors[e.u % tensors.length][0]; break;
    case 'entry': m[1] = e.v; break;
  }
}

type ByteEdit =
  | { kind: 'flip'; pos: number; bit: number }
  | { kind: 'set'; pos: number; v: number }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; len: number }
  | { kind: 'truncate'; pos: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'tail'; pos: number; bytes: readonly number[] }
  | { kind: 'length'; v: bigint; relative: boolean };

const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), pos: fc.nat(), v: fc.constantFrom(0x00, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x30, 0x39, 0x2d, 0x2e, 0xc0, 0xed) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), pos: fc.nat(), len: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), pos: fc.nat() }) },
  // Writes a special value near the end, i.e. into the data area: NaN in every float dtype (ff ff), ±Inf in F32, F64,
  // F16, BF16 (little-endian), BOOL 2.
  { weight: 3, arbitrary: fc.record({
    kind: fc.constant('tail' as const),
    pos: fc.nat({ max: 63 }),
    bytes: fc.constantFrom([0xff, 0xff], [0, 0, 0x80, 0x7f], [0, 0, 0x80, 0xff], [0, 0, 0, 0, 0, 0, 0xf0, 0x7f], [0, 0x7c], [0x80, 0x7f], [0x02], [0x80]),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({
    kind: fc.constant('length' as const),
    relative: fc.boolean(),
    v: fc.oneof(
      fc.bigInt({ min: -16n, max: 16n }),
      fc.constantFrom(0n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 100_000_000n, 100_000_001n),
    ),
  }) },
);

function applyByteEdit(b: Uint8Array, e: ByteEdit): Uint8Array {
  const at = (pos: number, len: number) => (len ? pos % len : 0);
  switch (e.kind) {
    case 'flip': { if (!b.length) return b; const c = b.slice(); c[at(e.pos, b.length)] ^= 1 << e.bit; return c; }
    case 'set': { if (!b.length) return b; const c = b.slice(); c[at(e.pos, b.length)] = e.v; return c; }
    case 'insert': { const p = at(e.pos, b.length + 1); const c = new Uint8Array(b.length + e.bytes.length); c.set(b.subarray(0, p)); c.set(e.bytes, p); c.set(b.subarray(p), p + e.bytes.length); return c; }
    case 'delete': { const p = at(e.pos, b.length + 1); const c = new Uint8Array(b.length - Math.min(e.len, b.length - p)); c.set(b.subarray(0, p)); c.set(b.subarray(p + e.len), p); return c; }
    case 'truncate': return b.slice(0, at(e.pos, b.length + 1));
    case 'tail': {
      const c = b.slice();
      const p = c.length - e.bytes.length - e.pos;
      if (p >= 8) c.set(e.bytes, p);
      return c;
    }
    case 'append': { const c = new Uint8Array(b.length + e.bytes.length); c.set(b); c.set(e.bytes, b.length); return c; }
    case 'length': {
      if (b.length < 8) return b;
      const c = b.slice();
      const dv = new DataView(c.buffer);
      const v = e.relative ? dv.getBigUint64(0, true) + e.v : e.v;
      dv.setBigUint64(0, BigInt.asUintN(64, v), true);
      return c;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle.

/** Statistics of a run (what happened to the cases), for the report. */
export interface FuzzStats {
  cases: number;
  parsed: number;
  errors: Record<string, number>;
  maxMs: number;
}

const newStats = (): FuzzStats => ({ cases: 0, parsed: 0, errors: {}, maxMs: 0 });

function expectedArray(dtype: SafetensorsDType): string {
  return { F64: 'Float64Array', F32: 'Float32Array', F16: 'Float32Array', BF16: 'Float32Array', I64: 'BigInt64Array', I32: 'Int32Array', U8: 'Uint8Array', BOOL: 'Uint8Array' }[dtype];
}

/** Checks a parse result's consistency (throws a plain Error describing the first violation). */
function checkResult(file: SafetensorsFile, size: number): void {
  let total = 0;
  for (const [k, v] of Object.entries(file.metadata)) if (typeof v !== 'string') throw new Error(`metadata ${k} not a string`);
  for (const [name, t] of file.tensors) {
    if (t.name !== name) throw new Error(`tensor name mismatch ${name}`);
    if (!Object.hasOwn(SAFETENSORS_DTYPES, t.dtype)) throw new Error(`unknown dtype ${t.dtype}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`bad shape ${t.shape}`);
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (t.data.length !== count) throw new Error(`${name}: data length ${t.data.length} != product(shape) ${count}`);
    if (t.data.constructor.name !== expectedArray(t.dtype)) throw new Error(`${name}: ${t.data.constructor.name} for ${t.dtype}`);
    if (t.dtype === 'BOOL' && (t.data as Uint8Array).some((x) => x > 1)) throw new Error(`${name}: BOOL value > 1`);
    if (FLOATS.has(t.dtype) && !(t.data as Float32Array).every(Number.isFinite)) throw new Error(`${name}: non-finite value`);
    total += t.data.byteLength;
  }
  if (total > 2 * size) throw new Error(`output ${total} bytes > 2 × file size ${size}`);
  // The writer accepts every parse result and the round trip is exact.
  const again = parseSafetensors(serializeSafetensors(Object.fromEntries(file.tensors), file.metadata));
  if (again.tensors.size !== file.tensors.size) throw new Error('round trip lost tensors');
  for (const [name, t] of file.tensors) {
    const u = again.tensors.get(name)!;
    if (u.dtype !== t.dtype || u.shape.join() !== t.shape.join() || !sameBytes(u.data, t.data)) throw new Error(`round trip changed ${name}`);
  }
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const arrayBuffersNow = (): number => (typeof process !== 'undefined' ? process.memoryUsage().arrayBuffers : 0);

/** Runs the reader on one input and checks every property; returns the parse result (undefined if it threw). */
function checkInput(bytes: Uint8Array, stats: FuzzStats): SafetensorsFile | undefined {
  stats.cases++;
  const mem0 = arrayBuffersNow();
  const t0 = performance.now();
  let result: SafetensorsFile | undefined;
  let error: unknown;
  try {
    result = parseSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const grown = arrayBuffersNow() - mem0;
  stats.maxMs = Math.max(stats.maxMs, ms);
  if (ms > MAX_CASE_MS) throw new Error(`parse took ${ms.toFixed(0)} ms (> ${MAX_CASE_MS} ms) on ${bytes.length} bytes`);
  if (grown > 2 * bytes.length + 65536) throw new Error(`ArrayBuffer memory grew by ${grown} bytes on a ${bytes.length}-byte file`);
  if (error !== undefined) {
    if (!(error instanceof SafetensorsError) || error.constructor === SafetensorsError) {
      throw new Error(`threw a non-SafetensorsError-subclass: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    if (error.message.length > MAX_MESSAGE) throw new Error(`message of ${error.message.length} characters`);
    stats.errors[error.name] = (stats.errors[error.name] ?? 0) + 1;
  } else {
    stats.parsed++;
    checkResult(result!, bytes.length);
  }
  compareWithReference(bytes, result, error);
  return result;
}

/** The differential oracle: the reader accepts exactly what reference.ts accepts, with the same values. */
function compareWithReference(bytes: Uint8Array, result: SafetensorsFile | undefined, error: unknown): void {
  const ref = referenceParse(bytes);
  if (!ref || !result) {
    if (ref) throw new Error(`the reader rejects a file the reference accepts: ${(error as Error).name}: ${(error as Error).message}`);
    if (result) throw new Error('the reader accepts a file the reference rejects');
    return;
  }
  const meta = Object.entries(result.metadata);
  if (JSON.stringify(meta) !== JSON.stringify(ref.metadata)) throw new Error('metadata differs from the reference');
  const tensors = [...result.tensors.values()];
  if (tensors.length !== ref.tensors.length) throw new Error('tensor count differs from the reference');
  ref.tensors.forEach((r, k) => {
    const t = tensors[k];
    if (t.name !== r.name || t.dtype !== r.dtype || t.shape.join() !== r.shape.join() || t.data.length !== r.values.length) {
      throw new Error(`tensor ${JSON.stringify(r.name)} differs from the reference (name, dtype, shape or length)`);
    }
    for (let i = 0; i < r.values.length; i++) {
      if (!Object.is(t.data[i], r.values[i])) throw new Error(`tensor ${JSON.stringify(r.name)} element ${i}: ${t.data[i]} vs reference ${r.values[i]}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Properties.

/** Unmutated valid files parse and re-serialise to the canonical bytes of the independent writer. */
const validProperty = (stats: FuzzStats) => fc.property(fileSpecArb, (spec) => {
  const file = checkInput(writeDoc(validDoc(spec)), stats);
  if (!file) throw new Error('a valid file was rejected');
  const out = serializeSafetensors(Object.fromEntries(file.tensors), spec.metadata.length ? file.metadata : undefined);
  if (!sameBytes(out, writeDoc(validDoc(spec, true)))) throw new Error('re-serialised bytes differ from the canonical file');
});

/** Valid files after header edits and byte mutations: a consistent result or a typed error. */
const mutatedProperty = (stats: FuzzStats) => fc.property(
  fileSpecArb, fc.array(headerEditArb, { maxLength: 2 }), fc.array(byteEditArb, { maxLength: 3 }), fc.boolean(),
  (spec, headerEdits, byteEdits, pad) => {
    const doc = validDoc(spec);
    for (const e of headerEdits) applyHeaderEdit(doc, e);
    let bytes = writeDoc(doc, pad);
    for (const e of byteEdits) bytes = applyByteEdit(bytes, e);
    checkInput(bytes, stats);
  },
);

/** Random JSON (and random objects) as headers, over random data. */
const randomHeaderProperty = (stats: FuzzStats) => fc.property(
  fc.oneof(fc.json({ maxDepth: 4 }), fc.object({ maxDepth: 3 }).map((o) => JSON.stringify(o)), fc.string({ unit: 'binary', maxLength: 40 })),
  fc.uint8Array({ maxLength: 64 }),
  (text, data) => {
    const t = new TextEncoder().encode(text);
    const bytes = new Uint8Array(8 + t.length + data.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(t.length), true);
    bytes.set(t, 8);
    bytes.set(data, 8 + t.length);
    checkInput(bytes, stats);
  },
);

/** The header parser accepts exactly the JSON texts JSON.parse accepts (for texts starting with `{`). */
const jsonAgreementProperty = (stats: FuzzStats) => fc.property(
  fc.oneof(
    fc.json({ maxDepth: 3 }).map((j) => `{"k":${j}}`),
    fc.tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.constantFrom('', '"', '\\', ',', '}', ']', ':', '0', '-', '.', 'e', ' ', '\u0001', 'tru')).map(([j, p, s]) => {
      const t = `{"k":${j}}`;
      const i = p % (t.length + 1);
      return t.slice(0, i) + s + t.slice(i + (p & 1)); // insert or replace one token
    }),
  ),
  (text) => {
    let valid = true;
    try { JSON.parse(text); } catch { valid = false; }
    const t = new TextEncoder().encode(text);
    const bytes = new Uint8Array(8 + t.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(t.length), true);
    bytes.set(t, 8);
    stats.cases++;
    let err: unknown;
    const t0 = performance.now();
    try { parseSafetensors(bytes); } catch (e) { err = e; }
    stats.maxMs = Math.max(stats.maxMs, performance.now() - t0);
    if (err !== undefined && !(err instanceof SafetensorsError)) throw new Error(`non-Safetensors error ${String(err)}`);
    if (err instanceof SafetensorsError) stats.errors[err.name] = (stats.errors[err.name] ?? 0) + 1;
    else stats.parsed++;
    const syntaxRejected = err instanceof SafetensorsError && err.name === 'SafetensorsHeaderError';
    if (!text.startsWith('{')) { if (!syntaxRejected) throw new Error('accepted a header not starting with {'); return; }
    if (valid === syntaxRejected && !(err as Error | undefined)?.message.includes('nested deeper')) {
      throw new Error(`JSON.parse ${valid ? 'accepts' : 'rejects'} but the reader ${syntaxRejected ? `rejects (${(err as Error).message})` : 'accepts'}`);
    }
  },
);

/** The properties, with the share of the runs each gets. */
// `any`: the properties take different argument tuples.
const PROPERTIES: [name: string, share: number, property: (stats: FuzzStats) => fc.IProperty<any>][] = [
  ['valid', 0.1, validProperty],
  ['mutated', 0.65, mutatedProperty],
  ['random-header', 0.15, randomHeaderProperty],
  ['json-agreement', 0.1, jsonAgreementProperty],
];

/** Result of {@link runFuzz}: per-property statistics. */
export type FuzzReport = Record<string, FuzzStats>;

/**
 * Runs all properties for about `runs` cases in total (split 10 / 65 / 15 / 10 % between valid files, mutated files,
 * random headers and the JSON agreement check). Throws (fast-check's report with the seed and the shrunk
 * counterexample) on the first violated property.
 */
export function runFuzz({ runs, seed }: { runs: number; seed: number }): FuzzReport {
  const report: FuzzReport = {};
  PROPERTIES.forEach(([name, share, prop], i) => {
    const stats = newStats();
    report[name] = stats;
    fc.assert(prop(stats), { numRuns: Math.max(1, Math.round(runs * share)), seed: seed + i });
  });
  return report;
}
