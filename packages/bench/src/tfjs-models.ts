// The whole models of the benchmark written in @tensorflow/tfjs-core op by op, as a tfjs user would (issue #8): the
// non-spiking LMUFormer (`lmu_rnn_conv1d`) and the spiking LMUFormer (`slmu_rnn_ms_conv1d`) of Speech Commands v2,
// each as one 128-frame clip and as a frame-by-frame stream, and the CIFAR Spikformer, from the same state dict as
// our models (eval mode; the BNs folded into the conv/linear before them exactly where our models fold them, with
// core-wasm's foldBatchNorm; the others as tf.batchNorm). Layout: frames × channels ([N, C], the conv1d input
// [1, N, C]), images NHWC with T as the batch axis.
//
// - conv1d k = 3: tf.conv1d 'same'; in a stream, tf.conv1d 'valid' on a [1, 3, C] window whose 2-frame history is a
//   tensor. 1×1 convs and linears: tf.fused.matMul with the weights stored [in, out] (+ bias, ReLU fused).
// - GELU: the exact erf form, x·(1 + erf(x/√2))/2 (tfjs-backend-wasm has an Erf kernel).
// - LIF (τ = 2, V_reset = 0, decay_input, hard reset): a loop over the time axis, h = v + (x − v)/2, s = h ≥ V_th,
//   v = h·(1 − s): the same float32 operations as our kernel.
// - LMU memory, clip: m_t = Σ_s H[:, s]·u_{t−s} as one GEMM, the lower-triangular Toeplitz matrix of u (tf.gather of
//   u into [N, N]) times Hᵀ [N, d] (tfjs-backend-wasm has no FFT kernel); stream: the recurrence m ← m Āᵀ + u B̄ᵀ.
//   Ā, B̄, H from @spikewasm/lmu's lmuBuffers (what our model computes when the state dict has no A, B, H).
// - Spiking self-attention: float matmuls (Q Kᵀ) V on the 0/1 tensors, × s.
// - MaxPool k3 s2 p1: tf.maxPool with pad 1 (on spikes ≥ 0 the padding never wins).
import type * as Tf from '@tensorflow/tfjs-core';
import { foldBatchNorm, type BatchNormParams } from '@spikewasm/core-wasm';
import { lmuBuffers, mlpHidden, type LMUFormerConfig } from '@spikewasm/lmu';
import { spikformerGeometry, type SpikformerConfig, type SpikformerVariant } from '@spikewasm/spikformer';

type TF = typeof Tf;
type T = Tf.Tensor;
/** A state dict: name → values, or → { data, shape } (core-wasm's CheckpointTensor). */
type StateDict = ReadonlyMap<string, ArrayLike<number> | { data: ArrayLike<number | bigint>; shape: readonly number[] }>;
/** Receives the spikes of a LIF layer (called only when recording, outside timing): [frames or T, ...]. */
export type SpikeRecorder = (layer: string, spikes: T) => void;

/** Transposes a row-major [rows, cols] matrix. */
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function getter(sd: StateDict, who: string) {
  return (k: string): Float32Array => {
    const v = sd.get(k);
    if (!v) throw new Error(`${who}: the state dict has no ${k}`);
    return Float32Array.from(('data' in v ? v.data : v) as ArrayLike<number>);
  };
}

function bnOf(get: (k: string) => Float32Array, p: string): BatchNormParams {
  return { weight: get(`${p}.weight`), bias: get(`${p}.bias`), runningMean: get(`${p}.running_mean`), runningVar: get(`${p}.running_var`) };
}

/** A linear / 1×1 conv: weights [in, out] (as tf.layers.dense stores them) and a bias. */
interface Dense { w: Tf.Tensor2D; b: Tf.Tensor1D }
/** An unfolded eval-mode BN (tf.batchNorm's arguments). */
interface Bn { mean: Tf.Tensor1D; variance: Tf.Tensor1D; offset: Tf.Tensor1D; scale: Tf.Tensor1D }

