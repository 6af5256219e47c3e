import type { LIFParams } from '@spikewasm/core-wasm';

/**
 * spikingjelly's MultiStepLIFNode defaults, as both LMUFormer and Spikformer configure it (shared/spec/lif.md):
 * τ = 2, V_th = 1, hard reset to V_reset = 0, decay_input = true.
 */
export const LIF_DEFAULTS: Readonly<Required<LIFParams>> = Object.freeze({
  tau: 2,
  vThreshold: 1,
  vReset: 0,
  decayInput: true,
});
