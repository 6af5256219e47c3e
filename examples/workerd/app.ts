// The HTTP handler shared by the workerd Worker (worker.ts) and the Deno server (../deno/server.ts): one checkpoint,
// the model built once per isolate (lazily, on the first request), `POST /v1/infer` and `GET /health`.
// Runtime-neutral: no node:*, no Deno.* — the caller supplies the checkpoint bytes and the Wasm source.
import {
  init, parseSafetensors, SpikewasmError, type Core, type SafetensorsFile, type WasmSource,
} from '@spikewasm/core-wasm';
import { LMUFormer, SpikingLMUFormer } from '@spikewasm/lmu';
import { Spikformer } from '@spikewasm/spikformer';

/** The factories this example serves (the official constructor names of the checkpoint's `factory` metadata). */
const BUILDERS = {
  lmu_rnn_conv1d: LMUFormer.fromCheckpoint.bind(LMUFormer),
  slmu_rnn_ms_conv1d: SpikingLMUFormer.fromCheckpoint.bind(SpikingLMUFormer),
  spikformer: Spikformer.fromCheckpoint.bind(Spikformer),
} as const;
type Factory = keyof typeof BUILDERS;

/** Largest request body accepted (bytes): larger ones get 413 before more than this is read. */
export const MAX_BODY_BYTES = 16 << 20;

/**
 * Largest batch accepted (422 above it). The model keeps one set of activations per batch size it has seen, so this
 * bounds the memory an isolate can be made to hold: at most the buffers of batch sizes 1 … MAX_BATCH.
 */
export const MAX_BATCH = 8;

/** Content types of a binary body (safetensors, or raw f32 with ?shape=); `application/json` is the JSON body. */
const BINARY_TYPES = ['application/octet-stream', 'application/x-safetensors', 'application/safetensors'];

interface Model { forward(x: unknown): { shape: readonly number[]; toArray(): ArrayLike<number> } }
interface Loaded { core: Core; model: Model; factory: Factory; config: object; coldStartMs: number }

/** A client error: becomes a 4xx JSON `{ error }` with a one-line message. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const oneLine = (s: string) => s.split('\n')[0].trim().slice(0, 500);

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

function load(weights: Uint8Array, wasm: WasmSource | undefined): Promise<Loaded> {
  return (async () => {
    const t0 = performance.now();
    const core = await init(wasm);
    const file: SafetensorsFile = parseSafetensors(weights);
    const factory = file.metadata.factory as Factory;
    if (!Object.hasOwn(BUILDERS, factory)) throw new Error(`checkpoint factory ${JSON.stringify(factory)} is not served by this example`);
    const config = file.metadata.config ? JSON.parse(file.metadata.config) : {};
    const ignore = (k: string) => k === 'input' || k.startsWith('expected.');
    const model = BUILDERS[factory](core.arena(), file, config, { ignore }) as unknown as Model;
    return { core, model, factory, config, coldStartMs: performance.now() - t0 };
  })();
}

/** The input of a JSON body: `{ "input": { "shape": [..], "data": [..] } }` (or the same object without "input"). */
function readJsonInput(body: Uint8Array): { data: Float32Array; shape: number[] } {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    throw new HttpError(400, `body is not valid UTF-8 JSON: ${oneLine((e as Error).message)}`);
  }
  const o = (v && typeof v === 'object' && 'input' in v ? (v as { input: unknown }).input : v) as { shape?: unknown; data?: unknown } | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.shape) || !Array.isArray(o.data)) {
    throw new HttpError(400, 'JSON body must be { "input": { "shape": [...], "data": [...] } }');
  }
  const shape = o.shape as unknown[];
  if (shape.length === 0 || shape.length > 8 || shape.some((d) => !Number.isSafeInteger(d) || (d as number) <= 0)) {
    throw new HttpError(400, `input.shape ${JSON.stringify(shape).slice(0, 80)}: expected 1 to 8 positive integers`);
  }
  let n = 1;
  for (const d of shape as number[]) n *= d;
  if (n > MAX_BODY_BYTES) throw new HttpError(400, `input.shape [${shape}] has ${n} elements, more than a ${MAX_BODY_BYTES}-byte body can carry`);
  const data = new Float32Array(n);
  flatten(o.data as unknown[], shape as number[], data);
  return { data, shape: shape as number[] };
}

