// Random models of the published Speech Commands v2 size for the benchmark: the official state-dict layout
// (expectedStateDict), seeded uniform weights with fan-in scaling, and plausible batch-norm statistics
// (running_mean ∈ [−0.2, 0.2], running_var ∈ [0.5, 2], weight ∈ [0.5, 1.5], bias ∈ [−0.1, 0.1], or [0.3, 0.9]
// in the spiking model so that its LIF layers fire); conv/linear weights U(±√(3/fan_in)), biases U(±0.1).
// Not trained: the logits mean nothing, the cost is real.
import { expectedStateDict } from '../dist/index.js';
import { rng, randomF32 } from '@spikewasm/core-wasm/oracle';

export { rng, randomF32 };

/** A state dict (Map name → Float32Array) for `factory` at `config`; the LMU buffers A, B, H are left to the model. */
export function randomStateDict(factory, config, seed = 1) {
  const spiking = factory === 'slmu_rnn_ms_conv1d';
  const sd = new Map();
  const shapes = expectedStateDict(factory, config);
  const bnPrefixes = new Set([...shapes.keys()].filter((k) => k.endsWith('.running_var')).map((k) => k.slice(0, -'.running_var'.length)));
  for (const [k, s] of shapes) {
    if (/\.(A|B|H)$/.test(k)) continue;
    const n = s.reduce((p, q) => p * q, 1);
    const fan = s.length > 1 ? s.slice(1).reduce((p, q) => p * q, 1) : 1;
    const bn = bnPrefixes.has(k.slice(0, k.lastIndexOf('.')));
    if (bn && k.endsWith('running_var')) sd.set(k, randomF32(n, seed++, 0.5, 2));
    else if (bn && k.endsWith('running_mean')) sd.set(k, randomF32(n, seed++, -0.2, 0.2));
    else if (bn && k.endsWith('weight')) sd.set(k, randomF32(n, seed++, 0.5, 1.5));
    else if (bn && k.endsWith('bias')) sd.set(k, spiking ? randomF32(n, seed++, 0.3, 0.9) : randomF32(n, seed++, -0.1, 0.1));
    else if (k.endsWith('.bias')) sd.set(k, randomF32(n, seed++, -0.1, 0.1));
    else sd.set(k, randomF32(n, seed++, -Math.sqrt(3 / fan), Math.sqrt(3 / fan))); // variance 1/fan_in
  }
  // the LMU input u: ReLU(W_u x + b) mostly > 0 (non-spiking), f_u firing a fair share of frames (spiking)
  for (let j = 0; j < config.depths; j++) sd.set(`block.${j}.attn.lmu.W_u.bias`, Float32Array.of(spiking ? 1 : 0.5));
  return sd;
}
