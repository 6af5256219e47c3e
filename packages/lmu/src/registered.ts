// The two other models registered in the official LMUFormer repository (src/lmu_rnn.py):
//
//   slmu_rnn_conv1d = ConvLMU(act_type='spike', patch_embed=Conv1d4EB,   attn=SLMU, mlp=ConvFFN,   with_head_lif=False)
//   attn_ms_conv1d  = ConvLMU(act_type='spike', patch_embed=Conv1d4EBMs, attn=SSA,  mlp=ConvFFNMs, with_head_lif=True)
//
// No fixture and no spec text describes them; the official code is the reference (src/lmu_rnn.py,
// src/blocks/conv1d_embedding.py, src/blocks/lmu.py, src/blocks/lmu_cell.py, src/blocks/mlp.py, src/utilities/util.py).
// Written from a reading of that code, in this package's frame-major layout [B, N, C] (the official [B, C, N]
// transposed). Every LIF is spikingjelly's MultiStepLIFNode(tau=2, detach_reset=True) run along the frames
// (`permute(2,1,0)` puts N first), V_th = 1 except SSA's attn_lif (v_threshold=0.5).
import {
  packDense, linear, channelAffine, add, meanAxis,
  ArgumentError, ShapeError, fmtShape,
  type Arena, type PackedDense, type Tensor,
} from '@spikewasm/core-wasm';
import { LMUMemory, type LMUMode } from './lmu.js';
import { mlpHidden, resolveLMUFormerConfig, LMUFORMER_BLOCK_SEQ_LEN, type LMUFormerConfig } from './config.js';
import { loadCheckpoint, lookupTensor, type LoadCheckpointOptions, type StateDictLike } from './checkpoint.js';
import { cumulativeMean } from './lmuformer.js';
import { FrameLIF, type LifRecord, type SpikingModelOptions } from './spiking.js';
import { affineOf, checkF32, checkFrames, conv3, copyRows, dense, readBatchNorm, rowsView, runConv3, runDense, tagError, type ChannelAffine, type Dense } from './internal.js';

/** Options of {@link SLMUFormerConv1d} and {@link AttnLMUFormer} (as for the other spiking models). */
export type RegisteredModelOptions = SpikingModelOptions;

/** The activations of one forward of {@link SLMUFormerConv1d} or {@link AttnLMUFormer} for one batch size. */
export interface RegisteredModelBuffers {
  readonly batch: number;
  readonly frames: number;
  /** The input in a zero-padded frame buffer [B, N + 2, in_channels]. */
  input: Tensor;
  /** Zero-padded spike frames feeding the tokenizer's k = 3 convs [B, N + 2, E]. */
  padded: Tensor;
  /** Pre-LIF scratch [B, N, max(E, Hm, 2E)] views, one per width. */
  pre: Map<number, Tensor>;
  /** proj_conv3's output x3 [B, N, E] (attn_ms_conv1d; its BN is applied separately because x3 is the residual). */
  x3: Tensor;
  /** rpe_conv's output [B, N, E] (attn_ms_conv1d). */
  rpe: Tensor;
  /** The tokenizer output [B, N, E] (official `patch_embed(x)`, transposed). */
  patchEmbed: Tensor;
  /** Every block's output [B, N, E]. */
  blocks: Tensor[];
  /** Every LIF layer's spikes [B, N, C] by official module name. */
  spikes: Map<string, Tensor>;
  /** With `keepSpikes`: every LIF layer's spikes and charged potential h, by official name. */
  lif: Map<string, LifRecord>;
  /** Block scratch by name. */
  scratch: Map<string, Tensor>;
  /** head applied to every frame [B, N, classes]. */
  headPerToken: Tensor;
  /** 'normal' logits [B, classes]. */
  logits: Tensor;
  /** 'all_seq': cumulative mean of the head input [N, B, E]. */
  cumMean: Tensor;
  /** 'all_seq' logits [N, B, classes]. */
  logitsAllSeq: Tensor;
}

