// Bounded run of the safetensors fuzzer (see fuzz-harness.ts); the long run is
// `node packages/core-wasm/scripts/fuzz-safetensors.mjs --runs 100000`. The seed is fixed so CI is reproducible;
// set SAFETENSORS_FUZZ_SEED to explore other seeds, SAFETENSORS_FUZZ_RUNS to change the count.
import { describe, expect, test } from 'vitest';
import { runFuzz } from './fuzz-harness.js';

const runs = Number(process.env.SAFETENSORS_FUZZ_RUNS ?? 20000);
const seed = Number(process.env.SAFETENSORS_FUZZ_SEED ?? 0x5afe);

describe('safetensors fuzzer (bounded)', () => {
  test(`${runs} cases: typed errors or consistent results, < 1 s each, bounded memory`, () => {
    const report = runFuzz({ runs, seed });
    const total = Object.values(report).reduce((s, r) => s + r.cases, 0);
    console.log(`safetensors fuzz: ${total} cases, seed ${seed}\n${JSON.stringify(report)}`);
    expect(total).toBeGreaterThanOrEqual(runs);
    // The mutations must exercise both outcomes and many error kinds, or the fuzzer is not reaching deep checks.
    expect(report.mutated.parsed).toBeGreaterThan(0);
    expect(Object.keys(report.mutated.errors).length).toBeGreaterThanOrEqual(10);
  }, 60_000);
});
