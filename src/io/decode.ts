import { inputError } from '../core/errors.js';
import { isDicom, readDicom } from './dicom/index.js';
import { isGzip } from './gzip.js';
import { isNifti, readNifti } from './nifti.js';
import { isRaster, readRaster } from './raster.js';
import type { MedicalImage } from './types.js';

/** File name endings that say which format a file claims to be. */
const DICOM_EXT = /\.(dcm|dicom|dic|ima)$/i;
const NIFTI_EXT = /\.nii(\.gz)?$/i;

/**
 * Decode any supported medical image from bytes in memory (Node and browser alike).
 *
 * The format is decided by the bytes (magic numbers), with the name only used to give a precise
 * error when the bytes do not match what the name claims (a text file named `.dcm` is an invalid DICOM,
 * not an "unknown format").
 * @param source the file name or another label, used in every error message
 * @throws InputError with a stable code that names `source`.
 */
export async function decodeImage(bytes: Uint8Array, source: string): Promise<MedicalImage> {
  if (bytes.length === 0) throw inputError('E_FILE_EMPTY', source, 'file is empty (0 bytes)');
  if (NIFTI_EXT.test(source) || isNifti(bytes)) return readNifti(bytes, source);
  if (isDicom(bytes)) return readDicom(bytes, source);
  const raster = isRaster(bytes);
  if (raster) return readRaster(bytes, source, raster);
  if (DICOM_EXT.test(source)) {
    throw inputError('E_DICOM_INVALID', source, 'not a DICOM file (no "DICM" marker at byte 128 and no DICOM data set at the start)');
  }
  if (isGzip(bytes)) {
    throw inputError('E_FORMAT_UNKNOWN', source, 'gzip-compressed file that is not named .nii.gz; only gzipped NIfTI is supported');
  }
  throw inputError('E_FORMAT_UNKNOWN', source, 'unrecognised file format (expected DICOM, NIfTI, PNG, JPEG, TIFF or WebP)');
}
