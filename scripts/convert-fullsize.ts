/**
 * Full-size conversion check (benchmark, not a test): random-initialised checkpoints of the real
 * BiomedCLIP (ViT-B/16 + BERT-base, 30,522-token vocabulary, context 256) and PMC-CLIP
 * (ModifiedResNet-50 + BERT-base, context 77) configurations, written by the PyTorch references in
 * test/convert/, converted by `medvlm convert` in a child process (wall time and peak RSS from
 * /usr/bin/time), then compared with PyTorch on MedPix images and captions (fp32 and q8 cosines)
 * and timed side by side (image tower, same pixels, same thread count): wall-clock images/s, and CPU
 * seconds per image (process CPU time, less sensitive to other load on a shared machine; medvlm's
 * includes its preprocessing, PyTorch's does not).
 *
 * usage: npx tsx scripts/convert-fullsize.ts [--images N] [--threads T] [--out bench/convert-fullsize.json]
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDualEncoder } from '../src/models/registry.js';
import type { TransformersDualEncoder } from '../src/models/transformers-dual-encoder.js';
import { here, PYTHON } from '../test/convert/helpers.js';
import { medpixSamples, minCosine, writePixelValues, writeVocab } from '../test/convert/fixtures.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const N = Number(arg('--images', '16'));
const THREADS = Number(arg('--threads', String(Math.min(2, cpus().length))));
const OUT = arg('--out', 'bench/convert-fullsize.json');

const BERT_BASE = { width: 768, layers: 12, mlp: 3072, positions: 512, vocab: 30522 };
const CONFIGS = {
  biomedclip: {
    script: 'reference_biomedclip.py',
    cfg: { seed: 1, embed_dim: 512, context_length: 256, pad_id: 0, vision: { image: 224, patch: 16, width: 768, layers: 12, mlp: 3072 }, text: BERT_BASE },
  },
  'pmc-clip': {
    script: 'reference_pmc.py',
    cfg: { seed: 2, embed_dim: 768, context_length: 77, pad_id: 0, cls_id: 2, vision: { image: 224, width: 64, layers: [3, 4, 6, 3] }, text: BERT_BASE },
  },
};

/** medvlm-tiny's vocabulary padded with [unusedN] tokens to BERT-base's 30,522. */
function writeBigVocab(dir: string): string {
  const path = writeVocab(dir);
  const vocab = readFileSync(path, 'utf8').trim().split('\n');
  for (let i = 0; vocab.length < BERT_BASE.vocab; i++) vocab.push(`[unused${i}]`);
  writeFileSync(path, `${vocab.join('\n')}\n`);
  return path;
}

function timed(cmd: string, args: string[], env: Record<string, string> = {}): { seconds: number; peakMB: number; stdout: string } {
  const stats = join(tmpdir(), `medvlm-time-${process.pid}.txt`);
  const stdout = execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', stats, cmd, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  const [seconds, kb] = readFileSync(stats, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { seconds, peakMB: Math.round(kb / 1024), stdout };
}

async function main(): Promise<void> {
  const root = join(tmpdir(), `medvlm-fullsize-${process.pid}`);
  mkdirSync(root, { recursive: true });
  const samples = await medpixSamples(N);
  const report: Record<string, unknown> = { date: new Date().toISOString(), images: N, threads: THREADS, cpus: cpus().length, cpu: cpus()[0]?.model, load_average_at_start: loadavg(), models: {} };
  try {
    for (const [name, { script, cfg }] of Object.entries(CONFIGS)) {
      console.log(`== ${name}`);
      const src = join(root, name);
      mkdirSync(src, { recursive: true });
      const vocabPath = writeBigVocab(src);
      const make = timed(PYTHON, [here(script), 'make', src, JSON.stringify(cfg)]);
      console.log(`reference checkpoint written in ${make.seconds} s`);
      const out = join(root, `${name}-out`);
      const conv = timed(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'convert', src, '--out', out, '--dtype', 'fp32,q8', '--no-check', '--json'], { MEDVLM_CACHE: join(root, 'cache') });
      console.log(`converted in ${conv.seconds} s, peak RSS ${conv.peakMB} MB`);
      const pixels = join(root, `${name}.f32`);
      const dims = await writePixelValues(out, samples.images, pixels);
      writeFileSync(join(root, 'captions.json'), JSON.stringify(samples.captions));
      writeFileSync(join(root, 'ids.json'), execFileSync(PYTHON, [here('wordpiece_ref.py'), vocabPath, join(root, 'captions.json')], { encoding: 'utf8' }));
      execFileSync(PYTHON, [here(script), 'run', src, pixels, String(dims[0]), join(root, 'ids.json'), join(root, 'ref.json')], { env: { ...process.env, REF_THREADS: String(THREADS) } });
      const ref = JSON.parse(readFileSync(join(root, 'ref.json'), 'utf8')) as { image: number[][]; text: number[][]; image_seconds: number; image_cpu_seconds: number; logit_scale: number };
      const result: Record<string, unknown> = {
        convert_seconds: conv.seconds,
        convert_peak_rss_mb: conv.peakMB,
        reference_checkpoint_seconds: make.seconds,
        checkpoint_mb: Math.round(Number(execFileSync('du', ['-sm', src], { encoding: 'utf8' }).split('\t')[0])),
        pytorch_image_per_s: Number((N / ref.image_seconds).toFixed(2)),
        pytorch_cpu_seconds_per_image: Number((ref.image_cpu_seconds / N).toFixed(3)),
      };
      let fp32Image: Float32Array[] = [];
      for (const dtype of ['fp32', 'q8'] as const) {
        const model = (await loadDualEncoder(out, { dtype, threads: THREADS })) as TransformersDualEncoder;
        try {
          await model.encodeImages(samples.images.slice(0, 1)); // warm-up, not timed
          const before = model.stageTimes.imageInferenceMs;
          const cpuBefore = process.cpuUsage();
          const image = await model.encodeImages(samples.images);
          const ms = model.stageTimes.imageInferenceMs - before;
          const cpu = process.cpuUsage(cpuBefore);
          const cpuPerImage = (cpu.user + cpu.system) / 1e6 / N; // includes preprocessing (sharp), unlike ms
          const text = await model.encodeTexts(samples.captions);
          if (dtype === 'fp32') fp32Image = image;
          result[dtype] = {
            image_cosine_min: minCosine(image, ref.image),
            text_cosine_min: minCosine(text, ref.text),
            ...(dtype === 'q8' ? { image_cosine_to_fp32_min: minCosine(image, fp32Image) } : {}),
            logit_scale_exact: model.logitScale === ref.logit_scale,
            image_per_s: Number((N / (ms / 1000)).toFixed(2)),
            speedup_vs_pytorch: Number(((N / (ms / 1000)) / (N / ref.image_seconds)).toFixed(2)),
            cpu_seconds_per_image: Number(cpuPerImage.toFixed(3)),
            cpu_speedup_vs_pytorch: Number((ref.image_cpu_seconds / N / cpuPerImage).toFixed(2)),
          };
          console.log(dtype, JSON.stringify(result[dtype]));
        } finally {
          await model.dispose();
        }
      }
      (report.models as Record<string, unknown>)[name] = result;
      rmSync(src, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  report.load_average_at_end = loadavg();
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${OUT}`);
}

await main();
