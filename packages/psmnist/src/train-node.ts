// The Node trainer: shard gradients on worker threads (one Wasm instance each), AdamW on the main thread.
import { availableParallelism } from 'node:os';
import type { PsMnistConfig } from '@spikewasm/lmu';
import { PsMnistTraining, type ShardGradient, type StepReport, type TrainOptions } from './train.js';
import type { Front, TrainableWeights } from './model-file.js';
import type { DigitSet } from './data.js';
import { WorkerClient, runJobs } from './pool.js';

export const WORKER_URL = new URL('./worker.js', import.meta.url);

/** Starts `count` worker threads (default: the machine's cores, at most 2 — a batch has 2 shards). */
export function startWorkers(count = Math.min(2, availableParallelism())): WorkerClient[] {
  return Array.from({ length: Math.max(1, count) }, () => new WorkerClient(WORKER_URL));
}

/** What {@link trainPsMnist} reports at the end of every epoch. */
export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  accuracy: number;
  lr: number;
  seconds: number;
}

/**
 * Trains a psMNIST LMU on `train` (unpermuted digits) with the pixel order `permutation`. The result depends only on
 * the data, the permutation and the options (not on the number of workers).
 * @example const weights = await trainPsMnist(config, split.train, perm, { epochs: 10 }, { onStep, onEpoch });
 */
export async function trainPsMnist(
  config: PsMnistConfig, train: DigitSet, permutation: Int32Array, options: Partial<TrainOptions> = {},
  hooks: { workers?: number; onStep?: (r: StepReport) => void; onEpoch?: (r: EpochReport) => void } = {},
): Promise<TrainableWeights & { front: Front }> {
  const t = new PsMnistTraining(config, train.images, train.labels, permutation, options);
  const clients = startWorkers(hooks.workers);
  try {
    await Promise.all(clients.map((c) => c.request({ type: 'init-train', config, weights: t.weights(), front: t.front })));
    if (t.options.precondition) t.precondition(await clients[0].request<{ mean: Float64Array; std: Float64Array }>({ type: 'stats', x: t.statsSample() }));
    let lossSum = 0, correct = 0, count = 0, t0 = performance.now();
    while (!t.done) {
      const batch = t.nextBatch(), weights = t.weights();
      const grads = await runJobs(clients, batch.shards, async (c, s) =>
        (await c.request<{ g: ShardGradient }>({ type: 'shard', weights, x: s.x, labels: s.labels }, [s.x.buffer])).g);
      const r = t.apply(grads);
      hooks.onStep?.(r);
      lossSum += r.loss * r.count;
      correct += r.correct;
      count += r.count;
      if ((r.step + 1) % r.stepsPerEpoch === 0) {
        hooks.onEpoch?.({ epoch: r.epoch + 1, epochs: t.options.epochs, loss: lossSum / count, accuracy: correct / count, lr: r.lr, seconds: (performance.now() - t0) / 1000 });
        lossSum = correct = count = 0;
        t0 = performance.now();
      }
    }
    return { ...t.weights(), front: t.front };
  } finally {
    await Promise.all(clients.map((c) => c.terminate()));
  }
}
