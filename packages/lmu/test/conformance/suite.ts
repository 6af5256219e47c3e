// Cross-runtime conformance for @spikewasm/lmu: every LMUFormer fixture through its model (all LMU forms), and the
// speech front end on the fixture's waveforms, each reduced to a SHA-256. Runtime-neutral; merged into the root
// conformance bundle (conformance/entry.ts).
import type { Core } from '@spikewasm/core-wasm';
import { parseSafetensors } from '@spikewasm/core-wasm';
import {
  LMUFormer, SpikingLMUFormer, PsMnistLMU, PsMnistSLMU, checkpointMetadata, speechFeatures, type LMUMode,
} from '../../src/index.js';
import { sha256, bytesOf } from '../../../core-wasm/test/conformance/hash.js';

export const CONFORMANCE_FIXTURES = [
  'lmuformer_nonspiking_small.safetensors', 'lmuformer_spiking_small.safetensors',
  'lmuformer_psmnist_nonspiking_small.safetensors', 'lmuformer_psmnist_spiking_small.safetensors',
  'kernel_fbank.safetensors',
] as const;

const notStateDict = (k: string): boolean => k === 'input' || k.startsWith('expected.');
const MODELS = {
  lmu_rnn_conv1d: LMUFormer, slmu_rnn_ms_conv1d: SpikingLMUFormer, psmnist_lmu: PsMnistLMU, psmnist_slmu: PsMnistSLMU,
} as const;

/** The streaming stepper fed one frame (or pixel) at a time, every prefix output, batch as in the fixture. */
function streamOutputs(core: Core, Model: (typeof MODELS)[keyof typeof MODELS], file: ReturnType<typeof parseSafetensors>, config: unknown, input: { shape: number[]; data: unknown }): Uint8Array[] {
  const a = core.arena();
  const parts: Uint8Array[] = [];
  try {
    const model = (Model as typeof LMUFormer).fromCheckpoint(a, file, config as never, { ignore: notStateDict, lmuMode: 'fir' });
    const [B, N, C] = input.shape;
    const x = input.data as Float32Array;
    const s = model.stream(B);
    const frame = new Float32Array(B * C);
    for (let t = 0; t < N; t++) {
      for (let b = 0; b < B; b++) frame.set(x.subarray((b * N + t) * C, (b * N + t + 1) * C), b * C);
      const y = s.push(frame);
      if (y) parts.push(bytesOf(y.data));
    }
    const rest = (s as { flush?: () => { data: ArrayBufferView } }).flush?.();
    if (rest) parts.push(bytesOf(rest.data));
  } finally {
    a.dispose();
  }
  return parts;
}

export async function runConformance(core: Core, fixtures: Record<string, Uint8Array>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of CONFORMANCE_FIXTURES.slice(0, 4)) {
    const file = parseSafetensors(fixtures[name]);
    const meta = checkpointMetadata(file)!;
    const Model = MODELS[meta.factory as keyof typeof MODELS];
    const input = file.tensors.get('input')!;
    const parts: Uint8Array[] = [];
    for (const lmuMode of ['fft', 'fir', 'recurrent'] as LMUMode[]) {
      const a = core.arena();
      try {
        // every model class has the same fromCheckpoint(arena, source, config, options) shape
        const model = (Model as typeof LMUFormer).fromCheckpoint(a, file, meta.config as never, { ignore: notStateDict, lmuMode });
        parts.push(bytesOf(model.forward(a.from(input.data as Float32Array, input.shape)).data));
      } finally {
        a.dispose();
      }
    }
    out[`fixture:${name.replace('.safetensors', '')}`] = await sha256(parts);
    out[`stream:${name.replace('.safetensors', '')}`] = await sha256(streamOutputs(core, Model, file, meta.config, input));
  }
  const fb = parseSafetensors(fixtures['kernel_fbank.safetensors']);
  out.fbank = await sha256(['input', 'input_short'].map((k) => bytesOf(speechFeatures(fb.tensors.get(k)!.data as Float32Array))));
  return out;
}
