/**
 * The page script of `medvlm serve` (bundled for the browser by esbuild). The viewer always decodes
 * locally with medvlm's browser entry; classification and closed questions run on the server (upload)
 * or, with "run in this browser", in the page itself (model files and WASM from this server, no image
 * byte sent). Several files or a folder are grouped into series (DICOM SeriesInstanceUID) and
 * classified as one job with progress; results show as a thumbnail gallery. Server jobs (folders and
 * data sets under the server's data root) and the PACS panel talk to the server's API only.
 */
import { createParser } from 'eventsource-parser';
import {
  applyWindow,
  decodeImage,
  invert,
  pipeline,
  resolveWindow,
  selectSlice,
  setDicomCodecsUrl,
  type MedicalImage,
  type TemplateSet,
  type VisualQuestionAnsweringPipeline,
  type WindowSpec,
  type ZeroShotImageClassificationPipeline,
} from '../../browser.js';
import { meanScores, groupKey, type LabelScore } from './series.js';
import { initDensePanel } from './dense-panel.js';

const RESEARCH = 'Research use only, not a diagnosis.';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('canvas');
const frameInput = $<HTMLInputElement>('frame');
const preset = $<HTMLSelectElement>('preset');
const status = $<HTMLDivElement>('status');
const classifyButton = $<HTMLButtonElement>('classify');
const progress = $<HTMLProgressElement>('progress');

setDicomCodecsUrl('/codecs/dcmjs-native-codecs.wasm');

/** One opened image: its bytes now (a local file) or later (a PACS instance, fetched from the server on first use). */
interface Item {
  name: string;
  bytes?: Uint8Array;
  url?: string;
  z?: number;
}

/** A series (DICOM files sharing a SeriesInstanceUID, or PACS instances) or a single file. */
interface Group {
  key: string;
  title: string;
  items: Item[];
  thumb?: string;
  scores?: LabelScore[];
  pacs?: { study: string; series: string };
  card?: HTMLElement;
}

let groups: Group[] = [];
let current: Group | undefined;
let itemIndex = 0;
let image: MedicalImage | undefined;
let slice: MedicalImage | undefined;
let viewWindow: { center: number; width: number } | undefined;
let inPageClassify: Promise<ZeroShotImageClassificationPipeline> | undefined;
let inPageAsk: Promise<VisualQuestionAnsweringPipeline> | undefined;
let cancelled = false;

function say(text: string): void {
  status.textContent = text;
}

function researchLabel(): HTMLElement {
  const p = document.createElement('p');
  p.className = 'ru';
  p.textContent = RESEARCH;
  return p;
}

function mode(): 'server' | 'browser' {
  return (document.querySelector('input[name=mode]:checked') as HTMLInputElement).value as 'server' | 'browser';
}

function labels(): string[] {
  return $<HTMLTextAreaElement>('labels').value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The edited prompt ensemble (sent to the server as text, used as a set in the page). */
function templatesText(): string {
  return $<HTMLTextAreaElement>('templates').value.trim();
}

function templateSet(): TemplateSet | undefined {
  const lines = templatesText().split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? { name: 'page', templates: lines } : undefined;
}

/** Fill the ensemble box with a named set; `data-templates` names the set once it is in the box. */
async function loadTemplateSet(name: string): Promise<void> {
  delete document.body.dataset.templates;
  const set = (await (await fetch(`/templates/${encodeURIComponent(name)}.json`)).json()) as { templates: string[] };
  if ($<HTMLSelectElement>('templateSet').value !== name) return; // a later choice wins
  $<HTMLTextAreaElement>('templates').value = set.templates.join('\n');
  document.body.dataset.templates = name;
}

async function bytesOf(item: Item): Promise<Uint8Array> {
  if (!item.bytes) {
    const res = await fetch(item.url!);
    if (!res.ok) throw new Error(await errorText(res));
    item.bytes = new Uint8Array(await res.arrayBuffer());
  }
  return item.bytes;
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { code: string; message: string } };
    return `${body.error?.message ?? res.statusText} [${body.error?.code ?? res.status}]`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}

