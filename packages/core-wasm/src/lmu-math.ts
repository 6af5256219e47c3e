/**
 * Legendre Memory Unit state-space math in pure TypeScript, float64 throughout: the continuous Legendre system,
 * a dense matrix exponential, its zero-order-hold discretisation and the impulse response.
 *
 * Matrices are row-major `Float64Array`s of `n * n` elements. Nothing here runs at import time.
 *
 * Reference: spec/lmuformer.md §1 and the `kernel_lmu_matrices` fixture.
 */
import { ArgumentError, ShapeError } from './errors.js';

/** A state-space pair: `A` row-major `[order, order]`, `B` `[order]` (a column vector, i.e. `[order, 1]`). */
export interface LmuMatrices {
  A: Float64Array;
  B: Float64Array;
}

/** A non-negative integer that fits in int32 (sizes here are coerced with `| 0`, so they must). */
function isSize(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0x7fffffff;
}

function checkOrderTheta(order: number, theta: number): void {
  if (!isSize(order) || order < 1) {
    throw new ArgumentError(`order must be a positive integer, got ${order}`);
  }
  if (!(Number.isFinite(theta) && theta > 0)) {
    throw new ArgumentError(`theta must be a finite number > 0, got ${theta}`);
  }
}

/**
 * Continuous Legendre state space of order `d` and window `θ` (Voelker et al. 2019; LMUFormer `stateSpaceMatrices`):
 *
 *     A_ij = ((2i+1)/θ) · (−1 if i < j, else (−1)^(i−j+1))      i, j = 0…d−1
 *     B_i  = ((2i+1)/θ) · (−1)^i
 *
 * @param order memory order `d` (positive integer)
 * @param theta window length `θ` (> 0), in steps
 * @returns `A` row-major `[d, d]` and `B` `[d]` (float64; every entry is `±(2i+1)/θ`, computed exactly as that
 *   one division)
 */
export function lmuContinuous(order: number, theta: number): LmuMatrices {
  checkOrderTheta(order, theta);
  const d = order | 0; // int32 (Smi) from here on, see expm
  const A = new Float64Array(d * d);
  const B = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const r = (2 * i + 1) / theta;
    const row = i * d;
    for (let j = 0; j < d; j++) {
      // i < j: −1; otherwise (−1)^(i−j+1): −1 when i−j is even, +1 when odd.
      A[row + j] = i < j || ((i - j) & 1) === 0 ? -r : r;
    }
    B[i] = (i & 1) === 0 ? r : -r;
  }
  return { A, B };
}

// ---------------------------------------------------------------------------------------------------------------
// Dense float64 kernels (row-major, n × n)

/**
 * C[i0:i0+2, j0:j0+4] = X[i0:i0+2, :] · T[j0:j0+4, :]ᵀ, with T = Yᵀ packed row-major: eight dot products over k
 * kept in registers. Kept as its own small function so that V8 optimises this loop the same way whatever sizes
 * were seen first.
 */
function tile2x4(X: Float64Array, T: Float64Array, C: Float64Array, n: number, i0: number, j0: number): void {
  const x0 = i0 * n, x1 = x0 + n;
  const t0 = j0 * n, t1 = t0 + n, t2 = t1 + n, t3 = t2 + n;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  for (let k = 0; k < n; k++) {
    const a = X[x0 + k], b = X[x1 + k];
    const y0 = T[t0 + k], y1 = T[t1 + k], y2 = T[t2 + k], y3 = T[t3 + k];
    c00 += a * y0; c01 += a * y1; c02 += a * y2; c03 += a * y3;
    c10 += b * y0; c11 += b * y1; c12 += b * y2; c13 += b * y3;
  }
  C[x0 + j0] = c00; C[x0 + j0 + 1] = c01; C[x0 + j0 + 2] = c02; C[x0 + j0 + 3] = c03;
  C[x1 + j0] = c10; C[x1 + j0 + 1] = c11; C[x1 + j0 + 2] = c12; C[x1 + j0 + 3] = c13;
}

/** C[i, j] = X[i, :] · T[j, :] (one dot product; edges of {@link matmul}). */
function dot1(X: Float64Array, T: Float64Array, C: Float64Array, n: number, i: number, j: number): void {
  const x0 = i * n, t0 = j * n;
  let c = 0;
  for (let k = 0; k < n; k++) c += X[x0 + k] * T[t0 + k];
  C[x0 + j] = c;
}

