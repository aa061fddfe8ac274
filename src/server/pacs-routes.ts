/**
 * `/v1/pacs/…`: the page's PACS panel, through the medvlm server. Orthanc (like most PACS) sends no
 * CORS headers, and the page must never see the PACS address or credentials, so the server talks
 * DICOMweb itself with the configured client (src/pacs) and answers on its own origin: QIDO-RS
 * searches (studies, a study's series, a series' instances) as short JSON rows, one instance's bytes
 * (WADO-RS) for the page's viewer, and the analysis of a series (`medvlm pacs classify --json`),
 * optionally storing the Comprehensive SR back in the study (STOW-RS; never twice). Error messages
 * never carry the PACS address.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isMedvlmError, optionError, PacsError } from '../core/errors.js';
import { RESEARCH_NOTICE } from '../models/defaults.js';
import { classifyRows, classifyStudy } from '../pacs/classify.js';
import type { DicomwebClient, QidoFilters } from '../pacs/client.js';
import { isUid, num, str, strs, type DicomJson } from '../pacs/dicom-json.js';
import { storeSeriesSr, type SrOutcome } from '../pacs/store-results.js';
import { parseLabels } from '../tasks/zero-shot.js';
import { loadTemplates } from '../tasks/templates-files.js';
import { readBody, requiredField, viewField, type UploadLimits } from './request-input.js';
import { templatesFromField } from './templates-field.js';
import type { WarmPipelines } from './warm-pipelines.js';

/** The PACS the server proxies. */
export interface PacsProxyOptions {
  client: DicomwebClient;
  /** The DICOMweb root, only to remove it from error messages. */
  url: string;
}

/** What the PACS routes need from the app. */
export interface PacsRouteContext {
  pacs: PacsProxyOptions;
  pipelines: WarmPipelines;
  limits: UploadLimits;
  /** Run inference work through the server's concurrency gate and timeout. */
  gated<T>(work: () => Promise<T>): Promise<T>;
}

function uid(value: string | undefined, option: string): string {
  if (!value || !isUid(value)) throw optionError(option, 'expected a DICOM UID (digits and dots, at most 64 characters)');
  return value;
}

/** QIDO match values from the query: DICOM matching (wildcards, date ranges), length-limited, plain characters only. */
function filterValue(q: Record<string, string | undefined>, key: string): string | undefined {
  const v = q[key]?.trim();
  if (!v) return undefined;
  if (v.length > 64 || !/^[\w .,*?^=+-]+$/.test(v)) throw optionError(key, 'expected a short DICOM match value (wildcards * and ?, dates YYYYMMDD or A-B)');
  return v;
}

/** Rewrite a PACS error so that its message does not name the PACS address. */
function withoutAddress<T>(url: string, p: Promise<T>): Promise<T> {
  return p.catch((e: unknown) => {
    if (isMedvlmError(e) && e.message.includes(url)) throw new PacsError(e.code, e.message.split(url).join('the PACS'), { cause: e });
    throw e;
  });
}

const studyRow = (d: DicomJson) => ({
  studyUid: str(d, 'StudyInstanceUID'),
  patientId: str(d, 'PatientID'),
  studyDate: str(d, 'StudyDate'),
  accession: str(d, 'AccessionNumber'),
  description: str(d, 'StudyDescription'),
  modalities: strs(d, 'ModalitiesInStudy'),
  series: num(d, 'NumberOfStudyRelatedSeries') ?? null,
  instances: num(d, 'NumberOfStudyRelatedInstances') ?? null,
});

const seriesRow = (d: DicomJson) => ({
  seriesUid: str(d, 'SeriesInstanceUID'),
  modality: str(d, 'Modality'),
  number: num(d, 'SeriesNumber') ?? null,
  description: str(d, 'SeriesDescription'),
  instances: num(d, 'NumberOfSeriesRelatedInstances') ?? null,
});

const instanceRow = (d: DicomJson) => ({
  sopInstanceUid: str(d, 'SOPInstanceUID'),
  sopClassUid: str(d, 'SOPClassUID'),
  number: num(d, 'InstanceNumber') ?? null,
  frames: num(d, 'NumberOfFrames') ?? 1,
});

