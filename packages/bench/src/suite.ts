// The runtime-neutral benchmark runner: cross-checks every implementation of a case against the others, then times
// each with tinybench (after V8/SpiderMonkey tier-up), and measures the f32x4 peak and the cold starts. A runtime
// host (node.ts, browser.ts, worker.ts) supplies the loaders of our kernels and of the peers and an event sink.
import { Bench } from 'tinybench';
import type { Core } from '@spikewasm/core-wasm';
import type * as Tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-web';
import { caseList, IMPLS, PEAK_FLOP_PER_ITER, type BenchCase, type Impl, type ImplName, type Output } from './cases.js';

export interface SuiteOptions {
  /** Short time budgets (smoke runs). */
  quick?: boolean;
  /** Tiny shapes, cross-checks only (the tests). */
  tiny?: boolean;
  /** Only check the implementations against each other, no timing. */
  checkOnly?: boolean;
  /** Case ids containing this substring (case-insensitive). */
  filter?: string;
  /** Implementations to run (default all). */
  impls?: ImplName[];
  /** onnxruntime-web threads (env.wasm.numThreads; global per process). Default 1. */
  ortThreads?: number;
  /** Target length of one timing sample in ms (default 2; longer where the clock is coarse, e.g. workerd). */
  sampleMs?: number;
}

export interface Timing { medianMs: number; p25Ms: number; p75Ms: number; iqrPct: number; minMs: number; samples: number; reps: number }
export type ImplResult = Timing | { error: string };

export interface CaseResult {
  id: string;
  group: BenchCase['group'];
  name: string;
  flop: number;
  items: number;
  itemUnit?: string;
  tolerance: BenchCase['tolerance'];
  /** errors: max|a − b| / max(1, max|ref|) per implementation; tolerances: where one differs from the case's; notes: what else was compared. */
  check: {
    ok: boolean; reference?: string; errors: Record<string, number>; detail?: string;
    tolerances?: Record<string, 'exact' | number>; notes?: Record<string, string>;
  };
  impls: Record<string, ImplResult>;
}

export interface PeerStatus { loaded: boolean; reason?: string; version?: string; initMs?: number }

export interface ColdStart {
  /** Our module: load + compile + instantiate (workerd: instantiate only, it compiles at startup). */
  oursInitMs: number;
  /** Our SCv2 LMUFormer built from a state dict of the official layout, which holds the LMU buffers A, B, H (packing, BN folding). */
  oursWeightsMs: number;
  /** Computing the LMU buffers Ā, B̄, H (float64 ZOH; what a state dict without them costs on top). */
  oursLmuBuffersMs?: number;
  /** tfjs: backend 'wasm' import + compile + instantiate. */
  tfjsInitMs?: number;
  /** tfjs: the same state dict uploaded as tensors. */
  tfjsWeightsMs?: number;
  /** onnxruntime-web: import + first InferenceSession.create (Wasm compile + instantiate + a GEMM's weights). */
  ortInitMs?: number;
}

export interface RuntimeResult {
  runtime: string;
  version: string;
  detail?: string;
  options: SuiteOptions;
  peers: { tfjs: PeerStatus; ort: PeerStatus };
  coldStart?: ColdStart;
  peakGflops?: number;
  cases: CaseResult[];
  wallMs: number;
}

export type BenchEvent =
  | { event: 'start'; runtime: string; total: number }
  | { event: 'progress'; done: number; total: number; label: string }
  | { event: 'mismatch'; id: string; detail: string }
  | { event: 'result'; result: RuntimeResult };

/** What a runtime host provides. */
export interface Host {
  runtime: string;
  version: string;
  detail?: string;
  /** Loads our kernels (timed: the cold start). */
  loadOurs: () => Promise<Core>;
  /** Imports tfjs-core with the wasm backend set and ready (timed); throws if it does not load here. */
  loadTf?: () => Promise<typeof Tf>;
  /** Imports onnxruntime-web with env.wasm configured for `threads` (timed with a first session). */
  loadOrt?: (threads: number) => Promise<typeof Ort>;
  emit: (e: BenchEvent) => void;
}

