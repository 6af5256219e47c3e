// `spikewasm run`: load a checkpoint (official key names), pick the model and its configuration (flags, else the
// file's `__metadata__`), read the input, run the model, write and summarise the logits.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  init, parseSafetensors, serializeSafetensors, ArgumentError, DTypeError, ShapeError, fmtShape, firstNonFinite, fmtElement,
  type Arena, type LoadedTensor, type SafetensorsFile, type Tensor,
} from '@spikewasm/core-wasm';
import {
  LMUFormer, SpikingLMUFormer, PsMnistLMU, PsMnistSLMU, expectedStateDict,
  type LMUFormerConfig, type LMUFormerFactory, type PsMnistConfig,
} from '@spikewasm/lmu';
import {
  Spikformer, SPIKFORMER_CONFIG_KEYS, expectedStateDict as spikformerStateDict, type SpikformerConfig,
} from '@spikewasm/spikformer';
import { CliError, NotSupportedError, UsageError } from './errors.js';
import { isNpy, readNpy } from './npy.js';

/** Model factories the `spikewasm run` command will know (the official constructor names, shared/fixtures/README.md). */
export const FACTORIES = ['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d', 'psmnist_lmu', 'psmnist_slmu', 'spikformer'] as const;
export type Factory = (typeof FACTORIES)[number];

/** The factories `spikewasm run` can run today. */
export const SUPPORTED_FACTORIES = ['lmu_rnn_conv1d', 'slmu_rnn_ms_conv1d', 'psmnist_lmu', 'psmnist_slmu', 'spikformer'] as const satisfies readonly Factory[];
export type Supported = (typeof SUPPORTED_FACTORIES)[number];

/** Options of {@link runCheckpoint} (the flags of `spikewasm run`). */
export interface RunOptions {
  /** Path of the checkpoint (.safetensors, official key names). */
  weights: string;
  /** Path of the input: a .safetensors file holding a tensor `input`, or a .npy array. Default: the weights file. */
  input?: string;
  /** Model factory; default: the weights file's `factory` metadata. */
  model?: string;
  /** Path of a JSON object of the factory's keyword arguments; default: the file's `config` metadata (same factory), else the published config. */
  config?: string;
  /** Path to write the logits to (safetensors, one F32 tensor `logits`). */
  output?: string;
  /** Frame-by-frame inference with the model's streaming stepper: logits after every frame (or pixel), [N, B, K]. */
  stream?: boolean;
}

/** One of the top classes of a batch element. */
export interface TopClass {
  class: number;
  logit: number;
  /** softmax probability over the classes */
  prob: number;
}

/** What {@link runCheckpoint} did and computed. */
export interface RunResult {
  model: Supported;
  modelClass: string;
  config: LMUFormerConfig | PsMnistConfig | SpikformerConfig;
  configSource: 'flag' | 'metadata' | 'published';
  weights: { path: string; tensors: number; values: number };
  input: { path: string; format: 'safetensors' | 'npy'; tensor: string | null; dtype: string; shape: number[] };
  logits: { shape: number[]; data: Float32Array };
  /** Per batch element, the 3 best classes (of the last frame's logits for test_mode 'all_seq'). */
  top: TopClass[][];
  output: string | null;
  timeMs: { init: number; load: number; forward: number; write: number; total: number };
}

const LMUFORMER_KEYS: Record<keyof LMUFormerConfig, 'number' | 'boolean' | 'string'> = {
  num_classes: 'number', img_size_h: 'number', img_size_w: 'number', patch_size: 'number', embed_dims: 'number',
  num_heads: 'number', mlp_ratios: 'number', in_channels: 'number', qkv_bias: 'boolean', depths: 'number',
  sr_ratios: 'number', T: 'number', test_mode: 'string',
};
const PSMNIST_KEYS: Record<keyof PsMnistConfig, 'number'> = {
  input_size: 'number', output_size: 'number', hidden_size: 'number', memory_size: 'number', seq_len: 'number', theta: 'number',
};

export type AnyModel = LMUFormer | SpikingLMUFormer | PsMnistLMU | PsMnistSLMU | Spikformer;

