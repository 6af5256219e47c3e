// Shared by the conformance runners: where the bundle and the fixtures are, a static file server for the browser
// runners, and the whole run for runtimes with node:fs (Node, Bun).
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** conformance/build/conformance.mjs (conformance/build.mjs writes it, with spikewasm.wasm beside it). */
export const BUNDLE = new URL('../build/conformance.mjs', import.meta.url);
/** <repo>/../shared/fixtures/ */
export const FIXTURES_DIR = new URL('../../../shared/fixtures/', import.meta.url);

/** URL prefixes served by {@link serveStatic}: the bundle directory and the fixtures. */
export const ROOTS = {
  '/build/': resolve(fileURLToPath(new URL('../build/', import.meta.url))),
  '/fixtures/': resolve(fileURLToPath(FIXTURES_DIR)),
};
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/** Serves a file under `roots` (default {@link ROOTS}), with extra response `headers` (the .wasm as application/wasm); returns false when the path is not one. */
export function serveStatic(path, res, roots = ROOTS, headers = {}) {
  for (const [prefix, dir] of Object.entries(roots)) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(dir, path.slice(prefix.length)));
    if (!file.startsWith(dir + sep)) return false;
    let size;
    try { const st = statSync(file); if (!st.isFile()) return false; size = st.size; } catch { return false; }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': 'no-store',
      ...headers,
    });
    createReadStream(file).pipe(res);
    return true;
  }
  return false;
}

/** Runs the bundle in this process (init() finds the wasm via node:fs) and prints the JSON line. */
export async function runHere(runtime, version) {
  try {
    const { init, runConformance, CONFORMANCE_FIXTURES } = await import(BUNDLE.href);
    const fixtures = {};
    for (const name of CONFORMANCE_FIXTURES) fixtures[name] = new Uint8Array(await readFile(new URL(name, FIXTURES_DIR)));
    const hashes = await runConformance(await init(), fixtures);
    process.stdout.write(`${JSON.stringify({ runtime, version, hashes })}\n`);
  } catch (e) {
    console.error(`${runtime} conformance failed (fixtures: ${fileURLToPath(FIXTURES_DIR)}):`, e);
    process.exitCode = 1;
  }
}

/** Headless Debian Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) through playwright-core, with the flags of CI. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
