/// <reference path="../../core-wasm/src/wasm.d.ts" />
// Runtime host for workerd (bundled by driver.ts): our .wasm is imported as a compiled `wasm` module (workerd refuses
// to compile bytes); the peers are tried the way their documentation says and reported as not loading if they fail.
// GET /?o=<options JSON> streams the suite's events, one JSON object per line.
import wasmModule from '../../core-wasm/build/spikewasm.wasm';
import { instantiate } from '@spikewasm/core-wasm';
import { runSuite, type BenchEvent, type SuiteOptions } from './suite.js';
import { loadOrtWasm, loadTfWasm } from './peers.js';

export default {
  fetch(req: Request): Response {
    // workerd's clock is coarse (1 ms): longer samples keep the quantisation small
    const options = { sampleMs: 25, ...(JSON.parse(new URL(req.url).searchParams.get('o') ?? '{}') as SuiteOptions) };
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const w = writable.getWriter();
    const enc = new TextEncoder();
    const emit = (e: BenchEvent | { event: 'error'; error: string }) => { void w.write(enc.encode(`${JSON.stringify(e)}\n`)); };
    void (async () => {
      try {
        await runSuite({
          runtime: 'workerd',
          version: 'workerd',
          loadOurs: () => instantiate(wasmModule),
          loadTf: () => loadTfWasm(),
          loadOrt: (threads) => loadOrtWasm(threads),
          emit,
        }, options);
      } catch (e) {
        emit({ event: 'error', error: `${(e as Error)?.name}: ${(e as Error)?.message}` });
      } finally {
        await w.close();
      }
    })();
    return new Response(readable, { headers: { 'content-type': 'application/x-ndjson' } });
  },
};
