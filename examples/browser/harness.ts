// Test harness shared by examples/test/browser.test.ts and readme-snippets.test.ts (Node only): a static file server
// on a free 127.0.0.1 port, headless Chromium (playwright-core driving /usr/bin/chromium, the conformance flags),
// workerd (the conformance helper) and child processes in their own process group.
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.png': 'image/png',
};

export interface StaticServer { origin: string; close(): Promise<void> }

/** Serves the files under `dir` (index.html for /) on 127.0.0.1, a free port. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(root, path));
    let size = -1;
    try { const st = statSync(file); if (st.isFile()) size = st.size; } catch { /* 404 */ }
    if (!file.startsWith(root + sep) || size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': size, 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => { server.once('error', fail); server.listen(0, '127.0.0.1', ok); });
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

/** Headless Chromium with the flags of conformance/runtimes/chromium.mjs (CHROMIUM_PATH overrides the binary). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A running workerd (conformance/runtimes/workerd-host.mjs): `fetch` polls until the socket answers. */
export interface WorkerdHost {
  port: number;
  version: string;
  fetch(path?: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
  output(): string;
}

/**
 * Starts workerd on a free port for the modules in `dir` (the first one the main ES module), through the shared
 * conformance helper (which writes `dir`/config.capnp).
 */
export async function startWorkerd(dir: string, modules: { name: string; kind: 'esModule' | 'wasm' | 'data' }[]): Promise<WorkerdHost> {
  const host = new URL('../../conformance/runtimes/workerd-host.mjs', import.meta.url).href; // untyped .mjs: a variable specifier
  const m = (await import(host)) as { startWorkerd(dir: string, modules: unknown[]): Promise<WorkerdHost> };
  return m.startWorkerd(dir, modules);
}

export interface Proc {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** stdout and stderr, interleaved. */
  output(): string;
  /** Resolves with the exit code when the process has exited. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Spawns a command in its own process group (killed as a group by `kill()`, and on process exit). */
export function spawnGroup(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; stdin?: string }): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '', stdout = '';
  child.stdout!.on('data', (d) => { out += d; stdout += d; });
  child.stderr!.on('data', (d) => { out += d; });
  child.once('error', (e) => { out += `spawn error: ${e.message}\n`; });
  child.stdin!.end(opts.stdin ?? '');
  const exited = new Promise<number | null>((ok) => child.once('close', (code) => ok(code)));
  const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
  process.once('exit', killGroup);
  return {
    child, exited, output: () => out, stdout: () => stdout,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) killGroup();
      await exited;
      process.off('exit', killGroup);
    },
  };
}
