// The Legendre Memory Unit of LMUFormer (shared/spec/lmuformer.md §1): the linear memory (LMUMemory) in its three
// execution forms, and the parallelisable non-spiking cell (LMU) built on it. Layout: frame-major, [B, L, C] (per
// sequence, one row per step, channels contiguous). Weights and buffers are allocated in the constructor, activations
// once per batch size and length (on first use); forward never allocates Wasm memory after that.
import {
  packDense, linear, lmuStep, lmuFir, lmuFirStep, prepareLmuFft, lmuFft, lmuDiscretize, lmuImpulseResponse, toFloat32,
  ArgumentError, ShapeError, fmtShape,
  type Arena, type PackedDense, type LmuFftPlan, type Tensor,
} from '@spikewasm/core-wasm';
import { checkF32, checkLength, checkPositiveInts, copyRows, copyRowsLoop, nextPow2, tagError, transpose } from './internal.js';
import { lookupTensor, type StateDictLike } from './checkpoint.js';

/**
 * How the memory m_t = Σ_{i ≤ t} H[:, i]·u_{t−i} is computed over a whole sequence:
 * - `'fft'`: parallel, one real FFT of size 2P per sequence (P = the smallest power of two ≥ seqLen) and one inverse
 *   FFT per memory channel (core-wasm `lmuFft`); the fastest at L = 128. Within ~1e-6 of the exact convolution.
 * - `'fir'`: parallel, the blocked FIR sum (core-wasm `lmuFir`); equal bit for bit to the FIR streaming step.
 * - `'recurrent'`: m_t = Ā m_{t−1} + B̄ u_t step by step (core-wasm `lmuStep`): the IIR recurrence, which agrees with
 *   the FIR forms for t < seqLen up to float32 rounding (spec §1: measured ≤ 3.7e-6 at d = 256).
 */
export type LMUMode = 'fft' | 'fir' | 'recurrent';

const MODES: readonly LMUMode[] = ['fft', 'fir', 'recurrent'];

