// Soak test of streaming inference (issue 9, item 4): the spiking LMUFormer streamed over many frames, memory sampled.
//
//   npm run soak -w @spikewasm/lmu -- --steps 1000000      (= node scripts/soak.mjs --steps 1000000)
//
// Needs the built dist/ of core-wasm, spiking and lmu (`npx turbo run build`): it imports @spikewasm/lmu's dist, not
// the TS sources. It re-executes itself with --expose-gc if global gc() is missing, so every heap sample is taken
// right after a full garbage collection.
//
// Options:
//   --steps N        frames to stream (default 1,000,000)
//   --model M        'scv2' (default): the published Speech Commands v2 size (embed_dims 256, in_channels 128,
//                    depths 1, 35 classes) with the seeded random weights of bench/models.mjs, fed seeded random
//                    frames U(−1.5, 1.5) (a pool of 8 utterances, cycled);
//                    'fixture': shared/fixtures/lmuformer_spiking_small.safetensors with its own input (2 utterances
//                    of batch 2, streamed as batch-1 utterances, cycled)
//   --every N        sample every N frames (default 50,000; the first sample is after the first utterance)
//   --lmu fir|recurrent  the stream's LMU memory form (default fir)
//   --heap-bound B   allowed heap trend in bytes per 1,000 frames (default 1024, i.e. ≤ 1 MiB per million frames)
//
// Loop: utterances of 128 frames: 128 × push(frame), flush(), reset(). Every output is read (its first logit summed
// into a checksum) so nothing is optimised away. Core.alloc is wrapped to count Wasm allocations during the run.
// Exit status: 1 if Wasm memory grows at all after the first utterance, if any Wasm allocation happens, or if the
// least-squares slope of the post-gc heap over the samples (the first sample excluded as warm-up) exceeds
// --heap-bound; 0 otherwise.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000000' },
    model: { type: 'string', default: 'scv2' },
    every: { type: 'string', default: '50000' },
    lmu: { type: 'string', default: 'fir' },
    'heap-bound': { type: 'string', default: '1024' },
  },
});
const STEPS = Number(opt.steps), EVERY = Number(opt.every), HEAP_BOUND = Number(opt['heap-bound']);
const FRAMES = 128;
if (!(STEPS > 0 && EVERY > 0)) throw new Error('--steps and --every must be positive');

const { init, parseSafetensors } = await import('@spikewasm/core-wasm');
const { SpikingLMUFormer, scv2Config, checkpointMetadata } = await import('../dist/index.js');

const core = await init();
const arena = core.arena();
let model, inputs, C, label;
if (opt.model === 'scv2') {
  const { randomStateDict, randomF32 } = await import('../bench/models.mjs');
  const config = scv2Config({ test_mode: 'all_seq' });
  model = new SpikingLMUFormer(arena, config, randomStateDict('slmu_rnn_ms_conv1d', config, 1)); // A, B, H computed from (order, θ)
  C = config.in_channels;
  inputs = Array.from({ length: 8 }, (_, i) => randomF32(FRAMES * C, 1000 + i, -1.5, 1.5));
  label = `spiking LMUFormer, SCv2 size (embed_dims ${config.embed_dims}, in_channels ${C}), random weights (bench/models.mjs, seed 1)`;
} else if (opt.model === 'fixture') {
  const path = fileURLToPath(new URL('../../../../shared/fixtures/lmuformer_spiking_small.safetensors', import.meta.url));
  const file = parseSafetensors(new Uint8Array(readFileSync(path)));
  const config = { ...checkpointMetadata(file).config, test_mode: 'all_seq' };
  model = SpikingLMUFormer.fromCheckpoint(arena, file, config, { ignore: (k) => k === 'input' || k.startsWith('expected.') });
  const [B, N, c] = file.tensors.get('input').shape;
  C = c;
  const x = Float32Array.from(file.tensors.get('input').data);
  inputs = Array.from({ length: B }, (_, b) => x.slice(b * N * C, (b + 1) * N * C));
  label = `spiking LMUFormer, fixture weights (lmuformer_spiking_small, embed_dims ${config.embed_dims}, in_channels ${C}), fixture input`;
} else {
  throw new Error(`--model: 'scv2' or 'fixture', not ${opt.model}`);
}

const s = model.stream(1, { lmuMode: opt.lmu });
const frames = inputs.map((u) => Array.from({ length: FRAMES }, (_, n) => u.subarray(n * C, (n + 1) * C)));
let checksum = 0, step = 0, utt = 0;

