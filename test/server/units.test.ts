/** The server's small parts: sizes, JSON depth, upload names, API keys, the gate, the status map. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiKeyChecker, presentedKey, readApiKeys } from '../../src/server/auth.js';
import { ConcurrencyGate, withTimeout } from '../../src/server/gate.js';
import { HTTP_STATUS, toHttpError } from '../../src/server/http-errors.js';
import { jsonDepth } from '../../src/server/json-depth.js';
import { uploadName } from '../../src/server/request-input.js';
import { parseByteSize } from '../../src/server/size.js';
import { inputError, optionError } from '../../src/core/errors.js';

describe('parseByteSize', () => {
  it.each([
    ['512MB', 512 * 1024 ** 2],
    ['2gb', 2 * 1024 ** 3],
    ['100 KiB', 100 * 1024],
    ['1.5m', 1.5 * 1024 ** 2],
    ['4096', 4096],
  ])('%s', (text, bytes) => expect(parseByteSize(text, 'maxUpload')).toBe(bytes));
  it.each(['', 'MB', '-1MB', '5 parsecs', '0'])('refuses %j', (text) => expect(() => parseByteSize(text, 'maxUpload')).toThrow(/maxUpload/));
});

describe('jsonDepth', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonDepth('{"a":[1,{"b":2}]}', 10)).toBe(3);
    expect(jsonDepth('{"a":"[[[[[[\\"[[["}', 10)).toBe(1);
    expect(jsonDepth('1', 10)).toBe(0);
    expect(jsonDepth('['.repeat(1000), 32)).toBe(33); // stops at the limit
  });
});

describe('uploadName', () => {
  it('keeps a safe base name, never a path', () => {
    expect(uploadName('scan.dcm')).toBe('scan.dcm');
    expect(uploadName('../../etc/passwd')).toBe('passwd');
    expect(uploadName('C:\\Users\\DOE JOHN\\x.png')).toBe('x.png');
    expect(uploadName('DOE^JOHN.dcm')).toBe('DOE_JOHN.dcm');
    expect(uploadName('..')).toBe('upload');
    expect(uploadName(undefined)).toBe('upload');
    expect(uploadName('a'.repeat(500)).length).toBe(128);
  });
});

describe('API keys', () => {
  it('reads a key file (comments, blank lines), refuses short or missing keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medvlm-keys-'));
    try {
      writeFileSync(join(dir, 'k'), '# team keys\n\n0123456789abcdef-one\n0123456789abcdef-two\n');
      expect(readApiKeys(join(dir, 'k'))).toEqual(['0123456789abcdef-one', '0123456789abcdef-two']);
      writeFileSync(join(dir, 'short'), 'abc\n');
      expect(() => readApiKeys(join(dir, 'short'))).toThrow(/at least 16/);
      writeFileSync(join(dir, 'empty'), '# nothing\n');
      expect(() => readApiKeys(join(dir, 'empty'))).toThrow(/no key/);
      expect(() => readApiKeys(join(dir, 'absent'))).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts exactly the configured keys', () => {
    const check = apiKeyChecker(['0123456789abcdef-one', '0123456789abcdef-two']);
    expect(check('0123456789abcdef-one')).toBe(true);
    expect(check('0123456789abcdef-two')).toBe(true);
    expect(check('0123456789abcdef-on')).toBe(false);
    expect(check('')).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(presentedKey({ authorization: 'Bearer abc ' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': 'xyz' })).toBe('xyz');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
  });
});

describe('ConcurrencyGate', () => {
  it('runs at most n, queues at most q, refuses the rest with Retry-After', async () => {
    const gate = new ConcurrencyGate(2, 1);
    let running = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const job = () =>
      gate.run(async () => {
        peak = Math.max(peak, ++running);
        await new Promise<void>((ok) => release.push(ok));
        running--;
      });
    const jobs = [job(), job(), job()];
    await expect(job()).rejects.toMatchObject({ code: 'E_HTTP_BUSY', retryAfter: 1 });
    expect(gate.load).toEqual({ active: 2, waiting: 1 });
    while (release.length) {
      release.shift()!();
      await new Promise((ok) => setTimeout(ok, 1));
    }
    await Promise.all(jobs);
    expect(peak).toBe(2);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('a failing job frees its slot', async () => {
    const gate = new ConcurrencyGate(1, 0);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 7)).resolves.toBe(7);
  });

  it('withTimeout', async () => {
    await expect(withTimeout(new Promise(() => undefined), 10)).rejects.toMatchObject({ code: 'E_HTTP_TIMEOUT' });
    await expect(withTimeout(Promise.resolve(3), 10)).resolves.toBe(3);
  });
});

describe('error → HTTP', () => {
  it('maps every code; options 400 with the option; internals hidden', () => {
    for (const [code, status] of Object.entries(HTTP_STATUS)) expect(status, code).toBeGreaterThanOrEqual(400);
    expect(toHttpError(optionError('labels', 'no labels given', 'E_LABELS_EMPTY'))).toEqual({ status: 400, headers: {}, body: { error: { code: 'E_LABELS_EMPTY', message: 'labels: no labels given', option: 'labels' } } });
    expect(toHttpError(inputError('E_IMAGE_TOO_LARGE', 'x.dcm', 'too big')).status).toBe(413);
    expect(toHttpError(new Error('secret internals at /srv/x.js:1'))).toEqual({ status: 500, headers: {}, body: { error: { code: 'E_INTERNAL', message: 'internal error' } } });
    expect(toHttpError(Object.assign(new Error('Unexpected end of form'), { statusCode: 400 })).body.error.code).toBe('E_HTTP_BAD_REQUEST');
  });
});
