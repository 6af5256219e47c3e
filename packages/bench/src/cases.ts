// The cross-runtime benchmark cases: each computation once per implementation (ours = @spikewasm/* on the SIMD
// kernels, tfjs = @tensorflow/tfjs-core on tfjs-backend-wasm op by op, ort = onnxruntime-web on a graph built in
// code, js = the plain-TypeScript oracle of core-wasm, scalar = ours on the scalar Wasm backend), with the FLOP of
// the direct dense computation and the tolerance of the cross-check. Runtime-neutral: the peers are passed in.
import * as api from '@spikewasm/core-wasm';
import type { Arena, Core, Tensor } from '@spikewasm/core-wasm';
import {
  randomF32, randomSpikes, linearRef, conv1dRef, conv2d3x3Ref, lifRef, lmuFirRef,
} from '@spikewasm/core-wasm/oracle';
import { BinaryAttention, attentionReference, type SpikeTensor } from '@spikewasm/spiking';
import { LMUFormer, SpikingLMUFormer, scv2Config, expectedStateDict, lmuBuffers, LMUFORMER_BLOCK_SEQ_LEN, type LifRecord } from '@spikewasm/lmu';
import { Spikformer, spikformerPreset, randomSpikformerStateDict, cifarNormalize, resolveSpikformerConfig } from '@spikewasm/spikformer';
import type * as Tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-web';
import { encodeModel, type OnnxGraph } from './onnx.js';
import { TfLMUFormer, TfSpikingLMUFormer, TfSpikformer, spikeCollector, joined } from './tfjs-models.js';

/**
 * Bounds of the spiking models' tfjs cross-check, max|a − b| / max(1, max|logits|). Float accumulation orders differ
 * (XNNPACK against our kernels), so a spike whose membrane lands within rounding of its threshold may flip, and a flip
 * propagates through the membrane, the residual stream and the later layers; the fraction of equal spikes over every
 * LIF layer is reported beside (Impl.note). Measured at the full sizes: the spiking LMUFormer, every spike equal and
 * the logits within 6e-7 (clip and stream); the Spikformer, 99.89 % equal (SPS, RPE and block 0 identical; one v_lif
 * spike of block 1 flips, and its cascade through blocks 1–3 moves the logits by 7e-3).
 */
const SPIKING_LMU_TOLERANCE = 1e-3;
const SPIKFORMER_TOLERANCE = 2e-2;

/** The implementations a case can have, in table order. */
export const IMPLS = ['ours', 'tfjs', 'ort', 'js', 'scalar'] as const;
export type ImplName = (typeof IMPLS)[number];

/** The numeric output of an implementation, compared across implementations before timing. */
export type Output = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A ready implementation: `run` is timed; `output` (not timed) returns the result of the last run. */
export interface Impl {
  run: () => void | Promise<void>;
  output: () => Output | Promise<Output>;
  /** Untimed, after the cross-check: what else was compared (e.g. the fraction of equal spikes), for the report. */
  note?: () => string | Promise<string>;
  dispose?: () => void;
}

/** What the cases need: our kernels and the peers that loaded in this runtime (absent = did not load). */
export interface CaseContext {
  core: Core;
  arena: Arena;
  tf?: typeof Tf;
  ort?: typeof Ort;
}

