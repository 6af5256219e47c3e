#!/usr/bin/env node
// The README's main job: the shipped psMNIST model on the 2,004 held-out digits, parallel (FFT memory) and streaming
// (one pixel per step, recurrent memory), on worker threads; accuracy, per-step latency, early stopping.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { init, Arena } from '@spikewasm/core-wasm';
import { loadMnistSplit } from '../mnist-node.js';
import { permuteDigits } from '../data.js';
import { loadModelFile } from '../model-file.js';
import { evaluateModel } from '../eval-node.js';
import { userPath } from './user-path.js';
import { accuracyCurve, textChart, svgChart } from '../report.js';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: resolve(pkgDir, 'models/psmnist_lmu.safetensors') },
    mode: { type: 'string', default: 'recurrent' },
    workers: { type: 'string' },
    svg: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log('usage: npm run evaluate -w @spikewasm/psmnist -- [--model FILE] [--mode recurrent|fir] [--workers N] [--svg OUT.svg] [--json]');
  process.exit(0);
}
function fail(msg: string): never {
  console.error(`error: ${msg}`);
  process.exit(1);
}
if (a.mode !== 'recurrent' && a.mode !== 'fir') fail(`--mode must be recurrent or fir, got '${a.mode}'`);
const mode = a.mode as 'recurrent' | 'fir';
const modelPath = userPath(a.model!);
const svgPath = a.svg === undefined ? undefined : userPath(a.svg);
if (svgPath !== undefined && !existsSync(dirname(svgPath))) fail(`--svg ${a.svg}: the folder ${dirname(svgPath)} does not exist`);
let bytes: Uint8Array;
try {
  bytes = new Uint8Array(readFileSync(modelPath));
} catch (e) {
  fail(`cannot read ${modelPath}: ${(e as Error).message}`);
}
const t0 = performance.now();
const split = loadMnistSplit();
const set = split.heldOut;
const core = await init();
let loaded: ReturnType<typeof loadModelFile>;
try {
  loaded = loadModelFile(new Arena(core), bytes);
} catch (e) {
  fail(`${modelPath}: ${e instanceof Error ? `${e.name}: ${e.message.split('\n').join('; ')}` : String(e)}`);
}
const { model, permutation, config, metadata } = loaded;
const log = a.json ? () => {} : (s: string) => console.log(s);
log(`psMNIST LMU (${config.hidden_size} hidden, memory d = ${config.memory_size}, θ = ${config.theta}) on ${set.count} held-out digits of the mnist package`);
if (metadata.heldout_accuracy) log(`  recorded at training: ${metadata.heldout_accuracy}`);

// Per-step latency of one stream (B = 1) on this thread: 3 digits after a warm-up digit.
const x = permuteDigits(set.images.subarray(0, 4 * 784), permutation);
const s = model.stream(1, { lmuMode: mode });
const px = new Float32Array(1);
const times: number[] = [];
for (let d = 0; d < 4; d++) {
  s.reset();
  const ts = performance.now();
  for (let t = 0; t < 784; t++) {
    px[0] = x[d * 784 + t];
    s.push(px);
  }
  if (d > 0) times.push((performance.now() - ts) / 784);
}
times.sort((p, q) => p - q);
const stepUs = times[1] * 1000;

const bar = !a.json && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'evaluating [{bar}] {value}/{total} parts', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
const ev = await evaluateModel(bytes, set, {
  workers: a.workers === undefined ? undefined : Number(a.workers), mode,
  onProgress: (done, total) => (done === 0 ? bar?.start(total, 0) : bar?.update(done)),
});
bar?.stop();
const curve = accuracyCurve(ev.streaming.correctAt, ev.count);
const stopAcc = (100 * ev.earlyStop.correct) / ev.count;
const seconds = (performance.now() - t0) / 1000;
const summary = {
  digits: ev.count,
  accuracy: { parallel: ev.parallel.accuracy, streaming: ev.streaming.accuracy },
  disagreements: ev.agreement.disagreements,
  maxLogitDiff: ev.agreement.maxLogitDiff,
  logitsIdentical: ev.agreement.identical,
  streamingMode: mode,
  stepMicroseconds: stepUs,
  earlyStop: { pixels: ev.earlyStop.pixels, accuracy: stopAcc / 100, fractionSkipped: 1 - ev.earlyStop.pixels / ev.seqLen },
  seconds: { parallel: ev.parallel.seconds, streaming: ev.streaming.seconds, total: seconds },
};
if (a.json) {
  console.log(JSON.stringify(summary));
} else {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  log(`  parallel  (FFT memory, whole sequences):  accuracy ${pct(ev.parallel.accuracy)}  (${ev.parallel.seconds.toFixed(1)} s)`);
  log(`  streaming (${mode} memory, 1 pixel/step): accuracy ${pct(ev.streaming.accuracy)}  (${ev.streaming.seconds.toFixed(1)} s)`);
  log(`  predictions identical on ${ev.count - ev.agreement.disagreements}/${ev.count} digits; max |logit difference| ${ev.agreement.maxLogitDiff.toExponential(2)}`);
  log(`  one stream (B = 1): ${stepUs.toFixed(0)} µs per pixel step (${(784 * stepUs / 1000).toFixed(0)} ms per digit)`);
  log(`  early stop: ${ev.earlyStop.pixels} of ${ev.seqLen} pixels keep ${stopAcc.toFixed(2)}% ≥ 99% of the final ${pct(ev.streaming.accuracy)} — ${(100 * (1 - ev.earlyStop.pixels / ev.seqLen)).toFixed(2)}% fewer steps`);
  log('');
  log('  held-out accuracy after n pixels:');
  log(textChart(curve, 98, 40, ev.earlyStop.pixels).replace(/^/gm, '  '));
  log(`done in ${seconds.toFixed(1)} s`);
}
if (svgPath !== undefined) {
  try {
    writeFileSync(svgPath, svgChart(curve, {
      title: `psMNIST LMU, ${ev.count} held-out digits: accuracy vs pixels seen`,
      stop: { pixels: ev.earlyStop.pixels, accuracy: stopAcc }, final: 100 * ev.streaming.accuracy,
    }));
  } catch (e) {
    fail(`cannot write ${svgPath}: ${(e as Error).message}`);
  }
  if (!a.json) console.log(`wrote ${svgPath}`);
}
if (ev.agreement.disagreements > 0) fail(`${ev.agreement.disagreements} digits are predicted differently by the parallel and the streaming form`);
