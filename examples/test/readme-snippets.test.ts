// Runs the fenced blocks of README.md's "Use it from each runtime" section exactly as written (each is marked by an
// HTML comment `<!-- snippet: NAME -->` before its fence): the Node one with node, the Deno one with the npm `deno`
// binary, the workerd one as a Worker module in the real workerd, the browser one in headless Chromium. Each prints
// the top class and its logit per sequence of the psMNIST fixture; the output must equal the package run here in
// Node, line for line, and the classes must be the argmax of the fixture's expected.logits.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, parseSafetensors } from '@spikewasm/core-wasm';
import { PsMnistLMU } from '@spikewasm/lmu';
import { launchChromium, serveDirectory, spawnGroup, startWorkerd } from '../browser/harness.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE_NAME = 'lmuformer_psmnist_nonspiking_small.safetensors';
const fixture = join(repo, '../shared/fixtures', FIXTURE_NAME);
const wasm = join(repo, 'packages/core-wasm/build/spikewasm.wasm');
const RUNTIMES = ['node', 'deno', 'workerd', 'browser'] as const;

/** The marked fenced blocks of README.md, name → code. */
function readmeSnippets(): Map<string, string> {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- snippet: ([\w-]+) -->\n```\w*\n([\s\S]*?)\n```\n/g)) {
    if (out.has(m[1])) throw new Error(`README.md: two snippets named ${m[1]}`);
    out.set(m[1], `${m[2]}\n`);
  }
  return out;
}
const snippets = readmeSnippets();
const code = (name: string) => snippets.get(name)!;

/** What every snippet must print: the package run in this process, in the snippets' format. */
async function expectedLines(): Promise<string[]> {
  const core = await init();
  const arena = core.arena();
  try {
    const file = parseSafetensors(readFileSync(fixture));
    const model = PsMnistLMU.fromCheckpoint(arena, file, JSON.parse(file.metadata.config!), { ignore: (k) => k === 'input' || k.startsWith('expected.') });
    const logits = model.forward(file.tensors.get('input')!.data as Float32Array);
    const ref = file.tensors.get('expected.logits')!.data as Float32Array;
    const [batch, classes] = logits.shape;
    return Array.from({ length: batch }, (_, b) => {
      const row = Array.from(logits.f32.subarray(b * classes, (b + 1) * classes));
      const want = Array.from(ref.subarray(b * classes, (b + 1) * classes));
      const top = row.indexOf(Math.max(...row));
      // The reference: the fixture's expected logits (float64 computation rounded to float32).
      expect(top).toBe(want.indexOf(Math.max(...want)));
      expect(Math.abs(row[top] - want[top])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(want[top])));
      return `sequence ${b}: class ${top}, logit ${row[top]}`;
    });
  } finally {
    arena.dispose();
  }
}

let expected: string[];
const tmp = mkdtempSync(join(tmpdir(), 'spikewasm-readme-'));
beforeAll(async () => { expected = await expectedLines(); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

/** Bundles a snippet as a user's bundler would (resolved from the repository's node_modules, i.e. the packages' dist). */
async function bundle(name: string, outfile: string, options: { platform: 'browser' | 'neutral'; conditions?: string[]; plugins?: Plugin[] }): Promise<void> {
  await build({
    stdin: { contents: code(name), resolveDir: repo, sourcefile: `${name}.js`, loader: 'js' },
    outfile, bundle: true, format: 'esm', target: 'es2022', logLevel: 'error', mainFields: ['module', 'main'], ...options,
  });
}

describe('README "Use it from each runtime"', () => {
  it('has exactly one marked snippet per runtime', () => {
    expect([...snippets.keys()].sort()).toEqual([...RUNTIMES].sort());
    for (const r of RUNTIMES) expect(code(r)).toMatch(/PsMnistLMU/);
  });

  it('node: prints the top classes of the fixture', async () => {
    const p = spawnGroup(process.execPath, ['--input-type=module'], { cwd: repo, stdin: code('node') });
    expect(await p.exited, p.output()).toBe(0);
    expect(lines(p.stdout())).toEqual(expected);
  });

  it('deno: prints the same', async () => {
    const p = spawnGroup(join(repo, 'node_modules/.bin/deno'), ['run', '--allow-read', '-'], {
      cwd: repo, stdin: code('deno'), env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    expect(await p.exited, p.output()).toBe(0);
    expect(lines(p.stdout())).toEqual(expected);
  });

  it('workerd: the Worker answers the same', async () => {
    const dir = join(tmp, 'workerd');
    const external: Plugin = {
      name: 'workerd-modules',
      setup(b) {
        b.onResolve({ filter: /\.wasm$/ }, () => ({ path: './spikewasm.wasm', external: true }));
        b.onResolve({ filter: /\.safetensors$/ }, (a) => ({ path: a.path, external: true }));
      },
    };
    await bundle('workerd', join(dir, 'worker.mjs'), { platform: 'neutral', conditions: ['workerd'], plugins: [external] });
    copyFileSync(wasm, join(dir, 'spikewasm.wasm'));
    copyFileSync(fixture, join(dir, FIXTURE_NAME));
    const w = await startWorkerd(dir, [
      { name: 'worker.mjs', kind: 'esModule' }, { name: 'spikewasm.wasm', kind: 'wasm' }, { name: FIXTURE_NAME, kind: 'data' },
    ]);
    try {
      const r = await w.fetch('/');
      const text = await r.text();
      expect(r.status, `${text}\n${w.output()}`).toBe(200);
      expect(lines(text)).toEqual(expected);
    } finally {
      await w.stop();
    }
  });

  it('browser: Chromium prints the same to the console', async () => {
    const dir = join(tmp, 'browser');
    await bundle('browser', join(dir, 'app.js'), { platform: 'browser' });
    copyFileSync(wasm, join(dir, 'spikewasm.wasm'));
    copyFileSync(fixture, join(dir, FIXTURE_NAME));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>snippet</title><link rel="icon" href="data:,"><script type="module" src="app.js"></script>\n');
    const server = await serveDirectory(dir);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const logs: string[] = [], errors: string[] = [];
      const done = new Promise<void>((ok, fail) => {
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(m.text());
          else logs.push(m.text());
          if (logs.length >= expected.length) ok();
        });
        page.on('pageerror', (e) => fail(e));
      });
      await page.goto(`${server.origin}/`);
      await done;
      expect(errors).toEqual([]);
      expect(logs).toEqual(expected);
    } finally {
      await browser.close().catch(() => {});
      await server.close();
    }
  });
});