/**
 * C = X · Y for n × n row-major matrices. Y is first packed transposed, so that both operands stream contiguously;
 * C is then filled in 2 × 4 register tiles (see {@link tile2x4}). Every entry is a dot product summed over k in
 * order, i.e. the same rounding as a plain i-k-j loop, and about 2× faster than i-k-j in V8 at n = 513.
 */
function matmul(X: Float64Array, Y: Float64Array, n: number): Float64Array {
  const T = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const yk = k * n;
    for (let j = 0; j < n; j++) T[j * n + k] = Y[yk + j];
  }
  const C = new Float64Array(n * n);
  const n2 = n - (n % 2);
  const n4 = n - (n % 4);
  for (let i = 0; i < n2; i += 2) {
    for (let j = 0; j < n4; j += 4) tile2x4(X, T, C, n, i, j);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i < n2 ? n4 : 0; j < n; j++) dot1(X, T, C, n, i, j);
  }
  return C;
}

/** Matrix 1-norm (maximum absolute column sum). */
function norm1(X: Float64Array, n: number): number {
  const col = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * n;
    for (let j = 0; j < n; j++) col[j] += Math.abs(X[r + j]);
  }
  let m = 0;
  for (let j = 0; j < n; j++) if (col[j] > m || Number.isNaN(col[j])) m = col[j];
  return m;
}

/**
 * Solves Q · X = P in place (P becomes X; Q is overwritten by its LU factors) for n × n row-major Q and P,
 * by LU factorisation with partial (row) pivoting. All inner loops run along rows.
 */
function luSolveInPlace(Q: Float64Array, P: Float64Array, n: number): void {
  for (let k = 0; k < n; k++) {
    // Pivot: largest |Q[i,k]| for i ≥ k.
    let p = k;
    let best = Math.abs(Q[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(Q[i * n + k]);
      if (v > best) { best = v; p = i; }
    }
    if (best === 0) throw new ArgumentError(`expm: Padé denominator is singular (zero pivot in column ${k})`);
    if (p !== k) {
      const rk = k * n, rp = p * n;
      for (let j = 0; j < n; j++) {
        const t = Q[rk + j]; Q[rk + j] = Q[rp + j]; Q[rp + j] = t;
        const u = P[rk + j]; P[rk + j] = P[rp + j]; P[rp + j] = u;
      }
    }
    // Eliminate below the pivot; apply the same row operation to P (forward substitution fused in).
    const rk = k * n;
    const piv = Q[rk + k];
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const l = Q[ri + k] / piv;
      if (l === 0) continue;
      Q[ri + k] = l;
      for (let j = k + 1; j < n; j++) Q[ri + j] -= l * Q[rk + j];
      for (let j = 0; j < n; j++) P[ri + j] -= l * P[rk + j];
    }
  }
  // Back substitution with U, row by row.
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    for (let k = i + 1; k < n; k++) {
      const u = Q[ri + k];
      if (u === 0) continue;
      const rk = k * n;
      for (let j = 0; j < n; j++) P[ri + j] -= u * P[rk + j];
    }
    const inv = 1 / Q[ri + i];
    for (let j = 0; j < n; j++) P[ri + j] *= inv;
  }
}

/** Returns Σ c_t · M_t + c_I · I (n × n), where `mats` and `coefs` pair up. */
function lincomb(n: number, cI: number, mats: Float64Array[], coefs: number[]): Float64Array {
  const out = new Float64Array(n * n);
  const nn = n * n;
  for (let t = 0; t < mats.length; t++) {
    const M = mats[t], c = coefs[t];
    for (let q = 0; q < nn; q++) out[q] += c * M[q];
  }
  for (let i = 0; i < n; i++) out[i * n + i] += cI;
  return out;
}

// Padé coefficients b_0…b_m of r_m(x) = p_m(x)/p_m(−x) (Higham 2005, eq. (2.11)).
const PADE_3 = [120, 60, 12, 1];
const PADE_5 = [30240, 15120, 3360, 420, 30, 1];
const PADE_7 = [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1];
const PADE_9 = [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1];
const PADE_13 = [
  64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
  10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
];
// θ_m: largest ‖A‖₁ for which Padé [m/m] reaches unit roundoff 2⁻⁵³ in double (Higham 2005, Table 2.3).
const THETA_3 = 1.495585217958292e-2;
const THETA_5 = 2.539398330063230e-1;
const THETA_7 = 9.504178996162932e-1;
const THETA_9 = 2.097847961257068e0;
const THETA_13 = 5.371920351148152e0;

