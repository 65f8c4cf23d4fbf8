/**
 * Depthwise 2-D convolution (one input channel per group, MobileNet's and ShuffleNet's 3×3 layers)
 * for WebAssembly SIMD128.
 *
 * Each channel's input is first copied, a band of rows at a time, into a zero-padded plane in the
 * thread's workspace, each row split into `sw` phases (columns i ≡ 0, 1, … mod sw, for stride sw):
 * then the taps of four neighbouring output columns are four neighbouring floats of one phase at
 * every stride, and each tap is one plain f32x4 load at an offset fixed per call (a table). The rows
 * are wide enough that every tap of every output column, a last partial vector's included, reads
 * inside the plane: no bounds tests and no scalar tails. Each f32x4 accumulator starts at the bias
 * (and FusedConv's Z), takes one multiply-add per tap and is clamped and stored once, straight from
 * its register; eight at a time, two column vectors of four rows, so that no accumulator waits on
 * its own multiply-add latency (rows past the output, to make whole groups of four, are computed
 * from zero rows of the band and not stored).
 *
 * The kernel this replaced swept each tap over a whole output row in place (a load and a store of
 * the row per tap) and found each tap's column range with two integer divisions per row. Measured
 * (kernel alone, same process, µs old → new, before the accumulator spill that took the first two to
 * 129 and 154): 480×7×7 323 → 140, 192×14×14 356 → 214, 272×14×14 543 → 325, 96×28×28 356 → 243;
 * the wide layers stay where they were (96×56×56 ~1.0 ms either
 * way; 48×112×112 at stride 2 635 → 766). This machine's vector loads (~1 per cycle measured on
 * a plain FMA loop) bound both: each tap here is one load per accumulator. A first version read
 * strided columns through a branch on the stride per load, which V8 does not hoist out of the
 * loop (~10 instructions per multiply-add in the generated code); the phase split removed it.
 *
 * Geometry: a window.ts `Window` at `g`. Channels [c0, c1) are computed, so a thread pool
 * can split by channel. A row too wide for the workspace takes a per-element path with bounds tests.
 */
import { WORKSPACE_BYTES } from './gemm';
import { madd } from './simd';
import { Window } from './window';

/** Workspace bytes the padded band may use (it stays in L2). */
const BAND_BYTES: i32 = 256 * 1024;
/** Workspace bytes after the band: the tap table. */
const MAX_TABLE_BYTES: i32 = WORKSPACE_BYTES - BAND_BYTES;

// The call's epilogue and workspace, for the helpers below (set by depthwiseConv).
let clip: bool = false;
let lo: f32 = 0;
let hi: f32 = 0;
let loV: v128 = f32x4.splat(0);
let hiV: v128 = f32x4.splat(0);

/**
 * y[c] = clamp(conv(x[c], w[c]) + bias[c] + z[c]) for channels [c0, c1): x is C × H × W, w is
 * C × kh × kw, y and z are C × oh × ow; `bias` and `z` may be 0 (absent). `ws` is the thread's
 * workspace (WORKSPACE_BYTES).
 */
