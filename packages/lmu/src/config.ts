// Model configurations with the official constructor argument names (the fixtures' `config` metadata), their
// published values, and validation.
import { ArgumentError } from '@spikewasm/core-wasm';

/** The official model constructors this package implements (timm-registered names, and the psMNIST notebook's two `Model`s). */
export type LMUFormerFactory = 'lmu_rnn_conv1d' | 'slmu_rnn_ms_conv1d' | 'psmnist_lmu' | 'psmnist_slmu';

/**
 * The two other models registered in the official src/lmu_rnn.py, checked by {@link expectedStateDict} and
 * `loadCheckpoint` like the others (kept out of {@link LMUFormerFactory} so that code enumerating that union is
 * unaffected): `slmu_rnn_conv1d` ({@link SLMUFormerConv1d}) and `attn_ms_conv1d` ({@link AttnLMUFormer}).
 */
export type LMUFormerExtraFactory = 'slmu_rnn_conv1d' | 'attn_ms_conv1d';

/** Every factory the checkpoint loader knows. */
export type AnyLMUFormerFactory = LMUFormerFactory | LMUFormerExtraFactory;

/**
 * The LMU window of every LMUFormer block: `seq_len = theta = 128` are hard-coded in the official `LMU` / `SLMUMs`,
 * so the Speech Commands models accept exactly 128 frames.
 */
export const LMUFORMER_BLOCK_SEQ_LEN = 128;

/**
 * Keyword arguments of the official `ConvLMU` constructor (src/lmu_rnn.py), as `timm.create_model` passes them.
 * Only `num_classes`, `embed_dims`, `in_channels`, `depths`, `mlp_ratios` and `test_mode` change the computation;
 * `num_heads` must divide `embed_dims` (the official blocks assert it); the others are accepted and unused.
 */
export interface LMUFormerConfig {
  /** Classes of the head (35 for Speech Commands v2). */
  num_classes: number;
  /** E, the embedding width (256 published). */
  embed_dims: number;
  /** Input features per frame: mel bins (128 published). */
  in_channels: number;
  /** Number of blocks (1 published). */
  depths: number;
  /** FFN hidden width = int(E · mlp_ratios) (4 published). */
  mlp_ratios: number;
  /** Must divide embed_dims (16 published); unused otherwise. */
  num_heads: number;
  /** `'normal'`: logits [B, classes]; `'all_seq'`: logits after every prefix, [N, B, classes]. */
  test_mode: 'normal' | 'all_seq';
  /** Unused (128). */
  img_size_h: number;
  /** Unused (the audio length, 128). */
  img_size_w: number;
  /** Unused (16). */
  patch_size: number;
  /** Unused (false). */
  qkv_bias: boolean;
  /** Unused (1). */
  sr_ratios: number;
  /** Unused: every LIF runs along the frames (1). */
  T: number;
}

/**
 * The published Speech Commands v2 configuration of `lmu_rnn_conv1d` and `slmu_rnn_ms_conv1d` (src/gsc.yml and
 * src/run.py), with `overrides` applied.
 * @example const cfg = scv2Config({ test_mode: 'all_seq' });   // embed_dims 256, in_channels 128, depths 1, 35 classes
 */
export function scv2Config(overrides: Partial<LMUFormerConfig> = {}): LMUFormerConfig {
  return resolveLMUFormerConfig(overrides);
}

/**
 * A complete, validated {@link LMUFormerConfig}: `config` over the published SCv2 values.
 * @throws {ArgumentError} naming the first invalid argument
 * @example resolveLMUFormerConfig({ embed_dims: 32, in_channels: 16, depths: 2 })
 */
export function resolveLMUFormerConfig(config: Partial<LMUFormerConfig> = {}): LMUFormerConfig {
  const c: LMUFormerConfig = {
    num_classes: 35, img_size_h: 128, img_size_w: 128, patch_size: 16, embed_dims: 256, num_heads: 16, mlp_ratios: 4,
    in_channels: 128, qkv_bias: false, depths: 1, sr_ratios: 1, T: 1, test_mode: 'normal',
    ...definedOnly(config),
  };
  for (const k of ['num_classes', 'embed_dims', 'in_channels', 'depths', 'num_heads'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new ArgumentError(`LMUFormer config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (!(c.mlp_ratios > 0) || !Number.isSafeInteger(Math.trunc(c.embed_dims * c.mlp_ratios)) || Math.trunc(c.embed_dims * c.mlp_ratios) < 1) {
    throw new ArgumentError(`LMUFormer config: mlp_ratios must be > 0 with int(embed_dims · mlp_ratios) ≥ 1, got ${c.mlp_ratios}`);
  }
  if (c.embed_dims % c.num_heads !== 0) throw new ArgumentError(`LMUFormer config: embed_dims ${c.embed_dims} must be divisible by num_heads ${c.num_heads} (the official blocks assert it)`);
  if (c.test_mode !== 'normal' && c.test_mode !== 'all_seq') throw new ArgumentError(`LMUFormer config: test_mode must be 'normal' or 'all_seq', got ${String(c.test_mode)}`);
  return c;
}

/**
 * FFN hidden width of an LMUFormer block: int(embed_dims · mlp_ratios), as Python's `int()` truncates.
 * @example mlpHidden(scv2Config())   // 1024
 */
export function mlpHidden(c: LMUFormerConfig): number {
  return Math.trunc(c.embed_dims * c.mlp_ratios);
}

/**
 * Arguments of the psMNIST notebook's `Model(input_size, output_size, hidden_size, memory_size, seq_len, theta)`
 * (src/LMUFormer_psMNIST.ipynb). The non-spiking model overrides input_size with 3 internally (its conv1 maps the
 * single pixel to 3 channels), so input_size only matters to the spiking model.
 */
export interface PsMnistConfig {
  /** Features per step fed to the spiking LMU (1: one pixel). */
  input_size: number;
  /** Classes (10). */
  output_size: number;
  /** LMU hidden width (346 published). */
  hidden_size: number;
  /** LMU memory order d (468 published). */
  memory_size: number;
  /** Steps per sequence, the FIR length (784 published); the models accept exactly this many. */
  seq_len: number;
  /** LMU window θ (784 published). */
  theta: number;
}

/**
 * The published psMNIST configuration (N_x 1, N_c 10, N_h 346, N_m 468, N_t = THETA = 784) with `overrides`, validated.
 * @example psmnistConfig()   // { input_size: 1, output_size: 10, hidden_size: 346, memory_size: 468, seq_len: 784, theta: 784 }
 */
export function psmnistConfig(overrides: Partial<PsMnistConfig> = {}): PsMnistConfig {
  const c: PsMnistConfig = { input_size: 1, output_size: 10, hidden_size: 346, memory_size: 468, seq_len: 784, theta: 784, ...definedOnly(overrides) };
  for (const k of ['input_size', 'output_size', 'hidden_size', 'memory_size', 'seq_len'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new ArgumentError(`psMNIST config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (!(Number.isFinite(c.theta) && c.theta > 0)) throw new ArgumentError(`psMNIST config: theta must be a finite number > 0, got ${c.theta}`);
  return c;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
