/**
 * A constant 8-bit weight of MatMulInteger / QLinearMatMul, packed once for the WASM integer GEMM
 * when the node is built: its kernel then skips copying and packing B on every run (~1 of 7 ms for
 * a 768 × 768 weight, measured).
 */
import type { Tensor } from '../../core/tensor.js';
import { constantInput, type NodeInfo } from '../kernel.js';
import { packInt8Weights, type PackedInt8B } from './dispatch.js';

export interface Int8Weights {
  /** The constant B the packing is of: the kernel uses it only when given this very tensor. */
  b: Tensor;
  packed: PackedInt8B;
}

/**
 * B = input `bIndex` when it is a 2-D int8/uint8 initializer and its zero point (input `zpIndex`)
 * is absent or constant, one value or one per column: packed minus that zero point; else undefined
 * (and when the WASM kernels are not in use). A malformed zero point is left for the run to reject.
 */
export function prepackInt8B(node: NodeInfo, bIndex: number, zpIndex: number): Int8Weights | undefined {
  const b = constantInput(node, bIndex);
  if (!b || (b.type !== 'int8' && b.type !== 'uint8') || b.dims.length !== 2) return undefined;
  const [K, N] = b.dims;
  let zb: ArrayLike<number> = [0];
  if (node.inputPresent[zpIndex]) {
    const zp = constantInput(node, zpIndex);
    if (!zp || zp.type !== b.type || (zp.size !== 1 && zp.size !== N)) return undefined;
    zb = zp.data as Int8Array | Uint8Array;
  }
  const packed = packInt8Weights(b.data as Int8Array | Uint8Array, zb, K, N);
  return packed && { b, packed };
}
