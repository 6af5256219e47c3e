// The Spikformer model (spec spikformer.md §1) on the spiking layers: SPS on channels-last spikes (spike-input 3×3
// convs as one spike GEMM each, word-OR max-pools), the first conv + BN once for the T repeats of a static image,
// bit-packed SSA, spike-input proj / fc2, an f32 residual stream of small integers, token/time means and the head.
// Weights are built once; the activations and LIF membranes of a batch size are allocated on its first forward.
import {
  add, meanAxis, packSpikes, unpackSpikes, parseSafetensors, ArgumentError, ShapeError, fmtShape,
  type Arena, type BatchNormParams, type Tensor,
  checkBatchInput,
} from '@spikewasm/core-wasm';
import {
  Conv2d, Linear, BatchNorm, LIFNode, SpikeTensor, BinaryAttention, repeatSteps,
  type AttentionOrder, type LIFNodeOutputs, type SpikingModule,
} from '@spikewasm/spiking';
import { SpikeConv3x3, orPoolChannelsLast } from './spike-conv.js';
import {
  resolveSpikformerConfig, spikformerGeometry,
  type SpikformerConfig, type SpikformerGeometry, type SpikformerVariant,
} from './config.js';
import { detectSpikformerVariant, loadCheckpoint, type LoadCheckpointOptions, type StateDictEntry, type StateDictLike } from './checkpoint.js';

/** Options of {@link Spikformer} that are not constructor arguments of the official model. */
export interface SpikformerOptions {
  /** The official code base (default `'cifar'`; {@link Spikformer.fromCheckpoint} detects it from the keys). */
  variant?: SpikformerVariant;
  /**
   * Fold every BN into the conv / linear right before it (default true: exact up to float32 rounding, and one pass
   * fewer; the spikes of every fixture are identical either way).
   */
  foldBatchNorm?: boolean;
  /** Association order of Q Kᵀ V (default `'auto'`: Q (Kᵀ V) when N > d); every order gives the same integers. */
  order?: AttentionOrder;
  /**
   * Keep every intermediate of the last forward of each batch size (per-block tensors, the charged potential h of
   * every LIF, the attention scores and Q Kᵀ V), for tests. Default false: blocks share scratch and the residual
   * stream is updated in place.
   */
  keepIntermediates?: boolean;
}

/** The weight layers of the patch splitting (SPS) and relative position embedding. */
export interface SpikformerPatchEmbedLayers {
  /** proj_conv on the analog input (dense, NCHW; BN folded in unless foldBatchNorm is false). */
  projConv: Conv2d;
  /** proj_conv1, proj_conv2, proj_conv3: spike-input convs on channels-last spikes. */
  convs: SpikeConv3x3[];
  /** proj_bn … proj_bn3 when not folded, else null (proj_bn on NCHW, the others channels-last). */
  bns: (BatchNorm | null)[];
  /** Whether an OR max-pool follows each stage's LIF. */
  pools: boolean[];
  rpeConv: SpikeConv3x3;
  rpeBn: BatchNorm | null;
}

/** The weight layers of one encoder block. */
export interface SpikformerBlockLayers {
  /** q/k/v/proj linears (CIFAR `*_linear`, ImageNet/DVS `*_conv` k = 1: the same maths). */
  q: Linear; k: Linear; v: Linear; proj: Linear;
  qBn: BatchNorm | null; kBn: BatchNorm | null; vBn: BatchNorm | null; projBn: BatchNorm | null;
  /** s · Q Kᵀ V on bit-packed rows. */
  attention: BinaryAttention;
  fc1: Linear; fc2: Linear;
  fc1Bn: BatchNorm | null; fc2Bn: BatchNorm | null;
}

/** One SPS stage's outputs for a batch size. */
export interface SpikformerStageBuffers {
  /**
   * The LIF spikes (before the pool), channels-last [T, B, H, W, C] packed along C — official
   * `expected.patch_embed.proj_lif{,1,2,3}.spikes` is [T, B, C, H, W].
   */
  spikes: SpikeTensor;
  /** After the OR max-pool [T, B, ⌊(H−1)/2⌋+1, ⌊(W−1)/2⌋+1, C], or null. */
  pooled: SpikeTensor | null;
  /** h [T, B, H, W, C] with keepIntermediates, else null. */
  h: Tensor | null;
}

