// slmu_rnn_conv1d (SLMUFormerConv1d) and attn_ms_conv1d (AttnLMUFormer). There are NO golden fixtures for these two
// models (shared/fixtures has none and the spec does not describe them). They are checked instead against:
//   (a) a hand-derived list of state-dict keys and shapes, read off the official module tree (src/lmu_rnn.py,
//       src/blocks/conv1d_embedding.py, src/blocks/lmu.py, src/blocks/lmu_cell.py, src/blocks/mlp.py);
//   (b) a float64 reference written in this file, independently of the implementation: plain loops in the official
//       [B, C, N] layout, sharing no helper with src/. It runs on random small weights whose BN running statistics are
//       calibrated on the data so that the LIF layers fire at moderate rates. Logits must agree within
//       1e-4·max(1, max |ref|), and every spike must be equal, except where the reference's |margin| < 1e-5 (counted);
//   (c) the last all_seq row equals the normal logits (up to rounding);
//   (d) loadCheckpoint reports every missing, unexpected and mis-shaped key in one CheckpointError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Core } from '@spikewasm/core-wasm';
import {
  SLMUFormerConv1d, AttnLMUFormer, expectedStateDict, loadCheckpoint, lmuBuffers, CheckpointError, type LMUFormerConfig,
} from '../src/index.js';
import { rng } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});
const report: string[] = [];
afterAll(() => {
  for (const r of report) console.log(r);
});

// A small configuration: E = 8, in_channels 6, 2 heads, FFN hidden 16, 5 classes.
const CFG: Partial<LMUFormerConfig> = { embed_dims: 8, in_channels: 6, num_heads: 2, mlp_ratios: 2, depths: 1, num_classes: 5 };
const N = 128;

const bnKeys = (p: string, C: number): [string, number[]][] =>
  ['weight', 'bias', 'running_mean', 'running_var'].map((k) => [`${p}.${k}`, [C]]);

// (a) Written out by hand from the official modules (E = 8, Cin = 6, Hm = 16, d = 2E = 16, K = 5, depths 1).
const SLMU_KEYS: [string, number[]][] = [
  ['patch_embed.proj_conv.weight', [8, 6, 3]], ...bnKeys('patch_embed.proj_bn', 8),
  ['patch_embed.proj_conv1.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn1', 8),
  ['patch_embed.proj_conv2.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn2', 8),
  ['patch_embed.proj_conv3.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn3', 8),
  ['patch_embed.rpe_conv.weight', [8, 8, 3]], ...bnKeys('patch_embed.rpe_bn', 8),
  ['block.0.attn.lmu.A', [16, 16]], ['block.0.attn.lmu.B', [16, 1]], ['block.0.attn.lmu.H', [16, 128]],
  ['block.0.attn.lmu.W_u.weight', [1, 8]], ['block.0.attn.lmu.W_u.bias', [1]],
  ['block.0.attn.lmu.W_h.weight', [8, 24]], ['block.0.attn.lmu.W_h.bias', [8]],
  ...bnKeys('block.0.attn.lmu.bn_u', 1), ...bnKeys('block.0.attn.lmu.bn_m', 16), ...bnKeys('block.0.attn.lmu.bn_h', 8),
  ['block.0.attn.proj_conv.weight', [8, 8, 1]], ['block.0.attn.proj_conv.bias', [8]], ...bnKeys('block.0.attn.proj_bn', 8),
  ['block.0.mlp.fc1_conv.weight', [16, 8, 1]], ['block.0.mlp.fc1_conv.bias', [16]], ...bnKeys('block.0.mlp.fc1_bn', 16),
  ['block.0.mlp.fc2_conv.weight', [8, 16, 1]], ['block.0.mlp.fc2_conv.bias', [8]], ...bnKeys('block.0.mlp.fc2_bn', 8),
  ['head.weight', [5, 8]], ['head.bias', [5]],
];
const ATTN_KEYS: [string, number[]][] = [
  ['patch_embed.proj_conv.weight', [8, 6, 3]], ...bnKeys('patch_embed.proj_bn', 8),
  ['patch_embed.proj_conv1.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn1', 8),
  ['patch_embed.proj_conv2.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn2', 8),
  ['patch_embed.proj_conv3.weight', [8, 8, 3]], ...bnKeys('patch_embed.proj_bn3', 8),
  ['patch_embed.rpe_conv.weight', [8, 8, 3]],
  ...bnKeys('block.0.attn.pre_bn', 8),
  ['block.0.attn.q_conv.weight', [8, 8, 1]], ...bnKeys('block.0.attn.q_bn', 8),
  ['block.0.attn.k_conv.weight', [8, 8, 1]], ...bnKeys('block.0.attn.k_bn', 8),
  ['block.0.attn.v_conv.weight', [8, 8, 1]], ...bnKeys('block.0.attn.v_bn', 8),
  ['block.0.attn.proj_conv.weight', [8, 8, 1]], ['block.0.attn.proj_conv.bias', [8]], ...bnKeys('block.0.attn.proj_bn', 8),
  ...bnKeys('block.0.mlp.fc1_bn', 8), ['block.0.mlp.fc1_conv.weight', [16, 8, 1]], ['block.0.mlp.fc1_conv.bias', [16]],
  ...bnKeys('block.0.mlp.fc2_bn', 16), ['block.0.mlp.fc2_conv.weight', [8, 16, 1]], ['block.0.mlp.fc2_conv.bias', [8]],
  ...bnKeys('head_bn', 8),
  ['head.weight', [5, 8]], ['head.bias', [5]],
];