/** What both models share: the input checks, the k = 3 spiking tokenizer, LIF bookkeeping and the head. */
abstract class RegisteredBase {
  readonly config: LMUFormerConfig;
  testMode: 'normal' | 'all_seq';
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN).
   */
  allowNonFinite = false;
  readonly frames = LMUFORMER_BLOCK_SEQ_LEN;
  readonly keepSpikes: boolean;
  protected readonly convs: Dense[];
  protected readonly rpe: Dense;
  protected readonly bn3: ChannelAffine | null;
  protected readonly lifs = new Map<string, FrameLIF>();
  protected readonly head: PackedDense;
  protected readonly headBias: Tensor;
  private readonly workspaces = new Map<number, RegisteredModelBuffers>();

  protected constructor(
    protected readonly arena: Arena, readonly factory: 'slmu_rnn_conv1d' | 'attn_ms_conv1d', config: Partial<LMUFormerConfig>,
    protected readonly sd: StateDictLike, options: RegisteredModelOptions,
  ) {
    const c = resolveLMUFormerConfig(config);
    this.config = c;
    this.testMode = c.test_mode;
    this.keepSpikes = options.keepSpikes ?? false;
    const E = c.embed_dims, Cin = c.in_channels, fold = options.foldBatchNorm ?? true, pe = 'patch_embed';
    const get = (k: string) => lookupTensor(sd, k, factory)!;
    const bn = (p: string) => readBatchNorm(sd, p, factory);
    // Conv1d4EBMs (attn_ms_conv1d): proj_conv3's BN is applied after x3 is kept as the residual; rpe_conv has no BN.
    // Conv1d4EB (slmu_rnn_conv1d): every conv is followed by its BN and LIF, rpe_conv too (rpe_bn, rpe_lif).
    // Note: Conv1d4EB.__init__ calls super().__init__() without arguments, so the official convs are always
    // 128 → 256; this class uses in_channels → embed_dims (identical at the published configuration).
    const eb = factory === 'slmu_rnn_conv1d';
    this.convs = [
      conv3(arena, get(`${pe}.proj_conv.weight`), E, Cin, bn(`${pe}.proj_bn`), fold, `${pe}.proj_conv`),
      conv3(arena, get(`${pe}.proj_conv1.weight`), E, E, bn(`${pe}.proj_bn1`), fold, `${pe}.proj_conv1`),
      conv3(arena, get(`${pe}.proj_conv2.weight`), E, E, bn(`${pe}.proj_bn2`), fold, `${pe}.proj_conv2`),
      conv3(arena, get(`${pe}.proj_conv3.weight`), E, E, eb ? bn(`${pe}.proj_bn3`) : null, fold, `${pe}.proj_conv3`),
    ];
    this.bn3 = eb ? null : affineOf(arena, bn(`${pe}.proj_bn3`), `${pe}.proj_bn3`);
    this.rpe = conv3(arena, get(`${pe}.rpe_conv.weight`), E, E, eb ? bn(`${pe}.rpe_bn`) : null, fold, `${pe}.rpe_conv`);
    for (const n of ['proj_lif', 'proj_lif1', 'proj_lif2', 'proj_lif3', ...(eb ? ['rpe_lif'] : [])]) this.addLif(`${pe}.${n}`, E);
    this.head = packDense(arena, get('head.weight'), c.num_classes, E, 'head.weight');
    this.headBias = arena.from(get('head.bias'), [c.num_classes], 'f32', 'head.bias');
  }

  protected addLif(name: string, C: number, vThreshold = 1): FrameLIF {
    const l = new FrameLIF(this.arena, name, C, vThreshold);
    this.lifs.set(name, l);
    return l;
  }

  /** Runs LIF `name` on x [B, N, C] into its spike buffer (and its h record with keepSpikes); returns the spikes. */
  protected fire(ws: RegisteredModelBuffers, name: string, x: Tensor): Tensor {
    const s = ws.spikes.get(name)!;
    this.lifs.get(name)!.run(x, s, ws.lif.get(name)?.h);
    return s;
  }

  /** Scratch [B, N, C] of width C (shared by every layer of that width; contents valid until the next use). */
  protected pre(ws: RegisteredModelBuffers, C: number): Tensor {
    let t = ws.pre.get(C);
    if (!t) {
      t = this.arena.tensor([ws.batch, ws.frames, C], 'f32', `pre-LIF [${C}]`);
      ws.pre.set(C, t);
    }
    return t;
  }

  /** Block scratch tensors to allocate per batch size: name → channels. */
  protected abstract scratchShapes(): [string, number][];
  /** Block j: x [B, N, E] → out [B, N, E]. */
  protected abstract block(j: number, x: Tensor, out: Tensor, ws: RegisteredModelBuffers): void;
  /** The head's input: the last block's output, or (with head_lif) its spikes. */
  protected abstract headInput(ws: RegisteredModelBuffers, x: Tensor): Tensor;

  /** The activations for batch size B (allocated on first use, then reused by every forward of that size). */
  buffers(batch: number): RegisteredModelBuffers {
    let ws = this.workspaces.get(batch);
    if (ws) return ws;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`${this.factory}: batch size must be a positive integer, got ${batch}`);
    const c = this.config, N = this.frames, E = c.embed_dims, K = c.num_classes;
    const t = (shape: number[], name: string) => this.arena.tensor(shape, 'f32', name);
    ws = {
      batch, frames: N,
      input: t([batch, N + 2, c.in_channels], 'input (padded)'),
      padded: t([batch, N + 2, E], 'tokenizer spikes (padded)'),
      pre: new Map(),
      x3: t([batch, N, E], 'patch_embed.x3'),
      rpe: t([batch, N, E], 'patch_embed.rpe_conv'),
      patchEmbed: t([batch, N, E], 'patch_embed'),
      blocks: Array.from({ length: c.depths }, (_, j) => t([batch, N, E], `block.${j}`)),
      spikes: new Map(),
      lif: new Map(),
      scratch: new Map(),
      headPerToken: t([batch, N, K], 'head_per_token'),
      logits: t([batch, K], 'logits'),
      cumMean: t([N, batch, E], 'cumulative mean'),
      logitsAllSeq: t([N, batch, K], 'logits (all_seq)'),
    };
    for (const [name, l] of this.lifs) {
      const s = t([batch, N, l.channels], `${name}.spikes`);
      ws.spikes.set(name, s);
      if (this.keepSpikes) ws.lif.set(name, { spikes: s, h: t([batch, N, l.channels], `${name}.h`), vThreshold: l.vThreshold });
    }
    for (const [name, C] of this.scratchShapes()) ws.scratch.set(name, t([batch, N, C], name));
    this.workspaces.set(batch, ws);
    return ws;
  }

  /** With `keepSpikes`: every LIF layer's spikes and h of the last forward at this batch size, by official name. */
  lifLayers(batch: number): Map<string, LifRecord> {
    return this.buffers(batch).lif;
  }

  /**
   * Runs the model on x f32 [B, 128, in_channels] (a Tensor, or a Float32Array of B·128·in_channels values). Returns
   * the logits of this batch size's buffers: [B, classes] ('normal') or [128, B, classes] ('all_seq').
   */
  forward(x: Tensor | Float32Array): Tensor {
    const c = this.config, Cin = c.in_channels, N = this.frames, who = this.factory;
    const batch = checkFrames(who, x, N, Cin, this.arena.core, this.allowNonFinite);
    const ws = this.buffers(batch);
    const src = x instanceof Float32Array ? x : x.f32;
    for (let b = 0; b < batch; b++) copyRows(src, b * N * Cin, Cin, ws.input.f32, (b * (N + 2) + 1) * Cin, Cin, N, Cin);
    try {
      this.tokenizer(ws);
      let stream = ws.patchEmbed;
      for (let j = 0; j < c.depths; j++) {
        this.block(j, stream, ws.blocks[j], ws);
        stream = ws.blocks[j];
      }
      const feats = this.headInput(ws, stream);
      if (this.testMode === 'all_seq') {
        cumulativeMean(feats, ws.cumMean);
        linear(ws.cumMean, this.head, ws.logitsAllSeq, { bias: this.headBias });
        return ws.logitsAllSeq;
      }
      linear(feats, this.head, ws.headPerToken, { bias: this.headBias });
      meanAxis(ws.headPerToken, 1, ws.logits);
    } catch (e) {
      throw tagError(who, e);
    }
    return ws.logits;
  }

  private readonly tokViews = new WeakMap<RegisteredModelBuffers, { input: Tensor; padded: Tensor; pre: Tensor; x3: Tensor; rpe: Tensor; pe: Tensor }[]>();

  /** Copies spikes [B, N, E] into the interior rows of the zero-padded frame buffer. */
  private pad(ws: RegisteredModelBuffers, s: Tensor): void {
    const N = ws.frames, E = this.config.embed_dims;
    for (let b = 0; b < ws.batch; b++) copyRows(s.f32, b * N * E, E, ws.padded.f32, (b * (N + 2) + 1) * E, E, N, E);
  }

  private tokenizer(ws: RegisteredModelBuffers): void {
    const N = ws.frames, B = ws.batch, E = this.config.embed_dims, pe = 'patch_embed';
    const pre = this.pre(ws, E);
    let views = this.tokViews.get(ws);
    if (!views) {
      const flat = (x: Tensor) => x.reshape([x.shape[0] * x.shape[1], x.shape[2]]);
      const inp = flat(ws.input), pd = flat(ws.padded), pr = flat(pre), x3 = flat(ws.x3), rpe = flat(ws.rpe), out = flat(ws.patchEmbed);
      views = [];
      for (let b = 0; b < B; b++) {
        views.push({
          input: rowsView(inp, b * (N + 2), N + 2), padded: rowsView(pd, b * (N + 2), N + 2),
          pre: rowsView(pr, b * N, N), x3: rowsView(x3, b * N, N), rpe: rowsView(rpe, b * N, N), pe: rowsView(out, b * N, N),
        });
      }
      this.tokViews.set(ws, views);
    }
    for (const v of views) runConv3(v.input, 0, N, this.convs[0], v.pre);
    this.pad(ws, this.fire(ws, `${pe}.proj_lif`, pre));
    for (let i = 1; i <= 2; i++) {
      for (const v of views) runConv3(v.padded, 0, N, this.convs[i], v.pre);
      this.pad(ws, this.fire(ws, `${pe}.proj_lif${i}`, pre));
    }
    if (this.bn3) {
      // Conv1d4EBMs: x3 = proj_conv3(s);  patch_embed = x3 + rpe_conv(proj_lif3(proj_bn3(x3)))
      for (const v of views) runConv3(v.padded, 0, N, this.convs[3], v.x3);
      channelAffine(ws.x3, this.bn3.scale, this.bn3.shift, pre, 2);
      this.pad(ws, this.fire(ws, `${pe}.proj_lif3`, pre));
      for (const v of views) runConv3(v.padded, 0, N, this.rpe, v.rpe);
      add(ws.x3, ws.rpe, ws.patchEmbed);
    } else {
      // Conv1d4EB: s3 = proj_lif3(proj_bn3(proj_conv3(s)));  patch_embed = s3 + rpe_lif(rpe_bn(rpe_conv(s3)))
      for (const v of views) runConv3(v.padded, 0, N, this.convs[3], v.pre);
      const s3 = this.fire(ws, `${pe}.proj_lif3`, pre);
      this.pad(ws, s3);
      for (const v of views) runConv3(v.padded, 0, N, this.rpe, v.pre);
      add(s3, this.fire(ws, `${pe}.rpe_lif`, pre), ws.patchEmbed);
    }
  }
}

