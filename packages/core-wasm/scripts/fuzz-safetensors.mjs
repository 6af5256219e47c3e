// Long run of the safetensors property-based fuzzer (packages/core-wasm/test/safetensors/fuzz-harness.ts):
//
//   node packages/core-wasm/scripts/fuzz-safetensors.mjs [--runs 100000] [--seed N]
//
// Like scripts/demo.mjs, it bundles the TypeScript sources (the harness, src/safetensors.ts, fast-check) with esbuild
// into packages/core-wasm/build/fuzz-safetensors.mjs and runs that, so it tests the current src/ without a tsc build.
// Prints per-property statistics; exits 1 with fast-check's counterexample (seed, shrunk input) on a failure.
import { build } from 'esbuild';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } } });
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: fuzz-safetensors.mjs [--runs N] [--seed N]');
  process.exit(2);
}

const pkg = fileURLToPath(new URL('..', import.meta.url));
const out = `${pkg}build/fuzz-safetensors.mjs`;
await build({
  entryPoints: [`${pkg}test/safetensors/fuzz-harness.ts`],
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning',
});
const { runFuzz } = await import(pathToFileURL(out).href);

console.log(`safetensors fuzz: ${runs} cases, seed ${seed}`);
const t0 = performance.now();
try {
  const report = runFuzz({ runs, seed });
  const secs = (performance.now() - t0) / 1000;
  let total = 0;
  for (const [name, r] of Object.entries(report)) {
    total += r.cases;
    const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace('Safetensors', '')} ${v}`).join(', ');
    console.log(`  ${name}: ${r.cases} cases, ${r.parsed} parsed, max ${r.maxMs.toFixed(1)} ms/case; errors: ${errs || 'none'}`);
  }
  console.log(`PASS: ${total} cases in ${secs.toFixed(1)} s (no untyped error, no case > 1 s, memory bounded)`);
} catch (e) {
  console.error(`FAIL after ${((performance.now() - t0) / 1000).toFixed(1)} s:\n${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
