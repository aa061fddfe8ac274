/** The CLIP family: softmax scoring, logit scale only, text padded to the batch's longest. */
import type { DualEncoderFamily } from '../family.js';

/** OpenAI CLIP and CLIP-layout exports (including BiomedCLIP-style models exported to this layout). */
export const clipFamily: DualEncoderFamily = {
  modelTypes: ['clip'],
  name: 'clip',
  scoring: 'softmax',
  hasLogitBias: false,
  textModel: 'CLIPTextModelWithProjection',
  visionModel: 'CLIPVisionModelWithProjection',
  jointModel: 'CLIPModel',
  textPadding: true,
  textOutputs: ['text_embeds'],
  imageOutputs: ['image_embeds'],
  defaultLogits(config) {
    const init = typeof config.logit_scale_init_value === 'number' ? config.logit_scale_init_value : 2.6592;
    return { scale: Math.exp(init), bias: 0, why: `exp(logit_scale_init_value=${init}) from config.json` };
  },
};
