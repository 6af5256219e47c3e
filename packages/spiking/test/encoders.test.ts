import { beforeAll, describe, expect, it } from 'vitest';
import { init, conv2d3x3, ArgumentError, ShapeError, type Core } from '@spikewasm/core-wasm';
import { packBitsRef } from '@spikewasm/core-wasm/oracle';
import {
  LIFNode, SpikeTensor, RateEncoder, Xoshiro128StarStar, eventFrames, frameSegments, repeatInput, repeatSteps,
  type DvsEvents, type SplitBy,
} from '../src/index.js';
import { randomF32, rng } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const u32view = (f: Float32Array) => Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));

describe('direct encoding', () => {
  it('repeatInput materialises x.unsqueeze(0).repeat(T, …)', () => {
    const a = core.arena();
    const xv = randomF32(2 * 3 * 5, 1);
    const out = repeatInput(a.from(xv, [2, 3, 5]), 4, a.tensor([4, 2, 3, 5]));
    for (let t = 0; t < 4; t++) expect(Array.from(out.f32.subarray(t * 30, (t + 1) * 30))).toEqual(Array.from(xv));
    expect(() => repeatInput(a.from(xv, [2, 3, 5]), 3, a.tensor([4, 2, 3, 5]))).toThrow(ShapeError);
    expect(() => repeatInput(a.from(xv, [2, 3, 5]), 0, a.tensor([0, 2, 3, 5]))).toThrow(ArgumentError);
    a.dispose();
  });

  it('repeatSteps ≡ a multi-step LIF on the materialised repeat (spikes, floats, h, final v), multi- and single-step nodes', () => {
    const cases: [number, number[], { vThreshold?: number; tau?: number }][] = [
      [1, [1], {}], [4, [33], {}], [7, [64], { vThreshold: 0.5 }], [4, [2, 3, 32], {}], [16, [1, 2, 64], { tau: 3 }], [5, [100], {}],
    ];
    for (const [T, ns, p] of cases) {
      const a = core.arena();
      const N = ns.reduce((x, y) => x * y, 1);
      const x = a.from(randomF32(N, T * 31 + N, -0.5, 2.5), ns);
      const ref = new LIFNode(a, ns, p);
      const refS = SpikeTensor.alloc(a, [T, ...ns]), refF = a.tensor([T, ...ns]), refH = a.tensor([T, ...ns]);
      ref.forward(repeatInput(x, T, a.tensor([T, ...ns])), { spikes: refS, floats: refF, h: refH });
      for (const stepMode of ['m', 's'] as const) {
        const node = new LIFNode(a, ns, { ...p, stepMode });
        const s = SpikeTensor.alloc(a, [T, ...ns]), f = a.tensor([T, ...ns]).set(new Float32Array(T * N).fill(NaN)), h = a.tensor([T, ...ns]);
        repeatSteps(x, T, node, { spikes: s, floats: f, h });
        const tag = `T=${T} ns=[${ns}] ${stepMode}`;
        expect(Array.from(s.bits.data), tag).toEqual(Array.from(refS.bits.data));
        expect(Array.from(f.f32), tag).toEqual(Array.from(refF.f32));
        expect(u32view(h.f32), tag).toEqual(u32view(refH.f32));
        expect(u32view(node.v.f32), tag).toEqual(u32view(ref.v.f32));
      }
      a.dispose();
    }
  });

  it('first conv computed once + repeatSteps ≡ spikingjelly pipeline conv(repeat(x)) → multi-step LIF', () => {
    const a = core.arena();
    const T = 4, B = 2, Cin = 3, Cout = 4, H = 5, W = 32;
    const img = randomF32(B * Cin * H * W, 7, 0, 1);
    const w = a.from(randomF32(Cout * Cin * 9, 8, -0.6, 0.6), [Cout, Cin, 3, 3]);
    const bias = a.from(randomF32(Cout, 9, -0.2, 0.2), [Cout]);
    // reference: repeat T times, flatten(0, 1), conv, reshape to [T, B, …], multi-step LIF
    const rep = repeatInput(a.from(img, [B, Cin, H, W]), T, a.tensor([T, B, Cin, H, W]));
    const yRep = conv2d3x3(rep.reshape([T * B, Cin, H, W]), w, a.tensor([T * B, Cout, H, W]), { bias });
    const refS = SpikeTensor.alloc(a, [T, B, Cout, H, W]);
    new LIFNode(a, [B, Cout, H, W]).forward(yRep.reshape([T, B, Cout, H, W]), { spikes: refS });
    // direct: conv once, then T LIF steps on the same tensor
    const y = conv2d3x3(a.from(img, [B, Cin, H, W]), w, a.tensor([B, Cout, H, W]), { bias });
    const s = SpikeTensor.alloc(a, [T, B, Cout, H, W]);
    repeatSteps(y, T, new LIFNode(a, [B, Cout, H, W]), { spikes: s });
    expect(refS.count()).toBeGreaterThan(0);
    expect(Array.from(s.bits.data)).toEqual(Array.from(refS.bits.data));
    a.dispose();
  });

  it('continues the membrane across calls (streaming) and rejects bad shapes', () => {
    const a = core.arena();
    const x = a.from(randomF32(40, 3, 0, 1.5), [40]);
    const ref = new LIFNode(a, [40]), node = new LIFNode(a, [40]);
    const all = a.tensor([5, 40]);
    ref.forward(repeatInput(x, 5, a.tensor([5, 40])), { floats: all });
    const f2 = a.tensor([2, 40]), f3 = a.tensor([3, 40]);
    repeatSteps(x, 2, node, { floats: f2 });
    repeatSteps(x, 3, node, { floats: f3 });
    expect([...f2.f32, ...f3.f32]).toEqual(Array.from(all.f32));
    expect(() => repeatSteps(a.tensor([41]), 2, node, { floats: f2 })).toThrow(/repeatSteps: input expected shape \[40\], got \[41\]/);
    expect(() => repeatSteps(x, 3, node, { floats: f2 })).toThrow(ShapeError);
    expect(() => repeatSteps(x, 2, node, { spikes: SpikeTensor.alloc(a, [3, 40]) })).toThrow(ShapeError);
    expect(() => repeatSteps(x, 2, node, {})).toThrow(ArgumentError);
    a.dispose();
  });
});

