// Node runner of the spikewasm benchmark suite (bench/cases.mjs) with tinybench. Single thread.
//
//   npm run bench -w @spikewasm/core-wasm          (needs build/spikewasm.wasm and dist/: build first)
//
// Prints host, Node and V8 versions, the measured f32x4 peak, then one aligned table (case × backend: median time
// per call, ±IQR as % of the median, throughput, % of the f32x4 peak, SIMD/scalar speed-up), and writes the same
// results to bench/results.json.
//
// Method: every case allocates all its tensors once (setup, outside timing); the timed closure only calls the op.
// Each case × backend is first called until V8 has tiered the Wasm up (Liftoff → TurboFan happens between calls),
// then a batch size `reps` is chosen so that one tinybench sample lasts about TARGET_SAMPLE_MS (timer overhead
// negligible even for µs-scale GEMVs); tinybench warms up and collects samples for TIME_MS (at least MIN_SAMPLES).
// Reported times are per call (sample / reps); the spread is the inter-quartile range of those samples.
//
// Environment: BENCH_FILTER=<regex on case id>, BENCH_TIME_MS=<per task>, BENCH_OUT=<json path>.
import { writeFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import * as api from '../dist/index.js';
import { allCases, peakCase, BACKENDS, SUITE_VERSION } from './cases.mjs';
import { summarize, buildResults, formatTable, rates } from './report.mjs';
import { hostFacts } from './host.mjs';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 800);
const WARMUP_MS = Math.min(200, TIME_MS / 3);
const MIN_SAMPLES = 10;
const MIN_SAMPLES_SLOW = 5; // calls of ≥ 200 ms
const WARMUP_SAMPLES = 3;
const TARGET_SAMPLE_MS = 1;
const FILTER = process.env.BENCH_FILTER ? new RegExp(process.env.BENCH_FILTER) : null;
const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('./results.json', import.meta.url));

const t0 = performance.now();

// ---------------------------------------------------------------- host

const wasmPath = fileURLToPath(api.defaultWasmUrl());
const host = {
  ...hostFacts(),
  wasm: { path: 'build/spikewasm.wasm', bytes: statSync(wasmPath).size, mtime: statSync(wasmPath).mtime.toISOString() },
};

console.log(`spikewasm core-wasm bench (suite v${SUITE_VERSION}) — ${new Date().toISOString()}`);
console.log(`host:  ${host.cpu}${host.cpuMHz ? ` @ ${Math.round(host.cpuMHz)} MHz` : ''}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.platform}`);
console.log(`node:  ${host.node}   V8 ${host.v8}   tinybench ${host.tinybench}   load avg ${host.loadavgAtStart.join(' ')}`);
console.log(`wasm:  ${host.wasm.path} ${host.wasm.bytes} B (built ${host.wasm.mtime})`);
console.log(`method: single thread; per task ≥${TIME_MS} ms and ≥${MIN_SAMPLES} samples of ~${TARGET_SAMPLE_MS} ms after ${WARMUP_MS} ms warm-up (calls ≥ 200 ms: ≥${MIN_SAMPLES_SLOW} samples); median per call, ±IQR`);
console.log('');

// ---------------------------------------------------------------- measurement

const core = await api.init();

/**
 * Calls fn until V8 has tiered the Wasm up (a function called for the first time runs in Liftoff; TurboFan code is
 * used from a later call on), then estimates the time of one call (ms) on the optimised code.
 */
function calibrate(fn) {
  let calls = 0;
  const start = performance.now();
  while (calls < 2 || (performance.now() - start < 30 && calls < 10000)) { fn(); calls++; }
  let n = 0;
  const s = performance.now();
  let el = 0;
  do { fn(); n++; el = performance.now() - s; } while (el < 10 && n < 100000);
  return el / n;
}

/** Runs fn on a fresh tinybench (one task) with allocation forbidden; returns summarize() stats per call. */
function measure(label, fn) {
  const perCall = calibrate(fn);
  const reps = Math.max(1, Math.round(TARGET_SAMPLE_MS / perCall));
  // Slow calls (≥ 50 ms: scalar convolutions) are already warm after calibration; take fewer samples of them so
  // that the whole suite stays within a few minutes.
  const slow = perCall >= 50;
  const bench = new Bench({
    time: TIME_MS,
    iterations: perCall >= 200 ? MIN_SAMPLES_SLOW : MIN_SAMPLES,
    warmup: !slow,
    warmupTime: WARMUP_MS,
    warmupIterations: WARMUP_SAMPLES,
    retainSamples: true,
    throws: true,
  });
  const batch = reps === 1 ? fn : () => { for (let i = 0; i < reps; i++) fn(); };
  bench.add(label, batch);

  // Allocating Wasm memory inside the timed function is a bug of the case: make it throw, and check memory size.
  const bytesBefore = core.memory.buffer.byteLength;
  core.alloc = () => { throw new Error(`${label}: Wasm allocation inside the timed function`); };
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  try {
    bench.runSync();
  } finally {
    delete core.alloc;
  }
  const cpu = process.cpuUsage(cpu0);
  // Share of the wall time this process was on a CPU: < 100% means samples were preempted (busy machine).
  const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
  if (core.memory.buffer.byteLength !== bytesBefore) throw new Error(`${label}: Wasm memory grew during timing`);

  const task = bench.tasks[0];
  const res = task.result;
  if (res.state === 'errored') throw res.error;
  if (!res.latency?.samples?.length) throw new Error(`${label}: no samples (state ${res.state})`);
  return { ...summarize(res.latency.samples, reps, res.latency.rme), cpuShare };
}

