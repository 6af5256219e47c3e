// A minimal ONNX writer: just enough protobuf (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, OperatorSetIdProto) to build single-purpose float32 graphs in code for onnxruntime-web.
// Field numbers are those of onnx/onnx.proto3 (IR version 8, default-domain opset 13).

/** Protobuf wire encoder: varints, length-delimited fields, fixed32 floats. */
class Writer {
  private chunks: number[] = [];

  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.chunks.push(b);
    } while (x !== 0n);
    return this;
  }

  tag(field: number, wire: 0 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: Writer): this {
    return this.bytes(field, m.finish());
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(Float32Array.of(v).buffer);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** ONNX TensorProto.DataType.FLOAT */
const FLOAT = 1;

/** A node attribute: an int, a float, or a list of ints. */
export type Attr = number | number[] | { f: number };

/** A node of the graph (default domain). */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}

/** A float32 graph: named inputs/outputs with static shapes, float32 initializers (weights), nodes in order. */
export interface OnnxGraph {
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  initializers: Record<string, { dims: number[]; data: Float32Array }>;
  nodes: OnnxNode[];
}

function valueInfo(name: string, dims: number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

function attribute(name: string, a: Attr): Writer {
  const w = new Writer().string(1, name);
  if (Array.isArray(a)) {
    for (const v of a) w.int(8, v);
    return w.int(20, 7); // INTS
  }
  if (typeof a === 'number') return w.int(3, a).int(20, 2); // INT
  return w.float(2, a.f).int(20, 1); // FLOAT
}

/**
 * Serialises `graph` as an ONNX ModelProto (IR 8, opset 13) ready for `InferenceSession.create(bytes)`.
 *
 * @example
 *   encodeModel({ inputs: { x: [2, 3] }, outputs: { y: [2, 4] },
 *     initializers: { w: { dims: [4, 3], data }, b: { dims: [4], data: bias } },
 *     nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }] });
 */
export function encodeModel(graph: OnnxGraph, opset = 13): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => {
    const node = new Writer();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, `${n.op}_${i}`).string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attribute(k, v));
    g.message(1, node);
  });
  g.string(2, 'spikewasm_bench');
  for (const [name, { dims, data }] of Object.entries(graph.initializers)) {
    const t = new Writer();
    for (const d of dims) t.int(1, d);
    t.int(2, FLOAT).string(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    g.message(5, t);
  }
  for (const [name, dims] of Object.entries(graph.inputs)) g.message(11, valueInfo(name, dims));
  for (const [name, dims] of Object.entries(graph.outputs)) g.message(12, valueInfo(name, dims));
  return new Writer()
    .int(1, 8)
    .string(2, 'spikewasm-bench')
    .message(7, g)
    .message(8, new Writer().string(1, '').int(2, opset))
    .finish();
}
