/**
 * Memoized shape arithmetic. Models exported with dynamic dims compute shapes at run time — Shape,
 * Gather, Unsqueeze, Concat, Add on int64 scalars, Range, … — and constant folding cannot remove
 * them while a dim is symbolic. Their inputs are the same from one run to the next as long as the
 * feeds' shapes are: a GPT decoder step runs ~55 such nodes (~10 µs each) per step.
 *
 * `memoizeShapeKernel` wraps the kernel of such a node: when every input equals (dims, type and
 * values, compared with Object.is) what the previous call was given — for Shape and Size, input 0's
 * dims and type — the previous outputs are returned again instead of recomputed. Only small int64,
 * int32 and bool inputs are compared (MEMO_MAX_ELEMENTS each) and only small outputs on the plain JS
 * heap are kept; such a node's kernel runs outside the run's storage lease (core/buffer-pool.ts), so
 * the pool never recycles — never overwrites — an output kept for reuse. The plan does not wrap
 * nodes whose outputs are graph outputs, nor ops outside a list of pure, deterministic ones; a kept
 * tensor that still reaches the caller (through an Identity) is handed over as a copy, since the
 * caller may modify it.
 */
import { isLeased, withoutLease } from '../core/buffer-pool.js';
import { Tensor, sameDims } from '../core/tensor.js';
import type { Value } from '../core/value.js';
import type { Kernel, KernelInputs } from '../ops/kernel.js';

/** Inputs larger than this are not compared (the node is then recomputed). */
export const MEMO_MAX_ELEMENTS = 1024;

/** Pure, deterministic ai.onnx ops that shape subgraphs are made of. */
const MEMOIZABLE = new Set([
  'Shape',
  'Size',
  'Gather',
  'GatherElements',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Reshape',
  'Flatten',
  'Expand',
  'Tile',
  'Range',
  'ConstantOfShape',
  'Cast',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Mod',
  'Neg',
  'Abs',
  'Min',
  'Max',
  'Floor',
  'Ceil',
  'Sqrt',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'Not',
  'And',
  'Or',
  'Where',
  'ReduceProd',
  'ReduceSum',
  'ReduceMax',
  'ReduceMin',
  'Trilu',
  'Identity',
]);

/**
 * Element types of shape arithmetic (dims, indices, masks). Float operands are activations, even
 * small ones (a decoder step's hidden state): comparing them would cost a copy per call for nothing.
 */
const SHAPE_TYPES = new Set(['int64', 'int32', 'bool']);

/** Ops whose output depends only on input 0's dims and type, not its values. */
const DIMS_ONLY = new Set(['Shape', 'Size']);

export function isMemoizable(domain: string, opType: string): boolean {
  return domain === '' && MEMOIZABLE.has(opType);
}

/**
 * What an input was at the last call: its type, dims and (when compared) values; or the tensor
 * itself, for one that cannot change (`ref`); undefined: absent.
 */
type Seen = { type: string; dims: readonly number[]; data?: unknown[] } | { ref: Tensor } | undefined;

/** Outputs kept for reuse: a run hands copies of these to its caller (see session-core.ts). */
const kept = new WeakSet<Tensor>();

/** True for a tensor a memoized kernel may return again in a later run. */
export function isKeptOutput(t: Tensor): boolean {
  return kept.has(t);
}

/**
 * `constant[i]`: input i is an initializer no feed overrides. Such an input, and one that another
 * memoized node kept, is the same tensor from run to run unless it changed — of any type or size
 * (a float mask fill, the mask a memoized Where made from it) — and is compared by identity.
 */
export function memoizeShapeKernel(
  kernel: Kernel,
  opType: string,
  constant: readonly boolean[] = [],
): Kernel {
  const dimsOnly = DIMS_ONLY.has(opType);
  let seen: Seen[] | undefined;
  let outputs: Value[] | undefined;
  const memo: Kernel = (inputs, ctx) => {
    if (seen && outputs && same(seen, inputs)) return outputs;
    const snapshot = snap(inputs, dimsOnly, constant);
    // Outputs worth keeping are made outside the run's lease, on storage no run recycles.
    const r = snapshot ? withoutLease(() => kernel(inputs, ctx)) : kernel(inputs, ctx);
    const keep = (outs: Value[]) => {
      [seen, outputs] = snapshot && outs.every(isKeepable) ? [snapshot, outs] : [undefined, undefined];
      for (const t of outputs ?? []) kept.add(t as Tensor);
      return outs;
    };
    return r instanceof Promise ? r.then(keep) : keep(r);
  };
  if (kernel.dispose) memo.dispose = () => kernel.dispose?.();
  return memo;
}

/** The inputs as `Seen` entries, or undefined when one is too large, of another type or not a tensor. */
function snap(inputs: KernelInputs, dimsOnly: boolean, constant: readonly boolean[]): Seen[] | undefined {
  const fixed = (v: Tensor, i: number) => constant[i] === true || kept.has(v);
  // Sizes first: a large operand (Add of activations) costs no copy of the small ones.
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i];
    if (v === undefined) continue;
    if (!(v instanceof Tensor)) return undefined;
    if ((dimsOnly && i === 0) || fixed(v, i)) continue;
    if (v.size > MEMO_MAX_ELEMENTS || !SHAPE_TYPES.has(v.type)) return undefined;
  }
  return (inputs as readonly (Tensor | undefined)[]).map((v, i) =>
    v === undefined
      ? undefined
      : fixed(v, i)
        ? { ref: v }
        : {
            type: v.type,
            dims: [...v.dims],
            data: dimsOnly && i === 0 ? undefined : Array.from(v.data as ArrayLike<unknown>),
          },
  );
}

function same(seen: Seen[], inputs: KernelInputs): boolean {
  if (seen.length !== inputs.length) return false;
  for (let i = 0; i < seen.length; i++) {
    const s = seen[i];
    const v = inputs[i];
    if (s === undefined || v === undefined) {
      if (s !== v) return false;
      continue;
    }
    if ('ref' in s) {
      if (v !== s.ref) return false;
      continue;
    }
    if (!(v instanceof Tensor) || v.type !== s.type || !sameDims(v.dims, s.dims)) return false;
    if (!s.data) continue; // compared by dims only
    const d = v.data as ArrayLike<unknown>;
    for (let j = 0; j < s.data.length; j++) if (!Object.is(d[j], s.data[j])) return false;
  }
  return true;
}

/** A small tensor whose storage is a heap buffer the run-storage pool never takes back. */
function isKeepable(v: Value): boolean {
  if (!(v instanceof Tensor) || v.size > MEMO_MAX_ELEMENTS) return false;
  const d = v.data;
  if (Array.isArray(d)) return true;
  return d.buffer instanceof ArrayBuffer && !isLeased(d.buffer);
}
