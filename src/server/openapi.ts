/** The OpenAPI 3.1 document of the `/v1/` API, generated from the route table, the shared result schemas and the job routes. */
import { packageVersion } from '../core/paths.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { RESULT_SCHEMAS } from '../tasks/schemas.js';
import { jobsOpenApiPaths } from './job-routes.js';
import { pacsOpenApiPaths } from './pacs-routes.js';
import { inlineSchema, type RouteSpec } from './routes.js';

const ERROR_REPLY = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', pattern: '^E_[A-Z0-9_]+$' }, message: { type: 'string' }, option: { type: 'string' } } } },
};

/** Build the OpenAPI document. `auth`: document the bearer key scheme; `pacs`: the PACS proxy endpoints. */
export function openApiDocument(routes: RouteSpec[], opts: { auth: boolean; pacs?: boolean }): Record<string, unknown> {
  const schemas: Record<string, unknown> = { ErrorReply: ERROR_REPLY };
  for (const [name, s] of Object.entries(RESULT_SCHEMAS)) schemas[name] = inlineSchema(s);
  const paths: Record<string, unknown> = {};
  for (const r of routes) {
    const result = typeof r.result === 'string' ? { $ref: `#/components/schemas/${r.result}` } : r.result;
    const fieldProps = Object.fromEntries(r.params.map((p) => [p.name, { type: p.type, description: p.description }]));
    const required = r.params.filter((p) => p.required).map((p) => p.name);
    const op: Record<string, unknown> = {
      operationId: r.path.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase()),
      summary: r.summary,
      parameters: r.params.map((p) => ({ name: p.name, in: 'query', required: false, description: `${p.description} (or a form field)`, schema: { type: p.type } })),
      responses: {
        '200': { description: `${RESEARCH_NOTICE}`, content: { 'application/json': { schema: result } } },
        default: { description: 'error: {error:{code, message}} with a stable code', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorReply' } } } },
      },
      ...(opts.auth && r.path !== 'health' ? { security: [{ apiKey: [] }] } : {}),
    };
    if (r.body !== 'none') {
      const content: Record<string, unknown> = {
        'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', format: 'binary', description: 'DICOM, NIfTI (.nii/.nii.gz), PNG or JPEG' }, ...fieldProps }, ...(required.length ? { required } : {}) } },
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
      };
      if (r.body === 'image-or-json') content['application/json'] = { schema: { type: 'object', properties: fieldProps } };
      op.requestBody = { required: r.body === 'image', content };
    }
    paths[`/v1/${r.path}`] = { [r.method.toLowerCase()]: op };
  }
  const jobs = jobsOpenApiPaths(opts.auth);
  Object.assign(paths, jobs.paths);
  Object.assign(schemas, jobs.schemas);
  if (opts.pacs) Object.assign(paths, pacsOpenApiPaths(opts.auth));
  return {
    openapi: '3.1.0',
    info: { title: 'medvlm', version: packageVersion(), description: `Medical vision-language models over HTTP. ${RESEARCH_NOTICE}` },
    paths,
    components: { schemas, ...(opts.auth ? { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } } : {}) },
  };
}