function checkMode(who: string, mode: string): LMUMode {
  if (!MODES.includes(mode as LMUMode)) throw new ArgumentError(`${who}: mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
  return mode as LMUMode;
}

/** Options of {@link LMUMemory}: the Legendre system and its FIR window. */
export interface LMUMemoryOptions {
  /** d, the memory order (official `memory_size`). */
  order: number;
  /** θ, the window of the Legendre system in steps. */
  theta: number;
  /** L, the number of FIR taps (official `seq_len`): the longest sequence the parallel forms accept. */
  seqLen: number;
  /** Ā row-major [d, d] (the official buffer `A`); computed from (order, theta) by ZOH in float64 when absent. */
  A?: ArrayLike<number>;
  /** B̄ [d] or [d, 1] (the official buffer `B`); computed with Ā when absent. */
  B?: ArrayLike<number>;
  /** H [d, seqLen] with H[:, t] = Āᵗ B̄ (the official buffer `H`); computed in float64 from the float32 Ā, B̄ when absent. */
  H?: ArrayLike<number>;
  /** Name used in errors (default `lmu`). */
  name?: string;
}

/**
 * Ā, B̄ and H for (order, theta, seqLen) as the official code builds its buffers: the Legendre system discretised by
 * zero-order hold (dt = 1) in float64 and rounded to float32 (`A`, `B`), and H[:, t] = Āᵗ B̄ computed in float64 from
 * those float32 matrices and rounded once (the fixtures' convention; the official float32 loop differs by < 1e-6).
 * @example const { A, B, H } = lmuBuffers(256, 128, 128);   // A [256·256], B [256], H [256·128]
 */
export function lmuBuffers(order: number, theta: number, seqLen: number): { A: Float32Array; B: Float32Array; H: Float32Array } {
  const m = lmuDiscretize(order, theta);
  const A = toFloat32(m.A);
  const B = toFloat32(m.B);
  return { A, B, H: toFloat32(lmuImpulseResponse(A, B, order, seqLen)) };
}

/**
 * The linear memory of the LMU (spec §1), for a batch of scalar input sequences u [B, L]:
 *
 *     m_t = Ā m_{t−1} + B̄ u_t,  m_{−1} = 0      ⇔      m_t = Σ_{i=0..t} H[:, i]·u_{t−i},  H[:, i] = Āⁱ B̄  (t < seqLen)
 *
 * Shapes: u f32 [B, L] with 1 ≤ L ≤ seqLen; out f32 [B, L, D] with D ≥ d: the memory goes to the first d columns of
 * every row and the other D − d columns are left untouched (room for the concatenation [m ; x]). Three forms
 * ({@link LMUMode}); the FFT plan (for P = nextPow2(seqLen), shorter sequences are zero-padded) and the packed Ā are
 * prepared on first use. For streaming, {@link LMUMemory.stepper} gives the FIR and the recurrent step.
 * @example
 * const mem = new LMUMemory(arena, { order: 256, theta: 128, seqLen: 128 });
 * mem.forward(u, out, 'fft');   // u [B, 128] → out [B, 128, 256]
 */
export class LMUMemory {
  readonly name: string;
  readonly order: number;
  readonly theta: number;
  readonly seqLen: number;
  /** P: the FFT form's sequence length, the smallest power of two ≥ seqLen. */
  readonly fftLength: number;
  /** Ā row-major [d, d], float32. */
  readonly A: Float32Array;
  /** B̄ [d], float32. */
  readonly B: Float32Array;
  /** H [d, seqLen] row-major, float32 (the official layout). */
  readonly H: Float32Array;
  /** Hᵀ in Wasm memory, [P, d] (row i = Āⁱ B̄ for i < seqLen, zero rows after): the FIR weights. */
  readonly ht: Tensor;
  /** B̄ [d] in Wasm memory. */
  readonly bBar: Tensor;
  private aPacked: PackedDense | null = null;
  private plan: LmuFftPlan | null = null;
  private readonly padScratch = new Map<number, { uPad: Tensor; mPad: Tensor }>();
  private readonly recScratch = new Map<number, { m0: Tensor; m1: Tensor; uT: Tensor }>();

  constructor(private readonly arena: Arena, options: LMUMemoryOptions) {
    this.name = options.name ?? 'lmu';
    const { order, seqLen, theta } = options;
    checkPositiveInts(this.name, { order, seqLen });
    if (!(Number.isFinite(theta) && theta > 0)) throw new ArgumentError(`${this.name}: theta must be a finite number > 0, got ${theta}`);
    this.order = order;
    this.theta = theta;
    this.seqLen = seqLen;
    this.fftLength = nextPow2(seqLen);
    const d = order;
    if ((options.A === undefined) !== (options.B === undefined)) throw new ArgumentError(`${this.name}: give both A and B, or neither`);
    let A: Float32Array, B: Float32Array;
    if (options.A && options.B) {
      checkLength(this.name, 'A', options.A, [d, d]);
      checkLength(this.name, 'B', options.B, [d, 1]);
      A = Float32Array.from(options.A);
      B = Float32Array.from(options.B);
    } else {
      const m = lmuDiscretize(d, theta);
      A = toFloat32(m.A);
      B = toFloat32(m.B);
    }
    let H: Float32Array;
    if (options.H) {
      checkLength(this.name, 'H', options.H, [d, seqLen]);
      H = Float32Array.from(options.H);
    } else {
      H = toFloat32(lmuImpulseResponse(A, B, d, seqLen));
    }
    this.A = A;
    this.B = B;
    this.H = H;
    const ht = arena.tensor([this.fftLength, d], 'f32', `${this.name}.Ht`);
    ht.f32.set(transpose(H, d, seqLen));
    this.ht = ht;
    this.bBar = arena.from(B, [d], 'f32', `${this.name}.B`);
  }

  /** Ā packed as a d×d dense layer (for the recurrent form), on first use. */
  packedA(): PackedDense {
    if (!this.aPacked) this.aPacked = packDense(this.arena, this.A, this.order, this.order, `${this.name}.A`);
    return this.aPacked;
  }

  /** The FFT plan for P = fftLength, on first use. */
  fftPlan(): LmuFftPlan {
    if (!this.plan) this.plan = prepareLmuFft(this.arena, this.ht, this.fftLength);
    return this.plan;
  }

  /** The zero-padded FFT input and output for `batch` sequences shorter than P (allocated once per batch size). */
  private padFor(batch: number): { uPad: Tensor; mPad: Tensor } {
    let s = this.padScratch.get(batch);
    if (!s) {
      const P = this.fftLength;
      s = {
        uPad: this.arena.tensor([batch, P], 'f32', `${this.name}.uPad`),
        mPad: this.arena.tensor([batch, P, this.order], 'f32', `${this.name}.mPad`),
      };
      this.padScratch.set(batch, s);
    }
    return s;
  }

  /** The recurrent form's double-buffered memory and per-step input (allocated once per batch size). */
  private recFor(batch: number): { m0: Tensor; m1: Tensor; uT: Tensor } {
    let s = this.recScratch.get(batch);
    if (!s) {
      s = {
        m0: this.arena.tensor([batch, this.order], 'f32', `${this.name}.m`),
        m1: this.arena.tensor([batch, this.order], 'f32', `${this.name}.m'`),
        uT: this.arena.tensor([batch], 'f32', `${this.name}.u_t`),
      };
      this.recScratch.set(batch, s);
    }
    return s;
  }

  /**
   * Allocates everything `forward(u [batch, ·], out, mode)` will need (the FFT plan, the packed Ā, the scratch of a
   * batch size), so that forward itself never allocates. Idempotent.
   * @example mem.prepare(4, 'recurrent');
   */
  prepare(batch: number, mode: LMUMode): void {
    checkMode(this.name, mode);
    checkPositiveInts(this.name, { batch });
    if (mode === 'fft') {
      this.fftPlan();
      if (this.fftLength !== this.seqLen) this.padFor(batch); // full-length sequences need no padding when seqLen = P
    } else if (mode === 'recurrent') {
      this.packedA();
      this.recFor(batch);
    }
  }

  /**
   * Writes m_t for t < L of every sequence into the first d columns of out (see the class doc). Returns out.
   * Allocates nothing after {@link LMUMemory.prepare} for this batch size and mode (otherwise the first call does,
   * once; with `'fft'`, sequences shorter than P need the padded scratch, which prepare allocates when seqLen < P).
   */
  forward(u: Tensor, out: Tensor, mode: LMUMode = 'fft'): Tensor {
    const who = this.name;
    checkMode(who, mode);
    if (u.shape.length !== 2) throw new ShapeError(`${who}: input u expected shape [B, L], got ${fmtShape(u.shape)}`);
    const [batch, L] = u.shape;
    if (L < 1 || L > this.seqLen) throw new ShapeError(`${who}: sequence length ${L} outside [1, ${this.seqLen}] (seqLen, the FIR window)`);
    checkF32(who, 'input u', u, [batch, L]);
    if (out.shape.length !== 3) throw new ShapeError(`${who}: output expected shape [${batch}, ${L}, D ≥ ${this.order}], got ${fmtShape(out.shape)}`);
    const D = out.shape[2];
    if (D < this.order) throw new ShapeError(`${who}: output rows hold ${D} values, fewer than d = ${this.order}`);
    checkF32(who, 'output', out, [batch, L, D]);
    const d = this.order;
    try {
      if (mode === 'fir') {
        lmuFir(u, this.ht, out);
      } else if (mode === 'fft') {
        const plan = this.fftPlan();
        const P = this.fftLength;
        if (L === P) {
          lmuFft(u, plan, out);
        } else {
          const s = this.padFor(batch);
          const up = s.uPad.f32, uv = u.f32;
          for (let b = 0; b < batch; b++) {
            up.set(uv.subarray(b * L, (b + 1) * L), b * P);
            up.fill(0, b * P + L, (b + 1) * P);
          }
          lmuFft(s.uPad, plan, s.mPad);
          const mp = s.mPad.f32, ov = out.f32;
          for (let b = 0; b < batch; b++) copyRows(mp, b * P * d, d, ov, b * L * D, D, L, d);
        }
      } else {
        const ap = this.packedA();
        const s = this.recFor(batch);
        let m = s.m0, next = s.m1;
        m.f32.fill(0);
        for (let t = 0; t < L; t++) {
          const ut = s.uT.f32, uv = u.f32;
          for (let b = 0; b < batch; b++) ut[b] = uv[b * L + t];
          lmuStep(m, ap, this.bBar, s.uT, next);
          const nv = next.f32, ov = out.f32;
          for (let b = 0; b < batch; b++) ov.set(nv.subarray(b * d, (b + 1) * d), (b * L + t) * D);
          [m, next] = [next, m];
        }
      }
    } catch (e) {
      throw tagError(who, e);
    }
    return out;
  }

  /**
   * A streaming stepper for `batch` sequences: `step(u_t [B], out [B, D ≥ d])` writes m_t. `'fir'` keeps the last
   * seqLen inputs and equals row t of the parallel `'fir'` form bit for bit for t < seqLen (afterwards it is the FIR
   * over a sliding window of seqLen steps); `'recurrent'` keeps m and runs the IIR recurrence, equal bit for bit to
   * the parallel `'recurrent'` form. Its buffers are allocated here, once.
   * @example const s = mem.stepper(1, 'fir'); for (const ut of frames) s.step(ut, m);
   */
  stepper(batch: number, mode: 'fir' | 'recurrent' = 'fir'): LMUMemoryStepper {
    checkPositiveInts(this.name, { batch });
    if (mode !== 'fir' && mode !== 'recurrent') throw new ArgumentError(`${this.name}: a stepper's mode must be 'fir' or 'recurrent', got ${String(mode)}`);
    return new LMUMemoryStepper(this, this.arena, batch, mode);
  }
}

