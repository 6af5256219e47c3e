// GELU (exact-erf form) and the erf behind it, against float64 references: errors are measured in float32 ulps of
// the float64 true value. Both backends, the GRID sizes plus 1000, guarded NaN-prefilled outputs, scalar ≡ SIMD bit
// for bit, special values (NaN payloads, ±∞, ±0, subnormals, ±1e30), and a check that the checker itself can fail.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, Core } from '../src/index.js';
import * as ops from '../src/ops.js';
import { erf64, geluRef } from '../src/oracle.js';
import { BACKENDS, GRID, bytesEqual, guarded, randomF32, rng } from './helpers.js';

let core: Core;
beforeAll(async () => {
  core = await init();
});

const SIZES = [...GRID, 1000];
const MIN_SUB = 2 ** -149;
const MAX_SUB = 2 ** -126 - 2 ** -149;
const MAX_F32 = (2 - 2 ** -23) * 2 ** 127;

const f64bits = new DataView(new ArrayBuffer(8));
/** The float32 ulp at the (float64) value t: 2^(e−23) for 2^e ≤ |t| < 2^(e+1), 2^−149 below 2^−126. */
function ulp32(t: number): number {
  const a = Math.abs(t);
  if (a < 2 ** -126) return MIN_SUB;
  f64bits.setFloat64(0, a);
  const e = ((f64bits.getUint32(0) >>> 20) & 0x7ff) - 1023;
  return 2 ** (e - 23);
}

/** Float32 neighbours: next(x, k) is k float32 steps above x (k may be negative; finite, non-zero x). */
function next(x: number, k: number): number {
  const b = new Float32Array([x]), u = new Int32Array(b.buffer);
  u[0] += x > 0 ? k : -k;
  return b[0];
}

/** erfc(a) in float64 for a ≥ 0, accurate in relative terms (for the negative GELU tail, where 1 + erf(v) cancels):
 *  1 − erf64(a) below 2, the Lentz continued fraction (as in the oracle) above. */
function erfcRef(a: number): number {
  if (a < 2) return 1 - erf64(a);
  let f = a, C = a, D = 0;
  for (let n = 1; n < 2000; n++) {
    const an = n / 2;
    D = 1 / (a + an * D);
    C = a + an / C;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-17) break;
  }
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/** GELU for x ≤ 0 with relative accuracy: 0.5·x·erfc(|x|/√2). */
function geluTailRef(x: number): number {
  return 0.5 * x * erfcRef(-x / Math.SQRT2);
}

interface Worst { ulps: number; x: number; got: number; want: number }

/** Largest |got − want| / (ulp32(want) + abs(x)), NaN or sign-flipped output counting as ∞. */
function worstUlps(xs: ArrayLike<number>, got: ArrayLike<number>, want: (x: number) => number, abs: (x: number) => number = () => 0): Worst {
  const w: Worst = { ulps: 0, x: NaN, got: NaN, want: NaN };
  for (let i = 0; i < xs.length; i++) {
    const t = want(xs[i]);
    const g = got[i];
    const r = Number.isNaN(g) ? Infinity : Math.abs(g - t) / (ulp32(t) + abs(xs[i]));
    if (r > w.ulps || Number.isNaN(w.x)) Object.assign(w, { ulps: r, x: xs[i], got: g, want: t });
  }
  return w;
}

const fmt = (w: Worst) => `${w.ulps.toFixed(6)} ulp at x = ${w.x} (got ${w.got}, want ${w.want})`;

/** Runs `fn(inPtr, outPtr, n)` on a copy of xs (bits preserved) into a guarded NaN-prefilled output; returns the output. */
function runRaw(xs: Float32Array, fn: (x: number, y: number, n: number) => void): Float32Array {
  const arena = core.arena();
  try {
    const x = arena.tensor([xs.length]);
    new Uint32Array(core.memory.buffer, x.ptr, xs.length).set(new Uint32Array(xs.buffer, xs.byteOffset, xs.length));
    const g = guarded(arena, [xs.length]);
    fn(x.ptr, g.t.ptr, xs.length);
    g.check();
    expect(g.unwritten()).toBe(0);
    return new Float32Array(new Uint32Array(core.memory.buffer, g.t.ptr, xs.length).slice().buffer);
  } finally {
    arena.dispose();
  }
}

