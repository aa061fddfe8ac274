/**
 * One measurement of bench/generate.ts, in its own process so that peak RSS belongs to one model,
 * one dtype and one thread count. Argument: a JSON `WorkerJob`. Prints one JSON line: an array of
 * `WorkerResult` (mode `pair`: reference then medvlm, measured with alternating runs).
 *
 * The best of `runs` repetitions is kept for each number.
 * mode `medvlm`: the local backend (loadGenerator → transformers.js generate, greedy). Prefill =
 *   wall time of a 1-token generation (image preprocessing, vision encoder, prompt, first token);
 *   decode rate = (n - 1) new tokens over the time an n-token generation takes beyond that.
 * mode `ort`: the reference, a plain onnxruntime-node loop over the same ONNX files with the same
 *   thread count: vision encoder (or encoder) once on a fixed pixel tensor, then greedy steps with the
 *   key/value cache fed back, argmax in JavaScript. Prefill = time to the first token; decode rate =
 *   later tokens over their time. No tokenizer, no image decoding, no generation framework.
 */
import '../src/io/platform-node.js';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { RGBImage } from '../src/models/capabilities.js';
import { loadGenerator, type DtypeSpec } from '../src/models/generators.js';

/** What to measure. */
export interface WorkerJob {
  /** `pair`: the reference and medvlm in one process, runs alternating (their speeds compare; RSS is joint). */
  mode: 'medvlm' | 'ort' | 'pair';
  layout: 'llava' | 'vision-encoder-decoder';
  folder: string;
  dtype: DtypeSpec;
  threads: number;
  newTokens: number;
  /** Measured repetitions (the best is kept). */
  runs: number;
  prompt: string;
  /** Prompt ids for the reference (llava: with the image tokens expanded; VED: decoder start + prompt). */
  promptIds: number[];
  /** Side of the square input image given to medvlm (the reference takes the encoder's input size). */
  imageSize: number;
  /** llava: the image placeholder id, whose rows the reference replaces with the image features. */
  imageTokenId?: number;
}

/** What one measurement found. */
export interface WorkerResult {
  loadMs: number;
  prefillMs: number;
  decodeTokensPerSecond: number;
  newTokens: number;
  peakRssMB: number;
}

/** Best of the runs: on a shared machine other jobs only ever slow a run down, so the fastest run is the least disturbed. */
const best = (xs: number[], higherIsBetter: boolean): number => (higherIsBetter ? Math.max(...xs) : Math.min(...xs));

function image(size: number): RGBImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
  return { data, width: size, height: size };
}

/** One greedy generation of `n` new tokens: [ms to the first token, ms per later token, tokens]. */
type RunOnce = (n: number) => Promise<[number, number, number]>;

/** A loaded backend: one generation at a time, and a way to let go of it. */
interface Backend {
  loadMs: number;
  runOnce: RunOnce;
  release(): Promise<unknown>;
}

async function medvlmBackend(job: WorkerJob): Promise<Backend> {
  const t0 = performance.now();
  const gen = await loadGenerator(job.folder, { threads: job.threads, dtype: job.dtype });
  const loadMs = performance.now() - t0;
  const req = { images: [image(job.imageSize)], prompt: job.prompt };
  return {
    loadMs,
    async runOnce(n) {
      let t = performance.now();
      await gen.generate(req, { maxTokens: 1, stop: [] });
      const one = performance.now() - t;
      t = performance.now();
      const res = await gen.generate(req, { maxTokens: n, stop: [] });
      const all = performance.now() - t;
      const tokens = res.tokens?.length ?? n;
      return [one, (all - one) / Math.max(1, tokens - 1), tokens];
    },
    release: () => gen.dispose(),
  };
}

function fileFor(folder: string, base: string, dtype: DtypeSpec): string {
  const d = typeof dtype === 'string' ? dtype : (dtype[base] ?? 'fp32');
  return join(folder, 'onnx', `${base}${d === 'q8' ? '_quantized' : d === 'q4' ? '_q4' : ''}.onnx`);
}

function argmaxLast(logits: ort.Tensor): number {
  const data = logits.data as Float32Array;
  const vocab = logits.dims[2];
  const off = (logits.dims[1] - 1) * vocab;
  let best = 0;
  for (let j = 1; j < vocab; j++) if (data[off + j] > data[off + best]) best = j;
  return best;
}

/** Empty past key/values for a decoder session, from its input metadata (`[batch, heads, 0, head_dim]`). */
function emptyPast(session: ort.InferenceSession): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor || !m.name.startsWith('past_key_values.')) continue;
    const dims = m.shape.map((d, i) => (i === 0 ? 1 : typeof d === 'number' ? d : 0));
    past[m.name] = new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return past;
}

/** Feed the `present.*` outputs back as `past_key_values.*`. */
function nextPast(out: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) past[k.replace('present.', 'past_key_values.')] = v as ort.Tensor;
  return past;
}