interface SLMUBlockWeights {
  wU: Dense;
  memory: LMUMemory;
  bnM: ChannelAffine;
  wH: Dense;
  proj: Dense;
  fc1: Dense;
  fc2: Dense;
}

/**
 * The official `slmu_rnn_conv1d` (src/lmu_rnn.py), eval mode, frame-major. With LIF(·) along the frames, V_th = 1:
 *
 *     tokenizer (Conv1d4EB):  s = LIF(bn(conv(x))) for proj_conv, proj_conv1, proj_conv2, proj_conv3 (k = 3)
 *                             x = s + LIF(rpe_bn(rpe_conv(s)))                  (a sum of two spike maps)
 *     block j, attn (SLMU):   u = LIF(bn_u(W_u x + b));  m = H ∗ u  (real, order d = 2E, θ = seq_len = 128)
 *                             m_s = LIF(bn_m(m));  h = LIF(bn_h(W_h [m_s ; x] + b))   (x: the real block input)
 *                             x ← x + LIF(proj_bn(proj_conv(h)))
 *              mlp (ConvFFN): x ← x + LIF(fc2_bn(fc2_conv(LIF(fc1_bn(fc1_conv(x))))))
 *     head (no head_lif):     'normal': mean_n head(x_n);  'all_seq': head of the cumulative mean of x
 *
 * Shapes: input f32 [B, 128, in_channels] → [B, classes] or [128, B, classes]. Everything after the tokenizer is causal
 * along frames, so a stream with a 5-frame look-ahead like {@link SpikingLMUFormer.stream} would apply (not
 * implemented). Weights from the official state dict ({@link expectedStateDict}('slmu_rnn_conv1d', config)).
 * @example
 * const model = SLMUFormerConv1d.fromCheckpoint(arena, bytes, scv2Config());
 * model.forward(features);   // [B, 128, 128] → [B, 35]
 */
