// Isolation (issue 9, item 5): state never leaks between models, streams or Wasm instances.
// - Two models (the spiking and the non-spiking fixture LMUFormer) built on the same Wasm instance, streamed
//   interleaved step by step (A op, B op, A op, …, with flush() and reset() at different points in each), give
//   exactly the bytes each gives when run alone, one after the other.
// - Two streams of ONE model, interleaved the same way (different inputs, different flush/reset points), likewise;
//   also with the model's parallel forward() called between stream steps.
// - A logits view handed out by one stream keeps its value while the other stream steps.
// - Two independent Wasm instances (core-wasm instantiate()) give the same bytes as the shared one, also when the
//   instances are interleaved step by step.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, instantiate, type Core, type SafetensorsFile, type Tensor } from '@spikewasm/core-wasm';
import {
  LMUFormer, SpikingLMUFormer, checkpointMetadata,
  type LMUFormerConfig, type LMUFormerStream, type SpikingLMUFormerStream,
} from '../src/index.js';
import { loadFixture, notStateDict, randomF32, tensorOf } from './helpers.js';

type AnyStream = LMUFormerStream | SpikingLMUFormerStream;
type AnyModel = LMUFormer | SpikingLMUFormer;
type Op = { kind: 'push'; x: Float32Array; n: number } | { kind: 'flush' } | { kind: 'reset' } | { kind: 'forward'; x: Float32Array };

const FIXTURES = {
  spiking: 'lmuformer_spiking_small.safetensors',
  plain: 'lmuformer_nonspiking_small.safetensors',
} as const;
type Which = keyof typeof FIXTURES;

const files = {} as Record<Which, SafetensorsFile>;
const configs = {} as Record<Which, LMUFormerConfig>;
let B: number, N: number, C: number;
let shared: Core;

beforeAll(async () => {
  shared = await init();
  for (const w of ['spiking', 'plain'] as const) {
    files[w] = loadFixture(FIXTURES[w]);
    configs[w] = { ...(checkpointMetadata(files[w])!.config as LMUFormerConfig), test_mode: 'all_seq' };
  }
  [B, N, C] = files.spiking.tensors.get('input')!.shape;
  expect(files.plain.tensors.get('input')!.shape).toEqual([B, N, C]);
});

function build(core: Core, w: Which): AnyModel {
  const arena = core.arena();
  return w === 'spiking'
    ? SpikingLMUFormer.fromCheckpoint(arena, files[w], configs[w], { ignore: notStateDict })
    : LMUFormer.fromCheckpoint(arena, files[w], configs[w], { ignore: notStateDict });
}

/** Frame n of x [B, N, C] as [B, C]. */
function frameOf(x: Float32Array, n: number): Float32Array {
  const f = new Float32Array(B * C);
  for (let b = 0; b < B; b++) f.set(x.subarray((b * N + n) * C, (b * N + n + 1) * C), b * C);
  return f;
}

/**
 * A script of stream operations: a full utterance of x, a partial one of y cut by reset(), a partial one flushed
 * (`cut` frames), a second full utterance right after the flush (no reset), and a full one of y. `forwardAt` inserts
 * a parallel forward() of the model before that op (for the same-model test).
 */
function script(x: Float32Array, y: Float32Array, cut: number, forwardAt: number[] = []): Op[] {
  const ops: Op[] = [];
  const utter = (z: Float32Array, frames: number) => { for (let n = 0; n < frames; n++) ops.push({ kind: 'push', x: z, n }); };
  utter(x, N); ops.push({ kind: 'flush' });
  utter(y, 37); ops.push({ kind: 'reset' });
  utter(y, cut); ops.push({ kind: 'flush' });
  utter(x, N); ops.push({ kind: 'flush' });
  ops.push({ kind: 'reset' });
  utter(y, N); ops.push({ kind: 'flush' });
  for (const i of [...forwardAt].sort((p, q) => q - p)) ops.splice(i, 0, { kind: 'forward', x: i % 2 ? x : y });
  return ops;
}

/** One stream (or model) running a script; `step()` runs the next op and records what it returned (copied). */
class Runner {
  readonly out: number[] = [];
  private i = 0;
  last: Tensor | null = null;
  lastCopy: Float32Array | null = null;
  constructor(readonly model: AnyModel, readonly s: AnyStream, readonly ops: Op[]) {}
  get done(): boolean { return this.i >= this.ops.length; }
  step(): void {
    const op = this.ops[this.i++];
    let t: Tensor | null = null;
    if (op.kind === 'push') t = this.s.push(frameOf(op.x, op.n));
    else if (op.kind === 'flush') t = this.s.flush();
    else if (op.kind === 'reset') this.s.reset();
    else t = this.model.forward(op.x);
    this.last = t;
    this.lastCopy = t ? t.f32.slice() : null;
    // record the op index and the exact bits of whatever came out
    this.out.push(this.i, t ? t.f32.length : -1);
    if (t) for (const u of new Uint32Array(this.lastCopy!.buffer)) this.out.push(u);
  }
  /** The view handed out by the last op still holds its value (call after another runner stepped). */
  checkLastUnchanged(label: string): void {
    if (!this.last || !this.lastCopy) return;
    const now = new Uint32Array(this.last.f32.slice().buffer), then = new Uint32Array(this.lastCopy.buffer);
    if (now.length !== then.length || now.some((u, k) => u !== then[k])) expect.fail(`${label}: a view of the last output changed when another stream stepped`);
  }
}

