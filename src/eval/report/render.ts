/** The report in three forms: Markdown, long-format CSV and a self-contained HTML page with inline SVG charts. */
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { cellCharts, renderSvg } from './charts.js';
import type { LoadedResult } from './load.js';
import { csvRows, reportTables, toCsv, type CsvRow, type Table } from './tables.js';

/** First line of every Markdown report (lets `medvlm report` recognise and replace its own output). */
export const MD_MARK = '<!-- medvlm report -->';
/** Marker of the HTML report. */
export const HTML_MARK = '<meta name="generator" content="medvlm report">';
/** Marker of the CSV report. */
export const CSV_MARK = '# medvlm report.';

const TABLE_FOOTER = `Each row: the data set and split it was measured on, n = test items measured. ${RESEARCH_NOTICE}`;

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One table in Markdown, with its note and the research-use footer. */
export function tableMarkdown(t: Table): string {
  const lines = [`## ${t.title}`, ''];
  if (t.note) lines.push(t.note, '');
  lines.push(`| ${t.header.map(mdCell).join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`);
  for (const r of t.rows) lines.push(`| ${r.map(mdCell).join(' | ')} |`);
  lines.push('', `_${TABLE_FOOTER}_`, '');
  return lines.join('\n');
}

function generated(results: LoadedResult[], extraDates: string[]): string {
  const dates = [...results.map((r) => r.result.createdAt), ...extraDates].sort();
  return dates.length ? `results from ${dates[0].slice(0, 10)} to ${dates[dates.length - 1].slice(0, 10)}` : 'no results';
}

/**
 * The Markdown report.
 * @param extra tables of other cell kinds (the generative cells), after the classification tables
 * @param extraDates the creation dates of the cells `extra` stands for
 * @param overlays the dense cells' best/median/worst overlays
 */
export function reportMarkdown(results: LoadedResult[], extra: Table[] = [], extraDates: string[] = [], overlays: ReportOverlay[] = []): string {
  const head = [MD_MARK, '# medvlm evaluation report', '', `> **${RESEARCH_NOTICE}**`, '', `${results.length + extraDates.length} result cells; ${generated(results, extraDates)}.`, ''];
  const figures = overlays.length ? ['## Overlays: best, median and worst test case', '', OVERLAY_NOTE, '', ...overlays.map((o) => `![${o.title}](${o.href})`), ''] : [];
  return [...head, ...[...reportTables(results), ...extra].filter((t) => t.rows.length).map(tableMarkdown), ...figures].join('\n');
}

/** An overlay image of a dense cell: its caption, its path relative to the report, its PNG bytes (inlined in HTML). */
export interface ReportOverlay {
  title: string;
  href: string;
  png: Uint8Array;
}

const OVERLAY_NOTE = 'Per data set and task, the test cases ranked best, median and worst by their own score (Dice for segmentation, pixel AUROC for maps and anomaly): the map or probability in the hot ramp, the ground-truth outline in green.';

/** The CSV report (every number, full precision); `extra`: rows of other cell kinds. */
export function reportCsv(results: LoadedResult[], extra: CsvRow[] = []): string {
  return toCsv([...csvRows(results), ...extra], RESEARCH_NOTICE);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function tableHtml(t: Table): string {
  return [
    `<section><h2>${esc(t.title)}</h2>`,
    t.note ? `<p class="note">${esc(t.note)}</p>` : '',
    '<div class="scroll"><table>',
    `<thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}</tbody>`,
    '</table></div>',
    `<p class="footer">${esc(TABLE_FOOTER)}</p></section>`,
  ].join('\n');
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
.notice{background:#fff3cd;border:1px solid #e0c36c;padding:.6rem 1rem;border-radius:4px}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;white-space:nowrap}
th{background:#f4f4f4}.scroll{overflow-x:auto}.note,.footer{font-size:.85rem;color:#555}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts figure{margin:0}figcaption{font-size:.8rem;color:#555}`;

/** The HTML report: tables (then `extra` tables), then the charts of each cell as inline SVG. No external resources. */
export async function reportHtml(results: LoadedResult[], extra: Table[] = [], extraDates: string[] = [], overlays: ReportOverlay[] = []): Promise<string> {
  const overlayHtml = overlays.length
    ? `<section><h2>Overlays: best, median and worst test case</h2><p class="note">${esc(OVERLAY_NOTE)}</p><div class="charts">${overlays
      .map((o) => `<figure><img src="data:image/png;base64,${Buffer.from(o.png).toString('base64')}" alt="${esc(o.title)}" width="256"><figcaption>${esc(o.title)}</figcaption></figure>`)
      .join('\n')}</div></section>`
    : '';
  const figures: string[] = [];
  for (const { result } of results) {
    const charts = cellCharts(result);
    if (!charts.length) continue;
    const svgs = await Promise.all(charts.map(async (c) => `<figure>${await renderSvg(c.spec)}<figcaption>${esc(c.title)}</figcaption></figure>`));
    figures.push(`<h3>${esc(`${result.model.id} · ${result.dataset.id} · ${result.task} (${result.dataset.split}, n=${result.dataset.n})`)}</h3><div class="charts">${svgs.join('\n')}</div>`);
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    HTML_MARK,
    '<title>medvlm evaluation report</title>',
    `<style>${CSS}</style></head><body>`,
    '<h1>medvlm evaluation report</h1>',
    `<p class="notice"><strong>${esc(RESEARCH_NOTICE)}</strong></p>`,
    `<p>${results.length + extraDates.length} result cells; ${esc(generated(results, extraDates))}.</p>`,
    ...[...reportTables(results), ...extra].filter((t) => t.rows.length).map(tableHtml),
    figures.length ? `<section><h2>Charts</h2>${figures.join('\n')}</section>` : '',
    overlayHtml,
    `<p class="footer">${esc(RESEARCH_NOTICE)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}
