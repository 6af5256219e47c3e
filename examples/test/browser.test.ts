// End-to-end test of examples/browser in headless Chromium: builds the page (examples/browser/build.mjs), serves
// dist/ on a free 127.0.0.1 port, streams a held-out digit and a mouse-drawn digit through the page, and checks the
// page's final logits against the same model in Node (package API), float32 bit for bit. Saves the page as
// examples/browser/dist/screenshot.png (UPDATE_SCREENSHOT=1: as the committed examples/browser/screenshot.png).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { init, parseSafetensors } from '@spikewasm/core-wasm';
import { PsMnistLMU } from '@spikewasm/lmu';
import { loadMnistSplit, permuteDigits, PIXELS } from '@spikewasm/psmnist/node';
import { launchChromium, serveDirectory, type StaticServer } from '../browser/harness.js';
import { toMnist, SIDE, BOX } from '../browser/preprocess.js';
import type { StreamResult } from '../browser/app.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const here = join(repo, 'examples/browser');
const dist = join(here, 'dist');
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? join(here, 'screenshot.png') : join(here, 'dist/screenshot.png');
/** digits.json index streamed through the page: the first held-out 3. */
const PICK = 6;

interface Digits { digits: { label: number; heldOutIndex: number; pixels: number[] }[] }
const digits = (JSON.parse(readFileSync(join(here, 'digits.json'), 'utf8')) as Digits).digits;

let server: StaticServer | undefined, browser: Browser | undefined, page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(here, 'build.mjs')], { stdio: 'pipe' });
  server = await serveDirectory(dist);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 560 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  await page.goto(`${server.origin}/`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 45_000 });
  const state = await page.evaluate(() => [document.body.dataset.state, document.getElementById('status')!.textContent]);
  if (state[0] !== 'ready') throw new Error(`page did not load: ${state[1]}\n${pageErrors.join('\n')}`);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

/** The checkpoint the page fetched, run in Node through the package API: streamed logits and the parallel forward. */
async function nodeLogits(pixels: Float32Array): Promise<{ stream: Float32Array; forward: Float32Array }> {
  const core = await init();
  const arena = core.arena();
  try {
    const file = parseSafetensors(readFileSync(join(dist, 'model.safetensors')));
    const perm = file.tensors.get('permutation')!.data as Int32Array;
    const model = PsMnistLMU.fromCheckpoint(arena, file, JSON.parse(file.metadata.config!), { ignore: (k) => k === 'permutation', lmuMode: 'fir' });
    const seq = permuteDigits(pixels, perm);
    const s = model.stream(1);
    for (let t = 0; t < PIXELS; t++) s.push(seq.subarray(t, t + 1));
    return { stream: s.logits.f32.slice(), forward: model.forward(seq).f32.slice() };
  } finally {
    arena.dispose();
  }
}

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

/** Waits for the run started by `click` to finish; returns the page's result. */
async function runOnPage(click: () => Promise<void>): Promise<StreamResult> {
  await page.evaluate(() => { document.body.dataset.state = 'ready'; });
  await click();
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 45_000 });
  const r = await page.evaluate(() => (window as unknown as { psmnist: { result: StreamResult } }).psmnist.result);
  expect(await page.evaluate(() => document.body.dataset.state), pageErrors.join('\n')).toBe('done');
  return r;
}

