/**
 * The similar-case index: one folder holding `medvlm-index.json` (which model made the vectors) and a
 * LanceDB table. Every image is one row (`kind` "image"); each of its texts (caption, findings, ...)
 * is one more row (`kind` "text") with its text embedding, so text→image, image→image and
 * image→text search all run on one table.
 *
 * Crash safety comes from LanceDB's commit protocol: data files are written first and a new table
 * version becomes visible only when its manifest is committed, so a killed writer leaves the
 * previous version readable. All rows of an image (its image row and its text rows, and the removal
 * of stale ones) are written in one merge-insert, i.e. one commit.
 *
 * Concurrent writers (two `index add` runs, a committer and an `index remove`) take turns: every
 * commit runs under the folder's write lock (write-lock.ts) on the table's latest version, LanceDB's
 * retryable commit conflicts are retried with back-off, and what still fails is a typed error
 * (E_DISK_FULL, E_INDEX_CONFLICT, E_INDEX_WRITE_FAILED). Compaction keeps the versions of the last
 * few minutes, so that a reader (or another writer's duplicate check) holding an older version does
 * not lose its files under it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection, Table } from '@lancedb/lancedb';
import { inputError } from '../core/errors.js';
import { loadLance } from './lance.js';
import { indexWriteError, retryConflicts } from './lance-errors.js';
import { DEFAULT_LOCK_WAIT_MS, withWriteLock } from './write-lock.js';
import type { EntryMetadata } from './manifest.js';
import { assertSameModel, INDEX_FORMAT, INDEX_FORMAT_VERSION, readMeta, writeMeta, type IndexMeta, type IndexModel } from './meta.js';
import { sqlString, whereToSql, type WhereFilter } from './where.js';

const TABLE = 'entries';

/** Below this many rows search is always exact; from it on `optimize` builds an ANN index. */
export const DEFAULT_ANN_MIN_ROWS = 20_000;

/** ANN search defaults: HNSW beam width and re-ranking factor (see `search`). */
export const DEFAULT_EF = 200;
export const DEFAULT_REFINE_FACTOR = 5;

/** `optimize` deletes table versions older than this: readers that opened one earlier keep their files. */
export const VERSION_GRACE_MS = 5 * 60_000;

/** DICOM identifiers of an image (study/series/SOP instance UIDs): stored, printed only on request. */
export interface DicomIds {
  studyUid?: string;
  seriesUid?: string;
  sopUid?: string;
}

/** One text of an entry with its text embedding. */
export interface EntryText {
  field: string;
  text: string;
  vector: Float32Array;
}

/** What is stored for one image. */
export interface IndexEntry {
  /** Absolute path of the image (the entry's key). */
  path: string;
  /** sha256 (hex) of the file's bytes. */
  hash: string;
  /** L2-normalised image embedding. */
  vector: Float32Array;
  metadata: EntryMetadata;
  texts: EntryText[];
  dicom?: DicomIds;
  /** The manifest record the texts came from, kept as is. */
  source?: Record<string, unknown>;
}

/** An entry read back from the index. */
export interface StoredEntry {
  path: string;
  hash: string;
  metadata: EntryMetadata;
  /** Texts by field. */
  texts: Record<string, string>;
  dicom: DicomIds;
  addedAt: string;
  source?: Record<string, unknown>;
  /** Present when asked for (`withVectors`). */
  vector?: Float32Array;
}

/** One search result. `similarity` is the cosine similarity (1 - cosine distance). */
export interface IndexHit {
  kind: 'image' | 'text';
  path: string;
  /** For text hits: which field and the text itself. */
  field?: string;
  text?: string;
  similarity: number;
  hash: string;
  metadata: EntryMetadata;
  /** All texts of the entry, by field. */
  texts: Record<string, string>;
  dicom: DicomIds;
}

/** Options of `CaseIndex.search`. */
export interface IndexSearchOptions {
  k?: number;
  /** Search image rows (default) or text rows. */
  kind?: 'image' | 'text';
  where?: WhereFilter[];
  /** Force an exact (brute-force) scan even when an ANN index exists. */
  exact?: boolean;
  /** ANN: IVF partitions probed (LanceDB default 20). */
  nprobes?: number;
  /** ANN: HNSW beam width (default max(200, 4k)). */
  ef?: number;
  /** ANN: re-rank refineFactor × k candidates with full vectors (default 5). */
  refineFactor?: number;
}

