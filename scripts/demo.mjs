// `npm start`: bundles packages/core-wasm/examples/demo.ts with esbuild and runs it.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}packages/core-wasm/build/demo.mjs`;
await build({
  entryPoints: [`${root}packages/core-wasm/examples/demo.ts`],
  bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'warning',
});
process.argv[2] ??= `${root}../shared/fixtures/`;
await import(pathToFileURL(out).href);
