/**
 * The vision input of a model: medvlm's own preprocessing (src/transforms/preprocess.ts) where the
 * model's preprocessor_config.json allows it, else the engine's image processor. Shared by every
 * model that feeds `pixel_values` (dual encoders, text-prompted segmenters).
 */
import { inputError } from '../core/errors.js';
import { float32Tensor, rgbToEngineImage, type EngineProcessor } from '../runtime/engine.js';
import { preprocessImages, preprocessPlan, type PreprocessPlan } from '../transforms/preprocess.js';
import type { RGBImage } from './capabilities.js';

/** Images → the `pixel_values` engine tensor, and who computed it. */
export class PixelValues {
  private readonly plan: PreprocessPlan | undefined;

  constructor(private readonly processor: EngineProcessor) {
    this.plan = preprocessPlan(processor.config);
  }

  /** `medvlm` (Pillow- or libvips-exact, the same in Node and the browser) or `engine` (transformers.js' processor). */
  get source(): 'medvlm' | 'engine' {
    return this.plan ? 'medvlm' : 'engine';
  }

  /** A note for `info.notes` when the engine preprocesses, else undefined. */
  get note(): string | undefined {
    if (this.plan) return undefined;
    return `preprocessor_config.json (${String(this.processor.config.image_processor_type ?? 'no type')}) is preprocessed by the engine, not medvlm: resizing may differ from Pillow's`;
  }

  /**
   * The batch as one `pixel_values` tensor (channels first, float32). `first` numbers the images in errors.
   * @throws InputError E_RASTER_INVALID when an image's buffer does not hold width × height RGB bytes
   */
  async of(images: RGBImage[], first = 0): Promise<unknown> {
    images.forEach((img, k) => {
      const expected = img.width * img.height * 3;
      if (!(img.width > 0 && img.height > 0) || img.data.length !== expected) {
        throw inputError('E_RASTER_INVALID', `image #${first + k}`, `expected ${img.width}x${img.height}x3 = ${expected} RGB bytes, got ${img.data.length}`);
      }
    });
    if (this.plan) {
      const batch = preprocessImages(images, this.plan);
      return float32Tensor(batch.data, batch.dims);
    }
    const { pixel_values } = await this.processor(images.map((img) => rgbToEngineImage(img.data, img.width, img.height)));
    return pixel_values;
  }
}