/** Owns the weight tensors of a model (disposed together). */
class Weights {
  readonly all: T[] = [];
  constructor(readonly tf: TF) {}
  keep<X extends T>(t: X): X {
    this.all.push(this.tf.keep(t));
    return t;
  }
  /** PyTorch [out, inp] (+ bias), the BN after it folded in when given. */
  dense(w: ArrayLike<number>, b: ArrayLike<number> | null, out: number, inp: number, bn?: BatchNormParams | null): Dense {
    const f = bn ? foldBatchNorm(w, b, bn) : { weight: w, bias: b ?? new Float32Array(out) };
    return { w: this.keep(this.tf.tensor2d(transpose(f.weight, out, inp), [inp, out])), b: this.keep(this.tf.tensor1d(Float32Array.from(f.bias))) };
  }
  /** PyTorch conv1d weights [Cout, Cin, k] → tfjs filter [k, Cin, Cout]. */
  conv1d(w: ArrayLike<number>, cout: number, cin: number, k = 3): Tf.Tensor3D {
    const f = new Float32Array(k * cin * cout);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let j = 0; j < k; j++) f[(j * cin + i) * cout + o] = w[(o * cin + i) * k + j];
    return this.keep(this.tf.tensor3d(f, [k, cin, cout]));
  }
  /** PyTorch conv2d weights [Cout, Cin, 3, 3] → tfjs filter [3, 3, Cin, Cout] (HWIO). */
  conv2d(w: ArrayLike<number>, cout: number, cin: number): Tf.Tensor4D {
    const f = new Float32Array(9 * cin * cout);
    for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let k = 0; k < 9; k++) f[(k * cin + i) * cout + o] = w[(o * cin + i) * 9 + k];
    return this.keep(this.tf.tensor4d(f, [3, 3, cin, cout]));
  }
  bn(p: BatchNormParams): Bn {
    const t = (a: ArrayLike<number>) => this.keep(this.tf.tensor1d(Float32Array.from(a)));
    return { mean: t(p.runningMean), variance: t(p.runningVar), offset: t(p.bias), scale: t(p.weight) };
  }
  /** A folded conv's bias (its BN's shift), or null. */
  vec(a: ArrayLike<number> | null): Tf.Tensor1D | null {
    return a ? this.keep(this.tf.tensor1d(Float32Array.from(a))) : null;
  }
  dispose(): void {
    this.tf.dispose(this.all);
    this.all.length = 0;
  }
}

/** The ops every model uses. */
class Ops {
  constructor(readonly tf: TF) {}
  lin(x: T, d: Dense, activation: 'linear' | 'relu' = 'linear'): Tf.Tensor2D {
    return this.tf.fused.matMul({ a: x as Tf.Tensor2D, b: d.w, bias: d.b, activation }) as Tf.Tensor2D;
  }
  bn(x: T, b: Bn): T {
    return this.tf.batchNorm(x, b.mean, b.variance, b.offset, b.scale, 1e-5);
  }
  gelu(x: T): T {
    const tf = this.tf;
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  }
  /** One LIF step from membrane v: [spikes, new v]. */
  lifStep(v: T, x: T, vth: number): [T, T] {
    const tf = this.tf;
    const h = tf.add(v, tf.div(tf.sub(x, v), 2));
    const s = tf.cast(tf.greaterEqual(h, vth), 'float32');
    return [s, tf.mul(h, tf.sub(1, s))];
  }
  /** A LIF along axis 0 of x (frames or time steps), from rest: spikes of x's shape. */
  lifSeq(x: T, vth = 1): T {
    const xs = this.tf.unstack(x);
    let v = this.tf.zerosLike(xs[0]);
    const out: T[] = [];
    for (const xt of xs) {
      const [s, nv] = this.lifStep(v, xt, vth);
      out.push(s);
      v = nv;
    }
    return this.tf.stack(out);
  }
  /** A LIF run `steps` times on the same input (a static image repeated T times), from rest: [steps, ...x]. */
  lifRepeat(x: T, steps: number, vth = 1): T {
    let v = this.tf.zerosLike(x);
    const out: T[] = [];
    for (let t = 0; t < steps; t++) {
      const [s, nv] = this.lifStep(v, x, vth);
      out.push(s);
      v = nv;
    }
    return this.tf.stack(out);
  }
  /** conv1d k = 3 over frames x [N, Cin] with 'same' (zero) padding, optional bias: [N, Cout]. */
  conv1d(x: T, f: Tf.Tensor3D, bias: T | null = null): Tf.Tensor2D {
    const tf = this.tf, [N, C] = x.shape;
    let y: T = tf.conv1d(tf.reshape(x, [1, N, C]) as Tf.Tensor3D, f, 1, 'same');
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [N, f.shape[2]]);
  }
}

/** The LMU memory buffers of one block: Āᵀ [d, d], B̄ᵀ [1, d], Hᵀ [L, d]. */
interface LmuMats { at: Tf.Tensor2D; bt: Tf.Tensor2D; ht: Tf.Tensor2D; d: number }

function lmuMats(w: Weights, d: number, L: number): LmuMats {
  const { A, B, H } = lmuBuffers(d, L, L);
  const tf = w.tf;
  return {
    at: w.keep(tf.tensor2d(transpose(A, d, d), [d, d])), bt: w.keep(tf.tensor2d(B, [1, d])),
    ht: w.keep(tf.tensor2d(transpose(H, d, L), [L, d])), d,
  };
}