/** Counts and facts about an index (`medvlm index stats`). */
export interface IndexStats {
  dir: string;
  model: IndexModel;
  createdAt: string;
  entries: number;
  texts: number;
  byModality: Record<string, number>;
  bySplit: Record<string, number>;
  byBodyPart: Record<string, number>;
  tableVersion: number;
  annIndex: { type: string; indexedRows: number; unindexedRows: number } | null;
  bytesOnDisk: number;
}

type Row = Record<string, unknown>;

/** Open (or create) the index in `dir`. */
export interface OpenIndexOptions {
  /** Create the index when the folder has none (needs `model`). */
  create?: boolean;
  /** The model about to add or search: refused unless its weights match the index's. */
  model?: IndexModel;
  /** Longest wait for another process's commit to finish before E_INDEX_CONFLICT (default 10 min). */
  lockWaitMs?: number;
}

/** A similar-case index on disk. */
export class CaseIndex {
  private constructor(
    readonly dir: string,
    readonly meta: IndexMeta,
    private readonly db: Connection,
    private readonly table: Table,
    private readonly lockWaitMs: number,
  ) {}

  /**
   * Open the index in `dir`.
   * @throws E_INDEX_NOT_FOUND when there is none (and `create` is not set), E_INDEX_MODEL_MISMATCH when
   * `model` has other weights than the index.
   */
  static async open(dir: string, opts: OpenIndexOptions = {}): Promise<CaseIndex> {
    const lockWaitMs = opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS;
    let meta = readMeta(dir);
    if (!meta) {
      if (!opts.create || !opts.model) {
        throw inputError('E_INDEX_NOT_FOUND', dir, existsSync(dir) ? 'not a medvlm index (no medvlm-index.json); create one with medvlm index add' : 'no such index folder; create one with medvlm index add');
      }
      const model = opts.model;
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw indexWriteError(e, dir, 'creating the index folder');
      }
      // two processes creating the same index: the first writes the description, the second finds it
      meta = await withWriteLock(
        dir,
        async () => {
          const now = readMeta(dir);
          if (now) return now;
          const fresh: IndexMeta = { format: INDEX_FORMAT, formatVersion: INDEX_FORMAT_VERSION, createdAt: new Date().toISOString(), model };
          await writeMeta(dir, fresh).catch((e: unknown) => {
            throw indexWriteError(e, dir, 'writing medvlm-index.json');
          });
          return fresh;
        },
        lockWaitMs,
      );
    }
    if (opts.model) assertSameModel(dir, meta, opts.model);
    const { lancedb } = await loadLance();
    const db = await lancedb.connect(dir);
    const schema = await tableSchema(meta.model.embedDim);
    const table = (await db.tableNames()).includes(TABLE)
      ? await db.openTable(TABLE)
      : await withWriteLock(dir, () => retryConflicts(() => db.createEmptyTable(TABLE, schema, { existOk: true })), lockWaitMs).catch((e: unknown) => {
          throw indexWriteError(e, dir, 'creating the table');
        });
    return new CaseIndex(dir, meta, db, table, lockWaitMs);
  }

  /**
   * Run one commit: under the folder's write lock, on the latest table version, with LanceDB's
   * retryable conflicts retried; failures become typed errors naming `what`.
   */
  private async write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withWriteLock(
        this.dir,
        async () => {
          await this.table.checkoutLatest();
          return retryConflicts(fn, { beforeRetry: () => this.table.checkoutLatest() });
        },
        this.lockWaitMs,
      );
    } catch (e) {
      throw indexWriteError(e, this.dir, what);
    }
  }

  /** Embedding dimension of every vector in the index. */
  get dim(): number {
    return this.meta.model.embedDim;
  }

  /** Content hash of every stored image, by path (optionally only for `paths`). */
  async hashes(paths?: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const chunks = paths ? chunk(paths, 500) : [undefined];
    for (const c of chunks) {
      if (c && c.length === 0) continue;
      const where = `kind = 'image'${c ? ` AND path IN (${c.map(sqlString).join(',')})` : ''}`;
      const rows = (await this.table.query().where(where).select(['path', 'hash']).toArray()) as Row[];
      for (const r of rows) out.set(String(r.path), String(r.hash));
    }
    return out;
  }

  /**
   * Insert or replace entries, all in one commit: each entry's image row and text rows are written and
   * rows of these paths that are no longer part of them (an old text field) are deleted.
   */
  async upsert(entries: IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.checkDims(entries);
    const rows = entries.flatMap((e) => entryRows(e));
    const paths = [...new Set(entries.map((e) => e.path))];
    await this.write(`adding ${entries.length} entries`, () =>
      this.table
        .mergeInsert('id')
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .whenNotMatchedBySourceDelete({ where: `path IN (${paths.map(sqlString).join(',')})` })
        .execute(rows),
    );
  }

  /**
   * Write a large batch from the work queue's committer: paths not in the index are appended (cheap
   * at any table size), paths already there are replaced by merge-insert; both under one hold of the
   * write lock, so no other writer adds the same path in between. Repeating the call with the same
   * entries changes nothing but `added_at`.
   */
  async commitEntries(entries: IndexEntry[]): Promise<{ appended: number; replaced: number }> {
    if (entries.length === 0) return { appended: 0, replaced: 0 };
    this.checkDims(entries);
    const unique = [...new Map(entries.map((e) => [e.path, e])).values()];
    return this.write(`committing ${unique.length} entries`, async () => {
      const known = await this.hashes(unique.map((e) => e.path));
      const fresh = unique.filter((e) => !known.has(e.path));
      const old = unique.filter((e) => known.has(e.path));
      if (fresh.length) await this.table.add(fresh.flatMap((e) => entryRows(e)));
      if (old.length) {
        const paths = old.map((e) => e.path);
        await this.table
          .mergeInsert('id')
          .whenMatchedUpdateAll()
          .whenNotMatchedInsertAll()
          .whenNotMatchedBySourceDelete({ where: `path IN (${paths.map(sqlString).join(',')})` })
          .execute(old.flatMap((e) => entryRows(e)));
      }
      return { appended: fresh.length, replaced: old.length };
    });
  }

  /** Append entries known to be new (no duplicate check; for bulk loads such as benchmarks). */
  async append(entries: IndexEntry[]): Promise<void> {
    if (entries.length === 0) return;
    this.checkDims(entries);
    const rows = entries.flatMap((e) => entryRows(e));
    await this.write(`appending ${entries.length} entries`, () => this.table.add(rows));
  }

  /** Remove entries (and their texts) by path; returns how many images were removed. */
  async remove(paths: string[]): Promise<number> {
    let removed = 0;
    for (const c of chunk([...new Set(paths)], 500)) {
      const inList = `path IN (${c.map(sqlString).join(',')})`;
      removed += await this.write(`removing ${c.length} paths`, async () => {
        const n = await this.table.countRows(`kind = 'image' AND ${inList}`);
        await this.table.delete(inList);
        return n;
      });
    }
    return removed;
  }

  /** Entries (image rows with their texts), optionally filtered, in path order. */
  async entries(opts: { where?: WhereFilter[]; withVectors?: boolean } = {}): Promise<StoredEntry[]> {
    const filter = [`kind = 'image'`, whereToSql(opts.where ?? [])].filter(Boolean).join(' AND ');
    const cols = ['path', 'hash', 'modality', 'body_part', 'plane', 'split', 'case_id', 'labels', 'texts', 'study_uid', 'series_uid', 'sop_uid', 'added_at', 'source'];
    const rows = (await this.table.query().where(filter).select(opts.withVectors ? [...cols, 'vector'] : cols).toArray()) as Row[];
    return rows.map((r) => storedEntry(r, opts.withVectors === true)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Nearest rows to a query embedding (cosine), best first. */
  async search(query: Float32Array, opts: IndexSearchOptions = {}): Promise<IndexHit[]> {
    if (query.length !== this.dim) {
      throw inputError('E_INDEX_INVALID', this.dir, `query embedding has ${query.length} dimensions, the index ${this.dim}`);
    }
    const k = Math.max(1, opts.k ?? 10);
    const filter = [`kind = ${sqlString(opts.kind ?? 'image')}`, whereToSql(opts.where ?? [])].filter(Boolean).join(' AND ');
    let q = this.table.vectorSearch(query).column('vector').distanceType('cosine').where(filter).limit(k);
    if (opts.exact) q = q.bypassVectorIndex();
    else {
      // Defaults chosen on a seeded synthetic set (bench/search.ts): the 8-bit codes alone reach
      // recall@10 of about 0.6 on 512-d vectors; a wider beam and re-ranking with the full vectors ~0.99.
      if (opts.nprobes) q = q.nprobes(opts.nprobes);
      q = q.ef(opts.ef ?? Math.max(DEFAULT_EF, 4 * k));
      q = q.refineFactor(opts.refineFactor ?? DEFAULT_REFINE_FACTOR);
    }
    const rows = (await q.select(HIT_COLUMNS).toArray()) as Row[];
    return rows.map(toHit);
  }

  /** Number of image entries (optionally only those matching `where`). */
  async count(where: WhereFilter[] = []): Promise<number> {
    return this.table.countRows([`kind = 'image'`, whereToSql(where)].filter(Boolean).join(' AND '));
  }

  /** Counts, model, ANN state and size on disk. */
  async stats(): Promise<IndexStats> {
    const rows = (await this.table.query().select(['kind', 'modality', 'split', 'body_part']).toArray()) as Row[];
    const images = rows.filter((r) => r.kind === 'image');
    const tally = (key: string): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const r of images) {
        const v = r[key] == null ? '(none)' : String(r[key]);
        out[v] = (out[v] ?? 0) + 1;
      }
      return out;
    };
    return {
      dir: this.dir,
      model: this.meta.model,
      createdAt: this.meta.createdAt,
      entries: images.length,
      texts: rows.length - images.length,
      byModality: tally('modality'),
      bySplit: tally('split'),
      byBodyPart: tally('body_part'),
      tableVersion: await this.table.version(),
      annIndex: await this.annState(),
      bytesOnDisk: await folderBytes(this.dir),
    };
  }

  /** The vector index, if one was built: its type and how many rows it covers. */
  async annState(): Promise<IndexStats['annIndex']> {
    const indices = await this.table.listIndices();
    const vec = indices.find((i) => i.columns.includes('vector'));
    if (!vec) return null;
    const s = await this.table.indexStats(vec.name);
    return { type: vec.indexType, indexedRows: s?.numIndexedRows ?? 0, unindexedRows: s?.numUnindexedRows ?? 0 };
  }

  /**
   * Compact the table's files, drop old versions, keep the scalar index on `kind` and build or
   * refresh the ANN index: `ann` 'auto' builds one from `annMinRows` rows on (default), true always,
   * false never. Rows added after an index was built are indexed here (until then they are scanned).
   */
  async optimize(opts: { ann?: 'auto' | boolean; annMinRows?: number } = {}): Promise<{ annBuilt: boolean }> {
    const { lancedb } = await loadLance();
    return this.write('optimizing', async () => {
      const rows = await this.table.countRows();
      const ann = opts.ann ?? 'auto';
      const indices = await this.table.listIndices();
      if (rows > 0 && !indices.some((i) => i.columns.includes('kind'))) {
        // every search filters on kind: without a scalar index that prefilter costs more than the scan (~8x at 10k rows)
        await this.table.createIndex('kind', { config: lancedb.Index.bitmap() });
      }
      if (rows > 0 && !indices.some((i) => i.columns.includes('path'))) {
        // every commit looks its paths up (duplicate check, append vs replace): a B-tree keeps that from
        // scanning the whole path column of a large archive; rows added since are scanned until the next optimize
        await this.table.createIndex('path', { config: lancedb.Index.btree() });
      }
      const existing = await this.annState();
      let annBuilt = false;
      if (!existing && (ann === true || (ann === 'auto' && rows >= (opts.annMinRows ?? DEFAULT_ANN_MIN_ROWS))) && rows >= 256) {
        // HNSW inside IVF partitions, vectors scalar-quantised to 8 bits; ~1 partition per 100k rows.
        const numPartitions = Math.max(1, Math.round(rows / 100_000));
        await this.table.createIndex('vector', { config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions }), replace: true });
        annBuilt = true;
      }
      await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - VERSION_GRACE_MS) });
      return { annBuilt };
    });
  }

  /** Release the table handle. */
  close(): void {
    this.table.close();
    this.db.close();
  }

  private checkDims(entries: IndexEntry[]): void {
    for (const e of entries) {
      for (const v of [e.vector, ...e.texts.map((t) => t.vector)]) {
        if (v.length !== this.dim) throw inputError('E_INDEX_INVALID', e.path, `embedding has ${v.length} dimensions, the index ${this.dim}`);
      }
    }
  }
}

