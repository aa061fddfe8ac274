/** `QueueProgressTracker`: batches finished vs pending, rates over the window, ETA (pure, no Redis). */
import { describe, expect, it } from 'vitest';
import type { QueueStatus } from '../../src/queue/admin.js';
import { formatEta, progressLine, QueueProgressTracker } from '../../src/queue/progress.js';

function status(p: { waiting: number; active: number; completed: number; failed?: number; committedJobs: number; committed: number }): QueueStatus {
  return {
    queue: 'redis://127.0.0.1:6379/0',
    name: 'q',
    model: null,
    jobs: { waiting: p.waiting, active: p.active, delayed: 0, completed: p.completed, failed: p.failed ?? 0 },
    failedFiles: { E_DECODE: 2 },
    committed: p.committed,
    committedJobs: p.committedJobs,
    commitRate: null,
    workers: 3,
  };
}

describe('QueueProgressTracker', () => {
  it('counts committed, encoded and failed batches as done, measures rates over the window and gives the ETA', () => {
    const t = new QueueProgressTracker(10_000);
    const a = t.sample(status({ waiting: 100, active: 4, completed: 0, committedJobs: 0, committed: 0 }), 0);
    expect(a).toEqual({ finishedBatches: 0, pendingBatches: 104, batchRate: null, commitRate: null, etaSeconds: null });
    // 5 s later: 10 batches committed (160 images), 4 encoded awaiting commit, 1 failed
    const b = t.sample(status({ waiting: 85, active: 4, completed: 4, failed: 1, committedJobs: 10, committed: 160 }), 5_000);
    expect(b.finishedBatches).toBe(15);
    expect(b.pendingBatches).toBe(89);
    expect(b.batchRate).toBeCloseTo(3, 10);
    expect(b.commitRate).toBeCloseTo(32, 10);
    expect(b.etaSeconds).toBeCloseTo(89 / 3, 10);
    // after the window the first sample drops out: the rate is the recent one
    t.sample(status({ waiting: 60, active: 4, completed: 0, committedJobs: 40, committed: 640 }), 15_000);
    const d = t.sample(status({ waiting: 50, active: 4, completed: 0, committedJobs: 50, committed: 800 }), 20_000);
    expect(d.batchRate).toBeCloseTo((50 - 15) / 15, 10);
    const e = t.sample(status({ waiting: 0, active: 0, completed: 0, committedJobs: 104, committed: 1664 }), 30_000);
    expect(e.etaSeconds).toBe(0);
    expect(e.pendingBatches).toBe(0);
  });

  it('formats the ETA and a plain line', () => {
    expect(formatEta(null)).toBe('?');
    expect(formatEta(42.4)).toBe('42s');
    expect(formatEta(185)).toBe('3m05s');
    expect(formatEta(3720)).toBe('1h02m');
    const t = new QueueProgressTracker();
    t.sample(status({ waiting: 10, active: 2, completed: 0, committedJobs: 0, committed: 0 }), 0);
    const p = t.sample(status({ waiting: 6, active: 2, completed: 1, committedJobs: 3, committed: 48 }), 2_000);
    expect(progressLine(status({ waiting: 6, active: 2, completed: 1, committedJobs: 3, committed: 48 }), p, new Date(Date.UTC(2026, 0, 1)))).toBe(
      '2026-01-01T00:00:00.000Z batches done 4/12 (waiting 6, active 2, delayed 0, encoded awaiting commit 1, failed 0) | committed 48 images, 2 files failed | 2.0 batches/s, 24.0 images/s committed | workers 3 | ETA 4s',
    );
  });
});