// ---------------------------------------------------------------- rate encoding

/** Independent xoshiro128** + fmix32 seeding in BigInt arithmetic (no Math.imul, no int32 tricks). */
function bigXoshiro(seed: number): () => number {
  const M = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const fmix = (h: bigint) => {
    h ^= h >> 16n; h = mul(h, 0x85ebca6bn); h ^= h >> 13n; h = mul(h, 0xc2b2ae35n); h ^= h >> 16n;
    return h;
  };
  const s = [1n, 2n, 3n, 4n].map((k) => fmix((BigInt(seed) + k * 0x9e3779b9n) & M));
  return () => {
    const result = mul(rotl(mul(s[1], 5n), 7n), 9n);
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11n);
    return Number(result);
  };
}

describe('Xoshiro128StarStar', () => {
  it('matches the reference C code from state {1, 2, 3, 4} (rand_xoshiro test vector)', () => {
    const g = new Xoshiro128StarStar(1, 2, 3, 4);
    expect(Array.from({ length: 10 }, () => g.nextU32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('fromSeed streams equal an independent BigInt implementation; short pinned prefixes from the C reference', () => {
    for (const seed of [0, 1, 2, 42, 12345, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const g = Xoshiro128StarStar.fromSeed(seed), ref = bigXoshiro(seed);
      for (let i = 0; i < 2000; i++) expect(g.nextU32()).toBe(ref());
    }
    // compiled xoshiro128starstar.c + fmix32 seeding (gcc), first three outputs
    const first3 = (seed: number) => { const g = Xoshiro128StarStar.fromSeed(seed); return [g.nextU32(), g.nextU32(), g.nextU32()]; };
    expect(first3(0)).toEqual([0xe308dc58, 0x4392d0e4, 0x03318f97]);
    expect(first3(42)).toEqual([0xa91e1cac, 0x207b36e9, 0x1c987ffa]);
    expect(first3(0xffffffff)).toEqual([0x31d28326, 0x728481f8, 0x8c70d5d1]);
  });

  it('state() resumes a stream; bad seeds and states throw', () => {
    const g = Xoshiro128StarStar.fromSeed(9);
    for (let i = 0; i < 5; i++) g.nextU32();
    const h = new Xoshiro128StarStar(...g.state());
    for (let i = 0; i < 50; i++) expect(h.nextU32()).toBe(g.nextU32());
    for (const bad of [-1, 1.5, 2 ** 32, NaN]) expect(() => Xoshiro128StarStar.fromSeed(bad)).toThrow(ArgumentError);
    expect(() => new Xoshiro128StarStar(0, 0, 0, 0)).toThrow(/all zero/);
  });
});

describe('RateEncoder', () => {
  it('reproduces the bits of an independent reimplementation (u·2³² < p·2³²), for bit and f32 outputs', () => {
    for (const [T, shape, seed] of [[5, [3, 45], 7], [1, [1], 0], [3, [2, 2, 64], 99], [8, [33], 0xdeadbeef]] as [number, number[], number][]) {
      const a = core.arena();
      const n = shape.reduce((x, y) => x * y, 1);
      const pv = randomF32(n, seed + 1, 0, 1);
      pv[0] = 0;
      if (n > 2) pv[n - 1] = 1;
      const ref = bigXoshiro(seed);
      const want = new Float32Array(T * n);
      for (let j = 0; j < T * n; j++) want[j] = ref() < pv[j % n] * 4294967296 ? 1 : 0;
      const p = a.from(pv, shape);
      const bits = new RateEncoder(seed).encode(p, SpikeTensor.alloc(a, [T, ...shape])) as SpikeTensor;
      const floats = new RateEncoder(seed).encode(p, a.tensor([T, ...shape]).set(new Float32Array(T * n).fill(NaN)));
      const cols = shape[shape.length - 1];
      expect(Array.from(bits.bits.data)).toEqual(Array.from(packBitsRef(want, (T * n) / cols, cols)));
      expect(Array.from(floats.f32)).toEqual(Array.from(want));
      a.dispose();
    }
  });

  it('encoding in chunks consumes the same stream as one call; reseed restarts it', () => {
    const a = core.arena();
    const p = a.from(randomF32(70, 4, 0, 1), [70]);
    const whole = new RateEncoder(5).encode(p, a.tensor([6, 70])) as { f32: Float32Array };
    const enc = new RateEncoder(5);
    const parts: number[] = [];
    for (const k of [1, 2, 3]) parts.push(...(enc.encode(p, a.tensor([k, 70])) as { f32: Float32Array }).f32);
    expect(parts).toEqual(Array.from(whole.f32));
    enc.reseed(5);
    expect(Array.from((enc.encode(p, a.tensor([6, 70])) as { f32: Float32Array }).f32)).toEqual(Array.from(whole.f32));
    a.dispose();
  });

  it('empirical rate ≈ p within 5 binomial standard deviations; p = 0 and p = 1 are exact', () => {
    const a = core.arena();
    const N = 1000, T = 100;
    for (const pr of [0, 0.01, 0.1, 0.3, 0.5, 0.9, 1]) {
      const s = new RateEncoder(2024).encode(a.from(new Float32Array(N).fill(pr), [N]), SpikeTensor.alloc(a, [T, N])) as SpikeTensor;
      const n = T * N, pf = Math.fround(pr);
      const sd = Math.sqrt(n * pf * (1 - pf));
      expect(Math.abs(s.count() - n * pf), `p=${pr}`).toBeLessThanOrEqual(5 * sd);
      if (pr === 0) expect(s.count()).toBe(0);
      if (pr === 1) expect(s.count()).toBe(n);
    }
    a.dispose();
  });

  it('two seeds (even adjacent ones) give independent streams: agreement at p = ½ is ½ within 5σ', () => {
    const a = core.arena();
    const N = 50_000;
    const p = a.from(new Float32Array(N).fill(0.5), [N]);
    for (const [s1, s2] of [[0, 1], [1, 2], [42, 43], [7, 0x80000007]]) {
      const x = (new RateEncoder(s1).encode(p, a.tensor([1, N])) as { f32: Float32Array }).f32.slice(); // copy: the next allocation may grow memory
      const y = (new RateEncoder(s2).encode(p, a.tensor([1, N])) as { f32: Float32Array }).f32;
      let agree = 0;
      for (let i = 0; i < N; i++) if (x[i] === y[i]) agree++;
      expect(Math.abs(agree - N / 2), `${s1} vs ${s2}`).toBeLessThanOrEqual(5 * Math.sqrt(N / 4));
    }
    a.dispose();
  });

  it('rejects p outside [0, 1] (naming the index) and mismatched shapes', () => {
    const a = core.arena();
    const enc = new RateEncoder(1, { name: 'enc' });
    for (const bad of [1.5, -0.25, NaN]) {
      const pv = new Float32Array(8).fill(0.5);
      pv[3] = bad;
      expect(() => enc.encode(a.from(pv, [8]), SpikeTensor.alloc(a, [2, 8]))).toThrow(new RegExp(`enc.encode: p\\[3\\] = ${bad} is outside \\[0, 1\\]`));
    }
    expect(() => enc.encode(a.tensor([8]), SpikeTensor.alloc(a, [2, 9]))).toThrow(ShapeError);
    expect(() => enc.encode(a.tensor([8]), SpikeTensor.alloc(a, [8]))).toThrow(/expected shape \[T, 8\]/);
    expect(() => enc.encode(a.tensor([]), a.tensor([4]))).toThrow(/at least one dimension/);
    expect(() => new RateEncoder(-3)).toThrow(ArgumentError);
    a.dispose();
  });
});

// ---------------------------------------------------------------- event frames

/** spikingjelly's cal_fixed_frames_number_segment_index + integrate_events_segment_to_frame, ported line by line
 *  (masks over all events, idx_masked[0] / [-1]) — valid where every 'time' window holds an event. */
function sjFrames(ev: Required<DvsEvents>, splitBy: SplitBy, T: number, H: number, W: number): Float64Array {
  const N = ev.t.length;
  const jl = new Array<number>(T).fill(0), jr = new Array<number>(T).fill(0);
  if (splitBy === 'number') {
    const di = Math.floor(N / T);
    for (let i = 0; i < T; i++) { jl[i] = i * di; jr[i] = jl[i] + di; }
    jr[T - 1] = N;
  } else {
    const dt = Math.floor((ev.t[N - 1] - ev.t[0]) / T);
    for (let i = 0; i < T; i++) {
      const tl = dt * i + ev.t[0], tr = tl + dt;
      const idx: number[] = [];
      for (let k = 0; k < N; k++) if (ev.t[k] >= tl && ev.t[k] < tr) idx.push(k);
      if (!idx.length) throw new Error('IndexError (empty window)');
      jl[i] = idx[0];
      jr[i] = idx[idx.length - 1] + 1;
    }
    jr[T - 1] = N;
  }
  const out = new Float64Array(T * 2 * H * W);
  for (let i = 0; i < T; i++) {
    for (let k = jl[i]; k < jr[i]; k++) {
      const c = ev.p[k] === 0 ? 0 : 1;
      out[((i * 2 + c) * H + ev.y[k]) * W + ev.x[k]]++;
    }
  }
  return out;
}

/** The same frames from a per-event frame index (integer timestamps): 'number' j = min(⌊k/d⌋, T−1) with d = ⌊N/T⌋
 *  (T−1 if d = 0); 'time' j = min(⌊(t_k − t_0)/Δ⌋, T−1) (T−1 if Δ = 0). Covers empty windows too. */
function perEventFrames(ev: Required<DvsEvents>, splitBy: SplitBy, T: number, H: number, W: number): Float64Array {
  const N = ev.x.length;
  const out = new Float64Array(T * 2 * H * W);
  const d = Math.floor(N / T), dt = N ? Math.floor((ev.t[N - 1] - ev.t[0]) / T) : 0;
  for (let k = 0; k < N; k++) {
    const q = splitBy === 'number' ? (d ? Math.floor(k / d) : T) : dt ? Math.floor((ev.t[k] - ev.t[0]) / dt) : T;
    out[((Math.min(q, T - 1) * 2 + ev.p[k]) * H + ev.y[k]) * W + ev.x[k]]++;
  }
  return out;
}

function randomEvents(N: number, H: number, W: number, seed: number, maxGap = 3): Required<DvsEvents> {
  const r = rng(seed);
  const ev = { x: [] as number[], y: [] as number[], p: [] as number[], t: [] as number[] };
  let t = Math.floor(r() * 1000);
  for (let i = 0; i < N; i++) {
    ev.x.push(Math.floor(r() * W));
    ev.y.push(Math.floor(r() * H));
    ev.p.push(r() < 0.5 ? 0 : 1);
    ev.t.push(t);
    t += Math.floor(r() * (maxGap + 1)); // duplicates allowed
  }
  return ev;
}

describe('eventFrames', () => {
  it('a hand-checked example, split by number and by time', () => {
    const a = core.arena();
    // 7 events on a 2×3 sensor; T = 3
    const ev = { x: [0, 1, 2, 0, 1, 2, 2], y: [0, 0, 1, 1, 1, 0, 0], p: [0, 1, 1, 0, 0, 1, 1], t: [0, 1, 2, 3, 10, 11, 12] };
    const f = eventFrames(ev, 'number', a.tensor([3, 2, 2, 3])).f32;
    // ⌊7/3⌋ = 2: frames [0,2), [2,4), [4,7)
    expect(frameSegments(ev, 'number', 3)).toEqual({ start: [0, 2, 4], end: [2, 4, 7] });
    expect(Array.from(f)).toEqual([
      1, 0, 0, 0, 0, 0, /* | */ 0, 1, 0, 0, 0, 0, // frame 0: (x0,y0,p0), (x1,y0,p1)
      0, 0, 0, 1, 0, 0, /* | */ 0, 0, 0, 0, 0, 1, // frame 1: (x0,y1,p0), (x2,y1,p1)
      0, 0, 0, 0, 1, 0, /* | */ 0, 0, 2, 0, 0, 0, // frame 2: (x1,y1,p0), (x2,y0,p1) ×2
    ]);
    // time: Δ = (12 − 0) // 3 = 4 → windows [0,4), [4,8) (empty), [8, ∞)
    expect(frameSegments(ev, 'time', 3)).toEqual({ start: [0, 4, 4], end: [4, 4, 7] });
    const g = eventFrames(ev, 'time', a.tensor([3, 2, 2, 3])).f32;
    expect(Array.from(g.subarray(12, 24))).toEqual(new Array(12).fill(0));
    expect(g.reduce((s, v) => s + v, 0)).toBe(7);
    a.dispose();
  });

  it('equals a line-by-line port of spikingjelly for random streams (number and time), counts conserved', () => {
    let compared = 0;
    for (const [N, T, H, W, seed, gap] of [[1, 1, 4, 4, 1, 3], [5, 3, 4, 7, 2, 3], [17, 16, 8, 8, 3, 9], [1000, 16, 16, 16, 4, 3], [4999, 10, 32, 34, 5, 5], [64, 64, 2, 2, 6, 200]]) {
      const ev = randomEvents(N, H, W, seed, gap);
      const a = core.arena();
      for (const splitBy of ['number', 'time'] as const) {
        const out0 = eventFrames(ev, splitBy, a.tensor([T, 2, H, W]));
        expect(Array.from(out0.f32), `${splitBy} N=${N} T=${T} (per-event frame index)`).toEqual(Array.from(perEventFrames(ev, splitBy, T, H, W)));
        let want: Float64Array;
        try {
          want = sjFrames(ev, splitBy, T, H, W);
        } catch {
          continue; // spikingjelly itself fails on an empty time window (here: time with N = 1, 17 and 64)
        }
        const out = eventFrames(ev, splitBy, a.tensor([T, 2, H, W]).set(new Float32Array(T * 2 * H * W).fill(NaN)));
        expect(Array.from(out.f32), `${splitBy} N=${N} T=${T}`).toEqual(Array.from(want));
        expect(out.f32.reduce((s, v) => s + v, 0)).toBe(N);
        compared++;
      }
      a.dispose();
    }
    expect(compared).toBe(9);
  });

  it('edge cases: no events, fewer events than frames, all timestamps equal', () => {
    const a = core.arena();
    const empty = { x: [], y: [], p: [], t: [] };
    for (const s of ['number', 'time'] as const) expect(eventFrames(empty, s, a.tensor([4, 2, 2, 2])).f32.every((v) => v === 0)).toBe(true);
    const few = { x: [0, 1], y: [0, 0], p: [1, 1], t: [5, 6] };
    expect(frameSegments(few, 'number', 4)).toEqual({ start: [0, 0, 0, 0], end: [0, 0, 0, 2] }); // ⌊2/4⌋ = 0: all in the last
    const same = { x: [0, 1, 0], y: [0, 0, 1], p: [0, 1, 0], t: [5, 5, 5] };
    expect(frameSegments(same, 'time', 4)).toEqual({ start: [0, 0, 0, 0], end: [0, 0, 0, 3] }); // Δ = 0
    a.dispose();
  });

  it('validates before writing, with typed errors naming the field and index', () => {
    const a = core.arena();
    const out = a.tensor([2, 2, 3, 4]).set(new Float32Array(48).fill(NaN));
    const ok = { x: [0, 3, 1], y: [2, 0, 1], p: [0, 1, 1], t: [1, 2, 2] };
    const cases: [DvsEvents, SplitBy, RegExp, typeof ShapeError | typeof ArgumentError][] = [
      [{ ...ok, x: [0, 4, 1] }, 'number', /events\.x\[1\] = 4 is outside \[0, 4\)/, ArgumentError],
      [{ ...ok, x: [0, 1.5, 1] }, 'number', /events\.x\[1\] = 1\.5/, ArgumentError],
      [{ ...ok, y: [2, 0, 3] }, 'number', /events\.y\[2\] = 3 is outside \[0, 3\)/, ArgumentError],
      [{ ...ok, p: [0, -1, 1] }, 'number', /events\.p\[1\] = -1, expected 0 or 1/, ArgumentError],
      [{ ...ok, t: [1, 2, 0] }, 'time', /events\.t\[2\] = 0 < events\.t\[1\] = 2/, ArgumentError],
      [{ ...ok, t: [1, NaN, 2] }, 'time', /events\.t\[1\] = NaN/, ArgumentError],
      [{ x: ok.x, y: ok.y, p: ok.p }, 'time', /events\.t is required/, ArgumentError],
      [{ ...ok, y: [1, 1] }, 'number', /events\.y has 2 entries, events\.x has 3/, ShapeError],
      [ok, 'space' as SplitBy, /splitBy must be 'number' or 'time'/, ArgumentError],
    ];
    for (const [ev, s, msg, cls] of cases) {
      expect(() => eventFrames(ev, s, out)).toThrow(msg);
      expect(() => eventFrames(ev, s, out)).toThrow(cls);
      expect(out.f32.every((v) => Number.isNaN(v))).toBe(true);
    }
    // decreasing timestamps are fine when splitting by number
    expect(eventFrames({ ...ok, t: [3, 2, 1] }, 'number', out).f32.reduce((s, v) => s + v, 0)).toBe(3);
    expect(() => eventFrames(ok, 'number', a.tensor([2, 3, 3, 4]))).toThrow(/expected shape \[T, 2, H, W\]/);
    a.dispose();
  });
});