const erfWasm = (xs: Float32Array) => runRaw(xs, core.exports.f32_erf_scalar as (x: number, y: number, n: number) => void);

/** ops.gelu on the given backend into a guarded output (guards and full coverage checked). */
function geluOn(backend: 'scalar' | 'simd', xs: Float32Array): Float32Array {
  core.backend = backend;
  const arena = core.arena();
  try {
    const x = arena.tensor([xs.length]);
    new Uint32Array(core.memory.buffer, x.ptr, xs.length).set(new Uint32Array(xs.buffer, xs.byteOffset, xs.length));
    const g = guarded(arena, [xs.length]);
    ops.gelu(x, g.t);
    g.check();
    const missing = g.unwritten();
    if (missing) throw new Error(`gelu ${backend} n=${xs.length}: ${missing} output elements were not written`);
    return new Float32Array(new Uint32Array(core.memory.buffer, g.t.ptr, xs.length).slice().buffer);
  } finally {
    arena.dispose();
    core.backend = 'simd';
  }
}

/** Both backends; asserts they agree bit for bit and returns the (common) output. */
function geluBoth(xs: Float32Array, label: string): Float32Array {
  const s = geluOn('scalar', xs), v = geluOn('simd', xs);
  if (!bytesEqual(s, v)) {
    const i = s.findIndex((a, k) => !Object.is(a, v[k]) && !(Number.isNaN(a) && Number.isNaN(v[k])));
    throw new Error(`${label}: scalar and SIMD differ (first at ${i}: x = ${xs[i]}, scalar ${s[i]}, simd ${v[i]})`);
  }
  return s;
}

/** Edge inputs for erf/GELU: zeros, subnormals, the polynomial/tail split (|v| = 1), where erf reaches 1, the
 *  tail clamp, integers ± 1 ulp, huge values. */
function edgeValues(scale: number): number[] {
  const xs = [0, -0, MIN_SUB, 2 * MIN_SUB, 3 * MIN_SUB, MAX_SUB, 2 ** -126, 1e-30, 1e-10, 2 ** -24, 1e-4, 0.5];
  for (const c of [1, 2, 3, 3.9, 4, 5, 6, 7, 10.5]) {
    const x = Math.fround(c * scale);
    for (let k = -2; k <= 2; k++) xs.push(next(x, k));
  }
  xs.push(10, 20, 1e30, MAX_F32);
  return [...xs, ...xs.map((x) => -x)];
}