/** One block's activations for a batch size (shared by all blocks unless keepIntermediates). */
export interface SpikformerBlockBuffers {
  /** q_lif, k_lif, v_lif spikes, f32 0/1 [T, B, N, D]. */
  q: Tensor; k: Tensor; v: Tensor;
  /** i32 Q Kᵀ per head [T, B, heads, N, N] and Q Kᵀ V [T, B, heads, N, d] (keepIntermediates), else null. */
  scores: Tensor | null; qkV: Tensor | null;
  /** s · Q Kᵀ V merged over heads [T, B, N, D]: official `attn_out`. */
  attnOut: Tensor;
  /** attn_lif spikes [T, B, N, D] (V_th 0.5), packed along D. */
  attnSpikes: SpikeTensor;
  /** proj_lif spikes = SSA(X), f32 0/1 [T, B, N, D]: official `expected.block.i.attn`. */
  attn: Tensor;
  /** X' = X + SSA(X) [T, B, N, D]. */
  x1: Tensor;
  /** fc1_lif spikes [T, B, N, hidden], packed along hidden. */
  fc1Spikes: SpikeTensor;
  /** fc2_lif spikes = MLP(X'), f32 0/1 [T, B, N, D]: official `expected.block.i.mlp`. */
  mlp: Tensor;
  /** The block output X' + MLP(X') [T, B, N, D]: official `expected.block.i`. */
  out: Tensor;
  /** h of q/k/v/attn/proj/fc1/fc2 LIFs with keepIntermediates, else null. */
  qH: Tensor | null; kH: Tensor | null; vH: Tensor | null; attnH: Tensor | null; projH: Tensor | null; fc1H: Tensor | null; fc2H: Tensor | null;
}

/** A LIF layer of a batch size's forward: its node, where its spikes are, and h (keepIntermediates). */
export interface SpikformerLifRecord {
  /** The official module path, e.g. `patch_embed.proj_lif1`, `block.0.attn.attn_lif`. */
  name: string;
  node: LIFNode;
  /**
   * The spikes of the last forward, bits or f32 0/1: [T, B, H, W, C] in SPS (`layout` 'THWC'), [T, B, N, C] in blocks
   * and rpe_lif. Without keepIntermediates the blocks share these tensors: they hold the last block's.
   */
  spikes: SpikeTensor | Tensor;
  /** h, same layout (keepIntermediates), else null. */
  h: Tensor | null;
  /** 'THWC': [T, B, H, W, C] (channels-last SPS maps; the official layout is [T, B, C, H, W]); 'TBNC': tokens. */
  layout: 'THWC' | 'TBNC';
}

/** Every activation of a forward for one batch size. */
export interface SpikformerBuffers {
  readonly batch: number;
  /** The input copy: [B, C, H, W] (static images) or [T, B, C, H, W] (DVS frames, time first). */
  input: Tensor;
  /**
   * proj_conv + proj_bn, NCHW: of a static image computed once for the T steps, [B, D/8, H, W]; of DVS frames
   * [T·B, D/8, H, W].
   */
  firstConv: Tensor;
  /** The same channels-last, the proj_lif input: [B, H, W, D/8] (static) or [T, B, H, W, D/8] (DVS). */
  firstConvNHWC: Tensor;
  stages: SpikformerStageBuffers[];
  /** x_feat: the last pool's output, channels-last [T, B, h, w, D] (binary); official `expected.patch_embed.x_feat` is [T, B, D, h, w]. */
  xFeat: SpikeTensor;
  /** rpe_lif spikes, f32 0/1 in tokens [T, B, N, D] (N = h·w). */
  rpe: Tensor;
  rpeH: Tensor | null;
  /** X0 = x_feat + rpe in tokens [T, B, N, D]: official `expected.patch_embed`. Without keepIntermediates it is the residual stream, overwritten by every block. */
  patchEmbed: Tensor;
  blocks: SpikformerBlockBuffers[];
  /** Mean over tokens [T, B, D]: official `expected.features`. */
  features: Tensor;
  /** Mean over T [B, D], the head input. */
  pooled: Tensor;
  /** [B, num_classes]. */
  logits: Tensor;
  /** The LIF layers in forward order. */
  lifs: SpikformerLifRecord[];
}

/** Milliseconds per stage, accumulated over forwards while {@link Spikformer.stageTimes} is set. */
export interface SpikformerStageTimes {
  /** Spiking patch splitting and the RPE (including the X0 assembly). */
  sps: number;
  /** The SSA branches and their residual adds. */
  ssa: number;
  /** The MLP branches and their residual adds. */
  mlp: number;
  /** Token and time means and the head. */
  head: number;
}

/** Internal per-batch state: buffers, LIF nodes and views made once. */
interface BatchState {
  buffers: SpikformerBuffers;
  module: SpikingModule;
  spsLifs: LIFNode[];
  rpeLif: LIFNode;
  blockLifs: { q: LIFNode; k: LIFNode; v: LIFNode; attn: LIFNode; proj: LIFNode; fc1: LIFNode; fc2: LIFNode }[];
  /**
   * Per stage: the conv output [T·B, H, W, C] (stages 1–3) and its [T, B, H, W, C] view (the LIF input), the im2col
   * scratch of its conv, the f32 spike scratch (C % 32 ≠ 0), and the next conv's input [T·B, H′, W′, C].
   */
  stageViews: { conv: Tensor | null; convSeq: Tensor | null; cols: Tensor | null; floats: Tensor | null; next: SpikeTensor }[];
  rpeCols: Tensor;
  rpeConv: Tensor;
  rpeConvSeq: Tensor;
  /** DVS: the input frames viewed as [T·B, C, H, W] (stage 0 runs on every step). */
  framesTB: Tensor | null;
  /** x_feat viewed as tokens [T, B, N, D]. */
  xFeatTokens: Tensor;
  /** Scratch [T, B, N, D] for linear outputs. */
  pre: Tensor;
  /** Scratch [T, B, N, hidden] for fc1's output. */
  fc1Pre: Tensor;
  /** f32 scratch for LIF spikes that must be packed because the last axis is not a multiple of 32. */
  attnFloats: Tensor | null;
  fc1Floats: Tensor | null;
}

