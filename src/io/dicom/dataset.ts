/** Parse DICOM bytes into a dicom-parser data set, with or without preamble and meta header. */
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { ioPlatform } from '../platform.js';
import { inputError } from '../../core/errors.js';
import { transferSyntaxInfo, type TransferSyntaxInfo } from './syntaxes.js';

/** A parsed data set and the transfer syntax its pixel data uses. */
export interface ParsedDicom {
  dataSet: DataSet;
  syntax: TransferSyntaxInfo;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/** True when bytes 128..131 spell "DICM". */
export function hasPart10Prefix(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

function vrAt(bytes: Uint8Array, offset: number): string | undefined {
  if (bytes.length < offset + 2) return undefined;
  const vr = String.fromCharCode(bytes[offset], bytes[offset + 1]);
  return VALID_VRS.has(vr) ? vr : undefined;
}

/**
 * Recognise a data set that starts at byte 0 (no preamble): a little-endian tag of group 0002 or
 * 0008 whose element number and length (implicit) or VR (explicit) are plausible.
 * Returns the encoding of the first element, or undefined.
 */
export function bareDataSetKind(bytes: Uint8Array): 'meta' | 'explicit' | 'implicit' | undefined {
  if (bytes.length < 8) return undefined;
  const group = bytes[0] | (bytes[1] << 8);
  const element = bytes[2] | (bytes[3] << 8);
  if (group !== 0x0002 && group !== 0x0008) return undefined;
  if (element > 0x1fff && element !== 0xffff) return undefined;
  const vr = vrAt(bytes, 4);
  if (group === 0x0002) return vr ? 'meta' : undefined;
  if (vr) return 'explicit';
  const length = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] * 0x1000000);
  return length <= 1024 ? 'implicit' : undefined;
}

function inflater(source: string) {
  return (byteArray: Uint8Array, position: number): Uint8Array => {
    let inflated: Uint8Array;
    try {
      inflated = ioPlatform().inflateRaw(byteArray.subarray(position));
    } catch (e) {
      throw inputError('E_DICOM_INVALID', source, `deflated data set cannot be inflated (${messageOf(e)})`, e);
    }
    const full = new Uint8Array(position + inflated.length);
    full.set(byteArray.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
}

/** Text of anything thrown (dicom-parser throws strings). */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return String((e as { exception: unknown }).exception);
  return String(e);
}

const TRUNCATION_HINTS = /(past|beyond|after) (the )?end|overread|overrun|outside the bounds|offset is out of bounds|out of range/i;

/** Parse `bytes`; throws E_DICOM_INVALID (never a raw exception) when they are not a readable data set. */
export function parseDataSet(bytes: Uint8Array, source: string): ParsedDicom {
  let input = bytes;
  const options: dicomParser.ParseDicomOptions = {};
  if (!hasPart10Prefix(bytes)) {
    const kind = bareDataSetKind(bytes);
    if (kind === undefined) {
      throw inputError(
        'E_DICOM_INVALID',
        source,
        'not a DICOM file: no "DICM" marker at byte 128 and no DICOM data set at byte 0',
      );
    }
    if (kind === 'meta') {
      input = new Uint8Array(132 + bytes.length);
      input.set([0x44, 0x49, 0x43, 0x4d], 128);
      input.set(bytes, 132);
    } else {
      options.TransferSyntaxUID = kind === 'explicit' ? EXPLICIT_LE : IMPLICIT_LE;
    }
  }
  (options as { inflater?: unknown }).inflater = inflater(source);
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(input, options);
  } catch (e) {
    if (e instanceof Error && 'code' in e) throw e;
    const msg = messageOf(e);
    const what = TRUNCATION_HINTS.test(msg)
      ? `truncated DICOM file: the data set ends before its last element (${msg})`
      : `invalid DICOM data set (${msg})`;
    throw inputError('E_DICOM_INVALID', source, what, e);
  }
  const uid = (dataSet.string('x00020010') ?? options.TransferSyntaxUID ?? IMPLICIT_LE).replace(/\0/g, '').trim();
  return { dataSet, syntax: transferSyntaxInfo(uid) };
}
