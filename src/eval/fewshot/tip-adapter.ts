/**
 * Tip-Adapter (Zhang et al., ECCV 2022, "Tip-Adapter: Training-free Adaption of CLIP for Few-shot
 * Classification"), training-free form:
 *   logits = s · f Wᵀ + α · exp(-β (1 - f Fᵀ)) L
 * with f the test image embedding, W the class text embeddings (zero-shot classifier), s the model's
 * logit scale (100 for CLIP, as in the paper), F the few-shot image embeddings (cache keys) and L
 * their one-hot labels (cache values). All embeddings are L2-normalised. Probabilities are the softmax.
 */

/** The paper's defaults when they are not tuned on a validation split. */
export const TIP_DEFAULTS = { alpha: 1, beta: 5.5 } as const;

/** A Tip-Adapter cache. */
export interface TipAdapter {
  keys: ArrayLike<number>[];
  /** Class index of each key. */
  values: number[];
  classes: number;
  alpha: number;
  beta: number;
}

/** Build the cache from few-shot embeddings and their labels. */
export function buildTipAdapter(keys: ArrayLike<number>[], labels: number[], classes: number, opts: { alpha?: number; beta?: number } = {}): TipAdapter {
  return { keys, values: labels, classes, alpha: opts.alpha ?? TIP_DEFAULTS.alpha, beta: opts.beta ?? TIP_DEFAULTS.beta };
}

/** Cache logits α · exp(-β (1 - f·F)) L of one embedding (length = classes). */
export function tipCacheLogits(tip: TipAdapter, f: ArrayLike<number>): number[] {
  const out = new Array<number>(tip.classes).fill(0);
  tip.keys.forEach((key, i) => {
    let cos = 0;
    for (let j = 0; j < key.length; j++) cos += key[j] * f[j];
    out[tip.values[i]] += tip.alpha * Math.exp(-tip.beta * (1 - cos));
  });
  return out;
}

/**
 * Tip-Adapter probabilities: softmax(zeroShotLogits + cache logits). `zeroShotLogits` are the model's
 * scaled similarities to the class text embeddings (s · f Wᵀ, plus any constant bias).
 */
export function tipAdapterProbs(tip: TipAdapter, f: ArrayLike<number>, zeroShotLogits: number[]): number[] {
  const cache = tipCacheLogits(tip, f);
  const z = zeroShotLogits.map((v, c) => v + cache[c]);
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
