// The conformance suite runs in Node and gives stable hashes (the cross-runtime comparison is the root runner's).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init } from '@spikewasm/core-wasm';
import { CONFORMANCE_FIXTURES, runConformance } from './conformance/suite.js';
import { FIXTURES } from './helpers.js';

describe('conformance suite', () => {
  it('hashes the logits of both Spikformer fixtures, identically on every run', async () => {
    const core = await init();
    const fixtures = Object.fromEntries(CONFORMANCE_FIXTURES.map((n) => [n, new Uint8Array(readFileSync(FIXTURES + n))]));
    const a = await runConformance(core, fixtures);
    expect(Object.keys(a)).toEqual(['fixture:spikformer_tiny', 'fixture:spikformer_small']);
    for (const h of Object.values(a)) expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await runConformance(core, fixtures)).toEqual(a);
    console.log(a);
  });
});
