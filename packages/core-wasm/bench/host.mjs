// Host facts the per-package benchmark scripts print (shared by core-wasm, lmu and spikformer bench/run.mjs).
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The CPU model name (/proc/cpuinfo on Linux, else os.cpus()). */
export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** The current clock of the first CPU in MHz, if known. */
export function cpuMHz() {
  try {
    const m = /^cpu MHz\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return os.cpus()[0]?.speed || undefined;
}

/** Version of an installed package (its package.json is not exported, so walk up from its entry point). */
export function packageVersion(name) {
  try {
    let dir = new URL('.', import.meta.resolve(name));
    for (let i = 0; i < 5; i++, dir = new URL('..', dir)) {
      try {
        const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
        if (pkg.name === name) return pkg.version;
      } catch { /* keep walking */ }
    }
  } catch { /* unresolvable */ }
  return 'unknown';
}

/** What every bench script records about the host (plus its own fields). */
export function hostFacts() {
  return {
    cpu: cpuModel(),
    cpuMHz: cpuMHz(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadavgAtStart: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    v8: process.versions.v8,
    tinybench: packageVersion('tinybench'),
  };
}
