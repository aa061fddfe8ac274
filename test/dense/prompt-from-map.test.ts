/** promptFromMap on hand-made maps: points at the arg-max/arg-min, the box around the arg-max's region only. */
import { describe, expect, it } from 'vitest';
import { promptFromMap } from '../../src/tasks/segment.js';

/** A w x h map of zeros with the given rectangles [x0, y0, x1, y1) set to values. */
function mapOf(w: number, h: number, rects: Array<[number, number, number, number, number]>): { width: number; height: number; data: Float32Array } {
  const data = new Float32Array(w * h);
  for (const [x0, y0, x1, y1, v] of rects) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * w + x] = v;
  return { width: w, height: h, data };
}

describe('promptFromMap', () => {
  it('two salient blobs: the box covers the one holding the arg-max (x0, y0 inclusive, x1, y1 exclusive), not both', () => {
    const m = mapOf(20, 10, [[2, 1, 6, 4, 0.7], [12, 5, 18, 9, 0.8], [14, 6, 15, 7, 1]]);
    m.data[9 * 20 + 0] = -0.1; // arg-min at (0, 9)
    expect(promptFromMap(m)).toEqual({ box: [12, 5, 18, 9], points: [{ x: 14, y: 6, label: 1 }, { x: 0, y: 9, label: 0 }] });
  });

  it('regions touching only diagonally are separate; `level` sets what counts as salient', () => {
    const m = mapOf(8, 8, [[0, 0, 3, 3, 0.9], [3, 3, 6, 6, 0.6], [1, 1, 2, 2, 1]]);
    expect(promptFromMap(m).box).toEqual([0, 0, 3, 3]);
    expect(promptFromMap(m, 0.95).box).toEqual([1, 1, 2, 2]);
  });

  it('a flat map below the level: points only', () => {
    expect(promptFromMap(mapOf(4, 4, [[0, 0, 4, 4, 0.2]]))).toEqual({ points: [{ x: 0, y: 0, label: 1 }, { x: 0, y: 0, label: 0 }] });
  });
});
