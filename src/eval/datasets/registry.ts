/**
 * Known evaluation data sets: the descriptions in `<package root>/datasets/*.json`, the data root
 * they are read from, and `loadDataset`, which turns a description into items with classes and splits.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { inputError, OptionError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import { didYouMean } from '../../core/suggest.js';
import type { TemplateSet } from '../../tasks/templates.js';
import { loadTemplates } from '../../tasks/templates-files.js';
import { itemFileName, readSource, sourcePath, type RawItem } from './adapters.js';
import { readDatasetSpec, type DatasetSpec, type StratifiedSplit } from './spec.js';
import { stratifiedSplit } from './split.js';
import type { Dataset, EvalItem, SplitRole } from './types.js';

/** Folder of the shipped data set descriptions. */
export function datasetsDir(): string {
  return join(packageRoot(), 'datasets');
}

/**
 * The data root: `explicit` (--data-root), else `MEDVLM_DATA`, else `../shared/data` next to the
 * package root (where the development data lives).
 */
export function resolveDataRoot(explicit?: string): string {
  const chosen = explicit ?? process.env.MEDVLM_DATA;
  return chosen ? resolve(chosen) : resolve(packageRoot(), '..', 'shared', 'data');
}

/** All shipped descriptions, sorted by id. */
export function datasetSpecs(dir = datasetsDir()): DatasetSpec[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readDatasetSpec(join(dir, f)));
}

/**
 * The description of a known data set, or a JSON file describing one.
 * @throws OptionError E_BAD_OPTION for an unknown id (with "did you mean").
 */
export function findDatasetSpec(idOrFile: string, dir = datasetsDir()): DatasetSpec {
  if (idOrFile.endsWith('.json') && existsSync(idOrFile)) return readDatasetSpec(idOrFile);
  const specs = datasetSpecs(dir);
  const found = specs.find((s) => s.id === idOrFile);
  if (!found) {
    const ids = specs.map((s) => s.id);
    throw new OptionError('E_BAD_OPTION', `datasets ${idOrFile}: unknown data set${didYouMean(idOrFile, ids)}; known: ${ids.join(', ')}`, { option: 'datasets' });
  }
  return found;
}

/** A data set's entry in `medvlm datasets`. */
export interface DatasetListing {
  id: string;
  title: string;
  tasks: string[];
  format: string;
  path: string;
  present: boolean;
  evaluationOnly: boolean;
  licence?: string;
}

/** Every known data set and whether its files are present under `dataRoot`. */
export function listDatasets(dataRoot: string, dir = datasetsDir()): DatasetListing[] {
  return datasetSpecs(dir).map((s) => {
    const path = sourcePath(s, dataRoot);
    return {
      id: s.id,
      title: s.title,
      tasks: s.tasks,
      format: s.source.format,
      path,
      present: existsSync(path),
      evaluationOnly: Boolean(s.evaluationOnly),
      ...(s.licence ? { licence: s.licence } : {}),
    };
  });
}

/** Is the data set's source present under `dataRoot`? */
export function datasetPresent(spec: DatasetSpec, dataRoot: string): boolean {
  return existsSync(sourcePath(spec, dataRoot));
}

function templatesOf(spec: DatasetSpec): TemplateSet {
  if (Array.isArray(spec.templates)) return { name: `${spec.id} (inline)`, templates: spec.templates };
  return loadTemplates(spec.templates ?? 'plain');
}

/** Class names → indices; items with a class outside the description are left out and counted. */
function mapClasses(spec: DatasetSpec, raw: RawItem[], notes: string[]): Array<{ raw: RawItem; item: EvalItem }> {
  const names = spec.classes?.map((c) => c.name);
  const index = new Map(names?.map((n, i) => [n, i]));
  const unknown = new Map<string, number>();
  const out: Array<{ raw: RawItem; item: EvalItem }> = [];
  for (const r of raw) {
    const item: EvalItem = { id: r.id, images: r.images };
    if (r.captions) item.captions = r.captions;
    if (r.qa) item.qa = r.qa;
    if (names) {
      let idx = r.classIndices ?? (r.classNames ?? []).map((n) => index.get(n) ?? -1);
      if (r.classIndices) idx = idx.map((i) => (i >= 0 && i < names.length ? i : -1));
      const missing = idx.some((i) => i < 0) || (!spec.multiLabel && idx.length !== 1);
      if (missing) {
        const what = r.classIndices ? r.classIndices.join(',') : (r.classNames ?? []).join('|') || '(none)';
        unknown.set(what, (unknown.get(what) ?? 0) + 1);
        continue;
      }
      if (spec.multiLabel) item.labels = names.map((_, j) => (idx.includes(j) ? 1 : 0));
      else item.label = idx[0];
    }
    if (spec.tasks.length === 1 && spec.tasks[0] === 'retrieval' && !(item.captions && item.captions.length)) {
      unknown.set('(no caption)', (unknown.get('(no caption)') ?? 0) + 1);
      continue;
    }
    out.push({ raw: r, item });
  }
  for (const [what, n] of [...unknown].sort()) notes.push(`${n} items left out: class ${JSON.stringify(what)} is not in the description`);
  return out;
}

