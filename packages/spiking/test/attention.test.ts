import { beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { init, ArgumentError, ShapeError, type Arena, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { intMatmulRef, transposeRef } from '@spikewasm/core-wasm/oracle';
import {
  SpikingSelfAttention, BinaryAttention, SpikeTensor, attentionReference, resolveAttentionOrder, resetNet, walk, profile,
  type SpikingSelfAttentionConfig, type StateDict,
} from '../src/index.js';
import { loadFixture, randomF32, randomSpikes, rng } from './helpers.js';

let core: Core;
let ssaFile: SafetensorsFile;
beforeAll(async () => {
  core = await init();
  ssaFile = loadFixture('kernel_ssa.safetensors');
});

const f32 = (f: SafetensorsFile, name: string) => f.tensors.get(name)!.data as Float32Array;
const u8 = (f: SafetensorsFile, name: string) => f.tensors.get(name)!.data as Uint8Array;
const bitsOf = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));

/** Unpacked spikes of a SpikeTensor as 0/1 numbers. */
function spikesOf(arena: Arena, s: SpikeTensor): number[] {
  const t = arena.tensor(s.shape);
  return Array.from(s.toFloat(t).f32);
}

/**
 * Compares spikes with the fixture's: returns the number of mismatches, and how many of them sit at a near tie
 * (|margin| < 1e-5, the only tolerable flips per shared/fixtures/README.md).
 */
function compareSpikes(got: ArrayLike<number>, want: Uint8Array, margin: Float32Array): { flips: number; tolerable: number } {
  let flips = 0, tolerable = 0;
  for (let i = 0; i < want.length; i++) {
    if ((got[i] !== 0 ? 1 : 0) !== want[i]) {
      flips++;
      if (Math.abs(margin[i]) < 1e-5) tolerable++;
    }
  }
  return { flips, tolerable };
}

function fixtureConfig(extra: Partial<SpikingSelfAttentionConfig> = {}): SpikingSelfAttentionConfig {
  const cfg = JSON.parse(ssaFile.metadata.config) as { dim: number; num_heads: number };
  const [T, B, N] = ssaFile.tensors.get('input')!.shape;
  return { dim: cfg.dim, numHeads: cfg.num_heads, T, batch: B, tokens: N, keepIntermediates: true, ...extra };
}

/** Runs the fixture through an SSA and returns every recorded tensor as plain arrays. */
function runFixture(extra: Partial<SpikingSelfAttentionConfig>, chunks?: number[]) {
  const a = core.arena();
  try {
    const cfg = fixtureConfig(extra);
    const ssa = SpikingSelfAttention.fromStateDict(a, ssaFile.tensors, '', cfg);
    const x = f32(ssaFile, 'input');
    const { T, batch: B, tokens: N, dim: D } = cfg;
    const step = B * N * D;
    const out = new Float32Array(T * step);
    const rec = { q: [] as number[], k: [] as number[], v: [] as number[], scores: [] as number[], qkV: [] as number[], attnOut: [] as number[], attn: [] as number[], proj: [] as number[] };
    resetNet(ssa);
    let t0 = 0;
    for (const n of chunks ?? [T]) {
      const xt = a.from(x.subarray(t0 * step, (t0 + n) * step), [n, B, N, D]);
      const o = SpikeTensor.alloc(a, [n, B, N, D]);
      ssa.forward(xt, o);
      out.set(spikesOf(a, o), t0 * step);
      const im = ssa.intermediates!;
      const H = cfg.numHeads, d = D / H;
      rec.q.push(...im.q.f32.subarray(0, n * step));
      rec.k.push(...im.k.f32.subarray(0, n * step));
      rec.v.push(...im.v.f32.subarray(0, n * step));
      rec.scores.push(...(im.attnScores.data as Int32Array).subarray(0, n * B * H * N * N));
      rec.qkV.push(...(im.qkV.data as Int32Array).subarray(0, n * B * H * N * d));
      rec.attnOut.push(...bitsOf(im.attnOut.f32.subarray(0, n * step)));
      rec.attn.push(...im.attnSpikes.f32.subarray(0, n * step));
      rec.proj.push(...bitsOf(im.projH.f32.subarray(0, n * step)));
      t0 += n;
    }
    return { ...rec, out: Array.from(out), ssa };
  } finally {
    a.dispose();
  }
}

