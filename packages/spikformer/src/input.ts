// Input pipelines: CIFAR normalisation of 8-bit RGB images to the model's [B, 3, H, W] float32 input.
import { ArgumentError, DTypeError, ShapeError, describeValue } from '@spikewasm/core-wasm';

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
  if (mean.some((m) => typeof m !== 'number' || !Number.isFinite(m))) throw new ArgumentError(`cifarNormalize: mean must be finite numbers, got [${mean.join(', ')}]`);
  if (pixels === null || typeof pixels !== 'object' || !Number.isSafeInteger(pixels.length)) {
    throw new DTypeError(`cifarNormalize: pixels must be a Uint8Array (or an array of integers in [0, 255]), got ${describeValue(pixels)}`);
  }
  if (options.out !== undefined && !(options.out instanceof Float32Array)) throw new DTypeError(`cifarNormalize: out must be a Float32Array, got ${describeValue(options.out)}`);
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

// ───────────────────────────── ImageNet evaluation pipeline ─────────────────────────────
//
// The official ImageNet evaluation (ZK-Zhou/spikformer imagenet/test.py, `create_loader(..., is_training=False,
// interpolation=data_config['interpolation'], crop_pct=data_config['crop_pct'], use_prefetcher=args.prefetcher)`,
// with the defaults of imagenet/imagenet.yml loaded through `parser.set_defaults`: img_size 224, crop_pct 1.0,
// interpolation bicubic, ImageNet mean/std; the prefetcher is on unless --no-prefetcher) is timm's
// `transforms_imagenet_eval`: Resize(floor(224 / crop_pct)) of the shorter side with PIL bicubic,
// CenterCrop(224), then uint8 → float normalisation (timm `PrefetchLoader`, or ToTensor + Normalize).
// Below, the PIL resampling (Pillow src/libImaging/Resample.c, 8 bits per channel) is re-implemented from its
// description: separable convolution, horizontal pass then vertical pass, each rounded to uint8.

/** ImageNet channel means (R, G, B) (timm IMAGENET_DEFAULT_MEAN; official imagenet/imagenet.yml). */
export const IMAGENET_MEAN: readonly [number, number, number] = Object.freeze([0.485, 0.456, 0.406]) as readonly [number, number, number];
/** ImageNet channel standard deviations (R, G, B) (timm IMAGENET_DEFAULT_STD; official imagenet/imagenet.yml). */
export const IMAGENET_STD: readonly [number, number, number] = Object.freeze([0.229, 0.224, 0.225]) as readonly [number, number, number];

/** An 8-bit image, rows of interleaved RGB (channels 3) or RGBA (channels 4, alpha dropped as PIL `convert('RGB')`). */
export interface RgbImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** PIL resampling filters reproduced by {@link pilResize}. */
export type ResizeInterpolation = 'bicubic' | 'bilinear';

/** Options of {@link imagenetResizeCrop} and {@link imagenetPreprocess}. */
export interface ImagenetPreprocessOptions {
  /** Output side (default 224, the official img_size). */
  size?: number;
  /** Centre-crop fraction: the shorter side is resized to floor(size / cropPct) (default 1.0, the official value). */
  cropPct?: number;
  /** Resize filter (default `'bicubic'`, the official value). */
  interpolation?: ResizeInterpolation;
  /** Float rounding, as {@link CifarNormalizeOptions.rounding} (default `'prefetcher'`, the official loader). */
  rounding?: 'prefetcher' | 'totensor';
  /** Per-channel mean and std (default {@link IMAGENET_MEAN}, {@link IMAGENET_STD}). */
  mean?: readonly number[];
  std?: readonly number[];
  /** Where to write (3·size² values for one image, B·3·size² for a batch); default a new Float32Array. */
  out?: Float32Array;
}

const PRECISION_BITS = 32 - 8 - 2; // Pillow's fixed point for 8-bit images

