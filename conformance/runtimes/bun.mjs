// Conformance runner for Bun (JavaScriptCore; node_modules/.bin/bun from the pinned `bun` devDependency): prints one
// JSON line {"runtime","version","hashes"} to stdout. Uses build/conformance.mjs and init() with no argument, which
// reads build/spikewasm.wasm through node:fs/promises (Bun provides it).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../build/conformance.mjs', import.meta.url);
// <repo>/../shared/fixtures
const fixturesDir = new URL('../../../shared/fixtures/', import.meta.url);

try {
  const { init, runConformance, CONFORMANCE_FIXTURES } = await import(bundle.href);
  const fixtures = {};
  for (const name of CONFORMANCE_FIXTURES) fixtures[name] = new Uint8Array(await readFile(new URL(name, fixturesDir)));
  const core = await init();
  const hashes = await runConformance(core, fixtures);
  process.stdout.write(`${JSON.stringify({ runtime: 'bun', version: Bun.version, hashes })}\n`);
} catch (e) {
  console.error(`bun conformance failed (fixtures: ${fileURLToPath(fixturesDir)}):`, e);
  process.exitCode = 1;
}
