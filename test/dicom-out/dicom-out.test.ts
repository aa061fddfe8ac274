/**
 * DICOM outputs of the dense commands, checked by independent readers: `segment --dicom-seg` writes a DICOM
 * Segmentation and `map --out x.dcm` a Parametric Map of a DICOM input (an MR instance with full plane
 * geometry that pydicom writes from a repository sample). dciodvfy (dicom3tools) reports no errors for
 * either; dcmdump reads them; pydicom decodes the SEG frame equal to the mask PNG of the same run pixel for
 * pixel, the map's floats equal the .npy map, and references/geometry equal the input's. A real Orthanc
 * accepts both (its own SOP class read back). A non-DICOM input in the same batch fails alone (E_NOT_DICOM).
 * An enhanced multi-frame MR: the SEG is of the frame the view took (--frame), with that frame's position.
 *
 * Needs: Debian python3-pydicom and python3-numpy (/usr/bin/python3), dicom3tools (dciodvfy), dcmtk
 * (dcmdump); orthanc + orthanc-dicomweb for the store check; python3-torch + python3-onnx for the tiny
 * segmenter. Each part skips with the reason when its tool is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/paths.js';
import { orthancUnavailable, startOrthanc, type TestOrthanc } from '../support/orthanc.js';
import { medvlmAsync } from '../support/spawn-cli.js';
import { tinySegmenter } from '../support/tiny-segmenter.js';
import { PY, py } from '../support/python.js';

const root = packageRoot();
const sample = join(root, 'samples', 'vqarad-head-mr-1.jpg');
const which = (t: string) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const pydicomOk = existsSync(PY) && spawnSync(PY, ['-c', 'import pydicom, numpy'], { encoding: 'utf8' }).status === 0;
const missing = [!pydicomOk && 'python3-pydicom/python3-numpy (/usr/bin/python3)', !which('dciodvfy') && 'dicom3tools (dciodvfy)', !which('dcmdump') && 'dcmtk (dcmdump)'].filter(Boolean);
if (missing.length) console.warn(`[dicom-out] skipped: needs ${missing.join(', ')}`);
const tiny = missing.length ? {} : tinySegmenter();
if (tiny.skip) console.warn(`[dicom-out] segmentation part skipped: ${tiny.skip}`);
const orthancWhy = orthancUnavailable();
if (orthancWhy) console.warn(`[dicom-out] Orthanc store check skipped: ${orthancWhy}`);

/** dciodvfy's error lines (it prints warnings too; those are allowed). */
function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^Error/.test(l));
}

/** Attributes both files are compared on, read by pydicom. */
function describeDicom(seg: string, src: string): Record<string, unknown> {
  return JSON.parse(py(`
import json, pydicom
d = pydicom.dcmread(${JSON.stringify(seg)}); s = pydicom.dcmread(${JSON.stringify(src)})
sh = d.SharedFunctionalGroupsSequence[0]; pf = d.PerFrameFunctionalGroupsSequence[0]
src_ref = pf.DerivationImageSequence[0].SourceImageSequence[0]
print(json.dumps({
  "sopClass": d.SOPClassUID, "rows": d.Rows,
  "propertyType": d.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0].CodeValue if "SegmentSequence" in d else None, "columns": d.Columns, "frames": int(d.NumberOfFrames),
  "refSop": src_ref.ReferencedSOPInstanceUID, "refSeries": d.ReferencedSeriesSequence[0].SeriesInstanceUID,
  "refSeriesSop": d.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID,
  "spacing": [float(x) for x in sh.PixelMeasuresSequence[0].PixelSpacing],
  "orientation": [float(x) for x in sh.PlaneOrientationSequence[0].ImageOrientationPatient],
  "position": [float(x) for x in pf.PlanePositionSequence[0].ImagePositionPatient],
  "frameOfReference": d.FrameOfReferenceUID, "study": d.StudyInstanceUID, "series": d.SeriesInstanceUID,
  "patientId": d.PatientID, "patientName": str(d.PatientName), "accession": d.AccessionNumber,
  "src": {"rows": s.Rows, "columns": s.Columns, "sop": s.SOPInstanceUID, "series": s.SeriesInstanceUID,
    "spacing": [float(x) for x in s.PixelSpacing], "position": [float(x) for x in s.ImagePositionPatient],
    "orientation": [float(x) for x in s.ImageOrientationPatient], "frameOfReference": s.FrameOfReferenceUID,
    "study": s.StudyInstanceUID, "patientId": s.PatientID, "patientName": str(s.PatientName), "accession": s.AccessionNumber},
}))`)) as Record<string, unknown>;
}

