// The non-spiking LMUFormer (`lmu_rnn_conv1d`, shared/spec/lmuformer.md §2) in the frame-major layout [B, N, C]:
// every k = 3 conv over time is one GEMM over windows of a zero-padded frame buffer [N + 2, C] (core-wasm
// linearWindows), BN is a per-channel affine with channels last, the head one Linear per frame.
import {
  packDense, packConv1dAsDense, linear, linearWindows, channelAffine, gelu, add, meanAxis,
  ArgumentError, ShapeError, fmtShape,
  type Arena, type PackedDense, type Tensor,
} from '@spikewasm/core-wasm';
import { LMU, type LMUMode } from './lmu.js';
import { mlpHidden, resolveLMUFormerConfig, LMUFORMER_BLOCK_SEQ_LEN, type LMUFormerConfig } from './config.js';
import { loadCheckpoint, lookupTensor, type LoadCheckpointOptions, type StateDictLike } from './checkpoint.js';
import { LMUFormerStream, type LMUFormerStreamOptions } from './stream.js';
import { affineOf, streamOptions, checkF32, checkFrames, copyRows, dense, readBatchNorm, rowsView, runDense, tagError, type ChannelAffine, type Dense } from './internal.js';

/** Options of {@link LMUFormer} that are not constructor arguments of the official model. */
export interface LMUFormerOptions {
  /** Execution form of every block's LMU memory (default `'fft'`, the fastest at N = 128). */
  lmuMode?: LMUMode;
  /**
   * Fold the batch norms that directly follow a conv into it (spec §9: proj_conv → proj_bn, fc1 → fc1_bn,
   * fc2 → fc2_bn; default true). The tokenizer's Conv → ReLU → BN is never folded (the ReLU sits between).
   */
  foldBatchNorm?: boolean;
}

/** The activations of one block for one batch size (all [B, N, ·], frame-major). */
export interface LMUFormerBlockBuffers {
  /** The LMU cell output h [B, N, E]. */
  h: Tensor;
  /** The token mixer's output proj_bn(proj_conv(h)) [B, N, E] (official `expected.block.i.attn`). */
  attn: Tensor;
  /** x + attn [B, N, E]. */
  x1: Tensor;
  /** The FFN hidden layer [B, N, int(E·mlp_ratios)] (after GELU). */
  hidden: Tensor;
  /** The FFN output [B, N, E] (official `expected.block.i.mlp`). */
  mlp: Tensor;
  /** The block output x1 + mlp [B, N, E] (official `expected.block.i`). */
  out: Tensor;
}

/** Every activation of an {@link LMUFormer} forward for one batch size, frame-major. */
export interface LMUFormerBuffers {
  readonly batch: number;
  /** N, the frames per sequence (128, or fewer with {@link LMUFormer.forwardUtterance}). */
  readonly frames: number;
  /** The input copied into a zero-padded frame buffer [B, N + 2, in_channels] (rows 1..N hold the frames). */
  input: Tensor;
  /** Ping-pong zero-padded frame buffers of the tokenizer [B, N + 2, E]. */
  padA: Tensor;
  padB: Tensor;
  /** rpe_conv's output [B, N, E]. */
  rpe: Tensor;
  /** The tokenizer output x + rpe_conv(x) [B, N, E] (official `expected.patch_embed`, transposed). */
  patchEmbed: Tensor;
  blocks: LMUFormerBlockBuffers[];
  /** head applied to every frame [B, N, classes] (official `expected.head_per_token`). */
  headPerToken: Tensor;
  /** `'normal'` logits: the mean of headPerToken over frames [B, classes]. */
  logits: Tensor;
  /** `'all_seq'`: cumulative mean of the features over frames 1..n, [N, B, E]. */
  cumMean: Tensor;
  /** `'all_seq'` logits [N, B, classes]. */
  logitsAllSeq: Tensor;
}

