import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArgumentError, SpikewasmError, parseSafetensors } from '@spikewasm/core-wasm';
import { readWav, WavError, type WavErrorCode } from '../src/wav.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));
const fixtureBytes = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));

// ── a small WAV writer for the malformed variants ────────────────────────────────────────────────────────────────

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u16 = (v: number) => { const b = new Uint8Array(2); new DataView(b.buffer).setUint16(0, v, true); return b; };
const u32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
/** A chunk with its header and, for an odd size, the pad byte (unless `pad` is false). */
const chunk = (id: string, body: Uint8Array, size = body.length, pad = true) =>
  cat(ascii(id), u32(size), body, pad && body.length % 2 ? new Uint8Array(1) : new Uint8Array(0));
const int16Bytes = (xs: number[]) => new Uint8Array(Int16Array.from(xs).buffer);

interface Fmt { tag?: number; channels?: number; rate?: number; byteRate?: number; blockAlign?: number; bits?: number; extra?: Uint8Array }
function fmtBody(f: Fmt = {}): Uint8Array {
  const channels = f.channels ?? 1, rate = f.rate ?? 16000, bits = f.bits ?? 16;
  const blockAlign = f.blockAlign ?? channels * (bits >> 3);
  return cat(u16(f.tag ?? 1), u16(channels), u32(rate), u32(f.byteRate ?? rate * blockAlign), u16(blockAlign), u16(bits), f.extra ?? new Uint8Array(0));
}
const PCM_GUID = Uint8Array.from([0x01, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]);
const FLOAT_GUID = Uint8Array.from([0x03, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]);
const extensible = (valid = 16, guid = PCM_GUID) => cat(u16(22), u16(valid), u32(0x4), guid);

/** RIFF/WAVE around `chunks`; `riffSize` overrides the declared size. */
const riff = (chunks: Uint8Array[], riffSize?: number) => {
  const body = cat(ascii('WAVE'), ...chunks);
  return cat(ascii('RIFF'), u32(riffSize ?? body.length), body);
};
const SAMPLES = [0, 1, -1, 32767, -32768, 12345, -54, 7];
const simple = () => riff([chunk('fmt ', fmtBody()), chunk('data', int16Bytes(SAMPLES))]);

