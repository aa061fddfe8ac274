/** Unit checks: the page's session store (cookie parsing, expiry, bounded size, logout) and the `templates` option from HTTP. */
import { describe, expect, it } from 'vitest';
import { PageSessions, SESSION_COOKIE, sessionToken } from '../../src/server/page-sessions.js';
import { templatesFromField } from '../../src/server/templates-field.js';

const tokenOf = (setCookie: string) => /^medvlm_session=([^;]+);/.exec(setCookie)![1];

describe('page sessions', () => {
  it('issues HttpOnly SameSite=Strict cookies with 256-bit tokens that are valid until they expire', () => {
    const s = new PageSessions(1000);
    const cookie = s.issue(0);
    expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Max-Age=1$/);
    const token = tokenOf(cookie);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(s.valid(`a=b; ${SESSION_COOKIE}=${token}; c=d`, 500)).toBe(true);
    expect(s.valid(`${SESSION_COOKIE}=${token}x`, 500)).toBe(false);
    expect(s.valid(`${SESSION_COOKIE}=${token}`, 1001)).toBe(false);
    expect(s.valid(`${SESSION_COOKIE}=${token}`, 500)).toBe(false); // expired ones are forgotten
    expect(s.valid(undefined)).toBe(false);
    expect(sessionToken('x_medvlm_session=abc')).toBeUndefined();
  });

  it('keeps at most max sessions (the oldest go) and ends one on logout', () => {
    const s = new PageSessions(60_000, 2);
    const [a, b, c] = [s.issue(), s.issue(), s.issue()].map(tokenOf);
    expect(s.valid(`${SESSION_COOKIE}=${a}`)).toBe(false);
    expect(s.valid(`${SESSION_COOKIE}=${b}`)).toBe(true);
    expect(s.end(`${SESSION_COOKIE}=${c}`)).toMatch(/Max-Age=0$/);
    expect(s.valid(`${SESSION_COOKIE}=${c}`)).toBe(false);
  });
});

describe('templates from HTTP', () => {
  it('a built-in name, or the ensemble itself one per line; nothing else', () => {
    expect(templatesFromField(undefined)).toBeUndefined();
    expect(templatesFromField('plain')!.name).toBe('plain');
    expect(templatesFromField('a photo of {}\r\n\n  an x-ray of {}  ')).toEqual({ name: 'inline', templates: ['a photo of {}', 'an x-ray of {}'] });
    expect(() => templatesFromField('/etc/passwd')).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION', option: 'templates' }));
    expect(() => templatesFromField('a photo of {}\nno placeholder')).toThrow(expect.objectContaining({ code: 'E_TEMPLATES_INVALID', option: 'templates' }));
    expect(() => templatesFromField(Array.from({ length: 65 }, () => 'x {}').join('\n'))).toThrow(expect.objectContaining({ option: 'templates' }));
    expect(() => templatesFromField(`${'y'.repeat(300)} {}`)).toThrow(expect.objectContaining({ option: 'templates' }));
  });
});
