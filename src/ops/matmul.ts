/**
 * Matrix products: MatMul, Gemm, MatMulInteger, Einsum, Det. All float work goes through the blocked
 * GEMM in util/gemm.ts on the compute arrays of util/compute-array.ts (float32 in place, float64 in
 * place, minifloats via float32, integers via float64).
 */
import { OnyxError } from '../core/errors.js';
import { Tensor, shapeSize, type Dims } from '../core/tensor.js';
import type { TensorType } from '../core/dtype.js';
import type { ThreadPool } from '../runtime/thread-pool.js';
import { constantInput, type Kernel, type KernelInputs, type NodeInfo, type OpDef } from './kernel.js';
import {
  broadcastOffsets,
  broadcastShapes,
  broadcastStrides,
  stridedOffsets,
  stridesOf,
} from './util/broadcast.js';
import { computeArray, computeOf, float64Of, tensorFromCompute } from './util/compute-array.js';
import { gemm, type FloatArray } from './util/gemm.js';
import {
  fastFloat32,
  ownPacked,
  packConstant,
  sgemm,
  sgemmBatch,
  integerProducts,
  parallelSgemmWithPacked,
  type GemmEpilogue,
  type PackedWeights,
} from './util/dispatch.js';
import { float32Binary } from './util/float32-binary.js';
import { tensorInput, fmt } from './util/numeric.js';
import { prepackInt8B } from './util/int8-weights.js';
import { minusZeroPoint, zeroPoints } from './util/zero-point.js';

function requireNumeric(t: Tensor, what: string): void {
  if (t.type === 'string' || t.type === 'bool' || t.type.startsWith('complex')) {
    throw new OnyxError('TYPE_MISMATCH', `${what} must be a numeric tensor, got tensor(${t.type})`);
  }
}

// ---------------------------------------------------------------------------------------------
// MatMul core: numpy matmul semantics on compute arrays.

/**
 * How a product reads its operands: A and/or B stored with their last two dims swapped (as
 * com.microsoft.FusedMatMul's transA/transB), and a factor on the product.
 */
export interface MatMulForm {
  transA: boolean;
  transB: boolean;
  alpha: number;
}

const PLAIN: MatMulForm = { transA: false, transB: false, alpha: 1 };

/** `dims` with its last two swapped (rank ≥ 2; others as they are). */
function swapLastTwo(dims: Dims): Dims {
  if (dims.length < 2) return dims;
  const d = [...dims];
  [d[d.length - 2], d[d.length - 1]] = [d[d.length - 1], d[d.length - 2]];
  return d;
}

export interface MatMulPlan {
  outDims: number[];
  M: number;
  N: number;
  K: number;
  batch: number;
  /** Per batch index, the matrix index into A and B (null: identity). */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
  /** B is one matrix shared by every batch and A's batches are contiguous rows: fold batch into M. */
  foldIntoM: boolean;
}

/**
 * Shapes and batch broadcasting of numpy `matmul(op(A), op(B))`, from the stored dims of A and B
 * and how the product reads them (MatMul: as they are).
 */
export function planMatMul(storedA: Dims, storedB: Dims, form: MatMulForm = PLAIN): MatMulPlan {
  const aDims = form.transA ? swapLastTwo(storedA) : storedA;
  const bDims = form.transB ? swapLastTwo(storedB) : storedB;
  if (aDims.length === 0 || bDims.length === 0) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `MatMul inputs must have rank >= 1, got A ${fmt(aDims)} and B ${fmt(bDims)}`,
    );
  }
  const aVec = aDims.length === 1;
  const bVec = bDims.length === 1;
  const M = aVec ? 1 : aDims[aDims.length - 2];
  const K = aDims[aDims.length - 1];
  const K2 = bVec ? bDims[0] : bDims[bDims.length - 2];
  const N = bVec ? 1 : bDims[bDims.length - 1];
  if (K !== K2) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `MatMul: A ${fmt(aDims)} has ${K} columns but B ${fmt(bDims)} has ${K2} rows (inner dimensions must match)`,
    );
  }
  const aBatch = aVec ? [] : aDims.slice(0, -2);
  const bBatch = bVec ? [] : bDims.slice(0, -2);
  const batchDims = broadcastShapes(aBatch, bBatch);
  const batch = shapeSize(batchDims);
  const outDims = [...batchDims];
  if (!aVec) outDims.push(M);
  if (!bVec) outDims.push(N);
  const [aIndex, bIndex] = broadcastOffsets([aBatch, bBatch], batchDims);
  const bShared = shapeSize(bBatch) === 1;
  // A transposed A's batches are not rows of one matrix.
  const foldIntoM = batch > 1 && bShared && aIndex === null && !form.transA;
  return { outDims, M, N, K, batch, aIndex, bIndex, foldIntoM };
}

