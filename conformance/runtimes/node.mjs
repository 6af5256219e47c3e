// Conformance runner for Node: prints one JSON line {"runtime","version","hashes"} to stdout.
// Uses build/conformance.mjs (node scripts/build-conformance.mjs) and init() with no argument (node:fs).
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
  process.stdout.write(`${JSON.stringify({ runtime: 'node', version: process.versions.node, hashes })}\n`);
} catch (e) {
  console.error(`node conformance failed (fixtures: ${fileURLToPath(fixturesDir)}):`, e);
  process.exitCode = 1;
}
