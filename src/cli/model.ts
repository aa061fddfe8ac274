import type { LoadGeneratorOptions } from '../models/generators.js';
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
  threads?: number;
  offline?: boolean;
  allowRemote?: boolean;
  apiKeyFile?: string;
}

/** Options for loadGenerator from a command's flags, with a download progress line for hub models. */
export function generatorOptions(o: GeneratorCliOptions, stream: boolean): LoadGeneratorOptions {
  return {
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    offline: Boolean(o.offline) || process.env.MEDVLM_OFFLINE === '1',
    onProgress: downloadProgress(),
    allowRemote: Boolean(o.allowRemote),
    ...(o.apiKeyFile ? { apiKeyFile: o.apiKeyFile } : {}),
    stream,
  };
}
