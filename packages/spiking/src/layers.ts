// Spiking layers on the core-wasm ops: each forward checks nothing the op does not already check, dispatches f32
// inputs to the dense kernel and bit-packed spikes to the spike-input kernel, and writes into a tensor the caller
// allocated. Weights, biases and BN affines live in the arena given to the constructor; forward never allocates
// Wasm memory.
import {
  packDense, linear, linearSpike, conv1d, conv2d3x3, batchNormAffine, foldBatchNorm, channelAffine, maxPool3x3s2,
  meanAxis, add, unpackSpikes, ArgumentError, ShapeError, SpikewasmError, fmtShape,
  Tensor, DTypeError, describeValue, type Arena, type BatchNormParams, type PackedDense,
} from '@spikewasm/core-wasm';
import type { LayerCost, SpikingModule } from './module.js';
import { SpikeTensor } from './spike-tensor.js';

/** A layer input: real values (f32 {@link Tensor}) or spikes packed in bits ({@link SpikeTensor}, or a `bits` Tensor). */
export type LayerInput = Tensor | SpikeTensor;

/**
 * Prefixes a core-wasm error's message with the layer name (same error class and stack) and returns it. Internal to
 * the package (not re-exported from the index).
 * @example try { linear(x, w, y); } catch (e) { throw tagError('fc1', e); }
 */
export function tagError(name: string, e: unknown): unknown {
  if (e instanceof SpikewasmError && !e.message.startsWith(`${name}: `)) e.message = `${name}: ${e.message}`;
  return e;
}

/** The underlying tensor of an input and whether it holds spikes. */
function unwrap(x: LayerInput, who = 'layer'): Tensor {
  if (x instanceof SpikeTensor) return x.bits;
  if (!(x instanceof Tensor)) throw new DTypeError(`${who}: input must be a Tensor or a SpikeTensor, got ${describeValue(x)}`);
  return x;
}

/**
 * Number of non-zero scalars of an f32 tensor, or of set bits of a `bits` tensor (the nonZero of a {@link LayerCost}).
 * Internal to the package (not re-exported from the index).
 * @example countNonZero(spikes) / spikes.size // firing rate
 */
export function countNonZero(x: LayerInput): number {
  const t = unwrap(x);
  if (t.dtype === 'bits') return (x instanceof SpikeTensor ? x : new SpikeTensor(t)).count();
  const d = t.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) n++;
  return n;
}

/**
 * Base of the weight layers (and the attention products): the profiling state. Switching `profiling` on clears the
 * totals; while it is on every forward adds its dense-equivalent MACs, input count and non-zero input count.
 */
export abstract class MeteredLayer {
  private on = false;
  private total: LayerCost | null = null;

  get profiling(): boolean {
    return this.on;
  }

  set profiling(v: boolean) {
    if (v && !this.on) this.total = { macs: 0, inputs: 0, nonZero: 0, analog: false };
    this.on = v;
  }

  /** Totals since profiling was switched on (null if it never was). */
  cost(): LayerCost | null {
    return this.total ? { ...this.total } : null;
  }

  /** Adds a forward's cost (only while profiling). */
  protected addCost(macs: number, inputs: number, nonZero: number, analog: boolean): void {
    if (!this.on || !this.total) return;
    this.total.macs += macs;
    this.total.inputs += inputs;
    this.total.nonZero += nonZero;
    if (analog) this.total.analog = true;
  }

  /** Adds the cost of a forward on input x (counting its non-zeros: a popcount for spikes). */
  protected record(x: LayerInput, macs: number): void {
    if (!this.on) return;
    const t = unwrap(x);
    this.addCost(macs, t.size, countNonZero(x), t.dtype !== 'bits');
  }
}

function checkWeights(name: string, role: string, values: ArrayLike<number>, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new ShapeError(`${name}: ${role} expected ${fmtShape(shape)} = ${n} values, got ${values.length}`);
}

