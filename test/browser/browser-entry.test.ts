/**
 * The browser entry (`medvlm/browser`): it bundles for the browser with no Node built-in reachable;
 * its decoders give exactly the samples Node's give; and in a real Chromium (Debian's, through
 * playwright-core) it loads medvlm-tiny from a loopback server and classifies images in the page.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/io/read.js';
import { pipeline } from '../../src/tasks/pipeline.js';
import { ROOT } from '../cli/helpers.js';
import { serveStatic } from '../support/static-server.js';

const OUT = mkdtempSync(join(tmpdir(), 'medvlm-browser-'));
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const r = await build({ entryPoints: [join(ROOT, entry)], bundle: true, platform: 'browser', format: 'esm', outfile, metafile: true, logLevel: 'silent' });
  return r.metafile;
}

type BrowserModule = typeof import('../../src/browser.js');
let browserModule: BrowserModule;
let meta: Metafile;
beforeAll(async () => {
  meta = await bundle('src/browser.ts', join(OUT, 'medvlm-browser.js'));
  browserModule = (await import(pathToFileURL(join(OUT, 'medvlm-browser.js')).href)) as BrowserModule;
  browserModule.setDicomCodecsUrl(join(ROOT, 'node_modules/dcmjs-codecs/build/dcmjs-native-codecs.wasm'));
}, 120_000);

describe('browser bundle', () => {
  it('bundles with no Node built-in and no Node-only package reachable', () => {
    const inputs = Object.keys(meta.inputs);
    expect(inputs.filter((i) => i.startsWith('node:'))).toEqual([]);
    // a package may disable a built-in for browsers itself (dicom-parser maps zlib to false): never loaded
    expect(inputs.filter((i) => i.startsWith('(disabled):')).every((i) => /^\(disabled\):(zlib)$/.test(i))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/(sharp|onnxruntime-node|@lancedb|@img)\//.test(i))).toEqual([]);
    expect(inputs.some((i) => i.endsWith('transformers.web.js'))).toBe(true);
  });

  it('the Node entry does not bundle for the browser (the check above can fail)', async () => {
    await expect(bundle('src/index.ts', join(OUT, 'node-entry.js'))).rejects.toThrow(/node:|built into node|Could not resolve/);
  });
});

describe('browser decoders give exactly what Node decodes', () => {
  const corpus = join(ROOT, 'test/.corpus/dicom');
  const dicoms = existsSync(corpus) ? readdirSync(corpus).filter((f) => f.endsWith('.dcm') && !f.startsWith('err_') && !f.startsWith('ref-')) : [];
  if (dicoms.length === 0) console.warn(`browser DICOM decoding checks skipped: ${corpus} was not built (needs dcmtk and gdcm)`);
  const niftis = existsSync(join(ROOT, 'test/.corpus/nifti')) ? readdirSync(join(ROOT, 'test/.corpus/nifti')).filter((f) => /\.nii(\.gz)?$/.test(f)).map((f) => join(ROOT, 'test/.corpus/nifti', f)) : [];
  const files = [
    ...dicoms.map((f) => join(corpus, f)),
    ...niftis.slice(0, 6),
    ...readdirSync(join(ROOT, 'samples')).filter((f) => f.endsWith('.png')).map((f) => join(ROOT, 'samples', f)),
    ...(existsSync(join(ROOT, 'test/.corpus/raster')) ? readdirSync(join(ROOT, 'test/.corpus/raster')).filter((f) => f.endsWith('.png')).map((f) => join(ROOT, 'test/.corpus/raster', f)) : []),
  ];

  it.each(files)('%s', async (file) => {
    const bytes = new Uint8Array(readFileSync(file));
    let node;
    try {
      node = await decodeImage(bytes, file);
    } catch (e) {
      await expect(browserModule.decodeImage(bytes, file)).rejects.toMatchObject({ code: (e as { code: string }).code });
      return;
    }
    const web = await browserModule.decodeImage(bytes, file);
    expect([web.width, web.height, web.depth, web.timepoints, web.channels]).toEqual([node.width, node.height, node.depth, node.timepoints, node.channels]);
    expect(web.data.length).toBe(node.data.length);
    let diff = 0;
    for (let i = 0; i < node.data.length; i++) if (web.data[i] !== node.data[i] && !(Number.isNaN(web.data[i]) && Number.isNaN(node.data[i]))) diff++;
    expect(diff).toBe(0);
    expect(web.windows).toEqual(node.windows);
  });
});

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`in-browser inference test skipped: ${CHROMIUM} is absent (apt-get install chromium)`);

describe.skipIf(!hasChromium)('in Chromium: the page loads medvlm-tiny from its server and classifies', () => {
  it('scores agree with Node within 1e-3 and the image bytes never leave the page', async () => {
    const { chromium } = await import('playwright-core');
    writeFileSync(join(OUT, 'index.html'), '<!doctype html><meta charset="utf-8"><title>medvlm</title><p>medvlm browser test</p>');
    const server = await serveStatic({
      '/app/': OUT,
      '/models/': join(ROOT, 'models'),
      '/templates/': join(ROOT, 'templates'),
      '/ort/': join(ROOT, 'node_modules/onnxruntime-web/dist'),
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const files = ['vqarad-chest-xray-1.jpg', 'pneumoniamnist-test-0000-pneumonia.png', 'vqarad-head-ct-1.jpg'];
    const labels = ['chest', 'head', 'abdomen'];
    try {
      const page = await browser.newPage();
      await page.goto(`${server.base}/app/`);
      const images = files.map((f) => Array.from(readFileSync(join(ROOT, 'samples', f))));
      // the page script is a string: vitest rewrites import() in functions it compiles
      const script = `(async ({ base, images, labels }) => {
        const m = await import(base + '/app/medvlm-browser.js');
        const templates = await (await fetch(base + '/templates/medical.json')).json();
        const classify = await m.pipeline('zero-shot-image-classification', base + '/models/medvlm-tiny/', { templates, wasmPaths: base + '/ort/' });
        const out = [];
        for (const img of images) out.push(await classify(new Uint8Array(img), labels));
        return out;
      })(${JSON.stringify({ base: server.base, images, labels })})`;
      const inPage = (await page.evaluate(script)) as Array<Array<{ label: string; score: number }>>;
      const classify = await pipeline('zero-shot-image-classification');
      let maxDiff = 0;
      try {
        for (let i = 0; i < files.length; i++) {
          const node = await classify(join(ROOT, 'samples', files[i]), labels);
          expect(inPage[i].map((l) => l.label)).toEqual(node.map((l) => l.label));
          inPage[i].forEach((l, k) => (maxDiff = Math.max(maxDiff, Math.abs(l.score - node[k].score))));
        }
        // medvlm preprocesses itself in both (the engine would resize with sharp in Node, a canvas in the
        // browser); what is left is ONNX Runtime's native vs WebAssembly arithmetic
        console.log(`in-browser vs Node scores: max |difference| ${maxDiff.toExponential(2)} over ${files.length} images x ${labels.length} labels`);
        expect(maxDiff).toBeLessThan(1e-6);
      } finally {
        await classify.dispose();
      }
      // the page fetched the model, templates and runtime; no request carried or named an image
      expect(server.requests.filter((r) => !/^(GET|HEAD) \/(app|models|templates|ort)\//.test(r))).toEqual(server.requests.filter((r) => r.endsWith('/favicon.ico')));
      expect(server.requests.some((r) => /\.(jpg|png)$/.test(r))).toBe(false);
      expect(server.requests.filter((r) => r.startsWith('POST') || r.startsWith('PUT'))).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 300_000);
});
