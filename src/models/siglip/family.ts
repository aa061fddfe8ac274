/** The SigLIP family: sigmoid scoring with scale and bias, texts padded to max length, no attention mask. */
import type { DualEncoderFamily } from '../family.js';

/** Google SigLIP exports (text_model/vision_model output `pooler_output`, not normalised). */
export const siglipFamily: DualEncoderFamily = {
  modelTypes: ['siglip'],
  name: 'siglip',
  scoring: 'sigmoid',
  hasLogitBias: true,
  textModel: 'SiglipTextModel',
  visionModel: 'SiglipVisionModel',
  jointModel: 'SiglipModel',
  textPadding: 'max_length',
  textOutputs: ['text_embeds', 'pooler_output'],
  imageOutputs: ['image_embeds', 'pooler_output'],
  defaultLogits() {
    // SiglipModel initialises logit_scale = log(10) and logit_bias = -10.
    return { scale: 10, bias: -10, why: 'SigLIP initial values (scale 10, bias -10)' };
  },
};
