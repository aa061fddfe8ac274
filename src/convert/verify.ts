/**
 * Checks run right after a conversion, recorded in conversion.json: the written folder loads
 * through medvlm's own loader, its embeddings are finite, and (when q8 was written) how close the
 * quantised towers stay to fp32 on a probe image and probe captions.
 */
import { ConvertError } from '../core/errors.js';
import type { DualEncoder, RGBImage } from '../models/capabilities.js';
import { probeImage } from '../models/logit-params.js';
import { loadDualEncoder } from '../models/registry.js';
import type { ModelDtype } from '../runtime/dtype.js';
import { cosine } from '../core/vectors.js';

/** Captions the self-check encodes. */
export const CHECK_TEXTS = ['chest x-ray showing pneumonia', 'axial ct of the abdomen', 'brain mri, t2 flair', 'normal'];


/** Result of the self-check. */
export interface SelfCheck {
  embed_dim: number;
  logit_scale: number;
  /** Lowest cosine between q8 and fp32 embeddings of the probe inputs (absent without q8). */
  q8_vs_fp32?: { image: number; text: number };
}

async function encodeAll(model: DualEncoder, image: RGBImage): Promise<{ image: Float32Array[]; text: Float32Array[] }> {
  return { image: await model.encodeImages([image]), text: await model.encodeTexts(CHECK_TEXTS) };
}

/** Load the converted folder with medvlm and check it; throws E_CHECKPOINT_MISMATCH on non-finite output. */
export async function selfCheck(folder: string, dtypes: ModelDtype[], threads?: number): Promise<SelfCheck> {
  const image = probeImage();
  const models: Partial<Record<ModelDtype, { image: Float32Array[]; text: Float32Array[] }>> = {};
  let embedDim = 0;
  let logitScale = 0;
  for (const dtype of dtypes) {
    const model = await loadDualEncoder(folder, { dtype, ...(threads ? { threads } : {}) });
    try {
      const out = await encodeAll(model, image);
      for (const v of [...out.image, ...out.text]) {
        if (!v.every(Number.isFinite)) throw new ConvertError('E_CHECKPOINT_MISMATCH', `${folder}: the converted ${dtype} model produces non-finite embeddings`, { file: folder });
      }
      models[dtype] = out;
      embedDim = model.info.embedDim;
      logitScale = model.logitScale;
    } finally {
      await model.dispose();
    }
  }
  const check: SelfCheck = { embed_dim: embedDim, logit_scale: logitScale };
  const fp32 = models.fp32;
  const q8 = models.q8;
  if (fp32 && q8) {
    check.q8_vs_fp32 = {
      image: Math.min(...q8.image.map((v, i) => cosine(v, fp32.image[i]))),
      text: Math.min(...q8.text.map((v, i) => cosine(v, fp32.text[i]))),
    };
  }
  return check;
}
