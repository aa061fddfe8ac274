import { Command, Option } from 'commander';
import { OptionError } from '../../core/errors.js';
import type { VisionLanguageGenerator } from '../../models/capabilities.js';
import { DEFAULT_GENERATOR, RESEARCH_NOTICE } from '../../models/defaults.js';
import { destinationOf, loadGenerator } from '../../models/generators.js';
import { generateForFiles, type GenerateFileResult } from '../../tasks/generate.js';
import { exitCodeFor } from '../exit-codes.js';
import { intOption, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, out } from '../output.js';
import { generatorOptions } from '../model.js';

interface GenerateCliOptions extends ViewCliOptions {
  prompt: string;
  model: string;
  maxTokens?: number;
  temperature?: number;
  seed?: number;
  stop?: string[];
  allowRemote?: boolean;
  apiKeyFile?: string;
  timeout?: number;
  retries?: number;
  requestBudget?: number;
  stream: boolean;
  json?: boolean;
  dtype: string;
  threads?: number;
  offline?: boolean;
}

function floatOption(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new OptionError('E_BAD_OPTION', `${name} ${v}: expected a number from ${min} to ${max}`);
    return n;
  };
}

function where(r: GenerateFileResult): string {
  if (r.image.kind === 'local') return 'on this machine';
  return `image sent as PNG pixels to ${r.image.host}${r.image.kind === 'loopback' ? ' (this machine)' : ''}`;
}

/**
 * `medvlm generate FILE... --prompt "..." --model ID`: report drafting and open questions with a
 * generative vision-language model, local (transformers.js folder) or served (openai:/anthropic:/gemini:).
 */
export function generateCommand(): Command {
  const cmd = new Command('generate')
    .description('describe an image or answer a question about it with a generative vision-language model (local folder, OpenAI-compatible server, Anthropic or Gemini)')
    .argument('<files...>', 'image files (DICOM, NIfTI, PNG, JPEG)')
    .option('-p, --prompt <text>', `instruction or question, e.g. "Describe the findings." (default: empty, the report prompt of ${DEFAULT_GENERATOR})`, '')
    .option(
      '-m, --model <id>',
      `local model folder, bundled name or hub id (vision-encoder-decoder or llava layout), or openai:URL#MODEL, openai:MODEL, anthropic:MODEL, gemini:MODEL (default: the bundled ${DEFAULT_GENERATOR})`,
      DEFAULT_GENERATOR,
    )
    .option('--max-tokens <n>', 'most new tokens (default: 64 local, 256 remote)', intOption('--max-tokens', 1))
    .option('--temperature <t>', '0 = greedy / deterministic (default), > 0 samples', floatOption('--temperature', 0, 2))
    .option('--seed <n>', 'sampling seed (OpenAI-compatible and Gemini only)', intOption('--seed'))
    .option('--stop <text>', 'stop string (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--allow-remote', 'allow sending the image (re-encoded PNG pixels only) to a host other than this machine')
    .option('--api-key-file <file>', 'file holding the API key (else OPENAI_API_KEY / ANTHROPIC_API_KEY / GEMINI_API_KEY)')
    .option('--timeout <seconds>', 'per request (default 120)', intOption('--timeout', 1))
    .option('--retries <n>', 'retries on 429/5xx/network errors (default 4)', intOption('--retries', 0))
    .option('--request-budget <n>', 'most HTTP requests for this run, retries included', intOption('--request-budget', 1))
    .option('--no-stream', 'wait for the whole answer instead of streaming it')
    .option('--json', 'print JSON (text, usage, where the image went, options applied)')
    .addOption(new Option('--dtype <dtype>', 'weights of a local model: fp32, q8, q4, or per ONNX file, e.g. decoder_model_merged=q4 (other files fp32)').default('fp32'))
    .addOption(new Option('--threads <n>', 'inference threads of a local model (default: all cores)').argParser(intOption('--threads', 1)))
    .option('--offline', 'never contact a model hub (also MEDVLM_OFFLINE=1)');
  for (const o of viewOptions()) cmd.addOption(o);
  return cmd.action(async (files: string[], o: GenerateCliOptions) => {
    const generator: VisionLanguageGenerator = await loadGenerator(o.model, {
      ...generatorOptions({ ...o, generatorDtype: o.dtype }, o.stream && !o.json),
      policy: {
        ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
        ...(o.retries !== undefined ? { maxRetries: o.retries } : {}),
        ...(o.requestBudget !== undefined ? { requestBudget: o.requestBudget } : {}),
      },
    });
    if (generator.info.backend !== 'transformers.js') {
      const dest = destinationOf(generator.info.location);
      if (dest.kind === 'remote' && !dest.tls) note(`medvlm: warning: ${dest.host} is reached over plain http: the image and any API key travel unencrypted`);
    }
    const streaming = !o.json && o.stream;
    try {
      if (!o.json) out(`# ${RESEARCH_NOTICE}`);
      const results = await generateForFiles(generator, files, o.prompt, {
        view: toViewOptions(o),
        ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
        ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.stop?.length ? { stop: o.stop } : {}),
        ...(streaming ? { onText: (piece: string) => void process.stdout.write(piece) } : {}),
        onFileStart: (file) => {
          if (!o.json && files.length > 1) out(`## ${file}`);
        },
      });
      for (const r of results) {
        if ('error' in r) {
          note(`medvlm: ${r.error.message} [${r.error.code}]`);
          process.exitCode ||= exitCodeFor(r.error.code);
          continue;
        }
        if (o.json) continue;
        if (streaming) out('');
        else out(r.text);
        const tokens = r.usage.completionTokens !== undefined ? `${r.usage.completionTokens} tokens` : 'tokens not reported';
        note(`medvlm: ${r.backend} ${r.model}: ${tokens}, ${r.finishReason}, ${where(r)}, ${(r.elapsedMs / 1000).toFixed(1)} s`);
      }
      if (o.json) out(JSON.stringify(files.length === 1 ? results[0] : results, null, 2));
    } finally {
      await generator.dispose();
    }
  });
}
