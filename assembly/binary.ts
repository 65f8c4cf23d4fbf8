/**
 * float32 add, sub, mul, div with broadcasting, after the caller has coalesced the axes into at most
 * two: `outer` runs of `inner` elements; each operand steps by its outer stride between runs and, in
 * a run, either walks (inner stride 1) or repeats one value (0). The f32x4 operations round like the
 * TypeScript path's float64 operation rounded once (exact for these four), so results are identical.
 */
export const BIN_ADD: i32 = 0;
export const BIN_SUB: i32 = 1;
export const BIN_MUL: i32 = 2;
export const BIN_DIV: i32 = 3;

// opV and opS have one caller each, so the optimizer inlines them into the loops.

function opV(op: i32, x: v128, y: v128): v128 {
  if (op == BIN_ADD) return f32x4.add(x, y);
  if (op == BIN_SUB) return f32x4.sub(x, y);
  return op == BIN_MUL ? f32x4.mul(x, y) : f32x4.div(x, y);
}

function opS(op: i32, x: f32, y: f32): f32 {
  if (op == BIN_ADD) return x + y;
  if (op == BIN_SUB) return x - y;
  return op == BIN_MUL ? x * y : x / y;
}

export function binary2d(
  op: i32,
  a: usize,
  b: usize,
  y: usize,
  outer: i32,
  inner: i32,
  aOuter: i32,
  aInner: i32,
  bOuter: i32,
  bInner: i32,
): void {
  for (let r = 0; r < outer; r++) {
    const pa = a + <usize>r * aOuter * 4;
    const pb = b + <usize>r * bOuter * 4;
    const po = y + <usize>r * inner * 4;
    const av = f32x4.splat(load<f32>(pa));
    const bv = f32x4.splat(load<f32>(pb));
    let j = 0;
    for (; j + 4 <= inner; j += 4) {
      const o = <usize>j * 4;
      const x = aInner ? v128.load(pa + o) : av;
      const z = bInner ? v128.load(pb + o) : bv;
      v128.store(po + o, opV(op, x, z));
    }
    for (; j < inner; j++) {
      const o = <usize>j * 4;
      store<f32>(po + o, opS(op, load<f32>(aInner ? pa + o : pa), load<f32>(bInner ? pb + o : pb)));
    }
  }
}