const now = () => performance.now();

/** Rejects after `ms` if `p` has not settled (a peer whose loader hangs in some runtime). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
const errText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0].slice(0, 300);

function quantile(s: Float64Array, q: number): number {
  const i = (s.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return s[lo] + (s[hi] - s[lo]) * (i - lo);
}

/** Normalised max difference max|a − b| / max(1, max|ref|); Infinity on a length mismatch or NaN. */
export function compareOutputs(ref: Output, x: Output): number {
  if (ref.length !== x.length) return Infinity;
  let maxDiff = 0, mag = 1;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i] - x[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return maxDiff / mag;
}

/**
 * Times `fn` (ms per call): calls it until the engine has tiered it up, batches calls so that one sample lasts
 * ~`sampleMs`, then tinybench warms up and samples for `timeMs` (≥ 5 samples). Median, IQR and min per call.
 */
export async function measure(fn: () => void | Promise<void>, timeMs: number, sampleMs = 2): Promise<Timing> {
  const first = fn();
  const isAsync = first instanceof Promise;
  await first;
  const call = async () => { if (isAsync) await fn(); else fn(); };
  let n = 1;
  const t0 = now();
  while (n < 2 || (now() - t0 < Math.min(50, timeMs / 4) && n < 1000)) { await call(); n++; }
  const perCall = (now() - t0) / (n - 1);
  const reps = Math.max(1, Math.round(sampleMs / perCall));
  const batch = isAsync
    ? async () => { for (let i = 0; i < reps; i++) await fn(); }
    : () => { for (let i = 0; i < reps; i++) fn(); };
  // slow calls (the float64 oracle, the scalar models) are warm after calibration: fewer samples, no warm-up
  const slow = perCall > 50;
  const bench = new Bench({
    time: timeMs, iterations: slow ? 3 : 5, warmup: !slow, warmupTime: Math.min(100, timeMs / 4), warmupIterations: 2, retainSamples: true, throws: true,
  });
  bench.add('task', batch);
  await bench.run();
  const res = bench.tasks[0].result as unknown as { state: string; error?: Error; latency?: { samples?: number[] } };
  if (res.state === 'errored') throw res.error;
  const raw = res.latency?.samples;
  if (!raw?.length) throw new Error(`no samples (state ${res.state})`);
  const s = Float64Array.from(raw, (x) => x / reps).sort();
  const median = quantile(s, 0.5), p25 = quantile(s, 0.25), p75 = quantile(s, 0.75);
  return { medianMs: median, p25Ms: p25, p75Ms: p75, iqrPct: (100 * (p75 - p25)) / median, minMs: s[0], samples: s.length, reps };
}

/** Label of an implementation in the results: onnxruntime-web carries its thread count. */
export const implLabel = (impl: ImplName, ortThreads: number): string => (impl === 'ort' ? `ort-${ortThreads}t` : impl);

function timeBudget(o: SuiteOptions, c: BenchCase): number {
  const base = o.quick ? 60 : 250;
  return c.group === 'model' ? base * 2 : base;
}

/** The cases selected by `options` (full or tiny shapes). */
export function selectCases(options: SuiteOptions): BenchCase[] {
  const f = options.filter?.toLowerCase();
  return caseList(!!options.tiny).filter((c) => !f || c.id.toLowerCase().includes(f) || c.name.toLowerCase().includes(f));
}

/**
 * Runs the suite on `host`: cold starts first (in this fresh process), the f32x4 peak, then every case (cross-check,
 * then timing). Emits progress events; returns (and emits) the runtime's result.
 */
