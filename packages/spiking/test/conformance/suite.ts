// Cross-runtime conformance for @spikewasm/spiking: deterministic inputs through the package's layers, each suite
// reduced to a SHA-256 of its output bytes. Runtime-neutral (no Node APIs); merged into the root conformance bundle.
import type { Core } from '@spikewasm/core-wasm';
import { parseSafetensors } from '@spikewasm/core-wasm';
import { LIFNode, SpikeTensor } from '../../src/index.js';
import { randomF32 } from '../../../core-wasm/test/random.js';
import { sha256, bytesOf } from '../../../core-wasm/test/conformance/hash.js';

export const CONFORMANCE_FIXTURES = ['kernel_lif.safetensors'] as const;

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
