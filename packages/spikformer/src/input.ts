// Input pipelines: CIFAR normalisation of 8-bit RGB images to the model's [B, 3, H, W] float32 input.
import { ArgumentError, ShapeError } from '@spikewasm/core-wasm';

/** CIFAR-10 channel means (R, G, B) of the official training script (spec spikformer.md §2). */
export const CIFAR_MEAN: readonly [number, number, number] = Object.freeze([0.4914, 0.4822, 0.4465]) as readonly [number, number, number];
/** CIFAR-10 channel standard deviations (R, G, B) (spec spikformer.md §2). */
export const CIFAR_STD: readonly [number, number, number] = Object.freeze([0.247, 0.2435, 0.2616]) as readonly [number, number, number];

/** Memory layout of 8-bit images: `'hwc'` (interleaved RGB rows), `'rgba'` (canvas `ImageData`, alpha dropped) or `'chw'` (planes, as the CIFAR binary files). */
export type PixelLayout = 'hwc' | 'rgba' | 'chw';

/** Options of {@link cifarNormalize}. */
export interface CifarNormalizeOptions {
  /** Image height and width (default 32). */
  height?: number;
  width?: number;
  /** Layout of `pixels` (default `'hwc'`). */
  layout?: PixelLayout;
  /**
   * Which official float32 rounding to reproduce (the two differ by less than 1e-6):
   * `'prefetcher'` (default; timm's `PrefetchLoader`, which the official training and validation use):
   * x = f32(f32(u − f32(255·mean)) / f32(255·std)); `'totensor'` (torchvision `ToTensor` + `Normalize`):
   * x = f32(f32(f32(u / 255) − f32(mean)) / f32(std)).
   */
  rounding?: 'prefetcher' | 'totensor';
  /** Per-channel mean and std (default {@link CIFAR_MEAN}, {@link CIFAR_STD}; e.g. ImageNet's for other data). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Where to write (B·3·H·W values); default a new Float32Array. */
  out?: Float32Array;
}

/**
 * CIFAR normalisation of a batch of 8-bit RGB images into the model input, channel-first:
 *
 *     out[b, c, y, x] = (u[b, y, x, c] / 255 − mean_c) / std_c        (rounded as the official float32 pipeline)
 *
 * `pixels` holds B images of H×W (the batch size is its length / (H·W·3), or ·4 for `'rgba'`); returns
 * out [B, 3, H, W] as a Float32Array, ready for {@link Spikformer.forward}.
 * @example
 * const x = cifarNormalize(rgbBytes);                    // 3072·B bytes, HWC → Float32Array [B, 3, 32, 32]
 * const logits = model.forward(x);
 */
export function cifarNormalize(pixels: ArrayLike<number>, options: CifarNormalizeOptions = {}): Float32Array {
  const H = options.height ?? 32, W = options.width ?? 32, layout = options.layout ?? 'hwc';
  const mean = options.mean ?? CIFAR_MEAN, std = options.std ?? CIFAR_STD;
  for (const [k, v] of [['height', H], ['width', W]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`cifarNormalize: ${k} must be a positive integer, got ${v}`);
  }
  if (layout !== 'hwc' && layout !== 'rgba' && layout !== 'chw') throw new ArgumentError(`cifarNormalize: layout must be 'hwc', 'rgba' or 'chw', got ${String(layout)}`);
  if (mean.length !== 3 || std.length !== 3) throw new ArgumentError(`cifarNormalize: mean and std must have 3 values (R, G, B), got ${mean.length} and ${std.length}`);
  if (std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new ArgumentError(`cifarNormalize: std must be positive, got [${std.join(', ')}]`);
  const per = H * W * (layout === 'rgba' ? 4 : 3);
  if (pixels.length === 0 || pixels.length % per !== 0) {
    throw new ShapeError(`cifarNormalize: ${pixels.length} bytes is not a whole number of ${H}×${W} ${layout} images (${per} bytes each)`);
  }
  const B = pixels.length / per, plane = H * W;
  const out = options.out ?? new Float32Array(B * 3 * plane);
  if (out.length !== B * 3 * plane) throw new ShapeError(`cifarNormalize: out holds ${out.length} values, expected B·3·H·W = ${B * 3 * plane}`);
  const f = Math.fround;
  const pre = (options.rounding ?? 'prefetcher') === 'prefetcher';
  if (!pre && options.rounding !== 'totensor') throw new ArgumentError(`cifarNormalize: rounding must be 'prefetcher' or 'totensor', got ${String(options.rounding)}`);
  const m = pre ? mean.map((v) => f(v * 255)) : mean.map(f);
  const s = pre ? std.map((v) => f(v * 255)) : std.map(f);
  const step = layout === 'rgba' ? 4 : 3;
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < 3; c++) {
      const o = (b * 3 + c) * plane;
      for (let i = 0; i < plane; i++) {
        const u = layout === 'chw' ? pixels[b * per + c * plane + i] : pixels[b * per + i * step + c];
        if (!(u >= 0 && u <= 255) || !Number.isInteger(u)) throw new ArgumentError(`cifarNormalize: pixel value ${u} at index ${b * per + (layout === 'chw' ? c * plane + i : i * step + c)} is not an integer in [0, 255]`);
        out[o + i] = pre ? f(f(u - m[c]) / s[c]) : f(f(f(u / 255) - m[c]) / s[c]);
      }
    }
  }
  return out;
}
