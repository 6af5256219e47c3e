// Spikformer throughput with tinybench: images/s of CIFAR Spikformer-4-384 (T = 4) per batch size, and the share of
// the forward spent in each stage (SPS + RPE, SSA, MLP, head). Single thread.
//
//   npm run bench -w @spikewasm/spikformer          (needs dist/ and core-wasm's build/spikewasm.wasm: build first)
//
// The weights are RANDOM (randomSpikformerStateDict, seed 1: N(0, 1/fan_in) weights, BN statistics solved so that
// every LIF fires at a plausible 5–20 %), not a trained model; the inputs are uniformly random 8-bit images through
// cifarNormalize. Spike kernels skip zeros, so the speed depends on the firing rates: they are printed (profile()).
//
// Method: the model and the buffers of each batch size are built once (outside timing); a warm-up forward precedes
// tinybench's own warm-up; each sample is one forward of the whole batch; Wasm allocation inside the timed function
// throws. Reported: median time per forward, ±IQR as % of the median, images/s = batch / median.
// Environment: BENCH_PRESET (default spikformer-4-384), BENCH_BATCH (default "1,8"), BENCH_TIME_MS (default 4000),
// BENCH_OUT=<json path> to also write the results.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Bench } from 'tinybench';
import { init } from '@spikewasm/core-wasm';
import { profile } from '@spikewasm/spiking';
import { Spikformer, cifarNormalize, randomSpikformerStateDict, spikformerPreset } from '../dist/index.js';
import { cpuModel } from '../../core-wasm/bench/host.mjs';

const PRESET = process.env.BENCH_PRESET ?? 'spikformer-4-384';
const BATCHES = (process.env.BENCH_BATCH ?? '1,8').split(',').map(Number);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 4000);

/** Deterministic pseudo-random bytes (an LCG): B uniformly random 8-bit RGB images. */
function randomImages(B, H, W, seed) {
  let s = seed >>> 0;
  return Uint8Array.from({ length: B * H * W * 3 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  });
}

const quantile = (sorted, q) => {
  const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
};

const core = await init();
const { variant, config } = spikformerPreset(PRESET);
const t0 = performance.now();
const sd = randomSpikformerStateDict(config, variant, 1);
const arena = core.arena();
const model = new Spikformer(arena, config, sd, { variant });
const buildMs = performance.now() - t0;
const H = config.img_size_h, W = config.img_size_w;

console.log(`host     ${cpuModel()}, ${os.platform()} ${os.arch()}, Node ${process.version}, V8 ${process.versions.v8}`);
console.log(`model    ${PRESET} (${variant}): D ${config.embed_dims}, ${config.num_heads} heads, ${config.depths} blocks, T ${config.T}, ${H}×${W}, ${config.num_classes} classes; built in ${buildMs.toFixed(0)} ms`);
console.log('weights  RANDOM (randomSpikformerStateDict seed 1, plausible BN statistics), not trained; inputs: random 8-bit images');

const results = [];
for (const B of BATCHES) {
  const x = cifarNormalize(randomImages(B, H, W, 7 + B), { height: H, width: W });
  model.forward(x); // allocates this batch size's buffers, tiers the Wasm up
  const bench = new Bench({ time: TIME_MS, iterations: 5, warmupTime: 300, warmupIterations: 2, retainSamples: true, throws: true });
  bench.add(`B=${B}`, () => model.forward(x));
  const bytes = core.memory.buffer.byteLength;
  core.alloc = () => { throw new Error('Wasm allocation inside the timed forward'); };
  try {
    bench.runSync();
  } finally {
    delete core.alloc;
  }
  if (core.memory.buffer.byteLength !== bytes) throw new Error('Wasm memory grew during timing');
  const res = bench.tasks[0].result;
  if (res.state === 'errored') throw res.error;
  const samples = [...res.latency.samples].sort((a, b) => a - b);
  const median = quantile(samples, 0.5), iqr = quantile(samples, 0.75) - quantile(samples, 0.25);
  // the share per stage over a few extra forwards
  model.stageTimes = { sps: 0, ssa: 0, mlp: 0, head: 0 };
  const reps = Math.max(3, Math.ceil(2000 / median));
  for (let i = 0; i < reps; i++) model.forward(x);
  const st = model.stageTimes;
  model.stageTimes = null;
  const total = st.sps + st.ssa + st.mlp + st.head;
  const share = Object.fromEntries(Object.entries(st).map(([k, v]) => [k, v / total]));
  results.push({ batch: B, samples: samples.length, medianMs: median, iqrPct: (100 * iqr) / median, imagesPerS: (1000 * B) / median, share });
}

const pct = (v) => `${(100 * v).toFixed(1)}%`.padStart(6);
console.log('\nbatch  samples  ms/forward   ±IQR   images/s     SPS     SSA     MLP    head');
for (const r of results) {
  console.log(`${String(r.batch).padStart(5)}  ${String(r.samples).padStart(7)}  ${r.medianMs.toFixed(1).padStart(10)}  ${r.iqrPct.toFixed(1).padStart(4)}%  ${r.imagesPerS.toFixed(2).padStart(9)}  ${pct(r.share.sps)}  ${pct(r.share.ssa)}  ${pct(r.share.mlp)}  ${pct(r.share.head)}`);
}
console.log('SPS = patch splitting + RPE (+ X0); SSA = the 4 attention branches and their residual adds; MLP likewise; head = means + head.');

// firing rates, SOPs and the energy estimate of one image (the paper's accounting: the first conv as MACs)
const one = cifarNormalize(randomImages(1, H, W, 8), { height: H, width: W });
const table = profile(model, () => model.forward(one), { chargeAsMAC: (r) => r.name === 'patch_embed.proj_conv' });
const rate = (t) => (typeof t.firingRate === 'function' ? t.firingRate() : t.f32.reduce((a, v) => a + v, 0) / t.size);
const last = `block.${config.depths - 1}.`;
const rates = model.buffers(1).lifs
  .filter((l) => l.name.startsWith('patch_embed') || l.name.startsWith(last))
  .map((l) => `${l.name.replace('patch_embed.', '')} ${(100 * rate(l.spikes)).toFixed(1)}%`);
console.log(`\nprofile of one image: ${(table.totals.macs / 1e9).toFixed(2)} G dense-equivalent MACs, ${(table.totals.sops / 1e6).toFixed(0)} M SOPs, mean input firing rate ${(100 * table.totals.firingRate).toFixed(1)}%, energy ${table.totals.energyMJ.toFixed(4)} mJ`);
console.log(`LIF firing rates (SPS, last block): ${rates.join(', ')}`);
if (process.env.BENCH_PROFILE) console.log(table.format());

if (process.env.BENCH_OUT) {
  writeFileSync(process.env.BENCH_OUT, JSON.stringify({ preset: PRESET, variant, config, weights: 'random (randomSpikformerStateDict seed 1)', host: { cpu: cpuModel(), node: process.version }, results, profile: table.totals }, null, 2));
}
arena.dispose();