/**
 * Copies `data` into `out`: either a flat array of prod(shape) numbers or arrays nested exactly as `shape` (no
 * recursion: a body cannot exhaust the stack). Every element must be a number whose float32 value is finite: JSON has
 * no NaN, but `1e999` parses as Infinity, and `1e39` overflows float32.
 */
function flatten(data: unknown[], shape: readonly number[], out: Float32Array): void {
  const n = out.length;
  let k = 0;
  const put = (v: unknown, where: () => string) => {
    if (typeof v !== 'number') throw new HttpError(400, `input.data${where()} is ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}, not a number`);
    const f = Math.fround(v);
    if (f - f !== 0) {
      throw new HttpError(400, `input.data${where()} is ${v}${Number.isFinite(v) ? ', outside the float32 range' : ''}; inputs must be finite`);
    }
    out[k++] = f;
  };
  if (data.length === n && (n === 0 || !Array.isArray(data[0]))) {
    for (let i = 0; i < n; i++) put(data[i], () => `[${i}]`);
    return;
  }
  // nested: a stack of [array, next index, depth]
  const stack: [unknown[], number][] = [[data, 0]];
  const path = () => stack.map(([, i]) => `[${i - 1}]`).join('');
  while (stack.length > 0) {
    const top = stack[stack.length - 1], depth = stack.length - 1;
    const [arr, i] = top;
    if (i === 0 && arr.length !== shape[depth]) {
      throw new HttpError(400, `input.data${stack.slice(0, -1).map(([, j]) => `[${j - 1}]`).join('')} has ${arr.length} entries; shape [${shape}] needs ${shape[depth]} on axis ${depth} (or send data flat: ${n} numbers)`);
    }
    if (i === arr.length) { stack.pop(); continue; }
    top[1] = i + 1;
    if (depth === shape.length - 1) put(arr[i], path);
    else if (Array.isArray(arr[i])) stack.push([arr[i] as unknown[], 0]);
    else throw new HttpError(400, `input.data${path()} is ${typeof arr[i]}, expected an array of ${shape[depth + 1]} entries (shape [${shape}])`);
  }
}

/** The input tensor of a request body: safetensors holding `input`, JSON (content-type application/json), or raw
 *  little-endian f32 with `?shape=`. */
function readInput(body: Uint8Array, shapeParam: string | null, contentType: string): { data: Float32Array; shape: number[] } {
  if (body.byteLength === 0) throw new HttpError(400, 'empty body: send a safetensors file holding "input", JSON, or raw f32 with ?shape=');
  let data: Float32Array, shape: number[];
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type !== '' && type !== 'application/json' && !BINARY_TYPES.includes(type)) {
    throw new HttpError(415, `content-type ${JSON.stringify(type.slice(0, 80))} is not accepted: use application/json, or application/octet-stream for safetensors or raw f32 (curl --data-binary sends application/x-www-form-urlencoded unless told otherwise)`);
  }
  if (type === 'application/json') {
    ({ data, shape } = readJsonInput(body));
  } else if (shapeParam !== null) {
    shape = shapeParam.split(',').map((s) => (/^\s*[0-9]+\s*$/.test(s) ? Number(s) : NaN));
    if (shape.length > 8 || shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) throw new HttpError(400, `?shape=${shapeParam.slice(0, 80)}: expected 1 to 8 comma-separated positive integers`);
    const n = shape.reduce((a, b) => a * b, 1);
    if (body.byteLength !== n * 4) throw new HttpError(400, `body has ${body.byteLength} bytes; shape [${shape}] of f32 needs ${n * 4}`);
    data = new Float32Array(n);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < n; i++) data[i] = dv.getFloat32(i * 4, true);
  } else {
    let f: SafetensorsFile;
    try {
      f = parseSafetensors(body);
    } catch (e) {
      throw new HttpError(400, `body is not a valid safetensors file: ${oneLine((e as Error).message)}`);
    }
    const t = f.tensors.get('input');
    if (!t) throw new HttpError(400, `safetensors body has no tensor named "input" (it holds ${f.tensors.size} tensors)`);
    if (t.data instanceof Float32Array) data = t.data;
    else if (t.dtype === 'F64' || t.dtype === 'I32') data = Float32Array.from(t.data as ArrayLike<number>);
    else throw new HttpError(415, `tensor "input" has dtype ${t.dtype}; expected F32, F16, BF16, F64 or I32`);
    shape = [...t.shape];
  }
  for (let i = 0; i < data.length; i++) {
    if (data[i] - data[i] !== 0) throw new HttpError(400, `input[${i}] is ${data[i]}; inputs must be finite`);
  }
  if (shape.length > 0 && shape[0] > MAX_BATCH) throw new HttpError(422, `input shape [${shape}]: batch ${shape[0]} exceeds this endpoint's limit of ${MAX_BATCH}`);
  return { data, shape };
}

