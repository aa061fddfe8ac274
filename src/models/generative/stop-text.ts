/**
 * Stop strings and streamed text for locally decoded generations: the text is re-decoded from all
 * new token ids at each step (so merges of sub-word pieces come out right), cut at the first stop
 * string, and a tail that could still become a stop string is held back until it cannot.
 */

/** Index of the first stop string in `text`, or -1. */
export function firstStopIndex(text: string, stop: readonly string[]): number {
  let best = -1;
  for (const s of stop) {
    if (!s) continue;
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
function heldBackLength(text: string, stop: readonly string[]): number {
  let held = 0;
  for (const s of stop) {
    for (let n = Math.min(s.length - 1, text.length); n > held; n--) {
      if (text.endsWith(s.slice(0, n))) {
        held = n;
        break;
      }
    }
  }
  return held;
}

/** Emits only new, settled text to `onText` as the decoded text grows. */
export class TextStreamer {
  private emitted = '';

  constructor(
    private readonly stop: readonly string[],
    private readonly onText?: (piece: string) => void,
  ) {}

  /** Feed the full decoded text so far; returns true when a stop string appeared. */
  update(fullText: string): boolean {
    const at = firstStopIndex(fullText, this.stop);
    let visible = at >= 0 ? fullText.slice(0, at) : fullText.slice(0, fullText.length - heldBackLength(fullText, this.stop));
    // An incomplete multi-byte character decodes as U+FFFD: wait for the next token.
    if (at < 0) visible = visible.replace(/\uFFFD+$/, '');
    this.push(visible);
    return at >= 0;
  }

  /** The final text (cut at a stop string); emits whatever is left. */
  finish(fullText: string): { text: string; stopped: boolean } {
    const at = firstStopIndex(fullText, this.stop);
    const text = at >= 0 ? fullText.slice(0, at) : fullText;
    this.push(text);
    return { text, stopped: at >= 0 };
  }

  private push(visible: string): void {
    // Re-decoding can rewrite earlier text (tokenizer clean-up); then only the final text counts.
    if (visible.length > this.emitted.length && visible.startsWith(this.emitted)) {
      this.onText?.(visible.slice(this.emitted.length));
      this.emitted = visible;
    }
  }
}
