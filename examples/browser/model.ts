// The psMNIST model as the page uses it, runtime-neutral (no DOM, no node:*): read a `psmnist_lmu` checkpoint
// (config and pixel permutation from the file), stream a digit one permuted pixel at a time, softmax the prefix logits.
import { parseSafetensors, type Arena } from '@spikewasm/core-wasm';
import { PsMnistLMU, type PsMnistConfig, type PsMnistLMUStream } from '@spikewasm/lmu';
import { checkPermutation, PIXELS } from '@spikewasm/psmnist';

/** A loaded checkpoint: the model, its notebook config and the permutation (perm[t] = the pixel fed at step t). */
export interface LoadedPsMnist {
  model: PsMnistLMU;
  config: PsMnistConfig;
  permutation: Int32Array;
  metadata: Record<string, string>;
}

/**
 * Builds the model of a psMNIST checkpoint: `__metadata__.factory` must be `psmnist_lmu`, `__metadata__.config` the
 * notebook constructor's arguments (JSON), and the I32 [784] tensor `permutation` the pixel order.
 * @example const { model, permutation } = loadPsMnist(core.arena(), new Uint8Array(await (await fetch(url)).arrayBuffer()));
 */
export function loadPsMnist(arena: Arena, bytes: Uint8Array): LoadedPsMnist {
  const file = parseSafetensors(bytes);
  const { factory, config: configJson } = file.metadata;
  if (factory !== 'psmnist_lmu') throw new Error(`checkpoint factory is ${JSON.stringify(factory)}, expected "psmnist_lmu"`);
  if (typeof configJson !== 'string') throw new Error('checkpoint has no __metadata__.config');
  const config = JSON.parse(configJson) as Partial<PsMnistConfig>;
  const perm = file.tensors.get('permutation');
  if (!perm || perm.dtype !== 'I32' || perm.shape.length !== 1 || perm.shape[0] !== PIXELS) {
    throw new Error(`checkpoint tensor "permutation" must be I32 [${PIXELS}], got ${perm ? `${perm.dtype} [${perm.shape.join(', ')}]` : 'nothing'}`);
  }
  const permutation = Int32Array.from(perm.data as ArrayLike<number>);
  checkPermutation(permutation);
  const model = PsMnistLMU.fromCheckpoint(arena, file, config, { ignore: (k) => k === 'permutation' });
  if (model.config.seq_len !== PIXELS) throw new Error(`checkpoint seq_len is ${model.config.seq_len}, expected ${PIXELS}`);
  return { model, config: model.config, permutation, metadata: file.metadata };
}

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
