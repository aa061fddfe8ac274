/**
 * Google Gemini API wire format: `POST {base}/v1beta/models/{model}:generateContent`, or
 * `:streamGenerateContent?alt=sse` for SSE where every event is a whole GenerateContentResponse
 * (usage totals so far in `usageMetadata`). Key in the `x-goog-api-key` header; images as
 * `inline_data {mime_type, data}` parts. Errors are `{"error": {"code", "message", "status"}}`.
 * Reference: https://ai.google.dev/api/generate-content and https://ai.google.dev/gemini-api/docs/vision
 */
import type { FinishReason, GenerationUsage } from '../../capabilities.js';
import { RemoteError } from '../../../core/errors.js';
import { excerpt, tryJson, type ProviderWire, type WireAnswer } from './types.js';

interface GeminiResponse {
  candidates?: Array<{ content?: { parts?: Array<{ text?: string; thought?: boolean }> }; finishReason?: string }>;
  usageMetadata?: { promptTokenCount?: number; candidatesTokenCount?: number; totalTokenCount?: number };
  modelVersion?: string;
  promptFeedback?: { blockReason?: string };
  error?: { code?: number; message?: string; status?: string };
}

function finish(reason: string | undefined): FinishReason | undefined {
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return undefined;
  if (reason === 'STOP') return 'stop';
  if (reason === 'MAX_TOKENS') return 'length';
  return 'other';
}

function usage(u: GeminiResponse['usageMetadata']): GenerationUsage | undefined {
  if (!u) return undefined;
  return { promptTokens: u.promptTokenCount, completionTokens: u.candidatesTokenCount, totalTokens: u.totalTokenCount };
}

function answerOf(r: GeminiResponse): WireAnswer {
  const candidate = r.candidates?.[0];
  const text = (candidate?.content?.parts ?? []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
  return { text, finishReason: finish(candidate?.finishReason) ?? 'other', usage: usage(r.usageMetadata) ?? {}, model: r.modelVersion };
}

/** The Gemini generateContent format. */
export const geminiWire: ProviderWire = {
  provider: 'gemini',
  family: 'gemini-generate-content',
  keyRequired: () => true,
  supports: { seed: true, stopMax: 5 },
  request(input) {
    const o = input.options;
    const model = encodeURIComponent(input.model.replace(/^models\//, ''));
    const method = input.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const body = {
      contents: [
        {
          role: 'user',
          parts: [...input.pngBase64.map((data) => ({ inline_data: { mime_type: 'image/png', data } })), { text: input.prompt }],
        },
      ],
      generationConfig: {
        maxOutputTokens: o.maxTokens,
        temperature: o.temperature,
        ...(o.stop?.length ? { stopSequences: o.stop } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
      },
    };
    return {
      url: `${input.baseUrl}/v1beta/models/${model}:${method}`,
      headers: { 'content-type': 'application/json', ...(input.apiKey ? { 'x-goog-api-key': input.apiKey } : {}) },
      body: JSON.stringify(body),
    };
  },
  parseAnswer(json) {
    const r = json as GeminiResponse;
    if (!r || typeof r !== 'object') throw new RemoteError('E_REMOTE_PROTOCOL', 'gemini: the response is not a JSON object');
    if (!r.candidates?.length) {
      const why = r.promptFeedback?.blockReason ? `the prompt was blocked (${r.promptFeedback.blockReason})` : 'the response has no candidates';
      throw new RemoteError('E_REMOTE_REJECTED', `gemini: ${why}`);
    }
    return answerOf(r);
  },
  parseEvent(e) {
    const r = tryJson(e.data) as GeminiResponse | undefined;
    if (!r) return { error: { message: `unreadable stream event: ${excerpt(e.data)}` } };
    if (r.error) return { error: { message: r.error.message ?? excerpt(e.data), type: r.error.status } };
    const a = answerOf(r);
    return { ...(a.text ? { text: a.text } : {}), finishReason: finish(r.candidates?.[0]?.finishReason), usage: usage(r.usageMetadata), model: a.model };
  },
  readError(_status, body) {
    const j = tryJson(body) as GeminiResponse | GeminiResponse[] | undefined;
    const err = Array.isArray(j) ? j[0]?.error : j?.error;
    // An invalid key is a 400 INVALID_ARGUMENT whose message/details name API_KEY_INVALID.
    const auth = /API_KEY_INVALID|API key not valid/i.test(body) || err?.status === 'UNAUTHENTICATED' || err?.status === 'PERMISSION_DENIED';
    if (err?.message) return { message: err.message, type: err.status, auth };
    return { message: excerpt(body), auth };
  },
};