/** The clip form of the LMU memory: M = Toeplitz(u) Hᵀ, M[t] = Σ_{s ≤ t} u[t − s]·H[:, s], for u [N, 1] → [N, d]. */
class Toeplitz {
  private readonly idx: Tf.Tensor2D;
  constructor(w: Weights, readonly N: number) {
    const idx = new Int32Array(N * N);
    // row t, column s: u[t − s] (index t − s + 1 of [0, u]) for s ≤ t, else the 0 in front
    for (let t = 0; t < N; t++) for (let s = 0; s <= t; s++) idx[t * N + s] = t - s + 1;
    this.idx = w.keep(w.tf.tensor2d(idx, [N, N], 'int32'));
  }
  apply(tf: TF, u: T, m: LmuMats): T {
    const uPad = tf.concat([tf.zeros([1]), tf.reshape(u, [this.N])]);
    return tf.matMul(tf.gather(uPad, this.idx) as Tf.Tensor2D, tf.slice(m.ht, [0, 0], [this.N, m.d]));
  }
}

/** What both LMUFormers share: the weights, the ops, the widths, the head and the clip's Toeplitz index (128 frames). */
abstract class TfLmuModel {
  readonly w: Weights;
  readonly ops: Ops;
  readonly E: number;
  readonly Cin: number;
  readonly head: Dense;
  protected readonly get: (k: string) => Float32Array;
  protected readonly toeplitz: Toeplitz;

  constructor(tf: TF, readonly config: LMUFormerConfig, sd: StateDict, who: string) {
    this.w = new Weights(tf);
    this.ops = new Ops(tf);
    this.get = getter(sd, who);
    this.E = config.embed_dims;
    this.Cin = config.in_channels;
    this.head = this.w.dense(this.get('head.weight'), this.get('head.bias'), config.num_classes, this.E);
    this.toeplitz = new Toeplitz(this.w, 128);
  }

  dispose(): void {
    this.w.dispose();
  }
}

// ---------------------------------------------------------------- LMUFormer (non-spiking)

interface PlainBlock { wu: Dense; lmu: LmuMats; wh: Dense; proj: Dense; fc1: Dense; fc2: Dense }

/** The weights of `lmu_rnn_conv1d` as tfjs tensors: tokenizer Conv → ReLU → BN (unfolded), the rest folded. */
export class TfLMUFormer extends TfLmuModel {
  readonly convs: Tf.Tensor3D[];
  readonly convBn: Bn[];
  readonly rpe: Tf.Tensor3D;
  readonly blocks: PlainBlock[];

  constructor(tf: TF, config: LMUFormerConfig, sd: StateDict) {
    super(tf, config, sd, 'TfLMUFormer');
    const w = this.w, get = this.get, E = this.E, Cin = this.Cin, Hm = mlpHidden(config), L = 128;
    this.convs = [0, 1, 2, 3].map((i) => w.conv1d(get(`patch_embed.conv_layers.${i}.0.weight`), E, i === 0 ? Cin : E));
    this.convBn = [0, 1, 2, 3].map((i) => w.bn(bnOf(get, `patch_embed.conv_layers.${i}.3`)));
    this.rpe = w.conv1d(get('patch_embed.rpe_conv.weight'), E, E);
    this.blocks = Array.from({ length: config.depths }, (_, j) => {
      const p = `block.${j}`;
      return {
        wu: w.dense(get(`${p}.attn.lmu.W_u.weight`), get(`${p}.attn.lmu.W_u.bias`), 1, E),
        lmu: lmuMats(w, E, L),
        wh: w.dense(get(`${p}.attn.lmu.W_h.weight`), get(`${p}.attn.lmu.W_h.bias`), E, 2 * E),
        proj: w.dense(get(`${p}.attn.proj_conv.weight`), get(`${p}.attn.proj_conv.bias`), E, E, bnOf(get, `${p}.attn.proj_bn`)),
        fc1: w.dense(get(`${p}.mlp.fc1_conv.weight`), get(`${p}.mlp.fc1_conv.bias`), Hm, E, bnOf(get, `${p}.mlp.fc1_bn`)),
        fc2: w.dense(get(`${p}.mlp.fc2_conv.weight`), get(`${p}.mlp.fc2_conv.bias`), E, Hm, bnOf(get, `${p}.mlp.fc2_bn`)),
      };
    });
  }

