// Training the psMNIST LMU in TypeScript on spikewasm's own kernels (engine-neutral: the Node runner with worker
// threads, the progress bar and the log is ./train-node.ts).
//
// What is trained: W_h, b_h (the LMU's hidden layer) and the classifier. The front (conv1, bn1, W_u) and the LMU
// memory (Ā, B̄, H: the Legendre system, fixed by d and θ) stay as in ./model-file.ts, so u_t is 8 × the pixel and the
// memory m_t is a fixed linear function of the pixels seen so far. The model is the notebook's, in eval mode:
//
//     z_t = [m_t ; x₃_t]                          [d + 3]
//     h_t = ReLU(W_h z_t + b_h)                    [hidden]
//     p   = (1/L) Σ_t h_t,   logits = W_c p + b_c
//     loss = cross-entropy(logits, label)
//
// Gradients (per digit, G_t the gradient at the pre-activation of h_t):
//     δ = softmax(logits) − onehot,   ∂W_c = δ pᵀ,  ∂b_c = δ,  ∂p = W_cᵀ δ
//     G_t = (∂p / L) ⊙ [h_t > 0],     ∂W_h = Σ_t G_t z_tᵀ,  ∂b_h = Σ_t G_t
// The forward is the model's own (PsMnistLMU.forward: FFT memory, SIMD GEMM); ∂W_h = Gᵀ Z is one more GEMM of the
// same kernel over the B·L rows (Gᵀ [hidden, B·L] against Z packed as an [d + 3, B·L] "weight").
import { linear, repackDense, type Arena, type PackedDense, type Tensor } from '@spikewasm/core-wasm';
import { PsMnistLMU, type PsMnistConfig } from '@spikewasm/lmu';
import { Xoshiro128StarStar } from '@spikewasm/spiking';
import { stateDict, DEFAULT_FRONT, type Front, type TrainableWeights } from './model-file.js';
import { PIXELS } from './data.js';

/** Sums over a shard of digits (not means): the loss, the correct predictions and the parameter gradients. */
export interface ShardGradient {
  count: number;
  lossSum: number;
  correct: number;
  /** ∂W_h [hidden, d + 3] (each digit's share by the f32 GEMM, summed in float64). */
  gWH: Float64Array;
  gBH: Float64Array;
  gWC: Float64Array;
  gBC: Float64Array;
}

interface BackwardBuffers {
  gT: Tensor[]; // per digit: Gᵀ [hidden, L]
  z: PackedDense[]; // per digit: Z as a packed [d + 3, L] weight
  gW: Tensor; // one digit's ∂W_h [hidden, d + 3]
}

/**
 * Loss and gradient of a psMNIST LMU on shards of digits, on one Wasm instance. The model is built once; each
 * {@link PsMnistGradient.compute} takes the current weights (repacked in place) and a shard of permuted sequences.
 * @example
 * const g = new PsMnistGradient(arena, config, weights);
 * const s = g.compute(weights, pixels, labels);   // pixels [n, seq_len] permuted, labels [n]
 */
export class PsMnistGradient {
  readonly model: PsMnistLMU;
  private readonly backward = new Map<number, BackwardBuffers>();

  constructor(private readonly arena: Arena, readonly config: PsMnistConfig, initial: TrainableWeights, front: Front = DEFAULT_FRONT) {
    // lmuMode 'fft': the official parallel form (and the cheapest for L = 784).
    this.model = new PsMnistLMU(arena, config, stateDict(config, initial, front), { lmuMode: 'fft' });
  }

  private buffers(n: number): BackwardBuffers {
    let b = this.backward.get(n);
    if (!b) {
      const { hidden_size: N, memory_size: d, seq_len: L } = this.config;
      const D = d + 3, a = this.arena;
      b = { gT: [], z: [], gW: a.tensor([N, D], 'f32', '∂W_h') };
      for (let i = 0; i < n; i++) {
        b.gT.push(a.tensor([N, L], 'f32', 'Gᵀ'));
        b.z.push({ packed: a.tensor([Math.ceil(D / 8), L, 8], 'f32', 'Z (packed)'), outFeatures: D, inFeatures: L });
      }
      this.backward.set(n, b);
    }
    return b;
  }

