// Conformance runner for Bun (JavaScriptCore; node_modules/.bin/bun from the pinned `bun` devDependency): prints one
// JSON line {"runtime","version","hashes"} to stdout; init() reads the wasm through node:fs, which Bun provides.
import { runHere } from './common.mjs';

await runHere('bun', Bun.version);
