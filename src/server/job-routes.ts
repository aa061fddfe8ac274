/** `/v1/jobs`: start (POST), state (GET), cancel (DELETE), and progress as server-sent events (GET …/events). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { optionError } from '../core/errors.js';
import type { Jobs } from './jobs.js';
import { readBody, requiredField, type UploadLimits } from './request-input.js';

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

/** Register the job routes. */
export function registerJobRoutes(app: FastifyInstance, jobs: Jobs, limits: UploadLimits): void {
  app.post('/v1/jobs', async (req, reply) => {
    const input = await readBody(req, limits); // options only: the folder is resolved by the job under the data root
    const kind = input.fields.kind ?? 'classify-folder';
    if (kind !== 'classify-folder') throw optionError('kind', 'the only job kind is classify-folder');
    const state = await jobs.startClassifyFolder(requiredField(input, 'path'), requiredField(input, 'labels'));
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
