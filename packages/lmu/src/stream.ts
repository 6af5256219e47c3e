// Streaming inference of the Speech Commands LMUFormers (shared/spec/lmuformer.md §4): frames in one at a time (or in
// chunks), and for every frame n the prefix logits of the official `all_seq` evaluation, bit for bit.
//
// Layout: the tokenizer's k = 3 convs keep a per-sequence (batch-major) history of their input frames (frames.ts,
// FrameHistory); everything after the tokenizer is causal and frame-wise, and runs time-major on the frames of the
// step: [T, B, C], T frames of every sequence in one GEMM, one LIFNode of B·C neurons per LIF layer.
import {
  linear, linearWindows, channelAffine, gelu, add, ArgumentError, ShapeError, checkFinite, checkInputKind, firstNonFinite, fmtShape,
  type Arena, type DenseOptions, type PackedDense, type Tensor,
} from '@spikewasm/core-wasm';

/** ReLU-only options of the tokenizer convs (one frozen object, not a literal per call). */
const RELU: DenseOptions = Object.freeze({ relu: true });
import { LIFNode } from '@spikewasm/spiking';
import type { LMU, LMUMemory, LMUMemoryStepper } from './lmu.js';
import { mlpHidden, type LMUFormerConfig } from './config.js';
import { checkF32, copyRowsLoop, runConv3, runDense, tagError, type ChannelAffine, type Dense } from './internal.js';
import { BatchRows, FrameHistory, TimeRows, copyFloats } from './frames.js';

/**
 * Frames of look-ahead of the Speech Commands LMUFormers: the prefix logits of frame n are ready once frame
 * n + 5 has arrived. Each of the five k = 3 convs of the tokenizer (four convs and rpe_conv, in both models) needs
 * one future frame of its input, and they are chained; everything after the tokenizer is causal.
 */
export const LMUFORMER_LOOKAHEAD = 5;

/** Options of `LMUFormer.stream()` and `SpikingLMUFormer.stream()`. */
export interface LMUFormerStreamOptions {
  /**
   * The LMU memory's streaming form: `'fir'` (default) keeps the last seq_len = 128 inputs u and equals the parallel
   * model with lmuMode `'fir'` bit for bit (and the `'fft'` form within its rounding, ~1e-6); `'recurrent'` keeps
   * m and runs m_t = Ā m_{t−1} + B̄ u_t, equal bit for bit to the parallel `'recurrent'` form. Past frame 128 (no
   * parallel counterpart: the official model takes 128 frames) `'fir'` slides its 128-tap window and `'recurrent'`
   * keeps the infinite impulse response.
   */
  lmuMode?: 'fir' | 'recurrent';
  /** The most frames one {@link LMUFormerStream.pushChunk} call takes (default 128). Buffers are sized for it. */
  maxChunk?: number;
  /**
   * Accept NaN/±Infinity in pushed frames (true) or reject them with a NonFiniteError before any state changes
   * (false). Default: the model's `allowNonFinite` (false unless set).
   */
  allowNonFinite?: boolean;
}

/** What {@link SpikingLMUFormerStreamOptions.onSpikes} receives after every LIF layer of a step. */
export interface StreamSpikes {
  /** The official layer name (`patch_embed.proj_lif`, `block.0.attn.lmu.f_m`, `head_lif`, …). */
  layer: string;
  /**
   * The spikes of this step (0/1 f32): tokenizer layers run per sequence, [T, C] of sequence `batchIndex`; the
   * block and head layers [T, B, C] of every sequence (`batchIndex` −1). Valid during the callback only.
   */
  spikes: Tensor;
  /** The frame index of the first row. */
  frame: number;
  /** The sequence of a tokenizer layer, or −1. */
  batchIndex: number;
}

/** Options of `SpikingLMUFormer.stream()`. */
export interface SpikingLMUFormerStreamOptions extends LMUFormerStreamOptions {
  /** Called after every LIF layer of every step with its spikes (for inspection and tests; off by default). */
  onSpikes?: (e: StreamSpikes) => void;
}

