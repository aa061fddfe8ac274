/**
 * The built package as a user imports it: every subpath export resolves (types too), and
 * `pipeline()` from 'medvlm' gives exactly the scores `medvlm classify --json` prints.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { medvlm, ROOT } from '../cli/helpers.js';

// inside the package folder, so that 'medvlm' resolves to this package (self-reference through "exports")
const DIR = join(ROOT, 'test/.corpus/package');
const SAMPLE = join(ROOT, 'samples/vqarad-head-ct-1.jpg');

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'ignore' });
  mkdirSync(DIR, { recursive: true });
}, 300_000);

describe('package exports', () => {
  it('a plain Node script imports every entry and classifies bytes like the CLI', () => {
    const script = join(DIR, 'consumer.mjs');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { pipeline, RESULT_SCHEMAS, PIPELINE_TASKS } from 'medvlm';
import { readImage } from 'medvlm/io';
import { toModelView } from 'medvlm/transforms';
import { rocAucBinary } from 'medvlm/metrics';
import { listDatasets } from 'medvlm/eval';
import { CaseIndex, addToIndexFolder } from 'medvlm/index';
const classify = await pipeline('zero-shot-image-classification');
const labels = await classify(new Uint8Array(readFileSync(${JSON.stringify(SAMPLE)})), ['chest', 'head', 'abdomen']);
await classify.dispose();
const view = toModelView(await readImage(${JSON.stringify(SAMPLE)}));
console.log(JSON.stringify({ labels, tasks: PIPELINE_TASKS, schemas: Object.keys(RESULT_SCHEMAS).length, auc: rocAucBinary([0, 1], [0.2, 0.9]),
  view: [view.width, view.height], fns: [typeof listDatasets, typeof CaseIndex, typeof addToIndexFolder] }));
`,
    );
    const r = spawnSync(process.execPath, [script], { cwd: DIR, encoding: 'utf8', env: { ...process.env, MEDVLM_OFFLINE: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { labels: unknown; tasks: string[]; schemas: number; auc: number; view: number[]; fns: string[] };
    const cli = medvlm(['classify', SAMPLE, '--labels', 'chest,head,abdomen', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(got.labels).toEqual((JSON.parse(cli.stdout) as Array<{ labels: unknown }>)[0].labels);
    expect(got.tasks).toContain('zero-shot-image-classification');
    expect(got.schemas).toBeGreaterThanOrEqual(10);
    expect(got.auc).toBe(1);
    expect(got.fns).toEqual(['function', 'function', 'function']);
  });

  it('the type declarations of every entry resolve for a TypeScript user (NodeNext, strict)', () => {
    const file = join(DIR, 'consumer.ts');
    writeFileSync(
      file,
      `import { pipeline, type LabelScore, type ClassifyResult, type FileError } from 'medvlm';
import { decodeImage, type MedicalImage } from 'medvlm/io';
import { toModelView, type ViewOptions } from 'medvlm/transforms';
import { classificationReport } from 'medvlm/metrics';
import { runEval } from 'medvlm/eval';
import { searchIndex, type IndexHit } from 'medvlm/index';
import { pipeline as browserPipeline, decodeImage as decodeInBrowser } from 'medvlm/browser';
export async function main(bytes: Uint8Array): Promise<LabelScore[]> {
  const classify = await pipeline('zero-shot-image-classification');
  const one: LabelScore[] = await classify(bytes, ['chest', 'head']);
  const many: Array<ClassifyResult | FileError> = await classify([bytes, 'x.dcm'], 'a,b');
  const img: MedicalImage = await decodeImage(bytes, 'x');
  const view: ViewOptions = { window: { kind: 'auto' } };
  void [many, toModelView(img, view), classificationReport, runEval, searchIndex, browserPipeline, decodeInBrowser];
  const hits: IndexHit[] = [];
  void hits;
  return one;
}
`,
    );
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', file], { cwd: DIR, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
