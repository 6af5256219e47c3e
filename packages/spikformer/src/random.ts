// Random (untrained) Spikformer weights with plausible batch-norm statistics, for benchmarks and tests.
import { Xoshiro128StarStar } from '@spikewasm/spiking';
import type { SpikformerConfig, SpikformerVariant } from './config.js';
import { expectedStateDict, type CheckpointTensor } from './checkpoint.js';
import { resolveSpikformerConfig, spikformerGeometry } from './config.js';

/** Target firing rates of {@link randomSpikformerStateDict} per kind of LIF (what the BN shifts are solved for). */
export interface RandomStateDictRates {
  /** SPS stages and rpe_lif (default 0.2). */
  sps: number;
  /** q_lif, k_lif, v_lif (default 0.15). */
  qkv: number;
  /** proj_lif (default 0.2). */
  proj: number;
  /** fc1_lif (default 0.15). */
  fc1: number;
  /** fc2_lif (default 0.2). */
  fc2: number;
}

/** Options of {@link randomSpikformerStateDict}. */
export interface RandomStateDictOptions {
  /** Target firing rates (defaults: SPS 0.2, q/k/v 0.15, proj 0.2, fc1 0.15, fc2 0.2). */
  rates?: Partial<RandomStateDictRates>;
  /** E[x²] of the image input (default 1: a normalised natural image). */
  inputSecondMoment?: number;
}

/**
 * Firing rate of a LIF (τ = 2, V_th = 1, hard reset, v₀ = 0) over T steps whose input z is constant in time and
 * distributed N(β, 1) over neurons: E[#spikes]/T, by quadrature over z.
 */
function lifRate(beta: number, T: number): number {
  let acc = 0, wsum = 0;
  for (let i = -400; i <= 400; i++) {
    const u = i / 50, w = Math.exp(-0.5 * u * u), z = Math.fround(beta + u);
    let v = 0, n = 0;
    for (let t = 0; t < T; t++) {
      const h = v + (z - v) * 0.5;
      if (h >= 1) { n++; v = 0; } else v = h;
    }
    acc += w * n;
    wsum += w;
  }
  return acc / wsum / T;
}

