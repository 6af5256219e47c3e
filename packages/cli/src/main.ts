// The `spikewasm` command line: subcommand dispatch, flag parsing (node:util parseArgs), and the one-line error
// policy (every failure prints one line on stderr, no stack trace, and a non-zero exit code).
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SpikewasmError } from '@spikewasm/core-wasm';
import { CliError, NotSupportedError, UsageError } from './errors.js';
import { runCheckpoint, formatSummary, toJson, SUPPORTED_FACTORIES } from './run.js';
import { infoCheckpoint, formatInfo, infoJson } from './info.js';
import { streamCheckpoint, formatStart, formatUpdate, type StreamInfo } from './stream.js';
import { BENCH_USAGE, parseRuntimes, runBench } from './bench.js';

/** Where the command writes (process.stdout / stderr by default; tests pass their own). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export const USAGE = `Usage: spikewasm <command> [options]

Commands:
  run WEIGHTS.safetensors   run a checkpoint on an input; print the top classes, write the logits
  stream WEIGHTS            stream a 16 kHz WAV or a tensor frame by frame; print the running prediction
  info WEIGHTS              model, config, parameter count, MACs, SOP/energy estimate (spiking models)
  bench                     benchmark suites vs tfjs-backend-wasm / onnxruntime-web, in Node, Deno, Chromium, workerd
  help [COMMAND]            this help, or the options of run, stream, info or bench

Options:
  -h, --help      show this help; \`spikewasm COMMAND --help\` shows the options of a command
  -V, --version   print the version

Exit status: 0 on success, 1 on bad input or an unsupported model/feature, 2 on a usage error.
Errors are one line on stderr.
`;

export const RUN_USAGE = `Usage: spikewasm run WEIGHTS.safetensors [options]

Loads a checkpoint with the official PyTorch key names (a "module." prefix is stripped; "input" and
"expected.*" tensors are skipped), runs the model on the input and prints the top-3 classes of every
batch element.

Options:
  -i, --input FILE    the input: tensor "input" of a .safetensors file, or a .npy array (little-endian
                      f4, f8 or i4, C order). Default: tensor "input" of WEIGHTS
  -m, --model NAME    model factory: ${SUPPORTED_FACTORIES.join(', ')}.
                      Default: the "factory" entry of the __metadata__ of WEIGHTS
  -c, --config FILE   JSON object of the factory's keyword arguments (official names). Default: the
                      "config" metadata of WEIGHTS (when it is for the same factory), else the published
                      configuration
  -o, --output FILE   write the logits to FILE (safetensors, one F32 tensor "logits")
      --json          print one JSON object instead of the summary
      --stream        frame-by-frame inference with the streaming stepper: logits after every frame
                      (LMUFormer) or pixel (psMNIST), [N, B, classes]; not for spikformer
  -h, --help          show this help

Input layouts: LMUFormer [B, 128, in_channels] (frames × mel bins); psMNIST [B, seq_len, input_size].
F64, F16, BF16 and I32 inputs are converted to float32. Exit status: 0 on success, 1 on bad input,
2 on a usage error; errors are one line on stderr.

Examples:
  spikewasm run ../shared/fixtures/lmuformer_spiking_small.safetensors --output logits.safetensors
  spikewasm run best_model.safetensors --model slmu_rnn_ms_conv1d --input features.npy --json
`;

export const INFO_USAGE = `Usage: spikewasm info WEIGHTS.safetensors [options]

Prints the model (factory, class), its config (official names), the parameter count of the checkpoint's state
dict, the MACs per inference computed from the config (LMUFormer: per frame and per 128-frame clip; psMNIST: per
pixel and per sequence; Spikformer: per image) and, for Spikformer, the SOP / energy estimate of spiking's
profile() on an input (the paper's accounting). The spiking LMUFormer models have no profiling module tree: their
energy is reported as not available.

Options:
  -m, --model NAME    model factory (default: the "factory" metadata of WEIGHTS)
  -c, --config FILE   JSON object of the factory's keyword arguments (default: the "config" metadata)
  -i, --input FILE    input for the energy estimate (default: tensor "input" of WEIGHTS, when present)
      --json          print one JSON object
  -h, --help          show this help
`;

export const STREAM_USAGE = `Usage: spikewasm stream WEIGHTS.safetensors [--wav FILE.wav | --input FILE] [options]

Runs the model's streaming stepper one frame (LMUFormer) or pixel (psMNIST) at a time and prints the running
prediction (top class, softmax probability, logit) every --every outputs and once more at the end, after the
flush. LMUFormer outputs trail the input by 5 frames (the look-ahead of the k = 3 convs).

Options:
  -w, --wav FILE      16 kHz mono 16-bit PCM WAV, turned into normalised 128-mel feature rows by FbankStream
                      (LMUFormer models with in_channels 128 only)
  -i, --input FILE    tensor [B, N, C] ("input" of a .safetensors file, or .npy). Default: tensor "input" of WEIGHTS
  -m, --model NAME    model factory (default: the "factory" metadata of WEIGHTS)
  -c, --config FILE   JSON object of the factory's keyword arguments (default: the "config" metadata)
  -e, --every N       report every N outputs (default 10 frames; 100 pixels for psMNIST)
      --json          one JSON object per line: a "start" line, then one per update ("final": true last)
  -h, --help          show this help

Spikformer has no streaming form. Exit status: 0 on success, 1 on bad input, 2 on a usage error.
`;

const HELP: Record<string, string> = { run: RUN_USAGE, info: INFO_USAGE, stream: STREAM_USAGE, bench: BENCH_USAGE };

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** One line: newlines folded into "; ", long multi-line messages (e.g. a CheckpointError's key list) shortened. */
export function oneLine(message: string, maxItems = 4): string {
  const lines = message.split(/\r?\n/).map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean);
  if (lines.length <= maxItems + 1) return lines.join('; ');
  return `${lines.slice(0, maxItems + 1).join('; ')}; … and ${lines.length - maxItems - 1} more`;
}