/**
 * The request body, read chunk by chunk and abandoned (413) as soon as it passes {@link MAX_BODY_BYTES}: a chunked
 * body without a content-length cannot make the isolate buffer more than the limit.
 */
async function readBody(req: Request): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `body of more than ${MAX_BODY_BYTES} bytes exceeds ${MAX_BODY_BYTES}`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.byteLength; }
  return out;
}

/** The three best classes of each row (ties: lower class first), with softmax probabilities. */
function top3(logits: ArrayLike<number>, rows: number, K: number) {
  const out: { class: number; logit: number; prob: number }[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: K }, (_, i) => logits[r * K + i]);
    const max = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - max), 0);
    const idx = [...row.keys()].sort((a, b) => row[b] - row[a] || a - b).slice(0, 3);
    out.push(idx.map((i) => ({ class: i, logit: row[i], prob: Math.exp(row[i] - max) / z })));
  }
  return out;
}

/**
 * A fetch handler for one checkpoint. `wasm`: the Wasm source for init() (workerd: the imported module;
 * elsewhere: bytes or undefined for the packaged file).
 */
export function createHandler(weights: Uint8Array | (() => Promise<Uint8Array>), wasm?: WasmSource) {
  let loaded: Promise<Loaded> | undefined;
  const get = () => (loaded ??= (async () => load(typeof weights === 'function' ? await weights() : weights, wasm))()
    .catch((e) => { loaded = undefined; throw e; }));

  return async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    try {
      if (url.pathname === '/health') {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} /health: use GET`);
        const m = await get();
        return json({ ok: true, factory: m.factory, config: m.config, coldStartMs: m.coldStartMs });
      }
      if (url.pathname !== '/v1/infer') throw new HttpError(404, `no route ${url.pathname}: use POST /v1/infer or GET /health`);
      if (req.method !== 'POST') throw new HttpError(405, `${req.method} /v1/infer: use POST`);
      const declared = Number(req.headers.get('content-length') ?? 0);
      if (declared > MAX_BODY_BYTES) throw new HttpError(413, `body of ${declared} bytes exceeds ${MAX_BODY_BYTES}`);
      const body = await readBody(req);
      const input = readInput(body, url.searchParams.get('shape'), req.headers.get('content-type') ?? '');

      const m = await get();
      const t0 = performance.now();
      const arena = m.core.arena();
      let shape: number[], logits: number[];
      try {
        const y = m.model.forward(arena.from(input.data, input.shape, 'f32', 'input'));
        shape = [...y.shape];
        logits = Array.from(y.toArray());
      } catch (e) {
        if (e instanceof SpikewasmError) throw new HttpError(422, oneLine(e.message));
        throw e;
      } finally {
        arena.dispose();
      }
      const ms = performance.now() - t0;
      const K = shape[shape.length - 1];
      const rows = logits.length / K;
      const last = shape.length === 3 ? logits.slice((shape[0] - 1) * shape[1] * K) : logits;
      return json({ logits: { shape, data: logits }, top: top3(last, shape.length === 3 ? shape[1] : rows, K), ms });
    } catch (e) {
      if (e instanceof HttpError) return json({ error: oneLine(e.message) }, e.status);
      // A server-side failure: still one line, no stack.
      return json({ error: `internal error: ${oneLine(String((e as Error)?.message ?? e))}` }, 500);
    }
  };
}
