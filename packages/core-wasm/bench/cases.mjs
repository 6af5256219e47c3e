// The spikewasm benchmark suite: every case at the model shapes, with its work declared so that any runner can turn
// a median time into GFLOP/s, GB/s or items/s and a fraction of the machine's f32x4 peak.
//
// Runtime-neutral on purpose (no Node, Deno or DOM APIs): a runner passes the package's public API (the module
// namespace of dist/index.js) and a Core, and times the closures that `setup` returns. Used by bench/run.mjs (Node)
// and meant to be reused unchanged by the Deno / Chromium / workerd runners.
//
// Case shape:
//   {
//     id:      stable identifier (also the JSON key),
//     group:   'peak' | 'gemm' | 'gemv' | 'conv1d' | 'conv2d' | 'lif' | 'lmu' | 'popcount',
//     name:    human-readable label for the table,
//     params:  the shape parameters (copied into the JSON),
//     work:    per call of the timed closure: { flop?, bytes?, items?, itemUnit? }
//                flop  = floating-point operations (multiply and add counted separately, i.e. 2·M·N·K for a GEMM;
//                        for spike-input cases the DENSE-EQUIVALENT count, so the rate shows the gain of sparsity),
//                bytes = bytes of data the case is defined to read (see each case),
//                items = things done (neuron-steps, LMU steps, sequences, popcounts) with their unit name,
//     primary: which of flop / bytes / items is the headline throughput ("% of peak" is computed whenever flop
//               is declared),
//     denseEquivalent?: true when flop is the count of the direct dense op rather than the operations performed
//               (spike-input cases: the dense op on the 0/1 input; the FFT LMU: the FIR's multiply-adds); the rate
//               and "% of peak" are then effective figures that include the algorithmic saving,
//     backends?: the backends to run (default BACKENDS),
//     available?(api): false → the runner skips the case and reports it as skipped,
//     setup(ctx) → closure: allocates EVERYTHING it needs in ctx.arena (the runner disposes it afterwards) and
//               returns the function to time. The closure must not allocate Wasm memory; it reads the backend
//               from ctx.core.backend at call time, so one setup serves both backends.
//   }
// ctx = { api, core, arena }.
import { rng, randomF32, randomSpikes as spikesWithRate } from '../dist/oracle.js';

export { rng, randomF32 };

/** Bumped whenever a case's shapes or work definition change (results of different versions don't compare). */
export const SUITE_VERSION = 1;

/** Firing probability of the spike inputs. */
export const FIRING_RATE = 0.3;

/** 0/1 floats with the benchmark's firing probability (the seeded generators are the oracle module's). */
export const randomSpikes = (n, seed, p = FIRING_RATE) => spikesWithRate(n, seed, p);

const prod = (s) => s.reduce((a, b) => a * b, 1);

/** f32 tensor of uniform values in the arena. */
function rand(arena, shape, seed, lo = -1, hi = 1) {
  return arena.from(randomF32(prod(shape), seed, lo, hi), shape, 'f32');
}

/** A `bits` tensor of the given logical shape with firing rate p (packed with the library's own packSpikes). */
function spikeBits(api, arena, shape, seed, p = FIRING_RATE) {
  const f = arena.from(randomSpikes(prod(shape), seed, p), shape, 'f32');
  const b = arena.tensor(shape, 'bits');
  api.packSpikes(f, b);
  return b;
}

/** Iterations of one call of the peak probe (96 FLOP each); about 0.8 ms at ~30 GFLOP/s. */
export const PEAK_ITERS = 1 << 18;

/**
 * The machine's single-thread f32x4 peak probe: 12 independent f32x4 mul+add chains, 96 FLOP per iteration (no FMA
 * in baseline Wasm SIMD, so this is the mul+add peak the kernels can reach). Backend-independent.
 */
export function peakCase(iters = PEAK_ITERS) {
  return {
    id: 'peak.f32x4',
    group: 'peak',
    name: `f32x4 peak (12 mul+add chains × ${iters})`,
    params: { iters, flopPerIter: 96 },
    work: { flop: 96 * iters },
    primary: 'flop',
    backends: ['simd'],
    setup({ core }) {
      const peak = core.exports.f32x4_peak_simd128;
      if (typeof peak !== 'function') throw new Error('spikewasm.wasm exports no f32x4_peak_simd128');
      let sink = 0;
      return () => { sink += peak(iters); return sink; };
    },
  };
}

