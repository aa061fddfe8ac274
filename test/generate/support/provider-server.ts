/**
 * Local test servers that follow each provider's published wire format (OpenAI chat completions,
 * Anthropic Messages, Gemini generateContent), streaming (SSE) and error bodies included. Bound to
 * 127.0.0.1 on a random port; every request is recorded (time, path, headers, raw body) so tests
 * can check what medvlm sent. Failures can be scripted ahead of the answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Provider wire formats served. */
export type Provider = 'openai' | 'anthropic' | 'gemini';

/** One recorded request. */
export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  json: unknown;
}

/** A scripted failure returned instead of the answer. */
export interface ScriptedFailure {
  status: number;
  headers?: Record<string, string>;
  /** Error body; default: the provider's documented error shape for the status. */
  body?: string;
  /** Wait before answering (ms). */
  delayMs?: number;
}

/** Server settings. */
export interface ProviderServerOptions {
  /** The key the server accepts (a request without it gets the provider's auth error). */
  apiKey?: string;
  /** The answer, streamed as these pieces. */
  pieces: string[];
  /** Model name echoed back. */
  model?: string;
  promptTokens?: number;
  /** Delay before every answer (ms), to observe concurrency. */
  answerDelayMs?: number;
  /** Stream: send an error event after the first piece (Anthropic/OpenAI/Gemini style). */
  streamErrorAfterFirst?: boolean;
  /** Stream: wait this long between events (ms). */
  eventDelayMs?: number;
}

/** A running fake provider. */
export interface ProviderServer {
  provider: Provider;
  /** Base URL to put in the model id (openai: with /v1). */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Failures returned, in order, before answers. */
  failures: ScriptedFailure[];
  /** Most requests in flight at once so far. */
  maxInFlight: number;
  close(): Promise<void>;
}

function errorBody(provider: Provider, status: number, message: string): string {
  const openAiType: Record<number, string> = { 401: 'invalid_request_error', 429: 'requests', 500: 'server_error' };
  const anthropicType: Record<number, string> = {
    400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
    429: 'rate_limit_error', 500: 'api_error', 529: 'overloaded_error',
  };
  const geminiStatus: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
  if (provider === 'openai') return JSON.stringify({ error: { message, type: openAiType[status] ?? 'invalid_request_error', param: null, code: null } });
  if (provider === 'anthropic') return JSON.stringify({ type: 'error', error: { type: anthropicType[status] ?? 'api_error', message } });
  return JSON.stringify({ error: { code: status, message, status: geminiStatus[status] ?? 'UNKNOWN' } });
}

function authorised(provider: Provider, req: IncomingMessage, key: string | undefined): boolean {
  if (key === undefined) return true;
  if (provider === 'openai') return req.headers.authorization === `Bearer ${key}`;
  if (provider === 'anthropic') return req.headers['x-api-key'] === key;
  return req.headers['x-goog-api-key'] === key;
}

