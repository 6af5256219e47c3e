// The spiking LMUFormer (`slmu_rnn_ms_conv1d`, shared/spec/lmuformer.md §3) and the psMNIST notebook's spiking model
// (`psmnist_slmu`, §5), frame-major [B, N, C]. Every LIF runs along the frames (one frame = one SNN step) with
// spikingjelly's MultiStepLIFNode semantics (shared/spec/lif.md), via @spikewasm/spiking's LIFNode.
import {
  packDense, linear, channelAffine, add, meanAxis,
  ArgumentError, ShapeError, fmtShape,
  type Arena, type PackedDense, type Tensor,
  checkBatchInput,
} from '@spikewasm/core-wasm';
import { LIFNode } from '@spikewasm/spiking';
import { LMUMemory, type LMUMode } from './lmu.js';
import { mlpHidden, psmnistConfig, resolveLMUFormerConfig, LMUFORMER_BLOCK_SEQ_LEN, type LMUFormerConfig, type PsMnistConfig } from './config.js';
import { loadCheckpoint, lookupTensor, type LoadCheckpointOptions, type StateDictLike } from './checkpoint.js';
import { cumulativeMean } from './lmuformer.js';
import { SpikingLMUFormerStream, type SpikingLMUFormerStreamOptions } from './stream.js';
import { PsMnistSLMUStream, type PsMnistStreamOptions } from './psmnist-stream.js';
import { affineOf, streamOptions, checkF32, checkFrames, PSMNIST_AXES, conv3, copyRows, dense, readBatchNorm, rowsView, runConv3, runDense, tagError, type ChannelAffine, type Dense } from './internal.js';

/**
 * A LIF layer over the frames of frame-major sequences: x f32 [B, N, C] → spikes f32 0/1 [B, N, C] (or into the
 * interior rows 1..N of a zero-padded frame buffer [B, N + 2, C]), and optionally the charged potential h [B, N, C]
 * (margin = h − V_th). Each sequence starts from v = 0 (the official forward resets every input). One
 * {@link LIFNode} of C neurons runs each sequence's N steps in its kernel. Row views are cached per tensor.
 * @example
 * const lif = new FrameLIF(arena, 'block.0.attn.prev_lif', 256, 0.5);
 * lif.run(x, spikes);   // [B, 128, 256] → [B, 128, 256]
 */
export class FrameLIF {
  readonly node: LIFNode;
  private readonly views = new WeakMap<Tensor, Tensor[]>();

  constructor(arena: Arena, readonly name: string, readonly channels: number, readonly vThreshold = 1) {
    this.node = new LIFNode(arena, [channels], { name, vThreshold, stepMode: 'm' });
  }

  private rows(t: Tensor, batch: number, N: number, pad: number): Tensor[] {
    let v = this.views.get(t);
    if (!v || v.length !== batch) {
      const flat = t.reshape([t.shape[0] * t.shape[1], t.shape[2]]);
      v = [];
      for (let b = 0; b < batch; b++) v.push(rowsView(flat, b * (N + 2 * pad) + pad, N, `${this.name} rows`));
      this.views.set(t, v);
    }
    return v;
  }

  /** Runs every sequence of x [B, N, C] from v = 0; spikes [B, N, C] or padded [B, N + 2, C]; h [B, N, C] if given. */
  run(x: Tensor, spikes: Tensor, h?: Tensor | null): void {
    if (x.shape.length !== 3 || x.shape[2] !== this.channels) throw new ShapeError(`${this.name}: input expected shape [B, N, ${this.channels}], got ${fmtShape(x.shape)}`);
    const [B, N, C] = x.shape;
    const pad = spikes.shape[1] === N + 2 ? 1 : 0;
    checkF32(this.name, 'spikes', spikes, [B, N + 2 * pad, C]);
    if (h) checkF32(this.name, 'h', h, [B, N, C]);
    const xs = this.rows(x, B, N, 0), ss = this.rows(spikes, B, N, pad), hs = h ? this.rows(h, B, N, 0) : null;
    for (let b = 0; b < B; b++) {
      this.node.reset();
      this.node.forward(xs[b], { floats: ss[b], h: hs ? hs[b] : undefined });
    }
  }
}

/** Options of {@link SpikingLMUFormer} and {@link PsMnistSLMU} that are not constructor arguments of the official models. */
export interface SpikingModelOptions {
  /** Execution form of the LMU memory (default `'fft'`). The memory is real-valued; its rounding may flip a spike of f_m only where its margin is ~1e-6. */
  lmuMode?: LMUMode;
  /**
   * Fold the BNs that directly follow a conv/linear into it (default true): proj_bn{,1,2} into proj_conv{,1,2},
   * bn_u into W_u, bn_h into W_h, proj_bn into proj_conv, fc2_bn into fc1_conv. Never folded: proj_bn3 (its input
   * x3 is also the residual), bn_m (kept on the real memory), prev_bn, fc1_bn, head_bn (on the residual stream).
   */
  foldBatchNorm?: boolean;
  /** Record every LIF layer's spikes and charged potential h ({@link SpikingLMUFormer.lifLayers}); default false. */
  keepSpikes?: boolean;
}

