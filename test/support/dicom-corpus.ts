/**
 * Builds the DICOM reference corpus in test/.corpus/dicom/ from real images in ../shared/data with
 * dcmtk and gdcm, and an independent reference decoding of every file (dcmtk/gdcm decompression,
 * then gdcmraw for stored values or dcmj2pnm for RGB). Idempotent: cached by a version stamp.
 *
 * Debian packages: dcmtk, libgdcm-tools.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorCode } from '../../src/core/errors.js';

/** Bump when the corpus recipe changes: the cache is rebuilt. */
const CORPUS_VERSION = 'dicom-corpus-v4';

const LOSSY_SYNTAXES = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.91']);

const HERE = dirname(fileURLToPath(import.meta.url));
/** Folder the corpus is built in (gitignored). */
export const DICOM_CORPUS_DIR = resolve(HERE, '../.corpus/dicom');
const DATA_DIR = resolve(HERE, '../../../shared/data');
const MEDPIX = join(DATA_DIR, 'medpix2/images');

/** Debian packages the corpus needs. */
export const DICOM_CORPUS_APT_PACKAGES = ['dcmtk', 'libgdcm-tools'] as const;

const TOOLS = [
  'img2dcm', 'dcmdjpeg', 'dcmcjpeg', 'dcmconv', 'dcmcrle', 'dcmdrle', 'dcmcjpls', 'dcmdjpls',
  'dcmodify', 'dump2dcm', 'dcmj2pnm', 'dcmdump', 'gdcmconv', 'gdcmraw',
];

/** Real images used as sources (all from MedPix 2.0). */
const SOURCES = {
  grey: 'MPX1009_synpic46283.jpg', // CT, 320x320, 8-bit grey JPEG
  greyOdd: 'MPX1024_synpic40275.jpg', // 255x320 (odd width)
  grey2: 'MPX1009_synpic46295.jpg', // 320x320
  grey3: 'MPX1012_synpic22949.jpg', // 320x320
  colour: 'MPX1154_synpic53549.jpg', // 262x320 colour JPEG
};

/** How the reference values of a corpus file were obtained and how to read them. */
export type CorpusReference =
  | {
      kind: 'stored';
      /** Raw little-endian pixel data of the reference decoding (gdcmraw of an uncompressed file). */
      file: string;
      bitsAllocated: number;
      bitsStored: number;
      highBit: number;
      signed: boolean;
      samplesPerPixel: number;
      tool: string;
    }
  | {
      kind: 'rgb';
      /** Binary PPM (P6) written by dcmtk's dcmj2pnm: the reference's own colour conversion. */
      file: string;
      tool: string;
    };

/** One file of the corpus. */
export interface CorpusEntry {
  name: string;
  file: string;
  transferSyntaxUID: string;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  frames: number;
  rows: number;
  columns: number;
  lossy: boolean;
  /** Largest allowed |medvlm - reference| per sample (0 for lossless syntaxes). */
  tolerance: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** How the file was made. */
  recipe: string;
  reference?: CorpusReference;
  /** For broken files: the error code readDicom must throw. */
  expectError?: ErrorCode;
}

