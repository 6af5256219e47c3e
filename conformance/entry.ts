// Bundle entry for the cross-runtime conformance suite (conformance/build.mjs → build/conformance.mjs): every
// package's suite, merged. The bundle lives in conformance/build/, next to a copy of spikewasm.wasm, so the loader's
// default `new URL('../build/spikewasm.wasm', import.meta.url)` finds it: init() with no argument works in Node,
// Deno and browsers.
import type { Core } from '../packages/core-wasm/src/core.js';
import * as coreWasm from '../packages/core-wasm/test/conformance/suite.js';
import * as spiking from '../packages/spiking/test/conformance/suite.js';
import * as lmu from '../packages/lmu/test/conformance/suite.js';
import * as spikformer from '../packages/spikformer/test/conformance/suite.js';

interface Suite {
  CONFORMANCE_FIXTURES: readonly string[];
  // the packages see Core through their own imports (sources or dist types): one structural signature for all
  runConformance(core: never, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>>;
}
const PACKAGES: Record<string, Suite> = { 'core-wasm': coreWasm, spiking, lmu, spikformer };

/** Every fixture file any suite needs. */
export const CONFORMANCE_FIXTURES: string[] = [...new Set(Object.values(PACKAGES).flatMap((p) => [...p.CONFORMANCE_FIXTURES]))];

/** Runs every package's suite; suite names are prefixed by the package (`spiking:`), except core-wasm's. */
export async function runConformance(core: Core, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [pkg, suite] of Object.entries(PACKAGES)) {
    const hashes = await suite.runConformance(core as never, fixtures);
    for (const [k, v] of Object.entries(hashes)) out[pkg === 'core-wasm' ? k : `${pkg}:${k}`] = v;
  }
  return out;
}

export { init, instantiate } from '../packages/core-wasm/src/loader.js';