/** The keys of a depths-2 model: block.0's keys repeated as block.1 right after them. */
function withTwoBlocks(keys: [string, number[]][]): [string, number[]][] {
  const first = keys.findIndex(([k]) => k.startsWith('block.0.')), last = keys.map(([k]) => k.startsWith('block.0.')).lastIndexOf(true);
  const blk = keys.slice(first, last + 1);
  return [...keys.slice(0, last + 1), ...blk.map(([k, s]) => [k.replace('block.0.', 'block.1.'), s] as [string, number[]]), ...keys.slice(last + 1)];
}

// ---------------------------------------------------------------------------------------------------------------
// Random state dicts. BN weight/bias are drawn so that a BN output is about N(β, γ²) with β, γ in a range where
// multi-step LIF neurons (τ = 2, V_th = 1) fire sometimes; running_mean / running_var are then calibrated by the
// reference (the statistics of the BN's input over batch and frames), so every BN sees standardised inputs.

type SD = Map<string, Float32Array>;

function randomStateDict(keys: [string, number[]][], seed: number): SD {
  const r = rng(seed), sd: SD = new Map();
  for (const [k, shape] of keys) {
    const n = shape.reduce((a, b) => a * b, 1), t = new Float32Array(n);
    const leaf = k.slice(k.lastIndexOf('.') + 1);
    if (/\.(A|B|H)$/.test(k)) {
      const d = shape[0], bufs = lmuBuffers(d, 128, 128);
      t.set(leaf === 'A' ? bufs.A : leaf === 'B' ? bufs.B : bufs.H);
    } else if (leaf === 'running_mean') t.fill(0);
    else if (leaf === 'running_var') t.fill(1);
    else if (/_bn\d?\.weight$|bn_[umh]\.weight$|head_bn\.weight$|pre_bn\.weight$|rpe_bn\.weight$/.test(k)) for (let i = 0; i < n; i++) t[i] = 0.7 + 0.5 * r();
    else if (/\.[qkv]_bn\.bias$/.test(k)) for (let i = 0; i < n; i++) t[i] = 0.6 + 0.1 * r();   // sparser q, k, v: attn_lif sums N·dh products
    else if (/_bn\d?\.bias$|bn_[umh]\.bias$|head_bn\.bias$|pre_bn\.bias$|rpe_bn\.bias$/.test(k)) for (let i = 0; i < n; i++) t[i] = 0.8 + 0.4 * r();
    else {
      const fanIn = shape.length > 1 ? n / shape[0] : 1;
      for (let i = 0; i < n; i++) t[i] = (2 * r() - 1) * Math.sqrt(3 / fanIn);
    }
    sd.set(k, t);
  }
  return sd;
}

