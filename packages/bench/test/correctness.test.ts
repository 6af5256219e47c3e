// Every case's cross-check at tiny shapes in Node, with tfjs-backend-wasm and onnxruntime-web loaded: a broken peer
// wiring (layout, transposition, padding) or a broken kernel shows up as a mismatch. No timing.
import { describe, expect, it } from 'vitest';
import { runSuite, selectCases, compareOutputs, encodeModel, type BenchEvent, type RuntimeResult } from '../src/index.js';
import { nodeHost } from '../src/node-host.js';
import { randomLmuStateDict } from '../src/cases.js';
import { LMUFormer, lmuBuffers, scv2Config } from '@spikewasm/lmu';
import { init } from '@spikewasm/core-wasm';

describe('bench cross-checks (tiny shapes, Node)', () => {
  let result: RuntimeResult;
  const events: BenchEvent[] = [];

  it('runs every case with every implementation and all agree', async () => {
    result = await runSuite(nodeHost((e) => events.push(e)), { tiny: true, checkOnly: true });
    expect(result.peers.tfjs.loaded, result.peers.tfjs.reason).toBe(true);
    expect(result.peers.ort.loaded, result.peers.ort.reason).toBe(true);
    expect(result.cases.map((c) => c.id)).toEqual(selectCases({ tiny: true }).map((c) => c.id));
    for (const c of result.cases) {
      expect(c.check.ok, `${c.id}: ${c.check.detail}`).toBe(true);
      for (const [label, r] of Object.entries(c.impls)) {
        // nothing errored: every implementation produced an output that was compared
        expect('error' in r ? r.error : '', `${c.id} ${label}`).toBe('not timed (check only)');
      }
      expect(Object.keys(c.check.errors).length, c.id).toBeGreaterThan(0);
    }
    const peered = (label: string) => result.cases.filter((c) => label in c.check.errors).map((c) => c.id);
    expect(peered('tfjs').length).toBeGreaterThanOrEqual(10);
    expect(peered('ort-1t')).toEqual(expect.arrayContaining([expect.stringMatching(/^gemm/), expect.stringMatching(/^conv1d/), expect.stringMatching(/^conv2d/)]));
    expect(events.filter((e) => e.event === 'mismatch')).toEqual([]);
    // the cold start times both: a model from an official-layout state dict, and computing the LMU buffers
    expect(result.coldStart!.oursWeightsMs).toBeGreaterThan(0);
    expect(result.coldStart!.oursLmuBuffersMs).toBeGreaterThan(0);
  }, 30_000);

  it('gives the models the LMU buffers A, B, H as official checkpoints store them: the same model as without them', async () => {
    const config = scv2Config({ embed_dims: 32, in_channels: 16, num_classes: 5 });
    const sd = randomLmuStateDict('lmu_rnn_conv1d', config, 1), bare = randomLmuStateDict('lmu_rnn_conv1d', config, 1, false);
    const ref = lmuBuffers(32, 128, 128);
    expect(sd.get('block.0.attn.lmu.A')).toEqual(ref.A);
    expect(sd.get('block.0.attn.lmu.B')).toEqual(ref.B);
    expect(sd.get('block.0.attn.lmu.H')).toEqual(ref.H);
    expect([...sd.keys()].filter((k) => !bare.has(k)).sort()).toEqual(['block.0.attn.lmu.A', 'block.0.attn.lmu.B', 'block.0.attn.lmu.H']);
    const a = (await init()).arena();
    try {
      const x = Float32Array.from({ length: 128 * 16 }, (_, i) => Math.sin(i * 0.37));
      const y = Float32Array.from(new LMUFormer(a, config, sd).forward(x).f32);
      expect(Array.from(new LMUFormer(a, config, bare).forward(x).f32)).toEqual(Array.from(y));
    } finally {
      a.dispose();
    }
  });

  it('compares every whole model with its tfjs port, the spiking ones also spike by spike', () => {
    const models = result.cases.filter((c) => c.group === 'model');
    expect(models.map((c) => c.id).sort()).toEqual([
      'model.lmu_rnn_conv1d.clip', 'model.lmu_rnn_conv1d.stream', 'model.slmu_rnn_ms_conv1d.clip', 'model.slmu_rnn_ms_conv1d.stream', 'model.spikformer.cifar',
    ]);
    for (const c of models) {
      expect(c.check.errors.tfjs, c.id).toBeLessThanOrEqual(c.check.tolerances!.tfjs as number);
      expect(c.check.errors.scalar, c.id).toBeLessThanOrEqual(c.tolerance === 'exact' ? 0 : c.tolerance);
      if (!/slmu|spikformer/.test(c.id)) continue;
      // the spike comparison ran on every LIF layer and found them (nearly) all equal at these sizes
      const m = /^spikes equal: (\d+) of (\d+) .* over (\d+) LIF layers/.exec(c.check.notes?.tfjs ?? '');
      expect(m, `${c.id}: ${c.check.notes?.tfjs}`).not.toBeNull();
      expect(Number(m![1]) / Number(m![2]), c.id).toBeGreaterThan(0.99);
      expect(Number(m![3]), c.id).toBeGreaterThanOrEqual(11);
    }
  });

  it('compareOutputs flags a wrong element, a NaN and a length change', () => {
    const a = Float32Array.of(1, 2, 3);
    expect(compareOutputs(a, Float32Array.of(1, 2, 3))).toBe(0);
    expect(compareOutputs(a, Float32Array.of(1, 2, 3.5))).toBeCloseTo(0.5 / 3);
    expect(compareOutputs(a, Float32Array.of(1, NaN, 3))).toBe(Infinity);
    expect(compareOutputs(a, Float32Array.of(1, 2))).toBe(Infinity);
  });

  it('encodes an ONNX graph onnxruntime-web runs (Gemm with transB)', async () => {
    const ort = await import('onnxruntime-web');
    const w = Float32Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
    const s = await ort.InferenceSession.create(encodeModel({
      inputs: { x: [1, 3] }, outputs: { y: [1, 2] },
      initializers: { w: { dims: [2, 3], data: w }, b: { dims: [2], data: Float32Array.of(0.5, -1) } },
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
    }));
    const r = await s.run({ x: new ort.Tensor('float32', Float32Array.of(1, 1, 2), [1, 3]) });
    expect([...(r.y.data as Float32Array)]).toEqual([1 + 2 + 6 + 0.5, 4 + 5 + 12 - 1]);
  });
});
