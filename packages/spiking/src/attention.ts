// Spikformer's spiking self attention (shared/spec/spikformer.md §1, §3) on the bit-packed kernels of core-wasm.
// Q, K, V are binary, so Q Kᵀ V is a matrix of non-negative integers that every association order computes exactly:
// the scores are AND + popcount of rows packed over the head dim, and the product with V either adds V rows
// weighted by the counts ((Q Kᵀ) V) or walks Q's set bits over M = Kᵀ V (Q (Kᵀ V), columns packed over tokens).
import {
  packSpikesColumns, packSpikesTransposed, spikeAndPopcount, matmulCountsBits, matmulBitsCounts, countsToF32,
  expectTensor, ArgumentError, ShapeError, fmtShape,
  type Arena, type BatchNormParams, type Tensor,
} from '@spikewasm/core-wasm';
import type { SpikingModule } from './module.js';
import { LIFNode } from './lif-node.js';
import { SpikeTensor } from './spike-tensor.js';
import { BatchNorm, Linear, MeteredLayer, countNonZero, tagError } from './layers.js';

/**
 * Association order of the attention product: `'qk_v'` = (Q Kᵀ) V, `'q_kv'` = Q (Kᵀ V), `'auto'` = the cheaper
 * one for the shape ({@link resolveAttentionOrder}). All give exactly the same integers.
 */
export type AttentionOrder = 'qk_v' | 'q_kv' | 'auto';

/**
 * The order `'auto'` picks: (Q Kᵀ) V costs ~2·N²·d operations per head, Q (Kᵀ V) ~2·N·d², so Q (Kᵀ V) when the
 * token count N exceeds the head dim d (spec §3), else (Q Kᵀ) V.
 * @example resolveAttentionOrder('auto', 196, 64) // 'q_kv'
 */
