// The page: loads the Wasm through the package loader and the psMNIST checkpoint with fetch, then streams a digit
// (a held-out one from digits.json, or a drawing downsampled to 28 × 28) one permuted pixel at a time, drawing the
// class probabilities every animation frame. The state of the last run is exposed for tests as `window.psmnist` and
// as data attributes of <body> (data-state: loading | ready | streaming | done | error).
import { init } from '@spikewasm/core-wasm';
import type { PsMnistLMUStream } from '@spikewasm/lmu';
import { loadModelFile, PIXELS } from '@spikewasm/psmnist';
import { argmax, f32Bits, pushSteps, softmax, type LoadedPsMnist } from './model.js';
import { SIDE, toMnist } from './preprocess.js';

/** Files next to index.html (build.mjs copies them into dist/). */
const WASM_URL = './spikewasm.wasm';
const MODEL_URL = './model.safetensors';
const DIGITS_URL = './digits.json';
/** With speed "as fast as it runs": push pixels for this long per animation frame, then render. */
const FRAME_BUDGET_MS = 12;

interface HeldOutDigit { label: number; heldOutIndex: number; pixels: number[] }

/** The outcome of a streamed digit (also while streaming: the prefix so far). */
export interface StreamResult {
  source: string;
  label: number | null;
  steps: number;
  logits: number[];
  /** The float32 bit patterns of `logits`. */
  logitsBits: number[];
  probs: number[];
  pred: number;
  /** Mean wall time of one push (one pixel) over this run. */
  msPerStep: number;
  /** The 784 unpermuted pixels streamed (row-major 28 × 28, in [0, 1]). */
  pixels: number[];
}

interface PageApi {
  config?: LoadedPsMnist['config'];
  loadMs?: number;
  result: StreamResult | null;
  /** Streams held-out digit `i` of digits.json (as the Stream button does); resolves when all 784 pixels are in. */
  streamHeldOut(i: number): Promise<StreamResult>;
  /** Streams 784 unpermuted pixels in [0, 1]. */
  streamPixels(pixels: ArrayLike<number>, source?: string): Promise<StreamResult>;
}
declare global { interface Window { psmnist: PageApi } }

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const body = document.body;
const status = $<HTMLParagraphElement>('status');
const setState = (s: string) => { body.dataset.state = s; };

const api: PageApi = {
  result: null,
  streamHeldOut: () => Promise.reject(new Error('not loaded yet')),
  streamPixels: () => Promise.reject(new Error('not loaded yet')),
};
window.psmnist = api;

// ── rendering ────────────────────────────────────────────────────────────────────────────────────────────────────
function paintDigit(canvas: HTMLCanvasElement, pixels: ArrayLike<number>, seen?: Uint8Array): void {
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(SIDE, SIDE);
  for (let p = 0; p < PIXELS; p++) {
    const g = Math.round(255 * pixels[p]);
    const unseen = seen && !seen[p];
    img.data.set(unseen ? [12, 26, 40, 255] : [g, g, g, 255], p * 4);
  }
  ctx.putImageData(img, 0, 0);
}

const bars = $<HTMLDivElement>('bars');
const barRows = Array.from({ length: 10 }, (_, c) => {
  const label = document.createElement('span'); label.textContent = String(c);
  const bar = document.createElement('div'); bar.className = 'bar';
  const fill = document.createElement('div'); bar.append(fill);
  const pct = document.createElement('span'); pct.textContent = '—';
  bars.append(label, bar, pct);
  return { label, fill, pct };
});

function paintProbs(probs: number[] | null, pred: number | null): void {
  barRows.forEach((r, c) => {
    const p = probs ? probs[c] : 0;
    r.fill.style.width = `${(100 * p).toFixed(1)}%`;
    r.pct.textContent = probs ? `${(100 * p).toFixed(1)}%` : '—';
    for (const el of [r.label, r.fill.parentElement!, r.pct]) el.classList.toggle('top', c === pred);
  });
  $('pred').textContent = pred === null ? '' : String(pred);
}

const progress = $<HTMLProgressElement>('progress');
const count = $<HTMLSpanElement>('count');
const seenCanvas = $<HTMLCanvasElement>('seen');
const thumb = $<HTMLCanvasElement>('thumb');

// ── streaming ────────────────────────────────────────────────────────────────────────────────────────────────────
let run = 0;

function streamer(loaded: LoadedPsMnist, stream: PsMnistLMUStream) {
  const perm = loaded.permutation;
  return (pixelsIn: ArrayLike<number>, source: string, label: number | null): Promise<StreamResult> => {
    const id = ++run;
    const pixels = Float32Array.from(pixelsIn);
    if (pixels.length !== PIXELS) return Promise.reject(new Error(`expected ${PIXELS} pixels, got ${pixels.length}`));
    stream.reset();
    const seen = new Uint8Array(PIXELS);
    const one = new Float32Array(1);
    let t = 0, pushMs = 0;
    let logits: Float32Array = new Float32Array(10);
    paintDigit(thumb, pixels);
    setState('streaming');
    status.textContent = `streaming ${source}…`;
    const speed = Number(($<HTMLSelectElement>('speed')).value);
    return new Promise((resolve, reject) => {
      const frame = () => {
        if (id !== run) { reject(new Error('superseded by a newer run')); return; }
        try {
          const t0 = performance.now();
          const end = speed > 0 ? Math.min(PIXELS, t + speed) : PIXELS;
          // Fixed pixels per frame, or as many as fit the frame budget (checked every 8 pixels).
          while (t < end) {
            const to = speed > 0 ? end : Math.min(end, t + 8);
            logits = pushSteps(stream, perm, pixels, t, to, one);
            for (let s = t; s < to; s++) seen[perm[s]] = 1;
            t = to;
            if (speed === 0 && performance.now() - t0 > FRAME_BUDGET_MS) break;
          }
          pushMs += performance.now() - t0;
          const probs = softmax(logits), pred = argmax(logits);
          const result: StreamResult = {
            source, label, steps: t, logits: Array.from(logits), logitsBits: f32Bits(logits), probs, pred, msPerStep: pushMs / t, pixels: Array.from(pixels),
          };
          api.result = result;
          paintDigit(seenCanvas, pixels, seen);
          paintProbs(probs, pred);
          progress.value = t;
          count.textContent = `${t} / ${PIXELS}`;
          if (t < PIXELS) { requestAnimationFrame(frame); return; }
          body.dataset.pred = String(pred);
          status.textContent = `${source}: predicted ${pred}${label === null ? '' : ` (label ${label})`} · ` +
            `${result.msPerStep.toFixed(3)} ms per pixel`;
          setState('done');
          resolve(result);
        } catch (e) {
          fail(e);
          reject(e);
        }
      };
      requestAnimationFrame(frame);
    });
  };
}

