// Spikformer checkpoints as safetensors with the official timm state_dict names: the expected state dict of every
// variant and size, variant detection, and a loader that reports every problem in one error.
import {
  ArgumentError, CheckpointError as CoreCheckpointError, matchStateDict, toStateDict, stateDictEntries, isStateDictTensor,
  type SafetensorsFile, type CheckpointTensor, type StateDictEntry, type StateDictLike, type MisshapedKey,
} from '@spikewasm/core-wasm';
import { resolveSpikformerConfig, spikformerGeometry, type SpikformerConfig, type SpikformerVariant } from './config.js';

// The state-dict types and the matching machinery are core-wasm's (shared with @spikewasm/lmu).
export type { CheckpointTensor, StateDictEntry, StateDictLike, MisshapedKey };

/**
 * A checkpoint that does not fit the model: every missing, unexpected, mis-shaped and wrongly typed key, listed in one
 * multi-line message (one key per line) and as arrays. core-wasm's CheckpointError (a ShapeError), with the variant
 * as `variant` (and `model` = `Spikformer (<variant>)`).
 * @example try { loadCheckpoint(bytes, cfg); } catch (e) { if (e instanceof CheckpointError) console.log(e.missing); }
 */
export class CheckpointError extends CoreCheckpointError {
  constructor(
    readonly variant: SpikformerVariant,
    missing: readonly string[],
    unexpected: readonly string[],
    misshaped: readonly MisshapedKey[],
    wrongDtype: readonly string[],
    message: string,
  ) {
    super(`Spikformer (${variant})`, missing, unexpected, misshaped, wrongDtype, message);
  }
}