// Pillow's filters: support 2 (bicubic, a = −0.5) and 1 (bilinear); the arithmetic order is kept so that the
// doubles match the C code bit for bit (no FMA contraction on the reference x86-64 build).
function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return ((-0.5 + 2) * x - (-0.5 + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0;
}
function bilinear(x: number): number {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
}

interface Coeffs { ksize: number; bounds: Int32Array; kk: Int32Array }

/** Pillow `precompute_coeffs` + `normalize_coeffs_8bpc` for the whole-image box [0, inSize). */
function precomputeCoeffs(inSize: number, outSize: number, interp: ResizeInterpolation): Coeffs {
  const filter = interp === 'bicubic' ? bicubic : bilinear;
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = (interp === 'bicubic' ? 2 : 1) * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2), kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale; // in0 = 0
    let xmin = Math.trunc(center - support + 0.5); // C (int) cast
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/** Pillow's clip8: arithmetic shift of the fixed-point sum, clamped to [0, 255]. */
function clip8(v: number): number {
  if (v <= 0) return 0;
  const u = Math.floor(v / (1 << PRECISION_BITS)); // == v >> 22 (v < 2^31)
  return u > 255 ? 255 : u;
}

function checkImage(fn: string, image: RgbImage): void {
  if (image === null || typeof image !== 'object') throw new ArgumentError(`${fn}: image must be an object { data, width, height, channels }`);
  const { data, width: W, height: H, channels: C } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new ArgumentError(`${fn}: image.data must be a Uint8Array or Uint8ClampedArray`);
  for (const [k, v] of [['width', W], ['height', H]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`${fn}: image.${k} must be a positive integer, got ${v}`);
  }
  if (C !== 3 && C !== 4) throw new ArgumentError(`${fn}: image.channels must be 3 or 4, got ${String(C)}`);
  if (data.length !== W * H * C) throw new ShapeError(`${fn}: image.data holds ${data.length} bytes, expected width·height·channels = ${W}·${H}·${C} = ${W * H * C}`);
}

/**
 * PIL `Image.resize((outWidth, outHeight), BICUBIC | BILINEAR)` of an 8-bit image, bit-exact: the filter is
 * widened by the scale when downscaling (antialiasing), the horizontal pass runs first, each pass rounds to
 * uint8 with Pillow's 22-bit fixed-point coefficients. Returns interleaved RGB (an RGBA input's alpha is
 * dropped first, as `convert('RGB')`). Same size → a copy.
 */
export function pilResize(image: RgbImage, outWidth: number, outHeight: number, interpolation: ResizeInterpolation = 'bicubic'): Uint8Array {
  checkImage('pilResize', image);
  for (const [k, v] of [['outWidth', outWidth], ['outHeight', outHeight]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ArgumentError(`pilResize: ${k} must be a positive integer, got ${v}`);
  }
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') throw new ArgumentError(`pilResize: interpolation must be 'bicubic' or 'bilinear', got ${String(interpolation)}`);
  const { data, width: W, height: H, channels: C } = image;
  let src: Uint8Array = new Uint8Array(W * H * 3);
  for (let i = 0, j = 0; i < W * H; i++, j += C) {
    src[i * 3] = data[j]; src[i * 3 + 1] = data[j + 1]; src[i * 3 + 2] = data[j + 2];
  }
  let w = W, h = H;
  const half = 1 << (PRECISION_BITS - 1);
  const vert = precomputeCoeffs(H, outHeight, interpolation);
  if (outWidth !== W) {
    // Horizontal pass over the source rows the vertical pass reads (Pillow skips the others; same result).
    const { ksize, bounds, kk } = precomputeCoeffs(W, outWidth, interpolation);
    const y0 = outHeight !== H ? vert.bounds[0] : 0;
    const y1 = outHeight !== H ? vert.bounds[outHeight * 2 - 2] + vert.bounds[outHeight * 2 - 1] : H;
    const tmp = new Uint8Array(outWidth * H * 3);
    for (let y = y0; y < y1; y++) {
      const row = y * W * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1], ko = xx * ksize;
        let s0 = half, s1 = half, s2 = half;
        for (let x = 0; x < xmax; x++) {
          const p = row + (x + xmin) * 3, kv = kk[ko + x];
          s0 += src[p] * kv; s1 += src[p + 1] * kv; s2 += src[p + 2] * kv;
        }
        const o = (y * outWidth + xx) * 3;
        tmp[o] = clip8(s0); tmp[o + 1] = clip8(s1); tmp[o + 2] = clip8(s2);
      }
    }
    src = tmp; w = outWidth;
  }
  if (outHeight !== H) {
    const { ksize, bounds, kk } = vert;
    const out = new Uint8Array(w * outHeight * 3);
    for (let yy = 0; yy < outHeight; yy++) {
      const ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1], ko = yy * ksize;
      for (let x = 0; x < w; x++) {
        let s0 = half, s1 = half, s2 = half;
        for (let y = 0; y < ymax; y++) {
          const p = ((y + ymin) * w + x) * 3, kv = kk[ko + y];
          s0 += src[p] * kv; s1 += src[p + 1] * kv; s2 += src[p + 2] * kv;
        }
        const o = (yy * w + x) * 3;
        out[o] = clip8(s0); out[o + 1] = clip8(s1); out[o + 2] = clip8(s2);
      }
    }
    src = out; h = outHeight;
  }
  void h;
  return src;
}

