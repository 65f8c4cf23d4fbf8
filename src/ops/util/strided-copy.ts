/**
 * Generic element movement for data-layout ops (Transpose, Slice, Concat, Split, Tile, Pad, Expand,
 * DepthToSpace, ...), written once for every element type: storage is one array element per tensor
 * element (two for complex), so copying array slots copies elements exactly — float16/float8 bit
 * patterns, BigInt64Array values and string[] entries alike.
 *
 * `stridedCopy` moves an n-d strided view of one array into an n-d strided view of another. Strides
 * may be 0 (broadcast: Expand, Tile) or negative (Slice with negative steps, ReverseSequence).
 * Adjacent dims that are contiguous in both views are merged first, so the common cases collapse
 * into a few long runs that go through `TypedArray.set` or `fill`.
 */
import type { TensorData } from '../../core/dtype.js';
import type { Dims } from '../../core/tensor.js';

/** Any tensor storage, indexable element by element. */
type Slots = TensorData;

/**
 * For every index vector `i` over `dims`:
 *   dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k]
 * Offsets and strides count tensor elements; `lanes` (2 for complex types) scales them to array
 * slots. `dst` must not alias `src`.
 */
export function stridedCopy(
  dst: Slots,
  dstOffset: number,
  dstStrides: readonly number[],
  src: Slots,
  srcOffset: number,
  srcStrides: readonly number[],
  dims: Dims,
  lanes = 1,
): void {
  // Typed arrays move through unsigned views of their width, 8-byte elements as two 32-bit words:
  // the copy loops then see at most four array kinds (polymorphic, not megamorphic) and float bit
  // patterns, NaN payloads included, pass through untouched.
  const D = wordView(dst);
  const S = wordView(src);
  const words = lanes * (D === dst ? 1 : wordsPerElement(dst));
  // Collect the dims that matter (size > 1), scaled to array slots.
  const n: number[] = [];
  const ds: number[] = [];
  const ss: number[] = [];
  for (let k = 0; k < dims.length; k++) {
    if (dims[k] === 0) return;
    if (dims[k] === 1) continue;
    n.push(dims[k]);
    ds.push(dstStrides[k] * words);
    ss.push(srcStrides[k] * words);
  }
  if (words > 1) {
    n.push(words);
    ds.push(1);
    ss.push(1);
  }
  // Merge an outer dim into the next inner one where both views are contiguous across them.
  for (let k = n.length - 2; k >= 0; k--) {
    const inner = k + 1;
    if (ds[k] === ds[inner] * n[inner] && ss[k] === ss[inner] * n[inner]) {
      n[k] = n[k] * n[inner];
      ds[k] = ds[inner];
      ss[k] = ss[inner];
      n.splice(inner, 1);
      ds.splice(inner, 1);
      ss.splice(inner, 1);
    }
  }
  const r = n.length;
  const d0 = dstOffset * words;
  const s0 = srcOffset * words;
  if (r === 0) {
    (D as unknown[])[d0] = (S as unknown[])[s0];
    return;
  }
  const run = makeRun(D, S, n[r - 1], ds[r - 1], ss[r - 1]);
  if (r === 1) {
    run(d0, s0);
    return;
  }
  // Odometer over the outer dims.
  const outer = r - 1;
  const counter = new Array<number>(outer).fill(0);
  let d = d0;
  let s = s0;
  while (true) {
    run(d, s);
    let k = outer - 1;
    for (; k >= 0; k--) {
      counter[k]++;
      d += ds[k];
      s += ss[k];
      if (counter[k] < n[k]) break;
      d -= ds[k] * n[k];
      s -= ss[k] * n[k];
      counter[k] = 0;
    }
    if (k < 0) return;
  }
}

/** Array slots per element of a typed array's word view (2 for 8-byte types, else 1). */
function wordsPerElement(a: Slots): number {
  return !Array.isArray(a) && a.BYTES_PER_ELEMENT === 8 ? 2 : 1;
}

/** An unsigned same-width view (Uint32Array pairs for 8-byte types); plain arrays as they are. */
function wordView(a: Slots): Slots {
  if (Array.isArray(a)) return a;
  const { buffer, byteOffset, byteLength } = a;
  switch (a.BYTES_PER_ELEMENT) {
    case 1:
      return a instanceof Uint8Array ? a : new Uint8Array(buffer, byteOffset, byteLength);
    case 2:
      return a instanceof Uint16Array ? a : new Uint16Array(buffer, byteOffset, byteLength / 2);
    default:
      return a instanceof Uint32Array ? a : new Uint32Array(buffer, byteOffset, byteLength / 4);
  }
}

