/** The dense commands: `medvlm map`, `medvlm anomaly`, `medvlm segment`. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { MedvlmError, OptionError } from '../../core/errors.js';
import { expandInputs } from '../../io/inputs.js';
import { DEFAULT_MODEL, RESEARCH_NOTICE } from '../../models/defaults.js';
import { loadDualEncoder, loadPromptableSegmenter, loadTextSegmenter } from '../../models/registry.js';
import { AnomalyDetector } from '../../tasks/anomaly.js';
import { toFileError, type FileError } from '../../tasks/batch.js';
import { prepareDenseInput, sliceCount, volumeSlices, type DenseInput } from '../../tasks/dense-input.js';
import { MAP_METHODS, type DenseMap, type MapMethod } from '../../tasks/dense-map.js';
import { mapRange, textMap, textMapVolume } from '../../tasks/text-map.js';
import { segmentViaMap, segmentViews, type ViewSegmentation } from '../../tasks/segment.js';
import { segmentVolume, type SegmentViewsFn } from '../../tasks/segment-volume.js';
import { encodeMapPng, encodeOverlayPng } from '../../io/dense-write.js';
import type { RGBImage } from '../../io/types.js';
import { progressBar } from '../progress.js';
import type { ResultOf } from '../../tasks/schemas.js';
import { minMaxNormalise } from '../../transforms/dense-resample.js';
import { cliFileError, fileErrorLine } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { pipelineOptions, type ModelCliOptions } from '../model.js';
import { intOption, modelOptions, toViewOptions, viewOptions, type ViewCliOptions } from '../options.js';
import { note, out, writeOutput } from '../output.js';
import { mapFormat, stemOf, writeMap, writeMask, writeNifti, writeOverlay } from '../dense-output.js';
import { reportNoInputs } from '../inputs.js';
import { parametricMapOf, sourceFrameOf } from '../../pacs/dense-dicom.js';
import { hasPlaneGeometry, type SourceFrame } from '../../pacs/derived-image.js';
import { buildParametricMap, COSINE_SIMILARITY, PROBABILITY } from '../../pacs/parametric-map.js';
import { buildSegmentation } from '../../pacs/seg.js';

/** The bundled text-prompted segmenter. */
export const DEFAULT_SEGMENTER = 'medvlm-tiny-seg';

const methodOption = (): Option => new Option('--method <method>', 'patch grid, sliding windows, or both (default: patch when the model has patch features, else windows)').choices([...MAP_METHODS]);

interface MapCliOptions extends ModelCliOptions, ViewCliOptions {
  text: string;
  allSlices?: boolean;
  out?: string;
  overlay?: string;
  method?: MapMethod;
  force?: boolean;
  json?: boolean;
}

