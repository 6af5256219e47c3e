// Runtime host for Node and Deno (both resolve the npm packages from node_modules and read files with node:fs):
// `node dist/node-host.js '<options JSON>'` or `deno run -A dist/node-host.js '<options JSON>'` runs the suite in
// this fresh process and writes one JSON event per line to stdout (see suite.ts BenchEvent).
import process from 'node:process';
import { runSuite, type Host, type SuiteOptions } from './suite.js';
import { loadOrtWasm, loadTfWasm } from './peers.js';

declare const Deno: { version: { deno: string; v8: string } } | undefined;

/** The Host of this process: our loader's default (fs), tfjs-backend-wasm and onnxruntime-web from node_modules. */
export function nodeHost(emit: Host['emit']): Host {
  const deno = typeof Deno !== 'undefined';
  return {
    runtime: deno ? 'deno' : 'node',
    version: deno ? Deno!.version.deno : process.versions.node,
    detail: deno ? `V8 ${Deno!.version.v8}` : `V8 ${process.versions.v8}`,
    loadOurs: async () => (await import('@spikewasm/core-wasm')).instantiate(),
    loadTf: () => loadTfWasm(),
    loadOrt: (threads) => loadOrtWasm(threads),
    emit,
  };
}

/** When run as a script: options from argv[2], events to stdout. */
export async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SuiteOptions;
  const write = (e: unknown) => process.stdout.write(`${JSON.stringify(e)}\n`);
  await runSuite(nodeHost(write), options);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().then(() => process.exit(0), (e) => {
    process.stderr.write(`bench host failed: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  });
}
