import { parseDtypeSpec, type LoadGeneratorOptions } from '../models/generators.js';
import type { PipelineOptions } from '../tasks/pipeline.js';
import { downloadProgress } from './progress.js';

/** Model options as commander parses them. */
export interface ModelCliOptions {
  model: string;
  dtype: 'fp32' | 'q8';
  threads?: number;
  offline?: boolean;
  batchSize: number;
}

/** Pipeline options from the command's model options, with a download progress line for hub models. */
export function pipelineOptions(o: Partial<ModelCliOptions>): PipelineOptions {
  return {
    ...(o.dtype ? { dtype: o.dtype } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    offline: Boolean(o.offline) || process.env.MEDVLM_OFFLINE === '1',
    onProgress: downloadProgress(),
  };
}

/** Generator options as the generative commands parse them. */
export interface GeneratorCliOptions {
  /** Weights of a local generator: fp32, q8, q4 or FILE=DTYPE,... (`--dtype` of generate, `--generator-dtype` elsewhere). */
  generatorDtype?: string;
  threads?: number;
  offline?: boolean;
  allowRemote?: boolean;
  apiKeyFile?: string;
}

/** Options for loadGenerator from a command's flags, with a download progress line for hub models. */
export function generatorOptions(o: GeneratorCliOptions, stream: boolean): LoadGeneratorOptions {
  return {
    ...(o.generatorDtype !== undefined ? { dtype: parseDtypeSpec(o.generatorDtype, '--generator-dtype') } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    offline: Boolean(o.offline) || process.env.MEDVLM_OFFLINE === '1',
    onProgress: downloadProgress(),
    allowRemote: Boolean(o.allowRemote),
    ...(o.apiKeyFile ? { apiKeyFile: o.apiKeyFile } : {}),
    stream,
  };
}

/** The `--generator-dtype` option of commands whose `--dtype` belongs to their dual encoder (ask, draft-report). */
export const GENERATOR_DTYPE_HELP = 'weights of a local generator: fp32 (default), q8, q4, or per ONNX file, e.g. decoder_model_merged=q4 (other files fp32)';
