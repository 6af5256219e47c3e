// Model configurations with the official constructor argument names (the fixtures' `config` metadata), the three
// official code bases (CIFAR, ImageNet, CIFAR10-DVS), the published sizes, and the geometry a configuration implies.
import { ArgumentError } from '@spikewasm/core-wasm';

/**
 * The official code base a checkpoint comes from (github.com/ZK-Zhou/spikformer, spec spikformer.md §1–2):
 *
 * | variant | code | q/k/v | MLP | SPS max-pools | s | input |
 * |---|---|---|---|---|---|---|
 * | `'cifar'` | cifar10/model.py | `Linear` with bias | `Linear` | after conv2, conv3 | 0.125 | static image, repeated T times |
 * | `'imagenet'` | imagenet/model.py | `Conv1d` k1, no bias | `Conv2d` 1×1 | after all four | 0.125 | static image, T = 4 |
 * | `'dvs'` | cifar10dvs/model.py | `Conv1d` k1, no bias | `Conv1d` k1 | after all four | 0.25 | T event-count frames |
 *
 * The maths of a k = 1 conv over tokens is that of a Linear over channels, so all three run the same kernels.
 */
export type SpikformerVariant = 'cifar' | 'imagenet' | 'dvs';

/** The variants, in a fixed order. */
export const SPIKFORMER_VARIANTS: readonly SpikformerVariant[] = ['cifar', 'imagenet', 'dvs'];

/** Spikformer's attention scale s (spec spikformer.md §1): 0.125 for CIFAR and ImageNet, 0.25 for CIFAR10-DVS. */
export const SSA_SCALE: Readonly<Record<SpikformerVariant, number>> = Object.freeze({ cifar: 0.125, imagenet: 0.125, dvs: 0.25 });

/**
 * Keyword arguments of the official `Spikformer` constructor (all three code bases), as `timm.create_model('spikformer',
 * …)` passes them. Only `img_size_h`, `img_size_w`, `in_channels`, `num_classes`, `embed_dims`, `num_heads`,
 * `mlp_ratios`, `depths` and `T` change the computation; the others (dropout rates, `qkv_bias`, `qk_scale`,
 * `sr_ratios`, `patch_size`) are accepted and unused in eval mode — exactly as in the official code, where the CIFAR
 * q/k/v linears always have a bias, the scale is a constant and SPS always divides by 4 or 16.
 */
export interface SpikformerConfig {
  /** Image height (32 CIFAR, 224 ImageNet, 128 DVS). CIFAR: a multiple of 4; ImageNet: a multiple of 16; DVS: 128. */
  img_size_h: number;
  /** Image width, as img_size_h. */
  img_size_w: number;
  /** Unused by the computation (4 CIFAR, 16 ImageNet/DVS). */
  patch_size: number;
  /** Image channels (3; 2 event polarities for DVS). */
  in_channels: number;
  /** Classes of the head (10 / 100 CIFAR, 1000 ImageNet, 10 CIFAR10-DVS). */
  num_classes: number;
  /** D, the embedding width; SPS widths are D/8, D/4, D/2, D, so D must be a multiple of 8. */
  embed_dims: number;
  /** Attention heads; must divide D. */
  num_heads: number;
  /** MLP hidden width = int(D · mlp_ratios) (4 published). */
  mlp_ratios: number;
  /** Unused (the CIFAR q/k/v linears always have a bias, the ImageNet/DVS convs never). */
  qkv_bias: boolean;
  /** Unused (the scale is the constant s of {@link SSA_SCALE}). */
  qk_scale: number | null;
  /** Unused in eval mode. */
  drop_rate: number;
  /** Unused in eval mode. */
  attn_drop_rate: number;
  /** Unused in eval mode. */
  drop_path_rate: number;
  /** L, the number of encoder blocks. */
  depths: number;
  /** Unused (1). */
  sr_ratios: number;
  /**
   * Time steps. A constructor argument of the CIFAR code only: the ImageNet code hard-codes 4 and the DVS model takes
   * T from its input frames (16 for the published result); here it sizes the buffers for every variant.
   */
  T: number;
}

/** The published configuration of each variant's training script, used for arguments a config leaves out. */
const BASE: Readonly<Record<SpikformerVariant, SpikformerConfig>> = Object.freeze({
  // cifar10/cifar10.yml + train.py: Spikformer-4-384
  cifar: {
    img_size_h: 32, img_size_w: 32, patch_size: 4, in_channels: 3, num_classes: 10, embed_dims: 384, num_heads: 12,
    mlp_ratios: 4, qkv_bias: false, qk_scale: null, drop_rate: 0, attn_drop_rate: 0, drop_path_rate: 0.2, depths: 4,
    sr_ratios: 1, T: 4,
  },
  // imagenet/model.py `spikformer()`: Spikformer-8-512
  imagenet: {
    img_size_h: 224, img_size_w: 224, patch_size: 16, in_channels: 3, num_classes: 1000, embed_dims: 512, num_heads: 8,
    mlp_ratios: 4, qkv_bias: false, qk_scale: null, drop_rate: 0, attn_drop_rate: 0, drop_path_rate: 0, depths: 8,
    sr_ratios: 1, T: 4,
  },
  // cifar10dvs/model.py `spikformer()`: Spikformer-2-256, T = 16 frames
  dvs: {
    img_size_h: 128, img_size_w: 128, patch_size: 16, in_channels: 2, num_classes: 10, embed_dims: 256, num_heads: 16,
    mlp_ratios: 4, qkv_bias: false, qk_scale: null, drop_rate: 0, attn_drop_rate: 0, drop_path_rate: 0, depths: 2,
    sr_ratios: 1, T: 16,
  },
});