/**
 * Y = alpha·op(A)·op(B) for a plan made with the same `form`, all as row-major compute arrays
 * (float32 on the WASM GEMM, see dispatch.ts).
 */
export function runMatMul(
  p: MatMulPlan,
  A: FloatArray,
  B: FloatArray,
  Y: FloatArray,
  pool?: ThreadPool,
  form: MatMulForm = PLAIN,
): void {
  const { M, N, K } = p;
  const { transA, transB, alpha } = form;
  const [lda, ldb] = [transA ? M : K, transB ? K : N];
  if (p.foldIntoM) {
    sgemm(false, transB, p.batch * M, N, K, alpha, A, 0, lda, B, 0, ldb, 0, Y, 0, N, undefined, pool);
    return;
  }
  const threads = pool?.size ?? 1;
  if (p.aIndex === null && p.bIndex === null && (p.batch % threads === 0 || p.batch >= 4 * threads)) {
    // Whole products per thread (attention's heads): splitting each small product instead repacked
    // its shared operand per chunk, and BERT's QKᵀ got slower at 2 threads (1.20 → 1.86 ms per run).
    sgemmBatch(
      {
        transA,
        transB,
        M,
        N,
        K,
        alpha,
        A,
        aOff: 0,
        lda,
        strideA: M * K,
        B,
        bOff: 0,
        ldb,
        strideB: K * N,
        C: Y,
        cOff: 0,
        ldc: N,
        strideC: M * N,
        count: p.batch,
      },
      pool,
    );
    return;
  }
  for (let b = 0; b < p.batch; b++) {
    const ai = p.aIndex ? p.aIndex[b] : b;
    const bi = p.bIndex ? p.bIndex[b] : b;
    sgemm(
      transA,
      transB,
      M,
      N,
      K,
      alpha,
      A,
      ai * M * K,
      lda,
      B,
      bi * K * N,
      ldb,
      0,
      Y,
      b * M * N,
      N,
      undefined,
      pool,
    );
  }
}

/** A constant float32 2-D weight (K × N, or N × K when `trans`) packed as op(B); else undefined. */
function packedRight(w: Tensor | undefined, trans: boolean): PackedWeights | undefined {
  if (w?.type !== 'float32' || w.dims.length !== 2) return undefined;
  const [K, N] = trans ? [w.dims[1], w.dims[0]] : w.dims;
  return packConstant('B', trans, K, N, w.data as Float32Array, 0, w.dims[1]);
}

/**
 * The MatMul kernel of a node, reading its operands in `form` (MatMul: as they are). With `bias` (a
 * float32 [N], the planner's MatMul + bias Add step, runtime/step-fusion.ts), the output is the
 * product plus bias[j] in every column j, added after the whole product as the Add did.
 */
