/**
 * `npm run bench:generate [-- --quick]`: speed of the local generators (transformers.js through
 * medvlm) against a reference measured in the same run — a plain onnxruntime-node greedy loop over
 * the same ONNX files with the same thread count (bench/generate-worker.ts) — so that the results are
 * ratios, not absolute numbers of a shared machine. Models:
 *  - medvlm-tiny-gen (the bundled vision-encoder-decoder), fp32 and q4 (scripts/quantize-q4.py);
 *  - a LLaVA-layout graph of 0.5B class: a Qwen2-0.5B-shaped language model (hidden 896, 24 layers,
 *    14 query / 2 key-value heads, intermediate 4864, vocab 151,936, tied embeddings, RoPE, RMSNorm,
 *    SwiGLU) behind a small vision tower (patch embedding + LLaVA projector, 64 image tokens), seeded
 *    random weights, built by bench/support/qwen2_llava.py into $MEDVLM_BENCH_DIR (default
 *    /tmp/medvlm-bench-generate; never committed; fp32 decoder 2 GB as ONNX external data) at low
 *    priority, once; fp32 and q4 (decoder and vision tower q4, token embedding fp32: a per-file dtype).
 * `--quick` swaps the 0.5B graph for a 2-layer one of the same kind (a smoke run of the whole bench);
 * `--tiny-only` measures medvlm-tiny-gen alone; `--table` re-renders the docs table from bench/generate.json. Rows are saved after every measurement, so an
 * interrupted run keeps what it measured (bench/generate.json says `complete: false`).
 * For each model, dtype and thread count (1 and all cores), one process runs the reference and medvlm
 * alternately (both see the same load; best of the runs each), and one short process per mode gives
 * its peak RSS. Writes bench/generate.json and the table in docs/generate.md (block bench-generate).
 */
import '../src/io/platform-node.js';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DtypeSpec } from '../src/models/generators.js';
import { LLAVA_TOKENS, llavaVocabulary, TINY_LLAVA, writeLlavaJson, type LlavaConfig } from '../test/generate/support/llava-builder.js';
import { markdownTable, replaceDocBlock } from '../scripts/docs-block.js';
import type { WorkerJob, WorkerResult } from './generate-worker.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WORK = process.env.MEDVLM_BENCH_DIR ?? '/tmp/medvlm-bench-generate';
const PYTHON = '/usr/bin/python3';
const QUICK = process.argv.includes('--quick');
const TINY_ONLY = process.argv.includes('--tiny-only');
const NEW_TOKENS = 32;

/** The language model's shape (Qwen2-0.5B) and the small vision tower. */
const QWEN2_05B = {
  hidden: 896,
  layers: QUICK ? 2 : 24,
  heads: 14,
  kv_heads: 2,
  intermediate: 4864,
  vocab: 151936,
  max_positions: 2048,
  rope_theta: 1000000,
  image_size: 112,
  patch_size: 14,
  vision_width: 256,
  seed: 2026,
};

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** medvlm-tiny-gen copied into the work folder with q4 files beside its fp32 ones. */
function prepareTinyGen(): string {
  const dir = join(WORK, 'medvlm-tiny-gen');
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(ROOT, 'models/medvlm-tiny-gen'), dir, { recursive: true });
  run(PYTHON, [join(ROOT, 'scripts/quantize-q4.py'), dir]);
  return dir;
}