/** The built corpus. */
export interface DicomCorpus {
  dir: string;
  files: CorpusEntry[];
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}`, { cause: e });
  }
}

function hasTool(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  return r.error === undefined;
}

/** Why the corpus cannot be built here, or undefined when it can. */
export function dicomCorpusUnavailable(): string | undefined {
  const missing = TOOLS.filter((t) => !hasTool(t));
  if (missing.length) {
    return `DICOM corpus needs dcmtk and gdcm (apt-get install ${DICOM_CORPUS_APT_PACKAGES.join(' ')}); missing: ${missing.join(', ')}`;
  }
  const absent = Object.values(SOURCES).filter((f) => !existsSync(join(MEDPIX, f)));
  if (absent.length) return `DICOM corpus needs ../shared/data/medpix2 (missing ${absent.join(', ')})`;
  return undefined;
}

/** Value of a tag as printed by dcmdump, e.g. dumpValue(f, '0028,0101') -> "12". */
function dumpValue(file: string, tag: string, cwd: string): string | undefined {
  const out = run('dcmdump', ['+P', tag, file], cwd);
  const line = out.split('\n').find((l) => l.startsWith(`(${tag})`));
  if (!line) return undefined;
  const m = /^\(\S+\)\s+\S\S\s+(?:\[([^\]]*)\]|=?(\S+))/.exec(line);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Extract the pixel data element value of an uncompressed file. */
function rawPixels(file: string, out: string, cwd: string): Buffer {
  run('gdcmraw', ['-i', file, '-o', out, '-t', '7fe0,0010'], cwd);
  return readFileSync(join(cwd, out));
}

interface DumpSpec {
  sopClass: string;
  modality: string;
  rows: number;
  columns: number;
  samples: number;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  frames?: number;
  planar?: number;
  extra?: string[];
  pixelFile: string;
}

let uidCounter = 0;
function dumpFile(spec: DumpSpec): string {
  uidCounter++;
  const vr = spec.bitsAllocated > 8 ? 'OW' : 'OB';
  const lines = [
    '(0002,0010) UI =LittleEndianExplicit',
    '(0008,0005) CS [ISO_IR 100]',
    `(0008,0016) UI [${spec.sopClass}]`,
    `(0008,0018) UI [1.2.826.0.1.3680043.10.1234.3.${uidCounter}]`,
    '(0008,0020) DA [20240115]',
    '(0008,0050) SH [ACC0001]',
    `(0008,0060) CS [${spec.modality}]`,
    '(0008,0080) LO [General Test Hospital]',
    '(0008,0090) PN [Ref^Doctor]',
    '(0010,0010) PN [Doe^Jane]',
    '(0010,0020) LO [PID-0001]',
    '(0010,0030) DA [19700101]',
    '(0010,0040) CS [F]',
    '(0010,1010) AS [054Y]',
    '(0020,000d) UI [1.2.826.0.1.3680043.10.1234.1]',
    `(0020,000e) UI [1.2.826.0.1.3680043.10.1234.2.${uidCounter}]`,
    `(0028,0002) US ${spec.samples}`,
    `(0028,0004) CS [${spec.photometric}]`,
    ...(spec.samples === 3 ? [`(0028,0006) US ${spec.planar ?? 0}`] : []),
    ...(spec.frames !== undefined ? [`(0028,0008) IS [${spec.frames}]`] : []),
    `(0028,0010) US ${spec.rows}`,
    `(0028,0011) US ${spec.columns}`,
    `(0028,0100) US ${spec.bitsAllocated}`,
    `(0028,0101) US ${spec.bitsStored}`,
    `(0028,0102) US ${spec.bitsStored - 1}`,
    `(0028,0103) US ${spec.signed ? 1 : 0}`,
    ...(spec.extra ?? []),
    `(7fe0,0010) ${vr} =${spec.pixelFile}`,
  ];
  return lines.join('\n') + '\n';
}

function craft(dir: string, name: string, spec: DumpSpec): void {
  writeFileSync(join(dir, `${name}.dump`), dumpFile(spec));
  run('dump2dcm', ['+E', '+te', `${name}.dump`, name], dir);
}

/** Replace the transfer syntax UID in the meta header (dcmodify refuses group 0002). */
function patchTransferSyntax(bytes: Buffer, uid: string): Buffer {
  const padded = uid.length % 2 ? `${uid}\0` : uid;
  for (let p = 132; p + 8 < bytes.length; ) {
    const group = bytes.readUInt16LE(p);
    if (group !== 2) break;
    const element = bytes.readUInt16LE(p + 2);
    const len = bytes.readUInt16LE(p + 6);
    const isLong = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(bytes.toString('latin1', p + 4, p + 6));
    const headerLen = isLong ? 12 : 8;
    const valueLen = isLong ? bytes.readUInt32LE(p + 8) : len;
    if (element === 0x0010) {
      const head = Buffer.from(bytes.subarray(0, p + 6));
      const lenBuf = Buffer.alloc(2);
      lenBuf.writeUInt16LE(padded.length);
      const out = Buffer.concat([head, lenBuf, Buffer.from(padded, 'latin1'), bytes.subarray(p + 8 + len)]);
      // group length (0002,0000) UL is the first element after DICM
      out.writeUInt32LE(out.readUInt32LE(140) + padded.length - len, 140);
      return out;
    }
    p += headerLen + valueLen;
  }
  throw new Error('transfer syntax element not found');
}

interface Plan {
  name: string;
  recipe: string;
  make: (dir: string) => void;
  /** Command that decompresses `name` to the uncompressed reference `ref-<name>` (null: the file is uncompressed LE). */
  decompress: 'dcmdjpeg' | 'dcmdrle' | 'dcmdjpls' | 'gdcm' | 'dcmconv' | null;
  colour: boolean;
  tolerance: number;
}

const YBR = {
  y: (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b,
  cb: (r: number, g: number, b: number) => -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
  cr: (r: number, g: number, b: number) => 0.5 * r - 0.418688 * g - 0.081312 * b + 128,
};
const clamp8 = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** A perceptual-ish colour map for the palette files (real grey values become indices). */
function paletteEntry(i: number): [number, number, number] {
  const t = i / 255;
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - 1)));
  return [r, g, b];
}

function buildBases(dir: string): void {
  for (const [key, file] of Object.entries(SOURCES)) {
    run('img2dcm', [join(MEDPIX, file), `src-${key}.dcm`], dir);
    run('dcmdjpeg', [`src-${key}.dcm`, `src-${key}-raw.dcm`], dir);
  }
  const grey = rawPixels('src-grey-raw.dcm', 'src-grey.raw', dir);
  const ct = {
    sopClass: '1.2.840.10008.5.1.4.1.1.2',
    modality: 'CT',
    rows: 320,
    columns: 320,
    samples: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 16,
    bitsStored: 12,
  };
  const geometry = [
    '(0018,0050) DS [2.5]',
    '(0020,0032) DS [-160.0\\-150.5\\42.25]',
    '(0020,0037) DS [1\\0\\0\\0\\1\\0]',
    '(0028,0030) DS [0.7\\0.6]',
    '(0028,1050) DS [40\\-600]',
    '(0028,1051) DS [400\\1500]',
  ];
  // Signed CT-like: stored = grey*11 - 900 + small deterministic texture, 12 bits stored, slope 1.25, intercept -300.
  const signed = new Int16Array(grey.length);
  for (let i = 0; i < grey.length; i++) signed[i] = grey[i] * 11 - 900 + ((i * 7) % 5) - 2;
  writeFileSync(join(dir, 'ct16s.raw'), Buffer.from(signed.buffer));
  craft(dir, 'ct16s_evrle.dcm', {
    ...ct,
    signed: true,
    extra: [...geometry, '(0028,1052) DS [-300]', '(0028,1053) DS [1.25]'],
    pixelFile: 'ct16s.raw',
  });
  // Same values with junk in the 4 bits above HighBit: a reader must mask them off.
  const junk = new Uint16Array(grey.length);
  for (let i = 0; i < grey.length; i++) junk[i] = (signed[i] & 0x0fff) | (((i % 3) + 0xa) << 12);
  writeFileSync(join(dir, 'ct16s_junk.raw'), Buffer.from(junk.buffer));
  craft(dir, 'ct16s_junkbits_evrle.dcm', {
    ...ct,
    signed: true,
    extra: [...geometry, '(0028,1052) DS [-300]', '(0028,1053) DS [1.25]'],
    pixelFile: 'ct16s_junk.raw',
  });
  // Unsigned 12-bit CT: stored = grey*16 + texture, intercept -1024.
  const unsigned = new Uint16Array(grey.length);
  for (let i = 0; i < grey.length; i++) unsigned[i] = Math.min(4095, grey[i] * 16 + (i % 7));
  writeFileSync(join(dir, 'ct12u.raw'), Buffer.from(unsigned.buffer));
  craft(dir, 'ct12u_evrle.dcm', {
    ...ct,
    signed: false,
    extra: [...geometry, '(0028,1052) DS [-1024]', '(0028,1053) DS [1]'],
    pixelFile: 'ct12u.raw',
  });
  // Multi-frame 8-bit grey from three real images.
  const frames = Buffer.concat([
    grey,
    rawPixels('src-grey2-raw.dcm', 'src-grey2.raw', dir),
    rawPixels('src-grey3-raw.dcm', 'src-grey3.raw', dir),
  ]);
  writeFileSync(join(dir, 'mf8.raw'), frames);
  craft(dir, 'mf8_evrle.dcm', {
    sopClass: '1.2.840.10008.5.1.4.1.1.7.2',
    modality: 'OT',
    rows: 320,
    columns: 320,
    samples: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 8,
    bitsStored: 8,
    signed: false,
    frames: 3,
    pixelFile: 'mf8.raw',
  });
  // Multi-frame signed 16-bit: two frames of the CT values (second one shifted).
  const mf16 = new Int16Array(signed.length * 2);
  mf16.set(signed, 0);
  for (let i = 0; i < signed.length; i++) mf16[signed.length + i] = signed[signed.length - 1 - i] + 100;
  writeFileSync(join(dir, 'mf16s.raw'), Buffer.from(mf16.buffer));
  craft(dir, 'mf16s_evrle.dcm', {
    ...ct,
    signed: true,
    frames: 2,
    extra: ['(0028,1052) DS [-300]', '(0028,1053) DS [1.25]'],
    pixelFile: 'mf16s.raw',
  });
  // Colour bases: RGB from the real colour JPEG.
  const rgb = rawPixels('src-colour-raw.dcm', 'src-colour.raw', dir);
  const cRows = Number(dumpValue('src-colour-raw.dcm', '0028,0010', dir));
  const cCols = Number(dumpValue('src-colour-raw.dcm', '0028,0011', dir));
  const sc = { sopClass: '1.2.840.10008.5.1.4.1.1.7', modality: 'OT', rows: cRows, columns: cCols, samples: 3, bitsAllocated: 8, bitsStored: 8, signed: false };
  writeFileSync(join(dir, 'rgb.raw'), rgb);
  craft(dir, 'rgb_p0_evrle.dcm', { ...sc, photometric: 'RGB', planar: 0, pixelFile: 'rgb.raw' });
  const n = cRows * cCols;
  const planes = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planes[c * n + i] = rgb[3 * i + c];
  writeFileSync(join(dir, 'rgb-planar.raw'), planes);
  craft(dir, 'rgb_p1_evrle.dcm', { ...sc, photometric: 'RGB', planar: 1, pixelFile: 'rgb-planar.raw' });
  const ybr = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
    ybr[3 * i] = clamp8(YBR.y(r, g, b));
    ybr[3 * i + 1] = clamp8(YBR.cb(r, g, b));
    ybr[3 * i + 2] = clamp8(YBR.cr(r, g, b));
  }
  writeFileSync(join(dir, 'ybr.raw'), ybr);
  craft(dir, 'ybrfull_evrle.dcm', { ...sc, photometric: 'YBR_FULL', planar: 0, pixelFile: 'ybr.raw' });
  const ybr422 = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i += 2) {
    const cb = (ybr[3 * i + 1] + ybr[3 * (i + 1) + 1]) / 2;
    const cr = (ybr[3 * i + 2] + ybr[3 * (i + 1) + 2]) / 2;
    ybr422[2 * i] = ybr[3 * i];
    ybr422[2 * i + 1] = ybr[3 * (i + 1)];
    ybr422[2 * i + 2] = Math.round(cb);
    ybr422[2 * i + 3] = Math.round(cr);
  }
  writeFileSync(join(dir, 'ybr422.raw'), ybr422);
  craft(dir, 'ybr422_evrle.dcm', { ...sc, photometric: 'YBR_FULL_422', planar: 0, pixelFile: 'ybr422.raw' });
  // Palette colour: real grey values as indices, 16-bit and 8-bit LUT entries.
  const lut16 = [Buffer.alloc(512), Buffer.alloc(512), Buffer.alloc(512)];
  const lut8 = [Buffer.alloc(256), Buffer.alloc(256), Buffer.alloc(256)];
  for (let i = 0; i < 256; i++) {
    const e = paletteEntry(i);
    for (let c = 0; c < 3; c++) {
      lut16[c].writeUInt16LE(Math.round(e[c] * 65535), 2 * i);
      lut8[c][i] = Math.round(e[c] * 255);
    }
  }
  ['red', 'green', 'blue'].forEach((c, k) => {
    writeFileSync(join(dir, `lut16-${c}.raw`), lut16[k]);
    writeFileSync(join(dir, `lut8-${c}.raw`), lut8[k]);
  });
  const pal = { sopClass: '1.2.840.10008.5.1.4.1.1.7', modality: 'OT', rows: 320, columns: 320, samples: 1, photometric: 'PALETTE COLOR', bitsAllocated: 8, bitsStored: 8, signed: false, pixelFile: 'src-grey.raw' };
  const lutTags = (bits: number, prefix: string) => [
    `(0028,1101) US 256\\0\\${bits}`,
    `(0028,1102) US 256\\0\\${bits}`,
    `(0028,1103) US 256\\0\\${bits}`,
    `(0028,1201) OW =${prefix}-red.raw`,
    `(0028,1202) OW =${prefix}-green.raw`,
    `(0028,1203) OW =${prefix}-blue.raw`,
  ];
  craft(dir, 'palette16_evrle.dcm', { ...pal, extra: lutTags(16, 'lut16') });
  craft(dir, 'palette8_evrle.dcm', { ...pal, extra: lutTags(8, 'lut8') });
}

const copy = (from: string, to: string) => (dir: string) => writeFileSync(join(dir, to), readFileSync(join(dir, from)));
const tool = (cmd: string, args: string[]) => (dir: string) => void run(cmd, args, dir);

function plans(): Plan[] {
  const p: Plan[] = [];
  const add = (name: string, recipe: string, make: (dir: string) => void, decompress: Plan['decompress'], opts: { colour?: boolean; tolerance?: number } = {}) =>
    p.push({ name, recipe, make, decompress, colour: opts.colour ?? false, tolerance: opts.tolerance ?? 0 });
  const lossless = (base: string, stem: string, colour = false, skip: string[] = []) => {
    const addUnlessSkipped = (name: string, ...rest: [string, (dir: string) => void, Plan['decompress'], { colour?: boolean; tolerance?: number }?]) => {
      if (!skip.some((s) => name.endsWith(`_${s}.dcm`))) add(name, ...rest);
    };
    addUnlessSkipped(`${stem}_ivrle.dcm`, `dcmconv +ti ${base}`, tool('dcmconv', ['+ti', base, `${stem}_ivrle.dcm`]), 'dcmconv', { colour });
    addUnlessSkipped(`${stem}_evrbe.dcm`, `dcmconv +tb ${base}`, tool('dcmconv', ['+tb', base, `${stem}_evrbe.dcm`]), 'dcmconv', { colour });
    addUnlessSkipped(`${stem}_deflated.dcm`, `dcmconv +td ${base}`, tool('dcmconv', ['+td', base, `${stem}_deflated.dcm`]), 'dcmconv', { colour });
    addUnlessSkipped(`${stem}_rle.dcm`, `dcmcrle ${base}`, tool('dcmcrle', [base, `${stem}_rle.dcm`]), 'dcmdrle', { colour });
    addUnlessSkipped(`${stem}_jpeg57.dcm`, `dcmcjpeg +el ${base}`, tool('dcmcjpeg', ['+el', base, `${stem}_jpeg57.dcm`]), 'dcmdjpeg', { colour });
    addUnlessSkipped(`${stem}_jpeg70.dcm`, `dcmcjpeg +e1 ${base}`, tool('dcmcjpeg', ['+e1', base, `${stem}_jpeg70.dcm`]), 'dcmdjpeg', { colour });
    addUnlessSkipped(`${stem}_jls80.dcm`, `dcmcjpls +el ${base}`, tool('dcmcjpls', ['+el', base, `${stem}_jls80.dcm`]), 'dcmdjpls', { colour });
    addUnlessSkipped(`${stem}_jls81.dcm`, `dcmcjpls +en +md 2 ${base}`, tool('dcmcjpls', ['+en', '+md', '2', base, `${stem}_jls81.dcm`]), 'dcmdjpls', { colour, tolerance: 1 });
    addUnlessSkipped(`${stem}_j2k90.dcm`, `gdcmconv --j2k ${base}`, tool('gdcmconv', ['--j2k', base, `${stem}_j2k90.dcm`]), 'gdcm', { colour });
    addUnlessSkipped(`${stem}_j2k91.dcm`, `gdcmconv --j2k --lossy -q 60 ${base}`, tool('gdcmconv', ['--j2k', '--lossy', '-q', '60', base, `${stem}_j2k91.dcm`]), 'gdcm', { colour, tolerance: 1 });
  };
  // 8-bit grey, real MedPix CT JPEG wrapped by img2dcm (JPEG baseline as found in the wild).
  add('grey8_jpeg50.dcm', `img2dcm ${SOURCES.grey}`, copy('src-grey.dcm', 'grey8_jpeg50.dcm'), 'dcmdjpeg', { tolerance: 1 });
  add('grey8_evrle.dcm', 'dcmdjpeg of grey8_jpeg50', copy('src-grey-raw.dcm', 'grey8_evrle.dcm'), null);
  lossless('grey8_evrle.dcm', 'grey8');
  add('grey8_jpeg51.dcm', 'dcmcjpeg +ee grey8_evrle', tool('dcmcjpeg', ['+ee', 'grey8_evrle.dcm', 'grey8_jpeg51.dcm']), 'dcmdjpeg', { tolerance: 1 });
  add('grey8odd_evrle.dcm', `img2dcm ${SOURCES.greyOdd} + dcmdjpeg (255 columns)`, copy('src-greyOdd-raw.dcm', 'grey8odd_evrle.dcm'), null);
  add('grey8odd_rle.dcm', 'dcmcrle grey8odd_evrle', tool('dcmcrle', ['grey8odd_evrle.dcm', 'grey8odd_rle.dcm']), 'dcmdrle');
  add('grey8odd_jls80.dcm', 'dcmcjpls +el grey8odd_evrle', tool('dcmcjpls', ['+el', 'grey8odd_evrle.dcm', 'grey8odd_jls80.dcm']), 'dcmdjpls');
  add('grey8odd_j2k90.dcm', 'gdcmconv --j2k grey8odd_evrle', tool('gdcmconv', ['--j2k', 'grey8odd_evrle.dcm', 'grey8odd_j2k90.dcm']), 'gdcm');
  // Preamble-less variants.
  add('grey8_dataset_implicit.dcm', 'dcmconv -F +ti (no preamble, no meta header)', tool('dcmconv', ['-F', '+ti', 'grey8_evrle.dcm', 'grey8_dataset_implicit.dcm']), 'dcmconv');
  add('grey8_dataset_explicit.dcm', 'dcmconv -F +te (no preamble, no meta header)', tool('dcmconv', ['-F', '+te', 'grey8_evrle.dcm', 'grey8_dataset_explicit.dcm']), 'dcmconv');
  add('grey8_nopreamble.dcm', 'grey8_evrle without its 128-byte preamble and "DICM"', (dir) => writeFileSync(join(dir, 'grey8_nopreamble.dcm'), readFileSync(join(dir, 'grey8_evrle.dcm')).subarray(132)), 'dcmconv');
  add('mono1_evrle.dcm', 'dcmodify PhotometricInterpretation=MONOCHROME1, Modality=CR', (dir) => {
    copy('grey8_evrle.dcm', 'mono1_evrle.dcm')(dir);
    run('dcmodify', ['-nb', '-i', '(0028,0004)=MONOCHROME1', '-i', '(0008,0060)=CR', 'mono1_evrle.dcm'], dir);
  }, null);
  add('mono1_jls80.dcm', 'dcmcjpls +el mono1_evrle', tool('dcmcjpls', ['+el', 'mono1_evrle.dcm', 'mono1_jls80.dcm']), 'dcmdjpls');
  // 16-bit signed CT-like, 12 bits stored, rescale.
  add('ct16s_evrle.dcm', 'dump2dcm from grey8 pixels * 11 - 900 (signed, 12 bits stored, slope 1.25, intercept -300)', () => undefined, null);
  lossless('ct16s_evrle.dcm', 'ct16s', false, ['jls81']); // dcmcjpls refuses near-lossless on signed data
  add('ct16s_junkbits_evrle.dcm', 'ct16s with junk in bits 12-15 (must be masked)', () => undefined, null);
  // 16-bit unsigned 12 bits stored: JPEG extended 12-bit, and lossless.
  add('ct12u_evrle.dcm', 'dump2dcm from grey8 pixels * 16 (unsigned, 12 bits stored, intercept -1024)', () => undefined, null);
  add('ct12u_jpeg51.dcm', 'dcmcjpeg +ee ct12u_evrle (12-bit JPEG extended)', tool('dcmcjpeg', ['+ee', 'ct12u_evrle.dcm', 'ct12u_jpeg51.dcm']), 'dcmdjpeg', { tolerance: 1 });
  add('ct12u_jpeg70.dcm', 'dcmcjpeg +e1 ct12u_evrle', tool('dcmcjpeg', ['+e1', 'ct12u_evrle.dcm', 'ct12u_jpeg70.dcm']), 'dcmdjpeg');
  add('ct12u_jls80.dcm', 'dcmcjpls +el ct12u_evrle', tool('dcmcjpls', ['+el', 'ct12u_evrle.dcm', 'ct12u_jls80.dcm']), 'dcmdjpls');
  add('ct12u_jls81.dcm', 'dcmcjpls +en +md 2 ct12u_evrle', tool('dcmcjpls', ['+en', '+md', '2', 'ct12u_evrle.dcm', 'ct12u_jls81.dcm']), 'dcmdjpls', { tolerance: 1 });
  add('ct12u_j2k90.dcm', 'gdcmconv --j2k ct12u_evrle', tool('gdcmconv', ['--j2k', 'ct12u_evrle.dcm', 'ct12u_j2k90.dcm']), 'gdcm');
  // Multi-frame.
  add('mf8_evrle.dcm', 'dump2dcm, 3 real 320x320 frames', () => undefined, null);
  add('mf8_rle.dcm', 'dcmcrle mf8_evrle', tool('dcmcrle', ['mf8_evrle.dcm', 'mf8_rle.dcm']), 'dcmdrle');
  add('mf8_jpeg50.dcm', 'dcmcjpeg +eb mf8_evrle (basic offset table)', tool('dcmcjpeg', ['+eb', 'mf8_evrle.dcm', 'mf8_jpeg50.dcm']), 'dcmdjpeg', { tolerance: 1 });
  add('mf8_jpeg70_nobot_frag.dcm', 'dcmcjpeg +e1 -ot +fs 4 (empty offset table, 4 kB fragments)', tool('dcmcjpeg', ['+e1', '-ot', '+fs', '4', 'mf8_evrle.dcm', 'mf8_jpeg70_nobot_frag.dcm']), 'dcmdjpeg');
  add('mf8_jls80.dcm', 'dcmcjpls +el mf8_evrle', tool('dcmcjpls', ['+el', 'mf8_evrle.dcm', 'mf8_jls80.dcm']), 'dcmdjpls');
  add('mf8_j2k90.dcm', 'gdcmconv --j2k mf8_evrle', tool('gdcmconv', ['--j2k', 'mf8_evrle.dcm', 'mf8_j2k90.dcm']), 'gdcm');
  add('mf16s_evrle.dcm', 'dump2dcm, 2 signed 16-bit frames', () => undefined, null);
  add('mf16s_evrbe.dcm', 'dcmconv +tb mf16s_evrle', tool('dcmconv', ['+tb', 'mf16s_evrle.dcm', 'mf16s_evrbe.dcm']), 'dcmconv');
  add('mf16s_rle.dcm', 'dcmcrle mf16s_evrle', tool('dcmcrle', ['mf16s_evrle.dcm', 'mf16s_rle.dcm']), 'dcmdrle');
  add('mf16s_jpeg70.dcm', 'dcmcjpeg +e1 mf16s_evrle', tool('dcmcjpeg', ['+e1', 'mf16s_evrle.dcm', 'mf16s_jpeg70.dcm']), 'dcmdjpeg');
  add('mf16s_j2k91.dcm', 'gdcmconv --j2k --lossy -q 60 mf16s_evrle', tool('gdcmconv', ['--j2k', '--lossy', '-q', '60', 'mf16s_evrle.dcm', 'mf16s_j2k91.dcm']), 'gdcm', { tolerance: 1 });
  // Colour.
  const colour = { colour: true };
  add('ybr422_jpeg50.dcm', `img2dcm ${SOURCES.colour} (YBR_FULL_422 JPEG baseline)`, copy('src-colour.dcm', 'ybr422_jpeg50.dcm'), 'dcmdjpeg', { colour: true, tolerance: 1 });
  add('rgb_p0_evrle.dcm', 'dump2dcm RGB planar 0 from the decoded colour JPEG', () => undefined, null, colour);
  add('rgb_p1_evrle.dcm', 'dump2dcm RGB planar 1', () => undefined, null, colour);
  add('rgb_p1_evrbe.dcm', 'dcmconv +tb rgb_p1_evrle', tool('dcmconv', ['+tb', 'rgb_p1_evrle.dcm', 'rgb_p1_evrbe.dcm']), null, colour);
  add('rgb_rle.dcm', 'dcmcrle rgb_p0_evrle', tool('dcmcrle', ['rgb_p0_evrle.dcm', 'rgb_rle.dcm']), 'dcmdrle', colour);
  add('rgb_jpeg70.dcm', 'dcmcjpeg +e1 rgb_p0_evrle', tool('dcmcjpeg', ['+e1', 'rgb_p0_evrle.dcm', 'rgb_jpeg70.dcm']), 'dcmdjpeg', colour);
  add('rgb_jls80.dcm', 'dcmcjpls +el rgb_p0_evrle', tool('dcmcjpls', ['+el', 'rgb_p0_evrle.dcm', 'rgb_jls80.dcm']), 'dcmdjpls', colour);
  add('rgb_jls81.dcm', 'dcmcjpls +en +md 2 rgb_p0_evrle', tool('dcmcjpls', ['+en', '+md', '2', 'rgb_p0_evrle.dcm', 'rgb_jls81.dcm']), 'dcmdjpls', { colour: true, tolerance: 1 });
  add('rgb_j2k90.dcm', 'gdcmconv --j2k rgb_p0_evrle (YBR_RCT)', tool('gdcmconv', ['--j2k', 'rgb_p0_evrle.dcm', 'rgb_j2k90.dcm']), 'gdcm', colour);
  add('rgb_j2k91.dcm', 'gdcmconv --j2k --lossy -q 60 rgb_p0_evrle (YBR_ICT)', tool('gdcmconv', ['--j2k', '--lossy', '-q', '60', 'rgb_p0_evrle.dcm', 'rgb_j2k91.dcm']), 'gdcm', { colour: true, tolerance: 1 });
  add('ybr422_jpeg50_dcmtk.dcm', 'dcmcjpeg +eb rgb_p0_evrle (YBR_FULL_422, 4:2:2)', tool('dcmcjpeg', ['+eb', 'rgb_p0_evrle.dcm', 'ybr422_jpeg50_dcmtk.dcm']), 'dcmdjpeg', { colour: true, tolerance: 1 });
  add('ybrfull_jpeg50.dcm', 'dcmcjpeg +eb +s4 rgb_p0_evrle (YBR_FULL, 4:4:4)', tool('dcmcjpeg', ['+eb', '+s4', 'rgb_p0_evrle.dcm', 'ybrfull_jpeg50.dcm']), 'dcmdjpeg', { colour: true, tolerance: 1 });
  add('ybrfull_evrle.dcm', 'dump2dcm YBR_FULL from the RGB pixels', () => undefined, null, { colour: true, tolerance: 1 }); // dcmtk truncates YBR->RGB, medvlm rounds
  add('ybrfull_dcmdjpeg_evrle.dcm', 'dcmdjpeg +cn of the real colour JPEG (YBR_FULL, native)', tool('dcmdjpeg', ['+cn', 'src-colour.dcm', 'ybrfull_dcmdjpeg_evrle.dcm']), null, { colour: true, tolerance: 1 }); // dcmtk truncates YBR->RGB, medvlm rounds
  add('ybr422_evrle.dcm', 'dump2dcm native YBR_FULL_422 (Y1 Y2 Cb Cr)', () => undefined, null, { colour: true, tolerance: 1 }); // dcmtk truncates YBR->RGB, medvlm rounds
  add('ybrfull_rle.dcm', 'dcmcrle ybrfull_evrle', tool('dcmcrle', ['ybrfull_evrle.dcm', 'ybrfull_rle.dcm']), 'dcmdrle', { colour: true, tolerance: 1 }); // dcmtk truncates YBR->RGB, medvlm rounds
  add('palette16_evrle.dcm', 'dump2dcm PALETTE COLOR, 16-bit LUT entries', () => undefined, null, colour);
  add('palette8_evrle.dcm', 'dump2dcm PALETTE COLOR, 8-bit LUT entries (two per word)', () => undefined, null, colour);
  add('palette16_rle.dcm', 'dcmcrle palette16_evrle', tool('dcmcrle', ['palette16_evrle.dcm', 'palette16_rle.dcm']), 'dcmdrle', colour);
  return p;
}

function makeReference(dir: string, plan: Plan): CorpusReference {
  const name = plan.name;
  let uncompressed = name;
  const refDcm = `ref-${name}`;
  switch (plan.decompress) {
    case null:
      break;
    case 'gdcm':
      run('gdcmconv', ['--raw', name, refDcm], dir);
      uncompressed = refDcm;
      break;
    case 'dcmconv':
      run('dcmconv', ['+te', name, refDcm], dir);
      uncompressed = refDcm;
      break;
    default:
      run(plan.decompress, [name, refDcm], dir);
      uncompressed = refDcm;
  }
  if (plan.colour) {
    const ppm = `ref-${name}.ppm`;
    run('dcmj2pnm', ['--write-raw-pnm', uncompressed, ppm], dir);
    const via = plan.decompress ? `${plan.decompress === 'gdcm' ? 'gdcmconv --raw' : plan.decompress} + ` : '';
    return { kind: 'rgb', file: join(dir, ppm), tool: `${via}dcmj2pnm (dcmtk colour conversion)` };
  }
  const raw = `ref-${name}.raw`;
  rawPixels(uncompressed, raw, dir);
  const num = (tag: string, dflt: number) => {
    const v = dumpValue(uncompressed, tag, dir);
    return v === undefined ? dflt : Number(v);
  };
  const bitsAllocated = num('0028,0100', 8);
  const bitsStored = num('0028,0101', bitsAllocated);
  return {
    kind: 'stored',
    file: join(dir, raw),
    bitsAllocated,
    bitsStored,
    highBit: num('0028,0102', bitsStored - 1),
    signed: num('0028,0103', 0) === 1,
    samplesPerPixel: num('0028,0002', 1),
    tool: `${plan.decompress ?? '(uncompressed)'} + gdcmraw`,
  };
}

function entryFor(dir: string, plan: Plan): CorpusEntry {
  const f = plan.name;
  const num = (tag: string, dflt: number) => {
    const v = dumpValue(f, tag, dir);
    return v === undefined ? dflt : Number(v);
  };
  const uid = dumpValue(f, '0002,0010', dir) ?? '';
  return {
    name: f,
    file: join(dir, f),
    transferSyntaxUID: uid,
    photometric: dumpValue(f, '0028,0004', dir) ?? '',
    bitsAllocated: num('0028,0100', 8),
    bitsStored: num('0028,0101', 8),
    signed: num('0028,0103', 0) === 1,
    frames: num('0028,0008', 1),
    rows: num('0028,0010', 0),
    columns: num('0028,0011', 0),
    lossy: LOSSY_SYNTAXES.has(dumpUid(dir, f)),
    tolerance: plan.tolerance,
    rescaleSlope: num('0028,1053', 1),
    rescaleIntercept: num('0028,1052', 0),
    recipe: plan.recipe,
    reference: makeReference(dir, plan),
  };
}

function dumpUid(dir: string, file: string): string {
  return transferSyntaxOf(dir, file);
}

/** dcmdump prints the UID name for known syntaxes in meta files; read the raw UID instead. */
function transferSyntaxOf(dir: string, file: string): string {
  const out = run('dcmdump', ['-Un', '+P', '0002,0010', file], dir);
  const m = /\[([0-9.]+)\]/.exec(out);
  return m ? m[1] : '';
}

function errorEntries(dir: string): CorpusEntry[] {
  const base = (name: string, recipe: string, expectError: ErrorCode): CorpusEntry => ({
    name,
    file: join(dir, name),
    transferSyntaxUID: '',
    photometric: '',
    bitsAllocated: 0,
    bitsStored: 0,
    signed: false,
    frames: 0,
    rows: 0,
    columns: 0,
    lossy: false,
    tolerance: 0,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    recipe,
    expectError,
  });
  const out: CorpusEntry[] = [];
  writeFileSync(join(dir, 'err_empty.dcm'), Buffer.alloc(0));
  out.push(base('err_empty.dcm', 'zero bytes', 'E_FILE_EMPTY'));
  writeFileSync(join(dir, 'err_text.dcm'), 'This is a radiology report, not an image.\nFindings: none.\n'.repeat(8));
  out.push(base('err_text.dcm', 'a text file named .dcm', 'E_DICOM_INVALID'));
  const ct = readFileSync(join(dir, 'ct16s_evrle.dcm'));
  writeFileSync(join(dir, 'err_truncated_pixels.dcm'), ct.subarray(0, ct.length - Math.floor(320 * 320 * 2 * 0.4)));
  out.push(base('err_truncated_pixels.dcm', 'ct16s_evrle cut 40% into the end of its pixel data', 'E_DICOM_INVALID'));
  writeFileSync(join(dir, 'err_truncated_header.dcm'), ct.subarray(0, 400));
  out.push(base('err_truncated_header.dcm', 'ct16s_evrle cut at byte 400 (inside the header)', 'E_DICOM_INVALID'));
  const jpg = readFileSync(join(dir, 'grey8_jpeg50.dcm'));
  writeFileSync(join(dir, 'err_truncated_jpeg.dcm'), jpg.subarray(0, jpg.length - 4000));
  out.push(base('err_truncated_jpeg.dcm', 'grey8_jpeg50 cut inside its JPEG fragment', 'E_DICOM_INVALID'));
  writeFileSync(
    join(dir, 'err_sr.dump'),
    [
      '(0002,0010) UI =LittleEndianExplicit',
      '(0008,0016) UI =BasicTextSRStorage',
      '(0008,0018) UI [1.2.826.0.1.3680043.10.1234.9.1]',
      '(0008,0060) CS [SR]',
      '(0010,0010) PN [Doe^Jane]',
      '(0020,000d) UI [1.2.826.0.1.3680043.10.1234.1]',
      '(0020,000e) UI [1.2.826.0.1.3680043.10.1234.9]',
      '(0040,a040) CS [CONTAINER]',
      '(0040,a050) CS [SEPARATE]',
      '(0040,a491) CS [COMPLETE]',
      '(0040,a493) CS [UNVERIFIED]',
      '',
    ].join('\n'),
  );
  run('dump2dcm', ['+te', 'err_sr.dump', 'err_sr.dcm'], dir);
  out.push(base('err_sr.dcm', 'dump2dcm Basic Text SR (no pixel data)', 'E_DICOM_NO_PIXELS'));
  const mpeg = patchTransferSyntax(readFileSync(join(dir, 'grey8_jpeg50.dcm')), '1.2.840.10008.1.2.4.100');
  writeFileSync(join(dir, 'err_mpeg2.dcm'), mpeg);
  const patched = transferSyntaxOf(dir, 'err_mpeg2.dcm');
  if (patched !== '1.2.840.10008.1.2.4.100') throw new Error(`MPEG2 patch failed: dcmdump reads "${patched}"`);
  out.push({ ...base('err_mpeg2.dcm', 'grey8_jpeg50 with transfer syntax set to MPEG2 MP@ML (1.2.840.10008.1.2.4.100)', 'E_DICOM_UNSUPPORTED'), transferSyntaxUID: patched });
  writeFileSync(join(dir, 'huge.raw'), Buffer.alloc(64));
  craft(dir, 'err_huge.dcm', {
    sopClass: '1.2.840.10008.5.1.4.1.1.7',
    modality: 'OT',
    rows: 60000,
    columns: 60000,
    samples: 1,
    photometric: 'MONOCHROME2',
    bitsAllocated: 16,
    bitsStored: 16,
    signed: false,
    pixelFile: 'huge.raw',
  });
  out.push(base('err_huge.dcm', 'header claims 60000x60000 16-bit pixels, 64 bytes of pixel data', 'E_IMAGE_TOO_LARGE'));
  // Corrupt JPEG: keep SOI and the first bytes of its header, overwrite the rest of the fragment's
  // first 2 kB (quantisation/Huffman tables and frame header) with a fixed pattern.
  const corrupt = Buffer.from(jpg);
  const pixelTag = corrupt.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const soi = corrupt.indexOf(Buffer.from([0xff, 0xd8, 0xff]), pixelTag);
  for (let i = soi + 20; i < soi + 2020 && i < corrupt.length - 10; i++) corrupt[i] = (i * 37) & 0xff & 0xfe;
  writeFileSync(join(dir, 'err_corrupt_jpeg.dcm'), corrupt);
  out.push(base('err_corrupt_jpeg.dcm', 'grey8_jpeg50 with 2000 bytes of its JPEG fragment overwritten', 'E_DECODE_FAILED'));
  return out;
}

function loadCached(): DicomCorpus | undefined {
  const manifest = join(DICOM_CORPUS_DIR, 'manifest.json');
  if (!existsSync(manifest)) return undefined;
  const cached = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string; files: CorpusEntry[] };
  if (cached.version !== CORPUS_VERSION) return undefined;
  // Paths are stored relative to the corpus folder, so the folder can be built elsewhere and renamed.
  const abs = (f: string) => join(DICOM_CORPUS_DIR, f);
  const files = cached.files.map((e) => ({
    ...e,
    file: abs(e.file),
    reference: e.reference ? { ...e.reference, file: abs(e.reference.file) } : undefined,
  }));
  return files.every((f) => existsSync(f.file)) ? { dir: DICOM_CORPUS_DIR, files } : undefined;
}

function buildInto(dir: string): void {
  buildBases(dir);
  const files: CorpusEntry[] = [];
  for (const plan of plans()) {
    plan.make(dir);
    const entry = entryFor(dir, plan);
    entry.transferSyntaxUID = transferSyntaxOf(dir, plan.name) || entry.transferSyntaxUID;
    files.push(entry);
  }
  files.push(...errorEntries(dir));
  const rel = (f: string) => relative(dir, f);
  const stored = files.map((e) => ({
    ...e,
    file: rel(e.file),
    reference: e.reference ? { ...e.reference, file: rel(e.reference.file) } : undefined,
  }));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: CORPUS_VERSION, files: stored }, null, 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Build (or reuse) the DICOM corpus. Returns `{skipped}` with the reason when dcmtk/gdcm or
 * ../shared/data are absent. Safe to call from several test processes at once: one builds (under a
 * lock folder, into a temporary folder renamed at the end), the others wait for it.
 */
export async function buildDicomCorpus(): Promise<DicomCorpus | { skipped: string }> {
  const why = dicomCorpusUnavailable();
  if (why) return { skipped: why };
  const lock = `${DICOM_CORPUS_DIR}.lock`;
  mkdirSync(dirname(DICOM_CORPUS_DIR), { recursive: true });
  for (;;) {
    const cached = loadCached();
    if (cached) return cached;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process is building; a lock older than 15 minutes is left over from a killed run.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (Number.isFinite(age) && age > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      await sleep(1000);
    }
  }
  try {
    const cached = loadCached();
    if (cached) return cached;
    const tmp = `${DICOM_CORPUS_DIR}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    buildInto(tmp);
    rmSync(DICOM_CORPUS_DIR, { recursive: true, force: true });
    renameSync(tmp, DICOM_CORPUS_DIR);
    const built = loadCached();
    if (!built) throw new Error('DICOM corpus was built but its manifest cannot be read back');
    return built;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
