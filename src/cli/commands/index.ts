import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import type { IndexHit, StoredEntry } from '../../index-store/store.js';
import { readManifest, DEFAULT_TEXT_FIELDS, type ManifestRecord } from '../../index-store/manifest.js';
import { parseWhere, type WhereFilter } from '../../index-store/where.js';
import { expandInputs, type InputProblem } from '../../io/inputs.js';
import { DEFAULT_MODEL } from '../../models/defaults.js';
import { commitQueueToIndex, enqueueIndexAdd } from '../../queue/index.js';
import { addToIndexFolder, exportIndex, indexStats, removeFromIndex } from '../../tasks/case-index.js';
import { cliFileError, fileErrorLine } from '../errors.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { onStopSignal, queueOptions } from './queue.js';
import { note, out, writeOutput } from '../output.js';
import { progressBar } from '../progress.js';

/** Collect a repeatable option into an array. */
export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** Model options for commands that work on an index: the model defaults to the index's own. */
export function indexModelOptions(): Option[] {
  return modelOptions(DEFAULT_MODEL).map((o) =>
    o.long === '--model' ? new Option('-m, --model <id>', "model id (default: the index's model; for a new index " + DEFAULT_MODEL + ')') : o.long === '--dtype' ? new Option('--dtype <dtype>', "weights variant (default: the index's)").choices(['fp32', 'q8']) : o,
  );
}

/** A short one-line view of a hit's metadata. */
export function describeMetadata(h: Pick<IndexHit | StoredEntry, 'metadata'>): string {
  const m = h.metadata;
  return [m.modality, m.body_part, m.plane, m.case_id && `case ${m.case_id}`, m.split && `split ${m.split}`].filter(Boolean).join(', ');
}

interface AddCliOptions extends Partial<ModelCliOptions>, ViewCliOptions {
  index: string;
  textFrom?: string;
  textFields?: string;
  where: string[];
  split?: string;
  ann: 'auto' | 'on' | 'off';
  json?: boolean;
  batchSize: number;
  queue?: string;
  queueName: string;
  wait?: boolean;
  commitSize?: number;
}

function addCommand(): Command {
  const cmd = new Command('add')
    .description('add images (files, folders, globs) to an index; with --text-from and no paths, every image of the manifest')
    .argument('[paths...]', 'image files, folders (recursive) or glob patterns')
    .requiredOption('--index <dir>', 'index folder (created when missing)')
    .option('--text-from <manifest.jsonl>', 'JSONL with "image" (relative to the manifest) and texts/metadata (caption, findings, modality, location, split, ...)')
    .option('--text-fields <list>', `manifest fields stored as texts (default: ${DEFAULT_TEXT_FIELDS.join(',')})`)
    .option('--where <key=value>', 'only add images whose manifest metadata matches (repeatable), e.g. split=train', collect, [])
    .option('--split <name>', 'shorthand for --where split=NAME')
    .addOption(new Option('--ann <mode>', 'approximate-search index: auto (from 20,000 rows: images + texts), on, off').choices(['auto', 'on', 'off']).default('auto'))
    .option('--json', 'print the summary as JSON')
    .option('--wait', 'with --queue: also commit the results into the index as workers finish them, and return when all are in')
    .addOption(new Option('--commit-size <n>', 'with --queue --wait: images per index commit, at most').argParser(intOption('--commit-size', 1)));
  for (const o of [...indexModelOptions(), ...viewOptions(), ...queueOptions(false)]) cmd.addOption(o);
  return cmd.action(async (paths: string[], o: AddCliOptions) => {
    if (paths.length === 0 && !o.textFrom) throw new OptionError('E_BAD_OPTION', 'index add: give image paths and/or --text-from MANIFEST');
    if (!o.queue && (o.wait || o.commitSize)) throw new OptionError('E_BAD_OPTION', 'index add: --wait and --commit-size need --queue');
    const where = parseWhere([...o.where, ...(o.split ? [`split=${o.split}`] : [])]);
    const fields = o.textFields ? o.textFields.split(',').map((s) => s.trim()).filter(Boolean) : [...DEFAULT_TEXT_FIELDS];
    const manifest = o.textFrom ? readManifest(o.textFrom, fields) : undefined;
    const { files, problems } = await expandInputs(paths);
    if (o.queue) return enqueueAdd(o, files, problems, manifest, where);
    const bar = progressBar('index add', files.length || manifest?.length || 0);
    let summary: Awaited<ReturnType<typeof addToIndexFolder>>;
    try {
      summary = await addToIndexFolder(o.index, files, {
        ...sharedAddOptions(o, manifest, where),
        onProgress: bar.onProgress,
        ann: o.ann === 'auto' ? 'auto' : o.ann === 'on',
      });
    } finally {
      bar.stop();
    }
    const errors = [...problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } })), ...summary.errors.map(cliFileError)];
    summary = { ...summary, errors };
    if (o.json) out(JSON.stringify(summary, null, 2));
    else {
      out(`${summary.index}: added ${summary.added}, replaced ${summary.replaced}, unchanged ${summary.unchanged}, duplicate content ${summary.duplicates.length}, filtered out ${summary.filteredOut}, failed ${errors.length}`);
      for (const d of summary.duplicates) note(`medvlm: ${d.file}: same content as ${d.duplicateOf}, not added again`);
    }
    for (const e of errors) note(fileErrorLine(e));
    if (summary.optimizeError) note(`medvlm: entries were committed, but ${summary.optimizeError.message} [${summary.optimizeError.code}]`);
    const storage = summary.writeError ?? summary.optimizeError;
    if (storage) process.exitCode = exitCodeFor(storage.code);
    else if (errors.length) process.exitCode = EXIT.input;
  });
}

