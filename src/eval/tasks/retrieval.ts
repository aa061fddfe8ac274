/**
 * Image↔text retrieval metrics. Identical captions are merged into one gallery text; a text is
 * relevant to every image that carries it (and an image to every one of its captions).
 */
import { createHash } from 'node:crypto';
import { ranksOf, retrievalMetrics } from '../../metrics/index.js';
import { dot } from '../../core/vectors.js';
import type { RetrievalItems, RetrievalMetricsResult } from '../result.js';

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

/** The id of a caption in a retrieval cell's per-query outputs: sha256 of the text, first 16 hex digits. */
export function captionId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Both directions of retrieval from normalised image and text embeddings. With `perQuery` (the image
 * item ids and the gallery texts), also each query's best relevant rank: the cell's per-item outputs.
 */
export function retrievalResult(
  images: Float32Array[],
  texts: Float32Array[],
  ofItem: number[][],
  ks = [1, 5, 10],
  perQuery?: { imageIds: string[]; texts: string[]; out: RetrievalItems },
): RetrievalMetricsResult {
  const simIT = images.map((img) => Float64Array.from(texts, (t) => dot(img, t)));
  const simTI = texts.map((_, t) => Float64Array.from(simIT, (row) => row[t]));
  const imagesOfText: number[][] = texts.map(() => []);
  ofItem.forEach((ts, i) => ts.forEach((t) => imagesOfText[t].push(i)));
  const i2t = retrievalMetrics(simIT, ofItem, ks);
  const t2i = retrievalMetrics(simTI, imagesOfText, ks);
  if (perQuery) {
    const best = (row: ArrayLike<number>, rel: number[]) => (rel.length ? Math.min(...ranksOf(row, [...new Set(rel)])) : 0);
    perQuery.out.imageToText = simIT.map((row, i) => ({ id: perQuery.imageIds[i], rank: best(row, ofItem[i]) }));
    perQuery.out.textToImage = simTI.map((row, t) => ({ id: captionId(perQuery.texts[t]), rank: best(row, imagesOfText[t]) }));
  }
  return {
    kind: 'retrieval',
    n: images.length,
    ks,
    uniqueCaptions: texts.length,
    imageToText: { ...i2t, nQueries: images.length, nGallery: texts.length },
    textToImage: { ...t2i, nQueries: texts.length, nGallery: images.length },
  };
}
