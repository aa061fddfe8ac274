/**
 * What the library accepts as an image: a path (Node), a URL (http, https, file, data), bytes, or an
 * already decoded `MedicalImage`. Works in Node and in the browser (where strings are URLs).
 */
import { inputError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import { decodeImage } from './decode.js';
import { ioPlatform } from './platform.js';
import type { MedicalImage } from './types.js';

/** An image input: a path or URL string, a `URL`, file bytes, or a decoded `MedicalImage`. */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | MedicalImage;

/** An input read into memory: its bytes (absent for a `MedicalImage` given as such) and the name errors use. */
export interface LoadedInput {
  name: string;
  bytes?: Uint8Array;
  image?: MedicalImage;
}

const URL_SCHEME = /^(https?|file|data|blob):/i;

/** True for a `MedicalImage` (as opposed to bytes, a path or a URL). */
export function isMedicalImage(x: unknown): x is MedicalImage {
  return typeof x === 'object' && x !== null && 'data' in x && 'format' in x && 'width' in x && !(x instanceof Uint8Array);
}

/** The name an input goes by in results and messages (`#3` for bytes at position 3 of a batch). */
export function inputName(input: ImageInput, position?: number): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href.startsWith('data:') ? 'data URL' : input.href;
  if (isMedicalImage(input)) return input.source;
  return position === undefined ? 'bytes' : `#${position}`;
}

async function fetchBytes(url: URL, name: string): Promise<Uint8Array> {
  if (url.protocol === 'file:') {
    const read = ioPlatform().readPath;
    if (!read) throw inputError('E_FILE_UNREADABLE', name, 'file: URLs are read in Node only');
    return read(decodeURIComponent(url.pathname));
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw inputError('E_FILE_UNREADABLE', name, `cannot fetch (${e instanceof Error ? e.message : String(e)})`, e);
  }
  if (res.status === 404) throw inputError('E_FILE_NOT_FOUND', name, 'the server answered 404 Not Found');
  if (!res.ok) throw inputError('E_FILE_UNREADABLE', name, `the server answered ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Read an input into memory (no decoding). */
export async function loadInput(input: ImageInput, position?: number): Promise<LoadedInput> {
  const name = inputName(input, position);
  if (isMedicalImage(input)) return { name, image: input };
  if (input instanceof Uint8Array) return { name, bytes: input };
  if (input instanceof ArrayBuffer) return { name, bytes: new Uint8Array(input) };
  if (input instanceof URL) return { name, bytes: await fetchBytes(input, name) };
  if (typeof input !== 'string') throw inputError('E_FORMAT_UNKNOWN', name, 'expected a path, URL, bytes or a MedicalImage');
  const read = ioPlatform().readPath;
  if (URL_SCHEME.test(input) || !read) {
    let url: URL;
    try {
      url = new URL(input, (globalThis as { location?: { href: string } }).location?.href);
    } catch (e) {
      throw inputError('E_FILE_NOT_FOUND', name, 'not a valid URL', e);
    }
    return { name, bytes: await fetchBytes(url, name) };
  }
  return { name, bytes: await read(input) };
}

/** Read and decode an input. `bytes` is returned too (for hashing), except for a `MedicalImage` input. */
export async function decodeInput(input: ImageInput, position?: number): Promise<LoadedInput & { image: MedicalImage }> {
  const loaded = await loadInput(input, position);
  if (loaded.image) return { ...loaded, image: loaded.image };
  return { ...loaded, image: await decodeImage(loaded.bytes!, loaded.name) };
}

/**
 * Content hash of a loaded input: sha256 of its bytes, or, for a decoded image given as such, of its
 * samples and shape (so an in-memory image is cached and deduplicated like a file).
 */
export async function inputHash(loaded: LoadedInput): Promise<string> {
  if (loaded.bytes) return sha256Hex(loaded.bytes);
  const img = loaded.image!;
  const head = new TextEncoder().encode(`medical-image:${img.width}x${img.height}x${img.depth}x${img.timepoints}x${img.channels}:`);
  const body = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const all = new Uint8Array(head.length + body.length);
  all.set(head, 0);
  all.set(body, head.length);
  return sha256Hex(all);
}
