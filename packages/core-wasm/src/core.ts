import { InitError, ShapeError, ArgumentError, fmtShape } from './errors.js';
import { KERNELS, type Backend, type KernelName, type KernelSignatures } from './kernels.js';

/** Element types of tensors in Wasm memory. `bits` holds spikes packed 32 to a u32 word along the last axis. */
export type DType = 'f32' | 'i32' | 'bits';

const WASM_PAGE = 65536;
/** Bytes kept free at the end of memory: edge tiles of the SIMD kernels may read (and mask away) up to 32 bytes past
 *  a row, so no tensor may end right at the end of memory. */
const TAIL_SLACK = 64;
const ALIGN = 16;

/**
 * A tensor living in the Wasm module's linear memory. It owns `byteLength` bytes at `ptr` until its {@link Arena}
 * is disposed. `data` is a typed-array view that is rebuilt whenever memory has grown (growth detaches old views),
 * so never keep `data` across a call that may allocate.
 *
 * Layout: row-major. For `bits` tensors `shape` is the logical spike shape; storage is `rows × ⌈cols/32⌉` u32
 * words where `cols` is the last dimension and `rows` the product of the others (bit c of a row is bit c & 31 of
 * word c >> 5; bits past `cols` are 0).
 */
export class Tensor {
  private view: Float32Array | Int32Array | Uint32Array | null = null;
  /** Number of logical elements (spikes for `bits`). */
  readonly size: number;
  /** Number of stored scalars (u32 words for `bits`). */
  readonly storageLength: number;

  constructor(
    readonly core: Core,
    readonly ptr: number,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly name = 'tensor',
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.storageLength = dtype === 'bits' ? bitWords(shape) : this.size;
  }

  get byteLength(): number {
    return this.storageLength * 4;
  }

  /** The live view: Float32Array (f32), Int32Array (i32) or Uint32Array (bits words). */
  get data(): Float32Array | Int32Array | Uint32Array {
    const buf = this.core.memory.buffer;
    if (this.view === null || this.view.buffer !== buf) {
      const C = this.dtype === 'f32' ? Float32Array : this.dtype === 'i32' ? Int32Array : Uint32Array;
      this.view = new C(buf, this.ptr, this.storageLength);
    }
    return this.view;
  }

  /** The live f32 view (throws if the tensor is not f32). */
  get f32(): Float32Array {
    if (this.dtype !== 'f32') throw new ArgumentError(`${this.name}: f32 view requested of a ${this.dtype} tensor`);
    return this.data as Float32Array;
  }

  /** Copies `src` (same number of stored scalars) into the tensor. */
  set(src: ArrayLike<number>): this {
    if (src.length !== this.storageLength) {
      throw new ShapeError(`${this.name}: expected ${this.storageLength} values for shape ${fmtShape(this.shape)} (${this.dtype}), got ${src.length}`);
    }
    (this.data as Float32Array).set(src as ArrayLike<number>);
    return this;
  }

  /** A copy of the stored values, detached from Wasm memory. */
  toArray(): Float32Array | Int32Array | Uint32Array {
    return this.data.slice();
  }

  /** Same memory, another shape with the same element count (and dtype). */
  reshape(shape: readonly number[], name = this.name): Tensor {
    const t = new Tensor(this.core, this.ptr, shape, this.dtype, name);
    if (t.storageLength !== this.storageLength || t.size !== this.size) {
      throw new ShapeError(`${this.name}: cannot reshape ${fmtShape(this.shape)} to ${fmtShape(shape)}`);
    }
    return t;
  }
}

/** Number of u32 words that store a bit tensor of the given logical shape. */
export function bitWords(shape: readonly number[]): number {
  if (shape.length === 0) return 1;
  const cols = shape[shape.length - 1];
  let rows = 1;
  for (let i = 0; i < shape.length - 1; i++) rows *= shape[i];
  return rows * Math.ceil(cols / 32);
}

/**
 * A group of allocations owned by one model (or one test): allocate every buffer once, up front, and dispose them
 * together. Ops never allocate: they write into tensors you pass.
 */
export class Arena {
  private blocks: number[] = [];
  private disposed = false;

  constructor(readonly core: Core) {}

