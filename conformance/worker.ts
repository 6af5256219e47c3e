// workerd entry for the conformance suite (conformance/build.mjs → build/conformance.worker.mjs).
// workerd refuses to compile Wasm from bytes and has no file system: the .wasm is imported as a compiled module
// (the build marks it external as `./spikewasm.wasm`, which the capnp config provides as a `wasm` module) and the
// fixture files are `data` modules named `fixtures/<file name>` (imported as ArrayBuffers).
import wasmModule from '../packages/core-wasm/build/spikewasm.wasm';
import { CONFORMANCE_FIXTURES, runConformance, init } from './entry.js';

async function loadFixtures(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const name of CONFORMANCE_FIXTURES) {
    // A variable specifier: the bundler leaves it alone, workerd resolves it among the config's modules.
    const spec = `./fixtures/${name}`;
    const mod = (await import(spec)) as { default: ArrayBuffer };
    out[name] = new Uint8Array(mod.default);
  }
  return out;
}

export default {
  async fetch(): Promise<Response> {
    try {
      const core = await init(wasmModule);
      const hashes = await runConformance(core, await loadFixtures());
      return Response.json({ ok: true, hashes });
    } catch (e) {
      const err = e as Error;
      return Response.json({ ok: false, error: `${err?.name}: ${err?.message}`, stack: err?.stack }, { status: 500 });
    }
  },
};
