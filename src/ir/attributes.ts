/**
 * Node attributes, decoded once at load time into JS values, with typed accessors that kernels call
 * at session creation. A wrong attribute kind or a missing required attribute is an INVALID_MODEL
 * error naming the attribute.
 */
import { OnyxError } from '../core/errors.js';
import type { Tensor } from '../core/tensor.js';
import { toBigInt, toIntAttr } from '../onnx/proto.js';
import type * as P from '../onnx/proto-types.js';
import type { Graph } from './graph.js';
import type { ValueType } from './types.js';

export type AttrValue =
  | { kind: 'float'; value: number }
  /**
   * `value` is clamped to ±2^53 for everyday use; the loader also sets `exact`, the full int64, for the
   * few places that need it (Constant's value_int/value_ints).
   */
  | { kind: 'int'; value: number; exact?: bigint }
  | { kind: 'string'; value: string; bytes: Uint8Array }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: Graph }
  | { kind: 'sparse_tensor'; value: Tensor }
  | { kind: 'type'; value: ValueType | null }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[]; exact?: bigint[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: Tensor[] }
  | { kind: 'graphs'; value: Graph[] }
  | { kind: 'sparse_tensors'; value: Tensor[] }
  | { kind: 'types'; value: (ValueType | null)[] }
  /** An attribute of a function body that refers to the caller's attribute `ref`. */
  | { kind: 'ref'; ref: string };

export const utf8 = new TextDecoder('utf-8');

export class Attributes {
  /**
   * Every graph the attributes hold (a `graphs` attribute gives several), with its attribute's name:
   * listed once, since every optimizer pass asks this of every node, and walking the map each time
   * cost ~1 µs per node in a session's first (not yet optimized by V8) load. `map` is the node's for
   * good: nothing adds, removes or replaces an entry after construction.
   */
  readonly subgraphs: readonly (readonly [Graph, string])[];

  constructor(
    readonly map: ReadonlyMap<string, AttrValue>,
    private readonly where: string,
  ) {
    const list: [Graph, string][] = [];
    for (const [name, a] of map) {
      if (a.kind === 'graph') list.push([a.value, name]);
      else if (a.kind === 'graphs') for (const g of a.value) list.push([g, name]);
    }
    this.subgraphs = list;
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  private get<K extends AttrValue['kind']>(
    name: string,
    kind: K,
  ): Extract<AttrValue, { kind: K }> | undefined {
    const a = this.map.get(name);
    if (a === undefined) return undefined;
    if (a.kind !== kind) {
      throw new OnyxError(
        'INVALID_MODEL',
        `${this.where}: attribute '${name}' should be ${kind}, got ${a.kind}`,
      );
    }
    return a as Extract<AttrValue, { kind: K }>;
  }

  private missing(name: string): never {
    throw new OnyxError('INVALID_MODEL', `${this.where}: required attribute '${name}' is missing`);
  }

  int(name: string, fallback?: number): number {
    return this.get(name, 'int')?.value ?? fallback ?? this.missing(name);
  }

  float(name: string, fallback?: number): number {
    return this.get(name, 'float')?.value ?? fallback ?? this.missing(name);
  }

  string(name: string, fallback?: string): string {
    return this.get(name, 'string')?.value ?? fallback ?? this.missing(name);
  }

  ints(name: string, fallback?: number[]): number[] {
    return this.get(name, 'ints')?.value ?? fallback ?? this.missing(name);
  }

  floats(name: string, fallback?: number[]): number[] {
    return this.get(name, 'floats')?.value ?? fallback ?? this.missing(name);
  }

  strings(name: string, fallback?: string[]): string[] {
    return this.get(name, 'strings')?.value ?? fallback ?? this.missing(name);
  }

  tensor(name: string): Tensor;
  tensor(name: string, optional: true): Tensor | undefined;
  tensor(name: string, optional = false): Tensor | undefined {
    const t = this.get(name, 'tensor')?.value;
    return t ?? (optional ? undefined : this.missing(name));
  }

  tensors(name: string, fallback?: Tensor[]): Tensor[] {
    return this.get(name, 'tensors')?.value ?? fallback ?? this.missing(name);
  }

  graph(name: string): Graph;
  graph(name: string, optional: true): Graph | undefined;
  graph(name: string, optional = false): Graph | undefined {
    const g = this.get(name, 'graph')?.value;
    return g ?? (optional ? undefined : this.missing(name));
  }

  type(name: string): ValueType | null | undefined {
    return this.get(name, 'type')?.value;
  }

  /** The raw value of any kind (for Constant's value_* attributes and generic code). */
  raw(name: string): AttrValue | undefined {
    return this.map.get(name);
  }
}

export interface AttributeDecoders {
  tensor(t: P.TensorProto): Tensor;
  sparse(t: P.SparseTensorProto): Tensor;
  graph(g: P.GraphProto, name: string): Graph;
  type(t: P.TypeProto): ValueType | null;
}

/** Decodes one AttributeProto; `type` may be missing in very old models, so infer it from content. */
export function decodeAttribute(a: P.AttributeProto, d: AttributeDecoders, where: string): AttrValue {
  if (a.refAttrName) return { kind: 'ref', ref: a.refAttrName };
  const type = a.type || inferAttributeType(a);
  switch (type) {
    case 1:
      return { kind: 'float', value: a.f };
    case 2:
      return { kind: 'int', value: toIntAttr(a.i), exact: toBigInt(a.i) };
    case 3:
      return { kind: 'string', value: utf8.decode(a.s), bytes: a.s };
    case 4:
      if (!a.t) break;
      return { kind: 'tensor', value: d.tensor(a.t) };
    case 5:
      if (!a.g) break;
      return { kind: 'graph', value: d.graph(a.g, a.name) };
    case 6:
      return { kind: 'floats', value: a.floats.slice() };
    case 7:
      return { kind: 'ints', value: a.ints.map(toIntAttr), exact: a.ints.map((x) => toBigInt(x)) };
    case 8:
      return { kind: 'strings', value: a.strings.map((s) => utf8.decode(s)) };
    case 9:
      return { kind: 'tensors', value: a.tensors.map((t) => d.tensor(t)) };
    case 10:
      return { kind: 'graphs', value: a.graphs.map((g) => d.graph(g, a.name)) };
    case 11:
      if (!a.sparseTensor) break;
      return { kind: 'sparse_tensor', value: d.sparse(a.sparseTensor) };
    case 12:
      return { kind: 'sparse_tensors', value: a.sparseTensors.map((s) => d.sparse(s)) };
    case 13:
      if (!a.tp) break;
      return { kind: 'type', value: d.type(a.tp) };
    case 14:
      return { kind: 'types', value: a.typeProtos.map((t) => d.type(t)) };
  }
  throw new OnyxError(
    'INVALID_MODEL',
    `${where}: attribute '${a.name}' has an invalid or empty type ${type}`,
  );
}

function inferAttributeType(a: P.AttributeProto): number {
  if (a.floats.length) return 6;
  if (a.ints.length) return 7;
  if (a.strings.length) return 8;
  if (a.tensors.length) return 9;
  if (a.graphs.length) return 10;
  if (a.t) return 4;
  if (a.g) return 5;
  if (a.s && a.s.length) return 3;
  if (Object.prototype.hasOwnProperty.call(a, 'i')) return 2;
  if (Object.prototype.hasOwnProperty.call(a, 'f')) return 1;
  return 0;
}