/** Grey or RGB pixels of a slice under a window, as canvas image data. */
function render(s: MedicalImage, w: { center: number; width: number }): ImageData {
  let v = applyWindow(s, { ...w, source: 'viewer' });
  if (s.invertForDisplay) v = invert(v);
  const out = new ImageData(s.width, s.height);
  const n = s.width * s.height;
  for (let i = 0; i < n; i++) {
    if (s.channels === 3) {
      for (let c = 0; c < 3; c++) out.data[i * 4 + c] = Math.round(v[i * 3 + c] * 255);
    } else {
      const g = Math.round(v[i] * 255);
      out.data[i * 4] = out.data[i * 4 + 1] = out.data[i * 4 + 2] = g;
    }
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** Draw the current slice with the current window. */
function draw(): void {
  if (!slice || !viewWindow) return;
  canvas.width = slice.width;
  canvas.height = slice.height;
  canvas.getContext('2d')!.putImageData(render(slice, viewWindow), 0, 0);
  $('wl').textContent = `C ${viewWindow.center.toFixed(1)} / W ${viewWindow.width.toFixed(1)}`;
}

/** A small thumbnail (data URL) of an image's middle frame, auto window. */
function thumbnail(img: MedicalImage): string {
  const s = img.format === 'nifti' ? selectSlice(img, {}) : selectSlice(img, img.depth > 1 ? { frame: Math.floor(img.depth / 2) } : {});
  const full = document.createElement('canvas');
  full.width = s.width;
  full.height = s.height;
  full.getContext('2d')!.putImageData(render(s, resolveWindow(s, { kind: 'auto' })), 0, 0);
  const small = document.createElement('canvas');
  const scale = 112 / Math.max(s.width, s.height);
  small.width = Math.max(1, Math.round(s.width * scale));
  small.height = Math.max(1, Math.round(s.height * scale));
  small.getContext('2d')!.drawImage(full, 0, 0, small.width, small.height);
  return small.toDataURL('image/png');
}

function presetSpec(): WindowSpec {
  const p = preset.value;
  if (p === 'auto') return { kind: 'auto' };
  if (p === 'file') return { kind: 'file' };
  return { kind: 'preset', name: p as Extract<WindowSpec, { kind: 'preset' }>['name'] };
}

/** Several instances: the slider walks them; one file: its frames or slices. */
const walksItems = () => Boolean(current && current.items.length > 1);

function showSlice(): void {
  if (!image) return;
  const index = walksItems() ? 0 : Number(frameInput.value);
  const frame = walksItems() ? Math.floor(image.depth / 2) : index;
  slice = image.format === 'nifti' ? selectSlice(image, { index }) : selectSlice(image, image.depth > 1 ? { frame } : {});
  try {
    viewWindow = resolveWindow(slice, presetSpec());
  } catch (e) {
    say((e as Error).message);
    viewWindow = resolveWindow(slice, { kind: 'auto' });
  }
  const n = walksItems() ? current!.items.length : image.depth;
  $('frameNo').textContent = `${Number(frameInput.value) + 1} / ${n}`;
  draw();
}

/** Decode and show item `i` of the current group. */
async function showItem(i: number): Promise<void> {
  if (!current) return;
  itemIndex = i;
  const item = current.items[i];
  try {
    image = await decodeImage(await bytesOf(item), item.name);
  } catch (e) {
    image = undefined;
    say((e as Error).message);
    document.body.dataset.failed = item.name;
    classifyButton.disabled = true;
    return;
  }
  if (!walksItems()) {
    frameInput.max = String(Math.max(0, image.depth - 1));
    frameInput.value = String(Math.floor(image.depth / 2));
  }
  showSlice();
  classifyButton.disabled = false;
  for (const id of ['similar', 'draft', 'ask']) $<HTMLButtonElement>(id).disabled = false;
  document.body.dataset.loaded = item.name;
  say(`${image.format.toUpperCase()} ${image.width}×${image.height}${image.depth > 1 ? `×${image.depth}` : ''}${image.modality ? `, ${image.modality}` : ''}${walksItems() ? `; instance ${i + 1} of ${current.items.length} in the series` : ''}`);
}

/** Make `g` the viewed group: slider over its instances (or its frames), middle one shown. */
async function select(g: Group): Promise<void> {
  current = g;
  for (const x of groups) x.card?.classList.toggle('current', x === g);
  $('chart').textContent = '';
  $('answer').textContent = '';
  $('pixel').textContent = '\u00a0';
  if (g.scores) chart(g.scores);
  const many = g.items.length > 1;
  $('frameKind').textContent = many ? 'Instance' : 'Frame/slice';
  const mid = many ? Math.floor(g.items.length / 2) : 0;
  frameInput.max = String(Math.max(0, g.items.length - 1));
  frameInput.value = String(mid);
  await showItem(mid);
}

/** Read dropped or chosen files, group them into series, fill the gallery, show the first. */
async function openFiles(files: File[]): Promise<void> {
  if (!files.length) return;
  delete document.body.dataset.loaded;
  delete document.body.dataset.failed;
  groups = [];
  $('gallery').textContent = '';
  const byKey = new Map<string, Group>();
  let unreadable = 0;
  for (const [i, file] of files.entries()) {
    say(`reading ${i + 1} of ${files.length}…`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    let img: MedicalImage;
    try {
      img = await decodeImage(bytes, file.name);
    } catch (e) {
      unreadable++;
      if (files.length === 1) {
        say((e as Error).message);
        document.body.dataset.failed = file.name;
        return;
      }
      continue;
    }
    const key = groupKey(img, file.webkitRelativePath || file.name);
    let g = byKey.get(key);
    if (!g) {
      g = { key, title: img.format === 'dicom' ? `${img.modality ?? 'DICOM'} series` : file.name, items: [], thumb: thumbnail(img) };
      byKey.set(key, g);
      groups.push(g);
    }
    g.items.push({ name: file.name, bytes, ...(img.origin ? { z: img.origin[2] } : {}) });
  }
  for (const g of groups) {
    g.items.sort((a, b) => (a.z ?? 0) - (b.z ?? 0) || a.name.localeCompare(b.name));
    if (g.items.length > 1) g.title += ` (${g.items.length} images)`;
    addCard(g);
  }
  $<HTMLButtonElement>('classifyAll').disabled = groups.length === 0;
  document.body.dataset.groups = String(groups.length);
  if (groups.length) await select(groups[0]);
  if (unreadable) say(`${status.textContent ?? ''}; ${unreadable} file(s) could not be read and were left out`);
}

function addCard(g: Group): void {
  const card = document.createElement('div');
  card.className = 'card';
  card.dataset.key = g.key;
  const img = document.createElement('img');
  if (g.thumb) img.src = g.thumb;
  img.alt = g.title;
  const title = document.createElement('div');
  title.textContent = g.title;
  const result = document.createElement('div');
  result.className = 'top';
  card.append(img, title, result);
  card.addEventListener('click', () => void select(g));
  g.card = card;
  $('gallery').append(card);
}

function showGroupScores(g: Group): void {
  if (!g.card || !g.scores?.length) return;
  const top = g.card.querySelector('.top') as HTMLElement;
  top.textContent = `${g.scores[0].label} ${g.scores[0].score.toFixed(2)}`;
  top.dataset.label = g.scores[0].label;
  top.dataset.score = String(g.scores[0].score);
  top.append(researchLabel());
}

async function post(path: string, fields: Record<string, string>, bytes?: Uint8Array, name = 'upload'): Promise<unknown> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (bytes) form.append('file', new Blob([bytes as BlobPart]), name);
  const res = await fetch(`/v1/${path}`, { method: 'POST', body: form });
  if (!res.ok) throw new Error(await errorText(res));
  return res.json();
}

async function postJson(path: string, body: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(`/v1/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (!res.ok) throw new Error(await errorText(res));
  return res.json();
}

function chart(scores: LabelScore[], el: HTMLElement = $('chart')): void {
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
  el.append(researchLabel());
}

function classifierInPage(): Promise<ZeroShotImageClassificationPipeline> {
  inPageClassify ??= (async () => {
    const templates = await (await fetch('/templates/medical.json')).json();
    return pipeline('zero-shot-image-classification', `${location.origin}/model/`, { templates, wasmPaths: `${location.origin}/ort/` });
  })();
  inPageClassify.catch(() => (inPageClassify = undefined));
  return inPageClassify;
}

/** Scores of one image (frame: for a multi-frame file or a NIfTI slice), in the page or on the server. */
async function scoreImage(bytes: Uint8Array, name: string, frame?: { kind: 'frame' | 'slice'; index: number }): Promise<LabelScore[]> {
  const ls = labels();
  const set = templateSet();
  if (mode() === 'browser') {
    const view = { window: presetSpec(), ...(frame ? (frame.kind === 'slice' ? { index: frame.index } : { frame: frame.index }) : {}) };
    return (await classifierInPage())(bytes, ls, { view, ...(set ? { templates: set } : {}) });
  }
  const fields: Record<string, string> = { labels: ls.join(','), window: preset.value };
  if (set) fields.templates = templatesText();
  if (frame) fields[frame.kind] = String(frame.index);
  return ((await post('classify', fields, bytes, name)) as { labels: LabelScore[] }).labels;
}

function currentFrame(): { kind: 'frame' | 'slice'; index: number } | undefined {
  if (!image || walksItems() || image.depth <= 1) return undefined;
  return { kind: image.format === 'nifti' ? 'slice' : 'frame', index: Number(frameInput.value) };
}

async function classify(): Promise<void> {
  if (!current) return;
  classifyButton.disabled = true;
  delete document.body.dataset.done;
  try {
    say(mode() === 'browser' ? 'running in this browser…' : 'running on the server…');
    const item = current.items[itemIndex];
    const scores = await scoreImage(await bytesOf(item), item.name, currentFrame());
    chart(scores);
    say(`done (${mode() === 'browser' ? 'in this browser' : 'on the server'})`);
    document.body.dataset.done = mode();
  } catch (e) {
    say((e as Error).message);
    document.body.dataset.done = 'error';
  } finally {
    classifyButton.disabled = false;
  }
}

/** Classify every image of every opened series, with progress; a series' scores are the mean of its images'. */
async function classifyAll(): Promise<void> {
  const total = groups.reduce((n, g) => n + g.items.length, 0);
  if (!total) return;
  cancelled = false;
  delete document.body.dataset.batch;
  $<HTMLButtonElement>('classifyAll').disabled = true;
  $<HTMLButtonElement>('cancelAll').disabled = false;
  progress.hidden = false;
  progress.max = total;
  progress.value = 0;
  let done = 0;
  let failed = 0;
  try {
    for (const g of groups) {
      const each: LabelScore[][] = [];
      for (const item of g.items) {
        if (cancelled) break;
        try {
          each.push(await scoreImage(await bytesOf(item), item.name));
        } catch {
          failed++;
        }
        progress.value = ++done;
        say(`classified ${done} of ${total} images${failed ? ` (${failed} failed)` : ''} (${mode() === 'browser' ? 'in this browser' : 'on the server'})`);
      }
      if (each.length) {
        g.scores = meanScores(each);
        showGroupScores(g);
        if (g === current) chart(g.scores);
      }
      if (cancelled) break;
    }
    document.body.dataset.batch = cancelled ? 'cancelled' : 'done';
    if (cancelled) say(`cancelled after ${done} of ${total} images`);
  } finally {
    $<HTMLButtonElement>('classifyAll').disabled = false;
    $<HTMLButtonElement>('cancelAll').disabled = true;
  }
}

async function ask(): Promise<void> {
  if (!current) return;
  const el = $('answer');
  const question = $<HTMLInputElement>('question').value.trim();
  const choices = $<HTMLInputElement>('choices').value.split(',').map((s) => s.trim()).filter(Boolean);
  delete document.body.dataset.answered;
  try {
    const item = current.items[itemIndex];
    const bytes = await bytesOf(item);
    const frame = currentFrame();
    let r: { answer: string; candidates: LabelScore[] };
    if (mode() === 'browser') {
      inPageAsk ??= pipeline('visual-question-answering', `${location.origin}/model/`, { wasmPaths: `${location.origin}/ort/` });
      const view = { window: presetSpec(), ...(frame ? (frame.kind === 'slice' ? { index: frame.index } : { frame: frame.index }) : {}) };
      r = await (await inPageAsk)(bytes, question, { view, ...(choices.length ? { choices } : {}) });
    } else {
      const fields: Record<string, string> = { question, window: preset.value };
      if (choices.length) fields.choices = choices.join(',');
      if (frame) fields[frame.kind] = String(frame.index);
      r = (await post('ask', fields, bytes, item.name)) as { answer: string; candidates: LabelScore[] };
    }
    el.textContent = '';
    const a = document.createElement('p');
    a.id = 'answerText';
    a.textContent = `Answer: ${r.answer}`;
    el.append(a);
    const scores = document.createElement('div');
    chart(r.candidates, scores);
    el.append(scores);
    document.body.dataset.answered = r.answer;
  } catch (e) {
    inPageAsk = undefined;
    el.textContent = (e as Error).message;
    document.body.dataset.answered = 'error';
  }
}

async function similar(): Promise<void> {
  if (!current) return;
  try {
    const item = current.items[itemIndex];
    const r = (await post('search', { k: '5' }, await bytesOf(item), item.name)) as { hits: Array<{ path: string; similarity: number; texts: Record<string, string> }> };
    const el = $('cases');
    el.textContent = '';
    for (const h of r.hits) {
      const d = document.createElement('div');
      d.className = 'case';
      d.textContent = `${h.similarity.toFixed(3)}  ${h.path}  ${Object.values(h.texts).join(' ').slice(0, 200)}`;
      el.append(d);
    }
    el.append(researchLabel());
  } catch (e) {
    say((e as Error).message);
  }
}

async function draft(): Promise<void> {
  if (!current) return;
  try {
    const item = current.items[itemIndex];
    const r = (await post('draft-report', {}, await bytesOf(item), item.name)) as { sentences: Array<{ text: string; source: { path: string; field: string } }> };
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
    el.append(researchLabel());
  } catch (e) {
    say((e as Error).message);
  }
}

// ---- server jobs (data under --data-root), progress as server-sent events read through fetch ----

let jobId: string | undefined;

interface JobState {
  id: string;
  kind: string;
  status: string;
  done: number;
  total: number;
  stage?: string;
  result?: unknown;
  error?: { code: string; message: string };
}

function showJob(s: JobState): void {
  const bar = $<HTMLProgressElement>('jobProgress');
  bar.max = Math.max(1, s.total);
  bar.value = s.done;
  $('jobStatus').textContent = `${s.kind}: ${s.status}, ${s.done} / ${s.total}${s.stage ? `, ${s.stage}` : ''}${s.error ? `: ${s.error.message} [${s.error.code}]` : ''}`;
}

function showJobResult(s: JobState): void {
  const el = $('jobResult');
  el.textContent = '';
  if (s.kind === 'classify-folder' && Array.isArray(s.result)) {
    const table = document.createElement('table');
    for (const r of s.result as Array<{ file: string; labels?: LabelScore[]; error?: { message: string } }>) {
      const tr = table.insertRow();
      tr.insertCell().textContent = r.file;
      tr.insertCell().textContent = r.labels ? `${r.labels[0].label} ${r.labels[0].score.toFixed(3)}` : (r.error?.message ?? '');
    }
    el.append(table);
  } else if (s.result !== undefined) {
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(s.result, null, 1).slice(0, 4000);
    el.append(pre);
  }
  if (s.kind !== 'index-folder') el.append(researchLabel());
}

async function startJob(): Promise<void> {
  const kind = $<HTMLSelectElement>('jobKind').value;
  const body: Record<string, unknown> = { kind };
  if (kind === 'eval') body.datasets = $<HTMLInputElement>('jobDatasets').value;
  else body.path = $<HTMLInputElement>('jobPath').value;
  if (kind === 'classify-folder') {
    body.labels = labels().join(',');
    if (templateSet()) body.templates = templatesText();
  }
  $('jobResult').textContent = '';
  delete document.body.dataset.job;
  try {
    const state = (await postJson('jobs', body)) as JobState;
    jobId = state.id;
    $<HTMLButtonElement>('jobCancel').disabled = false;
    showJob(state);
    const res = await fetch(`/v1/jobs/${state.id}/events`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const parser = createParser({ onEvent: (e) => showJob(JSON.parse(e.data) as JobState) });
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
    }
    const final = (await (await fetch(`/v1/jobs/${state.id}`)).json()) as JobState;
    showJob(final);
    showJobResult(final);
    document.body.dataset.job = final.status;
  } catch (e) {
    $('jobStatus').textContent = (e as Error).message;
    document.body.dataset.job = 'error';
  } finally {
    $<HTMLButtonElement>('jobCancel').disabled = true;
  }
}

// ---- the PACS panel: everything through the server's /v1/pacs/ (the PACS address never reaches the page) ----

let pacsStudy: string | undefined;
let pacsSeries: string | undefined;

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as T;
}

function pickRow(table: HTMLTableElement, cells: string[], onPick: () => void, key: string): HTMLTableRowElement {
  const tr = table.insertRow();
  tr.className = 'pick';
  tr.dataset.key = key;
  for (const c of cells) tr.insertCell().textContent = c;
  tr.addEventListener('click', () => {
    for (const r of table.querySelectorAll('tr')) r.classList.toggle('current', r === tr);
    onPick();
  });
  return tr;
}

async function pacsSearch(): Promise<void> {
  const q = new URLSearchParams();
  for (const [id, key] of [['pacsPatient', 'patientId'], ['pacsDate', 'studyDate'], ['pacsModality', 'modality']] as const) {
    const v = $<HTMLInputElement>(id).value.trim();
    if (v) q.set(key, v);
  }
  const table = $<HTMLTableElement>('pacsStudies');
  table.textContent = '';
  $<HTMLTableElement>('pacsSeries').textContent = '';
  try {
    const { studies } = await getJson<{ studies: Array<{ studyUid: string; patientId: string; studyDate: string; description: string; modalities: string[]; series: number | null }> }>(`/v1/pacs/studies?${q}`);
    const head = table.createTHead().insertRow();
    for (const h of ['patient', 'date', 'description', 'modalities', 'series']) head.insertCell().textContent = h;
    for (const s of studies) pickRow(table, [s.patientId, s.studyDate, s.description, s.modalities.join(','), String(s.series ?? '')], () => void pacsOpenStudy(s.studyUid), s.studyUid);
    document.body.dataset.pacsStudies = String(studies.length);
  } catch (e) {
    say((e as Error).message);
  }
}

async function pacsOpenStudy(study: string): Promise<void> {
  pacsStudy = study;
  const table = $<HTMLTableElement>('pacsSeries');
  table.textContent = '';
  try {
    const { series } = await getJson<{ series: Array<{ seriesUid: string; modality: string; number: number | null; description: string; instances: number | null }> }>(`/v1/pacs/studies/${study}/series`);
    for (const s of series) pickRow(table, [`#${s.number ?? ''}`, s.modality, s.description, `${s.instances ?? '?'} images`], () => void pacsOpenSeries(study, s.seriesUid, `${s.modality} series ${s.number ?? ''}`), s.seriesUid);
    document.body.dataset.pacsSeries = String(series.length);
  } catch (e) {
    say((e as Error).message);
  }
}

async function pacsOpenSeries(study: string, series: string, title: string): Promise<void> {
  pacsSeries = series;
  try {
    const { instances } = await getJson<{ instances: Array<{ sopInstanceUid: string; number: number | null }> }>(`/v1/pacs/studies/${study}/series/${series}/instances`);
    const base = `/v1/pacs/studies/${study}/series/${series}/instances/`;
    const g: Group = { key: series, title: `PACS: ${title} (${instances.length} images)`, items: instances.map((i) => ({ name: `${i.sopInstanceUid}.dcm`, url: base + i.sopInstanceUid })), pacs: { study, series } };
    groups = [g];
    $('gallery').textContent = '';
    const first = await decodeImage(await bytesOf(g.items[Math.floor(g.items.length / 2)]), 'pacs.dcm');
    g.thumb = thumbnail(first);
    addCard(g);
    $<HTMLButtonElement>('classifyAll').disabled = false;
    $<HTMLButtonElement>('pacsAnalyse').disabled = false;
    await select(g);
  } catch (e) {
    say((e as Error).message);
  }
}

async function pacsAnalyse(): Promise<void> {
  if (!pacsStudy || !pacsSeries) return;
  const el = $('pacsResult');
  el.textContent = 'analysing on the server…';
  delete document.body.dataset.pacsDone;
  try {
    const body: Record<string, unknown> = { study: pacsStudy, series: pacsSeries, labels: labels().join(','), storeSr: $<HTMLInputElement>('pacsStore').checked };
    if (templateSet()) body.templates = templatesText();
    const r = (await postJson('pacs/classify', body)) as { results: Array<{ labels?: LabelScore[]; error?: { message: string } }>; sr: Array<{ status: string; srInstanceUid: string }> };
    const ok = r.results.filter((x) => x.labels);
    el.textContent = `${ok.length} images analysed${r.results.length > ok.length ? `, ${r.results.length - ok.length} failed` : ''}; series mean:`;
    const scores = meanScores(ok.map((x) => x.labels!));
    const box = document.createElement('div');
    chart(scores, box);
    el.append(box);
    for (const s of r.sr) {
      const p = document.createElement('p');
      p.className = 'sr';
      p.textContent = s.status === 'stored' ? `SR ${s.srInstanceUid} stored in the study` : s.status === 'already-stored' ? `SR ${s.srInstanceUid} was already in the study` : `SR: ${s.status}`;
      el.append(p);
    }
    if (current?.pacs?.series === pacsSeries) {
      current.scores = scores;
      showGroupScores(current);
    }
    document.body.dataset.pacsDone = r.sr[0]?.status ?? 'analysed';
  } catch (e) {
    el.textContent = (e as Error).message;
    document.body.dataset.pacsDone = 'error';
  }
}

// ---- wiring ----

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

/** Files of a drop, folders walked (entries must be taken before the first await). */
async function droppedFiles(dt: DataTransfer): Promise<File[]> {
  const entries = [...dt.items].map((it) => (it.kind === 'file' ? { entry: it.webkitGetAsEntry?.() ?? null, file: it.getAsFile() } : undefined)).filter((x) => x !== undefined);
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) out.push(await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)));
    else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const { entry, file } of entries) {
    if (entry?.isDirectory) await walk(entry);
    else if (file) out.push(file);
  }
  return out;
}

