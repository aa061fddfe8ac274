/**
 * Text manifests (`--text-from manifest.jsonl`): one JSON object per image with `image` (a path relative
 * to the manifest) and free-text fields (`caption`, `findings`, ...) plus metadata (`modality`,
 * `location`, `split`, ...). The MedPix 2.0 manifest is the reference example.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { inputError } from '../core/errors.js';

/** Report-like fields taken as the entry's texts, in this order, unless the caller names others. */
export const DEFAULT_TEXT_FIELDS = ['caption', 'findings', 'impression', 'report', 'text'] as const;

/** Metadata of one image, in the index's column names. */
export interface EntryMetadata {
  modality?: string;
  body_part?: string;
  plane?: string;
  split?: string;
  case_id?: string;
  labels?: string[];
}

/** One manifest row, resolved. */
export interface ManifestRecord {
  /** Absolute path of the image. */
  path: string;
  /** Texts by field name (non-empty, placeholders dropped). */
  texts: Record<string, string>;
  metadata: EntryMetadata;
  /** The whole JSON object as written in the manifest. */
  raw: Record<string, unknown>;
}

/** MedPix's placeholder captions ("Replace this – DESCRIPTION ...") carry no content. */
export function isPlaceholderText(s: string): boolean {
  return /^\s*replace this\b/i.test(s) || s.trim().length === 0;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim().length) return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

/** Map a manifest object's fields onto the index's metadata columns. */
export function metadataFromRecord(raw: Record<string, unknown>): EntryMetadata {
  // MedPix: `type` is CT/MR while `modality` is e.g. "CT - noncontrast"; the short form filters better.
  const modality = str(raw.type) ?? str(raw.modality);
  const labelsRaw = raw.labels ?? raw.label;
  const labels = Array.isArray(labelsRaw) ? labelsRaw.map(String).filter((l) => l.length) : str(labelsRaw) ? [String(labelsRaw)] : undefined;
  const meta: EntryMetadata = {};
  if (modality) meta.modality = modality;
  const body = str(raw.body_part) ?? str(raw.location_category) ?? str(raw.location) ?? str(raw.organ) ?? str(raw.image_organ);
  if (body) meta.body_part = body;
  const plane = str(raw.plane);
  if (plane) meta.plane = plane;
  const split = str(raw.split);
  if (split) meta.split = split;
  const caseId = str(raw.case_id);
  if (caseId) meta.case_id = caseId;
  if (labels?.length) meta.labels = labels;
  return meta;
}

/**
 * Read a JSONL manifest. Blank lines are skipped; every other line must be an object with a string
 * `image`.
 * @throws InputError E_INDEX_INVALID naming the manifest and line.
 */
export function readManifest(file: string, textFields: readonly string[] = DEFAULT_TEXT_FIELDS): ManifestRecord[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw inputError('E_FILE_NOT_FOUND', file, 'no such manifest file');
    throw inputError('E_FILE_NOT_FOUND', file, `cannot read manifest: ${(e as Error).message}`, e);
  }
  const base = dirname(resolve(file));
  const out: ManifestRecord[] = [];
  content.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw inputError('E_INDEX_INVALID', file, `line ${i + 1}: not valid JSON`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || typeof (raw as { image?: unknown }).image !== 'string') {
      throw inputError('E_INDEX_INVALID', file, `line ${i + 1}: expected an object with a string "image" field`);
    }
    const rec = raw as Record<string, unknown>;
    const texts: Record<string, string> = {};
    for (const f of textFields) {
      const t = str(rec[f]);
      if (t && !isPlaceholderText(t)) texts[f] = t.replace(/\s+/g, ' ');
    }
    out.push({ path: resolve(base, rec.image as string), texts, metadata: metadataFromRecord(rec), raw: rec });
  });
  return out;
}
