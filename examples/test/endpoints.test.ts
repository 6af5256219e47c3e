// End-to-end test of examples/workerd (the real workerd binary) and examples/deno/server.ts (the real Deno):
// builds the bundle, starts both servers on free 127.0.0.1 ports, checks the logits against the fixture's
// expected.logits, byte-identical answers across the two runtimes, and 4xx JSON one-line errors for bad bodies.
// Both servers are started in their own process group and killed in afterAll (and if startup fails).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, parseSafetensors, serializeSafetensors } from '@spikewasm/core-wasm';
import { SpikingLMUFormer } from '@spikewasm/lmu';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = join(repo, '../shared/fixtures/lmuformer_spiking_small.safetensors');
const dist = join(repo, 'examples/workerd/dist');

function workerdBinary(): string {
  const require = createRequire(import.meta.url);
  for (const spec of [`@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}/bin/workerd`, 'workerd/bin/workerd']) {
    try { return require.resolve(spec); } catch { /* next */ }
  }
  return join(repo, 'node_modules/.bin/workerd');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
  });
}

interface Server { name: string; child: ChildProcess; url: string; output: () => string }
const servers: Server[] = [];

function start(name: string, cmd: string, args: string[], port: number, env: Record<string, string> = {}): Server {
  const child = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  child.once('error', (e) => { out += `spawn error: ${e.message}\n`; });
  const s = { name, child, url: `http://127.0.0.1:${port}`, output: () => out };
  servers.push(s);
  return s;
}

function kill(s: Server): Promise<void> {
  const c = s.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  try { process.kill(-c.pid!, 'SIGKILL'); } catch { c.kill('SIGKILL'); }
  return gone;
}
const killAll = () => Promise.all(servers.map(kill));
const killSync = () => { for (const s of servers) try { process.kill(-s.child.pid!, 'SIGKILL'); } catch { /* gone */ } };
process.once('exit', killSync);

async function waitReady(s: Server, deadline: number): Promise<void> {
  for (;;) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) throw new Error(`${s.name} exited early:\n${s.output()}`);
    try {
      const r = await fetch(`${s.url}/health`);
      if (r.ok) return;
      throw new Error(`${s.name} /health: HTTP ${r.status} ${await r.text()}`);
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // connection refused: not up yet
    }
    if (Date.now() > deadline) throw new Error(`${s.name} did not answer within the deadline:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const file = parseSafetensors(readFileSync(fixture));
const input = file.tensors.get('input')!;
const expected = file.tensors.get('expected.logits')!;
const inputBody = serializeSafetensors({ input: { shape: [...input.shape], data: input.data as Float32Array, dtype: 'F32' } });
const rawBody = new Uint8Array((input.data as Float32Array).slice().buffer); // little-endian hosts

const post = (s: Server, body: Uint8Array | string, query = '') =>
  fetch(`${s.url}/v1/infer${query}`, { method: 'POST', body: body as BodyInit, headers: { 'content-type': 'application/octet-stream' } });
/** The response body without the timing field (the only part allowed to differ between runtimes). */
const stripMs = (text: string) => text.replace(/,"ms":[-0-9.e+]+\}$/, '}');

/**
 * POST /v1/infer over a raw socket with the given length header, then up to `mib` chunks of 1 MiB (chunked encoding
 * when asked) until the server answers; resolves with the status, the JSON object of the answer and the MiB sent.
 */
function rawPost(base: string, lengthHeader: string, mib: number): Promise<{ status: number; json: string; sentMiB: number }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname);
    let buf = '', sent = 0, answered = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer; got ${JSON.stringify(buf.slice(0, 200))}`)); }, 15_000);
    const settle = () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf), j = /\{"error":.*?"\}/.exec(buf);
      if (!m || !j) return false;
      answered = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status: Number(m[1]), json: j[0], sentMiB: sent });
      return true;
    };
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => { buf += d; settle(); });
    sock.on('error', () => { /* EPIPE / ECONNRESET once the server has answered and closed */ });
    // A server that answers without reading the whole body closes a socket with unread data: the kernel then sends a
    // reset, which can discard the answer before this side reads it (status 0; the caller retries).
    sock.on('close', () => { if (!answered && !settle()) { clearTimeout(timer); resolve({ status: 0, json: '', sentMiB: sent }); } });
    sock.write(`POST /v1/infer?shape=1,1 HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/octet-stream\r\n${lengthHeader}\r\nconnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(1 << 20);
    const chunked = lengthHeader.startsWith('transfer-encoding');
    const pump = () => {
      if (answered || sock.destroyed || sent >= mib) return;
      sent++;
      if (chunked) sock.write(`${chunk.length.toString(16)}\r\n`);
      sock.write(chunk);
      if (chunked) sock.write('\r\n');
      setTimeout(pump, 5);
    };
    pump();
  });
}

let workerd: Server, deno: Server;
const timings: Record<string, number> = {};

beforeAll(async () => {
  const t0 = performance.now();
  const [wPort, dPort] = [await freePort(), await freePort()];
  execFileSync(process.execPath, [join(repo, 'examples/workerd/build.mjs'), '--port', String(wPort)], { stdio: 'pipe' });
  timings.build = performance.now() - t0;
  try {
    const t1 = performance.now();
    workerd = start('workerd', workerdBinary(), ['serve', join(dist, 'config.capnp')], wPort);
    deno = start('deno', join(repo, 'node_modules/.bin/deno'),
      ['run', '--no-config', '--allow-read', '--allow-net=127.0.0.1', '--allow-env=PORT', join(repo, 'examples/deno/server.ts')], dPort,
      { PORT: String(dPort), DENO_NO_UPDATE_CHECK: '1', DENO_NO_PACKAGE_JSON: '1', NO_COLOR: '1' });
    const deadline = Date.now() + 15_000;
    await Promise.all([waitReady(workerd, deadline), waitReady(deno, deadline)]);
    timings.startup = performance.now() - t1;
  } catch (e) {
    await killAll();
    throw e;
  }
}, 25_000);

afterAll(async () => {
  await killAll();
  console.log(`examples timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
});