  /** One block on x [n, E] with the memory m [n, E] (the FFN and everything but the memory are per frame). */
  block(b: PlainBlock, x: T, memory: (u: T) => T): T {
    const tf = this.ops.tf, o = this.ops;
    const u = o.lin(x, b.wu, 'relu');
    const h = o.lin(tf.concat([memory(u), x], 1), b.wh, 'relu');
    const x1 = tf.add(x, o.lin(h, b.proj));
    return tf.add(x1, o.lin(o.gelu(o.lin(x1, b.fc1)), b.fc2, 'relu'));
  }

  /** The parallel forward of one clip x [N, in_channels] ('normal' test mode): logits [classes]. */
  forward(x: T): T {
    const tf = this.ops.tf, o = this.ops, toe = this.toeplitz;
    let h: T = x;
    for (let i = 0; i < 4; i++) h = o.bn(tf.relu(o.conv1d(h, this.convs[i])), this.convBn[i]);
    let xs: T = tf.add(h, o.conv1d(h, this.rpe));
    for (const b of this.blocks) xs = this.block(b, xs, (u) => toe.apply(tf, u, b.lmu));
    return tf.mean(o.lin(xs, this.head), 0);
  }

  stream(): TfStream {
    return new TfPlainStream(this);
  }
}

// ---------------------------------------------------------------- streams

/** A k = 3 conv of a stream: a 2-frame history tensor [1, 2, C] (zeros = the left padding), one output per frame. */
class ConvWindow {
  private hist: T;
  private received = 0;
  constructor(private readonly tf: TF, readonly C: number) {
    this.hist = tf.keep(tf.zeros([1, 2, C]));
  }
  /** Feeds frame x [1, C]; from the second frame on returns the output [1, Cout] of the previous frame and its input. */
  push(x: T, f: Tf.Tensor3D, bias: T | null): { y: T; mid: T } | null {
    const tf = this.tf;
    const win = tf.concat([this.hist, tf.reshape(x, [1, 1, this.C])], 1) as Tf.Tensor3D;
    const old = this.hist;
    this.hist = tf.keep(tf.slice(win, [0, 1, 0], [1, 2, this.C]));
    old.dispose();
    if (++this.received < 2) return null;
    let y: T = tf.reshape(tf.conv1d(win, f, 1, 'valid'), [1, f.shape[2]]);
    if (bias) y = tf.add(y, bias);
    return { y, mid: tf.reshape(tf.slice(win, [0, 1, 0], [1, 1, this.C]), [1, this.C]) };
  }
  reset(): void {
    this.hist.dispose();
    this.hist = this.tf.keep(this.tf.zeros([1, 2, this.C]));
    this.received = 0;
  }
  dispose(): void {
    this.hist.dispose();
  }
}

/** Tensors kept across frames (membranes, LMU memories, the running sum), replaced in place. */
class StateSet {
  private readonly s = new Map<string, T>();
  constructor(private readonly tf: TF, private readonly shapes: Map<string, number[]>) {
    this.reset();
  }
  get(k: string): T {
    return this.s.get(k)!;
  }
  set(k: string, t: T): void {
    this.tf.keep(t);
    this.s.get(k)?.dispose();
    this.s.set(k, t);
  }
  reset(): void {
    for (const [k, shape] of this.shapes) this.set(k, this.tf.zeros(shape));
  }
  dispose(): void {
    for (const t of this.s.values()) t.dispose();
    this.s.clear();
  }
}

/** The frame-by-frame form: push frames [in_channels], flush at the end; `last` = the newest prefix logits. */
export interface TfStream {
  push(frame: Float32Array): void;
  flush(): void;
  reset(): void;
  /** The prefix logits of the newest completed frame (read back with dataSync after each frame). */
  readonly last: Float32Array;
  /** With a recorder, every LIF layer's spikes [1, C] per frame, in frame order. */
  record?: SpikeRecorder;
  dispose(): void;
}

/**
 * The common part of both streams: five conv windows (four tokenizer convs, rpe_conv), each delaying by one frame;
 * at the end every conv gets a zero frame in its own input domain. Everything after the tokenizer is per frame.
 */
abstract class ScStreamTf implements TfStream {
  last: Float32Array = new Float32Array(0);
  record?: SpikeRecorder;
  protected readonly tf: TF;
  protected readonly win: ConvWindow[];
  protected readonly state: StateSet;
  protected frames = 0;

  constructor(tf: TF, protected readonly Cin: number, protected readonly E: number, shapes: Map<string, number[]>) {
    this.tf = tf;
    this.win = [0, 1, 2, 3, 4].map((i) => new ConvWindow(tf, i === 0 ? Cin : E));
    this.state = new StateSet(tf, new Map([...shapes, ['acc', [1, E]]]));
  }

