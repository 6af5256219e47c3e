/**
 * What every spiking building block implements: a name, its children (for walks) and, if it holds state, reset().
 * There is no global registry of instances: state lives in the instances and is reached by walking a model.
 */
export interface SpikingModule {
  /** A short name for tables and errors, e.g. `block.0.attn.q_lif`. */
  readonly name: string;
  /** Direct sub-modules, in forward order. */
  children?(): Iterable<SpikingModule>;
  /** Clears the module's own state (membranes, histories); children are reset by {@link resetNet}. */
  reset?(): void;
  /**
   * Weight layers (linear, conv, attention products) implement this: while `profiling` is true, every forward
   * records its cost, and this returns the totals since profiling was switched on (null if it never ran).
   */
  cost?(): LayerCost | null;
  /** Set by {@link profile}: record costs (input firing counts need a popcount, so it is off by default). */
  profiling?: boolean;
}

/** What a weight layer did while profiling (summed over its forwards). */
export interface LayerCost {
  /** Multiply-accumulates of the dense equivalent, over all time steps (T × MACs per step). */
  macs: number;
  /** Number of input elements seen, and how many of them were non-zero (spikes); `analog` inputs are real-valued
   *  (the first layer, or a residual stream of integers) and cost MACs, not SOPs. */
  inputs: number;
  nonZero: number;
  analog: boolean;
}

/**
 * Depth-first walk over a module tree, parents before children.
 * @example for (const m of walk(model)) console.log(m.name);
 */
export function* walk(model: SpikingModule): Generator<SpikingModule> {
  yield model;
  if (model.children) for (const c of model.children()) yield* walk(c);
}

/**
 * Resets every stateful part of a model (spikingjelly's `functional.reset_net`): call it between independent
 * inputs; do not call it between the chunks of one stream.
 * @example resetNet(model); model.forward(x, out);
 */
export function resetNet(model: SpikingModule): void {
  for (const m of walk(model)) m.reset?.();
}
