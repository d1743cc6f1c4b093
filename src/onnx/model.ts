/**
 * A small ONNX model writer: a graph of float32 tensors described as data (inputs, outputs,
 * constant initializers, nodes) encoded as an ONNX ModelProto. Field numbers follow onnx/onnx.proto
 * (IR version 8, the default opset domain).
 */
import { ProtoWriter } from './protobuf.js';

/** ONNX IR version 8 (ONNX 1.13) goes with opset 18. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 18;

const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

/** A dimension: a fixed size or a symbolic name (e.g. 'n' for the batch). */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  shape: readonly Dim[];
}

export interface Initializer {
  name: string;
  shape: readonly number[];
  /** float32 weights, or int64 operands (axes, slice bounds, shapes) of the ops that take them as inputs. */
  data: Float32Array | BigInt64Array;
}

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Scalar attributes: integers as { int }, floats as { float }. */
  attributes?: Readonly<Record<string, { int: number } | { float: number }>>;
}

export interface GraphSpec {
  name: string;
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  initializers: readonly Initializer[];
  nodes: readonly NodeSpec[];
  /** Written as the model's metadata_props (shown by Netron, readable by onnxruntime). */
  metadata?: Readonly<Record<string, string>>;
  producerVersion: string;
}

function valueInfo(v: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, TENSOR_FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

function tensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.shape) w.int(1, d);
  const isInt64 = t.data instanceof BigInt64Array;
  w.int(2, isInt64 ? TENSOR_INT64 : TENSOR_FLOAT).string(8, t.name);
  const raw = new Uint8Array(t.data.byteLength);
  const view = new DataView(raw.buffer);
  // ONNX raw_data is little-endian.
  if (t.data instanceof BigInt64Array) t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  else t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return w.bytes(9, raw);
}

function node(n: NodeSpec, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.op}_${index}`).string(4, n.op);
  for (const [name, a] of Object.entries(n.attributes ?? {})) {
    const attr = new ProtoWriter().string(1, name);
    if ('int' in a) attr.int(3, a.int).int(20, ATTR_INT);
    else attr.float(2, a.float).int(20, ATTR_FLOAT);
    w.message(5, attr);
  }
  return w;
}

/** The ModelProto bytes of a graph. */
export function encodeOnnxModel(g: GraphSpec): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const model = new ProtoWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'ofql-eval')
    .string(3, g.producerVersion)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(g.metadata ?? {})) model.message(14, new ProtoWriter().string(1, key).string(2, value));
  return model.finish();
}
