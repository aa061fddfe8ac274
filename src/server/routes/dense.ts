/**
 * `POST /v1/map` (text→image similarity map) and `POST /v1/segment` (text-prompted mask) for one image, as
 * route-table entries (the app registers them with the others: upload parsing, the concurrency gate, the
 * timeout and the OpenAPI document come with that). The models load on first use and stay warm: the served
 * dual encoder for maps, the bundled text segmenter (or the one named) for masks. Answers carry the view
 * the model saw and the map/mask as base64 PNGs at the view's size, so the page can overlay them exactly.
 */
import { encodeMapPng, encodeRgbPng } from '../../io/dense-write.js';
import type { DualEncoder, TextPromptedSegmenter } from '../../models/capabilities.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { loadDualEncoder, loadTextSegmenter } from '../../models/registry.js';
import { prepareDenseInput } from '../../tasks/dense-input.js';
import { MAP_METHODS, type MapMethod } from '../../tasks/dense-map.js';
import { segmentViews } from '../../tasks/segment.js';
import { mapRange, textMap } from '../../tasks/text-map.js';
import { optionError } from '../../core/errors.js';
import { minMaxNormalise } from '../../transforms/dense-resample.js';
import { numberField, requiredField, requireImage, viewField, type RequestInput } from '../request-input.js';
import type { ParamDoc, RouteSpec } from '../routes.js';
import type { ServedModel } from '../warm-pipelines.js';

/** The bundled text-prompted segmenter the server uses unless told otherwise. */
export const SERVED_SEGMENTER = 'medvlm-tiny-seg';

/** The dense models, loaded on first use and kept; a load that failed is retried on the next request. */
export class WarmDenseModels {
  private encoder?: Promise<DualEncoder>;
  private segmenter?: Promise<TextPromptedSegmenter>;

  constructor(private readonly served: ServedModel, private readonly segmenterId = SERVED_SEGMENTER) {}

  /** The served dual encoder (dense maps). */
  dualEncoder(): Promise<DualEncoder> {
    if (!this.encoder) {
      this.encoder = loadDualEncoder(this.served.model ?? DEFAULT_MODEL, this.served.options ?? {});
      this.encoder.catch(() => (this.encoder = undefined));
    }
    return this.encoder;
  }

  /** The text-prompted segmenter. */
  textSegmenter(): Promise<TextPromptedSegmenter> {
    if (!this.segmenter) {
      const { batchSize: _batch, ...options } = this.served.options ?? {};
      this.segmenter = loadTextSegmenter(this.segmenterId, options);
      this.segmenter.catch(() => (this.segmenter = undefined));
    }
    return this.segmenter;
  }

  /** Dispose what was loaded. */
  async close(): Promise<void> {
    const loaded = [this.encoder, this.segmenter];
    this.encoder = this.segmenter = undefined;
    await Promise.all(loaded.map(async (p) => (await p?.catch(() => undefined))?.dispose()));
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const VIEW_PARAMS: ParamDoc[] = [
  { name: 'path', type: 'string', description: "instead of an upload: an image path relative to the server's --data-root" },
  { name: 'window', type: 'string', description: 'display window: file | auto | lung | mediastinum | bone | brain | abdomen | liver | C,W | pLOW,HIGH (default auto)' },
  { name: 'frame', type: 'integer', description: 'frame of a multi-frame DICOM (default: middle)' },
  { name: 'plane', type: 'string', description: 'NIfTI slice plane: axial | coronal | sagittal' },
  { name: 'slice', type: 'integer', description: 'NIfTI slice index in the plane (default: middle)' },
  { name: 'volume', type: 'integer', description: 'NIfTI volume of a 4D file (default 0)' },
];

function methodField(input: RequestInput): MapMethod | undefined {
  const m = input.fields.method;
  if (m === undefined || m === '') return undefined;
  if (!(MAP_METHODS as readonly string[]).includes(m)) throw optionError('method', `expected one of ${MAP_METHODS.join(', ')}`);
  return m as MapMethod;
}

/** The dense endpoints, for the route table. */
export function denseRoutes(models: WarmDenseModels): RouteSpec[] {
  return [
    {
      method: 'POST',
      path: 'map',
      summary: `text-to-image similarity map of one image (as \`medvlm map --json\`), with the view and the map as PNGs for overlays. ${RESEARCH_NOTICE}`,
      result: 'DenseMapResult',
      body: 'image',
      params: [
        { name: 'text', type: 'string', required: true, description: 'what to look for, e.g. "lesion"' },
        { name: 'method', type: 'string', description: `${MAP_METHODS.join(' | ')} (default: patch when the model has patch features, else windows)` },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input }) => {
        const text = requiredField(input, 'text');
        const method = methodField(input);
        const image = await prepareDenseInput(requireImage(input), viewField(input));
        const encoder = await models.dualEncoder();
        const map = await textMap(encoder, image.view, text, method ? { method } : {});
        const display = { width: map.width, height: map.height, data: minMaxNormalise(map.data) };
        return {
          file: input.name, text, model: encoder.info.id, method: map.method, width: map.width, height: map.height,
          imageSimilarity: map.imageScore, mapRange: mapRange(map.data),
          view: b64(await encodeRgbPng(image.view)), map: b64(await encodeMapPng(display)), researchNotice: RESEARCH_NOTICE,
        };
      },
    },
    {
      method: 'POST',
      path: 'segment',
      summary: `text-prompted segmentation of one image (as an entry of \`medvlm segment --json\`), with the view, the mask and the probability as PNGs. ${RESEARCH_NOTICE}`,
      result: 'DenseSegmentResult',
      body: 'image',
      params: [
        { name: 'text', type: 'string', required: true, description: 'what to segment, e.g. "polyp" (a target name of the segmenter\'s prompts, or any text)' },
        { name: 'threshold', type: 'number', description: "mask threshold in (0, 1) (default: the segmenter's)" },
        ...VIEW_PARAMS,
      ],
      inference: true,
      handler: async ({ input }) => {
        const text = requiredField(input, 'text');
        const threshold = numberField(input, 'threshold', 0, 1);
        const image = await prepareDenseInput(requireImage(input), viewField(input));
        const segmenter = await models.textSegmenter();
        const prompt = segmenter.prompts[text] ?? text;
        const [seg] = await segmentViews(segmenter, [image.view], prompt, threshold ?? segmenter.threshold);
        let pixels = 0;
        for (const v of seg.mask.data) pixels += v;
        return {
          file: input.name, text, prompt, model: segmenter.info.id, threshold: seg.threshold, width: seg.mask.width, height: seg.mask.height, maskPixels: pixels,
          view: b64(await encodeRgbPng(image.view)), mask: b64(await encodeMapPng(seg.mask)), probability: b64(await encodeMapPng(seg.probability)), researchNotice: RESEARCH_NOTICE,
        };
      },
    },
  ];
}