describe('SpikingSelfAttention on the kernel_ssa fixture', () => {
  it('reproduces q/k/v/attn/proj spikes, attn_scores, qk_v and attn_out exactly; exact ties fire', () => {
    const r = runFixture({});
    for (const [name, got] of [['q_lif', r.q], ['k_lif', r.k], ['v_lif', r.v], ['attn_lif', r.attn], ['proj_lif', r.out]] as const) {
      const c = compareSpikes(got, u8(ssaFile, `expected.${name}.spikes`), f32(ssaFile, `expected.${name}.margin`));
      expect(c, name).toEqual({ flips: 0, tolerable: 0 });
    }
    expect(r.scores).toEqual(Array.from(f32(ssaFile, 'expected.attn_scores')));
    expect(r.qkV).toEqual(Array.from(f32(ssaFile, 'expected.qk_v')));
    expect(r.attnOut).toEqual(bitsOf(f32(ssaFile, 'expected.attn_out')));
    // ties: margin == 0 exactly in attn_lif (265 per the manifest) must fire, and do
    const m = f32(ssaFile, 'expected.attn_lif.margin');
    const ties = [...m.keys()].filter((i) => m[i] === 0);
    const lif = JSON.parse(ssaFile.metadata.lif_layers) as Record<string, { exact_ties: number }>;
    expect(ties.length).toBe(lif.attn_lif.exact_ties);
    expect(ties.length).toBeGreaterThan(0);
    expect(ties.every((i) => r.attn[i] === 1)).toBe(true);
    // the final output tensor of the fixture is the proj_lif spikes
    expect(r.out).toEqual(Array.from(f32(ssaFile, 'expected.output')));
  });

  it('both association orders, auto, folded BN and chunked streaming give identical results', () => {
    const base = runFixture({ order: 'qk_v' });
    for (const [label, extra, chunks] of [
      ['q_kv', { order: 'q_kv' }, undefined],
      ['auto', { order: 'auto' }, undefined],
      ['chunks 1+2+1', {}, [1, 2, 1]],
      ['single steps', { order: 'q_kv' }, [1, 1, 1, 1]],
    ] as const) {
      const r = runFixture(extra as Partial<SpikingSelfAttentionConfig>, chunks as number[] | undefined);
      for (const k of ['q', 'k', 'v', 'scores', 'qkV', 'attnOut', 'attn', 'proj', 'out'] as const) expect(r[k], `${label}: ${k}`).toEqual(base[k]);
    }
    // folded BN moves the pre-activations by ulps; the fixture has no near ties, so every spike stays
    const folded = runFixture({ foldBatchNorm: true });
    for (const k of ['q', 'k', 'v', 'scores', 'qkV', 'attnOut', 'attn', 'out'] as const) expect(folded[k], `folded: ${k}`).toEqual(base[k]);
    expect(folded.ssa.children().some((c) => c.name.endsWith('_bn'))).toBe(false);
  });

  it('the ImageNet/DVS conv1d-k1 key layout (no q/k/v bias) is the same maths as a bias-free linear', () => {
    const lin: Record<string, Float32Array> = {};
    const conv = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const [name, t] of ssaFile.tensors) {
      if (name.startsWith('expected.') || name === 'input') continue;
      const data = t.data as Float32Array;
      const [p, rest] = name.split('_linear.');
      if (rest === 'bias' && p !== 'proj') {
        lin[name] = new Float32Array(data.length); // zero bias ≡ no bias
        continue;
      }
      lin[name] = data;
      if (rest === 'weight') conv.set(`block.3.attn.${p}_conv.weight`, { data, shape: [...t.shape, 1] });
      else if (rest === 'bias') conv.set(`block.3.attn.${p}_conv.bias`, { data, shape: t.shape });
      else conv.set(`block.3.attn.${name}`, { data, shape: t.shape });
    }
    conv.set('block.3.attn.q_bn.num_batches_tracked', { data: new Float32Array(1), shape: [] });
    const a = core.arena();
    const cfg = fixtureConfig({ keepIntermediates: false });
    const s1 = new SpikingSelfAttention(a, lin, cfg);
    const s2 = SpikingSelfAttention.fromStateDict(a, conv, 'block.3.attn.', cfg);
    expect(s1.kind).toBe('linear');
    expect(s2.kind).toBe('conv1d');
    expect(s2.children().map((c) => c.name)).toContain('attn.q_conv');
    const x = a.from(f32(ssaFile, 'input'), ssaFile.tensors.get('input')!.shape);
    const o1 = SpikeTensor.alloc(a, x.shape), o2 = SpikeTensor.alloc(a, x.shape);
    s1.forward(x, o1);
    s2.forward(x, o2);
    expect(Array.from(o2.bits.data)).toEqual(Array.from(o1.bits.data));
    expect(o1.count()).toBeGreaterThan(0);
    a.dispose();
  });

  it('fromStateDict reports every missing and mis-shaped key in one ArgumentError', () => {
    const sd = new Map(ssaFile.tensors);
    sd.delete('q_bn.running_var');
    sd.delete('proj_linear.bias');
    sd.set('k_linear.weight', { ...sd.get('k_linear.weight')!, shape: [64, 32, 2] });
    sd.set('v_bn.weight', { ...sd.get('v_bn.weight')!, data: new Float32Array(63), shape: [63] });
    const a = core.arena();
    let err: unknown;
    try {
      SpikingSelfAttention.fromStateDict(a, sd, '', fixtureConfig());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    const msg = (err as Error).message;
    for (const k of ['q_bn.running_var', 'proj_linear.bias', 'k_linear.weight: expected shape [64, 64], got [64, 32, 2]', 'v_bn.weight: expected shape [64], got [63]']) {
      expect(msg).toContain(k);
    }
    // prefixed keys are named in full; bare arrays are checked by length
    expect(() => SpikingSelfAttention.fromStateDict(a, ssaFile.tensors, 'block.0.attn.', fixtureConfig())).toThrow(/missing block\.0\.attn\.q_linear\.weight/);
    const bare: Record<string, Float32Array> = {};
    for (const [k, t] of ssaFile.tensors) bare[k] = t.data as Float32Array;
    bare['q_linear.bias'] = new Float32Array(65);
    expect(() => new SpikingSelfAttention(a, bare, fixtureConfig())).toThrow(/q_linear\.bias: expected \[64\] = 64 values, got 65/);
    expect(() => new SpikingSelfAttention(a, bare, fixtureConfig({ numHeads: 3 }))).toThrow(ArgumentError);
    a.dispose();
  });

  it('forward checks shapes with the module name; resetNet clears all five membranes', () => {
    const a = core.arena();
    const ssa = SpikingSelfAttention.fromStateDict(a, ssaFile.tensors, '', fixtureConfig({ name: 'block.0.attn', keepIntermediates: false }));
    const lifs = [...walk(ssa)].filter((m) => m.name.endsWith('_lif'));
    expect(lifs.map((m) => m.name)).toEqual(['q', 'k', 'v', 'attn', 'proj'].map((p) => `block.0.attn.${p}_lif`));
    const x = a.from(f32(ssaFile, 'input'), [4, 2, 16, 64]);
    const o = SpikeTensor.alloc(a, [4, 2, 16, 64]);
    expect(() => ssa.forward(a.tensor([5, 2, 16, 64]), SpikeTensor.alloc(a, [5, 2, 16, 64]))).toThrow(ShapeError);
    expect(() => ssa.forward(x, SpikeTensor.alloc(a, [4, 2, 16, 32]))).toThrow(/block\.0\.attn: output/);
    ssa.forward(x, o);
    const first = Array.from(o.bits.data);
    expect(ssa.qLif.v.f32.some((v) => v !== 0)).toBe(true);
    ssa.forward(x, o); // continues from the membranes: differs from a fresh run
    expect(Array.from(o.bits.data)).not.toEqual(first);
    resetNet(ssa);
    for (const l of [ssa.qLif, ssa.kLif, ssa.vLif, ssa.attnLif, ssa.projLif]) expect(l.v.f32.every((v) => v === 0)).toBe(true);
    ssa.forward(x, o);
    expect(Array.from(o.bits.data)).toEqual(first);
    a.dispose();
  });

  it('forward allocates no Wasm memory (all scratch comes from the constructor), also for T′ < T and odd D', () => {
    const a = core.arena();
    const ssa = SpikingSelfAttention.fromStateDict(a, ssaFile.tensors, '', fixtureConfig({ order: 'q_kv' }));
    const odd = new SpikingSelfAttention(a, Object.fromEntries([...ssaFile.tensors].filter(([k]) => !k.startsWith('expected') && k !== 'input')
      .map(([k, t]) => [k, (t.data as Float32Array).subarray(0, k.endsWith('weight') && k.includes('linear') ? 15 * 15 : 15)])), { dim: 15, numHeads: 3, T: 2, batch: 1, tokens: 5 });
    const x = a.from(f32(ssaFile, 'input'), [4, 2, 16, 64]), x2 = a.tensor([2, 2, 16, 64]), xo = a.tensor([1, 1, 5, 15]);
    const o = SpikeTensor.alloc(a, [4, 2, 16, 64]), o2 = SpikeTensor.alloc(a, [2, 2, 16, 64]), oo = SpikeTensor.alloc(a, [1, 1, 5, 15]);
    const spy = vi.spyOn(core, 'alloc');
    try {
      ssa.forward(x, o);
      ssa.forward(x2, o2);
      odd.forward(xo, oo);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      a.dispose();
    }
  });

  it('profile() lists the four linears and the attention product with their costs', () => {
    const a = core.arena();
    const ssa = SpikingSelfAttention.fromStateDict(a, ssaFile.tensors, '', fixtureConfig({ keepIntermediates: false, order: 'qk_v' }));
    const x = a.from(f32(ssaFile, 'input'), [4, 2, 16, 64]);
    const o = SpikeTensor.alloc(a, [4, 2, 16, 64]);
    resetNet(ssa);
    const table = profile(ssa, () => ssa.forward(x, o));
    const rows = Object.fromEntries(table.rows.map((r) => [r.name, r]));
    expect(Object.keys(rows)).toEqual(['attn.q_linear', 'attn.k_linear', 'attn.v_linear', 'attn.attention', 'attn.proj_linear']);
    const rowsTBN = 4 * 2 * 16;
    expect(rows['attn.q_linear'].macs).toBe(rowsTBN * 64 * 64);
    expect(rows['attn.q_linear'].analog).toBe(true);
    expect(rows['attn.proj_linear'].analog).toBe(false);
    const attnSpikes = Math.round((JSON.parse(ssaFile.metadata.lif_layers) as Record<string, { rate: number }>).attn_lif.rate * rowsTBN * 64);
    expect(rows['attn.proj_linear'].nonZero).toBe(attnSpikes);
    expect(rows['attn.attention'].macs).toBe(4 * 2 * 2 * 2 * 16 * 16 * 32);
    const qkv = ['q', 'k', 'v'].reduce((s, p) => s + u8(ssaFile, `expected.${p}_lif.spikes`).reduce((x, y) => x + y, 0), 0);
    expect(rows['attn.attention'].nonZero).toBe(qkv);
    expect(rows['attn.attention'].inputs).toBe(3 * rowsTBN * 64);
    a.dispose();
  });
});