export const MODELS: Record<Supported, { className: string; keys: Record<string, string>; build: (a: Arena, f: SafetensorsFile, c: object, o: { ignore: (k: string) => boolean }) => AnyModel }> = {
  lmu_rnn_conv1d: { className: 'LMUFormer', keys: LMUFORMER_KEYS, build: (a, f, c, o) => LMUFormer.fromCheckpoint(a, f, c, o) },
  slmu_rnn_ms_conv1d: { className: 'SpikingLMUFormer', keys: LMUFORMER_KEYS, build: (a, f, c, o) => SpikingLMUFormer.fromCheckpoint(a, f, c, o) },
  psmnist_lmu: { className: 'PsMnistLMU', keys: PSMNIST_KEYS, build: (a, f, c, o) => PsMnistLMU.fromCheckpoint(a, f, c, o) },
  psmnist_slmu: { className: 'PsMnistSLMU', keys: PSMNIST_KEYS, build: (a, f, c, o) => PsMnistSLMU.fromCheckpoint(a, f, c, o) },
  // the variant (CIFAR / ImageNet / CIFAR10-DVS code) is detected from the checkpoint's keys
  spikformer: { className: 'Spikformer', keys: SPIKFORMER_CONFIG_KEYS, build: (a, f, c, o) => Spikformer.fromCheckpoint(a, f, c, o) },
};

/** Values of the eval-relevant state dict of a built model (the official keys it reads). */
export function stateDictValues(factory: Supported, config: object, model: AnyModel): number {
  const shapes = model instanceof Spikformer ? spikformerStateDict(config, model.variant) : expectedStateDict(factory as LMUFormerFactory, config);
  return [...shapes.values()].reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
}

/** Checks a model name: one this command runs, else a NotSupportedError (known, not yet) or a CliError (unknown). */
export function checkFactory(name: string, where: string): Supported {
  if ((SUPPORTED_FACTORIES as readonly string[]).includes(name)) return name as Supported;
  if ((FACTORIES as readonly string[]).includes(name)) {
    throw new NotSupportedError(`model ${JSON.stringify(name)} is not supported yet (${where}); spikewasm run supports ${SUPPORTED_FACTORIES.join(', ')}`);
  }
  throw new CliError(`unknown model ${JSON.stringify(name)} (${where}); spikewasm run supports ${SUPPORTED_FACTORIES.join(', ')}`);
}

/** The largest file the command reads (2 GiB − 1: Node's largest Buffer; checked before reading). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * The bytes of a regular file. Anything else is a one-line {@link CliError} before a byte is read: a directory, a
 * FIFO, a socket or a device (reading /dev/zero or a FIFO would never end), or a file over {@link MAX_FILE_BYTES}.
 */
export function readBytes(path: string, what: string): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (!st.isFile()) throw new CliError(`cannot read ${what} ${JSON.stringify(path)}: not a regular file (a FIFO, socket or device)`);
    if (st.size > MAX_FILE_BYTES) throw new CliError(`cannot read ${what} ${JSON.stringify(path)}: ${st.size} bytes is over the limit of ${MAX_FILE_BYTES}`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`cannot read ${what} ${JSON.stringify(path)}: ${fsReason(e)}`);
  }
}

/**
 * float32 values of a wider array (F64 / I32 / `<f8` / `<i4`), rejecting a value that float32 cannot hold (|x| over
 * 3.4028235e38 would become ±Infinity): a DTypeError naming the tensor, the element and the value.
 */
export function toFloat32(src: Float64Array | Int32Array, what: string, shape: readonly number[]): Float32Array {
  const out = Float32Array.from(src);
  const i = firstNonFinite(out);
  if (i >= 0) throw new DTypeError(`${what} ${fmtElement(i, shape)} is ${src[i]}, outside the float32 range`);
  return out;
}

export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a component of the path is not a directory';
  return (e as Error).message;
}

/** Prefixes a typed error's message with the file it concerns (keeps its class). */
export function inFile<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && !(e instanceof CliError)) e.message = `${basename(path)}: ${e.message}`;
    throw e;
  }
}