export class SLMUFormerConv1d extends RegisteredBase {
  /** LMU memory form of every block (default `'fft'`). */
  lmuMode: LMUMode;
  private readonly blocks: SLMUBlockWeights[] = [];

  /** Builds the model from a state dict with the official names (see {@link loadCheckpoint}). */
  constructor(arena: Arena, config: Partial<LMUFormerConfig>, sd: StateDictLike, options: RegisteredModelOptions = {}) {
    super(arena, 'slmu_rnn_conv1d', config, sd, options);
    this.lmuMode = options.lmuMode ?? 'fft';
    const c = this.config, E = c.embed_dims, Hm = mlpHidden(c), d = 2 * E, fold = options.foldBatchNorm ?? true, who = this.factory;
    const get = (k: string) => lookupTensor(sd, k, who)!;
    const bn = (p: string) => readBatchNorm(sd, p, who);
    for (let j = 0; j < c.depths; j++) {
      const a = `block.${j}.attn`, p = `${a}.lmu`, m = `block.${j}.mlp`;
      this.blocks.push({
        wU: dense(arena, get(`${p}.W_u.weight`), get(`${p}.W_u.bias`), 1, E, bn(`${p}.bn_u`), fold, `${p}.W_u`),
        memory: new LMUMemory(arena, {
          order: d, theta: LMUFORMER_BLOCK_SEQ_LEN, seqLen: LMUFORMER_BLOCK_SEQ_LEN, name: p,
          A: lookupTensor(sd, `${p}.A`, who, true), B: lookupTensor(sd, `${p}.B`, who, true), H: lookupTensor(sd, `${p}.H`, who, true),
        }),
        bnM: affineOf(arena, bn(`${p}.bn_m`), `${p}.bn_m`),
        wH: dense(arena, get(`${p}.W_h.weight`), get(`${p}.W_h.bias`), E, d + E, bn(`${p}.bn_h`), fold, `${p}.W_h`),
        proj: dense(arena, get(`${a}.proj_conv.weight`), get(`${a}.proj_conv.bias`), E, E, bn(`${a}.proj_bn`), fold, `${a}.proj_conv`),
        fc1: dense(arena, get(`${m}.fc1_conv.weight`), get(`${m}.fc1_conv.bias`), Hm, E, bn(`${m}.fc1_bn`), fold, `${m}.fc1_conv`),
        fc2: dense(arena, get(`${m}.fc2_conv.weight`), get(`${m}.fc2_conv.bias`), E, Hm, bn(`${m}.fc2_bn`), fold, `${m}.fc2_conv`),
      });
      this.addLif(`${p}.f_u`, 1);
      this.addLif(`${p}.f_m`, d);
      this.addLif(`${p}.f_h`, E);
      this.addLif(`${a}.proj_lif`, E);
      this.addLif(`${m}.fc1_lif`, Hm);
      this.addLif(`${m}.fc2_lif`, E);
    }
  }

