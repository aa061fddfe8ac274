/**
 * Anthropic Messages wire format (`POST {base}/v1/messages`, headers `x-api-key` and
 * `anthropic-version`). Images are `{type: "image", source: {type: "base64", media_type, data}}`
 * blocks; streaming is SSE with named events (`message_start`, `content_block_delta` with
 * `text_delta`, `message_delta` with `stop_reason` and output usage, `message_stop`, `ping`, `error`).
 * Errors are `{"type": "error", "error": {"type", "message"}}`; 529 is `overloaded_error`.
 * Reference: https://docs.anthropic.com/en/api/messages, https://docs.anthropic.com/en/api/messages-streaming,
 * https://docs.anthropic.com/en/api/errors
 */
import type { FinishReason, GenerationUsage } from '../../capabilities.js';
import { RemoteError } from '../../../core/errors.js';
import { excerpt, tryJson, type ProviderWire } from './types.js';

/** API version header value medvlm speaks. */
export const ANTHROPIC_VERSION = '2023-06-01';

interface MessagesUsage {
  input_tokens?: number;
  output_tokens?: number;
}

function finish(reason: unknown): FinishReason | undefined {
  if (reason === null || reason === undefined) return undefined;
  if (reason === 'end_turn') return 'stop';
  if (reason === 'max_tokens') return 'length';
  if (reason === 'stop_sequence') return 'stop-sequence';
  return 'other';
}

function usage(u: MessagesUsage | undefined): GenerationUsage | undefined {
  if (!u) return undefined;
  const out: GenerationUsage = {};
  if (u.input_tokens !== undefined) out.promptTokens = u.input_tokens;
  if (u.output_tokens !== undefined) out.completionTokens = u.output_tokens;
  return out;
}

/** The Anthropic Messages format. */
export const anthropicWire: ProviderWire = {
  provider: 'anthropic',
  family: 'anthropic-messages',
  keyRequired: () => true,
  supports: { seed: false, stopMax: 16 },
  request(input) {
    const o = input.options;
    const body = {
      model: input.model,
      max_tokens: o.maxTokens,
      messages: [
        {
          role: 'user',
          content: [
            ...input.pngBase64.map((data) => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data } })),
            { type: 'text', text: input.prompt },
          ],
        },
      ],
      temperature: o.temperature,
      ...(o.stop?.length ? { stop_sequences: o.stop } : {}),
      ...(input.stream ? { stream: true } : {}),
    };
    return {
      url: `${input.baseUrl}/v1/messages`,
      headers: {
        'content-type': 'application/json',
        'anthropic-version': ANTHROPIC_VERSION,
        ...(input.apiKey ? { 'x-api-key': input.apiKey } : {}),
      },
      body: JSON.stringify(body),
    };
  },
  parseAnswer(json) {
    const r = json as { model?: string; content?: Array<{ type?: string; text?: string }>; stop_reason?: unknown; usage?: MessagesUsage };
    if (!Array.isArray(r?.content)) throw new RemoteError('E_REMOTE_PROTOCOL', 'anthropic: the response has no content array');
    const text = r.content.filter((b) => b.type === 'text' && typeof b.text === 'string').map((b) => b.text).join('');
    const u = usage(r.usage) ?? {};
    if (u.promptTokens !== undefined && u.completionTokens !== undefined) u.totalTokens = u.promptTokens + u.completionTokens;
    return { text, finishReason: finish(r.stop_reason) ?? 'other', usage: u, model: r.model };
  },
  parseEvent(e) {
    const j = tryJson(e.data) as
      | {
          type?: string;
          message?: { model?: string; usage?: MessagesUsage };
          delta?: { type?: string; text?: string; stop_reason?: unknown };
          usage?: MessagesUsage;
          error?: { type?: string; message?: string };
        }
      | undefined;
    if (!j) return { error: { message: `unreadable stream event: ${excerpt(e.data)}` } };
    switch (j.type ?? e.event) {
      case 'message_start':
        return { model: j.message?.model, usage: usage(j.message?.usage) };
      case 'content_block_delta':
        return j.delta?.type === 'text_delta' && typeof j.delta.text === 'string' ? { text: j.delta.text } : {};
      case 'message_delta':
        return { finishReason: finish(j.delta?.stop_reason), usage: usage(j.usage) };
      case 'message_stop':
        return { end: true };
      case 'error':
        return { error: { message: j.error?.message ?? excerpt(e.data), type: j.error?.type } };
      default:
        return {}; // ping, content_block_start/stop, and event types added later
    }
  },
  readError(_status, body) {
    const j = tryJson(body) as { error?: { type?: string; message?: string } } | undefined;
    if (j?.error?.message) return { message: j.error.message, type: j.error.type };
    return { message: excerpt(body) };
  },
};