export async function runSuite(host: Host, options: SuiteOptions = {}): Promise<RuntimeResult> {
  const t0 = now();
  const threads = options.ortThreads ?? 1;
  const want = new Set<ImplName>(options.impls ?? IMPLS);
  const cases = selectCases(options);
  const total = cases.length + 1;
  host.emit({ event: 'start', runtime: host.runtime, total });

  // ---- cold starts (our module first: nothing else is loaded yet)
  let ti = now();
  const core = await host.loadOurs();
  const cold: ColdStart = { oursInitMs: now() - ti, oursWeightsMs: NaN };
  const { randomLmuStateDict } = await import('./cases.js');
  const { LMUFormer, scv2Config, lmuBuffers, LMUFORMER_BLOCK_SEQ_LEN } = await import('@spikewasm/lmu');
  const config = scv2Config(options.tiny ? { embed_dims: 32, in_channels: 16, num_classes: 5 } : {});
  ti = now();
  lmuBuffers(config.embed_dims, LMUFORMER_BLOCK_SEQ_LEN, LMUFORMER_BLOCK_SEQ_LEN);
  cold.oursLmuBuffersMs = now() - ti;
  const sd = randomLmuStateDict('lmu_rnn_conv1d', config, 1);
  {
    const arena = core.arena();
    ti = now();
    new LMUFormer(arena, config, sd);
    cold.oursWeightsMs = now() - ti;
    arena.dispose();
  }
  const peers: RuntimeResult['peers'] = { tfjs: { loaded: false, reason: 'not requested' }, ort: { loaded: false, reason: 'not requested' } };
  let tf: typeof Tf | undefined;
  let ort: typeof Ort | undefined;
  if (want.has('tfjs')) {
    if (!host.loadTf) peers.tfjs = { loaded: false, reason: 'no loader for this runtime' };
    else {
      try {
        ti = now();
        tf = await withTimeout(host.loadTf(), 30_000, 'loading tfjs-backend-wasm');
        cold.tfjsInitMs = now() - ti;
        peers.tfjs = { loaded: true, version: tf.version_core, initMs: cold.tfjsInitMs };
        ti = now();
        const ts = [...sd.values()].map((v) => tf!.tensor(v));
        for (const t of ts) t.dataSync();
        cold.tfjsWeightsMs = now() - ti;
        tf.dispose(ts);
      } catch (e) {
        tf = undefined;
        peers.tfjs = { loaded: false, reason: errText(e) };
      }
    }
  }
  if (want.has('ort')) {
    if (!host.loadOrt) peers.ort = { loaded: false, reason: 'no loader for this runtime' };
    else {
      try {
        ti = now();
        ort = await withTimeout(host.loadOrt(threads), 30_000, 'loading onnxruntime-web');
        cold.ortInitMs = now() - ti;
        peers.ort = { loaded: true, version: ort.env.versions?.web, initMs: cold.ortInitMs };
      } catch (e) {
        ort = undefined;
        peers.ort = { loaded: false, reason: errText(e) };
      }
    }
  }

  // ---- peak
  let peakGflops: number | undefined;
  if (!options.checkOnly) {
    const peak = (core.exports as unknown as Record<string, (n: number) => number>).f32x4_peak_simd128;
    const iters = options.quick ? 1 << 16 : 1 << 18;
    let sink = 0;
    // one long call per sample never leaves the baseline tier: call it for a while first so the engine tiers it up
    for (const t1 = now(); now() - t1 < 200;) sink += peak(1 << 12);
    const t = await measure(() => { sink += peak(iters); }, options.quick ? 100 : 400);
    peakGflops = (PEAK_FLOP_PER_ITER * iters) / t.medianMs / 1e6 + 0 * sink;
  }
  host.emit({ event: 'progress', done: 1, total, label: 'cold start, f32x4 peak' });

  // ---- cases
  const results: CaseResult[] = [];
  let done = 1;
  for (const c of cases) {
    host.emit({ event: 'progress', done, total, label: c.id });
    results.push(await runCase(c, { core, tf, ort, want, threads, options, host }));
    host.emit({ event: 'progress', done: ++done, total, label: c.id });
  }
  const result: RuntimeResult = {
    runtime: host.runtime, version: host.version, detail: host.detail, options, peers,
    coldStart: cold, peakGflops, cases: results, wallMs: now() - t0,
  };
  host.emit({ event: 'result', result });
  return result;
}