/** Runs shorter than this copy element by element; longer ones go through `TypedArray.set`. */
const SET_MIN = 32;

/** The innermost loop, specialised once per call: a block copy, a fill, or a strided loop. */
function makeRun(
  dst: Slots,
  src: Slots,
  len: number,
  dStride: number,
  sStride: number,
): (d: number, s: number) => void {
  const D = dst as unknown[];
  const S = src as unknown[];
  if (dStride === 1 && sStride === 1) {
    if (!Array.isArray(dst) && len >= SET_MIN) {
      const td = dst as Uint8Array;
      const ts = src as Uint8Array;
      return (d, s) => td.set(ts.subarray(s, s + len), d);
    }
    return (d, s) => {
      for (let i = 0; i < len; i++) D[d + i] = S[s + i];
    };
  }
  if (sStride === 0 && dStride === 1 && len >= SET_MIN) {
    const fill = dst as unknown as { fill(v: unknown, a: number, b: number): void };
    return (d, s) => fill.fill(S[s], d, d + len);
  }
  return (d, s) => {
    for (let i = 0; i < len; i++, d += dStride, s += sStride) D[d] = S[s];
  };
}

/**
 * Gathers `dst` (row-major over `outDims`, written from offset 0) from `src` through per-axis
 * offset tables: element (i_0, …, i_{r-1}) reads src[Σ_k tables[k][i_k]]. `tables[k]` has
 * outDims[k] entries in tensor elements. Used where each axis maps output to input positions
 * irregularly (Pad's reflect/edge/wrap modes).
 */
export function axisGather(
  dst: Slots,
  src: Slots,
  outDims: Dims,
  tables: readonly Int32Array[],
  lanes = 1,
): void {
  const r = outDims.length;
  let total = 1;
  for (const d of outDims) total *= d;
  if (total === 0) return;
  const D = wordView(dst) as unknown[];
  const S = wordView(src) as unknown[];
  lanes *= wordsPerElement(dst);
  if (r === 0) {
    for (let l = 0; l < lanes; l++) D[l] = S[l];
    return;
  }
  const last = tables[r - 1];
  const len = outDims[r - 1];
  const counter = new Array<number>(r).fill(0);
  let base = 0;
  for (let k = 0; k < r - 1; k++) base += tables[k][0];
  let o = 0;
  while (true) {
    if (lanes === 1) {
      for (let i = 0; i < len; i++) D[o++] = S[base + last[i]];
    } else {
      for (let i = 0; i < len; i++) {
        const s = (base + last[i]) * lanes;
        for (let l = 0; l < lanes; l++) D[o++] = S[s + l];
      }
    }
    let k = r - 2;
    for (; k >= 0; k--) {
      const t = tables[k];
      base -= t[counter[k]];
      counter[k]++;
      if (counter[k] < outDims[k]) {
        base += t[counter[k]];
        break;
      }
      counter[k] = 0;
      base += t[0];
    }
    if (k < 0) return;
  }
}

/** Fills `count` elements starting at element `offset` with the element `value[valueOffset]` (lanes wide). */
export function fillElements(
  dst: Slots,
  offset: number,
  count: number,
  value: Slots,
  valueOffset = 0,
  lanes = 1,
): void {
  if (count <= 0) return;
  const D = dst as unknown[];
  const V = value as unknown[];
  if (lanes === 1) {
    (dst as unknown as { fill(v: unknown, a: number, b: number): void }).fill(
      V[valueOffset],
      offset,
      offset + count,
    );
    return;
  }
  for (let i = 0; i < count; i++) {
    for (let l = 0; l < lanes; l++) D[(offset + i) * lanes + l] = V[valueOffset * lanes + l];
  }
}

/** Copies `count` contiguous elements: dst[dstOffset…] = src[srcOffset…] (element offsets, lanes wide). */
export function copyElements(
  dst: Slots,
  dstOffset: number,
  src: Slots,
  srcOffset: number,
  count: number,
  lanes = 1,
): void {
  if (count <= 0) return;
  const d = dstOffset * lanes;
  const s = srcOffset * lanes;
  const n = count * lanes;
  if (!Array.isArray(dst) && !Array.isArray(src) && dst.constructor === src.constructor) {
    (dst as Uint8Array).set((src as Uint8Array).subarray(s, s + n), d);
    return;
  }
  const D = dst as unknown[];
  const S = src as unknown[];
  for (let i = 0; i < n; i++) D[d + i] = S[s + i];
}