function expectSameGeometry(d: Record<string, unknown>): void {
  const s = d.src as Record<string, unknown>;
  expect([d.rows, d.columns]).toEqual([s.rows, s.columns]);
  expect(d.refSop).toBe(s.sop);
  expect(d.refSeriesSop).toBe(s.sop);
  expect(d.refSeries).toBe(s.series);
  expect(d.series).not.toBe(s.series);
  expect(d.spacing).toEqual(s.spacing);
  expect(d.position).toEqual(s.position);
  expect(d.orientation).toEqual(s.orientation);
  expect(d.frameOfReference).toBe(s.frameOfReference);
  expect([d.study, d.patientId, d.patientName, d.accession]).toEqual([s.study, s.patientId, s.patientName, s.accession]);
}

describe.skipIf(missing.length > 0)('DICOM outputs of map and segment', () => {
  let dir: string;
  let source: string;
  let orthanc: TestOrthanc | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medvlm-dicom-out-'));
    const { data, info } = await sharp(sample).greyscale().raw().toBuffer({ resolveWithObject: true });
    writeFileSync(join(dir, 'src.raw'), data);
    source = join(dir, 'mr.dcm');
    const r = spawnSync(PY, [join(import.meta.dirname, 'make-source.py'), join(dir, 'src.raw'), String(info.width), String(info.height), source], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    if (!orthancWhy) orthanc = await startOrthanc();
  }, 60_000);
  afterAll(async () => {
    await orthanc?.dispose();
  });

  /** Store a Part 10 file in the test Orthanc; its HTTP status and the SOP class Orthanc reads back. */
  async function store(file: string): Promise<{ status: number; sopClass?: string }> {
    const auth = `Basic ${Buffer.from(`${orthanc!.user}:${orthanc!.password}`).toString('base64')}`;
    const res = await fetch(`${orthanc!.httpUrl}/instances`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/dicom' }, body: readFileSync(file) });
    if (res.status !== 200) return { status: res.status };
    const { ID } = (await res.json()) as { ID: string };
    const tags = await orthanc!.rest<{ SOPClassUID: string }>(`/instances/${ID}/simplified-tags`);
    return { status: res.status, sopClass: tags.SOPClassUID };
  }

  it.skipIf(!!tiny.skip)('segment --dicom-seg: a valid SEG whose frame is the mask PNG, referencing the input; a JPEG in the batch fails alone', async () => {
    const out = join(dir, 'seg');
    // 0.51 splits the tiny random segmenter's probabilities (all near 0.5) into a mask of many pixels and many holes
    const r = await medvlmAsync(['segment', source, sample, '--text', 'lesion', '--model', tiny.dir!, '--threshold', '0.51', '--out', out, '--dicom-seg', '--format', 'dcm', '--json']);
    expect(r.code, r.stderr).toBe(3);
    const rows = JSON.parse(r.stdout) as Array<{ file: string; mask?: string; dicomSeg?: string; maskPixels?: number; width?: number; height?: number; error?: { code: string; message: string } }>;
    expect(rows).toHaveLength(2);
    const bad = rows.find((x) => x.file === sample)!;
    expect(bad.error?.code).toBe('E_NOT_DICOM');
    expect(bad.error?.message).toContain('vqarad-head-mr-1.jpg');
    expect(r.stderr).toMatch(/vqarad-head-mr-1\.jpg: .*DICOM input.*\[E_NOT_DICOM\]/);
    const row = rows.find((x) => x.file === source)!;
    expect(row.maskPixels! / (row.width! * row.height!)).toBeGreaterThan(0.1);
    expect(row.maskPixels! / (row.width! * row.height!)).toBeLessThan(0.9);

    const seg = row.dicomSeg!;
    expect(dciodvfyErrors(seg)).toEqual([]);
    const dump = spawnSync('dcmdump', [seg], { encoding: 'utf8' });
    expect(dump.status, dump.stderr).toBe(0);
    expect(dump.stdout).toMatch(/\(0062,0001\) CS \[BINARY\]/);
    expect(dump.stdout).toMatch(/\(0062,0005\) LO \[lesion\]/); // segment label = the prompt
    expect(dump.stdout).toMatch(/\(0062,0008\) CS \[AUTOMATIC\]/);

    const d = describeDicom(seg, source);
    expect(d.sopClass).toBe('1.2.840.10008.5.1.4.1.1.66.4');
    expect(d.propertyType).toBe('52988006'); // "lesion" names no more specific morphology
    expect(d.frames).toBe(1);
    expectSameGeometry(d);
    // the frame, decoded by pydicom, equals the mask PNG (0/255) pixel for pixel
    const raw = join(dir, 'seg-frame.raw');
    py(`
import pydicom, numpy as np
a = pydicom.dcmread(${JSON.stringify(seg)}).pixel_array
np.ascontiguousarray(a, dtype=np.uint8).tofile(${JSON.stringify(raw)})`);
    const frame = readFileSync(raw);
    const png = await sharp(row.mask!).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(frame.length).toBe(png.data.length);
    let differ = 0;
    let inside = 0;
    for (let i = 0; i < frame.length; i++) {
      if (frame[i] * 255 !== png.data[i]) differ++;
      inside += frame[i];
    }
    expect(differ).toBe(0);
    expect(inside).toBe(row.maskPixels);

    if (orthanc) expect(await store(seg)).toEqual({ status: 200, sopClass: '1.2.840.10008.5.1.4.1.1.66.4' });

    // --format dcm: the probability as a Parametric Map; thresholded at 0.51 it is the mask again
    const prob = (row as { probability?: string }).probability!;
    expect(prob).toMatch(/-prob\.dcm$/);
    expect(dciodvfyErrors(prob)).toEqual([]);
    const p = JSON.parse(py(`
import json, pydicom, numpy as np
d = pydicom.dcmread(${JSON.stringify(prob)})
a = np.frombuffer(d.FloatPixelData, dtype='<f4').reshape(d.Rows, d.Columns)
m = np.fromfile(${JSON.stringify(raw)}, dtype=np.uint8).reshape(d.Rows, d.Columns)
rw = d.PerFrameFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
print(json.dumps({"sopClass": d.SOPClassUID, "label": rw.LUTLabel, "lo": float(a.min()), "hi": float(a.max()), "agree": int(((a >= 0.51) == (m == 1)).sum()), "n": int(m.size)}))`)) as Record<string, number | string>;
    expect([p.sopClass, p.label]).toEqual(['1.2.840.10008.5.1.4.1.1.30', 'PROBABILITY']);
    expect(p.lo as number).toBeGreaterThanOrEqual(0);
    expect(p.hi as number).toBeLessThanOrEqual(1);
    expect(p.agree).toBe(p.n);
  }, 180_000);

  it.skipIf(!!tiny.skip)('segment --dicom-seg of a source without a Frame of Reference: still valid (empty PatientOrientation), a note for its Parametric Map; the prompt "colon polyp" gives type Polyp', async () => {
    const bare = join(dir, 'no-for.dcm');
    py(`
import pydicom
d = pydicom.dcmread(${JSON.stringify(source)})
for k in ('FrameOfReferenceUID', 'PositionReferenceIndicator'):
    if k in d: delattr(d, k)
d.save_as(${JSON.stringify(bare)})`);
    const r = await medvlmAsync(['segment', bare, '--text', 'colon polyp', '--model', tiny.dir!, '--threshold', '0.51', '--out', join(dir, 'seg-nofor'), '--dicom-seg', '--format', 'dcm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    // the Parametric Map cannot conform without a Frame of Reference: the user is told, once
    expect(r.stderr.match(/no-for\.dcm has no Frame of Reference or plane geometry/g)).toHaveLength(1);
    const [row] = JSON.parse(r.stdout) as Array<{ dicomSeg: string }>;
    expect(dciodvfyErrors(row.dicomSeg)).toEqual([]); // before: "Missing attribute Type 2C ... PatientOrientation"
    const facts = JSON.parse(py(`
import json, pydicom
d = pydicom.dcmread(${JSON.stringify(row.dicomSeg)})
t = d.SegmentSequence[0].SegmentedPropertyTypeCodeSequence[0]
print(json.dumps({"for": "FrameOfReferenceUID" in d, "orientation": "PatientOrientation" in d, "type": [t.CodeValue, t.CodingSchemeDesignator, t.CodeMeaning]}))`)) as { for: boolean; orientation: boolean; type: string[] };
    expect(facts).toEqual({ for: false, orientation: true, type: ['41329004', 'SCT', 'Polyp'] });
  }, 180_000);

  it.skipIf(!!tiny.skip)('segment --dicom-seg --frame 2 of an enhanced multi-frame MR: the SEG references frame 3 (1-based) with that frame\'s own position', async () => {
    const mf = join(dir, 'enhanced.dcm');
    const info = await sharp(sample).metadata();
    const made = spawnSync(PY, [join(import.meta.dirname, 'make-source.py'), join(dir, 'src.raw'), String(info.width), String(info.height), mf, '3'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const out = join(dir, 'seg-mf');
    const r = await medvlmAsync(['segment', mf, '--text', 'lesion', '--model', tiny.dir!, '--threshold', '0.51', '--frame', '2', '--out', out, '--dicom-seg', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [row] = JSON.parse(r.stdout) as Array<{ mask: string; dicomSeg: string }>;
    expect(dciodvfyErrors(row.dicomSeg)).toEqual([]);
    const d = JSON.parse(py(`
import json, pydicom, numpy as np
d = pydicom.dcmread(${JSON.stringify(row.dicomSeg)}); s = pydicom.dcmread(${JSON.stringify(mf)})
pf = d.PerFrameFunctionalGroupsSequence[0]; ref = pf.DerivationImageSequence[0].SourceImageSequence[0]
np.ascontiguousarray(d.pixel_array, dtype=np.uint8).tofile(${JSON.stringify(join(dir, 'seg-mf.raw'))})
print(json.dumps({"frame": int(ref.ReferencedFrameNumber), "sop": ref.ReferencedSOPInstanceUID, "srcSop": s.SOPInstanceUID,
  "position": [float(x) for x in pf.PlanePositionSequence[0].ImagePositionPatient],
  "srcPosition": [float(x) for x in s.PerFrameFunctionalGroupsSequence[2].PlanePositionSequence[0].ImagePositionPatient],
  "spacing": [float(x) for x in d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]}))`)) as Record<string, unknown>;
    expect(d.frame).toBe(3);
    expect(d.sop).toBe(d.srcSop);
    expect(d.position).toEqual([-101.5, -87.25, 41]);
    expect(d.position).toEqual(d.srcPosition);
    expect(d.spacing).toEqual([0.8, 0.7]);
    const png = await sharp(row.mask).extractChannel(0).raw().toBuffer();
    const frame = readFileSync(join(dir, 'seg-mf.raw'));
    expect(frame.every((v, i) => v * 255 === png[i])).toBe(true);
  }, 180_000);

  it('map --out x.dcm: a valid Parametric Map whose floats equal the .npy map, referencing the input', async () => {
    const pm = join(dir, 'map.dcm');
    const npy = join(dir, 'map-npy.npy');
    const [a, b] = await Promise.all([
      medvlmAsync(['map', source, '--text', 'tumour', '--out', pm, '--json']),
      medvlmAsync(['map', source, '--text', 'tumour', '--out', npy, '--json']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync((JSON.parse(a.stdout) as { overlay: string }).overlay)).toBe(true);
    expect(dciodvfyErrors(pm)).toEqual([]);
    const dump = spawnSync('dcmdump', [pm], { encoding: 'utf8' });
    expect(dump.status, dump.stderr).toBe(0);
    expect(dump.stdout).toMatch(/\(7fe0,0008\) OF/); // FloatPixelData
    const d = describeDicom(pm, source);
    expect(d.sopClass).toBe('1.2.840.10008.5.1.4.1.1.30');
    expectSameGeometry(d);
    const check = JSON.parse(py(`
import json, pydicom, numpy as np
d = pydicom.dcmread(${JSON.stringify(pm)}); m = np.load(${JSON.stringify(npy)})
a = np.frombuffer(d.FloatPixelData, dtype='<f4').reshape(d.Rows, d.Columns)
rw = d.PerFrameFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
print(json.dumps({"shape": list(m.shape), "maxAbs": float(np.abs(a - m).max()), "std": float(m.std()),
  "unit": rw.MeasurementUnitsCodeSequence[0].CodeValue, "scheme": rw.MeasurementUnitsCodeSequence[0].CodingSchemeDesignator,
  "first": rw.DoubleFloatRealWorldValueFirstValueMapped, "last": rw.DoubleFloatRealWorldValueLastValueMapped,
  "lo": float(m.min()), "hi": float(m.max())}))`)) as Record<string, number | string | number[]>;
    expect(check.shape).toEqual([d.rows, d.columns]);
    expect(check.maxAbs).toBeLessThan(1e-6);
    expect(check.std).toBeGreaterThan(0); // a real map, not a constant
    expect([check.unit, check.scheme]).toEqual(['1', 'UCUM']);
    expect(check.first as number).toBeCloseTo(check.lo as number, 6);
    expect(check.last as number).toBeCloseTo(check.hi as number, 6);
    if (orthanc) expect(await store(pm)).toEqual({ status: 200, sopClass: '1.2.840.10008.5.1.4.1.1.30' });
  }, 180_000);

  it('map --out x.dcm of a non-DICOM input: one line, E_NOT_DICOM, exit 3, nothing written', async () => {
    const pm = join(dir, 'jpeg-map.dcm');
    const r = await medvlmAsync(['map', sample, '--text', 'tumour', '--out', pm]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/vqarad-head-mr-1\.jpg: a DICOM Parametric Map can only be made of a DICOM input \(this is jpeg\)/);
    expect(existsSync(pm)).toBe(false);
  }, 60_000);
});
