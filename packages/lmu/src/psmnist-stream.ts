// Streaming inference of the psMNIST models (shared/spec/lmuformer.md §5): one pixel per step, no look-ahead (there
// is no conv over time), the LMU memory through its FIR or recurrent stepper.
import { linear, channelAffine, ArgumentError, ShapeError, checkFinite, checkInputKind, firstNonFinite, type Arena, type PackedDense, type Tensor } from '@spikewasm/core-wasm';
import { LIFNode } from '@spikewasm/spiking';
import type { LMU, LMUMemory, LMUMemoryStepper, LMUStepper } from './lmu.js';
import type { PsMnistConfig } from './config.js';
import { checkF32, tagError, type ChannelAffine } from './internal.js';
import { copyFloats } from './frames.js';

/** Options of `PsMnistLMU.stream()` and `PsMnistSLMU.stream()`. */
export interface PsMnistStreamOptions {
  /**
   * The memory's streaming form: `'fir'` (default) keeps the last seq_len inputs and equals the parallel `'fir'` form
   * bit for bit (the `'fft'` form within its rounding); `'recurrent'` equals the parallel `'recurrent'` form bit for
   * bit. Past seq_len steps (no parallel counterpart) the FIR window slides.
   */
  lmuMode?: 'fir' | 'recurrent';
  /** Accept NaN/±Infinity in pushed inputs (true) or reject them with a NonFiniteError (false). Default: the model's `allowNonFinite`. */
  allowNonFinite?: boolean;
}

/** The weights a non-spiking psMNIST stream reads (shared with the model). */
export interface PsMnistLMUStreamWeights {
  config: PsMnistConfig;
  conv: PackedDense;
  convBias: Tensor;
  bn: ChannelAffine | null;
  lmu: LMU;
  classifier: PackedDense;
  classifierBias: Tensor;
}

/** The weights a spiking psMNIST stream reads (shared with the model). */
export interface PsMnistSLMUStreamWeights {
  config: PsMnistConfig;
  wU: PackedDense;
  bU: Tensor;
  memory: LMUMemory;
  wH: PackedDense;
  bH: Tensor;
  classifier: PackedDense;
  classifierBias: Tensor;
}

function checkBatch(who: string, batch: number, mode: string): void {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`${who}.stream: batch size must be a positive integer, got ${batch}`);
  if (mode !== 'fir' && mode !== 'recurrent') throw new ArgumentError(`${who}.stream: lmuMode must be 'fir' or 'recurrent', got ${String(mode)}`);
}

/** Copies one step's input (B·inp values, a Float32Array or a Tensor [B, inp] of the same core) into `dst`. */
function stage(who: string, x: Float32Array | Tensor, dst: Tensor, allowNonFinite: boolean): void {
  const [B, inp] = dst.shape;
  checkInputKind(`${who}.push`, 'input', x, dst.core);
  if (x instanceof Float32Array) {
    if (x.length !== B * inp) throw new ShapeError(`${who}.push: expected B·input_size = ${B}·${inp} values, got ${x.length}`);
  } else {
    checkF32(`${who}.push`, 'input', x, [B, inp]);
  }
  const src = x instanceof Float32Array ? x : x.f32;
  // before the copy: a rejected push leaves the stream (and its input buffer) as it was
  if (!allowNonFinite && firstNonFinite(src, 0, B * inp) >= 0) checkFinite(`${who}.push`, 'input', src, dst.shape);
  copyFloats(src, 0, dst.f32, 0, B * inp);
}

/**
 * The streaming form of {@link PsMnistLMU} (`model.stream(batch)`): `push(pixels [B])` runs one step
 * (conv1 + bn1 → LMU cell) and returns the logits [B, classes] of the prefix so far, classifier(mean of h over the
 * steps 0..t): the parallel model's mean over t becomes a running mean (summed in float32 in step order, then
 * divided, as the parallel mean does). After seq_len pixels they equal the parallel forward bit for bit (same memory
 * form). The returned tensor is overwritten by the next push. No allocation per step.
 * @example
 * const s = model.stream(1);
 * for (const p of pixels) logits = s.push(Float32Array.of(p));   // after 784 pixels: model.forward(pixels)
 */
