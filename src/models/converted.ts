/**
 * The record of model folders written by `medvlm convert` (`<cache>/converted-models.json`), so
 * that `medvlm models` can list them wherever they were written. Each folder's own config.json
 * (`medvlm.converted`) stays the source of truth; the record only remembers where folders are.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One converted folder. */
export interface ConvertedEntry {
  /** Absolute folder. */
  path: string;
  /** Recipe name. */
  recipe: string;
  /** Checkpoint file it was converted from. */
  source: string;
  /** ISO time of the conversion. */
  convertedAt: string;
}

/** Path of the record file in a cache folder. */
export function convertedRecordPath(cacheDir: string): string {
  return join(cacheDir, 'converted-models.json');
}

/** Entries of the record (an unreadable record reads as empty). */
export function readConvertedRecord(cacheDir: string): ConvertedEntry[] {
  try {
    const v: unknown = JSON.parse(readFileSync(convertedRecordPath(cacheDir), 'utf8'));
    return Array.isArray(v) ? (v.filter((e) => typeof e?.path === 'string' && typeof e?.recipe === 'string') as ConvertedEntry[]) : [];
  } catch {
    return [];
  }
}

/** Add (or replace, by path) an entry; written through a temporary file. */
export function recordConvertedFolder(cacheDir: string, entry: ConvertedEntry): void {
  const path = resolve(entry.path);
  const entries = [...readConvertedRecord(cacheDir).filter((e) => resolve(e.path) !== path), { ...entry, path }];
  mkdirSync(cacheDir, { recursive: true });
  const file = convertedRecordPath(cacheDir);
  writeFileSync(`${file}.tmp-${process.pid}`, `${JSON.stringify(entries, null, 2)}\n`);
  renameSync(`${file}.tmp-${process.pid}`, file);
}

/** Entries whose folders still exist. */
export function existingConvertedFolders(cacheDir: string): ConvertedEntry[] {
  return readConvertedRecord(cacheDir).filter((e) => existsSync(join(e.path, 'config.json')));
}
