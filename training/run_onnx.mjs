// Run one ONNX file with onnxruntime-node on feeds from JSON and dump every output to JSON.
// Usage: node training/run_onnx.mjs <model.onnx> <feeds.json> <out.json>
import { readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const [modelPath, feedsPath, outPath] = process.argv.slice(2);
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
const spec = JSON.parse(readFileSync(feedsPath, 'utf8'));
const feeds = {};
for (const name of session.inputNames) {
  const { type, dims, data } = spec[name];
  const arr = type === 'int64' ? BigInt64Array.from(data.map((v) => BigInt(v))) : Float32Array.from(data);
  feeds[name] = new ort.Tensor(type, arr, dims);
}
const result = await session.run(feeds);
const out = {};
for (const name of session.outputNames) {
  out[name] = { dims: result[name].dims, data: Array.from(result[name].data, Number) };
}
writeFileSync(outPath, JSON.stringify(out));
