import cliProgress from 'cli-progress';
import type { ProgressFn } from '../tasks/batch.js';

/**
 * A progress bar with ETA on stderr for runs of more than a few files, only when stderr is a terminal
 * (so logs and pipes stay clean). Returns the callback and a `stop` to call at the end.
 */
export function progressBar(label: string, total: number, unit = 'files'): { onProgress?: ProgressFn; stop: () => void } {
  if (!process.stderr.isTTY || total < 4) return { stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} ${unit} | {percentage}% | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { onProgress: (done) => bar.update(done), stop: () => bar.stop() };
}

/** Progress of model downloads (hub models) as one line per file on stderr. */
export function downloadProgress(): (p: { file: string; loaded?: number; total?: number; status?: string }) => void {
  let last = '';
  return (p) => {
    if (!process.stderr.isTTY || p.loaded === undefined || !p.total) return;
    const pct = Math.floor((100 * p.loaded) / p.total);
    const line = `downloading ${p.file}: ${pct}% of ${(p.total / 1e6).toFixed(1)} MB`;
    if (line !== last) process.stderr.write(`\r${line}${pct >= 100 ? '\n' : ''}`);
    last = line;
  };
}
