/**
 * DICOM reader: Part 10 files (with or without preamble and meta header) in native, deflated, RLE,
 * JPEG, JPEG-LS and JPEG 2000 transfer syntaxes, to a `MedicalImage` in physical units.
 */
import type { DataSet } from 'dicom-parser';
import { LIMITS } from '../../core/limits.js';
import { inputError, isMedvlmError } from '../../core/errors.js';
import type { MedicalImage } from '../types.js';
import {
  readDirection,
  readOrigin,
  readPhi,
  readPixelAttributes,
  readRescale,
  readSpacing,
  readWindows,
  str,
  type PixelAttributes,
} from './attributes.js';
import { decodeFrame } from './codecs.js';
import { applyPalette, planarToInterleaved, readPalette, ybr422ToYbrFull, ybrFullToRgb, type Palette } from './color.js';
import { bareDataSetKind, hasPart10Prefix, messageOf, parseDataSet } from './dataset.js';
import { encapsulatedFrames, nativeFrame } from './frames.js';
import { nativeLayout, swapWordBytes, unpackSamples, type SampleLayout } from './samples.js';
import type { TransferSyntaxInfo } from './syntaxes.js';

export { SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxInfo } from './syntaxes.js';

/**
 * True when `bytes` look like DICOM: "DICM" at offset 128, or a data set starting at byte 0
 * (a group 0002 or 0008 element, implicit or explicit VR little endian).
 */
export function isDicom(bytes: Uint8Array): boolean {
  return hasPart10Prefix(bytes) || bareDataSetKind(bytes) !== undefined;
}

const SUPPORTED_PHOTOMETRIC = new Set([
  'MONOCHROME1',
  'MONOCHROME2',
  'RGB',
  'YBR_FULL',
  'YBR_FULL_422',
  'PALETTE COLOR',
  'YBR_RCT',
  'YBR_ICT',
  'YBR_PARTIAL_422',
  'YBR_PARTIAL_420',
]);

/** Photometric interpretation of decoded samples: which of them the codec already turned into RGB. */
function decodedPhotometric(syntax: TransferSyntaxInfo, stored: string, fromCodec: string): string {
  if (syntax.encoding === 'jpeg2000' && (stored === 'YBR_RCT' || stored === 'YBR_ICT')) return 'RGB';
  if ((syntax.encoding === 'jpeg' || syntax.encoding === 'jpeg-lossless') && stored.startsWith('YBR')) {
    return fromCodec === 'RGB' || fromCodec.startsWith('YBR_PARTIAL') || fromCodec === 'YBR_FULL_422' ? 'RGB' : fromCodec;
  }
  return stored;
}

function checkSize(a: PixelAttributes, channels: number, source: string): void {
  const perFrame = a.rows * a.columns;
  const total = perFrame * a.frames * channels;
  if (perFrame > LIMITS.maxPixelsPerFrame || total > LIMITS.maxTotalSamples) {
    throw inputError(
      'E_IMAGE_TOO_LARGE',
      source,
      `image of ${a.frames} frame(s) of ${a.rows}x${a.columns}x${channels} is larger than the limit ` +
        `(${LIMITS.maxPixelsPerFrame} pixels per frame, ${LIMITS.maxTotalSamples} samples in all)`,
    );
  }
}

interface FrameContext {
  ds: DataSet;
  a: PixelAttributes;
  syntax: TransferSyntaxInfo;
  source: string;
  palette?: Palette;
  /** Rescale of each frame (enhanced images may carry one per frame). */
  rescale: Array<{ slope: number; intercept: number }>;
}

/** Decode frame `f` to output samples (RGB interleaved or rescaled grey) and write them at `offset`. */
async function writeFrame(ctx: FrameContext, encoded: Uint8Array | undefined, f: number, out: Float32Array, offset: number): Promise<void> {
  const { ds, a, syntax, source } = ctx;
  const pixels = a.rows * a.columns;
  let bytes: Uint8Array;
  let layout: SampleLayout;
  let photometric = a.photometric;
  let planar = a.planarConfiguration;
  if (encoded === undefined) {
    const el = ds.elements.x7fe00010;
    bytes = nativeFrame(ds, el, a, f, source);
    if (syntax.bigEndian && a.bitsAllocated === 8 && el.vr === 'OW') bytes = swapWordBytes(bytes);
    layout = nativeLayout(a, !syntax.bigEndian);
  } else {
    const dec = await decodeFrame(syntax.encoding, encoded, a, source, f);
    bytes = dec.bytes;
    layout = { ...nativeLayout(a, true), shift: syntax.encoding === 'rle' ? a.highBit + 1 - a.bitsStored : 0 };
    if (dec.precision && dec.precision.bits <= a.bitsAllocated) {
      layout = { ...layout, bitsStored: dec.precision.bits, signed: dec.precision.signed };
    }
    photometric = decodedPhotometric(syntax, a.photometric, dec.photometric);
    planar = a.samplesPerPixel === 3 ? dec.planarConfiguration : 0;
  }
  if (a.samplesPerPixel === 3) {
    let rgb: Float64Array;
    if (photometric === 'YBR_FULL_422' && encoded === undefined) {
      rgb = ybr422ToYbrFull(unpackSamples(bytes, pixels * 2, layout), a.rows, a.columns);
      photometric = 'YBR_FULL';
    } else {
      rgb = unpackSamples(bytes, pixels * 3, layout);
      if (planar === 1) rgb = planarToInterleaved(rgb, pixels);
    }
    if (photometric === 'YBR_FULL') ybrFullToRgb(rgb, a.bitsStored);
    else if (photometric !== 'RGB') {
      throw inputError('E_DICOM_UNSUPPORTED', source, `photometric interpretation ${a.photometric} is not supported with ${syntax.name}`);
    }
    out.set(rgb, offset);
    return;
  }
  const stored = unpackSamples(bytes, pixels, layout);
  if (ctx.palette) {
    out.set(applyPalette(stored, ctx.palette), offset);
    return;
  }
  const { slope, intercept } = ctx.rescale[f];
  for (let i = 0; i < pixels; i++) out[offset + i] = stored[i] * slope + intercept;
}