describe.each(['workerd', 'deno'])('%s example server', (name) => {
  const s = () => (name === 'workerd' ? workerd : deno);

  it('GET /health names the embedded model', async () => {
    const r = await fetch(`${s().url}/health`);
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j).toMatchObject({ ok: true, factory: 'slmu_rnn_ms_conv1d' });
    timings[`${name}.coldStart`] = j.coldStartMs;
  });

  it('POST /v1/infer (safetensors) matches expected.logits at the fixture tolerance', async () => {
    const r = await post(s(), inputBody);
    expect(r.status).toBe(200);
    const j = await r.json();
    expect(j.logits.shape).toEqual([...expected.shape]);
    const exp = expected.data as Float32Array;
    const tol = 1e-4 * Math.max(1, ...Array.from(exp, Math.abs));
    const maxDiff = Math.max(...exp.map((v, i) => Math.abs(v - j.logits.data[i])));
    expect(maxDiff).toBeLessThanOrEqual(tol);
    expect(j.top[0]).toHaveLength(3);
    expect(typeof j.ms).toBe('number');
    timings[`${name}.infer`] = j.ms;
  });

  it('POST /v1/infer logits equal the Node result bit for bit; a JSON body gives the same answer', async () => {
    const core = await init();
    const a = core.arena();
    const ckpt = parseSafetensors(readFileSync(fixture));
    const model = SpikingLMUFormer.fromCheckpoint(a, ckpt, JSON.parse(ckpt.metadata.config), { ignore: (k) => k === 'input' || k.startsWith('expected.') });
    const node = model.forward(a.from(input.data as Float32Array, input.shape)).toArray() as Float32Array;
    a.dispose();
    const j = await (await post(s(), inputBody)).json();
    expect(Float32Array.from(j.logits.data)).toEqual(node);
    expect(Array.from(Float32Array.from(j.logits.data), (v, i) => Object.is(v, node[i])).every(Boolean)).toBe(true);
    const r = await fetch(`${s().url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { shape: input.shape, data: Array.from(input.data as Float32Array) } }) });
    expect(r.status).toBe(200);
    expect(stripMs(await r.text())).toBe(stripMs(await (await post(s(), inputBody)).text()));
    const bad = await fetch(`${s().url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input": {"shape": [2], "data": [1]}}' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/needs 2/);
  });

  it('POST /v1/infer?shape= (raw f32) gives the same answer as the safetensors body', async () => {
    const a = stripMs(await (await post(s(), inputBody)).text());
    const r = await post(s(), rawBody, `?shape=${input.shape.join(',')}`);
    expect(r.status).toBe(200);
    expect(stripMs(await r.text())).toBe(a);
  });

  const nan = (input.data as Float32Array).slice(); nan[5] = NaN;
  const cases: [string, () => Uint8Array | string, string, RegExp][] = [
    ['empty body', () => new Uint8Array(0), '', /empty body/],
    ['truncated safetensors', () => inputBody.subarray(0, inputBody.length - 100), '', /not a valid safetensors/],
    ['garbage bytes', () => 'hello world, not a tensor', '', /not a valid safetensors/],
    ['no "input" tensor', () => serializeSafetensors({ x: { shape: [1], data: new Float32Array(1), dtype: 'F32' } }), '', /no tensor named "input"/],
    ['wrong shape', () => serializeSafetensors({ input: { shape: [2, 64, 16], data: new Float32Array(2048), dtype: 'F32' } }), '', /./],
    ['NaN values (raw)', () => new Uint8Array(nan.buffer), `?shape=${input.shape.join(',')}`, /must be finite/],
    ['raw size / shape mismatch', () => rawBody.subarray(4), `?shape=${input.shape.join(',')}`, /needs/],
    ['bad ?shape=', () => rawBody, '?shape=2,x', /positive integers/],
  ];
  it.each(cases)('%s → 4xx JSON with a one-line error', async (_label, body, query, re) => {
    const r = await post(s(), body(), query);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const j = await r.json();
    expect(Object.keys(j)).toEqual(['error']);
    expect(j.error).toMatch(re);
    expect(j.error).not.toMatch(/\n|\s+at\s+\S+\s*\(/);
  });

  // Input validation (docs/input-validation.md): every bad body is a 4xx one-line JSON error, and the model answers
  // the next good request with the same bytes as before.
  const shapeQ = `?shape=${input.shape.join(',')}`;
  const inf = (input.data as Float32Array).slice(); inf[100] = -Infinity;
  const jsonOf = (data: string) => `{"input": {"shape": [1, 2], "data": ${data}}}`;
  const deep = `${'['.repeat(200_000)}1${']'.repeat(200_000)}`;
  const bad: [string, string, () => Uint8Array | string, string, number, RegExp][] = [
    // [what, content-type, body, query, status, error]
    ['JSON 1e999 (parses as Infinity)', 'application/json', () => jsonOf('[1e999, 0]'), '', 400, /input\.data\[0\] is Infinity; inputs must be finite/],
    ['JSON -1e999', 'application/json', () => jsonOf('[[0, -1e999]]'), '', 400, /input\.data\[0\]\[1\] is -Infinity; inputs must be finite/],
    ['JSON 1e39 (overflows float32)', 'application/json', () => jsonOf('[0, 1e39]'), '', 400, /input\.data\[1\] is 1e\+39, outside the float32 range/],
    ['JSON null element', 'application/json', () => jsonOf('[0, null]'), '', 400, /input\.data\[1\] is null, not a number/],
    ['JSON string element', 'application/json', () => jsonOf('["0", 1]'), '', 400, /input\.data\[0\] is string, not a number/],
    ['JSON nested rows of the wrong length', 'application/json', () => jsonOf('[[0, 1, 2]]'), '', 400, /input\.data\[0\] has 3 entries; shape \[1,2\] needs 2 on axis 1/],
    ['JSON too many values', 'application/json', () => jsonOf('[0, 1, 2]'), '', 400, /input\.data has 3 entries; shape \[1,2\] needs 1 on axis 0/],
    ['JSON nested 200,000 deep', 'application/json', () => `{"input": {"shape": [1], "data": ${deep}}}`, '', 400, /./],
    ['JSON shape with a negative size', 'application/json', () => '{"input": {"shape": [-2, 128, 16], "data": []}}', '', 400, /expected 1 to 8 positive integers/],
    ['JSON shape with a fractional size', 'application/json', () => '{"input": {"shape": [1.5, 128, 16], "data": []}}', '', 400, /expected 1 to 8 positive integers/],
    ['JSON shape of 2^60 elements', 'application/json', () => '{"input": {"shape": [1073741824, 1073741824], "data": []}}', '', 400, /more than a \d+-byte body can carry/],
    ['JSON that is not an object', 'application/json', () => '[1, 2, 3]', '', 400, /JSON body must be/],
    ['invalid JSON', 'application/json', () => '{"input": ', '', 400, /not valid UTF-8 JSON/],
    ['JSON of the wrong shape for the model', 'application/json', () => `{"input": {"shape": [1, 128, 15], "data": ${JSON.stringify(new Array(128 * 15).fill(0))}}}`, '', 422, /input expected f32 \[B, 128, 16\] = \[B, N, in_channels\], got f32 \[1, 128, 15\]/],
    ['-Infinity (raw f32)', 'application/octet-stream', () => new Uint8Array(inf.buffer), shapeQ, 400, /input\[100\] is -Infinity; inputs must be finite/],
    ['Infinity (safetensors)', 'application/octet-stream', () => serializeSafetensors({ input: { shape: [...input.shape], data: inf, dtype: 'F32' } }), '', 400, /SafetensorsNonFinite|is -Infinity/],
    ['batch over the limit', 'application/octet-stream', () => new Uint8Array(9 * 128 * 16 * 4), '?shape=9,128,16', 422, /batch 9 exceeds this endpoint's limit of 8/],
    ['?shape= with a negative size', 'application/octet-stream', () => rawBody, '?shape=-2,128,16', 400, /positive integers/],
    ['?shape= with 1e3', 'application/octet-stream', () => rawBody, '?shape=1e3', 400, /positive integers/],
    ['content-type text/plain', 'text/plain', () => inputBody, '', 415, /content-type "text\/plain" is not accepted/],
    ['content-type multipart/form-data', 'multipart/form-data; boundary=x', () => inputBody, '', 415, /content-type "multipart\/form-data" is not accepted/],
    ['curl\'s default form content-type', 'application/x-www-form-urlencoded', () => inputBody, '', 415, /curl --data-binary/],
  ];
  it.each(bad)('%s → the 4xx one-line JSON error, then a good input gives the same bytes as before', async (_what, type, body, query, status, re) => {
    const before = stripMs(await (await post(s(), inputBody)).text());
    const r = await fetch(`${s().url}/v1/infer${query}`, { method: 'POST', body: body() as BodyInit, headers: { 'content-type': type } });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    const text = await r.text();
    expect(text).not.toMatch(/\\n|\s+at\s+\S+\s*\(/);
    const j = JSON.parse(text);
    expect(Object.keys(j)).toEqual(['error']);
    expect(j.error).toMatch(re);
    expect(stripMs(await (await post(s(), inputBody)).text())).toBe(before);
  });

  it('oversized bodies → 413: by content-length, and chunked without one (the read stops at the limit)', async () => {
    // raw HTTP/1.1: the server answers while the client is still sending (fetch would fail with EPIPE on the write)
    // Every attempt ends (answer or reset) before the whole 40 MiB is sent; up to 5 attempts to read the answer itself.
    const answer = async (header: string, mib: number) => {
      let r = { status: 0, json: '', sentMiB: 0 };
      for (let i = 0; i < 5 && r.status === 0; i++) {
        r = await rawPost(s().url, header, mib);
        if (mib > 0) expect(r.sentMiB).toBeLessThan(mib); // it did not wait for the whole body
      }
      return r;
    };
    const declared = await answer(`content-length: ${(16 << 20) + 1}`, 0);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.json).error).toMatch(/exceeds 16777216/);
    const chunked = await answer('transfer-encoding: chunked', 40);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.json).error).toMatch(/exceeds 16777216/);
    expect((await post(s(), inputBody)).status).toBe(200);
  });

  it('unknown route → 404, wrong method → 405 (JSON)', async () => {
    const a = await fetch(`${s().url}/nope`);
    expect(a.status).toBe(404);
    expect(await a.json()).toHaveProperty('error');
    const b = await fetch(`${s().url}/v1/infer`);
    expect(b.status).toBe(405);
    expect(await b.json()).toHaveProperty('error');
  });
});

describe('workerd and Deno agree', () => {
  it('return identical bytes (except the timing) for the same input', async () => {
    for (const [body, q] of [[inputBody, ''], [rawBody, `?shape=${input.shape.join(',')}`]] as const) {
      const [a, b] = await Promise.all([post(workerd, body, q), post(deno, body, q)]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      const [ta, tb] = [await a.text(), await b.text()];
      expect(stripMs(ta)).toBe(stripMs(tb));
      expect(stripMs(ta)).not.toBe(ta); // the ms field was really there and stripped
    }
    const bad = inputBody.subarray(0, 50);
    const [a, b] = await Promise.all([post(workerd, bad), post(deno, bad)]);
    expect([a.status, await a.text()]).toEqual([b.status, await b.text()]);
  });
});