export interface BenchCase {
  id: string;
  group: 'gemm' | 'conv' | 'lmu' | 'lif' | 'attention' | 'model';
  name: string;
  /** FLOP per call of the direct dense computation (2 per multiply-add), for GFLOP/s and % of peak. */
  flop: number;
  /** Items per call (e.g. frames), to report a per-item time; default 1. */
  items?: number;
  itemUnit?: string;
  /** Cross-check: 'exact' (integer / spike outputs), or the bound on max|a − b| / max(1, max|ref|). */
  tolerance: 'exact' | number;
  /** A different bound for some implementations (e.g. a peer whose float order differs, where ours/scalar are exact). */
  toleranceFor?: Partial<Record<ImplName, 'exact' | number>>;
  impls: Partial<Record<ImplName, (ctx: CaseContext) => Promise<Impl> | Impl>>;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const f32 = (n: number, seed: number, lo = -1, hi = 1): Float32Array => randomF32(n, seed, lo, hi);

/** An implementation on our kernels: `run` reads core.backend at call time, so `scalar` reuses the setup. */
function ours(setup: (a: Arena, core: Core) => { run: () => void; out: () => Output }, backend: 'simd' | 'scalar' = 'simd') {
  return ({ core, arena }: CaseContext): Impl => {
    const s = setup(arena, core);
    return {
      run: () => {
        core.backend = backend;
        try { s.run(); } finally { core.backend = 'simd'; }
      },
      output: () => s.out(),
    };
  };
}

/** Both our backends from one setup function. */
function oursBoth(setup: (a: Arena, core: Core) => { run: () => void; out: () => Output }) {
  return { ours: ours(setup), scalar: ours(setup, 'scalar') };
}

/** A tfjs implementation: `fn` builds the result inside tf.tidy; the run reads it back (dataSync) like a user would. */
function tfImpl(build: (tf: typeof Tf, ctx: CaseContext) => {
  fn: () => Tf.Tensor; inputs: Tf.Tensor[]; post?: (y: Float32Array) => Output; note?: () => string; dispose?: () => void;
}) {
  return (ctx: CaseContext): Impl => {
    const { tf } = ctx;
    if (!tf) throw new Error('tfjs not loaded');
    const b = build(tf, ctx);
    let last: Float32Array = new Float32Array(0);
    return {
      run: () => {
        const y = tf.tidy(b.fn);
        last = y.dataSync() as Float32Array;
        y.dispose();
      },
      output: () => (b.post ? b.post(last) : last),
      note: b.note,
      dispose: () => { for (const t of b.inputs) t.dispose(); b.dispose?.(); },
    };
  };
}

/** An onnxruntime-web implementation of a one-input graph. */
function ortImpl(graph: () => OnnxGraph, input: Float32Array) {
  return async ({ ort }: CaseContext): Promise<Impl> => {
    if (!ort) throw new Error('onnxruntime-web not loaded');
    const g = graph();
    const [inName, inDims] = Object.entries(g.inputs)[0];
    const outName = Object.keys(g.outputs)[0];
    const session = await ort.InferenceSession.create(encodeModel(g), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = { [inName]: new ort.Tensor('float32', input, inDims) };
    let last: Float32Array = new Float32Array(0);
    return {
      run: async () => {
        const r = await session.run(feeds);
        last = r[outName].data as Float32Array;
      },
      output: () => last,
      dispose: () => { void session.release(); },
    };
  };
}

/** A plain-JS implementation (the oracle): `fn` computes and returns the output. */
function jsImpl(fn: () => Output): () => Impl {
  return () => {
    let last: Output = new Float32Array(0);
    return { run: () => { last = fn(); }, output: () => last };
  };
}

/** Transposes a row-major [rows, cols] matrix. */
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** [C, S] (channels first) ↔ [S, C] (channels last) for the conv layouts. */
const toChannelsLast = (a: ArrayLike<number>, C: number, S: number) => transpose(a, C, S);
const toChannelsFirst = (a: ArrayLike<number>, C: number, S: number) => transpose(a, S, C);

// ---------------------------------------------------------------- dense

function gemmCase(label: string, M: number, K: number, N: number): BenchCase {
  const x = f32(M * K, M * 131 + K), w = f32(N * K, N * 31 + K, -0.1, 0.1), b = f32(N, N + 7, -0.1, 0.1);
  return {
    id: `${M === 1 ? 'gemv' : 'gemm'}.${label}.${M}x${K}x${N}`,
    group: 'gemm',
    name: `${M === 1 ? 'GEMV' : 'GEMM'} ${label} [${M}×${K}]·[${K}×${N}] + bias`,
    flop: 2 * M * N * K,
    tolerance: 1e-5,
    impls: {
      ...oursBoth((a) => {
        const pw = api.packDense(a, w, N, K), xt = a.from(x, [M, K]), bt = a.from(b, [N]), y = a.tensor([M, N]);
        const opts = { bias: bt };
        return { run: () => api.linear(xt, pw, y, opts), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        // the kernel stored [in, out] as tf.layers.dense does (tfjs-backend-wasm 4.22's fused matMul with
        // transposeB and a bias returns wrong values: the cross-check catches it)
        const xt = tf.tensor2d(x, [M, K]), wt = tf.tensor2d(transpose(w, N, K), [K, N]), bt = tf.tensor1d(b);
        return { inputs: [xt, wt, bt], fn: () => tf.fused.matMul({ a: xt, b: wt, bias: bt }) };
      }),
      ort: ortImpl(() => ({
        inputs: { x: [M, K] }, outputs: { y: [M, N] },
        initializers: { w: { dims: [N, K], data: w }, b: { dims: [N], data: b } },
        nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
      }), x),
      js: jsImpl(() => linearRef(x, w, b, M, N, K).y),
    },
  };
}

// ---------------------------------------------------------------- conv

function conv1dCase(Cin: number, Cout: number, L: number): BenchCase {
  const x = f32(Cin * L, Cin * 3 + L), w = f32(Cout * Cin * 3, Cout * 5 + Cin, -0.1, 0.1), b = f32(Cout, Cout, -0.1, 0.1);
  return {
    id: `conv1d.k3.${Cin}-${Cout}.L${L}`,
    group: 'conv',
    name: `conv1d k=3 ${Cin}→${Cout} L=${L} (SCv2 tokenizer)`,
    flop: 2 * Cout * Cin * 3 * L,
    tolerance: 1e-5,
    impls: {
      ...oursBoth((a) => {
        const xt = a.from(x, [1, Cin, L]), wt = a.from(w, [Cout, Cin, 3]), y = a.tensor([1, Cout, L]);
        const opts = { bias: a.from(b, [Cout]) };
        return { run: () => api.conv1d(xt, wt, y, opts), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        // NWC input, filter [k, Cin, Cout]
        const filt = new Float32Array(3 * Cin * Cout);
        for (let o = 0; o < Cout; o++) for (let i = 0; i < Cin; i++) for (let k = 0; k < 3; k++) filt[(k * Cin + i) * Cout + o] = w[(o * Cin + i) * 3 + k];
        const xt = tf.tensor3d(toChannelsLast(x, Cin, L), [1, L, Cin]), ft = tf.tensor3d(filt, [3, Cin, Cout]), bt = tf.tensor1d(b);
        return {
          inputs: [xt, ft, bt],
          fn: () => tf.add(tf.conv1d(xt, ft, 1, 'same'), bt),
          post: (y) => toChannelsFirst(y, Cout, L),
        };
      }),
      ort: ortImpl(() => ({
        inputs: { x: [1, Cin, L] }, outputs: { y: [1, Cout, L] },
        initializers: { w: { dims: [Cout, Cin, 3], data: w }, b: { dims: [Cout], data: b } },
        nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3], pads: [1, 1] } }],
      }), x),
      js: jsImpl(() => conv1dRef(x, w, b, 1, Cin, Cout, L, 3).y),
    },
  };
}

