// A drawing → a 28 × 28 digit the way MNIST digits look (LeCun et al.): white on black, intensities in [0, 1], the
// ink's bounding box scaled (area-averaged, aspect kept) to fit a 20 × 20 box, then placed in the 28 × 28 field so
// that its centre of mass is at the centre. Pure functions, no DOM.

/** Side of the output digit. */
export const SIDE = 28;
/** Side of the box the ink is scaled into. */
export const BOX = 20;

/**
 * Converts a grayscale image (w·h values, 0 = background, larger = ink, any scale) into 784 floats in [0, 1],
 * row-major. An empty image gives all zeros.
 * @example toMnist(gray, 280, 280)   // Float32Array(784)
 */
export function toMnist(gray: ArrayLike<number>, w: number, h: number): Float32Array {
  const out = new Float32Array(SIDE * SIDE);
  let max = 0;
  for (let i = 0; i < w * h; i++) max = Math.max(max, gray[i]);
  if (!(max > 0)) return out;
  const ink = max * 0.02;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (gray[y * w + x] > ink) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    }
  }
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = BOX / Math.max(bw, bh);
  const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));
  // Area average: target pixel (tx, ty) covers source [x0 + tx/s, x0 + (tx+1)/s) × the same in y.
  const small = new Float32Array(tw * th);
  for (let ty = 0; ty < th; ty++) {
    const sy0 = y0 + ty / s, sy1 = Math.min(y0 + (ty + 1) / s, y1 + 1);
    for (let tx = 0; tx < tw; tx++) {
      const sx0 = x0 + tx / s, sx1 = Math.min(x0 + (tx + 1) / s, x1 + 1);
      let acc = 0, area = 0;
      for (let y = Math.floor(sy0); y < Math.ceil(sy1); y++) {
        const fy = Math.min(y + 1, sy1) - Math.max(y, sy0);
        for (let x = Math.floor(sx0); x < Math.ceil(sx1); x++) {
          const f = fy * (Math.min(x + 1, sx1) - Math.max(x, sx0));
          acc += f * gray[y * w + x];
          area += f;
        }
      }
      small[ty * tw + tx] = area > 0 ? acc / area : 0;
    }
  }
  // Normalise so the strongest stroke is 1, and find the centre of mass.
  let smax = 0, mass = 0, cx = 0, cy = 0;
  for (const v of small) smax = Math.max(smax, v);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) {
      const v = small[ty * tw + tx] / smax;
      small[ty * tw + tx] = v;
      mass += v; cx += v * tx; cy += v * ty;
    }
  }
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round((SIDE - 1) / 2 - cx / mass), SIDE - tw);
  const oy = clamp(Math.round((SIDE - 1) / 2 - cy / mass), SIDE - th);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx++) out[(oy + ty) * SIDE + ox + tx] = Math.min(1, small[ty * tw + tx]);
  }
  return out;
}