// ---------------------------------------------------------------- dense

function denseCase({ model, N, K, M, spike = false }) {
  const kind = spike ? 'gemm-spike' : M === 1 ? 'gemv' : 'gemm';
  return {
    id: `${kind}.${model}.${N}x${K}.m${M}`,
    group: M === 1 ? 'gemv' : 'gemm',
    name: `${spike ? 'linearSpike' : 'linear'} ${model} W ${N}×${K} M=${M}${spike ? ` (${FIRING_RATE * 100}% spikes)` : ''}`,
    params: { model, M, N, K, spike, firingRate: spike ? FIRING_RATE : undefined },
    // Bytes: packed weights + input + output, read/written once (the GEMV roofline is this over time).
    work: { flop: 2 * M * N * K, bytes: 4 * (N * K + (spike ? M * Math.ceil(K / 32) : M * K) + M * N) },
    primary: 'flop',
    denseEquivalent: spike,
    setup({ api, arena }) {
      const w = api.packDense(arena, randomF32(N * K, N * 31 + K), N, K);
      const bias = rand(arena, [N], N + 7);
      const x = spike ? spikeBits(api, arena, [M, K], M * 131 + K) : rand(arena, [M, K], M * 131 + K);
      const y = arena.tensor([M, N]);
      const opts = { bias };
      return spike ? () => api.linearSpike(x, w, y, opts) : () => api.linear(x, w, y, opts);
    },
  };
}

export function denseCases() {
  const cases = [];
  // SCv2 LMUFormer: d_model 256, FFN 1024 (weights [out, in]); 128 frames per utterance chunk, and 1 streaming frame.
  for (const [N, K] of [[256, 256], [256, 1024], [1024, 256]]) {
    cases.push(denseCase({ model: 'lmuformer', N, K, M: 128 }));
    cases.push(denseCase({ model: 'lmuformer', N, K, M: 1 }));
  }
  // Spikformer CIFAR: dim 384, MLP 1536, 8×8 = 64 tokens.
  for (const [N, K] of [[384, 384], [384, 1536], [1536, 384]]) cases.push(denseCase({ model: 'spikformer', N, K, M: 64 }));
  // Spikformer's linears actually see spikes: the spike-input GEMM at the largest MLP shape, for comparison.
  cases.push(denseCase({ model: 'spikformer', N: 384, K: 1536, M: 64, spike: true }));
  return cases;
}

// ---------------------------------------------------------------- conv

function conv1dCase({ Cin, Cout, L, k = 3, B = 1, spike }) {
  return {
    id: `conv1d.k${k}.${Cin}-${Cout}.L${L}.${spike ? 'spike' : 'dense'}`,
    group: 'conv1d',
    name: `conv1d k=${k} ${Cin}→${Cout} L=${L} ${spike ? `spike ${FIRING_RATE * 100}%` : 'dense'}`,
    params: { B, Cin, Cout, L, k, spike, firingRate: spike ? FIRING_RATE : undefined },
    work: { flop: 2 * B * Cout * Cin * k * L },
    primary: 'flop',
    denseEquivalent: spike,
    setup({ api, arena }) {
      const x = spike ? spikeBits(api, arena, [B, Cin, L], Cin * 3 + L) : rand(arena, [B, Cin, L], Cin * 3 + L);
      const w = rand(arena, [Cout, Cin, k], Cout * 5 + Cin, -0.1, 0.1);
      const bias = rand(arena, [Cout], Cout);
      const y = arena.tensor([B, Cout, L]);
      const opts = { bias };
      return () => api.conv1d(x, w, y, opts);
    },
  };
}

function conv2dCase({ Cin, Cout, H, W, B = 1, spike }) {
  return {
    id: `conv2d3x3.${Cin}-${Cout}.${H}x${W}.${spike ? 'spike' : 'dense'}`,
    group: 'conv2d',
    name: `conv2d 3×3 ${Cin}→${Cout} ${H}×${W} ${spike ? `spike ${FIRING_RATE * 100}%` : 'dense'}`,
    params: { B, Cin, Cout, H, W, spike, firingRate: spike ? FIRING_RATE : undefined },
    work: { flop: 2 * B * Cout * Cin * 9 * H * W },
    primary: 'flop',
    denseEquivalent: spike,
    setup({ api, arena }) {
      const x = spike ? spikeBits(api, arena, [B, Cin, H, W], Cin + H) : rand(arena, [B, Cin, H, W], Cin + H);
      const w = rand(arena, [Cout, Cin, 3, 3], Cout * 5 + Cin, -0.1, 0.1);
      const bias = rand(arena, [Cout], Cout);
      const y = arena.tensor([B, Cout, H, W]);
      const opts = { bias };
      return () => api.conv2d3x3(x, w, y, opts);
    },
  };
}

