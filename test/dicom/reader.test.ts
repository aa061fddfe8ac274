/** readDicom semantics (units, geometry, windows, PHI, MONOCHROME1) and typed errors. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isMedvlmError } from '../../src/core/errors.js';
import { isDicom, readDicom } from '../../src/io/dicom/index.js';
import { buildDicomCorpus, dicomCorpusUnavailable, type CorpusEntry } from '../support/dicom-corpus.js';

const unavailable = dicomCorpusUnavailable();
if (unavailable) console.warn(`skipping DICOM corpus tests: ${unavailable}`);
const corpus = unavailable ? undefined : await buildDicomCorpus();
const files: CorpusEntry[] = corpus && 'files' in corpus ? corpus.files : [];
const byName = (name: string): CorpusEntry => {
  const f = files.find((e) => e.name === name);
  if (!f) throw new Error(`corpus file ${name} missing`);
  return f;
};
const read = (name: string) => readDicom(readFileSync(byName(name).file), byName(name).file);

async function thrown(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!isMedvlmError(e)) throw new Error(`raw exception escaped: ${String(e)}`, { cause: e });
    return { code: e.code, message: e.message };
  }
  throw new Error('expected an error');
}

function stats(data: Float32Array): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  return { min, max, mean: sum / data.length };
}

describe('readDicom without system tools', () => {
  it('rejects a zero-byte file with E_FILE_EMPTY naming the path', async () => {
    const e = await thrown(readDicom(new Uint8Array(0), '/data/empty.dcm'));
    expect(e.code).toBe('E_FILE_EMPTY');
    expect(e.message).toContain('/data/empty.dcm');
  });

  it('rejects text with E_DICOM_INVALID', async () => {
    const text = new TextEncoder().encode('Findings: no acute abnormality.\n'.repeat(10));
    const e = await thrown(readDicom(text, '/data/report.dcm'));
    expect(e.code).toBe('E_DICOM_INVALID');
    expect(e.message).toMatch(/^\/data\/report\.dcm: not a DICOM file/);
    expect(isDicom(text)).toBe(false);
  });

  it('recognises DICM at 128 and bare data sets at byte 0', () => {
    const part10 = new Uint8Array(200);
    part10.set([0x44, 0x49, 0x43, 0x4d], 128);
    expect(isDicom(part10)).toBe(true);
    // (0008,0016) UI, explicit VR
    expect(isDicom(Uint8Array.from([0x08, 0x00, 0x16, 0x00, 0x55, 0x49, 0x1a, 0x00, 0x31, 0x2e]))).toBe(true);
    // (0008,0005) implicit VR, length 10
    expect(isDicom(Uint8Array.from([0x08, 0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x49, 0x53]))).toBe(true);
    // PNG signature
    expect(isDicom(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toBe(false);
    expect(isDicom(new Uint8Array(0))).toBe(false);
  });
});

describe.skipIf(files.length === 0)('readDicom on the corpus', () => {
  it('applies the modality LUT: signed 12-bit CT to HU', async () => {
    const img = await read('ct16s_evrle.dcm');
    expect(img.meta).toMatchObject({ rescaleSlope: 1.25, rescaleIntercept: -300, bitsStored: 12, pixelRepresentation: 1 });
    const s = stats(img.data);
    // stored = grey*11 - 900 + t (t in -2..2), HU = 1.25*stored - 300; min/max/mean computed from that
    // formula over the source JPEG's decoded pixels (dcmdjpeg), not by this reader
    expect(s.min).toBe(-1427.5);
    expect(s.max).toBe(2083.75);
    expect(s.mean).toBeCloseTo(-467.534192, 3);
    // the first pixel of the source JPEG is grey 1: stored 11 - 900 - 2 = -891 -> HU -1413.75
    expect(img.data[0]).toBe(-1413.75);
  });

  it('unsigned 12-bit CT with intercept -1024', async () => {
    const img = await read('ct12u_evrle.dcm');
    const s = stats(img.data);
    expect(s.min).toBe(-1024);
    expect(img.data[0]).toBe(16 - 1024);
    expect(s.max).toBe(4086 - 1024);
  });

  it('masks bits above HighBit and sign-extends', async () => {
    const clean = await read('ct16s_evrle.dcm');
    const junk = await read('ct16s_junkbits_evrle.dcm');
    expect(Array.from(junk.data)).toEqual(Array.from(clean.data));
  });

  it('reads geometry, windows, modality and shape', async () => {
    const img = await read('ct16s_evrle.dcm');
    expect(img.shape).toEqual([1, 320, 320]);
    expect(img.modality).toBe('CT');
    expect(img.spacing).toEqual([0.6, 0.7, 2.5]);
    expect(img.origin).toEqual([-160, -150.5, 42.25]);
    expect(img.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(img.windows).toEqual([
      { center: 40, width: 400, source: 'file' },
      { center: -600, width: 1500, source: 'file' },
    ]);
    expect(img.invertForDisplay).toBe(false);
  });

  it('keeps PHI out of meta and puts it in phi', async () => {
    const img = await read('ct16s_evrle.dcm');
    expect(img.phi).toMatchObject({
      PatientName: 'Doe^Jane',
      PatientID: 'PID-0001',
      PatientBirthDate: '19700101',
      PatientSex: 'F',
      PatientAge: '054Y',
      AccessionNumber: 'ACC0001',
      InstitutionName: 'General Test Hospital',
      ReferringPhysicianName: 'Ref^Doctor',
      StudyDate: '20240115',
      StudyInstanceUID: '1.2.826.0.1.3680043.10.1234.1',
    });
    expect(img.phi.SOPInstanceUID).toMatch(/^1\.2\.826\.0\.1\.3680043\.10\.1234\.3\./);
    const meta = JSON.stringify(img.meta);
    for (const v of Object.values(img.phi)) expect(meta).not.toContain(v);
    expect(img.meta).toMatchObject({
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      transferSyntax: 'Explicit VR Little Endian',
      bitsAllocated: 16,
      highBit: 11,
      samplesPerPixel: 1,
      sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
      frames: 1,
    });
  });

  it('MONOCHROME1: data as stored, invertForDisplay set', async () => {
    const m1 = await read('mono1_evrle.dcm');
    const m2 = await read('grey8_evrle.dcm');
    expect(m1.photometric).toBe('MONOCHROME1');
    expect(m1.invertForDisplay).toBe(true);
    expect(m1.modality).toBe('CR');
    expect(Array.from(m1.data)).toEqual(Array.from(m2.data));
  });

  it('multi-frame: frames stacked along z', async () => {
    const img = await read('mf8_jpeg70_nobot_frag.dcm');
    expect(img.shape).toEqual([3, 320, 320]);
    expect(img.depth).toBe(3);
    const first = await read('grey8_evrle.dcm');
    expect(Array.from(img.data.subarray(0, 320 * 320))).toEqual(Array.from(first.data));
  });

  it('colour: planar 1 and YBR come out as the same interleaved RGB', async () => {
    const p0 = await read('rgb_p0_evrle.dcm');
    const p1 = await read('rgb_p1_evrle.dcm');
    const ybr = await read('ybrfull_evrle.dcm');
    expect(p0.shape).toEqual([1, 320, 262, 3]);
    expect(p0.channels).toBe(3);
    expect(Array.from(p1.data)).toEqual(Array.from(p0.data));
    // YBR_FULL made from the RGB with rounding converts back within 1 grey level
    let d = 0;
    for (let i = 0; i < p0.data.length; i++) d = Math.max(d, Math.abs(p0.data[i] - ybr.data[i]));
    expect(d).toBeLessThanOrEqual(2);
    expect(ybr.windows).toEqual([]);
    expect(ybr.meta.rescaleSlope).toBe(1);
  });

  it('preamble-less files read like the Part 10 original', async () => {
    const ref = await read('grey8_evrle.dcm');
    for (const name of ['grey8_dataset_implicit.dcm', 'grey8_dataset_explicit.dcm', 'grey8_nopreamble.dcm']) {
      const bytes = readFileSync(byName(name).file);
      expect(isDicom(bytes), name).toBe(true);
      const img = await readDicom(bytes, name);
      expect(Array.from(img.data), name).toEqual(Array.from(ref.data));
    }
  });

  const errorCases: Array<[string, string, RegExp]> = [
    ['err_empty.dcm', 'E_FILE_EMPTY', /empty/],
    ['err_text.dcm', 'E_DICOM_INVALID', /not a DICOM file/],
    ['err_truncated_pixels.dcm', 'E_DICOM_INVALID', /truncated/],
    ['err_truncated_header.dcm', 'E_DICOM_INVALID', /truncated/],
    ['err_truncated_jpeg.dcm', 'E_DICOM_INVALID', /truncated/],
    ['err_sr.dcm', 'E_DICOM_NO_PIXELS', /no pixel data/],
    ['err_mpeg2.dcm', 'E_DICOM_UNSUPPORTED', /1\.2\.840\.10008\.1\.2\.4\.100 \(MPEG2 Main Profile \/ Main Level\)/],
    ['err_huge.dcm', 'E_IMAGE_TOO_LARGE', /60000x60000/],
    ['err_corrupt_jpeg.dcm', 'E_DECODE_FAILED', /frame 1/],
  ];
  it('the codecs still work after a corrupt frame', async () => {
    await thrown(read('err_corrupt_jpeg.dcm'));
    const img = await read('grey8_jpeg50.dcm');
    const ref = await read('grey8_evrle.dcm');
    let d = 0;
    for (let i = 0; i < img.data.length; i++) d = Math.max(d, Math.abs(img.data[i] - ref.data[i]));
    expect(d).toBe(0); // grey8_evrle is dcmdjpeg's decoding of grey8_jpeg50
  });

  for (const [name, code, what] of errorCases) {
    it(`${name} -> ${code}`, async () => {
      const entry = byName(name);
      expect(entry.expectError).toBe(code);
      const e = await thrown(readDicom(readFileSync(entry.file), entry.file));
      expect(e.code).toBe(code);
      expect(e.message.startsWith(`${entry.file}: `)).toBe(true);
      expect(e.message).toMatch(what);
    });
  }
});