/**
 * The streaming form of an {@link LMUMemory} (see {@link LMUMemory.stepper}). State: the input window (FIR) or the
 * memory m (recurrent), zero after construction and after {@link LMUMemoryStepper.reset}. No Wasm allocation per step.
 * @example
 * const s = mem.stepper(2, 'fir');
 * s.step(uT, m);   // uT [2] → m [2, d]
 */
export class LMUMemoryStepper {
  /** Steps taken since the last reset. */
  t = 0;
  private readonly ring: Tensor | null;
  private readonly windows: Tensor[][] = [];
  private m: Tensor | null;
  private next: Tensor | null;
  private readonly uT: Tensor | null;
  private outCache: { ptr: number; D: number; views: Tensor[] } | null = null;

  constructor(readonly memory: LMUMemory, arena: Arena, readonly batch: number, readonly mode: 'fir' | 'recurrent') {
    const L = memory.seqLen, d = memory.order;
    if (mode === 'fir') {
      // each input is written twice (at t mod L and t mod L + L) so the last n ≤ L inputs are always contiguous
      this.ring = arena.tensor([batch, 2 * L], 'f32', `${memory.name}.window`);
      for (let b = 0; b < batch; b++) {
        const row: Tensor[] = [];
        for (let s = 0; s <= L; s++) row.push(arena.core.view(this.ring.ptr + (b * 2 * L + s) * 4, [L], 'f32', `${memory.name}.window`));
        this.windows.push(row);
      }
      this.m = this.next = this.uT = null;
    } else {
      this.ring = null;
      memory.packedA();
      this.m = arena.tensor([batch, d], 'f32', `${memory.name}.m`);
      this.next = arena.tensor([batch, d], 'f32', `${memory.name}.m'`);
      this.uT = arena.tensor([batch], 'f32', `${memory.name}.u_t`);
    }
  }

