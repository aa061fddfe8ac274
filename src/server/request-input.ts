/**
 * What a request carries: one image (multipart `file` part, or the raw body) and its options (form
 * fields, JSON fields, query string), with typed OptionErrors for bad values.
 */
import type { FastifyRequest } from 'fastify';
import { isMedvlmError, optionError } from '../core/errors.js';
import { parseWindowOption, type ViewOptions } from '../transforms/index.js';
import { readUnderDataRoot } from './data-root.js';
import { HttpError } from './http-errors.js';

/** The image and options of one request. */
export interface RequestInput {
  /** The uploaded image bytes, if any. */
  bytes?: Uint8Array;
  /** The name results use for the image: the upload's base name (characters outside [A-Za-z0-9._-] replaced), or `upload`. */
  name: string;
  /** Options, as strings. */
  fields: Record<string, string>;
}

/** Limits of one request, and where paths may point. */
export interface UploadLimits {
  maxUploadBytes: number;
  /** Real path of `--data-root`: a `path` option then names an image under it instead of an upload. */
  dataRoot?: string;
}

/** A safe display name for an uploaded file (never a path). */
export function uploadName(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop() ?? '';
  const safe = base.replace(/[^\w.-]/g, '_').slice(0, 128);
  return safe && !/^\.+$/.test(safe) ? safe : 'upload';
}

function addField(fields: Record<string, string>, key: string, value: unknown): void {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[key] = String(value);
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) fields[key] = value.join(',');
  else throw new HttpError('E_HTTP_BAD_REQUEST', `${key}: expected a string, number or boolean`);
}

/**
 * Rejects when the client's connection closes before the body is read (an aborted upload, or a
 * queued request whose client gave up); `cancel` removes the listener once reading is done.
 */
function clientGone(req: FastifyRequest): { gone: Promise<never>; cancel: () => void } {
  const socket = req.raw.socket;
  let cancel = () => undefined as void;
  const gone = new Promise<never>((_, reject) => {
    const onClose = () => reject(new HttpError('E_HTTP_BAD_REQUEST', 'the client closed the connection before the whole body was read'));
    if (socket.destroyed) return onClose();
    socket.once('close', onClose);
    cancel = () => void socket.off('close', onClose);
  });
  return { gone, cancel };
}

/** Read a request's image and options; a `path` option reads an image under the data root. */
export async function readRequestInput(req: FastifyRequest, limits: UploadLimits): Promise<RequestInput> {
  const input = await readBody(req, limits);
  const path = input.fields.path;
  if (input.bytes || path === undefined) return input;
  if (!limits.dataRoot) throw optionError('path', 'image paths are accepted only when the server runs with --data-root; upload the file instead');
  return { ...input, bytes: await readUnderDataRoot(limits.dataRoot, path, limits.maxUploadBytes), name: path };
}

/** A request's upload and options, without resolving a `path`. Multipart bodies are read part by part under `limits`. */
export async function readBody(req: FastifyRequest, limits: UploadLimits): Promise<RequestInput> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) addField(fields, k, v);
  if (req.isMultipart()) {
    let bytes: Uint8Array | undefined;
    let name = 'upload';
    const parts = req.parts({ limits: { fileSize: limits.maxUploadBytes, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 } });
    const readParts = async () => {
      for await (const part of parts) {
        if (part.type === 'file') {
          if (part.fieldname !== 'file') throw new HttpError('E_HTTP_BAD_REQUEST', `unexpected file field ${JSON.stringify(part.fieldname.slice(0, 40))} (send the image as "file")`);
          bytes = new Uint8Array(await part.toBuffer());
          name = uploadName(part.filename);
        } else {
          addField(fields, part.fieldname, part.value);
        }
      }
    };
    try {
      // a client that goes away mid-upload must not leave the read (and its concurrency slot) waiting forever
      const client = clientGone(req);
      try {
        await Promise.race([readParts(), client.gone]);
      } finally {
        client.cancel();
      }
    } catch (e) {
      // limits (413) and our own errors pass; anything the form parser trips on is a malformed body
      if (isMedvlmError(e) || typeof (e as { statusCode?: unknown }).statusCode === 'number') throw e;
      throw new HttpError('E_HTTP_BAD_REQUEST', 'the multipart body is malformed or truncated', { cause: e });
    }
    return { ...(bytes ? { bytes } : {}), name, fields };
  }
  const body = req.body;
  if (Buffer.isBuffer(body)) return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength), name: uploadName(fields.name), fields };
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) addField(fields, k, v);
  } else if (body !== undefined && body !== null) {
    throw new HttpError('E_HTTP_BAD_REQUEST', 'the JSON body must be an object');
  }
  return { name: uploadName(fields.name), fields };
}

/** The image bytes of a request. @throws OptionError (option `file`) when none was sent */
export function requireImage(input: RequestInput): Uint8Array {
  if (!input.bytes) throw optionError('file', 'send the image as a multipart "file" part or as the raw request body (or, with --data-root, a "path")');
  return input.bytes;
}

/** A required string option. */
export function requiredField(input: RequestInput, name: string): string {
  const v = input.fields[name];
  if (v === undefined || v.trim() === '') throw optionError(name, 'is required');
  return v;
}

/** An optional integer option within [min, max]. */
export function intField(input: RequestInput, name: string, min: number, max: number): number | undefined {
  const v = input.fields[name];
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw optionError(name, `expected an integer, got ${JSON.stringify(v.slice(0, 40))}`);
  const n = Number(v);
  if (n < min || n > max) throw optionError(name, `expected ${min}..${max}, got ${n}`);
  return n;
}

/** An optional number option within [min, max]. */
export function numberField(input: RequestInput, name: string, min: number, max: number): number | undefined {
  const v = input.fields[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw optionError(name, `expected a number in ${min}..${max}, got ${JSON.stringify(v.slice(0, 40))}`);
  return n;
}

/** An optional boolean option (`true`/`false`/`1`/`0`). */
export function boolField(input: RequestInput, name: string): boolean {
  const v = input.fields[name];
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw optionError(name, `expected true or false, got ${JSON.stringify(v.slice(0, 40))}`);
}

/** A comma-separated list option. */
export function listField(input: RequestInput, name: string): string[] | undefined {
  const v = input.fields[name];
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

const PLANES = ['axial', 'coronal', 'sagittal'] as const;

/** View options (`window`, `frame`, `plane`, `slice`, `volume`), named as on the command line. */
export function viewField(input: RequestInput): ViewOptions {
  const plane = input.fields.plane;
  if (plane !== undefined && !(PLANES as readonly string[]).includes(plane)) throw optionError('plane', `expected one of ${PLANES.join(', ')}`);
  const frame = intField(input, 'frame', 0, 1_000_000);
  const slice = intField(input, 'slice', 0, 1_000_000);
  const volume = intField(input, 'volume', 0, 1_000_000);
  return {
    window: parseWindowOption(input.fields.window ?? 'auto'),
    ...(frame !== undefined ? { frame } : {}),
    ...(plane ? { plane: plane as ViewOptions['plane'] } : {}),
    ...(slice !== undefined ? { index: slice } : {}),
    ...(volume !== undefined ? { volume } : {}),
  };
}
