/**
 * A small BERT-style WordPiece tokenizer.json (BertNormalizer + BertPreTokenizer + WordPiece +
 * TemplateProcessing "[CLS] $A [SEP]") whose vocabulary covers the medical words the tests use.
 * Single letters and "##" letters are in the vocabulary too, so any lowercase ASCII word
 * tokenizes without [UNK].
 */

/** Special tokens, in id order. */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const WORDS = `a an the of photo image scan picture showing shows with without and or no in on this
chest x ray xray ct mr mri pet brain lung lungs pneumonia normal abnormal healthy disease tumor tumour
fracture knee abdomen abdominal liver kidney heart breast ultrasound benign malignant nodule effusion
cardiomegaly edema consolidation atelectasis pneumothorax mass lesion head neck spine bone pelvis hand
covid left right axial coronal sagittal slice t1 t2 flair contrast patient evidence findings radiograph
skin retina fundus pathology histology cell cells colon polyp stroke hemorrhage bleeding infection
cancer carcinoma cyst stone dog cat car`;

const PUNCTUATION = ['.', ',', '-', "'", '(', ')', '/', ':', ';', '!', '?', '"', '%', '+'];
const SUFFIXES = ['##s', '##es', '##ed', '##ing', '##ly', '##al'];

/** The full vocabulary in id order. */
export function buildVocabulary(): string[] {
  const vocab: string[] = [...SPECIAL_TOKENS, ...PUNCTUATION];
  const seen = new Set(vocab);
  const push = (t: string): void => {
    if (!seen.has(t)) {
      seen.add(t);
      vocab.push(t);
    }
  };
  for (const w of WORDS.split(/\s+/).filter(Boolean)) push(w);
  for (const s of SUFFIXES) push(s);
  for (let c = 97; c <= 122; c++) push(String.fromCharCode(c));
  for (let c = 97; c <= 122; c++) push(`##${String.fromCharCode(c)}`);
  for (let d = 0; d <= 9; d++) push(String(d));
  for (let d = 0; d <= 9; d++) push(`##${d}`);
  return vocab;
}

/** tokenizer.json content for the vocabulary. */
export function tokenizerJson(vocab: string[]): object {
  const id = (t: string): number => vocab.indexOf(t);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** tokenizer_config.json content. */
export function tokenizerConfigJson(tokenizerClass: string, maxLength: number): object {
  return {
    tokenizer_class: tokenizerClass,
    model_max_length: maxLength,
    do_lower_case: true,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  };
}
