/**
 * `POST /v1/chat/completions` of medvlm serve, called by medvlm's own OpenAI-compatible client
 * (backend 2 of `medvlm generate`): non-streaming and streaming answers equal the local generator's
 * own output for the same view, token counts included; malformed requests get OpenAI-style 400s;
 * the server never fetches an http image URL. With the bundled medvlm-tiny-gen end to end when present.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RGBImage, VisionLanguageGenerator } from '../../src/models/capabilities.js';
import { loadGenerator } from '../../src/models/generators.js';
import { createRemoteGenerator } from '../../src/models/remote/generator.js';
import { parseChatRequest } from '../../src/server/routes/chat-completions.js';
import { buildVedFolder } from '../generate/support/ved-builder.js';
import { startTestServer, type TestServer } from './helpers.js';

const MODEL_DIR = fileURLToPath(new URL('../.models/tiny-ved', import.meta.url));
const TINY_GEN = fileURLToPath(new URL('../../models/medvlm-tiny-gen', import.meta.url));

function view(): RGBImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13) % 251;
  return { data, width: 32, height: 32 };
}
const png = async (v: RGBImage) => sharp(Buffer.from(v.data), { raw: { width: v.width, height: v.height, channels: 3 } }).png().toBuffer();

let server: TestServer;
let local: VisionLanguageGenerator;
beforeAll(async () => {
  buildVedFolder(MODEL_DIR);
  server = await startTestServer({ generator: MODEL_DIR });
  local = await loadGenerator(MODEL_DIR, { threads: 1 });
});
afterAll(async () => {
  await server?.close();
  await local?.dispose();
});

describe('/v1/chat/completions with medvlm’s OpenAI client', () => {
  it('non-streaming: text and token counts equal the local generator on the same view', async () => {
    const client = createRemoteGenerator(`openai:${server.base}/v1#tiny-ved`, { stream: false });
    const image = view();
    const r = await client.generate({ images: [image], prompt: 'lung' }, { maxTokens: 7 });
    const ref = await local.generate({ images: [image], prompt: 'lung' }, { maxTokens: 7 });
    expect(r.text).toBe(ref.text);
    expect(r.usage).toEqual({ promptTokens: ref.usage.promptTokens, completionTokens: 7, totalTokens: ref.usage.totalTokens });
    expect(r.finishReason).toBe(ref.finishReason);
    expect(r.model).toBe('tiny-ved');
    expect(r.image).toMatchObject({ kind: 'loopback', payload: 'png-pixels' });
  });

  it('streaming (SSE): the pieces join to the same text, usage in the last chunk', async () => {
    const client = createRemoteGenerator(`openai:${server.base}/v1#tiny-ved`, { stream: true });
    const image = view();
    const pieces: string[] = [];
    const r = await client.generate({ images: [image], prompt: '' }, { maxTokens: 9, onText: (t) => pieces.push(t) });
    const ref = await local.generate({ images: [image], prompt: '' }, { maxTokens: 9 });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(ref.text);
    expect(r.text).toBe(ref.text);
    expect(r.usage.completionTokens).toBe(9);
  });

  it('the raw answers carry the OpenAI fields and the research notice', async () => {
    const url = `data:image/png;base64,${(await png(view())).toString('base64')}`;
    const body = { model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'lung' }] }], max_tokens: 3 };
    const res = await fetch(`${server.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const j = (await res.json()) as { object: string; choices: Array<{ message: { role: string }; finish_reason: string }>; medvlm: { notice: string } };
    expect(j.object).toBe('chat.completion');
    expect(j.choices[0].message.role).toBe('assistant');
    expect(j.choices[0].finish_reason).toBe('length');
    expect(j.medvlm.notice).toMatch(/Research use only/);
    const s = await fetch(`${server.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    expect(s.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await s.text();
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    expect(text).toContain('"object":"chat.completion.chunk"');
  });

  it('bad requests are 400 with an error body; http image URLs are never fetched', async () => {
    const post = (b: unknown) => fetch(`${server.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
    for (const b of [
      {},
      { messages: [] },
      { messages: [{ role: 'user', content: 'no image here' }] },
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://127.0.0.1:1/x.png' } }] }] },
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }], max_tokens: 0 },
    ]) {
      const res = await post(b);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^E_/);
    }
    expect(() => parseChatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.org/a.png' } }] }] }, 1000)).toThrow(/only data: URLs/);
  });
});

describe.skipIf(!existsSync(`${TINY_GEN}/config.json`))('/v1/chat/completions end to end with medvlm-tiny-gen', () => {
  it('the OpenAI client against medvlm serve gives the bundled model’s own answer', async () => {
    const s = await startTestServer({});
    const tiny = await loadGenerator('medvlm-tiny-gen', { threads: 1 });
    try {
      const client = createRemoteGenerator(`openai:${s.base}/v1#medvlm-tiny-gen`, { stream: true });
      const image = view();
      const r = await client.generate({ images: [image], prompt: 'is this a ct scan?' }, { maxTokens: 4 });
      const ref = await tiny.generate({ images: [image], prompt: 'is this a ct scan?' }, { maxTokens: 4 });
      expect(r.text).toBe(ref.text);
      expect(r.text.length).toBeGreaterThan(0);
    } finally {
      await tiny.dispose();
      await s.close();
    }
  });
});
