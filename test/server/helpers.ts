/** A real medvlm server on a random loopback port, with its request log captured. */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/server/app.js';

/** A running server: its base URL, the JSON lines of its request log, and `close`. */
export interface TestServer {
  app: FastifyInstance;
  base: string;
  log: string[];
  close(): Promise<void>;
}

/** Start `buildServer(o)` on 127.0.0.1:0. */
export async function startTestServer(o: ServerOptions = {}, host = '127.0.0.1'): Promise<TestServer> {
  const log: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await buildServer({ log: stream, ...o });
  await app.listen({ host, port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, log, close: () => app.close() };
}

/** A multipart form with `file` (bytes, name) and string fields. */
export function form(bytes: Uint8Array | undefined, name: string, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (bytes) f.append('file', new Blob([bytes as BlobPart]), name);
  return f;
}
