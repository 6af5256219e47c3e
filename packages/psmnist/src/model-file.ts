// The shipped psMNIST model file: ONE safetensors with the notebook model's official key names (`conv1.*`, `bn1.*`,
// `lmu_fft.{A,B,H,W_u,W_h}.*`, `classifier.*`), `__metadata__` `factory` = psmnist_lmu and `config` (the notebook
// constructor's argument names), and the tensor `permutation` (I32 [seq_len]: the pixel index fed at step t).
import {
  parseSafetensors, serializeSafetensors, SpikewasmError, ShapeError,
  type Arena, type SafetensorsFile, type TensorToWrite,
} from '@spikewasm/core-wasm';
import { PsMnistLMU, lmuBuffers, checkpointMetadata, psmnistConfig, type PsMnistConfig, type PsMnistOptions } from '@spikewasm/lmu';
import { checkPermutation } from './data.js';

/** The factory name of the shipped model (the notebook's non-spiking `Model`). */
export const MODEL_FACTORY = 'psmnist_lmu';

/** The trainable weights of a psMNIST LMU, PyTorch layouts (row-major [out, in]). */
export interface TrainableWeights {
  /** lmu_fft.W_h.weight [hidden, memory + 3] (memory columns first). */
  wH: Float32Array;
  /** lmu_fft.W_h.bias [hidden]. */
  bH: Float32Array;
  /** classifier.weight [10, hidden]. */
  wC: Float32Array;
  /** classifier.bias [10]. */
  bC: Float32Array;
}

/** The fixed (untrained) encoder of the memory: u_t = ReLU(uGain · x₃ + uBias) with x₃ the pixel. */
export interface Front {
  /**
   * Gain of W_u. With u = pixel the memory's components have an RMS of 0.05–0.2 on MNIST; × 8 brings them near 1, so
   * that W_h starts (and AdamW steps) at a sensible scale.
   */
  uGain: number;
  /**
   * Bias of W_u: a constant added to every u_t, so that the memory also holds a known function of the step t (a
   * "clock" the hidden units can gate on, e.g. to fire only once most pixels have been seen).
   */
  uBias: number;
}

export const DEFAULT_FRONT: Front = { uGain: 8, uBias: 0 };

/**
 * The fixed front of the model (not trained): conv1 = 1 → 3 channels with weight 1 and bias 0, bn1 at its initial
 * state (weight 1, bias 0, running mean 0, variance 1), W_u = [uGain, 0, 0] with bias uBias. So every x₃ channel is
 * the pixel p (times 1/√(1 + 1e-5) from the BN) and u_t = ReLU(uGain · x₃ + uBias): the LMU memory holds the
 * Legendre coefficients of the (scaled, offset) pixel sequence itself.
 */
export function fixedFront(front: Front = DEFAULT_FRONT): Record<string, TensorToWrite> {
  const f = (v: number[], shape: number[]): TensorToWrite => ({ data: Float32Array.from(v), shape });
  return {
    'conv1.weight': f([1, 1, 1], [3, 1, 1]),
    'conv1.bias': f([0, 0, 0], [3]),
    'bn1.weight': f([1, 1, 1], [3]),
    'bn1.bias': f([0, 0, 0], [3]),
    'bn1.running_mean': f([0, 0, 0], [3]),
    'bn1.running_var': f([1, 1, 1], [3]),
    'lmu_fft.W_u.weight': f([front.uGain, 0, 0], [1, 3]),
    'lmu_fft.W_u.bias': f([front.uBias], [1]),
  };
}

/**
 * The full state dict (official names, float32) of a psMNIST LMU with the fixed front and the given trainable
 * weights; Ā, B̄, H from the config (ZOH in float64, as {@link lmuBuffers}).
 */
