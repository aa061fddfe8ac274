/**
 * tokenizer.json written from vocab.txt: the ids transformers.js produces equal those of an
 * independent BERT WordPiece implementation (test/convert/wordpiece_ref.py) on 1,000 MedPix
 * captions plus hand-made hard cases (accents, CJK, control characters, punctuation, long words),
 * for uncased (accents stripped) and cased settings.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseVocab, wordPieceTokenizerConfig, wordPieceTokenizerJson } from '../../src/convert/tokenizer.js';
import { loadTokenizer } from '../../src/runtime/engine.js';
import { resolveRuntimeSettings } from '../../src/runtime/env.js';
import { MedvlmError } from '../../src/core/errors.js';
import { hasMedpix, here, tempDir } from './helpers.js';
import { medpixRows, writeVocab } from './fixtures.js';
import { readFileSync } from 'node:fs';

const PYTHON = '/usr/bin/python3';
const hasPython = spawnSync(PYTHON, ['-c', 'import unicodedata'], { stdio: 'ignore' }).status === 0;
const root = tempDir('tokenizer');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HARD = [
  'Café résumé naïve façade — Ångström, Øresund; São Paulo',
  'CT 肺 结节 and MRI',
  'tab\there\u0000nul\u200bzero-width \ufffd replacement',
  'T2/FLAIR hyperintensity (3.5 x 2.1 cm) at L4-L5; s/p C5–C6 ACDF!!',
  `${'a'.repeat(99)} ${'b'.repeat(101)} supercalifragilisticexpialidocious`,
  "patient's \"ground-glass\" opacities ... 50% [increase] {new} <unk> ~ ` ^ | @ #",
  'ÉCHOGRAPHIE DU FOIE: NÓDULO HIPOECOICO',
  '   leading and trailing   spaces   ',
  '',
];

async function idsFromTransformersJs(folder: string, texts: string[]): Promise<number[][]> {
  const tok = await loadTokenizer({ id: folder, source: { kind: 'folder', location: folder }, settings: resolveRuntimeSettings({}), dtype: 'fp32' });
  return texts.map((t) => {
    const out = tok([t], { padding: false, truncation: false }) as { input_ids: { data: ArrayLike<bigint> } };
    return Array.from(out.input_ids.data, Number);
  });
}

describe.skipIf(!hasPython || !hasMedpix)('WordPiece tokenizer.json from vocab.txt', () => {
  const cases = [
    { name: 'uncased (BiomedBERT: lowercase, accents stripped)', lowercase: true, stripAccents: null, args: ['--lower', '1', '--strip-accents', 'auto'] },
    { name: 'cased, accents kept', lowercase: false, stripAccents: false, args: ['--lower', '0', '--strip-accents', '0'] },
  ];
  it.each(cases)('$name: 1,000 MedPix captions + hard cases give the same ids', async (c) => {
    const dir = join(root, c.lowercase ? 'uncased' : 'cased');
    mkdirSync(dir, { recursive: true });
    const vocabPath = writeVocab(dir);
    const vocab = parseVocab(readFileSync(vocabPath, 'utf8'), vocabPath);
    const s = { lowercase: c.lowercase, stripAccents: c.stripAccents, contextLength: 256 };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(wordPieceTokenizerJson(vocab, s)));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(wordPieceTokenizerConfig(s)));
    const captions = medpixRows().slice(0, 1000).map((r) => r.caption);
    expect(captions).toHaveLength(1000);
    const texts = [...captions, ...HARD];
    writeFileSync(join(dir, 'texts.json'), JSON.stringify(texts));
    const expected = JSON.parse(execFileSync(PYTHON, [here('wordpiece_ref.py'), vocabPath, join(dir, 'texts.json'), ...c.args], { encoding: 'utf8', maxBuffer: 1 << 26 })) as number[][];
    const actual = await idsFromTransformersJs(dir, texts);
    const mismatches = texts.map((t, i) => ({ t, a: actual[i], e: expected[i] })).filter((m) => JSON.stringify(m.a) !== JSON.stringify(m.e));
    expect(mismatches.slice(0, 3)).toEqual([]);
    // The captions are long enough to matter: on average well over 20 tokens, with [UNK]s and subwords.
    const total = expected.slice(0, 1000).reduce((a, ids) => a + ids.length, 0);
    expect(total / 1000).toBeGreaterThan(20);
  });

  it('a vocabulary without [CLS] is refused by name', () => {
    expect(() => parseVocab('[PAD]\n[UNK]\n[SEP]\nhello\n', 'v.txt')).toThrow(MedvlmError);
    expect(() => parseVocab('[PAD]\n[UNK]\n[SEP]\nhello\n', 'v.txt')).toThrow(/\[CLS\]/);
  });
});
