/** The ONNX protobuf writer lives in the product (src/convert/onnx); re-exported for the test builders. */
export * from '../../../src/convert/onnx/proto.js';
