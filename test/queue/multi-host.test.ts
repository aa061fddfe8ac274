/**
 * The work queue across "machines": four hosts on a private LAN of Linux network namespaces
 * (test/support/netns.ts). Redis runs on host `redis`, bound to its LAN address only, with a password
 * from a file (config file mode 0600; workers read it through MEDVLM_QUEUE_PASSWORD_FILE, never from
 * the command line); two worker processes on `worker-a`, one on `worker-b`; enqueuer and committer on
 * `committer`. All reach Redis over the LAN (no Redis on their loopback). Mid-run the host `worker-a` is
 * "unplugged" (every process in its namespace SIGKILLed) while it holds a batch: that batch is recovered
 * as stalled and redone on `worker-b`, and the index equals a single-process `medvlm index add` of the
 * same inputs entry for entry (paths, hashes, metadata, texts, embeddings within 1e-6), each image
 * committed exactly once. Skipped, with the reason, where namespaces cannot be made (not root, no
 * iproute2, a container without CAP_SYS_ADMIN) or without redis-server or ../shared/data.
 * Image count: MEDVLM_NETNS_TEST_IMAGES (default 128).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLan, netnsAvailable, type HostProcess, type Lan } from '../support/netns.js';
import { redisAvailable } from '../support/redis.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { expectSameIndex, HAVE_MEDPIX, MANIFEST, medpixImages, snapshot } from './helpers.js';

const N = Number(process.env.MEDVLM_NETNS_TEST_IMAGES ?? 128);
const BATCH = 16;
const NAME = 'lan';
const redisCheck = redisAvailable();
const nsCheck = netnsAvailable();
const ready = redisCheck.ok && HAVE_MEDPIX && nsCheck.ok;
if (!redisCheck.ok) console.warn(`multi-host queue test skipped: ${redisCheck.reason}`);
else if (!HAVE_MEDPIX) console.warn(`multi-host queue test skipped: needs ${MANIFEST} (../shared/data)`);
else if (!nsCheck.ok) console.warn(`multi-host queue test skipped: ${nsCheck.reason}`);

let lan: Lan | undefined;
let work: string;
let redisUrl: string;
let passwordFile: string;
const env = (): Record<string, string> => ({ MEDVLM_OFFLINE: '1', MEDVLM_QUEUE_PASSWORD_FILE: passwordFile, MEDVLM_QUEUE_PASSWORD: '' });

/** `medvlm ARGS` on a host. */
function medvlmOn(host: string, args: string[]): HostProcess {
  return lan!.spawn(host, process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env());
}

