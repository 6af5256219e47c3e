// Short soak (issue 9, item 4; the long one is `npm run soak -w @spikewasm/lmu -- --steps 1000000`, scripts/soak.mjs):
// the spiking LMUFormer fixture model (lmuformer_spiking_small, fixture weights and inputs) streamed over 60,000
// frames (~1 s per LMU form) in utterances of 128 (128 × push, flush, reset), batch 1, both LMU memory forms, after a
// warm-up of 80 utterances. Sampled every 4,096 frames after a full gc (vitest runs with --expose-gc):
// - Wasm memory (core.memoryBytes) is exactly constant and core.alloc is never called during the run;
// - the JS heap is flat: the Theil–Sen slope of heapUsed over the samples is within ±4 bytes per frame, and the
//   median of the last 3 samples exceeds the median of the first 3 by less than 384 KiB. Why these bounds: a leak
//   of one retained JS object per frame (≥ 16 bytes; a typed-array view is ≥ 100) is ≥ 16 B/frame, i.e. ≥ 940 KiB
//   over the run; one object of ≥ 512 bytes per utterance is ≥ 4 B/frame. Measured: slopes of ~1 B/frame and
//   single bumps of up to ~220 KiB in short runs (V8's own code and feedback, built lazily as it tiers up; the
//   1,000,000-frame soak shows the heap exactly flat once warm), so the bounds leave room for that noise.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, type Core, type SafetensorsFile } from '@spikewasm/core-wasm';
import { SpikingLMUFormer, checkpointMetadata, type LMUFormerConfig } from '../src/index.js';
import { countAllocations, loadFixture, notStateDict, tensorOf } from './helpers.js';

const STEPS = 60_000;
const EVERY = 4_096;
const WARMUP = 80; // utterances (10,240 frames) before the first sample
const FRAMES = 128;
const SLOPE_BOUND = 4; // bytes per frame
const GROWTH_BOUND = 384 * 1024; // bytes, median of the first 3 samples → median of the last 3

const gc = (globalThis as { gc?: () => void }).gc;

let core: Core;
let file: SafetensorsFile;
let config: LMUFormerConfig;
beforeAll(async () => {
  core = await init();
  file = loadFixture('lmuformer_spiking_small.safetensors');
  config = { ...(checkpointMetadata(file)!.config as LMUFormerConfig), test_mode: 'all_seq' };
});

/** Theil–Sen slope of heap over frames (median of the pairwise slopes): robust to a single bump of V8's own heap use. */
function slopePerFrame(pts: { step: number; heap: number }[]): number {
  const sl: number[] = [];
  for (let i = 0; i < pts.length; i++) for (let j = i + 1; j < pts.length; j++) sl.push((pts[j].heap - pts[i].heap) / (pts[j].step - pts[i].step));
  return median(sl);
}

function median(v: number[]): number {
  const s = [...v].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('soak (short): spiking LMUFormer stream over 60,000 frames', () => {
  it.each(['fir', 'recurrent'] as const)("lmuMode '%s': Wasm memory constant, no Wasm allocation, JS heap flat", (mode) => {
    expect(gc, 'vitest must run with --expose-gc (vitest.config.ts execArgv)').toBeTypeOf('function');
    const arena = core.arena();
    try {
      const model = SpikingLMUFormer.fromCheckpoint(arena, file, config, { ignore: notStateDict });
      const [B, N, C] = file.tensors.get('input')!.shape;
      const x = Float32Array.from(tensorOf(file, 'input'));
      const frames: Float32Array[] = [];
      for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) frames.push(x.slice((b * N + n) * C, (b * N + n + 1) * C));
      const s = model.stream(1, { lmuMode: mode });
      let step = 0, utt = 0, checksum = 0;
      const utterance = () => {
        const base = (utt++ % B) * N;
        for (let i = 0; i < FRAMES; i++) {
          const l = s.push(frames[base + i]);
          if (l) checksum += l.f32[0];
        }
        const last = s.flush();
        checksum += last.f32[0];
        s.reset();
        step += FRAMES;
      };
      const samples: { step: number; heap: number; wasm: number }[] = [];
      const sample = () => {
        gc!();
        samples.push({ step, heap: process.memoryUsage().heapUsed, wasm: core.memoryBytes });
      };
      for (let i = 0; i < WARMUP; i++) utterance(); // warm-up: V8 tiering (code and feedback live on the JS heap), lazy views
      step = 0;
      sample();
      const t0 = performance.now();
      const { count } = countAllocations(core, () => {
        let next = step + EVERY;
        while (step < STEPS) {
          utterance();
          if (step >= next) { sample(); next += EVERY; }
        }
      });
      sample();
      const secs = (performance.now() - t0) / 1000;
      const heaps = samples.map((p) => p.heap);
      const slope = slopePerFrame(samples);
      const growth = median(heaps.slice(-3)) - median(heaps.slice(0, 3));
      console.log(`soak '${mode}': ${step} frames in ${secs.toFixed(2)} s (${(step / secs).toFixed(0)} frames/s), ${samples.length} samples; ` +
        `heap ${(Math.min(...heaps) / 1024).toFixed(0)}–${(Math.max(...heaps) / 1024).toFixed(0)} KiB, slope ${slope.toFixed(3)} B/frame, ` +
        `growth ${(growth / 1024).toFixed(1)} KiB; Wasm ${[...new Set(samples.map((p) => p.wasm))].join(', ')} bytes; checksum ${checksum.toPrecision(8)}`);
      expect(Number.isFinite(checksum)).toBe(true);
      expect(count, 'Wasm allocations during the soak').toBe(0);
      expect(new Set(samples.map((p) => p.wasm)).size, 'Wasm memory size over the samples').toBe(1);
      expect(Math.abs(slope), 'heap slope, bytes per frame').toBeLessThanOrEqual(SLOPE_BOUND);
      expect(growth, 'heap growth, first sample to last').toBeLessThan(GROWTH_BOUND);
    } finally {
      arena.dispose();
    }
  });
});
