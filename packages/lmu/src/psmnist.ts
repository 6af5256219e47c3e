// The psMNIST notebook's non-spiking model (`psmnist_lmu`, shared/spec/lmuformer.md §5), frame-major.
import {
  packDense, linear, channelAffine, meanAxis, foldBatchNorm,
  ArgumentError, ShapeError, fmtShape,
  type Arena, type PackedDense, type Tensor,
  checkBatchInput,
} from '@spikewasm/core-wasm';
import { LMU, type LMUMode } from './lmu.js';
import { psmnistConfig, type PsMnistConfig } from './config.js';
import { loadCheckpoint, lookupTensor, type LoadCheckpointOptions, type StateDictLike } from './checkpoint.js';
import { affineOf, streamOptions, checkF32, PSMNIST_AXES, readBatchNorm, tagError, type ChannelAffine } from './internal.js';
import { PsMnistLMUStream, type PsMnistStreamOptions } from './psmnist-stream.js';

/** Options of {@link PsMnistLMU} that are not constructor arguments of the notebook's model. */
export interface PsMnistOptions {
  /** Execution form of the LMU memory (default `'fft'`; sequences are zero-padded to a power of two for it). */
  lmuMode?: LMUMode;
  /** Fold bn1 into conv1 (exact up to rounding: the BN directly follows the conv; default true). */
  foldBatchNorm?: boolean;
}

/** Every activation of a {@link PsMnistLMU} forward for one batch size. */
export interface PsMnistBuffers {
  readonly batch: number;
  /** The input staged from a Float32Array [B, L, 1]. */
  input: Tensor;
  /** bn1(conv1(x)) [B, L, 3] (official `expected.bn1`). */
  bn1: Tensor;
  /** The LMU cell output h [B, L, hidden_size]. */
  h: Tensor;
  /** mean over steps of h [B, hidden_size]. */
  pooled: Tensor;
  /** The logits [B, output_size]. */
  logits: Tensor;
}

/**
 * The non-spiking psMNIST model of the LMUFormer notebook (`Model`, cell 24), eval mode:
 *
 *     x₃ = bn1(conv1(x))                      conv1: Conv1d(1 → 3, k = 1) with bias; [B, L, 1] → [B, L, 3]
 *     h  = LMU(x₃)                            LMUFFT(input 3 → hidden_size, d = memory_size, θ = theta, seq_len)
 *     logits = classifier(mean_t h_t)         Linear(hidden_size → output_size)
 *
 * The notebook's `act` (ReLU) is constructed but never applied, and dropout is off in eval. Shapes: x f32 [B, seq_len, 1]
 * (one pixel per step, the official layout) → logits [B, output_size]. Activations are allocated once per batch size.
 * @example
 * const model = PsMnistLMU.fromCheckpoint(arena, bytes, psmnistConfig());
 * model.forward(pixels);   // [B, 784, 1] → [B, 10]
 */
