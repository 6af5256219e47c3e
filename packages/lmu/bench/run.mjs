// LMUFormer throughput in Node with tinybench: streaming frames/s and parallel clips/s of both Speech Commands v2
// models at the published size (embed_dims 256, in_channels 128, depths 1, 35 classes, 128 frames per clip).
//
//   npm run bench -w @spikewasm/lmu          (needs dist/ of core-wasm, spiking and lmu: build first)
//
// Weights are random (seeded, bench/models.mjs) with plausible batch-norm statistics, not a trained checkpoint: the
// cost of every layer is that of the real model (dense f32 GEMMs; the only data-dependent kernel is the LMU FIR,
// which skips zero inputs u, so the spiking model's f_u firing rate is printed).
//
// Cases (batch 1, single thread, SIMD backend):
//   parallel   model.forward(clip [1, 128, 128])                       → clips/s
//   stream     one utterance: 128 × push(frame [1, 128]), flush(), reset() → frames/s (= 128 / time); the
//              time per frame is the mean over an utterance (the FIR memory grows from 1 to 128 taps)
//   chunked    the same with pushChunk of 16 frames
// Method: every case allocates its buffers first (setup); the timed function allocates no Wasm memory (checked:
// core.alloc throws during timing). Each case is called until V8 has tiered the Wasm up, then tinybench warms up
// and samples for BENCH_TIME_MS (default 1500 ms, ≥ 20 samples). Reported: median ± half the inter-quartile range.
// Environment: BENCH_TIME_MS; BENCH_OUT=<path> also writes the results as JSON.
import { writeFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { init, defaultWasmUrl } from '@spikewasm/core-wasm';
import { LMUFormer, SpikingLMUFormer, scv2Config } from '../dist/index.js';
import { randomStateDict, randomF32 } from './models.mjs';
import { hostFacts } from '../../core-wasm/bench/host.mjs';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 1500);
const MIN_SAMPLES = 20;
const OUT = process.env.BENCH_OUT ?? null;
const FRAMES = 128;

const wasmPath = fileURLToPath(defaultWasmUrl());
const host = {
  ...hostFacts(),
  wasmBytes: statSync(wasmPath).size,
};
console.log(`spikewasm lmu bench — ${new Date().toISOString()}`);
console.log(`host:  ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.platform}, load avg ${host.loadavgAtStart.join(' ')}`);
console.log(`node:  ${host.node}   V8 ${host.v8}   tinybench ${host.tinybench}   wasm ${host.wasmBytes} B`);
console.log(`models: SCv2 size (embed_dims 256, in_channels 128, depths 1, mlp_ratios 4, 35 classes), RANDOM weights with plausible BN statistics (not trained)`);
console.log(`method: batch 1, single thread, SIMD; ≥${TIME_MS} ms and ≥${MIN_SAMPLES} samples per case after warm-up; median ± ½ IQR`);
console.log('');

const core = await init();

function quantile(sorted, q) {
  const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** Times fn (ms per call) with tinybench; Wasm allocation inside fn throws. */
function measure(label, fn) {
  // tier-up: a few calls before timing
  const s0 = performance.now();
  let calls = 0;
  while (calls < 3 || (performance.now() - s0 < 300 && calls < 1000)) { fn(); calls++; }
  const bench = new Bench({ time: TIME_MS, iterations: MIN_SAMPLES, warmup: true, warmupTime: 200, warmupIterations: 5, retainSamples: true, throws: true });
  bench.add(label, fn);
  const alloc = core.alloc;
  core.alloc = () => { throw new Error(`${label}: Wasm allocation inside the timed function`); };
  try {
    bench.runSync();
  } finally {
    core.alloc = alloc;
  }
  const res = bench.tasks[0].result;
  if (res.state === 'errored') throw res.error;
  const s = Float64Array.from(res.latency.samples).sort();
  return { median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75), min: s[0], samples: s.length };
}

/**
 * Bytes of JS heap allocated per call of fn (needs --expose-gc): heap growth over `reps` calls right after a full
 * GC, the median of 7 trials (a scavenge during a trial lowers its figure, compilation raises it). Keep reps·garbage
 * well below the young generation (a few MiB).
 */
function heapPerCall(fn, reps) {
  if (typeof globalThis.gc !== 'function') return null;
  const trials = [];
  for (let trial = 0; trial < 7; trial++) {
    globalThis.gc();
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < reps; i++) fn();
    trials.push((process.memoryUsage().heapUsed - h0) / reps);
  }
  return trials.sort((p, q) => p - q)[3];
}

const fmt = (x, d = 2) => x.toFixed(d);
const results = [];

