/**
 * The page script of `medvlm serve` (bundled for the browser by esbuild). The viewer always decodes
 * locally with medvlm's browser entry; classification runs on the server (upload) or, with "run in
 * this browser", in the page itself (model files and WASM from this server, no image byte sent).
 */
import {
  applyWindow,
  decodeImage,
  invert,
  pipeline,
  resolveWindow,
  selectSlice,
  setDicomCodecsUrl,
  type MedicalImage,
  type WindowSpec,
  type ZeroShotImageClassificationPipeline,
} from '../../browser.js';

interface LabelScore {
  label: string;
  score: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('canvas');
const frameInput = $<HTMLInputElement>('frame');
const preset = $<HTMLSelectElement>('preset');
const status = $<HTMLDivElement>('status');
const classifyButton = $<HTMLButtonElement>('classify');

setDicomCodecsUrl('/codecs/dcmjs-native-codecs.wasm');

let bytes: Uint8Array | undefined;
let fileName = 'upload';
let image: MedicalImage | undefined;
let slice: MedicalImage | undefined;
let viewWindow: { center: number; width: number } | undefined;
let inPage: Promise<ZeroShotImageClassificationPipeline> | undefined;

function say(text: string): void {
  status.textContent = text;
}

function mode(): 'server' | 'browser' {
  return (document.querySelector('input[name=mode]:checked') as HTMLInputElement).value as 'server' | 'browser';
}

function labels(): string[] {
  return $<HTMLTextAreaElement>('labels').value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Draw the current slice with the current window. */
function draw(): void {
  if (!slice || !viewWindow) return;
  const w = { ...viewWindow, source: 'viewer' };
  let v = applyWindow(slice, w);
  if (slice.invertForDisplay) v = invert(v);
  canvas.width = slice.width;
  canvas.height = slice.height;
  const ctx = canvas.getContext('2d')!;
  const out = ctx.createImageData(slice.width, slice.height);
  const n = slice.width * slice.height;
  for (let i = 0; i < n; i++) {
    if (slice.channels === 3) {
      for (let c = 0; c < 3; c++) out.data[i * 4 + c] = Math.round(v[i * 3 + c] * 255);
    } else {
      const g = Math.round(v[i] * 255);
      out.data[i * 4] = out.data[i * 4 + 1] = out.data[i * 4 + 2] = g;
    }
    out.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
  $('wl').textContent = `C ${viewWindow.center.toFixed(1)} / W ${viewWindow.width.toFixed(1)}`;
}

function presetSpec(): WindowSpec {
  const p = preset.value;
  if (p === 'auto') return { kind: 'auto' };
  if (p === 'file') return { kind: 'file' };
  return { kind: 'preset', name: p as Extract<WindowSpec, { kind: 'preset' }>['name'] };
}

function showSlice(): void {
  if (!image) return;
  const n = image.depth;
  const index = Number(frameInput.value);
  slice = image.format === 'nifti' ? selectSlice(image, { index }) : selectSlice(image, n > 1 ? { frame: index } : {});
  try {
    viewWindow = resolveWindow(slice, presetSpec());
  } catch (e) {
    say((e as Error).message);
    viewWindow = resolveWindow(slice, { kind: 'auto' });
  }
  $('frameNo').textContent = `${index + 1} / ${n}`;
  draw();
}

async function open(file: File): Promise<void> {
  bytes = new Uint8Array(await file.arrayBuffer());
  fileName = file.name;
  $('chart').textContent = '';
  $('pixel').textContent = '\u00a0';
  try {
    image = await decodeImage(bytes, file.name);
  } catch (e) {
    image = undefined;
    say(`${(e as Error).message}`);
    document.body.dataset.failed = fileName;
    classifyButton.disabled = true;
    return;
  }
  frameInput.max = String(Math.max(0, image.depth - 1));
  frameInput.value = String(Math.floor(image.depth / 2));
  showSlice();
  classifyButton.disabled = false;
  for (const id of ['similar', 'draft']) $<HTMLButtonElement>(id).disabled = false;
  document.body.dataset.loaded = fileName;
  say(`${image.format.toUpperCase()} ${image.width}×${image.height}${image.depth > 1 ? `×${image.depth}` : ''}${image.modality ? `, ${image.modality}` : ''}`);
}

function apiHeaders(): Record<string, string> {
  const key = $<HTMLInputElement>('apikey').value.trim();
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function post(path: string, fields: Record<string, string>): Promise<unknown> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([bytes! as BlobPart]), fileName);
  const res = await fetch(`/v1/${path}`, { method: 'POST', body: form, headers: apiHeaders() });
  const body = (await res.json()) as { error?: { code: string; message: string } };
  if (!res.ok) throw new Error(`${body.error?.message ?? res.statusText} [${body.error?.code ?? res.status}]`);
  return body;
}

function chart(scores: LabelScore[]): void {
  const el = $('chart');
  el.textContent = '';
  for (const s of scores) {
    const row = document.createElement('div');
    row.className = 'bar';
    row.dataset.label = s.label;
    row.dataset.score = String(s.score);
    const name = document.createElement('span');
    name.textContent = s.label;
    const bar = document.createElement('i');
    bar.style.width = `${Math.round(s.score * 240)}px`;
    const value = document.createElement('b');
    value.textContent = s.score.toFixed(3);
    row.append(name, bar, value);
    el.append(row);
  }
}

async function classify(): Promise<void> {
  if (!bytes) return;
  const ls = labels();
  const view = { window: presetSpec(), ...(image && image.depth > 1 ? (image.format === 'nifti' ? { index: Number(frameInput.value) } : { frame: Number(frameInput.value) }) : {}) };
  classifyButton.disabled = true;
  delete document.body.dataset.done;
  try {
    let scores: LabelScore[];
    if (mode() === 'browser') {
      say('running in this browser…');
      inPage ??= (async () => {
        const templates = await (await fetch('/templates/medical.json')).json();
        return pipeline('zero-shot-image-classification', `${location.origin}/model/`, { templates, wasmPaths: `${location.origin}/ort/` });
      })();
      scores = await (await inPage)(bytes, ls, { view });
    } else {
      say('running on the server…');
      const fields: Record<string, string> = { labels: ls.join(','), window: preset.value };
      if (image && image.depth > 1) fields[image.format === 'nifti' ? 'slice' : 'frame'] = frameInput.value;
      scores = ((await post('classify', fields)) as { labels: LabelScore[] }).labels;
    }
    chart(scores);
    say(`done (${mode() === 'browser' ? 'in this browser' : 'on the server'})`);
    document.body.dataset.done = mode();
  } catch (e) {
    inPage = undefined;
    say((e as Error).message);
    document.body.dataset.done = 'error';
  } finally {
    classifyButton.disabled = false;
  }
}

async function similar(): Promise<void> {
  try {
    const r = (await post('search', { k: '5' })) as { hits: Array<{ path: string; similarity: number; texts: Record<string, string> }> };
    const el = $('cases');
    el.textContent = '';
    for (const h of r.hits) {
      const d = document.createElement('div');
      d.className = 'case';
      d.textContent = `${h.similarity.toFixed(3)}  ${h.path}  ${Object.values(h.texts).join(' ').slice(0, 200)}`;
      el.append(d);
    }
  } catch (e) {
    say((e as Error).message);
  }
}

async function draft(): Promise<void> {
  try {
    const r = (await post('draft-report', {})) as { sentences: Array<{ text: string; source: { path: string; field: string } }> };
    const el = $('report');
    el.textContent = '';
    for (const s of r.sentences) {
      const p = document.createElement('p');
      p.className = 'sentence';
      p.textContent = `${s.text} `;
      const src = document.createElement('a');
      src.textContent = `[${s.source.path} · ${s.source.field}]`;
      p.append(src);
      el.append(p);
    }
  } catch (e) {
    say((e as Error).message);
  }
}

// window/level by dragging: horizontal = width, vertical = center
let drag: { x: number; y: number; c: number; w: number } | undefined;
canvas.addEventListener('mousedown', (e) => viewWindow && (drag = { x: e.clientX, y: e.clientY, c: viewWindow.center, w: viewWindow.width }));
document.addEventListener('mouseup', () => (drag = undefined));
canvas.addEventListener('mousemove', (e) => {
  if (!slice) return;
  const r = canvas.getBoundingClientRect();
  const x = Math.floor(((e.clientX - r.left) / r.width) * slice.width);
  const y = Math.floor(((e.clientY - r.top) / r.height) * slice.height);
  if (x >= 0 && y >= 0 && x < slice.width && y < slice.height) {
    const i = (y * slice.width + x) * slice.channels;
    const unit = slice.modality === 'CT' ? ' HU' : '';
    $('pixel').textContent = `(${x}, ${y}) = ${slice.channels === 3 ? `${slice.data[i]}, ${slice.data[i + 1]}, ${slice.data[i + 2]}` : `${+slice.data[i].toFixed(2)}${unit}`}`;
  }
  if (drag && viewWindow) {
    const scale = Math.max(1, drag.w) / 256;
    viewWindow = { center: drag.c + (e.clientY - drag.y) * scale, width: Math.max(1, drag.w + (e.clientX - drag.x) * scale) };
    draw();
  }
});

$<HTMLInputElement>('file').addEventListener('change', (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void open(f);
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void open(f);
});
frameInput.addEventListener('input', showSlice);
preset.addEventListener('change', showSlice);
classifyButton.addEventListener('click', () => void classify());
$('similar').addEventListener('click', () => void similar());
$('draft').addEventListener('click', () => void draft());

void fetch('/v1/health')
  .then((r) => r.json())
  .then((h: { index: boolean }) => {
    $('indexTools').hidden = !h.index;
  });