function bn(out: Map<string, number[]>, prefix: string, C: number): void {
  for (const k of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${prefix}.${k}`, [C]);
}

/**
 * The eval-relevant state dict of an official model of this configuration and variant (spec spikformer.md §5), name →
 * shape, in the official module order. Not listed: `*.num_batches_tracked` and the unused keys of
 * {@link isUnusedSpikformerKey} (`block.i.norm1/norm2`, `pos_embed`, `norm`).
 *
 * - SPS: `patch_embed.proj_conv{,1,2,3}.weight` [Cout, Cin, 3, 3], `patch_embed.proj_bn{,1,2,3}.*`,
 *   `patch_embed.rpe_conv.weight` [D, D, 3, 3], `patch_embed.rpe_bn.*`;
 * - CIFAR blocks: `block.i.attn.{q,k,v,proj}_linear.{weight [D, D], bias [D]}`, `mlp.fc1_linear` [4D, D] + bias,
 *   `mlp.fc2_linear` [D, 4D] + bias; ImageNet / DVS: `attn.{q,k,v}_conv.weight` [D, D, 1] (no bias),
 *   `attn.proj_conv` [D, D, 1] + bias, `mlp.fc{1,2}_conv` [·, ·, 1, 1] (ImageNet, Conv2d) or [·, ·, 1] (DVS) + bias;
 *   every one followed by its BN (`*_bn.{weight, bias, running_mean, running_var}`);
 * - `head.weight` [classes, D], `head.bias`.
 * @example expectedStateDict({ embed_dims: 32, num_heads: 1, depths: 1 }).get('block.0.mlp.fc1_linear.weight')   // [128, 32]
 */
export function expectedStateDict(config: Partial<SpikformerConfig> = {}, variant: SpikformerVariant = 'cifar'): Map<string, number[]> {
  const c = resolveSpikformerConfig(config, variant);
  const g = spikformerGeometry(c, variant);
  const D = g.dim, Hm = g.hidden;
  const out = new Map<string, number[]>();
  g.stages.forEach((s, i) => {
    const sfx = i === 0 ? '' : String(i);
    out.set(`patch_embed.proj_conv${sfx}.weight`, [s.channels, s.inChannels, 3, 3]);
    bn(out, `patch_embed.proj_bn${sfx}`, s.channels);
  });
  out.set('patch_embed.rpe_conv.weight', [D, D, 3, 3]);
  bn(out, 'patch_embed.rpe_bn', D);
  for (let j = 0; j < c.depths; j++) {
    const a = `block.${j}.attn`, m = `block.${j}.mlp`;
    for (const p of ['q', 'k', 'v', 'proj']) {
      if (variant === 'cifar') out.set(`${a}.${p}_linear.weight`, [D, D]).set(`${a}.${p}_linear.bias`, [D]);
      else {
        out.set(`${a}.${p}_conv.weight`, [D, D, 1]);
        if (p === 'proj') out.set(`${a}.proj_conv.bias`, [D]);
      }
      bn(out, `${a}.${p}_bn`, D);
    }
    const k1 = variant === 'imagenet' ? [1, 1] : [1];
    if (variant === 'cifar') out.set(`${m}.fc1_linear.weight`, [Hm, D]).set(`${m}.fc1_linear.bias`, [Hm]);
    else out.set(`${m}.fc1_conv.weight`, [Hm, D, ...k1]).set(`${m}.fc1_conv.bias`, [Hm]);
    bn(out, `${m}.fc1_bn`, Hm);
    if (variant === 'cifar') out.set(`${m}.fc2_linear.weight`, [D, Hm]).set(`${m}.fc2_linear.bias`, [D]);
    else out.set(`${m}.fc2_conv.weight`, [D, Hm, ...k1]).set(`${m}.fc2_conv.bias`, [D]);
    bn(out, `${m}.fc2_bn`, D);
  }
  out.set('head.weight', [c.num_classes, D]).set('head.bias', [c.num_classes]);
  return out;
}

/**
 * Keys that official state dicts hold but the forward never uses: the blocks' LayerNorms `block.i.norm1.*` /
 * `block.i.norm2.*` (constructed, never called), the DVS model's `pos_embed` and final `norm.*`, and every BN's
 * `num_batches_tracked`. {@link loadCheckpoint} accepts and drops them.
 * @example isUnusedSpikformerKey('block.3.norm2.weight')   // true
 */
export function isUnusedSpikformerKey(key: string): boolean {
  return key === 'num_batches_tracked' || key.endsWith('.num_batches_tracked') || key === 'pos_embed'
    || /^norm\.(weight|bias)$/.test(key) || /^block\.\d+\.norm[12]\.(weight|bias)$/.test(key);
}

/**
 * Which official code base a state dict comes from, read from its first block (after stripping `module.`):
 * `attn.q_linear.weight` → `'cifar'`; `attn.q_conv.weight` with a rank-4 `mlp.fc1_conv.weight` (Conv2d) →
 * `'imagenet'`, rank 3 (Conv1d) → `'dvs'`. Null when it cannot tell (no block 0 attention keys).
 * @example detectSpikformerVariant(parseSafetensors(bytes))   // 'cifar'
 */
export function detectSpikformerVariant(source: Uint8Array | SafetensorsFile | StateDictLike): SpikformerVariant | null {
  const sd = toStateDict(source);
  let q: 'linear' | 'conv' | null = null;
  let fc1Rank: number | null = null;
  for (const [raw, e] of stateDictEntries(sd)) {
    const name = raw.startsWith('module.') ? raw.slice('module.'.length) : raw;
    if (name === 'block.0.attn.q_linear.weight') q = 'linear';
    else if (name === 'block.0.attn.q_conv.weight') q = 'conv';
    else if (name === 'block.0.mlp.fc1_conv.weight' && isStateDictTensor(e)) fc1Rank = e.shape.length;
  }
  if (q === 'linear') return 'cifar';
  if (q === 'conv') return fc1Rank === 4 ? 'imagenet' : fc1Rank === 3 ? 'dvs' : null;
  return null;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** The official code base (default: {@link detectSpikformerVariant}, else `'cifar'`). */
  variant?: SpikformerVariant;
  /**
   * Further keys to skip (e.g. a fixture's `input` and `expected.*`). The unused keys of
   * {@link isUnusedSpikformerKey} are always skipped; the predicate sees names after `module.` is stripped.
   */
  ignore?: (key: string) => boolean;
}

/**
 * Loads an official Spikformer state dict and checks it against the configuration:
 *
 * - `source`: safetensors bytes, a parsed file, or a state dict (Map or object of tensors / arrays) — the
 *   `state_dict` of a timm checkpoint (`ckpt['state_dict']`) saved as safetensors;
 * - the `module.` prefix of `nn.DataParallel` / DDP checkpoints is stripped (a key present both with and without it
 *   is reported as unexpected);
 * - `num_batches_tracked`, `block.i.norm1/norm2.*`, `pos_embed` and `norm.*` are accepted and ignored;
 * - every key of {@link expectedStateDict} must be present with exactly its shape, as float32 (F16/BF16 files are
 *   widened by the reader; F64, integer or boolean tensors are rejected), and no other key may be present.
 *
 * All problems are collected and thrown together as one {@link CheckpointError}.
 * @returns the state dict, name → {@link CheckpointTensor}, in the expected order
 * @example const sd = loadCheckpoint(readFileSync('spikformer-4-384.safetensors'), spikformerPreset('spikformer-4-384').config);
 */
export function loadCheckpoint(
  source: Uint8Array | SafetensorsFile | StateDictLike,
  config: Partial<SpikformerConfig> = {},
  options: LoadCheckpointOptions = {},
): Map<string, CheckpointTensor> {
  const sd = toStateDict(source);
  const variant = options.variant ?? detectSpikformerVariant(sd) ?? 'cifar';
  return matchStateDict(sd, expectedStateDict(config, variant), {
    model: `Spikformer (${variant})`,
    describe: describeConfig(config, variant),
    ignore: (name) => isUnusedSpikformerKey(name) || options.ignore?.(name) === true,
    error: (...args) => new CheckpointError(variant, ...args),
  });
}

function describeConfig(config: Partial<SpikformerConfig>, variant: SpikformerVariant): string {
  const c = resolveSpikformerConfig(config, variant);
  return `(embed_dims ${c.embed_dims}, depths ${c.depths}, mlp_ratios ${c.mlp_ratios}, in_channels ${c.in_channels}, num_classes ${c.num_classes})`;
}

/**
 * The factory and configuration recorded in a safetensors file's metadata (`factory` = `spikformer`, `config`), as
 * the fixtures store them; null when absent or of another model (official checkpoints carry none: use the presets).
 * @example const meta = spikformerMetadata(parseSafetensors(bytes));   // { factory: 'spikformer', config: {...} }
 */
export function spikformerMetadata(file: SafetensorsFile): { factory: 'spikformer'; config: Partial<SpikformerConfig> } | null {
  const f = file.metadata.factory, c = file.metadata.config;
  if (f !== 'spikformer' || !c) return null;
  try {
    return { factory: 'spikformer', config: JSON.parse(c) as Partial<SpikformerConfig> };
  } catch {
    throw new ArgumentError('checkpoint metadata: config is not valid JSON');
  }
}
