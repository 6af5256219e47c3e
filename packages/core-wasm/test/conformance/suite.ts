// Cross-runtime conformance: the same deterministic test vectors through every kernel on both backends, and the
// kernel fixtures through their pipelines, each reduced to a SHA-256 of its output bytes. Runs unchanged in Node,
// Deno, browsers and workerd (no Node APIs): the runners pass a Core and the fixture files' bytes.
import type { Arena, Core, Tensor } from '../../src/core.js';
import { parseSafetensors } from '../../src/safetensors.js';
import * as ops from '../../src/ops.js';
import { randomF32, randomSpikes } from '../random.js';
import { sha256, bytesOf } from './hash.js';
import { runLifFixture, runLmuFixture, runSsaFixture } from './pipelines.js';

/** The fixture files the suite needs, by file name. */
export const CONFORMANCE_FIXTURES = ['kernel_lif.safetensors', 'kernel_lmu_matrices.safetensors', 'kernel_ssa.safetensors'] as const;

const rand = randomF32;
const spikes = randomSpikes;

type Case = (a: Arena, emit: (t: Tensor | ArrayBufferView) => void) => void;

/** One entry per kernel family; each emits its outputs for a few shapes that cover main loops and tails. */
const CASES: Record<string, Case> = {
  linear(a, emit) {
    for (const [M, N, K] of [[1, 17, 65], [5, 65, 17], [16, 64, 64], [3, 35, 256]]) {
      const x = a.from(rand(M * K, M + K), [M, K]);
      const w = ops.packDense(a, rand(N * K, N * K), N, K);
      const y = a.tensor([M, N]);
      emit(ops.linear(x, w, y, { bias: a.from(rand(N, N), [N]), relu: M === 5 }));
      const bits = a.tensor([M, K], 'bits');
      ops.packSpikes(a.from(spikes(M * K, K), [M, K]), bits);
      emit(ops.linearSpike(bits, w, a.tensor([M, N])));
    }
  },
  conv1d(a, emit) {
    for (const [Cin, Cout, L, K] of [[16, 32, 128, 3], [5, 7, 17, 3], [32, 33, 65, 1]]) {
      const x = a.from(rand(2 * Cin * L, L + Cin), [2, Cin, L]);
      const w = a.from(rand(Cout * Cin * K, Cout + K), [Cout, Cin, K]);
      emit(ops.conv1d(x, w, a.tensor([2, Cout, L]), { bias: a.from(rand(Cout, 1), [Cout]) }));
      const sb = a.tensor([2, Cin, L], 'bits');
      ops.packSpikes(a.from(spikes(2 * Cin * L, Cin), [2, Cin, L]), sb);
      emit(ops.conv1d(sb, w, a.tensor([2, Cout, L]), { relu: true }));
    }
  },
  conv2d3x3(a, emit) {
    for (const [Cin, Cout, H, W] of [[3, 8, 16, 16], [4, 5, 5, 33]]) {
      const x = a.from(rand(Cin * H * W, H * W), [1, Cin, H, W]);
      const w = a.from(rand(Cout * Cin * 9, Cout), [Cout, Cin, 3, 3]);
      emit(ops.conv2d3x3(x, w, a.tensor([1, Cout, H, W])));
      const sb = a.tensor([1, Cin, H, W], 'bits');
      ops.packSpikes(a.from(spikes(Cin * H * W, W), [1, Cin, H, W]), sb);
      emit(ops.conv2d3x3(sb, w, a.tensor([1, Cout, H, W]), { bias: a.from(rand(Cout, 2), [Cout]) }));
    }
  },
  affine(a, emit) {
    for (const shape of [[3, 65, 1], [2, 17, 33]]) {
      const x = a.from(rand(shape[0] * shape[1] * shape[2], 7), shape);
      emit(ops.channelAffine(x, a.from(rand(shape[1], 1), [shape[1]]), a.from(rand(shape[1], 2), [shape[1]]), a.tensor(shape), 1, { relu: true }));
    }
  },
  relu(a, emit) {
    emit(ops.relu(a.from(rand(67, 3), [67]), a.tensor([67])));
    emit(ops.add(a.from(rand(67, 4), [67]), a.from(rand(67, 5), [67]), a.tensor([67])));
  },
  gelu(a, emit) {
    const x = rand(1003, 4, -8, 8);
    x.set([0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, Infinity, -Infinity], 0);
    emit(ops.gelu(a.from(x, [1003]), a.tensor([1003])));
  },
  maxPool(a, emit) {
    for (const [H, W] of [[16, 16], [7, 33]]) {
      emit(ops.maxPool3x3s2(a.from(rand(3 * H * W, H), [3, H, W]), a.tensor([3, ops.pool3x3s2Size(H), ops.pool3x3s2Size(W)])));
      const sb = a.tensor([3, H, W], 'bits');
      ops.packSpikes(a.from(spikes(3 * H * W, W, 0.15), [3, H, W]), sb);
      emit(ops.maxPool3x3s2(sb, a.tensor([3, ops.pool3x3s2Size(H), ops.pool3x3s2Size(W)], 'bits')));
    }
  },
  meanAxis(a, emit) {
    emit(ops.meanAxis(a.from(rand(2 * 128 * 35, 5), [2, 128, 35]), 1, a.tensor([2, 35])));
    emit(ops.meanAxis(a.from(rand(9 * 65, 6), [9, 65]), 1, a.tensor([9])));
  },
  lif(a, emit) {
    for (const p of [{}, { vThreshold: 0.5 }, { tau: 3, vReset: -0.1, decayInput: false }]) {
      const x = a.from(rand(8 * 67, 8, -0.5, 2.5), [8, 67]);
      const v = a.tensor([67]), s = a.tensor([8, 67]), b = a.tensor([8, 67], 'bits'), h = a.tensor([8, 67]);
      ops.lif(x, v, { spikes: s, bits: b, h }, p);
      emit(s); emit(b); emit(h); emit(v);
    }
  },
  lmu(a, emit) {
    const d = 37, B = 3, L = 40;
    const ap = ops.packDense(a, rand(d * d, 1, -0.2, 0.2), d, d);
    emit(ops.lmuStep(a.from(rand(B * d, 2), [B, d]), ap, a.from(rand(d, 3), [d]), a.from(rand(B, 4), [B]), a.tensor([B, d])));
    const ht = a.from(rand(L * d, 5), [L, d]);
    emit(ops.lmuFir(a.from(spikes(B * L, 6, 0.5), [B, L]), ht, a.tensor([B, L, d + 2])));
    emit(ops.lmuFirStep(a.from(rand(L, 7), [L]), L, ht, a.tensor([d])));
    const L2 = 32;
    const plan = ops.prepareLmuFft(a, a.from(rand(L2 * d, 8), [L2, d]));
    emit(ops.lmuFft(a.from(rand(B * L2, 9), [B, L2]), plan, a.tensor([B, L2, d])));
  },
  spikes(a, emit) {
    for (const [N, d] of [[64, 32], [17, 64], [65, 16], [5, 33]]) {
      const q = a.from(spikes(N * d, N), [N, d]), k = a.from(spikes(N * d, d), [N, d]), v = a.from(spikes(N * d, N + d), [N, d]);
      const qb = a.tensor([N, d], 'bits'), kb = a.tensor([N, d], 'bits'), vb = a.tensor([N, d], 'bits');
      ops.packSpikes(q, qb); ops.packSpikes(k, kb); ops.packSpikes(v, vb);
      const A = ops.spikeAndPopcount(qb, kb, a.tensor([N, N], 'i32'));
      emit(A);
      emit(ops.matmulCountsBits(A, vb, a.tensor([N, d], 'i32')));
      const kT = ops.packSpikesTransposed(k, 0, d, a.tensor([d, N], 'bits'));
      const vT = ops.packSpikesTransposed(v, 0, d, a.tensor([d, N], 'bits'));
      const M = ops.spikeAndPopcount(kT, vT, a.tensor([d, d], 'i32'));
      const c = ops.matmulBitsCounts(qb, M, a.tensor([N, d], 'i32'));
      emit(c);
      emit(ops.countsToF32(c, 0.125, a.tensor([N, d])));
      emit(ops.unpackSpikes(qb, a.tensor([N, d])));
    }
  },
};

