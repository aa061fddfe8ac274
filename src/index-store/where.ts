/**
 * `--where key=value` filters on the index's metadata, turned into the SQL predicate the store
 * understands. Only known columns can be filtered; values are compared case-insensitively and quoted
 * safely, so user text never becomes SQL.
 */
import { OptionError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** Metadata keys that `--where` accepts, and the column each one filters. */
export const WHERE_KEYS: Readonly<Record<string, string>> = {
  modality: 'modality',
  body_part: 'body_part',
  bodypart: 'body_part',
  location: 'body_part',
  plane: 'plane',
  split: 'split',
  case_id: 'case_id',
  case: 'case_id',
  label: 'labels',
  path: 'path',
};

/** One parsed filter. `op` '=' / '!=' compare whole values; '~' means "contains". */
export interface WhereFilter {
  column: string;
  op: '=' | '!=' | '~';
  value: string;
}

/**
 * Parse `key=value`, `key!=value` or `key~value` (contains). Keys are case-insensitive.
 * @throws OptionError E_BAD_OPTION naming the filter and the accepted keys.
 */
export function parseWhere(specs: string[]): WhereFilter[] {
  return specs.map((spec) => {
    const m = /^\s*([A-Za-z_]+)\s*(!=|=|~)\s*(.*?)\s*$/.exec(spec);
    if (!m || m[3].length === 0) {
      throw new OptionError('E_BAD_OPTION', `where ${JSON.stringify(spec)}: expected key=value, key!=value or key~value (e.g. modality=CT)`, { option: 'where' });
    }
    const key = m[1].toLowerCase();
    const column = WHERE_KEYS[key];
    if (!column) {
      throw new OptionError('E_BAD_OPTION', `where ${JSON.stringify(spec)}: unknown key '${key}'${didYouMean(key, Object.keys(WHERE_KEYS))}; keys: ${Object.keys(WHERE_KEYS).join(', ')}`, { option: 'where' });
    }
    return { column, op: m[2] as WhereFilter['op'], value: m[3] };
  });
}

/** A SQL string literal: single quotes doubled. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Escape LIKE wildcards so a value matches literally (backslash is the escape character). */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** One filter as a SQL predicate (labels are a JSON array of strings: matched as a whole element). */
export function filterToSql(f: WhereFilter): string {
  const v = f.value.toLowerCase();
  const col = `lower(${f.column})`;
  if (f.column === 'labels') {
    const pattern = f.op === '~' ? `%${likeLiteral(v)}%` : `%${likeLiteral(JSON.stringify(v))}%`;
    const like = `${col} LIKE ${sqlString(pattern)} ESCAPE '\\'`;
    return f.op === '!=' ? `(labels IS NULL OR NOT (${like}))` : `(labels IS NOT NULL AND ${like})`;
  }
  if (f.op === '~') return `(${f.column} IS NOT NULL AND ${col} LIKE ${sqlString(`%${likeLiteral(v)}%`)} ESCAPE '\\')`;
  if (f.op === '!=') return `(${f.column} IS NULL OR ${col} <> ${sqlString(v)})`;
  return `(${f.column} IS NOT NULL AND ${col} = ${sqlString(v)})`;
}

/** All filters joined with AND (undefined when there are none). */
export function whereToSql(filters: WhereFilter[]): string | undefined {
  return filters.length ? filters.map(filterToSql).join(' AND ') : undefined;
}

/** True when a plain record passes the filters (the same semantics as the SQL; used for JSONL corpora). */
export function matchesWhere(record: Record<string, unknown>, filters: WhereFilter[]): boolean {
  return filters.every((f) => {
    const raw = record[f.column];
    if (f.column === 'labels') {
      const labels = (Array.isArray(raw) ? raw : typeof raw === 'string' ? safeJsonArray(raw) : []).map((x) => String(x).toLowerCase());
      const v = f.value.toLowerCase();
      const hit = f.op === '~' ? labels.some((l) => l.includes(v)) : labels.includes(v);
      return f.op === '!=' ? !hit : hit;
    }
    if (raw === undefined || raw === null) return f.op === '!=';
    const s = String(raw).toLowerCase();
    const v = f.value.toLowerCase();
    if (f.op === '~') return s.includes(v);
    return f.op === '=' ? s === v : s !== v;
  });
}

function safeJsonArray(s: string): unknown[] {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
