/** Decode one compressed frame with the WebAssembly codecs of dcmjs-codecs (libjpeg-turbo, CharLS, OpenJPEG, RLE). */
import dcmjsCodecs from 'dcmjs-codecs';
import { DependencyError, inputError, MedvlmError } from '../../core/errors.js';
import { ioPlatform } from '../platform.js';
import type { PixelAttributes } from './attributes.js';
import { messageOf } from './dataset.js';
import type { PixelEncoding } from './syntaxes.js';

const { NativeCodecs, Context } = dcmjsCodecs;

let ready: Promise<void> | undefined;

/**
 * In a browser dcmjs-codecs fetches its WASM through `eval("fetch(...)")`, which a page's
 * Content-Security-Policy without 'unsafe-eval' blocks (medvlm serve's page has none): fetch it directly.
 */
function fetchWasmWithoutEval(location: string): void {
  const codecs = NativeCodecs as unknown as { _getWebAssemblyBytes?: () => Promise<ArrayBuffer> };
  if (typeof codecs._getWebAssemblyBytes !== 'function') return;
  codecs._getWebAssemblyBytes = async () => {
    const res = await fetch(location);
    if (!res.ok) throw new Error(`${location}: the server answered ${res.status}`);
    return res.arrayBuffer();
  };
}

async function ensureCodecs(): Promise<void> {
  const location = ioPlatform().dicomCodecsWasm;
  const inNode = Boolean((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node);
  if (location && !inNode && !ready) fetchWasmWithoutEval(location);
  ready ??= NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false, ...(location ? { webAssemblyModulePathOrUrl: location } : {}) });
  try {
    await ready;
  } catch (e) {
    ready = undefined;
    throw new DependencyError('E_DEPENDENCY', `DICOM codecs (dcmjs-codecs WebAssembly) failed to load: ${messageOf(e)}`, {
      cause: e,
    });
  }
}

/**
 * After a codec error (a trap, or an exception thrown through the WebAssembly stack) the module's heap
 * may hold unreleased buffers or be inconsistent: drop it and load a fresh instance on the next call.
 */
function resetCodecs(): void {
  try {
    NativeCodecs.release();
  } catch {
    // already unusable; a fresh instance is loaded on the next call either way
  }
  ready = undefined;
}

/** A decoded frame: little-endian samples of `bitsAllocated` bits, and the layout the codec produced. */
export interface DecodedFrame {
  bytes: Uint8Array;
  planarConfiguration: number;
  /** Photometric interpretation of the decoded samples (JPEG colour frames come out as RGB). */
  photometric: string;
  /** Sample precision and signedness the codestream declares, when it declares them (JPEG 2000 SIZ). */
  precision?: { bits: number; signed: boolean };
}

/**
 * Precision of the first component from a JPEG 2000 SIZ segment (raw codestream or JP2 file).
 * Lossy encoders may write a larger precision than BitsStored; the codestream is authoritative.
 */
export function jpeg2000Precision(encoded: Uint8Array): { bits: number; signed: boolean } | undefined {
  const limit = Math.min(encoded.length - 42, 4096);
  for (let i = 0; i < limit; i++) {
    if (encoded[i] === 0xff && encoded[i + 1] === 0x4f && encoded[i + 2] === 0xff && encoded[i + 3] === 0x51) {
      const ssiz = encoded[i + 4 + 38];
      return { bits: (ssiz & 0x7f) + 1, signed: (ssiz & 0x80) !== 0 };
    }
  }
  return undefined;
}

/** Decode one encapsulated frame; any codec failure becomes E_DECODE_FAILED naming the file and frame. */
export async function decodeFrame(
  encoding: PixelEncoding,
  encoded: Uint8Array,
  a: PixelAttributes,
  source: string,
  frameIndex: number,
): Promise<DecodedFrame> {
  await ensureCodecs();
  const ctx = new Context({
    width: a.columns,
    height: a.rows,
    bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored,
    samplesPerPixel: a.samplesPerPixel,
    pixelRepresentation: a.pixelRepresentation,
    planarConfiguration: a.planarConfiguration,
    photometricInterpretation: a.photometric,
    encodedBuffer: encoded,
  });
  let out: InstanceType<typeof Context>;
  try {
    switch (encoding) {
      case 'rle':
        out = NativeCodecs.decodeRle(ctx, {});
        break;
      case 'jpeg':
      case 'jpeg-lossless':
        out = NativeCodecs.decodeJpeg(ctx, { convertColorspaceToRgb: true });
        break;
      case 'jpeg-ls':
        out = NativeCodecs.decodeJpegLs(ctx, {});
        break;
      case 'jpeg2000':
        out = NativeCodecs.decodeJpeg2000(ctx, {});
        break;
      default:
        throw inputError('E_DICOM_UNSUPPORTED', source, `frame ${frameIndex + 1}: no decoder for ${encoding}`);
    }
  } catch (e) {
    if (e instanceof MedvlmError) throw e;
    resetCodecs();
    throw inputError('E_DECODE_FAILED', source, `frame ${frameIndex + 1}: ${encoding} decoding failed (${messageOf(e)})`, e);
  }
  const bytes = out.getDecodedBuffer();
  const expected = a.rows * a.columns * a.samplesPerPixel * (a.bitsAllocated / 8);
  if (!bytes || bytes.length < expected) {
    throw inputError(
      'E_DECODE_FAILED',
      source,
      `frame ${frameIndex + 1}: ${encoding} decoder returned ${bytes?.length ?? 0} bytes, expected ${expected}`,
    );
  }
  return {
    bytes,
    planarConfiguration: out.getPlanarConfiguration() ?? a.planarConfiguration,
    photometric: (out.getPhotometricInterpretation() ?? a.photometric).toUpperCase(),
    precision: encoding === 'jpeg2000' ? jpeg2000Precision(encoded) : undefined,
  };
}
