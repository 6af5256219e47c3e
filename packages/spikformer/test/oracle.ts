// A plain-TS float64 Spikformer, written from the official code (cifar10/, imagenet/, cifar10dvs/ model.py) in its
// own layouts ([T, B, C, H, W] in SPS, [T, B, N, C] in blocks), with no Wasm and no bit packing: the oracle of the
// model tests. Like the fixtures' reference it is float64 throughout (LIF included), so it reproduces every fixture
// spike; the model under test is float32 and may only flip spikes where |margin| < 1e-5.
import { conv2d3x3Ref, maxPool3x3s2Ref } from '../../core-wasm/src/oracle.js';
import type { SpikformerConfig, SpikformerVariant } from '../src/index.js';
import { resolveSpikformerConfig, spikformerGeometry } from '../src/index.js';

type SD = ReadonlyMap<string, { data: ArrayLike<number> }>;

/** What the oracle computes: logits and, per LIF (official names), spikes and margins h − V_th, official layouts. */
export interface OracleResult {
  logits: Float64Array;
  spikes: Map<string, Uint8Array>;
  margins: Map<string, Float64Array>;
  /** x_feat [T, B, D, h, w], X0 [T, B, N, D], block outputs [T, B, N, D], attn_out, scores, features [T, B, D]. */
  xFeat: Float64Array;
  patchEmbed: Float64Array;
  blocks: { attnOut: Float64Array; scores: Float64Array; attn: Float64Array; mlp: Float64Array; out: Float64Array }[];
  features: Float64Array;
}

/** 3×3 conv, stride 1, pad 1, no bias, over G = T·B images (core-wasm's float64 reference, same summation order). */
function conv3x3(x: Float64Array, G: number, Cin: number, H: number, W: number, w: ArrayLike<number>, Cout: number): Float64Array {
  return conv2d3x3Ref(x, w, null, G, Cin, Cout, H, W).y;
}

/** Eval-mode BN over channel axis: x viewed as [outer, C, inner]. */
function bn(x: Float64Array, outer: number, C: number, inner: number, sd: SD, p: string): Float64Array {
  const g = sd.get(`${p}.weight`)!.data, b = sd.get(`${p}.bias`)!.data, m = sd.get(`${p}.running_mean`)!.data, v = sd.get(`${p}.running_var`)!.data;
  const y = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const k = 1 / Math.sqrt(v[c] + 1e-5);
      for (let i = 0; i < inner; i++) {
        const j = (o * C + c) * inner + i;
        y[j] = (x[j] - m[c]) * k * g[c] + b[c];
      }
    }
  }
  return y;
}

/** Multi-step LIF over axis 0 of x [T, M] (float64, hard reset, ties fire); records spikes and margins. */
function lif(x: Float64Array, T: number, vth: number, name: string, out: OracleResult): Float64Array {
  const M = x.length / T;
  const s = new Float64Array(x.length), sp = new Uint8Array(x.length), mg = new Float64Array(x.length);
  for (let i = 0; i < M; i++) {
    let v = 0;
    for (let t = 0; t < T; t++) {
      const h = v + (x[t * M + i] - v) / 2;
      mg[t * M + i] = h - vth;
      if (h >= vth) {
        s[t * M + i] = 1;
        sp[t * M + i] = 1;
        v = 0;
      } else v = h;
    }
  }
  out.spikes.set(name, sp);
  out.margins.set(name, mg);
  return s;
}

/** 3×3 stride-2 pad-1 max-pool over [G, H, W] (core-wasm's oracle, float64). */
const maxpool = (x: Float64Array, G: number, H: number, W: number): Float64Array => maxPool3x3s2Ref(x, G, H, W);

/** x [rows, K] · Wᵀ + b → [rows, N]. */
function linear(x: Float64Array, rows: number, K: number, w: ArrayLike<number>, N: number, b: ArrayLike<number> | null): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let s = b ? b[n] : 0;
      for (let k = 0; k < K; k++) s += x[r * K + k] * w[n * K + k];
      y[r * N + n] = s;
    }
  }
  return y;
}

/**
 * The official forward in float64: `input` is [B, C, H, W] (CIFAR, ImageNet) or [B, T, 2, H, W] (DVS).
 * @example const ref = spikformerOracle(sd, config, 'cifar', input, 2);
 */