/** The weights a non-spiking stream reads (the model's own tensors, shared, not copied). */
export interface LMUFormerStreamWeights {
  config: LMUFormerConfig;
  convs: readonly PackedDense[];
  convBn: readonly ChannelAffine[];
  rpe: PackedDense;
  lmus: readonly LMU[];
  projs: readonly Dense[];
  fc1: readonly Dense[];
  fc2: readonly Dense[];
  head: PackedDense;
  headBias: Tensor;
}

/** A spiking block's weights as the stream reads them. */
export interface SpikingStreamBlock {
  prevBn: ChannelAffine;
  wU: Dense;
  memory: LMUMemory;
  bnM: ChannelAffine;
  wH: Dense;
  proj: Dense;
  fc1Bn: ChannelAffine;
  fc1: Dense;
  fc2: Dense;
  /** LIF names and thresholds, in order: prev_lif, f_u, f_m, f_h, fc1_lif, fc2_lif. */
  lifs: readonly { name: string; vThreshold: number }[];
}

/** The weights a spiking stream reads. */
export interface SpikingLMUFormerStreamWeights {
  config: LMUFormerConfig;
  /** proj_conv, proj_conv1, proj_conv2, proj_conv3 (BNs folded or kept as the model was built). */
  convs: readonly Dense[];
  /** The names of proj_lif … proj_lif3. */
  tokLifNames: readonly string[];
  bn3: ChannelAffine;
  rpe: Dense;
  blocks: readonly SpikingStreamBlock[];
  headBn: ChannelAffine;
  head: PackedDense;
  headBias: Tensor;
}

/**
 * The common part of the two Speech Commands streams: input staging, the five conv histories, the running-mean head
 * and the push / pushChunk / flush / reset protocol. See {@link LMUFormerStream}.
 */
abstract class ScStream {
  /** Frames of look-ahead: the prefix logits of frame n come with the push of frame n + 5. */
  readonly lookahead = LMUFORMER_LOOKAHEAD;
  readonly lmuMode: 'fir' | 'recurrent';
  readonly maxChunk: number;
  /** Whether pushed frames may hold NaN/±Infinity (see {@link LMUFormerStreamOptions.allowNonFinite}). */
  readonly allowNonFinite: boolean;
  readonly inChannels: number;
  readonly numClasses: number;
  /** Rows of the time-major buffers: the most frames one step can emit (a chunk, or the 5 of a flush). */
  protected readonly cap: number;
  /** The inputs of the five k = 3 convs (conv 0..3 of the tokenizer, rpe_conv), batch-major with history. */
  protected readonly inp: FrameHistory[] = [];
  private readonly cm: TimeRows;
  private readonly logits: TimeRows;
  private readonly acc: Float32Array;
  /** The head's linear options, made once (no object per step). */
  private readonly headOpts: { bias: Tensor };
  private out = 0;
  private ended = false;

  protected constructor(
    protected readonly arena: Arena, readonly batch: number, config: LMUFormerConfig,
    private readonly head: PackedDense, private readonly headBias: Tensor, options: LMUFormerStreamOptions, who: string,
  ) {
    if (!Number.isSafeInteger(batch) || batch < 1) throw new ArgumentError(`${who}.stream: batch size must be a positive integer, got ${batch}`);
    const mode = options.lmuMode ?? 'fir';
    if (mode !== 'fir' && mode !== 'recurrent') throw new ArgumentError(`${who}.stream: lmuMode must be 'fir' or 'recurrent', got ${String(mode)}`);
    const maxChunk = options.maxChunk ?? 128;
    if (!Number.isSafeInteger(maxChunk) || maxChunk < 1) throw new ArgumentError(`${who}.stream: maxChunk must be a positive integer, got ${maxChunk}`);
    this.lmuMode = mode;
    this.maxChunk = maxChunk;
    this.allowNonFinite = options.allowNonFinite ?? false;
    this.inChannels = config.in_channels;
    this.numClasses = config.num_classes;
    this.cap = Math.max(maxChunk, LMUFORMER_LOOKAHEAD);
    const E = config.embed_dims, R = this.cap + 3; // 2 history rows, the new frames, the final zero frame
    for (let i = 0; i < 5; i++) this.inp.push(new FrameHistory(arena, batch, R, i === 0 ? config.in_channels : E, i < 4 ? `conv ${i} input` : 'rpe_conv input'));
    this.cm = new TimeRows(arena, this.cap, batch, E, 'cumulative mean');
    this.logits = new TimeRows(arena, this.cap, batch, config.num_classes, 'prefix logits');
    this.acc = new Float32Array(batch * E);
    this.headOpts = { bias: headBias };
  }