function progress(msg) {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

function runPeak(tag) {
  const c = peakCase();
  const arena = core.arena();
  try {
    const fn = c.setup({ api, core, arena });
    const stats = measure(c.id, fn);
    const r = rates(c.work, stats.median);
    progress(`${c.id} (${tag}): ${r.gflops.toFixed(1)} GFLOP/s`);
    return { case: c, backend: 'simd', stats, gflops: r.gflops };
  } finally {
    arena.dispose();
  }
}

// Peak first (and again at the end, to detect interference from other processes on this machine).
const peakStart = runPeak('start');
console.log(`f32x4 peak: ${peakStart.gflops.toFixed(1)} GFLOP/s single thread (${(peakStart.gflops / 4).toFixed(1)} GFLOP/s = ¼ is the scalar ceiling)`);

const cases = allCases().filter((c) => !FILTER || FILTER.test(c.id));
const measured = [];
for (const c of cases) {
  const backends = c.backends ?? BACKENDS;
  if (c.available && !c.available(api)) {
    for (const b of backends) measured.push({ case: c, backend: b, skipped: 'not in this build (API lacks the op)' });
    progress(`${c.id}: skipped (API lacks the op)`);
    continue;
  }
  const arena = core.arena();
  try {
    const fn = c.setup({ api, core, arena });
    for (const b of backends) {
      core.backend = b;
      const stats = measure(`${c.id} [${b}]`, fn);
      measured.push({ case: c, backend: b, stats });
      const r = rates(c.work, stats.median);
      progress(`${c.id} [${b}]: ${(stats.median * 1e3).toFixed(1)} µs${r.gflops ? `, ${r.gflops.toFixed(2)} GFLOP/s` : ''} (${stats.samples}×${stats.reps})`);
    }
  } catch (e) {
    for (const b of backends) if (!measured.some((m) => m.case === c && m.backend === b)) measured.push({ case: c, backend: b, skipped: `error: ${e.message}` });
    progress(`${c.id}: ERROR ${e.stack ?? e}`);
  } finally {
    core.backend = 'simd';
    arena.dispose();
  }
}

const peakEnd = runPeak('end');
const peak = Math.max(peakStart.gflops, peakEnd.gflops);
const drift = Math.abs(peakStart.gflops - peakEnd.gflops) / peak;

// ---------------------------------------------------------------- report

const results = buildResults(measured, peak);
console.log(`f32x4 peak at end: ${peakEnd.gflops.toFixed(1)} GFLOP/s${drift > 0.1 ? `  ⚠ ${(100 * drift).toFixed(0)}% drift between start and end: the machine was busy, treat rates with care` : ''}; % peak below is against ${peak.toFixed(1)} GFLOP/s`);
console.log('');
console.log(formatTable(results));
console.log('');
console.log('GFLOP/s* = effective rate from the FLOP of the direct dense op (spike input: 2·MACs of the dense op on the 0/1 input;');
console.log('           lmuFft: the FIR form\'s multiply-adds), so it and % peak include the saving from skipping zeros / the FFT.');
console.log('           % peak is against the f32x4 (SIMD) probe for both backends;');
console.log('           the scalar ceiling is ~25% of it. ±IQR = (p75 − p25) / median of the per-call times; min = fastest call.');
console.log('cpu      = CPU time / wall time of this process while the task was timed: well below 100% means other processes');
console.log('           preempted it (samples inflated; the min is then the better estimate of the uncontended speed).');
const over = results.filter((r) => r.pctOfPeak > 100 && !r.denseEquivalent);
if (over.length) {
  console.log(`note: ${over.length} case(s) exceed 100% of the probe (${over.map((r) => `${r.id} [${r.backend}]`).join(', ')}).`);
  console.log('      f32x4_peak_simd128 runs 12 dependent mul→add chains; a kernel above it means the probe is still latency-bound');
  console.log('      on this core (or the machine was busier while the probe ran).');
}
const wall = (performance.now() - t0) / 1000;
const totalCpu = process.cpuUsage();
const share = (totalCpu.user + totalCpu.system) / 1e6 / wall;
if (share < 0.9) console.log(`⚠ this process got ${(100 * share).toFixed(0)}% of a CPU over the run (load avg ${os.loadavg()[0].toFixed(2)} on ${host.cores} cores): the machine was shared, medians of long samples are inflated.`);
console.log(`total ${wall.toFixed(1)} s; load avg now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

const json = {
  suite: 'spikewasm core-wasm bench',
  suiteVersion: SUITE_VERSION,
  date: new Date().toISOString(),
  runtime: 'node',
  host: { ...host, loadavgAtEnd: os.loadavg().map((x) => +x.toFixed(2)) },
  method: { timeMsPerTask: TIME_MS, warmupMs: WARMUP_MS, minSamples: MIN_SAMPLES, minSamplesSlow: MIN_SAMPLES_SLOW, warmupSamples: WARMUP_SAMPLES, targetSampleMs: TARGET_SAMPLE_MS, filter: FILTER?.source ?? null, spread: 'IQR of per-call times', threads: 1 },
  peak: {
    gflops: peak,
    startGflops: peakStart.gflops,
    endGflops: peakEnd.gflops,
    params: peakStart.case.params,
    medianMsPerCall: peakStart.stats.median,
  },
  results,
  wallSeconds: wall,
  cpuShare: share,
};
writeFileSync(OUT, JSON.stringify(json, null, 2) + '\n');
console.log(`results: ${OUT}`);
