import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { MedvlmError, OptionError } from '../../core/errors.js';
import { indexModelFrom } from '../../tasks/case-index.js';
import {
  assertWorkerModel,
  DEFAULT_QUEUE_NAME,
  drainQueue,
  failedFileList,
  openWorkQueue,
  queueStatus,
  readModelRecord,
  retryFailed,
  startEncodeWorker,
  type QueueModelRecord,
  type WorkQueue,
} from '../../queue/index.js';
import { parseQueueUrl } from '../../queue/connection.js';
import { formatEta, progressLine, QueueProgressTracker } from '../../queue/progress.js';
import { startEvalWorker } from '../../queue/eval-cells.js';
import { loadDualEncoder } from '../../models/registry.js';
import { pipelineOptions } from '../model.js';
import { intOption } from '../options.js';
import { note, out } from '../output.js';

/** `--queue URL` and `--queue-name NAME`, shared by every queue-aware command. */
export function queueOptions(required = true): Option[] {
  const url = new Option('--queue <url>', 'work queue: redis://HOST:PORT[/DB] (password from MEDVLM_QUEUE_PASSWORD or MEDVLM_QUEUE_PASSWORD_FILE)');
  if (required) url.makeOptionMandatory();
  return [url, new Option('--queue-name <name>', 'queue name on that Redis (several indexes can share one Redis)').default(DEFAULT_QUEUE_NAME)];
}

/** Resolve on the first SIGINT or SIGTERM (the command then finishes its current step and exits). */
export function onStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!(n >= 0.1) || !Number.isFinite(n)) throw new OptionError('E_BAD_OPTION', `--interval ${v}: expected a number of seconds of at least 0.1`);
  return n;
}

/** Resolves once `seconds` have passed since `lastWork()` (never, without `seconds`). */
function idleFor(seconds: number | undefined, lastWork: () => number): Promise<void> {
  if (!seconds) return new Promise<void>(() => {});
  return new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (Date.now() - lastWork() > seconds * 1000) {
        clearInterval(t);
        resolve();
      }
    }, 250);
  });
}

/** Wait for the queue's model record (a worker may start before anything is enqueued). */
async function waitForModel(wq: WorkQueue, stop: Promise<void>): Promise<QueueModelRecord | undefined> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  let told = false;
  for (;;) {
    const rec = await readModelRecord(wq);
    if (rec || stopped) return rec;
    if (!told) note(`medvlm worker: ${wq.addr.display} queue ${wq.name} has no work yet; waiting`);
    told = true;
    await sleep(1_000);
  }
}

interface WorkerCliOptions {
  queue: string;
  queueName: string;
  model?: string;
  dtype?: 'fp32' | 'q8';
  threads?: number;
  offline?: boolean;
  concurrency: number;
  lockMs: number;
  idleExit?: number;
  eval?: boolean;
  dataRoot?: string;
  cache?: string;
}