/** What a LIF layer recorded in the last forward (with `keepSpikes`). */
export interface LifRecord {
  /** f32 0/1 [B, N, C]. */
  spikes: Tensor;
  /** The charged potential h [B, N, C]; margin = h − vThreshold. */
  h: Tensor;
  vThreshold: number;
}

interface SpikingBlockWeights {
  prevBn: ChannelAffine;
  prevLif: FrameLIF;
  wU: Dense;
  fU: FrameLIF;
  memory: LMUMemory;
  bnM: ChannelAffine;
  fM: FrameLIF;
  wH: Dense;
  fH: FrameLIF;
  proj: Dense;
  fc1Bn: ChannelAffine;
  fc1Lif: FrameLIF;
  fc1: Dense;
  fc2Lif: FrameLIF;
  fc2: Dense;
}

/** The activations of one spiking block for one batch size (all frame-major). */
export interface SpikingBlockBuffers {
  /** BN outputs feeding a LIF (scratch, [B, N, E]). */
  pre: Tensor;
  /** prev_lif spikes s [B, N, E]. */
  s: Tensor;
  /** bn_u(W_u s + b) [B, N, 1]. */
  uPre: Tensor;
  /** f_u spikes u [B, N, 1]. */
  u: Tensor;
  /** The same spikes as [B, N] (the memory's input). */
  uFlat: Tensor;
  /** The real memory m [B, N, 2E] (official `expected.block.j.attn.lmu.memory`). */
  memory: Tensor;
  /** bn_m(m) [B, N, 2E]. */
  memoryBn: Tensor;
  /** f_m spikes [B, N, 2E]. */
  memorySpikes: Tensor;
  /** [m_s ; s] [B, N, 3E]. */
  cat: Tensor;
  /** bn_h(W_h [m_s ; s] + b) [B, N, E]. */
  hPre: Tensor;
  /** f_h spikes [B, N, E]. */
  h: Tensor;
  /** proj_bn(proj_conv(h)) [B, N, E] (official `expected.block.j.attn`). */
  attn: Tensor;
  /** x + attn [B, N, E]. */
  x1: Tensor;
  /** fc1_lif spikes [B, N, E]. */
  s1: Tensor;
  /** fc2_bn(fc1_conv(s1)) [B, N, Hm]. */
  hidden: Tensor;
  /** fc2_lif spikes [B, N, Hm]. */
  s2: Tensor;
  /** fc2_conv(s2) [B, N, E] (official `expected.block.j.mlp`). */
  mlp: Tensor;
  /** x1 + mlp [B, N, E] (official `expected.block.j`). */
  out: Tensor;
}

/** Every activation of a {@link SpikingLMUFormer} forward for one batch size. */
export interface SpikingLMUFormerBuffers {
  readonly batch: number;
  /** N, the frames per sequence (128, or fewer with {@link SpikingLMUFormer.forwardUtterance}). */
  readonly frames: number;
  /** The input in a zero-padded frame buffer [B, N + 2, in_channels]. */
  input: Tensor;
  /** Zero-padded spike frames feeding the tokenizer's k = 3 convs [B, N + 2, E]. */
  spikes: Tensor;
  /** Pre-LIF scratch of the tokenizer [B, N, E]. */
  pre: Tensor;
  /** proj_conv3's output x3 [B, N, E]. */
  x3: Tensor;
  /** rpe_conv's output [B, N, E]. */
  rpe: Tensor;
  /** x3 + rpe_conv(proj_lif3(proj_bn3(x3))) [B, N, E] (official `expected.patch_embed`). */
  patchEmbed: Tensor;
  blocks: SpikingBlockBuffers[];
  /** head_bn(x) [B, N, E]. */
  headPre: Tensor;
  /** head_lif spikes [B, N, E]. */
  headSpikes: Tensor;
  /** head applied to every frame [B, N, classes]. */
  headPerToken: Tensor;
  /** 'normal' logits [B, classes]. */
  logits: Tensor;
  /** 'all_seq': cumulative mean of the head_lif spikes [N, B, E]. */
  cumMean: Tensor;
  /** 'all_seq' logits [N, B, classes]. */
  logitsAllSeq: Tensor;
  /** With `keepSpikes`: every LIF layer by its official name. */
  lif: Map<string, LifRecord>;
}

