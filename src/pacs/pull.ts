/**
 * `pull`: copy a study from a PACS to a folder, one file per instance named by its SOP instance UID
 * (`OUT/<series UID>/<SOP instance UID>.dcm`), each written to a temporary name and renamed into place.
 * A rerun skips the files already there, so an interrupted pull resumes and never duplicates a file.
 */
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorToJSON, PacsError, type ErrorCode } from '../core/errors.js';
import type { DicomwebClient } from './client.js';
import { isUid, str } from './dicom-json.js';

/** Options of `pullStudy`. */
export interface PullOptions {
  studyUid: string;
  seriesUid?: string;
  outDir: string;
  /** Parallel WADO-RS requests (default 4). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What a pull did. */
export interface PullResult {
  /** Files written by this run. */
  written: string[];
  /** Files already present from an earlier run. */
  skipped: string[];
  failed: Array<{ sopInstanceUid: string; error: { code: ErrorCode; message: string } }>;
}

const PARTIAL = '.partial-';

/** Where an instance lands under `outDir`. */
export function instancePath(outDir: string, seriesUid: string, sopInstanceUid: string): string {
  return join(outDir, seriesUid, `${sopInstanceUid}.dcm`);
}

function removeStalePartials(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (f.includes(PARTIAL)) unlinkSync(join(dir, f));
}

/**
 * Pull every instance of a study (or one series). Connection-level errors (auth, unreachable after
 * retries) end the run and leave only complete files behind; a rerun resumes.
 */
export async function pullStudy(client: DicomwebClient, opts: PullOptions): Promise<PullResult> {
  const found = await client.searchInstances({ studyUid: opts.studyUid, ...(opts.seriesUid ? { seriesUid: opts.seriesUid } : {}) });
  if (found.length === 0) throw new PacsError('E_PACS_NOT_FOUND', `study ${opts.studyUid}${opts.seriesUid ? ` series ${opts.seriesUid}` : ''}: no instances on the server`);
  const todo = found.map((j) => ({ series: str(j, 'SeriesInstanceUID') || opts.seriesUid || '', sop: str(j, 'SOPInstanceUID') }));
  for (const t of todo) {
    if (!isUid(t.series) || !isUid(t.sop)) {
      throw new PacsError('E_PACS_PROTOCOL', `study ${opts.studyUid}: the server listed an instance without valid series/SOP instance UIDs`);
    }
  }
  const result: PullResult = { written: [], skipped: [], failed: [] };
  for (const series of new Set(todo.map((t) => t.series))) {
    await mkdir(join(opts.outDir, series), { recursive: true });
    removeStalePartials(join(opts.outDir, series));
  }
  let next = 0;
  let done = 0;
  let aborted = false;
  const worker = async (): Promise<void> => {
    while (!aborted && next < todo.length) {
      const t = todo[next++];
      const path = instancePath(opts.outDir, t.series, t.sop);
      if (existsSync(path) && statSync(path).size > 0) {
        result.skipped.push(path);
      } else {
        try {
          const bytes = await client.retrieveInstance(opts.studyUid, t.series, t.sop);
          if (bytes.length < 132 || Buffer.from(bytes.subarray(128, 132)).toString('latin1') !== 'DICM') {
            throw new PacsError('E_PACS_PROTOCOL', `pacs:${t.sop}: the server sent something that is not a DICOM Part 10 file`);
          }
          const tmp = `${path}${PARTIAL}${process.pid}`;
          await writeFile(tmp, bytes);
          await rename(tmp, path);
          result.written.push(path);
        } catch (e) {
          const err = errorToJSON(e, `pacs:${t.sop}`);
          if (err.code === 'E_PACS_AUTH' || err.code === 'E_PACS_UNREACHABLE') {
            aborted = true;
            throw e;
          }
          result.failed.push({ sopInstanceUid: t.sop, error: err });
        }
      }
      opts.onProgress?.(++done, todo.length);
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, todo.length));
  // every worker settles before a fatal error is rethrown: no file appears after pullStudy has returned
  const settled = await Promise.allSettled(Array.from({ length: n }, worker));
  const fatal = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (fatal) throw fatal.reason;
  return result;
}
