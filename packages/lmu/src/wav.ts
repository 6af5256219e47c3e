import { ArgumentError, SpikewasmError } from '@spikewasm/core-wasm';

/** What was wrong with a WAV file; {@link WavError.code} holds one of these. */
export type WavErrorCode =
  | 'truncated' // a length field points past the end of the file (or of the RIFF chunk)
  | 'not-wav' // no `RIFF`…`WAVE` container
  | 'missing-chunk' // no `fmt ` or no `data` chunk
  | 'duplicate-chunk' // a second `fmt ` or `data` chunk
  | 'bad-format' // the `fmt ` chunk is inconsistent (block align, byte rate, zero channels or rate, short chunk)
  | 'unsupported-format' // a valid WAV that is not 16-bit integer PCM (float, 8/24/32-bit, compressed, RF64, RIFX)
  | 'bad-data' // the `data` chunk is not a whole number of sample frames
  | 'multichannel'; // more than one channel and `multichannel: 'reject'`

/**
 * A WAV file that {@link readWav} cannot or will not decode. `code` says which defect; the message says where
 * (byte offset, chunk) and what was found. Extends core-wasm's `SpikewasmError`, so one `catch` covers all of
 * spikewasm's typed errors.
 */
export class WavError extends SpikewasmError {
  override name = 'WavError';
  constructor(readonly code: WavErrorCode, message: string) {
    super(message);
  }
}

/** How {@link readWav} treats files with more than one channel. */
export type MultichannelMode =
  /** Throw a {@link WavError} with code `multichannel` (the default: the LMUFormer front end expects mono). */
  | 'reject'
  /**
   * Keep channel 0. This is what the official LMUFormer pipeline does with a stereo file: torchaudio loads `[C, n]`
   * and `kaldi.fbank(channel=-1)` uses channel 0.
   */
  | 'first'
  /** The mean of the channels, `Σ_c s_c / (32768·C)`, computed in float64 and rounded once to float32. */
  | 'mix';

/** Options of {@link readWav}. */
export interface ReadWavOptions {
  /** What to do with more than one channel. Default `'reject'`. */
  multichannel?: MultichannelMode;
}

