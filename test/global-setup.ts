/** Runs once before the test suite: builds fixtures that several test files share. */
import { fileURLToPath } from 'node:url';
import { buildDicomCorpus } from './support/dicom-corpus.js';
import { buildTestModels } from './support/onnx/clip-builder.js';

export default async function setup(): Promise<void> {
  // Tiny CLIP + SigLIP (+ a copy without tokenizer files) into test/.models/ (idempotent, < 1 s).
  buildTestModels(fileURLToPath(new URL('./.models/', import.meta.url)));
  // The DICOM reference corpus (dcmtk/gdcm, from real images): built once here rather than inside a test's timeout.
  const corpus = await buildDicomCorpus();
  if ('skipped' in corpus) console.warn(`DICOM corpus not built: ${corpus.skipped}`);
}
