// Entry for Cloudflare Workers / workerd (the `workerd` export condition). workerd refuses to compile Wasm from
// bytes and has no file system, so the module is imported as a compiled WebAssembly.Module and handed to init().
import wasmModule from '../build/spikewasm.wasm';
import { init as initFrom, instantiate as instantiateFrom, type WasmSource } from './loader.js';
import type { Core } from './core.js';

export * from './index.js';

/** Same as the default entry's init(), but with the imported module as the default source. */
export function init(source: WasmSource = wasmModule): Promise<Core> {
  return initFrom(source);
}

/** A fresh, independent instance of the imported module. */
export function instantiate(source: WasmSource = wasmModule): Promise<Core> {
  return instantiateFrom(source);
}
