// Run medvlm-tiny through transformers.js itself: image preprocessing (AutoProcessor), tokenizer,
// CLIPVisionModelWithProjection / CLIPTextModelWithProjection (fp32 and q8), and dump everything to JSON.
// Usage: node training/tjs_reference.mjs <model dir> <images.json> <texts.json> <out.json> [--no-models]
import { readFileSync, writeFileSync } from 'node:fs';
import {
  AutoProcessor, AutoTokenizer, CLIPModel, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, RawImage, env,
} from '@huggingface/transformers';

const [dir, imagesPath, textsPath, outPath, flag] = process.argv.slice(2);
env.allowRemoteModels = false;
env.useFSCache = false;
const images = JSON.parse(readFileSync(imagesPath, 'utf8'));
const texts = JSON.parse(readFileSync(textsPath, 'utf8'));
const processor = await AutoProcessor.from_pretrained(dir);
const tokenizer = await AutoTokenizer.from_pretrained(dir);
const out = { pixel_values: {}, input_ids: {}, image_embeds: {}, text_embeds: {} };
const pixels = [];
for (const p of images) {
  const { pixel_values } = await processor(await RawImage.read(p));
  out.pixel_values[p] = { dims: pixel_values.dims, data: Array.from(pixel_values.data) };
  pixels.push(pixel_values);
}
const enc = tokenizer(texts, { padding: true, truncation: true });
texts.forEach((t, i) => {
  const n = enc.input_ids.dims[1];
  out.input_ids[t] = Array.from(enc.input_ids.data.slice(i * n, (i + 1) * n), Number);
});
if (flag !== '--no-models') {
  for (const dtype of ['fp32', 'q8']) {
    const vision = await CLIPVisionModelWithProjection.from_pretrained(dir, { dtype, device: 'cpu' });
    const text = await CLIPTextModelWithProjection.from_pretrained(dir, { dtype, device: 'cpu' });
    out.image_embeds[dtype] = {};
    for (let i = 0; i < images.length; i++) {
      const { image_embeds } = await vision({ pixel_values: pixels[i] });
      out.image_embeds[dtype][images[i]] = Array.from(image_embeds.data);
    }
    const { text_embeds } = await text(enc);
    out.text_embeds[dtype] = {};
    texts.forEach((t, i) => {
      const d = text_embeds.dims[1];
      out.text_embeds[dtype][t] = Array.from(text_embeds.data.slice(i * d, (i + 1) * d));
    });
  }
}
if (flag !== '--no-models') {
  // joint model: all images against all texts (different batch sizes on purpose)
  const { cat } = await import('@huggingface/transformers');
  const batch = cat(pixels, 0);
  out.joint = {};
  for (const dtype of ['fp32', 'q8']) {
    const model = await CLIPModel.from_pretrained(dir, { dtype, device: 'cpu' });
    const res = await model({ ...enc, pixel_values: batch });
    out.joint[dtype] = { dims: res.logits_per_image.dims, data: Array.from(res.logits_per_image.data) };
  }
}
writeFileSync(outPath, JSON.stringify(out));
