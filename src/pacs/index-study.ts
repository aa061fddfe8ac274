/**
 * `pacs index`: add the images of a PACS study to a medvlm similar-case index, keyed by their WADO-RS
 * address (server root + study/series/instance UIDs, never credentials). Instances already in the index are
 * not retrieved again (a SOP instance's content never changes under its UID), so a rerun only adds new ones.
 */
import type { CaseIndex, IndexEntry } from '../index-store/store.js';
import type { DualEncoder } from '../models/capabilities.js';
import { embedStudy, imageSeries, listInstances, type InstanceFailure, type InstanceRef, type PacsEmbedOptions } from './classify.js';
import type { DicomwebClient } from './client.js';

/** What `indexStudy` did. */
export interface PacsIndexResult {
  added: string[];
  /** Keys of instances that were already in the index. */
  skipped: string[];
  failed: InstanceFailure[];
}

/** The index key of a PACS instance: its WADO-RS URL without credentials. */
export function instanceKey(client: DicomwebClient, ref: Pick<InstanceRef, 'studyUid' | 'seriesUid' | 'sopInstanceUid'>): string {
  return client.http.describe(`/studies/${ref.studyUid}/series/${ref.seriesUid}/instances/${ref.sopInstanceUid}`);
}

/** Embed the image instances of a study (or series) not yet in `index` and upsert them. */
export async function indexStudy(client: DicomwebClient, encoder: DualEncoder, index: CaseIndex, opts: Omit<PacsEmbedOptions, 'exclude'>): Promise<PacsIndexResult> {
  const series = await imageSeries(client, opts.studyUid, opts.seriesUid);
  const refs = (await Promise.all(series.map((s) => listInstances(client, opts.studyUid, s.seriesUid)))).flat();
  const known = await index.hashes(refs.map((r) => instanceKey(client, r)));
  const embedded = await embedStudy(client, encoder, { ...opts, exclude: (r) => known.has(instanceKey(client, r)) });
  const entries: IndexEntry[] = embedded.flatMap((s) =>
    s.results.map((r) => ({
      path: instanceKey(client, r.instance),
      hash: r.sha256,
      vector: r.embedding,
      metadata: s.modality ? { modality: s.modality } : {},
      texts: [],
      dicom: { studyUid: r.instance.studyUid, seriesUid: r.instance.seriesUid, sopUid: r.instance.sopInstanceUid },
    })),
  );
  await index.upsert(entries);
  if (entries.length) await index.optimize({ ann: 'auto' });
  return { added: entries.map((e) => e.path), skipped: [...known.keys()], failed: embedded.flatMap((s) => s.failed) };
}
