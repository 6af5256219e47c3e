// Conformance runner for Node: prints one JSON line {"runtime","version","hashes"} to stdout.
import { runHere } from './common.mjs';

await runHere('node', process.versions.node);
