// spikewasm core kernels. Every kernel trusts its inputs (pointers, shapes, alignment): the TS ops in src/ check
// them. Export names say dtype, op, tile and ISA; src/kernels.ts lists them with their signatures.
export * from './dense';
export * from './conv';
export * from './norm';
export * from './eltwise';
export * from './lif';
export * from './lmu';
export * from './fft';
export * from './spikes';
export * from './misc';