/** One utterance: 128 pushes, flush, reset (the last one may be cut short to end at exactly STEPS frames). */
function utterance() {
  const f = frames[utt++ % frames.length];
  const n = Math.min(FRAMES, STEPS - step);
  for (let i = 0; i < n; i++) {
    const l = s.push(f[i]);
    if (l) checksum += l.f32[0];
  }
  const last = s.flush();
  if (last.shape[0]) checksum += last.f32[0];
  s.reset();
  step += n;
}

const samples = []; // { step, t, heap, wasm, rss }
function sample(t0) {
  globalThis.gc();
  const m = process.memoryUsage();
  const x = { step, t: (performance.now() - t0) / 1000, heap: m.heapUsed, wasm: core.memoryBytes, rss: m.rss };
  samples.push(x);
  return x;
}

const MiB = (b) => (b / 1048576).toFixed(3);
console.log(`soak: ${label}; stream batch 1, lmuMode '${opt.lmu}'; ${STEPS.toLocaleString('en')} frames in utterances of ${FRAMES} (push ×${FRAMES}, flush, reset); node ${process.version}`);
// warm-up: the first utterance (V8 tiering, lazily created views); Wasm memory must not change after it
const t0 = performance.now();
utterance();
let allocs = 0;
const alloc = core.alloc;
core.alloc = function (bytes) { allocs++; return alloc.call(core, bytes); };
const first = sample(t0);
console.log(`      step        s   frames/s    heap MiB    Wasm bytes   rss MiB`);
const line = (x, fps) => console.log(`${String(x.step).padStart(10)} ${x.t.toFixed(1).padStart(8)} ${fps.padStart(10)} ${MiB(x.heap).padStart(11)} ${String(x.wasm).padStart(13)} ${MiB(x.rss).padStart(9)}`);
line(first, '-');
let nextSample = EVERY;
while (step < STEPS) {
  utterance();
  if (step >= nextSample || step >= STEPS) {
    const prev = samples[samples.length - 1];
    const x = sample(t0);
    line(x, ((x.step - prev.step) / (x.t - prev.t)).toFixed(0));
    while (nextSample <= step) nextSample += EVERY;
  }
}
core.alloc = alloc;
const total = (performance.now() - t0) / 1000;

// heap trend: least-squares slope of heap vs step over the samples after the first (warm-up)
const pts = samples.slice(1);
let slope = 0;
if (pts.length >= 2) {
  const mx = pts.reduce((a, p) => a + p.step, 0) / pts.length, my = pts.reduce((a, p) => a + p.heap, 0) / pts.length;
  let sxy = 0, sxx = 0;
  for (const p of pts) { sxy += (p.step - mx) * (p.heap - my); sxx += (p.step - mx) ** 2; }
  slope = sxx > 0 ? (sxy / sxx) * 1000 : 0; // bytes per 1,000 frames
}
const heaps = samples.map((p) => p.heap), wasms = samples.map((p) => p.wasm);
const wasmConstant = wasms.every((w) => w === wasms[0]);
const heapOk = Math.abs(slope) <= HEAP_BOUND;
const rows = [
  ['frames', step.toLocaleString('en')],
  ['utterances', utt.toLocaleString('en')],
  ['time', `${total.toFixed(1)} s (sampling and gc included)`],
  ['frames/s', (step / total).toFixed(0)],
  ['samples', `${samples.length} (every ${EVERY.toLocaleString('en')} frames, after gc)`],
  ['heap min / max', `${MiB(Math.min(...heaps))} / ${MiB(Math.max(...heaps))} MiB (first ${MiB(heaps[0])}, last ${MiB(heaps[heaps.length - 1])})`],
  ['heap slope', `${slope.toFixed(1)} B per 1,000 frames (bound ±${HEAP_BOUND}) → ${heapOk ? 'ok' : 'FAIL'}`],
  ['Wasm memory', `${wasmConstant ? 'constant' : 'GREW'}: ${[...new Set(wasms)].join(' → ')} bytes → ${wasmConstant ? 'ok' : 'FAIL'}`],
  ['Wasm allocations', `${allocs} after the first utterance → ${allocs === 0 ? 'ok' : 'FAIL'}`],
  ['rss min / max', `${MiB(Math.min(...samples.map((p) => p.rss)))} / ${MiB(Math.max(...samples.map((p) => p.rss)))} MiB`],
  ['checksum', checksum.toPrecision(10)],
];
console.log('');
for (const [k, v] of rows) console.log(`${k.padEnd(18)} ${v}`);
const ok = wasmConstant && heapOk && allocs === 0 && Number.isFinite(checksum);
console.log(ok ? 'soak: PASS' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
