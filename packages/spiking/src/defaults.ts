import type { LIFParams } from '@spikewasm/core-wasm';

/**
 * spikingjelly's MultiStepLIFNode defaults, as both LMUFormer and Spikformer configure it (shared/spec/lif.md):
 * τ = 2, V_th = 1, hard reset to V_reset = 0, decay_input = true.
 * @example new LIFNode(arena, [256], { ...LIF_DEFAULTS, vThreshold: 0.5 })   // LMUFormer's prev_lif
 */
export const LIF_DEFAULTS: Readonly<Required<LIFParams>> = Object.freeze({
  tau: 2,
  vThreshold: 1,
  vReset: 0,
  decayInput: true,
});
