/**
 * The 2-D window geometry the window kernels read (im2col packing in gemm.ts, depthwise.ts,
 * pool.ts): twelve i32 fields in memory, written by the TypeScript side (WasmKernels.beginWindow)
 * in this order, read here through an unmanaged class laid over them.
 */
@unmanaged
export class Window {
  H: i32;
  W: i32;
  kh: i32;
  kw: i32;
  sh: i32;
  sw: i32;
  dh: i32;
  dw: i32;
  padTop: i32;
  padLeft: i32;
  oh: i32;
  ow: i32;
}

export const WINDOW_FIELDS: i32 = 12;

/** The first output column whose input column ox·sw + off is ≥ 0. */
export function firstColumn(off: i32, sw: i32): i32 {
  return off >= 0 ? 0 : (-off + sw - 1) / sw;
}

/** One past the last output column (< ow) whose input column ox·sw + off is < W. */
export function endColumn(off: i32, sw: i32, W: i32, ow: i32): i32 {
  const end = W - 1 - off < 0 ? 0 : (W - 1 - off) / sw + 1;
  return end > ow ? ow : end;
}
