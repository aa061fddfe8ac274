/**
 * End to end through medvlm's OpenAI client: `medvlm serve`'s `/v1/chat/completions` (backed by the
 * bundled medvlm-tiny-gen) on loopback is evaluated as `openai:http://127.0.0.1:PORT/v1#medvlm-tiny-gen`
 * by the generative grid, beside the local backend: greedy decoding makes every per-item prediction and
 * report equal, the paired comparison of the two is exactly 0, and the served cell records that the
 * images went to loopback (re-encoded PNG pixels) with one request per item.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/io/platform-node.js';
import { compareGenerative } from '../../src/eval/generative/compare.js';
import { runGenerativeEval } from '../../src/eval/generative/grid.js';
import type { ReportCell, VqaCell } from '../../src/eval/generative/schema.js';
import { loadGenerativeCells } from '../../src/eval/generative/tables.js';
import { loadGenerator } from '../../src/models/generators.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { cellPath } from '../../src/eval/runner.js';
import { startTestServer, type TestServer } from '../server/helpers.js';
import { miniDataRoot, TINY_GEN } from './support.js';

const present = existsSync(join(TINY_GEN, 'onnx/decoder_model_merged.onnx'));
if (!present) console.log('[skip] OpenAI end-to-end grid: models/medvlm-tiny-gen is missing');

let server: TestServer;
let root: string;
let out: string;
beforeAll(async () => {
  if (!present) return;
  server = await startTestServer({ generator: TINY_GEN });
  root = miniDataRoot();
  out = mkdtempSync(join(tmpdir(), 'medvlm-geneval-e2e-'));
});
afterAll(async () => {
  await server?.close();
  for (const d of [root, out]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!present)('generative grid through the OpenAI-compatible client', () => {
  it('served medvlm-tiny-gen gives the local backend’s predictions item for item', async () => {
    const served = `openai:${server.base}/v1#medvlm-tiny-gen`;
    const s = await runGenerativeEval({
      generators: ['medvlm-tiny-gen', served],
      tasks: ['vqa', 'report-generation'],
      out,
      loadGenerator: (id) => loadGenerator(id, { threads: 1, stream: false, policy: { concurrency: 2, requestBudget: 20 } }),
      loadEncoder: (id) => loadDualEncoder(id, { threads: 1 }),
      dataRoot: root,
      baselines: false,
      concurrency: 2,
      maxTokens: { report: 32 },
      bootstrap: 100,
      textBootstrap: 10,
    });
    expect(s.failed).toEqual([]);
    expect(s.written).toHaveLength(4);
    const read = <T>(model: string, dataset: string, task: string): T => JSON.parse(readFileSync(cellPath(out, { model, dataset, task }), 'utf8')) as T;
    const lv = read<VqaCell>('medvlm-tiny-gen', 'vqa-rad', 'vqa');
    const rv = read<VqaCell>(served, 'vqa-rad', 'vqa');
    expect(rv.items.map((i) => i.prediction)).toEqual(lv.items.map((i) => i.prediction));
    expect(rv.items).toHaveLength(4);
    expect(rv.model).toMatchObject({ kind: 'generator', backend: 'openai', model: 'medvlm-tiny-gen', fileHashes: {} });
    expect(rv.destinations).toMatchObject({ local: 0, loopback: 4, remote: 0 });
    expect(rv.usage?.requests).toBe(4);
    const lr = read<ReportCell>('medvlm-tiny-gen', 'medpix2', 'report-generation');
    const rr = read<ReportCell>(served, 'medpix2', 'report-generation');
    expect(rr.items.map((i) => i.text)).toEqual(lr.items.map((i) => i.text));
    expect(rr.items.every((i) => i.text.length > 0)).toBe(true);
    expect(rr.metrics.text.ciderD.value).toBe(lr.metrics.text.ciderD.value);
    const cs = compareGenerative(loadGenerativeCells(out), served, 'medvlm-tiny-gen');
    expect(cs.map((c) => c.task).sort()).toEqual(['report-generation', 'vqa']);
    for (const c of cs) for (const m of c.metrics) expect([m.metric, m.difference.difference]).toEqual([m.metric, { value: 0, lo: 0, hi: 0 }]);
  });
});
