/**
 * The LMU window and memory order of LMUFormer's Speech Commands v2 blocks (shared/spec/lmuformer.md §2–3):
 * θ = seq_len = 128 frames; memory order d = embed_dims (non-spiking) or 2·embed_dims (spiking).
 */
export const SCV2_SEQ_LEN = 128;

/** Memory order of an LMUFormer block: d = embed_dims, or 2·embed_dims for the spiking model. */
export function lmuformerMemoryOrder(embedDims: number, spiking: boolean): number {
  return spiking ? 2 * embedDims : embedDims;
}
export { LMU, LMUMemory, LMUMemoryStepper, LMUStepper, lmuBuffers, type LMUMode, type LMUOptions, type LMUParams, type LMUMemoryOptions, type LinearWeights } from './lmu.js';
export {
  LMUFORMER_BLOCK_SEQ_LEN, scv2Config, resolveLMUFormerConfig, psmnistConfig, mlpHidden,
  type LMUFormerConfig, type LMUFormerFactory, type LMUFormerExtraFactory, type AnyLMUFormerFactory, type PsMnistConfig,
} from './config.js';
export {
  loadCheckpoint, expectedStateDict, checkpointMetadata, CheckpointError,
  type CheckpointTensor, type StateDict, type StateDictEntry, type StateDictLike, type LoadCheckpointOptions, type MisshapedKey, type AnyConfig,
} from './checkpoint.js';
export { LMUFormer, cumulativeMean, type LMUFormerOptions, type LMUFormerBuffers, type LMUFormerBlockBuffers } from './lmuformer.js';
export { SLMUFormerConv1d, AttnLMUFormer, LMUFORMER_SSA_SCALE, type RegisteredModelOptions, type RegisteredModelBuffers } from './registered.js';
export { PsMnistLMU, type PsMnistOptions, type PsMnistBuffers } from './psmnist.js';
export {
  SpikingLMUFormer, PsMnistSLMU, FrameLIF,
  type SpikingModelOptions, type SpikingLMUFormerBuffers, type SpikingBlockBuffers, type PsMnistSLMUBuffers, type LifRecord,
} from './spiking.js';
export {
  fbank, speechFeatures, FbankStream, fbankFrameCount, fbankFrameDetail, melFilterbank, hannWindow, detLog, detCosPi, detSinPi,
  FBANK_SAMPLE_RATE, FBANK_FRAME_LENGTH, FBANK_FRAME_SHIFT, FBANK_FFT_SIZE, FBANK_NUM_BINS, FBANK_NUM_MEL_BINS, FBANK_ENERGY_FLOOR,
  SPEECH_TARGET_FRAMES, SPEECH_NORM_MEAN, SPEECH_NORM_STD, SPEECH_PAD_VALUE,
  type FbankOptions, type FbankStreamOptions, type FbankStreamOutput, type FbankFrameDetail,
} from './fbank.js';
export { readWav, WavError, type WavAudio, type WavErrorCode, type ReadWavOptions, type MultichannelMode } from './wav.js';
export {
  LMUFormerStream, SpikingLMUFormerStream, LMUFORMER_LOOKAHEAD,
  type LMUFormerStreamOptions, type SpikingLMUFormerStreamOptions, type StreamSpikes,
} from './stream.js';
export { PsMnistLMUStream, PsMnistSLMUStream, type PsMnistStreamOptions } from './psmnist-stream.js';
