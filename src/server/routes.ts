/**
 * The `/v1/` endpoints as one table: each route's method, path, documented parameters, result schema
 * and handler. The app registers routes from it and the OpenAPI document is generated from it, so
 * the two cannot drift. Answers are the CLI's `--json` objects, with the upload's name where the CLI
 * prints a path.
 */
import { optionError } from '../core/errors.js';
import { packageVersion } from '../core/paths.js';
import { listModels } from '../models/catalog.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { RESULT_SCHEMAS, type ResultSchemaName } from '../tasks/schemas.js';
import { boolField, intField, listField, numberField, requiredField, requireImage, viewField, type RequestInput } from './request-input.js';
import { templatesFromField } from './templates-field.js';
import type { WarmPipelines } from './warm-pipelines.js';

/** A documented request option (form field or query parameter). */
export interface ParamDoc {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  description: string;
  required?: boolean;
}

/** What a handler gets. */
export interface RouteContext {
  input: RequestInput;
  pipelines: WarmPipelines;
}

/** One endpoint. */
export interface RouteSpec {
  method: 'GET' | 'POST';
  /** Path under `/v1/`. */
  path: string;
  summary: string;
  /** The result's schema name in RESULT_SCHEMAS, or an inline schema. */
  result: ResultSchemaName | Record<string, unknown>;
  /** `image`: multipart `file` or raw bytes; `image-or-json`: also a JSON object instead of an image; `none`. */
  body: 'image' | 'image-or-json' | 'none';
  params: ParamDoc[];
  /** Runs a model (goes through the concurrency gate and the timeout). */
  inference: boolean;
  /** Only when the server has an index. */
  needsIndex?: boolean;
  handler(ctx: RouteContext): Promise<unknown>;
}

const PATH_PARAM: ParamDoc = { name: 'path', type: 'string', description: "instead of an upload: an image path relative to the server's --data-root" };

const VIEW_PARAMS: ParamDoc[] = [
  PATH_PARAM,
  { name: 'window', type: 'string', description: 'display window: file | auto | lung | mediastinum | bone | brain | abdomen | liver | C,W | pLOW,HIGH (default auto)' },
  { name: 'frame', type: 'integer', description: 'frame of a multi-frame DICOM (default: middle)' },
  { name: 'plane', type: 'string', description: 'NIfTI slice plane: axial | coronal | sagittal' },
  { name: 'slice', type: 'integer', description: 'NIfTI slice index in the plane (default: middle)' },
  { name: 'volume', type: 'integer', description: 'NIfTI volume of a 4D file (default 0)' },
];

const Health = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    version: { type: 'string' },
    notice: { type: 'string' },
    index: { type: 'boolean' },
    dataRoot: { type: 'boolean', description: 'jobs and paths under --data-root are available' },
    pacs: { type: 'boolean', description: 'the /v1/pacs/ proxy to a configured PACS is available' },
    loaded: { type: 'array', items: { type: 'string' } },
  },
  required: ['status', 'version', 'notice', 'index', 'loaded'],
};

const ModelList = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      family: { type: 'string' },
      kind: { type: 'string' },
      localDtypes: { type: 'array', items: { type: 'string' } },
      loadable: { type: 'boolean' },
      medical: { type: 'boolean' },
      note: { type: 'string' },
    },
    additionalProperties: true,
  },
};

