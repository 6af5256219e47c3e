// The spike-input 3×3 convolution of SPS as one spike GEMM: spikes are kept channels-last and bit-packed along the
// channels, so the 3×3 window of an output pixel is 9 runs of whole words (an im2col of word copies), and core-wasm's
// spike-input GEMM adds the weight rows of the set bits. Channels-last bits also make the OR max-pool a word OR.
import {
  packDense, linearSpike, foldBatchNorm, expectTensor, ArgumentError, ShapeError, fmtShape,
  type Arena, type BatchNormParams, type PackedDense, type Tensor,
} from '@spikewasm/core-wasm';
import { MeteredLayer, SpikeTensor, type SpikingModule } from '@spikewasm/spiking';

/** Parameters of {@link SpikeConv3x3}, PyTorch layout: weight [outChannels, inChannels, 3, 3], bias [outChannels]. */
export interface SpikeConv3x3Params {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number> | null;
  outChannels: number;
  inChannels: number;
}

/**
 * A 3×3 convolution (stride 1, zero padding 1, PyTorch `nn.Conv2d(k=3, padding=1)`) on binary inputs stored
 * channels-last:
 *
 *     y[g, r, c, o] = bias[o] + Σ_{ky,kx} Σ_i W[o, i, ky, kx]·s[g, r + ky − 1, c + kx − 1, i]
 *
 * Shapes: s a {@link SpikeTensor} [G, H, W, inChannels] (bits packed along the channels; G = T·B), out f32
 * [G, H, W, outChannels] (channels-last, i.e. [G·H·W, outChannels] rows), `cols` the im2col scratch from
 * {@link SpikeConv3x3.columns}. The input rows of the 9 taps are copied word by word into cols
 * [G·H·W, 9·⌈inChannels/32⌉·32] (zero words for the padding), then one spike-input GEMM (`linearSpike`) adds, for
 * every output pixel, the weight rows of its set bits — no multiplications, in tap-major, channel-minor order.
 * Weights are packed once as W'[o, (3·ky + kx)·C′ + i] = W[o, i, ky, kx] (C′ = inChannels rounded up to 32; the
 * padding columns are 0 and never read, as their bits are 0). Equal to the dense conv on the 0/1 floats up to float32
 * summation order.
 *
 * Cost (while `profiling`): as core-wasm's Conv2d: macs += G·H·W·outChannels·inChannels·9, inputs += G·H·W·inChannels,
 * nonZero += spikes in the input.
 * @example
 * const conv = new SpikeConv3x3(arena, { weight, outChannels: 192, inChannels: 96 }, { name: 'patch_embed.proj_conv2' });
 * conv.forward(spikes, SpikeConv3x3.columns(arena, [4, 32, 32, 96]), y);   // [4, 32, 32, 96] bits → y [4, 32, 32, 192]
 */
export class SpikeConv3x3 extends MeteredLayer implements SpikingModule {
  readonly name: string;
  readonly outChannels: number;
  readonly inChannels: number;
  /** Words per input pixel, ⌈inChannels/32⌉. */
  readonly words: number;
  /** The packed weights: a dense layer of 9·32·words inputs. */
  readonly weight: PackedDense;
  readonly bias: Tensor | null;

