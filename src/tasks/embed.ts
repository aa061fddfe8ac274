import type { DualEncoder } from '../models/capabilities.js';
import { encodeFiles, isFileError, type EncodeFilesOptions, type FileError } from './encode-files.js';

/** One embedding row as written by `medvlm embed` (JSONL) and returned by the API. */
export type EmbeddingRow =
  | { kind: 'image'; file: string; embedding: number[] }
  | { kind: 'text'; text: string; embedding: number[] };

/**
 * L2-normalised embeddings of image files and texts, in one space. Unreadable files come back as
 * `{file, error}` and do not stop the others.
 */
export async function embedInputs(
  encoder: DualEncoder,
  files: string[],
  texts: string[],
  opts: EncodeFilesOptions = {},
): Promise<{ rows: EmbeddingRow[]; errors: FileError[] }> {
  const rows: EmbeddingRow[] = [];
  const errors: FileError[] = [];
  for (const r of await encodeFiles(encoder, files, opts)) {
    if (isFileError(r)) errors.push(r);
    else rows.push({ kind: 'image', file: r.file, embedding: Array.from(r.embedding) });
  }
  if (texts.length) {
    const embs = await encoder.encodeTexts(texts);
    texts.forEach((text, i) => rows.push({ kind: 'text', text, embedding: Array.from(embs[i]) }));
  }
  return { rows, errors };
}
