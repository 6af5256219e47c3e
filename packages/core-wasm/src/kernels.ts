// One name on both sides (tfjs kernel_names.ts): each kernel's Wasm export names for the scalar and SIMD paths and
// its signature. The AssemblyScript functions in assembly/ carry exactly these names; a test checks the binary
// exports every one of them and nothing else.
type Ptr = number;

/** Signatures of the Wasm exports (pointers are byte offsets into the module's memory). */
export interface KernelSignatures {
  gemm(a: Ptr, lda: number, wp: Ptr, bias: Ptr, c: Ptr, ldc: number, M: number, N: number, K: number, relu: number): void;
  gemv(x: Ptr, wp: Ptr, bias: Ptr, y: Ptr, N: number, K: number, relu: number): void;
  gemmSpike(abits: Ptr, ldaWords: number, wp: Ptr, bias: Ptr, c: Ptr, ldc: number, M: number, N: number, K: number, relu: number): void;
  conv1d(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, B: number, Cin: number, Cout: number, L: number, K: number, relu: number): void;
  conv1dSpike(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, B: number, Cin: number, Cout: number, L: number, K: number, relu: number): void;
  conv2d3x3(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, B: number, Cin: number, Cout: number, H: number, W: number, relu: number): void;
  conv2d3x3Spike(x: Ptr, w: Ptr, bias: Ptr, y: Ptr, B: number, Cin: number, Cout: number, H: number, W: number, relu: number): void;
  affine(x: Ptr, y: Ptr, outer: number, C: number, inner: number, scale: Ptr, shift: Ptr, relu: number): void;
  relu(x: Ptr, y: Ptr, n: number): void;
  add(a: Ptr, b: Ptr, y: Ptr, n: number): void;
  gelu(x: Ptr, y: Ptr, n: number): void;
  maxPool3x3s2(x: Ptr, y: Ptr, planes: number, H: number, W: number): void;
  orPool3x3s2(x: Ptr, y: Ptr, planes: number, H: number, W: number): void;
  meanAxis(x: Ptr, y: Ptr, outer: number, n: number, inner: number): void;
  lif(x: Ptr, v: Ptr, T: number, N: number, tau: number, invTau: number, vth: number, vreset: number, decayInput: number, spikes: Ptr, bits: Ptr, h: Ptr): void;
  rank1Add(m: Ptr, ldm: number, bb: Ptr, u: Ptr, batch: number, d: number): void;
  lmuFir(u: Ptr, t0: number, t1: number, ht: Ptr, d: number, out: Ptr, ldo: number): void;
  lmuFft(u: Ptr, L: number, spec: Ptr, d: number, tab: Ptr, work: Ptr, out: Ptr, ldo: number): void;
  packBits(src: Ptr, rows: number, cols: number, srcStride: number, dst: Ptr): void;
  packBitsT(src: Ptr, rows: number, cols: number, srcStride: number, dst: Ptr): void;
  unpackBits(bits: Ptr, rows: number, cols: number, dst: Ptr): void;
  andPopcount(a: Ptr, b: Ptr, Na: number, Nb: number, words: number, out: Ptr): void;
  matmulCountsBits(A: Ptr, v: Ptr, Nq: number, Nk: number, d: number, out: Ptr): void;
  matmulBitsCounts(q: Ptr, M: Ptr, N: number, d: number, dm: number, out: Ptr): void;
  i32ToF32Scaled(src: Ptr, dst: Ptr, n: number, s: number): void;
}

export type KernelName = keyof KernelSignatures;
export type Backend = 'simd' | 'scalar';

/** Wasm export names per kernel and backend. */
export const KERNELS: { readonly [K in KernelName]: { readonly scalar: string; readonly simd: string } } = {
  gemm: { scalar: 'f32_gemm_scalar', simd: 'f32_gemm_4x8_simd128' },
  gemv: { scalar: 'f32_gemv_scalar', simd: 'f32_gemv_simd128' },
  gemmSpike: { scalar: 'f32_gemm_spike_scalar', simd: 'f32_gemm_spike_simd128' },
  conv1d: { scalar: 'f32_conv1d_scalar', simd: 'f32_conv1d_simd128' },
  conv1dSpike: { scalar: 'f32_conv1d_spike_scalar', simd: 'f32_conv1d_spike_simd128' },
  conv2d3x3: { scalar: 'f32_conv2d3x3_scalar', simd: 'f32_conv2d3x3_simd128' },
  conv2d3x3Spike: { scalar: 'f32_conv2d3x3_spike_scalar', simd: 'f32_conv2d3x3_spike_simd128' },
  affine: { scalar: 'f32_affine_scalar', simd: 'f32_affine_simd128' },
  relu: { scalar: 'f32_relu_scalar', simd: 'f32_relu_simd128' },
  add: { scalar: 'f32_add_scalar', simd: 'f32_add_simd128' },
  gelu: { scalar: 'f32_gelu_scalar', simd: 'f32_gelu_simd128' },
  maxPool3x3s2: { scalar: 'f32_maxpool3x3s2_scalar', simd: 'f32_maxpool3x3s2_simd128' },
  orPool3x3s2: { scalar: 'spike_orpool3x3s2_scalar', simd: 'spike_orpool3x3s2_simd128' },
  meanAxis: { scalar: 'f32_mean_axis_scalar', simd: 'f32_mean_axis_simd128' },
  lif: { scalar: 'lif_f32_scalar', simd: 'lif_f32_simd128' },
  rank1Add: { scalar: 'f32_rank1_add_scalar', simd: 'f32_rank1_add_simd128' },
  lmuFir: { scalar: 'f32_lmu_fir_scalar', simd: 'f32_lmu_fir_simd128' },
  lmuFft: { scalar: 'f32_lmu_fft_scalar', simd: 'f32_lmu_fft_simd128' },
  packBits: { scalar: 'spike_pack_f32_scalar', simd: 'spike_pack_f32_simd128' },
  packBitsT: { scalar: 'spike_pack_f32_t_scalar', simd: 'spike_pack_f32_t_simd128' },
  unpackBits: { scalar: 'spike_unpack_f32_scalar', simd: 'spike_unpack_f32_simd128' },
  andPopcount: { scalar: 'spike_and_popcount_scalar', simd: 'spike_and_popcount_simd128' },
  matmulCountsBits: { scalar: 'i32_matmul_bits_rhs_scalar', simd: 'i32_matmul_bits_rhs_simd128' },
  matmulBitsCounts: { scalar: 'i32_matmul_bits_lhs_scalar', simd: 'i32_matmul_bits_lhs_simd128' },
  i32ToF32Scaled: { scalar: 'i32_to_f32_scale_scalar', simd: 'i32_to_f32_scale_simd128' },
};

/** Exports that are not kernels: the arena's heap start, the erf probe used by tests, the f32x4 peak probe. */
export const UTILITY_EXPORTS = ['heap_base', 'f32_erf_scalar', 'f32x4_peak_simd128', 'memory'] as const;

export type KernelTable = KernelSignatures;
