// Builds build/spikewasm.wasm (baseline SIMD128; no relaxed SIMD, see README) with AssemblyScript.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync(join(root, 'build'), { recursive: true });
const out = join(root, 'build', 'spikewasm.wasm');
execFileSync(process.execPath, [
  asc, 'assembly/index.ts',
  '--outFile', out,
  '--textFile', join(root, 'build', 'spikewasm.wat'),
  '-O3', '--converge', '--noAssert',
  '--enable', 'simd',
  '--runtime', 'stub',
  '--use', 'abort=',
  '--initialMemory', '2',
], { cwd: root, stdio: 'inherit' });
console.log(`build/spikewasm.wasm: ${statSync(out).size} bytes`);