/** The names of {@link SpikformerConfig}, with the JSON type of each (`'number?'`: a number or null). */
export const SPIKFORMER_CONFIG_KEYS: Readonly<Record<keyof SpikformerConfig, 'number' | 'boolean' | 'number?'>> = Object.freeze({
  img_size_h: 'number', img_size_w: 'number', patch_size: 'number', in_channels: 'number', num_classes: 'number',
  embed_dims: 'number', num_heads: 'number', mlp_ratios: 'number', qkv_bias: 'boolean', qk_scale: 'number?',
  drop_rate: 'number', attn_drop_rate: 'number', drop_path_rate: 'number', depths: 'number', sr_ratios: 'number', T: 'number',
});

function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}

function checkVariant(variant: string): SpikformerVariant {
  if (!(SPIKFORMER_VARIANTS as readonly string[]).includes(variant)) {
    throw new ArgumentError(`Spikformer: variant must be 'cifar', 'imagenet' or 'dvs', got ${JSON.stringify(variant)}`);
  }
  return variant as SpikformerVariant;
}

/**
 * A complete, validated {@link SpikformerConfig}: `config` over the published values of the variant (CIFAR 4-384,
 * ImageNet 8-512, DVS 2-256 with T = 16). Unknown keys are rejected.
 * @throws {ArgumentError} naming the first invalid argument
 * @example resolveSpikformerConfig({ img_size_h: 16, img_size_w: 16, embed_dims: 32, num_heads: 1, depths: 1 })
 */