/** Register `/v1/pacs/...`. */
export function registerPacsRoutes(app: FastifyInstance, ctx: PacsRouteContext): void {
  const { client, url } = ctx.pacs;
  const q = (req: FastifyRequest) => (req.query ?? {}) as Record<string, string | undefined>;
  const p = (req: FastifyRequest) => req.params as Record<string, string>;
  const limitOf = (req: FastifyRequest) => Math.min(200, Math.max(1, Number(q(req).limit ?? 50) || 50));

  app.get('/v1/pacs/studies', async (req) => {
    const filters: QidoFilters = {};
    for (const [key, field] of [['patientId', 'patientId'], ['studyDate', 'studyDate'], ['modality', 'modality'], ['accession', 'accession']] as const) {
      const v = filterValue(q(req), key);
      if (v) filters[field] = v;
    }
    const found = await withoutAddress(url, client.searchStudies(filters, { limit: limitOf(req), includeFields: ['StudyDescription', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances', 'ModalitiesInStudy'] }));
    return { studies: found.map(studyRow) };
  });

  app.get('/v1/pacs/studies/:study/series', async (req) => {
    const found = await withoutAddress(url, client.searchSeries({ studyUid: uid(p(req).study, 'study') }, { includeFields: ['SeriesDescription', 'NumberOfSeriesRelatedInstances'] }));
    return { series: found.map(seriesRow).sort((a, b) => (a.number ?? 0) - (b.number ?? 0)) };
  });

  app.get('/v1/pacs/studies/:study/series/:series/instances', async (req) => {
    const found = await withoutAddress(url, client.searchInstances({ studyUid: uid(p(req).study, 'study'), seriesUid: uid(p(req).series, 'series') }, { includeFields: ['NumberOfFrames'] }));
    return { instances: found.map(instanceRow).sort((a, b) => (a.number ?? 0) - (b.number ?? 0)) };
  });

  app.get('/v1/pacs/studies/:study/series/:series/instances/:instance', async (req, reply: FastifyReply) => {
    const bytes = await withoutAddress(url, client.retrieveInstance(uid(p(req).study, 'study'), uid(p(req).series, 'series'), uid(p(req).instance, 'instance')));
    return reply.type('application/dicom').header('content-disposition', 'attachment').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  app.post('/v1/pacs/classify', async (req) => {
    const input = await readBody(req, { maxUploadBytes: ctx.limits.maxUploadBytes });
    const studyUid = uid(input.fields.study, 'study');
    const seriesUid = input.fields.series ? uid(input.fields.series, 'series') : undefined;
    const labels = parseLabels(requiredField(input, 'labels'));
    const templates = templatesFromField(input.fields.templates) ?? loadTemplates();
    const store = input.fields.storeSr === 'true';
    const dryRun = input.fields.dryRun === 'true';
    return ctx.gated(async () => {
      const { encoder } = await ctx.pipelines.get('zero-shot-image-classification');
      const series = await withoutAddress(url, classifyStudy(client, encoder, { studyUid, ...(seriesUid ? { seriesUid } : {}), labels, templates, view: viewField(input) }));
      const sr: SrOutcome[] = [];
      if (store || dryRun) {
        for (const s of series) sr.push(await withoutAddress(url, storeSeriesSr(client, s, { model: encoder.info, labels, templates: templates.name, dryRun: dryRun || !store })));
      }
      return { notice: RESEARCH_NOTICE, model: encoder.info.id, results: classifyRows(series), sr };
    });
  });
}

const UID_PARAM = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9.]{1,64}$' } });

/** The PACS endpoints for the OpenAPI document (when a PACS is configured). */
export function pacsOpenApiPaths(auth: boolean): Record<string, unknown> {
  const security = auth ? { security: [{ apiKey: [] }] } : {};
  const error = { description: 'error: {error:{code, message}} with a stable code (E_PACS_AUTH, E_PACS_NOT_FOUND, ...)', content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorReply' } } } };
  const json = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
  const filter = (name: string, description: string) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } });
  return {
    '/v1/pacs/studies': {
      get: {
        operationId: 'pacsStudies',
        summary: 'QIDO-RS studies of the configured PACS, through the server',
        parameters: [filter('patientId', 'PatientID (wildcards * ?)'), filter('studyDate', 'YYYYMMDD or a range A-B'), filter('modality', 'ModalitiesInStudy'), filter('accession', 'AccessionNumber'), filter('limit', 'at most 200 (default 50)')],
        responses: { '200': json('{studies: [{studyUid, patientId, studyDate, accession, description, modalities, series, instances}]}'), default: error },
        ...security,
      },
    },
    '/v1/pacs/studies/{study}/series': { get: { operationId: 'pacsSeries', summary: "a study's series", parameters: [UID_PARAM('study')], responses: { '200': json('{series: [{seriesUid, modality, number, description, instances}]}'), default: error }, ...security } },
    '/v1/pacs/studies/{study}/series/{series}/instances': {
      get: { operationId: 'pacsInstances', summary: "a series' instances", parameters: [UID_PARAM('study'), UID_PARAM('series')], responses: { '200': json('{instances: [{sopInstanceUid, sopClassUid, number, frames}]}'), default: error }, ...security },
    },
    '/v1/pacs/studies/{study}/series/{series}/instances/{instance}': {
      get: {
        operationId: 'pacsInstance',
        summary: "one instance's DICOM bytes as stored (WADO-RS)",
        parameters: [UID_PARAM('study'), UID_PARAM('series'), UID_PARAM('instance')],
        responses: { '200': { description: 'the DICOM file', content: { 'application/dicom': { schema: { type: 'string', format: 'binary' } } } }, default: error },
        ...security,
      },
    },
    '/v1/pacs/classify': {
      post: {
        operationId: 'pacsClassify',
        summary: `zero-shot labels of a study or series in the PACS (as medvlm pacs classify --json), optionally stored back as one Comprehensive SR per series. ${RESEARCH_NOTICE}`,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['study', 'labels'],
                properties: { study: { type: 'string' }, series: { type: 'string' }, labels: { type: 'string' }, templates: { type: 'string' }, storeSr: { type: 'boolean' }, dryRun: { type: 'boolean' } },
              },
            },
          },
        },
        responses: { '200': json('{notice, model, results, sr}'), default: error },
        ...security,
      },
    },
  };
}
