// Model-independent checkpoint checking: a state dict given as safetensors bytes, a parsed file or a plain map is
// matched against the names and shapes a model expects, and every problem is reported in one error. The model
// packages (lmu, spikformer) supply the expected state dict, their ignore rules and the configuration description.
import { ShapeError, fmtShape } from './errors.js';
import { parseSafetensors, type SafetensorsFile } from './safetensors.js';

/** One tensor of a loaded state dict: float32 data in PyTorch's row-major layout. */
export interface CheckpointTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A state dict entry with a shape and optionally a safetensors dtype (e.g. a `LoadedTensor` of `parseSafetensors`). */
export interface StateDictTensor {
  readonly data: ArrayLike<number> | ArrayLike<bigint>;
  readonly shape: readonly number[];
  readonly dtype?: string;
}

/**
 * One entry of a state dict given by the caller: a bare array (its length is checked), or a tensor with a shape and
 * optionally a safetensors dtype (e.g. a `LoadedTensor` of `parseSafetensors`; its shape is checked).
 */
export type StateDictEntry = ArrayLike<number> | StateDictTensor;

/** A state dict as a Map (e.g. `parseSafetensors(bytes).tensors`) or a plain object, keyed by PyTorch names. */
export type StateDictLike = ReadonlyMap<string, StateDictEntry> | Readonly<Record<string, StateDictEntry>>;

/** A shape mismatch found by {@link matchStateDict}. */
export interface MisshapedKey {
  name: string;
  expected: readonly number[];
  got: readonly number[];
}

/**
 * A checkpoint that does not fit the model: every missing, unexpected, mis-shaped and wrongly typed key, listed in
 * one multi-line message (one key per line) and as arrays. A {@link ShapeError}. `model` is the model as named in
 * the message's first line (e.g. `lmu_rnn_conv1d`, `Spikformer (cifar)`); the model packages subclass it to add
 * their own typed field (lmu: `factory`, spikformer: `variant`).
 * @example try { matchStateDict(bytes, expected, { model: 'mlp' }); } catch (e) { if (e instanceof CheckpointError) console.log(e.missing); }
 */
export class CheckpointError extends ShapeError {
  override name = 'CheckpointError';

