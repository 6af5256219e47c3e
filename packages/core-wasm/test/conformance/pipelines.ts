// The kernel-level fixtures of shared/fixtures run through the Wasm kernels. Runtime-neutral (no Node APIs): the
// Node tests compare the results with the fixtures' expected tensors, and the cross-runtime suite hashes them.
import type { Core, Tensor } from '../../src/core.js';
import type { SafetensorsFile } from '../../src/safetensors.js';
import * as ops from '../../src/ops.js';

function f32(file: SafetensorsFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`fixture tensor ${name} missing or not F32`);
  return t.data;
}

/** kernel_lif: multi-step LIF at both thresholds. Spikes, h and the final state v per config. */
export function runLifFixture(core: Core, file: SafetensorsFile): Record<string, { spikes: Float32Array; h: Float32Array; v: Float32Array }> {
  const x = f32(file, 'input');
  const [T, N] = file.tensors.get('input')!.shape;
  const configs = JSON.parse(file.metadata.config) as Record<string, { tau: number; v_threshold: number; v_reset: number; decay_input: boolean }>;
  const arena = core.arena();
  try {
    const xt = arena.from(x, [T, N], 'f32', 'input');
    const out: Record<string, { spikes: Float32Array; h: Float32Array; v: Float32Array }> = {};
    for (const [name, c] of Object.entries(configs)) {
      const v = arena.tensor([N], 'f32', 'v');
      const spikes = arena.tensor([T, N]);
      const h = arena.tensor([T, N]);
      // The fixture's v is per step (after reset): run step by step to record it, which also exercises streaming.
      const vSeq = new Float32Array(T * N);
      const x1 = arena.tensor([1, N]), s1 = arena.tensor([1, N]), h1 = arena.tensor([1, N]);
      for (let t = 0; t < T; t++) {
        x1.set(x.subarray(t * N, (t + 1) * N));
        ops.lif(x1, v, { spikes: s1, h: h1 }, { tau: c.tau, vThreshold: c.v_threshold, vReset: c.v_reset, decayInput: c.decay_input });
        spikes.f32.set(s1.f32, t * N);
        h.f32.set(h1.f32, t * N);
        vSeq.set(v.f32, t * N);
      }
      out[name] = { spikes: spikes.toArray() as Float32Array, h: h.toArray() as Float32Array, v: vSeq };
    }
    return out;
  } finally {
    arena.dispose();
  }
}

/** kernel_lmu_matrices: the memory trajectory m_t = Ā m_{t−1} + B̄ u_t by the recurrence and by the FIR form. */
export function runLmuFixture(core: Core, file: SafetensorsFile): { recurrent: Float32Array; fir: Float32Array; shape: number[] } {
  const A = f32(file, 'A'), B = f32(file, 'B'), H = f32(file, 'H'), u = f32(file, 'input');
  const d = file.tensors.get('A')!.shape[0];
  const [batch, L] = file.tensors.get('input')!.shape;
  const Lh = file.tensors.get('H')!.shape[1];
  const arena = core.arena();
  try {
    const ap = ops.packDense(arena, A, d, d, 'A');
    const bt = arena.from(B, [d], 'f32', 'B');
    let m = arena.tensor([batch, d]), m2 = arena.tensor([batch, d]);
    const ut = arena.tensor([batch]);
    const recurrent = new Float32Array(batch * L * d);
    for (let t = 0; t < L; t++) {
      for (let b = 0; b < batch; b++) ut.f32[b] = u[b * L + t];
      ops.lmuStep(m, ap, bt, ut, m2);
      [m, m2] = [m2, m];
      for (let b = 0; b < batch; b++) recurrent.set(m.f32.subarray(b * d, (b + 1) * d), (b * L + t) * d);
    }
    const ht = arena.tensor([Lh, d], 'f32', 'Ht');
    const htv = ht.f32;
    for (let i = 0; i < d; i++) for (let t = 0; t < Lh; t++) htv[t * d + i] = H[i * Lh + t];
    const fir = arena.tensor([batch, L, d]);
    ops.lmuFir(arena.from(u, [batch, L]), ht, fir);
    return { recurrent, fir: fir.toArray() as Float32Array, shape: [batch, L, d] };
  } finally {
    arena.dispose();
  }
}

export interface SsaResult {
  q: Float32Array; k: Float32Array; v: Float32Array; qMargin: Float32Array;
  scores: Int32Array; qkV: Int32Array; qkVAlt: Int32Array; attnOut: Float32Array;
  attnSpikes: Float32Array; attnMargin: Float32Array; output: Float32Array; projMargin: Float32Array;
}

/**
 * kernel_ssa: one Spikformer SSA block (shared/spec/spikformer.md §1, §3) from the kernels: linear + BN + LIF for
 * q, k, v; per head the bit-packed scores Q Kᵀ, (Q Kᵀ) V and Q (Kᵀ V); × scale; attn LIF (V_th 0.5); spike-input
 * proj linear + BN + LIF.
 */
