// Bundle entry for the cross-runtime conformance suite (scripts/build-conformance.mjs → build/conformance.mjs).
// The bundle lives in build/, so the loader's default `new URL('../build/spikewasm.wasm', import.meta.url)`
// resolves to build/spikewasm.wasm next to it: init() with no argument works in Node, Deno and browsers.
export { runConformance, CONFORMANCE_FIXTURES } from './suite.js';
export { init, instantiate } from '../../src/loader.js';