describe('erf (f32_erf_scalar)', () => {
  const stats = { max: 0 };

  it('dense grid on [−7, 7] (step 2⁻¹²) plus edge values: ≤ 1 ulp', () => {
    const xs: number[] = [];
    for (let i = -7 * 4096; i <= 7 * 4096; i++) xs.push(i / 4096);
    xs.push(...edgeValues(1));
    const x32 = new Float32Array(xs);
    const w = worstUlps(x32, erfWasm(x32), erf64);
    stats.max = Math.max(stats.max, w.ulps);
    console.log(`erf, dense grid [−7, 7] + edges (${x32.length} points): max error ${fmt(w)}`);
    expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
  });

  it('200 000 log-uniform magnitudes in [2⁻¹⁴⁹, 8], both signs: ≤ 1 ulp', () => {
    const r = rng(20240601);
    const x32 = new Float32Array(200_000);
    for (let i = 0; i < x32.length; i++) x32[i] = (r() < 0.5 ? -1 : 1) * 2 ** (-149 + 152 * r());
    const w = worstUlps(x32, erfWasm(x32), erf64);
    stats.max = Math.max(stats.max, w.ulps);
    console.log(`erf, log-uniform sample: max error ${fmt(w)}`);
    expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
  });

  it('evaluated in float64 and rounded once: measured max error ≤ 0.501 ulp (nearly correctly rounded)', () => {
    console.log(`erf: measured max error over the grid and sample ${stats.max.toFixed(6)} ulp`);
    expect(stats.max).toBeGreaterThan(0);
    expect(stats.max).toBeLessThanOrEqual(0.501);
  });

  it('is odd bit for bit, and exact at special values', () => {
    const r = rng(7);
    const pos = new Float32Array(4096).map(() => 8 * r());
    const a = erfWasm(pos), b = erfWasm(pos.map((x) => -x));
    for (let i = 0; i < pos.length; i++) expect(Object.is(b[i], -a[i]), `erf(−${pos[i]})`).toBe(true);
    const sp = erfWasm(new Float32Array([0, -0, Infinity, -Infinity, 1e30, -1e30, NaN, MIN_SUB, -MIN_SUB]));
    expect(Object.is(sp[0], 0)).toBe(true);
    expect(Object.is(sp[1], -0)).toBe(true);
    expect([sp[2], sp[3], sp[4], sp[5]]).toEqual([1, -1, 1, -1]);
    expect(sp[6]).toBeNaN();
    expect(sp[7]).toBe(Math.fround(MIN_SUB)); // 2/√π·2⁻¹⁴⁹ rounds to 2⁻¹⁴⁹
    expect(sp[8]).toBe(-MIN_SUB);
  });
});