export class PsMnistLMU {
  readonly config: PsMnistConfig;
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN). Streams made by `stream()` take this value unless their options say otherwise.
   */
  allowNonFinite = false;
  readonly lmu: LMU;
  private readonly conv: PackedDense;
  private readonly convBias: Tensor;
  private readonly bn: ChannelAffine | null;
  private readonly classifier: PackedDense;
  private readonly classifierBias: Tensor;
  private readonly workspaces = new Map<number, PsMnistBuffers>();
  private readonly inputSample: readonly number[];

  /** Builds the model from a state dict with the notebook's names (`conv1`, `bn1`, `lmu_fft.*`, `classifier`). */
  constructor(private readonly arena: Arena, config: Partial<PsMnistConfig>, sd: StateDictLike, options: PsMnistOptions = {}) {
    const c = psmnistConfig(config);
    this.config = c;
    this.inputSample = [c.seq_len, 1];
    const who = 'psmnist_lmu';
    const get = (k: string) => lookupTensor(sd, k, who)!;
    const bn = readBatchNorm(sd, 'bn1', who);
    if (options.foldBatchNorm ?? true) {
      const f = foldBatchNorm(get('conv1.weight'), get('conv1.bias'), bn);
      this.conv = packDense(arena, f.weight, 3, 1, 'conv1.weight');
      this.convBias = arena.from(f.bias, [3], 'f32', 'conv1.bias');
      this.bn = null;
    } else {
      this.conv = packDense(arena, get('conv1.weight'), 3, 1, 'conv1.weight');
      this.convBias = arena.from(get('conv1.bias'), [3], 'f32', 'conv1.bias');
      this.bn = affineOf(arena, bn, 'bn1');
    }
    this.lmu = LMU.fromStateDict(arena, sd, 'lmu_fft.', {
      inputSize: 3, hiddenSize: c.hidden_size, order: c.memory_size, theta: c.theta, seqLen: c.seq_len,
      mode: options.lmuMode ?? 'fft', name: 'lmu_fft',
    });
    this.classifier = packDense(arena, get('classifier.weight'), c.output_size, c.hidden_size, 'classifier.weight');
    this.classifierBias = arena.from(get('classifier.bias'), [c.output_size], 'f32', 'classifier.bias');
  }

  /**
   * Loads and checks a checkpoint (see {@link loadCheckpoint}, factory `psmnist_lmu`) and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   * @example PsMnistLMU.fromCheckpoint(arena, bytes, { hidden_size: 16, memory_size: 24, seq_len: 96, theta: 96 })
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<PsMnistConfig>,
    options: PsMnistOptions & LoadCheckpointOptions = {},
  ): PsMnistLMU {
    return new PsMnistLMU(arena, config, loadCheckpoint(source, 'psmnist_lmu', config, options), options);
  }

  /**
   * A streaming stepper for `batch` sequences (see {@link PsMnistLMUStream}): one pixel per push, the logits of the
   * prefix so far out (the mean over t becomes a running mean); after seq_len pixels, this model's forward bit for bit
   * with the same memory form (`'fir'` by default).
   * @example const s = model.stream(1); for (const p of pixels) logits = s.push(Float32Array.of(p));
   */
  stream(batch = 1, options: PsMnistStreamOptions = {}): PsMnistLMUStream {
    return new PsMnistLMUStream(this.arena, {
      config: this.config, conv: this.conv, convBias: this.convBias, bn: this.bn, lmu: this.lmu,
      classifier: this.classifier, classifierBias: this.classifierBias,
    }, batch, streamOptions(options, this.allowNonFinite));
  }

  /** The activations for batch size B (allocated on first use, then reused). */
  buffers(batch: number): PsMnistBuffers {
    let ws = this.workspaces.get(batch);
    if (ws) return ws;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`psmnist_lmu: batch size must be a positive integer, got ${batch}`);
    const c = this.config, a = this.arena, L = c.seq_len;
    ws = {
      batch,
      input: a.tensor([batch, L, 1], 'f32', 'input'),
      bn1: a.tensor([batch, L, 3], 'f32', 'bn1'),
      h: a.tensor([batch, L, c.hidden_size], 'f32', 'lmu_fft.h'),
      pooled: a.tensor([batch, c.hidden_size], 'f32', 'mean h'),
      logits: a.tensor([batch, c.output_size], 'f32', 'logits'),
    };
    this.lmu.buffers(batch, L);
    this.lmu.memory.prepare(batch, this.lmu.mode);
    this.workspaces.set(batch, ws);
    return ws;
  }

  /**
   * Runs the model on x f32 [B, seq_len, 1] (a Tensor, or a Float32Array of B·seq_len pixels). Returns the logits
   * [B, output_size] of this batch size's buffers (overwritten by the next forward of that size).
   * @example const logits = model.forward(Float32Array.from(pixels)).toArray();
   */
  forward(x: Tensor | Float32Array): Tensor {
    const L = this.config.seq_len;
    let input: Tensor;
    const batch = checkBatchInput('psmnist_lmu', 'input', x, this.inputSample, PSMNIST_AXES, this.arena.core, this.allowNonFinite);
    if (x instanceof Float32Array) {
      input = this.buffers(batch).input;
      input.f32.set(x);
    } else {
      input = x;
    }
    const ws = this.buffers(batch);
    try {
      linear(input, this.conv, ws.bn1, { bias: this.convBias });
      if (this.bn) channelAffine(ws.bn1, this.bn.scale, this.bn.shift, ws.bn1, 2);
      this.lmu.forward(ws.bn1, ws.h);
      meanAxis(ws.h, 1, ws.pooled);
      linear(ws.pooled, this.classifier, ws.logits, { bias: this.classifierBias });
    } catch (e) {
      throw tagError('psmnist_lmu', e);
    }
    return ws.logits;
  }
}