// ---------------------------------------------------------------------------------------------------------------
// The float64 reference, [B, C, N] layout like the PyTorch code. x is a Float64Array of B·C·N values.

interface Ref {
  logits: Float64Array;        // [B, K]
  allSeq: Float64Array;        // [N, B, K]
  spikes: Map<string, { s: Float64Array; margin: Float64Array; C: number }>;  // [B, C, N]
}

class Reference {
  readonly spikes = new Map<string, { s: Float64Array; margin: Float64Array; C: number }>();
  constructor(private readonly sd: SD, private readonly B: number, private readonly calibrate: boolean) {}

  w(k: string): Float32Array {
    const t = this.sd.get(k);
    if (!t) throw new Error(`reference: no ${k}`);
    return t;
  }

  conv3(x: Float64Array, Cin: number, Cout: number, key: string): Float64Array {
    const W = this.w(key), B = this.B, y = new Float64Array(B * Cout * N);
    for (let b = 0; b < B; b++) for (let o = 0; o < Cout; o++) for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let i = 0; i < Cin; i++) for (let t = 0; t < 3; t++) {
        const m = n + t - 1;
        if (m >= 0 && m < N) acc += W[(o * Cin + i) * 3 + t] * x[(b * Cin + i) * N + m];
      }
      y[(b * Cout + o) * N + n] = acc;
    }
    return y;
  }

  conv1(x: Float64Array, Cin: number, Cout: number, prefix: string, bias: boolean): Float64Array {
    const W = this.w(`${prefix}.weight`), bb = bias ? this.w(`${prefix}.bias`) : null, B = this.B, y = new Float64Array(B * Cout * N);
    for (let b = 0; b < B; b++) for (let o = 0; o < Cout; o++) for (let n = 0; n < N; n++) {
      let acc = bb ? bb[o] : 0;
      for (let i = 0; i < Cin; i++) acc += W[o * Cin + i] * x[(b * Cin + i) * N + n];
      y[(b * Cout + o) * N + n] = acc;
    }
    return y;
  }

  bn(x: Float64Array, C: number, prefix: string): Float64Array {
    const B = this.B, mean = this.w(`${prefix}.running_mean`), vr = this.w(`${prefix}.running_var`);
    if (this.calibrate) {
      for (let c = 0; c < C; c++) {
        let s = 0, s2 = 0;
        for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) s += x[(b * C + c) * N + n];
        const mu = s / (B * N);
        for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) s2 += (x[(b * C + c) * N + n] - mu) ** 2;
        mean[c] = mu;
        vr[c] = Math.max(s2 / (B * N), 1e-3);
      }
    }
    const g = this.w(`${prefix}.weight`), be = this.w(`${prefix}.bias`), y = new Float64Array(x.length);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
      const sc = g[c] / Math.sqrt(vr[c] + 1e-5);
      for (let n = 0; n < N; n++) y[(b * C + c) * N + n] = (x[(b * C + c) * N + n] - mean[c]) * sc + be[c];
    }
    return y;
  }

  /** MultiStepLIFNode(tau=2, v_reset=0, decay_input) along n, each (b, c) from v = 0; H ≥ V_th fires, hard reset. */
  lif(x: Float64Array, C: number, name: string, vth = 1): Float64Array {
    const B = this.B, s = new Float64Array(x.length), margin = new Float64Array(x.length);
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
      let v = 0;
      for (let n = 0; n < N; n++) {
        const i = (b * C + c) * N + n, h = v + (x[i] - v) * 0.5;
        margin[i] = h - vth;
        s[i] = h >= vth ? 1 : 0;
        v = s[i] ? 0 : h;
      }
    }
    this.spikes.set(name, { s, margin, C });
    return s;
  }

  add(a: Float64Array, b: Float64Array): Float64Array {
    return a.map((v, i) => v + b[i]);
  }

  head(x: Float64Array, E: number, K: number): { logits: Float64Array; allSeq: Float64Array } {
    const B = this.B, W = this.w('head.weight'), bias = this.w('head.bias');
    const logits = new Float64Array(B * K), allSeq = new Float64Array(N * B * K);
    for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) {
      let tot = 0;
      for (let n = 0; n < N; n++) {
        let acc = bias[k];
        for (let c = 0; c < E; c++) acc += W[k * E + c] * x[(b * E + c) * N + n];
        tot += acc;
      }
      logits[b * K + k] = tot / N;
    }
    for (let b = 0; b < B; b++) {
      const cum = new Float64Array(E);
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < E; c++) cum[c] += x[(b * E + c) * N + n];
        for (let k = 0; k < K; k++) {
          let acc = bias[k];
          for (let c = 0; c < E; c++) acc += W[k * E + c] * (cum[c] / (n + 1));
          allSeq[(n * B + b) * K + k] = acc;
        }
      }
    }
    return { logits, allSeq };
  }
}

