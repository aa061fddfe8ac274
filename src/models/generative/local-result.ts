/** What every local (transformers.js) layout shares: checking the request and options, stepping, and the result. */
import { OptionError } from '../../core/errors.js';
import type { FinishReason, GenerationOptions, GenerationRequest, GenerationResult, RGBImage } from '../capabilities.js';
import { TextStreamer } from './stop-text.js';

/** Tokens generated when the caller names no limit. */
export const LOCAL_DEFAULT_MAX_TOKENS = 64;

/** A checked local generation request: one image, token limit, temperature, stop strings and the streamer. */
export interface LocalRequest {
  image: RGBImage;
  maxTokens: number;
  temperature: number;
  stop: string[];
  streamer: TextStreamer;
  /** Engine callbacks: stream each step, and stop on a stop string or cancellation after the current step. */
  onStep: (ids: number[]) => void;
  shouldStop: (ids: number[]) => boolean;
}

/** Check a request for a local one-image layout (`what` names the model in messages). */
export function localRequest(what: string, request: GenerationRequest, options: GenerationOptions, decode: (ids: number[]) => string): LocalRequest {
  if (request.images.length !== 1) throw new OptionError('E_BAD_OPTION', `${what} takes exactly one image, got ${request.images.length}`);
  const maxTokens = options.maxTokens ?? LOCAL_DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new OptionError('E_BAD_OPTION', `maxTokens: expected a whole number ≥ 1, got ${maxTokens}`, { option: 'maxTokens' });
  const temperature = options.temperature ?? 0;
  if (!(temperature >= 0)) throw new OptionError('E_BAD_OPTION', `temperature: expected ≥ 0, got ${temperature}`, { option: 'temperature' });
  const stop = (options.stop ?? []).filter((s) => s.length > 0);
  const streamer = new TextStreamer(stop, options.onText);
  return {
    image: request.images[0],
    maxTokens,
    temperature,
    stop,
    streamer,
    onStep: (ids) => void streamer.update(decode(ids)),
    shouldStop: (ids) => (stop.length > 0 && streamer.update(decode(ids))) || Boolean(options.signal?.aborted),
  };
}

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