  /**
   * Loads and checks a checkpoint (factory `slmu_rnn_conv1d`, see {@link loadCheckpoint}) and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<LMUFormerConfig>,
    options: RegisteredModelOptions & LoadCheckpointOptions = {},
  ): SLMUFormerConv1d {
    return new SLMUFormerConv1d(arena, config, loadCheckpoint(source, 'slmu_rnn_conv1d', config, options), options);
  }

  protected scratchShapes(): [string, number][] {
    const E = this.config.embed_dims, d = 2 * E;
    return [['memory', d], ['cat', d + E], ['x1', E]];
  }

  protected block(j: number, x: Tensor, out: Tensor, ws: RegisteredModelBuffers): void {
    const w = this.blocks[j], B = ws.batch, N = ws.frames, E = this.config.embed_dims, d = 2 * E, Hm = mlpHidden(this.config);
    const a = `block.${j}.attn`, p = `${a}.lmu`, m = `block.${j}.mlp`, sc = (k: string) => ws.scratch.get(k)!;
    try {
      runDense(x, w.wU, this.pre(ws, 1));
      const u = this.fire(ws, `${p}.f_u`, this.pre(ws, 1));
      w.memory.prepare(B, this.lmuMode);
      w.memory.forward(u.reshape([B, N]), sc('memory'), this.lmuMode);
      channelAffine(sc('memory'), w.bnM.scale, w.bnM.shift, this.pre(ws, d), 2);
      const ms = this.fire(ws, `${p}.f_m`, this.pre(ws, d));
      const cat = sc('cat').f32;
      copyRows(ms.f32, 0, d, cat, 0, d + E, B * N, d);
      copyRows(x.f32, 0, E, cat, d, d + E, B * N, E);
      runDense(sc('cat'), w.wH, this.pre(ws, E));
      const h = this.fire(ws, `${p}.f_h`, this.pre(ws, E));
      runDense(h, w.proj, this.pre(ws, E));
      add(x, this.fire(ws, `${a}.proj_lif`, this.pre(ws, E)), sc('x1'));
      runDense(sc('x1'), w.fc1, this.pre(ws, Hm));
      const s1 = this.fire(ws, `${m}.fc1_lif`, this.pre(ws, Hm));
      runDense(s1, w.fc2, this.pre(ws, E));
      add(sc('x1'), this.fire(ws, `${m}.fc2_lif`, this.pre(ws, E)), out);
    } catch (e) {
      throw tagError(`block.${j}`, e);
    }
  }

  protected headInput(_ws: RegisteredModelBuffers, x: Tensor): Tensor {
    return x;
  }
}

interface SSABlockWeights {
  preBn: ChannelAffine;
  q: Dense;
  k: Dense;
  v: Dense;
  proj: Dense;
  fc1Bn: ChannelAffine;
  fc1: Dense;
  fc2: Dense;
}

/** SSA's fixed scale (src/blocks/lmu.py: `self.scale = 0.25`, whatever the head width). */
export const LMUFORMER_SSA_SCALE = 0.25;

/**
 * The official `attn_ms_conv1d` (src/lmu_rnn.py), eval mode, frame-major: the spiking LMUFormer with its LMU token
 * mixer replaced by spiking self-attention over the frames. With LIF(·) along the frames, V_th = 1 unless said:
 *
 *     tokenizer (Conv1d4EBMs, as slmu_rnn_ms_conv1d):  x3 = proj_conv3(…);  x = x3 + rpe_conv(LIF(proj_bn3(x3)))
 *     block j, attn (SSA):  s = LIF(pre_bn(x));  q, k, v = LIF(bn(conv1x1(s)))   (convs without bias)
 *                           per head (H = num_heads, channel c = head·(E/H) + i):
 *                             y_n = 0.25 · Σ_m (q_n · k_m) v_m        over all N frames (not causal)
 *                           x ← x + proj_bn(proj_conv(LIF_{0.5}(y)))      (SSA.proj_lif is defined but unused)
 *              mlp (ConvFFNMs): x ← x + fc2_conv(LIF(fc2_bn(fc1_conv(LIF(fc1_bn(x))))))
 *     head:                  LIF(head_bn(x)), then 'normal' mean_n head(·) or 'all_seq' head of the cumulative mean
 *
 * q, k, v are 0/1, so y is 0.25 times an integer and is exact in float32 (computed as 0.25·q(kᵀv), equal to the
 * official 0.25·(q kᵀ)v because every partial sum is an integer < 2²⁴). The attention runs over all frames, so the
 * model cannot stream: `all_seq` row n is not the output of an n-frame prefix. num_heads matters here.
 * @example AttnLMUFormer.fromCheckpoint(arena, bytes, scv2Config()).forward(features)   // [B, 128, 128] → [B, 35]
 */
export class AttnLMUFormer extends RegisteredBase {
  private readonly blocks: SSABlockWeights[] = [];
  private readonly headBn: ChannelAffine;
  private kv: Float64Array;

