/** The files of a model in a local folder (Node). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hashFolderFiles } from './hashing.js';
import type { ModelFiles } from './model-files.js';

/** Access to the files of a model folder. */
export function folderModelFiles(folder: string): ModelFiles {
  return {
    location: folder,
    exists: async (rel) => existsSync(join(folder, rel)),
    hashes: (rels) => hashFolderFiles(folder, rels),
  };
}
