/** The files of a model, wherever they are: which exist, and their sha256 (platform-free interface). */
import { sha256Hex } from '../core/sha256.js';

/** Access to a model's files by relative path (`config.json`, `onnx/vision_model.onnx`, ...). */
export interface ModelFiles {
  /** Absolute folder, hub cache folder or base URL (for messages and `ModelInfo.location`). */
  location: string;
  exists(relativePath: string): Promise<boolean>;
  /** sha256 (hex) of each file, keyed by relative path. */
  hashes(relativePaths: string[]): Promise<Record<string, string>>;
  /** True for a hub model's cache folder: a file not there yet may still be downloaded. */
  remote?: boolean;
}

/** The files of a model served over HTTP (the browser entry): existence by HEAD, hashes of the fetched bytes. */
export function urlModelFiles(baseUrl: string): ModelFiles {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    location: base,
    async exists(rel) {
      try {
        return (await fetch(new URL(rel, base), { method: 'HEAD' })).ok;
      } catch {
        return false;
      }
    },
    async hashes(rels) {
      const out: Record<string, string> = {};
      for (const rel of [...new Set(rels)].sort()) {
        const res = await fetch(new URL(rel, base));
        if (res.ok) out[rel] = await sha256Hex(new Uint8Array(await res.arrayBuffer()));
      }
      return out;
    },
  };
}
