/**
 * The one call a worker makes per job: encode a batch with the same function `addToIndex` uses, and
 * put the result in wire form. Kept apart so that the batch path can be swapped in one place.
 */
import type { DualEncoder } from '../models/capabilities.js';
import { encodeIndexBatch } from '../tasks/index-batch.js';
import { entryToWire, type EncodeJobData, type EncodeJobResult } from './jobs.js';

/** Encode the files of one job. Files that cannot be read or decoded come back in `errors`. */
export async function encodeJob(encoder: DualEncoder, data: EncodeJobData): Promise<EncodeJobResult> {
  const batch = await encodeIndexBatch(encoder, data.items, data.view);
  return { entries: batch.entries.map(entryToWire), errors: batch.errors };
}