  /** Forgets every input: the next step is t = 0 of a new sequence. */
  reset(): void {
    this.t = 0;
    this.ring?.f32.fill(0);
    this.m?.f32.fill(0);
  }

  /** Consumes u_t [B] and writes m_t into the first d columns of out [B, D ≥ d]. Returns out. */
  step(u: Tensor, out: Tensor): Tensor {
    const mem = this.memory, who = `${mem.name} (step)`;
    const B = this.batch, d = mem.order, L = mem.seqLen;
    checkF32(who, 'input u', u, [B]);
    if (out.shape.length !== 2 || out.shape[0] !== B || out.shape[1] < d) throw new ShapeError(`${who}: output expected shape [${B}, D ≥ ${d}], got ${fmtShape(out.shape)}`);
    checkF32(who, 'output', out, out.shape);
    const D = out.shape[1];
    try {
      if (this.mode === 'fir') {
        const pos = this.t % L;
        const n = Math.min(this.t + 1, L);
        const start = pos + L - n + 1;
        const ring = this.ring!.f32, uv = u.f32;
        for (let b = 0; b < B; b++) ring[b * 2 * L + pos] = ring[b * 2 * L + pos + L] = uv[b];
        const views = this.outViews(out, D);
        for (let b = 0; b < B; b++) lmuFirStep(this.windows[b][start], n, mem.ht, views[b]);
      } else {
        lmuStep(this.m!, mem.packedA(), mem.bBar, u, this.next!);
        const m = this.next!;
        this.next = this.m;
        this.m = m;
        copyRowsLoop(m.f32, 0, d, out.f32, 0, D, B, d);
      }
    } catch (e) {
      throw tagError(who, e);
    }
    this.t++;
    return out;
  }

