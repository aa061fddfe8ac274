/** `medvlm/io`: reading DICOM, NIfTI and PNG/JPEG/TIFF/WebP into `MedicalImage` (Node; decoding from bytes also works in `medvlm/browser`). */
import './platform-node.js';

export type { ImageFormat, MedicalImage, Window, RGBImage } from './types.js';
export { sampleIndex } from './types.js';
export { readImage, readFileBytes, decodeImage } from './read.js';
export { decodeInput, loadInput, inputName, inputHash, type ImageInput, type LoadedInput } from './image-input.js';
export { expandInputs, type InputProblem } from './inputs.js';
export { encodeNpyFloat32 } from './npy.js';
export { isDicom } from './dicom/index.js';
export { isNifti } from './nifti.js';
export { isRaster, type RasterFormat } from './raster.js';
export { setIoPlatform, ioPlatform, type IoPlatform, type RasterDecoder, type RasterPixels } from './platform.js';