  /** Conv i's output frame y [1, E] (and its window's middle input) → what the next conv takes, or the patch embedding. */
  protected abstract afterConv(i: number, y: T, mid: T): T;
  /** The blocks and the head's input on one frame of the patch embedding [1, E]. */
  protected abstract frame(x: T): T;
  protected abstract headLogits(mean: T): T;

  /** Feeds x [1, C] to conv i and what comes out down the pipeline. */
  private feed(i: number, x: T): void {
    const r = this.win[i].push(x, ...this.convOf(i));
    if (!r) return;
    const next = this.afterConv(i, r.y, r.mid);
    if (i < 4) this.feed(i + 1, next);
    else this.emit(next);
  }

  protected abstract convOf(i: number): [Tf.Tensor3D, T | null];

  private emit(patch: T): void {
    const tf = this.tf;
    const feat = this.frame(patch);
    this.state.set('acc', tf.add(this.state.get('acc'), feat));
    this.frames++;
    const logits = this.headLogits(tf.div(this.state.get('acc'), this.frames));
    this.last = logits.dataSync() as Float32Array;
  }

  push(frame: Float32Array): void {
    this.tf.tidy(() => this.feed(0, this.tf.tensor2d(frame, [1, this.Cin])));
  }

  flush(): void {
    this.tf.tidy(() => {
      for (let i = 0; i < 5; i++) this.feed(i, this.tf.zeros([1, i === 0 ? this.Cin : this.E]));
    });
  }

  reset(): void {
    for (const w of this.win) w.reset();
    this.state.reset();
    this.frames = 0;
  }

  dispose(): void {
    for (const w of this.win) w.dispose();
    this.state.dispose();
  }
}

class TfPlainStream extends ScStreamTf {
  constructor(private readonly m: TfLMUFormer) {
    super(m.ops.tf, m.Cin, m.E, new Map(m.blocks.map((b, j) => [`m${j}`, [1, b.lmu.d]])));
  }
  protected convOf(i: number): [Tf.Tensor3D, T | null] {
    return [i < 4 ? this.m.convs[i] : this.m.rpe, null];
  }
  protected afterConv(i: number, y: T, mid: T): T {
    return i < 4 ? this.m.ops.bn(this.tf.relu(y), this.m.convBn[i]) : this.tf.add(mid, y);
  }
  protected frame(x: T): T {
    const tf = this.tf;
    this.m.blocks.forEach((b, j) => {
      x = this.m.block(b, x, (u) => {
        // m ← m Āᵀ + u B̄ᵀ
        this.state.set(`m${j}`, tf.add(tf.matMul(this.state.get(`m${j}`), b.lmu.at), tf.mul(u, b.lmu.bt)));
        return this.state.get(`m${j}`);
      });
    });
    return x;
  }
  protected headLogits(mean: T): T {
    return this.m.ops.lin(mean, this.m.head);
  }
}

// ---------------------------------------------------------------- spiking LMUFormer

interface SpikingBlock {
  prevBn: Bn; wu: Dense; lmu: LmuMats; bnM: Bn; wh: Dense; proj: Dense; fc1Bn: Bn; fc1: Dense; fc2: Dense; name: string;
}

/** The weights of `slmu_rnn_ms_conv1d`, folded where our SpikingLMUFormer folds (see its foldBatchNorm option). */
export class TfSpikingLMUFormer extends TfLmuModel {
  /** proj_conv, proj_conv1, proj_conv2 (proj_bn{,1,2} folded), proj_conv3, rpe_conv. */
  readonly convs: Tf.Tensor3D[];
  readonly convBias: (Tf.Tensor1D | null)[];
  readonly bn3: Bn;
  readonly blocks: SpikingBlock[];
  readonly headBn: Bn;