  constructor(
    readonly model: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misshaped: readonly MisshapedKey[],
    readonly wrongDtype: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** The entries of a state dict given as a Map or a plain object, in insertion order. */
export function stateDictEntries(sd: StateDictLike): Iterable<[string, StateDictEntry]> {
  return sd instanceof Map ? (sd as ReadonlyMap<string, StateDictEntry>).entries() : Object.entries(sd as Record<string, StateDictEntry>);
}

/** Whether a state dict entry is a tensor with a shape (rather than a bare array). */
export function isStateDictTensor(e: StateDictEntry): e is StateDictTensor {
  return typeof e === 'object' && e !== null && 'data' in e && 'shape' in e;
}

function isSafetensorsFile(x: unknown): x is SafetensorsFile {
  return typeof x === 'object' && x !== null && 'tensors' in x && 'metadata' in x && (x as SafetensorsFile).tensors instanceof Map;
}

/**
 * The state dict of safetensors bytes (parsed), of a parsed safetensors file (its tensors), or the state dict itself.
 * @example toStateDict(readFileSync('model.safetensors')).get('head.weight')
 */
export function toStateDict(source: Uint8Array | SafetensorsFile | StateDictLike): StateDictLike {
  if (source instanceof Uint8Array) return parseSafetensors(source).tensors;
  if (isSafetensorsFile(source)) return source.tensors;
  return source as StateDictLike;
}

/** Options of {@link matchStateDict}. */
export interface MatchStateDictOptions {
  /** The model as named in the error message and in {@link CheckpointError.model}, e.g. `lmu_rnn_conv1d`. */
  model: string;
  /** The configuration, printed after the model name in the error message, e.g. `(embed_dims 32, depths 2)`. */
  describe?: string;
  /** Keys to skip (they are neither used nor reported); the predicate sees names after `module.` is stripped. */
  ignore?: (name: string) => boolean;
  /**
   * Builds the error thrown on a mismatch (default: a {@link CheckpointError}); lets a model package throw its own
   * subclass. Gets the same arguments as the CheckpointError constructor, without `model`.
   */
  error?: (missing: string[], unexpected: string[], misshaped: MisshapedKey[], wrongDtype: string[], message: string) => Error;
}

/**
 * Matches a state dict against the names and shapes a model expects:
 *
 * - `source`: safetensors bytes, a parsed file, or a state dict (Map or object of tensors / arrays);
 * - the `module.` prefix of `nn.DataParallel` / DDP checkpoints is stripped (a key present both with and without it
 *   is reported as unexpected); keys accepted by `options.ignore` are skipped;
 * - every key of `expected` must be present with exactly its shape (a bare array: its length), as float32 (F16/BF16
 *   files are widened by the reader; F64, integer or boolean tensors are rejected), and no other key may be present.
 *
 * All problems are collected and thrown together as one {@link CheckpointError} whose message reads
 * `checkpoint does not fit <model> <describe>: 2 missing, 1 unexpected` followed by one line per key.
 * @returns the state dict, name → {@link CheckpointTensor}, in the order of `expected`
 * @example const sd = matchStateDict(bytes, new Map([['fc.weight', [10, 4]], ['fc.bias', [10]]]), { model: 'mlp' });
 */
export function matchStateDict(
  source: Uint8Array | SafetensorsFile | StateDictLike,
  expected: ReadonlyMap<string, readonly number[]>,
  options: MatchStateDictOptions,
): Map<string, CheckpointTensor> {
  const found = new Map<string, StateDictEntry>();
  const unexpected: string[] = [];
  for (const [raw, entry] of stateDictEntries(toStateDict(source))) {
    const name = raw.startsWith('module.') ? raw.slice('module.'.length) : raw;
    if (options.ignore?.(name)) continue;
    if (found.has(name)) {
      unexpected.push(`${raw} (duplicates ${name} once the module. prefix is stripped)`);
      continue;
    }
    found.set(name, entry);
  }
  const missing: string[] = [];
  const misshaped: MisshapedKey[] = [];
  const wrongDtype: string[] = [];
  const out = new Map<string, CheckpointTensor>();
  for (const [name, shape] of expected) {
    const e = found.get(name);
    if (e === undefined) {
      missing.push(name);
      continue;
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const data: ArrayLike<number> | ArrayLike<bigint> = isStateDictTensor(e) ? e.data : e;
    const dtype = isStateDictTensor(e) ? e.dtype : undefined;
    if ((dtype !== undefined && dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') || (data.length > 0 && typeof data[0] === 'bigint')) {
      wrongDtype.push(`${name}: expected F32, got ${dtype ?? '64-bit integers'}`);
      continue;
    }
    if (isStateDictTensor(e)) {
      const s = e.shape;
      if (s.length !== shape.length || s.some((x, i) => x !== shape[i])) {
        misshaped.push({ name, expected: shape, got: [...s] });
        continue;
      }
    }
    if (data.length !== n) {
      misshaped.push({ name, expected: shape, got: [data.length] });
      continue;
    }
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    out.set(name, { name, shape, data: f32 });
  }
  for (const name of found.keys()) if (!expected.has(name)) unexpected.push(name);
  if (missing.length || unexpected.length || misshaped.length || wrongDtype.length) {
    const counts = [
      missing.length && `${missing.length} missing`, unexpected.length && `${unexpected.length} unexpected`,
      misshaped.length && `${misshaped.length} mis-shaped`, wrongDtype.length && `${wrongDtype.length} of a wrong dtype`,
    ].filter(Boolean).join(', ');
    const lines = [
      `checkpoint does not fit ${options.model}${options.describe ? ` ${options.describe}` : ''}: ${counts}`,
      ...missing.map((k) => `  missing     ${k} ${fmtShape(expected.get(k)!)}`),
      ...unexpected.map((k) => `  unexpected  ${k}`),
      ...misshaped.map((m) => `  mis-shaped  ${m.name}: expected ${fmtShape(m.expected)}, got ${fmtShape(m.got)}`),
      ...wrongDtype.map((k) => `  wrong dtype ${k}`),
    ];
    const message = lines.join('\n');
    throw options.error
      ? options.error(missing, unexpected, misshaped, wrongDtype, message)
      : new CheckpointError(options.model, missing, unexpected, misshaped, wrongDtype, message);
  }
  return out;
}
