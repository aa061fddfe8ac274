import { stat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/** Endings of files taken from folders; extension-less files are taken too (DICOM often has none). */
const IMAGE_FILE = /\.(dcm|dicom|dic|ima|nii|nii\.gz|png|jpe?g|tiff?|webp)$/i;

/** One input the user named that produced no file (missing path, empty glob). */
export interface InputProblem {
  input: string;
  code: 'E_FILE_NOT_FOUND';
  message: string;
}

/**
 * Expand what the user typed (files, folders searched recursively, glob patterns) into a sorted,
 * de-duplicated list of files. Explicit files are always kept, whatever their name; from folders and
 * globs only image-like names (and extension-less files) are taken; hidden files are skipped.
 */
export async function expandInputs(inputs: string[]): Promise<{ files: string[]; problems: InputProblem[] }> {
  const files: string[] = [];
  const problems: InputProblem[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => undefined);
    if (info?.isFile()) {
      files.push(input);
    } else if (info?.isDirectory()) {
      files.push(...(await walk(input)));
    } else if (isDynamicPattern(input)) {
      const found = (await glob(input, { onlyFiles: true, dot: false })).filter(isImageLike).sort();
      if (found.length === 0) problems.push({ input, code: 'E_FILE_NOT_FOUND', message: `${input}: pattern matched no image files` });
      files.push(...found);
    } else {
      problems.push({ input, code: 'E_FILE_NOT_FOUND', message: `${input}: no such file or folder` });
    }
  }
  const seen = new Set<string>();
  const unique = files.filter((f) => {
    const key = resolve(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { files: unique, problems };
}

function isImageLike(path: string): boolean {
  const name = path.split(/[\\/]/).pop() ?? path;
  if (name.startsWith('.')) return false;
  return IMAGE_FILE.test(name) || !name.includes('.');
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() && isImageLike(p)) out.push(p);
  }
  return out;
}