export class PsMnistLMUStream {
  readonly lmuMode: 'fir' | 'recurrent';
  /** Whether pushed inputs may hold NaN/±Infinity. */
  readonly allowNonFinite: boolean;
  /** This step's input [B, 1]. */
  readonly x: Tensor;
  /** bn1(conv1(x)) [B, 3]. */
  readonly x3: Tensor;
  /** The LMU cell's output h_t [B, hidden_size] of the last step. */
  readonly h: Tensor;
  /** The running mean of h [B, hidden_size]. */
  readonly pooled: Tensor;
  /** The logits [B, output_size] of the last step. */
  readonly logits: Tensor;
  private readonly cell: LMUStepper;
  private readonly acc: Float32Array;

  /** Use `PsMnistLMU.stream()`. */
  constructor(arena: Arena, private readonly w: PsMnistLMUStreamWeights, readonly batch = 1, options: PsMnistStreamOptions = {}) {
    this.lmuMode = options.lmuMode ?? 'fir';
    this.allowNonFinite = options.allowNonFinite ?? false;
    checkBatch('PsMnistLMU', batch, this.lmuMode);
    const c = w.config, t = (shape: number[], name: string) => arena.tensor(shape, 'f32', name);
    this.x = t([batch, 1], 'pixel');
    this.x3 = t([batch, 3], 'bn1');
    this.h = t([batch, c.hidden_size], 'lmu_fft.h');
    this.pooled = t([batch, c.hidden_size], 'mean h');
    this.logits = t([batch, c.output_size], 'logits');
    this.cell = w.lmu.stepper(batch, this.lmuMode);
    this.acc = new Float32Array(batch * c.hidden_size);
  }

  /** Steps taken since the start of the sequence. */
  get steps(): number {
    return this.cell.t;
  }

  /** One pixel of every sequence, [B] (a Float32Array, or a Tensor [B, 1]) → the prefix logits [B, output_size]. */
  push(pixels: Float32Array | Tensor): Tensor {
    stage('PsMnistLMU', pixels, this.x, this.allowNonFinite);
    const w = this.w;
    try {
      linear(this.x, w.conv, this.x3, { bias: w.convBias });
      if (w.bn) channelAffine(this.x3, w.bn.scale, w.bn.shift, this.x3, 1);
      this.cell.step(this.x3, this.h);
      const acc = this.acc, hv = this.h.f32, pv = this.pooled.f32, div = this.cell.t;
      for (let i = 0; i < acc.length; i++) {
        acc[i] += hv[i];
        pv[i] = acc[i] / div;
      }
      linear(this.pooled, w.classifier, this.logits, { bias: w.classifierBias });
    } catch (e) {
      throw tagError('psmnist_lmu stream', e);
    }
    return this.logits;
  }

  /** Starts new sequences (memory and running mean cleared). */
  reset(): void {
    this.cell.reset();
    this.acc.fill(0);
  }

  /** The same as {@link PsMnistLMUStream.reset}. */
  resetNet(): void {
    this.reset();
  }
}

/**
 * The streaming form of {@link PsMnistSLMU} (`model.stream(batch)`): `push(x [B, input_size])` runs one step
 * (u = LIF(W_u x + b), m, h = LIF(W_h [m ; x] + b), membranes kept per sequence) and returns classifier(h_t)
 * [B, classes]: the parallel model reads h at the last step, so after seq_len steps this equals its forward, bit for
 * bit (same memory form); before, it is the prediction the model would make if the sequence ended there.
 * @example
 * const s = model.stream(2);
 * for (let t = 0; t < 784; t++) logits = s.push(pixelsAt(t));   // pixelsAt(t): Float32Array [2]
 */
