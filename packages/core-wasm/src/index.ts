export { init, initSync, instantiate, getCore, defaultWasmUrl, type WasmSource } from './loader.js';
export { Core, Arena, Tensor, bitWords, type DType } from './core.js';
export { KERNELS, UTILITY_EXPORTS, type Backend, type KernelName, type KernelSignatures } from './kernels.js';
export {
  SpikewasmError, ShapeError, DTypeError, ArgumentError, InitError, SafetensorsError, fmtShape,
} from './errors.js';
export {
  packDense, repackDense, linear, linearSpike, linearWindows, packConv1dAsDense, conv1d, conv2d3x3, batchNormAffine, foldBatchNorm, channelAffine, relu, gelu, add,
  pool3x3s2Size, maxPool3x3s2, meanAxis, lif, lmuStep, lmuFir, lmuFirStep, packSpikes, packSpikesTransposed,
  packSpikesColumns, unpackSpikes, spikeAndPopcount, matmulCountsBits, matmulBitsCounts, countsToF32, expectTensor,
  prepareLmuFft, lmuFft,
  type PackedDense, type DenseOptions, type BatchNormParams, type LIFParams, type LIFOutputs, type LmuFftPlan,
} from './ops.js';
export {
  parseSafetensors, serializeSafetensors, SAFETENSORS_DTYPES, MAX_HEADER_BYTES, DEFAULT_MAX_HEADER_BYTES,
  SafetensorsHeaderLengthError, SafetensorsHeaderError, SafetensorsEntryError, SafetensorsDuplicateError,
  SafetensorsMetadataError, SafetensorsDTypeError, SafetensorsShapeError, SafetensorsOffsetError,
  SafetensorsOverlapError, SafetensorsGapError, SafetensorsNonFiniteError, SafetensorsBoolError,
  type SafetensorsDType, type SafetensorsFile, type LoadedTensor, type TensorData, type TensorToWrite,
  type ParseSafetensorsOptions,
} from './safetensors.js';
export {
  lmuContinuous, lmuDiscretize, lmuImpulseResponse, expm, toFloat32, type LmuMatrices,
} from './lmu-math.js';
/**
 * Checkpoint checking shared by the model packages: {@link matchStateDict} matches a state dict (safetensors bytes,
 * a parsed file, or a Map / object of tensors) against the names and shapes a model expects, strips `module.`,
 * skips ignored keys, and reports every missing, unexpected, mis-shaped and wrongly typed key in one multi-line
 * {@link CheckpointError}; {@link toStateDict}, {@link stateDictEntries} and {@link isStateDictTensor} read the inputs.
 */
export {
  matchStateDict, toStateDict, stateDictEntries, isStateDictTensor, CheckpointError,
  type CheckpointTensor, type StateDictEntry, type StateDictTensor, type StateDictLike, type MisshapedKey,
  type MatchStateDictOptions,
} from './checkpoint.js';
/** Input validation shared by the models: the non-finite policy and the model-input checks (docs/input-validation.md). */
export {
  NonFiniteError, firstNonFinite, checkFinite, checkInputKind, checkBatchInput, describeValue, fmtElement,
} from './validate.js';
