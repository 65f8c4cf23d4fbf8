/**
 * TypeScript shapes of the decoded ONNX messages (protobufjs camelCase names). Repeated fields are
 * always arrays; optional scalars read as their defaults when absent (use `has()` to tell).
 */
import type Long from 'long';

export type Int64 = number | Long;

export interface StringStringEntryProto {
  key: string;
  value: string;
}

export interface OperatorSetIdProto {
  domain: string;
  version: Int64;
}

export const enum AttributeType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSOR = 11,
  SPARSE_TENSORS = 12,
  TYPE_PROTO = 13,
  TYPE_PROTOS = 14,
}

export interface AttributeProto {
  name: string;
  refAttrName: string;
  docString: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorProto | null;
  g?: GraphProto | null;
  sparseTensor?: SparseTensorProto | null;
  tp?: TypeProto | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  sparseTensors: SparseTensorProto[];
  typeProtos: TypeProto[];
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto | null;
  docString: string;
}

export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  overload: string;
  attribute: AttributeProto[];
  docString: string;
}

export interface ModelProto {
  irVersion: Int64;
  opsetImport: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: Int64;
  docString: string;
  graph?: GraphProto | null;
  metadataProps: StringStringEntryProto[];
  functions: FunctionProto[];
}

export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  sparseInitializer: SparseTensorProto[];
  docString: string;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

export interface TensorProto {
  dims: Int64[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  stringData: Uint8Array[];
  int64Data: Int64[];
  name: string;
  docString: string;
  rawData: Uint8Array;
  externalData: StringStringEntryProto[];
  dataLocation: number;
  doubleData: number[];
  uint64Data: Int64[];
}

export interface SparseTensorProto {
  values?: TensorProto | null;
  indices?: TensorProto | null;
  dims: Int64[];
}

export interface TensorShapeProto {
  dim: { dimValue?: Int64; dimParam?: string; denotation: string }[];
}

export interface TypeProto {
  tensorType?: { elemType: number; shape?: TensorShapeProto | null } | null;
  sequenceType?: { elemType?: TypeProto | null } | null;
  mapType?: { keyType: number; valueType?: TypeProto | null } | null;
  optionalType?: { elemType?: TypeProto | null } | null;
  sparseTensorType?: { elemType: number; shape?: TensorShapeProto | null } | null;
  denotation: string;
}

export interface FunctionProto {
  name: string;
  input: string[];
  output: string[];
  attribute: string[];
  attributeProto: AttributeProto[];
  node: NodeProto[];
  docString: string;
  opsetImport: OperatorSetIdProto[];
  domain: string;
  overload: string;
  valueInfo: ValueInfoProto[];
}

export interface SequenceProto {
  name: string;
  elemType: number;
  tensorValues: TensorProto[];
  sparseTensorValues: SparseTensorProto[];
  sequenceValues: SequenceProto[];
  mapValues: MapProto[];
  optionalValues: OptionalProto[];
}

export interface MapProto {
  name: string;
  keyType: number;
  keys: Int64[];
  stringKeys: Uint8Array[];
  values?: SequenceProto | null;
}

export interface OptionalProto {
  name: string;
  elemType: number;
  tensorValue?: TensorProto | null;
  sparseTensorValue?: SparseTensorProto | null;
  sequenceValue?: SequenceProto | null;
  mapValue?: MapProto | null;
  optionalValue?: OptionalProto | null;
}