export function resolveAttentionOrder(order: AttentionOrder, tokens: number, headDim: number): 'qk_v' | 'q_kv' {
  if (order === 'auto') return tokens > headDim ? 'q_kv' : 'qk_v';
  if (order !== 'qk_v' && order !== 'q_kv') throw new ArgumentError(`attention order must be 'qk_v', 'q_kv' or 'auto', got ${String(order)}`);
  return order;
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

/** Options of {@link BinaryAttention}. */
export interface BinaryAttentionOptions {
  numHeads: number;
  /** d, the channels per head (C = numHeads·d). */
  headDim: number;
  /** N, the tokens per sequence. */
  tokens: number;
  /** s, the factor applied to the counts (default 0.125; 0.25 for Spikformer's CIFAR10-DVS code). */
  scale?: number;
  order?: AttentionOrder;
  name?: string;
}

/** Optional integer outputs of {@link BinaryAttention.forward}, for tests. */
export interface AttentionRecord {
  /** i32 [..., heads, N, N]: A = Q Kᵀ per head (computed even in the `q_kv` order when given). */
  scores?: Tensor;
  /** i32 [..., heads, N, d]: Q Kᵀ V per head, before the scale. */
  counts?: Tensor;
}

/**
 * Softmax-free attention of binary Q, K, V, per head h (channels h·d … h·d + d − 1):
 *
 *     out[.., i, h·d + c] = s · Σ_j (Σ_a Q[i, h·d + a]·K[j, h·d + a]) · V[j, h·d + c]
 *
 * computed in exact integers on bit-packed rows (A = popcount(Q_i AND K_j), then (Q Kᵀ) V or Q (Kᵀ V)) and converted
 * to f32 with one multiplication by s (exact for s = 2⁻ᵏ and counts below 2²⁴).
 *
 * Shapes: q, k, v f32 0/1 [..., N, C] (any non-zero counts as a spike; all leading dims are independent sequences,
 * e.g. [T, B]), out f32 [..., N, C], C = heads·d, channel = h·d + c. out must not overlap q, k or v. Scratch for
 * one head is allocated once in the constructor.
 *
 * Cost (while `profiling`): macs += the dense-equivalent MACs of the order computed, per sequence and head
 * 2·N²·d ((Q Kᵀ) V) or 2·N·d² (Q (Kᵀ V)); inputs += the elements of q, k and v; nonZero += their spikes.
 * @example
 * const att = new BinaryAttention(arena, { numHeads: 12, headDim: 32, tokens: 64 });
 * att.forward(q, k, v, out);   // q, k, v, out [T, B, 64, 384]
 */
export class BinaryAttention extends MeteredLayer implements SpikingModule {
  readonly name: string;
  readonly numHeads: number;
  readonly headDim: number;
  readonly tokens: number;
  readonly scale: number;
  /** The order actually computed ('auto' resolved). */
  readonly order: 'qk_v' | 'q_kv';
  private readonly qb: Tensor;
  private readonly kb: Tensor;
  private readonly vb: Tensor;
  private readonly kT: Tensor;
  private readonly vT: Tensor;
  private readonly A: Tensor;
  private readonly M: Tensor;
  private readonly counts: Tensor;
  private readonly countsF: Tensor;
  constructor(arena: Arena, options: BinaryAttentionOptions) {
    super();
    this.name = options.name ?? 'attention';
    const { numHeads: H, headDim: d, tokens: N } = options;
    for (const [k, v] of [['numHeads', H], ['headDim', d], ['tokens', N]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${this.name}: ${k} must be a positive integer, got ${v}`);
    }
    this.numHeads = H;
    this.headDim = d;
    this.tokens = N;
    this.scale = options.scale ?? 0.125;
    if (!Number.isFinite(this.scale)) throw new ArgumentError(`${this.name}: scale must be finite, got ${this.scale}`);
    try {
      this.order = resolveAttentionOrder(options.order ?? 'auto', N, d);
    } catch (e) {
      throw tagError(this.name, e);
    }
    const n = this.name;
    this.qb = arena.tensor([N, d], 'bits', `${n}.Q`);
    this.kb = arena.tensor([N, d], 'bits', `${n}.K`);
    this.vb = arena.tensor([N, d], 'bits', `${n}.V`);
    this.kT = arena.tensor([d, N], 'bits', `${n}.Kᵀ`);
    this.vT = arena.tensor([d, N], 'bits', `${n}.Vᵀ`);
    this.A = arena.tensor([N, N], 'i32', `${n}.scores`);
    this.M = arena.tensor([d, d], 'i32', `${n}.KᵀV`);
    this.counts = arena.tensor([N, d], 'i32', `${n}.counts`);
    this.countsF = arena.tensor([N, d], 'f32', `${n}.scaled`);
  }

  /** out = s · Q Kᵀ V per head (see the class). Returns out. */
  forward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, record: AttentionRecord = {}): Tensor {
    const { numHeads: H, headDim: d, tokens: N } = this;
    const C = H * d;
    try {
      if (q.shape.length < 2) throw new ShapeError(`q expected shape [..., ${N}, ${C}], got ${fmtShape(q.shape)}`);
      const lead = q.shape.slice(0, -2);
      const shape = [...lead, N, C];
      expectTensor(this.name, 'q', q, 'f32', shape);
      expectTensor(this.name, 'k', k, 'f32', shape);
      expectTensor(this.name, 'v', v, 'f32', shape);
      expectTensor(this.name, 'output', out, 'f32', shape);
      if (record.scores) expectTensor(this.name, 'record.scores', record.scores, 'i32', [...lead, H, N, N]);
      if (record.counts) expectTensor(this.name, 'record.counts', record.counts, 'i32', [...lead, H, N, d]);
      const core = q.core;
      const G = prod(lead);
      const qkFirst = this.order === 'qk_v';
      for (let g = 0; g < G; g++) {
        const off = g * N * C * 4;
        const Q = core.view(q.ptr + off, [N, C]), K = core.view(k.ptr + off, [N, C]), V = core.view(v.ptr + off, [N, C]);
        for (let h = 0; h < H; h++) {
          packSpikesColumns(Q, h * d, d, this.qb);
          if (qkFirst || record.scores) {
            packSpikesColumns(K, h * d, d, this.kb);
            spikeAndPopcount(this.qb, this.kb, this.A);
          }
          if (qkFirst) {
            packSpikesColumns(V, h * d, d, this.vb);
            matmulCountsBits(this.A, this.vb, this.counts);
          } else {
            packSpikesTransposed(K, h * d, d, this.kT);
            packSpikesTransposed(V, h * d, d, this.vT);
            spikeAndPopcount(this.kT, this.vT, this.M);
            matmulBitsCounts(this.qb, this.M, this.counts);
          }
          const gh = g * H + h;
          if (record.scores) (record.scores.data as Int32Array).set(this.A.data as Int32Array, gh * N * N);
          if (record.counts) (record.counts.data as Int32Array).set(this.counts.data as Int32Array, gh * N * d);
          countsToF32(this.counts, this.scale, this.countsF);
          const src = this.countsF.f32, dst = out.f32;
          for (let i = 0; i < N; i++) {
            const o = g * N * C + i * C + h * d;
            for (let c = 0; c < d; c++) dst[o + c] = src[i * d + c];
          }
        }
      }
      if (this.profiling) this.addCost(G * H * 2 * N * d * (qkFirst ? N : d), 3 * q.size, countNonZero(q) + countNonZero(k) + countNonZero(v), false);
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }
}

/**
 * Float reference of {@link BinaryAttention} for tests, plain float64 loops over 0/1 floats in the (Q Kᵀ) V order:
 * scores = Q Kᵀ, qkV = scores · V per head, out = s · qkV merged back to [..., N, C].
 *
 * Shapes: q, k, v [G, N, C] flattened (G = product of the leading dims), C = heads·d. Returns scores [G, heads, N, N],
 * qkV [G, heads, N, d] and out [G, N, C].
 * @example const ref = attentionReference(qf, kf, vf, T * B, 64, 12, 32, 0.125);
 */
export function attentionReference(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  G: number, N: number, heads: number, d: number, scale = 0.125,
): { scores: Float64Array; qkV: Float64Array; out: Float64Array } {
  const C = heads * d;
  const scores = new Float64Array(G * heads * N * N);
  const qkV = new Float64Array(G * heads * N * d);
  const out = new Float64Array(G * N * C);
  for (let g = 0; g < G; g++) {
    for (let h = 0; h < heads; h++) {
      const gh = g * heads + h;
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let a = 0; a < d; a++) s += (q[(g * N + i) * C + h * d + a] !== 0 ? 1 : 0) * (k[(g * N + j) * C + h * d + a] !== 0 ? 1 : 0);
          scores[(gh * N + i) * N + j] = s;
        }
        for (let c = 0; c < d; c++) {
          let s = 0;
          for (let j = 0; j < N; j++) s += scores[(gh * N + i) * N + j] * (v[(g * N + j) * C + h * d + c] !== 0 ? 1 : 0);
          qkV[(gh * N + i) * d + c] = s;
          out[(g * N + i) * C + h * d + c] = s * scale;
        }
      }
    }
  }
  return { scores, qkV, out };
}

// ---------------------------------------------------------------- SpikingSelfAttention

/**
 * One entry of a state dict: a bare array (its length is checked) or a tensor with a shape (e.g. a `LoadedTensor`
 * of `parseSafetensors`; its shape is checked).
 */
export type StateDictEntry = ArrayLike<number> | { readonly data: ArrayLike<number> | ArrayLike<bigint>; readonly shape: readonly number[] };

/** A state dict: a Map (as `parseSafetensors(...).tensors`) or a plain object, keyed by PyTorch names. */
export type StateDict = ReadonlyMap<string, StateDictEntry> | Readonly<Record<string, StateDictEntry>>;

/** Configuration of {@link SpikingSelfAttention}. */
export interface SpikingSelfAttentionConfig {
  /** D, the embedding width (official `dim`). */
  dim: number;
  /** Heads (official `num_heads`); D must be a multiple. */
  numHeads: number;
  /** Time steps per forward: the scratch holds this many; a forward may take fewer (streaming chunks). */
  T: number;
  /** B, the batch size (the LIF membranes are [B, N, D]). */
  batch: number;
  /** N, the tokens per image (64 for CIFAR, 196 for ImageNet). */
  tokens: number;
  /** s (default 0.125; the CIFAR10-DVS code uses 0.25). */
  scale?: number;
  /** Association order (default 'auto'). */
  order?: AttentionOrder;
  /**
   * 'linear': CIFAR `{q,k,v,proj}_linear.{weight [D, D], bias}`; 'conv1d': ImageNet / DVS `{q,k,v}_conv.weight
   * [D, D, 1]` without bias and `proj_conv.{weight [D, D, 1], bias}` (a k = 1 conv over tokens is a Linear over
   * channels: same maths). Default: 'conv1d' if `q_conv.weight` is present, else 'linear'.
   */
  kind?: 'linear' | 'conv1d';
  /** Fold each BN into its weight layer (default false: separate {@link BatchNorm}s, as the official code). */
  foldBatchNorm?: boolean;
  /** Allocate and fill {@link SpikingSelfAttention.intermediates} on every forward (for tests). */
  keepIntermediates?: boolean;
  /** Name prefix of the module and its children (default `attn`). */
  name?: string;
}

/** What {@link SpikingSelfAttention} records with `keepIntermediates` (the first T′ steps of the last forward). */
export interface SsaIntermediates {
  /** f32 0/1 [T, B, N, D]: q_lif, k_lif, v_lif spikes. */
  q: Tensor; k: Tensor; v: Tensor;
  /** f32 [T, B, N, D]: the charged potentials h of q_lif, k_lif, v_lif (margin = h − 1). */
  qH: Tensor; kH: Tensor; vH: Tensor;
  /** i32 [T, B, heads, N, N]: Q Kᵀ. */
  attnScores: Tensor;
  /** i32 [T, B, heads, N, d]: Q Kᵀ V. */
  qkV: Tensor;
  /** f32 [T, B, N, D]: s · Q Kᵀ V merged over heads, the attn_lif input. */
  attnOut: Tensor;
  /** f32 0/1 [T, B, N, D] and h [T, B, N, D] of attn_lif (margin = h − 0.5). */
  attnSpikes: Tensor; attnH: Tensor;
  /** f32 [T, B, N, D]: h of proj_lif (margin = h − 1). */
  projH: Tensor;
}

/** The keys an SSA of this kind reads (without prefix), with their expected shapes; `optional` keys may be absent. */
function ssaKeys(kind: 'linear' | 'conv1d', D: number): { key: string; shape: number[]; optional?: boolean }[] {
  const keys: { key: string; shape: number[]; optional?: boolean }[] = [];
  for (const p of ['q', 'k', 'v', 'proj']) {
    if (kind === 'linear') {
      keys.push({ key: `${p}_linear.weight`, shape: [D, D] }, { key: `${p}_linear.bias`, shape: [D] });
    } else {
      keys.push({ key: `${p}_conv.weight`, shape: [D, D, 1] }, { key: `${p}_conv.bias`, shape: [D], optional: p !== 'proj' });
    }
    for (const b of ['weight', 'bias', 'running_mean', 'running_var']) keys.push({ key: `${p}_bn.${b}`, shape: [D] });
  }
  return keys;
}

function lookup(sd: StateDict, key: string): StateDictEntry | undefined {
  if (sd instanceof Map) return sd.get(key);
  const r = sd as Readonly<Record<string, StateDictEntry>>;
  return Object.prototype.hasOwnProperty.call(r, key) ? r[key] : undefined;
}

/** Reads and checks every key; throws one ArgumentError listing all problems. Returns the arrays, unprefixed. */
function readSsaWeights(name: string, sd: StateDict, prefix: string, kind: 'linear' | 'conv1d', D: number): Record<string, ArrayLike<number>> {
  const missing: string[] = [];
  const bad: string[] = [];
  const out: Record<string, ArrayLike<number>> = {};
  for (const { key, shape, optional } of ssaKeys(kind, D)) {
    const full = prefix + key;
    const e = lookup(sd, full);
    if (e === undefined || e === null) {
      if (!optional) missing.push(full);
      continue;
    }
    const tensorLike = typeof e === 'object' && 'data' in e && 'shape' in e;
    const data = tensorLike ? (e as { data: ArrayLike<number> | ArrayLike<bigint> }).data : (e as ArrayLike<number>);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length > 0 && typeof data[0] === 'bigint') {
      bad.push(`${full}: expected real numbers, got 64-bit integers`);
      continue;
    }
    if (tensorLike) {
      const s = (e as { shape: readonly number[] }).shape;
      if (s.length !== shape.length || s.some((x, i) => x !== shape[i])) {
        bad.push(`${full}: expected shape ${fmtShape(shape)}, got ${fmtShape(s)}`);
        continue;
      }
    }
    if (data.length !== n) {
      bad.push(`${full}: expected ${fmtShape(shape)} = ${n} values, got ${data.length}`);
      continue;
    }
    out[key] = data as ArrayLike<number>;
  }
  if (missing.length || bad.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.join(', ')}`);
    if (bad.length) parts.push(`mis-shaped ${bad.join('; ')}`);
    const where = prefix ? ` (prefix "${prefix}")` : '';
    throw new ArgumentError(`${name}: state dict${where} does not fit a ${kind} SSA with dim ${D}: ${parts.join('; ')}`);
  }
  return out;
}

/**
 * Spikformer's Spiking Self Attention (official `SSA`, eval mode; spec spikformer.md §1, §3), softmax-free:
 *
 *     Q = q_lif(q_bn(W_q X + b_q)),  K = k_lif(…),  V = v_lif(…)          (binary, LIF over T, V_th 1)
 *     S = attn_lif(s · Q Kᵀ V)   per head, V_th 0.5                         (exact integers × s; ties fire)
 *     SSA(X) = proj_lif(proj_bn(W_p S + b_p))                              (spike-input linear)
 *
 * Shapes: x f32 [T′, B, N, D] (the residual stream: small integers, never packed), T′ ≤ config.T; output a
 * {@link SpikeTensor} [T′, B, N, D], channel = h·d + c. The q/k/v linears take the dense kernel, proj the
 * spike-input kernel; the attention runs on bit-packed rows ({@link BinaryAttention}) in the configured order, and
 * every order gives the same integers, so the output does not depend on it.
 *
 * State: the five {@link LIFNode}s (q_lif, k_lif, v_lif, attn_lif, proj_lif) are children; their membranes persist
 * across forwards (a long sequence may be fed in chunks of steps) until `resetNet(ssa)`, which must be called between
 * independent inputs. All scratch is allocated in the constructor; forward allocates no Wasm memory.
 * @example
 * const ssa = SpikingSelfAttention.fromStateDict(arena, file.tensors, 'block.0.attn.', { dim: 384, numHeads: 12, T: 4, batch: 1, tokens: 64 });
 * resetNet(ssa);
 * ssa.forward(x, spikes);   // x f32 [4, 1, 64, 384] → spikes [4, 1, 64, 384]
 */
export class SpikingSelfAttention implements SpikingModule {
  readonly name: string;
  readonly dim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly T: number;
  readonly batch: number;
  readonly tokens: number;
  readonly kind: 'linear' | 'conv1d';
  readonly qLinear: Linear; readonly kLinear: Linear; readonly vLinear: Linear; readonly projLinear: Linear;
  /** The BNs, or null when folded into the linears. */
  readonly qBn: BatchNorm | null; readonly kBn: BatchNorm | null; readonly vBn: BatchNorm | null; readonly projBn: BatchNorm | null;
  readonly qLif: LIFNode; readonly kLif: LIFNode; readonly vLif: LIFNode; readonly attnLif: LIFNode; readonly projLif: LIFNode;
  readonly attention: BinaryAttention;
  /** Filled by every forward when `keepIntermediates` was set, else null. */
  readonly intermediates: SsaIntermediates | null;

  private readonly pre: Tensor;
  private readonly qS: Tensor;
  private readonly kS: Tensor;
  private readonly vS: Tensor;
  private readonly attnOut: Tensor;
  private readonly attnS: Tensor | null;
  private readonly attnBits: SpikeTensor;
  private readonly projS: Tensor | null;
  private viewCache: { T: number; v: Record<string, Tensor | SpikeTensor | undefined> } | null = null;

  /**
   * Builds the module from unprefixed official keys (`q_linear.weight`, `q_bn.running_mean`, …, or the `_conv`
   * names); every missing or mis-shaped key is reported in one ArgumentError.
   */
  constructor(arena: Arena, weights: StateDict, config: SpikingSelfAttentionConfig) {
    this.name = config.name ?? 'attn';
    const { dim: D, numHeads: H, T, batch: B, tokens: N } = config;
    for (const [k, v] of [['dim', D], ['numHeads', H], ['T', T], ['batch', B], ['tokens', N]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${this.name}: ${k} must be a positive integer, got ${v}`);
    }
    if (D % H !== 0) throw new ArgumentError(`${this.name}: dim ${D} is not a multiple of numHeads ${H}`);
    this.dim = D;
    this.numHeads = H;
    this.headDim = D / H;
    this.T = T;
    this.batch = B;
    this.tokens = N;
    this.kind = config.kind ?? (lookup(weights, 'q_conv.weight') !== undefined ? 'conv1d' : 'linear');
    if (this.kind !== 'linear' && this.kind !== 'conv1d') throw new ArgumentError(`${this.name}: kind must be 'linear' or 'conv1d', got ${String(this.kind)}`);
    const w = readSsaWeights(this.name, weights, '', this.kind, D);
    const n = this.name;
    const layer = this.kind === 'linear' ? 'linear' : 'conv';
    const fold = config.foldBatchNorm === true;
    const bnParams = (p: string): BatchNormParams => ({
      weight: w[`${p}_bn.weight`], bias: w[`${p}_bn.bias`], runningMean: w[`${p}_bn.running_mean`], runningVar: w[`${p}_bn.running_var`],
    });
    const lin = (p: string): Linear => {
      const params = { weight: w[`${p}_${layer}.weight`], bias: w[`${p}_${layer}.bias`] ?? null, outFeatures: D, inFeatures: D };
      const opts = { name: `${n}.${p}_${layer}` };
      return fold ? Linear.withBatchNorm(arena, params, bnParams(p), opts) : new Linear(arena, params, opts);
    };
    const bn = (p: string): BatchNorm | null => (fold ? null : new BatchNorm(arena, bnParams(p), { axis: -1, name: `${n}.${p}_bn` }));
    const neurons = [B, N, D];
    this.qLinear = lin('q'); this.qBn = bn('q'); this.qLif = new LIFNode(arena, neurons, { name: `${n}.q_lif` });
    this.kLinear = lin('k'); this.kBn = bn('k'); this.kLif = new LIFNode(arena, neurons, { name: `${n}.k_lif` });
    this.vLinear = lin('v'); this.vBn = bn('v'); this.vLif = new LIFNode(arena, neurons, { name: `${n}.v_lif` });
    this.attention = new BinaryAttention(arena, {
      numHeads: H, headDim: this.headDim, tokens: N, scale: config.scale ?? 0.125, order: config.order ?? 'auto', name: `${n}.attention`,
    });
    this.attnLif = new LIFNode(arena, neurons, { name: `${n}.attn_lif`, vThreshold: 0.5 });
    this.projLinear = lin('proj'); this.projBn = bn('proj'); this.projLif = new LIFNode(arena, neurons, { name: `${n}.proj_lif` });

    const full = [T, B, N, D];
    const keep = config.keepIntermediates === true;
    // the LIF kernel packs bits per step over the flattened [B, N, D]: that is the row packing only when 32 | D
    const direct = D % 32 === 0;
    this.pre = arena.tensor(full, 'f32', `${n}.pre`);
    this.qS = arena.tensor(full, 'f32', `${n}.q`);
    this.kS = arena.tensor(full, 'f32', `${n}.k`);
    this.vS = arena.tensor(full, 'f32', `${n}.v`);
    this.attnOut = arena.tensor(full, 'f32', `${n}.attn_out`);
    this.attnS = !direct || keep ? arena.tensor(full, 'f32', `${n}.attn_spikes`) : null;
    this.attnBits = SpikeTensor.alloc(arena, full, `${n}.attn_bits`);
    this.projS = !direct ? arena.tensor(full, 'f32', `${n}.proj_spikes`) : null;
    this.intermediates = keep
      ? {
          q: this.qS, k: this.kS, v: this.vS,
          qH: arena.tensor(full, 'f32', `${n}.q_lif.h`), kH: arena.tensor(full, 'f32', `${n}.k_lif.h`), vH: arena.tensor(full, 'f32', `${n}.v_lif.h`),
          attnScores: arena.tensor([T, B, H, N, N], 'i32', `${n}.attn_scores`),
          qkV: arena.tensor([T, B, H, N, this.headDim], 'i32', `${n}.qk_v`),
          attnOut: this.attnOut, attnSpikes: this.attnS!, attnH: arena.tensor(full, 'f32', `${n}.attn_lif.h`),
          projH: arena.tensor(full, 'f32', `${n}.proj_lif.h`),
        }
      : null;
  }

  /**
   * Builds the module from a (full-model) state dict: the keys `${prefix}q_linear.weight` … are read (e.g. prefix
   * `block.0.attn.`; `''` for the kernel_ssa fixture); `num_batches_tracked` and unrelated keys are ignored. Every
   * missing, mis-shaped or integer-typed key is reported in one ArgumentError.
   * @example SpikingSelfAttention.fromStateDict(arena, file.tensors, 'block.0.attn.', { dim: 384, numHeads: 12, T: 4, batch: 1, tokens: 64 })
   */
  static fromStateDict(arena: Arena, tensors: StateDict, prefix: string, config: SpikingSelfAttentionConfig): SpikingSelfAttention {
    const name = config.name ?? 'attn';
    const kind = config.kind ?? (lookup(tensors, `${prefix}q_conv.weight`) !== undefined ? 'conv1d' : 'linear');
    if (!Number.isSafeInteger(config.dim) || config.dim < 1) throw new ArgumentError(`${name}: dim must be a positive integer, got ${config.dim}`);
    const w = readSsaWeights(name, tensors, prefix, kind, config.dim);
    return new SpikingSelfAttention(arena, w, { ...config, kind });
  }

  /** Forward order: q, k, v branches (linear, BN, LIF), the attention product, attn_lif, then proj. */
  children(): SpikingModule[] {
    const c: (SpikingModule | null)[] = [
      this.qLinear, this.qBn, this.qLif, this.kLinear, this.kBn, this.kLif, this.vLinear, this.vBn, this.vLif,
      this.attention, this.attnLif, this.projLinear, this.projBn, this.projLif,
    ];
    return c.filter((m): m is SpikingModule => m !== null);
  }

  /** Views of the scratch for T′ steps (cached for the last T′). */
  private views(Tp: number): Record<string, Tensor | SpikeTensor | undefined> {
    if (this.viewCache?.T === Tp) return this.viewCache.v;
    const cut = <X extends Tensor | null | undefined>(t: X): Tensor | undefined =>
      t ? (Tp === this.T ? t : t.core.view(t.ptr, [Tp, ...t.shape.slice(1)], t.dtype, t.name)) : undefined;
    const im = this.intermediates;
    const v = {
      pre: cut(this.pre), q: cut(this.qS), k: cut(this.kS), v: cut(this.vS), attnOut: cut(this.attnOut),
      attnS: cut(this.attnS), projS: cut(this.projS), attnBits: new SpikeTensor(cut(this.attnBits.bits)!),
      qH: cut(im?.qH), kH: cut(im?.kH), vH: cut(im?.vH), attnH: cut(im?.attnH), projH: cut(im?.projH),
      scores: cut(im?.attnScores), counts: cut(im?.qkV),
    };
    this.viewCache = { T: Tp, v };
    return v;
  }

  /**
   * SSA(x): x f32 [T′, B, N, D] (1 ≤ T′ ≤ config.T) → out SpikeTensor [T′, B, N, D]. Continues from the current
   * LIF membranes (call resetNet between independent inputs). Returns out.
   */
  forward(x: Tensor, out: SpikeTensor): SpikeTensor {
    const { batch: B, tokens: N, dim: D } = this;
    const Tp = x.shape[0];
    if (x.shape.length !== 4 || x.shape[1] !== B || x.shape[2] !== N || x.shape[3] !== D || !(Tp >= 1 && Tp <= this.T)) {
      throw new ShapeError(`${this.name}: input expected shape [T′ ≤ ${this.T}, ${B}, ${N}, ${D}], got ${fmtShape(x.shape)}`);
    }
    if (x.dtype !== 'f32') throw new ShapeError(`${this.name}: input must be f32 (the residual stream), got ${x.dtype}`);
    if (out.shape.length !== 4 || out.shape.some((d, i) => d !== x.shape[i])) {
      throw new ShapeError(`${this.name}: output expected shape ${fmtShape(x.shape)}, got ${fmtShape(out.shape)}`);
    }
    const v = this.views(Tp) as {
      pre: Tensor; q: Tensor; k: Tensor; v: Tensor; attnOut: Tensor; attnS?: Tensor; projS?: Tensor; attnBits: SpikeTensor;
      qH?: Tensor; kH?: Tensor; vH?: Tensor; attnH?: Tensor; projH?: Tensor; scores?: Tensor; counts?: Tensor;
    };
    const branch = (lin: Linear, bn: BatchNorm | null, lif: LIFNode, spikes: Tensor, h: Tensor | undefined) => {
      lin.forward(x, v.pre);
      if (bn) bn.forward(v.pre, v.pre);
      lif.forward(v.pre, { floats: spikes, h });
    };
    branch(this.qLinear, this.qBn, this.qLif, v.q, v.qH);
    branch(this.kLinear, this.kBn, this.kLif, v.k, v.kH);
    branch(this.vLinear, this.vBn, this.vLif, v.v, v.vH);
    this.attention.forward(v.q, v.k, v.v, v.attnOut, { scores: v.scores, counts: v.counts });
    if (this.projS === null) {
      this.attnLif.forward(v.attnOut, { spikes: v.attnBits, floats: v.attnS, h: v.attnH });
    } else {
      this.attnLif.forward(v.attnOut, { floats: v.attnS, h: v.attnH });
      v.attnBits.pack(v.attnS!);
    }
    this.projLinear.forward(v.attnBits, v.pre);
    if (this.projBn) this.projBn.forward(v.pre, v.pre);
    if (this.projS === null) this.projLif.forward(v.pre, { spikes: out, h: v.projH });
    else {
      this.projLif.forward(v.pre, { floats: v.projS, h: v.projH });
      out.pack(v.projS!);
    }
    return out;
  }
}