/** `medvlm map FILE --text T [--out map.png|.npy|.nii.gz]`: text→image similarity map plus overlay. */
export function mapCommand(): Command {
  const cmd = new Command('map')
    .description('text-to-image similarity map at the input\'s size and geometry (NIfTI in → NIfTI out with the same affine), plus an overlay PNG')
    .argument('<file>', 'image file (DICOM, NIfTI, PNG/JPEG)')
    .requiredOption('--text <text>', 'what to look for, e.g. "lesion"')
    .option('-o, --out <file>', 'map file: .png (min-max scaled grey), .npy, .nii/.nii.gz (raw cosine similarity) or .dcm (DICOM Parametric Map of the raw similarity; DICOM inputs only); default <name>-map.png')
    .option('--overlay <file>', 'overlay PNG (default: next to --out, <name>-overlay.png)')
    .addOption(methodOption())
    .option('--all-slices', 'map every slice of a NIfTI volume along --plane, viewed with one window, into one NIfTI (default <name>-map.nii.gz) in its voxel grid and affine; the overlay shows the slice holding the maximum')
    .option('--force', 'replace existing outputs')
    .option('--json', 'print the result as JSON');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (file: string, o: MapCliOptions) => {
    if (o.allSlices) return mapVolumeAction(file, o);
    const outPath = o.out ?? `${stemOf(file)}-map.png`;
    const dicomOut = /\.dcm$/i.test(outPath);
    if (!dicomOut) mapFormat(outPath, '--out');
    const overlayPath = o.overlay ?? outPath.replace(/(\.nii\.gz|\.[^.]+)$/i, '') + '-overlay.png';
    const input = await prepareDenseInput(file, toViewOptions(o));
    const sourceBytes = dicomOut ? new Uint8Array(await readFile(file)) : undefined;
    if (sourceBytes) warnIfNoPlaneGeometry(sourceFrameOf(input, sourceBytes, 'DICOM Parametric Map'), input.file); // fail before the model loads
    const encoder = await loadDualEncoder(o.model, pipelineOptions(o));
    try {
      const map = await textMap(encoder, input.view, o.text, o.method ? { method: o.method } : {});
      const display = { width: map.width, height: map.height, data: minMaxNormalise(map.data) };
      if (sourceBytes) {
        const pm = parametricMapOf(input, sourceBytes, map, { text: o.text, model: encoder.info.id, quantity: COSINE_SIMILARITY });
        await writeOutput(outPath, pm.bytes, Boolean(o.force));
      } else await writeMap(outPath, input, map, display, Boolean(o.force));
      await writeOverlay(overlayPath, input, display, Boolean(o.force));
      const [lo, hi] = mapRange(map.data);
      const result = {
        file: input.file, text: o.text, model: encoder.info.id, method: map.method, width: map.width, height: map.height,
        imageSimilarity: map.imageScore, mapRange: [lo, hi], out: outPath, overlay: overlayPath, researchNotice: RESEARCH_NOTICE,
      };
      if (o.json) out(JSON.stringify(result, null, 2));
      else {
        out(`# ${RESEARCH_NOTICE}`);
        out(`${input.file}: "${o.text}" map (${map.method}, ${map.width}x${map.height}, cosine ${lo.toFixed(3)}..${hi.toFixed(3)}) → ${outPath}, overlay ${overlayPath}`);
      }
    } finally {
      await encoder.dispose();
    }
  });
}

/** `map --all-slices`: the similarity of every slice, as one NIfTI in the input's grid, plus the overlay of the peak slice. */
async function mapVolumeAction(file: string, o: MapCliOptions): Promise<void> {
  const outPath = o.out ?? `${stemOf(file)}-map.nii.gz`;
  if (!/\.nii(\.gz)?$/i.test(outPath)) throw new OptionError('E_BAD_OPTION', `--all-slices writes a volume: --out ${outPath} cannot hold one; use a .nii or .nii.gz name`, { option: 'out' });
  refuseSliceChoice(o);
  const overlayPath = o.overlay ?? outPath.replace(/(\.nii\.gz|\.nii)$/i, '') + '-overlay.png';
  const input = await prepareDenseInput(file, toViewOptions(o));
  const bar = progressBar(stemOf(file), sliceCount(input), 'slices');
  const encoder = await loadDualEncoder(o.model, pipelineOptions(o));
  try {
    const vol = await textMapVolume(encoder, input, toViewOptions(o), o.text, {
      ...(o.method ? { method: o.method } : {}), ...(o.batchSize ? { batch: o.batchSize } : {}), ...(bar.onProgress ? { onProgress: (d, t) => bar.onProgress!(d, t, file) } : {}),
    });
    bar.stop();
    await writeNifti(outPath, vol.data, vol.dims, vol.affine, Boolean(o.force), 'medvlm cosine similarity');
    const [lo, hi] = mapRange(vol.data);
    const m = vol.shown.map;
    // the peak slice, scaled by the whole volume's range, so slices compare
    await writeOverlay(overlayPath, vol.shown.input, { width: m.width, height: m.height, data: minMaxNormalise(m.data, [lo, hi]) }, Boolean(o.force));
    const result = {
      file: input.file, text: o.text, model: encoder.info.id, method: vol.method, dims: vol.dims, slices: vol.slices, shownSlice: vol.shown.index,
      window: vol.window, mapRange: [lo, hi], out: outPath, overlay: overlayPath, researchNotice: RESEARCH_NOTICE,
    };
    if (o.json) out(JSON.stringify(result, null, 2));
    else {
      out(`# ${RESEARCH_NOTICE}`);
      out(`${input.file}: "${o.text}" map of ${vol.slices} slices (${vol.method}, cosine ${lo.toFixed(3)}..${hi.toFixed(3)}, peak on slice ${vol.shown.index}) → ${outPath}, overlay ${overlayPath}`);
    }
  } finally {
    bar.stop();
    await encoder.dispose();
  }
}