const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);

function group(name: string, children: (SpikingModule | null)[]): SpikingModule {
  const list = children.filter((m): m is SpikingModule => m !== null);
  return { name, children: () => list };
}

/**
 * Spikformer (Zhou et al., ICLR 2023; the official ZK-Zhou/spikformer code in eval mode, spec spikformer.md §1):
 *
 *     SPS:    s_i = LIF(BN(conv3×3(s_{i−1})))  i = 0..3 (widths D/8, D/4, D/2, D), max-pool (OR) after stages 2, 3
 *             (CIFAR) or all four (ImageNet, DVS);  x_feat = last pooled spikes
 *     RPE:    X0 = x_feat + LIF(BN(rpe_conv(x_feat)))                      tokens [T, B, N, D], N = h·w
 *     block:  X' = X + SSA(X),  X_out = X' + MLP(X')
 *             SSA(X) = proj_lif(proj_bn(W_p · attn_lif(s · Q Kᵀ V) + b_p)),  Q = q_lif(q_bn(W_q X + b_q)), K, V alike
 *             MLP(X) = fc2_lif(fc2_bn(W2 · fc1_lif(fc1_bn(W1 X + b1)) + b2)),  hidden int(D · mlp_ratios)
 *     head:   logits = head(mean_T(mean_N(X_L)))
 *
 * Every LIF is spikingjelly's (τ = 2, hard reset, V_th 1; attn_lif V_th 0.5), over T, exact in float32. The first conv
 * + BN of a static image is computed once and its LIF stepped T times ({@link repeatSteps}); every later conv and
 * linear whose input is spikes (SPS convs, rpe_conv, proj, fc2) runs the spike-input kernel; max-pools are ORs on
 * packed words; Q Kᵀ V is exact integers from AND + popcount ({@link BinaryAttention}); the residual stream stays f32
 * (small integers), and q/k/v/fc1, which read it, run dense.
 *
 * Shapes: input f32 [B, in_channels, H, W] (normalised image, e.g. {@link cifarNormalize}), or for the DVS variant
 * [B, T, 2, H, W] event-count frames → logits [B, num_classes]. Weights live in `arena` from construction; the
 * activations and LIF membranes of a batch size are allocated on its first forward ({@link Spikformer.buffers}) and
 * reused: a forward allocates no Wasm memory. Every forward is an independent batch (membranes reset first).
 * @example
 * const model = Spikformer.fromCheckpoint(arena, bytes, spikformerPreset('spikformer-4-384').config);
 * const logits = model.forward(cifarNormalize(rgb));   // [B, 10]
 */