  /**
   * Mean and standard deviation of every column of z_t = [m_t ; x₃_t] over all steps of `n` digits x [n · seq_len]
   * (the fixed memory makes them independent of the trained weights): the preconditioner of {@link PsMnistTraining}.
   */
  inputStats(x: Float32Array): { mean: Float64Array; std: Float64Array } {
    const L = this.config.seq_len, D = this.config.memory_size + 3, n = x.length / L;
    this.model.forward(x);
    const cat = this.model.lmu.buffers(n, L).cat.f32;
    const sum = new Float64Array(D), sq = new Float64Array(D);
    for (let r = 0; r < n * L; r++) {
      for (let k = 0; k < D; k++) {
        const v = cat[r * D + k];
        sum[k] += v;
        sq[k] += v * v;
      }
    }
    const mean = sum.map((v) => v / (n * L));
    const std = sq.map((v, k) => Math.sqrt(Math.max(v / (n * L) - mean[k] * mean[k], 0)));
    return { mean, std };
  }

  /**
   * The loss and gradient sums of `n` digits: x f32 [n · seq_len] (permuted pixels, one per step), labels [n].
   * The returned arrays are new (safe to transfer).
   */
  compute(w: TrainableWeights, x: Float32Array, labels: ArrayLike<number>): ShardGradient {
    const c = this.config, N = c.hidden_size, d = c.memory_size, D = d + 3, L = c.seq_len, O = c.output_size;
    const n = labels.length;
    if (x.length !== n * L) throw new RangeError(`PsMnistGradient: ${n} labels need ${n * L} pixels, got ${x.length}`);
    const lmu = this.model.lmu;
    // Allocate every buffer of this size first: an allocation can grow the Wasm memory, which detaches the views
    // (h, pooled, cat) taken below.
    const bufs = this.buffers(n);
    repackDense(lmu.wH, w.wH, 'lmu_fft.W_h.weight');
    lmu.bH.set(w.bH);
    this.model.forward(x);
    const ws = this.model.buffers(n);
    const pooled = ws.pooled.f32, h = ws.h.f32;

    // Head: logits, loss, δ, ∂W_c, ∂b_c, ∂p (float64).
    const gWC = new Float64Array(O * N), gBC = new Float64Array(O), dp = new Float64Array(n * N);
    const logits = new Float64Array(O);
    let lossSum = 0, correct = 0;
    for (let b = 0; b < n; b++) {
      let best = 0;
      for (let o = 0; o < O; o++) {
        let s = w.bC[o];
        for (let j = 0; j < N; j++) s += w.wC[o * N + j] * pooled[b * N + j];
        logits[o] = s;
        if (s > logits[best]) best = o;
      }
      const y = labels[b];
      if (best === y) correct++;
      let z = 0;
      for (let o = 0; o < O; o++) z += Math.exp(logits[o] - logits[best]);
      lossSum += Math.log(z) - (logits[y] - logits[best]);
      for (let o = 0; o < O; o++) {
        const delta = Math.exp(logits[o] - logits[best]) / z - (o === y ? 1 : 0);
        gBC[o] += delta;
        for (let j = 0; j < N; j++) {
          gWC[o * N + j] += delta * pooled[b * N + j];
          dp[b * N + j] += delta * w.wC[o * N + j];
        }
      }
    }

    // Per digit b: Gᵀ_b [N, L] and Z_b = its [m ; x₃] rows packed as the "weight" of a GEMM (panels of 8 columns),
    // then ∂W_h += Gᵀ_b Z_b (one GEMM per digit keeps both operands in cache; summed over digits in float64).
    const cat = lmu.buffers(n, L).cat.f32;
    const gBH = new Float64Array(N), gWH = new Float64Array(N * D);
    const TILE = 64;
    for (let b = 0; b < n; b++) {
      const gT = bufs.gT[b].f32, zp = bufs.z[b].packed.f32, r0b = b * L;
      for (let t0 = 0; t0 < L; t0 += TILE) {
        const t1 = Math.min(L, t0 + TILE);
        for (let j = 0; j < N; j++) {
          const g = dp[b * N + j] / L;
          let s = 0;
          for (let t = t0; t < t1; t++) {
            const v = h[(r0b + t) * N + j] > 0 ? g : 0;
            gT[j * L + t] = v;
            s += v;
          }
          gBH[j] += s;
        }
      }
      for (let t = 0; t < L; t++) {
        const row = (r0b + t) * D;
        for (let k = 0; k < D; k++) zp[((k >> 3) * L + t) * 8 + (k & 7)] = cat[row + k];
      }
      const part = linear(bufs.gT[b], bufs.z[b], bufs.gW).f32;
      for (let i = 0; i < N * D; i++) gWH[i] += part[i];
    }
    return { count: n, lossSum, correct, gWH, gBH, gWC, gBC };
  }
}