interface RunCtx {
  core: Core; tf?: typeof Tf; ort?: typeof Ort; want: Set<ImplName>; threads: number; options: SuiteOptions; host: Host;
}

async function runCase(c: BenchCase, r: RunCtx): Promise<CaseResult> {
  const out: CaseResult = {
    id: c.id, group: c.group, name: c.name, flop: c.flop, items: c.items ?? 1, itemUnit: c.itemUnit,
    tolerance: c.tolerance, check: { ok: true, errors: {} }, impls: {},
  };
  const arena = r.core.arena();
  const ready: [string, Impl][] = [];
  const tolOf = new Map<string, 'exact' | number>();
  try {
    for (const name of IMPLS) {
      const make = c.impls[name];
      if (!make || !r.want.has(name)) continue;
      const label = implLabel(name, r.threads);
      if (name === 'tfjs' && !r.tf) { out.impls[label] = { error: 'does not load' }; continue; }
      if (name === 'ort' && !r.ort) { out.impls[label] = { error: 'does not load' }; continue; }
      try {
        const impl = await make({ core: r.core, arena, tf: r.tf, ort: r.ort });
        await impl.run();
        ready.push([label, impl]);
        const tol = c.toleranceFor?.[name];
        if (tol !== undefined) tolOf.set(label, tol);
      } catch (e) {
        out.impls[label] = { error: errText(e) };
      }
    }
    // ---- cross-check: every output against the reference (the JS oracle when present, else ours)
    const outputs = new Map<string, Output>();
    for (const [label, impl] of ready) outputs.set(label, await impl.output());
    const refLabel = outputs.has('js') ? 'js' : outputs.has('ours') ? 'ours' : [...outputs.keys()][0];
    if (refLabel !== undefined) {
      out.check.reference = refLabel;
      const ref = outputs.get(refLabel)!;
      const bad: string[] = [];
      for (const [label, o] of outputs) {
        if (label === refLabel) continue;
        const err = compareOutputs(ref, o);
        out.check.errors[label] = err;
        const tol = tolOf.get(label) ?? c.tolerance;
        if (tolOf.has(label)) (out.check.tolerances ??= {})[label] = tol;
        if (tol === 'exact' ? err !== 0 : !(err <= tol)) bad.push(`${label} differs from ${refLabel} by ${err.toExponential(2)} (tolerance ${tol})`);
      }
      for (const [label, impl] of ready) {
        if (!impl.note) continue;
        try {
          (out.check.notes ??= {})[label] = await impl.note();
        } catch (e) {
          (out.check.notes ??= {})[label] = `note failed: ${errText(e)}`;
        }
      }
      if (bad.length) {
        out.check.ok = false;
        out.check.detail = bad.join('; ');
        r.host.emit({ event: 'mismatch', id: c.id, detail: out.check.detail });
      }
    }
    if (!out.check.ok || r.options.checkOnly) {
      for (const [label] of ready) out.impls[label] = { error: out.check.ok ? 'not timed (check only)' : 'not timed: cross-check failed' };
      return out;
    }
    // ---- timing
    for (const [label, impl] of ready) {
      try {
        out.impls[label] = await measure(impl.run, timeBudget(r.options, c), r.options.sampleMs);
      } catch (e) {
        out.impls[label] = { error: errText(e) };
      }
    }
    return out;
  } finally {
    for (const [, impl] of ready) impl.dispose?.();
    arena.dispose();
  }
}