  /** Input frames pushed since the start of the utterance. */
  get framesIn(): number {
    return this.inp[0].received;
  }

  /** Prefix logits returned since the start of the utterance: the next output is for frame `framesOut`. */
  get framesOut(): number {
    return this.out;
  }

  /**
   * Feeds one frame, f32 [B, in_channels] (a Float32Array of B·in_channels values, or a Tensor of this model's core)
   * and returns the prefix logits [B, classes] of frame `framesOut − 1`, once its look-ahead has arrived (from the
   * 6th frame on), else null. The tensor is this stream's buffer, overwritten by the next call. After
   * {@link ScStream.flush}, the first push starts a new utterance.
   */
  push(frame: Float32Array | Tensor): Tensor | null {
    const B = this.batch, C = this.inChannels;
    const src = this.stage(frame, 1, 'push');
    if (this.ended) this.reset();
    const inp = this.inp[0];
    for (let b = 0; b < B; b++) copyFloats(src, b * C, inp.buf.f32, (b * inp.capacity + inp.rows) * C, C);
    inp.commit(1);
    const n = this.step(false);
    return n === 0 ? null : this.row0();
  }

  /**
   * Feeds T ≤ maxChunk frames at once, time-major f32 [T, B, in_channels] (a Float32Array of T·B·in_channels values,
   * or a Tensor [T, B, in_channels]), and returns the prefix logits [k, B, classes] of the k frames whose look-ahead
   * is now complete (frames framesOut − k … framesOut − 1; k = 0 during the first 5 frames). Equal bit for bit to
   * T calls of {@link ScStream.push}, with fewer, larger GEMMs.
   */
  pushChunk(frames: Float32Array | Tensor): Tensor {
    const B = this.batch, C = this.inChannels;
    checkInputKind('stream.pushChunk', 'input', frames, this.arena.core);
    let T: number;
    if (frames instanceof Float32Array) {
      if (frames.length === 0 || frames.length % (B * C) !== 0) throw new ShapeError(`stream.pushChunk: ${frames.length} values are not T frames of B·in_channels = ${B}·${C}`);
      T = frames.length / (B * C);
    } else {
      T = frames.shape[0] ?? 0;
      if (T < 1) throw new ShapeError(`stream.pushChunk: input expected f32 [T, B, in_channels] = [T ≥ 1, ${B}, ${C}], got ${frames.dtype} ${fmtShape(frames.shape)}`);
    }
    if (T > this.maxChunk) throw new ArgumentError(`stream.pushChunk: ${T} frames exceed maxChunk = ${this.maxChunk} (set it in stream())`);
    const src = this.stage(frames, T, 'pushChunk');
    if (this.ended) this.reset();
    const inp = this.inp[0], dst = inp.buf.f32;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) copyFloats(src, (t * B + b) * C, dst, (b * inp.capacity + inp.rows + t) * C, C);
    inp.commit(T);
    return this.logits.first(this.step(false));
  }

  /**
   * Ends the utterance: each conv gets the zero frame that its zero padding puts after the last frame, in its own
   * input domain (not a zero fbank frame), and the last min(5, framesIn) prefix logits come out, [k, B, classes]
   * (frames framesIn − k … framesIn − 1). After 128 frames they equal the last 5 rows of the parallel `all_seq`
   * output; after fewer, the parallel model's `forwardUtterance` on those frames. The next push starts a new utterance.
   */
  flush(): Tensor {
    if (this.ended) return this.logits.first(0);
    const n = this.step(true);
    this.ended = true;
    return this.logits.first(n);
  }

  /** Forgets the current utterance: every conv history, LIF membrane, LMU memory and the running mean (state only; no allocation). */
  reset(): void {
    for (const h of this.inp) h.reset();
    this.acc.fill(0);
    this.out = 0;
    this.ended = false;
    this.resetState();
  }

  /** The same as {@link ScStream.reset} (spikingjelly's name, `functional.reset_net`). */
  resetNet(): void {
    this.reset();
  }

  /** Runs the tokenizer and the blocks on what the inputs allow; returns the frames n ready, features in headInput(n). */
  protected abstract run(final: boolean): number;

  /** [n, B, E]: what the head averages (the last block's output, or the head_lif spikes). */
  protected abstract headInput(n: number): Tensor;

  protected abstract resetState(): void;

  private row0Cache: Tensor | null = null;

  private row0(): Tensor {
    if (!this.row0Cache) this.row0Cache = this.arena.core.view(this.logits.buf.ptr, [this.batch, this.numClasses], 'f32', 'prefix logits');
    return this.row0Cache;
  }

  /** Checks an input of T frames and returns its values. */
  private stage(x: Float32Array | Tensor, T: number, op: string): Float32Array {
    const B = this.batch, C = this.inChannels;
    checkInputKind(`stream.${op}`, 'input', x, this.arena.core);
    let values: Float32Array;
    if (x instanceof Float32Array) {
      if (x.length !== T * B * C) throw new ShapeError(`stream.${op}: expected ${T === 1 && op === 'push' ? `[B, in_channels] = ${B}·${C}` : `${T}·${B}·${C}`} values, got ${x.length}`);
      values = x;
    } else {
      if (x.dtype !== 'f32' || x.shape.length !== (op === 'push' ? 2 : 3)) checkF32(`stream.${op}`, 'input', x, op === 'push' ? [B, C] : [T, B, C]);
      const s = x.shape, o = op === 'push' ? 0 : 1;
      if (s[o] !== B || s[o + 1] !== C) checkF32(`stream.${op}`, 'input', x, op === 'push' ? [B, C] : [T, B, C]);
      values = x.f32;
    }
    // before any state changes: a rejected frame leaves the stream as it was
    if (!this.allowNonFinite && firstNonFinite(values, 0, T * B * C) >= 0) checkFinite(`stream.${op}`, 'input', values, op === 'push' ? [B, C] : [T, B, C]);
    return values;
  }

  /** One step of the pipeline, then the running mean and the head for the n frames it completed. */
  private step(final: boolean): number {
    let n: number;
    try {
      n = this.run(final);
      if (n === 0) return 0;
      const x = this.headInput(n).f32, cm = this.cm.first(n), cv = cm.f32, acc = this.acc, BE = acc.length;
      // the official all_seq reduction (cumulativeMean): Σ in float32 in frame order, then ÷ (n + 1), per frame
      for (let t = 0; t < n; t++) {
        const div = this.out + t + 1, o = t * BE;
        for (let i = 0; i < BE; i++) {
          acc[i] += x[o + i];
          cv[o + i] = acc[i] / div;
        }
      }
      linear(cm, this.head, this.logits.first(n), this.headOpts);
    } catch (e) {
      throw tagError('stream', e);
    }
    this.out += n;
    return n;
  }
}

