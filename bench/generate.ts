/**
 * `npx tsx bench/generate.ts [--base]`: decoding speed (new tokens per second, greedy, 32 tokens
 * after the prompt, median of 5 runs) of the local transformers.js generators, with 1 thread and
 * with all cores: the tiny vision-encoder-decoder and tiny LLaVA test graphs, and with `--base` a
 * LLaVA-layout graph of about 0.4B parameters (width 1024, 32 layers; seeded weights, ~1.7 GB fp32,
 * built once into .bench/). Speeds are also given as ratios to the 1-thread run of the same model
 * (absolute numbers on shared machines are noisy). Prints a Markdown table and writes
 * .bench/generate.json.
 */
import '../src/io/platform-node.js'; // Node's file reading and decoders, as the package's Node entries install them
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RGBImage } from '../src/models/capabilities.js';
import { loadGenerator } from '../src/models/generators.js';
import { buildLlavaFolder, TINY_LLAVA, type LlavaConfig } from '../test/generate/support/llava-builder.js';
import { buildVedFolder } from '../test/generate/support/ved-builder.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, '.bench');
const NEW_TOKENS = 32;
const RUNS = 5;

/** LLaVA layout at about 0.4B parameters in the language model (12·1024²·32 ≈ 403M). */
const BASE_LLAVA: LlavaConfig = { ...TINY_LLAVA, seed: 5, textWidth: 1024, textLayers: 32, textHeads: 16, maxPositions: 128 };

function view(): RGBImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 256;
  return { data, width: 32, height: 32 };
}

interface Row {
  model: string;
  threads: number;
  tokensPerSecond: number;
  msPerToken: number;
}

async function measure(model: string, folder: string, threads: number): Promise<Row> {
  const gen = await loadGenerator(folder, { threads });
  try {
    await gen.generate({ images: [view()], prompt: 'chest x ray' }, { maxTokens: 4 }); // warm-up
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const res = await gen.generate({ images: [view()], prompt: 'chest x ray' }, { maxTokens: NEW_TOKENS, stop: [] });
      const n = res.tokens?.length ?? NEW_TOKENS;
      rates.push(n / ((performance.now() - t0) / 1000));
    }
    rates.sort((a, b) => a - b);
    const tps = rates[Math.floor(RUNS / 2)];
    return { model, threads, tokensPerSecond: tps, msPerToken: 1000 / tps };
  } finally {
    await gen.dispose();
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const models: Array<[string, string]> = [
    ['tiny vision-encoder-decoder', buildVedFolder(join(OUT, 'tiny-ved'))],
    ['tiny llava', buildLlavaFolder(join(OUT, 'tiny-llava'))],
  ];
  if (process.argv.includes('--base')) models.push(['llava layout, 0.4B (width 1024 x 32 layers)', buildLlavaFolder(join(OUT, 'base-llava'), BASE_LLAVA)]);
  const cores = availableParallelism();
  const rows: Row[] = [];
  for (const [name, folder] of models) {
    for (const threads of [...new Set([1, cores])]) rows.push(await measure(name, folder, threads));
  }
  console.log(`| model | threads | new tokens/s | ms/token | vs 1 thread |\n|---|---|---|---|---|`);
  for (const r of rows) {
    const one = rows.find((x) => x.model === r.model && x.threads === 1)!;
    console.log(`| ${r.model} | ${r.threads} | ${r.tokensPerSecond.toFixed(1)} | ${r.msPerToken.toFixed(2)} | ${(r.tokensPerSecond / one.tokensPerSecond).toFixed(2)}x |`);
  }
  writeFileSync(join(OUT, 'generate.json'), `${JSON.stringify({ cores, newTokens: NEW_TOKENS, runs: RUNS, rows }, null, 2)}\n`);
}

await main();