/** A decoded WAV file. */
export interface WavAudio {
  /** Mono samples `int16 / 32768` in [−1, 1) (torchaudio.load's normalisation), one per sample frame. */
  samples: Float32Array;
  /** Samples per second, as the `fmt ` chunk states it (not resampled). */
  sampleRate: number;
  /** Channel count of the file (the samples are always mono; see {@link ReadWavOptions.multichannel}). */
  channels: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
// KSDATAFORMAT_SUBTYPE_PCM, 00000001-0000-0010-8000-00aa00389b71, as stored (first three fields little-endian).
const PCM_SUBFORMAT = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function fourcc(view: DataView, at: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = view.getUint8(at + i);
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/**
 * Decodes a 16-bit PCM WAV file (RIFF/WAVE, little-endian) into float32 samples `int16 / 32768`, exactly what
 * `torchaudio.load` returns, so `readWav(bytes).samples` can go straight into {@link speechFeatures}.
 *
 * The reader walks the RIFF chunks inside the length the RIFF header declares: it reads `fmt ` and `data`, skips
 * every other chunk (`LIST`, `fact`, `cue `, …), and honours the pad byte after odd-sized chunks (a missing pad byte
 * after the last chunk of the file is tolerated). Bytes after the RIFF chunk (e.g. appended tags) are ignored.
 * Accepted formats: `WAVE_FORMAT_PCM` (1) and `WAVE_FORMAT_EXTENSIBLE` with the PCM sub-format, 16 bits per sample
 * (16 valid bits), any sample rate (returned, not converted). Mono by default; see {@link ReadWavOptions}.
 *
 * Strict and hostile-input safe: every length field is checked against the bytes actually present before it is
 * used, nothing is read out of bounds, and the only allocation is the output (one float32 per sample frame, so at
 * most half the file's byte length). Any defect throws a {@link WavError} whose `code` names it.
 *
 * @example
 * const { samples, sampleRate } = readWav(new Uint8Array(await fs.readFile('yes.wav')));
 * if (sampleRate !== 16000) throw new Error('resample first');
 * const x = speechFeatures(samples); // [128, 128] LMUFormer input
 */
export function readWav(bytes: Uint8Array | ArrayBuffer, options: ReadWavOptions = {}): WavAudio {
  const mode = options.multichannel ?? 'reject';
  if (mode !== 'reject' && mode !== 'first' && mode !== 'mix') {
    throw new ArgumentError(`readWav: multichannel must be 'reject', 'first' or 'mix', got ${String(mode)}`);
  }
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const len = u8.byteLength;

  if (len < 12) throw new WavError('truncated', `readWav: ${len} bytes is shorter than a RIFF/WAVE header (12 bytes)`);
  const magic = fourcc(view, 0);
  if (magic === 'RIFX' || magic === 'RF64') {
    throw new WavError('unsupported-format', `readWav: ${magic} files are not supported (only little-endian RIFF)`);
  }
  if (magic !== 'RIFF') throw new WavError('not-wav', `readWav: the file starts with "${magic}", not "RIFF"`);
  const riffSize = view.getUint32(4, true);
  if (riffSize < 4) throw new WavError('not-wav', `readWav: RIFF size ${riffSize} leaves no room for the "WAVE" form type`);
  if (riffSize > len - 8) {
    throw new WavError('truncated', `readWav: the RIFF header declares ${riffSize + 8} bytes, the file has ${len}`);
  }
  const form = fourcc(view, 8);
  if (form !== 'WAVE') throw new WavError('not-wav', `readWav: RIFF form type is "${form}", not "WAVE"`);
  const end = 8 + riffSize;

  let fmtAt = -1, fmtSize = 0, dataAt = -1, dataSize = 0;
  let pos = 12;
  while (pos < end) {
    if (end - pos < 8) {
      throw new WavError('truncated', `readWav: ${end - pos} stray bytes at offset ${pos}, too few for a chunk header`);
    }
    const id = fourcc(view, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (size > end - body) {
      throw new WavError('truncated', `readWav: chunk "${id}" at offset ${pos} declares ${size} bytes, only ${end - body} remain`);
    }
    if (id === 'fmt ') {
      if (fmtAt >= 0) throw new WavError('duplicate-chunk', `readWav: a second "fmt " chunk at offset ${pos}`);
      fmtAt = body; fmtSize = size;
    } else if (id === 'data') {
      if (dataAt >= 0) throw new WavError('duplicate-chunk', `readWav: a second "data" chunk at offset ${pos}`);
      dataAt = body; dataSize = size;
    }
    // Chunks are padded to even length; the pad byte of the very last chunk is sometimes missing.
    pos = Math.min(body + size + (size & 1), end);
  }
  if (fmtAt < 0) throw new WavError('missing-chunk', 'readWav: no "fmt " chunk');
  if (dataAt < 0) throw new WavError('missing-chunk', 'readWav: no "data" chunk');

  if (fmtSize < 16) throw new WavError('bad-format', `readWav: "fmt " chunk of ${fmtSize} bytes, at least 16 needed`);
  const formatTag = view.getUint16(fmtAt, true);
  const channels = view.getUint16(fmtAt + 2, true);
  const sampleRate = view.getUint32(fmtAt + 4, true);
  const byteRate = view.getUint32(fmtAt + 8, true);
  const blockAlign = view.getUint16(fmtAt + 12, true);
  const bits = view.getUint16(fmtAt + 14, true);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    if (fmtSize < 40 || view.getUint16(fmtAt + 16, true) < 22) {
      throw new WavError('bad-format', `readWav: WAVE_FORMAT_EXTENSIBLE "fmt " chunk of ${fmtSize} bytes lacks its 22-byte extension`);
    }
    for (let i = 0; i < 16; i++) {
      if (view.getUint8(fmtAt + 24 + i) !== PCM_SUBFORMAT[i]) {
        throw new WavError('unsupported-format', 'readWav: WAVE_FORMAT_EXTENSIBLE with a sub-format other than PCM');
      }
    }
    const valid = view.getUint16(fmtAt + 18, true);
    if (valid !== 16) throw new WavError('unsupported-format', `readWav: ${valid} valid bits per sample, only 16 supported`);
  } else if (formatTag !== WAVE_FORMAT_PCM) {
    throw new WavError('unsupported-format', `readWav: format tag 0x${formatTag.toString(16)}, only PCM (1) is supported`);
  }
  if (bits !== 16) throw new WavError('unsupported-format', `readWav: ${bits} bits per sample, only 16 supported`);
  if (channels === 0) throw new WavError('bad-format', 'readWav: 0 channels');
  if (sampleRate === 0) throw new WavError('bad-format', 'readWav: sample rate 0');
  if (blockAlign !== 2 * channels) {
    throw new WavError('bad-format', `readWav: block align ${blockAlign}, expected ${2 * channels} for ${channels} × 16-bit`);
  }
  if (byteRate !== sampleRate * blockAlign) {
    throw new WavError('bad-format', `readWav: byte rate ${byteRate}, expected ${sampleRate * blockAlign} (rate × block align)`);
  }
  if (dataSize % blockAlign !== 0) {
    throw new WavError('bad-data', `readWav: "data" chunk of ${dataSize} bytes is not a whole number of ${blockAlign}-byte sample frames`);
  }
  if (channels > 1 && mode === 'reject') {
    throw new WavError('multichannel', `readWav: ${channels} channels; pass { multichannel: 'first' | 'mix' } to accept them`);
  }

  const frames = dataSize / blockAlign;
  const samples = new Float32Array(frames);
  if (channels === 1 || mode === 'first') {
    for (let i = 0, at = dataAt; i < frames; i++, at += blockAlign) samples[i] = view.getInt16(at, true) / 32768;
  } else {
    const scale = 32768 * channels;
    for (let i = 0, at = dataAt; i < frames; i++) {
      let sum = 0; // integers: exact
      for (let c = 0; c < channels; c++, at += 2) sum += view.getInt16(at, true);
      samples[i] = sum / scale;
    }
  }
  return { samples, sampleRate, channels };
}