/**
 * Read inputs one at a time as dense inputs, for a caller that is done with each before the next: a folder
 * of any size is never held in memory at once. Bad files go into `failed` and the batch goes on;
 * `onRead(done, total)` after each file.
 */
async function* streamInputs(files: string[], o: ViewCliOptions, failed: FileError[], onRead?: (done: number, total: number, name: string) => void): AsyncGenerator<DenseInput> {
  for (const [i, f] of files.entries()) {
    let input: DenseInput | undefined;
    try {
      input = await prepareDenseInput(f, toViewOptions(o), i);
    } catch (e) {
      failed.push(cliFileError(toFileError(f, e)));
    }
    if (input) yield input;
    onRead?.(i + 1, files.length, f);
  }
}

/** Read all of `files` as dense inputs (a few references); bad files become FileErrors and the batch goes on. */
async function readInputs(files: string[], o: ViewCliOptions): Promise<{ ok: DenseInput[]; failed: FileError[] }> {
  const ok: DenseInput[] = [];
  const failed: FileError[] = [];
  for await (const input of streamInputs(files, o, failed)) ok.push(input);
  return { ok, failed };
}

function finish(failed: FileError[]): void {
  for (const f of failed) note(fileErrorLine(f));
  if (failed.length) process.exitCode = EXIT.input;
}

interface AnomalyCliOptions extends ModelCliOptions, ViewCliOptions {
  normal?: string;
  k?: number;
  maps?: string;
  object: string;
  method?: MapMethod;
  allSlices?: boolean;
  json?: boolean;
  force?: boolean;
}

