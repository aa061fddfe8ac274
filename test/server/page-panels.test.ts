/**
 * The page's newer parts in a real Chromium (Debian's, through playwright-core), against real servers:
 * several files dropped at once are grouped into series by SeriesInstanceUID (an unreadable file left
 * out), "Classify all" fills a thumbnail gallery whose series score is the mean of the server's
 * per-image scores (and runs in the page without uploading in browser mode); the prompt ensemble
 * edited on the page reaches the server; closed questions answer as /v1/ask; a server job runs with
 * progress; the PACS panel browses a real Orthanc through the server, opens a series in the viewer and
 * stores an SR; on a keyed server the page needs a sign-in that gives an HttpOnly session cookie.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebClient } from '../../src/pacs/client.js';
import { str } from '../../src/pacs/dicom-json.js';
import { bundleWebPage } from '../../src/server/web-bundle.js';
import { ROOT } from '../cli/helpers.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { buildPacsCorpus, type PacsCorpus } from '../support/pacs-corpus.js';
import { form, startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`page panel tests skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
const corpus = await buildDicomCorpus();
const pacsSkip = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (pacsSkip) console.warn(`page panel DICOM series and PACS checks skipped: ${pacsSkip}`);
const JPEG = join(ROOT, 'samples/vqarad-chest-xray-1.jpg');
const LABELS = 'chest x-ray, head CT, abdomen CT, brain MRI';
const SAMPLES = readdirSync(join(ROOT, 'samples')).filter((f) => /\.(png|jpg)$/.test(f));

const TOP = mkdtempSync(join(tmpdir(), 'medvlm-page-panels-'));
const DATA = join(TOP, 'data');
let server: TestServer;
let orthanc: TestOrthanc | undefined;
let client: DicomwebClient | undefined;
let studies: PacsCorpus | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  mkdirSync(join(DATA, 'set'), { recursive: true });
  for (const f of SAMPLES) copyFileSync(join(ROOT, 'samples', f), join(DATA, 'set', f));
  if (!pacsSkip && !('skipped' in corpus)) {
    studies = buildPacsCorpus(corpus, join(TOP, 'upload'));
    orthanc = await startOrthanc();
    client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password } });
    for (const s of [studies.multiFrame, studies.corrupt]) await client.store(s.files.map((f) => readFileSync(f.file)), s.studyUid);
  }
  server = await startTestServer({ dataRoot: DATA, web: { bundleDir: await bundleWebPage(join(TOP, 'web')) }, ...(client ? { pacs: { url: orthanc!.dicomWebUrl, client } } : {}) });
}, 300_000);
afterAll(async () => {
  await server?.close();
  await client?.close();
  await orthanc?.dispose();
  rmSync(TOP, { recursive: true, force: true });
});

type Page = import('playwright-core').Page;
type Browser = import('playwright-core').Browser;

async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}

async function dropFiles(page: Page, files: string[]): Promise<void> {
  const payload = files.map((f) => ({ bytes: Array.from(readFileSync(f)), name: f.split('/').pop()! }));
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const { bytes, name } of list) dt.items.add(new File([new Uint8Array(bytes)], name));
    return dt;
  }, payload);
  await page.evaluate(() => delete document.body.dataset.groups);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.body.dataset.groups !== undefined, undefined, { timeout: 60_000 });
}

async function serverScores(file: string, fields: Record<string, string>): Promise<Array<{ label: string; score: number }>> {
  const r = await fetch(`${server.base}/v1/classify`, { method: 'POST', body: form(readFileSync(file), file.split('/').pop()!, { labels: LABELS, ...fields }) });
  return ((await r.json()) as { labels: Array<{ label: string; score: number }> }).labels;
}

const cards = (page: Page) => page.$$eval('#gallery .card', (els) => els.map((e) => ({ key: (e as HTMLElement).dataset.key!, label: (e.querySelector('.top') as HTMLElement).dataset.label, score: Number((e.querySelector('.top') as HTMLElement).dataset.score), notice: e.querySelector('.ru')?.textContent ?? '' })));

describe.skipIf(!hasChromium)('the page panels in Chromium', () => {
  it('series, gallery, ensemble, questions, jobs and PACS', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const consoleErrors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && consoleErrors.push(m.text()));
      await page.goto(`${server.base}/`);
      await page.waitForFunction(() => document.body.dataset.ready === 'yes');
      await page.fill('#labels', LABELS);

      // several files at once: a DICOM series of 3 good instances + 1 corrupt one, and a JPEG
      const series = studies ? studies.corrupt.files : [];
      await dropFiles(page, [...series.map((f) => f.file), JPEG]);
      const expectedGroups = studies ? 2 : 1;
      expect(await page.evaluate(() => document.body.dataset.groups)).toBe(String(expectedGroups));
      if (studies) expect(await page.textContent('#status')).toMatch(/1 file\(s\) could not be read/);

      await page.check('input[name=mode][value=server]');
      await page.click('#classifyAll');
      await page.waitForFunction(() => document.body.dataset.batch === 'done', undefined, { timeout: 120_000 });
      const shown = await cards(page);
      expect(shown).toHaveLength(expectedGroups);
      for (const c of shown) expect(c.notice).toMatch(/Research use only/);
      const jpegCard = shown.find((c) => c.key === 'file:vqarad-chest-xray-1.jpg')!;
      const jpegScores = await serverScores(JPEG, {});
      expect(jpegCard.label).toBe(jpegScores[0].label);
      expect(Math.abs(jpegCard.score - jpegScores[0].score)).toBeLessThan(1e-6);
      if (studies) {
        const good = series.filter((f) => !studies!.corrupt.corruptUids.includes(f.sopInstanceUid));
        const per = await Promise.all(good.map((f) => serverScores(f.file, {})));
        const seriesCard = shown.find((c) => c.key === `series:${good[0].seriesUid}`)!;
        const mean = per.reduce((sum, list) => sum + list.find((l) => l.label === seriesCard.label)!.score, 0) / per.length;
        expect(Math.abs(seriesCard.score - mean)).toBeLessThan(1e-6);
        expect(await page.textContent('#frameKind')).toBe('Instance');
      }
      await page.screenshot({ path: join(ROOT, 'docs/serve-gallery.png') });

      // in this browser: the same batch, no upload
      const logBefore = server.log.length;
      await page.check('input[name=mode][value=browser]');
      await page.click('#classifyAll');
      await page.waitForFunction(() => document.body.dataset.batch === 'done', undefined, { timeout: 180_000 });
      const during = server.log.slice(logBefore).map((l) => JSON.parse(l) as { method: string; route: string; bytesIn: number });
      expect(during.filter((r) => !['GET', 'HEAD'].includes(r.method) || r.route.startsWith('/v1/') || r.bytesIn > 0)).toEqual([]);
      // the same best label and score per card as on the server (medvlm's own resize in both: |Δ| ≤ 1e-4)
      const inPage = await cards(page);
      for (const c of shown) {
        const b = inPage.find((x) => x.key === c.key)!;
        expect(b.label).toBe(c.label);
        expect(Math.abs(b.score - c.score)).toBeLessThanOrEqual(1e-4);
      }
      await page.check('input[name=mode][value=server]');

      // the prompt ensemble edited on the page reaches the server
      await page.click(`#gallery .card[data-key="${jpegCard.key}"]`);
      await page.waitForFunction(() => document.body.dataset.loaded === 'vqarad-chest-xray-1.jpg');
      await page.click('#ensemble summary');
      await page.selectOption('#templateSet', 'plain');
      await page.waitForFunction(() => document.body.dataset.templates === 'plain');
      await page.fill('#templates', 'a radiology image of {}\nan example of {}');
      await page.click('#classify');
      await page.waitForFunction(() => document.body.dataset.done === 'server');
      const onPage = await page.$$eval('#chart .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label!, score: Number((r as HTMLElement).dataset.score) })));
      expect(onPage).toEqual(await serverScores(JPEG, { templates: 'a radiology image of {}\nan example of {}' }));
      expect(onPage).not.toEqual(jpegScores);
      expect(await page.textContent('#chart')).toMatch(/Research use only/);

      // closed question
      await page.fill('#question', 'Is this a chest x-ray?');
      await page.click('#ask');
      await page.waitForFunction(() => document.body.dataset.answered !== undefined);
      const asked = (await (await fetch(`${server.base}/v1/ask`, { method: 'POST', body: form(readFileSync(JPEG), 'q.jpg', { question: 'Is this a chest x-ray?' }) })).json()) as { answer: string };
      expect(await page.evaluate(() => document.body.dataset.answered)).toBe(asked.answer);
      expect(await page.textContent('#answer')).toMatch(/Research use only/);

      // a server job on the data root, with progress
      await page.selectOption('#jobKind', 'classify-folder');
      await page.fill('#jobPath', 'set');
      await page.click('#jobStart');
      await page.waitForFunction(() => document.body.dataset.job === 'done', undefined, { timeout: 120_000 });
      expect(await page.$$eval('#jobResult tr', (rows) => rows.length)).toBe(SAMPLES.length);
      expect(await page.textContent('#jobStatus')).toContain(`done, ${SAMPLES.length} / ${SAMPLES.length}`);

      // "open a folder": every image of it, one gallery card each
      await page.evaluate(() => delete document.body.dataset.groups);
      await page.setInputFiles('#folder', join(DATA, 'set'));
      await page.waitForFunction(() => document.body.dataset.groups !== undefined, undefined, { timeout: 60_000 });
      expect(await page.evaluate(() => document.body.dataset.groups)).toBe(String(SAMPLES.length));
      expect(await page.$$eval('#gallery .card', (els) => els.map((e) => (e as HTMLElement).dataset.key))).toEqual(expect.arrayContaining(SAMPLES.map((f) => `file:set/${f}`)));

      if (studies && client) {
        // the PACS panel: browse, open a series in the viewer, analyse, store the SR
        await page.click('#pacsSearch');
        await page.waitForFunction(() => document.body.dataset.pacsStudies !== undefined);
        expect(await page.evaluate(() => document.body.dataset.pacsStudies)).toBe('2');
        await page.click(`#pacsStudies tr[data-key="${studies.multiFrame.studyUid}"]`);
        await page.waitForFunction(() => document.body.dataset.pacsSeries !== undefined);
        const seriesUid = studies.multiFrame.files[0].seriesUid;
        await page.evaluate(() => delete document.body.dataset.loaded);
        await page.click(`#pacsSeries tr[data-key="${seriesUid}"]`);
        await page.waitForFunction(() => document.body.dataset.loaded !== undefined, undefined, { timeout: 60_000 });
        expect(await page.evaluate(() => document.body.dataset.failed)).toBeUndefined();
        await page.check('#pacsStore');
        await page.click('#pacsAnalyse');
        await page.waitForFunction(() => document.body.dataset.pacsDone !== undefined, undefined, { timeout: 120_000 });
        expect(await page.evaluate(() => document.body.dataset.pacsDone), await page.textContent('#pacsResult') ?? '').toBe('stored');
        expect(await page.textContent('#pacsResult')).toMatch(/Research use only/);
        const srs = (await client.searchSeries({ studyUid: studies.multiFrame.studyUid })).filter((d) => str(d, 'Modality') === 'SR');
        expect(srs).toHaveLength(1);
        await page.screenshot({ path: join(ROOT, 'docs/serve-pacs.png') });
        const html = await page.content();
        expect(html).not.toContain(orthanc!.dicomWebUrl);
        expect(html).not.toContain(orthanc!.password);
      }
      expect(consoleErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 600_000);

  it('on a keyed server the page needs a sign-in; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const key = 'page-key-0123456789abcdef';
    const keyed = await startTestServer({ apiKeys: [key], web: { bundleDir: join(TOP, 'web') } });
    const browser = await launch();
    try {
      expect((await fetch(`${keyed.base}/app/page.js`)).status).toBe(401);
      expect((await fetch(`${keyed.base}/model/config.json`)).status).toBe(401);
      expect((await fetch(`${keyed.base}/templates/medical.json`)).status).toBe(401);
      expect((await fetch(`${keyed.base}/v1/session`, { method: 'POST', headers: { authorization: 'Bearer wrong-key-0123456789' } })).status).toBe(401);
      const page = await browser.newPage();
      await page.goto(`${keyed.base}/`);
      expect(await page.$('#canvas')).toBeNull();
      await page.fill('#key', 'not-the-key-0123456789');
      await page.click('#signin');
      await page.waitForFunction(() => document.getElementById('status')?.textContent !== '');
      expect(await page.textContent('#status')).toMatch(/not valid/);
      await page.fill('#key', key);
      await Promise.all([page.waitForEvent('load'), page.click('#signin')]);
      await page.waitForFunction(() => document.body.dataset.ready === 'yes');
      expect(await page.$('#canvas')).not.toBeNull();
      const cookies = await page.context().cookies();
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatchObject({ name: 'medvlm_session', httpOnly: true, sameSite: 'Strict' });
      const models = await page.evaluate(async () => (await fetch('/v1/models')).status);
      expect(models).toBe(200);
      expect(await page.evaluate(() => document.cookie)).toBe(''); // not readable by scripts
    } finally {
      await browser.close();
      await keyed.close();
    }
  }, 120_000);
});
