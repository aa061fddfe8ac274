/** The tokeniser every text metric uses. */

const PUNCT = /[\p{P}\p{S}]/u;
const DIGIT = /[0-9]/;

/**
 * Lowercase, put spaces around every punctuation or symbol character (Unicode categories P and S)
 * except a `.` or `,` between two ASCII digits ("2.5", "1,000" stay one token), then split on
 * whitespace. `"No pleural effusion."` → `["no", "pleural", "effusion", "."]`.
 */
export function tokenize(s: string): string[] {
  const chars = Array.from(s.toLowerCase());
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    const numeric =
      (c === '.' || c === ',') && i > 0 && i < chars.length - 1 && DIGIT.test(chars[i - 1]) && DIGIT.test(chars[i + 1]);
    out += PUNCT.test(c) && !numeric ? ` ${c} ` : c;
  }
  return out.split(/\s+/u).filter((t) => t.length > 0);
}
