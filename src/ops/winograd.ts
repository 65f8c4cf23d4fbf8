/**
 * Winograd's F(2×2, 3×3) for Conv (the transforms and the sum over channels: assembly/winograd.ts):
 * which convolutions take it, and their weights transformed once, U = G g Gᵀ per output and input
 * channel, as 16 matrices U_ξ (M × C) packed for the GEMM. A 3×3 stride-1 convolution then takes
 * 16 multiply-adds per 2×2 output tile and channel instead of 36. ResNet-50's, VGG's, DenseNet's and
 * GoogLeNet's 3×3 layers are of this kind.
 *
 * Rounding differs from the direct sum: the transforms add and subtract inputs (and weights) before
 * multiplying. The differences measured against the direct convolution stay within the conformance
 * tolerances (see winograd.test.ts); onnxruntime's CPU provider does not use Winograd for float32,
 * XNNPACK and NNPACK do.
 */
import type { Tensor } from '../core/tensor.js';
import { operandScratch, packConstant, releasePacked, type PackedWeights } from './util/dispatch.js';
import type { WindowAttrs } from './util/window.js';

/**
 * Fewer input or output channels than this: the transforms (per tile and channel) cost more than the
 * multiplications saved (the GEMM's depth or height is the channel count).
 */
export const WINOGRAD_MIN_CHANNELS = 16;

/** G g for one (m, c): 4 × 3, float64. */
const scratch = new Float64Array(12);

const allOnes = (v: number[] | undefined): boolean => v === undefined || v.every((x) => x === 1);

/**
 * True when a Conv with these attributes, group and constant weights `w` runs by Winograd in fast
 * mode: 2-D, 3×3, stride 1, dilation 1, one group, float32, enough channels. The window's padding
 * may be anything (auto_pad included).
 */
export function winogradApplies(attrs: WindowAttrs, group: number, w: Tensor): boolean {
  const [M, C, kh, kw] = w.dims;
  return (
    w.type === 'float32' &&
    w.dims.length === 4 &&
    group === 1 &&
    kh === 3 &&
    kw === 3 &&
    (attrs.kernelShape === undefined || (attrs.kernelShape[0] === 3 && attrs.kernelShape[1] === 3)) &&
    allOnes(attrs.strides) &&
    allOnes(attrs.dilations) &&
    C >= WINOGRAD_MIN_CHANNELS &&
    M >= WINOGRAD_MIN_CHANNELS
  );
}

/**
 * The 16 matrices U_ξ[m][c] = (G g[m][c] Gᵀ)[ξ] of W (M × C × 3 × 3, float32), each packed as the
 * GEMM's A operand; undefined when the WASM kernels are not in use. Computed in float64, rounded
 * once.
 */
export function winogradWeights(w: Tensor): PackedWeights[] | undefined {
  const [M, C] = w.dims;
  const g = w.data as Float32Array;
  const n = M * C;
  // U_ξ at U[ξ·stride …]: one array written in one pass over W, then packed from in place: in the
  // WASM memory, planes a cache line off a multiple of 4 KiB (sixteen store streams). Session load
  // time: VGG-19 loaded ~1 s slower with plain planes on the JS heap, ~0.1–0.2 s now.
  const stride = n + 16;
  const U = operandScratch(16 * stride) ?? new Float32Array(16 * stride);
  for (let mc = 0, o = 0; mc < n; mc++, o += 9) {
    for (let j = 0; j < 3; j++) {
      // Column j of G g (4 × 3, row-major in scratch).
      const g0 = g[o + j];
      const g1 = g[o + 3 + j];
      const g2 = g[o + 6 + j];
      scratch[j] = g0;
      scratch[3 + j] = (g0 + g1 + g2) / 2;
      scratch[6 + j] = (g0 - g1 + g2) / 2;
      scratch[9 + j] = g2;
    }
    for (let i = 0; i < 4; i++) {
      const a = scratch[3 * i];
      const b = scratch[3 * i + 1];
      const c = scratch[3 * i + 2];
      const at = 4 * i * stride + mc;
      U[at] = a;
      U[at + stride] = (a + b + c) / 2;
      U[at + 2 * stride] = (a - b + c) / 2;
      U[at + 3 * stride] = c;
    }
  }
  const packs: PackedWeights[] = [];
  for (let xi = 0; xi < 16; xi++) {
    const p = packConstant('A', false, M, C, U, xi * stride, C);
    if (!p) {
      releasePacked(...packs);
      return undefined;
    }
    packs.push(p);
  }
  return packs;
}