  /** A zero-filled tensor of the given shape and dtype. */
  tensor(shape: readonly number[], dtype: DType = 'f32', name?: string): Tensor {
    if (this.disposed) throw new ArgumentError('arena is disposed');
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(`${name ?? 'tensor'}: shape ${fmtShape(shape)} has a dimension that is not a non-negative integer`);
    }
    const words = dtype === 'bits' ? bitWords(shape) : shape.reduce((a, b) => a * b, 1);
    const ptr = this.core.alloc(Math.max(words, 1) * 4);
    this.blocks.push(ptr);
    new Uint8Array(this.core.memory.buffer, ptr, Math.max(words, 1) * 4).fill(0);
    return new Tensor(this.core, ptr, shape, dtype, name);
  }

  /** A tensor holding a copy of `values`. */
  from(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', name?: string): Tensor {
    return this.tensor(shape, dtype, name).set(values);
  }

  /** Frees every tensor of this arena. Tensors from it must not be used afterwards. */
  dispose(): void {
    for (const p of this.blocks) this.core.free(p);
    this.blocks = [];
    this.disposed = true;
  }
}

/**
 * An instantiated spikewasm module: its memory, a first-fit allocator over it, the kernel table and the backend
 * choice (`'simd'` by default; `'scalar'` runs the plain Wasm paths, for tests and comparison).
 */
export class Core {
  readonly memory: WebAssembly.Memory;
  readonly exports: Record<string, unknown>;
  backend: Backend = 'simd';
  private free_: [number, number][] = [];
  private sizes = new Map<number, number>();

  constructor(readonly instance: WebAssembly.Instance) {
    this.exports = instance.exports as Record<string, unknown>;
    const mem = this.exports.memory;
    if (!(mem instanceof WebAssembly.Memory)) throw new InitError('spikewasm.wasm exports no memory');
    this.memory = mem;
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      for (const b of ['scalar', 'simd'] as const) {
        if (typeof this.exports[KERNELS[name][b]] !== 'function') throw new InitError(`spikewasm.wasm lacks export ${KERNELS[name][b]}`);
      }
    }
    const base = (this.exports.heap_base as () => number)();
    const end = this.memory.buffer.byteLength - TAIL_SLACK;
    this.free_.push([base, end - base]);
  }

  /** The kernel function for the current (or given) backend. */
  kernel<K extends KernelName>(name: K, backend: Backend = this.backend): KernelSignatures[K] {
    return this.exports[KERNELS[name][backend]] as KernelSignatures[K];
  }

  /** A new arena whose tensors are freed together. */
  arena(): Arena {
    return new Arena(this);
  }

  /** Bytes of Wasm memory (grows, never shrinks). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (16-byte aligned) from the free list, growing memory if needed. */
  alloc(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    for (let i = 0; i < this.free_.length; i++) {
      const [p, n] = this.free_[i];
      if (n >= size) {
        if (n === size) this.free_.splice(i, 1);
        else this.free_[i] = [p + size, n - size];
        this.sizes.set(p, size);
        return p;
      }
    }
    const last = this.free_[this.free_.length - 1];
    const end = this.memory.buffer.byteLength - TAIL_SLACK;
    const tailFree = last && last[0] + last[1] === end ? last[1] : 0;
    const need = size - tailFree;
    const pages = Math.ceil(need / WASM_PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new ArgumentError(`out of Wasm memory: cannot allocate ${bytes} bytes (memory is ${end} bytes)`);
    }
    if (tailFree) last[1] += pages * WASM_PAGE;
    else this.free_.push([end, pages * WASM_PAGE]);
    return this.alloc(bytes);
  }

  /** Returns a block from {@link alloc} to the free list (coalescing neighbours). */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let i = 0;
    while (i < this.free_.length && this.free_[i][0] < ptr) i++;
    this.free_.splice(i, 0, [ptr, size]);
    if (i + 1 < this.free_.length && ptr + size === this.free_[i + 1][0]) {
      this.free_[i][1] += this.free_[i + 1][1];
      this.free_.splice(i + 1, 1);
    }
    if (i > 0 && this.free_[i - 1][0] + this.free_[i - 1][1] === ptr) {
      this.free_[i - 1][1] += this.free_[i][1];
      this.free_.splice(i, 1);
    }
  }

  /** A tensor view at an arbitrary pointer (no ownership; used by tests for guard regions). */
  view(ptr: number, shape: readonly number[], dtype: DType = 'f32', name?: string): Tensor {
    return new Tensor(this, ptr, shape, dtype, name);
  }
}
