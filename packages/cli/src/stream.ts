// `spikewasm stream`: frame-by-frame inference with a model's streaming stepper, printing the running prediction.
// Sources: a 16 kHz mono 16-bit WAV through the SCv2 front end (FbankStream, 'features'), or a tensor [B, N, C].
import { basename } from 'node:path';
import { init, parseSafetensors, ShapeError, fmtShape } from '@spikewasm/core-wasm';
import { FbankStream, FBANK_SAMPLE_RATE, FBANK_NUM_MEL_BINS, readWav, WavError } from '@spikewasm/lmu';
import { CliError, NotSupportedError, UsageError } from './errors.js';
import { MODELS, inFile, readBytes, readInput, resolveModel, topK, type Supported, type TopClass } from './run.js';

export interface StreamOptions {
  weights: string;
  model?: string;
  config?: string;
  /** A 16 kHz mono 16-bit PCM WAV (LMUFormer models with in_channels 128). */
  wav?: string;
  /** A tensor [B, N, C] (tensor "input" of a safetensors file, or .npy); default: tensor "input" of the weights file. */
  input?: string;
  /** Report every `every` outputs (default 10 frames for LMUFormer, 100 pixels for psMNIST); the last one always. */
  every?: number;
}

/** One running prediction: after output frame (or pixel) `frame` (0-based), the top class of every batch element. */
export interface StreamUpdate {
  frame: number;
  /** Frames (or pixels) pushed so far. */
  pushed: number;
  final: boolean;
  top: TopClass[];
}

/** The header of a stream: what runs on what. */
export interface StreamInfo {
  model: Supported;
  modelClass: string;
  source: { kind: 'wav'; path: string; samples: number; seconds: number } | { kind: 'tensor'; path: string; shape: number[] };
  batch: number;
  unit: 'frame' | 'pixel';
  lookahead: number;
}

interface Stepper {
  push(frame: Float32Array): { data: ArrayLike<number>; shape: readonly number[] } | null;
  flush?(): { shape: readonly number[]; data: ArrayLike<number> };
}

const LMUFORMER = new Set<Supported>(['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d']);

/**
 * Runs `spikewasm stream`, calling `onStart` once and `onUpdate` for every reported prediction.
 * @throws {SpikewasmError} every failure caused by the inputs
 */
