/**
 * `npm run bench:pacs`: instances per second classified from a local Orthanc (QIDO-RS + WADO-RS over
 * loopback, bytes kept in memory) against the same files classified from disk, with the bundled model,
 * 1 thread, in the same process. Also the pull rate (WADO-RS to files). Needs Debian's orthanc and
 * orthanc-dicomweb, dcmtk/gdcm and ../shared/data (the DICOM corpus is built from it).
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDualEncoder } from '../src/models/registry.js';
import { classifyStudy } from '../src/pacs/classify.js';
import { DicomwebClient } from '../src/pacs/client.js';
import { pullStudy } from '../src/pacs/pull.js';
import { loadTemplates } from '../src/tasks/templates-files.js';
import { classifyInputs } from '../src/tasks/zero-shot.js';
import { buildDicomCorpus } from '../test/support/dicom-corpus.js';
import { orthancUnavailable, startOrthanc } from '../test/support/orthanc.js';
import { buildPacsCorpus } from '../test/support/pacs-corpus.js';

const REPEATS = 5;
const LABELS = ['CT scan', 'MRI scan', 'X-ray', 'photograph'];

const corpus = await buildDicomCorpus();
const why = 'skipped' in corpus ? corpus.skipped : orthancUnavailable();
if (why || 'skipped' in corpus) {
  console.error(`bench:pacs skipped: ${why}`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'medvlm-bench-pacs-'));
const orthanc = await startOrthanc();
try {
  const studies = buildPacsCorpus(corpus, join(work, 'upload'));
  const study = studies.syntaxes;
  const client = new DicomwebClient({ url: orthanc.dicomWebUrl, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password } });
  await client.store(study.files.map((f) => readFileSync(f.file)), study.studyUid);
  const encoder = await loadDualEncoder('medvlm-tiny', { offline: true, threads: 1 });
  const templates = loadTemplates('medical');
  const n = study.files.length;
  const timed = async (f: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // CPU time, which the other agents' load does not change much: this process (user + system) and Orthanc's
  const orthancPid = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).find((d) => {
    try {
      return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(orthanc.dir);
    } catch {
      return false;
    }
  });
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const orthancCpuMs = (): number => {
    if (!orthancPid) return NaN;
    const f = readFileSync(`/proc/${orthancPid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / ticks; // utime + stime
  };
  const cpu = async (f: () => Promise<unknown>): Promise<{ wallMs: number; selfMs: number; orthancMs: number }> => {
    const c0 = process.cpuUsage();
    const o0 = orthancCpuMs();
    const wallMs = await timed(f);
    const c = process.cpuUsage(c0);
    return { wallMs, selfMs: (c.user + c.system) / 1000, orthancMs: orthancCpuMs() - o0 };
  };
  await classifyInputs(encoder, study.files.slice(0, 4).map((f) => f.file), { labels: LABELS, templates }); // warm-up
  // Disk and PACS runs alternate, so load from other processes on the machine hits both alike.
  const diskRuns: number[] = [];
  const pacsRuns: number[] = [];
  const pullRuns: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    diskRuns.push(await timed(() => classifyInputs(encoder, study.files.map((f) => f.file), { labels: LABELS, templates })));
    pacsRuns.push(await timed(() => classifyStudy(client, encoder, { studyUid: study.studyUid, labels: LABELS, templates })));
    pullRuns.push(await timed(() => pullStudy(client, { studyUid: study.studyUid, outDir: join(work, `pull-${i}`) })));
  }
  // profile: CPU per instance of each part of the PACS path
  const diskCpu: Array<Awaited<ReturnType<typeof cpu>>> = [];
  const pacsCpu: Array<Awaited<ReturnType<typeof cpu>>> = [];
  const fetchCpu: Array<Awaited<ReturnType<typeof cpu>>> = [];
  const instances = await Promise.all((await client.searchSeries({ studyUid: study.studyUid })).map(async (se) => (await client.searchInstances({ studyUid: study.studyUid, seriesUid: String((se['0020000E']?.Value ?? [''])[0]) })).map((j) => [String((se['0020000E']?.Value ?? [''])[0]), String((j['00080018']?.Value ?? [''])[0])] as const)));
  for (let i = 0; i < REPEATS; i++) {
    diskCpu.push(await cpu(() => classifyInputs(encoder, study.files.map((f) => f.file), { labels: LABELS, templates })));
    pacsCpu.push(await cpu(() => classifyStudy(client, encoder, { studyUid: study.studyUid, labels: LABELS, templates })));
    fetchCpu.push(await cpu(async () => {
      const all = instances.flat();
      for (let k = 0; k < all.length; k += 16) await Promise.all(all.slice(k, k + 16).map(([se, sop]) => client.retrieveInstance(study.studyUid, se, sop)));
    }));
  }
  const per = (runs: Array<{ selfMs: number; orthancMs: number; wallMs: number }>, key: 'selfMs' | 'orthancMs' | 'wallMs') => (median(runs.map((r) => r[key])) / n).toFixed(2);
  console.log(`CPU per instance (ms, median of ${REPEATS}): classify from disk: medvlm ${per(diskCpu, 'selfMs')}; classify from Orthanc: medvlm ${per(pacsCpu, 'selfMs')}, Orthanc ${per(pacsCpu, 'orthancMs')}; WADO-RS retrieval alone (16 concurrent): medvlm ${per(fetchCpu, 'selfMs')}, Orthanc ${per(fetchCpu, 'orthancMs')}, wall ${per(fetchCpu, 'wallMs')}`);
  const disk = median(diskRuns);
  const pacs = median(pacsRuns);
  const pull = median(pullRuns);
  const pairRatio = median(diskRuns.map((d, i) => d / pacsRuns[i]));
  const rate = (ms: number) => (n / (ms / 1000)).toFixed(1);
  console.log(`instances: ${n} (${new Set(study.files.map((f) => f.transferSyntaxUID)).size} transfer syntaxes), median of ${REPEATS} runs, 1 inference thread`);
  console.log(`| path | instances/s | ratio to disk |`);
  console.log(`| --- | ---: | ---: |`);
  console.log(`| classify from disk | ${rate(disk)} | 1.00 |`);
  console.log(`| classify from Orthanc (QIDO + WADO-RS, in memory) | ${rate(pacs)} | ${(disk / pacs).toFixed(2)} (median of paired runs ${pairRatio.toFixed(2)}) |`);
  console.log(`| pull from Orthanc to files (4 parallel requests) | ${rate(pull)} | |`);
  await encoder.dispose();
  await client.close();
} finally {
  await orthanc.dispose();
  rmSync(work, { recursive: true, force: true });
}