function expectWavError(bytes: Uint8Array, code: WavErrorCode, message?: RegExp): void {
  let err: unknown;
  try { readWav(bytes); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(WavError);
  expect(err).toBeInstanceOf(SpikewasmError);
  expect((err as WavError).code).toBe(code);
  if (message) expect((err as WavError).message).toMatch(message);
}

describe('readWav: the fixture WAVs', () => {
  const fx = parseSafetensors(fixtureBytes('kernel_fbank.safetensors'));
  for (const [file, tensor, n] of [['main_yes_1000ms.wav', 'input', 16000], ['short_no_600ms.wav', 'input_short', 9600]] as const) {
    it(`${file} decodes bit for bit to the fixture's ${tensor}`, () => {
      const wav = readWav(fixtureBytes(`audio/${file}`));
      const want = fx.tensors.get(tensor)!.data as Float32Array;
      expect(wav.sampleRate).toBe(16000);
      expect(wav.channels).toBe(1);
      expect(wav.samples.length).toBe(n);
      expect(new Uint32Array(wav.samples.buffer)).toEqual(new Uint32Array(want.buffer, want.byteOffset, want.length));
    });
  }

  it('accepts an ArrayBuffer and a Uint8Array view with an offset', () => {
    const bytes = fixtureBytes('audio/short_no_600ms.wav');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const a = readWav(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const b = readWav(shifted.subarray(3));
    expect(b.samples).toEqual(a.samples);
  });
});

describe('readWav: valid variants', () => {
  it('decodes int16 / 32768 exactly (extremes included)', () => {
    const { samples, sampleRate, channels } = readWav(simple());
    expect(sampleRate).toBe(16000);
    expect(channels).toBe(1);
    expect(Array.from(samples)).toEqual(SAMPLES.map((s) => s / 32768));
    expect(samples[3]).toBe(32767 / 32768);
    expect(samples[4]).toBe(-1);
  });

  it('skips unknown chunks, odd-sized ones with their pad byte, before and after fmt/data, data before fmt', () => {
    const list = chunk('LIST', ascii('INFOISFT'));
    const odd = chunk('junk', Uint8Array.of(1, 2, 3)); // 3 bytes + pad
    const fact = chunk('fact', u32(SAMPLES.length));
    const variants = [
      riff([odd, chunk('fmt ', fmtBody()), list, fact, chunk('data', int16Bytes(SAMPLES)), odd]),
      riff([chunk('data', int16Bytes(SAMPLES)), odd, chunk('fmt ', fmtBody())]),
      riff([chunk('fmt ', fmtBody({ extra: u16(0) })), chunk('data', int16Bytes(SAMPLES))]), // 18-byte fmt (cbSize 0)
    ];
    for (const v of variants) expect(Array.from(readWav(v).samples)).toEqual(SAMPLES.map((s) => s / 32768));
  });

  it('tolerates a missing pad byte after the last chunk only', () => {
    const good = riff([chunk('fmt ', fmtBody()), chunk('data', int16Bytes(SAMPLES)), chunk('note', ascii('abc'), 3, false)]);
    expect(readWav(good).samples.length).toBe(SAMPLES.length);
    // in the middle the reader skips the (absent) pad byte, which is the "d" of "data": every later header is read
    // one byte late ("ata\x10", size 0, then sample bytes as a header whose size runs past the end)
    const bad = riff([chunk('fmt ', fmtBody()), chunk('note', ascii('abc'), 3, false), chunk('data', int16Bytes(SAMPLES))]);
    expectWavError(bad, 'truncated');
  });

  it('ignores bytes after the RIFF chunk', () => {
    const withTail = cat(simple(), ascii('ID3\x03garbage'));
    expect(Array.from(readWav(withTail).samples)).toEqual(SAMPLES.map((s) => s / 32768));
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE with the PCM sub-format', () => {
    const bytes = riff([chunk('fmt ', fmtBody({ tag: 0xfffe, extra: extensible() })), chunk('data', int16Bytes(SAMPLES))]);
    expect(Array.from(readWav(bytes).samples)).toEqual(SAMPLES.map((s) => s / 32768));
  });

  it('returns an empty signal for an empty data chunk, and other sample rates as stated', () => {
    expect(readWav(riff([chunk('fmt ', fmtBody()), chunk('data', new Uint8Array(0))])).samples.length).toBe(0);
    expect(readWav(riff([chunk('fmt ', fmtBody({ rate: 44100 })), chunk('data', int16Bytes(SAMPLES))])).sampleRate).toBe(44100);
  });

  it('stereo: rejected by default; first channel or the exact channel mean on request', () => {
    const L = [100, -200, 32767, -32768], R = [300, 201, 32767, -32767];
    const inter = L.flatMap((l, i) => [l, R[i]]);
    const bytes = riff([chunk('fmt ', fmtBody({ channels: 2 })), chunk('data', int16Bytes(inter))]);
    expectWavError(bytes, 'multichannel', /2 channels/);
    const first = readWav(bytes, { multichannel: 'first' });
    expect(first.channels).toBe(2);
    expect(Array.from(first.samples)).toEqual(L.map((s) => s / 32768));
    const mix = readWav(bytes, { multichannel: 'mix' });
    expect(Array.from(mix.samples)).toEqual(L.map((l, i) => (l + R[i]) / 65536)); // exact in float32 (17-bit numerators)
    expect(() => readWav(bytes, { multichannel: 'sum' as never })).toThrow(ArgumentError);
  });

  it('3 channels mixed: the mean rounded once to float32', () => {
    const bytes = riff([chunk('fmt ', fmtBody({ channels: 3 })), chunk('data', int16Bytes([1, 2, 4, -7, 0, 0]))]);
    expect(Array.from(readWav(bytes, { multichannel: 'mix' }).samples)).toEqual([Math.fround(7 / 98304), Math.fround(-7 / 98304)]);
  });
});

describe('readWav: malformed and unsupported files throw WavError', () => {
  const data = chunk('data', int16Bytes(SAMPLES));
  const cases: [string, Uint8Array, WavErrorCode, RegExp?][] = [
    ['empty file', new Uint8Array(0), 'truncated', /shorter than a RIFF/],
    ['11 bytes', simple().subarray(0, 11), 'truncated'],
    ['not RIFF', cat(ascii('OggS'), simple().subarray(4)), 'not-wav', /"OggS"/],
    ['big-endian RIFX', cat(ascii('RIFX'), simple().subarray(4)), 'unsupported-format', /RIFX/],
    ['RF64', cat(ascii('RF64'), simple().subarray(4)), 'unsupported-format', /RF64/],
    ['form type AVI', cat(simple().subarray(0, 8), ascii('AVI '), simple().subarray(12)), 'not-wav', /AVI/],
    ['RIFF size < 4', riff([], 2), 'not-wav'],
    ['RIFF size past the end of the file', riff([chunk('fmt ', fmtBody()), data], 1000), 'truncated', /declares 1008 bytes/],
    ['RIFF size 0xFFFFFFFF', riff([chunk('fmt ', fmtBody()), data], 0xffffffff), 'truncated'],
    ['stray bytes after the last chunk', riff([chunk('fmt ', fmtBody()), data, ascii('abc')]), 'truncated', /stray bytes/],
    ['chunk size past the RIFF end', riff([chunk('fmt ', fmtBody()), chunk('data', int16Bytes(SAMPLES), 0x7ffffff0)]), 'truncated', /"data"/],
    ['unknown chunk size past the end', riff([chunk('fmt ', fmtBody()), chunk('LIST', ascii('abcd'), 0xffffffff), data]), 'truncated', /"LIST"/],
    ['no fmt', riff([data]), 'missing-chunk', /fmt/],
    ['no data', riff([chunk('fmt ', fmtBody())]), 'missing-chunk', /data/],
    ['two fmt', riff([chunk('fmt ', fmtBody()), chunk('fmt ', fmtBody()), data]), 'duplicate-chunk'],
    ['two data', riff([chunk('fmt ', fmtBody()), data, data]), 'duplicate-chunk'],
    ['fmt of 14 bytes', riff([chunk('fmt ', fmtBody().subarray(0, 14)), data]), 'bad-format', /14 bytes/],
    ['IEEE float', riff([chunk('fmt ', fmtBody({ tag: 3, bits: 32 })), data]), 'unsupported-format', /format tag 0x3/],
    ['A-law', riff([chunk('fmt ', fmtBody({ tag: 6, bits: 8 })), data]), 'unsupported-format'],
    ['8-bit PCM', riff([chunk('fmt ', fmtBody({ bits: 8 })), data]), 'unsupported-format', /8 bits/],
    ['24-bit PCM', riff([chunk('fmt ', fmtBody({ bits: 24 })), chunk('data', new Uint8Array(6))]), 'unsupported-format', /24 bits/],
    ['extensible float', riff([chunk('fmt ', fmtBody({ tag: 0xfffe, extra: extensible(16, FLOAT_GUID) })), data]), 'unsupported-format', /sub-format/],
    ['extensible 12 valid bits', riff([chunk('fmt ', fmtBody({ tag: 0xfffe, extra: extensible(12) })), data]), 'unsupported-format', /12 valid bits/],
    ['extensible without its extension', riff([chunk('fmt ', fmtBody({ tag: 0xfffe, extra: u16(0) })), data]), 'bad-format'],
    ['0 channels', riff([chunk('fmt ', fmtBody({ channels: 0, blockAlign: 0 })), data]), 'bad-format', /0 channels/],
    ['sample rate 0', riff([chunk('fmt ', fmtBody({ rate: 0 })), data]), 'bad-format', /sample rate 0/],
    ['block align 4 for mono', riff([chunk('fmt ', fmtBody({ blockAlign: 4 })), data]), 'bad-format', /block align 4/],
    ['wrong byte rate', riff([chunk('fmt ', fmtBody({ byteRate: 16000 })), data]), 'bad-format', /byte rate/],
    ['odd data size', riff([chunk('fmt ', fmtBody()), chunk('data', Uint8Array.of(1, 2, 3))]), 'bad-data', /3 bytes/],
    ['stereo data of 6 bytes', riff([chunk('fmt ', fmtBody({ channels: 2 })), chunk('data', new Uint8Array(6))]), 'bad-data'],
  ];
  for (const [name, bytes, code, msg] of cases) it(name, () => expectWavError(bytes, code, msg));

  it('every truncation of a valid file is reported as truncated', () => {
    const full = fixtureBytes('audio/short_no_600ms.wav');
    const lengths = [0, 1, 4, 8, 11, 12, 16, 19, 20, 35, 36, 43, 44, 45, 1000, full.length - 2, full.length - 1];
    for (const n of lengths) expectWavError(full.slice(0, n), 'truncated');
  });

  it('random corruption: a WavError or a result no larger than the file implies, never any other exception', () => {
    const base = simple();
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.nat(base.length),
      (edits, cut) => {
        const bytes = base.slice(0, Math.max(cut, 1));
        for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
        try {
          const r = readWav(bytes, { multichannel: 'mix' });
          expect(r.samples.length).toBeLessThanOrEqual(bytes.length / 2);
        } catch (e) {
          expect(e).toBeInstanceOf(WavError);
        }
      },
    ), { numRuns: 2000, seed: 20240 });
  });

  it('hostile length fields never allocate beyond the file', () => {
    // a data chunk claiming 2 GiB inside a 60-byte file must fail before allocating
    const bytes = riff([chunk('fmt ', fmtBody()), chunk('data', int16Bytes(SAMPLES), 0x80000000)]);
    expectWavError(bytes, 'truncated');
  });
});