export function resolveSpikformerConfig(config: Partial<SpikformerConfig> = {}, variant: SpikformerVariant = 'cifar'): SpikformerConfig {
  const v = checkVariant(variant);
  for (const k of Object.keys(config)) {
    if (!Object.hasOwn(SPIKFORMER_CONFIG_KEYS, k)) throw new ArgumentError(`Spikformer config: unknown argument ${JSON.stringify(k)} (the official ones: ${Object.keys(SPIKFORMER_CONFIG_KEYS).join(', ')})`);
  }
  const c: SpikformerConfig = { ...BASE[v], ...definedOnly(config) };
  for (const k of ['img_size_h', 'img_size_w', 'in_channels', 'num_classes', 'embed_dims', 'num_heads', 'depths', 'T'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] < 1) throw new ArgumentError(`Spikformer config: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.embed_dims % 8 !== 0) throw new ArgumentError(`Spikformer config: embed_dims must be a multiple of 8 (SPS widths D/8, D/4, D/2, D), got ${c.embed_dims}`);
  if (c.embed_dims % c.num_heads !== 0) throw new ArgumentError(`Spikformer config: embed_dims ${c.embed_dims} must be divisible by num_heads ${c.num_heads} (the official SSA asserts it)`);
  const hidden = Math.trunc(c.embed_dims * c.mlp_ratios);
  if (!(c.mlp_ratios > 0) || !Number.isSafeInteger(hidden) || hidden < 1) {
    throw new ArgumentError(`Spikformer config: mlp_ratios must be > 0 with int(embed_dims · mlp_ratios) ≥ 1, got ${c.mlp_ratios}`);
  }
  const m = v === 'cifar' ? 4 : 16;
  if (c.img_size_h % m !== 0 || c.img_size_w % m !== 0) {
    throw new ArgumentError(`Spikformer config: the ${v} SPS needs img_size_h and img_size_w to be multiples of ${m}, got ${c.img_size_h}×${c.img_size_w}`);
  }
  if (v === 'dvs' && (c.img_size_h !== 128 || c.img_size_w !== 128)) {
    throw new ArgumentError(`Spikformer config: the CIFAR10-DVS SPS hard-codes 128×128 inputs (its reshapes to 64, 32, 16), got ${c.img_size_h}×${c.img_size_w}`);
  }
  if (c.qk_scale !== null && typeof c.qk_scale !== 'number') throw new ArgumentError(`Spikformer config: qk_scale must be a number or null, got ${JSON.stringify(c.qk_scale)}`);
  return c;
}

/** The published model sizes (spec spikformer.md §4): `spikformer-L-D`, and the CIFAR10-DVS `spikformer-2-256-dvs`. */
export type SpikformerPresetName =
  | 'spikformer-4-256' | 'spikformer-2-384' | 'spikformer-4-384'
  | 'spikformer-8-384' | 'spikformer-8-512' | 'spikformer-8-768'
  | 'spikformer-2-256-dvs';

/** Every published size: variant, layers L, width D, heads, T. */
export const SPIKFORMER_PRESETS: Readonly<Record<SpikformerPresetName, Readonly<{ variant: SpikformerVariant; depths: number; embed_dims: number; num_heads: number; T: number }>>> = Object.freeze({
  // CIFAR-10/100 (head dim 32, as the official cifar10.yml's 384/12)
  'spikformer-4-256': { variant: 'cifar', depths: 4, embed_dims: 256, num_heads: 8, T: 4 },
  'spikformer-2-384': { variant: 'cifar', depths: 2, embed_dims: 384, num_heads: 12, T: 4 },
  'spikformer-4-384': { variant: 'cifar', depths: 4, embed_dims: 384, num_heads: 12, T: 4 },
  // ImageNet (8-512 and 8-768: the official defaults / spec table; 8-384: heads not published, head dim 32 assumed)
  'spikformer-8-384': { variant: 'imagenet', depths: 8, embed_dims: 384, num_heads: 12, T: 4 },
  'spikformer-8-512': { variant: 'imagenet', depths: 8, embed_dims: 512, num_heads: 8, T: 4 },
  'spikformer-8-768': { variant: 'imagenet', depths: 8, embed_dims: 768, num_heads: 12, T: 4 },
  // CIFAR10-DVS (T = 16, the 80.9 % result; the paper also reports T = 10)
  'spikformer-2-256-dvs': { variant: 'dvs', depths: 2, embed_dims: 256, num_heads: 16, T: 16 },
});

/**
 * The configuration of a published size, with `overrides` (e.g. `num_classes: 100` for CIFAR-100).
 * Heads are not checkpoint-visible: pass `num_heads` if a checkpoint was trained with others.
 * @example const { variant, config } = spikformerPreset('spikformer-4-384', { num_classes: 100 });
 */
export function spikformerPreset(name: SpikformerPresetName, overrides: Partial<SpikformerConfig> = {}): { variant: SpikformerVariant; config: SpikformerConfig } {
  const p = SPIKFORMER_PRESETS[name];
  if (!p) throw new ArgumentError(`unknown Spikformer preset ${JSON.stringify(name)}: expected one of ${Object.keys(SPIKFORMER_PRESETS).join(', ')}`);
  const { variant, ...sizes } = p;
  return { variant, config: resolveSpikformerConfig({ ...sizes, ...overrides }, variant) };
}

/**
 * Token count after Spiking Patch Splitting: N = (H/4)·(W/4) for CIFAR (two max-pools); H and W must be multiples of 4.
 * @example spikformerTokens(32, 32)   // 64
 */
export function spikformerTokens(height: number, width: number): number {
  if (height % 4 !== 0 || width % 4 !== 0) throw new RangeError(`Spikformer input must be a multiple of 4 in both sides, got ${height}×${width}`);
  return (height / 4) * (width / 4);
}

/** One SPS stage: conv3×3 (no bias) → BN → LIF, then an optional 3×3/2 max-pool. */
export interface SpsStage {
  /** Output channels: D/8, D/4, D/2, D. */
  channels: number;
  /** Input channels (in_channels for stage 0). */
  inChannels: number;
  /** Spatial size of the conv and LIF. */
  height: number;
  width: number;
  /** Whether a max-pool follows the LIF. */
  pool: boolean;
}

/** Everything a configuration implies about shapes. */
export interface SpikformerGeometry {
  variant: SpikformerVariant;
  T: number;
  /** D, heads, head dim d = D/heads, MLP hidden int(D·mlp_ratios). */
  dim: number;
  heads: number;
  headDim: number;
  hidden: number;
  /** The four SPS stages. */
  stages: SpsStage[];
  /** Token grid after SPS (the RPE conv's spatial size) and N = tokensH·tokensW. */
  tokensH: number;
  tokensW: number;
  tokens: number;
  /** s of the attention. */
  scale: number;
  classes: number;
}

const pool = (n: number): number => ((n - 1) >> 1) + 1;

/**
 * The shapes of a model: SPS stages (channels, spatial sizes, pools), the token grid and the block widths.
 * @example spikformerGeometry(resolveSpikformerConfig()).tokens   // 64 (CIFAR 32×32)
 */
export function spikformerGeometry(c: SpikformerConfig, variant: SpikformerVariant = 'cifar'): SpikformerGeometry {
  const D = c.embed_dims;
  const pools = variant === 'cifar' ? [false, false, true, true] : [true, true, true, true];
  const widths = [D / 8, D / 4, D / 2, D];
  const stages: SpsStage[] = [];
  let h = c.img_size_h, w = c.img_size_w, cin = c.in_channels;
  for (let i = 0; i < 4; i++) {
    stages.push({ channels: widths[i], inChannels: cin, height: h, width: w, pool: pools[i] });
    if (pools[i]) {
      h = pool(h);
      w = pool(w);
    }
    cin = widths[i];
  }
  return {
    variant, T: c.T, dim: D, heads: c.num_heads, headDim: D / c.num_heads, hidden: Math.trunc(D * c.mlp_ratios),
    stages, tokensH: h, tokensW: w, tokens: h * w, scale: SSA_SCALE[variant], classes: c.num_classes,
  };
}
