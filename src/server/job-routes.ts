/**
 * `/v1/jobs`: start (POST), state (GET), cancel (DELETE), and progress as server-sent events
 * (GET …/events); and their part of the OpenAPI document.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { optionError } from '../core/errors.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { JOB_KINDS, type Jobs } from './jobs.js';
import { listField, readBody, requiredField, type UploadLimits } from './request-input.js';
import { templatesFromField } from './templates-field.js';

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

/** Register the job routes. */
export function registerJobRoutes(app: FastifyInstance, jobs: Jobs, limits: UploadLimits): void {
  app.post('/v1/jobs', async (req, reply) => {
    const input = await readBody(req, limits); // options only: folders are resolved by the job under the data root
    const kind = input.fields.kind ?? 'classify-folder';
    let state;
    if (kind === 'classify-folder') state = await jobs.startClassifyFolder(requiredField(input, 'path'), requiredField(input, 'labels'), templatesFromField(input.fields.templates));
    else if (kind === 'index-folder') state = await jobs.startIndexFolder(requiredField(input, 'path'));
    else if (kind === 'eval') state = await jobs.startEval(listField(input, 'datasets') ?? [], listField(input, 'tasks') ?? []);
    else throw optionError('kind', `expected one of ${JOB_KINDS.join(', ')}`);
    return reply.code(202).send(state);
  });
  app.get('/v1/jobs/:id', async (req) => jobs.state(idOf(req)));
  app.delete('/v1/jobs/:id', async (req) => jobs.cancel(idOf(req)));
  app.get('/v1/jobs/:id/events', async (req, reply) => {
    const write = (event: string, data: unknown) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const { state, stop } = jobs.listen(idOf(req), (event, s) => {
      write(event, s);
      if (event === 'end') reply.raw.end();
    });
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    write('state', state);
    if (state.status !== 'running') {
      write('end', state);
      reply.raw.end();
    }
    // a listener that goes away stops listening; the job itself runs on
    req.raw.socket.once('close', stop);
  });
}

const JOB_STATE = {
  type: 'object',
  required: ['id', 'kind', 'status', 'done', 'total'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: [...JOB_KINDS] },
    status: { type: 'string', enum: ['running', 'done', 'failed', 'cancelled'] },
    done: { type: 'integer' },
    total: { type: 'integer' },
    stage: { type: 'string', description: 'eval: the cell being run' },
    result: { description: 'when done: classify-folder, the entries of `medvlm classify --json` (paths relative to the data root); index-folder, counts and failed files; eval, the cell results' },
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
};

const JOB_REQUEST = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: [...JOB_KINDS], description: 'default classify-folder' },
    path: { type: 'string', description: "classify-folder, index-folder: a folder relative to the server's --data-root" },
    labels: { type: 'string', description: 'classify-folder: comma-separated labels' },
    templates: { type: 'string', description: 'classify-folder: a built-in template set, or templates one per line with {}' },
    datasets: { type: 'string', description: 'eval: comma-separated data set ids (medvlm datasets), under --data-root' },
    tasks: { type: 'string', description: 'eval: comma-separated zeroshot, fewshot, retrieval (default zeroshot)' },
  },
};

/** The job endpoints for the OpenAPI document. */
export function jobsOpenApiPaths(auth: boolean): { paths: Record<string, unknown>; schemas: Record<string, unknown> } {
  const security = auth ? { security: [{ apiKey: [] }] } : {};
  const error = { description: 'error: {error:{code, message}} with a stable code', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorReply' } } } };
  const state = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/JobState' } } } });
  const id = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
  return {
    schemas: { JobState: JOB_STATE, JobRequest: JOB_REQUEST },
    paths: {
      '/v1/jobs': {
        post: {
          operationId: 'startJob',
          summary: `start a long job on data under --data-root: classify a folder, add a folder to the served index, or an evaluation grid of the served model. ${RESEARCH_NOTICE}`,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/JobRequest' } } } },
          responses: { '202': state('the job, running'), default: error },
          ...security,
        },
      },
      '/v1/jobs/{id}': {
        get: { operationId: 'jobState', summary: "a job's state, and its result when done", parameters: id, responses: { '200': state('the job'), default: error }, ...security },
        delete: { operationId: 'cancelJob', summary: 'cancel a running job', parameters: id, responses: { '200': state('the job (status becomes cancelled)'), default: error }, ...security },
      },
      '/v1/jobs/{id}/events': {
        get: {
          operationId: 'jobEvents',
          summary: "a job's progress as server-sent events: state, progress (each with a JobState without result), end",
          parameters: id,
          responses: { '200': { description: 'an event stream that ends with the job', content: { 'text/event-stream': { schema: { type: 'string' } } } }, default: error },
          ...security,
        },
      },
    },
  };
}
