/**
 * The HTTP server of `medvlm serve`, as a Fastify app factory. Safe by default: no CORS, body and
 * upload limits checked before reading, a concurrency gate with a bounded queue, a per-request
 * timeout, API keys compared in constant time, errors as `{error:{code,message}}` without stacks, and
 * a request log with ids, sizes and timings only (no names, no query strings, no image content).
 */
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { apiKeyChecker, presentedKey } from './auth.js';
import { dataRootOf } from './data-root.js';
import { Jobs } from './jobs.js';
import { registerJobRoutes } from './job-routes.js';
import { lazyLocalGenerator, registerChatCompletions } from './routes/chat-completions.js';
import { DEFAULT_GENERATOR } from '../models/defaults.js';
import { loadGenerator } from '../models/generators.js';
import { ConcurrencyGate, withTimeout } from './gate.js';
import { HttpError, toHttpError } from './http-errors.js';
import { jsonDepth } from './json-depth.js';
import { PageSessions } from './page-sessions.js';
import { openApiDocument } from './openapi.js';
import { registerPacsRoutes, type PacsProxyOptions } from './pacs-routes.js';
import { denseRoutes, WarmDenseModels } from './routes/dense.js';
import { readRequestInput } from './request-input.js';
import { resultSchema, routeTable } from './routes.js';
import { registerWebPage, type WebPageOptions } from './web-page.js';
import { WarmPipelines, type ServedModel } from './warm-pipelines.js';

/** Options of `buildServer`. */
export interface ServerOptions {
  /** The model (and index) the pipelines are built from. */
  served?: ServedModel;
  /** Largest upload in bytes (default 512 MiB). */
  maxUploadBytes?: number;
  /** Largest JSON body in bytes (default 1 MiB). */
  maxJsonBytes?: number;
  /** Inference requests run at once (default 2). */
  concurrency?: number;
  /** Inference requests that may wait for a slot (default 8 × concurrency); beyond that: 503 with Retry-After. */
  queue?: number;
  /** Longest time a request may take once received, in ms (default 120 000): 503 E_HTTP_TIMEOUT. */
  requestTimeoutMs?: number;
  /** Longest time to receive a whole request (slow clients), in ms (default 300 000): Node answers 408. */
  receiveTimeoutMs?: number;
  /** A connection idle this long (a client that stops sending) is closed, in ms (default: the request timeout + 10 s, so a long inference is not cut). */
  idleTimeoutMs?: number;
  /** API keys; when given, every `/v1/` route but `health` needs one (`Authorization: Bearer KEY` or `X-API-Key`). */
  apiKeys?: readonly string[];
  /** Where the request log goes (JSON lines); default: nowhere. */
  log?: NodeJS.WritableStream;
  /** Folder whose images requests may name by relative `path` (default: none; paths refused). */
  dataRoot?: string;
  /** A PACS to proxy under `/v1/pacs/` for the page's PACS panel (address and credentials stay in the server). */
  pacs?: PacsProxyOptions;
  /** Serve the web page (default: no). */
  web?: WebPageOptions;
  /** Local generator behind `POST /v1/chat/completions` (default: the bundled medvlm-tiny-gen); loaded on first use. */
  generator?: string;
  /** Text-prompted segmenter behind `POST /v1/segment` (default: the bundled medvlm-tiny-seg); loaded on first use. */
  segmenter?: string;
}

const JSON_DEPTH_LIMIT = 32;

/** Paths open without a key when keys are configured: liveness, and the page's login form and its script. */
const OPEN_WITH_KEYS = new Set(['/v1/health', '/', '/app/login.js']);