function sse(res: ServerResponse, events: Array<{ event?: string; data: string }>, delayMs = 0): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const write = (e: { event?: string; data: string }): boolean => res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`);
  if (delayMs <= 0) {
    for (const e of events) write(e);
    res.end();
    return;
  }
  let i = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (i >= events.length) {
      res.end();
      return;
    }
    write(events[i++]);
    setTimeout(next, delayMs);
  };
  next();
}

function answer(provider: Provider, stream: boolean, o: ProviderServerOptions, res: ServerResponse): void {
  const model = o.model ?? 'test-model';
  const text = o.pieces.join('');
  const prompt = o.promptTokens ?? 17;
  const completion = o.pieces.length;
  const j = JSON.stringify;
  if (provider === 'openai') {
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(j({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } }));
      return;
    }
    const chunk = (delta: object, finish: string | null): string => j({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    const events = [{ data: chunk({ role: 'assistant', content: '' }, null) }];
    o.pieces.forEach((p, i) => {
      events.push({ data: chunk({ content: p }, null) });
      if (i === 0 && o.streamErrorAfterFirst) events.push({ data: j({ error: { message: 'upstream model crashed', type: 'server_error' } }) });
    });
    events.push({ data: chunk({}, 'stop') });
    events.push({ data: j({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } }) });
    events.push({ data: '[DONE]' });
    sse(res, events, o.eventDelayMs);
    return;
  }
  if (provider === 'anthropic') {
    if (!stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(j({ id: 'msg_1', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: prompt, output_tokens: completion } }));
      return;
    }
    const events: Array<{ event?: string; data: string }> = [
      { event: 'message_start', data: j({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model, stop_reason: null, stop_sequence: null, usage: { input_tokens: prompt, output_tokens: 1 } } }) },
      { event: 'content_block_start', data: j({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
      { event: 'ping', data: j({ type: 'ping' }) },
    ];
    o.pieces.forEach((p, i) => {
      events.push({ event: 'content_block_delta', data: j({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } }) });
      if (i === 0 && o.streamErrorAfterFirst) events.push({ event: 'error', data: j({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) });
    });
    events.push({ event: 'content_block_stop', data: j({ type: 'content_block_stop', index: 0 }) });
    events.push({ event: 'message_delta', data: j({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: completion } }) });
    events.push({ event: 'message_stop', data: j({ type: 'message_stop' }) });
    sse(res, events, o.eventDelayMs);
    return;
  }
  const response = (parts: string, n: number, finish?: string): string =>
    j({
      candidates: [{ content: { parts: [{ text: parts }], role: 'model' }, ...(finish ? { finishReason: finish } : {}), index: 0 }],
      usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: n, totalTokenCount: prompt + n },
      modelVersion: model,
    });
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(response(text, completion, 'STOP'));
    return;
  }
  const events: Array<{ data: string }> = [];
  o.pieces.forEach((p, i) => {
    events.push({ data: response(p, i + 1, i === o.pieces.length - 1 ? 'STOP' : undefined) });
    if (i === 0 && o.streamErrorAfterFirst) events.push({ data: j({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }) });
  });
  sse(res, events, o.eventDelayMs);
}

function expectedPath(provider: Provider, path: string): { ok: boolean; stream: boolean } {
  if (provider === 'openai') return { ok: path === '/v1/chat/completions', stream: false };
  if (provider === 'anthropic') return { ok: path === '/v1/messages', stream: false };
  const m = /^\/v1beta\/models\/[^/:]+:(generateContent|streamGenerateContent\?alt=sse)$/.exec(path);
  return { ok: m !== null, stream: m?.[1] !== 'generateContent' };
}

/** Start a fake provider on 127.0.0.1 (random port). */
export async function startProviderServer(provider: Provider, opts: ProviderServerOptions): Promise<ProviderServer> {
  const requests: RecordedRequest[] = [];
  const failures: ScriptedFailure[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = undefined;
      }
      requests.push({ at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json });
      const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body);
      };
      const route = expectedPath(provider, req.url ?? '');
      if (req.method !== 'POST' || !route.ok) return send(404, errorBody(provider, 404, `no route ${req.method} ${req.url}`));
      if (provider === 'anthropic' && !req.headers['anthropic-version']) return send(400, errorBody(provider, 400, 'anthropic-version header is required'));
      if (!authorised(provider, req, opts.apiKey)) {
        if (provider === 'gemini') return send(400, JSON.stringify({ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } }));
        return send(401, errorBody(provider, 401, 'invalid api key'));
      }
      const failure = failures.shift();
      const go = (): void => {
        if (failure) return send(failure.status, failure.body ?? errorBody(provider, failure.status, `scripted ${failure.status}`), failure.headers);
        const body = json as { stream?: boolean } | undefined;
        answer(provider, provider === 'gemini' ? route.stream : Boolean(body?.stream), opts, res);
      };
      const delay = failure?.delayMs ?? (failure ? 0 : opts.answerDelayMs ?? 0);
      if (delay > 0) setTimeout(go, delay);
      else go();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    provider,
    baseUrl: provider === 'openai' ? `${origin}/v1` : origin,
    requests,
    failures,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A Clock that records requested waits and returns at once (no wall time in assertions). */
export function recordingClock(): { now(): number; sleep(ms: number): Promise<void>; sleeps: number[] } {
  const sleeps: number[] = [];
  let t = 1_700_000_000_000;
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}
