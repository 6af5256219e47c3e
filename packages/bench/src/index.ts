// @spikewasm/bench: the cross-runtime benchmark suite (ours vs tfjs-backend-wasm, onnxruntime-web and plain JS).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { machine, runRuntimes, wasmSizes, REPO, type DriverEvent, type DriverOptions, type RuntimeFailure } from './driver.js';
import { markdown, svgChart } from './report.js';
import type { RuntimeResult } from './suite.js';

export { RUNTIMES, runRuntimes, machine, wasmSizes, type RuntimeName, type DriverOptions, type DriverEvent, type RuntimeFailure, type Machine, type WasmSize } from './driver.js';
export { runSuite, selectCases, compareOutputs, measure, type SuiteOptions, type RuntimeResult, type CaseResult, type BenchEvent, type Host } from './suite.js';
export { caseList, IMPLS, type BenchCase, type ImplName } from './cases.js';
export { markdown, svgChart, textTable, runtimeTable, summaryTable, checkNotes, ratio, fmtTime } from './report.js';
export { encodeModel, type OnnxGraph, type OnnxNode } from './onnx.js';

export interface BenchmarkOutput { results: RuntimeResult[]; failures: RuntimeFailure[]; files: string[] }

/**
 * Runs the suite in the requested runtimes and, if `output` is given, writes it (markdown) with the chart beside it
 * (`docs/benchmarks.svg` when the output is the repository's BENCHMARKS.md, else `<output>.svg`) and the raw results
 * (`packages/bench/results.json`, else `<output>.json`).
 * @example await benchmark({ runtimes: ['node'], quick: true }, 'BENCHMARKS.md', 'spikewasm bench')
 */
export async function benchmark(opts: DriverOptions, output: string | undefined, command: string, onEvent?: (e: DriverEvent) => void): Promise<BenchmarkOutput> {
  const { results, failures } = await runRuntimes(opts, onEvent);
  const files: string[] = [];
  if (output) {
    const md = resolve(output);
    const repoDefault = md === resolve(REPO, 'BENCHMARKS.md');
    const svg = repoDefault ? resolve(REPO, 'docs/benchmarks.svg') : md.replace(/(\.md)?$/, '.svg');
    const json = repoDefault ? resolve(REPO, 'packages/bench/results.json') : md.replace(/(\.md)?$/, '.json');
    mkdirSync(dirname(svg), { recursive: true });
    const m = machine();
    writeFileSync(svg, svgChart(results));
    writeFileSync(md, markdown({ results, failures, machine: m, wasm: wasmSizes(), command, quick: opts.quick, svgPath: relative(dirname(md), svg) }));
    writeFileSync(json, `${JSON.stringify({ machine: m, options: opts, results, failures }, null, 1)}\n`);
    files.push(md, svg, json);
  }
  return { results, failures, files };
}