function readSplitFile(file: string): Record<string, string[]> | undefined {
  if (!existsSync(file)) return undefined;
  const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const role of ['train', 'val', 'test']) if (Array.isArray(v[role])) out[role] = (v[role] as unknown[]).map(String);
  if (!out.test) throw inputError('E_DATASET_INVALID', file, 'split file has no "test" list of file names');
  return out;
}

/** Assign each item a role (or none) and say how. */
function assignSplits(spec: DatasetSpec, items: Array<{ raw: RawItem; item: EvalItem }>, notes: string[]): { roles: Map<EvalItem, SplitRole>; source: string } {
  const roles = new Map<EvalItem, SplitRole>();
  const s = spec.split;
  const stratified = (sp: StratifiedSplit) => {
    const byId = new Map(items.map((x) => [x.item.id, x.item]));
    const group = (id: string) => {
      const it = byId.get(id)!;
      return String(it.label ?? it.labels?.join('') ?? '');
    };
    for (const [id, role] of stratifiedSplit([...byId.keys()], group, sp)) roles.set(byId.get(id)!, role);
    return `stratified ${sp.train}/${sp.val}/${sp.test} by class, seed ${sp.seed} (mulberry32)`;
  };
  if (s.kind === 'all') {
    for (const { item } of items) roles.set(item, 'test');
    return { roles, source: 'all items (evaluation only)' };
  }
  if (s.kind === 'stratified') return { roles, source: stratified(s) };
  if (s.kind === 'file') {
    const file = isAbsolute(s.file) ? s.file : join(packageRoot(), s.file);
    const lists = readSplitFile(file);
    if (!lists) {
      notes.push(`split file ${s.file} not found: used the seeded stratified fallback`);
      return { roles, source: stratified(s.fallback) };
    }
    const roleOf = new Map<string, SplitRole>();
    for (const role of ['train', 'val', 'test'] as const) for (const name of lists[role] ?? []) roleOf.set(name, role);
    let unlisted = 0;
    for (const { raw, item } of items) {
      const role = roleOf.get(item.id) ?? roleOf.get(itemFileName(raw));
      if (role) roles.set(item, role);
      else unlisted++;
    }
    if (unlisted) notes.push(`${unlisted} items are in no list of ${s.file}`);
    return { roles, source: `file ${s.file}` };
  }
  const byName = new Map<string, SplitRole>();
  for (const role of ['train', 'val', 'test'] as const) if (s[role] !== undefined) byName.set(s[role]!, role);
  for (const { raw, item } of items) {
    const role = raw.split !== undefined ? byName.get(raw.split) : undefined;
    if (role) roles.set(item, role);
  }
  const how = s.kind === 'field' ? `manifest field "${s.field}"` : s.kind === 'arrays' ? 'the arrays of the .npz' : 'top-level folders';
  return { roles, source: `${how}: test = "${s.test}"${s.train ? `, train = "${s.train}"` : ''}${s.val ? `, val = "${s.val}"` : ''}` };
}

/**
 * Load a data set for evaluation: read its files, map classes, assign splits.
 * @throws InputError E_FILE_NOT_FOUND when its files are absent under `dataRoot`; E_DATASET_INVALID for bad content
 */
export function loadDataset(spec: DatasetSpec, dataRoot: string): Dataset {
  const raw = readSource(spec, dataRoot);
  const notes = [...raw.notes];
  const mapped = mapClasses(spec, raw.items, notes);
  const { roles, source } = assignSplits(spec, mapped, notes);
  const splits: Dataset['splits'] = { test: [] };
  for (const { item } of mapped) {
    const role = roles.get(item);
    if (role) (splits[role] ??= []).push(item);
  }
  if (splits.test.length === 0) throw inputError('E_DATASET_INVALID', sourcePath(spec, dataRoot), `data set ${spec.id}: the test split is empty (${source})`);
  return {
    spec,
    id: spec.id,
    classes: spec.classes?.map((c) => c.name) ?? [],
    sentences: spec.classes?.map((c) => c.sentence) ?? [],
    templates: templatesOf(spec),
    multiLabel: Boolean(spec.multiLabel),
    splits,
    splitSource: source,
    notes,
  };
}
