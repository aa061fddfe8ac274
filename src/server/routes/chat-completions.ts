/**
 * `POST /v1/chat/completions`: an OpenAI-compatible chat completions endpoint over a local medvlm
 * generator (default: the bundled medvlm-tiny-gen), so that tools that speak the OpenAI format can use
 * medvlm as a vision-language server. One image per request, given as a `data:` URL in an `image_url`
 * part (the server never fetches URLs); the text parts of the last user message are the prompt.
 * Non-streaming answers `chat.completion`; `stream: true` answers server-sent `chat.completion.chunk`
 * events ending in `data: [DONE]` (usage in a last chunk when `stream_options.include_usage`). Every
 * answer carries medvlm's research-use notice in `medvlm.notice`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FinishReason, GenerationResult, VisionLanguageGenerator } from '../../models/capabilities.js';
import { optionError } from '../../core/errors.js';
import { RESEARCH_NOTICE } from '../../models/defaults.js';
import { isRemoteModelId } from '../../models/generators.js';
import { prepareInput } from '../../tasks/batch.js';
import type { ConcurrencyGate } from '../gate.js';
import { withTimeout } from '../gate.js';
import { HttpError, toHttpError } from '../http-errors.js';

/** What the route needs from the server. */
export interface ChatCompletionsContext {
  /** The local generator (loaded once, on first use). */
  generator: () => Promise<VisionLanguageGenerator>;
  gate: ConcurrencyGate;
  timeoutMs: number;
  /** Largest decoded image in bytes. */
  maxImageBytes: number;
}

/** A parsed request. */
export interface ChatRequest {
  prompt: string;
  image: Uint8Array;
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
  stream: boolean;
  includeUsage: boolean;
}

const bad = (message: string): HttpError => new HttpError('E_HTTP_BAD_REQUEST', message);

function dataUrlBytes(url: string, maxBytes: number): Uint8Array {
  const m = /^data:([\w.+/-]+)?(;base64)?,(.*)$/s.exec(url);
  if (!m) throw bad('image_url.url: only data: URLs are accepted (the server never fetches URLs)');
  if (!m[2]) throw bad('image_url.url: the data URL must be base64 encoded');
  if ((m[3].length * 3) / 4 > maxBytes) throw new HttpError('E_HTTP_TOO_LARGE', `image_url: the image is larger than the server accepts (${maxBytes} bytes)`);
  const bytes = Buffer.from(m[3], 'base64');
  if (bytes.length === 0) throw bad('image_url.url: the data URL holds no bytes');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Parse and check an OpenAI chat completions body. */
export function parseChatRequest(body: unknown, maxImageBytes: number): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad('messages: expected a non-empty array');
  const user = [...b.messages].reverse().find((m) => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user') as { content?: unknown } | undefined;
  if (!user) throw bad('messages: no message with role "user"');
  const parts = typeof user.content === 'string' ? [{ type: 'text', text: user.content }] : user.content;
  if (!Array.isArray(parts)) throw bad('messages[].content: expected a string or an array of parts');
  const texts: string[] = [];
  const images: Uint8Array[] = [];
  for (const p of parts as Array<Record<string, unknown>>) {
    if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
    else if (p?.type === 'image_url') {
      const iu = p.image_url as { url?: unknown } | string | undefined;
      const url = typeof iu === 'string' ? iu : iu?.url;
      if (typeof url !== 'string') throw bad('image_url: expected {"url": "data:image/...;base64,..."}');
      images.push(dataUrlBytes(url, maxImageBytes));
    } else throw bad(`messages[].content: unsupported part type ${JSON.stringify(p?.type ?? null)} (text and image_url only)`);
  }
  if (images.length !== 1) throw bad(`the last user message must hold exactly one image_url part, got ${images.length}`);
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) throw bad('max_tokens: expected a whole number ≥ 1');
  if (b.temperature !== undefined && b.temperature !== null && !(typeof b.temperature === 'number' && b.temperature >= 0 && b.temperature <= 2)) throw bad('temperature: expected a number from 0 to 2');
  const stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
  if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))) throw bad('stop: expected a string or an array of strings');
  const so = b.stream_options as { include_usage?: unknown } | undefined;
  return {
    prompt: texts.join('\n'),
    image: images[0],
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    ...(typeof b.temperature === 'number' ? { temperature: b.temperature } : {}),
    ...(Array.isArray(stop) && stop.length ? { stop: stop as string[] } : {}),
    stream: b.stream === true,
    includeUsage: so?.include_usage === true,
  };
}

