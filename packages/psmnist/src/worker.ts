// Worker thread of the Node trainer and evaluator: one Wasm instance per worker (see ./train-node.ts, ./eval-node.ts).
import { parentPort } from 'node:worker_threads';
import { init, Arena } from '@spikewasm/core-wasm';
import type { PsMnistConfig } from '@spikewasm/lmu';
import { PsMnistGradient } from './train.js';
import { loadModelFile, type Front, type TrainableWeights } from './model-file.js';
import { predictParallel, predictStreaming } from './eval.js';

export type WorkerRequest =
  | { type: 'init-train'; config: PsMnistConfig; weights: TrainableWeights; front: Front }
  | { type: 'shard'; weights: TrainableWeights; x: Float32Array; labels: Uint8Array }
  | { type: 'stats'; x: Float32Array }
  | { type: 'init-eval'; model: Uint8Array }
  | { type: 'eval'; x: Float32Array; labels: Uint8Array; mode: 'parallel' | 'fir' | 'recurrent' };

const port = parentPort!;
const core = await init();
let grad: PsMnistGradient | null = null;
let model: ReturnType<typeof loadModelFile>['model'] | null = null;

function answer(msg: WorkerRequest): [unknown, ArrayBufferLike[]] {
  switch (msg.type) {
    case 'init-train':
      grad = new PsMnistGradient(new Arena(core), msg.config, msg.weights, msg.front);
      return [{ type: 'ready' }, []];
    case 'shard': {
      const g = grad!.compute(msg.weights, msg.x, msg.labels);
      return [{ type: 'shard', g }, [g.gWH.buffer, g.gBH.buffer, g.gWC.buffer, g.gBC.buffer]];
    }
    case 'stats': {
      const st = grad!.inputStats(msg.x);
      return [{ type: 'stats', ...st }, [st.mean.buffer, st.std.buffer]];
    }
    case 'init-eval':
      model = loadModelFile(new Arena(core), msg.model).model;
      return [{ type: 'ready' }, []];
    case 'eval': {
      const t0 = performance.now();
      if (msg.mode === 'parallel') {
        const logits = predictParallel(model!, msg.x);
        return [{ type: 'eval', logits, ms: performance.now() - t0 }, [logits.buffer]];
      }
      const r = predictStreaming(model!, msg.x, msg.labels, { mode: msg.mode });
      return [{ type: 'eval', logits: r.logits, correctAt: r.correctAt, ms: performance.now() - t0 }, [r.logits.buffer, r.correctAt.buffer]];
    }
  }
}

port.on('message', (msg: WorkerRequest) => {
  try {
    const [reply, transfer] = answer(msg);
    port.postMessage(reply, transfer as ArrayBuffer[]);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
port.postMessage({ type: 'started' });