function conv2dCase(Cin: number, Cout: number, H: number, W: number): BenchCase {
  const S = H * W;
  const x = f32(Cin * S, Cin + H), w = f32(Cout * Cin * 9, Cout * 5 + Cin, -0.1, 0.1), b = f32(Cout, Cout, -0.1, 0.1);
  return {
    id: `conv2d3x3.${Cin}-${Cout}.${H}x${W}`,
    group: 'conv',
    name: `conv2d 3×3 ${Cin}→${Cout} ${H}×${W} (CIFAR SPS)`,
    flop: 2 * Cout * Cin * 9 * S,
    tolerance: 1e-5,
    impls: {
      ...oursBoth((a) => {
        const xt = a.from(x, [1, Cin, H, W]), wt = a.from(w, [Cout, Cin, 3, 3]), y = a.tensor([1, Cout, H, W]);
        const opts = { bias: a.from(b, [Cout]) };
        return { run: () => api.conv2d3x3(xt, wt, y, opts), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        // NHWC input, filter [3, 3, Cin, Cout] (HWIO)
        const filt = new Float32Array(9 * Cin * Cout);
        for (let o = 0; o < Cout; o++) for (let i = 0; i < Cin; i++) for (let k = 0; k < 9; k++) filt[(k * Cin + i) * Cout + o] = w[(o * Cin + i) * 9 + k];
        const xt = tf.tensor4d(toChannelsLast(x, Cin, S), [1, H, W, Cin]), ft = tf.tensor4d(filt, [3, 3, Cin, Cout]), bt = tf.tensor1d(b);
        return {
          inputs: [xt, ft, bt],
          fn: () => tf.fused.conv2d({ x: xt, filter: ft, strides: 1, pad: 'same', bias: bt }),
          post: (y) => toChannelsFirst(y, Cout, S),
        };
      }),
      ort: ortImpl(() => ({
        inputs: { x: [1, Cin, H, W] }, outputs: { y: [1, Cout, H, W] },
        initializers: { w: { dims: [Cout, Cin, 3, 3], data: w }, b: { dims: [Cout], data: b } },
        nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }],
      }), x),
      js: jsImpl(() => conv2d3x3Ref(x, w, b, 1, Cin, Cout, H, W).y),
    },
  };
}

