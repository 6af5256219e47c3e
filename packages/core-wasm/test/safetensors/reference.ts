// A deliberately plain second implementation of the reader's acceptance rules, used by the fuzzer as a differential
// oracle: parseSafetensors must accept exactly the files this accepts and decode them to the same values. It shares
// no code with src/safetensors.ts and favours obviousness over speed (recursive JSON parser keeping duplicate keys,
// full BigInt products, a per-byte coverage count, DataView decoding), so it is only for small inputs.

/** A JSON value with objects as member lists (duplicates kept) and numbers as their literal text. */
type RefJson = null | boolean | string | { num: string } | RefJson[] | { members: [string, RefJson][] };

const DTYPE_WIDTH: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };
const MAX_HEADER = 100_000_000n;
const MAX_DEPTH = 32;
const MAX_RANK = 64;

/** Strict JSON (RFC 8259) text → RefJson, or undefined if the text is not exactly one JSON value. */
function refJson(s: string): RefJson | undefined {
  let i = 0;
  const token = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(s);
    if (m) i += m[0].length;
    return m?.[0];
  };
  const ws = () => token(/[ \t\n\r]*/y);
  const fail = (): never => { throw new Error('bad json'); };
  const value = (depth: number): RefJson => {
    ws();
    if (s[i] === '{' || s[i] === '[') {
      if (depth === MAX_DEPTH) fail();
      const close = s[i] === '{' ? '}' : ']';
      i++;
      ws();
      const members: [string, RefJson][] = [];
      const items: RefJson[] = [];
      if (s[i] === close) { i++; return close === '}' ? { members } : items; }
      for (;;) {
        if (close === '}') {
          ws();
          const k = value(depth + 1);
          if (typeof k !== 'string') fail();
          ws();
          if (s[i++] !== ':') fail();
          members.push([k as string, value(depth + 1)]);
        } else {
          items.push(value(depth + 1));
        }
        ws();
        const c = s[i++];
        if (c === close) return close === '}' ? { members } : items;
        if (c !== ',') fail();
      }
    }
    const str = token(/"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y);
    if (str !== undefined) return JSON.parse(str) as string;
    const num = token(/-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y);
    if (num !== undefined) return { num };
    if (token(/true/y)) return true;
    if (token(/false/y)) return false;
    if (token(/null/y)) return null;
    return fail();
  };
  try {
    const v = value(0);
    ws();
    return i === s.length ? v : undefined;
  } catch {
    return undefined;
  }
}

const isObj = (v: RefJson): v is { members: [string, RefJson][] } => v !== null && typeof v === 'object' && 'members' in v;
const isNum = (v: RefJson): v is { num: string } => v !== null && typeof v === 'object' && 'num' in v;
const hasDuplicates = (keys: string[]) => new Set(keys).size !== keys.length;

/** A non-negative integer literal ≤ 2^53 − 1, else undefined. */
function uintOf(v: RefJson): number | undefined {
  if (!isNum(v) || !/^[0-9]+$/.test(v.num) || BigInt(v.num) > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(v.num);
}

function f16(h: number): number {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const mag = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1024 + m) * 2 ** (e - 25);
  return h & 0x8000 ? -mag : mag;
}

/** One accepted tensor: its values as numbers (bigints for I64), in file order. */
export interface RefTensor { name: string; dtype: string; shape: number[]; values: (number | bigint)[] }
export interface RefFile { metadata: [string, string][]; tensors: RefTensor[] }

/** The file as the rules describe it (default options: non-finite floats rejected), or undefined if it breaks any. */
export function referenceParse(b: Uint8Array): RefFile | undefined {
  if (b.length < 8) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > MAX_HEADER || n > BigInt(b.length - 8) || n === 0n || b[8] !== 0x7b) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b.subarray(8, 8 + Number(n)));
  } catch {
    return undefined;
  }
  const root = refJson(text);
  if (root === undefined || !isObj(root) || hasDuplicates(root.members.map(([k]) => k))) return undefined;
  const dataStart = 8 + Number(n);
  const dataLen = b.length - dataStart;

  let metadata: [string, string][] = [];
  const specs: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of root.members) {
    if (name === '__metadata__') {
      if (!isObj(v) || hasDuplicates(v.members.map(([k]) => k)) || !v.members.every(([, x]) => typeof x === 'string')) return undefined;
      metadata = v.members as [string, string][];
      continue;
    }
    if (!isObj(v) || v.members.length !== 3 || hasDuplicates(v.members.map(([k]) => k))) return undefined;
    const field = new Map(v.members);
    const dtype = field.get('dtype');
    const shape = field.get('shape');
    const offsets = field.get('data_offsets');
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_WIDTH, dtype)) return undefined;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => uintOf(d) !== undefined)) return undefined;
    if (!Array.isArray(offsets) || offsets.length !== 2) return undefined;
    const [begin, end] = offsets.map(uintOf);
    if (begin === undefined || end === undefined || begin > end || end > dataLen) return undefined;
    const dims = shape.map((d) => uintOf(d)!);
    if (dims.reduce((p, d) => p * BigInt(d), BigInt(DTYPE_WIDTH[dtype])) !== BigInt(end - begin)) return undefined;
    specs.push({ name, dtype, shape: dims, begin, end });
  }

  // Every data byte covered exactly once; an empty tensor must not sit strictly inside another tensor.
  const cover = new Uint8Array(dataLen);
  for (const t of specs) for (let i = t.begin; i < t.end; i++) cover[i]++;
  if (cover.some((c) => c !== 1)) return undefined;
  for (const t of specs) {
    if (t.begin === t.end && specs.some((u) => u.begin < t.begin && t.begin < u.end)) return undefined;
  }

  const tensors: RefTensor[] = [];
  for (const t of specs) {
    const w = DTYPE_WIDTH[t.dtype];
    const values: (number | bigint)[] = [];
    for (let o = dataStart + t.begin; o < dataStart + t.end; o += w) {
      switch (t.dtype) {
        case 'F64': values.push(dv.getFloat64(o, true)); break;
        case 'F32': values.push(dv.getFloat32(o, true)); break;
        case 'F16': values.push(f16(dv.getUint16(o, true))); break;
        case 'BF16': values.push(new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0]); break;
        case 'I64': values.push(dv.getBigInt64(o, true)); break;
        case 'I32': values.push(dv.getInt32(o, true)); break;
        default: values.push(dv.getUint8(o));
      }
    }
    if (t.dtype === 'BOOL' && values.some((x) => x !== 0 && x !== 1)) return undefined;
    if (['F64', 'F32', 'F16', 'BF16'].includes(t.dtype) && !values.every((x) => Number.isFinite(x))) return undefined;
    tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, values });
  }
  return { metadata, tensors };
}