/**
 * The spiking LMUFormer of the official `slmu_rnn_ms_conv1d` (spec §3), eval mode, frame-major. With LIF(·) along
 * the frames (V_th = 1 unless said):
 *
 *     tokenizer:  x = proj_conv(input);  3×: x = conv_{i+1}(LIF(bn_i(x)));  x3 = x;  x = x3 + rpe_conv(LIF(bn3(x3)))
 *     block j:    s = LIF_{0.5}(prev_bn(x));  u = LIF(bn_u(W_u s + b));  m = H ∗ u  (real, d = 2E)
 *                 m_s = LIF(bn_m(m));  h = LIF(bn_h(W_h [m_s ; s] + b));  x ← x + proj_bn(proj_conv(h))
 *                 x ← x + fc2_conv(LIF(fc2_bn(fc1_conv(LIF(fc1_bn(x))))))
 *     head:       'normal': mean_n head(LIF(head_bn(x_n)));  'all_seq': head of the cumulative mean of those spikes
 *
 * All convs but the first take spikes; the residual stream stays real. Shapes: input f32 [B, 128, in_channels] →
 * logits [B, classes] ('normal') or [128, B, classes] ('all_seq'). Activations are allocated per batch size on first
 * use; forward allocates nothing after that.
 * @example
 * const model = SpikingLMUFormer.fromCheckpoint(arena, bytes, scv2Config());
 * model.forward(features);   // [B, 128, 128] → [B, 35]
 */
