/**
 * A model's image preprocessing (resize, centre crop, rescale, normalise → channels-first float32),
 * computed by medvlm from the model's `preprocessor_config.json` with the semantics of Hugging Face's
 * Python image processors (Pillow resampling, floor-centred crop with zero padding, float32
 * rescale and normalise). The same numbers come out in Node, in the browser and in the Python pipeline
 * a model was trained with; the engine's own processors resize with libvips or a canvas instead.
 */
import { MedvlmError } from '../core/errors.js';
import type { RGBImage } from '../io/types.js';
import { resampleFilterFor, resizeRGB, resizeRGBLibvipsBicubic, type ResampleFilter } from './resize.js';

/** Processor types whose image path is resize → crop → rescale → normalise (the ones medvlm computes itself). */
const SUPPORTED_TYPES = new Set([
  'CLIPImageProcessor',
  'CLIPFeatureExtractor',
  'ChineseCLIPImageProcessor',
  'SiglipImageProcessor',
  'ViTImageProcessor',
  'ViTFeatureExtractor',
  'BitImageProcessor',
]);

/** Types whose legacy integer `size` means the shortest edge (the others mean a square). */
const SHORTEST_EDGE_TYPES = new Set(['CLIPImageProcessor', 'CLIPFeatureExtractor', 'ChineseCLIPImageProcessor', 'BitImageProcessor']);

/** How the centre crop's offset is rounded: Hugging Face floors, torchvision rounds half to even. */
export type CropRounding = 'floor' | 'round-half-even';

/**
 * Whose resampling and size arithmetic: `pillow` (Hugging Face's Python processors, open_clip) or
 * `libvips-affine` (transformers.js in Node: sharp's affine bicubic, sizes rounded to 2 decimals then
 * floored, crop and pad offsets floored) for models trained on pixels made that way (medvlm-tiny).
 * A preprocessor config chooses it with the key `medvlm_resize`.
 */
export type Resampler = 'pillow' | 'libvips-affine';

/** The resolved steps of one preprocessing recipe. */
export interface PreprocessPlan {
  resampler: Resampler;
  resize?: { shortestEdge: number } | { height: number; width: number };
  filter: ResampleFilter;
  crop?: { height: number; width: number; rounding: CropRounding };
  rescale?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
}