/** `medvlm anomaly INPUTS [--normal DIR] [--k N] [--maps DIR] [--json]`: anomaly scores (and maps). */
export function anomalyCommand(): Command {
  const cmd = new Command('anomaly')
    .description('anomaly score per image (higher = more anomalous): zero-shot from prompt ensembles, or few-shot against k normal references')
    .argument('<inputs...>', 'files, folders or glob patterns')
    .option('--normal <dir>', 'folder (or pattern) of normal reference images: few-shot')
    .addOption(new Option('--k <n>', 'use the first k references (sorted by name; default all)').argParser(intOption('--k', 1)))
    .option('--maps <dir>', 'write <name>-anomaly.png (0..1 scaled per run) and <name>-overlay.png per input here')
    .option('--object <words>', 'what the images show, for the prompts (e.g. "brain MRI")', 'medical image')
    .addOption(methodOption())
    .option('--all-slices', 'score every slice of a NIfTI volume along --plane, viewed with one window: the volume scores as its highest slice (JSON sliceScores, peakSlice); --maps adds <name>-anomaly.nii.gz in its voxel grid and affine, and the PNGs show the peak slice; volume references give every slice to the memory bank')
    .option('--force', 'replace existing map files')
    .option('--json', 'print a JSON array of {file, score} (or {file, error})');
  for (const o of [...modelOptions(DEFAULT_MODEL), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (inputs: string[], o: AnomalyCliOptions) => {
    if (o.allSlices) refuseSliceChoice(o);
    const { files, problems } = await expandInputs(inputs);
    if (files.length === 0) return reportNoInputs(problems);
    let normals: RGBImage[] = [];
    let references = 0;
    const failed: FileError[] = problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } }));
    if (o.normal) {
      const refs = await expandInputs([o.normal]);
      const chosen = refs.files.sort().slice(0, o.k ?? refs.files.length);
      if (chosen.length === 0) throw new OptionError('E_BAD_OPTION', `--normal ${o.normal}: no images found`, { option: 'normal' });
      const r = await readInputs(chosen, o);
      // --all-slices: a reference volume gives every slice (each volume viewed with its own one window)
      normals = r.ok.flatMap((n) => (o.allSlices ? everySliceView(n, o) : [n.view]));
      references = r.ok.length;
      failed.push(...r.failed);
    } else if (o.k !== undefined) throw new OptionError('E_BAD_OPTION', '--k needs --normal DIR (the references to take k from)', { option: 'k' });
    const encoder = await loadDualEncoder(o.model, pipelineOptions(o));
    const bar = o.allSlices ? { stop: () => {} } : progressBar('anomaly', files.length); // --all-slices: a bar of slices per volume instead
    try {
      const detector = await AnomalyDetector.create(encoder, { object: o.object, normals, ...(o.method ? { method: o.method } : {}) });
      // scored a batch at a time as the files are read; with --maps only each view and its map are kept (the
      // maps are scaled by the whole run's range, so they are written at the end)
      const rows: AnomalyRow[] = [];
      const kept: KeptMap[] = [];
      let batch: DenseInput[] = [];
      const flush = async (): Promise<void> => {
        const scored = await detector.score(batch.map((i) => i.view));
        for (const [i, s] of scored.entries()) {
          rows.push({ file: batch[i].file, score: s.score });
          if (o.maps) kept.push({ file: batch[i].file, view: batch[i].view, map: s.map, range: mapRange(s.map.data) });
        }
        batch = [];
      };
      for await (const input of streamInputs(files, o, failed, bar.onProgress)) {
        if (o.allSlices) {
          const row = await anomalyVolumeRow(detector, input, o, failed);
          if (row) {
            rows.push(row.row);
            if (row.kept) kept.push(row.kept);
          }
          continue;
        }
        batch.push(input);
        if (batch.length >= o.batchSize) await flush();
      }
      if (batch.length) await flush();
      bar.stop();
      if (o.maps) {
        let lo = Infinity;
        let hi = -Infinity;
        for (const { range } of kept) {
          lo = Math.min(lo, range[0]);
          hi = Math.max(hi, range[1]);
        }
        for (const { file, view, map } of kept) {
          const display = { width: map.width, height: map.height, data: minMaxNormalise(map.data, [lo, hi]) };
          const stem = join(o.maps, stemOf(file));
          await writeOutput(`${stem}-anomaly.png`, await encodeMapPng(display), Boolean(o.force));
          await writeOutput(`${stem}-overlay.png`, await encodeOverlayPng(view, display), Boolean(o.force));
        }
      }
      const all = [...rows, ...failed];
      if (o.json) {
        out(JSON.stringify(all, null, 2));
        note(`medvlm: ${RESEARCH_NOTICE}`);
      } else {
        out(`# ${RESEARCH_NOTICE}`);
        out(`# ${detector.mode.mode}${references ? ` (k=${references}${normals.length > references ? `, ${normals.length} reference slices` : ''})` : ''}, maps by ${detector.mode.method}, object "${detector.mode.object}", model ${encoder.info.id}`);
        for (const r of rows) out(`${r.score.toFixed(4)}  ${r.file}${r.peakSlice !== undefined ? `  (peak slice ${r.peakSlice} of ${r.slices})` : ''}`);
      }
    } finally {
      bar.stop();
      await encoder.dispose();
    }
    finish(failed);
  });
}

/** One `anomaly --json` row: a volume's also has its slices' scores. */
type AnomalyRow = ResultOf<'AnomalyResult'>;

/** A map kept for the run-scaled PNGs `anomaly --maps` writes at the end: the view, its map and the range it adds. */
type KeptMap = { file: string; view: RGBImage; map: DenseMap; range: [number, number] };

/** The views of every slice of a reference (one view for a 2D image). */
function everySliceView(input: DenseInput, o: ViewCliOptions): RGBImage[] {
  if (sliceCount(input) <= 1) return [input.view];
  const slices = volumeSlices(input, toViewOptions(o));
  return Array.from({ length: slices.count }, (_, i) => slices.at(i).view);
}

/**
 * `anomaly --all-slices` for one input: its slices' scores and, with --maps, `<name>-anomaly.nii.gz` written
 * now (raw scores in the input's grid) and the peak slice kept for the run-scaled PNGs. An input that cannot
 * be taken (a multi-frame DICOM) goes into `failed` and the batch goes on.
 */
