/** The test-model builder: byte-reproducible output, valid graphs (onnx.checker when available), q8 structure. */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDualEncoderFolder, sha256OfFile, TINY_CLIP, TINY_SIGLIP } from '../support/onnx/clip-builder.js';
import { buildVocabulary } from '../support/onnx/tokenizer.js';
import { quantizeUint8 } from '../support/onnx/graph.js';
import { testModel } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'medvlm-builder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PYTHON = '/usr/bin/python3';
const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
if (!hasOnnx) console.log('[skip] onnx.checker test: /usr/bin/python3 with the onnx module (Debian python3-onnx) is not installed');

function onnxFiles(dir: string): string[] {
  return readdirSync(join(dir, 'onnx')).sort();
}

describe('buildDualEncoderFolder', () => {
  it('writes the transformers.js layout, byte-reproducibly', () => {
    const a = buildDualEncoderFolder(join(root, 'a'), TINY_CLIP);
    const b = buildDualEncoderFolder(join(root, 'b'), TINY_CLIP);
    expect(onnxFiles(a)).toEqual([
      'model.onnx', 'model_quantized.onnx', 'text_model.onnx', 'text_model_quantized.onnx', 'vision_model.onnx', 'vision_model_quantized.onnx',
    ]);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json', ...onnxFiles(a).map((x) => `onnx/${x}`)]) {
      expect(sha256OfFile(join(a, f))).toBe(sha256OfFile(join(b, f)));
    }
    // Same bytes as the shared fixture built by the global setup.
    expect(sha256OfFile(join(a, 'onnx/text_model.onnx'))).toBe(sha256OfFile(join(testModel('clip'), 'onnx/text_model.onnx')));
    // q8 stores MatMul weights as uint8: the quantized vision model is about 4x smaller in its MatMuls.
    expect(statSync(join(a, 'onnx/vision_model_quantized.onnx')).size).toBeLessThan(0.6 * statSync(join(a, 'onnx/vision_model.onnx')).size);
  });

  it('is idempotent: a second build of the same config rewrites nothing', () => {
    const dir = buildDualEncoderFolder(join(root, 'idem'), TINY_SIGLIP);
    const before = statSync(join(dir, 'onnx/model.onnx')).mtimeMs;
    buildDualEncoderFolder(dir, TINY_SIGLIP);
    expect(statSync(join(dir, 'onnx/model.onnx')).mtimeMs).toBe(before);
  });

  it('config.json and tokenizer files describe the model', () => {
    const cfg = JSON.parse(readFileSync(join(testModel('siglip'), 'config.json'), 'utf8'));
    expect(cfg.model_type).toBe('siglip');
    expect(cfg.text_config.vocab_size).toBe(buildVocabulary().length);
    const tok = JSON.parse(readFileSync(join(testModel('siglip'), 'tokenizer.json'), 'utf8'));
    expect(tok.model.type).toBe('WordPiece');
    for (const w of 'a photo of chest x ray ct mr brain lung pneumonia normal'.split(' ')) expect(tok.model.vocab[w]).toBeTypeOf('number');
  });

  it('quantizeUint8 round-trips weights within half a step', () => {
    const w = Float32Array.from([-1, -0.25, 0, 0.3, 2]);
    const { q, scale, zeroPoint } = quantizeUint8(w);
    w.forEach((v, i) => expect(Math.abs((q[i] - zeroPoint) * scale - v)).toBeLessThanOrEqual(scale / 2 + 1e-7));
  });

  it.skipIf(!hasOnnx)('every graph passes onnx.checker (full_check) and q8 graphs use MatMulInteger on uint8 weights', () => {
    const script = `
import onnx, sys, glob, json
out = {}
for f in sorted(glob.glob(sys.argv[1] + '/*/onnx/*.onnx')):
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    ops = {n.op_type for n in m.graph.node}
    u8 = sum(1 for t in m.graph.initializer if t.data_type == onnx.TensorProto.UINT8 and len(t.dims) == 2)
    out[f.split('/')[-3] + '/' + f.split('/')[-1]] = {'MatMulInteger': 'MatMulInteger' in ops, 'uint8_matrices': u8, 'opset': m.opset_import[0].version}
print(json.dumps(out))
`;
    const report = JSON.parse(execFileSync(PYTHON, ['-c', script, join(testModel('clip'), '..')], { encoding: 'utf8' })) as Record<string, { MatMulInteger: boolean; uint8_matrices: number; opset: number }>;
    expect(Object.keys(report).length).toBeGreaterThanOrEqual(14);
    // 2 layers x (4 attention + 2 MLP) + projection = 13 quantized matrices per tower.
    expect(report['tiny-clip/vision_model_quantized.onnx']).toEqual({ MatMulInteger: true, uint8_matrices: 13, opset: 17 });
    expect(report['tiny-clip/model_quantized.onnx'].uint8_matrices).toBe(26);
    expect(report['tiny-siglip/text_model.onnx']).toEqual({ MatMulInteger: false, uint8_matrices: 0, opset: 17 });
  });
});
