// Test helpers on the built package (the instance every package's tests share through '@spikewasm/core-wasm').
import { getCore, type Arena } from '@spikewasm/core-wasm';

/** Runs f with a fresh arena of the initialised core (`await init()` first), disposed afterwards. */
export function withArena<T>(f: (a: Arena) => T): T {
  const a = getCore().arena();
  try {
    return f(a);
  } finally {
    a.dispose();
  }
}

/** The float32 bit patterns of a list of numbers (to compare results bit for bit). */
export const bits = (a: ArrayLike<number>): Uint32Array => new Uint32Array(Float32Array.from(a).buffer);