async function anomalyVolumeRow(
  detector: AnomalyDetector, input: DenseInput, o: AnomalyCliOptions, failed: FileError[],
): Promise<{ row: AnomalyRow; kept?: KeptMap } | undefined> {
  const vol = await overVolume(input, failed, (onProgress) => detector.scoreVolume(input, toViewOptions(o), { batch: o.batchSize, onProgress }));
  if (!vol) return undefined;
  const row: AnomalyRow = { file: input.file, score: vol.score, slices: vol.sliceScores.length, peakSlice: vol.shown.index, sliceScores: vol.sliceScores, window: vol.window };
  if (!o.maps) return { row };
  row.map = `${join(o.maps, stemOf(input.file))}-anomaly.nii.gz`;
  await writeNifti(row.map, vol.data, vol.dims, vol.affine, Boolean(o.force), 'medvlm anomaly score');
  return { row, kept: { file: input.file, view: vol.shown.input.view, map: vol.shown.output.map, range: mapRange(vol.data) } };
}

interface SegmentCliOptions extends Omit<ModelCliOptions, 'model'>, ViewCliOptions {
  model: string;
  segmenter?: string;
  method?: MapMethod;
  text: string;
  out: string;
  format: string;
  threshold?: number;
  dicomSeg?: boolean;
  allSlices?: boolean;
  force?: boolean;
  json?: boolean;
}

/**
 * The analysed DICOM frame of an input when the options ask for a DICOM output (--dicom-seg, --format dcm);
 * `null` after pushing the input's error into `failed` (not DICOM, or resliced), `undefined` when none is asked.
 */
async function dicomSourceOf(input: DenseInput, o: SegmentCliOptions, failed: FileError[]): Promise<SourceFrame | null | undefined> {
  if (!o.dicomSeg && o.format !== 'dcm') return undefined;
  try {
    return sourceFrameOf(input, new Uint8Array(await readFile(input.file)), o.dicomSeg ? 'DICOM Segmentation' : 'DICOM Parametric Map');
  } catch (e) {
    failed.push(cliFileError(toFileError(input.file, e)));
    return null;
  }
}

/** An error one input's analysis may raise (no prompt from its map, a volume that cannot be taken): that file fails, the batch goes on. */
const isBadOption = (e: unknown): boolean => e instanceof MedvlmError && e.code === 'E_BAD_OPTION';

/**
 * Run one input's `--all-slices` work with a bar of its slices; an input that cannot be taken (E_BAD_OPTION, e.g.
 * a multi-frame DICOM) goes into `failed` as `undefined` and the batch goes on.
 */
async function overVolume<T>(input: DenseInput, failed: FileError[], run: (onProgress: (done: number, total: number) => void) => Promise<T>): Promise<T | undefined> {
  const bar = progressBar(stemOf(input.file), sliceCount(input), 'slices');
  try {
    return await run((done, total) => bar.onProgress?.(done, total, input.file));
  } catch (e) {
    if (!isBadOption(e)) throw e;
    failed.push(cliFileError(toFileError(input.file, e)));
    return undefined;
  } finally {
    bar.stop();
  }
}

/** `--all-slices` takes every slice: a chosen slice or frame contradicts it. */
function refuseSliceChoice(o: ViewCliOptions): void {
  if (o.slice !== undefined || o.frame !== undefined) throw new OptionError('E_BAD_OPTION', '--all-slices takes every slice: leave out --slice and --frame', { option: 'all-slices' });
}

/** A Parametric Map needs the source's Frame of Reference and plane geometry; say so when the source has none. */
function warnIfNoPlaneGeometry(source: SourceFrame, file: string): void {
  if (!hasPlaneGeometry(source)) {
    note(`medvlm: note: ${file} has no Frame of Reference or plane geometry (a secondary capture?): its Parametric Map is written without them, which the IOD requires; a PACS may still store it`);
  }
}