export function depthwiseConv(
  g: usize,
  x: usize,
  w: usize,
  bias: usize,
  z: usize,
  y: usize,
  c0: i32,
  c1: i32,
  clamp: bool,
  min_: f32,
  max_: f32,
  ws: usize,
): void {
  const win = changetype<Window>(g);
  const kh = win.kh;
  const kw = win.kw;
  const sh = win.sh;
  const sw = win.sw;
  const dh = win.dh;
  const dw = win.dw;
  const oh = win.oh;
  const ow = win.ow;
  if (oh <= 0 || ow <= 0) return;
  clip = clamp;
  lo = min_;
  hi = max_;
  loV = f32x4.splat(lo);
  hiV = f32x4.splat(hi);
  // Phase width: output column vectors up to owVec, each tap up to (kw − 1)·dw / sw further; and
  // room for every input column.
  const owVec = (ow + 7) & ~7;
  const phaseLen = (max(owVec + ((kw - 1) * dw) / sw, (win.padLeft + win.W + sw - 1) / sw) + 3) & ~3;
  const phaseBytes = <usize>phaseLen * 4;
  const rowBytes = <usize>sw * phaseBytes;
  // Output rows per band, a multiple of 4: the band's input rows (rows − 1)·sh + (kh − 1)·dh + 1
  // must fit.
  const spare = BAND_BYTES / <i32>rowBytes - (kh - 1) * dh - 1;
  const bandRows = spare < 0 ? 0 : (spare / sh + 1) & ~3;
  if (bandRows == 0 || kw * 4 > MAX_TABLE_BYTES) {
    boundedPath(win, x, w, bias, z, y, c0, c1);
    return;
  }
  // Byte offset of tap kx in a padded row, from output column 0: phase (kx·dw) mod sw, position
  // (kx·dw) / sw.
  const table = ws + <usize>BAND_BYTES;
  for (let kx = 0; kx < kw; kx++) {
    const i = kx * dw;
    store<u32>(table + <usize>kx * 4, <u32>((i % sw) * <i32>phaseBytes + (i / sw) * 4));
  }
  const tapRows = <usize>dh * rowBytes;
  const inRows = <usize>sh * rowBytes; // between two output rows
  const outRow = <usize>ow * 4;
  const outPlane = <usize>oh * outRow;
  for (let c = c0; c < c1; c++) {
    const wc = w + <usize>c * kh * kw * 4;
    const bV = f32x4.splat(bias != 0 ? load<f32>(bias + <usize>c * 4) : 0);
    const plane = x + <usize>c * win.H * win.W * 4;
    const yc = y + <usize>c * outPlane;
    const zc = z != 0 ? z + <usize>c * outPlane : 0;
    for (let oy0 = 0; oy0 < oh; oy0 += bandRows) {
      const groups = (min(bandRows, oh - oy0) + 3) >> 2;
      const rows = (groups * 4 - 1) * sh + (kh - 1) * dh + 1;
      padBand(win, plane, oy0 * sh - win.padTop, rows, phaseLen, ws);
      for (let gi = 0; gi < groups; gi++) {
        const oy = oy0 + gi * 4;
        const base = ws + <usize>(gi * 4) * inRows;
        const validRows = min(4, oh - oy);
        for (let ox = 0; ox < ow; ox += 8) {
          const q = <usize>oy * outRow + <usize>ox * 4;
          const n0 = min(4, ow - ox);
          const n1 = max(0, min(4, ow - ox - 4));
          block8(
            base + <usize>ox * 4,
            inRows,
            wc,
            kh,
            kw,
            table,
            tapRows,
            bV,
            yc + q,
            zc != 0 ? zc + q : 0,
            outRow,
            validRows,
            n0,
            n1,
          );
        }
      }
    }
  }
}

/**
 * Eight f32x4 accumulators: output column vectors at `src` and src + 16 bytes of four rows `inStep`
 * bytes apart in the padded band. Stored at q (outputs, and Z at zq, 0: none; rows `outStep` bytes
 * apart): the first `rows` rows, n0 lanes of the first vector and n1 of the second.
 */
function block8(
  src: usize,
  inStep: usize,
  wc: usize,
  kh: i32,
  kw: i32,
  table: usize,
  tapRows: usize,
  bV: v128,
  q: usize,
  zq: usize,
  outStep: usize,
  rows: i32,
  n0: i32,
  n1: i32,
): void {
  let a0 = bV;
  let a1 = bV;
  let a2 = bV;
  let a3 = bV;
  let b0 = bV;
  let b1 = bV;
  let b2 = bV;
  let b3 = bV;
  let wp = wc;
  let r = src;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const p = r + <usize>load<u32>(table + <usize>kx * 4);
      const wV = v128.load32_splat(wp);
      a0 = madd(wV, v128.load(p), a0);
      b0 = madd(wV, v128.load(p, 16), b0);
      a1 = madd(wV, v128.load(p + inStep), a1);
      b1 = madd(wV, v128.load(p + inStep, 16), b1);
      a2 = madd(wV, v128.load(p + 2 * inStep), a2);
      b2 = madd(wV, v128.load(p + 2 * inStep, 16), b2);
      a3 = madd(wV, v128.load(p + 3 * inStep), a3);
      b3 = madd(wV, v128.load(p + 3 * inStep, 16), b3);
      wp += 4;
    }
    r += tapRows;
  }
  // Stored straight from the accumulators (a spill to memory and a reload per lane cost the large
  // planes 15–28% of the kernel, measured), rows past `rows` and lanes past n0 / n1 not at all. One
  // call site, so that the optimizer inlines `put` (out of line it was slower than the spill).
  for (let j = 0; j < 8; j++) {
    const row = j >> 1;
    if (row >= rows) break;
    const half = j & 1;
    const v =
      j == 0 ? a0 : j == 1 ? b0 : j == 2 ? a1 : j == 3 ? b1 : j == 4 ? a2 : j == 5 ? b2 : j == 6 ? a3 : b3;
    put(q, zq, v, <usize>row * outStep + <usize>half * 16, half ? n1 : n0);
  }
}

/**
 * Stores n ≤ 4 lanes (0: none) of accumulator v at q + o, after adding Z (at zq + o; zq 0: none) and
 * the clamp: a whole vector, or lane by lane (Z read only where stored, as it may end there).
 */