/**
 * The streaming form of {@link LMUFormer} (`model.stream(batch)`): frames in, one at a time or in chunks, prefix
 * logits out, for B independent sequences:
 *
 *     push(frame [B, in_channels])       → null for the first 5 frames, then the logits [B, classes] of frame n − 5
 *     pushChunk(frames [T, B, C])        → the logits [k, B, classes] of the k frames completed
 *     flush()                            → the last min(5, framesIn) logits [k, B, classes]; ends the utterance
 *
 * The logits of frame n are row n of the parallel model's `all_seq` output [N, B, classes] (the head on the cumulative
 * mean of the features over frames 0..n), bit for bit when the parallel model's LMU runs the same form (`'fir'` by
 * default). Look-ahead: 5 frames ({@link LMUFORMER_LOOKAHEAD}). All buffers are allocated by `stream()`; a step
 * allocates no Wasm memory and creates no tensors (it reuses cached views).
 * @example
 * const s = model.stream(1);
 * for (const f of frames) { const l = s.push(f); if (l) show(l.f32); }   // f: Float32Array [128]
 * for (let i = 0, last = s.flush(); i < last.shape[0]; i++) show(last.f32.subarray(i * 35, (i + 1) * 35));
 */
export class LMUFormerStream extends ScStream {
  private readonly rpeOut: BatchRows;
  private readonly x: TimeRows;
  private readonly blocks: {
    u: TimeRows; cat: TimeRows; h: TimeRows; attn: TimeRows; x1: TimeRows; hidden: TimeRows; mlp: TimeRows; out: TimeRows; mem: LMUMemoryStepper;
    /** The options of W_u and W_h (bias, ReLU), made once. */
    uOpts: DenseOptions; hOpts: DenseOptions;
  }[];

