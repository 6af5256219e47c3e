export { PIXELS, CLASSES, TRAIN_FRACTION, trainCount, splitDigits, makePermutation, checkPermutation, permuteDigits, type DigitSet, type MnistSplit } from './data.js';
export {
  MODEL_FACTORY, DEFAULT_FRONT, fixedFront, stateDict, configJson, writeModelFile, readModelFile, loadModelFile, ModelFileError,
  type TrainableWeights, type ModelFileInfo, type Front,
} from './model-file.js';
export { argmax, predictParallel, predictStreaming, compareModes, accuracy, earlyStop, type StreamingResult, type Agreement } from './eval.js';
export {
  PsMnistGradient, PsMnistTraining, initialWeights, shiftAndPermute, DEFAULT_TRAIN_OPTIONS,
  type ShardGradient, type TrainOptions, type Batch, type StepReport,
} from './train.js';
export { accuracyCurve, textChart, svgChart } from './report.js';