// ---------------------------------------------------------------- LMU

function lmuStepCase(d: number): BenchCase {
  const A = f32(d * d, d + 1, -1 / d, 1 / d), B = f32(d, d + 2), m = f32(d, d + 3), u = f32(1, d + 4);
  return {
    id: `lmu.step.d${d}`,
    group: 'lmu',
    name: `LMU step d=${d}: m ← Ā m + B̄ u`,
    flop: 2 * d * d + 2 * d,
    tolerance: 1e-5,
    impls: {
      ...oursBoth((a) => {
        const ap = api.packDense(a, A, d, d), bt = a.from(B, [d]), mt = a.from(m, [1, d]), ut = a.from(u, [1]), y = a.tensor([1, d]);
        return { run: () => api.lmuStep(mt, ap, bt, ut, y), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        const at = tf.tensor2d(A, [d, d]), bt = tf.tensor2d(B, [1, d]), mt = tf.tensor2d(m, [1, d]), ut = tf.scalar(u[0]);
        return { inputs: [at, bt, mt, ut], fn: () => tf.add(tf.matMul(mt, at, false, true), tf.mul(bt, ut)) };
      }),
      js: jsImpl(() => {
        const y = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          let s = B[i] * u[0];
          for (let j = 0; j < d; j++) s += A[i * d + j] * m[j];
          y[i] = s;
        }
        return y;
      }),
    },
  };
}