export class PsMnistSLMUStream {
  readonly lmuMode: 'fir' | 'recurrent';
  /** Whether pushed inputs may hold NaN/±Infinity. */
  readonly allowNonFinite: boolean;
  /** This step's input [B, input_size]. */
  readonly x: Tensor;
  /** f_u spikes [B, 1] of the last step. */
  readonly u: Tensor;
  /** The real memory m_t in the first memory_size columns, then x_t: [B, memory_size + input_size]. */
  readonly cat: Tensor;
  /** f_h spikes h_t [B, hidden_size] of the last step. */
  readonly h: Tensor;
  /** classifier(h_t) [B, output_size]. */
  readonly logits: Tensor;
  private readonly uPre: Tensor;
  private readonly uFlat: Tensor;
  private readonly hPre: Tensor;
  private readonly mem: LMUMemoryStepper;
  private readonly fU: LIFNode;
  private readonly fH: LIFNode;

  /** Use `PsMnistSLMU.stream()`. */
  constructor(arena: Arena, private readonly w: PsMnistSLMUStreamWeights, readonly batch = 1, options: PsMnistStreamOptions = {}) {
    this.lmuMode = options.lmuMode ?? 'fir';
    this.allowNonFinite = options.allowNonFinite ?? false;
    checkBatch('PsMnistSLMU', batch, this.lmuMode);
    const c = w.config, t = (shape: number[], name: string) => arena.tensor(shape, 'f32', name);
    this.x = t([batch, c.input_size], 'input');
    this.uPre = t([batch, 1], 'lmu_fft.u_pre');
    this.u = t([batch, 1], 'lmu_fft.f_u');
    this.uFlat = this.u.reshape([batch]);
    this.cat = t([batch, c.memory_size + c.input_size], 'lmu_fft.[m;x]');
    this.hPre = t([batch, c.hidden_size], 'lmu_fft.h_pre');
    this.h = t([batch, c.hidden_size], 'lmu_fft.f_h');
    this.logits = t([batch, c.output_size], 'logits');
    this.mem = w.memory.stepper(batch, this.lmuMode);
    this.fU = new LIFNode(arena, [batch, 1], { name: 'lmu_fft.f_u', stepMode: 's' });
    this.fH = new LIFNode(arena, [batch, c.hidden_size], { name: 'lmu_fft.f_h', stepMode: 's' });
  }

  /** Steps taken since the start of the sequence. */
  get steps(): number {
    return this.mem.t;
  }

  /** One step of every sequence, x [B, input_size] (a Float32Array or a Tensor) → classifier(h_t) [B, output_size]. */
  push(x: Float32Array | Tensor): Tensor {
    stage('PsMnistSLMU', x, this.x, this.allowNonFinite);
    const w = this.w, c = w.config, d = c.memory_size, inp = c.input_size, B = this.batch;
    try {
      linear(this.x, w.wU, this.uPre, { bias: w.bU });
      this.fU.forward(this.uPre, { floats: this.u });
      this.mem.step(this.uFlat, this.cat);
      const xv = this.x.f32, cv = this.cat.f32;
      for (let b = 0; b < B; b++) copyFloats(xv, b * inp, cv, b * (d + inp) + d, inp);
      linear(this.cat, w.wH, this.hPre, { bias: w.bH });
      this.fH.forward(this.hPre, { floats: this.h });
      linear(this.h, w.classifier, this.logits, { bias: w.classifierBias });
    } catch (e) {
      throw tagError('psmnist_slmu stream', e);
    }
    return this.logits;
  }

  /** Starts new sequences: memory and every membrane cleared. */
  reset(): void {
    this.mem.reset();
    this.fU.reset();
    this.fH.reset();
  }

  /** The same as {@link PsMnistSLMUStream.reset} (spikingjelly's `reset_net`). */
  resetNet(): void {
    this.reset();
  }
}