function runAlone(r: Runner): number[] {
  while (!r.done) r.step();
  return r.out;
}

/** Steps the runners round-robin (one op each) until all are done; checks held views after every foreign step. */
function interleave(runners: Runner[], label: string): void {
  while (runners.some((r) => !r.done)) {
    for (const r of runners) {
      if (r.done) continue;
      r.step();
      for (const o of runners) if (o !== r) o.checkLastUnchanged(label);
    }
  }
}

function expectSame(label: string, got: number[], want: number[]): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const first = got.findIndex((u, k) => u !== want[k]);
  expect(first < 0 ? 'bitwise equal' : `first difference at word ${first}`, label).toBe('bitwise equal');
}

describe('isolation: interleaved models, streams and instances give the bits of separate runs', () => {
  let xs: Float32Array, xp: Float32Array, r1: Float32Array, r2: Float32Array;
  const want = {} as Record<string, number[]>;
  beforeAll(() => {
    xs = Float32Array.from(tensorOf(files.spiking, 'input'));
    xp = Float32Array.from(tensorOf(files.plain, 'input'));
    r1 = randomF32(B * N * C, 11, -1.5, 1.5);
    r2 = randomF32(B * N * C, 12, -1.5, 1.5);
    // references: every script run alone, each on its own freshly built model
    const ref = (w: Which, ops: Op[]) => { const m = build(shared, w); return runAlone(new Runner(m, m.stream(B), ops)); };
    want.spiking = ref('spiking', script(xs, r1, 50));
    want.plain = ref('plain', script(xp, r2, 3));
    want.s1 = ref('spiking', script(xs, r1, 90, [7, 140, 300]));
    want.s2 = ref('spiking', script(r2, xs, 4, [60, 200]));
    want.p1 = ref('plain', script(xp, r1, 90, [7, 140, 300]));
    want.p2 = ref('plain', script(r2, xp, 4, [60, 200]));
  });

  it('the references differ from each other (the comparison is not vacuous)', () => {
    expect(want.spiking.length).toBeGreaterThan(10_000);
    expect(want.s1).not.toEqual(want.s2);
    expect(want.spiking).not.toEqual(want.plain);
  });

  it('a spiking and a non-spiking model on one Wasm instance, interleaved op by op', () => {
    const ms = build(shared, 'spiking'), mp = build(shared, 'plain');
    const a = new Runner(ms, ms.stream(B), script(xs, r1, 50));
    const b = new Runner(mp, mp.stream(B), script(xp, r2, 3));
    interleave([a, b], 'two models');
    expectSame('spiking model, interleaved', a.out, want.spiking);
    expectSame('plain model, interleaved', b.out, want.plain);
  });

  it.each(['spiking', 'plain'] as const)('two streams of one %s model, interleaved op by op, with forward() calls in between', (w) => {
    const m = build(shared, w);
    const [k1, k2] = w === 'spiking' ? ['s1', 's2'] : ['p1', 'p2'];
    const x = w === 'spiking' ? xs : xp;
    const a = new Runner(m, m.stream(B), script(x, r1, 90, [7, 140, 300]));
    const b = new Runner(m, m.stream(B), script(r2, x, 4, [60, 200]));
    interleave([a, b], `two streams of the ${w} model`);
    expectSame('stream 1, interleaved', a.out, want[k1]);
    expectSame('stream 2, interleaved', b.out, want[k2]);
  });

  it('three streams at different phases (offset starts), two models, one instance', () => {
    const ms = build(shared, 'spiking'), mp = build(shared, 'plain');
    const runners = [
      new Runner(ms, ms.stream(B), script(xs, r1, 50)),
      new Runner(ms, ms.stream(B), script(r2, xs, 4, [60, 200])),
      new Runner(mp, mp.stream(B), script(xp, r2, 3)),
    ];
    runners[1].step(); runners[1].step(); runners[1].step(); // put stream 2 out of phase
    for (let k = 0; k < 9; k++) runners[2].step();
    interleave(runners, 'three streams');
    expectSame('spiking stream 1', runners[0].out, want.spiking);
    expectSame('spiking stream 2', runners[1].out, want.s2);
    expectSame('plain stream', runners[2].out, want.plain);
  });

  it('two independent Wasm instances (instantiate()) give the bytes of the shared one, alone and interleaved', async () => {
    const c1 = await instantiate(), c2 = await instantiate();
    expect(c1).not.toBe(shared);
    expect(c1.memory).not.toBe(c2.memory);
    // alone, each on its own instance
    const ms1 = build(c1, 'spiking'), mp2 = build(c2, 'plain');
    expectSame('spiking on instance 1', runAlone(new Runner(ms1, ms1.stream(B), script(xs, r1, 50))), want.spiking);
    expectSame('plain on instance 2', runAlone(new Runner(mp2, mp2.stream(B), script(xp, r2, 3))), want.plain);
    // interleaved across instances: the same model on both, plus the shared instance
    const ms2 = build(c2, 'spiking'), ms0 = build(shared, 'spiking');
    const runners = [
      new Runner(ms1, ms1.stream(B), script(xs, r1, 90, [7, 140, 300])),
      new Runner(ms2, ms2.stream(B), script(r2, xs, 4, [60, 200])),
      new Runner(ms0, ms0.stream(B), script(xs, r1, 50)),
    ];
    interleave(runners, 'three instances');
    expectSame('instance 1', runners[0].out, want.s1);
    expectSame('instance 2', runners[1].out, want.s2);
    expectSame('shared instance', runners[2].out, want.spiking);
  });
});
