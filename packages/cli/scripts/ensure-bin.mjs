// npm `prepare` step of @spikewasm/cli. npm links a workspace's bin (node_modules/.bin/spikewasm → dist/cli.js) only
// if the target file exists when `npm install` / `npm ci` runs (bin-links skips missing files), but dist/ is built
// later, by turbo. So on a fresh checkout this writes a placeholder dist/cli.js, which lets npm create the link; the
// build (tsc) then replaces it with the compiled src/cli.ts. An existing dist/cli.js is left alone.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';

const target = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(target)) {
  mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
  writeFileSync(target, `#!/usr/bin/env node
// Placeholder written by scripts/ensure-bin.mjs (npm prepare); the build replaces it with the compiled src/cli.ts.
process.stderr.write('spikewasm: the CLI is not built yet: run \`npx turbo run build\` in the repository root\\n');
process.exitCode = 1;
`);
}
chmodSync(target, 0o755);