const finishReason = (f: FinishReason): string => (f === 'length' ? 'length' : 'stop');
const usageOf = (r: GenerationResult) => ({
  prompt_tokens: r.usage.promptTokens ?? 0,
  completion_tokens: r.usage.completionTokens ?? 0,
  total_tokens: r.usage.totalTokens ?? (r.usage.promptTokens ?? 0) + (r.usage.completionTokens ?? 0),
});

async function generate(gen: VisionLanguageGenerator, req: ChatRequest, onText?: (t: string) => void): Promise<GenerationResult> {
  const rgb = (await prepareInput(req.image, undefined, { name: 'request image' })).rgb!;
  return gen.generate(
    { images: [rgb], prompt: req.prompt },
    {
      ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
      ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
      ...(req.stop ? { stop: req.stop } : {}),
      ...(onText ? { onText } : {}),
    },
  );
}

async function streamAnswer(ctx: ChatCompletionsContext, req: ChatRequest, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const gen = await ctx.generator();
  const model = gen.info.model;
  let started = false;
  const send = (chunk: unknown) => reply.raw.write(`data: ${JSON.stringify(chunk)}\n\n`);
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    send({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });
  const start = () => {
    if (started) return;
    started = true;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    chunk({ role: 'assistant', content: '' }, null);
  };
  try {
    const r = await withTimeout(
      ctx.gate.run(() => generate(gen, req, (t) => (start(), chunk({ content: t }, null)))),
      ctx.timeoutMs,
    );
    start();
    chunk({}, finishReason(r.finishReason), { medvlm: { notice: RESEARCH_NOTICE } });
    if (req.includeUsage) send({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(r) });
    reply.raw.write('data: [DONE]\n\n');
    reply.raw.end();
  } catch (e) {
    if (!started) throw e; // the error handler answers with a status
    const { body } = toHttpError(e);
    request.log.warn({ code: body.error.code }, 'stream failed');
    send({ error: { message: body.error.message, type: body.error.code } });
    reply.raw.end();
  }
}

/** Register `POST /v1/chat/completions`. */
export function registerChatCompletions(app: FastifyInstance, ctx: ChatCompletionsContext): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const req = parseChatRequest(request.body, ctx.maxImageBytes);
    if (req.stream) return streamAnswer(ctx, req, request, reply);
    const gen = await ctx.generator();
    const r = await withTimeout(ctx.gate.run(() => generate(gen, req)), ctx.timeoutMs);
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: gen.info.model,
      choices: [{ index: 0, message: { role: 'assistant', content: r.text }, finish_reason: finishReason(r.finishReason) }],
      usage: usageOf(r),
      medvlm: { notice: RESEARCH_NOTICE },
    };
  });
}

/** A local generator loaded on first use and disposed with the server. Remote ids are refused (the endpoint serves local models). */
export function lazyLocalGenerator(id: string, load: (id: string) => Promise<VisionLanguageGenerator>): { get: () => Promise<VisionLanguageGenerator>; close: () => Promise<void> } {
  if (isRemoteModelId(id)) throw optionError('generator', `${id}: /v1/chat/completions serves local generators only (a folder or bundled name)`);
  let loading: Promise<VisionLanguageGenerator> | undefined;
  return {
    get: () => {
      loading ??= load(id).catch((e: unknown) => {
        loading = undefined; // a failed load is retried by the next request
        throw e;
      });
      return loading;
    },
    close: async () => {
      if (loading) await (await loading.catch(() => undefined))?.dispose();
    },
  };
}