/** Runs every suite; returns suite name → SHA-256 (hex) of its output bytes. */
export async function runConformance(core: Core, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const backend of ['scalar', 'simd'] as const) {
    for (const [name, run] of Object.entries(CASES)) {
      core.backend = backend;
      const arena = core.arena();
      const parts: Uint8Array[] = [];
      try {
        run(arena, (t) => parts.push(bytesOf('ptr' in t ? t.data : t)));
      } finally {
        arena.dispose();
        core.backend = 'simd';
      }
      out[`${name}/${backend}`] = await sha256(parts);
    }
  }
  const file = (n: string) => {
    const b = fixtures[n];
    if (!b) throw new Error(`conformance: fixture ${n} not provided`);
    return parseSafetensors(b);
  };
  const lif = runLifFixture(core, file('kernel_lif.safetensors'));
  out['fixture:kernel_lif'] = await sha256(Object.values(lif).flatMap((r) => [bytesOf(r.spikes), bytesOf(r.h), bytesOf(r.v)]));
  const lmu = runLmuFixture(core, file('kernel_lmu_matrices.safetensors'));
  out['fixture:kernel_lmu_matrices'] = await sha256([bytesOf(lmu.recurrent), bytesOf(lmu.fir)]);
  const ssa = runSsaFixture(core, file('kernel_ssa.safetensors'));
  out['fixture:kernel_ssa'] = await sha256(Object.values(ssa).map((v) => bytesOf(v as ArrayBufferView)));
  return out;
}
