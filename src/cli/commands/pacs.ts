import { Command, Option } from 'commander';
import { RESEARCH_NOTICE, DEFAULT_MODEL } from '../../models/defaults.js';
import { classifyRows, classifyStudy, type SeriesScores } from '../../pacs/classify.js';
import { DicomwebClient, type QidoFilters } from '../../pacs/client.js';
import { str, strs, num, isUid, type DicomJson } from '../../pacs/dicom-json.js';
import { resolveAuth } from '../../pacs/auth.js';
import { pullStudy } from '../../pacs/pull.js';
import { parseServerUrl } from '../../pacs/http.js';
import { storeSeriesSr, type SrOutcome } from '../../pacs/store-results.js';
import { watchPacs, type WatchEvent } from '../../pacs/watch.js';
import { corpusIdentity, draftStudyReports } from '../../pacs/draft.js';
import { indexStudy } from '../../pacs/index-study.js';
import { storeDraftSr } from '../../pacs/store-results.js';
import type { CaseIndex } from '../../index-store/store.js';
import type { DraftCorpus } from '../../tasks/draft-report.js';
import { isJsonlCorpus, readTextCorpus } from '../../tasks/draft-corpus.js';
import { modelForIndex, openIndexFor } from '../../tasks/case-index.js';
import { loadDualEncoder } from '../../models/registry.js';
import { indexModelOptions } from './index.js';
import { parseLabels } from '../../tasks/zero-shot.js';
import { DEFAULT_TEMPLATES } from '../../tasks/templates.js';
import { loadTemplates } from '../../tasks/templates-files.js';
import { OptionError } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, out } from '../output.js';
import { progressBar } from '../progress.js';

/** Connection options shared by every `pacs` subcommand. */
interface ConnectionCliOptions {
  url?: string;
  user?: string;
  passwordFile?: string;
  tokenFile?: string;
  caFile?: string;
  timeout: number;
  retries: number;
}

function connectionOptions(): Option[] {
  return [
    new Option('--url <url>', 'DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web (or MEDVLM_PACS_URL)'),
    new Option('--user <name>', 'HTTP basic user (or MEDVLM_PACS_USER); the password comes from --password-file or MEDVLM_PACS_PASSWORD'),
    new Option('--password-file <file>', 'file whose first line is the basic-auth password'),
    new Option('--token-file <file>', 'file whose first line is a bearer token (or MEDVLM_PACS_TOKEN)'),
    new Option('--ca-file <file>', 'PEM bundle of extra CA certificates to trust for https (verification is always on)'),
    new Option('--timeout <ms>', 'per-request timeout in ms').argParser(intOption('--timeout', 1)).default(30_000),
    new Option('--retries <n>', 'retries on network errors and 5xx answers').argParser(intOption('--retries', 0)).default(3),
  ];
}

/** The client for parsed connection options. */
export function clientFromCli(o: ConnectionCliOptions): DicomwebClient {
  const url = o.url ?? process.env.MEDVLM_PACS_URL;
  if (!url) throw new OptionError('E_BAD_OPTION', '--url is required (or set MEDVLM_PACS_URL), e.g. --url http://127.0.0.1:8042/dicom-web');
  const auth = resolveAuth({ user: o.user, passwordFile: o.passwordFile, tokenFile: o.tokenFile });
  return new DicomwebClient({ url, auth, caFile: o.caFile, timeoutMs: o.timeout, retries: o.retries });
}

/** A progress bar made on the first report, once the total is known. */
function lazyBar(label: string): { onProgress: (done: number, total: number) => void; stop: () => void } {
  let bar: ReturnType<typeof progressBar> | undefined;
  return {
    onProgress: (done, total) => {
      bar ??= progressBar(label, total);
      bar.onProgress?.(done, total, '');
    },
    stop: () => bar?.stop(),
  };
}

function uidOption(name: string, v: string): string {
  if (!isUid(v)) throw new OptionError('E_BAD_OPTION', `${name} ${v.slice(0, 80)}: not a DICOM UID (digits and dots, at most 64 characters)`);
  return v;
}

function withConnection(cmd: Command): Command {
  for (const o of connectionOptions()) cmd.addOption(o);
  return cmd;
}

