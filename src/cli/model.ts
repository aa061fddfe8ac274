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