function checkDims(name: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${name}: ${k} must be a positive integer, got ${v}`);
  }
}

/** Options common to every layer. */
export interface LayerOptions {
  /** Name used in cost tables and error messages, e.g. `block.0.attn.q_linear`. */
  name?: string;
}

// ---------------------------------------------------------------- Linear

/** Parameters of {@link Linear}, PyTorch layout: weight [outFeatures, inFeatures] row-major, bias [outFeatures]. */
export interface LinearParams {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number> | null;
  outFeatures: number;
  inFeatures: number;
}

/**
 * Fully connected layer (PyTorch `nn.Linear`): y = x Wᵀ + b.
 *
 * Shapes: x [..., inFeatures] → out [..., outFeatures]; every leading dimension is a row of one GEMM. An f32 x takes
 * the dense kernel (`linear`); a {@link SpikeTensor} (bits packed along inFeatures) takes the spike-input kernel
 * (`linearSpike`), which adds the weight rows of the set bits and equals the dense kernel on the 0/1 floats bit for
 * bit. The weights are packed once ({@link packDense}) in the constructor.
 *
 * Cost (while `profiling`): macs += rows·inFeatures·outFeatures, inputs += rows·inFeatures, nonZero += non-zero
 * inputs (set bits), analog if any input was f32.
 * @example
 * const fc = new Linear(arena, { weight: w, bias: b, outFeatures: 10, inFeatures: 64 }, { name: 'head' });
 * fc.forward(spikes, y);   // spikes: SpikeTensor [T, B, 64] → y f32 [T, B, 10]
 */
export class Linear extends MeteredLayer implements SpikingModule {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The packed weights (panels of 8 outputs). */
  readonly weight: PackedDense;
  /** The bias [outFeatures] in Wasm memory, or null. */
  readonly bias: Tensor | null;

  constructor(arena: Arena, params: LinearParams, options: LayerOptions = {}) {
    super();
    this.name = options.name ?? 'linear';
    const { outFeatures, inFeatures } = params;
    checkDims(this.name, { outFeatures, inFeatures });
    checkWeights(this.name, 'weight', params.weight, [outFeatures, inFeatures]);
    this.outFeatures = outFeatures;
    this.inFeatures = inFeatures;
    this.weight = packDense(arena, params.weight, outFeatures, inFeatures, `${this.name}.weight`);
    if (params.bias) checkWeights(this.name, 'bias', params.bias, [outFeatures]);
    this.bias = params.bias ? arena.from(params.bias, [outFeatures], 'f32', `${this.name}.bias`) : null;
  }

  /**
   * A Linear with an eval-mode BatchNorm folded in: y = BN(x Wᵀ + b) computed as x W'ᵀ + b' with
   * W' = W·γ/√(σ²+ε) per output row and b' = (b − μ)·γ/√(σ²+ε) + β (float64, rounded once). Exact only when the BN
   * directly follows this layer with nothing between them (spec lmuformer.md §9); a BN that precedes a layer, or
   * one behind a ReLU or padding, cannot be folded. Differs from unfolded Linear → {@link BatchNorm} by float32
   * rounding only (a few ulps of |γ/σ|·(Σ|x W| + |b|) + |μγ/σ| + |β|).
   * @example const q = Linear.withBatchNorm(arena, { weight, bias, outFeatures: 64, inFeatures: 64 }, bn);
   */
  static withBatchNorm(arena: Arena, params: LinearParams, bn: BatchNormParams, options: LayerOptions = {}): Linear {
    const name = options.name ?? 'linear';
    if (bn.weight.length !== params.outFeatures) throw new ShapeError(`${name}: batch norm has ${bn.weight.length} channels, the layer ${params.outFeatures} outputs`);
    checkWeights(name, 'weight', params.weight, [params.outFeatures, params.inFeatures]);
    const f = foldBatchNorm(params.weight, params.bias ?? null, bn);
    return new Linear(arena, { ...params, weight: f.weight, bias: f.bias }, options);
  }

  /** y = x Wᵀ + b: x f32 or spikes [..., inFeatures], out f32 [..., outFeatures]. Returns out. */
  forward(x: LayerInput, out: Tensor): Tensor {
    const t = unwrap(x, this.name);
    try {
      if (t.dtype === 'bits') linearSpike(t, this.weight, out, { bias: this.bias ?? undefined });
      else linear(t, this.weight, out, { bias: this.bias ?? undefined });
    } catch (e) {
      throw tagError(this.name, e);
    }
    if (this.profiling) this.record(x, t.size * this.outFeatures); // rows·in·out
    return out;
  }
}

// ---------------------------------------------------------------- Conv1d

/** Parameters of {@link Conv1d}, PyTorch layout: weight [outChannels, inChannels, kernelSize], bias [outChannels]. */
export interface Conv1dParams {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number> | null;
  outChannels: number;
  inChannels: number;
  /** 1 or 3 (stride 1, padding kernelSize // 2: the length is kept). */
  kernelSize: 1 | 3;
}

/**
 * 1-D convolution (PyTorch `nn.Conv1d`, stride 1, zero padding k//2, k ∈ {1, 3}):
 * y[b, o, t] = bias[o] + Σ_i Σ_j W[o, i, j]·x[b, i, t + j − k//2].
 *
 * Shapes: x [B, inChannels, L] → out [B, outChannels, L]. A {@link SpikeTensor} x (bits packed along L) takes the
 * spike-input kernel, equal to the dense one on the 0/1 floats bit for bit. With k = 1 this is a Linear over the
 * channel axis (Spikformer ImageNet/DVS q/k/v).
 *
 * Cost (while `profiling`): macs += B·outChannels·L·inChannels·k (dense equivalent, padding taps included),
 * inputs += B·inChannels·L, nonZero += non-zero inputs, analog if any input was f32.
 * @example
 * const c = new Conv1d(arena, { weight, outChannels: 32, inChannels: 16, kernelSize: 3 });
 * c.forward(x, y);   // x [2, 16, 128] → y [2, 32, 128]
 */
export class Conv1d extends MeteredLayer implements SpikingModule {
  readonly name: string;
  readonly outChannels: number;
  readonly inChannels: number;
  readonly kernelSize: 1 | 3;
  /** The weight [outChannels, inChannels, kernelSize] in Wasm memory. */
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(arena: Arena, params: Conv1dParams, options: LayerOptions = {}) {
    super();
    this.name = options.name ?? 'conv1d';
    const { outChannels, inChannels, kernelSize } = params;
    checkDims(this.name, { outChannels, inChannels });
    if (kernelSize !== 1 && kernelSize !== 3) throw new ArgumentError(`${this.name}: kernelSize must be 1 or 3, got ${kernelSize}`);
    const shape = [outChannels, inChannels, kernelSize];
    checkWeights(this.name, 'weight', params.weight, shape);
    this.outChannels = outChannels;
    this.inChannels = inChannels;
    this.kernelSize = kernelSize;
    this.weight = arena.from(params.weight, shape, 'f32', `${this.name}.weight`);
    if (params.bias) checkWeights(this.name, 'bias', params.bias, [outChannels]);
    this.bias = params.bias ? arena.from(params.bias, [outChannels], 'f32', `${this.name}.bias`) : null;
  }

  /**
   * A Conv1d with an eval-mode BatchNorm over its output channels folded in (W' = W·γ/√(σ²+ε) per output channel,
   * b' = (b − μ)·γ/√(σ²+ε) + β). Exact only when the BN directly follows this conv (spec lmuformer.md §9); the
   * zero padding sits at this conv's input, so it does not break the fold.
   * @example const c = Conv1d.withBatchNorm(arena, { weight, outChannels: 64, inChannels: 64, kernelSize: 1 }, bn);
   */
  static withBatchNorm(arena: Arena, params: Conv1dParams, bn: BatchNormParams, options: LayerOptions = {}): Conv1d {
    const name = options.name ?? 'conv1d';
    if (bn.weight.length !== params.outChannels) throw new ShapeError(`${name}: batch norm has ${bn.weight.length} channels, the conv ${params.outChannels} outputs`);
    checkWeights(name, 'weight', params.weight, [params.outChannels, params.inChannels, params.kernelSize]);
    const f = foldBatchNorm(params.weight, params.bias ?? null, bn);
    return new Conv1d(arena, { ...params, weight: f.weight, bias: f.bias }, options);
  }

  /** x f32 or spikes [B, inChannels, L] → out f32 [B, outChannels, L]. Returns out. */
  forward(x: LayerInput, out: Tensor): Tensor {
    const t = unwrap(x, this.name);
    try {
      conv1d(t, this.weight, out, { bias: this.bias ?? undefined });
    } catch (e) {
      throw tagError(this.name, e);
    }
    if (this.profiling) this.record(x, t.size * this.outChannels * this.kernelSize);
    return out;
  }
}

// ---------------------------------------------------------------- Conv2d

/** Parameters of {@link Conv2d}, PyTorch layout: weight [outChannels, inChannels, 3, 3], bias [outChannels]. */
export interface Conv2dParams {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number> | null;
  outChannels: number;
  inChannels: number;
}

/**
 * 2-D 3×3 convolution (PyTorch `nn.Conv2d(k=3, stride=1, padding=1)`):
 * y[b, o, r, c] = bias[o] + Σ_i Σ_{ky,kx} W[o, i, ky, kx]·x[b, i, r + ky − 1, c + kx − 1].
 *
 * Shapes: x [B, inChannels, H, W] → out [B, outChannels, H, W]. A {@link SpikeTensor} x (bits packed along W) takes
 * the spike-input kernel, equal to the dense one on the 0/1 floats bit for bit. Only 3×3 exists in core-wasm.
 *
 * Cost (while `profiling`): macs += B·outChannels·H·W·inChannels·9, inputs += B·inChannels·H·W, nonZero += non-zero
 * inputs, analog if any input was f32 (e.g. the first conv on pixels).
 * @example
 * const c = new Conv2d(arena, { weight, outChannels: 48, inChannels: 3 }, { name: 'patch_embed.proj_conv' });
 * c.forward(img, y);   // img [1, 3, 32, 32] → y [1, 48, 32, 32]
 */
export class Conv2d extends MeteredLayer implements SpikingModule {
  readonly name: string;
  readonly outChannels: number;
  readonly inChannels: number;
  /** The weight [outChannels, inChannels, 3, 3] in Wasm memory. */
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(arena: Arena, params: Conv2dParams, options: LayerOptions = {}) {
    super();
    this.name = options.name ?? 'conv2d';
    const { outChannels, inChannels } = params;
    checkDims(this.name, { outChannels, inChannels });
    const shape = [outChannels, inChannels, 3, 3];
    checkWeights(this.name, 'weight', params.weight, shape);
    this.outChannels = outChannels;
    this.inChannels = inChannels;
    this.weight = arena.from(params.weight, shape, 'f32', `${this.name}.weight`);
    if (params.bias) checkWeights(this.name, 'bias', params.bias, [outChannels]);
    this.bias = params.bias ? arena.from(params.bias, [outChannels], 'f32', `${this.name}.bias`) : null;
  }

  /**
   * A Conv2d with an eval-mode BatchNorm over its output channels folded in (as {@link Conv1d.withBatchNorm}).
   * Exact only when the BN directly follows this conv (spec lmuformer.md §9).
   * @example const c = Conv2d.withBatchNorm(arena, { weight, outChannels: 48, inChannels: 3 }, bn);
   */
  static withBatchNorm(arena: Arena, params: Conv2dParams, bn: BatchNormParams, options: LayerOptions = {}): Conv2d {
    const name = options.name ?? 'conv2d';
    if (bn.weight.length !== params.outChannels) throw new ShapeError(`${name}: batch norm has ${bn.weight.length} channels, the conv ${params.outChannels} outputs`);
    checkWeights(name, 'weight', params.weight, [params.outChannels, params.inChannels, 3, 3]);
    const f = foldBatchNorm(params.weight, params.bias ?? null, bn);
    return new Conv2d(arena, { ...params, weight: f.weight, bias: f.bias }, options);
  }

  /** x f32 or spikes [B, inChannels, H, W] → out f32 [B, outChannels, H, W]. Returns out. */
  forward(x: LayerInput, out: Tensor): Tensor {
    const t = unwrap(x, this.name);
    try {
      conv2d3x3(t, this.weight, out, { bias: this.bias ?? undefined });
    } catch (e) {
      throw tagError(this.name, e);
    }
    if (this.profiling) this.record(x, t.size * this.outChannels * 9);
    return out;
  }
}

// ---------------------------------------------------------------- BatchNorm

/** Options of {@link BatchNorm}. */
export interface BatchNormOptions extends LayerOptions {
  /** The channel axis of the inputs; negative counts from the end. Default 1 (PyTorch [B, C, …]). */
  axis?: number;
}

/**
 * Batch norm in eval mode (running statistics): y = (x − μ_c)/√(σ²_c + ε)·γ_c + β_c, applied as the per-channel
 * affine y = x·scale_c + shift_c with scale = γ/√(σ²+ε), shift = β − μ·scale computed in float64 and rounded once.
 *
 * Shapes: x f32 [..., C, ...] with C on `axis` → out of the same shape (in place allowed: out may be x). Use
 * axis −1 for channels-last tokens [T, B, N, C] (Spikformer's BatchNorm1d after a transpose). To fold it into the
 * preceding weight layer instead, use {@link Linear.withBatchNorm} / {@link Conv1d.withBatchNorm} /
 * {@link Conv2d.withBatchNorm}.
 * @example
 * const bn = new BatchNorm(arena, { weight, bias, runningMean, runningVar }, { axis: -1, name: 'q_bn' });
 * bn.forward(y, y);   // y [T, B, N, C], in place
 */
export class BatchNorm implements SpikingModule {
  readonly name: string;
  readonly channels: number;
  readonly axis: number;
  /** γ/√(σ²+ε) [C] in Wasm memory. */
  readonly scale: Tensor;
  /** β − μ·scale [C] in Wasm memory. */
  readonly shift: Tensor;

  constructor(arena: Arena, params: BatchNormParams, options: BatchNormOptions = {}) {
    this.name = options.name ?? 'bn';
    this.axis = options.axis ?? 1;
    if (!Number.isInteger(this.axis)) throw new ArgumentError(`${this.name}: axis must be an integer, got ${this.axis}`);
    let affine: { scale: Float32Array; shift: Float32Array };
    try {
      affine = batchNormAffine(params);
    } catch (e) {
      throw tagError(this.name, e);
    }
    this.channels = affine.scale.length;
    this.scale = arena.from(affine.scale, [this.channels], 'f32', `${this.name}.scale`);
    this.shift = arena.from(affine.shift, [this.channels], 'f32', `${this.name}.shift`);
  }

  /** y = x·scale_c + shift_c over the channel axis; x, out f32 of one shape (out may be x). Returns out. */
  forward(x: Tensor, out: Tensor): Tensor {
    const axis = this.axis < 0 ? x.shape.length + this.axis : this.axis;
    try {
      channelAffine(x, this.scale, this.shift, out, axis);
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }
}

// ---------------------------------------------------------------- pooling, residual

/**
 * Max pooling 3×3, stride 2, padding 1, ceil_mode off (Spikformer SPS) over the last two axes:
 * y[..., r, c] = max_{|dy|,|dx| ≤ 1} x[..., 2r + dy, 2c + dx] (padding never wins).
 *
 * Shapes: x [..., H, W] → out [..., ⌊(H−1)/2⌋+1, ⌊(W−1)/2⌋+1] ({@link MaxPool.outputShape}). f32 in, f32 out; or
 * {@link SpikeTensor} in, SpikeTensor out, where the max of spikes is the OR of the window, done on packed words.
 * @example
 * const pool = new MaxPool({ name: 'patch_embed.maxpool2' });
 * pool.forward(spikes, pooled);   // SpikeTensor [T·B, C, 16, 16] → SpikeTensor [T·B, C, 8, 8]
 */
export class MaxPool implements SpikingModule {
  readonly name: string;

  constructor(options: LayerOptions = {}) {
    this.name = options.name ?? 'maxpool';
  }

  /** The output shape for an input shape [..., H, W]. */
  static outputShape(shape: readonly number[]): number[] {
    if (shape.length < 2) throw new ShapeError(`MaxPool: input expected rank ≥ 2, got shape ${fmtShape(shape)}`);
    const s = shape.slice();
    s[s.length - 2] = ((s[s.length - 2] - 1) >> 1) + 1;
    s[s.length - 1] = ((s[s.length - 1] - 1) >> 1) + 1;
    return s;
  }

  /** Max (f32) or OR (spikes) over 3×3 windows, stride 2. Returns out. */
  forward(x: SpikeTensor, out: SpikeTensor): SpikeTensor;
  forward(x: Tensor, out: Tensor): Tensor;
  forward(x: LayerInput, out: LayerInput): LayerInput {
    if ((x instanceof SpikeTensor) !== (out instanceof SpikeTensor)) {
      throw new ArgumentError(`${this.name}: input and output must both be SpikeTensors or both f32 tensors`);
    }
    try {
      maxPool3x3s2(unwrap(x), unwrap(out));
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }
}

/** Options of {@link ResidualAdd}. */
export interface ResidualAddOptions extends LayerOptions {
  /** With `spikeShape`: the arena for an f32 scratch of that shape, used to unpack a {@link SpikeTensor} branch. */
  arena?: Arena;
  /** The shape of spike branches this layer will add (allocates one f32 scratch of this shape once). */
  spikeShape?: readonly number[];
}

/**
 * The residual add of a spiking block: out = stream + branch, element-wise in float32 (one rounding).
 *
 * The residual stream is NOT binary: in Spikformer X₀ ∈ {0, 1, 2} and every block adds spikes, so it holds small
 * integers (≤ 2 + 2l after block l), and in LMUFormer real values. It is therefore always f32 and must never be
 * bit-packed. The branch may be f32, or a {@link SpikeTensor} (a block's LIF output) when the layer was built with
 * a `spikeShape` scratch: it is unpacked to 0/1 floats first.
 *
 * Shapes: stream, branch, out all of one shape (out may alias stream).
 * @example
 * const res = new ResidualAdd({ arena, spikeShape: [T, B, N, C] });
 * res.forward(x, attnSpikes, x);   // x ← x + SSA(x)
 */
export class ResidualAdd implements SpikingModule {
  readonly name: string;
  private readonly scratch: Tensor | null;

  constructor(options: ResidualAddOptions = {}) {
    this.name = options.name ?? 'residual';
    if (options.spikeShape && !options.arena) throw new ArgumentError(`${this.name}: spikeShape needs an arena for its scratch`);
    this.scratch = options.spikeShape ? options.arena!.tensor(options.spikeShape, 'f32', `${this.name}.unpacked`) : null;
  }

  /** out = stream + branch (f32). Returns out. */
  forward(stream: Tensor, branch: Tensor | SpikeTensor, out: Tensor): Tensor {
    try {
      let b: Tensor;
      if (branch instanceof SpikeTensor || branch.dtype === 'bits') {
        const bits = unwrap(branch);
        const s = this.scratch;
        if (!s) throw new ArgumentError(`spike branches need the spikeShape option (an f32 scratch to unpack into)`);
        if (s.shape.length !== bits.shape.length || s.shape.some((d, i) => d !== bits.shape[i])) {
          throw new ShapeError(`spike branch ${fmtShape(bits.shape)} differs from the spikeShape ${fmtShape(s.shape)} given at construction`);
        }
        b = unpackSpikes(bits, s);
      } else b = branch;
      add(stream, b, out);
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }
}

/**
 * Mean over one axis (Spikformer's mean over tokens, then over time): y = (1/n)·Σ_k x[..., k, ...], summed in
 * ascending k in float32 then divided by n (sums of spikes or small integers are exact below 2²⁴).
 *
 * Shapes: x f32 [..., n, ...] → out with that axis removed. Negative axes count from the end.
 * @example
 * const meanTokens = new MeanPool(2);
 * meanTokens.forward(x, y);   // x [T, B, N, C] → y [T, B, C]
 */
export class MeanPool implements SpikingModule {
  readonly name: string;

  constructor(readonly axis: number, options: LayerOptions = {}) {
    this.name = options.name ?? 'meanpool';
    if (!Number.isInteger(axis)) throw new ArgumentError(`${this.name}: axis must be an integer, got ${axis}`);
  }

  /** out = mean of x over the axis. Returns out. */
  forward(x: Tensor, out: Tensor): Tensor {
    const axis = this.axis < 0 ? x.shape.length + this.axis : this.axis;
    try {
      meanAxis(x, axis, out);
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }
}
