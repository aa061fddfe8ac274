/**
 * The web page in a real Chromium (Debian's, through playwright-core): drop a PNG and a multi-frame
 * DICOM, see the labels from the server; switch to "run in this browser" and get the same scores
 * (within the resize difference the browser-entry test measures) while the server's request log
 * shows no upload; window presets change the pixels; a screenshot goes to docs/.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWebPage } from '../../src/server/web-bundle.js';
import { WINDOW_PRESETS } from '../../src/transforms/index.js';
import { ROOT } from '../cli/helpers.js';
import { startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`web page test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);
const DICOM = join(ROOT, 'test/.corpus/dicom/mf8_jpeg50.dcm');
const CT = join(ROOT, 'test/.corpus/dicom/ct16s_evrle.dcm');
const hasCorpus = existsSync(DICOM) && existsSync(CT);
if (!hasCorpus) console.warn('web page DICOM checks skipped: test/.corpus/dicom was not built (needs dcmtk and gdcm)');
const PNG = join(ROOT, 'samples/vqarad-chest-xray-1.jpg');
const LABELS = 'chest x-ray, head CT, abdomen CT, brain MRI';

const OUT = mkdtempSync(join(tmpdir(), 'medvlm-page-'));
let server: TestServer;
beforeAll(async () => {
  if (!hasChromium) return;
  server = await startTestServer({ web: { bundleDir: await bundleWebPage(OUT) } });
}, 120_000);
afterAll(async () => {
  await server?.close();
  rmSync(OUT, { recursive: true, force: true });
});

type Page = import('playwright-core').Page;

async function dropFile(page: Page, file: string, type: string): Promise<void> {
  const bytes = Array.from(readFileSync(file));
  const name = file.split('/').pop()!;
  const transfer = await page.evaluateHandle(
    ({ bytes, name, type }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type }));
      return dt;
    },
    { bytes, name, type },
  );
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
  await page.waitForFunction((n) => document.body.dataset.loaded === n || document.body.dataset.failed === n, name);
  expect(await page.evaluate(() => document.body.dataset.loaded), (await page.textContent('#status')) ?? '').toBe(name);
}

async function classify(page: Page, mode: 'server' | 'browser'): Promise<Array<{ label: string; score: number }>> {
  await page.check(`input[name=mode][value=${mode}]`);
  await page.click('#classify');
  await page.waitForFunction(() => document.body.dataset.done !== undefined, undefined, { timeout: 120_000 });
  expect(await page.evaluate(() => document.body.dataset.done), await page.textContent('#status') ?? '').toBe(mode);
  return page.$$eval('#chart .bar', (rows) => rows.map((r) => ({ label: (r as HTMLElement).dataset.label!, score: Number((r as HTMLElement).dataset.score) })));
}

const canvasHash = (page: Page) => page.evaluate(() => (document.getElementById('canvas') as HTMLCanvasElement).toDataURL());

describe.skipIf(!hasChromium)('the web page in Chromium', () => {
  it('server and in-browser labels agree; in-browser sends no image; presets change pixels', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
      const consoleErrors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && consoleErrors.push(m.text()));
      const failed: string[] = [];
      page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${new URL(r.url()).pathname}`));
      const response = await page.goto(`${server.base}/`);
      const csp = response!.headers()['content-security-policy'];
      expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
      expect(csp).not.toMatch(/'unsafe-eval'|'unsafe-inline'/);
      await expect(page.textContent('#notice')).resolves.toMatch(/Research use only/);
      await page.fill('#labels', LABELS);
      const files: Array<[string, string]> = [[PNG, 'image/jpeg'], ...(hasCorpus ? ([[DICOM, 'application/dicom']] as Array<[string, string]>) : [])];
      const diffs: string[] = [];
      for (const [file, type] of files) {
        await dropFile(page, file, type);
        const onServer = await classify(page, 'server');
        expect(onServer.map((l) => l.label).sort()).toEqual(LABELS.split(', ').sort());
        const logBefore = server.log.length;
        const inPage = await classify(page, 'browser');
        // the page fetched only the model, the runtime and templates: no upload, no API call with the image
        const during = server.log.slice(logBefore).map((l) => JSON.parse(l) as { method: string; route: string; bytesIn: number });
        expect(during.filter((r) => !['GET', 'HEAD'].includes(r.method) || r.route.startsWith('/v1/') || r.bytesIn > 0)).toEqual([]);
        expect(inPage.map((l) => l.label)).toEqual(onServer.map((l) => l.label));
        const diff = Math.max(...inPage.map((l, i) => Math.abs(l.score - onServer[i].score)));
        diffs.push(`${file.split('/').pop()}: ${diff.toExponential(2)}`);
        // medvlm preprocesses the same way in both (Pillow or libvips arithmetic written in TypeScript, not the
        // engine's canvas/sharp resize), so even a near-tie DICOM agrees to ONNX Runtime's native vs wasm rounding
        expect(diff).toBeLessThan(1e-4);
      }
      console.log(`in-browser vs server scores, max |difference| per image: ${diffs.join(', ')}`);
      if (hasCorpus) {
        await dropFile(page, CT, 'application/dicom');
        await page.selectOption('#preset', 'lung');
        const lung = await canvasHash(page);
        await page.selectOption('#preset', 'bone');
        const bone = await canvasHash(page);
        expect(bone).not.toBe(lung);
        const { center, width } = WINDOW_PRESETS.bone;
        expect(await page.textContent('#wl')).toBe(`C ${center.toFixed(1)} / W ${width.toFixed(1)}`);
        await page.hover('#canvas', { position: { x: 30, y: 30 } });
        expect(await page.textContent('#pixel')).toMatch(/^\(\d+, \d+\) = -?[\d.]+ HU$/);
        await page.selectOption('#preset', 'auto');
        await dropFile(page, DICOM, 'application/dicom');
        await classify(page, 'server');
      }
      await page.screenshot({ path: join(ROOT, 'docs/serve-page.png') });
      expect(consoleErrors).toEqual([]);
      // transformers.js probes optional model files; nothing else may fail
      console.log(`failed fetches: ${failed.join(', ') || 'none'}`);
      expect(failed.filter((f) => !/^404 \/(model\/|favicon)/.test(f))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
