/**
 * A VisionLanguageGenerator that calls a served or hosted model over HTTP: the OpenAI-compatible
 * chat completions format (vLLM, TGI, Ollama, llama.cpp server, LM Studio, OpenAI), Anthropic
 * Messages, or Gemini generateContent. Privacy: the only image data sent is a PNG re-encoded from
 * the model view's pixels, and only to loopback unless `allowRemote`; results record the host.
 */
import { OptionError, RemoteError } from '../../core/errors.js';
import { encodeRgbPng } from '../../io/png-encode.js';
import type {
  FinishReason,
  GenerationOptions,
  GenerationRequest,
  GenerationResult,
  GenerationUsage,
  GeneratorInfo,
  VisionLanguageGenerator,
} from '../capabilities.js';
import { redactKey, resolveApiKey, type ApiKeySource } from './api-key.js';
import { assertImageMayGo, destinationOf, parseRemoteModelId, type RemoteModelId, type RemoteProvider } from './endpoint.js';
import { DEFAULT_HTTP_POLICY, RequestGate, sendWithRetries, systemClock, type Clock, type HttpPolicy } from './http.js';
import { readSse } from './sse.js';
import { anthropicWire } from './wire/anthropic.js';
import { geminiWire } from './wire/gemini.js';
import { openAiWire } from './wire/openai.js';
import { tryJson, type ProviderWire, type WireOptions } from './wire/types.js';

const WIRES: Record<RemoteProvider, ProviderWire> = { openai: openAiWire, anthropic: anthropicWire, gemini: geminiWire };

/** Default for `GenerationOptions.maxTokens`. */
export const DEFAULT_MAX_TOKENS = 256;

/** Options of `createRemoteGenerator`. */
export interface RemoteGeneratorOptions {
  /** Allow sending images to a host other than this machine (CLI `--allow-remote`). */
  allowRemote?: boolean;
  /** File holding the API key (else the provider's environment variable). */
  apiKeyFile?: string;
  /** Environment to read keys from (default `process.env`). */
  environment?: NodeJS.ProcessEnv;
  /** Stream tokens with SSE (default true). */
  stream?: boolean;
  /** Retries, timeouts, concurrency, budget. */
  policy?: Partial<HttpPolicy>;
  /** Time source (tests inject one that records waits). */
  clock?: Clock;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  fetchImpl?: typeof fetch;
}

/** Facts about the remote generator beyond `GeneratorInfo` (no secrets). */
export interface RemoteGeneratorState {
  keySource: ApiKeySource;
  /** HTTP attempts made so far (retries included), against `policy.requestBudget`. */
  attempts: number;
}

class RemoteGenerator implements VisionLanguageGenerator {
  readonly info: GeneratorInfo;
  private readonly gate: RequestGate;
  private readonly policy: HttpPolicy;
  private readonly what: string;

  constructor(
    private readonly target: RemoteModelId,
    private readonly wire: ProviderWire,
    private readonly key: { key?: string; source: ApiKeySource },
    private readonly opts: RemoteGeneratorOptions,
    id: string,
  ) {
    this.policy = { ...DEFAULT_HTTP_POLICY, ...opts.policy };
    this.gate = new RequestGate(this.policy.concurrency, this.policy.requestBudget);
    this.info = { id, backend: target.provider, model: target.model, family: wire.family, location: target.baseUrl };
    this.what = `${target.provider} ${destinationOf(target.baseUrl).host}`;
  }

  /** Key source and attempts so far. */
  get state(): RemoteGeneratorState {
    return { keySource: this.key.source, attempts: this.gate.attempts };
  }

