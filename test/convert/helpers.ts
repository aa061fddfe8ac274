/** Shared helpers of the converter tests: Debian's PyTorch as the independent reference, temp folders. */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's python with torch (not the `python3` on PATH). */
export const PYTHON = '/usr/bin/python3';

/** True when /usr/bin/python3 can import torch and numpy. */
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.log('[skip] converter parity tests: /usr/bin/python3 with torch (Debian python3-torch) is not installed');

/** True when /usr/bin/python3 has Debian's onnx (for onnx.checker). */
export const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

/** ../shared/data relative to the repository. */
export const DATA_DIR = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
/** True when the MedPix images and captions are present. */
export const hasMedpix = existsSync(join(DATA_DIR, 'medpix2', 'manifest.jsonl'));
if (!hasMedpix) console.log(`[skip] converter parity on real images: ${DATA_DIR}medpix2 is absent`);

/** Absolute path of a file in test/convert/. */
export function here(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** A fresh temporary folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `medvlm-${prefix}-`));
}

/** Run a python script of test/convert with arguments; returns stdout. */
export function runPython(script: string, args: string[], timeoutMs = 300_000): string {
  return execFileSync(PYTHON, [here(script), ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 28 });
}
