/** Runs once before the test suite: builds fixtures that several test files share. */
import { fileURLToPath } from 'node:url';
import { buildTestModels } from './support/onnx/clip-builder.js';

export default async function setup(): Promise<void> {
  // Fixture builders register here as they are added (tiny ONNX models, DICOM corpus).
  // Tiny CLIP + SigLIP (+ a copy without tokenizer files) into test/.models/ (idempotent, < 1 s).
  buildTestModels(fileURLToPath(new URL('./.models/', import.meta.url)));
}
