/**
 * A builder for the ONNX graphs of the training engine: every method appends one node (or one
 * constant) and returns the name of the value it makes, so network code reads like the maths
 * (`g.mul(x, g.sigmoid(x))`). Constants are shared: the same scalar is one initializer.
 * The result is encoded by src/onnx/model.ts and run by onnxruntime (src/engine/ort-session.ts).
 */
import { encodeOnnxModel, type Dim, type Initializer, type NodeSpec, type ValueSpec } from '../onnx/model.js';

type Attributes = NodeSpec['attributes'];

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A graph input (a value the caller feeds on every run). */
  input(name: string, shape: readonly Dim[]): string {
    this.inputs.push({ name, shape });
    return name;
  }

  /** Expose `value` as the graph output `name`. */
  output(name: string, value: string, shape: readonly Dim[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name] });
    this.outputs.push({ name, shape });
  }

  op(op: string, inputs: readonly string[], attributes?: Attributes): string {
    const out = `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** A float32 constant, shared between uses of the same values and shape. */
  floats(data: Float32Array, shape: readonly number[]): string {
    const key = `f${shape.join('x')}:${Array.from(data).join(',')}`;
    return this.constant(key, () => ({ name: '', shape, data }));
  }

  scalar(value: number): string {
    return this.floats(Float32Array.of(value), []);
  }

  /** An int64 vector constant (axes, slice bounds, shapes). */
  ints(values: readonly number[]): string {
    return this.constant(`i:${values.join(',')}`, () => ({ name: '', shape: [values.length], data: BigInt64Array.from(values.map(BigInt)) }));
  }

  private constant(key: string, make: () => Initializer): string {
    const hit = this.constants.get(key);
    if (hit !== undefined) return hit;
    const name = `const_${this.constants.size}`;
    this.initializers.push({ ...make(), name });
    this.constants.set(key, name);
    return name;
  }

  // ---- element-wise -------------------------------------------------------------------------
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  neg(a: string): string {
    return this.op('Neg', [a]);
  }
  abs(a: string): string {
    return this.op('Abs', [a]);
  }
  square(a: string): string {
    return this.op('Mul', [a, a]);
  }
  sigmoid(a: string): string {
    return this.op('Sigmoid', [a]);
  }
  sin(a: string): string {
    return this.op('Sin', [a]);
  }
  cos(a: string): string {
    return this.op('Cos', [a]);
  }
  min(a: string, b: string): string {
    return this.op('Min', [a, b]);
  }
  clip(x: string, low: number, high: number): string {
    return this.op('Clip', [x, this.scalar(low), this.scalar(high)]);
  }
  /** 1 where low <= x <= high, else 0 (float32). */
  insideMask(x: string, low: number, high: number): string {
    const ge = this.op('GreaterOrEqual', [x, this.scalar(low)]);
    const le = this.op('LessOrEqual', [x, this.scalar(high)]);
    return this.op('Cast', [this.op('And', [ge, le])], { to: { int: 1 } });
  }

  // ---- linear algebra and shapes ------------------------------------------------------------
  /** a' b' (+ bias), a' = a or a^T, b' = b or b^T. */
  gemm(a: string, b: string, o: { bias?: string; transA?: boolean; transB?: boolean } = {}): string {
    const attributes: Record<string, { int: number }> = {};
    if (o.transA) attributes.transA = { int: 1 };
    if (o.transB) attributes.transB = { int: 1 };
    return this.op('Gemm', o.bias ? [a, b, o.bias] : [a, b], attributes);
  }
  concat(xs: readonly string[], axis: number): string {
    return this.op('Concat', xs, { axis: { int: axis } });
  }
  /** x[start:end] along `axis`. */
  slice(x: string, start: number, end: number, axis: number): string {
    return this.op('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(shape)]);
  }
  expand(x: string, shape: readonly number[]): string {
    return this.op('Expand', [x, this.ints(shape)]);
  }
  /** Sum over `axes` (all axes when omitted, to a scalar). */
  reduceSum(x: string, axes?: readonly number[], keepDims = false): string {
    return this.reduce('ReduceSum', x, axes, keepDims);
  }
  reduceMean(x: string, axes?: readonly number[], keepDims = false): string {
    return this.reduce('ReduceMean', x, axes, keepDims);
  }
  reduceMax(x: string, axes: readonly number[], keepDims = false): string {
    return this.reduce('ReduceMax', x, axes, keepDims);
  }
  private reduce(op: string, x: string, axes: readonly number[] | undefined, keepDims: boolean): string {
    return this.op(op, axes ? [x, this.ints(axes)] : [x], { keepdims: { int: keepDims ? 1 : 0 } });
  }

  /** The ONNX model bytes. */
  encode(producerVersion: string): Uint8Array {
    return encodeOnnxModel({
      name: this.name,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
      nodes: this.nodes,
      producerVersion,
    });
  }
}
