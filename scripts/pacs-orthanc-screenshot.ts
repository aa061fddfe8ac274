/**
 * Screenshots of a medvlm SR stored in Orthanc: Orthanc Explorer showing the SR series in its source study
 * (docs/pacs-orthanc-study-with-sr.png), and the SR as a document: the SR fetched back from Orthanc over
 * WADO-RS, rendered by dcmtk's dsr2html (docs/pacs-sr-document.html) and photographed by headless Chromium
 * (docs/pacs-sr-document.png). Orthanc Explorer 1.10 has no SR renderer, and Debian ships no viewer plugin
 * that renders SR (orthanc-webviewer shows images only), so medvlm also stores the SR's PDF rendition
 * (`--pdf`): Explorer lists it in the study (docs/pacs-orthanc-study-with-sr.png) and its "Preview the
 * instance" opens Orthanc's `/instances/{id}/pdf`, which this script fetches and rasterises with poppler's
 * pdftoppm (docs/pacs-orthanc-pdf.png; headless Chromium has no PDF viewer to photograph).
 * Needs Debian's orthanc, orthanc-dicomweb, dcmtk, poppler-utils and chromium, gdcm and ../shared/data.
 * Run: npx tsx scripts/pacs-orthanc-screenshot.ts
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildDicomCorpus } from '../test/support/dicom-corpus.js';
import { buildPacsCorpus } from '../test/support/pacs-corpus.js';
import { startOrthanc } from '../test/support/orthanc.js';
import { DicomwebClient } from '../src/pacs/client.js';
import { classifyStudy } from '../src/pacs/classify.js';
import { storeSeriesSr } from '../src/pacs/store-results.js';
import { loadDualEncoder } from '../src/models/registry.js';
const corpus = await buildDicomCorpus();
if ('skipped' in corpus) throw new Error(corpus.skipped);
const work = mkdtempSync(join(tmpdir(), 'medvlm-shot-'));
const pc = buildPacsCorpus(corpus, work);
const o = await startOrthanc();
try {
  const c = new DicomwebClient({ url: o.dicomWebUrl, auth: { kind: 'basic', user: o.user, password: o.password } });
  await c.store(pc.corrupt.files.map((f) => readFileSync(f.file)), pc.corrupt.studyUid);
  const enc = await loadDualEncoder('medvlm-tiny', { offline: true });
  const [s] = await classifyStudy(c, enc, { studyUid: pc.corrupt.studyUid, labels: ['CT scan', 'MRI scan', 'X-ray'] });
  const r = await storeSeriesSr(c, s, { model: enc.info, labels: ['CT scan', 'MRI scan', 'X-ray'], templates: 'medical', pdf: true });
  const look = await o.rest<Array<{ ID: string; Type: string }>>('/tools/lookup', { method: 'POST', body: r.srInstanceUid });
  const inst = look[0].ID;
  const study = (await o.rest<Array<{ ID: string }>>('/tools/lookup', { method: 'POST', body: pc.corrupt.studyUid }))[0].ID;
  for (const [name, hash] of [['pacs-orthanc-study-with-sr', `#study?uuid=${study}`]]) {
    const url = `http://${o.user}:${o.password}@127.0.0.1:${o.httpPort}/app/explorer.html${hash}`;
    execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--virtual-time-budget=15000', '--window-size=1100,700', `--screenshot=docs/${name}.png`, url], { stdio: 'inherit', timeout: 60000 });
  }
  console.log(`SR ${r.srInstanceUid} (Orthanc id ${inst}) in study ${pc.corrupt.studyUid}: docs/pacs-orthanc-study-with-sr.png`);
  // the PDF rendition as Orthanc serves it to Explorer's "Preview the instance"
  const pdfId = (await o.rest<Array<{ ID: string }>>('/tools/lookup', { method: 'POST', body: r.pdf!.sopInstanceUid }))[0].ID;
  const res = await fetch(`${o.httpUrl}/instances/${pdfId}/pdf`, { headers: { authorization: `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}` } });
  if (res.status !== 200 || res.headers.get('content-type') !== 'application/pdf') throw new Error(`Orthanc /instances/${pdfId}/pdf answered ${res.status} ${res.headers.get('content-type')}`);
  const pdfFile = join(work, 'report.pdf');
  writeFileSync(pdfFile, new Uint8Array(await res.arrayBuffer()));
  execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', pdfFile, 'docs/pacs-orthanc-pdf'], { stdio: 'inherit' });
  console.log(`PDF rendition ${r.pdf!.sopInstanceUid} served by Orthanc at /instances/${pdfId}/pdf: docs/pacs-orthanc-pdf.png`);
  // the SR as a document: fetched back from Orthanc (WADO-RS), rendered by dsr2html, photographed
  const stored = await c.retrieveInstance(pc.corrupt.studyUid, r.srSeriesUid, r.srInstanceUid);
  const srFile = join(work, 'sr.dcm');
  writeFileSync(srFile, stored);
  execFileSync('dsr2html', ['+U8', '+X1', '+Sf', 'scripts/sr-document.css', srFile, 'docs/pacs-sr-document.html'], { stdio: 'inherit' });
  execFileSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1000,1400', '--screenshot=docs/pacs-sr-document.png', `file://${join(process.cwd(), 'docs/pacs-sr-document.html')}`], { stdio: 'inherit', timeout: 60000 });
  console.log(`SR ${r.srInstanceUid} fetched back over WADO-RS (${stored.length} bytes), rendered by dsr2html: docs/pacs-sr-document.html, docs/pacs-sr-document.png`);
  await enc.dispose(); await c.close();
} finally {
  await o.dispose();
  rmSync(work, { recursive: true, force: true });
}
