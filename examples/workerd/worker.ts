// workerd / Cloudflare Workers entry (ES modules). The .wasm is a `wasm` module (workerd will not compile Wasm from
// bytes) and the checkpoint a `data` module `model.safetensors` (an ArrayBuffer), both declared in the capnp config.
import wasmModule from '../../packages/core-wasm/build/spikewasm.wasm';
import { createHandler } from './app.js';

// A variable specifier: esbuild leaves it alone and workerd resolves it among the config's modules.
const MODEL_SPEC = './model.safetensors';
const handle = createHandler(async () => new Uint8Array(((await import(MODEL_SPEC)) as { default: ArrayBuffer }).default), wasmModule);

export default { fetch: (req: Request) => handle(req) };