export function stateDict(config: PsMnistConfig, w: TrainableWeights, front: Front = DEFAULT_FRONT): Record<string, TensorToWrite> {
  const { hidden_size: N, memory_size: d, seq_len: L, output_size: O } = config;
  const want: [keyof TrainableWeights, number][] = [['wH', N * (d + 3)], ['bH', N], ['wC', O * N], ['bC', O]];
  for (const [k, n] of want) if (w[k].length !== n) throw new ShapeError(`psMNIST weights: ${k} expected ${n} values, got ${w[k].length}`);
  const { A, B, H } = lmuBuffers(d, config.theta, L);
  const fixed = fixedFront(front);
  return {
    'conv1.weight': fixed['conv1.weight'], 'conv1.bias': fixed['conv1.bias'],
    'bn1.weight': fixed['bn1.weight'], 'bn1.bias': fixed['bn1.bias'],
    'bn1.running_mean': fixed['bn1.running_mean'], 'bn1.running_var': fixed['bn1.running_var'],
    'lmu_fft.A': { data: A, shape: [d, d] },
    'lmu_fft.B': { data: B, shape: [d, 1] },
    'lmu_fft.H': { data: H, shape: [d, L] },
    'lmu_fft.W_u.weight': fixed['lmu_fft.W_u.weight'], 'lmu_fft.W_u.bias': fixed['lmu_fft.W_u.bias'],
    'lmu_fft.W_h.weight': { data: w.wH, shape: [N, d + 3] },
    'lmu_fft.W_h.bias': { data: w.bH, shape: [N] },
    'classifier.weight': { data: w.wC, shape: [O, N] },
    'classifier.bias': { data: w.bC, shape: [O] },
  };
}

/** The notebook constructor's keyword arguments, as stored in `config` (theta as a float, like the fixtures). */
export function configJson(c: PsMnistConfig): string {
  return `{"input_size": ${c.input_size}, "output_size": ${c.output_size}, "hidden_size": ${c.hidden_size}, "memory_size": ${c.memory_size}, "seq_len": ${c.seq_len}, "theta": ${Number.isInteger(c.theta) ? c.theta.toFixed(1) : c.theta}}`;
}

/**
 * Serialises a trained model: weights, metadata (`factory`, `config`, plus any string entries of `extra`) and the
 * permutation tensor.
 */
export function writeModelFile(config: PsMnistConfig, w: TrainableWeights, permutation: Int32Array, extra: Record<string, string> = {}, front: Front = DEFAULT_FRONT): Uint8Array {
  checkPermutation(permutation);
  return serializeSafetensors(
    { ...stateDict(config, w, front), permutation: { data: permutation, shape: [permutation.length], dtype: 'I32' } },
    { ...extra, factory: MODEL_FACTORY, config: configJson(config) },
  );
}

/** A psMNIST model file that does not hold what {@link readModelFile} needs. */
export class ModelFileError extends SpikewasmError {
  override readonly name = 'ModelFileError';
}

/** What a model file holds besides the weights. */
export interface ModelFileInfo {
  file: SafetensorsFile;
  config: PsMnistConfig;
  /** perm[t] = the pixel (row-major index in the 28 × 28 image) fed at step t. */
  permutation: Int32Array;
  metadata: Readonly<Record<string, string>>;
}

/**
 * Parses a psMNIST model file: checks the factory, reads the config and the permutation.
 * @throws {ModelFileError} another factory, or no valid `permutation` tensor; safetensors errors for a corrupt file
 */
export function readModelFile(bytes: Uint8Array): ModelFileInfo {
  const file = parseSafetensors(bytes);
  const meta = checkpointMetadata(file);
  const factory = file.metadata.factory;
  if (!meta || meta.factory !== MODEL_FACTORY) throw new ModelFileError(`psMNIST model file: __metadata__ factory expected '${MODEL_FACTORY}', got ${factory === undefined ? 'none' : `'${factory}'`}`);
  const config = psmnistConfig(meta.config as Partial<PsMnistConfig>);
  const p = file.tensors.get('permutation');
  if (!p || p.dtype !== 'I32' || p.shape.length !== 1 || p.shape[0] !== config.seq_len) {
    throw new ModelFileError(`psMNIST model file: tensor 'permutation' expected I32 [${config.seq_len}], got ${p ? `${p.dtype} [${p.shape.join(', ')}]` : 'none'}`);
  }
  const permutation = Int32Array.from(p.data as Int32Array);
  checkPermutation(permutation, "tensor 'permutation'");
  return { file, config, permutation, metadata: file.metadata };
}

/**
 * Loads a psMNIST model file into a {@link PsMnistLMU} on `arena`.
 * @example const { model, permutation } = loadModelFile(arena, bytes);   // model.forward(permuted pixels [B, 784, 1])
 */
export function loadModelFile(arena: Arena, bytes: Uint8Array, options: PsMnistOptions = {}): ModelFileInfo & { model: PsMnistLMU } {
  const info = readModelFile(bytes);
  const model = PsMnistLMU.fromCheckpoint(arena, info.file, info.config, { ...options, ignore: (k) => k === 'permutation' });
  return { ...info, model };
}
