import type { DualEncoder } from '../models/capabilities.js';
import { loadDualEncoder } from '../models/registry.js';
import { downloadProgress } from './progress.js';

/** Model options as commander parses them. */
export interface ModelCliOptions {
  model: string;
  dtype: 'fp32' | 'q8';
  threads?: number;
  offline?: boolean;
  batchSize: number;
}

/** Load the dual encoder the user asked for, with a download progress line for hub models. */
export function loadEncoderFromCli(o: ModelCliOptions): Promise<DualEncoder> {
  return loadDualEncoder(o.model, {
    dtype: o.dtype,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    offline: Boolean(o.offline) || process.env.MEDVLM_OFFLINE === '1',
    onProgress: downloadProgress(),
  });
}