function buildMatMul(node: NodeInfo, form: MatMulForm, bias?: Float32Array): Kernel {
  const what = node.opType;
  // A constant 2-D B (the usual weight) is packed once; A's batches then fold into M.
  const bConst = constantInput(node, 1);
  const packed = packedRight(bConst, form.transB);
  const epilogue: GemmEpilogue | undefined = bias && { bias: { data: bias, axis: 'col' } };
  const kernel: Kernel = (inputs, ctx) => {
    const a = tensorInput(inputs[0], `${what} input A`);
    const b = tensorInput(inputs[1], `${what} input B`);
    requireNumeric(a, `${what} input A`);
    if (a.type !== b.type) {
      throw new OnyxError('TYPE_MISMATCH', `${what} inputs must share a type, got ${a.type} and ${b.type}`);
    }
    const p = planMatMul(a.dims, b.dims, form);
    // Written whole: every product below has beta = 0.
    const Y = computeArray(a.type, shapeSize(p.outDims), false);
    const A = computeOf(a);
    if (
      packed &&
      b === bConst &&
      fastFloat32() &&
      (p.foldIntoM || p.batch === 1) &&
      A instanceof Float32Array
    ) {
      parallelSgemmWithPacked(
        ctx.threads,
        packed,
        form.transA,
        p.batch * p.M,
        p.N,
        p.K,
        form.alpha,
        A,
        0,
        form.transA ? p.M : p.K,
        0,
        Y as Float32Array,
        0,
        p.N,
        epilogue,
      );
    } else {
      runMatMul(p, A, computeOf(b), Y, ctx.threads, form);
      // The Add's own float32 arithmetic (bias float32 makes Y float32: A and B share a type).
      const rows = p.N > 0 ? Y.length / p.N : 0;
      if (bias)
        float32Binary('add', Y as Float32Array, [rows, p.N], bias, [p.N], [rows, p.N], Y as Float32Array);
    }
    return [tensorFromCompute(a.type, Y, p.outDims)];
  };
  return packed ? ownPacked(kernel, [packed]) : kernel;
}

const matMul: OpDef = {
  opType: 'MatMul',
  versions: [1, 9, 13],
  build: (node) => buildMatMul(node, PLAIN),
};

/**
 * com.microsoft.FusedMatMul (onnxruntime's contrib op, which the optimizer's MatMul + Transpose and
 * MatMul + scale fusions emit): alpha·op(A)·op(B), transA/transB swapping an operand's last two
 * dims. transBatchA/transBatchB (batch dims moved next to the matrix dims) are not supported.
 */
const fusedMatMul: OpDef = {
  domain: 'com.microsoft',
  opType: 'FusedMatMul',
  versions: [1],
  build(node) {
    for (const attr of ['transBatchA', 'transBatchB']) {
      if (node.attrs.int(attr, 0) !== 0) {
        throw new OnyxError(
          'NOT_IMPLEMENTED',
          `FusedMatMul node '${node.name}': ${attr} = ${node.attrs.int(attr, 0)} is not supported (only 0)`,
        );
      }
    }
    return buildMatMul(node, {
      transA: node.attrs.int('transA', 0) !== 0,
      transB: node.attrs.int('transB', 0) !== 0,
      alpha: node.attrs.float('alpha', 1),
    });
  },
};

/** The domain of ops the planner runs for execution only (runtime/step-fusion.ts), never in a model. */
export const EXECUTION_DOMAIN = 'ai.onyx.execution';
/** MatMul(A, W) + bias as one op: inputs A, W [K, N] and bias [N] (constants), output A·W + bias. */
export const MATMUL_BIAS_OP = 'MatMulBias';

/**
 * MatMul(A, W) + bias as the planner runs it (runtime/step-fusion.ts): W a constant 2-D float32
 * [K, N], bias a constant float32 [N], which the planner has checked.
 */
const matMulBias: OpDef = {
  domain: EXECUTION_DOMAIN,
  opType: MATMUL_BIAS_OP,
  versions: [1],
  build(node) {
    const bias = constantInput(node, 2);
    const W = constantInput(node, 1);
    if (bias?.type !== 'float32' || W?.type !== 'float32' || bias.size !== W.dims[1]) {
      throw new OnyxError(
        'INVALID_MODEL',
        `${MATMUL_BIAS_OP} node '${node.name}' needs constant float32 W and bias`,
      );
    }
    return buildMatMul({ ...node, opType: 'MatMul' }, PLAIN, bias.data as Float32Array);
  },
};

// ---------------------------------------------------------------------------------------------
// Gemm

/**
 * Gemm's kernel for `node`. A constant B is packed once; a row-vector C with beta = 1 (the usual
 * bias) is fused into the GEMM epilogue, and so is `clip`, a following Relu/Clip that the
 * optimizer's FusedGemm passes (ops/contrib.ts).
 */