/** Write the mask, probability map (or its Parametric Map), overlay and, when asked, the DICOM SEG of one input; the paths written. */
async function writeSegmentation(
  input: DenseInput, seg: ViewSegmentation, o: SegmentCliOptions, model: { id: string; fileHashes: Record<string, string> }, threshold: number, source: SourceFrame | undefined,
): Promise<{ mask: string; maskArray?: string; probability: string; overlay: string; maskPixels: number; dicomSeg?: string }> {
  const stem = join(o.out, stemOf(input.file));
  const mask = `${stem}-mask.png`;
  const probability = `${stem}-prob.${o.format}`;
  const overlay = `${stem}-overlay.png`;
  await writeMask(mask, input, seg.mask, Boolean(o.force));
  // an array format asked for the probability gets the mask in it too (uint8; NIfTI in the input's grid)
  const maskArray = ['npy', 'nii', 'nii.gz'].includes(o.format) ? `${stem}-mask.${o.format}` : undefined;
  if (maskArray) await writeMask(maskArray, input, seg.mask, Boolean(o.force));
  if (source && o.format === 'dcm') {
    warnIfNoPlaneGeometry(source, input.file);
    const pm = buildParametricMap({ source, map: seg.probability, text: o.text, model: model.id, quantity: PROBABILITY });
    await writeOutput(probability, pm.bytes, Boolean(o.force));
  } else await writeMap(probability, input, seg.probability, seg.probability, Boolean(o.force));
  await writeOverlay(overlay, input, seg.probability, Boolean(o.force), seg.mask);
  let dicomSeg: string | undefined;
  if (source && o.dicomSeg) {
    dicomSeg = `${stem}-seg.dcm`;
    await writeOutput(dicomSeg, buildSegmentation({ source, mask: seg.mask, label: o.text, model, threshold }).bytes, Boolean(o.force));
  }
  return { mask, ...(maskArray ? { maskArray } : {}), probability, overlay, maskPixels: seg.mask.data.reduce((a, v) => a + v, 0), ...(dicomSeg ? { dicomSeg } : {}) };
}

type MapSegmentation = Awaited<ReturnType<typeof segmentViaMap>>;

/**
 * `--all-slices`: segment every slice of `input` and write `<name>-mask.nii(.gz)` (uint8) and
 * `<name>-prob.nii(.gz)` in its voxel grid and affine, with the mask PNG and overlay of the fullest slice.
 * An input that cannot be taken (a multi-frame DICOM) goes into `failed` and the batch goes on.
 */
async function segmentVolumeRow(input: DenseInput, o: SegmentCliOptions, segment: SegmentViewsFn, failed: FileError[]): Promise<Record<string, unknown> | undefined> {
  const vol = await overVolume(input, failed, (onProgress) => segmentVolume(input, toViewOptions(o), segment, { batch: o.batchSize, onProgress }));
  if (!vol) return undefined;
  const stem = join(o.out, stemOf(input.file));
  const ext = o.format === 'nii' ? 'nii' : 'nii.gz';
  const written = { mask: `${stem}-mask.png`, maskArray: `${stem}-mask.${ext}`, probability: `${stem}-prob.${ext}`, overlay: `${stem}-overlay.png` };
  const { input: shownInput, segmentation: shown } = vol.shown;
  await writeMask(written.mask, shownInput, shown.mask, Boolean(o.force));
  await writeNifti(written.maskArray, vol.mask, vol.dims, vol.affine, Boolean(o.force));
  await writeNifti(written.probability, vol.probability, vol.dims, vol.affine, Boolean(o.force), 'medvlm probability');
  await writeOverlay(written.overlay, shownInput, shown.probability, Boolean(o.force), shown.mask);
  return {
    ...written, maskPixels: vol.maskVoxels, slices: vol.slices, shownSlice: vol.shown.index, window: vol.window,
    ...(vol.skipped.length ? { skippedSlices: vol.skipped } : {}), dims: vol.dims,
  };
}

/** Route 1: a model that segments from text itself (--model, default medvlm-tiny-seg). */
async function segmentWithTextSegmenter(inputs: AsyncIterable<DenseInput>, o: SegmentCliOptions, failed: FileError[]): Promise<Array<Record<string, unknown>>> {
  const segmenter = await loadTextSegmenter(o.model, { ...pipelineOptions(o), batchSize: o.batchSize });
  const rows: Array<Record<string, unknown>> = [];
  try {
    const text = segmenter.prompts[o.text] ?? o.text;
    const threshold = o.threshold ?? segmenter.threshold;
    for await (const input of inputs) {
      if (o.allSlices) {
        const row = await segmentVolumeRow(input, o, (views) => segmentViews(segmenter, views, text, threshold), failed);
        if (row) rows.push({ file: input.file, route: 'text-segmenter', model: segmenter.info.id, text, threshold, ...row, researchNotice: RESEARCH_NOTICE });
        continue;
      }
      const source = await dicomSourceOf(input, o, failed);
      if (source === null) continue;
      const [seg] = await segmentViews(segmenter, [input.view], text, threshold);
      const written = await writeSegmentation(input, seg, o, segmenter.info, threshold, source);
      rows.push({ file: input.file, route: 'text-segmenter', model: segmenter.info.id, text, threshold, ...written, width: seg.mask.width, height: seg.mask.height, researchNotice: RESEARCH_NOTICE });
    }
  } finally {
    await segmenter.dispose();
  }
  return rows;
}

