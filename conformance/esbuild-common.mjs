// esbuild settings shared by the bundles built from the packages' TypeScript sources (conformance/build.mjs and
// packages/bench): @spikewasm/* aliased to packages/*/src, ESM, and a plugin that leaves a .wasm import to the
// runtime (workerd provides it as a `wasm` module).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Options for esbuild's build(): neutral platform, the package sources instead of their dist/. */
export function esbuildCommon(absWorkingDir, platform = 'neutral') {
  return {
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    // The TypeScript sources import './x.js'; platform neutral has no default extensions or main fields.
    resolveExtensions: ['.ts', '.js', '.mjs'],
    mainFields: ['module', 'main'],
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir,
    alias: {
      '@spikewasm/core-wasm/oracle': join(REPO, 'packages/core-wasm/src/oracle.ts'),
      '@spikewasm/core-wasm': join(REPO, 'packages/core-wasm/src/index.ts'),
      '@spikewasm/spiking': join(REPO, 'packages/spiking/src/index.ts'),
      '@spikewasm/lmu': join(REPO, 'packages/lmu/src/index.ts'),
      '@spikewasm/spikformer': join(REPO, 'packages/spikformer/src/index.ts'),
    },
  };
}

/** The .wasm import becomes an external `./<name>` (default spikewasm.wasm), provided by workerd's config. */
export function wasmExternal(name = 'spikewasm.wasm') {
  return {
    name: 'wasm-external',
    setup(b) {
      b.onResolve({ filter: /\.wasm$/ }, () => ({ path: `./${name}`, external: true }));
    },
  };
}