for (const id of ['file', 'folder']) {
  $<HTMLInputElement>(id).addEventListener('change', (e) => void openFiles([...((e.target as HTMLInputElement).files ?? [])]));
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(openFiles);
});
frameInput.addEventListener('input', () => {
  if (walksItems()) void showItem(Number(frameInput.value));
  else showSlice();
});
preset.addEventListener('change', showSlice);
classifyButton.addEventListener('click', () => void classify());
$('classifyAll').addEventListener('click', () => void classifyAll());
$('cancelAll').addEventListener('click', () => (cancelled = true));
$('ask').addEventListener('click', () => void ask());
$('similar').addEventListener('click', () => void similar());
$('draft').addEventListener('click', () => void draft());
$('templateSet').addEventListener('change', () => void loadTemplateSet($<HTMLSelectElement>('templateSet').value));
$('jobStart').addEventListener('click', () => void startJob());
$('jobCancel').addEventListener('click', () => jobId && void fetch(`/v1/jobs/${jobId}`, { method: 'DELETE' }));
$('pacsSearch').addEventListener('click', () => void pacsSearch());
$('pacsAnalyse').addEventListener('click', () => void pacsAnalyse());

initDensePanel(async () => {
  if (!current) return undefined;
  const item = current.items[itemIndex];
  const frame = currentFrame();
  return { bytes: await bytesOf(item), name: item.name, fields: { window: preset.value, ...(frame ? { [frame.kind]: String(frame.index) } : {}) } };
}, post);

void loadTemplateSet('medical');
void fetch('/v1/health')
  .then((r) => r.json())
  .then((h: { index: boolean; dataRoot?: boolean; pacs?: boolean }) => {
    $('indexTools').hidden = !h.index;
    $('jobsBox').hidden = !h.dataRoot;
    $('pacsBox').hidden = !h.pacs;
    document.body.dataset.ready = 'yes';
  });