/**
 * The non-spiking LMUFormer of the official `lmu_rnn_conv1d` (spec §2), in eval mode, on frame-major tensors:
 *
 *     tokenizer:  x ← BN_i(ReLU(Conv1d_k3(x)))  for i = 0..3  (in_channels → E → E → E → E);  x ← x + rpe_conv(x)
 *     block j:    x ← x + proj_bn(proj_conv(LMU(x)));   x ← x + ReLU(fc2_bn(fc2(GELU(fc1_bn(fc1(x))))))
 *     head:       'normal':  logits = mean_n(head(x_n))                      [B, classes]
 *                 'all_seq': logits[n] = head((1/n)·Σ_{k ≤ n} x_k)           [N, B, classes]
 *
 * The LMU is the official `LMUFFTCell` with order d = E, θ = seq_len = 128, hidden E; GELU is the exact erf form.
 * Shapes: input f32 [B, N = 128, in_channels] (the official input layout) → logits. Internally every tensor is
 * [B, N, C] (the official [B, C, N] transposed). Weights live in `arena` from construction; the activations of a
 * batch size are allocated on its first forward ({@link LMUFormer.buffers}) and reused: forward allocates nothing.
 * @example
 * const model = LMUFormer.fromCheckpoint(arena, bytes, scv2Config());
 * const logits = model.forward(x);   // x [B, 128, 128] → [B, 35]
 */
export class LMUFormer {
  readonly config: LMUFormerConfig;
  /** `'normal'` or `'all_seq'` (initially config.test_mode). */
  testMode: 'normal' | 'all_seq';
  /**
   * Reject NaN/±Infinity in the input with a NonFiniteError (false, the default) or run on them (true; IEEE
   * semantics, the logits may be NaN). Streams made by `stream()` take this value unless their options say otherwise.
   */
  allowNonFinite = false;
  /** N, the frames per input (128). */
  readonly frames = LMUFORMER_BLOCK_SEQ_LEN;
  readonly lmus: LMU[];
  private readonly convs: PackedDense[];
  private readonly convBn: ChannelAffine[];
  private readonly rpe: PackedDense;
  private readonly projs: Dense[];
  private readonly fc1: Dense[];
  private readonly fc2: Dense[];
  private readonly head: PackedDense;
  private readonly headBias: Tensor;
  private readonly workspaces = new Map<string, LMUFormerBuffers>();

  /**
   * Builds the model from a state dict with the official names (see {@link loadCheckpoint} to load and check one).
   * @param config the official constructor arguments (missing ones take the published SCv2 values)
   */
  constructor(private readonly arena: Arena, config: Partial<LMUFormerConfig>, sd: StateDictLike, options: LMUFormerOptions = {}) {
    const c = resolveLMUFormerConfig(config);
    this.config = c;
    this.testMode = c.test_mode;
    const E = c.embed_dims, Cin = c.in_channels, Hm = mlpHidden(c), fold = options.foldBatchNorm ?? true;
    const who = 'LMUFormer';
    const get = (k: string) => lookupTensor(sd, k, who)!;
    this.convs = [];
    this.convBn = [];
    for (let i = 0; i < 4; i++) {
      const cin = i === 0 ? Cin : E;
      this.convs.push(packConv1dAsDense(arena, get(`patch_embed.conv_layers.${i}.0.weight`), E, cin, 3, `patch_embed.conv_layers.${i}.0.weight`));
      this.convBn.push(affineOf(arena, readBatchNorm(sd, `patch_embed.conv_layers.${i}.3`, who), `patch_embed.conv_layers.${i}.3`));
    }
    this.rpe = packConv1dAsDense(arena, get('patch_embed.rpe_conv.weight'), E, E, 3, 'patch_embed.rpe_conv.weight');
    this.lmus = [];
    this.projs = [];
    this.fc1 = [];
    this.fc2 = [];
    for (let j = 0; j < c.depths; j++) {
      const p = `block.${j}`;
      this.lmus.push(LMU.fromStateDict(arena, sd, `${p}.attn.lmu.`, {
        inputSize: E, hiddenSize: E, order: E, theta: LMUFORMER_BLOCK_SEQ_LEN, seqLen: LMUFORMER_BLOCK_SEQ_LEN,
        mode: options.lmuMode ?? 'fft', name: `${p}.attn.lmu`,
      }));
      this.projs.push(dense(arena, get(`${p}.attn.proj_conv.weight`), get(`${p}.attn.proj_conv.bias`), E, E, readBatchNorm(sd, `${p}.attn.proj_bn`, who), fold, `${p}.attn.proj_conv`));
      this.fc1.push(dense(arena, get(`${p}.mlp.fc1_conv.weight`), get(`${p}.mlp.fc1_conv.bias`), Hm, E, readBatchNorm(sd, `${p}.mlp.fc1_bn`, who), fold, `${p}.mlp.fc1_conv`));
      this.fc2.push(dense(arena, get(`${p}.mlp.fc2_conv.weight`), get(`${p}.mlp.fc2_conv.bias`), E, Hm, readBatchNorm(sd, `${p}.mlp.fc2_bn`, who), fold, `${p}.mlp.fc2_conv`));
    }
    this.head = packDense(arena, get('head.weight'), c.num_classes, E, 'head.weight');
    this.headBias = arena.from(get('head.bias'), [c.num_classes], 'f32', 'head.bias');
  }