export class Spikformer implements SpikingModule {
  readonly name = 'spikformer';
  readonly variant: SpikformerVariant;
  readonly config: SpikformerConfig;
  readonly geometry: SpikformerGeometry;
  readonly patchEmbed: SpikformerPatchEmbedLayers;
  readonly blocks: SpikformerBlockLayers[];
  readonly head: Linear;
  readonly keepIntermediates: boolean;
  /** Set to an object (e.g. `{ sps: 0, ssa: 0, mlp: 0, head: 0 }`) to accumulate the time of each stage of every forward. */
  stageTimes: SpikformerStageTimes | null = null;
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN).
   */
  allowNonFinite = false;
  private readonly states = new Map<number, BatchState>();
  private inputSample: readonly number[] | undefined;
  private readonly tree: SpikingModule[];

  /**
   * Builds the model from a state dict with the official names (see {@link loadCheckpoint} to load and check one;
   * here missing keys throw a ShapeError naming the first, and extra keys are ignored).
   * @param config the official constructor arguments (missing ones take the variant's published values)
   */
  constructor(private readonly arena: Arena, config: Partial<SpikformerConfig>, sd: StateDictLike, options: SpikformerOptions = {}) {
    this.variant = options.variant ?? 'cifar';
    const c = resolveSpikformerConfig(config, this.variant);
    this.config = c;
    const g = spikformerGeometry(c, this.variant);
    this.geometry = g;
    this.keepIntermediates = options.keepIntermediates === true;
    const fold = options.foldBatchNorm ?? true;
    const get = (key: string): ArrayLike<number> => readTensor(sd, key);
    const bnOf = (p: string): BatchNormParams => ({
      weight: get(`${p}.weight`), bias: get(`${p}.bias`), runningMean: get(`${p}.running_mean`), runningVar: get(`${p}.running_var`),
    });

    const s0 = g.stages[0];
    const p0 = { weight: get('patch_embed.proj_conv.weight'), outChannels: s0.channels, inChannels: s0.inChannels };
    const bn0 = bnOf('patch_embed.proj_bn');
    const projConv = fold ? Conv2d.withBatchNorm(arena, p0, bn0, { name: 'patch_embed.proj_conv' }) : new Conv2d(arena, p0, { name: 'patch_embed.proj_conv' });
    const bns: (BatchNorm | null)[] = [fold ? null : new BatchNorm(arena, bn0, { axis: 1, name: 'patch_embed.proj_bn' })];
    const spikeConv = (key: string, bnKey: string, outChannels: number, inChannels: number): [SpikeConv3x3, BatchNorm | null] => {
      const params = { weight: get(`${key}.weight`), outChannels, inChannels };
      const bn = bnOf(bnKey);
      if (fold) return [SpikeConv3x3.withBatchNorm(arena, params, bn, { name: key }), null];
      return [new SpikeConv3x3(arena, params, { name: key }), new BatchNorm(arena, bn, { axis: -1, name: bnKey })];
    };
    const convs: SpikeConv3x3[] = [];
    for (let i = 1; i < 4; i++) {
      const [cv, bn] = spikeConv(`patch_embed.proj_conv${i}`, `patch_embed.proj_bn${i}`, g.stages[i].channels, g.stages[i].inChannels);
      convs.push(cv);
      bns.push(bn);
    }
    const D = g.dim, Hm = g.hidden;
    const [rpeConv, rpeBn] = spikeConv('patch_embed.rpe_conv', 'patch_embed.rpe_bn', D, D);
    this.patchEmbed = { projConv, convs, bns, pools: g.stages.map((st) => st.pool), rpeConv, rpeBn };

    const kind = this.variant === 'cifar' ? 'linear' : 'conv';
    const dense = (prefix: string, layer: string, bnName: string, out: number, inp: number): [Linear, BatchNorm | null] => {
      const key = `${prefix}.${layer}`;
      const bias = sdHas(sd, `${key}.bias`) ? get(`${key}.bias`) : null;
      const params = { weight: get(`${key}.weight`), bias, outFeatures: out, inFeatures: inp };
      const bn = bnOf(`${prefix}.${bnName}`);
      if (fold) return [Linear.withBatchNorm(arena, params, bn, { name: key }), null];
      return [new Linear(arena, params, { name: key }), new BatchNorm(arena, bn, { axis: -1, name: `${prefix}.${bnName}` })];
    };
    this.blocks = [];
    for (let j = 0; j < c.depths; j++) {
      const a = `block.${j}.attn`, m = `block.${j}.mlp`;
      const [q, qBn] = dense(a, `q_${kind}`, 'q_bn', D, D);
      const [k, kBn] = dense(a, `k_${kind}`, 'k_bn', D, D);
      const [v, vBn] = dense(a, `v_${kind}`, 'v_bn', D, D);
      const [proj, projBn] = dense(a, `proj_${kind}`, 'proj_bn', D, D);
      const [fc1, fc1Bn] = dense(m, `fc1_${kind}`, 'fc1_bn', Hm, D);
      const [fc2, fc2Bn] = dense(m, `fc2_${kind}`, 'fc2_bn', D, Hm);
      const attention = new BinaryAttention(arena, {
        numHeads: g.heads, headDim: g.headDim, tokens: g.tokens, scale: g.scale, order: options.order ?? 'auto', name: `${a}.attention`,
      });
      this.blocks.push({ q, k, v, proj, qBn, kBn, vBn, projBn, attention, fc1, fc2, fc1Bn, fc2Bn });
    }
    this.head = new Linear(arena, { weight: get('head.weight'), bias: get('head.bias'), outFeatures: c.num_classes, inFeatures: D }, { name: 'head' });

    const pe = this.patchEmbed;
    this.tree = [
      group('patch_embed', [pe.projConv, pe.bns[0], ...pe.convs.flatMap((cv, i) => [cv, pe.bns[i + 1]]), pe.rpeConv, pe.rpeBn]),
      ...this.blocks.map((b, j) => group(`block.${j}`, [
        group(`block.${j}.attn`, [b.q, b.qBn, b.k, b.kBn, b.v, b.vBn, b.attention, b.proj, b.projBn]),
        group(`block.${j}.mlp`, [b.fc1, b.fc1Bn, b.fc2, b.fc2Bn]),
      ])),
      this.head,
    ];
  }

  /**
   * Loads a checkpoint (safetensors bytes, a parsed file or a state dict; `module.` prefixes, `num_batches_tracked`,
   * `norm1/norm2/pos_embed/norm` handled as {@link loadCheckpoint} says), checks every key against `config` and the
   * variant (options.variant, else detected from the keys, else `'cifar'`), and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   * @example const model = Spikformer.fromCheckpoint(arena, readFileSync('model.safetensors'), { embed_dims: 384, num_heads: 12, depths: 4 });
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<SpikformerConfig> = {},
    options: SpikformerOptions & LoadCheckpointOptions = {},
  ): Spikformer {
    const parsed = source instanceof Uint8Array ? parseSafetensors(source) : source;
    const variant = options.variant ?? detectSpikformerVariant(parsed) ?? 'cifar';
    const sd = loadCheckpoint(parsed, config, { ...options, variant });
    return new Spikformer(arena, config, sd, { ...options, variant });
  }

  /** The weight layers (patch_embed, blocks with attn/mlp groups, head), then the LIF nodes of every batch size. */
  children(): SpikingModule[] {
    return [...this.tree, ...[...this.states.values()].map((s) => s.module)];
  }

  /** The activations of batch size B (allocated on first use, then reused by every forward of that size). */
  buffers(batch: number): SpikformerBuffers {
    return this.state(batch).buffers;
  }

  private state(batch: number): BatchState {
    const have = this.states.get(batch);
    if (have) return have;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`Spikformer: batch size must be a positive integer, got ${batch}`);
    const s = this.allocate(batch);
    this.states.set(batch, s);
    return s;
  }

  private allocate(B: number): BatchState {
    const a = this.arena, g = this.geometry, c = this.config, keep = this.keepIntermediates;
    const { T, dim: D, hidden: Hm, tokens: N, heads: Hh, headDim: d } = g;
    const f32 = (shape: number[], name: string) => a.tensor(shape, 'f32', name);
    const dvs = this.variant === 'dvs';
    const input = dvs ? f32([T, B, c.in_channels, c.img_size_h, c.img_size_w], 'input') : f32([B, c.in_channels, c.img_size_h, c.img_size_w], 'input');
    const s0 = g.stages[0];
    const G0 = dvs ? T * B : B;
    const firstConv = f32([G0, s0.channels, s0.height, s0.width], 'patch_embed.proj_conv');
    const firstConvNHWC = dvs ? f32([T, B, s0.height, s0.width, s0.channels], 'patch_embed.proj_conv (NHWC)') : f32([B, s0.height, s0.width, s0.channels], 'patch_embed.proj_conv (NHWC)');

    // one conv-output, one im2col and one f32-spike scratch shared by the SPS stages (each is consumed right away)
    const th = g.tokensH, tw = g.tokensW, TB = T * B;
    const colsOf = (h: number, w: number, cin: number) => TB * h * w * 9 * Math.ceil(cin / 32);
    let convMax = TB * N * D, colsMax = colsOf(th, tw, D), floatMax = 1;
    g.stages.forEach((st, i) => {
      if (i > 0) {
        convMax = Math.max(convMax, TB * st.channels * st.height * st.width);
        colsMax = Math.max(colsMax, colsOf(st.height, st.width, st.inChannels));
      }
      if (st.channels % 32 !== 0) floatMax = Math.max(floatMax, TB * st.channels * st.height * st.width);
    });
    const convScratch = f32([convMax], 'patch_embed conv scratch');
    const colsScratch = a.tensor([colsMax], 'i32', 'patch_embed im2col scratch');
    const floatScratch = f32([floatMax], 'patch_embed spike scratch');
    const core = a.core;
    const view = (t: Tensor, shape: number[], dtype: 'f32' | 'bits' = 'f32') => core.view(t.ptr, shape, dtype);

    const spsLifs: LIFNode[] = [];
    const stages: SpikformerStageBuffers[] = [];
    const stageViews: BatchState['stageViews'] = [];
    g.stages.forEach((st, i) => {
      const sfx = i === 0 ? '' : String(i);
      const seq = [T, B, st.height, st.width, st.channels];
      spsLifs.push(new LIFNode(a, [B, st.height, st.width, st.channels], { name: `patch_embed.proj_lif${sfx}` }));
      const spikes = SpikeTensor.alloc(a, seq, `patch_embed.proj_lif${sfx}.spikes`);
      const pooled = st.pool ? SpikeTensor.alloc(a, [T, B, ((st.height - 1) >> 1) + 1, ((st.width - 1) >> 1) + 1, st.channels], `patch_embed.maxpool${sfx}`) : null;
      stages.push({ spikes, pooled, h: keep ? f32(seq, `patch_embed.proj_lif${sfx}.h`) : null });
      const outS = (pooled ?? spikes).shape;
      stageViews.push({
        conv: i > 0 ? view(convScratch, [TB, st.height, st.width, st.channels]) : null,
        convSeq: i > 0 ? view(convScratch, seq) : null,
        cols: i > 0 ? view(colsScratch, [TB * st.height * st.width, 9 * Math.ceil(st.inChannels / 32) * 32], 'bits') : null,
        floats: st.channels % 32 !== 0 ? view(floatScratch, seq) : null,
        next: (pooled ?? spikes).reshape([TB, outS[2], outS[3], outS[4]]),
      });
    });
    const last = stages[3];
    const xFeat = last.pooled ?? last.spikes;
    const rpeLif = new LIFNode(a, [B, N, D], { name: 'patch_embed.rpe_lif' });
    const rpe = f32([T, B, N, D], 'patch_embed.rpe_lif.spikes');
    const patchEmbed = f32([T, B, N, D], 'patch_embed');

    const full = [T, B, N, D];
    const pre = f32(full, 'linear scratch');
    const fc1Pre = f32([T, B, N, Hm], 'fc1 scratch');
    const attnFloats = D % 32 !== 0 ? pre : null; // pre is free between v_lif and proj
    const fc1Floats = Hm % 32 !== 0 ? f32([T, B, N, Hm], 'fc1_lif spike scratch') : null;
    const blockBuffers = (j: number, stream: Tensor | null): SpikformerBlockBuffers => {
      const n = `block.${j}`;
      return {
        q: f32(full, `${n}.attn.q_lif.spikes`), k: f32(full, `${n}.attn.k_lif.spikes`), v: f32(full, `${n}.attn.v_lif.spikes`),
        scores: keep ? a.tensor([T, B, Hh, N, N], 'i32', `${n}.attn.attn_scores`) : null,
        qkV: keep ? a.tensor([T, B, Hh, N, d], 'i32', `${n}.attn.qk_v`) : null,
        attnOut: f32(full, `${n}.attn.attn_out`),
        attnSpikes: SpikeTensor.alloc(a, full, `${n}.attn.attn_lif.spikes`),
        attn: f32(full, `${n}.attn`),
        x1: stream ?? f32(full, `${n}.x1`),
        fc1Spikes: SpikeTensor.alloc(a, [T, B, N, Hm], `${n}.mlp.fc1_lif.spikes`),
        mlp: f32(full, `${n}.mlp`),
        out: stream ?? f32(full, n),
        qH: keep ? f32(full, `${n}.attn.q_lif.h`) : null, kH: keep ? f32(full, `${n}.attn.k_lif.h`) : null,
        vH: keep ? f32(full, `${n}.attn.v_lif.h`) : null, attnH: keep ? f32(full, `${n}.attn.attn_lif.h`) : null,
        projH: keep ? f32(full, `${n}.attn.proj_lif.h`) : null, fc1H: keep ? f32([T, B, N, Hm], `${n}.mlp.fc1_lif.h`) : null,
        fc2H: keep ? f32(full, `${n}.mlp.fc2_lif.h`) : null,
      };
    };
    const blocks: SpikformerBlockBuffers[] = [];
    const shared = keep ? null : blockBuffers(0, patchEmbed);
    for (let j = 0; j < c.depths; j++) blocks.push(shared ?? blockBuffers(j, null));
    const neurons = [B, N, D];
    const blockLifs = blocks.map((_, j) => {
      const n = `block.${j}`;
      return {
        q: new LIFNode(a, neurons, { name: `${n}.attn.q_lif` }),
        k: new LIFNode(a, neurons, { name: `${n}.attn.k_lif` }),
        v: new LIFNode(a, neurons, { name: `${n}.attn.v_lif` }),
        attn: new LIFNode(a, neurons, { name: `${n}.attn.attn_lif`, vThreshold: 0.5 }),
        proj: new LIFNode(a, neurons, { name: `${n}.attn.proj_lif` }),
        fc1: new LIFNode(a, [B, N, Hm], { name: `${n}.mlp.fc1_lif` }),
        fc2: new LIFNode(a, neurons, { name: `${n}.mlp.fc2_lif` }),
      };
    });
    const lifs: SpikformerLifRecord[] = [
      ...spsLifs.map((node, i) => ({ name: node.name, node, spikes: stages[i].spikes, h: stages[i].h, layout: 'THWC' as const })),
      { name: rpeLif.name, node: rpeLif, spikes: rpe, h: keep ? f32([T, B, N, D], 'patch_embed.rpe_lif.h') : null, layout: 'TBNC' },
    ];
    blockLifs.forEach((l, j) => {
      const b = blocks[j];
      lifs.push(
        { name: l.q.name, node: l.q, spikes: b.q, h: b.qH, layout: 'TBNC' }, { name: l.k.name, node: l.k, spikes: b.k, h: b.kH, layout: 'TBNC' },
        { name: l.v.name, node: l.v, spikes: b.v, h: b.vH, layout: 'TBNC' }, { name: l.attn.name, node: l.attn, spikes: b.attnSpikes, h: b.attnH, layout: 'TBNC' },
        { name: l.proj.name, node: l.proj, spikes: b.attn, h: b.projH, layout: 'TBNC' }, { name: l.fc1.name, node: l.fc1, spikes: b.fc1Spikes, h: b.fc1H, layout: 'TBNC' },
        { name: l.fc2.name, node: l.fc2, spikes: b.mlp, h: b.fc2H, layout: 'TBNC' },
      );
    });
    const buffers: SpikformerBuffers = {
      batch: B, input, firstConv, firstConvNHWC, stages, xFeat, rpe, rpeH: lifs[4].h, patchEmbed, blocks,
      features: f32([T, B, D], 'features'), pooled: f32([B, D], 'pooled features'), logits: f32([B, c.num_classes], 'logits'), lifs,
    };
    return {
      buffers,
      module: group(`lif[B=${B}]`, lifs.map((l) => l.node)),
      spsLifs, rpeLif, blockLifs, stageViews,
      rpeCols: view(colsScratch, [TB * th * tw, 9 * Math.ceil(D / 32) * 32], 'bits'),
      rpeConv: view(convScratch, [TB, th, tw, D]), rpeConvSeq: view(convScratch, [T, B, N, D]),
      framesTB: dvs ? input.reshape([T * B, c.in_channels, c.img_size_h, c.img_size_w]) : null,
      xFeatTokens: view(xFeat.bits, [T, B, N, D], 'bits'),
      pre, fc1Pre, attnFloats, fc1Floats,
    };
  }

  /**
   * Runs the model on a batch: x f32 [B, in_channels, H, W] (DVS: [B, T, 2, H, W]) as a Tensor of this model's core
   * or a Float32Array of B whole inputs. Returns the logits tensor [B, num_classes] of this batch size's buffers
   * (overwritten by the next forward of that size); every intermediate stays readable in {@link Spikformer.buffers}.
   * @example const logits = model.forward(cifarNormalize(rgb)).toArray();
   */
  forward(x: Tensor | Float32Array): Tensor {
    const c = this.config, g = this.geometry, dvs = this.variant === 'dvs';
    const sample = this.inputSample ??= dvs ? [g.T, c.in_channels, c.img_size_h, c.img_size_w] : [c.in_channels, c.img_size_h, c.img_size_w];
    const per = prod(sample);
    const batch = checkBatchInput('Spikformer', 'input', x, sample, null, this.arena.core, this.allowNonFinite);
    const st = this.state(batch);
    const ws = st.buffers;
    const src = x instanceof Float32Array ? x : x.f32;
    let image: Tensor;
    if (dvs) {
      // [B, T, C, H, W] → [T, B, C, H, W] (the official x.permute(1, 0, 2, 3, 4))
      const frame = per / g.T, dst = ws.input.f32;
      for (let b = 0; b < batch; b++) for (let t = 0; t < g.T; t++) dst.set(src.subarray((b * g.T + t) * frame, (b * g.T + t + 1) * frame), (t * batch + b) * frame);
      image = ws.input;
    } else if (x instanceof Float32Array) {
      ws.input.f32.set(x);
      image = ws.input;
    } else image = x;
    for (const l of ws.lifs) l.node.reset();
    const times = this.stageTimes;
    let t0 = times ? performance.now() : 0;
    const lap = (k: keyof SpikformerStageTimes) => {
      if (!times) return;
      const t = performance.now();
      times[k] += t - t0;
      t0 = t;
    };
    this.sps(st, image);
    lap('sps');
    let stream = ws.patchEmbed;
    for (let j = 0; j < this.blocks.length; j++) {
      this.ssa(st, j, stream);
      lap('ssa');
      this.mlp(st, j);
      lap('mlp');
      stream = ws.blocks[j].out;
    }
    meanAxis(stream, 2, ws.features);
    meanAxis(ws.features, 0, ws.pooled);
    this.head.forward(ws.pooled, ws.logits);
    lap('head');
    return ws.logits;
  }

  /** A LIF's outputs: bits straight from the kernel when the last axis packs whole words, else f32 then pack. */
  private fire(lif: LIFNode, x: Tensor, spikes: SpikeTensor, floats: Tensor | null, h: Tensor | null): void {
    if (floats === null) lif.forward(x, { spikes, h: h ?? undefined });
    else {
      lif.forward(x, { floats, h: h ?? undefined });
      packSpikes(floats, spikes.bits);
    }
  }

  private sps(st: BatchState, image: Tensor): void {
    const pe = this.patchEmbed, ws = st.buffers, T = this.geometry.T;
    // stage 0 on the analog input: dense conv (+ BN), NCHW → channels-last
    pe.projConv.forward(st.framesTB ?? image, ws.firstConv);
    pe.bns[0]?.forward(ws.firstConv, ws.firstConv);
    toChannelsLast(ws.firstConv, ws.firstConvNHWC);
    for (let i = 0; i < 4; i++) {
      const v = st.stageViews[i], sb = ws.stages[i], lif = st.spsLifs[i];
      if (i === 0 && !st.framesTB) {
        // static image: conv + BN once, then T steps of the LIF on the same input (spikingjelly's repeat(T))
        const out: LIFNodeOutputs = { h: sb.h ?? undefined };
        if (v.floats) out.floats = v.floats;
        else out.spikes = sb.spikes;
        repeatSteps(ws.firstConvNHWC, T, lif, out);
        if (v.floats) packSpikes(v.floats, sb.spikes.bits);
      } else if (i === 0) {
        this.fire(lif, ws.firstConvNHWC, sb.spikes, v.floats, sb.h);
      } else {
        pe.convs[i - 1].forward(st.stageViews[i - 1].next, v.cols!, v.conv!);
        pe.bns[i]?.forward(v.conv!, v.conv!);
        this.fire(lif, v.convSeq!, sb.spikes, v.floats, sb.h);
      }
      if (sb.pooled) orPoolChannelsLast(sb.spikes, sb.pooled);
    }
    // RPE on x_feat; its output rows are already tokens [T, B, N, D]
    pe.rpeConv.forward(st.stageViews[3].next, st.rpeCols, st.rpeConv);
    pe.rpeBn?.forward(st.rpeConv, st.rpeConv);
    st.rpeLif.forward(st.rpeConvSeq, { floats: ws.rpe, h: ws.rpeH ?? undefined });
    // X0 = x_feat + rpe (exact small integers)
    unpackSpikes(st.xFeatTokens, ws.patchEmbed);
    add(ws.patchEmbed, ws.rpe, ws.patchEmbed);
  }

  private ssa(st: BatchState, j: number, x: Tensor): void {
    const L = this.blocks[j], b = st.buffers.blocks[j], lif = st.blockLifs[j], pre = st.pre;
    const branch = (lin: Linear, bn: BatchNorm | null, node: LIFNode, spikes: Tensor, h: Tensor | null) => {
      lin.forward(x, pre);
      bn?.forward(pre, pre);
      node.forward(pre, { floats: spikes, h: h ?? undefined });
    };
    branch(L.q, L.qBn, lif.q, b.q, b.qH);
    branch(L.k, L.kBn, lif.k, b.k, b.kH);
    branch(L.v, L.vBn, lif.v, b.v, b.vH);
    L.attention.forward(b.q, b.k, b.v, b.attnOut, { scores: b.scores ?? undefined, counts: b.qkV ?? undefined });
    this.fire(lif.attn, b.attnOut, b.attnSpikes, st.attnFloats, b.attnH);
    L.proj.forward(b.attnSpikes, pre);
    L.projBn?.forward(pre, pre);
    lif.proj.forward(pre, { floats: b.attn, h: b.projH ?? undefined });
    add(x, b.attn, b.x1);
  }

  private mlp(st: BatchState, j: number): void {
    const L = this.blocks[j], b = st.buffers.blocks[j], lif = st.blockLifs[j];
    L.fc1.forward(b.x1, st.fc1Pre);
    L.fc1Bn?.forward(st.fc1Pre, st.fc1Pre);
    this.fire(lif.fc1, st.fc1Pre, b.fc1Spikes, st.fc1Floats, b.fc1H);
    L.fc2.forward(b.fc1Spikes, st.pre);
    L.fc2Bn?.forward(st.pre, st.pre);
    lif.fc2.forward(st.pre, { floats: b.mlp, h: b.fc2H ?? undefined });
    add(b.x1, b.mlp, b.out);
  }
}

