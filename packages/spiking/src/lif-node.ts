import { lif, ArgumentError, DTypeError, ShapeError, Tensor, describeValue, fmtShape, type Arena, type LIFOutputs, type LIFParams } from '@spikewasm/core-wasm';
import type { SpikingModule } from './module.js';
import { SpikeTensor } from './spike-tensor.js';

/** Options of {@link LIFNode}: spikingjelly's `LIFNode` arguments in camelCase, with its defaults. */
export interface LIFNodeOptions extends LIFParams {
  /** `'m'` (default): inputs are [T, ...N] with the time loop in the kernel; `'s'`: one step, inputs [...N]. */
  stepMode?: 's' | 'm';
  /** Name used in tables and errors (default `lif`). */
  name?: string;
}

/** Where a forward writes: spikes as bits (a {@link SpikeTensor}), as 0/1 floats, and/or the charged potential h. */
export interface LIFNodeOutputs {
  spikes?: SpikeTensor;
  floats?: Tensor;
  h?: Tensor;
}

/**
 * A leaky integrate-and-fire neuron layer (spikingjelly `LIFNode` / `MultiStepLIFNode`, hard reset), exactly as
 * shared/spec/lif.md, per element in float32 and in this order:
 *
 *     h_t = v_{t−1} + (x_t − (v_{t−1} − V_reset)) / τ        (decayInput; else v − (v − V_reset)/τ + x)
 *     s_t = h_t ≥ V_th                                         (ties fire)
 *     v_t = s_t ? V_reset : h_t
 *
 * The membrane v [...N] is per instance and persists across calls (streaming) until {@link reset}. Multi-step calls
 * ([T, ...N]) equal T single-step calls bit for bit. Defaults: τ = 2, V_th = 1, V_reset = 0, decayInput = true.
 * @example
 * const q = new LIFNode(arena, [B * N * C]);           // multi-step
 * q.forward(x, { spikes });                              // x [T, B·N·C] f32 → spikes [T, B·N·C] bits
 */
export class LIFNode implements SpikingModule {
  readonly name: string;
  readonly params: Readonly<Required<LIFParams>>;
  readonly stepMode: 's' | 'm';
  /** The membrane potential [...N] (f32), the neuron's state. */
  readonly v: Tensor;

  constructor(arena: Arena, readonly neuronShape: readonly number[], options: LIFNodeOptions = {}) {
    this.name = options.name ?? 'lif';
    this.stepMode = options.stepMode ?? 'm';
    if (this.stepMode !== 's' && this.stepMode !== 'm') throw new ArgumentError(`${this.name}: stepMode must be 's' or 'm', got ${String(options.stepMode)}`);
    this.params = Object.freeze({
      tau: options.tau ?? 2,
      vThreshold: options.vThreshold ?? 1,
      vReset: options.vReset ?? 0,
      decayInput: options.decayInput ?? true,
    });
    if (!(this.params.tau > 0) || !Number.isFinite(this.params.tau)) throw new ArgumentError(`${this.name}: tau must be a positive finite number, got ${this.params.tau}`);
    if (neuronShape.length === 0) throw new ShapeError(`${this.name}: neuron shape must have at least one dimension, got ${fmtShape(neuronShape)}`);
    this.v = arena.tensor(neuronShape, 'f32', `${this.name}.v`);
    this.reset();
  }

  /** Sets every membrane to V_reset (the state at the start of an independent input). */
  reset(): void {
    this.v.f32.fill(this.params.vReset);
  }

  /**
   * Integrates x ([T, ...N] in multi-step mode, [...N] in single-step mode) and writes the requested outputs
   * (shapes follow x; spikes as bits with the same logical shape as x).
   */
  forward(x: Tensor, out: LIFNodeOutputs): void {
    // checked with loops over the shapes (no expected-shape arrays, no closures): this runs per streamed frame
    if (!(x instanceof Tensor)) throw new DTypeError(`${this.name}: input must be an f32 Tensor, got ${describeValue(x)}`);
    const single = this.stepMode === 's', ns = this.neuronShape, off = single ? 0 : 1;
    let ok = x.shape.length === ns.length + off;
    for (let i = 0; ok && i < ns.length; i++) ok = x.shape[i + off] === ns[i];
    if (!ok) {
      const want = single ? fmtShape(ns) : `[T, ${ns.join(', ')}]`;
      throw new ShapeError(`${this.name}: input expected shape ${want}, got ${fmtShape(x.shape)}`);
    }
    const N = this.v.size;
    // the kernel packs bits per step over the flattened neurons: view the spike bits as [T, N] / [N]
    let bits: Tensor | undefined;
    if (out.spikes) {
      const ss = out.spikes.shape;
      let same = ss.length === x.shape.length;
      for (let i = 0; same && i < ss.length; i++) same = ss[i] === x.shape[i];
      if (!same) throw new ShapeError(`${this.name}: spikes expected shape ${fmtShape(x.shape)}, got ${fmtShape(ss)}`);
      const b = out.spikes.bits, bs = b.shape;
      const flatOk = single ? bs.length === 1 && bs[0] === N : bs.length === 2 && bs[0] === x.shape[0] && bs[1] === N;
      if (flatOk) bits = b;
      else if (ns.length === 1) bits = b;
      else bits = this.flatBits(b, single ? -1 : x.shape[0], N);
    }
    // one outputs object per node, refilled per call (the lif op reads it and keeps nothing)
    const o = this.lifOut;
    o.spikes = out.floats;
    o.bits = bits;
    o.h = out.h;
    try {
      lif(x, this.v, o, this.params);
    } finally {
      o.spikes = o.bits = o.h = undefined;
    }
  }

  private readonly lifOut: LIFOutputs = { spikes: undefined, bits: undefined, h: undefined };

  private flatCache: { src: Tensor; view: Tensor } | null = null;

  /** A cached [T, N] view of multi-dimensional spike bits; requires the last neuron dimension to be a multiple of 32
   *  so that the per-step flat packing and the per-row packing coincide. */
  private flatBits(b: Tensor, T: number, N: number): Tensor {
    const last = this.neuronShape[this.neuronShape.length - 1];
    if (last % 32 !== 0) {
      throw new ShapeError(`${this.name}: bit output for neuron shape ${fmtShape(this.neuronShape)} needs its last dimension to be a multiple of 32 (or a 1-D neuron shape)`);
    }
    if (this.flatCache?.src !== b) this.flatCache = { src: b, view: b.reshape(T < 0 ? [N] : [T, N]) };
    return this.flatCache.view;
  }
}
