export { type SpikingModule, type LayerCost, walk, resetNet } from './module.js';
export { SpikeTensor } from './spike-tensor.js';
export { LIFNode, type LIFNodeOptions, type LIFNodeOutputs } from './lif-node.js';
export { LIF_DEFAULTS } from './defaults.js';
export {
  repeatInput, repeatSteps, Xoshiro128StarStar, RateEncoder, frameSegments, eventFrames,
  type RateEncoderOptions, type DvsEvents, type SplitBy,
} from './encoders.js';
export {
  profile, ENERGY_45NM_FP32,
  type ProfileRow, type ProfileTotals, type ProfileTable, type ProfileOptions,
} from './profile.js';
export {
  Linear, Conv1d, Conv2d, BatchNorm, MaxPool, ResidualAdd, MeanPool, MeteredLayer,
  type LayerInput, type LayerOptions, type LinearParams, type Conv1dParams, type Conv2dParams, type BatchNormOptions,
  type ResidualAddOptions,
} from './layers.js';
export {
  SpikingSelfAttention, BinaryAttention, attentionReference, resolveAttentionOrder,
  type AttentionOrder, type AttentionRecord, type BinaryAttentionOptions, type SpikingSelfAttentionConfig,
  type SsaIntermediates, type StateDict, type StateDictEntry,
} from './attention.js';
