// The cross-runtime driver (Node): runs the suite in a fresh Node, Deno, headless Chromium and workerd, each in its
// own process, collects the results and writes BENCHMARKS.md, the SVG chart and the JSON. onnxruntime-web's thread
// count is global per process, so its 2-thread figures come from a second, ort-only pass in a fresh process/page.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BenchEvent, RuntimeResult, SuiteOptions } from './suite.js';

export const RUNTIMES = ['node', 'deno', 'chromium', 'workerd'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

const here = dirname(fileURLToPath(import.meta.url));
/** packages/bench/ */
export const PKG = join(here, '..');
export const REPO = join(PKG, '../..');
const BUILD = join(PKG, 'build');
const NODE_HOST = join(PKG, 'dist/node-host.js');

export interface DriverOptions extends Omit<SuiteOptions, 'impls' | 'ortThreads'> {
  runtimes?: RuntimeName[];
  /** Skip the second, onnxruntime-web 2-thread pass. */
  noOrt2?: boolean;
}

export type DriverEvent = BenchEvent & { runtime: RuntimeName; pass: number };

/** A pass that failed as a whole (the runtime did not start, the host crashed). */
export interface RuntimeFailure { runtime: RuntimeName; error: string }

/** The conformance harness's shared pieces (plain .mjs, typed here by what we use). */
interface Conformance {
  esbuildCommon(absWorkingDir: string, platform?: string): Record<string, unknown>;
  wasmExternal(name?: string): unknown;
}
interface ConformanceRuntime {
  serveStatic(path: string, res: ServerResponse, roots: Record<string, string>, headers?: Record<string, string>): boolean;
  launchChromium(): Promise<import('playwright-core').Browser>;
}
interface WorkerdHost {
  startWorkerd(dir: string, modules: { name: string; kind: string }[], o?: { timeoutMs?: number }): Promise<{
    version: string; fetch(path: string): Promise<Response>; stop(): Promise<void>; output(): string;
  }>;
}
const load = <T>(rel: string): Promise<T> => import(new URL(rel, `file://${REPO}/`).href) as Promise<T>;

const binDeno = () => join(REPO, 'node_modules/.bin/deno');

/** Runs `cmd args` and feeds its stdout JSON lines to onLine; resolves with the exit code and stderr. */
function spawnLines(cmd: string, args: string[], onLine: (e: BenchEvent) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: PKG, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (!l.startsWith('{')) return;
      try { onLine(JSON.parse(l) as BenchEvent); } catch { /* not ours */ }
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** esbuild bundles for the browser and workerd hosts (from the TypeScript sources, @spikewasm/* → packages/*). */
async function buildBundles(): Promise<void> {
  const { build } = await import('esbuild');
  const c = await load<Conformance>('conformance/esbuild-common.mjs');
  mkdirSync(BUILD, { recursive: true });
  copyFileSync(join(REPO, 'packages/core-wasm/build/spikewasm.wasm'), join(BUILD, 'spikewasm.wasm'));
  // emscripten's Node branches require these; never reached in a browser or in workerd
  const external = ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto', 'url', 'module', 'node:*'];
  await build({
    ...c.esbuildCommon(PKG, 'browser'), entryPoints: [join(PKG, 'src/browser-host.ts')], outfile: join(BUILD, 'bench.browser.mjs'),
    external, mainFields: ['browser', 'module', 'main'], logLevel: 'error',
  });
  await build({
    ...c.esbuildCommon(PKG, 'browser'), entryPoints: [join(PKG, 'src/worker.ts')], outfile: join(BUILD, 'bench.worker.mjs'),
    external, mainFields: ['browser', 'module', 'main'], conditions: ['workerd', 'worker', 'browser'], logLevel: 'error',
    plugins: [c.wasmExternal('spikewasm.wasm')] as never,
  });
}

async function runNodeLike(rt: 'node' | 'deno', options: SuiteOptions, emit: (e: BenchEvent) => void): Promise<RuntimeResult> {
  let result: RuntimeResult | undefined;
  const args = rt === 'node' ? [NODE_HOST, JSON.stringify(options)] : ['run', '-A', '--quiet', NODE_HOST, JSON.stringify(options)];
  const { code, stderr } = await spawnLines(rt === 'node' ? process.execPath : binDeno(), args, (e) => {
    if (e.event === 'result') result = e.result;
    emit(e);
  });
  if (!result) throw new Error(`${rt} exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return result;
}

async function runChromium(passes: SuiteOptions[], emit: (pass: number, e: BenchEvent) => void): Promise<RuntimeResult[]> {
  const cr = await load<ConformanceRuntime>('conformance/runtimes/common.mjs');
  const roots = {
    '/bench/': BUILD,
    '/tfjs/': join(REPO, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'),
    '/ort/': join(REPO, 'node_modules/onnxruntime-web/dist'),
  };
  // cross-origin isolation: SharedArrayBuffer, hence onnxruntime-web's threads
  const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end('<!doctype html><meta charset="utf-8"><title>spikewasm bench</title>');
    } else if (!cr.serveStatic(path, res, roots, headers)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await cr.launchChromium();
  try {
    const out: RuntimeResult[] = [];
    for (const [i, options] of passes.entries()) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.exposeFunction('__benchEmit', (e: BenchEvent) => emit(i, e));
      await page.goto(`${origin}/`);
      const r = await page.evaluate(async (o) => {
        const m = await import('/bench/bench.browser.mjs' as string) as { runInBrowser(o: unknown, e: (x: unknown) => void): Promise<unknown> };
        return m.runInBrowser(o, (e) => (globalThis as unknown as { __benchEmit(x: unknown): void }).__benchEmit(e));
      }, options);
      out.push(r as RuntimeResult);
      await ctx.close();
    }
    return out;
  } finally {
    await browser.close().catch(() => {});
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
}

async function runWorkerd(options: SuiteOptions, emit: (e: BenchEvent) => void): Promise<RuntimeResult> {
  const { startWorkerd } = await load<WorkerdHost>('conformance/runtimes/workerd-host.mjs');
  const tmp = mkdtempSync(join(os.tmpdir(), 'spikewasm-bench-workerd-'));
  copyFileSync(join(BUILD, 'bench.worker.mjs'), join(tmp, 'worker.mjs'));
  copyFileSync(join(BUILD, 'spikewasm.wasm'), join(tmp, 'spikewasm.wasm'));
  const server = await startWorkerd(tmp, [{ name: 'worker.mjs', kind: 'esModule' }, { name: 'spikewasm.wasm', kind: 'wasm' }], { timeoutMs: 600_000 });
  try {
    const res = await server.fetch(`/?o=${encodeURIComponent(JSON.stringify(options))}`);
    if (!res.ok || !res.body) throw new Error(`worker answered HTTP ${res.status}`);
    let result: RuntimeResult | undefined;
    let buf = '';
    const dec = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl)) as BenchEvent | { event: 'error'; error: string };
        buf = buf.slice(nl + 1);
        if (e.event === 'error') throw new Error(e.error);
        if (e.event === 'result') result = { ...e.result, version: server.version };
        emit(e as BenchEvent);
      }
    }
    if (!result) throw new Error(`no result from the worker${server.output() ? `: ${server.output().slice(-300)}` : ''}`);
    return result;
  } finally {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Merges an ort-only pass (another thread count) into the main pass of the same runtime. */
function mergePass(main: RuntimeResult, extra: RuntimeResult): void {
  for (const c of extra.cases) {
    const m = main.cases.find((x) => x.id === c.id);
    if (!m) continue;
    for (const [label, r] of Object.entries(c.impls)) m.impls[label] = r;
    for (const [label, e] of Object.entries(c.check.errors)) m.check.errors[label] = e;
    if (!c.check.ok) { m.check.ok = false; m.check.detail = [m.check.detail, c.check.detail].filter(Boolean).join('; '); }
  }
  (main.peers as Record<string, unknown>).ort2 = extra.peers.ort;
}

/**
 * Runs the suite in each runtime (sequentially: the timings must not compete for the 2 cores) and returns the
 * results and the runtimes that failed. Events (with the runtime and pass) go to onEvent.
 */
export async function runRuntimes(opts: DriverOptions, onEvent: (e: DriverEvent) => void = () => {}): Promise<{ results: RuntimeResult[]; failures: RuntimeFailure[] }> {
  const runtimes = opts.runtimes ?? [...RUNTIMES];
  const base: SuiteOptions = { quick: opts.quick, tiny: opts.tiny, checkOnly: opts.checkOnly, filter: opts.filter, ortThreads: 1 };
  const ort2: SuiteOptions = { ...base, impls: ['ort'], ortThreads: 2 };
  const results: RuntimeResult[] = [];
  const failures: RuntimeFailure[] = [];
  if (runtimes.includes('chromium') || runtimes.includes('workerd')) await buildBundles();
  for (const rt of runtimes) {
    const passes = rt === 'workerd' || opts.noOrt2 ? [base] : [base, ort2];
    try {
      let rs: RuntimeResult[];
      if (rt === 'chromium') {
        rs = await runChromium(passes, (pass, e) => onEvent({ ...e, runtime: rt, pass }));
      } else {
        rs = [];
        for (const [pass, o] of passes.entries()) {
          const emit = (e: BenchEvent) => onEvent({ ...e, runtime: rt, pass });
          rs.push(rt === 'workerd' ? await runWorkerd(o, emit) : await runNodeLike(rt, o, emit));
        }
      }
      for (const extra of rs.slice(1)) mergePass(rs[0], extra);
      results.push(rs[0]);
    } catch (e) {
      failures.push({ runtime: rt, error: (e as Error)?.message ?? String(e) });
    }
  }
  return { results, failures };
}

// ---------------------------------------------------------------- host facts

export interface Machine { cpu: string; cores: number; memoryGiB: number; platform: string; date: string; loadavg: number[] }

export function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  return {
    cpu, cores: os.availableParallelism?.() ?? os.cpus().length, memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`, date: new Date().toISOString(), loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

export interface WasmSize { what: string; file: string; bytes: number; gzipBytes: number }

/** The .wasm files each implementation ships (ours, tfjs-backend-wasm's three, onnxruntime-web's default). */
export function wasmSizes(): WasmSize[] {
  const files: [string, string][] = [
    ['spikewasm (ours)', 'packages/core-wasm/build/spikewasm.wasm'],
    ['tfjs-backend-wasm SIMD (used here)', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'],
    ['tfjs-backend-wasm SIMD + threads', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm'],
    ['tfjs-backend-wasm plain', 'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'],
    ['onnxruntime-web SIMD + threads (used here)', 'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'],
  ];
  return files.map(([what, file]) => {
    const p = join(REPO, file);
    return { what, file, bytes: statSync(p).size, gzipBytes: gzipSync(readFileSync(p), { level: 9 }).length };
  });
}

