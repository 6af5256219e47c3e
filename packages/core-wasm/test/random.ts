// Seeded random test data, runtime-neutral: the generators live in the oracle module (shared with the benchmarks).
export { rng, randomF32, randomSpikes } from '../src/oracle.js';