interface QueryCliOptions extends ConnectionCliOptions {
  level: 'studies' | 'series' | 'instances';
  patientId?: string;
  patientName?: string;
  studyDate?: string;
  modality?: string;
  accession?: string;
  study?: string;
  series?: string;
  limit?: number;
  json?: boolean;
}

function queryLine(level: QueryCliOptions['level'], j: DicomJson): string {
  if (level === 'studies') {
    return [str(j, 'StudyInstanceUID'), str(j, 'StudyDate'), strs(j, 'ModalitiesInStudy').join('\\'), str(j, 'AccessionNumber'),
      `${num(j, 'NumberOfStudyRelatedSeries') ?? '?'} series`, `${num(j, 'NumberOfStudyRelatedInstances') ?? '?'} instances`, str(j, 'StudyDescription')].join('\t');
  }
  if (level === 'series') {
    return [str(j, 'SeriesInstanceUID'), str(j, 'Modality'), str(j, 'SeriesNumber'), `${num(j, 'NumberOfSeriesRelatedInstances') ?? '?'} instances`, str(j, 'SeriesDescription')].join('\t');
  }
  return [str(j, 'SOPInstanceUID'), str(j, 'SeriesInstanceUID'), str(j, 'SOPClassUID'), str(j, 'InstanceNumber')].join('\t');
}

function queryCommand(): Command {
  const cmd = new Command('query')
    .description('QIDO-RS search: studies, series or instances matching the filters')
    .addOption(new Option('--level <level>', 'what to list').choices(['studies', 'series', 'instances']).default('studies'))
    .option('--patient-id <id>', 'PatientID (wildcards * and ? allowed)')
    .option('--patient-name <name>', 'PatientName (wildcards allowed)')
    .option('--study-date <date>', 'StudyDate YYYYMMDD or range YYYYMMDD-YYYYMMDD')
    .option('--modality <m>', 'modality (ModalitiesInStudy for studies)')
    .option('--accession <n>', 'AccessionNumber')
    .option('--study <uid>', 'StudyInstanceUID')
    .option('--series <uid>', 'SeriesInstanceUID (series and instances levels)')
    .addOption(new Option('--limit <n>', 'at most n results').argParser(intOption('--limit', 1)))
    .option('--json', 'print the DICOM JSON answer');
  return withConnection(cmd).action(async (o: QueryCliOptions) => {
    const client = clientFromCli(o);
    try {
      const f: QidoFilters = {
        patientId: o.patientId, patientName: o.patientName, studyDate: o.studyDate, modality: o.modality, accession: o.accession,
        studyUid: o.study ? uidOption('--study', o.study) : undefined, seriesUid: o.series ? uidOption('--series', o.series) : undefined,
      };
      const opts = o.limit ? { limit: o.limit } : {};
      const found = o.level === 'studies' ? await client.searchStudies(f, opts) : o.level === 'series' ? await client.searchSeries(f, opts) : await client.searchInstances(f, opts);
      if (o.json) out(JSON.stringify(found, null, 2));
      else for (const j of found) out(queryLine(o.level, j));
      note(`medvlm: ${found.length} ${o.level}`);
    } finally {
      await client.close();
    }
  });
}

interface PullCliOptions extends ConnectionCliOptions {
  study: string;
  series?: string;
  out: string;
  concurrency: number;
  json?: boolean;
}

function pullCommand(): Command {
  const cmd = new Command('pull')
    .description('WADO-RS: copy a study to OUT/<series UID>/<SOP instance UID>.dcm (resumable; existing files are kept)')
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .option('--series <uid>', 'only this series')
    .requiredOption('-o, --out <dir>', 'output folder')
    .addOption(new Option('--concurrency <n>', 'parallel requests').argParser(intOption('--concurrency', 1)).default(4))
    .option('--json', 'print {written, skipped, failed} as JSON');
  return withConnection(cmd).action(async (o: PullCliOptions) => {
    const client = clientFromCli(o);
    const bar = lazyBar('pull');
    try {
      const r = await pullStudy(client, {
        studyUid: uidOption('--study', o.study),
        ...(o.series ? { seriesUid: uidOption('--series', o.series) } : {}),
        outDir: o.out,
        concurrency: o.concurrency,
        onProgress: bar.onProgress,
      });
      bar.stop();
      if (o.json) out(JSON.stringify(r, null, 2));
      else for (const f of r.written) out(f);
      for (const f of r.failed) note(`medvlm: ${f.error.message} [${f.error.code}]`);
      note(`medvlm: ${r.written.length} written, ${r.skipped.length} already present, ${r.failed.length} failed`);
      if (r.failed.length) process.exitCode = EXIT.pacs;
    } finally {
      bar.stop();
      await client.close();
    }
  });
}