/** Python's round() of a multiple of 0.5 (ties to even), as torchvision's center_crop uses. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function resolveOptions(fn: string, o: ImagenetPreprocessOptions): { size: number; scale: number; interp: ResizeInterpolation } {
  const size = o.size ?? 224, cropPct = o.cropPct ?? 1.0, interp = o.interpolation ?? 'bicubic';
  if (!Number.isSafeInteger(size) || size < 1) throw new ArgumentError(`${fn}: size must be a positive integer, got ${size}`);
  if (typeof cropPct !== 'number' || !(cropPct > 0) || !Number.isFinite(cropPct)) throw new ArgumentError(`${fn}: cropPct must be a positive number, got ${String(cropPct)}`);
  if (interp !== 'bicubic' && interp !== 'bilinear') throw new ArgumentError(`${fn}: interpolation must be 'bicubic' or 'bilinear', got ${String(interp)}`);
  const scale = Math.floor(size / cropPct); // timm: scale_size = floor(img_size / crop_pct)
  if (scale < 1) throw new ArgumentError(`${fn}: floor(size / cropPct) = ${scale} is not a positive size`);
  return { size, scale, interp };
}

/**
 * The uint8 part of the ImageNet evaluation transform: torchvision `Resize(floor(size / cropPct))` (shorter side
 * to that length, longer side int(scale · long / short), PIL resampling via {@link pilResize}; no-op when already
 * that size), then `CenterCrop(size)` (top = round((h − size) / 2), Python's ties-to-even; zero padding when the
 * image is smaller). Returns interleaved RGB, size × size × 3.
 */
export function imagenetResizeCrop(image: RgbImage, options: ImagenetPreprocessOptions = {}): Uint8Array {
  checkImage('imagenetResizeCrop', image);
  const { size, scale, interp } = resolveOptions('imagenetResizeCrop', options);
  const { width: W, height: H } = image;
  // torchvision _compute_resized_output_size: int(size * long / short) (a double division, then truncation)
  const [nw, nh] = W <= H ? [scale, Math.trunc((scale * H) / W)] : [Math.trunc((scale * W) / H), scale];
  const rgb = pilResize(image, nw, nh, interp);
  // torchvision center_crop: pad (left = (size − w) // 2, top likewise) when smaller, then round((h − size) / 2)
  const top = nh < size ? -Math.floor((size - nh) / 2) : roundHalfEven((nh - size) / 2);
  const left = nw < size ? -Math.floor((size - nw) / 2) : roundHalfEven((nw - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= nh) continue;
    for (let x = 0; x < size; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= nw) continue;
      const s = (sy * nw + sx) * 3, o = (y * size + x) * 3;
      out[o] = rgb[s]; out[o + 1] = rgb[s + 1]; out[o + 2] = rgb[s + 2];
    }
  }
  return out;
}

/**
 * The official ImageNet evaluation input of one 8-bit RGB(A) photo: {@link imagenetResizeCrop} (defaults: bicubic,
 * crop_pct 1.0, 224) then the float32 normalisation of {@link cifarNormalize} with the ImageNet mean/std.
 * Returns a Float32Array [3, size, size] (a batch of one for {@link Spikformer.forward}).
 * @example
 * const x = imagenetPreprocess({ data: imageData.data, width: imageData.width, height: imageData.height, channels: 4 });
 */
export function imagenetPreprocess(image: RgbImage, options: ImagenetPreprocessOptions = {}): Float32Array {
  const crop = imagenetResizeCrop(image, options);
  const size = options.size ?? 224;
  if (options.out && options.out.length !== 3 * size * size) throw new ShapeError(`imagenetPreprocess: out holds ${options.out.length} values, expected 3·size·size = ${3 * size * size}`);
  return cifarNormalize(crop, {
    height: size, width: size, layout: 'hwc', rounding: options.rounding ?? 'prefetcher',
    mean: options.mean ?? IMAGENET_MEAN, std: options.std ?? IMAGENET_STD, out: options.out,
  });
}

/** {@link imagenetPreprocess} of B images (any sizes) into one Float32Array [B, 3, size, size]. */
export function imagenetPreprocessBatch(images: readonly RgbImage[], options: ImagenetPreprocessOptions = {}): Float32Array {
  if (!Array.isArray(images) || images.length === 0) throw new ArgumentError('imagenetPreprocessBatch: images must be a non-empty array');
  const { size } = resolveOptions('imagenetPreprocessBatch', options);
  const per = 3 * size * size, B = images.length;
  const out = options.out ?? new Float32Array(B * per);
  if (out.length !== B * per) throw new ShapeError(`imagenetPreprocessBatch: out holds ${out.length} values, expected B·3·size·size = ${B * per}`);
  for (let b = 0; b < B; b++) imagenetPreprocess(images[b], { ...options, out: out.subarray(b * per, (b + 1) * per) });
  return out;
}