  /** Use `LMUFormer.stream()`. */
  constructor(arena: Arena, private readonly w: LMUFormerStreamWeights, batch = 1, options: LMUFormerStreamOptions = {}) {
    super(arena, batch, w.config, w.head, w.headBias, options, 'LMUFormer');
    const c = w.config, E = c.embed_dims, Hm = mlpHidden(c), cap = this.cap;
    const tm = (C: number, name: string) => new TimeRows(arena, cap, batch, C, name);
    this.rpeOut = new BatchRows(arena, batch, cap, E, 'patch_embed (stream)');
    this.x = tm(E, 'patch_embed');
    this.blocks = w.lmus.map((lmu, j) => ({
      u: tm(1, `block.${j}.attn.lmu.u`),
      cat: tm(lmu.order + E, `block.${j}.attn.lmu.[m;x]`),
      h: tm(E, `block.${j}.attn.lmu.h`),
      attn: tm(E, `block.${j}.attn`),
      x1: tm(E, `block.${j}.x1`),
      hidden: tm(Hm, `block.${j}.mlp.hidden`),
      mlp: tm(E, `block.${j}.mlp`),
      out: tm(E, `block.${j}`),
      mem: lmu.memory.stepper(batch, this.lmuMode),
      uOpts: { bias: lmu.bU, relu: true }, hOpts: { bias: lmu.bH, relu: true },
    }));
  }

  protected resetState(): void {
    for (const b of this.blocks) b.mem.reset();
  }

  protected headInput(n: number): Tensor {
    return this.blocks[this.blocks.length - 1].out.first(n);
  }

