/**
 * `medvlm/index`: the similar-case index (LanceDB on disk): add, search, remove, stats, export, and the
 * store itself for callers who manage models themselves.
 */
import './io/platform-node.js';

export { addToIndexFolder, removeFromIndex, indexStats, exportIndex, modelForIndex, openIndexFor, type IndexAddSummary, type AddToIndexFolderOptions, type RemoveResult, type ExportIndexOptions, type ExportedEntry } from './tasks/case-index.js';
export { addToIndex, searchIndex, embedQuery, type AddToIndexOptions, type AddToIndexResult, type SearchOptions, type SearchQuery, type SearchResult } from './tasks/search.js';
export { CaseIndex, type IndexEntry, type IndexHit, type IndexStats, type StoredEntry, type DicomIds } from './index-store/store.js';
export { readManifest, DEFAULT_TEXT_FIELDS, type ManifestRecord } from './index-store/manifest.js';
export { parseWhere, matchesWhere, type WhereFilter } from './index-store/where.js';
export { draftReport, draftFromEmbedding, type DraftCorpus, type DraftReport, type DraftReportOptions } from './tasks/draft-report.js';
export { readTextCorpus, isJsonlCorpus } from './tasks/draft-corpus.js';
