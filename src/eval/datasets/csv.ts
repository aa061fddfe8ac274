/** A small RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF) for data set manifests. */

/**
 * Parse CSV text with a header row into one object per row (keys from the header). Blank lines are
 * skipped; a row with fewer fields than the header gets empty strings for the rest.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) records.push(row);
    row = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    }
    else if (c === '\n') endRow();
    else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) endRow();
  const [header, ...rest] = records;
  if (!header) return [];
  return rest.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j] ?? ''])));
}