/** x [G, C, H, W] → out [G, H, W, C] (any leading dims of out that multiply to G). */
function toChannelsLast(x: Tensor, out: Tensor): void {
  const [G, C, H, W] = x.shape, P = H * W;
  const src = x.f32, dst = out.f32;
  for (let g = 0; g < G; g++) {
    const base = g * C * P;
    for (let c = 0; c < C; c++) {
      const row = base + c * P;
      for (let p = 0; p < P; p++) dst[base + p * C + c] = src[row + p];
    }
  }
}

function sdHas(sd: StateDictLike, key: string): boolean {
  return sd instanceof Map ? (sd as ReadonlyMap<string, StateDictEntry>).has(key) : Object.prototype.hasOwnProperty.call(sd, key);
}

/** One tensor of a state dict as real numbers; throws a ShapeError naming the key when it is missing or integer. */
function readTensor(sd: StateDictLike, key: string): ArrayLike<number> {
  let e: StateDictEntry | undefined;
  if (sd instanceof Map) e = (sd as ReadonlyMap<string, StateDictEntry>).get(key);
  else if (Object.prototype.hasOwnProperty.call(sd, key)) e = (sd as Record<string, StateDictEntry>)[key];
  if (e === undefined) throw new ShapeError(`Spikformer: state dict lacks ${key} (use Spikformer.fromCheckpoint to check a whole checkpoint)`);
  const data = typeof e === 'object' && e !== null && 'data' in e && 'shape' in e ? e.data : (e as ArrayLike<number>);
  if (data.length > 0 && typeof data[0] === 'bigint') throw new ShapeError(`Spikformer: ${key} holds 64-bit integers, expected real numbers`);
  return data as ArrayLike<number>;
}