/** `medvlm worker`: encode batches from the queue until stopped (SIGINT/SIGTERM) or idle for --idle-exit seconds. */
export function workerCommand(): Command {
  return new Command('worker')
    .description('encode image batches from a work queue (run any number, on any machine that reads the inputs and reaches Redis)')
    .addOption(queueOptions()[0])
    .addOption(queueOptions()[1])
    .option('-m, --model <id>', "model (default: the queue's; must have the same weights)")
    .addOption(new Option('--dtype <dtype>', "weights variant (default: the queue's)").choices(['fp32', 'q8']))
    .addOption(new Option('--threads <n>', 'inference threads (default: all cores)').argParser(intOption('--threads', 1)))
    .option('--offline', 'never contact a model hub (also MEDVLM_OFFLINE=1)')
    .addOption(new Option('--concurrency <n>', 'batches in flight in this process').argParser(intOption('--concurrency', 1)).default(1))
    .addOption(new Option('--lock-ms <ms>', 'a batch whose worker stops renewing its lock this long is redone elsewhere').argParser(intOption('--lock-ms', 1000)).default(30_000))
    .addOption(new Option('--idle-exit <s>', 'exit after this many seconds without work').argParser(intOption('--idle-exit', 1)))
    .option('--eval', 'run evaluation cells (medvlm eval --queue) instead of index batches')
    .option('--data-root <dir>', 'with --eval: this machine\'s data sets folder (default: the orchestrator\'s --data-root, else MEDVLM_DATA, else ../shared/data)')
    .option('--cache <dir>', 'with --eval: embedding cache folder (default: $MEDVLM_CACHE/embeddings, else none kept)')
    .action(async (o: WorkerCliOptions) => {
      const stop = onStopSignal();
      if (o.eval) return evalWorker(o, stop);
      const wq = await openWorkQueue(o.queue, o.queueName);
      try {
        const rec = await waitForModel(wq, stop);
        if (!rec) return;
        const encoder = await loadDualEncoder(o.model ?? rec.model.id, pipelineOptions({ dtype: o.dtype ?? (rec.model.dtype as 'fp32' | 'q8'), ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.offline ? { offline: true } : {}) }));
        try {
          const model = indexModelFrom(encoder.info);
          assertWorkerModel(wq, rec, model);
          let files = 0;
          let failed = 0;
          let lastWork = Date.now();
          const running = startEncodeWorker(wq, encoder, model, {
            concurrency: o.concurrency,
            lockMs: o.lockMs,
            onJobDone: (n, f) => {
              files += n;
              failed += f;
              lastWork = Date.now();
            },
          });
          running.worker.on('active', () => (lastWork = Date.now()));
          note(`medvlm worker: ${wq.addr.display} queue ${wq.name}, model ${encoder.info.id}, concurrency ${o.concurrency}`);
          await Promise.race([stop, idleFor(o.idleExit, () => lastWork)]);
          await running.close();
          note(`medvlm worker: stopped after ${files} files (${failed} failed)`);
        } finally {
          await encoder.dispose();
        }
      } finally {
        await wq.close();
      }
    });
}

/** `medvlm worker --eval`: run evaluation cells until stopped or idle. */
async function evalWorker(o: WorkerCliOptions, stop: Promise<void>): Promise<void> {
  const addr = parseQueueUrl(o.queue);
  let cells = 0;
  let lastWork = Date.now();
  const worker = startEvalWorker(
    addr,
    o.queueName,
    (model) =>
      loadDualEncoder(model, pipelineOptions({ dtype: o.dtype ?? 'fp32', ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.offline ? { offline: true } : {}) })),
    {
      ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
      ...(o.cache ? { cacheDir: o.cache } : {}),
      concurrency: o.concurrency,
      onCellDone: () => {
        cells++;
        lastWork = Date.now();
      },
    },
  );
  worker.on('active', () => (lastWork = Date.now()));
  note(`medvlm worker: ${addr.display} queue ${o.queueName}-eval (evaluation cells), concurrency ${o.concurrency}`);
  await Promise.race([stop, idleFor(o.idleExit, () => lastWork)]);
  await worker.close();
  note(`medvlm worker: stopped after ${cells} cells`);
}

interface AdminCliOptions {
  queue: string;
  queueName: string;
  json?: boolean;
  files?: boolean;
  watch?: boolean;
  interval?: number;
  untilDone?: boolean;
}

/**
 * `queue status --watch`: a progress bar with counts, rates and ETA when stdout is a terminal, else one
 * plain line per interval (for logs); until SIGINT/SIGTERM, or with `untilDone` until nothing is left to
 * encode or commit.
 */