/**
 * Matrix exponential `e^M = Σ_k M^k / k!` of a dense n × n row-major float64 matrix.
 *
 * Algorithm: scaling and squaring with Padé approximants (Higham, "The scaling and squaring method for the matrix
 * exponential revisited", SIAM J. Matrix Anal. Appl. 26(4), 2005, Algorithm 2.3) — the method of
 * `scipy.linalg.expm`: with ‖M‖₁ ≤ θ_m for m ∈ {3, 5, 7, 9} the Padé approximant r_m(M) is used unscaled;
 * otherwise `s = max(0, ⌈log₂(‖M‖₁/θ₁₃)⌉)`, `e^M ≈ r₁₃(M/2^s)^(2^s)`. Each r_m = (V − U)⁻¹(V + U), with U the odd
 * and V the even part of the numerator polynomial, evaluated as I + 2(V − U)⁻¹U by LU with partial pivoting.
 * Cost: about (6 + 4/3 + s) n³ multiply-adds for Padé 13 (s = 9 for the 513 × 513 LMU block of d = 512, θ = 128).
 *
 * @param M row-major `[n, n]`; not modified
 * @param n matrix size (M.length must equal n·n)
 * @returns a new row-major `[n, n]` Float64Array
 */
export function expm(M: Float64Array, n: number): Float64Array {
  if (!isSize(n)) throw new ArgumentError(`expm: n must be a non-negative integer, got ${n}`);
  if (M.length !== n * n) throw new ShapeError(`expm: M has ${M.length} elements, expected n·n = ${n * n}`);
  // A size that arrives as a heap double (e.g. 33.0 read from a double array) would teach V8 to do all index
  // arithmetic in float64 in the kernels below, making them ~2× slower for the rest of the process: force int32.
  n |= 0;
  if (n === 0) return new Float64Array(0);
  if (n === 1) return Float64Array.of(Math.exp(M[0]));
  const nrm = norm1(M, n);
  if (!Number.isFinite(nrm)) throw new ArgumentError(`expm: M has a non-finite entry (‖M‖₁ = ${nrm})`);

  let U: Float64Array, V: Float64Array;
  let s = 0;
  if (nrm <= THETA_9) {
    const A2 = matmul(M, M, n);
    // pows = [A², A⁴, …, A^(m−1)]
    let b: number[];
    const pows: Float64Array[] = [A2];
    if (nrm <= THETA_3) {
      b = PADE_3;
    } else {
      b = nrm <= THETA_5 ? PADE_5 : nrm <= THETA_7 ? PADE_7 : PADE_9;
      while (2 * pows.length + 1 < b.length - 1) pows.push(matmul(pows[pows.length - 1], A2, n));
    }
    // U = M · (b_1 I + b_3 A² + b_5 A⁴ + …), V = b_0 I + b_2 A² + b_4 A⁴ + …
    U = matmul(M, lincomb(n, b[1], pows, pows.map((_, t) => b[2 * t + 3])), n);
    V = lincomb(n, b[0], pows, pows.map((_, t) => b[2 * t + 2]));
  } else {
    s = Math.max(0, Math.ceil(Math.log2(nrm / THETA_13)));
    // Guard against log2 rounding: make sure ‖M/2^s‖₁ ≤ θ₁₃.
    while (nrm / 2 ** s > THETA_13) s++;
    const scale = 2 ** -s; // exact power of two: scaling is exact
    const A1 = new Float64Array(n * n);
    for (let q = 0; q < n * n; q++) A1[q] = M[q] * scale;
    const b = PADE_13;
    const A2 = matmul(A1, A1, n);
    const A4 = matmul(A2, A2, n);
    const A6 = matmul(A4, A2, n);
    // U = A·[A⁶(b13 A⁶ + b11 A⁴ + b9 A²) + b7 A⁶ + b5 A⁴ + b3 A² + b1 I]
    const Uin = matmul(A6, lincomb(n, 0, [A6, A4, A2], [b[13], b[11], b[9]]), n);
    const Uadd = lincomb(n, b[1], [Uin, A6, A4, A2], [1, b[7], b[5], b[3]]);
    U = matmul(A1, Uadd, n);
    // V = A⁶(b12 A⁶ + b10 A⁴ + b8 A²) + b6 A⁶ + b4 A⁴ + b2 A² + b0 I
    const Vin = matmul(A6, lincomb(n, 0, [A6, A4, A2], [b[12], b[10], b[8]]), n);
    V = lincomb(n, b[0], [Vin, A6, A4, A2], [1, b[6], b[4], b[2]]);
  }
  // r_m = (V − U)⁻¹ (V + U) = I + 2 (V − U)⁻¹ U. The second form solves for the small correction only and is
  // about an order of magnitude more accurate (measured: 8e-17 vs 4e-15 max error on the d = 512 LMU block).
  const nn = n * n;
  const Q = new Float64Array(nn);
  const P = new Float64Array(nn);
  for (let q = 0; q < nn; q++) {
    Q[q] = V[q] - U[q];
    P[q] = 2 * U[q];
  }
  luSolveInPlace(Q, P, n);
  for (let i = 0; i < n; i++) P[i * n + i] += 1;
  let R: Float64Array = P;
  for (let k = 0; k < s; k++) R = matmul(R, R, n);
  return R;
}

