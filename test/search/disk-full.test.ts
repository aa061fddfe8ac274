/**
 * `index add` onto a full disk: a small tmpfs (mounted by the test, as root) fills up mid-run. The
 * run ends with E_DISK_FULL (exit 6), one line per file not added and no Rust source paths; the index
 * stays readable and holds exactly the files reported as added, each with the hash of its bytes.
 * Skipped, with a message, where a tmpfs cannot be mounted (not root, or no mount permission).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseIndex } from '../../src/index-store/store.js';
import { sha256File } from '../../src/runtime/hashing.js';
import { hasStackTrace } from '../cli/helpers.js';
import { testModel } from '../models/fixtures.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { pngSet } from './fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'medvlm-diskfull-'));
const mnt = join(work, 'small');
mkdirSync(mnt);
// 400 KiB: the description and the first few hundred 16-d entries fit, 300 with their versions do not
const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', mnt], { encoding: 'utf8' });
const mounted = mount.status === 0;
if (!mounted) console.warn(`disk-full test skipped: cannot mount a small tmpfs (${(mount.stderr || mount.error?.message || '').trim()}); run as root to include it`);

let files: string[];
beforeAll(async () => {
  files = await pngSet('diskfull', 300, 7);
});
afterAll(() => {
  if (mounted) spawnSync('umount', [mnt]);
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!mounted)('index add on a full disk', () => {
  it('E_DISK_FULL naming every file not added; the index opens and holds exactly the added ones', async () => {
    const ix = join(mnt, 'ix');
    const r = await medvlmAsync(['index', 'add', ...files, '--index', ix, '--model', testModel('clip'), '--batch-size', '8', '--json']);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).not.toMatch(/unexpected error|\.rs:\d+|os error/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    const summary = JSON.parse(r.stdout) as { added: number; errors: Array<{ file: string; error: { code: string } }>; writeError: { code: string } };
    expect(summary.writeError.code).toBe('E_DISK_FULL');
    expect(summary.added).toBeGreaterThan(0);
    expect(summary.errors.length).toBeGreaterThan(0);
    expect(summary.added + summary.errors.length).toBe(files.length);
    expect(new Set(summary.errors.map((e) => e.error.code))).toEqual(new Set(['E_DISK_FULL']));
    const notAdded = new Set(summary.errors.map((e) => e.file));
    for (const f of notAdded) expect(r.stderr).toContain(`${f}: not added`);
    const index = await CaseIndex.open(ix);
    try {
      const entries = await index.entries();
      expect(entries.length).toBe(summary.added);
      expect(entries.map((e) => e.path).sort()).toEqual(files.filter((f) => !notAdded.has(f)).sort());
      for (const e of entries) expect(e.hash).toBe(await sha256File(e.path));
      expect((await index.search(new Float32Array(index.dim).fill(0.25), { k: 3, exact: true })).length).toBe(3);
    } finally {
      index.close();
    }
  }, 120_000);
});