/** The official slmu_rnn_conv1d forward. input [B, N, Cin] (official input layout). */
function refSLMU(sd: SD, input: Float32Array, B: number, c: Required<typeof CFG>, calibrate: boolean): Ref {
  const R = new Reference(sd, B, calibrate), E = c.embed_dims, Cin = c.in_channels, Hm = E * c.mlp_ratios, d = 2 * E;
  const x0 = new Float64Array(B * Cin * N);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let i = 0; i < Cin; i++) x0[(b * Cin + i) * N + n] = input[(b * N + n) * Cin + i];
  const pe = 'patch_embed';
  let s = R.lif(R.bn(R.conv3(x0, Cin, E, `${pe}.proj_conv.weight`), E, `${pe}.proj_bn`), E, `${pe}.proj_lif`);
  for (const i of [1, 2, 3]) s = R.lif(R.bn(R.conv3(s, E, E, `${pe}.proj_conv${i}.weight`), E, `${pe}.proj_bn${i}`), E, `${pe}.proj_lif${i}`);
  const rpe = R.lif(R.bn(R.conv3(s, E, E, `${pe}.rpe_conv.weight`), E, `${pe}.rpe_bn`), E, `${pe}.rpe_lif`);
  let x = R.add(s, rpe);
  for (let j = 0; j < c.depths; j++) {
    const a = `block.${j}.attn`, p = `${a}.lmu`, m = `block.${j}.mlp`;
    // SpikingLMUFFTCell on x (real): u = LIF(bn_u(W_u x)), m = H ∗ u, m_s = LIF(bn_m(m)), h = LIF(bn_h(W_h [m_s; x]))
    const u = R.lif(R.bn(R.conv1(x, E, 1, `${p}.W_u`, true), 1, `${p}.bn_u`), 1, `${p}.f_u`);
    const H = R.w(`${p}.H`), mem = new Float64Array(B * d * N);
    for (let b = 0; b < B; b++) for (let q = 0; q < d; q++) for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k <= n; k++) acc += H[q * N + k] * u[b * N + n - k];
      mem[(b * d + q) * N + n] = acc;
    }
    const ms = R.lif(R.bn(mem, d, `${p}.bn_m`), d, `${p}.f_m`);
    const cat = new Float64Array(B * (d + E) * N);
    for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
      for (let q = 0; q < d; q++) cat[(b * (d + E) + q) * N + n] = ms[(b * d + q) * N + n];
      for (let q = 0; q < E; q++) cat[(b * (d + E) + d + q) * N + n] = x[(b * E + q) * N + n];
    }
    const h = R.lif(R.bn(R.conv1(cat, d + E, E, `${p}.W_h`, true), E, `${p}.bn_h`), E, `${p}.f_h`);
    const attn = R.lif(R.bn(R.conv1(h, E, E, `${a}.proj_conv`, true), E, `${a}.proj_bn`), E, `${a}.proj_lif`);
    x = R.add(x, attn);
    const s1 = R.lif(R.bn(R.conv1(x, E, Hm, `${m}.fc1_conv`, true), Hm, `${m}.fc1_bn`), Hm, `${m}.fc1_lif`);
    const s2 = R.lif(R.bn(R.conv1(s1, Hm, E, `${m}.fc2_conv`, true), E, `${m}.fc2_bn`), E, `${m}.fc2_lif`);
    x = R.add(x, s2);
  }
  return { ...R.head(x, E, c.num_classes), spikes: R.spikes };
}

