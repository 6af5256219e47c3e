// Bundles the page with esbuild into examples/browser/dist/ (a static site; serve it with any static server):
//   index.html, app.js   the page (packages bundled from their TypeScript sources, @spikewasm/* → packages/*/src)
//   spikewasm.wasm       copied from packages/core-wasm/build/ (the page passes its URL to init())
//   model.safetensors    the psMNIST checkpoint, MODEL below or --model FILE
//   digits.json          the held-out digits of the picker (make-digits.mjs writes it)
// Usage: node examples/browser/build.mjs [--model FILE.safetensors]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../..');
const dist = join(here, 'dist');

/** The checkpoint the page serves (factory psmnist_lmu; config and permutation in the file). */
export const MODEL = join(repo, 'packages/psmnist/models/psmnist_lmu.safetensors');

const { values } = parseArgs({ options: { model: { type: 'string', default: MODEL } } });

mkdirSync(dist, { recursive: true });
copyFileSync(join(repo, 'packages/core-wasm/build/spikewasm.wasm'), join(dist, 'spikewasm.wasm'));
copyFileSync(values.model, join(dist, 'model.safetensors'));
copyFileSync(join(here, 'digits.json'), join(dist, 'digits.json'));
copyFileSync(join(here, 'index.html'), join(dist, 'index.html'));

await build({
  entryPoints: [join(here, 'app.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  resolveExtensions: ['.ts', '.js', '.mjs'],
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: here,
  alias: Object.fromEntries(['core-wasm', 'spiking', 'lmu', 'psmnist'].map((p) => [`@spikewasm/${p}`, join(repo, `packages/${p}/src/index.ts`)])),
});
for (const f of ['index.html', 'app.js', 'spikewasm.wasm', 'model.safetensors', 'digits.json']) {
  console.log(`${relative(repo, join(dist, f))}: ${statSync(join(dist, f)).size} bytes`);
}