async function decodeImage(bytes: Uint8Array, source: string): Promise<MedicalImage> {
  if (bytes.length === 0) throw inputError('E_FILE_EMPTY', source, 'file is empty (0 bytes)');
  const { dataSet: ds, syntax } = parseDataSet(bytes, source);
  const el = ds.elements.x7fe00010;
  if (!el) {
    const sopClass = str(ds, 'x00080016');
    throw inputError(
      'E_DICOM_NO_PIXELS',
      source,
      `DICOM file has no pixel data (7FE0,0010)${sopClass ? ` (SOP class ${sopClass})` : ''}; it is not an image`,
    );
  }
  const a = readPixelAttributes(ds, source);
  const isPalette = a.photometric === 'PALETTE COLOR';
  const channels: 1 | 3 = a.samplesPerPixel === 3 || isPalette ? 3 : 1;
  checkSize(a, channels, source);
  if (syntax.encoding === 'unsupported') {
    throw inputError(
      'E_DICOM_UNSUPPORTED',
      source,
      `transfer syntax ${syntax.uid} (${syntax.name}) is not supported for pixel data`,
    );
  }
  if (!SUPPORTED_PHOTOMETRIC.has(a.photometric)) {
    throw inputError('E_DICOM_UNSUPPORTED', source, `photometric interpretation "${a.photometric}" is not supported`);
  }
  const encapsulated = syntax.encoding !== 'native';
  if (encapsulated !== Boolean(el.encapsulatedPixelData)) {
    throw inputError(
      'E_DICOM_INVALID',
      source,
      `pixel data is ${el.encapsulatedPixelData ? 'encapsulated' : 'native'} but the transfer syntax is ${syntax.name}`,
    );
  }
  const grey = channels === 1;
  const rescale = Array.from({ length: a.frames }, (_, f) => (grey ? readRescale(ds, f) : { slope: 1, intercept: 0 }));
  const { slope, intercept } = rescale[0];
  const ctx: FrameContext = {
    ds,
    a,
    syntax,
    source,
    rescale,
    palette: isPalette ? readPalette(ds, source, a.pixelRepresentation === 1) : undefined,
  };
  const encodedFrames = encapsulated ? encapsulatedFrames(ds, el, a, syntax.encoding, source) : undefined;
  const frameSamples = a.rows * a.columns * channels;
  const data = new Float32Array(frameSamples * a.frames);
  for (let f = 0; f < a.frames; f++) {
    await writeFrame(ctx, encodedFrames?.[f], f, data, f * frameSamples);
  }
  const shape = channels === 3 ? [a.frames, a.rows, a.columns, 3] : [a.frames, a.rows, a.columns];
  return {
    source,
    format: 'dicom',
    data,
    width: a.columns,
    height: a.rows,
    depth: a.frames,
    timepoints: 1,
    channels,
    shape,
    spacing: readSpacing(ds),
    origin: readOrigin(ds),
    direction: readDirection(ds),
    modality: str(ds, 'x00080060'),
    photometric: a.photometric,
    invertForDisplay: a.photometric === 'MONOCHROME1',
    windows: grey ? readWindows(ds) : [],
    meta: {
      transferSyntaxUID: syntax.uid,
      transferSyntax: syntax.name,
      lossyTransferSyntax: syntax.lossy,
      bitsAllocated: a.bitsAllocated,
      bitsStored: a.bitsStored,
      highBit: a.highBit,
      pixelRepresentation: a.pixelRepresentation,
      samplesPerPixel: a.samplesPerPixel,
      planarConfiguration: a.planarConfiguration,
      rescaleSlope: slope,
      rescaleIntercept: intercept,
      sopClassUID: str(ds, 'x00080016'),
      frames: a.frames,
    },
    phi: readPhi(ds),
  };
}

/**
 * Read a DICOM file's pixels and geometry. `source` is the path named in every error.
 * Grey images are returned after the modality LUT (RescaleSlope/Intercept: CT in HU); colour images
 * (RGB, YBR_*, PALETTE COLOR) as interleaved RGB. Throws `InputError` with codes E_FILE_EMPTY,
 * E_DICOM_INVALID, E_DICOM_NO_PIXELS, E_DICOM_UNSUPPORTED, E_IMAGE_TOO_LARGE or E_DECODE_FAILED.
 */
export async function readDicom(bytes: Uint8Array, source: string): Promise<MedicalImage> {
  try {
    return await decodeImage(bytes, source);
  } catch (e) {
    if (isMedvlmError(e)) throw e;
    throw inputError('E_DICOM_INVALID', source, `cannot read DICOM file (${messageOf(e)})`, e);
  }
}
