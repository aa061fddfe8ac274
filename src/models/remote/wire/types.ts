/** What each provider's wire format module implements (request building and response parsing). */
import type { FinishReason, GenerationUsage } from '../../capabilities.js';
import type { HttpRequest } from '../http.js';
import type { RemoteProvider } from '../endpoint.js';
import type { SseEvent } from '../sse.js';

/** Sampling settings as sent (after defaults). */
export interface WireOptions {
  maxTokens: number;
  temperature: number;
  stop?: string[];
  seed?: number;
}

/** Everything a request body needs. Images are base64 PNG (pixels of the model view only). */
export interface WireInput {
  baseUrl: string;
  model: string;
  prompt: string;
  pngBase64: string[];
  options: WireOptions;
  stream: boolean;
  apiKey?: string;
}

/** A whole (non-streamed) answer. */
export interface WireAnswer {
  text: string;
  finishReason: FinishReason;
  usage: GenerationUsage;
  /** Model name the server reported. */
  model?: string;
}

/** What one stream event contributes. Usage fields replace earlier ones (providers send totals). */
export interface WireDelta {
  text?: string;
  finishReason?: FinishReason;
  usage?: GenerationUsage;
  model?: string;
  /** The server reported an error inside the stream. */
  error?: { type?: string; message: string };
  /** The stream says it is complete (OpenAI `[DONE]`, Anthropic `message_stop`). */
  end?: boolean;
}

/** One provider's wire format. */
export interface ProviderWire {
  provider: RemoteProvider;
  /** Family name recorded in GeneratorInfo. */
  family: string;
  /** Env variable / file key needed for this base URL. */
  keyRequired(baseUrl: string): boolean;
  /** Which optional settings the provider honours. */
  supports: { seed: boolean; stopMax: number };
  request(input: WireInput): HttpRequest;
  parseAnswer(json: unknown): WireAnswer;
  parseEvent(event: SseEvent): WireDelta;
  /** Message (and provider error type) of an error body; `auth` when it says the key is bad. */
  readError(status: number, body: string): { message: string; type?: string; auth?: boolean };
}

/** Parse JSON or return undefined. */
export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt of a body for messages. */
export function excerpt(text: string, max = 200): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one || '(empty body)';
}