export async function streamCheckpoint(opts: StreamOptions, onStart: (s: StreamInfo) => void, onUpdate: (u: StreamUpdate) => void): Promise<void> {
  if (opts.wav !== undefined && opts.input !== undefined) throw new UsageError('stream: give --wav or --input, not both (see spikewasm stream --help)');
  if (opts.every !== undefined && !(Number.isSafeInteger(opts.every) && opts.every >= 1)) throw new UsageError(`stream: --every must be a positive integer, got ${opts.every}`);
  const wBytes = readBytes(opts.weights, 'weights file');
  const file = inFile(opts.weights, () => parseSafetensors(wBytes));
  const { factory, config } = resolveModel(opts, file);
  if (factory === 'spikformer') {
    throw new NotSupportedError('stream: spikformer has no streaming form (every forward is a whole image over T steps); use spikewasm run');
  }
  const isLmuformer = LMUFORMER.has(factory);

  // The source, read and checked before the model is built.
  let wav: { samples: Float32Array; path: string } | null = null;
  let tensor: { data: Float32Array; shape: number[]; path: string } | null = null;
  if (opts.wav !== undefined) {
    if (!isLmuformer) throw new UsageError(`stream: --wav needs an LMUFormer Speech Commands model (lmu_rnn_conv1d, slmu_rnn_ms_conv1d), not ${factory}`);
    const bytes = readBytes(opts.wav, 'WAV file');
    let audio;
    try {
      audio = readWav(bytes);
    } catch (e) {
      if (e instanceof WavError) {
        const hint = e.code === 'multichannel' ? ' (need 16 kHz mono 16-bit PCM)' : e.code === 'unsupported-format' ? ' (need 16-bit integer PCM, 16 kHz mono)' : '';
        throw new CliError(`${basename(opts.wav)}: ${e.message.replace(/^readWav: /, '')}${hint}`);
      }
      throw e;
    }
    if (audio.sampleRate !== FBANK_SAMPLE_RATE) {
      throw new CliError(`${basename(opts.wav)}: sample rate ${audio.sampleRate} Hz; the SCv2 front end needs ${FBANK_SAMPLE_RATE} Hz mono 16-bit PCM (resample it first)`);
    }
    wav = { samples: audio.samples, path: opts.wav };
  } else {
    const path = opts.input ?? opts.weights;
    const inp = opts.input !== undefined ? readInput(readBytes(opts.input, 'input file'), opts.input, null) : readInput(wBytes, opts.weights, file);
    if (inp.shape.length !== 3) throw new ShapeError(`stream: input expected [B, N, C] (frames or pixels × channels), got ${fmtShape(inp.shape)}`);
    tensor = { data: inp.data, shape: inp.shape, path };
  }

  const core = await init();
  const arena = core.arena();
  try {
    const ignore = (k: string) => k === 'input' || k.startsWith('expected.');
    const model = inFile(opts.weights, () => MODELS[factory].build(arena, file, config, { ignore }));
    const cfg = model.config as unknown as Record<string, number>;
    const C = isLmuformer ? cfg.in_channels : factory === 'psmnist_slmu' ? cfg.input_size : 1;
    if (wav && C !== FBANK_NUM_MEL_BINS) {
      throw new CliError(`stream: --wav makes ${FBANK_NUM_MEL_BINS} mel bins per frame, but the model has in_channels ${C} (${basename(opts.weights)}); use --input with [B, N, ${C}] frames`);
    }
    if (tensor && tensor.shape[2] !== C) {
      throw new ShapeError(`stream: input ${fmtShape(tensor.shape)} has ${tensor.shape[2]} channels per ${isLmuformer ? 'frame' : 'pixel'}; ${factory} takes ${C} (${isLmuformer ? 'in_channels' : 'input_size'})`);
    }
    const B = tensor ? tensor.shape[0] : 1;
    const s = (model as unknown as { stream(b: number): Stepper }).stream(B);
    const every = opts.every ?? (isLmuformer ? 10 : 100);
    const unit = isLmuformer ? 'frame' : 'pixel';
    onStart({
      model: factory, modelClass: MODELS[factory].className, batch: B, unit, lookahead: isLmuformer ? 5 : 0,
      source: wav
        ? { kind: 'wav', path: wav.path, samples: wav.samples.length, seconds: wav.samples.length / FBANK_SAMPLE_RATE }
        : { kind: 'tensor', path: tensor!.path, shape: tensor!.shape },
    });

    let pushed = 0, out = 0;
    let last: { frame: number; logits: Float32Array; K: number; pushed: number } | null = null;
    let lastReported = -1;
    const emit = (frame: number, logits: Float32Array, K: number, at: number, final: boolean) => {
      onUpdate({ frame, pushed: at, final, top: topK(logits, B, K, 1).map((r) => r[0]) });
      lastReported = frame;
    };
    const took = (y: { data: ArrayLike<number> }) => {
      const logits = Float32Array.from(y.data);
      const K = logits.length / B;
      const frame = out++;
      // report the previous output when this one is the n-th: keeps the last output for the final line
      if (last && (last.frame + 1) % every === 0 && last.frame !== lastReported) emit(last.frame, last.logits, last.K, last.pushed, false);
      last = { frame, logits, K, pushed };
    };
    const push = (row: Float32Array) => {
      pushed++;
      const y = s.push(row);
      if (y) took(y);
    };

    if (wav) {
      const fb = new FbankStream({ output: 'features' });
      // feed the audio in 10 ms chunks, as a microphone would
      for (let i = 0; i < wav.samples.length; i += 160) fb.push(wav.samples.subarray(i, Math.min(i + 160, wav.samples.length)), push);
    } else {
      const [, N] = tensor!.shape;
      const frame = new Float32Array(B * C);
      for (let t = 0; t < N; t++) {
        for (let b = 0; b < B; b++) frame.set(tensor!.data.subarray((b * N + t) * C, (b * N + t + 1) * C), b * C);
        push(frame);
      }
    }
    if (s.flush && pushed > 0) {
      const rest = s.flush();
      const k = rest.shape[0];
      const per = rest.data.length / k;
      for (let i = 0; i < k; i++) took({ data: Array.prototype.slice.call(rest.data, i * per, (i + 1) * per) as number[] });
    }
    if (last === null) {
      throw new CliError(wav ? `${basename(wav.path)}: too short for one fbank frame (${wav.samples.length} samples; 400 = 25 ms needed)` : 'stream: the input has no frames');
    }
    const l = last as { frame: number; logits: Float32Array; K: number; pushed: number };
    emit(l.frame, l.logits, l.K, l.pushed, true);
  } finally {
    arena.dispose();
  }
}

/** One readable line per update. */
export function formatUpdate(info: StreamInfo, u: StreamUpdate): string {
  const cells = u.top.map((t, b) => `${info.batch > 1 ? `[${b}] ` : ''}class ${String(t.class).padStart(2)} p ${t.prob.toFixed(3)} (logit ${t.logit.toFixed(3)})`).join('   ');
  const at = info.unit === 'frame' ? `frame ${String(u.frame).padStart(4)}` : `pixel ${String(u.frame).padStart(4)}`;
  const time = info.source.kind === 'wav' ? ` ${((u.frame * 10 + 25) / 1000).toFixed(2)}s` : '';
  return `${u.final ? 'final' : '     '} ${at}${time}  ${cells}`;
}

/** The header line of the readable output. */
export function formatStart(s: StreamInfo): string {
  const src = s.source.kind === 'wav'
    ? `${s.source.path} (${s.source.seconds.toFixed(3)} s, 16 kHz mono) → FbankStream features`
    : `tensor ${fmtShape(s.source.shape)} from ${s.source.path}`;
  return `stream  ${s.model} (${s.modelClass}), batch ${s.batch}, ${src}${s.lookahead ? `; outputs trail the input by ${s.lookahead} frames, flushed at the end` : ''}`;
}