/** Every endpoint under `/v1/`. */
export function routeTable(opts: { hasIndex: boolean; hasDataRoot?: boolean; hasPacs?: boolean }): RouteSpec[] {
  const all: RouteSpec[] = [
    {
      method: 'GET',
      path: 'health',
      summary: 'liveness: version, whether an index is served, which pipelines are loaded',
      result: Health,
      body: 'none',
      params: [],
      inference: false,
      handler: async ({ pipelines }) => ({ status: 'ok', version: packageVersion(), notice: RESEARCH_NOTICE, index: opts.hasIndex, dataRoot: Boolean(opts.hasDataRoot), pacs: Boolean(opts.hasPacs), loaded: pipelines.loaded() }),
    },
    {
      method: 'GET',
      path: 'models',
      summary: 'known models and those available locally (as `medvlm models --json`)',
      result: ModelList,
      body: 'none',
      params: [],
      inference: false,
      handler: () => listModels(),
    },
    {
      method: 'POST',
      path: 'inspect',
      summary: 'what an image file holds, in physical units (as `medvlm inspect --json`; patient identifiers are never returned)',
      result: 'InspectResult',
      body: 'image',
      params: [PATH_PARAM],
      inference: true,
      handler: async ({ input, pipelines }) => {
        const inspect = await pipelines.get('inspect');
        return { ...(await inspect(requireImage(input))), file: input.name };
      },
    },
    {
      method: 'POST',
      path: 'classify',
      summary: 'zero-shot labels of one image (one entry of `medvlm classify --json`)',
      result: 'ClassifyResult',
      body: 'image',
      params: [
        { name: 'labels', type: 'string', required: true, description: 'comma-separated labels, e.g. "chest,head,abdomen"' },
        { name: 'templates', type: 'string', description: 'prompt ensemble: a built-in template set (default medical), or templates one per line, each with {} where the label goes' },
        { name: 'top', type: 'integer', description: 'keep only the n best labels' },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input, pipelines }) => {
        const bytes = requireImage(input);
        const labels = requiredField(input, 'labels');
        const templates = templatesFromField(input.fields.templates);
        const top = intField(input, 'top', 1, 10_000);
        const classify = await pipelines.get('zero-shot-image-classification');
        const scores = await classify(bytes, labels, { view: viewField(input), ...(templates ? { templates } : {}), ...(top ? { top } : {}) });
        return { file: input.name, labels: scores };
      },
    },
    {
      method: 'POST',
      path: 'embed',
      summary: 'an image embedding (upload) or a text embedding (`text` field), as a row of `medvlm embed`',
      result: 'EmbeddingRow',
      body: 'image-or-json',
      params: [{ name: 'text', type: 'string', description: 'embed this text instead of an image' }, ...VIEW_PARAMS],
      inference: true,
      handler: async ({ input, pipelines }) => {
        if (!input.bytes && input.fields.text !== undefined) {
          const embedText = await pipelines.get('text-feature-extraction');
          return embedText(requiredField(input, 'text'));
        }
        const embed = await pipelines.get('image-feature-extraction');
        return { ...(await embed(requireImage(input), { view: viewField(input) })), file: input.name };
      },
    },
    {
      method: 'POST',
      path: 'ask',
      summary: 'answer a closed question about an image (as `medvlm ask --json`)',
      result: 'AskOutput',
      body: 'image',
      params: [
        { name: 'question', type: 'string', required: true, description: 'e.g. "Is there a pleural effusion?"' },
        { name: 'choices', type: 'string', description: 'candidate answers, comma-separated' },
        { name: 'templates', type: 'string', description: 'prompt ensemble for choices: a built-in set (default medical), or templates one per line with {}' },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input, pipelines }) => {
        const bytes = requireImage(input);
        const question = requiredField(input, 'question');
        const choices = listField(input, 'choices');
        const templates = templatesFromField(input.fields.templates);
        const ask = await pipelines.get('visual-question-answering');
        const r = await ask(bytes, question, { view: viewField(input), ...(choices?.length ? { choices } : {}), ...(templates ? { templates } : {}) });
        return { ...r, image: input.name };
      },
    },
    {
      method: 'POST',
      path: 'search',
      summary: 'similar cases from the served index, by image (upload) or by `text` (as `medvlm search --json`; DICOM UIDs never returned)',
      result: 'SearchOutput',
      body: 'image-or-json',
      needsIndex: true,
      params: [
        { name: 'text', type: 'string', description: 'a text query instead of an image' },
        { name: 'k', type: 'integer', description: 'number of results (default 10)' },
        { name: 'target', type: 'string', description: 'image (default) or text: the stored texts nearest an image query' },
        { name: 'exact', type: 'boolean', description: 'exact scan even when an approximate index exists' },
        { name: 'where', type: 'string', description: 'metadata filters key=value, comma-separated' },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input, pipelines }) => {
        const k = intField(input, 'k', 1, 1000);
        const target = input.fields.target;
        if (target !== undefined && target !== 'image' && target !== 'text') throw optionError('target', 'expected image or text');
        const where = listField(input, 'where');
        const query = input.bytes ? { image: input.bytes } : { text: requiredField(input, 'text') };
        const search = await pipelines.get('similar-case-search');
        const r = await search(query, { ...(k ? { k } : {}), ...(target ? { target } : {}), exact: boolField(input, 'exact'), ...(where?.length ? { where } : {}), view: viewField(input) });
        return input.bytes ? { ...r, query: { ...r.query, image: input.name } } : r;
      },
    },
    {
      method: 'POST',
      path: 'draft-report',
      summary: 'a research draft from the reports of the most similar indexed cases, each sentence with its source (as `medvlm draft-report --json`)',
      result: 'DraftOutput',
      body: 'image',
      needsIndex: true,
      params: [
        { name: 'k', type: 'integer', description: 'similar cases to draw from (default 5)' },
        { name: 'sentences', type: 'integer', description: 'sentences in the draft (default 3)' },
        { name: 'caseWeight', type: 'number', description: "weight of the case's similarity against the sentence's own, 0..1 (default 0.5)" },
        { name: 'where', type: 'string', description: 'metadata filters key=value, comma-separated' },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input, pipelines }) => {
        const bytes = requireImage(input);
        const k = intField(input, 'k', 1, 100);
        const sentences = intField(input, 'sentences', 1, 50);
        const caseWeight = numberField(input, 'caseWeight', 0, 1);
        const where = listField(input, 'where');
        const draft = await pipelines.get('draft-report');
        const r = await draft(bytes, { ...(k ? { k } : {}), ...(sentences ? { sentences } : {}), ...(caseWeight !== undefined ? { caseWeight } : {}), ...(where?.length ? { where } : {}), view: viewField(input) });
        return { ...r, image: input.name };
      },
    },
  ];
  return all.filter((r) => opts.hasIndex || !r.needsIndex);
}

/** A schema without `$id`s (Fastify compiles response serialisers from inline schemas). */
export function inlineSchema(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema), (k, v: unknown) => (k === '$id' ? undefined : v)) as Record<string, unknown>;
}

/** The result schema of a route, inline. */
export function resultSchema(route: RouteSpec): Record<string, unknown> {
  return inlineSchema(typeof route.result === 'string' ? RESULT_SCHEMAS[route.result] : route.result);
}
