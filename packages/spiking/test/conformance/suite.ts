// Cross-runtime conformance for @spikewasm/spiking: deterministic inputs through the package's layers, each suite
// reduced to a SHA-256 of its output bytes. Runtime-neutral (no Node APIs); merged into the root conformance bundle.
import type { Core } from '@spikewasm/core-wasm';
import { parseSafetensors } from '@spikewasm/core-wasm';
import {
  LIFNode, SpikeTensor, Linear, Conv1d, Conv2d, BatchNorm, MaxPool, ResidualAdd, MeanPool, SpikingSelfAttention,
  RateEncoder, eventFrames, repeatSteps, profile, resetNet,
} from '../../src/index.js';
import { randomF32, randomSpikes, rng } from '../../../core-wasm/test/random.js';
import { sha256, bytesOf } from '../../../core-wasm/test/conformance/hash.js';

export const CONFORMANCE_FIXTURES = ['kernel_lif.safetensors', 'kernel_ssa.safetensors'] as const;

type Emit = (v: ArrayBufferView) => void;
const SUITES: Record<string, (core: Core, fixtures: Record<string, Uint8Array>, emit: Emit) => void> = {
  lifNode(core, fixtures, emit) {
    const a = core.arena();
    try {
      const f = parseSafetensors(fixtures['kernel_lif.safetensors']);
      const x = f.tensors.get('input')!;
      const [T, N] = x.shape;
      for (const vth of [1, 0.5]) {
        const node = new LIFNode(a, [N], { vThreshold: vth });
        const s = SpikeTensor.alloc(a, [T, N]), h = a.tensor([T, N]);
        node.forward(a.from(x.data as Float32Array, [T, N]), { spikes: s, h });
        emit(s.bits.data); emit(h.f32); emit(node.v.f32);
      }
      const single = new LIFNode(a, [2, 64], { stepMode: 's', tau: 3 });
      const x1 = a.from(randomF32(128, 11, -1, 3), [2, 64]), s1 = SpikeTensor.alloc(a, [2, 64]);
      for (let t = 0; t < 5; t++) { single.forward(x1, { spikes: s1 }); emit(s1.bits.data); }
    } finally {
      a.dispose();
    }
  },
  layers(core, _fixtures, emit) {
    const a = core.arena();
    try {
      const bn = { weight: randomF32(24, 1, 0.5, 1.5), bias: randomF32(24, 2), runningMean: randomF32(24, 3), runningVar: randomF32(24, 4, 0.2, 2) };
      const lin = Linear.withBatchNorm(a, { weight: randomF32(24 * 40, 5), bias: randomF32(24, 6), outFeatures: 24, inFeatures: 40 }, bn);
      const xs = SpikeTensor.alloc(a, [3, 40]).pack(a.from(randomSpikes(120, 7), [3, 40]));
      emit(lin.forward(xs, a.tensor([3, 24])).f32);
      emit(lin.forward(a.from(randomF32(120, 8), [3, 40]), a.tensor([3, 24])).f32);
      const c1 = new Conv1d(a, { weight: randomF32(8 * 5 * 3, 9), outChannels: 8, inChannels: 5, kernelSize: 3 });
      const s1 = SpikeTensor.alloc(a, [2, 5, 37]).pack(a.from(randomSpikes(2 * 5 * 37, 10), [2, 5, 37]));
      emit(c1.forward(s1, a.tensor([2, 8, 37])).f32);
      const c2 = new Conv2d(a, { weight: randomF32(4 * 3 * 9, 11), bias: randomF32(4, 12), outChannels: 4, inChannels: 3 });
      const y2 = c2.forward(a.from(randomF32(3 * 9 * 33, 13), [1, 3, 9, 33]), a.tensor([1, 4, 9, 33]));
      emit(y2.f32);
      const norm = new BatchNorm(a, bn, { axis: 1 });
      emit(norm.forward(a.from(randomF32(2 * 24 * 5, 14), [2, 24, 5]), a.tensor([2, 24, 5])).f32);
      const pool = new MaxPool();
      emit(pool.forward(y2, a.tensor([1, 4, 5, 17])).f32);
      const sp = SpikeTensor.alloc(a, [4, 9, 33]).pack(a.from(randomSpikes(4 * 9 * 33, 15, 0.2), [4, 9, 33]));
      emit(pool.forward(sp, SpikeTensor.alloc(a, [4, 5, 17])).bits.data);
      const res = new ResidualAdd({ arena: a, spikeShape: [3, 40] });
      emit(res.forward(a.from(randomF32(120, 16), [3, 40]), xs, a.tensor([3, 40])).f32);
      emit(new MeanPool(1).forward(a.from(randomF32(2 * 7 * 5, 17), [2, 7, 5]), a.tensor([2, 5])).f32);
    } finally {
      a.dispose();
    }
  },
  ssa(core, fixtures, emit) {
    const a = core.arena();
    try {
      const f = parseSafetensors(fixtures['kernel_ssa.safetensors']);
      const [T, B, N, C] = f.tensors.get('input')!.shape;
      for (const order of ['qk_v', 'q_kv'] as const) {
        const ssa = SpikingSelfAttention.fromStateDict(a, f.tensors, '', { dim: C, numHeads: 2, T, batch: B, tokens: N, order });
        const out = SpikeTensor.alloc(a, [T, B, N, C]);
        const x = a.from(f.tensors.get('input')!.data as Float32Array, [T, B, N, C]);
        const table = profile(ssa, () => ssa.forward(x, out));
        emit(out.bits.data);
        emit(new TextEncoder().encode(table.format()));
        resetNet(ssa);
      }
    } finally {
      a.dispose();
    }
  },
  encoders(core, _fixtures, emit) {
    const a = core.arena();
    try {
      const enc = new RateEncoder(1234);
      const p = a.from(randomF32(3 * 50, 18, 0, 1), [3, 50]);
      emit((enc.encode(p, SpikeTensor.alloc(a, [6, 3, 50])) as SpikeTensor).bits.data);
      const r = rng(19), n = 500;
      const ev = { x: new Int32Array(n), y: new Int32Array(n), p: new Int32Array(n), t: new Float64Array(n) };
      for (let i = 0, t = 0; i < n; i++) { ev.x[i] = Math.floor(r() * 16); ev.y[i] = Math.floor(r() * 8); ev.p[i] = r() < 0.5 ? 1 : 0; ev.t[i] = t += Math.floor(r() * 100); }
      emit(eventFrames(ev, 'number', a.tensor([5, 2, 8, 16])).f32);
      emit(eventFrames(ev, 'time', a.tensor([5, 2, 8, 16])).f32);
      const lif = new LIFNode(a, [2, 32]);
      const out = SpikeTensor.alloc(a, [4, 2, 32]);
      repeatSteps(a.from(randomF32(64, 20, 0, 2), [2, 32]), 4, lif, { spikes: out });
      emit(out.bits.data);
    } finally {
      a.dispose();
    }
  },
};

export async function runConformance(core: Core, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, run] of Object.entries(SUITES)) {
    const parts: Uint8Array[] = [];
    run(core, fixtures, (v) => parts.push(bytesOf(v)));
    out[name] = await sha256(parts);
  }
  return out;
}