  constructor(arena: Arena, params: SpikeConv3x3Params, options: { name?: string } = {}) {
    super();
    this.name = options.name ?? 'spike_conv3x3';
    const { outChannels: O, inChannels: I } = params;
    for (const [k, v] of [['outChannels', O], ['inChannels', I]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${this.name}: ${k} must be a positive integer, got ${v}`);
    }
    if (params.weight.length !== O * I * 9) throw new ShapeError(`${this.name}: weight expected ${fmtShape([O, I, 3, 3])} = ${O * I * 9} values, got ${params.weight.length}`);
    if (params.bias && params.bias.length !== O) throw new ShapeError(`${this.name}: bias expected [${O}], got [${params.bias.length}]`);
    this.outChannels = O;
    this.inChannels = I;
    this.words = Math.ceil(I / 32);
    const Cp = this.words * 32, K = 9 * Cp;
    const w = new Float32Array(O * K);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) for (let k = 0; k < 9; k++) w[o * K + k * Cp + i] = params.weight[(o * I + i) * 9 + k];
    }
    this.weight = packDense(arena, w, O, K, `${this.name}.weight`);
    this.bias = params.bias ? arena.from(params.bias, [O], 'f32', `${this.name}.bias`) : null;
  }

  /**
   * The conv with an eval-mode BatchNorm over its output channels folded in (W' = W·γ/√(σ²+ε) per output channel,
   * b' = (b − μ)·γ/√(σ²+ε) + β, float64, rounded once). Exact only when the BN directly follows the conv.
   * @example SpikeConv3x3.withBatchNorm(arena, { weight, outChannels: 384, inChannels: 192 }, bn, { name: 'patch_embed.proj_conv3' })
   */
  static withBatchNorm(arena: Arena, params: SpikeConv3x3Params, bn: BatchNormParams, options: { name?: string } = {}): SpikeConv3x3 {
    const name = options.name ?? 'spike_conv3x3';
    if (bn.weight.length !== params.outChannels) throw new ShapeError(`${name}: batch norm has ${bn.weight.length} channels, the conv ${params.outChannels} outputs`);
    if (params.weight.length !== params.outChannels * params.inChannels * 9) {
      throw new ShapeError(`${name}: weight expected ${fmtShape([params.outChannels, params.inChannels, 3, 3])} values, got ${params.weight.length}`);
    }
    const f = foldBatchNorm(params.weight, params.bias ?? null, bn);
    return new SpikeConv3x3(arena, { ...params, weight: f.weight, bias: f.bias }, options);
  }

  /** The im2col scratch for inputs of shape [G, H, W, C]: bits [G·H·W, 9·⌈C/32⌉·32]. */
  static columns(arena: Arena, inputShape: readonly number[], name = 'im2col'): Tensor {
    if (inputShape.length !== 4) throw new ShapeError(`SpikeConv3x3.columns: input shape expected [G, H, W, C], got ${fmtShape(inputShape)}`);
    const [G, H, W, C] = inputShape;
    return arena.tensor([G * H * W, 9 * Math.ceil(C / 32) * 32], 'bits', name);
  }

  /** y = conv3×3(s): s bits [G, H, W, inChannels] → out f32 [G, H, W, outChannels] through `cols`. Returns out. */
  forward(x: SpikeTensor, cols: Tensor, out: Tensor): Tensor {
    const s = x.bits;
    if (s.shape.length !== 4 || s.shape[3] !== this.inChannels) {
      throw new ShapeError(`${this.name}: input expected spikes [G, H, W, ${this.inChannels}], got ${s.dtype} ${fmtShape(s.shape)}`);
    }
    const [G, H, W] = s.shape;
    const wpp = this.words, K = 9 * wpp * 32, rows = G * H * W;
    expectTensor(this.name, 'columns', cols, 'bits', [rows, K]);
    expectTensor(this.name, 'output', out, 'f32', [G, H, W, this.outChannels]);
    const src = s.data as Uint32Array, dst = cols.data as Uint32Array, rowWords = 9 * wpp;
    for (let g = 0; g < G; g++) {
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          let d = ((g * H + r) * W + c) * rowWords;
          for (let ky = -1; ky <= 1; ky++) {
            const rr = r + ky;
            for (let kx = -1; kx <= 1; kx++, d += wpp) {
              const cc = c + kx;
              if (rr < 0 || rr >= H || cc < 0 || cc >= W) {
                for (let k = 0; k < wpp; k++) dst[d + k] = 0;
              } else {
                const o = ((g * H + rr) * W + cc) * wpp;
                for (let k = 0; k < wpp; k++) dst[d + k] = src[o + k];
              }
            }
          }
        }
      }
    }
    try {
      linearSpike(cols, this.weight, out.reshape([rows, this.outChannels]), { bias: this.bias ?? undefined });
    } catch (e) {
      if (e instanceof Error) e.message = `${this.name}: ${e.message}`;
      throw e;
    }
    if (this.profiling) this.record(x, s.size * this.outChannels * 9);
    return out;
  }
}

/**
 * Max-pool 3×3, stride 2, padding 1 (ceil_mode off) of binary maps stored channels-last: the OR of the window, one
 * 32-channel word at a time (padding never wins, as in PyTorch on spikes).
 *
 *     y[g, r, c, :] = OR_{|dy|, |dx| ≤ 1} s[g, 2r + dy, 2c + dx, :]
 *
 * Shapes: s bits [..., H, W, C] → out bits [..., ⌊(H−1)/2⌋+1, ⌊(W−1)/2⌋+1, C] (leading dims independent).
 * @example orPoolChannelsLast(spikes, pooled);   // [4, 32, 32, 192] → [4, 16, 16, 192]
 */
export function orPoolChannelsLast(x: SpikeTensor, out: SpikeTensor): SpikeTensor {
  const s = x.bits, o = out.bits;
  if (s.shape.length < 3) throw new ShapeError(`orPoolChannelsLast: input expected spikes [..., H, W, C], got ${fmtShape(s.shape)}`);
  const lead = s.shape.slice(0, -3), [H, W, C] = s.shape.slice(-3);
  const G = lead.reduce((a, b) => a * b, 1);
  const Ho = ((H - 1) >> 1) + 1, Wo = ((W - 1) >> 1) + 1;
  expectTensor('orPoolChannelsLast', 'output', o, 'bits', [...lead, Ho, Wo, C]);
  const wpp = Math.ceil(C / 32), src = s.data as Uint32Array, dst = o.data as Uint32Array;
  for (let g = 0; g < G; g++) {
    for (let r = 0; r < Ho; r++) {
      const r0 = Math.max(0, 2 * r - 1), r1 = Math.min(H - 1, 2 * r + 1);
      for (let c = 0; c < Wo; c++) {
        const c0 = Math.max(0, 2 * c - 1), c1 = Math.min(W - 1, 2 * c + 1);
        const d = ((g * Ho + r) * Wo + c) * wpp;
        for (let k = 0; k < wpp; k++) {
          let acc = 0;
          for (let rr = r0; rr <= r1; rr++) for (let cc = c0; cc <= c1; cc++) acc |= src[((g * H + rr) * W + cc) * wpp + k];
          dst[d + k] = acc >>> 0;
        }
      }
    }
  }
  return out;
}
