// Starting a local workerd for one ES-module Worker (shared by the conformance runner and packages/bench): the binary,
// a free 127.0.0.1 port, a generated capnp config whose modules are embedded from a directory, the process in its
// own group (killed with the group), and a fetch that waits until the socket answers.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const COMPATIBILITY_DATE = '2026-10-01'; // must not be later than the workerd build's own date (package.json pins workerd)
const repo = fileURLToPath(new URL('../../', import.meta.url));

/** The workerd binary: the platform package's, else the `workerd` package's bin (a copy of it, or a shim). */
export function workerdBinary() {
  const require = createRequire(import.meta.url);
  for (const spec of [`@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}/bin/workerd`, 'workerd/bin/workerd']) {
    try { return require.resolve(spec); } catch { /* next */ }
  }
  const bin = join(repo, 'node_modules/.bin/workerd');
  if (existsSync(bin)) return bin;
  throw new Error('workerd binary not found (npm install workerd)');
}

/** `workerd --version` without the program name. */
export function workerdVersion(bin = workerdBinary()) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().replace(/^workerd\s+/, '');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes `dir`/config.capnp for `modules` ([{ name, kind: 'esModule' | 'wasm' | 'data' }], files of the same names
 * in `dir`, the first one the main module) and starts workerd on a free port. Returns { port, version, fetch(path,
 * init), stop(), output() }; fetch polls until the socket answers (or workerd exits). stop() kills the group.
 */
export async function startWorkerd(dir, modules, { timeoutMs = 60_000 } = {}) {
  const bin = workerdBinary();
  const version = workerdVersion(bin);
  const port = await freePort();
  const q = JSON.stringify;
  writeFileSync(join(dir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .mainWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const mainWorker :Workerd.Worker = (
  modules = [
    ${modules.map((m) => `(name = ${q(m.name)}, ${m.kind} = embed ${q(m.name)})`).join(',\n    ')},
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`);
  let out = '';
  const child = spawn(bin, ['serve', join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.once('error', (e) => { out += `spawn error: ${e.message}\n`; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!running()) return;
    try { process.kill(-child.pid, 'SIGKILL'); } catch { try { child.kill('SIGKILL'); } catch { /* gone */ } }
    await exited;
  };
  const fetchReady = async (path = '/', init = {}) => {
    for (let i = 0; ; i++) {
      const gone = await Promise.race([exited, sleep(0).then(() => null)]);
      if (gone) throw new Error(`workerd exited early (code ${gone.code}, signal ${gone.signal})`);
      try {
        return await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs), ...init });
      } catch (e) {
        if (e?.name === 'TimeoutError') throw e;
        await sleep(Math.min(50 * (i + 1), 250));
      }
    }
  };
  return { port, version, child, fetch: fetchReady, stop, output: () => out };
}