function lmuParallelCase(d: number, L: number): BenchCase {
  const u = f32(L, L + d, 0.05, 1), ht = f32(L * d, L * d, -0.5, 0.5);
  return {
    id: `lmu.parallel.d${d}.L${L}`,
    group: 'lmu',
    name: `LMU parallel d=${d} over ${L} frames (ours FFT; tfjs causal conv1d)`,
    // the direct (FIR) form's multiply-adds: Σ_t (t + 1)·d
    flop: L * (L + 1) * d,
    tolerance: 1e-4,
    impls: {
      ...oursBoth((a) => {
        const ut = a.from(u, [1, L]), plan = api.prepareLmuFft(a, a.from(ht, [L, d]), L), y = a.tensor([1, L, d]);
        return { run: () => api.lmuFft(ut, plan, y), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        // m[t] = Σ_s u[t − s]·Ht[s]: a 'valid' conv1d of u left-padded with L − 1 zeros by the flipped Ht
        const filt = new Float32Array(L * d);
        for (let k = 0; k < L; k++) filt.set(ht.subarray((L - 1 - k) * d, (L - k) * d), k * d);
        const padded = new Float32Array(2 * L - 1);
        padded.set(u, L - 1);
        const xt = tf.tensor3d(padded, [1, 2 * L - 1, 1]), ft = tf.tensor3d(filt, [L, 1, d]);
        return { inputs: [xt, ft], fn: () => tf.conv1d(xt, ft, 1, 'valid') };
      }),
      js: jsImpl(() => lmuFirRef(u, ht, L, d).y),
    },
  };
}

// ---------------------------------------------------------------- LIF

function lifCase(T: number, N: number, label: string): BenchCase {
  const x = f32(T * N, T * 7 + N, 0, 1.6);
  const spikesOf = (s: Float32Array) => Uint8Array.from(s);
  return {
    id: `lif.T${T}.N${N}`,
    group: 'lif',
    name: `LIF multi-step T=${T} N=${label} (τ 2, from rest)`,
    flop: 4 * T * N,
    tolerance: 'exact',
    impls: {
      ...oursBoth((a) => {
        const xt = a.from(x, [T, N]), v = a.tensor([N]), spikes = a.tensor([T, N]);
        const outs = { spikes }, params = { tau: 2, vThreshold: 1, vReset: 0 };
        return { run: () => { v.f32.fill(0); api.lif(xt, v, outs, params); }, out: () => spikesOf(spikes.f32) };
      }),
      tfjs: tfImpl((tf) => {
        const xt = tf.tensor2d(x, [T, N]);
        // h = v + (x − (v − V_reset))/τ; s = h ≥ V_th; v = s ? V_reset : h (spikingjelly's order, float32)
        return {
          inputs: [xt],
          fn: () => {
            let v = tf.zeros([N]);
            const out: Tf.Tensor[] = [];
            for (const xs of tf.unstack(xt)) {
              const h = tf.add(v, tf.div(tf.sub(xs, v), 2));
              const s = tf.greaterEqual(h, 1);
              out.push(s);
              v = tf.where(s, tf.zerosLike(h), h);
            }
            return tf.cast(tf.stack(out), 'float32');
          },
          post: spikesOf,
        };
      }),
      js: jsImpl(() => lifRef(x, new Float32Array(N), T, N, { tau: 2, vThreshold: 1, vReset: 0 }).spikes),
    },
  };
}

// ---------------------------------------------------------------- spiking self-attention

function attentionCase(T: number, Ntok: number, heads: number, dh: number): BenchCase {
  const C = heads * dh, n = T * Ntok * C;
  const q = randomSpikes(n, 11, 0.15), k = randomSpikes(n, 12, 0.15), v = randomSpikes(n, 13, 0.15);
  return {
    id: `ssa.T${T}.N${Ntok}.C${C}`,
    group: 'attention',
    name: `SSA Q·Kᵀ·V T=${T} N=${Ntok} C=${C} (${heads} heads; ours bit-packed, peers float)`,
    // the (Q Kᵀ) V float order per head
    flop: T * heads * 2 * 2 * Ntok * Ntok * dh,
    tolerance: 'exact',
    impls: {
      ...oursBoth((a) => {
        const att = new BinaryAttention(a, { numHeads: heads, headDim: dh, tokens: Ntok, order: 'qk_v' });
        const [qt, kt, vt] = [q, k, v].map((s) => a.from(s, [T, Ntok, C])), y = a.tensor([T, Ntok, C]);
        return { run: () => att.forward(qt, kt, vt, y), out: () => y.f32.slice() };
      }),
      tfjs: tfImpl((tf) => {
        const heads4 = (s: Float32Array) => tf.transpose(tf.tensor4d(s, [T, Ntok, heads, dh]), [0, 2, 1, 3]);
        const [qt, kt, vt] = [q, k, v].map(heads4);
        return {
          inputs: [qt, kt, vt],
          fn: () => {
            const y = tf.mul(tf.matMul(tf.matMul(qt, kt, false, true), vt), 0.125);
            return tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [T, Ntok, C]);
          },
        };
      }),
      js: jsImpl(() => Float32Array.from(attentionReference(q, k, v, T, Ntok, heads, dh, 0.125).out)),
    },
  };
}