/** The 0.5B-class LLaVA folder (built once per configuration), with q4 decoder and vision tower. */
function prepareQwenLlava(): { dir: string; vocab: string[]; buildSeconds?: number } {
  const dir = join(WORK, QUICK ? 'qwen2-llava-quick' : 'qwen2-0.5b-llava');
  const base = llavaVocabulary();
  const image = base.pop()!; // '<image>' stays the last id
  const vocab = [...base, ...Array.from({ length: QWEN2_05B.vocab - base.length - 1 }, (_, i) => `[unused${i}]`), image];
  const cfg: LlavaConfig = { ...TINY_LLAVA, imageSize: QWEN2_05B.image_size, patchSize: QWEN2_05B.patch_size, visionWidth: QWEN2_05B.vision_width, textWidth: QWEN2_05B.hidden, maxPositions: QWEN2_05B.max_positions };
  const stamp = JSON.stringify({ v: 2, QWEN2_05B });
  const stampFile = join(dir, '.build-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return { dir, vocab };
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  writeLlavaJson(dir, cfg, {
    vocab,
    textConfig: {
      model_type: 'qwen2',
      hidden_size: QWEN2_05B.hidden,
      num_hidden_layers: QWEN2_05B.layers,
      num_attention_heads: QWEN2_05B.heads,
      num_key_value_heads: QWEN2_05B.kv_heads,
      head_dim: QWEN2_05B.hidden / QWEN2_05B.heads,
      intermediate_size: QWEN2_05B.intermediate,
      max_position_embeddings: QWEN2_05B.max_positions,
      rope_theta: QWEN2_05B.rope_theta,
      tie_word_embeddings: true,
    },
  });
  console.error(`building the ${QUICK ? 'quick' : '0.5B'} LLaVA-layout graph in ${dir} (nice 19) ...`);
  console.error(run('nice', ['-n', '19', PYTHON, join(ROOT, 'bench/support/qwen2_llava.py'), dir, JSON.stringify(QWEN2_05B)]).trim());
  console.error(run('nice', ['-n', '19', PYTHON, join(ROOT, 'scripts/quantize-q4.py'), dir, '--only', 'decoder_model_merged,vision_encoder']).trim());
  writeFileSync(stampFile, stamp);
  return { dir, vocab, buildSeconds: (performance.now() - t0) / 1000 };
}

interface Row extends WorkerResult {
  model: string;
  dtype: string;
  threads: number;
  mode: WorkerJob['mode'];
}

function measure(job: WorkerJob): WorkerResult[] {
  const out = run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/generate-worker.ts'), JSON.stringify(job)]);
  return JSON.parse(out.trim().split('\n').pop()!) as WorkerResult[];
}

/**
 * Speeds from one `pair` process (reference and medvlm runs alternating, so both see the same load);
 * peak RSS from one short process per mode (one model in memory).
 */
function measureBoth(job: Omit<WorkerJob, 'mode'>): { ort: WorkerResult; medvlm: WorkerResult } {
  const [ref, med] = measure({ ...job, mode: 'pair' });
  const rss = (mode: 'ort' | 'medvlm'): number => measure({ ...job, mode, runs: 1, newTokens: Math.min(8, job.newTokens) })[0].peakRssMB;
  return { ort: { ...ref, peakRssMB: rss('ort') }, medvlm: { ...med, peakRssMB: rss('medvlm') } };
}

function table(rows: Row[]): string {
  return markdownTable(
    ['model', 'dtype', 'threads', 'prefill ms (medvlm / ref)', 'decode tok/s medvlm', 'decode tok/s ref', 'medvlm / ref', 'peak RSS MB (medvlm / ref)'],
    rows
      .filter((r) => r.mode === 'medvlm')
      .flatMap((r) => {
        const ref = rows.find((x) => x.mode === 'ort' && x.model === r.model && x.dtype === r.dtype && x.threads === r.threads);
        if (!ref) return [];
        return [
          [
            r.model,
            r.dtype,
            r.threads,
            `${r.prefillMs.toFixed(0)} / ${ref.prefillMs.toFixed(0)}`,
            r.decodeTokensPerSecond.toFixed(1),
            ref.decodeTokensPerSecond.toFixed(1),
            `${(r.decodeTokensPerSecond / ref.decodeTokensPerSecond).toFixed(2)}x`,
            `${r.peakRssMB.toFixed(0)} / ${ref.peakRssMB.toFixed(0)}`,
          ],
        ];
      }),
  );
}

interface Model {
  name: string;
  dtypes: Array<[string, DtypeSpec]>;
  job: Omit<WorkerJob, 'mode' | 'dtype' | 'threads'>;
}

function tinyGenModel(): Model {
  const folder = prepareTinyGen();
  const gen = JSON.parse(readFileSync(join(folder, 'generation_config.json'), 'utf8')) as { decoder_start_token_id?: number; bos_token_id?: number };
  const start = gen.decoder_start_token_id ?? gen.bos_token_id ?? 0;
  return {
    name: 'medvlm-tiny-gen (vision-encoder-decoder, 1.2M)',
    dtypes: [['fp32', 'fp32'], ['q4', 'q4']],
    job: { layout: 'vision-encoder-decoder', folder, newTokens: NEW_TOKENS, runs: 7, prompt: '', promptIds: [start], imageSize: 96 },
  };
}

function qwenModel(qwen: { dir: string; vocab: string[] }): Model {
  const imageId = qwen.vocab.length - 1;
  const words = ['findings', ':', 'chest', 'x', 'ray'].map((w) => qwen.vocab.indexOf(w));
  const imageTokens = (QWEN2_05B.image_size / QWEN2_05B.patch_size) ** 2;
  return {
    name: QUICK ? 'LLaVA layout, Qwen2 shape, 2 layers (quick)' : 'LLaVA layout, Qwen2-0.5B shape (494M LM)',
    dtypes: [['fp32', 'fp32'], ['q4 (embeddings fp32)', { decoder_model_merged: 'q4', vision_encoder: 'q4' }]],
    job: {
      layout: 'llava',
      folder: qwen.dir,
      newTokens: NEW_TOKENS,
      runs: QUICK ? 3 : 1,
      prompt: 'chest x ray',
      promptIds: [LLAVA_TOKENS.bos, ...Array<number>(imageTokens).fill(imageId), ...words],
      imageSize: QWEN2_05B.image_size,
      imageTokenId: imageId,
    },
  };
}

function main(): void {
  if (process.argv.includes('--table')) {
    // re-render the docs table from bench/generate.json (e.g. after an interrupted run)
    const saved = JSON.parse(readFileSync(join(ROOT, 'bench/generate.json'), 'utf8')) as { rows: Row[] };
    console.log(table(saved.rows));
    replaceDocBlock(join(ROOT, 'docs/generate.md'), 'bench-generate', table(saved.rows));
    return;
  }
  mkdirSync(WORK, { recursive: true });
  const started = new Date().toISOString();
  const load = loadavg()[0];
  const cores = availableParallelism();
  const rows: Row[] = [];
  let buildSeconds: number | null = null;
  const save = (complete: boolean): void => {
    const result = {
      started,
      complete,
      quick: QUICK,
      machine: { cores, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageNow: loadavg()[0], node: process.version },
      newTokens: NEW_TOKENS,
      qwen2Config: QWEN2_05B,
      buildSeconds,
      rows,
    };
    const file = QUICK ? join(WORK, 'generate-quick.json') : join(ROOT, 'bench/generate.json');
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  };
  const measureModel = (m: Model): void => {
    for (const [label, dtype] of m.dtypes) {
      for (const threads of [...new Set([1, cores])]) {
        const both = measureBoth({ ...m.job, dtype, threads });
        for (const mode of ['ort', 'medvlm'] as const) {
          const r = both[mode];
          rows.push({ model: m.name, dtype: label, threads, mode, ...r });
          console.error(`${m.name} ${label} ${threads}t ${mode}: prefill ${r.prefillMs.toFixed(0)} ms, ${r.decodeTokensPerSecond.toFixed(1)} tok/s, RSS ${r.peakRssMB.toFixed(0)} MB`);
        }
        save(false);
      }
    }
  };
  measureModel(tinyGenModel());
  if (!TINY_ONLY) {
    const qwen = prepareQwenLlava();
    buildSeconds = qwen.buildSeconds ?? null;
    measureModel(qwenModel(qwen));
  }
  save(true);
  console.log(table(rows));
  if (!QUICK) replaceDocBlock(join(ROOT, 'docs/generate.md'), 'bench-generate', table(rows));
}

main();