  protected run(final: boolean): number {
    const B = this.batch, w = this.w, inp = this.inp;
    // tokenizer: conv_i → ReLU → BN_i, i = 0..3, each into the next conv's history
    for (let i = 0; i < 4; i++) {
      const src = inp[i], dst = inp[i + 1];
      const n = src.take(final);
      if (n > 0) {
        for (let b = 0; b < B; b++) {
          const out = dst.tail(b, n);
          linearWindows(src.whole(b), src.start, n, 3, w.convs[i], out, RELU);
          channelAffine(out, w.convBn[i].scale, w.convBn[i].shift, out, 1);
        }
        dst.commit(n);
      }
      src.shift();
    }
    // x + rpe_conv(x): x is the centre row of each window
    const src = inp[4], n = src.take(final);
    if (n > 0) {
      const E = w.config.embed_dims, xv = this.x.buf.f32;
      for (let b = 0; b < B; b++) {
        const r = this.rpeOut.view(b, 0, n);
        linearWindows(src.whole(b), src.start, n, 3, w.rpe, r);
        add(src.view(b, src.start + 1, n), r, r);
        copyRowsLoop(r.f32, 0, E, xv, b * E, B * E, n, E);
      }
    }
    src.shift();
    if (n === 0) return 0;
    let x = this.x.first(n);
    for (let j = 0; j < this.blocks.length; j++) {
      const o = this.blocks[j], lmu = w.lmus[j], d = lmu.order, E = w.config.embed_dims;
      const cat = o.cat.first(n), h = o.h.first(n), attn = o.attn.first(n), x1 = o.x1.first(n);
      const hidden = o.hidden.first(n), mlp = o.mlp.first(n), out = o.out.first(n);
      try {
        // the LMU cell (LMU.forward, one step at a time): u = ReLU(W_u x + b), m (streamed), h = ReLU(W_h [m ; x] + b)
        linear(x, lmu.wU, o.u.first(n), o.uOpts);
        o.mem.stepMany(o.u.flat(n), cat);
        copyRowsLoop(x.f32, 0, E, cat.f32, d, d + E, n * B, E);
        linear(cat, lmu.wH, h, o.hOpts);
        runDense(h, w.projs[j], attn, false);
        add(x, attn, x1);
        runDense(x1, w.fc1[j], hidden, false);
        gelu(hidden, hidden);
        runDense(hidden, w.fc2[j], mlp, true);
        add(x1, mlp, out);
      } catch (e) {
        throw tagError(`block.${j}`, e);
      }
      x = out;
    }
    return n;
  }
}

interface SpikingStreamBlockBuffers {
  pre: TimeRows;
  s: TimeRows;
  uPre: TimeRows;
  u: TimeRows;
  memory: TimeRows;
  memoryBn: TimeRows;
  memorySpikes: TimeRows;
  cat: TimeRows;
  hPre: TimeRows;
  h: TimeRows;
  attn: TimeRows;
  x1: TimeRows;
  s1: TimeRows;
  hidden: TimeRows;
  s2: TimeRows;
  mlp: TimeRows;
  out: TimeRows;
  mem: LMUMemoryStepper;
  /** prev_lif, f_u, f_m, f_h, fc1_lif, fc2_lif: B·C neurons each, membranes persist across steps. */
  lif: LIFNode[];
}

/**
 * The streaming form of {@link SpikingLMUFormer} (`model.stream(batch)`), with the protocol of
 * {@link LMUFormerStream}: look-ahead 5 frames (proj_conv, proj_conv1, proj_conv2, proj_conv3 and rpe_conv are the
 * five k = 3 convs), prefix logits = head(cumulative mean of the head_lif spikes). Every LIF runs along the frames
 * with its membrane per sequence and neuron kept across steps, so the spikes of every layer equal the parallel
 * model's, and the logits equal its `all_seq` rows bit for bit (same LMU form; `'fir'` by default).
 * @example
 * const s = model.stream(2, { onSpikes: (e) => log(e.layer, e.frame) });
 * s.pushChunk(frames);   // [T, 2, 128] → [k, 2, 35]
 */
export class SpikingLMUFormerStream extends ScStream {
  private readonly pre: BatchRows;
  private readonly x3: FrameHistory;
  private readonly rpeOut: BatchRows;
  private readonly x: TimeRows;
  /** tokLif[i][b]: proj_lif_i of sequence b (C neurons). */
  private readonly tokLif: LIFNode[][];
  private readonly blocks: SpikingStreamBlockBuffers[];
  private readonly headPre: TimeRows;
  private readonly headSpikes: TimeRows;
  private readonly headLif: LIFNode;
  private readonly onSpikes: ((e: StreamSpikes) => void) | null;
  /** The LIF outputs object, refilled per layer call (LIFNode.forward keeps nothing). */
  private readonly lifOut: { floats: Tensor | undefined } = { floats: undefined };

