// `spikewasm bench`: the cross-runtime benchmark suite of @spikewasm/bench (ours vs tfjs-backend-wasm,
// onnxruntime-web and plain JS in Node, Deno, headless Chromium and workerd) with a progress bar on a TTY stderr.
import cliProgress from 'cli-progress';
import { benchmark, textTable, RUNTIMES, type DriverEvent, type RuntimeName } from '@spikewasm/bench';
import { UsageError, CliError } from './errors.js';

export const BENCH_USAGE = `Usage: spikewasm bench [options]

Runs the benchmark suite (GEMM/GEMV, conv1d/conv2d, LMU step and parallel LMU, LIF, spiking self-attention, the
LMUFormer and Spikformer forwards) in each runtime, in a fresh process each, against tfjs-backend-wasm,
onnxruntime-web (1 and 2 threads) and the plain-JS oracle. Every implementation's output is checked against the
others before timing. Prints a table per runtime; --output writes the markdown report, an SVG chart and JSON.

Options:
  -r, --runtime NAME  node, deno, chromium, workerd or all (default node; repeat or comma-separate for several)
  -q, --quick         short time budgets (a smoke run; numbers are rough)
  -f, --filter SUBSTR only the cases whose id or name contains SUBSTR (case-insensitive)
      --json          print the results as one JSON object instead of the tables
  -o, --output FILE   write the markdown report to FILE (BENCHMARKS.md: also docs/benchmarks.svg and
                      packages/bench/results.json; otherwise FILE.svg and FILE.json beside it)
  -h, --help          show this help

Exit status: 0 when every runtime ran and every cross-check passed, 1 otherwise, 2 on a usage error.
`;

export interface BenchArgs { runtimes: RuntimeName[]; quick: boolean; filter?: string; json: boolean; output?: string }

/** --runtime values → runtime names ('all' = every runtime). */
export function parseRuntimes(values: string[] | undefined): RuntimeName[] {
  const names = (values?.length ? values : ['node']).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  const out = new Set<RuntimeName>();
  for (const n of names) {
    if (n === 'all') RUNTIMES.forEach((r) => out.add(r));
    else if ((RUNTIMES as readonly string[]).includes(n)) out.add(n as RuntimeName);
    else throw new UsageError(`bench: unknown runtime ${JSON.stringify(n)} (expected ${RUNTIMES.join(', ')} or all)`);
  }
  return [...out];
}

/** Progress on stderr: a bar on a TTY, otherwise one plain line per case. */
function progressReporter(err: (t: string) => void, tty: boolean): { onEvent: (e: DriverEvent) => void; stop: () => void } {
  if (tty) {
    const bar = new cliProgress.SingleBar({
      format: ' {runtime} [{bar}] {value}/{total} {label}', hideCursor: true, clearOnComplete: true, stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      onEvent: (e) => {
        const runtime = `${e.runtime}${e.pass ? ' (ort 2 threads)' : ''}`.padEnd(9);
        if (e.event === 'start') {
          if (started) bar.stop();
          bar.start(e.total, 0, { runtime, label: '' });
          started = true;
        } else if (e.event === 'progress') bar.update(e.done, { runtime, label: e.label });
        else if (e.event === 'mismatch') err(`\nMISMATCH ${e.runtime} ${e.id}: ${e.detail}\n`);
      },
      stop: () => { if (started) bar.stop(); },
    };
  }
  return {
    onEvent: (e) => {
      const tag = `${e.runtime}${e.pass ? '/ort-2t' : ''}`;
      if (e.event === 'progress' && e.label && e.done > 1) err(`bench ${tag} ${e.done}/${e.total} ${e.label}\n`);
      else if (e.event === 'mismatch') err(`bench ${tag} MISMATCH ${e.id}: ${e.detail}\n`);
    },
    stop: () => {},
  };
}

/** Runs the benchmarks; returns the exit code. */
export async function runBench(a: BenchArgs, io: { out: (t: string) => void; err: (t: string) => void }, tty: boolean): Promise<number> {
  const progress = progressReporter(io.err, tty);
  let r;
  try {
    r = await benchmark({ runtimes: a.runtimes, quick: a.quick, filter: a.filter }, a.output, `spikewasm bench ${process.argv.slice(3).join(' ')}`.trim(), (e) => progress.onEvent(e));
  } finally {
    progress.stop();
  }
  const total = r.results.reduce((n, x) => n + x.cases.length, 0);
  if (total === 0 && r.failures.length === 0) throw new UsageError(`bench: no case matches --filter ${JSON.stringify(a.filter)}`);
  if (a.json) io.out(`${JSON.stringify({ results: r.results, failures: r.failures, files: r.files })}\n`);
  else {
    for (const x of r.results) {
      io.out(`\n${x.runtime} ${x.version}: f32x4 peak ${x.peakGflops?.toFixed(1) ?? '—'} GFLOP/s; times per call, ratios = peer ÷ ours\n${textTable(x)}\n`);
    }
    for (const f of r.files) io.out(`wrote ${f}\n`);
  }
  const mismatches = r.results.flatMap((x) => x.cases.filter((c) => !c.check.ok).map((c) => `${x.runtime} ${c.id}`));
  if (r.failures.length) throw new CliError(`bench: ${r.failures.map((f) => `${f.runtime} failed: ${f.error}`).join('; ')}`);
  if (mismatches.length) throw new CliError(`bench: cross-check mismatch in ${mismatches.join(', ')}`);
  return 0;
}
