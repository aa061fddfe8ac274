/** Reading image files from disk (Node). Decoding from bytes is in decode.ts, shared with the browser. */
import { decodeImage } from './decode.js';
import './platform-node.js';
import { readFileBytes } from './read-file.js';
import type { MedicalImage } from './types.js';

export { decodeImage, readFileBytes };
export { fileError } from './read-file.js';

/**
 * Read any supported medical image file into a `MedicalImage` (see {@link decodeImage}).
 * @throws InputError with a stable code that names the file.
 */
export async function readImage(path: string): Promise<MedicalImage> {
  const bytes = await readFileBytes(path);
  return decodeImage(bytes, path);
}

