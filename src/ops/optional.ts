/**
 * Optional ops (opset 15, 18). An optional value is represented by its element when present and
 * by `null` when empty (see core/value.ts), so a present optional and a plain tensor/sequence look
 * the same at run time: this is exactly opset 18's relaxation, where OptionalHasElement and
 * OptionalGetElement also accept plain tensors and sequences.
 */
import { OnyxError } from '../core/errors.js';
import { Tensor } from '../core/tensor.js';
import type { OpDef } from './kernel.js';

export const ops: OpDef[] = [
  {
    opType: 'Optional',
    versions: [15],
    build(node) {
      const hasInput = node.inputCount > 0 && node.inputPresent[0];
      if (!hasInput && node.attrs.type('type') === undefined) {
        throw new OnyxError(
          'INVALID_MODEL',
          "Optional without an input needs the 'type' attribute (the element type of the empty optional)",
        );
      }
      return (inputs) => {
        const v = inputs[0];
        if (v === undefined) return [null];
        if (v instanceof Map) {
          throw new OnyxError('TYPE_MISMATCH', 'Optional accepts a tensor or a sequence, got a map');
        }
        return [v];
      };
    },
  },
  {
    opType: 'OptionalHasElement',
    versions: [15, 18],
    build(node) {
      if (node.sinceVersion < 18 && !(node.inputCount > 0 && node.inputPresent[0])) {
        throw new OnyxError(
          'INVALID_MODEL',
          'OptionalHasElement-15 requires its input (opset 18 made it optional)',
        );
      }
      return (inputs) => {
        const v = inputs[0];
        const has = v !== undefined && v !== null;
        return [new Tensor('bool', Uint8Array.of(has ? 1 : 0), [])];
      };
    },
  },
  {
    opType: 'OptionalGetElement',
    versions: [15, 18],
    build() {
      return (inputs) => {
        const v = inputs[0];
        if (v === undefined || v === null) {
          throw new OnyxError(
            'INVALID_ARGUMENT',
            'OptionalGetElement got an empty optional: check OptionalHasElement before reading it',
          );
        }
        return [v];
      };
    },
  },
];