/**
 * Route 2 (MedCLIP-SAM): the dual encoder's text map → box and points → the promptable segmenter (--segmenter).
 * An input whose map gives a prompt the export cannot take (E_BAD_OPTION, e.g. a flat map without a box for an
 * export that requires one) goes into `failed` and the batch goes on.
 */
async function segmentWithMapAndSam(inputs: AsyncIterable<DenseInput>, model: string, segmenterId: string, o: SegmentCliOptions, failed: FileError[]): Promise<Array<Record<string, unknown>>> {
  const encoder = await loadDualEncoder(model, pipelineOptions(o));
  const rows: Array<Record<string, unknown>> = [];
  try {
    const segmenter = await loadPromptableSegmenter(segmenterId, { ...pipelineOptions(o), batchSize: o.batchSize });
    try {
      const [text] = await encoder.encodeTexts([o.text]);
      const threshold = o.threshold ?? 0.5;
      const viaMap = (view: RGBImage): Promise<MapSegmentation> => segmentViaMap(encoder, segmenter, view, text, { threshold, ...(o.method ? { method: o.method } : {}) });
      for await (const input of inputs) {
        if (o.allSlices) {
          const untakeable = (e: unknown): undefined => {
            if (isBadOption(e)) return undefined; // e.g. a flat map on an empty slice: no prompt
            throw e;
          };
          const row = await segmentVolumeRow(input, o, async (views) => {
            const segs: Array<MapSegmentation | undefined> = [];
            for (const v of views) segs.push(await viaMap(v).catch(untakeable));
            return segs;
          }, failed);
          if (row) rows.push({ file: input.file, route: 'map-to-promptable', model: encoder.info.id, segmenter: segmenter.info.id, text: o.text, threshold, ...row, researchNotice: RESEARCH_NOTICE });
          continue;
        }
        const source = await dicomSourceOf(input, o, failed);
        if (source === null) continue;
        let seg;
        try {
          seg = await viaMap(input.view);
        } catch (e) {
          if (!isBadOption(e)) throw e;
          failed.push(cliFileError(toFileError(input.file, e)));
          continue;
        }
        const written = await writeSegmentation(input, seg, o, segmenter.info, threshold, source);
        rows.push({
          file: input.file, route: 'map-to-promptable', model: encoder.info.id, segmenter: segmenter.info.id, text: o.text, mapMethod: seg.method,
          prompt: seg.prompt, used: seg.used, ...(seg.score !== undefined ? { score: seg.score } : {}), ...(seg.notes.length ? { notes: seg.notes } : {}),
          threshold, ...written, width: seg.mask.width, height: seg.mask.height, researchNotice: RESEARCH_NOTICE,
        });
      }
    } finally {
      await segmenter.dispose();
    }
  } finally {
    await encoder.dispose();
  }
  return rows;
}