async function watchStatus(wq: WorkQueue, intervalMs: number, untilDone: boolean): Promise<void> {
  const stop = onStopSignal();
  let stopped = false;
  void stop.then(() => (stopped = true));
  const tracker = new QueueProgressTracker();
  const tty = Boolean(process.stdout.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: `${wq.name} [{bar}] {value}/{total} batches | waiting {waiting} active {active} awaiting commit {encoded} failed {failed} | {rate} images/s committed | ETA {etaText}`,
          stream: process.stdout,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  while (!stopped) {
    const s = await queueStatus(wq);
    const p = tracker.sample(s, Date.now());
    if (bar) {
      const payload = { waiting: s.jobs.waiting, active: s.jobs.active, encoded: s.jobs.completed, failed: s.jobs.failed, rate: p.commitRate === null ? '?' : p.commitRate.toFixed(1), etaText: formatEta(p.etaSeconds) };
      const total = Math.max(1, p.finishedBatches + p.pendingBatches);
      if (!started) bar.start(total, p.finishedBatches, payload);
      else {
        bar.setTotal(total);
        bar.update(p.finishedBatches, payload);
      }
      started = true;
    } else out(progressLine(s, p, new Date()));
    if (untilDone && p.pendingBatches === 0 && s.jobs.completed === 0) break;
    await Promise.race([sleep(intervalMs), stop]);
  }
  bar?.stop();
}

function statusCommand(): Command {
  return adminCommand('status', 'waiting / active / encoded (awaiting commit) / failed batches, failed files by code, commit rate')
    .option('--files', 'list the failed files with their errors')
    .option('--watch', 'keep showing progress (a bar on a terminal, plain lines otherwise) with rates and ETA until interrupted')
    .addOption(new Option('--interval <s>', 'with --watch: seconds between readings').argParser(positiveSeconds).default(2))
    .option('--until-done', 'with --watch: exit once no batch is waiting, active, delayed or awaiting commit')
    .action((o: AdminCliOptions) => withWorkQueue(o, async (wq) => {
      if (o.watch) {
        if (o.json || o.files) throw new OptionError('E_BAD_OPTION', '--watch: not with --json or --files (use them without --watch for one reading)');
        return await watchStatus(wq, (o.interval ?? 2) * 1000, Boolean(o.untilDone));
      }
      const s = await queueStatus(wq);
      const files = o.files ? await failedFileList(wq) : undefined;
      if (o.json) {
        out(JSON.stringify({ ...s, ...(files ? { failedFileList: files } : {}) }, null, 2));
        return;
      }
      out(`queue      ${s.queue} ${s.name}${s.model ? `, model ${s.model.id} (${s.model.dtype}, ${s.model.embedDim}-d)` : ', no work yet'}`);
      out(`batches    waiting ${s.jobs.waiting}, active ${s.jobs.active}, delayed ${s.jobs.delayed}, encoded awaiting commit ${s.jobs.completed}, failed ${s.jobs.failed}`);
      out(`files      committed ${s.committed}${s.commitRate !== null ? ` (${s.commitRate.toFixed(1)}/s)` : ''}, failed ${Object.values(s.failedFiles).reduce((a, b) => a + b, 0)}${Object.keys(s.failedFiles).length ? ` (${Object.entries(s.failedFiles).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
      out(`workers    ${s.workers} connected`);
      for (const f of files ?? []) out(`failed     ${f.file}: ${f.code}`);
    }));
}

/** A `medvlm queue` subcommand with the queue options and `--json`. */
function adminCommand(name: string, description: string): Command {
  return new Command(name).description(description).addOption(queueOptions()[0]).addOption(queueOptions()[1]).option('--json', 'print JSON');
}

/** Open the work queue the options name, run `fn`, and always close the connection. */
async function withWorkQueue<T>(o: AdminCliOptions, fn: (wq: WorkQueue) => Promise<T>): Promise<T> {
  const wq = await openWorkQueue(o.queue, o.queueName);
  try {
    return await fn(wq);
  } finally {
    await wq.close();
  }
}

function retryFailedCommand(): Command {
  return adminCommand('retry-failed', 'retry failed batches and enqueue the failed files again (e.g. after installing a codec)')
    .action((o: AdminCliOptions) => withWorkQueue(o, async (wq) => {
      const rec = await readModelRecord(wq);
      if (!rec) throw new MedvlmError('E_QUEUE_INVALID', `${wq.addr.display} queue ${wq.name}: no work was ever enqueued`);
      const r = await retryFailed(wq, rec.model);
      out(o.json ? JSON.stringify(r) : `${wq.addr.display} ${wq.name}: retrying ${r.jobs} failed batches and ${r.files} failed files`);
    }));
}

function drainCommand(): Command {
  return adminCommand('drain', 'remove batches not yet started (batches in flight and encoded ones are kept)')
    .action((o: AdminCliOptions) => withWorkQueue(o, async (wq) => {
      const r = await drainQueue(wq);
      out(o.json ? JSON.stringify(r) : `${wq.addr.display} ${wq.name}: removed ${r.removed} waiting batches`);
    }));
}

/** `medvlm queue status|retry-failed|drain`. */
export function queueCommand(): Command {
  const cmd = new Command('queue').description('the work queue (BullMQ on Redis): status, retry-failed, drain');
  for (const c of [statusCommand(), retryFailedCommand(), drainCommand()]) cmd.addCommand(c);
  cmd.hook('preSubcommand', (parent, sub) => {
    sub.copyInheritedSettings(parent);
  });
  return cmd;
}