  constructor(tf: TF, config: LMUFormerConfig, sd: StateDict) {
    super(tf, config, sd, 'TfSpikingLMUFormer');
    const w = this.w, get = this.get, E = this.E, Cin = this.Cin, Hm = mlpHidden(config), d = 2 * E, pe = 'patch_embed';
    const conv = (key: string, cin: number, bn: string | null): [Tf.Tensor3D, Tf.Tensor1D | null] => {
      const f = bn ? foldBatchNorm(get(`${key}.weight`), null, bnOf(get, bn)) : { weight: get(`${key}.weight`), bias: null };
      return [w.conv1d(f.weight, E, cin), w.vec(f.bias)];
    };
    const cs = [
      conv(`${pe}.proj_conv`, Cin, `${pe}.proj_bn`), conv(`${pe}.proj_conv1`, E, `${pe}.proj_bn1`), conv(`${pe}.proj_conv2`, E, `${pe}.proj_bn2`),
      conv(`${pe}.proj_conv3`, E, null), conv(`${pe}.rpe_conv`, E, null),
    ];
    this.convs = cs.map((c) => c[0]);
    this.convBias = cs.map((c) => c[1]);
    this.bn3 = w.bn(bnOf(get, `${pe}.proj_bn3`));
    this.blocks = Array.from({ length: config.depths }, (_, j) => {
      const p = `block.${j}.attn`, q = `block.${j}.mlp`;
      return {
        name: `block.${j}`,
        prevBn: w.bn(bnOf(get, `${p}.prev_bn`)),
        wu: w.dense(get(`${p}.lmu.W_u.weight`), get(`${p}.lmu.W_u.bias`), 1, E, bnOf(get, `${p}.lmu.bn_u`)),
        lmu: lmuMats(w, d, 128),
        bnM: w.bn(bnOf(get, `${p}.lmu.bn_m`)),
        wh: w.dense(get(`${p}.lmu.W_h.weight`), get(`${p}.lmu.W_h.bias`), E, d + E, bnOf(get, `${p}.lmu.bn_h`)),
        proj: w.dense(get(`${p}.proj_conv.weight`), get(`${p}.proj_conv.bias`), E, E, bnOf(get, `${p}.proj_bn`)),
        fc1Bn: w.bn(bnOf(get, `${q}.fc1_bn`)),
        fc1: w.dense(get(`${q}.fc1_conv.weight`), get(`${q}.fc1_conv.bias`), Hm, E, bnOf(get, `${q}.fc2_bn`)),
        fc2: w.dense(get(`${q}.fc2_conv.weight`), get(`${q}.fc2_conv.bias`), E, Hm),
      };
    });
    this.headBn = w.bn(bnOf(get, 'head_bn'));
  }

  /**
   * One block on x [n, E]. `lif(name, x, vth)` is the LIF along the frames (clip) or one step with kept membranes
   * (stream); `memory(u)` the LMU memory of the spikes u [n, 1].
   */
  block(b: SpikingBlock, x: T, lif: (name: string, x: T, vth?: number) => T, memory: (u: T) => T): T {
    const tf = this.ops.tf, o = this.ops, p = `${b.name}.attn`;
    const s = lif(`${p}.prev_lif`, o.bn(x, b.prevBn), 0.5);
    const u = lif(`${p}.lmu.f_u`, o.lin(s, b.wu));
    const ms = lif(`${p}.lmu.f_m`, o.bn(memory(u), b.bnM));
    const h = lif(`${p}.lmu.f_h`, o.lin(tf.concat([ms, s], 1), b.wh));
    const x1 = tf.add(x, o.lin(h, b.proj));
    const s1 = lif(`${b.name}.mlp.fc1_lif`, o.bn(x1, b.fc1Bn));
    const s2 = lif(`${b.name}.mlp.fc2_lif`, o.lin(s1, b.fc1));
    return tf.add(x1, o.lin(s2, b.fc2));
  }

  /** The parallel forward of one clip x [N, in_channels] ('normal'): logits [classes]. */
  forward(x: T, record?: SpikeRecorder): T {
    const tf = this.ops.tf, o = this.ops, toe = this.toeplitz;
    const lif = (name: string, v: T, vth = 1) => {
      const s = o.lifSeq(v, vth);
      record?.(name, s);
      return s;
    };
    const pe = 'patch_embed';
    let s = lif(`${pe}.proj_lif`, o.conv1d(x, this.convs[0], this.convBias[0]));
    s = lif(`${pe}.proj_lif1`, o.conv1d(s, this.convs[1], this.convBias[1]));
    s = lif(`${pe}.proj_lif2`, o.conv1d(s, this.convs[2], this.convBias[2]));
    const x3 = o.conv1d(s, this.convs[3]);
    let xs: T = tf.add(x3, o.conv1d(lif(`${pe}.proj_lif3`, o.bn(x3, this.bn3)), this.convs[4]));
    for (const b of this.blocks) xs = this.block(b, xs, lif, (u) => toe.apply(tf, u, b.lmu));
    return tf.mean(o.lin(lif('head_lif', o.bn(xs, this.headBn)), this.head), 0);
  }

  stream(): TfStream {
    return new TfSpikingStream(this);
  }
}