describe('examples/browser', () => {
  it('digits.json holds 2 held-out digits per class, equal to the split', () => {
    const { heldOut } = loadMnistSplit();
    expect(digits.map((d) => d.label)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    for (const d of digits) {
      expect(heldOut.labels[d.heldOutIndex]).toBe(d.label);
      expect(Float32Array.from(d.pixels)).toEqual(heldOut.images.subarray(d.heldOutIndex * PIXELS, (d.heldOutIndex + 1) * PIXELS));
    }
  });

  it('streams a held-out digit; the final logits equal Node\'s bit for bit; screenshot', async () => {
    const d = digits[PICK];
    await page.selectOption('#speed', '0');
    await page.selectOption('#digit', String(PICK));
    const r = await runOnPage(() => page.click('#stream-digit'));
    const node = await nodeLogits(Float32Array.from(d.pixels));
    expect(r.source).toBe(`held-out #${d.heldOutIndex}`);
    expect(r.steps).toBe(PIXELS);
    expect(r.logitsBits).toEqual(bits(node.stream));
    expect(r.logitsBits).toEqual(bits(node.forward)); // the streamed prefix at t = 784 is the parallel 'fir' forward
    const nodePred = node.stream.indexOf(Math.max(...node.stream));
    expect(r.pred).toBe(nodePred);
    expect(await page.evaluate(() => document.body.dataset.pred)).toBe(String(nodePred));
    expect(r.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(r.probs.indexOf(Math.max(...r.probs))).toBe(nodePred);
    expect(await page.textContent('#count')).toBe(`${PIXELS} / ${PIXELS}`);
    console.log(`browser example: held-out #${d.heldOutIndex} (label ${d.label}) → ${r.pred}; ` +
      `Chromium ${browser!.version()}: ${r.msPerStep.toFixed(3)} ms per pixel (d = ${(await page.evaluate(() => (window as unknown as { psmnist: { config: { memory_size: number } } }).psmnist.config.memory_size))})`);
    await page.selectOption('#speed', '8');
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a digit drawn with the mouse is centred in 28 × 28 and streamed; logits equal Node\'s bit for bit', async () => {
    await page.click('#clear');
    const box = (await page.locator('#draw').boundingBox())!;
    // A "7", drawn off-centre in the top-left part of the canvas.
    const pts = [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]].map(([x, y]) => [box.x + x * box.width, box.y + y * box.height]);
    await page.mouse.move(pts[0][0], pts[0][1]);
    await page.mouse.down();
    for (const [x, y] of pts.slice(1)) await page.mouse.move(x, y, { steps: 12 });
    await page.mouse.up();
    const r = await runOnPage(() => page.click('#stream-drawing'));
    expect(r.source).toBe('your drawing');
    const px = Float32Array.from(r.pixels);
    expect(Math.max(...px)).toBe(1);
    expect(Math.min(...px)).toBe(0);
    const { cx, cy, rows, cols } = moments(px);
    expect(Math.abs(cx - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(cy - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.max(rows, cols)).toBe(BOX);
    const node = await nodeLogits(px);
    expect(r.logitsBits).toEqual(bits(node.stream));
    console.log(`browser example: a 7 drawn with the mouse → ${r.pred} (p = ${r.probs[r.pred].toFixed(3)})`);
  });
});

/** Centre of mass and the ink's bounding-box size of a 28 × 28 digit. */
function moments(px: Float32Array): { cx: number; cy: number; rows: number; cols: number } {
  let m = 0, cx = 0, cy = 0, x0 = SIDE, x1 = -1, y0 = SIDE, y1 = -1;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = px[y * SIDE + x];
      m += v; cx += v * x; cy += v * y;
      if (v > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  return { cx: cx / m, cy: cy / m, rows: y1 - y0 + 1, cols: x1 - x0 + 1 };
}

describe('toMnist (drawing → 28 × 28)', () => {
  it('scales an off-centre blob to a 20-pixel box centred by mass; empty stays empty', () => {
    const w = 100, h = 80, g = new Float32Array(w * h);
    for (let y = 5; y < 45; y++) for (let x = 10; x < 20; x++) g[y * w + x] = 0.5; // a 10 × 40 bar, top-left
    const out = toMnist(g, w, h);
    const { cx, cy, rows, cols } = moments(out);
    expect(rows).toBe(BOX);
    expect(cols).toBe(5);
    expect(Math.abs(cx - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...out)).toBe(1);
    expect(toMnist(new Float32Array(w * h), w, h).every((v) => v === 0)).toBe(true);
  });
});
