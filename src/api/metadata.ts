/**
 * Input/output metadata in onnxruntime-common's `ValueMetadata` shape: tensors report their element
 * type and symbolic shape (dims as numbers or names); sequences, maps and optionals report
 * `isTensor: false` with their ONNX type spelled out.
 */
import type { TensorType } from '../core/dtype.js';
import { formatType, type ValueType } from '../ir/types.js';

export type ValueMetadata =
  | { name: string; isTensor: true; type: TensorType; shape: readonly (number | string)[] }
  | { name: string; isTensor: false; onnxType: string };

export function metadataOf(
  name: string,
  type: ValueType | null,
  overrides: Readonly<Record<string, number>> = {},
): ValueMetadata {
  if (type?.kind === 'tensor') {
    const shape = (type.shape ?? []).map((d, i) =>
      typeof d === 'string' ? (overrides[d] ?? d) : d === null ? `unk__${i}` : d,
    );
    return { name, isTensor: true, type: type.elemType, shape };
  }
  return { name, isTensor: false, onnxType: formatType(type) };
}
