/** Small pure parts of the generation stack: model ids, loopback, Retry-After, key files, stop-string streaming. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MedvlmError } from '../../src/core/errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { TextStreamer } from '../../src/models/generative/stop-text.js';
import { redactKey, resolveApiKey } from '../../src/models/remote/api-key.js';
import { isLoopbackHost, isRemoteModelId, parseRemoteModelId } from '../../src/models/remote/endpoint.js';
import { retryAfterMs } from '../../src/models/remote/http.js';

const tmp = mkdtempSync(join(tmpdir(), 'medvlm-gen-units-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof MedvlmError ? e.code : 'not-typed';
  }
  return undefined;
}

describe('remote model ids', () => {
  it('parses provider, base URL and model', () => {
    expect(parseRemoteModelId('openai:http://127.0.0.1:8000/v1#llava-med')).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'llava-med' });
    expect(parseRemoteModelId('openai:http://127.0.0.1:8000/v1/#org/model:tag')).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', model: 'org/model:tag' });
    expect(parseRemoteModelId('openai:gpt-4o')).toEqual({ provider: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o' });
    expect(parseRemoteModelId('anthropic:claude-sonnet-4-5')).toEqual({ provider: 'anthropic', baseUrl: 'https://api.anthropic.com', model: 'claude-sonnet-4-5' });
    expect(parseRemoteModelId('gemini:gemini-2.5-flash').baseUrl).toBe('https://generativelanguage.googleapis.com');
    expect(isRemoteModelId('openai:x')).toBe(true);
    expect(isRemoteModelId('./models/openai:x')).toBe(false);
    expect(isRemoteModelId('medvlm-tiny')).toBe(false);
  });

  it('rejects ids without a model, with credentials in the URL, or with a query', () => {
    expect(codeOf(() => parseRemoteModelId('openai:http://127.0.0.1:8000/v1'))).toBe('E_BAD_OPTION');
    expect(codeOf(() => parseRemoteModelId('openai:http://127.0.0.1:8000/v1#'))).toBe('E_BAD_OPTION');
    expect(codeOf(() => parseRemoteModelId('openai:http://user:secret@127.0.0.1/v1#m'))).toBe('E_BAD_OPTION');
    expect(codeOf(() => parseRemoteModelId('gemini:http://127.0.0.1/?key=abc#m'))).toBe('E_BAD_OPTION');
  });

  it('knows loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'app.localhost']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['10.0.0.1', '192.168.1.2', '::2', '::ffff:10.0.0.1', 'example.org', '127.0.0.1.nip.io', 'localhost.example.org']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('Retry-After', () => {
  it('reads seconds, HTTP dates and retry-after-ms', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }), now)).toBe(7000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Mon, 30 Nov 2026 10:00:12 GMT' }), now)).toBe(12000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '7' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
});

describe('API keys', () => {
  it('reads the first non-empty line of a key file and never needs argv', () => {
    const f = join(tmp, 'k');
    writeFileSync(f, '\n  sk-abc-123  \n');
    expect(resolveApiKey('openai', { apiKeyFile: f, required: true, environment: {} })).toEqual({ key: 'sk-abc-123', source: 'file' });
    expect(resolveApiKey('anthropic', { required: true, environment: { ANTHROPIC_API_KEY: 'k-env' } })).toEqual({ key: 'k-env', source: 'env' });
    expect(resolveApiKey('openai', { required: false, environment: {} })).toEqual({ source: 'none' });
    writeFileSync(join(tmp, 'empty'), '\n\n');
    expect(codeOf(() => resolveApiKey('openai', { apiKeyFile: join(tmp, 'empty'), required: true }))).toBe('E_BAD_OPTION');
    expect(codeOf(() => resolveApiKey('openai', { apiKeyFile: join(tmp, 'missing'), required: true }))).toBe('E_BAD_OPTION');
    expect(codeOf(() => resolveApiKey('gemini', { required: true, environment: {} }))).toBe('E_REMOTE_AUTH');
  });

  it('redacts a key echoed in a message', () => {
    expect(redactKey('bad key sk-abc-123 given', 'sk-abc-123')).toBe('bad key [redacted] given');
  });

  it('maps every remote error code to exit 6', () => {
    for (const c of ['E_REMOTE_NOT_ALLOWED', 'E_REMOTE_AUTH', 'E_REMOTE_RATE_LIMIT', 'E_REMOTE_BUDGET', 'E_REMOTE_TIMEOUT', 'E_REMOTE_REJECTED', 'E_REMOTE_FAILED', 'E_REMOTE_PROTOCOL'] as const) {
      expect(exitCodeFor(c)).toBe(6);
    }
  });
});

describe('TextStreamer', () => {
  it('holds back a possible stop-string start and cuts at the stop string', () => {
    const pieces: string[] = [];
    const s = new TextStreamer(['END'], (p) => pieces.push(p));
    expect(s.update('the heart')).toBe(false);
    expect(s.update('the heart E')).toBe(false); // "E" may begin "END": held back
    expect(pieces.join('')).toBe('the heart ');
    expect(s.update('the heart EN')).toBe(false);
    expect(s.update('the heart ENLARGED')).toBe(false); // not the stop string after all: released
    expect(pieces.join('')).toBe('the heart ENLARGED');
    expect(s.update('the heart ENLARGED END more')).toBe(true);
    expect(s.finish('the heart ENLARGED END more')).toEqual({ text: 'the heart ENLARGED ', stopped: true });
    expect(pieces.join('')).toBe('the heart ENLARGED ');
  });

  it('waits for an incomplete multi-byte character; after a rewrite of earlier text it emits nothing more', () => {
    const pieces: string[] = [];
    const s = new TextStreamer([], (p) => pieces.push(p));
    s.update('caf\uFFFD');
    expect(pieces.join('')).toBe('caf');
    s.update('café');
    s.update("café do n '"); // WordPiece clean-up later turns "do n ' t" into "don't"
    s.update("café don't");
    s.finish("café don't.");
    // what was shown is never repeated or contradicted by new pieces; the result's text is authoritative
    expect(pieces).toEqual(['caf', 'é', " do n '"]);
  });
});
