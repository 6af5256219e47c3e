// Bundles the cross-runtime conformance suite (every package's test/conformance/suite.ts, see entry.ts) with esbuild:
//   conformance/build/conformance.mjs         ESM, platform neutral: Node, Deno, browsers. init() with no argument
//                                             finds build/spikewasm.wasm next to it (copied here), via node:fs for
//                                             file: URLs and fetch otherwise.
//   conformance/build/conformance.worker.mjs  workerd: imports `./spikewasm.wasm` (a `wasm` module in the capnp
//                                             config) and the fixtures as `data` modules; default export { fetch }.
// The packages are bundled from their TypeScript sources (@spikewasm/* aliased to packages/*/src).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { esbuildCommon, wasmExternal } from './esbuild-common.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const repo = join(root, '..');
const outdir = join(root, 'build');
mkdirSync(outdir, { recursive: true });
copyFileSync(join(repo, 'packages/core-wasm/build/spikewasm.wasm'), join(outdir, 'spikewasm.wasm'));

const common = esbuildCommon(root);

const outputs = [
  { entryPoints: [join(root, 'entry.ts')], outfile: join(outdir, 'conformance.mjs') },
  { entryPoints: [join(root, 'worker.ts')], outfile: join(outdir, 'conformance.worker.mjs'), plugins: [wasmExternal()] },
];

await Promise.all(outputs.map((o) => build({ ...common, ...o })));
for (const o of outputs) console.log(`${relative(root, o.outfile)}: ${statSync(o.outfile).size} bytes`);