/** The official attn_ms_conv1d forward. */
function refAttn(sd: SD, input: Float32Array, B: number, c: Required<typeof CFG>, calibrate: boolean): Ref {
  const R = new Reference(sd, B, calibrate), E = c.embed_dims, Cin = c.in_channels, Hm = E * c.mlp_ratios, nh = c.num_heads, dh = E / nh;
  const x0 = new Float64Array(B * Cin * N);
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let i = 0; i < Cin; i++) x0[(b * Cin + i) * N + n] = input[(b * N + n) * Cin + i];
  const pe = 'patch_embed';
  let s = R.lif(R.bn(R.conv3(x0, Cin, E, `${pe}.proj_conv.weight`), E, `${pe}.proj_bn`), E, `${pe}.proj_lif`);
  for (const i of [1, 2]) s = R.lif(R.bn(R.conv3(s, E, E, `${pe}.proj_conv${i}.weight`), E, `${pe}.proj_bn${i}`), E, `${pe}.proj_lif${i}`);
  const x3 = R.conv3(s, E, E, `${pe}.proj_conv3.weight`);
  let x = R.add(x3, R.conv3(R.lif(R.bn(x3, E, `${pe}.proj_bn3`), E, `${pe}.proj_lif3`), E, E, `${pe}.rpe_conv.weight`));
  for (let j = 0; j < c.depths; j++) {
    const a = `block.${j}.attn`, m = `block.${j}.mlp`;
    const sq = R.lif(R.bn(x, E, `${a}.pre_bn`), E, `${a}.pre_lif`);
    const q = R.lif(R.bn(R.conv1(sq, E, E, `${a}.q_conv`, false), E, `${a}.q_bn`), E, `${a}.q_lif`);
    const k = R.lif(R.bn(R.conv1(sq, E, E, `${a}.k_conv`, false), E, `${a}.k_bn`), E, `${a}.k_lif`);
    const v = R.lif(R.bn(R.conv1(sq, E, E, `${a}.v_conv`, false), E, `${a}.v_bn`), E, `${a}.v_lif`);
    // attn = q kᵀ over tokens n, m for each head; y = (attn v)·0.25; back to channel h·dh + i
    const y = new Float64Array(B * E * N);
    for (let b = 0; b < B; b++) for (let h = 0; h < nh; h++) {
      const att = new Float64Array(N * N);
      for (let n = 0; n < N; n++) for (let mm = 0; mm < N; mm++) {
        let acc = 0;
        for (let i = 0; i < dh; i++) acc += q[(b * E + h * dh + i) * N + n] * k[(b * E + h * dh + i) * N + mm];
        att[n * N + mm] = acc;
      }
      for (let n = 0; n < N; n++) for (let i = 0; i < dh; i++) {
        let acc = 0;
        for (let mm = 0; mm < N; mm++) acc += att[n * N + mm] * v[(b * E + h * dh + i) * N + mm];
        y[(b * E + h * dh + i) * N + n] = acc * 0.25;
      }
    }
    const ya = R.lif(y, E, `${a}.attn_lif`, 0.5);
    x = R.add(x, R.bn(R.conv1(ya, E, E, `${a}.proj_conv`, true), E, `${a}.proj_bn`));
    const s1 = R.lif(R.bn(x, E, `${m}.fc1_bn`), E, `${m}.fc1_lif`);
    const s2 = R.lif(R.bn(R.conv1(s1, E, Hm, `${m}.fc1_conv`, true), Hm, `${m}.fc2_bn`), Hm, `${m}.fc2_lif`);
    x = R.add(x, R.conv1(s2, Hm, E, `${m}.fc2_conv`, true));
  }
  const hs = R.lif(R.bn(x, E, 'head_bn'), E, 'head_lif');
  return { ...R.head(hs, E, c.num_classes), spikes: R.spikes };
}