/** β with lifRate(β, T) = rate (bisection; the rate is monotone in β). */
function shiftForRate(rate: number, T: number): number {
  let lo = -6, hi = 8;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (lifRate(mid, T) < rate) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * A random state dict of an official Spikformer (every key of {@link expectedStateDict}, seeded, deterministic in
 * every JS engine), NOT a trained model. Weights ~ N(0, 1/fan_in) (Box–Muller on xoshiro128**), biases ~ N(0, 0.01²).
 * The batch norms get statistics that a trained model plausibly has, solved layer by layer in forward order:
 * running_mean = the layer's bias, running_var = the predicted second moment E[y²] = E[x²] of its pre-activation
 * (from the predicted firing rates of its inputs: a LIF's target rate, 1 − (1 − r)² after an OR max-pool —
 * neighbouring spikes are correlated —, sums of those in the residual stream), γ ∈ [0.8, 1.2], and β solved so that a
 * LIF fed N(β, 1) fires at the target rate over T steps. Measured rates land near the targets (the bench prints
 * them); use it for benchmarks (and say so) and for shape / equivalence tests.
 * @example const sd = randomSpikformerStateDict(spikformerPreset('spikformer-4-384').config, 'cifar', 1);
 */
export function randomSpikformerStateDict(
  config: Partial<SpikformerConfig> = {}, variant: SpikformerVariant = 'cifar', seed = 1, options: RandomStateDictOptions = {},
): Map<string, CheckpointTensor> {
  const c = resolveSpikformerConfig(config, variant);
  const g = spikformerGeometry(c, variant);
  const rng = Xoshiro128StarStar.fromSeed(seed >>> 0);
  const uniform = () => (rng.nextU32() + 0.5) / 4294967296;
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform())), a = 2 * Math.PI * uniform();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
  const rates: RandomStateDictRates = { sps: 0.2, qkv: 0.15, proj: 0.2, fc1: 0.15, fc2: 0.2, ...options.rates };
  const pooled = (r: number) => 1 - (1 - r) ** 2;
  const attnRate = 0.3;
  // per BN-fed layer: E[x²] of its input and the target rate of the LIF after its BN
  const plan = new Map<string, { m2: number; rate: number }>();
  g.stages.forEach((s, i) => {
    const prev = i > 0 && g.stages[i - 1].pool ? pooled(rates.sps) : rates.sps;
    plan.set(`patch_embed.proj_conv${i === 0 ? '' : i}`, { m2: i === 0 ? options.inputSecondMoment ?? 1 : prev, rate: rates.sps });
  });
  const pFeat = g.stages[3].pool ? pooled(rates.sps) : rates.sps;
  plan.set('patch_embed.rpe_conv', { m2: pFeat, rate: rates.sps });
  const layer = variant === 'cifar' ? 'linear' : 'conv';
  const moment = (rs: number[]) => {
    const mean = rs.reduce((a, r) => a + r, 0), variance = rs.reduce((a, r) => a + r * (1 - r), 0);
    return mean * mean + variance;
  };
  for (let j = 0; j < c.depths; j++) {
    const stream = [pFeat, rates.sps, ...Array.from({ length: j }, () => [rates.proj, rates.fc2]).flat()];
    for (const q of ['q', 'k', 'v']) plan.set(`block.${j}.attn.${q}_${layer}`, { m2: moment(stream), rate: rates.qkv });
    plan.set(`block.${j}.attn.proj_${layer}`, { m2: attnRate, rate: rates.proj });
    plan.set(`block.${j}.mlp.fc1_${layer}`, { m2: moment([...stream, rates.proj]), rate: rates.fc1 });
    plan.set(`block.${j}.mlp.fc2_${layer}`, { m2: rates.fc1, rate: rates.fc2 });
  }
  const betaCache = new Map<number, number>();
  const beta = (rate: number) => {
    if (!betaCache.has(rate)) betaCache.set(rate, shiftForRate(rate, c.T));
    return betaCache.get(rate)!;
  };
  const out = new Map<string, CheckpointTensor>();
  const put = (name: string, shape: number[], data: Float32Array) => out.set(name, { name, shape, data });
  const expected = expectedStateDict(c, variant);
  // weights and biases first, then the BN that follows each (its statistics depend on the bias)
  const biasOf = new Map<string, Float32Array>();
  for (const [name, shape] of expected) {
    if (/_bn\d*\./.test(name)) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('.weight')) {
      const sd = 1 / Math.sqrt(n / shape[0]);
      for (let i = 0; i < n; i++) data[i] = normal() * sd;
    } else {
      for (let i = 0; i < n; i++) data[i] = normal() * 0.01;
      biasOf.set(name.slice(0, -'.bias'.length), data);
    }
    put(name, shape, data);
  }
  for (const [name, shape] of expected) {
    const m = /^(.*)_bn(\d*)\.(weight|bias|running_mean|running_var)$/.exec(name);
    if (!m) continue;
    const [, base, idx, field] = m;
    const lname = `${base}_${base.startsWith('block.') ? layer : 'conv'}${idx}`;
    const p = plan.get(lname)!;
    const C = shape[0];
    const data = new Float32Array(C);
    const bias = biasOf.get(lname);
    for (let i = 0; i < C; i++) {
      if (field === 'weight') data[i] = 0.8 + 0.4 * uniform();
      else if (field === 'bias') data[i] = beta(p.rate) + 0.1 * normal();
      else if (field === 'running_mean') data[i] = bias ? bias[i] : 0;
      else data[i] = p.m2 * (0.9 + 0.2 * uniform());
    }
    put(name, shape, data);
  }
  // the official key order
  return new Map([...expected.keys()].map((k) => [k, out.get(k)!]));
}
