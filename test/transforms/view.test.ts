import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/raster.js';
import { toModelView, toModelViewDetailed } from '../../src/transforms/index.js';
import { MEDPIX_IMAGES } from '../raster/fixtures.js';
import { codedVolume, makeImage } from './helpers.js';

describe('toModelView: slice → window → invert → RGB8', () => {
  it('8-bit colour passes through unchanged (identity window)', () => {
    const data = [10, 20, 30, 255, 0, 128];
    const img = makeImage({ data, width: 2, height: 1, channels: 3, meta: { bitDepth: 8 } });
    const { rgb, window } = toModelViewDetailed(img);
    expect(Array.from(rgb.data)).toEqual(data);
    expect(window).toMatchObject({ center: 128, width: 256, source: 'identity 0-255' });
  });

  it('MONOCHROME1 is inverted after windowing', () => {
    const img = makeImage({ data: [0, 100, 200], width: 3, height: 1, format: 'dicom', invertForDisplay: true });
    // C100/W201: 0 → 0.0025, 100 → 0.5025, 200 → 1; inverted → 0.9975, 0.4975, 0
    const view = toModelViewDetailed(img, { window: { kind: 'explicit', center: 100, width: 201 } });
    expect(view.inverted).toBe(true);
    expect(Array.from(view.rgb.data)).toEqual([254, 254, 254, 127, 127, 127, 0, 0, 0]);
  });

  it('a CT volume in HU: middle axial slice under the lung preset', () => {
    // voxel value = i + 100 j + 10000 k - 21000 → slice k=2 holds i + 100 j - 1000
    const data = codedVolume(4, 3, 5).map((v) => v - 21000);
    const img = makeImage({ data, width: 4, height: 3, depth: 5, format: 'nifti', orientation: 'LPS' });
    const rgb = toModelView(img, { window: { kind: 'preset', name: 'lung' } });
    expect([rgb.width, rgb.height]).toEqual([4, 3]);
    // pixel (r=1, c=2): HU = 2 + 100 - 1000 = -898; lung C-600/W1500 → (-898 + 600.5)/1499 + 0.5
    const expected = Math.round(((-898 + 600.5) / 1499 + 0.5) * 255);
    expect(rgb.data[(1 * 4 + 2) * 3]).toBe(expected);
    expect(expected).toBe(77);
  });
});

const jpeg = join(MEDPIX_IMAGES, 'MPX1024_synpic40275.jpg');
describe.skipIf(!existsSync(jpeg))('toModelView on a real greyscale JPEG', () => {
  it('is the decoded pixel values replicated to RGB', async () => {
    const img = await readRaster(readFileSync(jpeg), jpeg, 'jpeg');
    const rgb = toModelView(img);
    expect([rgb.width, rgb.height]).toEqual([255, 320]);
    let mismatches = 0;
    for (let p = 0; p < img.width * img.height; p++) {
      for (let c = 0; c < 3; c++) if (rgb.data[p * 3 + c] !== img.data[p]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
