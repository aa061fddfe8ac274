/** The result of a local (transformers.js) generation, shared by every local layout. */
import type { FinishReason, GenerationResult } from '../capabilities.js';
import type { TextStreamer } from './stop-text.js';

/** What a local generation produced and how it was asked. */
export interface LocalGeneration {
  model: string;
  streamer: TextStreamer;
  decode: (ids: number[]) => string;
  newIds: number[];
  promptTokens: number;
  eosTokenIds: number[];
  maxTokens: number;
  temperature: number;
  stop: string[];
  signal?: AbortSignal;
  started: number;
}

/** Text, finish reason (stop string, end token, length, cancelled), usage and timing of a local generation. */
export function localResult(g: LocalGeneration): GenerationResult {
  const { text, stopped } = g.streamer.finish(g.decode(g.newIds));
  const endedOnEos = g.newIds.length > 0 && g.eosTokenIds.includes(g.newIds[g.newIds.length - 1]);
  const finishReason: FinishReason = stopped
    ? 'stop-sequence'
    : endedOnEos
      ? 'stop'
      : g.newIds.length >= g.maxTokens
        ? 'length'
        : g.signal?.aborted
          ? 'cancelled'
          : 'other';
  return {
    text,
    backend: 'transformers.js',
    model: g.model,
    finishReason,
    usage: { promptTokens: g.promptTokens, completionTokens: g.newIds.length, totalTokens: g.promptTokens + g.newIds.length },
    image: { kind: 'local', payload: 'none', images: 1 },
    // transformers.js samples with Math.random: a seed cannot be applied.
    applied: { maxTokens: g.maxTokens, temperature: g.temperature, ...(g.stop.length ? { stop: g.stop } : {}) },
    tokens: g.newIds,
    elapsedMs: Math.round(performance.now() - g.started),
  };
}