  /**
   * Consumes T steps at once, time-major: u [T, B] (row t holds u_t of every sequence) → out [T, B, D ≥ d] (m_t of
   * sequence b in the first d columns of row (t, b); the other columns are left untouched). Returns out. Equal bit
   * for bit to T calls of {@link LMUMemoryStepper.step} (the same kernel computes every row with the same summation
   * order); it only saves the per-step calls: while the window has not wrapped (t + T ≤ seqLen) the FIR form computes
   * the T rows of a sequence in one kernel call. Creates no tensor views and allocates nothing.
   * @example s.stepMany(u, m);   // u [16, 2] → m [16, 2, d]
   */
  stepMany(u: Tensor, out: Tensor): Tensor {
    const mem = this.memory;
    const B = this.batch, d = mem.order, L = mem.seqLen;
    // checked without building messages or shape arrays unless it fails (this runs once per streaming step)
    if (u.dtype !== 'f32' || u.shape.length !== 2 || u.shape[1] !== B) throw new ShapeError(`${mem.name} (steps): input u expected f32 [T, ${B}], got ${u.dtype} ${fmtShape(u.shape)}`);
    const T = u.shape[0];
    if (out.dtype !== 'f32' || out.shape.length !== 3 || out.shape[0] !== T || out.shape[1] !== B || out.shape[2] < d) {
      throw new ShapeError(`${mem.name} (steps): output expected f32 [${T}, ${B}, D ≥ ${d}], got ${out.dtype} ${fmtShape(out.shape)}`);
    }
    if (u.core !== out.core || u.core !== mem.ht.core) throw new ArgumentError(`${mem.name} (steps): tensors come from different Wasm instances`);
    const D = out.shape[2];
    const uv = u.f32;
    try {
      if (this.mode === 'fir') {
        // the lmuFir kernel (as lmuFirStep calls it): rows t0..t1 of the FIR over a window starting at `u`, written
        // ldo floats apart; the window of the last n ≤ L inputs is ring[start .. start + n) (see step)
        const fir = u.core.kernel('lmuFir');
        const ring = this.ring!, rv = ring.f32, ht = mem.ht.ptr;
        if (this.t + T <= L) {
          const t0 = this.t;
          for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) rv[b * 2 * L + t0 + t] = rv[b * 2 * L + t0 + t + L] = uv[t * B + b];
          for (let b = 0; b < B; b++) fir(ring.ptr + (b * 2 * L + L) * 4, t0, t0 + T, ht, d, out.ptr + b * D * 4, B * D);
          this.t += T;
        } else {
          for (let t = 0; t < T; t++) {
            const pos = this.t % L, n = Math.min(this.t + 1, L), start = pos + L - n + 1;
            for (let b = 0; b < B; b++) {
              rv[b * 2 * L + pos] = rv[b * 2 * L + pos + L] = uv[t * B + b];
              fir(ring.ptr + (b * 2 * L + start) * 4, n - 1, n, ht, d, out.ptr + (t * B + b) * D * 4, D);
            }
            this.t++;
          }
        }
      } else {
        const ap = mem.packedA(), ut = this.uT!;
        for (let t = 0; t < T; t++) {
          const utv = ut.f32;
          for (let b = 0; b < B; b++) utv[b] = uv[t * B + b];
          lmuStep(this.m!, ap, mem.bBar, ut, this.next!);
          const m = this.next!;
          this.next = this.m;
          this.m = m;
          const mv = m.f32, ov = out.f32;
          for (let b = 0; b < B; b++) {
            const o = (t * B + b) * D;
            for (let i = 0; i < d; i++) ov[o + i] = mv[b * d + i];
          }
          this.t++;
        }
      }
    } catch (e) {
      throw tagError(`${mem.name} (steps)`, e);
    }
    return out;
  }

  /** [d] views of the first d columns of each row of out (cached for the last output tensor). */
  private outViews(out: Tensor, D: number): Tensor[] {
    if (this.outCache?.ptr !== out.ptr || this.outCache.D !== D) {
      const views: Tensor[] = [];
      for (let b = 0; b < this.batch; b++) views.push(out.core.view(out.ptr + b * D * 4, [this.memory.order], 'f32', 'memory row'));
      this.outCache = { ptr: out.ptr, D, views };
    }
    return this.outCache.views;
  }
}

