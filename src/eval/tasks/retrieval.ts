/**
 * Image↔text retrieval metrics. Identical captions are merged into one gallery text; a text is
 * relevant to every image that carries it (and an image to every one of its captions).
 */
import { retrievalMetrics } from '../../metrics/index.js';
import { dot } from '../../core/vectors.js';
import type { RetrievalMetricsResult } from '../result.js';

/** The unique captions and, for each item, the indices of its captions among them. */
export function captionGallery(captions: string[][]): { texts: string[]; ofItem: number[][] } {
  const index = new Map<string, number>();
  const texts: string[] = [];
  const ofItem = captions.map((cs) =>
    [...new Set(cs)].map((c) => {
      let i = index.get(c);
      if (i === undefined) {
        i = texts.length;
        index.set(c, i);
        texts.push(c);
      }
      return i;
    }),
  );
  return { texts, ofItem };
}

/** Both directions of retrieval from normalised image and text embeddings. */
export function retrievalResult(images: Float32Array[], texts: Float32Array[], ofItem: number[][], ks = [1, 5, 10]): RetrievalMetricsResult {
  const simIT = images.map((img) => Float64Array.from(texts, (t) => dot(img, t)));
  const simTI = texts.map((_, t) => Float64Array.from(simIT, (row) => row[t]));
  const imagesOfText: number[][] = texts.map(() => []);
  ofItem.forEach((ts, i) => ts.forEach((t) => imagesOfText[t].push(i)));
  const i2t = retrievalMetrics(simIT, ofItem, ks);
  const t2i = retrievalMetrics(simTI, imagesOfText, ks);
  return {
    kind: 'retrieval',
    n: images.length,
    ks,
    uniqueCaptions: texts.length,
    imageToText: { ...i2t, nQueries: images.length, nGallery: texts.length },
    textToImage: { ...t2i, nQueries: texts.length, nGallery: images.length },
  };
}
