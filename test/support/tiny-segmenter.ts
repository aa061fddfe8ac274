/** Builds the tiny random text-segmenter graph (test/support/build-tiny-segmenter.py) once per run, or says why it cannot. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PY = '/usr/bin/python3';
let built: { dir?: string; skip?: string } | undefined;

/** Folder of the tiny segmenter, or `skip` with the reason (no Debian python with torch and onnx). */
export function tinySegmenter(): { dir?: string; skip?: string } {
  if (built) return built;
  if (!existsSync(PY)) return (built = { skip: `${PY} not found (apt-get install python3-torch python3-onnx)` });
  const probe = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) return (built = { skip: `${PY} lacks torch/onnx: ${probe.stderr.trim().split('\n').at(-1)}` });
  const dir = mkdtempSync(join(tmpdir(), 'medvlm-tinyseg-'));
  const r = spawnSync(PY, [join(import.meta.dirname, 'build-tiny-segmenter.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-tiny-segmenter.py failed: ${r.stderr}`);
  return (built = { dir });
}