/** redis-cli on a host against the LAN Redis, the password passed in the environment (REDISCLI_AUTH). */
function redisCli(host: string, args: string[], auth = true): { status: number | null; stdout: string; stderr: string } {
  const r = lan!.hosts.redis;
  return lan!.exec(host, 'redis-cli', ['-h', r.addr, '-p', '6379', '--no-auth-warning', ...args], auth ? { REDISCLI_AUTH: password } : {});
}
let password = '';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medvlm-lan-'));
  if (!ready) return;
  lan = createLan(['redis', 'worker-a', 'worker-b', 'committer']);
  password = randomBytes(24).toString('hex');
  passwordFile = join(work, 'redis.password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const conf = join(work, 'redis.conf');
  writeFileSync(
    conf,
    [`bind ${lan.hosts.redis.addr}`, 'port 6379', `requirepass ${password}`, `dir ${work}`, `appendonly yes`, `appenddirname redis-aof`, `save ""`, 'protected-mode yes', 'loglevel warning', ''].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(conf, 0o600);
  lan.spawn('redis', 'redis-server', [conf]);
  redisUrl = `redis://${lan.hosts.redis.addr}:6379`;
  for (let i = 0; i < 100; i++) {
    if (redisCli('committer', ['ping']).stdout.trim() === 'PONG') return;
    await sleep(100);
  }
  throw new Error('redis-server on the LAN did not answer');
});
afterAll(() => {
  lan?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!ready)('work queue across hosts (network namespaces)', () => {
  it('Redis is reachable only over the LAN and only with the password', () => {
    // no Redis on a worker host's own loopback: the workers below really talk across the LAN
    expect(redisCli('worker-a', ['-h', '127.0.0.1', 'ping']).stdout).not.toMatch(/PONG/);
    expect(redisCli('worker-a', ['ping']).stdout.trim()).toBe('PONG');
    expect(redisCli('worker-a', ['ping'], false).stdout).toMatch(/NOAUTH/);
  });

  it(`${N} MedPix images: 3 workers on 2 hosts + committer on a 4th; a worker host killed mid-batch; the index equals a single-process index add`, async () => {
    const images = medpixImages(N, 900);
    const ref = join(work, 'ref');
    const single = await medvlmAsync(['index', 'add', ...images, '--text-from', MANIFEST, '--index', ref, '--batch-size', String(BATCH), '--threads', '1', '--json']);
    expect(single.code, single.stderr).toBe(0);

    const ix = join(work, 'lan-index');
    const q = ['--queue', redisUrl, '--queue-name', NAME];
    const enq = await medvlmOn('committer', ['index', 'add', ...images, '--text-from', MANIFEST, '--index', ix, '--batch-size', String(BATCH), ...q, '--json']).done;
    expect(enq.code, enq.stderr).toBe(0);
    expect(JSON.parse(enq.stdout)).toMatchObject({ enqueued: N, batches: Math.ceil(N / BATCH) });

    const worker = (host: string): HostProcess => medvlmOn(host, ['worker', ...q, '--threads', '1', '--lock-ms', '3000']);
    const hostA = [worker('worker-a'), worker('worker-a')];
    const commit = medvlmOn('committer', ['index', 'commit', '--index', ix, ...q, '--commit-size', String(2 * BATCH), '--json']);

    // wait until worker-a holds a batch (BullMQ records the worker's name, "<hostname>:<pid>", on the job)
    const prefix = `medvlm-bull:${NAME}`;
    let held: string[] = [];
    const deadline = Date.now() + 240_000;
    while (held.length === 0) {
      if (Date.now() > deadline) throw new Error('worker-a never took a batch');
      const active = redisCli('committer', ['lrange', `${prefix}:active`, '0', '-1']).stdout.split('\n').filter(Boolean);
      held = active.filter((id) => redisCli('committer', ['hget', `${prefix}:${id}`, 'pb']).stdout.startsWith('worker-a:'));
      if (held.length === 0) await sleep(100);
    }
    const hostB = [worker('worker-b')];
    const killed = lan!.kill('worker-a');
    expect(killed).toBeGreaterThanOrEqual(2);
    for (const p of hostA) expect((await p.done).signal).toBe('SIGKILL');
    expect(lan!.pids('worker-a')).toEqual([]);

    const done = await commit.done;
    for (const p of hostB) p.child.kill('SIGTERM');
    const ends = await Promise.all(hostB.map((p) => p.done));
    expect(done.code, done.stderr).toBe(0);
    for (const e of ends) expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ committed: N, failed: 0 });

    // the batches worker-a held were recovered as stalled (BullMQ's event stream) and redone
    const events = redisCli('committer', ['xrange', `${prefix}:events`, '-', '+']).stdout.split('\n');
    const stalled = new Set<string>();
    for (let i = 0; i < events.length - 3; i++) if (events[i] === 'event' && events[i + 1] === 'stalled' && events[i + 2] === 'jobId') stalled.add(events[i + 3]);
    for (const id of held) expect(stalled.has(id), `batch ${id} held by worker-a was not recovered as stalled`).toBe(true);

    // nothing lost, nothing twice: the committed counter is exactly N, and the index equals the single-process one
    const st = medvlmOn('committer', ['queue', 'status', ...q, '--json']);
    const s = JSON.parse((await st.done).stdout) as { committed: number; jobs: Record<string, number>; failedFiles: Record<string, number> };
    expect(s.committed).toBe(N);
    expect(s.jobs).toMatchObject({ waiting: 0, active: 0, completed: 0, failed: 0 });
    expect(s.failedFiles).toEqual({});
    expect((await snapshot(ix)).size).toBe(N);
    const cmp = await expectSameIndex(ref, ix, 1e-6);
    expect(cmp.entries).toBe(N);
    console.log(`multi-host: ${cmp.entries} entries, ${cmp.texts} texts, max |embedding diff| ${cmp.maxDiff}; worker-a killed holding ${held.length} batch(es) (${killed} processes), recovered as stalled: ${held.join(', ')}`);
  }, 600_000);
});
