// Comparison and allocation-counting helpers shared by the model packages' tests (lmu, spikformer, cli), imported
// by relative path like ./random.ts.

/** max |got − want| (NaN counts as infinite) and max |want|. */
export function maxErr(got: ArrayLike<number>, want: ArrayLike<number>): { err: number; scale: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    err = Number.isNaN(e) ? Infinity : Math.max(err, e);
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { err, scale };
}

/** The fixtures README's tolerance for real-valued tensors: 1e-4 · max(1, max |expected|). */
export const fixtureTol = (scale: number): number => 1e-4 * Math.max(1, scale);

/** Counts Wasm allocations made by `core` while `fn` runs. */
export function countAllocations<T>(core: { alloc(bytes: number): number }, fn: () => T): { count: number; result: T } {
  const orig = core.alloc;
  let count = 0;
  core.alloc = function (this: unknown, bytes: number) {
    count++;
    return orig.call(core, bytes);
  };
  try {
    const result = fn();
    return { count, result };
  } finally {
    core.alloc = orig;
  }
}
