// Preprocess images exactly as transformers.js' CLIPImageProcessor does for medvlm-tiny-seg (resize to S x S,
// no centre crop, RGB), without rescale/normalise, and write uint8 CHW pixels to a binary file.
// Usage: node training/seg/preprocess.mjs <folder with preprocessor_config.json> <list.json> <out.bin>
import { readFileSync, writeFileSync } from 'node:fs';
import { AutoImageProcessor, RawImage, env } from '@huggingface/transformers';

const [dir, listPath, outPath] = process.argv.slice(2);
env.allowRemoteModels = false;
env.useFSCache = false;
const processor = await AutoImageProcessor.from_pretrained(dir);
processor.do_rescale = false;
const paths = JSON.parse(readFileSync(listPath, 'utf8'));
const cfg = JSON.parse(readFileSync(`${dir}/preprocessor_config.json`, 'utf8'));
const n = 3 * cfg.size.height * cfg.size.width;
const out = new Uint8Array(paths.length * n);
for (let i = 0; i < paths.length; i++) {
  const image = await RawImage.read(paths[i]);
  const { pixel_values } = await processor.preprocess(image, { do_normalize: false });
  const data = pixel_values.data;
  if (data.length !== n) throw new Error(`${paths[i]}: unexpected size ${pixel_values.dims}`);
  for (let j = 0; j < n; j++) {
    const v = data[j];
    if (v !== Math.round(v) || v < 0 || v > 255) throw new Error(`${paths[i]}: non-uint8 value ${v}`);
    out[i * n + j] = v;
  }
  if (i % 500 === 0) process.stderr.write(`preprocess ${i}/${paths.length}\n`);
}
writeFileSync(outPath, out);
