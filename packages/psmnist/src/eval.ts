// Evaluation of a psMNIST model in both modes (engine-neutral): parallel (the model's forward, FFT memory) and
// streaming (one pixel per step through the stepper), with the accuracy after every number of pixels seen.
import type { PsMnistLMU } from '@spikewasm/lmu';

/** Index of the largest of `n` values at `off` (the first on ties). */
export function argmax(v: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[off + i] > v[off + best]) best = i;
  return best;
}

/**
 * Logits [n, classes] of n permuted sequences x [n · seq_len] by the parallel forward, `batch` sequences at a time.
 * @example const logits = predictParallel(model, pixels, 16);
 */
export function predictParallel(model: PsMnistLMU, x: Float32Array, batch = 16): Float32Array {
  const L = model.config.seq_len, O = model.config.output_size, n = x.length / L;
  const out = new Float32Array(n * O);
  for (let b0 = 0; b0 < n; b0 += batch) {
    const b1 = Math.min(n, b0 + batch);
    out.set(model.forward(x.subarray(b0 * L, b1 * L)).f32.subarray(0, (b1 - b0) * O), b0 * O);
  }
  return out;
}

/** What {@link predictStreaming} returns. */
export interface StreamingResult {
  /** Logits [n, classes] after the last pixel. */
  logits: Float32Array;
  /** correctAt[t] = how many sequences the prefix prediction after t + 1 pixels gets right (when labels are given). */
  correctAt: Int32Array;
}

/**
 * Streams n permuted sequences x [n · seq_len] one pixel per step (`batch` sequences side by side, memory form
 * `mode`), counting after every step how many prefix predictions equal `labels`.
 * @example const { logits, correctAt } = predictStreaming(model, pixels, labels, { mode: 'recurrent' });
 */
export function predictStreaming(
  model: PsMnistLMU, x: Float32Array, labels: ArrayLike<number>,
  options: { batch?: number; mode?: 'fir' | 'recurrent' } = {},
): StreamingResult {
  const L = model.config.seq_len, O = model.config.output_size, n = x.length / L;
  const batch = Math.min(options.batch ?? 64, n);
  const logits = new Float32Array(n * O), correctAt = new Int32Array(L);
  const streams = new Map<number, ReturnType<PsMnistLMU['stream']>>();
  const step = new Float32Array(batch);
  for (let b0 = 0; b0 < n; b0 += batch) {
    const B = Math.min(batch, n - b0);
    let s = streams.get(B);
    if (!s) streams.set(B, (s = model.stream(B, { lmuMode: options.mode ?? 'recurrent' })));
    s.reset();
    const px = B === batch ? step : step.subarray(0, B);
    for (let t = 0; t < L; t++) {
      for (let b = 0; b < B; b++) px[b] = x[(b0 + b) * L + t];
      const y = s.push(px).f32;
      let ok = 0;
      for (let b = 0; b < B; b++) if (argmax(y, b * O, O) === labels[b0 + b]) ok++;
      correctAt[t] += ok;
      if (t === L - 1) logits.set(y.subarray(0, B * O), b0 * O);
    }
  }
  return { logits, correctAt };
}

/** Accuracy summary of the two modes. */
export interface Agreement {
  /** Sequences whose parallel and streaming predictions differ (must be 0). */
  disagreements: number;
  /** Largest |logit difference| between the modes. */
  maxLogitDiff: number;
  /** Whether the logits are equal bit for bit. */
  identical: boolean;
}

/** Compares parallel and streaming logits [n, classes]. */
export function compareModes(parallel: Float32Array, streaming: Float32Array, classes: number): Agreement {
  let disagreements = 0, maxLogitDiff = 0, identical = true;
  for (let i = 0; i < parallel.length; i += classes) {
    if (argmax(parallel, i, classes) !== argmax(streaming, i, classes)) disagreements++;
  }
  for (let i = 0; i < parallel.length; i++) {
    const d = Math.abs(parallel[i] - streaming[i]);
    if (d > maxLogitDiff) maxLogitDiff = d;
    if (!Object.is(parallel[i], streaming[i])) identical = false;
  }
  return { disagreements, maxLogitDiff, identical };
}

/** Accuracy (fraction) of logits [n, classes] against labels. */
export function accuracy(logits: Float32Array, labels: ArrayLike<number>, classes: number): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(logits, i * classes, classes) === labels[i]) ok++;
  return ok / labels.length;
}

/**
 * The early-stopping point: the fewest pixels after which the prefix accuracy stays ≥ `fraction` of the full-length
 * accuracy for every later step (the paper's rule: 99 % of full accuracy).
 */
export function earlyStop(correctAt: Int32Array, fraction = 0.99): { pixels: number; correct: number; full: number } {
  const L = correctAt.length, full = correctAt[L - 1];
  let t = L - 1;
  while (t > 0 && correctAt[t - 1] >= fraction * full) t--;
  return { pixels: t + 1, correct: correctAt[t], full };
}