  /** Use `SpikingLMUFormer.stream()`. */
  constructor(arena: Arena, private readonly w: SpikingLMUFormerStreamWeights, batch = 1, options: SpikingLMUFormerStreamOptions = {}) {
    super(arena, batch, w.config, w.head, w.headBias, options, 'SpikingLMUFormer');
    const c = w.config, E = c.embed_dims, Hm = mlpHidden(c), d = 2 * E, cap = this.cap;
    this.onSpikes = options.onSpikes ?? null;
    const tm = (C: number, name: string) => new TimeRows(arena, cap, batch, C, name);
    this.pre = new BatchRows(arena, batch, cap, E, 'patch_embed pre-LIF (stream)');
    this.x3 = new FrameHistory(arena, batch, cap + 3, E, 'patch_embed.x3 (stream)');
    this.rpeOut = new BatchRows(arena, batch, cap, E, 'patch_embed (stream)');
    this.x = tm(E, 'patch_embed');
    this.tokLif = w.tokLifNames.map((name) => Array.from({ length: batch }, () => new LIFNode(arena, [E], { name, stepMode: 'm' })));
    this.blocks = w.blocks.map((bw, j) => {
      const p = `block.${j}`;
      const sizes = [E, 1, d, E, E, Hm];
      return {
        pre: tm(E, `${p}.pre`), s: tm(E, `${p}.attn.prev_lif`), uPre: tm(1, `${p}.attn.lmu.u_pre`), u: tm(1, `${p}.attn.lmu.f_u`),
        memory: tm(d, `${p}.attn.lmu.memory`), memoryBn: tm(d, `${p}.attn.lmu.bn_m`), memorySpikes: tm(d, `${p}.attn.lmu.f_m`),
        cat: tm(d + E, `${p}.attn.lmu.[m;s]`), hPre: tm(E, `${p}.attn.lmu.h_pre`), h: tm(E, `${p}.attn.lmu.f_h`),
        attn: tm(E, `${p}.attn`), x1: tm(E, `${p}.x1`), s1: tm(E, `${p}.mlp.fc1_lif`), hidden: tm(Hm, `${p}.mlp.hidden`),
        s2: tm(Hm, `${p}.mlp.fc2_lif`), mlp: tm(E, `${p}.mlp`), out: tm(E, p),
        mem: bw.memory.stepper(batch, this.lmuMode),
        lif: bw.lifs.map((l, i) => new LIFNode(arena, [batch, sizes[i]], { name: l.name, vThreshold: l.vThreshold, stepMode: 'm' })),
      };
    });
    this.headPre = tm(E, 'head_bn');
    this.headSpikes = tm(E, 'head_lif');
    this.headLif = new LIFNode(arena, [batch, E], { name: 'head_lif', stepMode: 'm' });
  }

  protected resetState(): void {
    this.x3.reset();
    for (const l of this.tokLif) for (const q of l) q.reset();
    for (const b of this.blocks) {
      b.mem.reset();
      for (const l of b.lif) l.reset();
    }
    this.headLif.reset();
  }

  protected headInput(n: number): Tensor {
    return this.headSpikes.first(n);
  }

  private lifFloats(spikes: Tensor): { floats: Tensor | undefined } {
    this.lifOut.floats = spikes;
    return this.lifOut;
  }

  /** A LIF layer over n frames (time-major [n, B, C]) with its membranes kept, and the onSpikes hook. */
  private lif(node: LIFNode, x: Tensor, spikes: Tensor, frame: number): void {
    this.lifOut.floats = spikes;
    node.forward(x, this.lifOut);
    this.onSpikes?.({ layer: node.name, spikes, frame, batchIndex: -1 });
  }

