// The quick-start job: the golden kernel fixtures (a Spikformer spiking self-attention block, an LMU memory
// trajectory, LIF neurons at exact threshold ties) through the Wasm kernels, compared with the float64 references
// of shared/fixtures, with a readable summary. Run from the repository root: `npm start`.
import { readFileSync } from 'node:fs';
import { init, parseSafetensors } from '../src/index.js';
import { runLifFixture, runLmuFixture, runSsaFixture } from '../test/conformance/pipelines.js';

const dir = process.argv[2] ?? new URL('../../../../shared/fixtures/', import.meta.url).pathname;
const load = (n: string) => parseSafetensors(new Uint8Array(readFileSync(dir + n)));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const equal = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) k++;
  return k;
};
const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};

const t0 = performance.now();
const core = await init();
console.log(`spikewasm kernels on the golden fixtures — ${typeof process !== 'undefined' ? `Node ${process.version}` : ''}, Wasm SIMD128\n`);

const ssaFile = load('kernel_ssa.safetensors');
const [T, B, N, C] = ssaFile.tensors.get('input')!.shape;
const ssa = runSsaFixture(core, ssaFile);
const want = (n: string) => ssaFile.tensors.get(n)!.data as ArrayLike<number>;
console.log(`Spiking self-attention (Spikformer SSA: dim ${C}, 2 heads, T = ${T}, batch ${B}, ${N} tokens)`);
for (const n of ['q', 'k', 'v'] as const) {
  console.log(`  ${n} spikes      ${equal(ssa[n], want(`expected.${n}_lif.spikes`))} / ${ssa[n].length} equal to the reference, firing ${pct(mean(ssa[n]))}`);
}
console.log(`  Q·Kᵀ counts    ${equal(ssa.scores, want('expected.attn_scores'))} / ${ssa.scores.length} exact (AND + popcount on packed bits)`);
console.log(`  (Q·Kᵀ)·V       ${equal(ssa.qkV, want('expected.qk_v'))} / ${ssa.qkV.length} exact; Q·(Kᵀ·V) identical: ${equal(ssa.qkV, ssa.qkVAlt) === ssa.qkV.length ? 'yes' : 'NO'}`);
const tieIdx = Array.from(ssa.attnMargin.keys()).filter((i) => ssa.attnMargin[i] === 0);
const fired = tieIdx.filter((i) => ssa.attnSpikes[i] === 1).length;
console.log(`  attn spikes    ${equal(ssa.attnSpikes, want('expected.attn_lif.spikes'))} / ${ssa.attnSpikes.length} equal (${tieIdx.length} exact ties at V_th = 0.5, ${fired} fired)`);
console.log(`  block output   ${equal(ssa.output, want('expected.output'))} / ${ssa.output.length} spikes equal, firing ${pct(mean(ssa.output))}\n`);

const lmuFile = load('kernel_lmu_matrices.safetensors');
const lmu = runLmuFixture(core, lmuFile);
const mem = lmuFile.tensors.get('expected.memory')!.data as Float64Array;
let er = 0, ef = 0;
for (let i = 0; i < mem.length; i++) { er = Math.max(er, Math.abs(lmu.recurrent[i] - mem[i])); ef = Math.max(ef, Math.abs(lmu.fir[i] - mem[i])); }
console.log(`LMU memory (order ${lmu.shape[2]}, θ = 128, ${lmu.shape[0]} sequences × ${lmu.shape[1]} steps, float32)`);
console.log(`  recurrence m ← Ā m + B̄ u   max |error| ${er.toExponential(2)} vs the float64 trajectory`);
console.log(`  FIR (parallel form)         max |error| ${ef.toExponential(2)}\n`);

const lifFile = load('kernel_lif.safetensors');
const lif = runLifFixture(core, lifFile);
console.log('LIF (spikingjelly MultiStepLIFNode, 64 neurons × 16 steps)');
for (const [cfg, r] of Object.entries(lif)) {
  const s = lifFile.tensors.get(`expected.${cfg}.spikes`)!.data as Uint8Array;
  const h = lifFile.tensors.get(`expected.${cfg}.h`)!.data as Float32Array;
  const bitExact = equal(new Uint32Array(r.h.buffer), new Uint32Array(h.buffer.slice(h.byteOffset, h.byteOffset + h.byteLength)));
  console.log(`  ${cfg.padEnd(7)} spikes ${equal(r.spikes, s)} / ${s.length} equal, membrane ${bitExact} / ${h.length} bit-exact, firing ${pct(mean(r.spikes))}`);
}
console.log(`\ndone in ${(performance.now() - t0).toFixed(0)} ms`);
