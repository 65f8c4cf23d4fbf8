/**
 * Permuting copies of 4-byte elements (Transpose): dst[Σ i_d·ds_d] = src[Σ i_d·ss_d] over an index
 * space of `rank` dims, innermost last, given as three i32 arrays at `plan` (sizes n, destination
 * strides ds, source strides ss, in elements; the caller merges dims contiguous in both and drops
 * dims of size 1). The innermost dim is a run: four elements per f32x4 when it is contiguous in
 * both (a block copy), else one at a time; the outer dims advance by an odometer kept in `ws`.
 * (TypedArray.set per run from JavaScript cost ~150 ns a call on shared memory: ~3 ns per element
 * of a 64-wide attention transpose.)
 *
 * The copy is cut after its first `outer` dims (0 ≤ outer < rank, or 0) into units [lo, hi): unit u
 * is one position of those dims (u in their row-major order), each unit the loops of the remaining
 * dims, so a pool splits a permute by units, each thread with its own odometer. The whole copy on
 * one thread is outer = 0, units [0, 1).
 */
export function permuteRange(
  dst: usize,
  src: usize,
  rank: i32,
  plan: usize,
  outer: i32,
  lo: i32,
  hi: i32,
  ws: usize,
): void {
  const nP = plan;
  const dsP = plan + <usize>rank * 4;
  const ssP = plan + <usize>rank * 8;
  const skip = <usize>outer * 4;
  for (let u = lo; u < hi; u++) {
    let rest = u;
    let d = dst;
    let s = src;
    for (let k = outer - 1; k >= 0; k--) {
      const n = load<i32>(nP + <usize>k * 4);
      const i = rest % n;
      rest /= n;
      d += <usize>i * <usize>load<i32>(dsP + <usize>k * 4) * 4;
      s += <usize>i * <usize>load<i32>(ssP + <usize>k * 4) * 4;
    }
    permuteLoops(d, s, rank - outer, nP + skip, dsP + skip, ssP + skip, ws);
  }
}

/** The loops of a permuting copy over `rank` dims whose sizes and strides are at nP, dsP and ssP. */
function permuteLoops(dst: usize, src: usize, rank: i32, nP: usize, dsP: usize, ssP: usize, ws: usize): void {
  if (rank <= 0) {
    store<u32>(dst, load<u32>(src));
    return;
  }
  for (let i = 0; i < rank; i++) if (load<i32>(nP + <usize>i * 4) <= 0) return;
  const inner = rank - 1;
  const len = load<i32>(nP + <usize>inner * 4);
  const dStep = <usize>load<i32>(dsP + <usize>inner * 4) * 4;
  const sStep = <usize>load<i32>(ssP + <usize>inner * 4) * 4;
  const block = dStep == 4 && sStep == 4;
  const counter = ws;
  for (let i = 0; i < inner; i++) store<i32>(counter + <usize>i * 4, 0);
  let d = dst;
  let s = src;
  while (true) {
    // One run of the innermost dim.
    if (block) {
      const bytes = <usize>len * 4;
      let j: usize = 0;
      for (; j + 16 <= bytes; j += 16) v128.store(d + j, v128.load(s + j));
      for (; j < bytes; j += 4) store<u32>(d + j, load<u32>(s + j));
    } else {
      let p = d;
      let q = s;
      for (let j = 0; j < len; j++) {
        store<u32>(p, load<u32>(q));
        p += dStep;
        q += sStep;
      }
    }
    // Next position of the outer dims.
    let k = inner - 1;
    for (; k >= 0; k--) {
      const c = counter + <usize>k * 4;
      const n = load<i32>(nP + <usize>k * 4);
      const dk = <usize>load<i32>(dsP + <usize>k * 4) * 4;
      const sk = <usize>load<i32>(ssP + <usize>k * 4) * 4;
      const v = load<i32>(c) + 1;
      d += dk;
      s += sk;
      if (v < n) {
        store<i32>(c, v);
        break;
      }
      store<i32>(c, 0);
      d -= dk * <usize>n;
      s -= sk * <usize>n;
    }
    if (k < 0) return;
  }
}
