// Bundles the example with esbuild into examples/workerd/dist/:
//   worker.mjs         the Worker (ES module; imports ./spikewasm.wasm, a `wasm` module, and ./model.safetensors, a `data` module)
//   app.mjs            the runtime-neutral handler (createHandler), imported by ../deno/server.ts
//   spikewasm.wasm     copied from packages/core-wasm/build/
//   model.safetensors  the ONE embedded checkpoint (--model PATH, default the spiking LMUFormer fixture)
//   config.capnp       from config.capnp.in, listening on 127.0.0.1:--port (default 8787)
// Usage: node examples/workerd/build.mjs [--model FILE.safetensors] [--port N]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const dist = join(here, 'dist');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(repo, '../shared/fixtures/lmuformer_spiking_small.safetensors') },
    port: { type: 'string', default: '8787' },
  },
});
if (!/^\d+$/.test(values.port)) throw new Error(`--port must be a number, got ${values.port}`);

mkdirSync(dist, { recursive: true });
copyFileSync(join(repo, 'packages/core-wasm/build/spikewasm.wasm'), join(dist, 'spikewasm.wasm'));
copyFileSync(values.model, join(dist, 'model.safetensors'));
writeFileSync(join(dist, 'config.capnp'), readFileSync(join(here, 'config.capnp.in'), 'utf8').replaceAll('@PORT@', values.port));

const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  resolveExtensions: ['.ts', '.js', '.mjs'],
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: here,
  alias: {
    '@spikewasm/core-wasm': join(repo, 'packages/core-wasm/src/index.ts'),
    '@spikewasm/spiking': join(repo, 'packages/spiking/src/index.ts'),
    '@spikewasm/lmu': join(repo, 'packages/lmu/src/index.ts'),
    '@spikewasm/spikformer': join(repo, 'packages/spikformer/src/index.ts'),
  },
};
/** The .wasm import becomes an external `./spikewasm.wasm`, a `wasm` module in the capnp config. */
const wasmExternal = {
  name: 'wasm-external',
  setup(b) { b.onResolve({ filter: /\.wasm$/ }, () => ({ path: './spikewasm.wasm', external: true })); },
};
const outputs = [
  { entryPoints: [join(here, 'worker.ts')], outfile: join(dist, 'worker.mjs'), plugins: [wasmExternal] },
  { entryPoints: [join(here, 'app.ts')], outfile: join(dist, 'app.mjs') },
];
await Promise.all(outputs.map((o) => build({ ...common, ...o })));
for (const f of ['worker.mjs', 'app.mjs', 'spikewasm.wasm', 'model.safetensors', 'config.capnp']) {
  console.log(`${relative(repo, join(dist, f))}: ${statSync(join(dist, f)).size} bytes`);
}