describe('GELU (ops.gelu, exact-erf form)', () => {
  it.each(SIZES)('n = %i, x in [−10, 10]: ≤ 1 ulp + 1e-12·|x| on both backends, scalar ≡ SIMD, guards, all written', (n) => {
    const xs = randomF32(n, 1000 + n, -10, 10);
    const y = geluBoth(xs, `gelu n=${n}`);
    const w = worstUlps(xs, y, geluRef, (x) => 1e-12 * Math.abs(x));
    expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
  });

  it('dense grid on [−10, 10] (step 2⁻¹⁰) plus edge values: ≤ 1 ulp + 1e-12·|x|, scalar ≡ SIMD', () => {
    const xs: number[] = [];
    for (let i = -10 * 1024; i <= 10 * 1024; i++) xs.push(i / 1024);
    xs.push(...edgeValues(Math.SQRT2).filter((x) => Math.abs(x) <= 10));
    const x32 = new Float32Array(xs);
    const w = worstUlps(x32, geluBoth(x32, 'gelu grid'), geluRef, (x) => 1e-12 * Math.abs(x));
    console.log(`GELU, dense grid [−10, 10] + edges (${x32.length} points): max error ${fmt(w)} (bound 1 ulp + 1e-12·|x|)`);
    expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
  });

  it('relative accuracy: ≤ 1 ulp with no absolute term on [−14.5, 8] (negative tail down to float32 underflow)', () => {
    // anchors (mpmath, 50 digits) for the tail reference itself
    const anchors: [number, number][] = [[-14.25, -3.1940038815884367e-45], [-13, -7.952313719414843e-38], [-10, -7.619853024160526e-23],
      [-6, -5.9195258702261885e-09], [-3, -0.0040496940948902835], [-1.5, -0.1002108019032871]];
    for (const [x, g] of anchors) expect(Math.abs(geluTailRef(x) - g), `reference at ${x}`).toBeLessThan(1e-12 * Math.abs(g));
    const r = rng(99);
    const x32 = new Float32Array(100_000);
    for (let i = 0; i < x32.length; i++) x32[i] = -14.5 + 22.5 * r();
    const want = (x: number) => (x < 0 ? geluTailRef(x) : geluRef(x));
    const w = worstUlps(x32, geluBoth(x32, 'gelu tail'), want);
    console.log(`GELU, 100 000 points in [−14.5, 8], pure ulps: max error ${fmt(w)}`);
    expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
  });

  it('in place (out = x) equals out of place on both backends', () => {
    const xs = randomF32(67, 5, -6, 6);
    for (const b of BACKENDS) {
      const want = geluOn(b, xs);
      core.backend = b;
      const arena = core.arena();
      try {
        const t = arena.from(xs, [xs.length]);
        ops.gelu(t, t);
        expect(bytesEqual(t.toArray(), want), b).toBe(true);
      } finally {
        arena.dispose();
        core.backend = 'simd';
      }
    }
  });

  it('special values in every lane position: NaN (bits kept), ±∞, ±0, subnormals, ±1e30, ±max', () => {
    const nanBits = [0x7fc00000, 0xffc00000, 0x7fa00001, 0x7f812345]; // quiet, negative quiet, payloads, signalling
    const nans = new Float32Array(new Uint32Array(nanBits).buffer);
    const specials = [Infinity, -Infinity, 0, -0, MIN_SUB, -MIN_SUB, 3 * MIN_SUB, MAX_SUB, -MAX_SUB, 1e30, -1e30, MAX_F32, -MAX_F32, 14.5, -14.5, -15];
    const expected = (x: number): number => {
      if (x === Infinity || x === 1e30 || x === MAX_F32 || x === 14.5) return x;
      if (x === -Infinity || x === -1e30 || x === -MAX_F32 || x === -15) return -0;
      if (x === 0 || x === -0) return x;
      if (x === MIN_SUB) return MIN_SUB; // 2⁻¹⁵⁰·(1 + ε): a tie broken by the tiny erf term; 0 is also within 1 ulp
      if (x === -MIN_SUB) return -0;
      return NaN; // checked by ulps below
    };
    for (let off = 0; off < 4; off++) {
      const fill = new Array(off).fill(0.25);
      const x32 = new Float32Array([...fill, ...specials, ...fill]);
      const xs = new Float32Array(x32.length + nans.length);
      xs.set(x32);
      new Uint32Array(xs.buffer).set(nanBits, x32.length);
      const y = geluBoth(xs, `gelu specials off=${off}`);
      const yb = new Uint32Array(y.buffer);
      for (let i = 0; i < nanBits.length; i++) expect(yb[x32.length + i] >>> 0, 'NaN keeps its bits').toBe(nanBits[i]);
      for (let i = off; i < off + specials.length; i++) {
        const x = xs[i], e = expected(x);
        if (Number.isNaN(e)) {
          const w = worstUlps([x], [y[i]], geluTailRef);
          expect(w.ulps, fmt(w)).toBeLessThanOrEqual(1);
        } else {
          expect(Object.is(y[i], Math.fround(e)) || (x === MIN_SUB && Object.is(y[i], 0)), `gelu(${x}) = ${y[i]}, want ${e}`).toBe(true);
        }
      }
    }
    // −14.5 and −14.25 lie in the underflow range: the results are −0 or subnormal, within 1 ulp (2⁻¹⁴⁹)
    const tail = geluBoth(new Float32Array([-14.25, -14, -13.5]), 'gelu underflow');
    for (const [i, x] of [-14.25, -14, -13.5].entries()) expect(Math.abs(tail[i] - geluTailRef(x)), `gelu(${x})`).toBeLessThanOrEqual(ulp32(geluTailRef(x)));
  });
});

describe('the checks can fail', () => {
  it('worstUlps flags a periodic 2-ulp error, and bytesEqual a one-bit SIMD difference', () => {
    const xs = randomF32(1000, 3, -10, 10);
    const y = geluOn('simd', xs);
    const ok = worstUlps(xs, y, geluRef, (x) => 1e-12 * Math.abs(x));
    expect(ok.ulps).toBeLessThanOrEqual(1);
    const bad = y.slice();
    const bits = new Int32Array(bad.buffer);
    for (let i = 0; i < bad.length; i += 97) if (bad[i] !== 0) bits[i] += 2; // +2 ulp every 97th element
    expect(worstUlps(xs, bad, geluRef, (x) => 1e-12 * Math.abs(x)).ulps).toBeGreaterThan(1);
    const flip = y.slice();
    new Int32Array(flip.buffer)[5] ^= 1;
    expect(bytesEqual(flip, y)).toBe(false);
  });
});