export function buildGemm(node: NodeInfo, clip?: { min: number; max: number }): Kernel {
  const transA = node.attrs.int('transA', 0) !== 0;
  const transB = node.attrs.int('transB', 0) !== 0;
  const alpha = node.attrs.float('alpha', 1);
  const beta = node.attrs.float('beta', 1);
  // Gemm-1/6: C is broadcast only when `broadcast` = 1; from 7 on it always broadcasts.
  const legacyNoBroadcast = node.sinceVersion < 7 && node.attrs.int('broadcast', 0) === 0;
  const bConst = constantInput(node, 1);
  const packed = packedRight(bConst, transB);
  const kernel: Kernel = (inputs, ctx) => {
    const a = tensorInput(inputs[0], 'Gemm input A');
    const b = tensorInput(inputs[1], 'Gemm input B');
    const c = inputs[2] instanceof Tensor ? inputs[2] : undefined;
    requireNumeric(a, 'Gemm input A');
    if (a.dims.length !== 2 || b.dims.length !== 2) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `Gemm inputs A and B must be 2-D, got A ${fmt(a.dims)} and B ${fmt(b.dims)}`,
      );
    }
    const [M, K] = transA ? [a.dims[1], a.dims[0]] : a.dims;
    const [K2, N] = transB ? [b.dims[1], b.dims[0]] : b.dims;
    if (K !== K2) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `Gemm: op(A) is ${M}x${K} but op(B) is ${K2}x${N} (transA=${+transA}, transB=${+transB}; inner dimensions must match)`,
      );
    }
    // Written whole: by the product (beta = 0 overwrites), after beta·C when C is not a bias row.
    const Y = computeArray(a.type, M * N, false);
    const epilogue: GemmEpilogue = { clip };
    let accumulate = 0;
    if (c && beta !== 0) {
      if (c.dims.length > 2 || (legacyNoBroadcast && !(c.dims[0] === M && c.dims[1] === N))) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Gemm: C ${fmt(c.dims)} cannot be added to the ${M}x${N} product${legacyNoBroadcast ? ' (broadcast=0 needs C of exactly that shape)' : ''}`,
        );
      }
      if (c.dims.some((d, i) => d !== 1 && d !== [M, N][i + 2 - c.dims.length])) {
        throw new OnyxError('SHAPE_MISMATCH', `Gemm: C ${fmt(c.dims)} does not broadcast to [${M}, ${N}]`);
      }
      const C = computeOf(c);
      const [s0, s1] = broadcastStrides(c.dims, [M, N]);
      if (beta === 1 && s0 === 0 && s1 === 1) {
        epilogue.bias = { data: C as Float32Array, axis: 'col' };
      } else {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) Y[i * N + j] = beta * C[i * s0 + j * s1];
        }
        accumulate = 1;
      }
    }
    const A = computeOf(a);
    if (packed && b === bConst && fastFloat32() && A instanceof Float32Array) {
      const y = Y as Float32Array;
      parallelSgemmWithPacked(
        ctx.threads,
        packed,
        transA,
        M,
        N,
        K,
        alpha,
        A,
        0,
        a.dims[1],
        accumulate,
        y,
        0,
        N,
        epilogue,
      );
    } else {
      const B = computeOf(b);
      sgemm(
        transA,
        transB,
        M,
        N,
        K,
        alpha,
        A,
        0,
        a.dims[1],
        B,
        0,
        b.dims[1],
        accumulate,
        Y,
        0,
        N,
        epilogue,
        ctx.threads,
      );
    }
    return [tensorFromCompute(a.type, Y, [M, N])];
  };
  return packed ? ownPacked(kernel, [packed]) : kernel;
}

const gemmOp: OpDef = {
  opType: 'Gemm',
  versions: [1, 6, 7, 9, 11, 13],
  build: (node) => buildGemm(node),
};

// ---------------------------------------------------------------------------------------------
// MatMulInteger: (A - a_zero_point) · (B - b_zero_point) in int32.

const matMulInteger: OpDef = {
  opType: 'MatMulInteger',
  versions: [10],
  build(node) {
    const weights = prepackInt8B(node, 1, 3);
    const kernel: Kernel = (inputs) => {
      const a = tensorInput(inputs[0], 'MatMulInteger input A');
      const b = tensorInput(inputs[1], 'MatMulInteger input B');
      const azp = inputs[2] instanceof Tensor ? inputs[2] : undefined;
      const bzp = inputs[3] instanceof Tensor ? inputs[3] : undefined;
      const p = planMatMul(a.dims, b.dims);
      // a_zero_point is per row of A (stride K), b_zero_point per column of B (stride 1).
      const za = zeroPoints('MatMulInteger', 'a', a, azp, p.M, true);
      const zb = zeroPoints('MatMulInteger', 'b', b, bzp, p.N, true);
      const every = Int32Array.from({ length: p.batch }, (_, i) => i);
      const fast = integerProducts(
        a.data as Int8Array | Uint8Array,
        b.data as Int8Array | Uint8Array,
        za,
        zb,
        p.M,
        p.N,
        p.K,
        p.aIndex ?? every,
        p.bIndex ?? every,
        weights?.b === b ? weights.packed : undefined,
      );
      if (fast) return [new Tensor('int32', fast, p.outDims)];
      const A = minusZeroPoint('MatMulInteger', 'a', a, azp, p.M, p.K, true);
      const B = minusZeroPoint('MatMulInteger', 'b', b, bzp, p.N, 1, true);
      const Y = new Float64Array(shapeSize(p.outDims));
      runMatMul(p, A, B, Y);
      return [new Tensor('int32', Int32Array.from(Y), p.outDims)];
    };
    return weights ? ownPacked(kernel, [weights.packed]) : kernel;
  },
};

// ---------------------------------------------------------------------------------------------
// Einsum

/** A float64 tensor whose axes carry einsum labels. */
interface Labeled {
  labels: number[];
  dims: number[];
  data: Float64Array;
}

/**
 * Reads `x` into a new layout: output axis o has label `labels[o]` and size `dims[o]`; each input axis
 * with that label walks with it (repeated labels → diagonal; input size 1 → broadcast). Input labels
 * absent from `labels` must have size 1.
 */
function gather(x: Labeled, labels: number[], dims: number[]): Labeled {
  const inStrides = stridesOf(x.dims);
  const strides = labels.map((l) => {
    let s = 0;
    x.labels.forEach((xl, i) => {
      if (xl === l && x.dims[i] !== 1) s += inStrides[i];
    });
    return s;
  });
  const out = Float64Array.from(stridedOffsets(dims, strides), (o) => x.data[o]);
  return { labels, dims, data: out };
}

/** Sums `x` (unique labels) over every axis whose label is not in `keep`. */
function sumOut(x: Labeled, keep: (l: number) => boolean): Labeled {
  const kept = x.labels.map((l, i) => (keep(l) ? i : -1)).filter((i) => i >= 0);
  if (kept.length === x.labels.length) return x;
  const outDims = kept.map((i) => x.dims[i]);
  const outStrides = stridesOf(outDims);
  const strides = new Array<number>(x.labels.length).fill(0);
  kept.forEach((i, o) => (strides[i] = outStrides[o]));
  const out = new Float64Array(shapeSize(outDims));
  const rank = x.dims.length;
  const counter = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < x.data.length; i++) {
    out[off] += x.data[i];
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]++;
      off += strides[ax];
      if (counter[ax] < x.dims[ax]) break;
      off -= strides[ax] * counter[ax];
      counter[ax] = 0;
    }
  }
  return { labels: kept.map((i) => x.labels[i]), dims: outDims, data: out };
}

/** x ⊗ y contracted over shared labels not in `keep`, as batched GEMMs. */
function contract(x: Labeled, y: Labeled, keep: (l: number) => boolean, size: Map<number, number>): Labeled {
  const inY = new Set(y.labels);
  const inX = new Set(x.labels);
  const batch = x.labels.filter((l) => inY.has(l) && keep(l));
  const summed = x.labels.filter((l) => inY.has(l) && !keep(l));
  const xOnly = x.labels.filter((l) => !inY.has(l));
  const yOnly = y.labels.filter((l) => !inX.has(l));
  const sz = (ls: number[]) => ls.map((l) => size.get(l)!);
  const nb = shapeSize(sz(batch));
  const M = shapeSize(sz(xOnly));
  const K = shapeSize(sz(summed));
  const N = shapeSize(sz(yOnly));
  const xa = gather(x, [...batch, ...xOnly, ...summed], [...sz(batch), ...sz(xOnly), ...sz(summed)]);
  const yb = gather(y, [...batch, ...summed, ...yOnly], [...sz(batch), ...sz(summed), ...sz(yOnly)]);
  const out = new Float64Array(nb * M * N);
  for (let b = 0; b < nb; b++) {
    gemm(false, false, M, N, K, 1, xa.data, b * M * K, K, yb.data, b * K * N, N, 0, out, b * M * N, N);
  }
  const labels = [...batch, ...xOnly, ...yOnly];
  return { labels, dims: sz(labels), data: out };
}

const ELLIPSIS_BASE = 1000;

interface EinsumPlan {
  terms: string[];
  output: string | undefined;
}

function parseEquation(eq: string, nInputs: number): EinsumPlan {
  const clean = eq.replace(/\s+/g, '');
  const arrow = clean.indexOf('->');
  const lhs = arrow >= 0 ? clean.slice(0, arrow) : clean;
  const output = arrow >= 0 ? clean.slice(arrow + 2) : undefined;
  const terms = lhs.split(',');
  if (terms.length !== nInputs) {
    throw new OnyxError(
      'INVALID_MODEL',
      `Einsum equation '${eq}' has ${terms.length} input term(s) but the node has ${nInputs} input(s)`,
    );
  }
  for (const t of [...terms, output ?? '']) {
    if (!/^[a-zA-Z]*(\.\.\.)?[a-zA-Z]*$/.test(t)) {
      throw new OnyxError(
        'INVALID_MODEL',
        `Einsum equation '${eq}': term '${t}' may only hold letters and at most one '...'`,
      );
    }
  }
  return { terms, output };
}

/** The label ids of one term for an operand of rank `rank`; ellipsis dims right-aligned to `ellRank`. */
function termLabels(term: string, rank: number, ellRank: number, eq: string): number[] {
  const e = term.indexOf('...');
  const letters = term.replace('...', '');
  const ids = [...letters].map((c) => c.charCodeAt(0));
  if (e < 0) {
    if (ids.length !== rank) {
      throw new OnyxError(
        'SHAPE_MISMATCH',
        `Einsum equation '${eq}': term '${term}' has ${ids.length} label(s) but its operand has rank ${rank}`,
      );
    }
    return ids;
  }
  const k = rank - ids.length;
  if (k < 0) {
    throw new OnyxError(
      'SHAPE_MISMATCH',
      `Einsum equation '${eq}': term '${term}' has more labels than its operand's rank ${rank}`,
    );
  }
  const ell = Array.from({ length: k }, (_, i) => ELLIPSIS_BASE + ellRank - k + i);
  const before = term.slice(0, e).length;
  return [...ids.slice(0, before), ...ell, ...ids.slice(before)];
}

