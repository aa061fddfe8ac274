/** Builds the tiny random CLIPSeg (test/support/build-tiny-clipseg.py) and its PyTorch reference once per run, or says why it cannot. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PY = '/usr/bin/python3';
let built: { dir?: string; skip?: string } | undefined;

/** Folder of the tiny CLIPSeg (with image.png and reference.json), or `skip` with the reason. */
export function tinyClipseg(): { dir?: string; skip?: string } {
  if (built) return built;
  if (!existsSync(PY)) return (built = { skip: `${PY} not found (apt-get install python3-torch python3-onnx python3-pil)` });
  const probe = spawnSync(PY, ['-c', 'import torch, onnx, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0) return (built = { skip: `${PY} lacks torch/onnx/PIL: ${probe.stderr.trim().split('\n').at(-1)}` });
  const dir = mkdtempSync(join(tmpdir(), 'medvlm-tinyclipseg-'));
  const r = spawnSync(PY, [join(import.meta.dirname, 'build-tiny-clipseg.py'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-tiny-clipseg.py failed: ${r.stderr}`);
  return (built = { dir });
}