/** A linear layer's weights in PyTorch layout: weight [out, in] row-major, bias [out]. */
export interface LinearWeights {
  weight: ArrayLike<number>;
  bias?: ArrayLike<number> | null;
}

/** Options of {@link LMU}: keras-lmu's parameters in camelCase, plus the input width and the FIR window. */
export interface LMUOptions {
  /** C, the input features per step (official `input_size`). */
  inputSize: number;
  /** The output features per step (official `hidden_size`; keras-lmu's hidden cell width). */
  hiddenSize: number;
  /** d, the memory order (official `memory_size`). */
  order: number;
  /** θ, the window of the Legendre system in steps. */
  theta: number;
  /** L, the FIR length (official `seq_len`): the longest sequence accepted. */
  seqLen: number;
  /** Dimensions fed to the memory (keras-lmu `memory_d`). Only 1 exists in LMUFormer (u is one scalar per step). */
  memoryD?: number;
  /** The execution form of the memory (default `'fft'`); may be changed later through {@link LMU.mode}. */
  mode?: LMUMode;
  /** Name used in errors (default `lmu`). */
  name?: string;
}

/** Weights of {@link LMU}, with the official module names (`LMUFFTCell.W_u`, `.W_h`, buffers `A`, `B`, `H`). */
export interface LMUParams {
  /** Encoder W_u: weight [1, inputSize], bias [1]. */
  W_u: LinearWeights;
  /** Hidden W_h: weight [hiddenSize, order + inputSize] (memory columns first), bias [hiddenSize]. */
  W_h: LinearWeights;
  /** Ā [order, order]; with B, from the checkpoint, or computed when both are absent. */
  A?: ArrayLike<number>;
  /** B̄ [order, 1]. */
  B?: ArrayLike<number>;
  /** H [order, seqLen]; computed from Ā, B̄ when absent (`fft_H` is never needed). */
  H?: ArrayLike<number>;
}

interface LMUWorkspace {
  u3: Tensor; // [B, L, 1]
  u: Tensor; // [B, L]
  cat: Tensor; // [B, L, d + C]
}

/**
 * The parallelisable LMU cell of LMUFormer (spec §1; official `LMUFFTCell`, Chilkuri & Eliasmith 2021), non-spiking:
 *
 *     u_t = ReLU(W_u x_t + b_u)                     W_u: C → 1 (memoryD = 1)
 *     m_t = Ā m_{t−1} + B̄ u_t,  m_{−1} = 0          (LMUMemory, in the chosen {@link LMUMode})
 *     h_t = ReLU(W_h [m_t ; x_t] + b_h)             memory FIRST in the concatenation
 *
 * Shapes: x f32 [B, L, C] (frame-major, 1 ≤ L ≤ seqLen) → out f32 [B, L, hiddenSize]. The intermediates of the last
 * forward at a size are readable through {@link LMU.buffers} (u, and m in the first d columns of the concatenation).
 * Activations are allocated once per (B, L), on first use. {@link LMU.stepper} streams one step at a time.
 * @example
 * const lmu = new LMU(arena, { inputSize: 256, hiddenSize: 256, order: 256, theta: 128, seqLen: 128 }, params);
 * lmu.forward(x, h);   // x [B, 128, 256] → h [B, 128, 256]
 */
export class LMU {
  readonly name: string;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly memoryD = 1;
  readonly memory: LMUMemory;
  /** The memory's execution form used by {@link LMU.forward}. */
  mode: LMUMode;
  readonly wU: PackedDense;
  readonly bU: Tensor;
  readonly wH: PackedDense;
  readonly bH: Tensor;
  private readonly workspaces = new Map<string, LMUWorkspace>();