/** Parses a configuration JSON text: an object whose keys and value types are those of the factory's constructor. */
export function parseConfig(text: string, factory: Supported, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ArgumentError(`config (${where}) is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ArgumentError(`config (${where}) must be a JSON object of ${factory}'s keyword arguments, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`);
  }
  const keys = MODELS[factory].keys;
  for (const [k, val] of Object.entries(v)) {
    if (!Object.hasOwn(keys, k)) throw new ArgumentError(`config (${where}): ${factory} has no argument ${JSON.stringify(k)} (its arguments: ${Object.keys(keys).join(', ')})`);
    // 'number?': a number or null (e.g. Spikformer's qk_scale)
    if (keys[k] === 'number?' ? val !== null && typeof val !== 'number' : typeof val !== keys[k]) {
      throw new ArgumentError(`config (${where}): ${k} must be a ${keys[k] === 'number?' ? 'number or null' : keys[k]}, got ${JSON.stringify(val)}`);
    }
  }
  return v as Record<string, unknown>;
}

/** The tensor `input` of a safetensors file, or the array of a .npy file, as float32 with its shape. */
export function readInput(bytes: Uint8Array, path: string, file: SafetensorsFile | null): { data: Float32Array; shape: number[]; dtype: string; format: 'safetensors' | 'npy'; tensor: string | null } {
  if (isNpy(bytes)) {
    const a = inFile(path, () => readNpy(bytes));
    const data = a.data instanceof Float32Array ? a.data : inFile(path, () => toFloat32(a.data as Float64Array | Int32Array, `${a.dtype} array`, a.shape));
    return { data, shape: a.shape, dtype: a.dtype, format: 'npy', tensor: null };
  }
  const f = file ?? inFile(path, () => parseSafetensors(bytes));
  const t: LoadedTensor | undefined = f.tensors.get('input');
  if (!t) {
    const names = [...f.tensors.keys()];
    const some = names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} tensors)` : '');
    throw new CliError(`${basename(path)} has no tensor named "input"${names.length ? ` (it holds ${some})` : ' (it holds no tensors)'}`);
  }
  let data: Float32Array;
  if (t.data instanceof Float32Array) data = t.data; // F32, and F16/BF16 widened by the reader
  else if (t.dtype === 'F64' || t.dtype === 'I32') data = inFile(path, () => toFloat32(t.data as Float64Array | Int32Array, `tensor "input" (${t.dtype})`, t.shape));
  else throw new DTypeError(`${basename(path)}: tensor "input" has dtype ${t.dtype}; expected F32, F16, BF16, F64 or I32`);
  return { data, shape: [...t.shape], dtype: t.dtype, format: 'safetensors', tensor: 'input' };
}

/** The three best classes of each row of logits [rows, K] (ties: the lower class first), with softmax probabilities. */
export function topK(logits: Float32Array, rows: number, K: number, k = 3): TopClass[][] {
  const out: TopClass[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * K, (r + 1) * K);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    const idx = [...row.keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
    out.push(idx.map((i) => ({ class: i, logit: row[i], prob: Math.exp(row[i] - max) / z })));
  }
  return out;
}

/** The model factory and its configuration for a checkpoint: flags first, else the file's metadata, else the published config. */
export function resolveModel(opts: { weights: string; model?: string; config?: string }, file: SafetensorsFile): { factory: Supported; config: Record<string, unknown>; configSource: RunResult['configSource'] } {
  const metaFactory = file.metadata.factory;
  let factory: Supported;
  if (opts.model !== undefined) factory = checkFactory(opts.model, '--model');
  else if (metaFactory !== undefined) factory = checkFactory(metaFactory, `factory metadata of ${basename(opts.weights)}`);
  else throw new UsageError(`${basename(opts.weights)} has no "factory" metadata: pass --model NAME (${SUPPORTED_FACTORIES.join(', ')})`);

  let config: Record<string, unknown>, configSource: RunResult['configSource'];
  if (opts.config !== undefined) {
    const text = readBytes(opts.config, 'config file');
    let s: string;
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      throw new ArgumentError(`config (${basename(opts.config)}) is not valid UTF-8`);
    }
    config = parseConfig(s, factory, basename(opts.config));
    configSource = 'flag';
  } else if (file.metadata.config !== undefined && (metaFactory === undefined || metaFactory === factory)) {
    config = parseConfig(file.metadata.config, factory, `config metadata of ${basename(opts.weights)}`);
    configSource = 'metadata';
  } else {
    config = {};
    configSource = 'published';
  }

  return { factory, config, configSource };
}

/**
 * Runs `spikewasm run`: loads and checks the checkpoint, builds the model, runs it on the input and writes the logits.
 * @throws {SpikewasmError} every failure caused by the inputs (typed errors of core-wasm and lmu, {@link CliError})
 */
export async function runCheckpoint(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const wBytes = readBytes(opts.weights, 'weights file');
  const file = inFile(opts.weights, () => parseSafetensors(wBytes));
  const { factory, config, configSource } = resolveModel(opts, file);

  let input;
  if (opts.input !== undefined) input = readInput(readBytes(opts.input, 'input file'), opts.input, null);
  else input = readInput(wBytes, opts.weights, file);

  const t1 = performance.now();
  const core = await init();
  const t2 = performance.now();
  const arena = core.arena();
  try {
    // `input`/`expected.*`: fixture data; `permutation`: the pixel order a psMNIST model file carries (not a weight).
    const ignore = (k: string) => k === 'input' || k === 'permutation' || k.startsWith('expected.');
    const model = inFile(opts.weights, () => MODELS[factory].build(arena, file, config, { ignore }));
    const values = stateDictValues(factory, config, model);
    const tensors = [...file.tensors.keys()].filter((k) => !ignore(k.replace(/^module\./, ''))).length;
    const t3 = performance.now();

    let logits: { shape: number[]; data: Float32Array };
    if (opts.stream) {
      logits = streamLogits(model, factory, input.data, input.shape);
    } else {
      const x: Tensor = arena.from(input.data, input.shape, 'f32', 'input');
      const y = model.forward(x);
      logits = { shape: [...y.shape], data: y.toArray() as Float32Array };
    }
    const t4 = performance.now();

    const K = logits.shape[logits.shape.length - 1];
    const B = logits.shape.length === 3 ? logits.shape[1] : logits.shape[0];
    const last = logits.shape.length === 3 ? logits.data.subarray((logits.shape[0] - 1) * B * K) : logits.data;
    const top = topK(last, B, K);

    if (opts.output !== undefined) {
      const bytes = serializeSafetensors({ logits: { shape: logits.shape, data: logits.data, dtype: 'F32' } }, {
        producer: 'spikewasm run', factory, config: JSON.stringify(model.config), input_shape: JSON.stringify(input.shape),
      });
      try {
        writeFileSync(opts.output, bytes);
      } catch (e) {
        throw new CliError(`cannot write output ${JSON.stringify(opts.output)}: ${fsReason(e)}`);
      }
    }
    const t5 = performance.now();
    return {
      model: factory,
      modelClass: MODELS[factory].className,
      config: { ...model.config },
      configSource,
      weights: { path: opts.weights, tensors, values },
      input: { path: opts.input ?? opts.weights, format: input.format, tensor: input.tensor, dtype: input.dtype, shape: input.shape },
      logits,
      top,
      output: opts.output ?? null,
      timeMs: { init: t2 - t1, load: t1 - t0 + (t3 - t2), forward: t4 - t3, write: t5 - t4, total: t5 - t0 },
    };
  } finally {
    arena.dispose();
  }
}

/** A streaming stepper as the lmu models return it from stream(batch). */
interface Stepper {
  push(frame: Float32Array): { data: ArrayLike<number> } | null;
  flush?(): { shape: readonly number[]; data: ArrayLike<number> };
}

/**
 * `--stream`: feeds the input [B, N, C] to the model's streaming stepper one frame (LMUFormer) or one pixel (psMNIST)
 * at a time and collects the logits after every frame — the `all_seq` layout [N, B, classes], computed
 * frame by frame (LMUFormer outputs trail the input by the conv look-ahead; flush() ends the utterance).
 */
function streamLogits(model: AnyModel, factory: Supported, x: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const m = model as unknown as { stream?: (batch: number) => Stepper };
  if (typeof m.stream !== 'function') throw new NotSupportedError(`--stream is not supported for ${factory}: the model has no streaming stepper`);
  if (shape.length !== 3) throw new ShapeError(`--stream: input expected [B, N, C], got ${fmtShape(shape)}`);
  const [B, N, C] = shape;
  const s = m.stream(B);
  const rows: ArrayLike<number>[] = [];
  const frame = new Float32Array(B * C);
  for (let t = 0; t < N; t++) {
    for (let b = 0; b < B; b++) frame.set(x.subarray((b * N + t) * C, (b * N + t + 1) * C), b * C);
    const y = s.push(frame);
    if (y) rows.push(Float32Array.from(y.data));
  }
  if (s.flush) rows.push(Float32Array.from(s.flush().data));
  const data = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of rows) { data.set(r as Float32Array, o); o += r.length; }
  const K = data.length / (N * B);
  if (!Number.isInteger(K)) throw new CliError(`--stream: the stepper returned ${data.length} values, not ${N} frames of ${B} rows`);
  return { shape: [N, B, K], data };
}

/** The configuration values worth showing in the summary. */
export function highlights(r: { model: Supported; config: object }): string {
  const c = r.config as unknown as Record<string, unknown>;
  const keys = r.model === 'psmnist_lmu' || r.model === 'psmnist_slmu'
    ? ['hidden_size', 'memory_size', 'seq_len', 'theta', 'output_size', ...(r.model === 'psmnist_slmu' ? ['input_size'] : [])]
    : r.model === 'spikformer'
      ? ['embed_dims', 'num_heads', 'depths', 'mlp_ratios', 'T', 'img_size_h', 'img_size_w', 'in_channels', 'num_classes']
      : ['embed_dims', 'in_channels', 'depths', 'mlp_ratios', 'num_classes', 'test_mode'];
  return keys.map((k) => `${k} ${c[k]}`).join(', ');
}

const ms = (t: number) => (t < 10 ? t.toFixed(2) : t.toFixed(1));

/** The short readable summary printed by `spikewasm run`. */
export function formatSummary(r: RunResult): string {
  const src = { flag: 'from --config', metadata: 'from the file metadata', published: 'published defaults' }[r.configSource];
  const inp = r.input.format === 'npy' ? `${r.input.path} (.npy)` : `tensor "input" of ${r.input.path}`;
  const lines = [
    `model    ${r.model} (${r.modelClass}): ${highlights(r)} [config ${src}]`,
    `weights  ${r.weights.path} (${r.weights.tensors} tensors, ${r.weights.values.toLocaleString('en-US')} values)`,
    `input    ${fmtShape(r.input.shape)} ${r.input.dtype}, ${inp}`,
    `logits   ${fmtShape(r.logits.shape)}${r.output ? ` written to ${r.output}` : ''}`,
  ];
  const allSeq = r.logits.shape.length === 3;
  r.top.forEach((row, b) => {
    const cells = row.map((t) => `class ${String(t.class).padStart(2)}  ${t.logit.toFixed(4).padStart(9)}  (p ${t.prob.toFixed(3)})`).join('   ');
    lines.push(`${b === 0 ? `top-3${allSeq ? '*' : ' '}   ` : '         '}[${b}] ${cells}`);
  });
  if (allSeq) lines.push('         * test_mode all_seq: the top classes of the last frame');
  const t = r.timeMs;
  lines.push(`time     ${ms(t.total)} ms (load ${ms(t.load)}, wasm init ${ms(t.init)}, forward ${ms(t.forward)}, write ${ms(t.write)})`);
  return lines.join('\n');
}

/** The one JSON object printed by `spikewasm run --json`. */
export function toJson(r: RunResult): Record<string, unknown> {
  return {
    command: 'run',
    model: r.model,
    model_class: r.modelClass,
    config: r.config,
    config_source: r.configSource,
    weights: r.weights,
    input: r.input,
    logits: { shape: r.logits.shape, data: nest(r.logits.data, r.logits.shape) },
    top: r.top,
    output: r.output,
    time_ms: r.timeMs,
  };
}

/** A flat row-major array as nested arrays of the given shape. */
function nest(data: Float32Array, shape: readonly number[]): unknown {
  if (shape.length <= 1) return Array.from(data);
  const step = data.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(data.subarray(i * step, (i + 1) * step), shape.slice(1)));
}