// ---------------------------------------------------------------- properties

describe('BinaryAttention properties', () => {
  it('(Q Kᵀ) V == Q (Kᵀ V) == the float reference, exactly, over shapes and densities 0 … 100 %', () => {
    fc.assert(
      fc.property(
        fc.record({
          G: fc.integer({ min: 1, max: 3 }),
          N: fc.integer({ min: 1, max: 70 }),
          heads: fc.integer({ min: 1, max: 3 }),
          d: fc.oneof(fc.constantFrom(16, 32, 64), fc.integer({ min: 1, max: 70 })),
          pq: fc.constantFrom(0, 0.01, 0.3, 0.7, 1), pk: fc.double({ min: 0, max: 1, noNaN: true }), pv: fc.constantFrom(0, 0.5, 1),
          scale: fc.constantFrom(0.125, 0.25, 0.1),
          seed: fc.integer({ min: 0, max: 2 ** 30 }),
        }),
        ({ G, N, heads, d, pq, pk, pv, scale, seed }) => {
          const C = heads * d, n = G * N * C;
          const q = randomSpikes(n, seed, pq), k = randomSpikes(n, seed + 1, pk), v = randomSpikes(n, seed + 2, pv);
          const ref = attentionReference(q, k, v, G, N, heads, d, scale);
          const a = core.arena();
          try {
            const res: Record<string, { out: number[]; scores: number[]; counts: number[] }> = {};
            for (const order of ['qk_v', 'q_kv'] as const) {
              const att = new BinaryAttention(a, { numHeads: heads, headDim: d, tokens: N, scale, order });
              const shape = [G, N, C];
              const out = a.tensor(shape);
              out.f32.fill(NaN);
              const scores = a.tensor([G, heads, N, N], 'i32'), counts = a.tensor([G, heads, N, d], 'i32');
              att.forward(a.from(q, shape), a.from(k, shape), a.from(v, shape), out, { scores, counts });
              res[order] = { out: Array.from(out.f32), scores: Array.from(scores.data), counts: Array.from(counts.data) };
            }
            expect(res.q_kv).toEqual(res.qk_v);
            expect(res.qk_v.counts).toEqual(Array.from(ref.qkV));
            expect(res.qk_v.scores).toEqual(Array.from(ref.scores));
            // × s in float32: the float64 product rounded once (exact for s = 2⁻ᵏ)
            expect(res.qk_v.out).toEqual(Array.from(ref.out, (_, i) => Math.fround(Math.fround(scale) * refCountAt(ref, i, G, N, heads, d))));
            if (scale === 0.125) expect(res.qk_v.out).toEqual(Array.from(ref.out));
          } finally {
            a.dispose();
          }
        },
      ),
      { numRuns: 120, seed: 20240603 },
    );
  });

  it('the float reference itself agrees with the oracle integer products (independent check)', () => {
    const N = 9, d = 7;
    const q = randomSpikes(N * d, 1, 0.5), k = randomSpikes(N * d, 2, 0.5), v = randomSpikes(N * d, 3, 0.5);
    const A = intMatmulRef(q, transposeRef(k, N, d), N, d, N);
    const Cm = intMatmulRef(A, v, N, N, d);
    const ref = attentionReference(q, k, v, 1, N, 1, d);
    expect(Array.from(ref.scores)).toEqual(Array.from(A));
    expect(Array.from(ref.qkV)).toEqual(Array.from(Cm));
  });

  it('auto picks Q (Kᵀ V) exactly when N > d; bad options throw typed errors', () => {
    expect(resolveAttentionOrder('auto', 196, 64)).toBe('q_kv');
    expect(resolveAttentionOrder('auto', 64, 64)).toBe('qk_v');
    expect(resolveAttentionOrder('auto', 16, 32)).toBe('qk_v');
    expect(resolveAttentionOrder('qk_v', 196, 64)).toBe('qk_v');
    expect(() => resolveAttentionOrder('bad' as 'auto', 1, 1)).toThrow(ArgumentError);
    const a = core.arena();
    expect(() => new BinaryAttention(a, { numHeads: 0, headDim: 4, tokens: 4 })).toThrow(ArgumentError);
    const att = new BinaryAttention(a, { numHeads: 2, headDim: 4, tokens: 3, name: 'blk.attention' });
    expect(() => att.forward(a.tensor([3, 8]), a.tensor([3, 8]), a.tensor([3, 7]), a.tensor([3, 8]))).toThrow(/blk\.attention.*v/);
    expect(() => att.forward(a.tensor([3, 8]), a.tensor([3, 8]), a.tensor([3, 8]), a.tensor([3, 8], 'i32'))).toThrow(/output/);
    a.dispose();
  });
});

