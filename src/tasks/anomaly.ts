/**
 * Anomaly detection with maps from a dual encoder (WinCLIP / WinCLIP+ ideas, Jeong et al., CVPR 2023):
 * - zero-shot: each patch and window embedding is scored P(abnormal) = softmax(logitScale · [cos(e, n̄),
 *   cos(e, ā)])[1], with n̄ / ā the normalised means of a normal and an abnormal prompt ensemble;
 * - few-shot (k normal references): a memory bank of the references' patch and window embeddings; a
 *   patch or window scores 1 − max cosine to the bank entries of its own kind;
 * - both (references given): the mean of the two maps.
 * Image score: the mean of the whole-image score and the map's maximum. Higher = more anomalous.
 * A volume scored slice by slice ({@link AnomalyDetector.scoreVolume}) scores as its most anomalous slice.
 */
import { OptionError } from '../core/errors.js';
import { dot, meanNormalised } from '../core/vectors.js';
import type { Affine } from '../io/nifti-affine.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import type { ViewOptions } from '../transforms/index.js';
import { mapEverySlice, type DenseInput, type VolumeSlices } from './dense-input.js';
import { denseEmbeddings, denseMaps, resolveMethod, type DenseMap, type DenseMapOptions, type EmbeddingScorer } from './dense-map.js';

/** Prompt ensembles; `{object}` is replaced by the object name (e.g. "brain MRI"). */
export interface AnomalyPrompts {
  normal: string[];
  abnormal: string[];
}

/** Default ensembles (medical wording of WinCLIP's compositional prompts). */
export const DEFAULT_ANOMALY_PROMPTS: AnomalyPrompts = {
  normal: ['a normal {object}', 'a healthy {object}', 'an unremarkable {object}', 'a {object} without abnormality', 'a {object} of normal tissue'],
  abnormal: ['an abnormal {object}', 'a {object} with a lesion', 'a {object} with a tumour', 'a {object} with a mass', 'a {object} showing disease'],
};

/** Options of an anomaly detector. */
export interface AnomalyOptions extends DenseMapOptions {
  /** What the images show, for the prompts (default "medical image"). */
  object?: string;
  prompts?: AnomalyPrompts;
  /** Normal reference views (few-shot); none = zero-shot only. */
  normals?: RGBImage[];
  /** Zero-shot weight when references are given (default 0.5; 0 = few-shot only). */
  zeroShotWeight?: number;
}

/** One scored view. */
export interface AnomalyOutput {
  /** Image-level score, higher = more anomalous. */
  score: number;
  /** Pixel map at the view's size (same units as the scores). */
  map: DenseMap;
}

/** A volume scored slice by slice, its map in the input's voxel grid. */
export interface VolumeAnomaly {
  /** The highest slice score: a volume is as anomalous as its most anomalous slice. */
  score: number;
  /** Score of each slice along the view's normal. */
  sliceScores: number[];
  dims: [number, number, number];
  affine: Affine;
  /** The anomaly map per voxel (the scores' units). */
  data: Float32Array;
  /** The one window every slice was viewed with. */
  window: VolumeSlices['window'];
  /** The highest-scoring slice: for the PNGs people look at. */
  shown: { index: number; input: DenseInput; output: AnomalyOutput };
}

/** What a detector does, for results. */
export interface AnomalyMode {
  mode: 'zero-shot' | 'few-shot' | 'zero+few-shot';
  k: number;
  method: DenseMap['method'];
  object: string;
}

/** A detector bound to a model, prompts and (optionally) a memory bank. */
export class AnomalyDetector {
  private constructor(
    private readonly encoder: DualEncoder,
    private readonly opts: AnomalyOptions,
    private readonly zeroShot: EmbeddingScorer | undefined,
    private readonly fewShot: EmbeddingScorer | undefined,
    readonly mode: AnomalyMode,
  ) {}

  /** Encode the prompts and, when given, the references' memory bank. */
  static async create(encoder: DualEncoder, opts: AnomalyOptions = {}): Promise<AnomalyDetector> {
    const object = opts.object ?? 'medical image';
    const prompts = opts.prompts ?? DEFAULT_ANOMALY_PROMPTS;
    const w = opts.zeroShotWeight ?? 0.5;
    if (!(w >= 0 && w <= 1)) throw new OptionError('E_BAD_OPTION', `zeroShotWeight ${w}: expected 0..1`, { option: 'zeroShotWeight' });
    const normals = opts.normals ?? [];
    let zeroShot: EmbeddingScorer | undefined;
    if (normals.length === 0 || w > 0) {
      const fill = (t: string): string => t.replaceAll('{object}', object);
      const n = meanNormalised(await encoder.encodeTexts(prompts.normal.map(fill)));
      const a = meanNormalised(await encoder.encodeTexts(prompts.abnormal.map(fill)));
      const s = encoder.logitScale;
      zeroShot = (e) => 1 / (1 + Math.exp(s * (dot(e, n) - dot(e, a))));
    }
    let fewShot: EmbeddingScorer | undefined;
    if (normals.length) {
      const bank = await denseEmbeddings(encoder, normals, opts);
      const patches = bank.flatMap((b) => b.grid?.patches ?? []);
      const windows = bank.flatMap((b) => b.pooled);
      fewShot = (e, src) => {
        let best = -1;
        for (const m of src.kind === 'patch' ? patches : windows) {
          const c = dot(e, m);
          if (c > best) best = c;
        }
        return 1 - best;
      };
    }
    const mode: AnomalyMode = {
      mode: fewShot && zeroShot ? 'zero+few-shot' : fewShot ? 'few-shot' : 'zero-shot',
      k: normals.length,
      method: resolveMethod(encoder, opts.method),
      object,
    };
    return new AnomalyDetector(encoder, opts, zeroShot, fewShot, mode);
  }

  /** Score views; maps have each view's size. */
  async score(views: RGBImage[]): Promise<AnomalyOutput[]> {
    const w = this.fewShot && this.zeroShot ? (this.opts.zeroShotWeight ?? 0.5) : this.zeroShot ? 1 : 0;
    const zs = this.zeroShot;
    const fs = this.fewShot;
    const scorer: EmbeddingScorer = (e, src) => (zs && w > 0 ? w * zs(e, src) : 0) + (fs && w < 1 ? (1 - w) * fs(e, src) : 0);
    const maps = await denseMaps(this.encoder, views, scorer, this.opts);
    return maps.map((map) => {
      let max = -Infinity;
      for (const v of map.data) if (v > max) max = v;
      return { score: (map.imageScore + max) / 2, map };
    });
  }

  /**
   * Score every slice of `input` along its view's normal, each viewed with one window, `batch` slices per
   * call. E_BAD_OPTION for a multi-frame image without a voxel grid (a DICOM: convert the series to NIfTI).
   */
  async scoreVolume(input: DenseInput, view: ViewOptions, opts: { batch?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<VolumeAnomaly> {
    const sliceScores: number[] = [];
    let shown: VolumeAnomaly['shown'] | undefined;
    const vol = await mapEverySlice(input, view, (views) => this.score(views), (o) => o.map.data, (index, slice, output) => {
      sliceScores.push(output.score);
      if (!shown || output.score > shown.output.score) shown = { index, input: slice, output };
    }, opts);
    const s = shown!;
    return { score: s.output.score, sliceScores, dims: vol.dims, affine: vol.affine, data: vol.data, window: vol.slices.window, shown: s };
  }
}