/** Hyperparameters of {@link PsMnistTraining}. */
export interface TrainOptions {
  /** Passes over the training digits (default 60). */
  epochs: number;
  /** Digits per optimiser step (default 32; the last incomplete batch of an epoch is dropped). */
  batchSize: number;
  /** Shards a batch is split into (default 2; results do not depend on how many workers run them). */
  shards: number;
  /** Peak learning rate of AdamW (default 5e-3), reached after `warmupSteps`, then cosine decay to 0. */
  lr: number;
  warmupSteps: number;
  /** Decoupled weight decay on W_h and W_c (not biases; default 1e-4). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Random translation of the 28 × 28 image by up to ± this many pixels per axis before permuting (default 1). */
  shift: number;
  /** Seed of the initial weights, the shuffling and the augmentation (default 0). */
  seed: number;
  /**
   * Optimise W_h in standardised input coordinates (default true): see {@link PsMnistTraining.precondition}. The
   * exported weights are the model's own; only the optimiser's path changes.
   */
  precondition: boolean;
  /** Training digits (evenly spaced, unshifted) whose z statistics define the preconditioner (default 64). */
  statsDigits: number;
  /** The fixed encoder's bias (see {@link Front}; default {@link DEFAULT_FRONT}'s). */
  uBias: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 60, batchSize: 32, shards: 2, lr: 5e-3, warmupSteps: 100, weightDecay: 1e-4,
  beta1: 0.9, beta2: 0.999, eps: 1e-8, shift: 1, seed: 0, precondition: true, statsDigits: 64, uBias: DEFAULT_FRONT.uBias,
};

/** Uniform in [−bound, bound) from a u32 stream (exact in every engine). */
function uniform(g: Xoshiro128StarStar, bound: number): number {
  return (g.nextU32() / 2 ** 32 * 2 - 1) * bound;
}

/** PyTorch's default Linear initialisation, U(±1/√fan_in) for weight and bias, from a seeded stream. */
export function initialWeights(config: PsMnistConfig, seed: number): TrainableWeights {
  const g = Xoshiro128StarStar.fromSeed(seed);
  const N = config.hidden_size, D = config.memory_size + 3, O = config.output_size;
  const fill = (len: number, bound: number) => Float32Array.from({ length: len }, () => uniform(g, bound));
  const bh = 1 / Math.sqrt(D), bc = 1 / Math.sqrt(N);
  return { wH: fill(N * D, bh), bH: fill(N, bh), wC: fill(O * N, bc), bC: fill(O, bc) };
}

/**
 * Writes image `src` (28 × 28, row-major) translated by (dx, dy) with zero fill, in permuted order, into dst at `off`:
 * dst[off + t] = shifted[perm[t]].
 */
export function shiftAndPermute(src: Float32Array, srcOff: number, dx: number, dy: number, perm: Int32Array, dst: Float32Array, off: number): void {
  for (let t = 0; t < PIXELS; t++) {
    const p = perm[t], y = ((p / 28) | 0) - dy, x = (p % 28) - dx;
    dst[off + t] = y >= 0 && y < 28 && x >= 0 && x < 28 ? src[srcOff + y * 28 + x] : 0;
  }
}

/** One optimiser step's inputs: shards of permuted pixels and labels. */
export interface Batch {
  shards: { x: Float32Array; labels: Uint8Array }[];
}

/** Progress of {@link PsMnistTraining}. */
export interface StepReport {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  lr: number;
  loss: number;
  correct: number;
  count: number;
}

/**
 * The training loop's state: AdamW over float64 master weights (the model runs their float32 rounding), seeded
 * shuffling and augmentation. Computing the shard gradients is left to the caller (one instance or worker threads):
 * `nextBatch()` → gradients of its shards, in order → `apply(gradients)`. Deterministic for a seed.
 * @example
 * const t = new PsMnistTraining(config, train, perm, options);
 * while (!t.done) { const b = t.nextBatch(); t.apply(b.shards.map((s) => grad.compute(t.weights(), s.x, s.labels))); }
 */
