// The malformed-safetensors corpus (corpus/*.safetensors, made by make-corpus.mjs) must produce exactly the error
// listed in corpus/expected.json; the valid base file must parse and round-trip; the shared golden fixtures must
// parse with the default (strict) options; plus unit tests of the writer and of large inputs.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as st from '../../src/safetensors.js';
import { parseSafetensors, serializeSafetensors, MAX_HEADER_BYTES, type LoadedTensor } from '../../src/safetensors.js';
import { SafetensorsError } from '../../src/errors.js';
// @ts-expect-error: plain .mjs script without type declarations
import { buildCorpus } from './make-corpus.mjs';

const HERE = new URL('.', import.meta.url).pathname;
const CORPUS = `${HERE}corpus/`;
const FIXTURES = new URL('../../../../../shared/fixtures/', import.meta.url).pathname;

const expected: Record<string, { error: string; message: string }> = JSON.parse(readFileSync(`${CORPUS}expected.json`, 'utf8'));
const corpusFiles = readdirSync(CORPUS).filter((f) => f.endsWith('.safetensors')).sort();
const read = (path: string) => new Uint8Array(readFileSync(path));
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Runs `f` and returns what it threw (fails if it returned). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but the call returned');
}

describe('malformed corpus', () => {
  test('has at least 50 files, each listed in expected.json and vice versa', () => {
    expect(corpusFiles.length).toBeGreaterThanOrEqual(50);
    expect(Object.keys(expected).sort()).toEqual(corpusFiles);
  });

  test('the committed files are exactly what make-corpus.mjs generates (deterministic, up to date)', () => {
    const { base, cases } = buildCorpus() as { base: Uint8Array; cases: { name: string; bytes: Uint8Array; error: string; message: string }[] };
    expect(Buffer.from(read(`${HERE}base.safetensors`)).equals(Buffer.from(base))).toBe(true);
    expect(cases.map((c) => c.name).sort()).toEqual(corpusFiles);
    for (const c of cases) {
      expect(Buffer.from(read(CORPUS + c.name)).equals(Buffer.from(c.bytes)), c.name).toBe(true);
      expect(expected[c.name]).toEqual({ error: c.error, message: c.message });
    }
  });

  test.each(corpusFiles)('%s', (name) => {
    const want = expected[name];
    const err = thrown(() => parseSafetensors(read(CORPUS + name)));
    const cls = (st as Record<string, unknown>)[want.error];
    expect(typeof cls, `${want.error} is exported next to parseSafetensors`).toBe('function');
    expect(err).toBeInstanceOf(SafetensorsError);
    expect(err.constructor).toBe(cls);
    expect(err.name).toBe(want.error);
    expect(err.message).toContain(want.message);
  });

  test('non-finite weights are accepted with { allowNonFinite: true }, and nothing else changes', () => {
    const nonFinite = corpusFiles.filter((f) => expected[f].error === 'SafetensorsNonFiniteError');
    expect(nonFinite.length).toBeGreaterThanOrEqual(5);
    for (const f of nonFinite) {
      const file = parseSafetensors(read(CORPUS + f), { allowNonFinite: true });
      const floats = [...file.tensors.values()].filter((t) => ['F64', 'F32', 'F16', 'BF16'].includes(t.dtype));
      const bad = floats.filter((t) => !(t.data as Float32Array).every((x) => Number.isFinite(x)));
      expect(bad.length, f).toBe(1);
    }
    for (const f of corpusFiles.filter((g) => expected[g].error !== 'SafetensorsNonFiniteError')) {
      const err = thrown(() => parseSafetensors(read(CORPUS + f), { allowNonFinite: true }));
      expect(err.name, f).toBe(expected[f].error);
    }
  });
});

