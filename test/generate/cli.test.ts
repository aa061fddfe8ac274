/**
 * `medvlm generate` end to end in a child process: the privacy guard with a real DICOM (the request
 * body holds no file name and no header value, only PNG pixels equal to the model view), refusal of
 * non-loopback endpoints without --allow-remote, keys from a file, streaming, a local model.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareInput } from '../../src/tasks/batch.js';
import { hasStackTrace, medvlm, ROOT, type CliRun } from '../cli/helpers.js';
import { buildDicomCorpus } from '../support/dicom-corpus.js';
import { startProviderServer, type ProviderServer } from './support/provider-server.js';
import { buildVedFolder } from './support/ved-builder.js';

const MODEL_DIR = fileURLToPath(new URL('../.models/tiny-ved', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'medvlm-gen-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let servers: ProviderServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Run the CLI without blocking the event loop (the fake server lives in this process). */
function medvlmAsync(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, MEDVLM_OFFLINE: '1', OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Names of the chunks of a PNG file, in order. */
function pngChunks(png: Buffer): string[] {
  const names: string[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    names.push(png.toString('latin1', at + 4, at + 8));
    at += 12 + len;
  }
  return names;
}

let dicomFile: string | undefined;
let corpusSkip: string | undefined;
beforeAll(async () => {
  buildVedFolder(MODEL_DIR);
  const corpus = await buildDicomCorpus();
  if ('skipped' in corpus) corpusSkip = corpus.skipped;
  else dicomFile = join(corpus.dir, 'ct16s_evrle.dcm');
  if (corpusSkip) console.log(`[skip] DICOM privacy test: ${corpusSkip}`);
});

describe('medvlm generate', () => {
  it('sends only PNG pixels of the view of a DICOM: no file name, no header values', async (ctx) => {
    if (!dicomFile) return ctx.skip();
    const server = await startProviderServer('openai', { pieces: ['No acute ', 'findings.'], model: 'llava-med' });
    servers.push(server);
    const r = await medvlmAsync(['generate', dicomFile, '--prompt', 'Describe the findings.', '--model', `openai:${server.baseUrl}#llava-med`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { text: string; image: { kind: string; host: string; payload: string }; notice: string };
    expect(result.text).toBe('No acute findings.');
    expect(result.image).toEqual({ kind: 'loopback', host: new URL(server.baseUrl).host, tls: false, payload: 'png-pixels', images: 1 });
    expect(result.notice).toMatch(/Research use only/);

    expect(server.requests).toHaveLength(1);
    const raw = server.requests[0].raw;
    const url = ((server.requests[0].json as { messages: Array<{ content: Array<{ image_url?: { url: string } }> }> }).messages[0].content.find((p) => p.image_url))!.image_url!.url;
    const b64 = url.slice('data:image/png;base64,'.length);
    // PatientName Doe^Jane, PatientID PID-0001 and birth date 19700101 are in this file's header.
    // Outside the image: no trace at all (short strings are checked only here, as base64 may hold them by chance).
    const rest = raw.replace(b64, '');
    for (const secret of ['Doe', 'Jane', 'PID-0001', '19700101', basename(dicomFile), 'ct16s', '.dcm', 'DICM', tmpdir()]) {
      expect(rest, secret).not.toContain(secret);
    }
    // Inside the image: a fresh PNG with pixel chunks only (pHYs: libvips' default 72 dpi), none of the header values.
    const png = Buffer.from(b64, 'base64');
    expect(pngChunks(png).filter((c) => !['IHDR', 'IDAT', 'IEND', 'pHYs'].includes(c))).toEqual([]);
    for (const secret of ['Doe^Jane', 'PID-0001', '19700101', 'DICM', basename(dicomFile)]) expect(png.toString('latin1'), secret).not.toContain(secret);
    const rgb = (await prepareInput(dicomFile, 0)).rgb!;
    const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: rgb.width, height: rgb.height, channels: 3 });
    expect(new Uint8Array(decoded.data)).toEqual(new Uint8Array(rgb.data));
  });

  it('refuses a non-loopback endpoint without --allow-remote: one line, exit 6, no stack', () => {
    const r = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', '--prompt', 'x', '--model', 'openai:https://vlm.example.org/v1#llava-med']);
    expect(r.code).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/E_REMOTE_NOT_ALLOWED/);
    expect(r.stderr).toMatch(/--allow-remote/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('reads the key from --api-key-file, streams the answer, and never prints the key', async () => {
    const key = 'sk-file-key-0123456789abcdef';
    const keyFile = join(tmp, 'key.txt');
    writeFileSync(keyFile, `${key}\n`);
    const server = await startProviderServer('anthropic', { apiKey: key, pieces: ['A ', 'small ', 'nodule.'], model: 'claude-test' });
    servers.push(server);
    const r = await medvlmAsync(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'Describe.', '-m', `anthropic:${server.baseUrl}#claude-test`, '--api-key-file', keyFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^# Research use only/);
    expect(r.stdout.split('\n')[1]).toBe('A small nodule.');
    expect(r.stderr).toMatch(/anthropic claude-test: 3 tokens, stop, image sent as PNG pixels to 127\.0\.0\.1:\d+ \(this machine\)/);
    expect(r.stdout + r.stderr).not.toContain(key);
    expect(server.requests[0].headers['x-api-key']).toBe(key);
  });

  it('maps a rejected key to E_REMOTE_AUTH (exit 6) and a missing one to a message naming the variable', async () => {
    const server = await startProviderServer('gemini', { apiKey: 'right-key', pieces: ['x'] });
    servers.push(server);
    const bad = await medvlmAsync(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'x', '-m', `gemini:${server.baseUrl}#gemini-test`], { GEMINI_API_KEY: 'wrong-key-xyz' });
    expect(bad.code).toBe(6);
    expect(bad.stderr).toMatch(/E_REMOTE_AUTH/);
    expect(bad.stderr).not.toContain('wrong-key-xyz');
    const none = await medvlmAsync(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'x', '-m', `gemini:${server.baseUrl}#gemini-test`]);
    expect(none.code).toBe(6);
    expect(none.stderr).toMatch(/GEMINI_API_KEY/);
  });

  it('a server error on one file of a batch is reported for that file (exit 6) and the batch goes on', async () => {
    const server = await startProviderServer('openai', { pieces: ['ok'] });
    servers.push(server);
    server.failures.push({ status: 500 });
    const r = await medvlmAsync(['generate', 'samples/vqarad-chest-xray-1.jpg', 'samples/vqarad-head-ct-1.jpg', '-p', 'x', '-m', `openai:${server.baseUrl}#m`, '--retries', '0', '--json']);
    expect(r.code).toBe(6);
    const results = JSON.parse(r.stdout) as Array<{ text?: string; error?: { code: string; message: string } }>;
    expect(results.map((x) => x.error?.code ?? x.text)).toEqual(['E_REMOTE_FAILED', 'ok']);
    expect(results[0].error!.message).toMatch(/HTTP 500/);
    expect(server.requests).toHaveLength(2);
  });

  it('with --allow-remote, warns about plain http to another host, and times out as E_REMOTE_TIMEOUT', () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never answers
    const r = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'x', '-m', 'openai:http://192.0.2.1:8000/v1#m', '--allow-remote', '--timeout', '1', '--retries', '0']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/warning: 192\.0\.2\.1:8000 is reached over plain http/);
    expect(r.stderr).toMatch(/E_REMOTE_(TIMEOUT|FAILED)/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });

  it('has no option that takes a key on the command line', () => {
    const r = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'x', '-m', 'openai:gpt-4o', '--api-key', 'sk-123']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--api-key'/);
  });

  it('runs a local vision-encoder-decoder folder and streams what the JSON result holds', () => {
    const streamed = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'chest x ray', '-m', MODEL_DIR, '--max-tokens', '8', '--threads', '1']);
    expect(streamed.code, streamed.stderr).toBe(0);
    const json = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', '-p', 'chest x ray', '-m', MODEL_DIR, '--max-tokens', '8', '--threads', '1', '--json']);
    const r = JSON.parse(json.stdout) as { text: string; tokens: number[]; backend: string; image: { kind: string } };
    expect(r.backend).toBe('transformers.js');
    expect(r.tokens).toHaveLength(8);
    expect(r.image.kind).toBe('local');
    expect(streamed.stdout.split('\n')[1]).toBe(r.text);
  });

  it('goes on past a bad file in a batch', () => {
    const r = medvlm(['generate', 'samples/vqarad-chest-xray-1.jpg', 'no/such/file.png', 'samples/vqarad-head-ct-1.jpg', '-p', '', '-m', MODEL_DIR, '--max-tokens', '4', '--json']);
    expect(r.code).toBe(3);
    const results = JSON.parse(r.stdout) as Array<{ file: string; text?: string; error?: { code: string } }>;
    expect(results.map((x) => x.error?.code ?? 'ok')).toEqual(['ok', 'E_FILE_NOT_FOUND', 'ok']);
    expect(r.stderr).toMatch(/no\/such\/file\.png/);
  });
});