  /** Builds the model from a state dict with the official names (see {@link loadCheckpoint}). */
  constructor(arena: Arena, config: Partial<LMUFormerConfig>, sd: StateDictLike, options: Omit<RegisteredModelOptions, 'lmuMode'> = {}) {
    super(arena, 'attn_ms_conv1d', config, sd, options);
    const c = this.config, E = c.embed_dims, Hm = mlpHidden(c), fold = options.foldBatchNorm ?? true, who = this.factory;
    const get = (k: string) => lookupTensor(sd, k, who)!;
    const bn = (p: string) => readBatchNorm(sd, p, who);
    for (let j = 0; j < c.depths; j++) {
      const a = `block.${j}.attn`, m = `block.${j}.mlp`;
      const qkv = (n: string) => dense(arena, get(`${a}.${n}_conv.weight`), null, E, E, bn(`${a}.${n}_bn`), fold, `${a}.${n}_conv`);
      this.blocks.push({
        preBn: affineOf(arena, bn(`${a}.pre_bn`), `${a}.pre_bn`),
        q: qkv('q'), k: qkv('k'), v: qkv('v'),
        proj: dense(arena, get(`${a}.proj_conv.weight`), get(`${a}.proj_conv.bias`), E, E, bn(`${a}.proj_bn`), fold, `${a}.proj_conv`),
        fc1Bn: affineOf(arena, bn(`${m}.fc1_bn`), `${m}.fc1_bn`),
        fc1: dense(arena, get(`${m}.fc1_conv.weight`), get(`${m}.fc1_conv.bias`), Hm, E, bn(`${m}.fc2_bn`), fold, `${m}.fc1_conv`),
        fc2: dense(arena, get(`${m}.fc2_conv.weight`), get(`${m}.fc2_conv.bias`), E, Hm, null, fold, `${m}.fc2_conv`),
      });
      for (const n of ['pre_lif', 'q_lif', 'k_lif', 'v_lif']) this.addLif(`${a}.${n}`, E);
      this.addLif(`${a}.attn_lif`, E, 0.5);
      this.addLif(`${m}.fc1_lif`, E);
      this.addLif(`${m}.fc2_lif`, Hm);
    }
    this.headBn = affineOf(arena, bn('head_bn'), 'head_bn');
    this.addLif('head_lif', E);
    const dh = E / c.num_heads;
    this.kv = new Float64Array(dh * dh);
  }