export function runSsaFixture(core: Core, file: SafetensorsFile): SsaResult {
  const cfg = JSON.parse(file.metadata.config) as { dim: number; num_heads: number };
  const [T, B, N, C] = file.tensors.get('input')!.shape;
  const heads = cfg.num_heads, d = C / heads, rows = T * B * N, scale = 0.125;
  const arena = core.arena();
  try {
    const x = arena.from(f32(file, 'input'), [rows, C], 'f32', 'input');
    const bn = (p: string) => {
      const { scale: s, shift } = ops.batchNormAffine({
        weight: f32(file, `${p}.weight`), bias: f32(file, `${p}.bias`),
        runningMean: f32(file, `${p}.running_mean`), runningVar: f32(file, `${p}.running_var`),
      });
      return { s: arena.from(s, [C]), h: arena.from(shift, [C]) };
    };
    const branch = (name: string) => {
      const w = ops.packDense(arena, f32(file, `${name}_linear.weight`), C, C, `${name}_linear.weight`);
      const bias = arena.from(f32(file, `${name}_linear.bias`), [C]);
      const y = arena.tensor([rows, C]);
      ops.linear(x, w, y, { bias });
      const { s, h } = bn(`${name}_bn`);
      ops.channelAffine(y, s, h, y, 1);
      const spikes = arena.tensor([T, B * N * C]), hh = arena.tensor([T, B * N * C]);
      ops.lif(y.reshape([T, B * N * C]), arena.tensor([B * N * C]), { spikes, h: hh });
      return { spikes, h: hh };
    };
    const q = branch('q'), k = branch('k'), v = branch('v');
    const scores = new Int32Array(T * B * heads * N * N);
    const qkV = new Int32Array(T * B * heads * N * d);
    const qkVAlt = new Int32Array(T * B * heads * N * d);
    const attnOut = arena.tensor([T, B * N * C]);
    const qb = arena.tensor([N, d], 'bits'), kb = arena.tensor([N, d], 'bits'), vb = arena.tensor([N, d], 'bits');
    const kT = arena.tensor([d, N], 'bits'), vT = arena.tensor([d, N], 'bits');
    const A = arena.tensor([N, N], 'i32'), M = arena.tensor([d, d], 'i32');
    const c1 = arena.tensor([N, d], 'i32'), c2 = arena.tensor([N, d], 'i32'), cf = arena.tensor([N, d]);
    const tok = (t: Tensor, tb: number) => core.view(t.ptr + tb * N * C * 4, [N, C]);
    for (let tb = 0; tb < T * B; tb++) {
      const Q = tok(q.spikes, tb), K = tok(k.spikes, tb), V = tok(v.spikes, tb);
      for (let h = 0; h < heads; h++) {
        ops.packSpikesColumns(Q, h * d, d, qb);
        ops.packSpikesColumns(K, h * d, d, kb);
        ops.packSpikesColumns(V, h * d, d, vb);
        ops.spikeAndPopcount(qb, kb, A);
        ops.matmulCountsBits(A, vb, c1);
        ops.packSpikesTransposed(K, h * d, d, kT);
        ops.packSpikesTransposed(V, h * d, d, vT);
        ops.spikeAndPopcount(kT, vT, M);
        ops.matmulBitsCounts(qb, M, c2);
        const o = (tb * heads + h);
        scores.set(A.data as Int32Array, o * N * N);
        qkV.set(c1.data as Int32Array, o * N * d);
        qkVAlt.set(c2.data as Int32Array, o * N * d);
        ops.countsToF32(c1, scale, cf);
        const dst = attnOut.f32, src = cf.f32;
        for (let n = 0; n < N; n++) dst.set(src.subarray(n * d, (n + 1) * d), tb * N * C + n * C + h * d);
      }
    }
    const attnSpikes = arena.tensor([T, B * N * C]), attnH = arena.tensor([T, B * N * C]);
    ops.lif(attnOut, arena.tensor([B * N * C]), { spikes: attnSpikes, h: attnH }, { vThreshold: 0.5 });
    const attnBits = arena.tensor([rows, C], 'bits');
    ops.packSpikes(attnSpikes.reshape([rows, C]), attnBits);
    const pw = ops.packDense(arena, f32(file, 'proj_linear.weight'), C, C);
    const proj = arena.tensor([rows, C]);
    ops.linearSpike(attnBits, pw, proj, { bias: arena.from(f32(file, 'proj_linear.bias'), [C]) });
    const pbn = bn('proj_bn');
    ops.channelAffine(proj, pbn.s, pbn.h, proj, 1);
    const out = arena.tensor([T, B * N * C]), outH = arena.tensor([T, B * N * C]);
    ops.lif(proj.reshape([T, B * N * C]), arena.tensor([B * N * C]), { spikes: out, h: outH });
    const margin = (h: Tensor, th: number) => (h.toArray() as Float32Array).map((x) => x - th);
    return {
      q: q.spikes.toArray() as Float32Array, k: k.spikes.toArray() as Float32Array, v: v.spikes.toArray() as Float32Array,
      qMargin: margin(q.h, 1), scores, qkV, qkVAlt, attnOut: attnOut.toArray() as Float32Array,
      attnSpikes: attnSpikes.toArray() as Float32Array, attnMargin: margin(attnH, 0.5),
      output: out.toArray() as Float32Array, projMargin: margin(outH, 1),
    };
  } finally {
    arena.dispose();
  }
}