// ---------------------------------------------------------------- whole models

/**
 * LMUFormer state dict of the published layout with seeded random weights (fan-in scaled) and plausible BN stats.
 * Like an official checkpoint it holds the LMU buffers `lmu.{A,B,H}` (Legendre ZOH, what the model would otherwise
 * compute itself); `buffers: false` leaves them out.
 */
export function randomLmuStateDict(
  factory: 'lmu_rnn_conv1d' | 'slmu_rnn_ms_conv1d', config: Parameters<typeof expectedStateDict>[1], seed = 1, buffers = true,
): Map<string, Float32Array> {
  const sd = new Map<string, Float32Array>();
  const spiking = factory === 'slmu_rnn_ms_conv1d';
  const shapes = expectedStateDict(factory, config);
  const isBn = (key: string) => shapes.has(`${key.slice(0, key.lastIndexOf('.'))}.running_var`);
  for (const [key, shape] of shapes) {
    if (/\.(A|B|H)$/.test(key)) {
      if (buffers && key.endsWith('.A')) {
        const m = lmuBuffers(shape[0], LMUFORMER_BLOCK_SEQ_LEN, LMUFORMER_BLOCK_SEQ_LEN), base = key.slice(0, -1);
        sd.set(`${base}A`, m.A).set(`${base}B`, m.B).set(`${base}H`, m.H);
      }
      continue;
    }
    const n = prod(shape), fan = shape.length > 1 ? prod(shape.slice(1)) : 1, bound = Math.sqrt(3 / fan);
    const [lo, hi] = key.endsWith('running_var') ? [0.5, 2]
      : key.endsWith('running_mean') ? [-0.2, 0.2]
        : isBn(key) ? (key.endsWith('.weight') ? [0.5, 1.5] : spiking ? [0.3, 0.9] : [-0.1, 0.1])
          : key.endsWith('.bias') ? [-0.1, 0.1] : [-bound, bound];
    sd.set(key, f32(n, seed++, lo, hi));
  }
  // the LMU input u = W_u x + b mostly positive (plain) / firing a fair share of frames (spiking)
  for (const key of shapes.keys()) if (key.endsWith('lmu.W_u.bias')) sd.set(key, Float32Array.of(spiking ? 1 : 0.5));
  return sd;
}

/** 8-bit random RGB images (an LCG). */
function randomImage(H: number, W: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: H * W * 3 }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
}

/** What the spike comparison of a spiking peer found: equal spikes over all LIF layers, and where they differ. */
function spikeNote(layers: [name: string, ours: ArrayLike<number>, peer: ArrayLike<number>][]): string {
  let total = 0, diff = 0;
  const where: string[] = [];
  for (const [name, a, b] of layers) {
    if (a.length !== b.length) return `spikes: ${name} has ${b.length} values, ours ${a.length}`;
    let d = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
    total += a.length;
    diff += d;
    if (d) where.push(`${name} ${d}`);
  }
  const pct = (100 * (total - diff)) / total;
  return `spikes equal: ${total - diff} of ${total} (${pct === 100 ? '100' : pct.toFixed(4)} %) over ${layers.length} LIF layers`
    + (where.length ? `; differing: ${where.slice(0, 4).join(', ')}${where.length > 4 ? ', …' : ''}` : '');
}

/** Our spiking LMUFormer's recorded spikes against a tfjs run's, layer by layer ([N, C] each). */
function lmuSpikeNote(ours: Map<string, LifRecord>, peer: Map<string, Float32Array[]>): string {
  return spikeNote([...ours].map(([name, r]) => [name, r.spikes.f32.slice(), joined(peer.get(name) ?? [])]));
}

