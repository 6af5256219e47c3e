// Official LMUFormer checkpoints as safetensors: the expected state_dict of every model (names and shapes from the
// configuration), and a loader that checks a file against it and reports every problem in one error.
import {
  ArgumentError, ShapeError, CheckpointError as CoreCheckpointError, matchStateDict, isStateDictTensor,
  type SafetensorsFile, type CheckpointTensor, type StateDictEntry, type StateDictLike, type MisshapedKey,
} from '@spikewasm/core-wasm';
import {
  mlpHidden, resolveLMUFormerConfig, psmnistConfig, LMUFORMER_BLOCK_SEQ_LEN,
  type LMUFormerConfig, type LMUFormerFactory, type AnyLMUFormerFactory, type PsMnistConfig,
} from './config.js';

// The state-dict types and the matching machinery are core-wasm's (shared with @spikewasm/spikformer).
export type { CheckpointTensor, StateDictEntry, StateDictLike, MisshapedKey };

/** A loaded, checked state dict keyed by the official names (no `module.` prefix). */
export type StateDict = ReadonlyMap<string, CheckpointTensor>;

/** A model configuration of either family. */
export type AnyConfig = Partial<LMUFormerConfig> | Partial<PsMnistConfig>;

/**
 * A checkpoint that does not fit the model: every missing, unexpected, mis-shaped and wrongly typed key, listed in
 * one multi-line message (one key per line) and as arrays. core-wasm's CheckpointError (a ShapeError), with the
 * model factory as `factory`.
 * @example try { loadCheckpoint(bytes, 'lmu_rnn_conv1d', cfg); } catch (e) { if (e instanceof CheckpointError) console.log(e.missing); }
 */
export class CheckpointError extends CoreCheckpointError {
  constructor(
    readonly factory: AnyLMUFormerFactory,
    missing: readonly string[],
    unexpected: readonly string[],
    misshaped: readonly MisshapedKey[],
    wrongDtype: readonly string[],
    message: string,
  ) {
    super(factory, missing, unexpected, misshaped, wrongDtype, message);
  }
}

/** Keys present in official state dicts but never used in eval: BN step counters and the complex FFT of H. */
function ignoredByDefault(key: string): boolean {
  return key.endsWith('.num_batches_tracked') || key === 'num_batches_tracked' || key.endsWith('.fft_H') || key === 'fft_H';
}

