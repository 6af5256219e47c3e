// Conformance runner for workerd: prints one JSON line {"runtime","version","hashes"} to stdout.
// Writes a temporary capnp config (ES modules worker: build/conformance.worker.mjs, build/spikewasm.wasm as a
// `wasm` module, the fixtures as `data` modules `fixtures/<name>`), serves it on a free 127.0.0.1 port, polls until
// it answers, and kills workerd (its process group) on every path: success, failure and a 60 s timeout.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const TIMEOUT_MS = 60_000;
const COMPATIBILITY_DATE = '2026-10-01'; // must not be later than the workerd build's own date (package.json pins workerd)
const pkgDir = fileURLToPath(new URL('../', import.meta.url)); // conformance/
const fixturesDir = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

/** The workerd binary: the platform package's, else the `workerd` package's bin (a copy of it, or a shim). */
function workerdBinary() {
  const require = createRequire(import.meta.url);
  for (const spec of [`@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}/bin/workerd`, 'workerd/bin/workerd']) {
    try { return require.resolve(spec); } catch { /* next */ }
  }
  const bin = join(pkgDir, '../node_modules/.bin/workerd');
  if (existsSync(bin)) return bin;
  throw new Error('workerd binary not found (npm install workerd)');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let child;
let tmp;
let stderr = '';
function killWorkerd() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, 'SIGKILL'); } catch { try { child.kill('SIGKILL'); } catch { /* gone */ } }
}
// Last resort if this process dies some other way (e.g. a signal from the harness).
process.once('exit', killWorkerd);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { killWorkerd(); process.exit(1); });
const timer = setTimeout(() => {
  console.error(`workerd conformance: timed out after ${TIMEOUT_MS / 1000} s${stderr ? `\nworkerd stderr:\n${stderr}` : ''}`);
  killWorkerd();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}, TIMEOUT_MS);

try {
  const { CONFORMANCE_FIXTURES } = await import(new URL('../build/conformance.mjs', import.meta.url).href);
  const bin = workerdBinary();
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().replace(/^workerd\s+/, '');

  // Everything the config embeds is copied next to it: capnp `embed` paths are relative to the config file.
  tmp = mkdtempSync(join(tmpdir(), 'spikewasm-workerd-'));
  mkdirSync(join(tmp, 'fixtures'));
  copyFileSync(join(pkgDir, 'build/conformance.worker.mjs'), join(tmp, 'worker.mjs'));
  copyFileSync(join(pkgDir, 'build/spikewasm.wasm'), join(tmp, 'spikewasm.wasm'));
  for (const name of CONFORMANCE_FIXTURES) copyFileSync(join(fixturesDir, name), join(tmp, 'fixtures', name));

  const port = await freePort();
  const q = JSON.stringify;
  const modules = [
    `(name = "worker.mjs", esModule = embed "worker.mjs")`,
    `(name = "spikewasm.wasm", wasm = embed "spikewasm.wasm")`,
    ...CONFORMANCE_FIXTURES.map((n) => `(name = ${q(`fixtures/${n}`)}, data = embed ${q(`fixtures/${n}`)})`),
  ];
  writeFileSync(join(tmp, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "conformance", worker = .conformanceWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "conformance") ],
);

const conformanceWorker :Workerd.Worker = (
  modules = [
    ${modules.join(',\n    ')},
  ],
  compatibilityDate = "${COMPATIBILITY_DATE}",
);
`);

  child = spawn(bin, ['serve', join(tmp, 'config.capnp')], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.on('data', (d) => { stderr += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (e) => { stderr += `spawn error: ${e.message}\n`; });

  // Poll until the socket answers (or workerd exits, e.g. on a config error).
  let res;
  for (let i = 0; ; i++) {
    const gone = await Promise.race([exited, sleep(0).then(() => null)]);
    if (gone) throw new Error(`workerd exited early (code ${gone.code}, signal ${gone.signal})`);
    try {
      res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      break;
    } catch (e) {
      if (e?.name === 'TimeoutError') throw e;
      await sleep(Math.min(50 * (i + 1), 250));
    }
  }
  const body = await res.json().catch(async () => ({ ok: false, error: `non-JSON response (HTTP ${res.status})` }));
  if (!res.ok || !body.ok) throw new Error(`worker failed (HTTP ${res.status}): ${body.error}\n${body.stack ?? ''}`);
  process.stdout.write(`${JSON.stringify({ runtime: 'workerd', version, hashes: body.hashes })}\n`);
} catch (e) {
  console.error('workerd conformance failed:', e, stderr ? `\nworkerd output:\n${stderr}` : '');
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  killWorkerd();
  if (child && child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