function lmuformerCases(tiny: boolean): BenchCase[] {
  const config = scv2Config(tiny ? { embed_dims: 32, in_channels: 16, num_classes: 5 } : {});
  const F = 128, C = config.in_channels;
  const x = f32(F * C, 77);
  const frames = Array.from({ length: F }, (_, n) => x.subarray(n * C, (n + 1) * C));
  const out: BenchCase[] = [];
  for (const [factory, Model, TfModel, label] of [
    ['lmu_rnn_conv1d', LMUFormer, TfLMUFormer, 'LMUFormer'],
    ['slmu_rnn_ms_conv1d', SpikingLMUFormer, TfSpikingLMUFormer, 'spiking LMUFormer'],
  ] as const) {
    const spiking = factory === 'slmu_rnn_ms_conv1d';
    const sd = randomLmuStateDict(factory, config, 1);
    const build = (a: Arena) => new Model(a, config, sd);
    // our spikes, for the note: the clip with the parallel model's default LMU form (FFT), the stream with its own
    // ('fir', whose spikes equal the parallel 'fir' model's bit for bit)
    const oursSpikes = (arena: Arena, lmuMode: 'fft' | 'fir') => {
      const m = new SpikingLMUFormer(arena, config, sd, { keepSpikes: true, lmuMode });
      m.forward(x);
      return m.lifLayers(1);
    };
    out.push({
      id: `model.${factory}.clip`,
      group: 'model',
      name: `${label} SCv2 one 128-frame clip (parallel)`,
      flop: 0,
      tolerance: spiking ? 'exact' : 1e-5,
      toleranceFor: { tfjs: spiking ? SPIKING_LMU_TOLERANCE : 1e-4 },
      impls: {
        ...oursBoth((a) => {
          const m = build(a);
          let y: Tensor | null = null;
          return { run: () => { y = m.forward(x); }, out: () => y!.f32.slice() };
        }),
        tfjs: tfImpl((tf, ctx) => {
          const m = new TfModel(tf, config, sd), xt = tf.tensor2d(x, [F, C]);
          return {
            inputs: [xt], dispose: () => m.dispose(), fn: () => m.forward(xt),
            note: spiking ? () => {
              const rec = spikeCollector();
              tf.dispose(tf.tidy(() => (m as TfSpikingLMUFormer).forward(xt, rec.record)));
              return lmuSpikeNote(oursSpikes(ctx.arena, 'fft'), rec.layers);
            } : undefined,
          };
        }),
      },
    });
    out.push({
      id: `model.${factory}.stream`,
      group: 'model',
      name: `${label} SCv2 streaming, per frame (128-frame utterance)`,
      flop: 0,
      items: F,
      itemUnit: 'frame',
      tolerance: spiking ? 'exact' : 1e-5,
      toleranceFor: { tfjs: spiking ? SPIKING_LMU_TOLERANCE : 1e-4 },
      impls: {
        ...oursBoth((a) => {
          const s = build(a).stream(1);
          const last = new Float32Array(config.num_classes);
          return {
            run: () => {
              for (let n = 0; n < F; n++) s.push(frames[n]);
              last.set(s.flush().f32.subarray(-config.num_classes));
              s.reset();
            },
            out: () => last.slice(),
          };
        }),
        tfjs: ({ tf, arena }) => {
          if (!tf) throw new Error('tfjs not loaded');
          const m = new TfModel(tf, config, sd), s = m.stream();
          const run = () => {
            for (let n = 0; n < F; n++) s.push(frames[n]);
            s.flush();
            s.reset();
          };
          return {
            run,
            output: () => s.last.slice(),
            note: spiking ? () => {
              const rec = spikeCollector();
              s.record = rec.record;
              try { run(); } finally { s.record = undefined; }
              return lmuSpikeNote(oursSpikes(arena, 'fir'), rec.layers);
            } : undefined,
            dispose: () => { s.dispose(); m.dispose(); },
          };
        },
      },
    });
  }
  return out;
}

