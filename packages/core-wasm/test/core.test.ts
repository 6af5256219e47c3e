// The loader, the allocator, the export table, typed errors, the binary's size and the no-growth guarantee.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, initSync, instantiate, Core, KERNELS, UTILITY_EXPORTS, ShapeError, DTypeError, ArgumentError, InitError,
  SpikewasmError, packDense, linear, linearSpike, conv1d, conv2d3x3, lif, spikeAndPopcount, matmulCountsBits,
  matmulBitsCounts, countsToF32, packSpikesTransposed, unpackSpikes, lmuFir, lmuFirStep, prepareLmuFft, lmuFft,
  channelAffine, maxPool3x3s2, meanAxis, lmuStep, packSpikes, gelu, relu, add, type KernelName,
} from '../src/index.js';
import { randomF32, randomSpikes } from './helpers.js';

const wasmPath = fileURLToPath(new URL('../build/spikewasm.wasm', import.meta.url));
let core: Core;
beforeAll(async () => {
  core = await init();
});

describe('loader', () => {
  it('init() finds its own .wasm and caches one instance', async () => {
    expect(await init()).toBe(core);
  });

  it('accepts a WebAssembly.Module, bytes and a file URL (instantiate gives independent instances)', async () => {
    const bytes = new Uint8Array(readFileSync(wasmPath));
    const fromBytes = await instantiate(bytes);
    const fromModule = await instantiate(new WebAssembly.Module(bytes));
    const fromUrl = await instantiate(new URL(`file://${wasmPath}`));
    for (const c of [fromBytes, fromModule, fromUrl]) {
      expect(c).toBeInstanceOf(Core);
      expect(c).not.toBe(core);
      expect(c.memory).not.toBe(core.memory);
    }
    expect(initSync(bytes)).toBe(core);
  });

  it('rejects a bad source with InitError and stays usable', async () => {
    await expect(instantiate(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]))).rejects.toBeInstanceOf(InitError);
    await expect(instantiate(new URL('file:///nonexistent/spikewasm.wasm'))).rejects.toBeInstanceOf(InitError);
    expect(await init()).toBe(core);
  });
});

describe('binary', () => {
  it('exports exactly the kernel table (scalar + SIMD for each) and the utilities, and imports nothing', () => {
    const mod = new WebAssembly.Module(readFileSync(wasmPath));
    const names = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
    const want = [...Object.values(KERNELS).flatMap((k) => [k.scalar, k.simd]), ...UTILITY_EXPORTS].sort();
    expect(names).toEqual(want);
    expect(WebAssembly.Module.imports(mod)).toEqual([]);
  });

  it('is at most 64 KB', () => {
    expect(statSync(wasmPath).size).toBeLessThanOrEqual(64 * 1024);
  });

  it('uses no relaxed-SIMD instruction (the baseline binary must validate without the proposal)', () => {
    // relaxed SIMD opcodes are 0xfd 0x100–0x113 (LEB128: 0x80–0x93 0x02); a baseline validator rejects them.
    expect(WebAssembly.validate(readFileSync(wasmPath))).toBe(true);
  });
});

describe('allocator', () => {
  it('reuses freed blocks and coalesces neighbours', () => {
    const a = core.arena();
    const t1 = a.tensor([1000]), t2 = a.tensor([1000]);
    const p1 = t1.ptr;
    a.dispose();
    const b = core.arena();
    const big = b.tensor([2000]);
    expect(big.ptr).toBe(p1);
    expect(t2.ptr).toBeGreaterThan(p1);
    b.dispose();
  });

  it('grows memory on demand and live views follow the growth', () => {
    const a = core.arena();
    const t = a.from([1, 2, 3], [3]);
    const before = core.memoryBytes;
    const big = a.tensor([4 * 1024 * 1024]);
    expect(core.memoryBytes).toBeGreaterThan(before);
    expect(Array.from(t.f32)).toEqual([1, 2, 3]);
    big.f32[big.size - 1] = 7;
    expect(big.f32[big.size - 1]).toBe(7);
    a.dispose();
  });
});

