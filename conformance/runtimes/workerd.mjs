// Conformance runner for workerd: prints one JSON line {"runtime","version","hashes"} to stdout.
// Copies into a temporary directory the ES modules worker (build/conformance.worker.mjs), build/spikewasm.wasm (a
// `wasm` module) and the fixtures (`data` modules `fixtures/<name>`), serves them with workerd-host.mjs on a free
// 127.0.0.1 port, and kills workerd (its process group) on every path: success, failure and a 60 s timeout.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorkerd } from './workerd-host.mjs';

const TIMEOUT_MS = 60_000;
const pkgDir = fileURLToPath(new URL('../', import.meta.url)); // conformance/
const fixturesDir = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

let server;
let tmp;
const cleanup = () => { if (tmp) rmSync(tmp, { recursive: true, force: true }); };
// Last resort if this process dies some other way (e.g. a signal from the harness).
process.once('exit', () => { if (server?.child.exitCode === null) try { process.kill(-server.child.pid, 'SIGKILL'); } catch { /* gone */ } });
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { void server?.stop(); process.exit(1); });
const timer = setTimeout(async () => {
  console.error(`workerd conformance: timed out after ${TIMEOUT_MS / 1000} s${server?.output() ? `\nworkerd stderr:\n${server.output()}` : ''}`);
  await server?.stop();
  cleanup();
  process.exit(1);
}, TIMEOUT_MS);

try {
  const { CONFORMANCE_FIXTURES } = await import(new URL('../build/conformance.mjs', import.meta.url).href);
  // Everything the config embeds is copied next to it: capnp `embed` paths are relative to the config file.
  tmp = mkdtempSync(join(tmpdir(), 'spikewasm-workerd-'));
  mkdirSync(join(tmp, 'fixtures'));
  copyFileSync(join(pkgDir, 'build/conformance.worker.mjs'), join(tmp, 'worker.mjs'));
  copyFileSync(join(pkgDir, 'build/spikewasm.wasm'), join(tmp, 'spikewasm.wasm'));
  for (const name of CONFORMANCE_FIXTURES) copyFileSync(join(fixturesDir, name), join(tmp, 'fixtures', name));
  server = await startWorkerd(tmp, [
    { name: 'worker.mjs', kind: 'esModule' },
    { name: 'spikewasm.wasm', kind: 'wasm' },
    ...CONFORMANCE_FIXTURES.map((n) => ({ name: `fixtures/${n}`, kind: 'data' })),
  ], { timeoutMs: TIMEOUT_MS });
  const res = await server.fetch('/');
  const body = await res.json().catch(async () => ({ ok: false, error: `non-JSON response (HTTP ${res.status})` }));
  if (!res.ok || !body.ok) throw new Error(`worker failed (HTTP ${res.status}): ${body.error}\n${body.stack ?? ''}`);
  process.stdout.write(`${JSON.stringify({ runtime: 'workerd', version: server.version, hashes: body.hashes })}\n`);
} catch (e) {
  console.error('workerd conformance failed:', e, server?.output() ? `\nworkerd output:\n${server.output()}` : '');
  process.exitCode = 1;
} finally {
  clearTimeout(timer);
  await server?.stop();
  cleanup();
}