/** The parseArgs errors (ERR_PARSE_ARGS_*): a wrong command line. */
function isParseArgsError(e: unknown): e is Error {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS');
}

/** parseArgs with its errors turned into a {@link UsageError} (the first sentence of Node's message, lower-cased). */
function parse<T extends ParseArgsConfig>(config: T, help: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    if (!isParseArgsError(e)) throw e;
    const first = e.message.split(/\.\s/)[0].replace(/\.$/, '');
    throw new UsageError(`${first.charAt(0).toLowerCase()}${first.slice(1)} (see ${help})`);
  }
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      input: { type: 'string', short: 'i' },
      model: { type: 'string', short: 'm' },
      config: { type: 'string', short: 'c' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      stream: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'spikewasm run --help');
  if (values.help) {
    io.out(RUN_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('run: missing WEIGHTS.safetensors (see spikewasm run --help)');
  if (positionals.length > 1) throw new UsageError(`run: unexpected argument ${JSON.stringify(positionals[1])} (one WEIGHTS file; see spikewasm run --help)`);
  for (const k of ['input', 'model', 'config', 'output'] as const) {
    if (values[k] === '') throw new UsageError(`run: --${k} needs a non-empty value`);
  }
  const result = await runCheckpoint({
    weights: positionals[0], input: values.input, model: values.model, config: values.config, output: values.output, stream: values.stream,
  });
  io.out(values.json ? `${JSON.stringify(toJson(result))}\n` : `${formatSummary(result)}\n`);
  return 0;
}

function checkCommon(cmd: string, values: Record<string, unknown>, positionals: string[], keys: string[]): string {
  if (positionals.length === 0) throw new UsageError(`${cmd}: missing WEIGHTS.safetensors (see spikewasm ${cmd} --help)`);
  if (positionals.length > 1) throw new UsageError(`${cmd}: unexpected argument ${JSON.stringify(positionals[1])} (one WEIGHTS file; see spikewasm ${cmd} --help)`);
  for (const k of keys) if (values[k] === '') throw new UsageError(`${cmd}: --${k} needs a non-empty value`);
  return positionals[0];
}

async function info(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args, allowPositionals: true, strict: true,
    options: {
      input: { type: 'string', short: 'i' }, model: { type: 'string', short: 'm' }, config: { type: 'string', short: 'c' },
      json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  }, 'spikewasm info --help');
  if (values.help) {
    io.out(INFO_USAGE);
    return 0;
  }
  const weights = checkCommon('info', values, positionals, ['input', 'model', 'config']);
  const r = await infoCheckpoint({ weights, input: values.input, model: values.model, config: values.config });
  io.out(values.json ? `${JSON.stringify(infoJson(r))}\n` : `${formatInfo(r)}\n`);
  return 0;
}