  /**
   * Loads and checks a checkpoint (factory `attn_ms_conv1d`, see {@link loadCheckpoint}) and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<LMUFormerConfig>,
    options: Omit<RegisteredModelOptions, 'lmuMode'> & LoadCheckpointOptions = {},
  ): AttnLMUFormer {
    return new AttnLMUFormer(arena, config, loadCheckpoint(source, 'attn_ms_conv1d', config, options), options);
  }

  protected scratchShapes(): [string, number][] {
    const E = this.config.embed_dims;
    return [['attn_out', E], ['attn', E], ['x1', E], ['mlp', E]];
  }

  /** y[b, n, h·dh + j] = 0.25 · Σ_i q[b, n, h·dh + i] · (Σ_m k[b, m, h·dh + i] v[b, m, h·dh + j]), frame-major. */
  private attention(q: Float32Array, k: Float32Array, v: Float32Array, y: Float32Array, B: number, N: number): void {
    const E = this.config.embed_dims, H = this.config.num_heads, dh = E / H, kv = this.kv;
    for (let b = 0; b < B; b++) {
      const base = b * N * E;
      for (let h = 0; h < H; h++) {
        const c0 = h * dh;
        kv.fill(0);
        for (let m = 0; m < N; m++) {
          const r = base + m * E + c0;
          for (let i = 0; i < dh; i++) {
            if (k[r + i] === 0) continue;
            const ki = k[r + i];
            for (let j = 0; j < dh; j++) kv[i * dh + j] += ki * v[r + j];
          }
        }
        for (let n = 0; n < N; n++) {
          const r = base + n * E + c0;
          for (let j = 0; j < dh; j++) {
            let acc = 0;
            for (let i = 0; i < dh; i++) acc += q[r + i] * kv[i * dh + j];
            y[r + j] = LMUFORMER_SSA_SCALE * acc;
          }
        }
      }
    }
  }

