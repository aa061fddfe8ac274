/**
 * Result schemas of the server's dense endpoints (`/v1/map`, `/v1/segment`): the CLI's `--json` fields
 * for one image, with the outputs inline as base64 PNGs (the view the model saw, the map or mask at the
 * view's size) instead of file paths, so a page can draw them as overlays.
 */
import { Type } from '@sinclair/typebox';

const Str = Type.String();
const Png = (description: string) => Type.String({ contentEncoding: 'base64', contentMediaType: 'image/png', description });

/** `POST /v1/map`. */
export const DenseMapResultSchema = Type.Object(
  {
    file: Str,
    text: Str,
    model: Str,
    method: Type.Union([Type.Literal('patch'), Type.Literal('windows'), Type.Literal('both')]),
    width: Type.Integer(),
    height: Type.Integer(),
    imageSimilarity: Type.Number(),
    mapRange: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: 'cosine similarity at the map\'s darkest and brightest pixel' }),
    view: Png('the 8-bit RGB view the model saw (window applied), width x height'),
    map: Png('8-bit grey: the cosine similarity min-max scaled to 0..255 over mapRange'),
    researchNotice: Str,
  },
  { $id: 'DenseMapResult' },
);

/** `POST /v1/segment`. */
export const DenseSegmentResultSchema = Type.Object(
  {
    file: Str,
    text: Str,
    prompt: Type.String({ description: 'the text the segmenter was given (the model\'s own prompt for a known target name)' }),
    model: Str,
    threshold: Type.Number(),
    width: Type.Integer(),
    height: Type.Integer(),
    maskPixels: Type.Integer(),
    view: Png('the 8-bit RGB view the model saw (window applied), width x height'),
    mask: Png('8-bit grey: 255 inside the mask, 0 outside'),
    probability: Png('8-bit grey: the probability x 255'),
    researchNotice: Str,
  },
  { $id: 'DenseSegmentResult' },
);
