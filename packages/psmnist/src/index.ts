export { PIXELS, CLASSES, TRAIN_FRACTION, trainCount, splitDigits, makePermutation, checkPermutation, permuteDigits, type DigitSet, type MnistSplit } from './data.js';
