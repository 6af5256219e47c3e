export {
  SSA_SCALE, SPIKFORMER_VARIANTS, SPIKFORMER_CONFIG_KEYS, SPIKFORMER_PRESETS,
  resolveSpikformerConfig, spikformerPreset, spikformerTokens, spikformerGeometry,
  type SpikformerVariant, type SpikformerConfig, type SpikformerPresetName, type SpikformerGeometry, type SpsStage,
} from './config.js';
export {
  expectedStateDict, loadCheckpoint, detectSpikformerVariant, isUnusedSpikformerKey, spikformerMetadata, CheckpointError,
  type CheckpointTensor, type StateDictEntry, type StateDictLike, type MisshapedKey, type LoadCheckpointOptions,
} from './checkpoint.js';
export {
  Spikformer,
  type SpikformerOptions, type SpikformerPatchEmbedLayers, type SpikformerBlockLayers, type SpikformerStageBuffers,
  type SpikformerBlockBuffers, type SpikformerLifRecord, type SpikformerBuffers, type SpikformerStageTimes,
} from './model.js';
export { SpikeConv3x3, orPoolChannelsLast, type SpikeConv3x3Params } from './spike-conv.js';
export {
  cifarNormalize, CIFAR_MEAN, CIFAR_STD, type CifarNormalizeOptions, type PixelLayout,
  imagenetPreprocess, imagenetPreprocessBatch, imagenetResizeCrop, pilResize, IMAGENET_MEAN, IMAGENET_STD,
  type ImagenetPreprocessOptions, type RgbImage, type ResizeInterpolation,
} from './input.js';
export { randomSpikformerStateDict, type RandomStateDictOptions } from './random.js';
