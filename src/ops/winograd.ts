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
import { packWinogradWeights, type PackedWeights } from './util/dispatch.js';
import type { WindowAttrs } from './util/window.js';

/**
 * Fewer input or output channels than this: the transforms (per tile and channel) cost more than the
 * multiplications saved (the GEMM's depth or height is the channel count).
 */
export const WINOGRAD_MIN_CHANNELS = 16;

const allOnes = (v: number[] | undefined): boolean => v === undefined || v.every((x) => x === 1);

/**
 * True when a Conv with these attributes, group and constant weights `w` runs by Winograd in fast
 * mode: 2-D, 3×3, stride 1, dilation 1, float32, enough input and output channels per group (each
 * group is its own Winograd convolution: AlexNet's two-group 3×3 layers). The window's padding may
 * be anything (auto_pad included).
 */
export function winogradApplies(attrs: WindowAttrs, group: number, w: Tensor): boolean {
  const [M, C, kh, kw] = w.dims;
  return (
    w.type === 'float32' &&
    w.dims.length === 4 &&
    group >= 1 &&
    M % group === 0 &&
    kh === 3 &&
    kw === 3 &&
    (attrs.kernelShape === undefined || (attrs.kernelShape[0] === 3 && attrs.kernelShape[1] === 3)) &&
    allOnes(attrs.strides) &&
    allOnes(attrs.dilations) &&
    C >= WINOGRAD_MIN_CHANNELS &&
    M / group >= WINOGRAD_MIN_CHANNELS
  );
}

/**
 * Per group, the 16 matrices U_ξ[m][c] = (G g[m][c] Gᵀ)[ξ] of its M/group × C × 3 × 3 weights (W
 * float32, C channels per group), each packed as the GEMM's A operand
 * (`WasmKernels.winogradWeights`). Undefined when the WASM kernels are not in use.
 */
export function winogradWeights(w: Tensor, group = 1): PackedWeights[][] | undefined {
  const [M, C] = w.dims;
  const Mg = M / group;
  const packs: PackedWeights[][] = [];
  for (let g = 0; g < group; g++) {
    const ws = packWinogradWeights(w.data as Float32Array, g * Mg * C * 9, Mg, C);
    if (!ws) return undefined;
    packs.push(ws);
  }
  return packs;
}
