/** DICOM transfer syntaxes medvlm knows by name, and how each one stores pixel data. */

/** How the pixel data of a transfer syntax is stored. */
export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'unsupported';

/** Facts about one transfer syntax. */
export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  encoding: PixelEncoding;
  lossy: boolean;
  bigEndian: boolean;
  deflated: boolean;
  implicitVR: boolean;
}

function ts(
  uid: string,
  name: string,
  encoding: PixelEncoding,
  extra: Partial<Pick<TransferSyntaxInfo, 'lossy' | 'bigEndian' | 'deflated' | 'implicitVR'>> = {},
): TransferSyntaxInfo {
  return { uid, name, encoding, lossy: false, bigEndian: false, deflated: false, implicitVR: false, ...extra };
}

const TABLE: TransferSyntaxInfo[] = [
  ts('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { implicitVR: true }),
  ts('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts('1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native', { bigEndian: true }),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg', { lossy: true }),
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg', { lossy: true }),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls', { lossy: true }),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', 'jpeg2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', 'jpeg2000', { lossy: true }),
  // Known by name so that the error can say what the file is, but not decoded.
  ts('1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5) (Retired)', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (Retired)', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (Retired)', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component Image Compression', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.94', 'JPIP Referenced', 'unsupported'),
  ts('1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'unsupported'),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless', 'unsupported'),
  ts('1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression', 'unsupported'),
  ts('1.2.840.10008.1.2.4.112', 'JPEG XL', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', 'unsupported'),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000', 'unsupported', { lossy: true }),
  ts('1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation (Retired)', 'unsupported'),
  ts('1.2.840.10008.1.2.6.2', 'XML Encoding (Retired)', 'unsupported'),
];

const BY_UID = new Map(TABLE.map((t) => [t.uid, t]));

/** Look up a transfer syntax; unknown UIDs come back as an unsupported entry named "unknown". */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo {
  return BY_UID.get(uid) ?? ts(uid, 'unknown transfer syntax', 'unsupported');
}

/** Every transfer syntax whose pixel data `readDicom` decodes. */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = TABLE.filter((t) => t.encoding !== 'unsupported').map(
  (t) => t.uid,
);