  /**
   * Loads a checkpoint (safetensors bytes, a parsed file or a state dict; `module.` prefixes, `num_batches_tracked`
   * and `fft_H` handled as {@link loadCheckpoint} says), checks every key against `config`, and builds the model.
   * @throws {CheckpointError} listing every missing, unexpected and mis-shaped key
   * @example const model = LMUFormer.fromCheckpoint(arena, readFileSync('lmuformer.safetensors'), scv2Config());
   */
  static fromCheckpoint(
    arena: Arena, source: Parameters<typeof loadCheckpoint>[0], config: Partial<LMUFormerConfig>,
    options: LMUFormerOptions & LoadCheckpointOptions = {},
  ): LMUFormer {
    const sd = loadCheckpoint(source, 'lmu_rnn_conv1d', config, options);
    return new LMUFormer(arena, config, sd, options);
  }

  /** The memory form of every block's LMU. */
  get lmuMode(): LMUMode {
    return this.lmus[0]?.mode ?? 'fft';
  }

  set lmuMode(mode: LMUMode) {
    for (const l of this.lmus) l.mode = mode;
  }

  /**
   * The activations for batch size B and N frames (default 128; allocated on first use, then reused by every forward
   * of that size).
   */
  buffers(batch: number, frames: number = this.frames): LMUFormerBuffers {
    const key = `${batch}x${frames}`;
    let ws = this.workspaces.get(key);
    if (ws) return ws;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`LMUFormer: batch size must be a positive integer, got ${batch}`);
    if (!Number.isSafeInteger(frames) || frames < 1 || frames > this.frames) throw new ArgumentError(`LMUFormer: frames must be an integer in [1, ${this.frames}], got ${frames}`);
    const a = this.arena, c = this.config, N = frames, E = c.embed_dims, K = c.num_classes, Hm = mlpHidden(c);
    const t = (shape: number[], name: string) => a.tensor(shape, 'f32', name);
    ws = {
      batch,
      frames: N,
      input: t([batch, N + 2, c.in_channels], 'input (padded)'),
      padA: t([batch, N + 2, E], 'tokenizer frames A'),
      padB: t([batch, N + 2, E], 'tokenizer frames B'),
      rpe: t([batch, N, E], 'patch_embed.rpe_conv'),
      patchEmbed: t([batch, N, E], 'patch_embed'),
      blocks: this.lmus.map((_, j) => ({
        h: t([batch, N, E], `block.${j}.attn.lmu.h`),
        attn: t([batch, N, E], `block.${j}.attn`),
        x1: t([batch, N, E], `block.${j}.x1`),
        hidden: t([batch, N, Hm], `block.${j}.mlp.hidden`),
        mlp: t([batch, N, E], `block.${j}.mlp`),
        out: t([batch, N, E], `block.${j}`),
      })),
      headPerToken: t([batch, N, K], 'head_per_token'),
      logits: t([batch, K], 'logits'),
      cumMean: t([N, batch, E], 'cumulative mean'),
      logitsAllSeq: t([N, batch, K], 'logits (all_seq)'),
    };
    for (const l of this.lmus) {
      l.buffers(batch, N);
      l.memory.prepare(batch, l.mode);
    }
    this.views.set(ws, this.makeViews(ws));
    this.workspaces.set(key, ws);
    return ws;
  }

  private readonly views = new Map<LMUFormerBuffers, ReturnType<LMUFormer['makeViews']>>();

  /** Per-sequence row views ([N + 2, C] padded frames, [N, C] interiors and outputs), made once per batch size. */
  private makeViews(ws: LMUFormerBuffers) {
    const N = ws.frames, per = [] as { input: Tensor; padA: Tensor; padB: Tensor; innerA: Tensor; innerB: Tensor; rpe: Tensor; out: Tensor }[];
    const flat = (x: Tensor) => x.reshape([x.shape[0] * x.shape[1], x.shape[2]]);
    const inp = flat(ws.input), pa = flat(ws.padA), pb = flat(ws.padB), rpe = flat(ws.rpe), pe = flat(ws.patchEmbed);
    for (let b = 0; b < ws.batch; b++) {
      per.push({
        input: rowsView(inp, b * (N + 2), N + 2),
        padA: rowsView(pa, b * (N + 2), N + 2),
        padB: rowsView(pb, b * (N + 2), N + 2),
        innerA: rowsView(pa, b * (N + 2) + 1, N),
        innerB: rowsView(pb, b * (N + 2) + 1, N),
        rpe: rowsView(rpe, b * N, N),
        out: rowsView(pe, b * N, N),
      });
    }
    return per;
  }

  /**
   * Runs the model on x f32 [B, 128, in_channels] (a Tensor of this model's core, or a Float32Array holding B·128·C
   * values). Returns the logits tensor of this batch size's buffers (overwritten by the next forward of that size):
   * [B, num_classes] in `'normal'` test mode, [128, B, num_classes] in `'all_seq'` mode. All intermediates stay readable
   * in {@link LMUFormer.buffers}.
   * @example const logits = model.forward(features).toArray();
   */
  forward(x: Tensor | Float32Array): Tensor {
    return this.run(x, this.frames);
  }

  /**
   * The parallel forward on an utterance of 1 ≤ frames ≤ 128 frames, x f32 [B, frames, in_channels] (an extension:
   * the official model takes exactly 128): every k = 3 conv zero-pads after the last frame as it does after frame
   * 128, and the LMU runs over `frames` steps. Returns [B, classes] or, in `'all_seq'` mode, [frames, B, classes].
   * This is what {@link LMUFormer.stream} computes when an utterance of that length is flushed.
   * @example model.forwardUtterance(x, 40)   // x [B, 40, 128]
   */
  forwardUtterance(x: Tensor | Float32Array, frames: number): Tensor {
    if (!Number.isSafeInteger(frames) || frames < 1 || frames > this.frames) throw new ArgumentError(`LMUFormer: frames must be an integer in [1, ${this.frames}], got ${frames}`);
    return this.run(x, frames);
  }

  /**
   * A streaming stepper for `batch` sequences (see {@link LMUFormerStream}): frames in one at a time, the prefix
   * logits of frame n out after frame n + 5 (the `all_seq` rows of the parallel model, bit for bit with the same LMU
   * form; `'fir'` by default). It shares this model's weights; its buffers are allocated here.
   * @example const s = model.stream(1); const l = s.push(frame);   // frame [1, 128] → null, or [1, 35]
   */
  stream(batch = 1, options: LMUFormerStreamOptions = {}): LMUFormerStream {
    return new LMUFormerStream(this.arena, {
      config: this.config, convs: this.convs, convBn: this.convBn, rpe: this.rpe, lmus: this.lmus,
      projs: this.projs, fc1: this.fc1, fc2: this.fc2, head: this.head, headBias: this.headBias,
    }, batch, streamOptions(options, this.allowNonFinite));
  }

  private run(x: Tensor | Float32Array, N: number): Tensor {
    const c = this.config, Cin = c.in_channels;
    const batch = checkFrames('LMUFormer', x, N, Cin, this.arena.core, this.allowNonFinite);
    const ws = this.buffers(batch, N);
    const src = x instanceof Float32Array ? x : x.f32;
    const inp = ws.input.f32;
    for (let b = 0; b < batch; b++) copyRows(src, b * N * Cin, Cin, inp, (b * (N + 2) + 1) * Cin, Cin, N, Cin);
    this.tokenizer(ws);
    let stream = ws.patchEmbed;
    for (let j = 0; j < this.lmus.length; j++) {
      this.block(j, stream, ws.blocks[j]);
      stream = ws.blocks[j].out;
    }
    try {
      if (this.testMode === 'all_seq') {
        cumulativeMean(stream, ws.cumMean);
        linear(ws.cumMean, this.head, ws.logitsAllSeq, { bias: this.headBias });
        return ws.logitsAllSeq;
      }
      linear(stream, this.head, ws.headPerToken, { bias: this.headBias });
      meanAxis(ws.headPerToken, 1, ws.logits);
    } catch (e) {
      throw tagError('LMUFormer head', e);
    }
    return ws.logits;
  }

  private tokenizer(ws: LMUFormerBuffers): void {
    const views = this.views.get(ws)!, N = ws.frames;
    try {
      for (const v of views) {
        // Conv → ReLU (fused in the GEMM) → BN, into the interior of the next zero-padded frame buffer
        linearWindows(v.input, 0, N, 3, this.convs[0], v.innerA, { relu: true });
        channelAffine(v.innerA, this.convBn[0].scale, this.convBn[0].shift, v.innerA, 1);
        linearWindows(v.padA, 0, N, 3, this.convs[1], v.innerB, { relu: true });
        channelAffine(v.innerB, this.convBn[1].scale, this.convBn[1].shift, v.innerB, 1);
        linearWindows(v.padB, 0, N, 3, this.convs[2], v.innerA, { relu: true });
        channelAffine(v.innerA, this.convBn[2].scale, this.convBn[2].shift, v.innerA, 1);
        linearWindows(v.padA, 0, N, 3, this.convs[3], v.innerB, { relu: true });
        channelAffine(v.innerB, this.convBn[3].scale, this.convBn[3].shift, v.innerB, 1);
        linearWindows(v.padB, 0, N, 3, this.rpe, v.rpe);
        add(v.innerB, v.rpe, v.out);
      }
    } catch (e) {
      throw tagError('patch_embed', e);
    }
  }

  private block(j: number, x: Tensor, o: LMUFormerBlockBuffers): void {
    this.lmus[j].forward(x, o.h);
    try {
      runDense(o.h, this.projs[j], o.attn, false);
      add(x, o.attn, o.x1);
      runDense(o.x1, this.fc1[j], o.hidden, false);
      gelu(o.hidden, o.hidden);
      runDense(o.hidden, this.fc2[j], o.mlp, true);
      add(o.x1, o.mlp, o.out);
    } catch (e) {
      throw tagError(`block.${j}`, e);
    }
  }
}

/**
 * The official `all_seq` reduction: out[n, b, :] = (Σ_{k ≤ n} x[b, k, :]) / (n + 1) for x f32 [B, N, C] → out
 * [N, B, C], summed in float32 in ascending k and then divided (torch.cumsum, then ÷ arange(1, N + 1)).
 * @example cumulativeMean(features, cum);   // [B, 128, 256] → [128, B, 256]
 */
export function cumulativeMean(x: Tensor, out: Tensor): Tensor {
  if (x.shape.length !== 3) throw new ShapeError(`cumulativeMean: input expected shape [B, N, C], got ${fmtShape(x.shape)}`);
  const [B, N, C] = x.shape;
  checkF32('cumulativeMean', 'input', x, [B, N, C]);
  checkF32('cumulativeMean', 'output', out, [N, B, C]);
  const xv = x.f32, ov = out.f32;
  const f = Math.fround;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let n = 0; n < N; n++) {
        acc = f(acc + xv[(b * N + n) * C + c]);
        ov[(n * B + b) * C + c] = acc / (n + 1);
      }
    }
  }
  return out;
}