/** A batch of preprocessed images, channels first: dims [n, 3, height, width]. */
export interface PixelBatch {
  data: Float32Array;
  dims: [number, number, number, number];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function triple(v: unknown): [number, number, number] | undefined {
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  return undefined;
}

function sizeOf(v: unknown, shortestEdgeWhenInt: boolean): PreprocessPlan['resize'] | null {
  if (typeof v === 'number') return shortestEdgeWhenInt ? { shortestEdge: v } : { height: v, width: v };
  if (!v || typeof v !== 'object') return null;
  const s = v as Record<string, unknown>;
  const keys = Object.keys(s).filter((k) => s[k] !== null && s[k] !== undefined);
  if (keys.length === 1 && num(s.shortest_edge)) return { shortestEdge: s.shortest_edge as number };
  if (keys.length === 2 && num(s.height) && num(s.width)) return { height: s.height as number, width: s.width as number };
  return null;
}

/**
 * The plan for a `preprocessor_config.json`, or undefined when it asks for something medvlm does not
 * compute itself (another processor type, padding, thumbnails, longest-edge sizes): the caller then
 * uses the engine's processor.
 */
export function preprocessPlan(config: Record<string, unknown>): PreprocessPlan | undefined {
  const type = String(config.image_processor_type ?? config.feature_extractor_type ?? '');
  if (!SUPPORTED_TYPES.has(type)) return undefined;
  if (config.do_pad === true || config.do_thumbnail === true || config.do_crop_margin === true || config.do_flip_channel_order === true) return undefined;
  const filter = resampleFilterFor(num(config.resample) ?? (type.startsWith('Siglip') || type.startsWith('ViT') ? 2 : 3));
  if (!filter) return undefined;
  const resampler: Resampler = config.medvlm_resize === 'libvips-affine' ? 'libvips-affine' : 'pillow';
  if (config.medvlm_resize !== undefined && config.medvlm_resize !== 'pillow' && resampler === 'pillow') return undefined;
  if (resampler === 'libvips-affine' && filter !== 'bicubic') return undefined;
  const plan: PreprocessPlan = { resampler, filter };
  if (config.do_resize !== false) {
    const resize = sizeOf(config.size, SHORTEST_EDGE_TYPES.has(type));
    if (!resize) return undefined;
    plan.resize = resize;
  }
  if (config.do_center_crop === true) {
    const crop = sizeOf(config.crop_size, false);
    if (!crop || !('height' in crop)) return undefined;
    const rounding = config.medvlm_crop_rounding === 'round-half-even' ? 'round-half-even' : 'floor';
    plan.crop = { ...crop, rounding };
  }
  if (config.do_rescale !== false) plan.rescale = num(config.rescale_factor) ?? 1 / 255;
  if (config.do_normalize !== false) {
    const mean = triple(config.image_mean);
    const std = triple(config.image_std);
    if (!mean || !std || std.some((s) => s === 0)) return undefined;
    plan.mean = mean;
    plan.std = std;
  }
  return plan;
}

/**
 * Output size of a shortest-edge resize: the short side becomes `edge`, the long side keeps the ratio,
 * truncated as Python's `int(edge * long / short)` (`pillow`), or as transformers.js computes it
 * (`libvips-affine`: scale by max(edge/w, edge/h), round to 2 decimals, floor).
 */
export function shortestEdgeSize(width: number, height: number, edge: number, resampler: Resampler = 'pillow'): { width: number; height: number } {
  if (resampler === 'libvips-affine') {
    const factor = Math.max(edge / width, edge / height);
    const size = (v: number): number => Math.max(1, Math.floor(Number((v * factor).toFixed(2))));
    return { width: size(width), height: size(height) };
  }
  if (width <= height) return { width: edge, height: Math.max(1, Math.trunc((edge * height) / width)) };
  return { width: Math.max(1, Math.trunc((edge * width) / height)), height: edge };
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function cropOffset(size: number, crop: number, rounding: CropRounding, resampler: Resampler): number {
  // transformers.js pads by floor(excess / 2) where Hugging Face's Python pads by ceil(excess / 2).
  if (resampler === 'libvips-affine' && size < crop) return -Math.floor((crop - size) / 2);
  return rounding === 'floor' ? Math.floor((size - crop) / 2) : roundHalfEven((size - crop) / 2);
}

/** Resize and crop one image as the plan says (8-bit RGB out; zero padding where the crop is larger). */
export function resizeAndCrop(img: RGBImage, plan: PreprocessPlan): RGBImage {
  let out = img;
  if (plan.resize) {
    const size = 'shortestEdge' in plan.resize ? shortestEdgeSize(img.width, img.height, plan.resize.shortestEdge, plan.resampler) : plan.resize;
    out = plan.resampler === 'libvips-affine' ? resizeRGBLibvipsBicubic(img, size.width, size.height) : resizeRGB(img, size.width, size.height, plan.filter);
  }
  if (plan.crop && (plan.crop.width !== out.width || plan.crop.height !== out.height)) {
    const { width: cw, height: ch, rounding } = plan.crop;
    const top = cropOffset(out.height, ch, rounding, plan.resampler);
    const left = cropOffset(out.width, cw, rounding, plan.resampler);
    const data = new Uint8ClampedArray(cw * ch * 3);
    for (let y = 0; y < ch; y++) {
      const sy = y + top;
      if (sy < 0 || sy >= out.height) continue;
      for (let x = 0; x < cw; x++) {
        const sx = x + left;
        if (sx < 0 || sx >= out.width) continue;
        const s = (sy * out.width + sx) * 3;
        const d = (y * cw + x) * 3;
        data[d] = out.data[s];
        data[d + 1] = out.data[s + 1];
        data[d + 2] = out.data[s + 2];
      }
    }
    out = { data, width: cw, height: ch };
  }
  return out;
}

/**
 * Preprocess a batch into channels-first float32 pixel values: `(v * factor - mean) / std`, rounded to
 * float32 after each operation as numpy does (`pillow`), or after the rescale and once at the end with
 * double-precision mean and std as transformers.js does (`libvips-affine`).
 *
 * @throws MedvlmError E_INTERNAL when the images do not come out the same size (no crop and no fixed size)
 */
export function preprocessImages(images: RGBImage[], plan: PreprocessPlan): PixelBatch {
  const views = images.map((img) => resizeAndCrop(img, plan));
  const width = views[0]?.width ?? 0;
  const height = views[0]?.height ?? 0;
  if (views.some((v) => v.width !== width || v.height !== height)) {
    throw new MedvlmError('E_INTERNAL', 'preprocessImages: images of different sizes after preprocessing cannot form one batch');
  }
  const f = Math.fround;
  const plane = width * height;
  const data = new Float32Array(views.length * 3 * plane);
  const scale = plan.rescale;
  const numpy = plan.resampler === 'pillow';
  const mean = plan.mean?.map((m) => (numpy ? f(m) : m));
  const std = plan.std?.map((m) => (numpy ? f(m) : m));
  views.forEach((v, n) => {
    for (let c = 0; c < 3; c++) {
      const base = (n * 3 + c) * plane;
      for (let p = 0; p < plane; p++) {
        let x = v.data[p * 3 + c];
        if (scale !== undefined) x = f(x * scale);
        if (mean && std) x = numpy ? f(f(x - mean[c]) / std[c]) : (x - mean[c]) / std[c];
        data[base + p] = x;
      }
    }
  });
  return { data, dims: [views.length, 3, height, width] };
}
