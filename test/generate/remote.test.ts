/**
 * The three remote backends against local servers that follow each provider's published wire
 * format: answers (streamed and whole), usage, error mapping, retries with Retry-After (checked
 * through a recording clock, not wall time), budget, concurrency, timeouts, keys kept out of results.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/core/errors.js';
import { streamGeneration, type RGBImage } from '../../src/models/capabilities.js';
import { createRemoteGenerator, type RemoteGeneratorOptions } from '../../src/models/remote/generator.js';
import { recordingClock, startProviderServer, type Provider, type ProviderServer } from './support/provider-server.js';

const KEY = 'test-key-7f3a9c21d4e8b6055aa1';
const ENV_NAME: Record<Provider, string> = { openai: 'OPENAI_API_KEY', anthropic: 'ANTHROPIC_API_KEY', gemini: 'GEMINI_API_KEY' };
const PIECES = ['There is ', 'a right ', 'lower lobe ', 'opacity.'];

/** A 5x4 gradient view: small, but every pixel distinct enough to check the round trip. */
function testView(): RGBImage {
  const width = 5;
  const height = 4;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { data, width, height };
}

let servers: ProviderServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function setup(provider: Provider, extra: Partial<Parameters<typeof startProviderServer>[1]> = {}) {
  const server = await startProviderServer(provider, { apiKey: KEY, pieces: PIECES, model: `${provider}-served`, ...extra });
  servers.push(server);
  const clock = recordingClock();
  const make = (opts: RemoteGeneratorOptions = {}) =>
    createRemoteGenerator(`${provider}:${server.baseUrl}#vlm-test`, {
      environment: { [ENV_NAME[provider]]: KEY },
      clock,
      random: () => 0.5,
      ...opts,
      policy: { baseDelayMs: 1000, ...opts.policy },
    });
  return { server, clock, make };
}

/** Base64 PNG the request carried, per wire format. */
function sentImages(provider: Provider, json: unknown): string[] {
  const j = json as Record<string, unknown>;
  if (provider === 'openai') {
    const parts = (j.messages as Array<{ content: Array<{ type: string; image_url?: { url: string } }> }>)[0].content;
    return parts.filter((p) => p.type === 'image_url').map((p) => {
      expect(p.image_url!.url.startsWith('data:image/png;base64,')).toBe(true);
      return p.image_url!.url.slice('data:image/png;base64,'.length);
    });
  }
  if (provider === 'anthropic') {
    const parts = (j.messages as Array<{ content: Array<{ type: string; source?: { type: string; media_type: string; data: string } }> }>)[0].content;
    return parts.filter((p) => p.type === 'image').map((p) => {
      expect(p.source).toMatchObject({ type: 'base64', media_type: 'image/png' });
      return p.source!.data;
    });
  }
  const parts = (j.contents as Array<{ parts: Array<{ inline_data?: { mime_type: string; data: string } }> }>)[0].parts;
  return parts.filter((p) => p.inline_data).map((p) => {
    expect(p.inline_data!.mime_type).toBe('image/png');
    return p.inline_data!.data;
  });
}