const int64 = (values: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

async function ortBackend(job: WorkerJob): Promise<Backend> {
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: job.threads };
  const t0 = performance.now();
  const llava = job.layout === 'llava';
  const vision = await ort.InferenceSession.create(fileFor(job.folder, llava ? 'vision_encoder' : 'encoder_model', job.dtype), opts);
  const embed = llava ? await ort.InferenceSession.create(fileFor(job.folder, 'embed_tokens', job.dtype), opts) : undefined;
  const decoder = await ort.InferenceSession.create(fileFor(job.folder, 'decoder_model_merged', job.dtype), opts);
  const loadMs = performance.now() - t0;
  const shape = vision.inputMetadata[0].isTensor ? vision.inputMetadata[0].shape : [];
  const [h, w] = [shape[2], shape[3]].map((d) => (typeof d === 'number' ? d : job.imageSize));
  const pixels = new ort.Tensor('float32', new Float32Array(3 * h * w).map((_, i) => ((i * 13) % 256) / 127.5 - 1), [1, 3, h, w]);

  /** One greedy generation; returns [ms to the first token, ms per later token, tokens]. */
  const run = async (newTokens: number): Promise<[number, number, number]> => {
    const start = performance.now();
    const visionOut = await vision.run({ pixel_values: pixels });
    const features = (visionOut.image_features ?? visionOut.last_hidden_state) as ort.Tensor;
    let past = emptyPast(decoder);
    let ids = job.promptIds;
    let total = 0;
    let first = 0;
    const produced: number[] = [];
    for (let step = 0; step < newTokens; step++) {
      let out: ort.InferenceSession.OnnxValueMapType;
      if (llava && embed) {
        let embeds = (await embed.run({ input_ids: int64(ids, [1, ids.length]) })).inputs_embeds as ort.Tensor;
        if (step === 0) embeds = mergeImage(embeds, features, job.promptIds, job.imageTokenId ?? -1);
        total += ids.length;
        out = await decoder.run({
          inputs_embeds: embeds,
          attention_mask: int64(new Array<number>(total).fill(1), [1, total]),
          position_ids: int64(Array.from({ length: ids.length }, (_, i) => total - ids.length + i), [1, ids.length]),
          ...past,
        });
      } else {
        out = await decoder.run({
          input_ids: int64(ids, [1, ids.length]),
          encoder_hidden_states: features,
          use_cache_branch: new ort.Tensor('bool', new Uint8Array([step > 0 ? 1 : 0]), [1]),
          ...past,
        });
      }
      const next = argmaxLast(out.logits as ort.Tensor);
      produced.push(next);
      past = nextPast(out);
      ids = [next];
      if (step === 0) first = performance.now() - start;
    }
    const elapsed = performance.now() - start;
    return [first, (elapsed - first) / Math.max(1, newTokens - 1), produced.length];
  };
  return { loadMs, runOnce: run, release: () => Promise.all([vision.release(), embed?.release(), decoder.release()]) };
}

/** Warm each backend up, then alternate their runs (so both see the same load), keeping the best of each. */
async function measure(backends: Backend[], job: WorkerJob): Promise<Array<Omit<WorkerResult, 'peakRssMB'>>> {
  for (const b of backends) await b.runOnce(2);
  const prefill = backends.map((): number[] => []);
  const perToken = backends.map((): number[] => []);
  const tokens = backends.map(() => job.newTokens);
  for (let r = 0; r < job.runs; r++) {
    for (const [i, b] of backends.entries()) {
      const [first, later, n] = await b.runOnce(job.newTokens);
      prefill[i].push(first);
      perToken[i].push(later);
      tokens[i] = n;
    }
  }
  return backends.map((b, i) => ({ loadMs: b.loadMs, prefillMs: best(prefill[i], false), decodeTokensPerSecond: 1000 / best(perToken[i], false), newTokens: tokens[i] }));
}

/** Replace the rows of the image placeholder ids with the image features (LLaVA's merge). */
function mergeImage(embeds: ort.Tensor, features: ort.Tensor, ids: number[], imageId: number): ort.Tensor {
  const d = embeds.dims[2];
  const data = new Float32Array(embeds.data as Float32Array);
  const f = features.data as Float32Array;
  let row = 0;
  ids.forEach((id, i) => {
    if (id === imageId && row < features.dims[1]) data.set(f.subarray(row++ * d, row * d), i * d);
  });
  return new ort.Tensor('float32', data, embeds.dims);
}

const job = JSON.parse(process.argv[2]) as WorkerJob;
const backends = job.mode === 'medvlm' ? [await medvlmBackend(job)] : job.mode === 'ort' ? [await ortBackend(job)] : [await ortBackend(job), await medvlmBackend(job)];
const results = await measure(backends, job);
for (const b of backends) await b.release();
const peakRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(results.map((r) => ({ ...r, peakRssMB }) satisfies WorkerResult))}\n`);
process.exit(0);
