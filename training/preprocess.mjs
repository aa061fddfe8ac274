// Preprocess images exactly as transformers.js' CLIPImageProcessor does (resize + centre crop + RGB),
// without rescale/normalise, and write uint8 CHW pixels to a binary file.
// Usage: node training/preprocess.mjs <model dir> <list.json> <out.bin> [--float out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { AutoImageProcessor, RawImage, env } from '@huggingface/transformers';

const [dir, listPath, outPath] = process.argv.slice(2);
env.allowRemoteModels = false;
env.useFSCache = false;
const processor = await AutoImageProcessor.from_pretrained(dir);
processor.do_rescale = false;
const paths = JSON.parse(readFileSync(listPath, 'utf8'));
const out = new Uint8Array(paths.length * 3 * 96 * 96);
for (let i = 0; i < paths.length; i++) {
  const image = await RawImage.read(paths[i]);
  const { pixel_values } = await processor.preprocess(image, { do_normalize: false });
  const data = pixel_values.data;
  if (data.length !== 3 * 96 * 96) throw new Error(`${paths[i]}: unexpected size ${pixel_values.dims}`);
  for (let j = 0; j < data.length; j++) {
    const v = data[j];
    if (v !== Math.round(v) || v < 0 || v > 255) throw new Error(`${paths[i]}: non-uint8 value ${v}`);
    out[i * data.length + j] = v;
  }
  if (i % 1000 === 0) process.stderr.write(`preprocess ${i}/${paths.length}\n`);
}
writeFileSync(outPath, out);
