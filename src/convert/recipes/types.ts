/**
 * A recipe is data: how a source architecture's state-dict keys map onto the converter's canonical
 * tower weights, which tower blocks compute the model, and what preprocessing and tokenizer
 * settings decide its numbers. The graph builders (src/convert/graphs) are generic over widths,
 * depths and heads, which come from the weights (and the source config where weights cannot say).
 */

/**
 * How a source tensor becomes canonical tensors:
 *  - `copy`: unchanged;  `T`: a torch Linear weight [out, in] → [in, out];
 *  - `qkvT`: fused qkv Linear weight [3W, W] → [W, 3W];
 *  - `as3d`: prefix dimensions of 1 up to rank 3 (class/position embeddings → [1, N, W]);
 *  - `row0`: first row, kept 2-D (BERT token_type_embeddings[0] → [1, H]);
 *  - `concatT`: several Linear weights [out_i, in] → one [in, Σ out_i] (separate q, k, v → qkv);
 *  - `concat`: several biases [n_i] → one [Σ n_i].
 */
export type KeyOp = 'copy' | 'T' | 'qkvT' | 'as3d' | 'row0' | 'concatT' | 'concat';

/**
 * One mapping rule. `from` are source key patterns (several for `concat*`), `to` the canonical
 * name; `{i}` stands for a layer index and `{j}` for a second index (ResNet blocks). Optional
 * rules may be absent from a checkpoint (e.g. a bias a variant does not have).
 */
export interface KeyRule {
  from: string[];
  to: string;
  op: KeyOp;
  optional?: boolean;
}

/** Vision tower kinds the graph builders implement. */
export type VisionArch =
  | {
      kind: 'vit';
      /** MLP activation. */
      act: 'gelu' | 'quick_gelu';
      /** LayerNorm epsilon of every norm in the tower. */
      lnEps: number;
      /** Attention head width (heads = width / headWidth). */
      headWidth: number;
    }
  | {
      kind: 'modified-resnet';
      /** Attention-pool heads: not in the weights (PMC-CLIP's official code: 32; re-implementations often use 8). */
      attnPoolHeads: number;
    };

/** Text tower kinds the graph builders implement. */
export type TextArch =
  | {
      /** Hugging Face BertModel (post-norm), pooled at [CLS], then a projection. */
      kind: 'bert';
      lnEps: number;
      headWidth: number;
      /** `mlp`: proj.0 → GELU → proj.1 (Linear, no bias); `linear`: proj.0 ([H, E] matrix). */
      proj: 'mlp' | 'linear';
      /** Pad every text to the context length and attend to the padding (PMC-CLIP runs BERT without a mask). */
      padToContext?: boolean;
    }
  | {
      /** CLIP's causal text transformer (pre-norm), pooled at the last attention-mask position (EOT). */
      kind: 'clip-text';
      act: 'gelu' | 'quick_gelu';
      lnEps: number;
      headWidth: number;
    };

/** Image preprocessing that decides the numbers (written to preprocessor_config.json). */
export interface Preprocessing {
  /** Resize the shortest edge to this many pixels (bicubic), then centre-crop `imageSize`. */
  resizeShortestEdge: number;
  mean: [number, number, number];
  std: [number, number, number];
  /**
   * How the centre crop's offset is rounded when the excess is odd: `round-half-even` for models
   * trained with torchvision's CenterCrop (open_clip), `floor` for Hugging Face image processors.
   */
  cropRounding: 'floor' | 'round-half-even';
}

/** Tokenizer settings (BERT WordPiece from vocab.txt, or the source's own tokenizer.json). */
export interface TokenizerSettings {
  kind: 'wordpiece' | 'source-tokenizer-json';
  lowercase: boolean;
  /** null: follow `lowercase` (BERT's rule). */
  stripAccents: boolean | null;
  contextLength: number;
}

/** A whole recipe. */
export interface Recipe {
  /** Stable name (`--recipe NAME`, conversion.json). */
  name: string;
  /** Models of the field this recipe converts. */
  models: string[];
  description: string;
  /** Source keys whose presence identifies the architecture (all must be present). */
  signature: string[];
  /** Source keys that must not be present (tells apart look-alike layouts). */
  antiSignature?: string[];
  /** Key prefix of the vision tower in the source (for messages). */
  vision: VisionArch;
  text: TextArch;
  keys: KeyRule[];
  /** Source keys (regular expressions) that are known and not needed for inference. */
  ignore: string[];
  /** Source key of log(logit scale), or a fixed multiplier. */
  logitScale: { key: string; exp: boolean } | { value: number };
  /** Default preprocessing; an open_clip config's preprocess_cfg overrides mean/std. */
  preprocessing: Preprocessing;
  tokenizer: TokenizerSettings;
}
