import { Core } from './core.js';
import { InitError } from './errors.js';

/** What {@link init} accepts: a compiled module (required on workerd), raw bytes, a URL (string or URL) or a fetch
 *  Response. */
export type WasmSource = WebAssembly.Module | BufferSource | URL | string | Response | PromiseLike<Response>;

let cached: Promise<Core> | null = null;
let ready: Core | null = null;

/** URL of the packaged .wasm next to this file's package (dist/ → build/). */
export function defaultWasmUrl(): URL {
  return new URL('../build/spikewasm.wasm', import.meta.url);
}

async function readUrl(url: URL): Promise<BufferSource | Response> {
  if (url.protocol === 'file:') {
    // Node and Deno: read the file (Node's fetch has no file: support).
    // The specifier is a variable so that browser bundlers leave it alone.
    const spec = 'node:fs/promises';
    const fs = (await import(spec)) as { readFile(u: URL): Promise<Uint8Array<ArrayBuffer>> };
    return await fs.readFile(url);
  }
  return await fetch(url);
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source === 'string' || source instanceof URL) return compile(await readUrl(new URL(source, import.meta.url)));
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new InitError(`fetching spikewasm.wasm failed: HTTP ${source.status}`);
    const type = source.headers.get('content-type') ?? '';
    if (type.startsWith('application/wasm') && typeof WebAssembly.compileStreaming === 'function') {
      return WebAssembly.compileStreaming(source);
    }
    return WebAssembly.compile(await source.arrayBuffer());
  }
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  if (source && typeof (source as PromiseLike<Response>).then === 'function') return compile(await source);
  throw new InitError('init(): expected a WebAssembly.Module, bytes, a URL or a Response');
}

/**
 * Loads and instantiates the kernels once; later calls return the same {@link Core}. With no argument the
 * packaged `spikewasm.wasm` is found next to the package (fs in Node and Deno, fetch in browsers). On Cloudflare
 * Workers / workerd, which refuse to compile bytes, import the package under the `workerd` condition (it passes
 * the imported module) or pass a `WebAssembly.Module` yourself.
 *
 * @example
 * const core = await init();
 * const a = core.arena();
 */
export function init(source?: WasmSource): Promise<Core> {
  if (!cached) {
    cached = load(source).then(
      (core) => (ready = core),
      (e) => {
        cached = null;
        throw e;
      },
    );
  }
  return cached;
}

/** Compiles and instantiates; every failure becomes an InitError saying what went wrong. */
async function load(source?: WasmSource): Promise<Core> {
  try {
    const mod = await compile(source ?? defaultWasmUrl());
    return new Core(await WebAssembly.instantiate(mod, {}));
  } catch (e) {
    if (e instanceof InitError) throw e;
    throw new InitError(`could not load spikewasm.wasm: ${(e as Error).message}`);
  }
}

/** Synchronous instantiation from a module or bytes (small module: allowed on the main thread). */
export function initSync(source: WebAssembly.Module | BufferSource): Core {
  if (ready) return ready;
  const mod = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  ready = new Core(new WebAssembly.Instance(mod, {}));
  cached = Promise.resolve(ready);
  return ready;
}

/** A fresh, independent instance (own memory), e.g. to isolate two models; not cached. */
export function instantiate(source?: WasmSource): Promise<Core> {
  return load(source);
}

/** The instance created by {@link init}; throws if init has not finished. */
export function getCore(): Core {
  if (!ready) throw new InitError('spikewasm is not initialised: await init() first');
  return ready;
}