const HIT_COLUMNS = ['kind', 'path', 'field', 'text', 'hash', 'modality', 'body_part', 'plane', 'split', 'case_id', 'labels', 'texts', 'study_uid', 'series_uid', 'sop_uid', '_distance'];

async function tableSchema(dim: number) {
  const { arrow } = await loadLance();
  const utf8 = (name: string, nullable = true) => new arrow.Field(name, new arrow.Utf8(), nullable);
  return new arrow.Schema([
    utf8('id', false),
    utf8('path', false),
    utf8('kind', false),
    utf8('field'),
    utf8('text'),
    utf8('hash', false),
    utf8('modality'),
    utf8('body_part'),
    utf8('plane'),
    utf8('split'),
    utf8('case_id'),
    utf8('labels'),
    utf8('texts'),
    utf8('study_uid'),
    utf8('series_uid'),
    utf8('sop_uid'),
    utf8('source'),
    utf8('added_at'),
    new arrow.Field('vector', new arrow.FixedSizeList(dim, new arrow.Field('item', new arrow.Float32(), true)), false),
  ]);
}

function entryRows(e: IndexEntry): Row[] {
  const m = e.metadata;
  const texts: Record<string, string> = {};
  for (const t of e.texts) texts[t.field] = t.text;
  const common: Row = {
    path: e.path,
    hash: e.hash,
    modality: m.modality ?? null,
    body_part: m.body_part ?? null,
    plane: m.plane ?? null,
    split: m.split ?? null,
    case_id: m.case_id ?? null,
    labels: m.labels?.length ? JSON.stringify(m.labels.map((l) => l.toLowerCase())) : null,
    texts: JSON.stringify(texts),
    study_uid: e.dicom?.studyUid ?? null,
    series_uid: e.dicom?.seriesUid ?? null,
    sop_uid: e.dicom?.sopUid ?? null,
    source: e.source ? JSON.stringify(e.source) : null,
    added_at: new Date().toISOString(),
  };
  return [
    { ...common, id: `${e.path}#image`, kind: 'image', field: null, text: null, vector: e.vector },
    ...e.texts.map((t) => ({ ...common, id: `${e.path}#text:${t.field}`, kind: 'text', field: t.field, text: t.text, vector: t.vector })),
  ];
}