describe.each(['openai', 'anthropic', 'gemini'] as const)('%s wire format', (provider) => {
  it('streams the answer, records usage and where the image went, and sends the view as PNG pixels', async () => {
    const { server, make } = await setup(provider);
    const gen = make();
    const pieces: string[] = [];
    const r = await gen.generate({ images: [testView()], prompt: 'Describe the image.' }, { maxTokens: 40, onText: (p) => pieces.push(p) });
    expect(r.text).toBe(PIECES.join(''));
    expect(pieces).toEqual(PIECES);
    expect(r.backend).toBe(provider);
    expect(r.model).toBe(`${provider}-served`);
    expect(r.finishReason).toBe('stop');
    expect(r.usage).toEqual({ promptTokens: 17, completionTokens: 4, totalTokens: 21 });
    expect(r.attempts).toBe(1);
    expect(r.image).toEqual({ kind: 'loopback', host: new URL(server.baseUrl).host, tls: false, payload: 'png-pixels', images: 1 });
    expect(r.applied).toEqual({ maxTokens: 40, temperature: 0 });

    expect(server.requests).toHaveLength(1);
    const sent = sentImages(provider, server.requests[0].json);
    expect(sent).toHaveLength(1);
    const decoded = await sharp(Buffer.from(sent[0], 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 5, height: 4, channels: 3 });
    expect(new Uint8Array(decoded.data)).toEqual(testView().data);
    // the key travels in the provider's header only, and never into results
    expect(server.requests[0].raw).not.toContain(KEY);
    expect(JSON.stringify(r)).not.toContain(KEY);
  });

  it('reads a whole (non-streamed) answer', async () => {
    const { make } = await setup(provider);
    const r = await make({ stream: false }).generate({ images: [testView()], prompt: 'Describe.' });
    expect(r.text).toBe(PIECES.join(''));
    expect(r.usage).toEqual({ promptTokens: 17, completionTokens: 4, totalTokens: 21 });
    expect(r.finishReason).toBe('stop');
  });

  it('works as an async iterator of text pieces', async () => {
    const { make } = await setup(provider);
    const it = streamGeneration(make(), { images: [testView()], prompt: 'Describe.' });
    const seen: string[] = [];
    let next = await it.next();
    while (!next.done) {
      seen.push(next.value);
      next = await it.next();
    }
    expect(seen).toEqual(PIECES);
    expect(next.value.text).toBe(PIECES.join(''));
  });

  it('maps a rejected key to E_REMOTE_AUTH without retrying, and never echoes the key', async () => {
    const { server, clock } = await setup(provider);
    const gen = createRemoteGenerator(`${provider}:${server.baseUrl}#vlm-test`, { environment: { [ENV_NAME[provider]]: 'wrong-key-123456' }, clock });
    const e = await gen.generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteError);
    expect((e as RemoteError).code).toBe('E_REMOTE_AUTH');
    expect((e as RemoteError).message).not.toContain('wrong-key-123456');
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('waits what Retry-After says on 429, then succeeds', async () => {
    const { server, clock, make } = await setup(provider);
    server.failures.push({ status: 429, headers: { 'retry-after': '3' } });
    const r = await make().generate({ images: [testView()], prompt: 'x' });
    expect(r.text).toBe(PIECES.join(''));
    expect(r.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('backs off exponentially on 5xx without Retry-After, then succeeds', async () => {
    const { server, clock, make } = await setup(provider);
    const status = provider === 'anthropic' ? 529 : provider === 'gemini' ? 503 : 500;
    server.failures.push({ status }, { status });
    const r = await make().generate({ images: [testView()], prompt: 'x' });
    expect(r.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    // base 1000 ms doubled per retry; jitter factor 0.8 + 0.4 * 0.5 = 1
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('gives up with E_REMOTE_RATE_LIMIT after the last retry', async () => {
    const { server, clock, make } = await setup(provider);
    for (let i = 0; i < 5; i++) server.failures.push({ status: 429, headers: { 'retry-after': '1' } });
    const e = (await make({ policy: { maxRetries: 2 } }).generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_RATE_LIMIT');
    expect(e.attempts).toBe(3);
    expect(e.message).toMatch(/after 3 attempts/);
    expect(server.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('fails at once when Retry-After asks for more than the bound', async () => {
    const { server, clock, make } = await setup(provider);
    server.failures.push({ status: 429, headers: { 'retry-after': '3600' } });
    const e = (await make().generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_RATE_LIMIT');
    expect(e.message).toMatch(/asks to wait 3600 s/);
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops at the request budget before sending more', async () => {
    const { server, make } = await setup(provider);
    server.failures.push({ status: 500 });
    const gen = make({ policy: { requestBudget: 1 } });
    const e = (await gen.generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_BUDGET');
    expect(server.requests).toHaveLength(1);
    expect(gen.state.attempts).toBe(1);
  });

  it('reports an error event inside the stream as E_REMOTE_FAILED', async () => {
    const { make } = await setup(provider, { streamErrorAfterFirst: true });
    const pieces: string[] = [];
    const e = (await make().generate({ images: [testView()], prompt: 'x' }, { onText: (p) => pieces.push(p) }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_FAILED');
    expect(e.message).toMatch(/error in the stream/);
    expect(pieces).toEqual([PIECES[0]]);
  });
});

describe('request shapes', () => {
  it('openai: messages with image_url parts, max_tokens, temperature, seed, stop, stream_options', async () => {
    const { server, make } = await setup('openai');
    const r = await make().generate({ images: [testView()], prompt: 'Q?' }, { maxTokens: 12, temperature: 0.7, seed: 42, stop: ['\n\n'] });
    const body = server.requests[0].json as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'vlm-test', max_tokens: 12, temperature: 0.7, seed: 42, stop: ['\n\n'], stream: true, stream_options: { include_usage: true } });
    expect((body.messages as Array<{ role: string; content: Array<{ type: string; text?: string }> }>)[0].content.at(-1)).toEqual({ type: 'text', text: 'Q?' });
    expect(server.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.applied).toEqual({ maxTokens: 12, temperature: 0.7, seed: 42, stop: ['\n\n'] });
  });

  it('anthropic: version header, max_tokens, stop_sequences; the seed is not sent and not recorded as applied', async () => {
    const { server, make } = await setup('anthropic');
    const r = await make().generate({ images: [testView()], prompt: 'Q?' }, { maxTokens: 12, seed: 42, stop: ['END'] });
    const req = server.requests[0];
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.headers['x-api-key']).toBe(KEY);
    expect(req.json).toMatchObject({ model: 'vlm-test', max_tokens: 12, stop_sequences: ['END'], stream: true });
    expect(req.json).not.toHaveProperty('seed');
    expect(r.applied).toEqual({ maxTokens: 12, temperature: 0, stop: ['END'] });
  });

  it('gemini: streamGenerateContent?alt=sse with the key in x-goog-api-key and generationConfig', async () => {
    const { server, make } = await setup('gemini');
    await make().generate({ images: [testView()], prompt: 'Q?' }, { maxTokens: 12, seed: 7, stop: ['END'] });
    const req = server.requests[0];
    expect(req.path).toBe('/v1beta/models/vlm-test:streamGenerateContent?alt=sse');
    expect(req.headers['x-goog-api-key']).toBe(KEY);
    expect(req.json).toMatchObject({ generationConfig: { maxOutputTokens: 12, temperature: 0, stopSequences: ['END'], seed: 7 } });
  });
});

describe('limits and guards', () => {
  it('keeps at most `concurrency` requests in flight', async () => {
    const { server, make } = await setup('openai', { answerDelayMs: 40 });
    const gen = make({ policy: { concurrency: 2 } });
    const results = await Promise.all(Array.from({ length: 5 }, () => gen.generate({ images: [testView()], prompt: 'x' })));
    expect(results.every((r) => r.text === PIECES.join(''))).toBe(true);
    expect(server.requests).toHaveLength(5);
    expect(server.maxInFlight).toBe(2);
  });

  it('times out a request that does not answer, as E_REMOTE_TIMEOUT', async () => {
    const { server, make } = await setup('openai');
    server.failures.push({ status: 200, delayMs: 2000 });
    const e = (await make({ policy: { timeoutMs: 150, maxRetries: 0 } }).generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_TIMEOUT');
  });

  it('refuses a non-loopback endpoint without allowRemote, before any request', () => {
    let calls = 0;
    const fetchImpl = (async () => {
      calls++;
      throw new Error('must not be called');
    }) as typeof fetch;
    for (const id of ['openai:http://10.1.2.3:8000/v1#llava-med', 'anthropic:claude-sonnet-4-5', 'gemini:gemini-2.5-flash', 'openai:gpt-4o']) {
      const e = (() => {
        try {
          createRemoteGenerator(id, { fetchImpl, environment: { OPENAI_API_KEY: KEY, ANTHROPIC_API_KEY: KEY, GEMINI_API_KEY: KEY } });
        } catch (x) {
          return x;
        }
      })() as RemoteError;
      expect(e?.code, id).toBe('E_REMOTE_NOT_ALLOWED');
    }
    expect(calls).toBe(0);
  });

  it('cancelling after the answer started returns the text so far as `cancelled`; leaving a for-await loop cancels', async () => {
    const { server, make } = await setup('openai', { eventDelayMs: 60 });
    const controller = new AbortController();
    const pieces: string[] = [];
    const r = await make().generate(
      { images: [testView()], prompt: 'x' },
      { signal: controller.signal, onText: (p) => {
        pieces.push(p);
        controller.abort();
      } },
    );
    expect(r.finishReason).toBe('cancelled');
    expect(r.text).toBe(PIECES[0]);
    expect(pieces).toEqual([PIECES[0]]);
    // the same through the iterator: break after the first piece
    for await (const piece of streamGeneration(make(), { images: [testView()], prompt: 'x' })) {
      expect(piece).toBe(PIECES[0]);
      break;
    }
    expect(server.requests).toHaveLength(2);
  });

  it('a signal that fired before the call rejects without any request', async () => {
    const { server, make } = await setup('gemini');
    const e = (await make().generate({ images: [testView()], prompt: 'x' }, { signal: AbortSignal.abort() }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_FAILED');
    expect(e.message).toMatch(/cancelled/);
    expect(server.requests).toHaveLength(0);
  });

  it('never follows a redirect: the image goes only where the model id says', async () => {
    const { server, make } = await setup('openai');
    server.failures.push({ status: 307, headers: { location: 'https://collector.example.org/v1/chat/completions?token=abc' }, body: '' });
    const e = (await make().generate({ images: [testView()], prompt: 'x' }).catch((x: unknown) => x)) as RemoteError;
    expect(e.code).toBe('E_REMOTE_REJECTED');
    expect(e.message).toMatch(/307 redirect to https:\/\/collector\.example\.org not followed/);
    expect(e.message).not.toContain('token=abc');
    expect(server.requests).toHaveLength(1);
  });

  it('with allowRemote, records the remote host the image went to', async () => {
    const { server } = await setup('anthropic');
    // Route the public endpoint to the local server to observe what would be sent.
    const fetchImpl = ((url: string, init: RequestInit) => fetch(url.replace('https://api.anthropic.com', server.baseUrl), init)) as typeof fetch;
    const gen = createRemoteGenerator('anthropic:claude-test', { allowRemote: true, fetchImpl, environment: { ANTHROPIC_API_KEY: KEY } });
    const r = await gen.generate({ images: [testView()], prompt: 'x' });
    expect(r.image).toEqual({ kind: 'remote', host: 'api.anthropic.com', tls: true, payload: 'png-pixels', images: 1 });
  });

  it('needs a key for hosted APIs and says where it is looked for; none for a local OpenAI-compatible server', async () => {
    const e = (() => {
      try {
        createRemoteGenerator('gemini:http://127.0.0.1:9/#g', { environment: {} });
      } catch (x) {
        return x;
      }
    })() as RemoteError;
    expect(e.code).toBe('E_REMOTE_AUTH');
    expect(e.message).toMatch(/GEMINI_API_KEY/);
    const server = await startProviderServer('openai', { pieces: ['ok'] });
    servers.push(server);
    const r = await createRemoteGenerator(`openai:${server.baseUrl}#m`, { environment: {} }).generate({ images: [testView()], prompt: 'x' });
    expect(r.text).toBe('ok');
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });
});