export function einsum(eq: string, operands: Tensor[]): { dims: number[]; data: Float64Array } {
  const plan = parseEquation(eq, operands.length);
  const ellRanks = plan.terms.map((t, i) =>
    t.includes('...') ? operands[i].dims.length - (t.length - 3) : 0,
  );
  const ellRank = Math.max(0, ...ellRanks);
  const xs: Labeled[] = operands.map((t, i) => ({
    labels: termLabels(plan.terms[i], t.dims.length, ellRank, eq),
    dims: [...t.dims],
    data: float64Of(t),
  }));
  // Sizes per label; 1 broadcasts against anything.
  const size = new Map<number, number>();
  const count = new Map<number, number>();
  for (const x of xs) {
    x.labels.forEach((l, i) => {
      const d = x.dims[i];
      const prev = size.get(l);
      if (prev === undefined || prev === 1) size.set(l, d);
      else if (d !== 1 && d !== prev) {
        throw new OnyxError(
          'SHAPE_MISMATCH',
          `Einsum equation '${eq}': label '${l >= ELLIPSIS_BASE ? '...' : String.fromCharCode(l)}' has sizes ${prev} and ${d}`,
        );
      }
      count.set(l, (count.get(l) ?? 0) + 1);
    });
  }
  let outLabels: number[];
  if (plan.output !== undefined) {
    const hasEll = plan.output.includes('...');
    outLabels = termLabels(
      plan.output,
      plan.output.length - (hasEll ? 3 : 0) + (hasEll ? ellRank : 0),
      ellRank,
      eq,
    );
    for (const l of outLabels) {
      if (!size.has(l)) {
        throw new OnyxError(
          'INVALID_MODEL',
          `Einsum equation '${eq}': output label '${String.fromCharCode(l)}' appears in no input`,
        );
      }
    }
    if (new Set(outLabels).size !== outLabels.length) {
      throw new OnyxError('INVALID_MODEL', `Einsum equation '${eq}': output repeats a label`);
    }
  } else {
    const ell = Array.from({ length: ellRank }, (_, i) => ELLIPSIS_BASE + i);
    const once = [...count].filter(([l, c]) => c === 1 && l < ELLIPSIS_BASE).map(([l]) => l);
    outLabels = [...ell, ...once.sort((a, b) => a - b)];
  }
  const outSet = new Set(outLabels);
  // Diagonals and broadcasting: each operand with unique labels at full sizes.
  let work = xs.map((x) => {
    const uniq = [...new Set(x.labels)];
    const needs = uniq.length !== x.labels.length || x.labels.some((l, i) => x.dims[i] !== size.get(l));
    return needs
      ? gather(
          x,
          uniq,
          uniq.map((l) => size.get(l)!),
        )
      : x;
  });
  const usedLater = (from: number) => {
    const s = new Set<number>();
    for (let i = from; i < work.length; i++) for (const l of work[i].labels) s.add(l);
    return s;
  };
  // Sum out labels that only one operand has and the output drops.
  work = work.map((x, i) => {
    const others = new Set<number>();
    work.forEach((y, j) => {
      if (j !== i) for (const l of y.labels) others.add(l);
    });
    return sumOut(x, (l) => outSet.has(l) || others.has(l));
  });
  let acc = work[0];
  for (let i = 1; i < work.length; i++) {
    const later = usedLater(i + 1);
    acc = contract(acc, work[i], (l) => outSet.has(l) || later.has(l), size);
  }
  acc = sumOut(acc, (l) => outSet.has(l));
  const outDims = outLabels.map((l) => size.get(l)!);
  const same = acc.labels.length === outLabels.length && acc.labels.every((l, i) => l === outLabels[i]);
  return { dims: outDims, data: same ? acc.data : gather(acc, outLabels, outDims).data };
}