/** The LIF layers of the spiking LMUFormer in order, with their widths. */
function spikingLifShapes(m: TfSpikingLMUFormer): Map<string, number[]> {
  const E = m.E, Hm = mlpHidden(m.config), shapes = new Map<string, number[]>();
  for (const n of ['proj_lif', 'proj_lif1', 'proj_lif2', 'proj_lif3']) shapes.set(`patch_embed.${n}`, [1, E]);
  m.blocks.forEach((b, j) => {
    const p = `block.${j}.attn`;
    shapes.set(`${p}.prev_lif`, [1, E]).set(`${p}.lmu.f_u`, [1, 1]).set(`${p}.lmu.f_m`, [1, b.lmu.d]).set(`${p}.lmu.f_h`, [1, E]);
    shapes.set(`block.${j}.mlp.fc1_lif`, [1, E]).set(`block.${j}.mlp.fc2_lif`, [1, Hm]).set(`m${j}`, [1, b.lmu.d]);
  });
  return shapes.set('head_lif', [1, E]);
}

class TfSpikingStream extends ScStreamTf {
  /** x3 frames waiting for rpe_conv's output of the same frame (the residual of the tokenizer). */
  private readonly x3: T[] = [];

  constructor(private readonly m: TfSpikingLMUFormer) {
    super(m.ops.tf, m.Cin, m.E, spikingLifShapes(m));
  }
  /** One LIF step with the membrane of layer `name` kept across frames. */
  private lif = (name: string, x: T, vth = 1): T => {
    const [s, v] = this.m.ops.lifStep(this.state.get(name), x, vth);
    this.state.set(name, v);
    this.record?.(name, s);
    return s;
  };
  protected convOf(i: number): [Tf.Tensor3D, T | null] {
    return [this.m.convs[i], this.m.convBias[i]];
  }
  protected afterConv(i: number, y: T, _mid: T): T {
    const pe = 'patch_embed';
    if (i < 3) return this.lif(`${pe}.proj_lif${i === 0 ? '' : i}`, y);
    if (i === 3) {
      this.x3.push(this.tf.keep(y));
      return this.lif(`${pe}.proj_lif3`, this.m.ops.bn(y, this.m.bn3));
    }
    const x3 = this.x3.shift()!;
    const out = this.tf.add(x3, y);
    x3.dispose();
    return out;
  }
  protected frame(x: T): T {
    const tf = this.tf;
    this.m.blocks.forEach((b, j) => {
      x = this.m.block(b, x, this.lif, (u) => {
        this.state.set(`m${j}`, tf.add(tf.matMul(this.state.get(`m${j}`), b.lmu.at), tf.mul(u, b.lmu.bt)));
        return this.state.get(`m${j}`);
      });
    });
    return this.lif('head_lif', this.m.ops.bn(x, this.m.headBn));
  }
  protected headLogits(mean: T): T {
    return this.m.ops.lin(mean, this.m.head);
  }
  override reset(): void {
    super.reset();
    for (const t of this.x3.splice(0)) t.dispose();
  }
  override dispose(): void {
    super.dispose();
    for (const t of this.x3.splice(0)) t.dispose();
  }
}

// ---------------------------------------------------------------- Spikformer (CIFAR)

interface SpikformerBlockTf { q: Dense; k: Dense; v: Dense; proj: Dense; fc1: Dense; fc2: Dense }

/** The CIFAR Spikformer with every BN folded into the conv / linear before it (as our model builds it by default). */
export class TfSpikformer {
  readonly w: Weights;
  readonly ops: Ops;
  private readonly convs: Tf.Tensor4D[] = [];
  private readonly bias: Tf.Tensor1D[] = [];
  private readonly pools: boolean[];
  private readonly blocks: SpikformerBlockTf[];
  private readonly head: Dense;
  private readonly g: ReturnType<typeof spikformerGeometry>;

  constructor(tf: TF, config: SpikformerConfig, sd: StateDict, variant: SpikformerVariant = 'cifar') {
    if (variant !== 'cifar') throw new Error('TfSpikformer: only the CIFAR variant');
    const w = (this.w = new Weights(tf));
    this.ops = new Ops(tf);
    const g = (this.g = spikformerGeometry(config, variant));
    const get = getter(sd, 'TfSpikformer'), pe = 'patch_embed';
    const conv = (key: string, bn: string, cout: number, cin: number) => {
      const f = foldBatchNorm(get(`${key}.weight`), null, bnOf(get, bn));
      this.convs.push(w.conv2d(f.weight, cout, cin));
      this.bias.push(w.vec(f.bias)!);
    };
    g.stages.forEach((st, i) => conv(`${pe}.proj_conv${i ? i : ''}`, `${pe}.proj_bn${i ? i : ''}`, st.channels, st.inChannels));
    conv(`${pe}.rpe_conv`, `${pe}.rpe_bn`, g.dim, g.dim);
    this.pools = g.stages.map((st) => st.pool);
    const D = g.dim, Hm = g.hidden;
    const dense = (p: string, layer: string, bn: string, out: number, inp: number) =>
      w.dense(get(`${p}.${layer}.weight`), sd.has(`${p}.${layer}.bias`) ? get(`${p}.${layer}.bias`) : null, out, inp, bnOf(get, `${p}.${bn}`));
    this.blocks = Array.from({ length: config.depths }, (_, j) => {
      const a = `block.${j}.attn`, m = `block.${j}.mlp`;
      return {
        q: dense(a, 'q_linear', 'q_bn', D, D), k: dense(a, 'k_linear', 'k_bn', D, D), v: dense(a, 'v_linear', 'v_bn', D, D),
        proj: dense(a, 'proj_linear', 'proj_bn', D, D), fc1: dense(m, 'fc1_linear', 'fc1_bn', Hm, D), fc2: dense(m, 'fc2_linear', 'fc2_bn', D, Hm),
      };
    });
    this.head = w.dense(get('head.weight'), get('head.bias'), g.classes, D);
  }