export function convCases() {
  return [
    // SCv2 LMUFormer conv front-end (k = 3 over 128 frames).
    conv1dCase({ Cin: 128, Cout: 256, L: 128, spike: false }),
    conv1dCase({ Cin: 128, Cout: 256, L: 128, spike: true }),
    conv1dCase({ Cin: 256, Cout: 256, L: 128, spike: false }),
    conv1dCase({ Cin: 256, Cout: 256, L: 128, spike: true }),
    // Spikformer CIFAR SPS stem.
    conv2dCase({ Cin: 48, Cout: 96, H: 32, W: 32, spike: false }),
    conv2dCase({ Cin: 192, Cout: 384, H: 16, W: 16, spike: false }),
    conv2dCase({ Cin: 96, Cout: 192, H: 32, W: 32, spike: true }),
  ];
}

// ---------------------------------------------------------------- LIF

function lifCase({ T, N, label }) {
  return {
    id: `lif.T${T}.N${N}`,
    group: 'lif',
    name: `lif T=${T} N=${label ?? N} → bits`,
    params: { T, N, outputs: ['bits'], tau: 2 },
    // 4 FLOP per neuron-step (sub, sub, div, add; the compare/select not counted). Bytes: x read once.
    work: { items: T * N, itemUnit: 'neuron-steps', flop: 4 * T * N, bytes: 4 * T * N },
    primary: 'items',
    setup({ api, arena }) {
      // Inputs around the threshold so that a realistic fraction fires; v is the carried state (updated in place,
      // so successive calls stream on: a stationary workload).
      const x = rand(arena, [T, N], T * 7 + N, 0, 1.6);
      const v = arena.tensor([N]);
      const bits = arena.tensor([T, N], 'bits');
      const outs = { bits };
      const params = { tau: 2, vThreshold: 1, vReset: 0 };
      return () => api.lif(x, v, outs, params);
    },
  };
}

export function lifCases() {
  return [
    lifCase({ T: 128, N: 256 }), // LMUFormer: 128 frames × 256 channels
    lifCase({ T: 4, N: 64 * 384, label: '64×384' }), // Spikformer: T = 4, 64 tokens × 384 channels
  ];
}

// ---------------------------------------------------------------- LMU

function lmuStepCase({ d, B = 1 }) {
  return {
    id: `lmu.step.d${d}.B${B}`,
    group: 'lmu',
    name: `lmuStep d=${d} B=${B} (recurrence)`,
    params: { d, B },
    // m Āᵀ (2·d² per row) + u B̄ᵀ (2·d per row). Bytes: packed Ā + m + B̄ + out.
    work: { items: B, itemUnit: 'steps', flop: B * (2 * d * d + 2 * d), bytes: 4 * (d * d + 3 * B * d + d) },
    primary: 'items',
    setup({ api, arena }) {
      // A contraction (‖Ā‖ < 1) keeps values bounded; the memory is fixed (not fed back) so each call does the same
      // work on the same magnitudes.
      const aPacked = api.packDense(arena, randomF32(d * d, d + 1, -1 / d, 1 / d), d, d);
      const bBar = rand(arena, [d], d + 2);
      const m = rand(arena, [B, d], d + 3);
      const u = rand(arena, [B], d + 4);
      const out = arena.tensor([B, d]);
      return () => api.lmuStep(m, aPacked, bBar, u, out);
    },
  };
}

function lmuFirCase({ d, L, B = 1 }) {
  return {
    id: `lmu.fir.d${d}.L${L}.B${B}`,
    group: 'lmu',
    name: `lmuFir d=${d} L=${L} (parallel, FIR)`,
    params: { d, L, B, form: 'fir' },
    // out[t] = Σ_{s≤t} u_s·Ht[t−s]: Σ_t (t+1)·d multiply-adds = L(L+1)/2 · d · 2 FLOP (dense u, nothing skipped).
    work: { items: B, itemUnit: 'seq', flop: B * L * (L + 1) * d },
    primary: 'items',
    setup({ api, arena }) {
      const u = rand(arena, [B, L], L + d, 0.05, 1); // non-zero: the kernel skips zero inputs
      const ht = rand(arena, [L, d], L * d, -0.5, 0.5);
      const out = arena.tensor([B, L, d]);
      return () => api.lmuFir(u, ht, out);
    },
  };
}