export class PsMnistTraining {
  readonly options: TrainOptions;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  step = 0;
  private readonly master: { wH: Float64Array; bH: Float64Array; wC: Float64Array; bC: Float64Array };
  private readonly m: Float64Array[];
  private readonly v: Float64Array[];
  private readonly rng: Xoshiro128StarStar;
  private order: Int32Array;
  private current: TrainableWeights;
  /** z = [m ; x₃] column means and deviations of the preconditioner (0 and 1: none). */
  private mu: Float64Array;
  private sigma: Float64Array;

  constructor(
    readonly config: PsMnistConfig,
    private readonly images: Float32Array,
    private readonly labels: Uint8Array,
    private readonly permutation: Int32Array,
    options: Partial<TrainOptions> = {},
  ) {
    this.options = { ...DEFAULT_TRAIN_OPTIONS, ...options };
    const o = this.options, count = labels.length;
    if (images.length !== count * PIXELS) throw new RangeError(`training set: ${count} labels need ${count * PIXELS} pixels, got ${images.length}`);
    if (o.batchSize % o.shards !== 0) throw new RangeError(`batch size ${o.batchSize} is not a multiple of ${o.shards} shards`);
    this.stepsPerEpoch = Math.floor(count / o.batchSize);
    this.totalSteps = this.stepsPerEpoch * o.epochs;
    const init = initialWeights(config, o.seed);
    this.master = { wH: Float64Array.from(init.wH), bH: Float64Array.from(init.bH), wC: Float64Array.from(init.wC), bC: Float64Array.from(init.bC) };
    const parts = [this.master.wH, this.master.bH, this.master.wC, this.master.bC];
    this.m = parts.map((p) => new Float64Array(p.length));
    this.v = parts.map((p) => new Float64Array(p.length));
    this.rng = Xoshiro128StarStar.fromSeed((o.seed + 0x5eed) >>> 0);
    this.order = new Int32Array(count);
    this.current = init;
    const D = config.memory_size + 3;
    this.mu = new Float64Array(D);
    this.sigma = new Float64Array(D).fill(1);
  }

  /** The sequences (permuted, unshifted) of the training digits that define the preconditioner. */
  statsSample(): Float32Array {
    const n = Math.min(this.options.statsDigits, this.labels.length), count = this.labels.length;
    const x = new Float32Array(n * PIXELS);
    for (let i = 0; i < n; i++) shiftAndPermute(this.images, Math.floor((i * count) / n) * PIXELS, 0, 0, this.permutation, x, i * PIXELS);
    return x;
  }

  /**
   * Sets the preconditioner before the first step (z statistics from {@link PsMnistGradient.inputStats} on
   * {@link statsSample}). AdamW then optimises W' and b' with W_h[j, k] = W'[j, k] / σ_k and
   * b_h[j] = b'[j] − Σ_k W'[j, k] μ_k / σ_k — the same model, in coordinates where every input column is centred and of
   * unit spread (the memory's components differ in mean and scale, which a per-weight step size cannot undo). The
   * initial W' is the U(±1/√fan_in) draw. Deviations below 1e-6 count as 1e-6.
   */
  precondition(stats: { mean: ArrayLike<number>; std: ArrayLike<number> }): void {
    if (this.step !== 0) throw new RangeError('precondition() must be called before the first step');
    const D = this.mu.length;
    if (stats.mean.length !== D || stats.std.length !== D) throw new RangeError(`precondition: expected ${D} means and deviations`);
    for (let k = 0; k < D; k++) {
      this.mu[k] = stats.mean[k];
      this.sigma[k] = Math.max(stats.std[k], 1e-6);
    }
    this.current = this.exported();
  }

  /** The model's float32 weights from the optimiser's coordinates. */
  private exported(): TrainableWeights {
    const { wH, bH, wC, bC } = this.master, D = this.mu.length, N = bH.length;
    const w = new Float32Array(wH.length), b = new Float32Array(N);
    for (let j = 0; j < N; j++) {
      let shift = 0;
      for (let k = 0; k < D; k++) {
        const v = wH[j * D + k] / this.sigma[k];
        w[j * D + k] = v;
        shift += v * this.mu[k];
      }
      b[j] = bH[j] - shift;
    }
    return { wH: w, bH: b, wC: Float32Array.from(wC), bC: Float32Array.from(bC) };
  }

