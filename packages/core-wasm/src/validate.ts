// Input validation shared by the model packages: the one policy for non-finite values (NaN, ±Infinity) in model
// inputs, and the check that a model input is a Float32Array or an f32 Tensor of the model's own Wasm instance.
// Every check is one pass with no allocation on success; messages are built only on the error path.
import { ArgumentError, DTypeError, ShapeError, fmtShape } from './errors.js';
import { Tensor, type Core } from './core.js';

/**
 * A model input holds NaN or ±Infinity (rejected unless the model's or stream's `allowNonFinite` is set). An
 * {@link ArgumentError}; `tensor` is the input's name, `index` the first offending flat index, `value` its value.
 */
export class NonFiniteError extends ArgumentError {
  override name = 'NonFiniteError';

  constructor(message: string, readonly tensor: string, readonly index: number, readonly value: number) {
    super(message);
  }
}

/** The flat index of the first NaN or ±Infinity in data[from, from + count), or −1 (one pass, no allocation). */
export function firstNonFinite(data: ArrayLike<number>, from = 0, count = data.length - from): number {
  const end = from + count;
  for (let i = from; i < end; i++) {
    const v = data[i];
    if (v - v !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN; every finite v gives 0
  }
  return -1;
}

/** `element 5 (index [0, 1, 2])` for messages (the multi-index only when a shape is given). */
export function fmtElement(flat: number, shape?: readonly number[]): string {
  if (!shape || shape.length === 0) return `element ${flat}`;
  const idx: number[] = new Array(shape.length);
  let r = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] || 1;
    idx[i] = r % d;
    r = Math.floor(r / d);
  }
  return `element ${flat} (index ${fmtShape(idx)})`;
}

/**
 * Throws a {@link NonFiniteError} naming `who`, the tensor `role`, the first offending element and its value, unless
 * every value of `data` is finite. `shape` only serves the message; `optIn`: whether the message points at the
 * `allowNonFinite` option (false where the entry point has none).
 * @example checkFinite('LMUFormer', 'input', x, [2, 128, 16])
 */
export function checkFinite(who: string, role: string, data: ArrayLike<number>, shape?: readonly number[], optIn = true): void {
  const i = firstNonFinite(data);
  if (i >= 0) {
    const hint = optIn ? ' (pass allowNonFinite: true to accept NaN/±Infinity)' : '';
    throw new NonFiniteError(`${who}: ${role} ${fmtElement(i, shape)} is ${data[i]}; values must be finite${hint}`, role, i, data[i]);
  }
}

/** What a value is, for messages: `Float64Array`, `Array`, `null`, `number`, … */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  if (x instanceof Tensor) return `${x.dtype} Tensor ${fmtShape(x.shape)}`;
  return (x as object).constructor?.name ?? 'object';
}

/**
 * Checks that a model input is a Float32Array, or a Tensor of `core` (another Wasm instance's tensor: an
 * {@link ArgumentError}); anything else (a Float64Array, a plain array, null, …) is a {@link DTypeError}. The Tensor's
 * own dtype and shape are the caller's to check.
 */
export function checkInputKind(who: string, role: string, x: unknown, core: Core): asserts x is Float32Array | Tensor {
  if (x instanceof Float32Array) return;
  if (x instanceof Tensor) {
    if (x.core !== core) throw new ArgumentError(`${who}: the ${role} tensor comes from another Wasm instance`);
    return;
  }
  throw new DTypeError(`${who}: ${role} must be a Float32Array or an f32 Tensor, got ${describeValue(x)}`);
}

/**
 * Checks a batched model input: a Float32Array of B·prod(sample) values (B ≥ 1), or an f32 Tensor [B, ...sample] of
 * `core` (B ≥ 1; a wrong dtype or shape is a {@link ShapeError}, as the models have always reported it), and, unless
 * `allowNonFinite`, that every value is finite. `sampleNames` label the sample's axes in messages (e.g. `['N',
 * 'in_channels']`). Returns B.
 * @example const B = checkBatchInput('LMUFormer', 'input', x, [128, 16], ['N', 'in_channels'], core, false);
 */
export function checkBatchInput(
  who: string, role: string, x: unknown, sample: readonly number[], sampleNames: readonly string[] | null, core: Core, allowNonFinite: boolean,
): number {
  checkInputKind(who, role, x, core);
  let per = 1;
  for (let i = 0; i < sample.length; i++) per *= sample[i];
  let batch: number;
  let values: Float32Array;
  if (x instanceof Float32Array) {
    if (x.length === 0 || x.length % per !== 0) {
      const of = sampleNames ? `${sampleNames.join('·')} = ${sample.join('·')}` : fmtShape(sample);
      throw new ShapeError(`${who}: ${role} holds ${x.length} values, not a multiple of ${of} = ${per} (B ≥ 1 whole inputs)`);
    }
    batch = x.length / per;
    values = x;
  } else {
    const s = x.shape;
    let ok = x.dtype === 'f32' && s.length === sample.length + 1;
    for (let i = 0; ok && i < sample.length; i++) ok = s[i + 1] === sample[i];
    if (!ok) {
      const exp = `[B, ${sample.join(', ')}]${sampleNames ? ` = [B, ${sampleNames.join(', ')}]` : ''}`;
      throw new ShapeError(`${who}: ${role} expected f32 ${exp}, got ${x.dtype} ${fmtShape(s)}`);
    }
    if (s[0] < 1) throw new ShapeError(`${who}: ${role} has batch size ${s[0]} (shape ${fmtShape(s)}); expected B ≥ 1`);
    batch = s[0];
    values = x.f32;
  }
  if (!allowNonFinite) {
    const i = firstNonFinite(values);
    if (i >= 0) checkFinite(who, role, values, x instanceof Float32Array ? [batch, ...sample] : x.shape);
  }
  return batch;
}
