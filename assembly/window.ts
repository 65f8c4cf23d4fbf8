/**
 * The 2-D window geometry shared by depthwise convolution and pooling: WINDOW_FIELDS i32s in the
 * order H, W, kh, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow.
 */
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