function bn(out: Map<string, number[]>, prefix: string, C: number): void {
  for (const k of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${prefix}.${k}`, [C]);
}

/** The spiking models' patch embedding (Conv1d4EBMs): four k=3 convs with BNs and the rpe conv. */
function msPatchEmbed(out: Map<string, number[]>, E: number, Cin: number): void {
  out.set('patch_embed.proj_conv.weight', [E, Cin, 3]);
  bn(out, 'patch_embed.proj_bn', E);
  for (const i of [1, 2, 3]) {
    out.set(`patch_embed.proj_conv${i}.weight`, [E, E, 3]);
    bn(out, `patch_embed.proj_bn${i}`, E);
  }
  out.set('patch_embed.rpe_conv.weight', [E, E, 3]);
}

/**
 * The state dict an official model of this configuration holds (eval-relevant keys only: no `num_batches_tracked`,
 * no `fft_H`), name → shape, in the official module order.
 * @example expectedStateDict('lmu_rnn_conv1d', { embed_dims: 32, in_channels: 16, depths: 2 }).get('head.weight')   // [35, 32]
 */
export function expectedStateDict(factory: AnyLMUFormerFactory, config: AnyConfig = {}): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (factory === 'lmu_rnn_conv1d' || factory === 'slmu_rnn_ms_conv1d') {
    const c = resolveLMUFormerConfig(config as Partial<LMUFormerConfig>);
    const E = c.embed_dims, Cin = c.in_channels, Hm = mlpHidden(c), K = c.num_classes, L = LMUFORMER_BLOCK_SEQ_LEN;
    if (factory === 'lmu_rnn_conv1d') {
      for (let i = 0; i < 4; i++) {
        out.set(`patch_embed.conv_layers.${i}.0.weight`, [E, i === 0 ? Cin : E, 3]);
        bn(out, `patch_embed.conv_layers.${i}.3`, E);
      }
      out.set('patch_embed.rpe_conv.weight', [E, E, 3]);
      for (let j = 0; j < c.depths; j++) {
        const p = `block.${j}.attn.lmu`;
        out.set(`${p}.A`, [E, E]).set(`${p}.B`, [E, 1]).set(`${p}.H`, [E, L]);
        out.set(`${p}.W_u.weight`, [1, E]).set(`${p}.W_u.bias`, [1]).set(`${p}.W_h.weight`, [E, 2 * E]).set(`${p}.W_h.bias`, [E]);
        out.set(`block.${j}.attn.proj_conv.weight`, [E, E, 1]).set(`block.${j}.attn.proj_conv.bias`, [E]);
        bn(out, `block.${j}.attn.proj_bn`, E);
        out.set(`block.${j}.mlp.fc1_conv.weight`, [Hm, E, 1]).set(`block.${j}.mlp.fc1_conv.bias`, [Hm]);
        bn(out, `block.${j}.mlp.fc1_bn`, Hm);
        out.set(`block.${j}.mlp.fc2_conv.weight`, [E, Hm, 1]).set(`block.${j}.mlp.fc2_conv.bias`, [E]);
        bn(out, `block.${j}.mlp.fc2_bn`, E);
      }
    } else {
      msPatchEmbed(out, E, Cin);
      for (let j = 0; j < c.depths; j++) {
        const p = `block.${j}.attn.lmu`, d = 2 * E;
        out.set(`${p}.A`, [d, d]).set(`${p}.B`, [d, 1]).set(`${p}.H`, [d, L]);
        out.set(`${p}.W_u.weight`, [1, E]).set(`${p}.W_u.bias`, [1]).set(`${p}.W_h.weight`, [E, d + E]).set(`${p}.W_h.bias`, [E]);
        bn(out, `${p}.bn_u`, 1);
        bn(out, `${p}.bn_m`, d);
        bn(out, `${p}.bn_h`, E);
        bn(out, `block.${j}.attn.prev_bn`, E);
        out.set(`block.${j}.attn.proj_conv.weight`, [E, E, 1]).set(`block.${j}.attn.proj_conv.bias`, [E]);
        bn(out, `block.${j}.attn.proj_bn`, E);
        bn(out, `block.${j}.mlp.fc1_bn`, E);
        out.set(`block.${j}.mlp.fc1_conv.weight`, [Hm, E, 1]).set(`block.${j}.mlp.fc1_conv.bias`, [Hm]);
        bn(out, `block.${j}.mlp.fc2_bn`, Hm);
        out.set(`block.${j}.mlp.fc2_conv.weight`, [E, Hm, 1]).set(`block.${j}.mlp.fc2_conv.bias`, [E]);
      }
      bn(out, 'head_bn', E);
    }
    out.set('head.weight', [K, E]).set('head.bias', [K]);
  } else if (factory === 'slmu_rnn_conv1d' || factory === 'attn_ms_conv1d') {
    registeredStateDict(out, factory, resolveLMUFormerConfig(config as Partial<LMUFormerConfig>));
  } else if (factory === 'psmnist_lmu' || factory === 'psmnist_slmu') {
    const c = psmnistConfig(config as Partial<PsMnistConfig>);
    const inp = factory === 'psmnist_lmu' ? 3 : c.input_size, d = c.memory_size, h = c.hidden_size;
    if (factory === 'psmnist_lmu') {
      out.set('conv1.weight', [3, 1, 1]).set('conv1.bias', [3]);
      bn(out, 'bn1', 3);
    }
    out.set('lmu_fft.A', [d, d]).set('lmu_fft.B', [d, 1]).set('lmu_fft.H', [d, c.seq_len]);
    out.set('lmu_fft.W_u.weight', [1, inp]).set('lmu_fft.W_u.bias', [1]).set('lmu_fft.W_h.weight', [h, d + inp]).set('lmu_fft.W_h.bias', [h]);
    out.set('classifier.weight', [c.output_size, h]).set('classifier.bias', [c.output_size]);
  } else {
    throw new ArgumentError(`unknown model factory ${JSON.stringify(factory)}: expected lmu_rnn_conv1d, slmu_rnn_ms_conv1d, slmu_rnn_conv1d, attn_ms_conv1d, psmnist_lmu or psmnist_slmu`);
  }
  return out;
}

/**
 * The state dicts of `slmu_rnn_conv1d` and `attn_ms_conv1d`, in the official order (src/lmu_rnn.py ConvLMU: patch_embed,
 * block.*, [head_bn], head; inside a module its own buffers come before its children, as torch's state_dict does).
 * Derived from src/blocks/conv1d_embedding.py (Conv1d4EB = Conv1d4EBMs + rpe_bn), src/blocks/lmu.py (SLMU, SSA),
 * src/blocks/lmu_cell.py (SpikingLMUFFTCell, memory order 2E) and src/blocks/mlp.py (ConvFFN, ConvFFNMs).
 */
function registeredStateDict(out: Map<string, number[]>, factory: 'slmu_rnn_conv1d' | 'attn_ms_conv1d', c: LMUFormerConfig): void {
  const E = c.embed_dims, Cin = c.in_channels, Hm = mlpHidden(c), K = c.num_classes, L = LMUFORMER_BLOCK_SEQ_LEN;
  msPatchEmbed(out, E, Cin);
  if (factory === 'slmu_rnn_conv1d') bn(out, 'patch_embed.rpe_bn', E);
  for (let j = 0; j < c.depths; j++) {
    const a = `block.${j}.attn`, m = `block.${j}.mlp`;
    if (factory === 'slmu_rnn_conv1d') {
      const p = `${a}.lmu`, d = 2 * E;
      out.set(`${p}.A`, [d, d]).set(`${p}.B`, [d, 1]).set(`${p}.H`, [d, L]);
      out.set(`${p}.W_u.weight`, [1, E]).set(`${p}.W_u.bias`, [1]).set(`${p}.W_h.weight`, [E, d + E]).set(`${p}.W_h.bias`, [E]);
      bn(out, `${p}.bn_u`, 1);
      bn(out, `${p}.bn_m`, d);
      bn(out, `${p}.bn_h`, E);
      out.set(`${a}.proj_conv.weight`, [E, E, 1]).set(`${a}.proj_conv.bias`, [E]);
      bn(out, `${a}.proj_bn`, E);
      out.set(`${m}.fc1_conv.weight`, [Hm, E, 1]).set(`${m}.fc1_conv.bias`, [Hm]);
      bn(out, `${m}.fc1_bn`, Hm);
      out.set(`${m}.fc2_conv.weight`, [E, Hm, 1]).set(`${m}.fc2_conv.bias`, [E]);
      bn(out, `${m}.fc2_bn`, E);
    } else {
      bn(out, `${a}.pre_bn`, E);
      for (const q of ['q', 'k', 'v']) {
        out.set(`${a}.${q}_conv.weight`, [E, E, 1]);
        bn(out, `${a}.${q}_bn`, E);
      }
      out.set(`${a}.proj_conv.weight`, [E, E, 1]).set(`${a}.proj_conv.bias`, [E]);
      bn(out, `${a}.proj_bn`, E);
      bn(out, `${m}.fc1_bn`, E);
      out.set(`${m}.fc1_conv.weight`, [Hm, E, 1]).set(`${m}.fc1_conv.bias`, [Hm]);
      bn(out, `${m}.fc2_bn`, Hm);
      out.set(`${m}.fc2_conv.weight`, [E, Hm, 1]).set(`${m}.fc2_conv.bias`, [E]);
    }
  }
  if (factory === 'attn_ms_conv1d') bn(out, 'head_bn', E);
  out.set('head.weight', [K, E]).set('head.bias', [K]);
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /**
   * Further keys to skip (e.g. a fixture's `input` and `expected.*`). `*.num_batches_tracked` and `*.fft_H` are
   * always skipped; the predicate sees names after the `module.` prefix is stripped.
   */
  ignore?: (key: string) => boolean;
}

/**
 * Loads an official LMUFormer state dict and checks it against the model's configuration:
 *
 * - `source`: safetensors bytes, a parsed file, or a state dict (Map or object of tensors / arrays);
 * - the `module.` prefix of `nn.DataParallel` checkpoints is stripped (a key present both with and without it is
 *   reported as unexpected);
 * - `*.num_batches_tracked` and `*.fft_H` are ignored (fft_H is recomputed from H when needed);
 * - every key of {@link expectedStateDict} must be present with exactly its shape, as float32 (F16/BF16 files are
 *   widened by the reader; F64, integer or boolean tensors are rejected), and no other key may be present.
 *
 * All problems are collected and thrown together as one {@link CheckpointError}.
 * @returns the state dict, name → {@link CheckpointTensor}, in the expected order
 * @example
 * const sd = loadCheckpoint(readFileSync('best_model.safetensors'), 'lmu_rnn_conv1d', scv2Config());
 */
export function loadCheckpoint(
  source: Uint8Array | SafetensorsFile | StateDictLike,
  factory: AnyLMUFormerFactory,
  config: AnyConfig = {},
  options: LoadCheckpointOptions = {},
): Map<string, CheckpointTensor> {
  return matchStateDict(source, expectedStateDict(factory, config), {
    model: factory,
    describe: describeConfig(factory, config),
    ignore: (name) => ignoredByDefault(name) || options.ignore?.(name) === true,
    error: (...args) => new CheckpointError(factory, ...args),
  });
}

function describeConfig(factory: AnyLMUFormerFactory, config: AnyConfig): string {
  if (factory === 'psmnist_lmu' || factory === 'psmnist_slmu') {
    const c = psmnistConfig(config as Partial<PsMnistConfig>);
    return `(hidden_size ${c.hidden_size}, memory_size ${c.memory_size}, seq_len ${c.seq_len}, output_size ${c.output_size}${factory === 'psmnist_slmu' ? `, input_size ${c.input_size}` : ''})`;
  }
  const c = resolveLMUFormerConfig(config as Partial<LMUFormerConfig>);
  return `(embed_dims ${c.embed_dims}, in_channels ${c.in_channels}, depths ${c.depths}, mlp_ratios ${c.mlp_ratios}, num_classes ${c.num_classes})`;
}

/**
 * The model factory and configuration recorded in a safetensors file's metadata (`factory`, `config`), as the
 * fixtures store them; null when absent (official checkpoints carry none: use the published configs).
 * @example const meta = checkpointMetadata(parseSafetensors(bytes));   // { factory: 'lmu_rnn_conv1d', config: {...} }
 */
export function checkpointMetadata(file: SafetensorsFile): { factory: LMUFormerFactory; config: AnyConfig } | null {
  const f = file.metadata.factory, c = file.metadata.config;
  if (!f || !c) return null;
  if (!['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d', 'psmnist_lmu', 'psmnist_slmu'].includes(f)) return null;
  try {
    return { factory: f as LMUFormerFactory, config: JSON.parse(c) as AnyConfig };
  } catch {
    throw new ArgumentError(`checkpoint metadata: config is not valid JSON`);
  }
}

/**
 * Reads one tensor of a state dict as float32 numbers (internal helper of the layers' `fromStateDict`); throws a
 * ShapeError naming the key when it is missing (unless `optional`).
 */
export function lookupTensor(sd: StateDictLike, key: string, who: string, optional = false): ArrayLike<number> | undefined {
  let e: StateDictEntry | undefined;
  if (sd instanceof Map) e = (sd as ReadonlyMap<string, StateDictEntry>).get(key);
  else if (Object.prototype.hasOwnProperty.call(sd, key)) e = (sd as Record<string, StateDictEntry>)[key];
  if (e === undefined) {
    if (optional) return undefined;
    throw new ShapeError(`${who}: state dict lacks ${key}`);
  }
  const data: ArrayLike<number> | ArrayLike<bigint> = isStateDictTensor(e) ? e.data : e;
  if (data.length > 0 && typeof data[0] === 'bigint') throw new ShapeError(`${who}: ${key} holds 64-bit integers, expected real numbers`);
  return data as ArrayLike<number>;
}