function report(model, name, st, unitsPerCall, unit, extra = {}) {
  const perUnit = st.median / unitsPerCall, spread = (st.p75 - st.p25) / 2 / unitsPerCall;
  const rate = (1000 * unitsPerCall) / st.median;
  const rateLo = (1000 * unitsPerCall) / st.p75, rateHi = (1000 * unitsPerCall) / st.p25;
  const r = { model, case: name, unit, perUnitMs: perUnit, spreadMs: spread, rate, rateP75: rateLo, rateP25: rateHi, samples: st.samples, callMs: st, ...extra };
  results.push(r);
  const t = perUnit >= 1 ? `${fmt(perUnit)} ms` : `${fmt(perUnit * 1000, 1)} µs`;
  const sp = perUnit >= 1 ? `${fmt(spread)} ms` : `${fmt(spread * 1000, 1)} µs`;
  console.log(`  ${name.padEnd(34)} ${(`${t} ± ${sp}`).padStart(22)} per ${unit.padEnd(5)} ${fmt(rate, rate >= 100 ? 0 : 1).padStart(8)} ${unit}s/s  (${st.samples} samples)${extra.note ? `  ${extra.note}` : ''}`);
}

const config = scv2Config();
const x = randomF32(FRAMES * config.in_channels, 77, -1, 1); // one clip [1, 128, 128] of normalised-fbank-like values
const frames = Array.from({ length: FRAMES }, (_, n) => x.slice(n * config.in_channels, (n + 1) * config.in_channels));
const chunks = Array.from({ length: FRAMES / 16 }, (_, i) => x.slice(i * 16 * config.in_channels, (i + 1) * 16 * config.in_channels));

for (const [factory, Model, title] of [
  ['lmu_rnn_conv1d', LMUFormer, 'LMUFormer (lmu_rnn_conv1d)'],
  ['slmu_rnn_ms_conv1d', SpikingLMUFormer, 'Spiking LMUFormer (slmu_rnn_ms_conv1d)'],
]) {
  const arena = core.arena();
  try {
    const sd = randomStateDict(factory, config, 1);
    const model = new Model(arena, config, sd);
    console.log(title);
    if (factory === 'slmu_rnn_ms_conv1d') {
      const probe = new Model(arena, config, sd, { keepSpikes: true });
      probe.forward(x);
      const rates = [...probe.lifLayers(1)].map(([k, r]) => `${k.replace(/^.*\./, '')} ${(100 * r.spikes.f32.reduce((p, q) => p + q, 0) / r.spikes.size).toFixed(0)}%`);
      console.log(`  firing rates on the bench clip: ${rates.join(', ')}`);
    }
    for (const mode of ['fft', 'fir']) {
      model.lmuMode = mode;
      model.forward(x);
      report(factory, `parallel forward (lmuMode ${mode})`, measure(`${factory} forward ${mode}`, () => model.forward(x)), 1, 'clip');
    }
    for (const mode of ['fir', 'recurrent']) {
      const s = model.stream(1, { lmuMode: mode });
      const utterance = () => {
        for (let n = 0; n < FRAMES; n++) s.push(frames[n]);
        s.flush();
        s.reset();
      };
      utterance();
      // short-lived JS objects per push in the steady state (the pushes of frames 8..120, over and over)
      let k = 0;
      const heap = heapPerCall(() => {
        if (k === 0) for (; k < 8; k++) s.push(frames[k]);
        s.push(frames[k++]);
        if (k === 120) { s.reset(); k = 0; }
      }, 16);
      s.reset();
      report(factory, `stream, push 1 frame (${mode})`, measure(`${factory} stream ${mode}`, utterance), FRAMES, 'frame', {
        heapBytesPerFrame: heap, note: heap === null ? '' : `JS heap ≈ ${(heap / 1024).toFixed(1)} KiB/frame`,
      });
    }
    {
      const s = model.stream(1, { maxChunk: 16 });
      const utterance = () => {
        for (const c of chunks) s.pushChunk(c);
        s.flush();
        s.reset();
      };
      utterance();
      report(factory, 'stream, chunks of 16 frames (fir)', measure(`${factory} stream chunks`, utterance), FRAMES, 'frame');
    }
  } finally {
    arena.dispose();
  }
  console.log('');
}

const fps = results.filter((r) => r.unit === 'frame' && r.case.includes('push 1 frame (fir)'));
console.log(`real time: one frame every 10 ms (100 frames/s); single-frame streaming runs at ${fps.map((r) => `${(r.rate / 100).toFixed(0)}× (${r.model})`).join(', ')} real time`);
console.log('');
if (OUT) {
  writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), host, timeMs: TIME_MS, config, weights: 'random (seeded), plausible BN statistics', results }, null, 2) + '\n');
  console.log(`results written to ${OUT}`);
}