// ==== LMU FFT (parallel form) ==================================================================================
// The FFT form of the LMU memory (prepareLmuFft + lmuFft in src/ops.ts). The cases run only if the API exports
// it (older builds: reported as skipped). Same shapes as the FIR cases; the plan (spectra of Ht, twiddles,
// scratch) is prepared in setup, so only the per-sequence transform is timed. FLOP are declared as the FIR's
// (the direct-form multiply-adds the op replaces, flagged denseEquivalent), so the two forms' rates compare
// directly; the FFT's own operation count is far lower.
function lmuFftCase({ d, L, B = 1 }) {
  return {
    id: `lmu.fft.d${d}.L${L}.B${B}`,
    group: 'lmu',
    name: `lmuFft d=${d} L=${L} (parallel, FFT)`,
    params: { d, L, B, form: 'fft' },
    work: { items: B, itemUnit: 'seq', flop: B * L * (L + 1) * d },
    primary: 'items',
    denseEquivalent: true,
    available: (api) => typeof api.lmuFft === 'function' && typeof api.prepareLmuFft === 'function',
    setup({ api, arena }) {
      const u = rand(arena, [B, L], L + d, 0.05, 1);
      const ht = rand(arena, [L, d], L * d, -0.5, 0.5);
      const plan = api.prepareLmuFft(arena, ht, L);
      const out = arena.tensor([B, L, d]);
      return () => api.lmuFft(u, plan, out);
    },
  };
}
// ================================================================================================================

export function lmuCases() {
  const cases = [];
  for (const d of [256, 512]) cases.push(lmuStepCase({ d }));
  for (const d of [256, 512]) {
    cases.push(lmuFirCase({ d, L: 128 }));
    cases.push(lmuFftCase({ d, L: 128 }));
  }
  return cases;
}

// ---------------------------------------------------------------- spiking attention: AND + popcount

function popcountCase({ label, Na, Nb, n }) {
  const words = Math.ceil(n / 32);
  return {
    id: `popcount.${label}.${Na}x${Nb}.n${n}`,
    group: 'popcount',
    name: `spikeAndPopcount ${label} [${Na},${n}]·[${Nb},${n}]ᵀ`,
    params: { Na, Nb, n, words },
    // Bytes: the bit data ANDed, both operands for every pair (Na·Nb·words·2 u32). Items: output counts.
    work: { bytes: Na * Nb * words * 8, items: Na * Nb, itemUnit: 'counts' },
    primary: 'bytes',
    setup({ api, arena }) {
      const a = spikeBits(api, arena, [Na, n], Na * 3 + n, 0.5);
      const b = spikeBits(api, arena, [Nb, n], Nb * 5 + n, 0.5);
      const out = arena.tensor([Na, Nb], 'i32');
      return () => api.spikeAndPopcount(a, b, out);
    },
  };
}

export function popcountCases() {
  return [
    // Spikformer CIFAR: 64 tokens, head dim 32. Q Kᵀ (rows packed over d: 1 word) and Kᵀ V (columns packed over N).
    popcountCase({ label: 'QKt N=64 dh=32', Na: 64, Nb: 64, n: 32 }),
    popcountCase({ label: 'KtV N=64 dh=32', Na: 32, Nb: 32, n: 64 }),
    // Spikformer ImageNet-like: 196 tokens, head dim 64.
    popcountCase({ label: 'QKt N=196 dh=64', Na: 196, Nb: 196, n: 64 }),
    popcountCase({ label: 'KtV N=196 dh=64', Na: 64, Nb: 64, n: 196 }),
  ];
}

// ---------------------------------------------------------------- the suite

/** Every case after the peak probe, in table order. */
export function allCases() {
  return [...denseCases(), ...convCases(), ...lifCases(), ...lmuCases(), ...popcountCases()];
}

/** Backends each case runs on (the peak probe declares its own). */
export const BACKENDS = ['simd', 'scalar'];