function refCountAt(ref: { qkV: Float64Array }, i: number, G: number, N: number, heads: number, d: number): number {
  // out index (g, n, h·d + c) → qkV index (g, h, n, c)
  const C = heads * d;
  const g = Math.floor(i / (N * C)), n = Math.floor(i / C) % N, ch = i % C, h = Math.floor(ch / d), c = ch % d;
  return ref.qkV[((g * heads + h) * N + n) * d + c];
}

describe('SpikingSelfAttention properties', () => {
  /** A random SSA state dict with BN statistics that make the LIFs fire at varied rates. */
  function randomStateDict(D: number, seed: number, withBias: boolean): StateDict {
    const sd: Record<string, Float32Array> = {};
    const r = rng(seed);
    for (const p of ['q', 'k', 'v', 'proj']) {
      sd[`${p}_linear.weight`] = randomF32(D * D, seed + p.length * 7, -1, 1);
      sd[`${p}_linear.bias`] = withBias ? randomF32(D, seed + p.length * 11, -0.5, 0.5) : new Float32Array(D);
      sd[`${p}_bn.weight`] = Float32Array.from({ length: D }, () => 0.5 + 2 * r());
      sd[`${p}_bn.bias`] = Float32Array.from({ length: D }, () => -1 + 3 * r());
      sd[`${p}_bn.running_mean`] = Float32Array.from({ length: D }, () => -0.5 + r());
      sd[`${p}_bn.running_var`] = Float32Array.from({ length: D }, () => 0.5 + 4 * r());
    }
    return sd;
  }

  it('orders agree bit for bit and attention integers match the float reference, over random shapes (odd D too)', () => {
    const seen = { qSpikes: 0, qAll: 0, attnNonZero: 0, attnAll: 0 };
    fc.assert(
      fc.property(
        fc.record({
          T: fc.integer({ min: 1, max: 4 }), B: fc.integer({ min: 1, max: 2 }), N: fc.integer({ min: 1, max: 40 }),
          heads: fc.integer({ min: 1, max: 3 }), d: fc.constantFrom(1, 5, 16, 17, 32, 33),
          seed: fc.integer({ min: 0, max: 2 ** 30 }), xmax: fc.constantFrom(0, 1, 2, 4),
        }),
        ({ T, B, N, heads, d, seed, xmax }) => {
          const D = heads * d;
          const sd = randomStateDict(D, seed, seed % 2 === 0);
          const xv = Float32Array.from(randomF32(T * B * N * D, seed + 99, 0, xmax + 1), Math.floor); // small integers, like the residual stream
          const a = core.arena();
          try {
            const runs = (['qk_v', 'q_kv'] as const).map((order) => {
              const ssa = new SpikingSelfAttention(a, sd, { dim: D, numHeads: heads, T, batch: B, tokens: N, order, keepIntermediates: true });
              const o = SpikeTensor.alloc(a, [T, B, N, D]);
              ssa.forward(a.from(xv, [T, B, N, D]), o);
              const im = ssa.intermediates!;
              return { ssa, out: Array.from(o.bits.data), counts: Array.from(im.qkV.data), scores: Array.from(im.attnScores.data), attnOut: Array.from(im.attnOut.f32), q: Array.from(im.q.f32), k: Array.from(im.k.f32), v: Array.from(im.v.f32) };
            });
            expect(runs[1].out).toEqual(runs[0].out);
            expect(runs[1].counts).toEqual(runs[0].counts);
            expect(runs[1].attnOut).toEqual(runs[0].attnOut);
            // the attention part against the float reference on the recorded Q, K, V ([T, B, N, D] = [G, N, C])
            const ref = attentionReference(runs[0].q, runs[0].k, runs[0].v, T * B, N, heads, d, 0.125);
            expect(runs[0].counts).toEqual(Array.from(ref.qkV));
            expect(runs[0].scores).toEqual(Array.from(ref.scores));
            expect(runs[0].attnOut).toEqual(Array.from(ref.out));
            seen.qSpikes += runs[0].q.reduce((x, y) => x + y, 0);
            seen.qAll += runs[0].q.length;
            seen.attnNonZero += runs[0].attnOut.filter((x) => x !== 0).length;
            seen.attnAll += runs[0].attnOut.length;
          } finally {
            a.dispose();
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
    // the random weights make the cases non-degenerate: Q fires at a moderate rate, attention outputs are mostly non-zero
    expect(seen.qSpikes / seen.qAll).toBeGreaterThan(0.05);
    expect(seen.qSpikes / seen.qAll).toBeLessThan(0.95);
    expect(seen.attnNonZero / seen.attnAll).toBeGreaterThan(0.1);
  });
});
