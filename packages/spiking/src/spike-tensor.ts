import { packSpikes, unpackSpikes, ShapeError, fmtShape, type Arena, type Tensor } from '@spikewasm/core-wasm';

const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, i) => {
  let c = 0;
  for (let b = i; b; b &= b - 1) c++;
  return c;
});

/**
 * Spikes stored packed in bits: 32 spikes per u32 word along the last axis (the layout every spike-input kernel of
 * core-wasm reads). `bits` is the core-wasm tensor of dtype `bits`; `shape` is the logical spike shape.
 * A float view is made on demand into a tensor you pass (no hidden allocation).
 * @example
 * const s = SpikeTensor.alloc(arena, [T, N]);
 * s.pack(floatSpikes);       // 0/1 floats → bits
 * s.firingRate();            // fraction of ones
 */
export class SpikeTensor {
  constructor(readonly bits: Tensor) {
    if (bits.dtype !== 'bits') throw new ShapeError(`SpikeTensor: expected a tensor of dtype bits, got ${bits.dtype}`);
  }

  /** A zeroed spike tensor of the given logical shape. */
  static alloc(arena: Arena, shape: readonly number[], name = 'spikes'): SpikeTensor {
    return new SpikeTensor(arena.tensor(shape, 'bits', name));
  }

  get shape(): readonly number[] {
    return this.bits.shape;
  }

  /** Number of spikes positions (the logical element count). */
  get size(): number {
    return this.bits.size;
  }

  /** Packs 0/1 floats (any non-zero is a spike) of the same shape into this tensor. */
  pack(x: Tensor): this {
    packSpikes(x, this.bits);
    return this;
  }

  /** Unpacks into a float tensor of the same shape (1/0) and returns it. */
  toFloat(out: Tensor): Tensor {
    return unpackSpikes(this.bits, out);
  }

  /** Number of spikes (set bits; padding bits are always 0). */
  count(): number {
    const bytes = new Uint8Array(this.bits.data.buffer, this.bits.ptr, this.bits.byteLength);
    let c = 0;
    for (let i = 0; i < bytes.length; i++) c += POPCOUNT8[bytes[i]];
    return c;
  }

  /** Fraction of positions that spiked, in [0, 1]. */
  firingRate(): number {
    return this.size ? this.count() / this.size : 0;
  }

  /** A view of the same bits with another logical shape whose last dimension is unchanged (row packing is kept). */
  reshape(shape: readonly number[]): SpikeTensor {
    const last = this.shape[this.shape.length - 1];
    if (shape[shape.length - 1] !== last) {
      throw new ShapeError(`SpikeTensor.reshape: the last dimension holds the packing and must stay ${last}, got ${fmtShape(shape)}`);
    }
    return new SpikeTensor(this.bits.reshape(shape));
  }
}