/** The options `index add` passes alike to the in-process path and the queue. */
function sharedAddOptions(o: AddCliOptions, manifest: ManifestRecord[] | undefined, where: WhereFilter[]) {
  return {
    ...(o.model ? { model: o.model } : {}),
    ...(o.dtype ? { dtype: o.dtype } : {}),
    load: pipelineOptions(o),
    ...(manifest ? { manifest } : {}),
    where,
    view: toViewOptions(o),
    batchSize: o.batchSize,
  };
}

/** `index add --queue`: plan and enqueue; with --wait also commit until everything is in. */
async function enqueueAdd(o: AddCliOptions, files: string[], problems: InputProblem[], manifest: ManifestRecord[] | undefined, where: WhereFilter[]): Promise<void> {
  const bar = o.wait ? progressBar('index add', files.length || manifest?.length || 0) : undefined;
  let summary;
  try {
    summary = await enqueueIndexAdd(o.index, files, {
      queue: o.queue!,
      queueName: o.queueName,
      ...sharedAddOptions(o, manifest, where),
      wait: Boolean(o.wait),
      ...(o.commitSize ? { commitSize: o.commitSize } : {}),
      ann: o.ann === 'auto' ? 'auto' : o.ann === 'on',
      ...(bar ? { onCommitted: (done: number, total: number) => bar.onProgress?.(done, total, '') } : {}),
      stop: onStopSignal(),
    });
  } finally {
    bar?.stop();
  }
  const errors = [...problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } })), ...summary.errors.map(cliFileError)];
  summary = { ...summary, errors };
  if (o.json) out(JSON.stringify(summary, null, 2));
  else {
    out(
      `${summary.index}: enqueued ${summary.enqueued} files in ${summary.batches} batches on ${summary.queue} ${summary.queueName}` +
        `${summary.committed !== undefined ? `, committed ${summary.committed} in ${summary.commits} commits` : ' (run medvlm worker and medvlm index commit, or add --wait)'}` +
        `, unchanged ${summary.unchanged}, duplicate content ${summary.duplicates.length}, filtered out ${summary.filteredOut}, failed ${errors.length}`,
    );
    for (const d of summary.duplicates) note(`medvlm: ${d.file}: same content as ${d.duplicateOf}, not added again`);
  }
  for (const e of errors) note(fileErrorLine(e));
  if (errors.length) process.exitCode = EXIT.input;
}

interface CommitCliOptions {
  index: string;
  queue: string;
  queueName: string;
  follow?: boolean;
  commitSize?: number;
  leaseMs?: number;
  ann: 'auto' | 'on' | 'off';
  json?: boolean;
}

function commitCommand(): Command {
  const cmd = new Command('commit')
    .description("write the work queue's encoded batches into the index (the single committer; restartable)")
    .requiredOption('--index <dir>', "index folder (created when missing, with the queue's model)")
    .option('--follow', 'keep running when the queue is empty (until SIGINT/SIGTERM)')
    .addOption(new Option('--commit-size <n>', 'images per index commit, at most (default 2048)').argParser(intOption('--commit-size', 1)))
    .addOption(new Option('--ann <mode>', 'approximate-search index at the end: auto, on, off').choices(['auto', 'on', 'off']).default('auto'))
    .addOption(new Option('--lease-ms <ms>', 'committer lease; a killed committer is replaced this long after its last renewal (default 15000)').argParser(intOption('--lease-ms', 1000)))
    .option('--json', 'print the summary as JSON');
  for (const q of queueOptions()) cmd.addOption(q);
  return cmd.action(async (o: CommitCliOptions) => {
    const bar = progressBar('index commit', 0);
    let s;
    try {
      s = await commitQueueToIndex(o.index, {
        queue: o.queue,
        queueName: o.queueName,
        follow: Boolean(o.follow),
        ...(o.commitSize ? { commitSize: o.commitSize } : {}),
        ...(o.leaseMs ? { leaseMs: o.leaseMs } : {}),
        ann: o.ann === 'auto' ? 'auto' : o.ann === 'on',
        stop: onStopSignal(),
      });
    } finally {
      bar.stop();
    }
    if (o.json) out(JSON.stringify(s, null, 2));
    else out(`${s.index}: committed ${s.committed} images in ${s.commits} commits from ${s.queue} ${s.queueName}; ${s.failed} files failed in workers (medvlm queue status --files)`);
  });
}