function optStr(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

function parseJson<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

function metadataOf(r: Row): EntryMetadata {
  const m: EntryMetadata = {};
  for (const k of ['modality', 'body_part', 'plane', 'split', 'case_id'] as const) {
    const v = optStr(r[k]);
    if (v !== undefined) m[k] = v;
  }
  const labels = parseJson<string[] | undefined>(r.labels, undefined);
  if (labels) m.labels = labels;
  return m;
}

function dicomOf(r: Row): DicomIds {
  const d: DicomIds = {};
  if (r.study_uid != null) d.studyUid = String(r.study_uid);
  if (r.series_uid != null) d.seriesUid = String(r.series_uid);
  if (r.sop_uid != null) d.sopUid = String(r.sop_uid);
  return d;
}

function vectorOf(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  const arr = (v as { toArray?: () => ArrayLike<number> }).toArray?.() ?? (v as ArrayLike<number>);
  return Float32Array.from(arr);
}

function storedEntry(r: Row, withVector: boolean): StoredEntry {
  const e: StoredEntry = {
    path: String(r.path),
    hash: String(r.hash),
    metadata: metadataOf(r),
    texts: parseJson<Record<string, string>>(r.texts, {}),
    dicom: dicomOf(r),
    addedAt: String(r.added_at ?? ''),
  };
  const source = parseJson<Record<string, unknown> | undefined>(r.source, undefined);
  if (source) e.source = source;
  if (withVector) e.vector = vectorOf(r.vector);
  return e;
}

function toHit(r: Row): IndexHit {
  const hit: IndexHit = {
    kind: r.kind === 'text' ? 'text' : 'image',
    path: String(r.path),
    similarity: 1 - Number(r._distance),
    hash: String(r.hash),
    metadata: metadataOf(r),
    texts: parseJson<Record<string, string>>(r.texts, {}),
    dicom: dicomOf(r),
  };
  if (r.field != null) hit.field = String(r.field);
  if (r.text != null) hit.text = String(r.text);
  return hit;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  // a concurrent writer may remove files (old versions, its lock) while this walks: those count 0
  const gone = (e: unknown): number => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  };
  const entries = await readdir(dir, { withFileTypes: true }).catch(gone);
  if (typeof entries === 'number') return 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? await folderBytes(p) : await stat(p).then((s) => s.size, gone);
  }
  return total;
}