/** `medvlm segment INPUTS --text "polyp" --out DIR [--segmenter SAM]`: mask (input size), probability map and overlay per input. */
export function segmentCommand(): Command {
  const cmd = new Command('segment')
    .description('text-prompted segmentation: <name>-mask.png (0/255, input size), <name>-prob.<format>, <name>-overlay.png per input (and <name>-mask.<format>, uint8, for npy/nii/nii.gz; <name>-seg.dcm with --dicom-seg); '
      + 'with --segmenter, the --model dual encoder\'s text map gives a box and points to a SAM-family model (the MedCLIP-SAM route)')
    .argument('<inputs...>', 'files, folders or glob patterns')
    .requiredOption('--text <text>', 'what to segment, e.g. "polyp" (a target name of the model\'s config.json prompts, or any text)')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--segmenter <dir|hub-id>', `promptable segmenter in transformers.js' SAM layout (SAM, SlimSAM, MedSAM); --model is then the dual encoder whose map prompts it (default ${DEFAULT_MODEL})`)
    .addOption(methodOption())
    .addOption(new Option('--format <ext>', 'probability map format (dcm: a DICOM Parametric Map, DICOM inputs only)').choices(['png', 'npy', 'nii', 'nii.gz', 'dcm']).default('png'))
    .addOption(new Option('--threshold <p>', 'mask threshold (default: the model\'s; 0.5 for SAM, i.e. logit > 0)').argParser((v) => {
      const p = Number(v);
      if (!(p > 0 && p < 1)) throw new OptionError('E_BAD_OPTION', `--threshold ${v}: expected a number in (0, 1)`, { option: 'threshold' });
      return p;
    }))
    .option('--dicom-seg', 'also write <name>-seg.dcm, a DICOM Segmentation of the analysed frame (DICOM inputs; other inputs fail with E_NOT_DICOM and the batch goes on)')
    .option('--all-slices', 'segment every slice of a NIfTI volume along --plane, viewed with one window, and write <name>-mask.nii.gz (uint8) and <name>-prob.nii.gz in its voxel grid and affine (--format nii for uncompressed); the mask PNG and overlay show the slice with the most mask voxels')
    .option('--force', 'replace existing outputs')
    .option('--json', 'print a JSON array of results');
  for (const o of [...modelOptions(DEFAULT_SEGMENTER), ...viewOptions()]) cmd.addOption(o);
  return cmd.action(async (inputs: string[], o: SegmentCliOptions) => {
    if (o.method && !o.segmenter) throw new OptionError('E_BAD_OPTION', '--method chooses the map of the --segmenter route: give --segmenter too', { option: 'method' });
    if (o.allSlices) {
      if (o.dicomSeg || o.format === 'dcm') throw new OptionError('E_BAD_OPTION', '--all-slices writes NIfTI volumes; --dicom-seg and --format dcm cover one DICOM frame', { option: 'all-slices' });
      refuseSliceChoice(o);
      if (cmd.getOptionValueSource('format') === 'default') o.format = 'nii.gz';
      else if (o.format !== 'nii' && o.format !== 'nii.gz') throw new OptionError('E_BAD_OPTION', `--all-slices writes volumes: --format ${o.format} cannot hold one; use nii or nii.gz`, { option: 'format' });
    }
    const { files, problems } = await expandInputs(inputs);
    if (files.length === 0) return reportNoInputs(problems);
    const failed: FileError[] = problems.map((p) => ({ file: p.input, error: { code: p.code, message: p.message } }));
    const bar = o.allSlices ? { stop: () => {} } : progressBar('segment', files.length); // --all-slices: a bar of slices per volume instead
    const prepared = streamInputs(files, o, failed, bar.onProgress);
    // With --segmenter, --model names the dual encoder; its default is then the bundled dual encoder, not the text segmenter.
    const encoderId = cmd.getOptionValueSource('model') === 'default' ? DEFAULT_MODEL : o.model;
    let rows: Array<Record<string, unknown>>;
    try {
      rows = o.segmenter ? await segmentWithMapAndSam(prepared, encoderId, o.segmenter, o, failed) : await segmentWithTextSegmenter(prepared, o, failed);
    } finally {
      bar.stop();
    }
    if (o.json) {
      out(JSON.stringify([...rows, ...failed], null, 2));
      note(`medvlm: ${RESEARCH_NOTICE}`);
    } else {
      out(`# ${RESEARCH_NOTICE}`);
      for (const r of rows) {
        const how = r.route === 'map-to-promptable' ? ` (map → ${r.used && (r.used as { box?: unknown }).box ? 'box + points' : 'points'} → ${String(r.segmenter)})` : '';
        out(`${String(r.file)}: ${String(r.maskPixels)} mask pixels${how} → ${String(r.mask)}, ${String(r.overlay)}${r.dicomSeg ? `, ${String(r.dicomSeg)}` : ''}`);
      }
    }
    finish(failed);
  });
}