  protected run(final: boolean): number {
    const B = this.batch, w = this.w, inp = this.inp, E = w.config.embed_dims;
    // tokenizer: conv_i → (BN_i folded) → LIF_i, i = 0..2, spikes into the next conv's history
    for (let i = 0; i < 3; i++) {
      const src = inp[i], dst = inp[i + 1];
      const frame = src.emitted, n = src.take(final);
      if (n > 0) {
        for (let b = 0; b < B; b++) {
          const pre = this.pre.view(b, 0, n), spikes = dst.tail(b, n);
          runConv3(src.whole(b), src.start, n, w.convs[i], pre);
          this.tokLif[i][b].forward(pre, this.lifFloats(spikes));
          this.onSpikes?.({ layer: w.tokLifNames[i], spikes, frame, batchIndex: b });
        }
        dst.commit(n);
      }
      src.shift();
    }
    // x3 = proj_conv3(s), kept for the residual; its spikes LIF(bn3(x3)) go to rpe_conv
    {
      const src = inp[3], dst = inp[4];
      const frame = src.emitted, n = src.take(final);
      if (n > 0) {
        for (let b = 0; b < B; b++) {
          const x3 = this.x3.tail(b, n), pre = this.pre.view(b, 0, n), spikes = dst.tail(b, n);
          runConv3(src.whole(b), src.start, n, w.convs[3], x3);
          channelAffine(x3, w.bn3.scale, w.bn3.shift, pre, 1);
          this.tokLif[3][b].forward(pre, this.lifFloats(spikes));
          this.onSpikes?.({ layer: w.tokLifNames[3], spikes, frame, batchIndex: b });
        }
        dst.commit(n);
        this.x3.commit(n);
      }
      src.shift();
    }
    // patch_embed = x3 + rpe_conv(spikes): x3 of the window's centre frame (x3 shifts in step with rpe_conv's input)
    const src = inp[4], frame = src.emitted, n = src.take(final);
    if (n > 0) {
      const xv = this.x.buf.f32;
      for (let b = 0; b < B; b++) {
        const r = this.rpeOut.view(b, 0, n);
        runConv3(src.whole(b), src.start, n, w.rpe, r);
        add(this.x3.view(b, src.start + 1, n), r, r);
        copyRowsLoop(r.f32, 0, E, xv, b * E, B * E, n, E);
      }
    }
    src.shift();
    this.x3.shift();
    if (n === 0) return 0;
    let x = this.x.first(n);
    for (let j = 0; j < this.blocks.length; j++) {
      const bw = w.blocks[j], o = this.blocks[j], d = 2 * E, lif = o.lif;
      const pre = o.pre.first(n), s = o.s.first(n), uPre = o.uPre.first(n), u = o.u.first(n), memory = o.memory.first(n);
      const memoryBn = o.memoryBn.first(n), memorySpikes = o.memorySpikes.first(n), cat = o.cat.first(n), hPre = o.hPre.first(n);
      const h = o.h.first(n), attn = o.attn.first(n), x1 = o.x1.first(n), s1 = o.s1.first(n), hidden = o.hidden.first(n);
      const s2 = o.s2.first(n), mlp = o.mlp.first(n), out = o.out.first(n);
      try {
        channelAffine(x, bw.prevBn.scale, bw.prevBn.shift, pre, 2);
        this.lif(lif[0], pre, s, frame);
        runDense(s, bw.wU, uPre);
        this.lif(lif[1], uPre, u, frame);
        o.mem.stepMany(o.u.flat(n), memory);
        channelAffine(memory, bw.bnM.scale, bw.bnM.shift, memoryBn, 2);
        this.lif(lif[2], memoryBn, memorySpikes, frame);
        copyRowsLoop(memorySpikes.f32, 0, d, cat.f32, 0, d + E, n * B, d);
        copyRowsLoop(s.f32, 0, E, cat.f32, d, d + E, n * B, E);
        runDense(cat, bw.wH, hPre);
        this.lif(lif[3], hPre, h, frame);
        runDense(h, bw.proj, attn);
        add(x, attn, x1);
        channelAffine(x1, bw.fc1Bn.scale, bw.fc1Bn.shift, pre, 2);
        this.lif(lif[4], pre, s1, frame);
        runDense(s1, bw.fc1, hidden);
        this.lif(lif[5], hidden, s2, frame);
        runDense(s2, bw.fc2, mlp);
        add(x1, mlp, out);
      } catch (e) {
        throw tagError(`block.${j}`, e);
      }
      x = out;
    }
    channelAffine(x, w.headBn.scale, w.headBn.shift, this.headPre.first(n), 2);
    this.lif(this.headLif, this.headPre.first(n), this.headSpikes.first(n), frame);
    return n;
  }
}