/** Build the app (not listening yet). Close it with `app.close()`: that also disposes the warm pipelines. */
export async function buildServer(o: ServerOptions = {}): Promise<FastifyInstance> {
  const maxUpload = o.maxUploadBytes ?? 512 * 1024 * 1024;
  const maxJson = o.maxJsonBytes ?? 1024 * 1024;
  const concurrency = o.concurrency ?? 2;
  const gate = new ConcurrencyGate(concurrency, o.queue ?? concurrency * 8);
  const timeoutMs = o.requestTimeoutMs ?? 120_000;
  const served = o.served ?? {};
  const pipelines = new WarmPipelines(served);
  const checkKey = o.apiKeys?.length ? apiKeyChecker(o.apiKeys) : undefined;
  const sessions = checkKey ? new PageSessions() : undefined;
  const hasIndex = Boolean(served.index);
  const dataRoot = o.dataRoot ? dataRootOf(o.dataRoot) : undefined;
  const limits = { maxUploadBytes: maxUpload, ...(dataRoot ? { dataRoot } : {}) };

  const app = Fastify({
    logger: o.log ? { level: 'info', stream: o.log } : false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxUpload,
    requestTimeout: o.receiveTimeoutMs ?? 300_000,
    connectionTimeout: o.idleTimeoutMs ?? timeoutMs + 10_000,
    return503OnClosing: true,
  });

  app.addHook('onRequest', async (req, reply) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(length) && length > maxUpload + 64 * 1024) {
      reply.header('connection', 'close');
      throw new HttpError('E_HTTP_TOO_LARGE', `the request body (${length} bytes) is larger than the server accepts (${maxUpload} bytes)`);
    }
    // with keys: everything but health and the login page needs a key or the page's session cookie
    if (checkKey && !OPEN_WITH_KEYS.has(req.url.split('?')[0]) && !checkKey(presentedKey(req.headers)) && !sessions!.valid(req.headers.cookie)) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError('E_HTTP_UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer KEY)');
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (req.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    // ids, sizes and timings only: never the URL's query, a file name or any content
    req.log.info(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        bytesOut: Number(reply.getHeader('content-length') ?? 0),
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, headers, body } = toHttpError(err);
    req.log.warn({ code: body.error.code, status }, 'request failed');
    // a refused or oversized request's body is not drained: close the connection instead
    if (body.error.code === 'E_HTTP_BUSY' || body.error.code === 'E_HTTP_TOO_LARGE') reply.header('connection', 'close');
    void reply.code(status).headers(headers).type('application/json').send(body);
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).send({ error: { code: 'E_HTTP_NOT_FOUND', message: 'no such endpoint' } });
  });

  // bodies: JSON (small, depth-checked), raw image bytes, multipart
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: maxJson }, (_req, text, done) => {
    const s = String(text);
    if (jsonDepth(s, JSON_DEPTH_LIMIT) > JSON_DEPTH_LIMIT) return done(new HttpError('E_HTTP_BAD_REQUEST', `the JSON body is nested deeper than ${JSON_DEPTH_LIMIT} levels`), undefined);
    try {
      done(null, s === '' ? undefined : JSON.parse(s));
    } catch {
      done(new HttpError('E_HTTP_BAD_REQUEST', 'the body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser(/^(application\/(octet-stream|dicom|gzip)|image\/[\w.+-]+)$/, { parseAs: 'buffer', bodyLimit: maxUpload }, (_req, body, done) => done(null, body));
  await app.register(multipart, { limits: { fileSize: maxUpload, files: 1 }, throwFileSizeLimit: true });

  // work still running after its request timed out; drained before the pipelines are disposed
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.then(() => inFlight.delete(p), () => inFlight.delete(p));
    return p;
  };
  const dense = new WarmDenseModels(served, o.segmenter);
  const routes = [...routeTable({ hasIndex, hasDataRoot: Boolean(dataRoot), hasPacs: Boolean(o.pacs) }), ...denseRoutes(dense)];
  for (const r of routes) {
    app.route({
      method: r.method,
      url: `/v1/${r.path}`,
      schema: { response: { 200: resultSchema(r) } },
      handler: async (req: FastifyRequest) => {
        const work = async () => r.handler({ input: await readRequestInput(req, limits), pipelines });
        // the timeout counts from arrival (queueing included); a timed-out job keeps its slot until it really ends
        return withTimeout(r.inference ? track(gate.run(work)) : work(), timeoutMs);
      },
    });
  }
  const chatGenerator = lazyLocalGenerator(o.generator ?? DEFAULT_GENERATOR, (id) => loadGenerator(id, { ...(served.options?.threads !== undefined ? { threads: served.options.threads } : {}), offline: true }));
  registerChatCompletions(app, { generator: chatGenerator.get, gate, timeoutMs, maxImageBytes: Math.min(maxJson, maxUpload) });
  const jobs = new Jobs({ pipelines, served, dataRoot, onIndexChanged: () => pipelines.reload(['similar-case-search', 'draft-report']) });
  registerJobRoutes(app, jobs, limits);
  if (o.pacs) registerPacsRoutes(app, { pacs: o.pacs, pipelines, limits, gated: (work) => withTimeout(track(gate.run(work)), timeoutMs) });
  const openapi = openApiDocument(routes, { auth: Boolean(checkKey), pacs: Boolean(o.pacs) });
  app.get('/openapi.json', async () => openapi);
  if (sessions) {
    // the login form trades a valid key (checked by the hook above) for a session cookie
    app.post('/v1/session', async (_req, reply) => reply.header('set-cookie', sessions.issue()).code(204).send());
    app.delete('/v1/session', async (req, reply) => reply.header('set-cookie', sessions.end(req.headers.cookie)).code(204).send());
  }
  const signedIn = (req: FastifyRequest) => !checkKey || checkKey(presentedKey(req.headers)) || sessions!.valid(req.headers.cookie);
  if (o.web) await registerWebPage(app, o.web, async () => (await pipelines.get('zero-shot-image-classification')).encoder.info.location, signedIn);
  app.addHook('onClose', async () => {
    await jobs.close();
    await Promise.allSettled([...inFlight]);
    await pipelines.close();
    await dense.close();
    await chatGenerator.close();
  });
  return app;
}
