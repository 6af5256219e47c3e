// The Node evaluator: the held-out digits split over worker threads, in parallel and streaming mode.
import { permuteDigits, type DigitSet } from './data.js';
import { compareModes, accuracy, earlyStop, type Agreement } from './eval.js';
import { readModelFile } from './model-file.js';
import { startWorkers } from './train-node.js';
import type { WorkerClient } from './pool.js';

/** What {@link evaluateModel} measured. */
export interface Evaluation {
  count: number;
  classes: number;
  seqLen: number;
  parallel: { logits: Float32Array; accuracy: number; seconds: number };
  streaming: { logits: Float32Array; accuracy: number; seconds: number; mode: 'fir' | 'recurrent'; correctAt: Int32Array };
  agreement: Agreement;
  earlyStop: { pixels: number; correct: number; full: number };
}

/** Splits n items into `parts` contiguous ranges. */
function ranges(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) out.push([Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return out.filter(([a, b]) => b > a);
}

/**
 * Evaluates a model file on `set` (unpermuted digits; the file's permutation is applied) in both modes.
 * @example const e = await evaluateModel(bytes, split.heldOut);   // e.parallel.accuracy, e.agreement.disagreements
 */
export async function evaluateModel(
  modelBytes: Uint8Array, set: DigitSet,
  options: { workers?: number; mode?: 'fir' | 'recurrent'; onProgress?: (done: number, total: number) => void } = {},
): Promise<Evaluation> {
  const info = readModelFile(modelBytes);
  const { seq_len: L, output_size: O } = info.config;
  const x = permuteDigits(set.images, info.permutation);
  const mode = options.mode ?? 'recurrent';
  const clients = startWorkers(options.workers);
  const parts = ranges(set.count, clients.length);
  let done = 0;
  const total = 2 * parts.length;
  const tick = () => options.onProgress?.(++done, total);
  try {
    options.onProgress?.(0, total);
    await Promise.all(clients.map((c) => c.request({ type: 'init-eval', model: modelBytes })));
    type Reply = { logits: Float32Array; correctAt?: Int32Array; ms: number };
    const run = async (which: 'parallel' | 'fir' | 'recurrent') => {
      const t0 = performance.now();
      const replies = await Promise.all(parts.map(async ([a, b], i) => {
        const r = await (clients[i] as WorkerClient).request<Reply>({ type: 'eval', x: x.slice(a * L, b * L), labels: set.labels.slice(a, b), mode: which });
        tick();
        return r;
      }));
      const logits = new Float32Array(set.count * O);
      const correctAt = new Int32Array(L);
      parts.forEach(([a], i) => {
        logits.set(replies[i].logits, a * O);
        const c = replies[i].correctAt;
        if (c) for (let t = 0; t < L; t++) correctAt[t] += c[t];
      });
      return { logits, correctAt, seconds: (performance.now() - t0) / 1000 };
    };
    const par = await run('parallel');
    const str = await run(mode);
    return {
      count: set.count, classes: O, seqLen: L,
      parallel: { logits: par.logits, accuracy: accuracy(par.logits, set.labels, O), seconds: par.seconds },
      streaming: { logits: str.logits, accuracy: accuracy(str.logits, set.labels, O), seconds: str.seconds, mode, correctAt: str.correctAt },
      agreement: compareModes(par.logits, str.logits, O),
      earlyStop: earlyStop(str.correctAt),
    };
  } finally {
    await Promise.all(clients.map((c) => c.terminate()));
  }
}
