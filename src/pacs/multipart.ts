/**
 * multipart/related bodies of WADO-RS answers and STOW-RS requests (PS3.18 8.6.1.2). Parsing uses
 * @remix-run/multipart-parser (a streaming parser for any multipart/* message); building is the
 * few lines of RFC 2046 framing a STOW-RS request needs.
 */
import { randomBytes } from 'node:crypto';
import { MultipartParser, MultipartParseError, getMultipartBoundary } from '@remix-run/multipart-parser';
import { PacsError } from '../core/errors.js';

/** One body part: its media type and bytes. */
export interface BodyPart {
  contentType: string;
  bytes: Uint8Array;
}

/** Largest single part accepted (a multi-frame instance can be large). */
const MAX_PART_BYTES = 2 ** 31 - 1;

/**
 * Split a multipart/related body into its parts.
 * @param where names the request in errors.
 * @throws PacsError E_PACS_PROTOCOL when the content type is not multipart or the body is malformed.
 */
export function parseMultipartRelated(contentType: string, body: Uint8Array, where: string): BodyPart[] {
  if (!/^multipart\//i.test(contentType.trim())) {
    throw new PacsError('E_PACS_PROTOCOL', `${where}: expected a multipart/related answer, got "${contentType || 'no content type'}"`);
  }
  const boundary = getMultipartBoundary(contentType)?.trim();
  if (!boundary) throw new PacsError('E_PACS_PROTOCOL', `${where}: multipart answer without a boundary parameter`);
  const parser = new MultipartParser(boundary, { maxFileSize: MAX_PART_BYTES, maxTotalSize: Number.MAX_SAFE_INTEGER, maxParts: 1_000_000 });
  const parts: BodyPart[] = [];
  try {
    for (const part of parser.write(body)) parts.push({ contentType: part.headers['content-type'] ?? '', bytes: part.bytes });
    parser.finish();
  } catch (e) {
    if (e instanceof MultipartParseError) {
      throw new PacsError('E_PACS_PROTOCOL', `${where}: malformed multipart answer (${e.message})`, { cause: e });
    }
    throw e;
  }
  return parts;
}

/** A multipart/related body of DICOM parts and its Content-Type header (for STOW-RS). */
export function buildMultipartRelated(parts: Uint8Array[], partType = 'application/dicom'): { contentType: string; body: Uint8Array } {
  const boundary = `medvlm-${randomBytes(16).toString('hex')}`;
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\nContent-Length: ${p.length}\r\n\r\n`, 'latin1'));
    chunks.push(p);
    chunks.push(Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return { contentType: `multipart/related; type="${partType}"; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