function fail(e: unknown): void {
  setState('error');
  status.classList.add('error');
  status.textContent = `error: ${(e as Error).message ?? String(e)}`;
}

// ── drawing ──────────────────────────────────────────────────────────────────────────────────────────────────────
const draw = $<HTMLCanvasElement>('draw');
const dctx = draw.getContext('2d', { willReadFrequently: true })!;
function clearDrawing(): void {
  dctx.fillStyle = '#000';
  dctx.fillRect(0, 0, draw.width, draw.height);
}
clearDrawing();
let last: { x: number; y: number } | null = null;
const at = (e: PointerEvent) => {
  const r = draw.getBoundingClientRect();
  return { x: ((e.clientX - r.left) * draw.width) / r.width, y: ((e.clientY - r.top) * draw.height) / r.height };
};
draw.addEventListener('pointerdown', (e) => { draw.setPointerCapture(e.pointerId); last = at(e); stroke(last, last); });
draw.addEventListener('pointermove', (e) => { if (last) { const p = at(e); stroke(last, p); last = p; } });
for (const ev of ['pointerup', 'pointercancel'] as const) draw.addEventListener(ev, () => { last = null; });
function stroke(a: { x: number; y: number }, b: { x: number; y: number }): void {
  dctx.strokeStyle = '#fff';
  dctx.lineWidth = 22;
  dctx.lineCap = 'round';
  dctx.lineJoin = 'round';
  dctx.beginPath();
  dctx.moveTo(a.x, a.y);
  dctx.lineTo(b.x, b.y);
  dctx.stroke();
}
/** The drawing as 784 MNIST-like pixels (red channel = ink). */
function drawingPixels(): Float32Array {
  const { data } = dctx.getImageData(0, 0, draw.width, draw.height);
  const gray = new Float32Array(draw.width * draw.height);
  for (let i = 0; i < gray.length; i++) gray[i] = data[i * 4] / 255;
  return toMnist(gray, draw.width, draw.height);
}

// ── start ────────────────────────────────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  const t0 = performance.now();
  const [core, modelBytes, digits] = await Promise.all([
    init(new URL(WASM_URL, location.href)),
    fetch(MODEL_URL).then(async (r) => {
      if (!r.ok) throw new Error(`${MODEL_URL}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    }),
    fetch(DIGITS_URL).then(async (r) => {
      if (!r.ok) throw new Error(`${DIGITS_URL}: HTTP ${r.status}`);
      return ((await r.json()) as { digits: HeldOutDigit[] }).digits;
    }),
  ]);
  const loaded: LoadedPsMnist = loadModelFile(core.arena(), modelBytes);
  if (loaded.config.seq_len !== PIXELS) throw new Error(`the model's seq_len is ${loaded.config.seq_len}, not ${PIXELS} pixels`);
  const stream = loaded.model.stream(1);
  const go = streamer(loaded, stream);
  api.config = loaded.config;
  api.loadMs = performance.now() - t0;
  const c = loaded.config;
  $('model').textContent = `Model: psmnist_lmu, d = ${c.memory_size}, hidden ${c.hidden_size}, θ = ${c.theta}, ` +
    `${(modelBytes.length / 2 ** 20).toFixed(1)} MiB, loaded in ${api.loadMs.toFixed(0)} ms.`;

  const select = $<HTMLSelectElement>('digit');
  digits.forEach((d, i) => select.add(new Option(`a ${d.label} (held-out #${d.heldOutIndex})`, String(i))));
  const showPick = () => paintDigit(thumb, digits[Number(select.value)].pixels);
  select.addEventListener('change', showPick);
  showPick();

  api.streamHeldOut = (i) => {
    const d = digits[i];
    if (!d) return Promise.reject(new Error(`no held-out digit ${i} (there are ${digits.length})`));
    return go(d.pixels, `held-out #${d.heldOutIndex}`, d.label);
  };
  api.streamPixels = (pixels, source = 'pixels') => go(pixels, source, null);
  const guard = (p: Promise<unknown>) => p.catch((e: Error) => { if (!/superseded/.test(e.message)) console.error(e); });
  $('stream-digit').addEventListener('click', () => guard(api.streamHeldOut(Number(select.value))));
  $('stream-drawing').addEventListener('click', () => guard(go(drawingPixels(), 'your drawing', null)));
  $('clear').addEventListener('click', clearDrawing);
  for (const id of ['stream-digit', 'stream-drawing']) ($<HTMLButtonElement>(id)).disabled = false;
  paintProbs(null, null);
  paintDigit(seenCanvas, new Float32Array(PIXELS), new Uint8Array(PIXELS));
  status.textContent = 'ready: pick a digit or draw one, then stream it.';
  setState('ready');
}

main().catch(fail);