describe('valid base file', () => {
  const bytes = read(`${HERE}base.safetensors`);
  const file = parseSafetensors(bytes);
  const t = (n: string): LoadedTensor => file.tensors.get(n)!;

  test('parses every dtype to the documented array type and values', () => {
    expect(file.metadata).toEqual({ format: 'pt', note: 'spikewasm safetensors corpus base' });
    expect([...file.tensors.keys()]).toEqual(['weight', 'bias', 'emb', 'lmu.A', 'ids', 'idx', 'counts', 'mask', 'empty', 'scalar']);
    expect(t('weight').data).toEqual(new Float32Array([0.5, -1.25, 3, 0, 1e-3, -2]));
    expect(t('weight').shape).toEqual([2, 3]);
    expect(t('bias')).toMatchObject({ dtype: 'F16', shape: [4] });
    expect([...t('bias').data]).toEqual([1, -2, 2 ** -24, 65504]);
    expect(t('emb').data).toBeInstanceOf(Float32Array);
    expect([...t('emb').data]).toEqual([1, -1.5, 3.140625, -0]);
    expect(Object.is(t('emb').data[3], -0)).toBe(true);
    expect(t('lmu.A').data).toEqual(new Float64Array([1 / 3, -0.25, 1e-300, 2.5]));
    expect(t('ids').data).toEqual(new BigInt64Array([1n, -2n, 2n ** 40n]));
    expect(t('idx').data).toEqual(new Int32Array([7, -9]));
    expect(t('counts').data).toEqual(new Uint8Array([0, 1, 1, 0, 0, 0, 2, 255]));
    expect(t('mask')).toMatchObject({ dtype: 'BOOL', data: new Uint8Array([1, 0, 1]) });
    expect(t('empty')).toMatchObject({ shape: [0, 3], data: new Float32Array(0) });
    expect(t('scalar')).toMatchObject({ shape: [], data: new Float32Array([42]) });
  });

  test('round-trips byte for byte through serializeSafetensors (every dtype, F16/BF16 re-narrowed)', () => {
    const out = serializeSafetensors(Object.fromEntries(file.tensors), file.metadata);
    expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
  });

  test('returns fresh copies, not views of the input', () => {
    const again = parseSafetensors(bytes);
    for (const tensor of again.tensors.values()) expect(tensor.data.buffer).not.toBe(bytes.buffer);
    (again.tensors.get('counts')!.data as Uint8Array)[0] = 99;
    expect(parseSafetensors(bytes).tensors.get('counts')!.data[0]).toBe(0);
  });

  test('accepts a Buffer and a Uint8Array at a non-zero byte offset', () => {
    expect(parseSafetensors(Buffer.from(bytes)).tensors.size).toBe(10);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(parseSafetensors(shifted.subarray(3)).tensors.get('lmu.A')!.data).toEqual(t('lmu.A').data);
  });

  test('rejects a non-Uint8Array argument with a SafetensorsError', () => {
    expect(() => parseSafetensors([1, 2, 3] as unknown as Uint8Array)).toThrow(SafetensorsError);
    expect(() => parseSafetensors(new Uint16Array(8) as unknown as Uint8Array)).toThrow(SafetensorsError);
  });
});

describe('shared golden fixtures parse with the default options', () => {
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.safetensors'));
  test('there are fixtures', () => expect(names.length).toBeGreaterThanOrEqual(10));
  test.each(names)('%s', (name) => {
    const bytes = read(FIXTURES + name);
    const file = parseSafetensors(bytes); // strict: rejects NaN/Inf, gaps, unknown fields, duplicates
    expect(file.tensors.size).toBeGreaterThan(0);
    const again = parseSafetensors(serializeSafetensors(Object.fromEntries(file.tensors), file.metadata));
    expect(again.metadata).toEqual(file.metadata);
    expect([...again.tensors.keys()]).toEqual([...file.tensors.keys()]);
    for (const [n, tensor] of file.tensors) {
      const u = again.tensors.get(n)!;
      expect([u.dtype, u.shape, u.data.constructor], n).toEqual([tensor.dtype, tensor.shape, tensor.data.constructor]);
      expect(bytesOf(u.data).equals(bytesOf(tensor.data)), n).toBe(true);
    }
  });
});

