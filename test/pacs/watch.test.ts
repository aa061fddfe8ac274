/**
 * `watchPacs` against a real Orthanc that is stopped and restarted while it runs: every image series is
 * analysed exactly once (one SR each; a series whose SR Orthanc committed as it stopped is found done after the
 * restart, not analysed again), and a new watcher finds everything done. Run twice: following
 * Orthanc's change log (detected by default) and with QIDO-RS polling (what any other PACS gets).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DualEncoder } from '../../src/models/capabilities.js';
import { loadDualEncoder } from '../../src/models/registry.js';
import { DicomwebClient } from '../../src/pacs/client.js';
import { str } from '../../src/pacs/dicom-json.js';
import { watchPacs, type WatchEvent } from '../../src/pacs/watch.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus, type PacsStudy } from '../support/pacs-corpus.js';

const corpus = await buildDicomCorpus();
const skip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (skip) console.warn(`PACS watch test skipped: ${skip}`);

const LABELS = ['CT scan', 'MRI scan'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait for `cond`; on a loaded machine (the full suite on 2 cores) the analyses after a restart can take minutes. */
async function until(what: string, cond: () => boolean, ms = 150_000, state?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${state ? ` (${state()})` : ''}`);
    await sleep(50);
  }
}

describe.skipIf(Boolean(skip)).each([
  { feed: 'auto' as const, expected: 'orthanc-changes' as const },
  { feed: 'qido' as const, expected: 'qido' as const },
])('medvlm pacs watch with Orthanc restarts (feed $feed)', ({ feed, expected }) => {
  let orthanc: TestOrthanc;
  let work: string;
  let studies: PacsCorpus;
  let client: DicomwebClient;
  let encoder: DualEncoder;

  beforeAll(async () => {
    if ('skipped' in corpus) return;
    work = mkdtempSync(join(tmpdir(), 'medvlm-pacs-watch-'));
    studies = buildPacsCorpus(corpus, join(work, 'upload'));
    orthanc = await startOrthanc();
    client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password }, retries: 1, backoffMs: 20, timeoutMs: 5_000 });
    encoder = await loadDualEncoder('medvlm-tiny', { offline: true, threads: 1 });
  });

  afterAll(async () => {
    await encoder?.dispose();
    await client?.close();
    await orthanc?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const upload = (s: PacsStudy) => client.store(s.files.map((f) => readFileSync(f.file)), s.studyUid);
  const srCount = async (s: PacsStudy) => (await client.searchInstances({ studyUid: s.studyUid, modality: 'SR' })).length;

  it('analyses each series once across an Orthanc restart; a second watcher repeats nothing', { timeout: 480_000 }, async () => {
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const syntaxSeries = new Set(studies.syntaxes.files.map((f) => f.seriesUid)).size;
    const analysed = (s: PacsStudy) => events.filter((e) => e.kind === 'analysed' && e.studyUid === s.studyUid).length;
    // A series whose SR Orthanc committed just as it was stopped (the answer lost) is found done after the restart:
    // 'already-done', not analysed again. Done = analysed or found done; the SR count below proves one SR each.
    const doneSeries = (s: PacsStudy) => new Set(events.filter((e) => (e.kind === 'analysed' || e.kind === 'already-done') && e.studyUid === s.studyUid).map((e) => (e as { seriesUid: string }).seriesUid)).size;
    const running = watchPacs(client, encoder, { feed, labels: LABELS, intervalMs: 150, maxBackoffMs: 600, signal: stop.signal, onEvent: (e) => events.push(e) });
    try {
      await upload(studies.multiFrame);
      await until('the multi-frame series to be analysed', () => analysed(studies.multiFrame) === 1);

      // 13 series: stop Orthanc while the watcher is part-way through them
      await upload(studies.syntaxes);
      await until('two series of the multi-series study', () => analysed(studies.syntaxes) >= 2);
      await orthanc.stop();
      const cut = analysed(studies.syntaxes);
      await until('a failed poll while Orthanc is down', () => events.some((e) => e.kind === 'poll-failed'));
      await orthanc.start();
      const counts = () => Object.entries(events.reduce<Record<string, number>>((a, e) => ({ ...a, [e.kind]: (a[e.kind] ?? 0) + 1 }), {})).map(([k, n]) => `${k} ${n}`).join(', ');
      await until('every series of the multi-series study', () => doneSeries(studies.syntaxes) === syntaxSeries, 150_000, () => `${doneSeries(studies.syntaxes)} of ${syntaxSeries} done; events: ${counts()}`);
      expect(cut).toBeLessThan(syntaxSeries);
      await upload(studies.corrupt);
      await until('the corrupt study to be analysed after the restart', () => analysed(studies.corrupt) === 1);
      const polls = events.filter((e) => e.kind === 'poll').length;
      await until('three more polls', () => events.filter((e) => e.kind === 'poll').length >= polls + 3);
    } finally {
      stop.abort();
      await running;
    }
    expect(events.filter((e) => e.kind === 'feed').map((e) => (e as { feed: string }).feed)).toEqual([expected]);
    expect(analysed(studies.multiFrame)).toBe(1);
    expect(analysed(studies.corrupt)).toBe(1);
    const perSeries = new Map<string, number>();
    for (const e of events) if (e.kind === 'analysed' || e.kind === 'already-done') perSeries.set(e.seriesUid, (perSeries.get(e.seriesUid) ?? 0) + 1);
    expect([...perSeries.values()].every((n) => n === 1)).toBe(true); // each series analysed (or found done) once
    expect(perSeries.size).toBe(syntaxSeries + 2);
    expect(await srCount(studies.syntaxes)).toBe(syntaxSeries);
    const corruptEvent = events.find((e) => e.kind === 'analysed' && e.studyUid === studies.corrupt.studyUid);
    expect(corruptEvent).toMatchObject({ images: studies.corrupt.files.length - 1, failed: 1, sr: { status: 'stored' } });
    expect(await srCount(studies.multiFrame)).toBe(1);
    expect(await srCount(studies.corrupt)).toBe(1);

    // A fresh watcher (a restarted medvlm) finds both series done from the PACS alone.
    const again: WatchEvent[] = [];
    await watchPacs(client, encoder, { feed, labels: LABELS, intervalMs: 50, maxPolls: 2, onEvent: (e) => again.push(e) });
    expect(again.filter((e) => e.kind === 'analysed')).toEqual([]);
    expect(again.filter((e) => e.kind === 'already-done').map((e) => (e as { seriesUid: string }).seriesUid).sort()).toEqual([...perSeries.keys()].sort());
    // The SR series are not watched themselves.
    const srSeries = await client.searchSeries({ modality: 'SR' });
    expect(srSeries.map((j) => str(j, 'Modality'))).toEqual(new Array(syntaxSeries + 2).fill('SR'));
  });

  it('wrong credentials end the watch with E_PACS_AUTH at once', async () => {
    const bad = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: 'nope' }, retries: 3 });
    try {
      await expect(watchPacs(bad, encoder, { feed, labels: LABELS, intervalMs: 50, maxPolls: 5 })).rejects.toMatchObject({ code: 'E_PACS_AUTH' });
      expect(bad.http.stats.requests).toBe(1);
    } finally {
      await bad.close();
    }
  });
});
