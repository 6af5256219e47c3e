// Conformance runner for Deno (run by scripts/test-all.mjs as
//   deno run --allow-read=<packages/core-wasm>,<shared/fixtures> test/runtimes/deno.mjs
// ): prints one JSON line {"runtime","version","hashes"} to stdout. init() with no argument reads
// build/spikewasm.wasm through node:fs/promises, which Deno provides.
const bundle = new URL('../build/conformance.mjs', import.meta.url);
// <repo>/../shared/fixtures
const fixturesDir = new URL('../../../shared/fixtures/', import.meta.url);

try {
  const { init, runConformance, CONFORMANCE_FIXTURES } = await import(bundle.href);
  const fixtures = {};
  for (const name of CONFORMANCE_FIXTURES) fixtures[name] = await Deno.readFile(new URL(name, fixturesDir));
  const core = await init();
  const hashes = await runConformance(core, fixtures);
  console.log(JSON.stringify({ runtime: 'deno', version: Deno.version.deno, hashes }));
} catch (e) {
  console.error('deno conformance failed:', e);
  Deno.exit(1);
}
