// Buffers of the streaming steppers (stream.ts, psmnist streams): per-sequence frame histories of the k = 3 convs
// (batch-major) and time-major chunk buffers, with every tensor view they hand out made once and cached, so that a
// step in the steady state creates no tensor and allocates no Wasm memory.
import { ArgumentError, ShapeError, type Arena, type Tensor } from '@spikewasm/core-wasm';

/**
 * Batch-major rows: a buffer [B, R, C] (R rows of C floats per sequence) with cached [count, C] views of the rows
 * of one sequence.
 */
export class BatchRows {
  readonly buf: Tensor;
  private readonly wholes: Tensor[] = [];
  private readonly cache: Map<number, Tensor>[] = [];

  constructor(arena: Arena, readonly batch: number, readonly capacity: number, readonly channels: number, readonly name: string) {
    this.buf = arena.tensor([batch, capacity, channels], 'f32', name);
    for (let b = 0; b < batch; b++) {
      this.wholes.push(arena.core.view(this.buf.ptr + b * capacity * channels * 4, [capacity, channels], 'f32', name));
      this.cache.push(new Map());
    }
  }

  /** All R rows of sequence b, [R, C]. */
  whole(b: number): Tensor {
    return this.wholes[b];
  }

  /** Rows [row0, row0 + count) of sequence b as a [count, C] view (made on first use, then cached). */
  view(b: number, row0: number, count: number): Tensor {
    const key = row0 * (this.capacity + 1) + count;
    let v = this.cache[b].get(key);
    if (!v) {
      if (row0 < 0 || count < 1 || row0 + count > this.capacity) {
        throw new ShapeError(`${this.name}: rows [${row0}, ${row0 + count}) outside the ${this.capacity} rows of a sequence`);
      }
      v = this.buf.core.view(this.buf.ptr + (b * this.capacity + row0) * this.channels * 4, [count, this.channels], 'f32', this.name);
      this.cache[b].set(key, v);
    }
    return v;
  }
}

/**
 * The input history of one k = 3 conv over frames (stride 1, zero padding 1), per sequence: output frame n needs
 * input frames n − 1, n, n + 1, so it is ready one frame after input n arrived (one frame of look-ahead per conv).
 * Rows 0 and 1 hold the last two input frames (zero before the first frame: the conv's left zero padding), new frames
 * are appended after them ({@link FrameHistory.tail}, {@link FrameHistory.commit}); {@link FrameHistory.take} tells
 * how many outputs are ready and where their windows start; {@link FrameHistory.shift} keeps the last two rows.
 * With `final`, take appends one zero frame, the conv's right zero padding in its own input domain, and every
 * remaining output becomes ready.
 */
export class FrameHistory extends BatchRows {
  /** Rows in use per sequence (2 history rows + appended frames). */
  rows = 2;
  /** The frame index held by row 0 (−2 at the start: row 1 is the left zero padding, frame −1). */
  first = -2;
  /** Input frames received since the reset. */
  received = 0;
  /** Output frames made ready since the reset. */
  emitted = 0;
  /** Row where the window of the first output of the last {@link FrameHistory.take} starts. */
  start = 0;

  /** Where the producer writes the next `count` frames of sequence b. */
  tail(b: number, count: number): Tensor {
    return this.view(b, this.rows, count);
  }

  /** Marks `count` frames as appended (to every sequence). */
  commit(count: number): void {
    if (count === 0) return;
    if (this.rows + count > this.capacity) throw new ArgumentError(`${this.name}: ${count} frames overflow the history (${this.capacity - this.rows} rows free)`);
    this.rows += count;
    this.received += count;
  }

  /**
   * The number of outputs ready now (their windows start at row {@link FrameHistory.start}, consecutive). With
   * `final` (end of the utterance) a zero frame is appended first and every remaining output is ready.
   */
  take(final: boolean): number {
    if (final && this.received > this.emitted) {
      const C = this.channels, v = this.buf.f32;
      for (let b = 0; b < this.batch; b++) {
        const o = (b * this.capacity + this.rows) * C;
        v.fill(0, o, o + C);
      }
      this.rows++;
    }
    const n = final ? this.received - this.emitted : Math.max(0, this.received - 1 - this.emitted);
    this.start = this.emitted - 1 - this.first;
    this.emitted += n;
    return n;
  }

  /** Keeps the last two rows (frames) as the history of the next step. */
  shift(): void {
    const keep = this.rows - 2;
    if (keep <= 0) return;
    const C = this.channels, v = this.buf.f32;
    for (let b = 0; b < this.batch; b++) {
      const o = b * this.capacity * C;
      v.copyWithin(o, o + keep * C, o + this.rows * C);
    }
    this.first += keep;
    this.rows = 2;
  }

  /** Back to the state before the first frame (zero history). */
  reset(): void {
    this.buf.f32.fill(0);
    this.rows = 2;
    this.first = -2;
    this.received = 0;
    this.emitted = 0;
    this.start = 0;
  }
}

/** A time-major buffer [R, B, C] with cached views of its first T rows ([T, B, C], [T·B, C] or [T, B·C]). */
export class TimeRows {
  readonly buf: Tensor;
  private readonly v3: (Tensor | undefined)[] = [];
  private readonly v2: (Tensor | undefined)[] = [];

  constructor(arena: Arena, readonly capacity: number, readonly batch: number, readonly channels: number, readonly name: string) {
    this.buf = arena.tensor([capacity, batch, channels], 'f32', name);
  }

  /** The first T rows, [T, B, C]. */
  first(T: number): Tensor {
    let v = this.v3[T];
    if (!v) {
      this.check(T);
      v = this.buf.core.view(this.buf.ptr, [T, this.batch, this.channels], 'f32', this.name);
      this.v3[T] = v;
    }
    return v;
  }

  /** The first T rows as [T, B·C] (for C = 1: [T, B], one scalar per sequence and step). */
  flat(T: number): Tensor {
    let v = this.v2[T];
    if (!v) {
      this.check(T);
      v = this.buf.core.view(this.buf.ptr, [T, this.batch * this.channels], 'f32', this.name);
      this.v2[T] = v;
    }
    return v;
  }

  private check(T: number): void {
    if (!Number.isSafeInteger(T) || T < 0 || T > this.capacity) throw new ShapeError(`${this.name}: ${T} rows requested of ${this.capacity}`);
  }
}

/** Copies n floats (a loop: no subarray objects on the per-frame paths). */
export function copyFloats(src: ArrayLike<number>, srcOffset: number, dst: Float32Array, dstOffset: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOffset + i] = src[srcOffset + i];
}