const einsumOp: OpDef = {
  opType: 'Einsum',
  versions: [12],
  build(node) {
    const equation = node.attrs.string('equation');
    return (inputs: KernelInputs) => {
      const ts = inputs.map((v, i) => tensorInput(v, `Einsum input ${i}`));
      if (ts.length === 0) throw new OnyxError('INVALID_MODEL', 'Einsum needs at least one input');
      for (const t of ts) {
        requireNumeric(t, 'Einsum input');
        if (t.type !== ts[0].type) {
          throw new OnyxError(
            'TYPE_MISMATCH',
            `Einsum inputs must share a type, got ${ts[0].type} and ${t.type}`,
          );
        }
      }
      const r = einsum(equation, ts);
      return [tensorFromCompute(ts[0].type, r.data, r.dims)];
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Det: LU with partial pivoting per trailing M×M matrix.

export function determinant(a: Float64Array, off: number, n: number): number {
  const m = a.slice(off, off + n * n);
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    let best = Math.abs(m[c * n + c]);
    for (let r = c + 1; r < n; r++) {
      const v = Math.abs(m[r * n + c]);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (best === 0) return 0;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        const t = m[c * n + k];
        m[c * n + k] = m[p * n + k];
        m[p * n + k] = t;
      }
      det = -det;
    }
    const piv = m[c * n + c];
    det *= piv;
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / piv;
      if (f === 0) continue;
      for (let k = c + 1; k < n; k++) m[r * n + k] -= f * m[c * n + k];
    }
  }
  return det;
}

const det: OpDef = {
  opType: 'Det',
  versions: [11, 22],
  build() {
    return (inputs) => {
      const x = tensorInput(inputs[0], 'Det input');
      const r = x.dims.length;
      if (r < 2 || x.dims[r - 1] !== x.dims[r - 2]) {
        throw new OnyxError('SHAPE_MISMATCH', `Det needs [..., M, M] input, got ${fmt(x.dims)}`);
      }
      const n = x.dims[r - 1];
      const outDims = x.dims.slice(0, -2);
      const count = shapeSize(outDims);
      const data = float64Of(x);
      const out = new Float64Array(count);
      for (let b = 0; b < count; b++) out[b] = determinant(data, b * n * n, n);
      return [tensorFromCompute(x.type as TensorType, out, outDims)];
    };
  },
};

export const ops: OpDef[] = [matMul, matMulBias, fusedMatMul, gemmOp, matMulInteger, einsumOp, det];