export class SpikingLMUFormer {
  readonly config: LMUFormerConfig;
  testMode: 'normal' | 'all_seq';
  /** LMU memory form of every block. */
  lmuMode: LMUMode;
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN). Streams made by `stream()` take this value unless their options say otherwise.
   */
  allowNonFinite = false;
  readonly frames = LMUFORMER_BLOCK_SEQ_LEN;
  readonly keepSpikes: boolean;
  private readonly convs: Dense[];
  private readonly bn3: ChannelAffine;
  private readonly rpe: Dense;
  private readonly tokLif: FrameLIF[];
  readonly blocks: SpikingBlockWeights[];
  private readonly headBn: ChannelAffine;
  private readonly headLif: FrameLIF;
  private readonly head: PackedDense;
  private readonly headBias: Tensor;
  private readonly workspaces = new Map<string, SpikingLMUFormerBuffers>();

  /** Builds the model from a state dict with the official names (see {@link loadCheckpoint}). */
  constructor(private readonly arena: Arena, config: Partial<LMUFormerConfig>, sd: StateDictLike, options: SpikingModelOptions = {}) {
    const c = resolveLMUFormerConfig(config);
    this.config = c;
    this.testMode = c.test_mode;
    this.lmuMode = options.lmuMode ?? 'fft';
    this.keepSpikes = options.keepSpikes ?? false;
    const E = c.embed_dims, Cin = c.in_channels, Hm = mlpHidden(c), fold = options.foldBatchNorm ?? true, d = 2 * E;
    const who = 'SpikingLMUFormer';
    const get = (k: string) => lookupTensor(sd, k, who)!;
    const bn = (p: string) => readBatchNorm(sd, p, who);
    const pe = 'patch_embed';
    this.convs = [
      conv3(arena, get(`${pe}.proj_conv.weight`), E, Cin, bn(`${pe}.proj_bn`), fold, `${pe}.proj_conv`),
      conv3(arena, get(`${pe}.proj_conv1.weight`), E, E, bn(`${pe}.proj_bn1`), fold, `${pe}.proj_conv1`),
      conv3(arena, get(`${pe}.proj_conv2.weight`), E, E, bn(`${pe}.proj_bn2`), fold, `${pe}.proj_conv2`),
      conv3(arena, get(`${pe}.proj_conv3.weight`), E, E, null, fold, `${pe}.proj_conv3`),
    ];
    this.bn3 = affineOf(arena, bn(`${pe}.proj_bn3`), `${pe}.proj_bn3`);
    this.rpe = conv3(arena, get(`${pe}.rpe_conv.weight`), E, E, null, fold, `${pe}.rpe_conv`);
    this.tokLif = ['proj_lif', 'proj_lif1', 'proj_lif2', 'proj_lif3'].map((n) => new FrameLIF(arena, `${pe}.${n}`, E));
    this.blocks = [];
    for (let j = 0; j < c.depths; j++) {
      const p = `block.${j}.attn`, q = `block.${j}.mlp`;
      this.blocks.push({
        prevBn: affineOf(arena, bn(`${p}.prev_bn`), `${p}.prev_bn`),
        prevLif: new FrameLIF(arena, `${p}.prev_lif`, E, 0.5),
        wU: dense(arena, get(`${p}.lmu.W_u.weight`), get(`${p}.lmu.W_u.bias`), 1, E, bn(`${p}.lmu.bn_u`), fold, `${p}.lmu.W_u`),
        fU: new FrameLIF(arena, `${p}.lmu.f_u`, 1),
        memory: new LMUMemory(arena, {
          order: d, theta: LMUFORMER_BLOCK_SEQ_LEN, seqLen: LMUFORMER_BLOCK_SEQ_LEN, name: `${p}.lmu`,
          A: lookupTensor(sd, `${p}.lmu.A`, who, true), B: lookupTensor(sd, `${p}.lmu.B`, who, true), H: lookupTensor(sd, `${p}.lmu.H`, who, true),
        }),
        bnM: affineOf(arena, bn(`${p}.lmu.bn_m`), `${p}.lmu.bn_m`),
        fM: new FrameLIF(arena, `${p}.lmu.f_m`, d),
        wH: dense(arena, get(`${p}.lmu.W_h.weight`), get(`${p}.lmu.W_h.bias`), E, d + E, bn(`${p}.lmu.bn_h`), fold, `${p}.lmu.W_h`),
        fH: new FrameLIF(arena, `${p}.lmu.f_h`, E),
        proj: dense(arena, get(`${p}.proj_conv.weight`), get(`${p}.proj_conv.bias`), E, E, bn(`${p}.proj_bn`), fold, `${p}.proj_conv`),
        fc1Bn: affineOf(arena, bn(`${q}.fc1_bn`), `${q}.fc1_bn`),
        fc1Lif: new FrameLIF(arena, `${q}.fc1_lif`, E),
        fc1: dense(arena, get(`${q}.fc1_conv.weight`), get(`${q}.fc1_conv.bias`), Hm, E, bn(`${q}.fc2_bn`), fold, `${q}.fc1_conv`),
        fc2Lif: new FrameLIF(arena, `${q}.fc2_lif`, Hm),
        fc2: dense(arena, get(`${q}.fc2_conv.weight`), get(`${q}.fc2_conv.bias`), E, Hm, null, fold, `${q}.fc2_conv`),
      });
    }
    this.headBn = affineOf(arena, bn('head_bn'), 'head_bn');
    this.headLif = new FrameLIF(arena, 'head_lif', E);
    this.head = packDense(arena, get('head.weight'), c.num_classes, E, 'head.weight');
    this.headBias = arena.from(get('head.bias'), [c.num_classes], 'f32', 'head.bias');
  }

  /**
   * Loads and checks a checkpoint (factory `slmu_rnn_ms_conv1d`, see {@link loadCheckpoint}) and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   * @example SpikingLMUFormer.fromCheckpoint(arena, readFileSync('slmu.safetensors'), scv2Config())
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<LMUFormerConfig>,
    options: SpikingModelOptions & LoadCheckpointOptions = {},
  ): SpikingLMUFormer {
    return new SpikingLMUFormer(arena, config, loadCheckpoint(source, 'slmu_rnn_ms_conv1d', config, options), options);
  }

  /** The activations for batch size B and N frames (default 128; allocated on first use, then reused). */
  buffers(batch: number, frames: number = this.frames): SpikingLMUFormerBuffers {
    const key = `${batch}x${frames}`;
    let ws = this.workspaces.get(key);
    if (ws) return ws;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`SpikingLMUFormer: batch size must be a positive integer, got ${batch}`);
    if (!Number.isSafeInteger(frames) || frames < 1 || frames > this.frames) throw new ArgumentError(`SpikingLMUFormer: frames must be an integer in [1, ${this.frames}], got ${frames}`);
    const c = this.config, N = frames, E = c.embed_dims, K = c.num_classes, Hm = mlpHidden(c), d = 2 * E;
    const t = (shape: number[], name: string) => this.arena.tensor(shape, 'f32', name);
    ws = {
      batch,
      frames: N,
      input: t([batch, N + 2, c.in_channels], 'input (padded)'),
      spikes: t([batch, N + 2, E], 'tokenizer spikes (padded)'),
      pre: t([batch, N, E], 'tokenizer pre-LIF'),
      x3: t([batch, N, E], 'patch_embed.x3'),
      rpe: t([batch, N, E], 'patch_embed.rpe_conv'),
      patchEmbed: t([batch, N, E], 'patch_embed'),
      blocks: this.blocks.map((_, j) => {
        const u = t([batch, N, 1], `block.${j}.attn.lmu.f_u`);
        return {
        pre: t([batch, N, E], `block.${j}.pre`),
        s: t([batch, N, E], `block.${j}.attn.prev_lif`),
        uPre: t([batch, N, 1], `block.${j}.attn.lmu.u_pre`),
        u,
        uFlat: u.reshape([batch, N]),
        memory: t([batch, N, d], `block.${j}.attn.lmu.memory`),
        memoryBn: t([batch, N, d], `block.${j}.attn.lmu.bn_m`),
        memorySpikes: t([batch, N, d], `block.${j}.attn.lmu.f_m`),
        cat: t([batch, N, d + E], `block.${j}.attn.lmu.[m;s]`),
        hPre: t([batch, N, E], `block.${j}.attn.lmu.h_pre`),
        h: t([batch, N, E], `block.${j}.attn.lmu.f_h`),
        attn: t([batch, N, E], `block.${j}.attn`),
        x1: t([batch, N, E], `block.${j}.x1`),
        s1: t([batch, N, E], `block.${j}.mlp.fc1_lif`),
        hidden: t([batch, N, Hm], `block.${j}.mlp.hidden`),
        s2: t([batch, N, Hm], `block.${j}.mlp.fc2_lif`),
        mlp: t([batch, N, E], `block.${j}.mlp`),
        out: t([batch, N, E], `block.${j}`),
        };
      }),
      headPre: t([batch, N, E], 'head_bn'),
      headSpikes: t([batch, N, E], 'head_lif'),
      headPerToken: t([batch, N, K], 'head_per_token'),
      logits: t([batch, K], 'logits'),
      cumMean: t([N, batch, E], 'cumulative mean'),
      logitsAllSeq: t([N, batch, K], 'logits (all_seq)'),
      lif: new Map(),
    };
    if (this.keepSpikes) {
      const rec = (name: string, spikes: Tensor | null, C: number, vth = 1) =>
        ws!.lif.set(name, { spikes: spikes ?? t([batch, N, C], `${name}.spikes`), h: t([batch, N, C], `${name}.h`), vThreshold: vth });
      for (const n of ['proj_lif', 'proj_lif1', 'proj_lif2', 'proj_lif3']) rec(`patch_embed.${n}`, null, E);
      ws.blocks.forEach((bb, j) => {
        rec(`block.${j}.attn.prev_lif`, bb.s, E, 0.5);
        rec(`block.${j}.attn.lmu.f_u`, bb.u, 1);
        rec(`block.${j}.attn.lmu.f_m`, bb.memorySpikes, d);
        rec(`block.${j}.attn.lmu.f_h`, bb.h, E);
        rec(`block.${j}.mlp.fc1_lif`, bb.s1, E);
        rec(`block.${j}.mlp.fc2_lif`, bb.s2, Hm);
      });
      rec('head_lif', ws.headSpikes, E);
    }
    this.workspaces.set(key, ws);
    return ws;
  }

  /** With `keepSpikes`: every LIF layer's spikes and h of the last forward at this batch size (and frames), by official name. */
  lifLayers(batch: number, frames: number = this.frames): Map<string, LifRecord> {
    return this.buffers(batch, frames).lif;
  }

  /**
   * Runs the model on x f32 [B, 128, in_channels] (a Tensor, or a Float32Array of B·128·in_channels values). Returns
   * the logits of this batch size's buffers: [B, classes] ('normal') or [128, B, classes] ('all_seq').
   * @example const logits = model.forward(x).toArray();
   */
  forward(x: Tensor | Float32Array): Tensor {
    return this.run(x, this.frames);
  }

  /**
   * The parallel forward on an utterance of 1 ≤ frames ≤ 128 frames, x f32 [B, frames, in_channels] (an extension:
   * the official model takes exactly 128): every k = 3 conv zero-pads after the last frame as after frame 128.
   * Returns [B, classes] or, in `'all_seq'` mode, [frames, B, classes]: what {@link SpikingLMUFormer.stream} gives when
   * an utterance of that length is flushed.
   * @example model.forwardUtterance(x, 40)   // x [B, 40, 128]
   */
  forwardUtterance(x: Tensor | Float32Array, frames: number): Tensor {
    if (!Number.isSafeInteger(frames) || frames < 1 || frames > this.frames) throw new ArgumentError(`SpikingLMUFormer: frames must be an integer in [1, ${this.frames}], got ${frames}`);
    return this.run(x, frames);
  }

  /**
   * A streaming stepper for `batch` sequences (see {@link SpikingLMUFormerStream}): frames in one at a time, the
   * prefix logits of frame n out after frame n + 5, every LIF membrane kept per sequence across frames. Spikes equal
   * the parallel model's and logits its `all_seq` rows, bit for bit with the same LMU form (`'fir'` by default).
   * @example const s = model.stream(1); const l = s.push(frame);   // frame [1, 128] → null, or [1, 35]
   */
  stream(batch = 1, options: SpikingLMUFormerStreamOptions = {}): SpikingLMUFormerStream {
    return new SpikingLMUFormerStream(this.arena, {
      config: this.config, convs: this.convs, tokLifNames: this.tokLif.map((l) => l.name), bn3: this.bn3, rpe: this.rpe,
      blocks: this.blocks.map((b) => ({
        prevBn: b.prevBn, wU: b.wU, memory: b.memory, bnM: b.bnM, wH: b.wH, proj: b.proj, fc1Bn: b.fc1Bn, fc1: b.fc1, fc2: b.fc2,
        lifs: [b.prevLif, b.fU, b.fM, b.fH, b.fc1Lif, b.fc2Lif].map((l) => ({ name: l.name, vThreshold: l.vThreshold })),
      })),
      headBn: this.headBn, head: this.head, headBias: this.headBias,
    }, batch, streamOptions(options, this.allowNonFinite));
  }

  private run(x: Tensor | Float32Array, N: number): Tensor {
    const c = this.config, Cin = c.in_channels;
    const batch = checkFrames('SpikingLMUFormer', x, N, Cin, this.arena.core, this.allowNonFinite);
    const ws = this.buffers(batch, N);
    const src = x instanceof Float32Array ? x : x.f32, inp = ws.input.f32;
    for (let b = 0; b < batch; b++) copyRows(src, b * N * Cin, Cin, inp, (b * (N + 2) + 1) * Cin, Cin, N, Cin);
    try {
      this.tokenizer(ws);
      let stream = ws.patchEmbed;
      for (let j = 0; j < this.blocks.length; j++) {
        this.block(this.blocks[j], stream, ws.blocks[j], ws);
        stream = ws.blocks[j].out;
      }
      channelAffine(stream, this.headBn.scale, this.headBn.shift, ws.headPre, 2);
      this.headLif.run(ws.headPre, ws.headSpikes, ws.lif.get('head_lif')?.h);
      if (this.testMode === 'all_seq') {
        cumulativeMean(ws.headSpikes, ws.cumMean);
        linear(ws.cumMean, this.head, ws.logitsAllSeq, { bias: this.headBias });
        return ws.logitsAllSeq;
      }
      linear(ws.headSpikes, this.head, ws.headPerToken, { bias: this.headBias });
      meanAxis(ws.headPerToken, 1, ws.logits);
    } catch (e) {
      throw tagError('SpikingLMUFormer', e);
    }
    return ws.logits;
  }

  private readonly tokViews = new WeakMap<SpikingLMUFormerBuffers, { input: Tensor; spikes: Tensor; pre: Tensor; x3: Tensor; rpe: Tensor }[]>();

  private tokenizer(ws: SpikingLMUFormerBuffers): void {
    const N = ws.frames, B = ws.batch;
    let views = this.tokViews.get(ws);
    if (!views) {
      const flat = (x: Tensor) => x.reshape([x.shape[0] * x.shape[1], x.shape[2]]);
      const inp = flat(ws.input), sp = flat(ws.spikes), pre = flat(ws.pre), x3 = flat(ws.x3), rpe = flat(ws.rpe);
      views = [];
      for (let b = 0; b < B; b++) {
        views.push({
          input: rowsView(inp, b * (N + 2), N + 2), spikes: rowsView(sp, b * (N + 2), N + 2),
          pre: rowsView(pre, b * N, N), x3: rowsView(x3, b * N, N), rpe: rowsView(rpe, b * N, N),
        });
      }
      this.tokViews.set(ws, views);
    }
    const rec = (i: number) => ws.lif.get(this.tokLif[i].name);
    const keep = (i: number) => {
      const r = rec(i);
      if (r) for (let b = 0; b < B; b++) copyRows(ws.spikes.f32, (b * (N + 2) + 1) * ws.spikes.shape[2], ws.spikes.shape[2], r.spikes.f32, b * N * r.spikes.shape[2], r.spikes.shape[2], N, r.spikes.shape[2]);
    };
    for (const v of views) runConv3(v.input, 0, N, this.convs[0], v.pre);
    this.tokLif[0].run(ws.pre, ws.spikes, rec(0)?.h);
    keep(0);
    for (let i = 1; i <= 2; i++) {
      for (const v of views) runConv3(v.spikes, 0, N, this.convs[i], v.pre);
      this.tokLif[i].run(ws.pre, ws.spikes, rec(i)?.h);
      keep(i);
    }
    for (const v of views) runConv3(v.spikes, 0, N, this.convs[3], v.x3);
    channelAffine(ws.x3, this.bn3.scale, this.bn3.shift, ws.pre, 2);
    this.tokLif[3].run(ws.pre, ws.spikes, rec(3)?.h);
    keep(3);
    for (const v of views) runConv3(v.spikes, 0, N, this.rpe, v.rpe);
    add(ws.x3, ws.rpe, ws.patchEmbed);
  }

  private block(w: SpikingBlockWeights, x: Tensor, o: SpikingBlockBuffers, ws: SpikingLMUFormerBuffers): void {
    const B = ws.batch, N = ws.frames, E = this.config.embed_dims, d = 2 * E;
    const h = (name: string) => ws.lif.get(name)?.h;
    channelAffine(x, w.prevBn.scale, w.prevBn.shift, o.pre, 2);
    w.prevLif.run(o.pre, o.s, h(w.prevLif.name));
    runDense(o.s, w.wU, o.uPre);
    w.fU.run(o.uPre, o.u, h(w.fU.name));
    w.memory.prepare(B, this.lmuMode);
    w.memory.forward(o.uFlat, o.memory, this.lmuMode);
    channelAffine(o.memory, w.bnM.scale, w.bnM.shift, o.memoryBn, 2);
    w.fM.run(o.memoryBn, o.memorySpikes, h(w.fM.name));
    const cat = o.cat.f32;
    copyRows(o.memorySpikes.f32, 0, d, cat, 0, d + E, B * N, d);
    copyRows(o.s.f32, 0, E, cat, d, d + E, B * N, E);
    runDense(o.cat, w.wH, o.hPre);
    w.fH.run(o.hPre, o.h, h(w.fH.name));
    runDense(o.h, w.proj, o.attn);
    add(x, o.attn, o.x1);
    channelAffine(o.x1, w.fc1Bn.scale, w.fc1Bn.shift, o.pre, 2);
    w.fc1Lif.run(o.pre, o.s1, h(w.fc1Lif.name));
    runDense(o.s1, w.fc1, o.hidden);
    w.fc2Lif.run(o.hidden, o.s2, h(w.fc2Lif.name));
    runDense(o.s2, w.fc2, o.mlp);
    add(o.x1, o.mlp, o.out);
  }
}

