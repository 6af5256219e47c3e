// Runtime host for browsers (bundled by driver.ts; the page is served by the driver): our .wasm and the peers' files
// are fetched from the same origin (/bench/, /tfjs/, /ort/).
import { instantiate } from '@spikewasm/core-wasm';
import { runSuite, type BenchEvent, type RuntimeResult, type SuiteOptions } from './suite.js';
import { loadOrtWasm, loadTfWasm } from './peers.js';

export function runInBrowser(options: SuiteOptions, emit: (e: BenchEvent) => void): Promise<RuntimeResult> {
  const origin = location.origin;
  const ua = navigator.userAgent;
  return runSuite({
    runtime: 'chromium',
    version: /Chrome\/([\d.]+)/.exec(ua)?.[1] ?? ua,
    detail: `crossOriginIsolated ${String(globalThis.crossOriginIsolated)}`,
    loadOurs: () => instantiate(`${origin}/bench/spikewasm.wasm`),
    loadTf: () => loadTfWasm(`${origin}/tfjs/`),
    loadOrt: (threads) => loadOrtWasm(threads, `${origin}/ort/`),
    emit,
  }, options);
}