/** A SpikeTensor (bit-packed spikes) rather than f32 0/1 (by shape: @spikewasm/spiking may be loaded twice). */
const isSpikeTensor = (t: SpikeTensor | Tensor): t is SpikeTensor => 'bits' in t;

function spikformerCase(tiny: boolean): BenchCase {
  const { variant, config: base } = spikformerPreset('spikformer-4-384');
  const config = tiny ? { ...base, embed_dims: 48, num_heads: 3, depths: 1, T: 2 } : base;
  const H = config.img_size_h ?? 32, W = config.img_size_w ?? 32;
  const sd = randomSpikformerStateDict(config, variant, 1);
  const x = cifarNormalize(randomImage(H, W, 8), { height: H, width: W });
  return {
    id: 'model.spikformer.cifar',
    group: 'model',
    name: `Spikformer CIFAR ${tiny ? 'tiny' : '4-384'} T=${config.T}, one image`,
    flop: 0,
    tolerance: 1e-5,
    toleranceFor: { tfjs: SPIKFORMER_TOLERANCE },
    impls: {
      ...oursBoth((a) => {
        const m = new Spikformer(a, config, sd, { variant });
        let y: Tensor | null = null;
        return { run: () => { y = m.forward(x); }, out: () => y!.f32.slice() };
      }),
      tfjs: tfImpl((tf, { arena }) => {
        const m = new TfSpikformer(tf, resolveSpikformerConfig(config, variant), sd, variant), xt = tf.tensor1d(x);
        return {
          inputs: [xt], dispose: () => m.dispose(), fn: () => m.forward(xt),
          note: () => {
            const rec = spikeCollector();
            tf.dispose(tf.tidy(() => m.forward(xt, rec.record)));
            const ours = new Spikformer(arena, config, sd, { variant, keepIntermediates: true });
            ours.forward(x);
            const peer = [...rec.layers];
            return spikeNote(ours.buffers(1).lifs.map((l, i) => {
              const s = isSpikeTensor(l.spikes) ? l.spikes.toFloat(arena.tensor([...l.spikes.shape])).f32.slice() : l.spikes.f32.slice();
              return [l.name, s, joined(peer[i]?.[1] ?? [])];
            }));
          },
        };
      }),
    },
  };
}

/**
 * Every case. `tiny` shrinks the shapes (for the correctness test); the full sizes are the models' own.
 * Model cases are built lazily by the caller (their random weights take a moment): see {@link caseList}.
 */
export function caseList(tiny = false): BenchCase[] {
  const s = (full: number, small: number) => (tiny ? small : full);
  return [
    gemmCase('LMUFormer FFN', s(128, 5), s(256, 17), s(1024, 33)),
    gemmCase('LMUFormer FFN', 1, s(256, 17), s(1024, 33)),
    gemmCase('Spikformer MLP', s(64, 4), s(384, 24), s(1536, 40)),
    conv1dCase(s(128, 5), s(256, 9), s(128, 17)),
    conv2dCase(s(48, 3), s(96, 5), s(32, 7), s(32, 9)),
    lmuStepCase(s(256, 17)),
    lmuStepCase(s(512, 33)),
    lmuParallelCase(s(256, 17), s(128, 16)),
    lmuParallelCase(s(512, 33), s(128, 16)),
    lifCase(s(128, 5), s(256, 33), String(s(256, 33))),
    lifCase(4, s(64 * 384, 100), tiny ? '100' : '64×384'),
    attentionCase(s(4, 2), s(64, 8), s(12, 2), s(32, 8)),
    ...lmuformerCases(tiny),
    spikformerCase(tiny),
  ];
}

/** Shapes of the f32x4 peak probe (core-wasm's f32x4_peak_simd128: 96 FLOP per iteration). */
export const PEAK_FLOP_PER_ITER = 96;

export { prod };