interface ClassifyCliOptions extends ConnectionCliOptions, ModelCliOptions, ViewCliOptions {
  study: string;
  series?: string;
  labels: string;
  templates: string;
  top?: number;
  json?: boolean;
  storeSr?: boolean;
  dryRun?: boolean;
  srOut?: string;
  pdf?: boolean;
}

function classifyCommand(): Command {
  const cmd = new Command('classify')
    .description('zero-shot classification of a PACS study, streamed (nothing written to disk); optionally store a DICOM SR per series')
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .option('--series <uid>', 'only this series')
    .requiredOption('-l, --labels <labels>', 'comma-separated labels, e.g. "CT,MRI,X-ray"')
    .option('-t, --templates <name|file>', 'prompt template set: built-in name or JSON file', DEFAULT_TEMPLATES)
    .addOption(new Option('--top <n>', 'print only the n best labels').argParser(intOption('--top', 1)))
    .option('--store-sr', 'store the results in the study as one Comprehensive SR per series (STOW-RS; never twice)')
    .option('--dry-run', 'with --store-sr: build the SRs and say what would be stored, without storing')
    .option('--sr-out <dir>', 'also write the SR files to this folder')
    .option('--pdf', 'with --store-sr: also store a PDF rendition of each SR (Encapsulated PDF) that PACS web viewers open as a document')
    .option('--json', 'print a JSON object {results, sr}');
  for (const opt of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(opt);
  return withConnection(cmd).action(async (o: ClassifyCliOptions) => {
    const labels = parseLabels(o.labels);
    const templates = loadTemplates(o.templates);
    const studyUid = uidOption('--study', o.study);
    const seriesUid = o.series ? uidOption('--series', o.series) : undefined;
    const client = clientFromCli(o);
    try {
      const encoder = await loadDualEncoder(o.model, pipelineOptions(o));
      const bar = lazyBar('classify');
      let series: SeriesScores[];
      try {
        series = await classifyStudy(client, encoder, {
          studyUid, ...(seriesUid ? { seriesUid } : {}), labels, templates, view: toViewOptions(o), batchSize: o.batchSize,
          onProgress: bar.onProgress,
        });
      } finally {
        bar.stop();
        await encoder.dispose();
      }
      const sr: SrOutcome[] = [];
      if (o.storeSr || o.srOut || o.dryRun) {
        for (const s of series) {
          sr.push(await storeSeriesSr(client, s, { model: encoder.info, labels, templates: templates.name, dryRun: o.dryRun || !o.storeSr, pdf: Boolean(o.pdf), ...(o.srOut ? { srOut: o.srOut } : {}) }));
        }
      }
      const failed = series.flatMap((s) => s.failed);
      const analysed = series.reduce((n, s) => n + s.results.length, 0);
      if (o.json) {
        out(JSON.stringify({ model: encoder.info.id, results: classifyRows(series, o.top), sr }, null, 2));
        note(`medvlm: ${RESEARCH_NOTICE}`);
      } else {
        out(`# ${RESEARCH_NOTICE}`);
        out(`# model ${encoder.info.id} (${encoder.info.dtype}), scoring ${encoder.scoring}, templates ${templates.name} (${templates.templates.length})`);
        for (const s of series) {
          for (const r of s.results) {
            const labelsOut = o.top ? r.labels.slice(0, o.top) : r.labels;
            out(`${s.seriesUid}/${r.instance.sopInstanceUid}\t${labelsOut.map((l) => `${l.label} ${l.score.toFixed(3)}`).join('\t')}`);
          }
        }
        for (const x of sr) {
          const verb = x.status === 'stored' ? 'stored' : x.status === 'already-stored' ? 'already in the PACS' : x.status === 'dry-run' ? 'would store' : 'nothing analysed, no SR for';
          note(`medvlm: SR ${x.srInstanceUid} (${x.references} images of series ${x.seriesUid}): ${verb}${x.file ? `; written to ${x.file}` : ''}`);
          if (x.pdf) note(`medvlm: PDF rendition ${x.pdf.sopInstanceUid}: ${x.pdf.status}${x.pdf.file ? `; written to ${x.pdf.file}` : ''}`);
        }
      }
      for (const f of failed) note(`medvlm: ${f.error.message} [${f.error.code}]`);
      if (analysed + failed.length === 0) {
        note(`medvlm: study ${studyUid} has no image instances to classify`);
        process.exitCode = EXIT.input;
      } else if (failed.length) {
        note(`${failed.length} of ${analysed + failed.length} instances failed; the others were classified`);
        process.exitCode = EXIT.input;
      }
    } finally {
      await client.close();
    }
  });
}

interface WatchCliOptions extends ConnectionCliOptions, ModelCliOptions, ViewCliOptions {
  labels: string;
  templates: string;
  interval: number;
  studyDate?: string;
  patientId?: string;
  modality?: string;
  dryRun?: boolean;
  once?: boolean;
  json?: boolean;
  feed: 'auto' | 'orthanc' | 'qido';
  orthancUrl?: string;
}

function watchLine(e: WatchEvent): string | undefined {
  switch (e.kind) {
    case 'analysed':
      return `analysed\t${e.studyUid}\t${e.seriesUid}\t${e.images} images${e.failed ? `, ${e.failed} failed` : ''}\tSR ${e.sr.srInstanceUid} ${e.sr.status}`;
    case 'already-done':
      return `already-done\t${e.studyUid}\t${e.seriesUid}`;
    case 'series-failed':
      return `series-failed\t${e.studyUid}\t${e.seriesUid}\t${e.error.message} [${e.error.code}]`;
    default:
      return undefined;
  }
}

function watchCommand(): Command {
  const cmd = new Command('watch')
    .description("follow the PACS (Orthanc's change log, else QIDO-RS polling) and classify each new image series once, storing one SR per series; Ctrl-C stops")
    .requiredOption('-l, --labels <labels>', 'comma-separated labels')
    .option('-t, --templates <name|file>', 'prompt template set: built-in name or JSON file', DEFAULT_TEMPLATES)
    .addOption(new Option('--interval <s>', 'seconds between polls').argParser(intOption('--interval', 1)).default(10))
    .option('--study-date <date>', 'only studies of this StudyDate or range, e.g. 20240101-')
    .option('--patient-id <id>', 'only studies of this PatientID (wildcards allowed)')
    .option('--modality <m>', 'only studies with this modality')
    .option('--dry-run', 'build the SRs but do not store them')
    .option('--once', 'one pass over what is there now (no settle wait), then exit')
    .addOption(new Option('--feed <feed>', "how to learn of new series: auto (Orthanc's change log when the server is Orthanc, else QIDO-RS), orthanc, qido").choices(['auto', 'orthanc', 'qido']).default('auto'))
    .option('--orthanc-url <url>', "Orthanc's REST root when it is not the --url without /dicom-web (same credentials)")
    .option('--json', 'one JSON object per event (JSON lines)');
  for (const opt of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(opt);
  return withConnection(cmd).action(async (o: WatchCliOptions) => {
    const labels = parseLabels(o.labels);
    const templates = loadTemplates(o.templates);
    const client = clientFromCli(o);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const encoder = await loadDualEncoder(o.model, pipelineOptions(o));
      note(`medvlm: ${RESEARCH_NOTICE}`);
      try {
        await watchPacs(client, encoder, {
          labels, templates, view: toViewOptions(o), batchSize: o.batchSize, intervalMs: o.interval * 1000, dryRun: o.dryRun,
          feed: o.feed === 'orthanc' ? 'orthanc-changes' : o.feed,
          ...(o.orthancUrl ? { orthancUrl: parseServerUrl(o.orthancUrl).href } : {}),
          filters: { studyDate: o.studyDate, patientId: o.patientId, modality: o.modality },
          ...(o.once ? { maxPolls: 1, noSettle: true } : {}),
          signal: stop.signal,
          onEvent: (e) => {
            if (o.json) {
              if (e.kind !== 'poll') out(JSON.stringify(e));
              return;
            }
            if (e.kind === 'feed') note(`medvlm: watching via ${e.detail}`);
            if (e.kind === 'poll-failed') note(`medvlm: poll ${e.poll} failed: ${e.error.message} [${e.error.code}]; next try in ${Math.round(e.retryInMs / 1000)} s`);
            const line = watchLine(e);
            if (line) out(line);
          },
        });
      } finally {
        await encoder.dispose();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await client.close();
    }
  });
}

interface DraftCliOptions extends ConnectionCliOptions, Partial<ModelCliOptions>, ViewCliOptions {
  study: string;
  series?: string;
  corpus: string;
  k: number;
  sentences: number;
  fields?: string;
  storeSr?: boolean;
  dryRun?: boolean;
  srOut?: string;
  pdf?: boolean;
  json?: boolean;
  batchSize: number;
}

function draftReportCommand(): Command {
  const cmd = new Command('draft-report')
    .description('research draft per image series of a PACS study, from the reports of similar cases; optionally stored as a DICOM SR')
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .option('--series <uid>', 'only this series')
    .requiredOption('--corpus <index|file.jsonl>', 'an index folder (medvlm index add) or a JSONL of cases with caption/findings')
    .addOption(new Option('-k, --k <n>', 'similar cases to draw from').argParser(intOption('--k', 1)).default(5))
    .addOption(new Option('--sentences <n>', 'sentences in the draft').argParser(intOption('--sentences', 1)).default(3))
    .option('--fields <list>', 'text fields to draw from, e.g. caption,findings (default: all)')
    .option('--store-sr', 'store each draft in the study as a Comprehensive SR (STOW-RS; never twice)')
    .option('--dry-run', 'with --store-sr: build the SRs without storing them')
    .option('--sr-out <dir>', 'also write the SR files to this folder')
    .option('--pdf', 'with --store-sr: also store a PDF rendition of each SR (Encapsulated PDF) that PACS web viewers open as a document')
    .option('--json', 'print JSON {drafts, sr}');
  for (const opt of [...indexModelOptions(), ...viewOptions()]) cmd.addOption(opt);
  return withConnection(cmd).action(async (o: DraftCliOptions) => {
    const studyUid = uidOption('--study', o.study);
    const seriesUid = o.series ? uidOption('--series', o.series) : undefined;
    const jsonl = isJsonlCorpus(o.corpus);
    const fields = o.fields?.split(',').map((x) => x.trim()).filter(Boolean);
    const client = clientFromCli(o);
    let index: CaseIndex | undefined;
    try {
      const choice = jsonl ? { model: o.model ?? DEFAULT_MODEL, dtype: o.dtype ?? 'fp32' } : modelForIndex(o.corpus, o);
      const encoder = await loadDualEncoder(choice.model, { ...pipelineOptions(o), dtype: choice.dtype });
      try {
        const corpus: DraftCorpus = jsonl ? { records: readTextCorpus(o.corpus, fields) } : { index: (index = await openIndexFor(o.corpus, encoder)) };
        const drafts = await draftStudyReports(client, encoder, corpus, {
          studyUid, ...(seriesUid ? { seriesUid } : {}), view: toViewOptions(o), batchSize: o.batchSize,
          draft: { k: o.k, maxSentences: o.sentences, ...(fields ? { fields } : {}) },
        });
        const sr: SrOutcome[] = [];
        if (o.storeSr || o.srOut || o.dryRun) {
          const settings = JSON.stringify({ k: o.k, sentences: o.sentences, fields: fields ?? null, view: toViewOptions(o) });
          for (const d of drafts) {
            sr.push(await storeDraftSr(client, d, { model: encoder.info, corpus: corpusIdentity(o.corpus), settings, dryRun: o.dryRun || !o.storeSr, pdf: Boolean(o.pdf), ...(o.srOut ? { srOut: o.srOut } : {}) }));
          }
        }
        if (o.json) {
          const rows = drafts.map(({ sourceInstance: _s, ...d }) => d);
          out(JSON.stringify({ model: encoder.info.id, notice: RESEARCH_NOTICE, drafts: rows, sr }, null, 2));
        } else {
          out(`# ${RESEARCH_NOTICE}`);
          for (const d of drafts) {
            out(`## series ${d.seriesUid} (${d.modality}, ${d.images.length} images)`);
            out(d.draft?.text || '(no draft: no image of the series could be read, or no sentence could be drawn)');
            d.draft?.sentences.forEach((x, i) => out(`  [${i + 1}] ${x.source.caseId ? `case ${x.source.caseId}, ` : ''}${x.source.field}; case similarity ${x.caseSimilarity.toFixed(3)}, sentence similarity ${x.sentenceSimilarity.toFixed(3)}`));
          }
          for (const x of sr) {
            note(`medvlm: SR ${x.srInstanceUid} (series ${x.seriesUid}): ${x.status}${x.file ? `; written to ${x.file}` : ''}`);
            if (x.pdf) note(`medvlm: PDF rendition ${x.pdf.sopInstanceUid}: ${x.pdf.status}${x.pdf.file ? `; written to ${x.pdf.file}` : ''}`);
          }
        }
        const failed = drafts.flatMap((d) => d.failed);
        for (const f of failed) note(`medvlm: ${f.error.message} [${f.error.code}]`);
        if (failed.length) process.exitCode = EXIT.input;
      } finally {
        index?.close();
        await encoder.dispose();
      }
    } finally {
      await client.close();
    }
  });
}

interface IndexCliOptions extends ConnectionCliOptions, Partial<ModelCliOptions>, ViewCliOptions {
  study: string;
  series?: string;
  index: string;
  json?: boolean;
  batchSize: number;
}

function indexCommand(): Command {
  const cmd = new Command('index')
    .description('add the images of a PACS study to a similar-case index (keyed by their WADO-RS address; reruns add only new instances)')
    .requiredOption('--study <uid>', 'StudyInstanceUID')
    .option('--series <uid>', 'only this series')
    .requiredOption('--index <dir>', 'index folder (created when missing)')
    .option('--json', 'print {added, skipped, failed} as JSON');
  for (const opt of [...indexModelOptions(), ...viewOptions()]) cmd.addOption(opt);
  return withConnection(cmd).action(async (o: IndexCliOptions) => {
    const studyUid = uidOption('--study', o.study);
    const seriesUid = o.series ? uidOption('--series', o.series) : undefined;
    const client = clientFromCli(o);
    let index: CaseIndex | undefined;
    try {
      const choice = modelForIndex(o.index, o, false);
      const encoder = await loadDualEncoder(choice.model, { ...pipelineOptions(o), dtype: choice.dtype });
      try {
        index = await openIndexFor(o.index, encoder, true);
        const bar = lazyBar('index');
        const r = await indexStudy(client, encoder, index, { studyUid, ...(seriesUid ? { seriesUid } : {}), view: toViewOptions(o), batchSize: o.batchSize, onProgress: bar.onProgress });
        bar.stop();
        if (o.json) out(JSON.stringify(r, null, 2));
        for (const f of r.failed) note(`medvlm: ${f.error.message} [${f.error.code}]`);
        note(`medvlm: ${r.added.length} added, ${r.skipped.length} already in ${o.index}, ${r.failed.length} failed`);
        if (r.failed.length) process.exitCode = EXIT.input;
      } finally {
        index?.close();
        await encoder.dispose();
      }
    } finally {
      await client.close();
    }
  });
}

/** `medvlm pacs query|pull|classify|draft-report|index|watch`: work with images in a PACS over DICOMweb. */
export function pacsCommand(): Command {
  return new Command('pacs')
    .description('use a PACS over DICOMweb (QIDO-RS, WADO-RS, STOW-RS): query, pull, classify, draft reports, index, watch; results stored as DICOM SR')
    .addCommand(queryCommand())
    .addCommand(pullCommand())
    .addCommand(classifyCommand())
    .addCommand(watchCommand())
    .addCommand(draftReportCommand())
    .addCommand(indexCommand());
}
