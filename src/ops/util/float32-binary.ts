/**
 * float32 ∘ float32 → float32 with broadcasting, for the four arithmetic ops that dominate real
 * graphs (bias adds, BatchNorm expressed as Mul + Add, residual sums). Instead of an offset table per
 * element (the generic path in elementwise.ts), axes are coalesced into runs and the innermost run is
 * a tight loop whose operands are either contiguous or a single broadcast value; in fast mode,
 * shapes that coalesce to at most two axes run on the WASM kernels (assembly/binary.ts). Results are
 * identical to the generic path: the same float64 operation, rounded once on store (for these four
 * operations the float32 one is the same).
 */
import type { Dims } from '../../core/tensor.js';
import { broadcastStrides } from './broadcast.js';
import { fastFloat32, sbinary2d } from './dispatch.js';

/** Below this many outputs the TypeScript loops win over a WASM call (its operand setup). */
const WASM_MIN_ELEMENTS = 1024;

export type Float32BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** Merges adjacent axes where both inputs continue contiguously (or stay broadcast). */
function coalesce(dims: Dims, sa: number[], sb: number[]): { dims: number[]; sa: number[]; sb: number[] } {
  const d: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue; // a size-1 axis never moves an offset
    const k = d.length - 1;
    if (k >= 0 && a[k] === sa[i] * dims[i] && b[k] === sb[i] * dims[i]) {
      d[k] *= dims[i];
      a[k] = sa[i];
      b[k] = sb[i];
    } else {
      d.push(dims[i]);
      a.push(sa[i]);
      b.push(sb[i]);
    }
  }
  return { dims: d, sa: a, sb: b };
}

function run(
  op: Float32BinaryOp,
  A: Float32Array,
  pa: number,
  sa: number,
  B: Float32Array,
  pb: number,
  sb: number,
  out: Float32Array,
  o: number,
  n: number,
): void {
  // Each op × stride pattern is its own loop so the engine compiles a tight, branch-free body.
  if (sa === 1 && sb === 1) {
    if (op === 'add') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] + B[pb + j];
    else if (op === 'sub') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] - B[pb + j];
    else if (op === 'mul') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] * B[pb + j];
    else for (let j = 0; j < n; j++) out[o + j] = A[pa + j] / B[pb + j];
  } else if (sa === 1 && sb === 0) {
    const y = B[pb];
    if (op === 'add') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] + y;
    else if (op === 'sub') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] - y;
    else if (op === 'mul') for (let j = 0; j < n; j++) out[o + j] = A[pa + j] * y;
    else for (let j = 0; j < n; j++) out[o + j] = A[pa + j] / y;
  } else if (sa === 0 && sb === 1) {
    const x = A[pa];
    if (op === 'add') for (let j = 0; j < n; j++) out[o + j] = x + B[pb + j];
    else if (op === 'sub') for (let j = 0; j < n; j++) out[o + j] = x - B[pb + j];
    else if (op === 'mul') for (let j = 0; j < n; j++) out[o + j] = x * B[pb + j];
    else for (let j = 0; j < n; j++) out[o + j] = x / B[pb + j];
  } else {
    for (let j = 0; j < n; j++) {
      const x = A[pa + j * sa];
      const y = B[pb + j * sb];
      out[o + j] = op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : x / y;
    }
  }
}

/** out (already sized to outDims) = A ∘ B, broadcasting aDims and bDims to outDims. */
export function float32Binary(
  op: Float32BinaryOp,
  A: Float32Array,
  aDims: Dims,
  B: Float32Array,
  bDims: Dims,
  outDims: Dims,
  out: Float32Array,
): void {
  const c = coalesce(outDims, broadcastStrides(aDims, outDims), broadcastStrides(bDims, outDims));
  const rank = c.dims.length;
  if (rank === 0) {
    if (out.length > 0) run(op, A, 0, 0, B, 0, 0, out, 0, 1);
    return;
  }
  const inner = c.dims[rank - 1];
  const [ai, bi] = [c.sa[rank - 1], c.sb[rank - 1]];
  if (rank <= 2 && ai <= 1 && bi <= 1 && out.length >= WASM_MIN_ELEMENTS && fastFloat32()) {
    // Same shapes, a bias along the last axis, a per-channel or a scalar operand: one WASM call.
    const [outer, ao, bo] = rank === 2 ? [c.dims[0], c.sa[0], c.sb[0]] : [1, 0, 0];
    sbinary2d(op, A, B, out, outer, inner, ao, ai as 0 | 1, bo, bi as 0 | 1);
    return;
  }
  const outer = out.length / inner;
  const counter = new Array<number>(rank - 1).fill(0);
  let pa = 0;
  let pb = 0;
  for (let r = 0, o = 0; r < outer; r++, o += inner) {
    run(op, A, pa, c.sa[rank - 1], B, pb, c.sb[rank - 1], out, o, inner);
    for (let ax = rank - 2; ax >= 0; ax--) {
      counter[ax]++;
      pa += c.sa[ax];
      pb += c.sb[ax];
      if (counter[ax] < c.dims[ax]) break;
      pa -= c.sa[ax] * c.dims[ax];
      pb -= c.sb[ax] * c.dims[ax];
      counter[ax] = 0;
    }
  }
}
