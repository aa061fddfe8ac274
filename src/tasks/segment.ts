/**
 * Text-prompted segmentation, one interface over the routes:
 * - a TextPromptedSegmenter (medvlm-tiny-seg, CLIPSeg): its probability map, resized (bilinear) from the
 *   model's output grid to the view, thresholded at the model's threshold;
 * - a dual encoder with dense maps: the text map through a PromptableSegmenter is the MedCLIP-SAM recipe
 *   (`promptFromMap` gives the box and points); without a promptable segmenter the min-max scaled map itself
 *   is the probability (weak; results say which route ran).
 */
import type { DualEncoder, ProbabilityMap, PromptableSegmenter, RGBImage, SegmenterPrompt, TextPromptedSegmenter } from '../models/capabilities.js';
import { minMaxNormalise, resizeMap } from '../transforms/dense-resample.js';
import { denseMaps, type DenseMapOptions, type MapMethod } from './dense-map.js';

/** A segmentation of one view: probability (0..1) and binary mask (0/1), both at the view's size. */
export interface ViewSegmentation {
  probability: ProbabilityMap;
  mask: ProbabilityMap;
  threshold: number;
}

/** Binary 0/1 map of `p >= threshold`. */
export function thresholdMap(p: ProbabilityMap, threshold: number): ProbabilityMap {
  return { width: p.width, height: p.height, data: p.data.map((v) => (v >= threshold ? 1 : 0)) };
}

/** Segment views with a text-prompted segmenter: one prompt for all views. */
export async function segmentViews(segmenter: TextPromptedSegmenter, views: RGBImage[], text: string, threshold = segmenter.threshold): Promise<ViewSegmentation[]> {
  const maps = await segmenter.segment(views, views.map(() => text));
  return maps.map((m, i) => {
    const v = views[i];
    const probability = { width: v.width, height: v.height, data: resizeMap(m.data, m.width, m.height, v.width, v.height) };
    return { probability, mask: thresholdMap(probability, threshold), threshold };
  });
}

/**
 * Box and points for a promptable segmenter from a 0..1 saliency map (MedCLIP-SAM): the arg-max as a
 * foreground point, the arg-min as a background point, and the box around the connected region
 * (4-neighbours) of pixels ≥ `level` that holds the arg-max, so that a second salient blob elsewhere does
 * not stretch the box over the whole image. No box when the arg-max is below `level` (a flat map).
 */
export function promptFromMap(map: ProbabilityMap, level = 0.5): SegmenterPrompt {
  const { width: w, height: h, data } = map;
  let hi = 0;
  let lo = 0;
  for (let i = 1; i < data.length; i++) {
    if (data[i] > data[hi]) hi = i;
    if (data[i] < data[lo]) lo = i;
  }
  const points = [
    { x: hi % w, y: Math.floor(hi / w), label: 1 as const },
    { x: lo % w, y: Math.floor(lo / w), label: 0 as const },
  ];
  if (!(data[hi] >= level)) return { points };
  const seen = new Uint8Array(w * h);
  const stack = [hi];
  seen[hi] = 1;
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  while (stack.length) {
    const i = stack.pop()!;
    const x = i % w;
    const y = (i - x) / w;
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
    for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
      if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
      const n = ny * w + nx;
      if (!seen[n] && data[n] >= level) {
        seen[n] = 1;
        stack.push(n);
      }
    }
  }
  return { box: [x0, y0, x1 + 1, y1 + 1], points };
}

/** A segmentation by a promptable segmenter: the prompt given, the parts it used, its score and notes. */
export interface PromptedViewSegmentation extends ViewSegmentation {
  prompt: SegmenterPrompt;
  used: SegmenterPrompt;
  /** The segmenter's predicted IoU of the mask, where it has one. */
  score?: number;
  notes: string[];
}

/** Segment one view with a promptable segmenter from a saliency map. */
export async function segmentFromMap(segmenter: PromptableSegmenter, view: RGBImage, map01: ProbabilityMap, threshold = 0.5): Promise<PromptedViewSegmentation> {
  const prompt = promptFromMap(map01);
  const { used, score, notes, ...probability } = await segmenter.segment(view, prompt);
  return { probability, mask: thresholdMap(probability, threshold), threshold, prompt, used, ...(score !== undefined ? { score } : {}), notes };
}

/**
 * The MedCLIP-SAM route for one view: the dual encoder's text map (`text` is the L2-normalised text
 * embedding), min-max scaled to 0..1, gives the box and points (`promptFromMap`) for the promptable segmenter.
 */
export async function segmentViaMap(
  encoder: DualEncoder,
  segmenter: PromptableSegmenter,
  view: RGBImage,
  text: Float32Array,
  opts: DenseMapOptions & { threshold?: number } = {},
): Promise<PromptedViewSegmentation & { method: MapMethod }> {
  const [map] = await denseMaps(encoder, [view], (e) => e.reduce((a, v, i) => a + v * text[i], 0), opts.method ? { method: opts.method } : {});
  const map01 = { width: map.width, height: map.height, data: minMaxNormalise(map.data) };
  return { ...(await segmentFromMap(segmenter, view, map01, opts.threshold ?? 0.5)), method: map.method };
}