// ---------------------------------------------------------------------------------------------------------------

const FULL = (over: Partial<LMUFormerConfig> = {}) => ({ ...CFG, test_mode: 'normal', ...over }) as Required<typeof CFG>;

function randomInput(B: number, Cin: number, seed: number): Float32Array {
  const r = rng(seed), x = new Float32Array(B * N * Cin);
  for (let i = 0; i < x.length; i++) x[i] = 2 * r() - 1;
  return x;
}

function compare(label: string, model: SLMUFormerConv1d | AttnLMUFormer, ref: Ref, B: number, logits: Float32Array): void {
  let err = 0, scale = 0;
  for (let i = 0; i < ref.logits.length; i++) {
    err = Math.max(err, Math.abs(logits[i] - ref.logits[i]));
    scale = Math.max(scale, Math.abs(ref.logits[i]));
  }
  const tol = 1e-4 * Math.max(1, scale);
  expect(err, `${label} logits`).toBeLessThanOrEqual(tol);
  const layers = model.lifLayers(B);
  expect([...layers.keys()].sort()).toEqual([...ref.spikes.keys()].sort());
  let flips = 0, total = 0;
  const rates: string[] = [];
  for (const [name, r] of ref.spikes) {
    const got = layers.get(name)!.spikes.f32, C = r.C, bad: string[] = [];
    let fired = 0;
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let n = 0; n < N; n++) {
      const i = (b * C + c) * N + n, g = got[(b * N + n) * C + c];
      fired += r.s[i];
      total++;
      if (g !== r.s[i]) {
        if (Math.abs(r.margin[i]) < 1e-5) flips++;
        else if (bad.length < 5) bad.push(`${name}[b ${b}, c ${c}, n ${n}]: got ${g}, want ${r.s[i]} (margin ${r.margin[i]})`);
      }
    }
    expect(bad, label).toEqual([]);
    rates.push(`${name} ${(100 * fired / (B * C * N)).toFixed(0)}%`);
  }
  const first = !report.some((r) => r.startsWith(label.split(' fold=')[0]));
  report.push(`${label}: logits max |Δ| ${err.toExponential(2)} (tolerance ${tol.toExponential(1)}); ${total} spikes, ${flips} flips at |margin| < 1e-5${first ? `; firing rates: ${rates.join(', ')}` : ''}`);
}

/** Firing rate of every reference LIF layer (each must be in [lo, hi]). */
function rates(ref: Ref): Map<string, number> {
  const m = new Map<string, number>();
  for (const [name, r] of ref.spikes) m.set(name, r.s.reduce((a, b) => a + b, 0) / r.s.length);
  return m;
}