  async generate(request: GenerationRequest, options: GenerationOptions = {}): Promise<GenerationResult> {
    const started = performance.now();
    // Checked again per call: a generator may outlive a change of mind, never of host.
    assertImageMayGo(this.target.baseUrl, Boolean(this.opts.allowRemote));
    const wireOptions = this.wireOptions(options);
    const pngBase64 = await Promise.all(request.images.map(async (img) => Buffer.from(await encodeRgbPng(img)).toString('base64')));
    const stream = this.opts.stream ?? true;
    const req = this.wire.request({
      baseUrl: this.target.baseUrl,
      model: this.target.model,
      prompt: request.prompt,
      pngBase64,
      options: wireOptions,
      stream,
      ...(this.key.key ? { apiKey: this.key.key } : {}),
    });
    const redact = (t: string): string => redactKey(t, this.key.key);
    const outcome = await sendWithRetries(req, {
      what: this.what,
      policy: this.policy,
      gate: this.gate,
      clock: this.opts.clock ?? systemClock,
      readError: (s, b) => this.wire.readError(s, b),
      redact,
      ...(this.opts.random ? { random: this.opts.random } : {}),
      ...(this.opts.fetchImpl ? { fetchImpl: this.opts.fetchImpl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let text = '';
    let finishReason: FinishReason = 'other';
    let usage: GenerationUsage = {};
    let model: string | undefined;
    try {
      const isSse = (outcome.response.headers.get('content-type') ?? '').includes('text/event-stream');
      if (stream && isSse && outcome.response.body) {
        for await (const event of readSse(outcome.response.body)) {
          const d = this.wire.parseEvent(event);
          if (d.error) {
            throw new RemoteError('E_REMOTE_FAILED', redact(`${this.what}: error in the stream${d.error.type ? ` (${d.error.type})` : ''}: ${d.error.message}`), {
              attempts: outcome.attempts,
            });
          }
          if (d.text) {
            text += d.text;
            options.onText?.(d.text);
          }
          if (d.finishReason) finishReason = d.finishReason;
          if (d.usage) usage = { ...usage, ...dropUndefined(d.usage) };
          if (d.model) model = d.model;
          if (d.end) break;
        }
      } else {
        const body = await outcome.response.text();
        const json = tryJson(body);
        if (json === undefined) throw new RemoteError('E_REMOTE_PROTOCOL', `${this.what}: the response is not JSON`, { attempts: outcome.attempts });
        const answer = this.wire.parseAnswer(json);
        text = answer.text;
        finishReason = answer.finishReason;
        usage = dropUndefined(answer.usage);
        model = answer.model;
        if (text) options.onText?.(text);
      }
    } catch (e) {
      if (e instanceof RemoteError) throw e;
      if (options.signal?.aborted) {
        finishReason = 'cancelled';
      } else if (outcome.signal.aborted) {
        throw new RemoteError('E_REMOTE_TIMEOUT', `${this.what}: the answer did not finish within ${this.policy.timeoutMs} ms`, { attempts: outcome.attempts, cause: e });
      } else {
        throw new RemoteError('E_REMOTE_FAILED', redact(`${this.what}: reading the answer failed: ${e instanceof Error ? e.message : String(e)}`), {
          attempts: outcome.attempts,
          cause: e,
        });
      }
    } finally {
      outcome.done();
    }
    if (usage.totalTokens === undefined && usage.promptTokens !== undefined && usage.completionTokens !== undefined) {
      usage.totalTokens = usage.promptTokens + usage.completionTokens;
    }
    const dest = destinationOf(this.target.baseUrl);
    return {
      text,
      backend: this.target.provider,
      model: model ?? this.target.model,
      finishReason,
      usage,
      image: { kind: dest.kind, host: dest.host, tls: dest.tls, payload: request.images.length > 0 ? 'png-pixels' : 'none', images: request.images.length },
      applied: {
        maxTokens: wireOptions.maxTokens,
        temperature: wireOptions.temperature,
        ...(wireOptions.seed !== undefined ? { seed: wireOptions.seed } : {}),
        ...(wireOptions.stop ? { stop: wireOptions.stop } : {}),
      },
      attempts: outcome.attempts,
      elapsedMs: Math.round(performance.now() - started),
    };
  }

  private wireOptions(o: GenerationOptions): WireOptions {
    const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new OptionError('E_BAD_OPTION', `maxTokens: expected a whole number ≥ 1, got ${maxTokens}`);
    const temperature = o.temperature ?? 0;
    if (!(temperature >= 0 && temperature <= 2)) throw new OptionError('E_BAD_OPTION', `temperature: expected 0..2, got ${temperature}`);
    if (o.stop && o.stop.length > this.wire.supports.stopMax) {
      throw new OptionError('E_BAD_OPTION', `${this.target.provider}: at most ${this.wire.supports.stopMax} stop strings, got ${o.stop.length}`);
    }
    return {
      maxTokens,
      temperature,
      ...(o.stop?.length ? { stop: o.stop } : {}),
      ...(o.seed !== undefined && this.wire.supports.seed ? { seed: o.seed } : {}),
    };
  }

  async dispose(): Promise<void> {
    // Nothing held between calls: fetch keeps its own connection pool.
  }
}

function dropUndefined(u: GenerationUsage): GenerationUsage {
  return Object.fromEntries(Object.entries(u).filter(([, v]) => v !== undefined)) as GenerationUsage;
}

/**
 * Build a remote generator from `openai:…`, `anthropic:…` or `gemini:…`. The privacy guard and the
 * API key are checked here, before any request.
 */
export function createRemoteGenerator(id: string, opts: RemoteGeneratorOptions = {}): VisionLanguageGenerator & { readonly state: RemoteGeneratorState } {
  const target = parseRemoteModelId(id);
  assertImageMayGo(target.baseUrl, Boolean(opts.allowRemote));
  const wire = WIRES[target.provider];
  const key = resolveApiKey(target.provider, {
    required: wire.keyRequired(target.baseUrl),
    ...(opts.apiKeyFile ? { apiKeyFile: opts.apiKeyFile } : {}),
    ...(opts.environment ? { environment: opts.environment } : {}),
  });
  return new RemoteGenerator(target, wire, key, opts, id);
}
