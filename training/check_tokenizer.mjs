// Compare transformers.js tokenisation with the Python encoder's ids.
// Usage: node training/check_tokenizer.mjs <model dir> <cases.json>   (cases: [{text, ids}])
import { readFileSync } from 'node:fs';
import { AutoTokenizer, env } from '@huggingface/transformers';

const [dir, casesPath] = process.argv.slice(2);
env.allowRemoteModels = false;
env.useFSCache = false;
const tokenizer = await AutoTokenizer.from_pretrained(dir);
const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
let bad = 0;
for (const { text, ids } of cases) {
  const enc = tokenizer(text, { truncation: true });
  const got = Array.from(enc.input_ids.data, Number);
  if (JSON.stringify(got) !== JSON.stringify(ids)) {
    bad++;
    if (bad <= 10) console.log('MISMATCH', JSON.stringify(text), '\n js', JSON.stringify(got), '\n py', JSON.stringify(ids));
  }
}
// batch padding check
const texts = cases.slice(0, 8).map((c) => c.text);
const b = tokenizer(texts, { padding: true, truncation: true });
const maxLen = Math.max(...cases.slice(0, 8).map((c) => c.ids.length));
let padBad = 0;
for (let i = 0; i < texts.length; i++) {
  const row = Array.from(b.input_ids.data.slice(i * maxLen, (i + 1) * maxLen), Number);
  const mask = Array.from(b.attention_mask.data.slice(i * maxLen, (i + 1) * maxLen), Number);
  const want = [...cases[i].ids, ...Array(maxLen - cases[i].ids.length).fill(0)];
  const wantMask = [...cases[i].ids.map(() => 1), ...Array(maxLen - cases[i].ids.length).fill(0)];
  if (JSON.stringify(row) !== JSON.stringify(want) || JSON.stringify(mask) !== JSON.stringify(wantMask)) padBad++;
}
console.log(JSON.stringify({ cases: cases.length, mismatches: bad, batch_padding_mismatches: padBad, dims: b.input_ids.dims }));
process.exit(bad || padBad ? 1 : 0);