export function spikformerOracle(sd: SD, config: Partial<SpikformerConfig>, variant: SpikformerVariant, input: ArrayLike<number>, B: number): OracleResult {
  const c = resolveSpikformerConfig(config, variant);
  const g = spikformerGeometry(c, variant);
  const { T, dim: D, heads, headDim: d, hidden: Hm, tokens: N, scale } = g;
  const out: OracleResult = { logits: new Float64Array(0), spikes: new Map(), margins: new Map(), xFeat: new Float64Array(0), patchEmbed: new Float64Array(0), blocks: [], features: new Float64Array(0) };
  const plane = c.in_channels * c.img_size_h * c.img_size_w;
  // x [T, B, C, H, W]: the static image repeated, or the DVS frames permuted
  let x: Float64Array = new Float64Array(T * B * plane);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < plane; i++) x[(t * B + b) * plane + i] = variant === 'dvs' ? input[(b * T + t) * plane + i] : input[b * plane + i];
    }
  }
  let cin = c.in_channels, H = c.img_size_h, W = c.img_size_w;
  for (let i = 0; i < 4; i++) {
    const st = g.stages[i], sfx = i === 0 ? '' : String(i);
    let y = conv3x3(x, T * B, cin, H, W, sd.get(`patch_embed.proj_conv${sfx}.weight`)!.data, st.channels);
    y = bn(y, T * B, st.channels, H * W, sd, `patch_embed.proj_bn${sfx}`);
    x = lif(y, T, 1, `patch_embed.proj_lif${sfx}`, out);
    if (st.pool) {
      x = maxpool(x, T * B * st.channels, H, W);
      H = ((H - 1) >> 1) + 1;
      W = ((W - 1) >> 1) + 1;
    }
    cin = st.channels;
  }
  out.xFeat = x;
  let r = conv3x3(x, T * B, D, H, W, sd.get('patch_embed.rpe_conv.weight')!.data, D);
  r = bn(r, T * B, D, H * W, sd, 'patch_embed.rpe_bn');
  r = lif(r, T, 1, 'patch_embed.rpe_lif', out);
  // tokens [T, B, N, D]
  let X: Float64Array = new Float64Array(T * B * N * D);
  for (let tb = 0; tb < T * B; tb++) for (let ch = 0; ch < D; ch++) for (let n = 0; n < N; n++) X[(tb * N + n) * D + ch] = x[(tb * D + ch) * N + n] + r[(tb * D + ch) * N + n];
  out.patchEmbed = X;
  const rows = T * B * N;
  const kind = variant === 'cifar' ? 'linear' : 'conv';
  for (let j = 0; j < c.depths; j++) {
    const a = `block.${j}.attn`, m = `block.${j}.mlp`;
    const branch = (p: string) => {
      const key = `${a}.${p}_${kind}`;
      let y = linear(X, rows, D, sd.get(`${key}.weight`)!.data, D, sd.get(`${key}.bias`)?.data ?? null);
      y = bn(y, rows, D, 1, sd, `${a}.${p}_bn`);
      return lif(y, T, 1, `${a}.${p}_lif`, out);
    };
    const q = branch('q'), k = branch('k'), v = branch('v');
    const G = T * B;
    const scores = new Float64Array(G * heads * N * N), attnOut = new Float64Array(rows * D);
    for (let gg = 0; gg < G; gg++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < N; i++) {
          for (let jj = 0; jj < N; jj++) {
            let s = 0;
            for (let e = 0; e < d; e++) s += q[(gg * N + i) * D + h * d + e] * k[(gg * N + jj) * D + h * d + e];
            scores[((gg * heads + h) * N + i) * N + jj] = s;
          }
          for (let e = 0; e < d; e++) {
            let s = 0;
            for (let jj = 0; jj < N; jj++) s += scores[((gg * heads + h) * N + i) * N + jj] * v[(gg * N + jj) * D + h * d + e];
            attnOut[(gg * N + i) * D + h * d + e] = s * scale;
          }
        }
      }
    }
    const attnS = lif(attnOut, T, 0.5, `${a}.attn_lif`, out);
    let p = linear(attnS, rows, D, sd.get(`${a}.proj_${kind}.weight`)!.data, D, sd.get(`${a}.proj_${kind}.bias`)!.data);
    p = bn(p, rows, D, 1, sd, `${a}.proj_bn`);
    const attn = lif(p, T, 1, `${a}.proj_lif`, out);
    const X1: Float64Array = X.map((val, i) => val + attn[i]);
    let h1 = linear(X1, rows, D, sd.get(`${m}.fc1_${kind}.weight`)!.data, Hm, sd.get(`${m}.fc1_${kind}.bias`)!.data);
    h1 = bn(h1, rows, Hm, 1, sd, `${m}.fc1_bn`);
    const s1 = lif(h1, T, 1, `${m}.fc1_lif`, out);
    let h2 = linear(s1, rows, Hm, sd.get(`${m}.fc2_${kind}.weight`)!.data, D, sd.get(`${m}.fc2_${kind}.bias`)!.data);
    h2 = bn(h2, rows, D, 1, sd, `${m}.fc2_bn`);
    const mlp = lif(h2, T, 1, `${m}.fc2_lif`, out);
    X = X1.map((val, i) => val + mlp[i]);
    out.blocks.push({ attnOut, scores, attn, mlp, out: X });
  }
  const features = new Float64Array(T * B * D);
  for (let tb = 0; tb < T * B; tb++) for (let n = 0; n < N; n++) for (let ch = 0; ch < D; ch++) features[tb * D + ch] += X[(tb * N + n) * D + ch] / N;
  out.features = features;
  const pooled = new Float64Array(B * D);
  for (let t = 0; t < T; t++) for (let i = 0; i < B * D; i++) pooled[i] += features[t * B * D + i] / T;
  out.logits = linear(pooled, B, D, sd.get('head.weight')!.data, c.num_classes, sd.get('head.bias')!.data);
  return out;
}
