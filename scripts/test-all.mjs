// `npm test` after `turbo run build`: the Node unit tests (vitest), then the cross-runtime conformance suite in
// Node, Deno, headless Chromium, workerd (all V8), headless Firefox (SpiderMonkey) and Bun (JavaScriptCore), compared
// hash by hash. Exits non-zero if vitest failed, a runtime failed, or any hash differs. The last line is
// `N passed, N failed`, counting suites on which all runtimes agree.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'conformance');
const fixtures = resolve(root, '../shared/fixtures');
const RUNNER_TIMEOUT_MS = 90_000;
const started = performance.now();

/** Runs a command; resolves { code, stdout, stderr, ms }. stdio 'inherit' streams to the terminal instead. */
function run(cmd, args, { inherit = false, env, timeoutMs } = {}) {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      detached: !inherit, // own process group, so a timeout can kill the runner and whatever it started
    });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout?.on('data', (d) => { stdout += d; });
    child.stderr?.on('data', (d) => { stderr += d; });
    const timer = timeoutMs && setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutMs);
    child.once('error', (e) => { stderr += `${e.message}\n`; });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n(killed after ${timeoutMs / 1000} s)`;
      done({ code: code ?? 1, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

// (a) Node unit tests.
console.log('\n━━ vitest (Node unit tests) ━━');
const vitest = await run('npx', ['vitest', 'run'], { inherit: true });

// (b) Conformance bundles, then the six runtimes (in parallel: each is a separate process).
console.log('\n━━ cross-runtime conformance ━━');
const bundle = await run(process.execPath, [join(pkg, 'build.mjs')]);
process.stdout.write(bundle.stdout);
if (bundle.code !== 0) process.stderr.write(bundle.stderr);

const RUNTIMES = {
  node: [process.execPath, [join(pkg, 'runtimes/node.mjs')]],
  deno: [join(root, 'node_modules/.bin/deno'), ['run', '--no-config', `--allow-read=${pkg},${fixtures}`, join(pkg, 'runtimes/deno.mjs')],
    { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PACKAGE_JSON: '1', NO_COLOR: '1' }],
  chromium: [process.execPath, [join(pkg, 'runtimes/chromium.mjs')]],
  workerd: [process.execPath, [join(pkg, 'runtimes/workerd.mjs')]],
  firefox: [process.execPath, [join(pkg, 'runtimes/firefox.mjs')]],
  bun: [join(root, 'node_modules/.bin/bun'), [join(pkg, 'runtimes/bun.mjs')], { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', NO_COLOR: '1' }],
};
const names = Object.keys(RUNTIMES);

const results = bundle.code !== 0
  ? names.map((runtime) => ({ runtime, error: 'conformance bundle failed to build' }))
  : await Promise.all(names.map(async (runtime) => {
    const [cmd, args, env] = RUNTIMES[runtime];
    const r = await run(cmd, args, { env, timeoutMs: RUNNER_TIMEOUT_MS });
    const lines = r.stdout.split('\n').filter((l) => l.trim());
    let parsed;
    try { parsed = JSON.parse(lines.at(-1)); } catch { /* reported below */ }
    if (r.code !== 0 || !parsed?.hashes || lines.length !== 1) {
      const why = r.code !== 0 ? `exit code ${r.code}${r.signal ? ` (${r.signal})` : ''}` : 'expected one JSON line on stdout';
      return { runtime, ms: r.ms, error: `${why}\n${[r.stdout, r.stderr].join('\n').trim()}` };
    }
    return { runtime, ms: r.ms, version: parsed.version, hashes: parsed.hashes };
  }));

for (const r of results.filter((x) => x.error)) {
  console.error(`\n✗ ${r.runtime} failed: ${r.error.split('\n').map((l, i) => (i ? `    ${l}` : l)).join('\n')}`);
}

// (c) The table: suites × runtimes, first 12 hex chars, and whether every runtime produced the same hash.
const suites = [...new Set(results.flatMap((r) => Object.keys(r.hashes ?? {})))];
const header = ['suite', ...names, 'same?'];
const rows = suites.map((s) => {
  const hs = results.map((r) => r.hashes?.[s]);
  const same = hs.every((h) => typeof h === 'string' && h === hs[0]);
  return { same, cells: [s, ...hs.map((h) => (h ? h.slice(0, 12) : '—')), same ? '✓' : '✗'] };
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join(' │ ');
console.log(`\n${line(header)}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}`);
for (const r of rows) console.log(line(r.cells));

console.log('\nruntimes:');
for (const r of results) {
  const t = r.ms === undefined ? '' : ` (${(r.ms / 1000).toFixed(1)} s)`;
  console.log(`  ${r.runtime.padEnd(9)} ${r.error ? 'FAILED' : r.version}${t}`);
}

// Hashes that differ: say which runtimes agree with which, so a disagreement is investigated, not hidden.
for (const r of rows.filter((x) => !x.same)) {
  const groups = {};
  results.forEach((res, i) => { (groups[r.cells[i + 1]] ??= []).push(res.runtime); });
  console.log(`  ✗ ${r.cells[0]}: ${Object.entries(groups).map(([h, rs]) => `${rs.join('+')}=${h}`).join(', ')}`);
}

// (d) Exit status, (e) the summary line (last line).
const passed = rows.filter((r) => r.same).length;
const failed = rows.length - passed;
const runtimeFailures = results.filter((r) => r.error).length;
console.log(`\nvitest: ${vitest.code === 0 ? 'passed' : `FAILED (exit code ${vitest.code})`}; runtimes failed: ${runtimeFailures}; ` +
  `total ${((performance.now() - started) / 1000).toFixed(1)} s`);
const ok = vitest.code === 0 && bundle.code === 0 && runtimeFailures === 0 && failed === 0 && rows.length > 0;
process.exitCode = ok ? 0 : 1;
console.log(`${passed} passed, ${failed} failed`);