function removeCommand(): Command {
  return new Command('remove')
    .description('remove entries (and their texts) by image path')
    .argument('<paths...>', 'image paths as they were added (resolved to absolute paths)')
    .requiredOption('--index <dir>', 'index folder')
    .option('--json', 'print the summary as JSON')
    .action(async (paths: string[], o: { index: string; json?: boolean }) => {
      const r = await removeFromIndex(o.index, paths);
      if (o.json) out(JSON.stringify(r));
      else out(`${r.index}: removed ${r.removed} of ${r.requested} paths`);
      if (r.removed < r.requested) note(`medvlm: ${r.requested - r.removed} paths were not in the index`);
    });
}

function statsCommand(): Command {
  return new Command('stats')
    .description('entries, texts, model, approximate-search state and size of an index')
    .requiredOption('--index <dir>', 'index folder')
    .option('--json', 'print JSON')
    .action(async (o: { index: string; json?: boolean }) => {
      {
        const s = await indexStats(o.index);
        if (o.json) {
          out(JSON.stringify(s, null, 2));
          return;
        }
        out(`index      ${resolve(s.dir)}`);
        out(`model      ${s.model.id} (${s.model.family}, ${s.model.dtype}, ${s.model.embedDim}-d)`);
        out(`entries    ${s.entries} images, ${s.texts} texts`);
        out(`modality   ${fmtCounts(s.byModality)}`);
        out(`split      ${fmtCounts(s.bySplit)}`);
        out(`body part  ${fmtCounts(s.byBodyPart)}`);
        out(`search     ${s.annIndex ? `approximate (${s.annIndex.type}, ${s.annIndex.indexedRows} rows indexed, ${s.annIndex.unindexedRows} not yet)` : 'exact (no ANN index)'}`);
        out(`on disk    ${(s.bytesOnDisk / 1e6).toFixed(1)} MB, table version ${s.tableVersion}`);
      }
    });
}

function fmtCounts(c: Record<string, number>): string {
  return Object.entries(c).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
}

function exportCommand(): Command {
  return new Command('export')
    .description('write every entry as JSONL (path, hash, metadata, texts; embeddings with --vectors)')
    .requiredOption('--index <dir>', 'index folder')
    .option('-o, --out <file.jsonl>', 'write to a file instead of stdout')
    .option('--force', 'replace --out if it exists')
    .option('--vectors', 'include the image embeddings')
    .option('--where <key=value>', 'only entries whose metadata matches (repeatable)', collect, [])
    .option('--show-phi', 'include DICOM study/series/SOP instance UIDs')
    .action(async (o: { index: string; out?: string; force?: boolean; vectors?: boolean; where: string[]; showPhi?: boolean }) => {
      const entries = await exportIndex(o.index, { where: parseWhere(o.where), vectors: Boolean(o.vectors), showPhi: Boolean(o.showPhi) });
      const lines = entries.map((e) => JSON.stringify(e));
      const text = lines.join('\n') + (lines.length ? '\n' : '');
      if (o.out) {
        await writeOutput(o.out, text, o.force);
        note(`wrote ${lines.length} entries to ${o.out}`);
      } else process.stdout.write(text);
    });
}

/** `medvlm index add|remove|stats|export`: the persistent similar-case index. */
export function indexCommand(): Command {
  const cmd = new Command('index').description('similar-case index: add, remove, stats, export (a folder on disk, no server)');
  for (const c of [addCommand(), commitCommand(), removeCommand(), statsCommand(), exportCommand()]) cmd.addCommand(c);
  // subcommands take the parent's error handling (exit override, one-line messages) as main.ts sets it
  cmd.hook('preSubcommand', (parent, sub) => {
    sub.copyInheritedSettings(parent);
  });
  return cmd;
}