describe.each([
  { factory: 'slmu_rnn_conv1d' as const, keys: SLMU_KEYS, ref: refSLMU, Model: SLMUFormerConv1d },
  { factory: 'attn_ms_conv1d' as const, keys: ATTN_KEYS, ref: refAttn, Model: AttnLMUFormer },
])('$factory', ({ factory, keys, ref, Model }) => {
  it('(a) expectedStateDict lists the official keys and shapes, in module order', () => {
    expect([...expectedStateDict(factory, CFG)]).toEqual(keys);
    expect([...expectedStateDict(factory, { ...CFG, depths: 2 })]).toEqual(withTwoBlocks(keys));
  });

  for (const B of [1, 3]) {
    it(`(b) matches the float64 reference, batch ${B}, spikes and logits${factory === 'slmu_rnn_conv1d' ? ', every LMU form' : ''}, BN folded or not`, () => {
      const depths = 2, c = FULL({ depths }), sd = randomStateDict(withTwoBlocks(keys), 11 + B), x = randomInput(B, c.in_channels, 7 + B);
      ref(sd, x, B, c, true);                                   // calibrate the BN running statistics on this input
      const want = ref(sd, x, B, c, false);
      for (const [name, r] of rates(want)) {
        expect(r, `${name} firing rate`).toBeGreaterThanOrEqual(0.1);
        expect(r, `${name} firing rate`).toBeLessThanOrEqual(0.4);
      }
      const a = core.arena();
      try {
        for (const fold of [true, false]) {
          const model = new Model(a, c, sd, { keepSpikes: true, foldBatchNorm: fold });
          const modes = model instanceof SLMUFormerConv1d ? (['fft', 'fir', 'recurrent'] as const) : ([null] as const);
          for (const mode of modes) {
            if (mode && model instanceof SLMUFormerConv1d) model.lmuMode = mode;
            const logits = model.forward(x).toArray() as Float32Array;
            compare(`${factory} B=${B} fold=${fold}${mode ? ` ${mode}` : ''}`, model, want, B, logits);
          }
        }
      } finally {
        a.dispose();
      }
    });
  }

  it('(c) the last all_seq row equals the normal logits', () => {
    const B = 2, c = FULL({ depths: 2 }), sd = randomStateDict(withTwoBlocks(keys), 5), x = randomInput(B, c.in_channels, 6);
    ref(sd, x, B, c, true);
    const want = ref(sd, x, B, c, false);
    const a = core.arena();
    try {
      const model = new Model(a, c, sd);
      const normal = Float32Array.from(model.forward(x).toArray() as Float32Array);
      model.testMode = 'all_seq';
      const all = model.forward(x);
      expect(all.shape).toEqual([N, B, c.num_classes]);
      const rows = all.toArray() as Float32Array, K = c.num_classes;
      const last = rows.subarray((N - 1) * B * K);
      for (let i = 0; i < B * K; i++) expect(Math.abs(last[i] - normal[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(normal[i])));
      let err = 0, scale = 0;
      for (let i = 0; i < rows.length; i++) {
        err = Math.max(err, Math.abs(rows[i] - want.allSeq[i]));
        scale = Math.max(scale, Math.abs(want.allSeq[i]));
      }
      expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
      report.push(`${factory} all_seq vs reference: max |Δ| ${err.toExponential(2)}`);
    } finally {
      a.dispose();
    }
  });

  it('(d) loadCheckpoint and fromCheckpoint report missing, unexpected and mis-shaped keys in one error', () => {
    const sd = randomStateDict(keys, 3);
    const bad = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const [k, shape] of keys) bad.set(k, { data: sd.get(k)!, shape });
    bad.delete('head.bias');
    bad.delete('patch_embed.proj_bn2.running_var');
    bad.set('block.0.attn.extra.weight', { data: new Float32Array(2), shape: [2] });
    bad.set('head.weight', { data: new Float32Array(4 * 8), shape: [4, 8] });
    bad.set('block.0.mlp.fc1_bn.num_batches_tracked', { data: new Float32Array(1), shape: [] });
    let err: unknown;
    try {
      loadCheckpoint(bad, factory, CFG);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const e = err as CheckpointError;
    expect(e.factory).toBe(factory);
    expect(e.missing).toEqual(['patch_embed.proj_bn2.running_var', 'head.bias']);
    expect(e.unexpected).toEqual(['block.0.attn.extra.weight']);
    expect(e.misshaped).toEqual([{ name: 'head.weight', expected: [5, 8], got: [4, 8] }]);
    expect(e.message.split('\n')).toHaveLength(5);
    const a = core.arena();
    try {
      expect(() => Model.fromCheckpoint(a, bad, CFG)).toThrow(CheckpointError);
      const good = new Map<string, { data: Float32Array; shape: number[] }>();
      for (const [k, shape] of keys) good.set(`module.${k}`, { data: sd.get(k)!, shape });
      const m = Model.fromCheckpoint(a, good, CFG);
      expect(m.forward(randomInput(1, 6, 1)).shape).toEqual([1, 5]);
    } finally {
      a.dispose();
    }
  });
});