/** Every activation of a {@link PsMnistSLMU} forward for one batch size. */
export interface PsMnistSLMUBuffers {
  readonly batch: number;
  /** The input staged from a Float32Array [B, L, input_size]. */
  input: Tensor;
  /** W_u x + b [B, L, 1]. */
  uPre: Tensor;
  /** f_u spikes [B, L, 1]. */
  u: Tensor;
  /** The same spikes as [B, L] (the memory's input). */
  uFlat: Tensor;
  /** [m ; x] [B, L, memory_size + input_size]: the real memory m in the first memory_size columns. */
  cat: Tensor;
  /** W_h [m ; x] + b [B, L, hidden_size]. */
  hPre: Tensor;
  /** f_h spikes [B, L, hidden_size]. */
  h: Tensor;
  /** h at the last step [B, hidden_size]. */
  last: Tensor;
  /** [B, output_size]. */
  logits: Tensor;
  /** With `keepSpikes`: f_u and f_h (spikes and h). */
  lif: Map<string, LifRecord>;
}

/**
 * The spiking psMNIST model of the LMUFormer notebook (`Model`, cell 35, over `SpikingLMUFFT`), eval mode:
 *
 *     u = LIF(W_u x + b_u)           [B, L, 1]     (LIF along the steps, V_th = 1, no BN)
 *     m = H ∗ u                      [B, L, d]     (real; no BN, no LIF)
 *     h = LIF(W_h [m ; x] + b_h)     [B, L, hidden]  (x: the raw input, real)
 *     logits = classifier(h[:, L − 1])
 *
 * Each input is an independent sequence starting from v = 0 (the notebook's evaluation loop never resets its
 * neurons; the fixtures, and this model, do). Shapes: x f32 [B, seq_len, input_size] → logits [B, output_size].
 * @example PsMnistSLMU.fromCheckpoint(arena, bytes, psmnistConfig()).forward(pixels)   // [B, 784, 1] → [B, 10]
 */
