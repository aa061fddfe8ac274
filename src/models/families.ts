/**
 * The dual-encoder families: config.json `model_type` → family (platform-free). medvlm registers CLIP
 * and SigLIP; `registerDualEncoderFamily` adds another without touching the runtime.
 */
import { ModelLoadError } from '../core/errors.js';
import { clipFamily } from './clip/family.js';
import type { DualEncoderFamily } from './family.js';
import { siglipFamily } from './siglip/family.js';

const families = new Map<string, DualEncoderFamily>();

/** Register a family under each of its `model_type` values (later registrations win). */
export function registerDualEncoderFamily(family: DualEncoderFamily): void {
  for (const t of family.modelTypes) families.set(t, family);
}

registerDualEncoderFamily(clipFamily);
registerDualEncoderFamily(siglipFamily);

/** The `model_type` values that load as dual encoders, sorted. */
export function supportedModelTypes(): string[] {
  return [...families.keys()].sort();
}

/** The family for a config.json, or E_MODEL_INVALID listing the supported model types. */
export function familyForConfig(config: Record<string, unknown>, where: string): DualEncoderFamily {
  const type = config.model_type;
  const family = typeof type === 'string' ? families.get(type) : undefined;
  if (!family) {
    throw new ModelLoadError(
      'E_MODEL_INVALID',
      `${where}: config.json model_type ${JSON.stringify(type ?? null)} is not a supported dual encoder (supported: ${supportedModelTypes().join(', ')})`,
      { file: where },
    );
  }
  return family;
}
