// A small, strict reader of NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), for model inputs.
//
// Layout (numpy/lib/format.py): the magic `\x93NUMPY`, a major and a minor version byte, the header length (u16 LE
// for version 1, u32 LE for versions 2 and 3), then the header: a Python dict literal
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 128, 16), }` padded with spaces and ended by `\n`
// (latin-1 for versions 1 and 2, UTF-8 for 3), then the raw data.
//
// Accepted: descr `<f4`, `<f8` or `<i4` (little-endian float32, float64, int32), C order, any rank, no trailing bytes,
// finite values. Everything else (big-endian or other dtypes, Fortran order, object arrays, malformed headers,
// truncated data) throws an {@link NpyError} saying what is wrong.
import { SpikewasmError, fmtShape } from '@spikewasm/core-wasm';

/** A `.npy` file that this reader rejects: the message says which part and why. */
export class NpyError extends SpikewasmError {
  override name = 'NpyError';
}

/** The dtypes {@link readNpy} accepts, as numpy's `descr` strings. */
export const NPY_DTYPES = { '<f4': 4, '<f8': 8, '<i4': 4 } as const;
export type NpyDType = keyof typeof NPY_DTYPES;

/** An array read from a `.npy` file: a fresh, aligned copy of its data, in C (row-major) order. */
export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** True when `bytes` start with the `.npy` magic string. */
export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Parses a `.npy` file (little-endian f4/f8/i4, C order only).
 * @throws {NpyError} on anything else, on a malformed header, on a data length that does not match the shape, and
 *   on NaN or ±Infinity in a float array
 * @example const { shape, data } = readNpy(readFileSync('input.npy'));
 */
export function readNpy(bytes: Uint8Array): NpyArray {
  if (!isNpy(bytes)) throw new NpyError('not a .npy file: it does not start with the magic string \\x93NUMPY');
  if (bytes.length < 10) throw new NpyError(`.npy file of ${bytes.length} bytes is too short for its preamble`);
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) throw new NpyError(`unsupported .npy format version ${major}.${minor} (expected 1.0, 2.0 or 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError(`.npy file of ${bytes.length} bytes is too short for its header length`);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const headerStart = 8 + lenBytes, dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new NpyError(`.npy header length ${headerLen} runs past the end of the file`);
  const raw = bytes.subarray(headerStart, dataStart);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    throw new NpyError('.npy header is not valid UTF-8');
  }
  const { descr, fortran, shape } = parseHeader(text);
  if (fortran) throw new NpyError('.npy array is in Fortran order; only C order is supported (save it with np.ascontiguousarray)');
  if (!Object.hasOwn(NPY_DTYPES, descr)) {
    const hint = descr.startsWith('>') ? ' (big-endian)' : '';
    throw new NpyError(`.npy dtype ${JSON.stringify(descr)}${hint} is not supported: expected '<f4', '<f8' or '<i4'`);
  }
  const dtype = descr as NpyDType;
  const width = NPY_DTYPES[dtype];
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw new NpyError(`.npy shape ${fmtShape(shape)} is too large`);
  }
  const dataLen = bytes.length - dataStart;
  if (count * width !== dataLen) {
    throw new NpyError(`.npy shape ${fmtShape(shape)} (${dtype}) needs ${count * width} data bytes, the file holds ${dataLen}`);
  }
  const copy = new Uint8Array(dataLen);
  copy.set(bytes.subarray(dataStart));
  const data = dtype === '<f4' ? new Float32Array(copy.buffer) : dtype === '<f8' ? new Float64Array(copy.buffer) : new Int32Array(copy.buffer);
  if (!isLittleEndianHost()) throw new NpyError('this reader needs a little-endian host');
  if (dtype !== '<i4') {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new NpyError(`.npy array holds a non-finite value (${data[i]}) at flat index ${i}`);
    }
  }
  return { dtype, shape, data };
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Parses the header dict. Grammar (what numpy writes, with optional whitespace between tokens):
 *   '{' entry (',' entry)* ','? '}' followed by spaces and one final '\n'
 *   entry: 'descr': STRING | 'fortran_order': (True|False) | 'shape': '(' (INT (',' INT)* ','?)? ')'
 * Each of the three keys must occur exactly once; no other key is allowed.
 */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  if (!text.endsWith('\n')) throw new NpyError('.npy header does not end with a newline');
  const s = text.slice(0, -1).replace(/ +$/, '');
  let i = 0;
  const ws = () => { while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++; };
  const fail = (what: string): never => { throw new NpyError(`malformed .npy header: ${what} at offset ${i} of ${JSON.stringify(text.trimEnd())}`); };
  const expect = (c: string) => { ws(); if (s[i] !== c) fail(`expected '${c}'`); i++; };
  const str = (): string => {
    ws();
    const q = s[i];
    if (q !== "'" && q !== '"') fail('expected a quoted string');
    const end = s.indexOf(q, i + 1);
    if (end < 0) fail('unterminated string');
    const v = s.slice(i + 1, end);
    if (v.includes('\\')) fail('escapes are not supported in strings');
    i = end + 1;
    return v;
  };
  const out: { descr?: string; fortran?: boolean; shape?: number[] } = {};
  expect('{');
  ws();
  while (s[i] !== '}') {
    const key = str();
    expect(':');
    ws();
    if (key === 'descr') {
      if (out.descr !== undefined) fail("duplicate key 'descr'");
      out.descr = str();
    } else if (key === 'fortran_order') {
      if (out.fortran !== undefined) fail("duplicate key 'fortran_order'");
      if (s.startsWith('True', i)) { out.fortran = true; i += 4; } else if (s.startsWith('False', i)) { out.fortran = false; i += 5; } else fail('expected True or False');
    } else if (key === 'shape') {
      if (out.shape !== undefined) fail("duplicate key 'shape'");
      expect('(');
      const dims: number[] = [];
      ws();
      while (s[i] !== ')') {
        const m = /^\d+/.exec(s.slice(i));
        if (!m) fail('expected a non-negative integer dimension');
        const d = Number(m![0]);
        if (!Number.isSafeInteger(d)) fail('dimension too large');
        dims.push(d);
        i += m![0].length;
        ws();
        if (s[i] === ',') { i++; ws(); } else if (s[i] !== ')') fail("expected ',' or ')'");
      }
      i++;
      out.shape = dims;
    } else {
      fail(`unexpected key ${JSON.stringify(key)}`);
    }
    ws();
    if (s[i] === ',') { i++; ws(); } else if (s[i] !== '}') fail("expected ',' or '}'");
  }
  i++;
  if (i !== s.length) fail('trailing characters after the dict');
  if (out.descr === undefined || out.fortran === undefined || out.shape === undefined) {
    const missing = (['descr', 'fortran_order', 'shape'] as const).filter((k) => (k === 'fortran_order' ? out.fortran : out[k]) === undefined);
    throw new NpyError(`malformed .npy header: missing key${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  return { descr: out.descr, fortran: out.fortran, shape: out.shape };
}
