/**
 * The page's "where" panel: the viewed image goes to the server's `/v1/map` or `/v1/segment` with a text
 * prompt; the answer's view (the image the model saw) is shown with the map (hot colour ramp) or the mask
 * (green) drawn over it on a canvas whose per-pixel alpha is opacity × value: the map's 0..255 value, or 255
 * inside the mask. The opacity slider redraws without asking the server again. A legend and the research
 * notice go with every overlay.
 */
import { hotColour } from '../../io/colour-ramp.js';

/** What the panel sends: the viewed image's bytes and name, and the view fields (window, frame/slice). */
export interface DenseSource {
  bytes: Uint8Array;
  name: string;
  fields: Record<string, string>;
}

interface MapAnswer {
  width: number;
  height: number;
  view: string;
  map: string;
  mapRange: [number, number];
  method: string;
  model: string;
  researchNotice: string;
}

interface SegmentAnswer {
  width: number;
  height: number;
  view: string;
  mask: string;
  threshold: number;
  maskPixels: number;
  model: string;
  prompt: string;
  researchNotice: string;
}

/** The current overlay: what kind, its 0..255 values at the view's size, and its legend. */
interface Layer {
  kind: 'map' | 'mask';
  width: number;
  height: number;
  values: Uint8ClampedArray;
  legend: string;
}

const el = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;


/**
 * The overlay's RGBA pixels: colour by kind, alpha = round(opacity × value) where value is the layer's
 * 0..255 value (the map's scaled similarity; 255 inside the mask, 0 outside).
 */
export function overlayPixels(layer: Layer, opacity: number): ImageData {
  const out = new ImageData(layer.width, layer.height);
  for (let i = 0; i < layer.values.length; i++) {
    const v = layer.values[i];
    const [r, g, b] = layer.kind === 'map' ? hotColour(v / 255) : [0, 255, 0];
    out.data[i * 4] = r;
    out.data[i * 4 + 1] = g;
    out.data[i * 4 + 2] = b;
    out.data[i * 4 + 3] = Math.round(opacity * v);
  }
  return out;
}

/** Grey values of a base64 PNG (no colour conversion), at its own size. */
async function greyOf(png: string): Promise<{ width: number; height: number; values: Uint8ClampedArray }> {
  const blob = new Blob([Uint8Array.from(atob(png), (c) => c.charCodeAt(0))], { type: 'image/png' });
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const c = document.createElement('canvas');
  c.width = bitmap.width;
  c.height = bitmap.height;
  const ctx = c.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
  const values = new Uint8ClampedArray(c.width * c.height);
  for (let i = 0; i < values.length; i++) values[i] = rgba[i * 4];
  return { width: c.width, height: c.height, values };
}

/** Wire the panel. `source` gives the viewed image (undefined when none is open); `post` sends a form to `/v1/PATH`. */
export function initDensePanel(
  source: () => Promise<DenseSource | undefined>,
  post: (path: string, fields: Record<string, string>, bytes: Uint8Array, name: string) => Promise<unknown>,
): void {
  const overlay = el<HTMLCanvasElement>('denseOverlay');
  const view = el<HTMLImageElement>('denseView');
  const opacity = el<HTMLInputElement>('denseOpacity');
  const status = el<HTMLDivElement>('denseStatus');
  let layer: Layer | undefined;

  const redraw = () => {
    el('denseOpacityValue').textContent = `${opacity.value} %`;
    if (!layer) return;
    overlay.width = layer.width;
    overlay.height = layer.height;
    overlay.getContext('2d')!.putImageData(overlayPixels(layer, Number(opacity.value) / 100), 0, 0);
    document.body.dataset.denseOpacity = opacity.value;
  };

  const legend = (kind: Layer['kind'], text: string) => {
    const box = el('denseLegend');
    box.textContent = '';
    const ramp = document.createElement('canvas');
    ramp.id = 'denseRamp';
    ramp.width = 128;
    ramp.height = 1;
    const img = new ImageData(128, 1);
    for (let x = 0; x < 128; x++) {
      const [r, g, b] = kind === 'map' ? hotColour(x / 127) : [0, 255, 0];
      img.data.set([r, g, b, kind === 'map' ? Math.round((x / 127) * 255) : 255], x * 4);
    }
    ramp.getContext('2d')!.putImageData(img, 0, 0);
    const label = document.createElement('span');
    label.textContent = text;
    box.append(ramp, label);
  };

  const run = async (kind: Layer['kind']) => {
    delete document.body.dataset.dense;
    const text = el<HTMLInputElement>('denseText').value.trim();
    try {
      if (!text) throw new Error('type what to look for first');
      const src = await source();
      if (!src) throw new Error('open an image first');
      status.textContent = kind === 'map' ? 'mapping on the server…' : 'segmenting on the server…';
      const threshold = el<HTMLInputElement>('denseThreshold').value.trim();
      const fields = { ...src.fields, text, ...(kind === 'mask' && threshold ? { threshold } : {}) };
      const answer = (await post(kind === 'map' ? 'map' : 'segment', fields, src.bytes, src.name)) as MapAnswer | SegmentAnswer;
      const grey = await greyOf('map' in answer ? answer.map : answer.mask);
      view.src = `data:image/png;base64,${answer.view}`;
      await view.decode();
      el('denseStage').hidden = false;
      if ('map' in answer) {
        const [lo, hi] = answer.mapRange;
        layer = { kind, ...grey, legend: `cosine similarity ${lo.toFixed(3)} (clear) … ${hi.toFixed(3)} (white), ${answer.method}, ${answer.model}` };
      } else {
        layer = { kind, ...grey, legend: `mask: "${answer.prompt}" ≥ ${answer.threshold} (${answer.maskPixels} pixels), ${answer.model}` };
      }
      legend(kind, layer.legend);
      el('denseNotice').textContent = answer.researchNotice;
      redraw();
      status.textContent = '';
      document.body.dataset.dense = kind;
    } catch (e) {
      status.textContent = (e as Error).message;
      document.body.dataset.dense = 'error';
    }
  };

  el('denseMap').addEventListener('click', () => void run('map'));
  el('denseSegment').addEventListener('click', () => void run('mask'));
  opacity.addEventListener('input', redraw);
  redraw();
}