/**
 * Zero-order-hold discretisation of the Legendre system with dt = 1 — equivalent to
 * `scipy.signal.cont2discrete((A, B, C, D), dt=1, method='zoh')` applied to {@link lmuContinuous}:
 *
 *     expm([[A, B], [0, 0]]) = [[Ā, B̄], [0, 1]],   Ā = e^A,  B̄ = A⁻¹(e^A − I) B
 *
 * where the block matrix is (d+1) × (d+1). Computed in float64 (the official code then casts to float32; see
 * {@link toFloat32}). Timing: d = 512 takes on the order of a second in Node (a 513 × 513 {@link expm}).
 *
 * @param order memory order `d`
 * @param theta window `θ`
 * @returns `A` = Ā row-major `[d, d]`, `B` = B̄ `[d]` (float64)
 */
export function lmuDiscretize(order: number, theta: number): LmuMatrices {
  const { A, B } = lmuContinuous(order, theta);
  const d = order | 0;
  const n = d + 1;
  const M = new Float64Array(n * n);
  for (let i = 0; i < d; i++) {
    M.set(A.subarray(i * d, i * d + d), i * n);
    M[i * n + d] = B[i];
  }
  const E = expm(M, n);
  const Ad = new Float64Array(d * d);
  const Bd = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    Ad.set(E.subarray(i * n, i * n + d), i * d);
    Bd[i] = E[i * n + d];
  }
  return { A: Ad, B: Bd };
}

/**
 * Impulse response of the discrete LMU: `H[:, t] = Āᵗ B̄` for `t = 0 … length−1`, built by repeated
 * left-multiplication `h_0 = B̄`, `h_t = Ā h_{t−1}`, in float64 from the given (possibly float32) Ā, B̄.
 * Then `m_t = Σ_{i=0..t} H[:, i] u_{t−i}` equals the recurrence `m_t = Ā m_{t−1} + B̄ u_t` for t < length.
 *
 * @param A Ā row-major `[order, order]`
 * @param B B̄ `[order]` (or `[order, 1]`)
 * @param order memory order `d`
 * @param length number of taps `L`
 * @returns row-major `[order, length]` (the layout of the fixtures' and the official `H`)
 */
export function lmuImpulseResponse(
  A: Float32Array | Float64Array,
  B: Float32Array | Float64Array,
  order: number,
  length: number,
): Float64Array {
  if (!isSize(order) || order < 1) throw new ArgumentError(`order must be a positive integer, got ${order}`);
  if (!isSize(length)) {
    throw new ArgumentError(`length must be a non-negative integer, got ${length}`);
  }
  if (A.length !== order * order) throw new ShapeError(`A has ${A.length} elements, expected order² = ${order * order}`);
  if (B.length !== order) throw new ShapeError(`B has ${B.length} elements, expected order = ${order}`);
  const d = order | 0;
  length |= 0;
  const A64 = A instanceof Float64Array ? A : Float64Array.from(A);
  const H = new Float64Array(d * length);
  let h = Float64Array.from(B);
  let next = new Float64Array(d);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < d; i++) H[i * length + t] = h[i];
    if (t === length - 1) break;
    for (let i = 0; i < d; i++) {
      const r = i * d;
      let acc = 0;
      for (let j = 0; j < d; j++) acc += A64[r + j] * h[j];
      next[i] = acc;
    }
    const tmp = h; h = next; next = tmp;
  }
  return H;
}

/** Rounds every element to float32 (round-to-nearest-even, as `Float32Array.from` / torch `.float()` do). */
export function toFloat32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}
