/**
 * OpenAI Chat Completions wire format (`POST {base}/chat/completions`), as served by OpenAI and by
 * vLLM, TGI, Ollama, llama.cpp server and LM Studio. Images are `image_url` parts holding a
 * `data:image/png;base64,...` URL; streaming is SSE with `data: {chunk}` lines ending in
 * `data: [DONE]`, usage in the last chunk when `stream_options.include_usage` is set.
 * Reference: https://platform.openai.com/docs/api-reference/chat/create and
 * https://platform.openai.com/docs/api-reference/chat-streaming
 */
import type { FinishReason } from '../../capabilities.js';
import { excerpt, tryJson, type ProviderWire, type WireAnswer, type WireDelta } from './types.js';
import { RemoteError } from '../../../core/errors.js';

interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

function finish(reason: unknown): FinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  if (reason === 'stop') return 'stop';
  if (reason === 'length') return 'length';
  return 'other';
}

function usage(u: ChatUsage | undefined | null): WireAnswer['usage'] | undefined {
  if (!u) return undefined;
  return { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens, totalTokens: u.total_tokens };
}

/** OpenAI's own API wants `max_completion_tokens`; compatible servers all read `max_tokens`. */
function isOpenAiItself(baseUrl: string): boolean {
  return new URL(baseUrl).hostname === 'api.openai.com';
}

/** The OpenAI-compatible chat completions format. */
export const openAiWire: ProviderWire = {
  provider: 'openai',
  family: 'openai-chat',
  keyRequired: isOpenAiItself,
  supports: { seed: true, stopMax: 4 },
  request(input) {
    const o = input.options;
    const body: Record<string, unknown> = {
      model: input.model,
      messages: [
        {
          role: 'user',
          content: [
            ...input.pngBase64.map((b64) => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${b64}` } })),
            { type: 'text', text: input.prompt },
          ],
        },
      ],
      [isOpenAiItself(input.baseUrl) ? 'max_completion_tokens' : 'max_tokens']: o.maxTokens,
      temperature: o.temperature,
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.stop?.length ? { stop: o.stop } : {}),
      ...(input.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    return {
      url: `${input.baseUrl}/chat/completions`,
      headers: {
        'content-type': 'application/json',
        accept: input.stream ? 'text/event-stream' : 'application/json',
        ...(input.apiKey ? { authorization: `Bearer ${input.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
    };
  },
  parseAnswer(json) {
    const r = json as { model?: string; choices?: Array<{ message?: { content?: unknown }; finish_reason?: unknown }>; usage?: ChatUsage };
    const choice = r?.choices?.[0];
    if (!choice || typeof choice.message?.content !== 'string') {
      throw new RemoteError('E_REMOTE_PROTOCOL', `openai: the response has no choices[0].message.content`);
    }
    return { text: choice.message.content, finishReason: finish(choice.finish_reason) ?? 'other', usage: usage(r.usage) ?? {}, model: r.model };
  },
  parseEvent(e) {
    if (e.data.trim() === '[DONE]') return { end: true };
    const chunk = tryJson(e.data) as
      | { model?: string; choices?: Array<{ delta?: { content?: unknown }; finish_reason?: unknown }>; usage?: ChatUsage; error?: { message?: string; type?: string } }
      | undefined;
    if (!chunk) return { error: { message: `unreadable stream chunk: ${excerpt(e.data)}` } };
    if (chunk.error) return { error: { message: chunk.error.message ?? excerpt(e.data), type: chunk.error.type } };
    const delta: WireDelta = {};
    const choice = chunk.choices?.[0];
    if (typeof choice?.delta?.content === 'string' && choice.delta.content.length > 0) delta.text = choice.delta.content;
    const f = finish(choice?.finish_reason);
    if (f) delta.finishReason = f;
    const u = usage(chunk.usage);
    if (u) delta.usage = u;
    if (chunk.model) delta.model = chunk.model;
    return delta;
  },
  readError(_status, body) {
    // OpenAI: {"error": {"message", "type", "code"}}; vLLM: {"object": "error", "message", "type"}; some: {"error": "text"}
    const j = tryJson(body) as { error?: { message?: string; type?: string } | string; message?: string; type?: string } | undefined;
    if (j && typeof j.error === 'object' && j.error?.message) return { message: j.error.message, type: j.error.type };
    if (j && typeof j.error === 'string') return { message: j.error };
    if (j && typeof j.message === 'string') return { message: j.message, type: j.type };
    return { message: excerpt(body) };
  },
};