  /**
   * One image x NCHW [3, H, W] (cifarNormalize's output) → logits [classes]. The LIF layers' spikes go to `record`
   * in forward order: SPS [T, H, W, C] (before the pool), rpe and blocks [T, N, D].
   */
  forward(x: T, record?: SpikeRecorder): T {
    const tf = this.ops.tf, o = this.ops, g = this.g, T_ = g.T, N = g.tokens, D = g.dim, nh = g.heads, dh = g.headDim;
    const conv = (s: T, i: number) => tf.fused.conv2d({ x: s as Tf.Tensor4D, filter: this.convs[i], strides: 1, pad: 'same', bias: this.bias[i] });
    const rec = (name: string, s: T) => {
      record?.(name, s);
      return s;
    };
    const pe = 'patch_embed';
    // the first conv once for the T repeats of the static image, then the LIF T times on it
    const img = tf.transpose(tf.reshape(x, [1, 3, g.stages[0].height, g.stages[0].width]), [0, 2, 3, 1]);
    let s: T = rec(`${pe}.proj_lif`, o.lifRepeat(tf.squeeze(conv(img, 0), [0]), T_));
    for (let i = 1; i < 4; i++) {
      if (this.pools[i - 1]) s = tf.maxPool(s as Tf.Tensor4D, 3, 2, 1);
      s = rec(`${pe}.proj_lif${i}`, o.lifSeq(conv(s, i)));
    }
    if (this.pools[3]) s = tf.maxPool(s as Tf.Tensor4D, 3, 2, 1);
    const rpe = rec(`${pe}.rpe_lif`, tf.reshape(o.lifSeq(conv(s, 4)), [T_, N, D]));
    let X: T = tf.add(tf.reshape(s, [T_, N, D]), rpe);
    // linear on the tokens of every step, then the LIF along T
    const lin = (x3: T, d: Dense, name: string, vth = 1) =>
      rec(name, o.lifSeq(tf.reshape(o.lin(tf.reshape(x3, [T_ * N, -1]), d), [T_, N, d.w.shape[1]]), vth));
    const heads = (t: T) => tf.transpose(tf.reshape(t, [T_, N, nh, dh]), [0, 2, 1, 3]);
    this.blocks.forEach((b, j) => {
      const p = `block.${j}.attn`;
      const q = lin(X, b.q, `${p}.q_lif`), k = lin(X, b.k, `${p}.k_lif`), v = lin(X, b.v, `${p}.v_lif`);
      const att = tf.mul(tf.matMul(tf.matMul(heads(q), heads(k), false, true), heads(v)), g.scale);
      const as = rec(`${p}.attn_lif`, o.lifSeq(tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [T_, N, D]), 0.5));
      const x1 = tf.add(X, lin(as, b.proj, `${p}.proj_lif`));
      X = tf.add(x1, lin(lin(x1, b.fc1, `block.${j}.mlp.fc1_lif`), b.fc2, `block.${j}.mlp.fc2_lif`));
    });
    return tf.reshape(o.lin(tf.reshape(tf.mean(tf.mean(X, 1), 0), [1, D]), this.head), [g.classes]);
  }

  dispose(): void {
    this.w.dispose();
  }
}

/** Spikes kept from a recorded run: layer name → one Float32Array per call (frames of a stream, or the whole layer). */
export function spikeCollector(): { record: SpikeRecorder; layers: Map<string, Float32Array[]> } {
  const layers = new Map<string, Float32Array[]>();
  return {
    layers,
    record: (name, s) => {
      const list = layers.get(name) ?? [];
      list.push(s.dataSync() as Float32Array);
      layers.set(name, list);
    },
  };
}

/** Concatenates the recorded chunks of a layer. */
export function joined(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

