// Bundles the cross-runtime conformance suite with esbuild:
//   build/conformance.mjs         ESM, platform neutral: Node, Deno, browsers. init() with no argument finds
//                                 build/spikewasm.wasm next to it (node:fs for file: URLs, fetch otherwise).
//   build/conformance.worker.mjs  workerd: imports `./spikewasm.wasm` (a `wasm` module in the capnp config) and
//                                 the fixtures as `data` modules `./fixtures/<name>`; default export { fetch }.
// Requires build/spikewasm.wasm (node scripts/build-wasm.mjs) only at run time, not to bundle.
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'build');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // The TypeScript sources import './x.js'; platform neutral has no default extensions or main fields.
  resolveExtensions: ['.ts', '.js', '.mjs'],
  mainFields: ['module', 'main'],
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

/** The .wasm import becomes an external `./spikewasm.wasm`, provided by workerd's config as a `wasm` module. */
const wasmExternal = {
  name: 'wasm-external',
  setup(b) {
    b.onResolve({ filter: /\.wasm$/ }, (args) => ({ path: './spikewasm.wasm', external: true }));
  },
};

const outputs = [
  { entryPoints: [join(root, 'test/conformance/entry.ts')], outfile: join(outdir, 'conformance.mjs') },
  { entryPoints: [join(root, 'test/conformance/worker.ts')], outfile: join(outdir, 'conformance.worker.mjs'), plugins: [wasmExternal] },
];

await Promise.all(outputs.map((o) => build({ ...common, ...o })));
for (const o of outputs) console.log(`${relative(root, o.outfile)}: ${statSync(o.outfile).size} bytes`);