describe('typed errors name the tensor, the expected and the actual shape', () => {
  it('shape, dtype and argument errors, and the core stays usable', () => {
    const a = core.arena();
    const w = packDense(a, new Float32Array(12), 3, 4);
    const x = a.tensor([2, 5], 'f32', 'frames');
    const y = a.tensor([2, 3]);
    expect(() => linear(x, w, y)).toThrow(ShapeError);
    expect(() => linear(x, w, y)).toThrow('linear: input ("frames") expected shape [2, 4], got [2, 5]');
    expect(() => linear(a.tensor([2, 4], 'i32'), w, y)).toThrow(DTypeError);
    expect(() => conv1d(a.tensor([1, 2, 8]), a.tensor([3, 2, 5]), a.tensor([1, 3, 8]))).toThrow(ArgumentError);
    expect(() => lif(a.tensor([4, 8]), a.tensor([7]), { spikes: a.tensor([4, 8]) })).toThrow("lif: state v expected shape [8], got [7]");
    expect(() => lif(a.tensor([4, 8]), a.tensor([8]), {})).toThrow(ArgumentError);
    expect(() => lif(a.tensor([4, 8]), a.tensor([8]), { h: a.tensor([4, 8]) }, { tau: 0 })).toThrow(/tau/);
    expect(() => packDense(a, new Float32Array(5), 2, 3)).toThrow(SpikewasmError);
    const ok = a.from([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const w2 = packDense(a, Float32Array.from({ length: 12 }, (_, i) => i), 3, 4);
    linear(ok, w2, y);
    expect(Array.from(y.f32)).toEqual([20, 60, 100, 44, 148, 252]);
    a.dispose();
  });
});

describe('no growth: 1e5 calls of every kernel allocate nothing', () => {
  it('Wasm memory is unchanged and the JS heap stays flat, for every kernel of the table', () => {
    const a = core.arena();
    const x = a.from(randomF32(4 * 64, 1), [4, 64]), y = a.tensor([4, 32]), y1 = a.tensor([1, 32]);
    const w = packDense(a, randomF32(32 * 64, 2), 32, 64);
    const xb = a.tensor([4, 64], 'bits');
    packSpikes(a.from(randomSpikes(4 * 64, 3), [4, 64]), xb);
    const cx = a.from(randomF32(16 * 8, 3), [1, 16, 8]), cw = a.from(randomF32(8 * 16 * 3, 4), [8, 16, 3]), cy = a.tensor([1, 8, 8]);
    const cxb = a.tensor([1, 16, 8], 'bits');
    const c2x = a.from(randomF32(3 * 8 * 8, 5), [1, 3, 8, 8]), c2w = a.from(randomF32(4 * 3 * 9, 6), [4, 3, 3, 3]), c2y = a.tensor([1, 4, 8, 8]);
    const c2xb = a.tensor([1, 3, 8, 8], 'bits');
    const lx = a.from(randomF32(2 * 32, 5), [2, 32]), lv = a.tensor([32]), ls = a.tensor([2, 32], 'bits');
    const sf = a.from(randomSpikes(16 * 32, 6), [16, 32]), sb = a.tensor([16, 32], 'bits'), sbt = a.tensor([32, 16], 'bits');
    packSpikes(sf, sb);
    const counts = a.tensor([16, 16], 'i32'), cv = a.tensor([16, 32], 'i32'), m32 = a.tensor([32, 32], 'i32'), cf = a.tensor([16, 32]);
    const u = a.from(randomF32(8, 7), [1, 8]), ht = a.from(randomF32(8 * 16, 8), [8, 16]), m = a.tensor([1, 8, 16]), step = a.tensor([16]);
    const win = a.from(randomF32(8, 7), [8]);
    const plan = prepareLmuFft(a, ht);
    const sc = a.from(randomF32(32, 9), [32]), sh = a.from(randomF32(32, 10), [32]);
    const px = a.from(randomF32(2 * 8 * 8, 11), [2, 8, 8]), py = a.tensor([2, 4, 4]), my = a.tensor([4]);
    const pxb = a.tensor([2, 8, 8], 'bits'), pyb = a.tensor([2, 4, 4], 'bits');
    const ap = packDense(a, randomF32(16 * 16, 12), 16, 16), mm = a.from(randomF32(16, 13), [1, 16]), bb = a.from(randomF32(16, 14), [16]);
    const uu = a.from([0.5], [1]), mo = a.tensor([1, 16]);
    const calls = [
      () => linear(x, w, y, { relu: true }),
      () => linear(a.core.view(x.ptr, [1, 64]), w, y1),
      () => linearSpike(xb, w, y),
      () => conv1d(cx, cw, cy),
      () => conv1d(cxb, cw, cy),
      () => conv2d3x3(c2x, c2w, c2y),
      () => conv2d3x3(c2xb, c2w, c2y),
      () => lif(lx, lv, { bits: ls }),
      () => spikeAndPopcount(sb, sb, counts),
      () => matmulCountsBits(counts, sb, cv),
      () => matmulBitsCounts(sb, m32, cv),
      () => countsToF32(cv, 0.125, cf),
      () => packSpikes(sf, sb),
      () => packSpikesTransposed(sf, 0, 32, sbt),
      () => unpackSpikes(sb, sf),
      () => lmuFir(u, ht, m),
      () => lmuFirStep(win, 8, ht, step),
      () => lmuFft(u, plan, m),
      () => channelAffine(y, sc, sh, y, 1),
      () => maxPool3x3s2(px, py),
      () => maxPool3x3s2(pxb, pyb),
      () => meanAxis(y, 1, my),
      () => lmuStep(mm, ap, bb, uu, mo),
      () => gelu(y, y),
      () => relu(y, y),
      () => add(y, y, y),
    ];
    // record which kernels the calls reach: every kernel of the table must be among them
    const used = new Set<string>();
    const original = core.kernel.bind(core);
    core.kernel = ((name: KernelName, backend?: 'simd' | 'scalar') => { used.add(name); return original(name, backend); }) as typeof core.kernel;
    for (const c of calls) c();
    core.kernel = original;
    expect([...used].sort()).toEqual(Object.keys(KERNELS).sort());
    const g = (globalThis as { gc?: () => void }).gc;
    expect(g, 'tests run with --expose-gc').toBeTypeOf('function');
    for (const c of calls) for (let i = 0; i < 1000; i++) c(); // warm up (JIT, inline caches)
    g!();
    const mem0 = core.memoryBytes;
    const heap0 = process.memoryUsage().heapUsed;
    for (const c of calls) for (let i = 0; i < 100_000; i++) c();
    g!();
    const heap1 = process.memoryUsage().heapUsed;
    expect(core.memoryBytes).toBe(mem0);
    // 2.6e6 calls in all: any per-call retention of even a few bytes would show as megabytes.
    expect(heap1 - heap0).toBeLessThan(512 * 1024);
    a.dispose();
  });
});