export class PsMnistSLMU {
  readonly config: PsMnistConfig;
  lmuMode: LMUMode;
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN). Streams made by `stream()` take this value unless their options say otherwise.
   */
  allowNonFinite = false;
  readonly keepSpikes: boolean;
  readonly memory: LMUMemory;
  private readonly wU: PackedDense;
  private readonly bU: Tensor;
  private readonly wH: PackedDense;
  private readonly bH: Tensor;
  private readonly fU: FrameLIF;
  private readonly fH: FrameLIF;
  private readonly classifier: PackedDense;
  private readonly classifierBias: Tensor;
  private readonly workspaces = new Map<number, PsMnistSLMUBuffers>();
  private readonly inputSample: readonly number[];

  /** Builds the model from a state dict with the notebook's names (`lmu_fft.*`, `classifier.*`). */
  constructor(private readonly arena: Arena, config: Partial<PsMnistConfig>, sd: StateDictLike, options: Omit<SpikingModelOptions, 'foldBatchNorm'> = {}) {
    const c = psmnistConfig(config);
    this.config = c;
    this.inputSample = [c.seq_len, c.input_size];
    this.lmuMode = options.lmuMode ?? 'fft';
    this.keepSpikes = options.keepSpikes ?? false;
    const who = 'psmnist_slmu', inp = c.input_size, d = c.memory_size;
    const get = (k: string) => lookupTensor(sd, k, who)!;
    this.wU = packDense(arena, get('lmu_fft.W_u.weight'), 1, inp, 'lmu_fft.W_u.weight');
    this.bU = arena.from(get('lmu_fft.W_u.bias'), [1], 'f32', 'lmu_fft.W_u.bias');
    this.wH = packDense(arena, get('lmu_fft.W_h.weight'), c.hidden_size, d + inp, 'lmu_fft.W_h.weight');
    this.bH = arena.from(get('lmu_fft.W_h.bias'), [c.hidden_size], 'f32', 'lmu_fft.W_h.bias');
    this.memory = new LMUMemory(arena, {
      order: d, theta: c.theta, seqLen: c.seq_len, name: 'lmu_fft',
      A: lookupTensor(sd, 'lmu_fft.A', who, true), B: lookupTensor(sd, 'lmu_fft.B', who, true), H: lookupTensor(sd, 'lmu_fft.H', who, true),
    });
    this.fU = new FrameLIF(arena, 'lmu_fft.f_u', 1);
    this.fH = new FrameLIF(arena, 'lmu_fft.f_h', c.hidden_size);
    this.classifier = packDense(arena, get('classifier.weight'), c.output_size, c.hidden_size, 'classifier.weight');
    this.classifierBias = arena.from(get('classifier.bias'), [c.output_size], 'f32', 'classifier.bias');
  }

  /**
   * Loads and checks a checkpoint (factory `psmnist_slmu`, see {@link loadCheckpoint}) and builds the model.
   * @example PsMnistSLMU.fromCheckpoint(arena, bytes, { hidden_size: 16, memory_size: 24, seq_len: 96, theta: 96 })
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<PsMnistConfig>,
    options: Omit<SpikingModelOptions, 'foldBatchNorm'> & LoadCheckpointOptions = {},
  ): PsMnistSLMU {
    return new PsMnistSLMU(arena, config, loadCheckpoint(source, 'psmnist_slmu', config, options), options);
  }

  /**
   * A streaming stepper for `batch` sequences (see {@link PsMnistSLMUStream}): one step per push, classifier(h_t) out;
   * after seq_len steps, this model's forward bit for bit with the same memory form (`'fir'` by default).
   * @example const s = model.stream(1); for (const p of pixels) logits = s.push(Float32Array.of(p));
   */
  stream(batch = 1, options: PsMnistStreamOptions = {}): PsMnistSLMUStream {
    return new PsMnistSLMUStream(this.arena, {
      config: this.config, wU: this.wU, bU: this.bU, memory: this.memory, wH: this.wH, bH: this.bH,
      classifier: this.classifier, classifierBias: this.classifierBias,
    }, batch, streamOptions(options, this.allowNonFinite));
  }

  /** The activations for batch size B (allocated on first use, then reused). */
  buffers(batch: number): PsMnistSLMUBuffers {
    let ws = this.workspaces.get(batch);
    if (ws) return ws;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`psmnist_slmu: batch size must be a positive integer, got ${batch}`);
    const c = this.config, L = c.seq_len, t = (shape: number[], name: string) => this.arena.tensor(shape, 'f32', name);
    const u = t([batch, L, 1], 'lmu_fft.f_u');
    ws = {
      batch,
      input: t([batch, L, c.input_size], 'input'),
      uPre: t([batch, L, 1], 'lmu_fft.u_pre'),
      u,
      uFlat: u.reshape([batch, L]),
      cat: t([batch, L, c.memory_size + c.input_size], 'lmu_fft.[m;x]'),
      hPre: t([batch, L, c.hidden_size], 'lmu_fft.h_pre'),
      h: t([batch, L, c.hidden_size], 'lmu_fft.f_h'),
      last: t([batch, c.hidden_size], 'h_n'),
      logits: t([batch, c.output_size], 'logits'),
      lif: new Map(),
    };
    if (this.keepSpikes) {
      ws.lif.set('lmu_fft.f_u', { spikes: ws.u, h: t([batch, L, 1], 'lmu_fft.f_u.h'), vThreshold: 1 });
      ws.lif.set('lmu_fft.f_h', { spikes: ws.h, h: t([batch, L, c.hidden_size], 'lmu_fft.f_h.h'), vThreshold: 1 });
    }
    this.workspaces.set(batch, ws);
    return ws;
  }

  /** Reads the real memory m [B, L, d] of the last forward out of the concatenation buffer (for tests). */
  readMemory(batch: number): Float32Array {
    const ws = this.buffers(batch), d = this.config.memory_size, D = d + this.config.input_size;
    const out = new Float32Array(batch * this.config.seq_len * d);
    copyRows(ws.cat.f32, 0, D, out, 0, d, batch * this.config.seq_len, d);
    return out;
  }

  /**
   * Runs the model on x f32 [B, seq_len, input_size] (a Tensor, or a Float32Array). Returns the logits
   * [B, output_size] of this batch size's buffers.
   * @example model.forward(Float32Array.from(pixels)).toArray()
   */
  forward(x: Tensor | Float32Array): Tensor {
    const c = this.config, L = c.seq_len, inp = c.input_size;
    let input: Tensor;
    const batch = checkBatchInput('psmnist_slmu', 'input', x, this.inputSample, PSMNIST_AXES, this.arena.core, this.allowNonFinite);
    if (x instanceof Float32Array) {
      input = this.buffers(batch).input;
      input.f32.set(x);
    } else {
      input = x;
    }
    const B = input.shape[0], ws = this.buffers(B), d = c.memory_size, H = c.hidden_size;
    try {
      linear(input, this.wU, ws.uPre, { bias: this.bU });
      this.fU.run(ws.uPre, ws.u, ws.lif.get('lmu_fft.f_u')?.h);
      this.memory.prepare(B, this.lmuMode);
      this.memory.forward(ws.uFlat, ws.cat, this.lmuMode);
      copyRows(input.f32, 0, inp, ws.cat.f32, d, d + inp, B * L, inp);
      linear(ws.cat, this.wH, ws.hPre, { bias: this.bH });
      this.fH.run(ws.hPre, ws.h, ws.lif.get('lmu_fft.f_h')?.h);
      for (let b = 0; b < B; b++) copyRows(ws.h.f32, (b * L + L - 1) * H, H, ws.last.f32, b * H, H, 1, H);
      linear(ws.last, this.classifier, ws.logits, { bias: this.classifierBias });
    } catch (e) {
      throw tagError('psmnist_slmu', e);
    }
    return ws.logits;
  }
}