  constructor(private readonly arena: Arena, options: LMUOptions, params: LMUParams) {
    this.name = options.name ?? 'lmu';
    const { inputSize, hiddenSize, order } = options;
    checkPositiveInts(this.name, { inputSize, hiddenSize, order });
    if ((options.memoryD ?? 1) !== 1) throw new ArgumentError(`${this.name}: only memoryD = 1 is supported (LMUFormer's W_u maps to one scalar), got ${options.memoryD}`);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.mode = checkMode(this.name, options.mode ?? 'fft');
    checkLength(this.name, 'W_u.weight', params.W_u.weight, [1, inputSize]);
    checkLength(this.name, 'W_h.weight', params.W_h.weight, [hiddenSize, order + inputSize]);
    if (params.W_u.bias) checkLength(this.name, 'W_u.bias', params.W_u.bias, [1]);
    if (params.W_h.bias) checkLength(this.name, 'W_h.bias', params.W_h.bias, [hiddenSize]);
    this.memory = new LMUMemory(arena, { order, theta: options.theta, seqLen: options.seqLen, A: params.A, B: params.B, H: params.H, name: this.name });
    this.wU = packDense(arena, params.W_u.weight, 1, inputSize, `${this.name}.W_u.weight`);
    this.bU = arena.from(params.W_u.bias ?? [0], [1], 'f32', `${this.name}.W_u.bias`);
    this.wH = packDense(arena, params.W_h.weight, hiddenSize, order + inputSize, `${this.name}.W_h.weight`);
    this.bH = arena.from(params.W_h.bias ?? new Float32Array(hiddenSize), [hiddenSize], 'f32', `${this.name}.W_h.bias`);
  }

  /**
   * An LMU from a state dict with the official names under `prefix` (`W_u.weight`, `W_u.bias`, `W_h.weight`,
   * `W_h.bias`, and the buffers `A`, `B`, `H` if present).
   * @example LMU.fromStateDict(arena, sd, 'block.0.attn.lmu.', { inputSize: 256, hiddenSize: 256, order: 256, theta: 128, seqLen: 128 })
   */
  static fromStateDict(arena: Arena, sd: StateDictLike, prefix: string, options: LMUOptions): LMU {
    const get = (k: string) => lookupTensor(sd, prefix + k, options.name ?? 'lmu');
    const opt = (k: string) => lookupTensor(sd, prefix + k, options.name ?? 'lmu', true);
    return new LMU(arena, options, {
      W_u: { weight: get('W_u.weight')!, bias: get('W_u.bias') },
      W_h: { weight: get('W_h.weight')!, bias: get('W_h.bias') },
      A: opt('A'), B: opt('B'), H: opt('H'),
    });
  }

  get order(): number {
    return this.memory.order;
  }

  get seqLen(): number {
    return this.memory.seqLen;
  }

  /**
   * The activations for batch size B and length L (allocated on first use): `u` [B, L] = u_t of the last forward,
   * `cat` [B, L, d + C] = [m_t ; x_t] (the memory m in the first d columns).
   */
  buffers(batch: number, L: number = this.seqLen): { u: Tensor; cat: Tensor } {
    const key = `${batch}x${L}`;
    let ws = this.workspaces.get(key);
    if (!ws) {
      checkPositiveInts(this.name, { batch, L });
      const u3 = this.arena.tensor([batch, L, 1], 'f32', `${this.name}.u`);
      ws = { u3, u: u3.reshape([batch, L]), cat: this.arena.tensor([batch, L, this.order + this.inputSize], 'f32', `${this.name}.[m;x]`) };
      this.workspaces.set(key, ws);
    }
    return { u: ws.u, cat: ws.cat };
  }

  /** Copies the memory m [B, L, d] of the last forward at this size out of the concatenation buffer (for tests). */
  readMemory(batch: number, L: number = this.seqLen): Float32Array {
    const { cat } = this.buffers(batch, L);
    const d = this.order, D = d + this.inputSize;
    const out = new Float32Array(batch * L * d);
    copyRows(cat.f32, 0, D, out, 0, d, batch * L, d);
    return out;
  }

