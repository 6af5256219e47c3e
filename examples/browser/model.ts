// The psMNIST model as the page uses it, runtime-neutral (no DOM, no node:*): the checkpoint is read by
// @spikewasm/psmnist's loadModelFile (factory and config from `__metadata__`, the I32 [784] `permutation` tensor);
// here: stream a digit one permuted pixel at a time, softmax the prefix logits.
import type { PsMnistLMU, PsMnistLMUStream } from '@spikewasm/lmu';
import type { ModelFileInfo } from '@spikewasm/psmnist';

/** A loaded model file: the model, its notebook config and the permutation (perm[t] = the pixel fed at step t). */
export type LoadedPsMnist = ModelFileInfo & { model: PsMnistLMU };

/** Pushes steps [from, to) of a digit (784 unpermuted pixels) into a stream; returns the last prefix logits (a copy). */
export function pushSteps(stream: PsMnistLMUStream, permutation: Int32Array, pixels: Float32Array, from: number, to: number, one = new Float32Array(1)): Float32Array {
  for (let t = from; t < to; t++) {
    one[0] = pixels[permutation[t]];
    stream.push(one);
  }
  return stream.logits.f32.slice();
}

/** Softmax in float64 (display only; the logits are the model's output). */
export function softmax(logits: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(logits));
  const e = Array.from(logits, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Index of the largest value (the first on ties). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** The IEEE-754 bit patterns of float32 values (for bit-for-bit comparisons across runtimes). */
export function f32Bits(v: Float32Array): number[] {
  return Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
}