function put(q: usize, zq: usize, v: v128, o: usize, n: i32): void {
  if (n == 4) {
    let r = v;
    if (zq != 0) r = f32x4.add(r, v128.load(zq + o));
    if (clip) r = f32x4.min(f32x4.max(r, loV), hiV);
    v128.store(q + o, r);
    return;
  }
  if (n > 0) lane(q + o, zq != 0 ? zq + o : 0, f32x4.extract_lane(v, 0));
  if (n > 1) lane(q + o + 4, zq != 0 ? zq + o + 4 : 0, f32x4.extract_lane(v, 1));
  if (n > 2) lane(q + o + 8, zq != 0 ? zq + o + 8 : 0, f32x4.extract_lane(v, 2));
}

/** Stores one output x at q after adding Z (at zq; 0: none) and the clamp. */
function lane(q: usize, zq: usize, x: f32): void {
  let v = x;
  if (zq != 0) v += load<f32>(zq);
  store<f32>(q, clip ? min(max(v, lo), hi) : v);
}

/**
 * Copies input rows [iy0, iy0 + rows) of one channel plane into `dst` (rows outside the image as
 * zeros), each row as sw phases of phaseLen floats (a multiple of 4): padded column i = padLeft + ix
 * goes to phase i mod sw, position i / sw; the rest is zero. Plain SIMD loops: V8 runs memory.copy
 * and memory.fill of shared memory through a runtime call each, too slow for rows this short.
 */
function padBand(win: Window, plane: usize, iy0: i32, rows: i32, phaseLen: i32, dst: usize): void {
  const H = win.H;
  const W = win.W;
  const sw = win.sw;
  const pl = win.padLeft;
  const zero = f32x4.splat(0);
  const phaseBytes = <usize>phaseLen * 4;
  const rowBytes = <usize>sw * phaseBytes;
  let d = dst;
  for (let r = 0; r < rows; r++) {
    for (let j: usize = 0; j < rowBytes; j += 16) v128.store(d + j, zero);
    const iy = iy0 + r;
    if (<u32>iy < <u32>H) {
      const src = plane + <usize>iy * W * 4;
      let ix = 0;
      if (sw == 1) {
        const to = d + <usize>pl * 4;
        for (; ix + 4 <= W; ix += 4) v128.store(to + <usize>ix * 4, v128.load(src + <usize>ix * 4));
      } else if (sw == 2) {
        // Eight input columns: the even ones to one phase, the odd ones to the other.
        const evenTo = d + <usize>(pl & 1) * phaseBytes;
        const oddTo = d + <usize>((pl + 1) & 1) * phaseBytes;
        for (; ix + 8 <= W; ix += 8) {
          const v0 = v128.load(src + <usize>ix * 4);
          const v1 = v128.load(src + <usize>ix * 4, 16);
          v128.store(evenTo + <usize>((ix + pl) >> 1) * 4, v128.shuffle<f32>(v0, v1, 0, 2, 4, 6));
          v128.store(oddTo + <usize>((ix + 1 + pl) >> 1) * 4, v128.shuffle<f32>(v0, v1, 1, 3, 5, 7));
        }
      }
      for (; ix < W; ix++) {
        const i = ix + pl;
        const phase = sw == 1 ? 0 : sw == 2 ? i & 1 : i % sw;
        const pos = sw == 1 ? i : sw == 2 ? i >> 1 : i / sw;
        store<f32>(d + <usize>phase * phaseBytes + <usize>pos * 4, load<f32>(src + <usize>ix * 4));
      }
    }
    d += rowBytes;
  }
}

/** Rows too wide for the workspace: each output on its own, testing every tap against the image. */
function boundedPath(
  win: Window,
  x: usize,
  w: usize,
  bias: usize,
  z: usize,
  y: usize,
  c0: i32,
  c1: i32,
): void {
  const H = win.H;
  const W = win.W;
  const kh = win.kh;
  const kw = win.kw;
  const oh = win.oh;
  const ow = win.ow;
  for (let c = c0; c < c1; c++) {
    const xc = x + <usize>c * H * W * 4;
    const wc = w + <usize>c * kh * kw * 4;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = (<usize>c * oh * ow + <usize>oy * ow + ox) * 4;
        let acc: f32 = bias != 0 ? load<f32>(bias + <usize>c * 4) : 0;
        if (z != 0) acc += load<f32>(z + o);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * win.sh - win.padTop + ky * win.dh;
          if (<u32>iy >= <u32>H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * win.sw - win.padLeft + kx * win.dw;
            if (<u32>ix < <u32>W) {
              acc += load<f32>(wc + <usize>(ky * kw + kx) * 4) * load<f32>(xc + (<usize>iy * W + ix) * 4);
            }
          }
        }
        store<f32>(y + o, clip ? min(max(acc, lo), hi) : acc);
      }
    }
  }
}