  /** h = ReLU(W_h [m ; x] + b_h) for x f32 [B, L, C] → out f32 [B, L, hiddenSize] (see the class doc). Returns out. */
  forward(x: Tensor, out: Tensor): Tensor {
    if (x.shape.length !== 3) throw new ShapeError(`${this.name}: input expected shape [B, L, ${this.inputSize}], got ${fmtShape(x.shape)}`);
    const [batch, L] = x.shape;
    checkF32(this.name, 'input', x, [batch, L, this.inputSize]);
    checkF32(this.name, 'output', out, [batch, L, this.hiddenSize]);
    if (L > this.seqLen) throw new ShapeError(`${this.name}: sequence length ${L} exceeds seqLen = ${this.seqLen}`);
    this.buffers(batch, L);
    const ws = this.workspaces.get(`${batch}x${L}`)!;
    this.memory.prepare(batch, this.mode);
    try {
      linear(x, this.wU, ws.u3, { bias: this.bU, relu: true });
      this.memory.forward(ws.u, ws.cat, this.mode);
      const d = this.order, C = this.inputSize;
      copyRows(x.f32, 0, C, ws.cat.f32, d, d + C, batch * L, C);
      linear(ws.cat, this.wH, out, { bias: this.bH, relu: true });
    } catch (e) {
      throw tagError(this.name, e);
    }
    return out;
  }

  /**
   * A streaming stepper for `batch` sequences: `step(x_t [B, C], out [B, hiddenSize])` gives h_t. With the `'fir'`
   * memory it equals the parallel `'fir'` forward bit for bit for t < seqLen; with `'recurrent'`, the parallel
   * `'recurrent'` forward. Its buffers are allocated here, once; steps allocate nothing.
   * @example const s = lmu.stepper(1); s.step(xt, ht);
   */
  stepper(batch: number, mode: 'fir' | 'recurrent' = 'fir'): LMUStepper {
    return new LMUStepper(this, this.arena, batch, mode);
  }
}

/**
 * The streaming form of an {@link LMU} (see {@link LMU.stepper}): u_t, m_t and h_t for one step of `batch` sequences.
 * @example
 * const s = lmu.stepper(1, 'recurrent');
 * s.step(xt, ht);   // xt [1, C] → ht [1, hiddenSize]; s.cat holds [m_t ; x_t]
 */
export class LMUStepper {
  /** u_t [B, 1] of the last step. */
  readonly u: Tensor;
  /** [m_t ; x_t] [B, d + C] of the last step. */
  readonly cat: Tensor;
  private readonly uFlat: Tensor;
  private readonly mem: LMUMemoryStepper;

  constructor(readonly lmu: LMU, arena: Arena, readonly batch: number, mode: 'fir' | 'recurrent') {
    checkPositiveInts(lmu.name, { batch });
    this.u = arena.tensor([batch, 1], 'f32', `${lmu.name}.u_t`);
    this.uFlat = this.u.reshape([batch]);
    this.cat = arena.tensor([batch, lmu.order + lmu.inputSize], 'f32', `${lmu.name}.[m;x]_t`);
    this.mem = lmu.memory.stepper(batch, mode);
  }

  /** Steps taken since the last reset. */
  get t(): number {
    return this.mem.t;
  }

  /** Starts new sequences. */
  reset(): void {
    this.mem.reset();
  }

  /** h_t = ReLU(W_h [m_t ; x_t] + b_h) for x_t f32 [B, C] → out f32 [B, hiddenSize]. Returns out. */
  step(x: Tensor, out: Tensor): Tensor {
    const l = this.lmu, B = this.batch, d = l.order, C = l.inputSize;
    checkF32(l.name, 'input x_t', x, [B, C]);
    checkF32(l.name, 'output h_t', out, [B, l.hiddenSize]);
    try {
      linear(x, l.wU, this.u, { bias: l.bU, relu: true });
      this.mem.step(this.uFlat, this.cat);
      copyRowsLoop(x.f32, 0, C, this.cat.f32, d, d + C, B, C);
      linear(this.cat, l.wH, out, { bias: l.bH, relu: true });
    } catch (e) {
      throw tagError(l.name, e);
    }
    return out;
  }
}
