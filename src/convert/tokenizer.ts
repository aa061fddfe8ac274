/**
 * Tokenizer files for a converted folder: a BERT WordPiece `tokenizer.json` built from `vocab.txt`
 * (BertNormalizer with the source's lowercase/accent settings, BertPreTokenizer, WordPiece with
 * `##` continuation and 100 characters per word at most, `[CLS] $A [SEP]`), or the source's own
 * tokenizer.json copied with its context length pinned.
 */
import { ConvertError } from '../core/errors.js';

/** BERT's special tokens, as the vocabulary must contain them. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

/** Parse vocab.txt (one token per line, id = line number). */
export function parseVocab(text: string, file: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Set<string>();
  for (const t of lines) {
    if (seen.has(t)) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: token ${JSON.stringify(t)} appears twice`, { file });
    seen.add(t);
  }
  for (const s of ['[UNK]', '[CLS]', '[SEP]', '[PAD]']) {
    if (!seen.has(s)) throw new ConvertError('E_CHECKPOINT_INVALID', `${file}: the vocabulary has no ${s} token`, { file });
  }
  return lines;
}

/** Settings of a BERT WordPiece tokenizer. */
export interface WordPieceSettings {
  lowercase: boolean;
  /** null: strip accents when lowercasing (BERT's rule). */
  stripAccents: boolean | null;
  contextLength: number;
}

/** tokenizer.json content for a BERT vocabulary. */
export function wordPieceTokenizerJson(vocab: string[], s: WordPieceSettings): object {
  const id = (t: string): number => vocab.indexOf(t);
  const special = BERT_SPECIAL_TOKENS.filter((t) => id(t) >= 0);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((content) => ({ id: id(content), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: s.stripAccents, lowercase: s.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
}

/** tokenizer_config.json content for a BERT vocabulary. */
export function wordPieceTokenizerConfig(s: WordPieceSettings): object {
  return {
    tokenizer_class: 'BertTokenizer',
    model_max_length: s.contextLength,
    do_lower_case: s.lowercase,
    strip_accents: s.stripAccents,
    tokenize_chinese_chars: true,
    padding_side: 'right',
    truncation_side: 'right',
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  };
}
