// A one-node ONNX model (opset 13) computing LRN on a float32 tensor of fixed dims, encoded as
// protobuf bytes directly: onnxruntime-node loads models only, and this is the whole of one.
// Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto, AttributeProto, ...).

const textEncoder = new TextEncoder();

function varint(value) {
  const bytes = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v > 0n);
  return bytes;
}

const key = (field, wireType) => varint((field << 3) | wireType);
const varintField = (field, value) => [...key(field, 0), ...varint(value)];
const bytesField = (field, bytes) => [...key(field, 2), ...varint(bytes.length), ...bytes];
const stringField = (field, text) => bytesField(field, [...textEncoder.encode(text)]);
function floatField(field, value) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...key(field, 5), ...b];
}

const FLOAT = 1; // TensorProto.DataType and AttributeProto.AttributeType share this value
const INT = 2;

function valueInfo(name, dims) {
  const shape = dims.flatMap((d) => bytesField(1, varintField(1, d))); // TensorShapeProto.dim.dim_value
  const tensorType = [...varintField(1, FLOAT), ...bytesField(2, shape)];
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

const floatAttribute = (name, value) => [...stringField(1, name), ...floatField(2, value), ...varintField(20, FLOAT)];
const intAttribute = (name, value) => [...stringField(1, name), ...varintField(3, value), ...varintField(20, INT)];

/** Y = LRN(X) with ONNX's attributes (its alpha is divided by size inside the operator). */
export function lrnModel(dims, { size, alpha, beta, bias }) {
  const node = [
    ...stringField(1, 'X'),
    ...stringField(2, 'Y'),
    ...stringField(4, 'LRN'),
    ...bytesField(5, floatAttribute('alpha', alpha)),
    ...bytesField(5, floatAttribute('beta', beta)),
    ...bytesField(5, floatAttribute('bias', bias)),
    ...bytesField(5, intAttribute('size', size)),
  ];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, 'lrn'),
    ...bytesField(11, valueInfo('X', dims)),
    ...bytesField(12, valueInfo('Y', dims)),
  ];
  const model = [
    ...varintField(1, 8), // ir_version
    ...stringField(2, 'local-response-norm bench'),
    ...bytesField(7, graph),
    ...bytesField(8, varintField(2, 13)), // opset_import: default domain, version 13
  ];
  return Uint8Array.from(model);
}