describe('header edge cases', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  function fileOf(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
    const h = enc(header);
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  }

  test('prototype-like names and keys are ordinary data', () => {
    const data = new Uint8Array(8);
    const file = parseSafetensors(fileOf(
      '{"__metadata__":{"__proto__":"x","constructor":"y"},"__proto__":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"toString":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}',
      data,
    ));
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    expect(Object.keys(file.metadata)).toEqual(['__proto__', 'constructor']);
    expect(file.metadata.constructor).toBe('y');
    expect([...file.tensors.keys()]).toEqual(['__proto__', 'toString']);
    const out = serializeSafetensors(Object.fromEntries(file.tensors), file.metadata);
    expect([...parseSafetensors(out).tensors.keys()]).toEqual(['__proto__', 'toString']);
  });

  test('tensors keep header order, including integer-like names; data may be laid out in any order', () => {
    const file = parseSafetensors(fileOf(
      '{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},"10":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"2":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
      new Uint8Array([10, 2, 98]),
    ));
    expect([...file.tensors.entries()].map(([k, v]) => [k, v.data[0]])).toEqual([['b', 98], ['10', 10], ['2', 2]]);
  });

  test('accepts JSON whitespace padding, no padding, escapes in names, empty header object on empty data', () => {
    expect(parseSafetensors(fileOf('{"a":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}\n\t\r ', new Uint8Array([1]))).tensors.size).toBe(1);
    expect(parseSafetensors(fileOf('{"\\u00e9\\n\\"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([1]))).tensors.has('é\n"')).toBe(true);
    expect(parseSafetensors(fileOf('{}')).tensors.size).toBe(0);
    expect(parseSafetensors(fileOf('{"__metadata__":{}}')).metadata).toEqual({});
  });

  test('zero-size tensors may sit on any boundary, but not inside another tensor', () => {
    const ok = parseSafetensors(fileOf(
      '{"e0":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"e2":{"dtype":"I64","shape":[3,0],"data_offsets":[2,2]}}',
      new Uint8Array([1, 2]),
    ));
    expect(ok.tensors.get('e2')!.data).toEqual(new BigInt64Array(0));
  });

  test('a long name is truncated in messages', () => {
    const name = 'n'.repeat(100_000);
    const err = thrown(() => parseSafetensors(fileOf(`{"${name}":{"dtype":"F8","shape":[],"data_offsets":[0,0]}}`)));
    expect(err.name).toBe('SafetensorsDTypeError');
    expect(err.message.length).toBeLessThan(400);
  });

  test('large headers stay linear: 100,000 tensors (a 7 MB header) parse in < 3 s', () => {
    const n = 100_000;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(`"tensor.${i}":{"dtype":"U8","shape":[1],"data_offsets":[${n - 1 - i},${n - i}]}`);
    const bytes = fileOf(`{${parts.join(',')}}`, new Uint8Array(n));
    const t0 = performance.now();
    const file = parseSafetensors(bytes);
    const ms = performance.now() - t0;
    expect(file.tensors.size).toBe(n);
    expect(ms).toBeLessThan(3000);
    // The same header with a duplicate at the very end, and with the two last ranges overlapping.
    const dup = fileOf(`{${parts.join(',')},"tensor.0":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, new Uint8Array(n));
    expect(thrown(() => parseSafetensors(dup)).name).toBe('SafetensorsDuplicateError');
  });

  test('a deeply nested header (1,000,000 levels) is rejected without recursion trouble', () => {
    const err = thrown(() => parseSafetensors(fileOf(`{"a":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`)));
    expect(err.name).toBe('SafetensorsHeaderError');
    expect(err.message).toContain('nested deeper than 32 levels');
  });

  test('MAX_HEADER_BYTES is the reference implementation\'s 100 MB', () => {
    expect(MAX_HEADER_BYTES).toBe(100_000_000);
  });
});

describe('serializeSafetensors', () => {
  test('writes F16 and BF16 with round-to-nearest-even, overflow to Inf, and every half value exactly', () => {
    const vals = new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 3 * 2 ** -26, -0, 2 ** -14 - 2 ** -25]);
    const f16 = parseSafetensors(serializeSafetensors({ x: { shape: [8], data: vals, dtype: 'F16' } }), { allowNonFinite: true });
    expect([...f16.tensors.get('x')!.data]).toEqual([1, 1 + 2 ** -9, 65504, Infinity, 0, 2 ** -24, -0, 2 ** -14]);
    const bvals = new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4028234663852886e38, -1.5]);
    const bf16 = parseSafetensors(serializeSafetensors({ x: { shape: [4], data: bvals, dtype: 'BF16' } }), { allowNonFinite: true });
    expect([...bf16.tensors.get('x')!.data]).toEqual([1, 1 + 2 ** -6, Infinity, -1.5]);

    // Exhaustive: every F16 and BF16 bit pattern except NaNs survives read → write unchanged.
    for (const dtype of ['F16', 'BF16'] as const) {
      const bits = new Uint16Array(65536).map((_, i) => i);
      const isNaN16 = (h: number) => (dtype === 'F16' ? (h & 0x7c00) === 0x7c00 && (h & 0x3ff) : (h & 0x7f80) === 0x7f80 && (h & 0x7f));
      const src = bits.filter((h) => !isNaN16(h));
      const header = new TextEncoder().encode(JSON.stringify({ x: { dtype, shape: [src.length], data_offsets: [0, src.byteLength] } }));
      const bytes = new Uint8Array(8 + header.length + src.byteLength);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
      bytes.set(header, 8);
      bytes.set(new Uint8Array(src.buffer), 8 + header.length);
      const loaded = parseSafetensors(bytes, { allowNonFinite: true });
      const out = serializeSafetensors(Object.fromEntries(loaded.tensors));
      const back = parseSafetensors(out, { allowNonFinite: true }).tensors.get('x')!;
      expect(Buffer.from(out.subarray(out.length - src.byteLength)).equals(Buffer.from(src.buffer)), dtype).toBe(true);
      expect(back.dtype).toBe(dtype);
    }
  });

  test('NaN is written as NaN in F16/BF16', () => {
    const out = serializeSafetensors({ h: { shape: [1], data: new Float32Array([NaN]), dtype: 'F16' }, b: { shape: [1], data: new Float32Array([NaN]), dtype: 'BF16' } });
    const file = parseSafetensors(out, { allowNonFinite: true });
    expect(file.tensors.get('h')!.data[0]).toBeNaN();
    expect(file.tensors.get('b')!.data[0]).toBeNaN();
    expect(thrown(() => parseSafetensors(out)).name).toBe('SafetensorsNonFiniteError');
  });

  test('rejects what the reader would reject', () => {
    const err = (f: () => unknown) => thrown(f).name;
    expect(err(() => serializeSafetensors({ w: { shape: [2, 2], data: new Float32Array(3) } }))).toBe('SafetensorsShapeError');
    expect(err(() => serializeSafetensors({ w: { shape: [-1], data: new Float32Array(0) } }))).toBe('SafetensorsShapeError');
    expect(err(() => serializeSafetensors({ w: { shape: [2], data: new Float32Array(2), dtype: 'I32' } }))).toBe('SafetensorsDTypeError');
    expect(err(() => serializeSafetensors({ w: { shape: [2], data: new Uint8Array(2), dtype: 'F16' } }))).toBe('SafetensorsDTypeError');
    expect(err(() => serializeSafetensors({ w: { shape: [2], data: new Uint16Array(2) as unknown as Uint8Array } }))).toBe('SafetensorsDTypeError');
    expect(err(() => serializeSafetensors({ w: { shape: [2], data: new Uint8Array([0, 2]), dtype: 'BOOL' } }))).toBe('SafetensorsBoolError');
    expect(err(() => serializeSafetensors({ __metadata__: { shape: [0], data: new Uint8Array(0) } }))).toBe('SafetensorsEntryError');
    expect(err(() => serializeSafetensors({}, { k: 3 as unknown as string }))).toBe('SafetensorsMetadataError');
  });

  test('keeps the old call shape: F32/F64/I32/U8 arrays with shapes, optional metadata', () => {
    const out = serializeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) }, b: { shape: [1, 1], data: new Int32Array([3]) } }, { m: 'v' });
    const file = parseSafetensors(out);
    expect(file.metadata).toEqual({ m: 'v' });
    expect(file.tensors.get('b')).toEqual({ name: 'b', dtype: 'I32', shape: [1, 1], data: new Int32Array([3]) });
    expect(Number(new DataView(out.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });
});