  protected block(j: number, x: Tensor, out: Tensor, ws: RegisteredModelBuffers): void {
    const w = this.blocks[j], B = ws.batch, N = ws.frames, E = this.config.embed_dims, Hm = mlpHidden(this.config);
    const a = `block.${j}.attn`, m = `block.${j}.mlp`, sc = (k: string) => ws.scratch.get(k)!;
    try {
      channelAffine(x, w.preBn.scale, w.preBn.shift, this.pre(ws, E), 2);
      const s = this.fire(ws, `${a}.pre_lif`, this.pre(ws, E));
      runDense(s, w.q, this.pre(ws, E));
      const q = this.fire(ws, `${a}.q_lif`, this.pre(ws, E));
      runDense(s, w.k, this.pre(ws, E));
      const k = this.fire(ws, `${a}.k_lif`, this.pre(ws, E));
      runDense(s, w.v, this.pre(ws, E));
      const v = this.fire(ws, `${a}.v_lif`, this.pre(ws, E));
      this.attention(q.f32, k.f32, v.f32, sc('attn_out').f32, B, N);
      const ya = this.fire(ws, `${a}.attn_lif`, sc('attn_out'));
      runDense(ya, w.proj, sc('attn'));
      add(x, sc('attn'), sc('x1'));
      channelAffine(sc('x1'), w.fc1Bn.scale, w.fc1Bn.shift, this.pre(ws, E), 2);
      const s1 = this.fire(ws, `${m}.fc1_lif`, this.pre(ws, E));
      runDense(s1, w.fc1, this.pre(ws, Hm));
      const s2 = this.fire(ws, `${m}.fc2_lif`, this.pre(ws, Hm));
      runDense(s2, w.fc2, sc('mlp'));
      add(sc('x1'), sc('mlp'), out);
    } catch (e) {
      throw tagError(`block.${j}`, e);
    }
  }

  protected headInput(ws: RegisteredModelBuffers, x: Tensor): Tensor {
    const E = this.config.embed_dims;
    channelAffine(x, this.headBn.scale, this.headBn.shift, this.pre(ws, E), 2);
    return this.fire(ws, 'head_lif', this.pre(ws, E));
  }
}