async function stream(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args, allowPositionals: true, strict: true,
    options: {
      wav: { type: 'string', short: 'w' }, input: { type: 'string', short: 'i' }, model: { type: 'string', short: 'm' },
      config: { type: 'string', short: 'c' }, every: { type: 'string', short: 'e' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'spikewasm stream --help');
  if (values.help) {
    io.out(STREAM_USAGE);
    return 0;
  }
  const weights = checkCommon('stream', values, positionals, ['wav', 'input', 'model', 'config', 'every']);
  let every: number | undefined;
  if (values.every !== undefined) {
    every = Number(values.every);
    if (!/^[0-9]+$/.test(values.every) || !(every >= 1) || !Number.isSafeInteger(every)) throw new UsageError(`stream: --every must be a positive integer, got ${JSON.stringify(values.every)}`);
  }
  // Lines are written as they come; an error after the start still ends with one error line on stderr.
  let start: StreamInfo | null = null;
  await streamCheckpoint({ weights, wav: values.wav, input: values.input, model: values.model, config: values.config, every }, (s) => {
    start = s;
    if (values.json) {
      io.out(`${JSON.stringify({ event: 'start', model: s.model, model_class: s.modelClass, batch: s.batch, unit: s.unit, lookahead: s.lookahead, source: s.source })}\n`);
    } else {
      io.out(`${formatStart(s)}\n`);
    }
  }, (u) => {
    if (values.json) io.out(`${JSON.stringify({ event: 'update', [start!.unit]: u.frame, pushed: u.pushed, final: u.final, top: u.top })}\n`);
    else io.out(`${formatUpdate(start!, u)}\n`);
  });
  return 0;
}

async function bench(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse({
    args, allowPositionals: true, strict: true,
    options: {
      runtime: { type: 'string', short: 'r', multiple: true }, quick: { type: 'boolean', short: 'q' },
      filter: { type: 'string', short: 'f' }, json: { type: 'boolean' }, output: { type: 'string', short: 'o' },
      help: { type: 'boolean', short: 'h' },
    },
  }, 'spikewasm bench --help');
  if (values.help) {
    io.out(BENCH_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`bench: unexpected argument ${JSON.stringify(positionals[0])} (see spikewasm bench --help)`);
  for (const k of ['filter', 'output'] as const) if (values[k] === '') throw new UsageError(`bench: --${k} needs a non-empty value`);
  const tty = io === defaultIo && !!process.stderr.isTTY;
  return runBench({ runtimes: parseRuntimes(values.runtime), quick: !!values.quick, filter: values.filter, json: !!values.json, output: values.output }, io, tty);
}

/**
 * Runs the command line `args` (without `node` and the script) and returns the exit code. Never throws: every error
 * becomes one line on `io.err` (set SPIKEWASM_DEBUG=1 to also get the stack of an unexpected error).
 */
export async function main(args: string[], io: Io = defaultIo): Promise<number> {
  try {
    const [command, ...rest] = args;
    if (command === undefined || command.startsWith('-')) {
      const { values } = parse({
        args, strict: true, allowPositionals: false,
        options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
      }, 'spikewasm --help');
      if (values.version) {
        io.out(`${version()}\n`);
        return 0;
      }
      if (values.help) {
        io.out(USAGE);
        return 0;
      }
      throw new UsageError('missing command (run, stream, info or bench; see spikewasm --help)');
    }
    switch (command) {
      case 'run':
        return await run(rest, io);
      case 'info':
        return await info(rest, io);
      case 'stream':
        return await stream(rest, io);
      case 'bench':
        return await bench(rest, io);
      case 'help':
        io.out(HELP[rest[0]] ?? USAGE);
        return 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (expected run, stream, info or bench; see spikewasm --help)`);
    }
  } catch (e) {
    let code = 1;
    let msg: string;
    if (e instanceof CliError) {
      code = e.exitCode;
      msg = e.message;
    } else if (e instanceof SpikewasmError) {
      msg = `${e.name}: ${e.message}`;
    } else {
      msg = `internal error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
      if (process.env.SPIKEWASM_DEBUG) io.err(`${(e as Error)?.stack ?? e}\n`);
    }
    io.err(`spikewasm: ${oneLine(msg)}\n`);
    return code;
  }
}