  /** The fixed encoder this training uses. */
  get front(): Front {
    return { uGain: DEFAULT_FRONT.uGain, uBias: this.options.uBias };
  }

  get done(): boolean {
    return this.step >= this.totalSteps;
  }

  get epoch(): number {
    return Math.floor(this.step / this.stepsPerEpoch);
  }

  /** The float32 weights the model runs now. */
  weights(): TrainableWeights {
    return this.current;
  }

  private below(m: number): number {
    const limit = 2 ** 32 - (2 ** 32 % m);
    let r: number;
    do r = this.rng.nextU32(); while (r >= limit);
    return r % m;
  }

  /** The learning rate at a step: linear warm-up, then cosine decay to 0 at the last step. */
  lrAt(step: number): number {
    const o = this.options;
    if (step < o.warmupSteps) return o.lr * (step + 1) / o.warmupSteps;
    const t = (step - o.warmupSteps) / Math.max(1, this.totalSteps - o.warmupSteps);
    return o.lr * 0.5 * (1 + Math.cos(Math.PI * t));
  }

  /** The next batch (shuffled at the start of every epoch; each digit shifted at random, then permuted). */
  nextBatch(): Batch {
    const o = this.options, n = this.labels.length;
    const k = this.step % this.stepsPerEpoch;
    if (k === 0) {
      for (let i = 0; i < n; i++) this.order[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = this.below(i + 1);
        const t = this.order[i]; this.order[i] = this.order[j]; this.order[j] = t;
      }
    }
    const per = o.batchSize / o.shards, shards: Batch['shards'] = [];
    for (let s = 0; s < o.shards; s++) {
      const x = new Float32Array(per * PIXELS), labels = new Uint8Array(per);
      for (let b = 0; b < per; b++) {
        const idx = this.order[k * o.batchSize + s * per + b];
        const dx = o.shift > 0 ? this.below(2 * o.shift + 1) - o.shift : 0;
        const dy = o.shift > 0 ? this.below(2 * o.shift + 1) - o.shift : 0;
        shiftAndPermute(this.images, idx * PIXELS, dx, dy, this.permutation, x, b * PIXELS);
        labels[b] = this.labels[idx];
      }
      shards.push({ x, labels });
    }
    return { shards };
  }

  /** Sums the shards' gradients (in shard order), takes one AdamW step, and reports the batch's loss. */
  apply(grads: readonly ShardGradient[]): StepReport {
    const o = this.options;
    let count = 0, lossSum = 0, correct = 0;
    const master = [this.master.wH, this.master.bH, this.master.wC, this.master.bC];
    const sums = master.map((p) => new Float64Array(p.length));
    for (const g of grads) {
      count += g.count;
      lossSum += g.lossSum;
      correct += g.correct;
      [g.gWH, g.gBH, g.gWC, g.gBC].forEach((src, i) => {
        const dst = sums[i];
        for (let j = 0; j < dst.length; j++) dst[j] += src[j];
      });
    }
    // ∂/∂W'[j, k] = (∂W_h[j, k] − ∂b_h[j] μ_k) / σ_k; ∂/∂b' = ∂b_h.
    const D = this.mu.length, gW = sums[0], gB = sums[1];
    for (let j = 0; j < gB.length; j++) {
      for (let k = 0; k < D; k++) gW[j * D + k] = (gW[j * D + k] - gB[j] * this.mu[k]) / this.sigma[k];
    }
    const lr = this.lrAt(this.step), t = this.step + 1;
    const c1 = 1 - o.beta1 ** t, c2 = 1 - o.beta2 ** t;
    master.forEach((p, i) => {
      const m = this.m[i], v = this.v[i], g = sums[i], decay = i === 0 || i === 2 ? o.weightDecay : 0;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j] / count;
        m[j] = o.beta1 * m[j] + (1 - o.beta1) * gj;
        v[j] = o.beta2 * v[j] + (1 - o.beta2) * gj * gj;
        p[j] -= lr * ((m[j] / c1) / (Math.sqrt(v[j] / c2) + o.eps) + decay * p[j]);
      }
    });
    this.current = this.exported();
    const report: StepReport = { epoch: this.epoch, step: this.step, stepsPerEpoch: this.stepsPerEpoch, lr, loss: lossSum / count, correct, count };
    this.step++;
    return report;
  }
}
