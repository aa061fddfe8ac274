/** NIfTI affine arithmetic: the qform quaternion → matrix, and voxel axes → anatomical axis codes (nibabel's rules). */

/** A 4×4 voxel → world (RAS+, mm) matrix, row-major. */
export type Affine = number[][];

/**
 * The qform affine from quaternion (b, c, d), offsets and pixdim, as nibabel's `get_qform`:
 * a = sqrt(1 - b² - c² - d²) (0 when slightly negative), qfac = -1 when pixdim[0] < 0 else 1.
 */
export function qformAffine(bcd: number[], offset: number[], pixdim: number[]): Affine {
  const [b, c, d] = bcd;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const nq = a * a + b * b + c * c + d * d;
  const s = nq < 1e-12 ? 0 : 2 / nq;
  const rot =
    s === 0
      ? [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ]
      : [
          [1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)],
          [s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b)],
          [s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c)],
        ];
  const qfac = pixdim[0] < 0 ? -1 : 1;
  const vox = [Math.abs(pixdim[1]), Math.abs(pixdim[2]), Math.abs(pixdim[3]) * qfac];
  return [
    [rot[0][0] * vox[0], rot[0][1] * vox[1], rot[0][2] * vox[2], offset[0]],
    [rot[1][0] * vox[0], rot[1][1] * vox[1], rot[1][2] * vox[2], offset[1]],
    [rot[2][0] * vox[0], rot[2][1] * vox[1], rot[2][2] * vox[2], offset[2]],
    [0, 0, 0, 1],
  ];
}

/**
 * Anatomical axis codes of the voxel axes, like nibabel's `aff2axcodes(affine)` (RAS+ world):
 * the rotation part is replaced by its closest orthogonal matrix (polar decomposition), then for
 * each voxel axis in turn the world axis with the largest |component| is picked and removed.
 * Letters: R/L, A/P, S/I; "?" for an axis with no direction (a zero column).
 */
export function affineToAxisCodes(affine: Affine): string {
  const rs = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r][c]));
  for (let c = 0; c < 3; c++) {
    const z = Math.hypot(rs[0][c], rs[1][c], rs[2][c]) || 1;
    for (let r = 0; r < 3; r++) rs[r][c] /= z;
  }
  const rot = closestOrthogonal(rs);
  const labels = [
    ['R', 'L'],
    ['A', 'P'],
    ['S', 'I'],
  ];
  let codes = '';
  for (let c = 0; c < 3; c++) {
    const col = [rot[0][c], rot[1][c], rot[2][c]];
    if (col.every((v) => Math.abs(v) < 1e-12)) {
      codes += '?';
      continue;
    }
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(col[r]) > Math.abs(col[best])) best = r;
    codes += labels[best][col[best] < 0 ? 1 : 0];
    for (let k = 0; k < 3; k++) rot[best][k] = 0;
  }
  return codes;
}

/** Polar factor of a 3x3 matrix by Newton iteration X <- (X + X^-T)/2; the input when singular. */
function closestOrthogonal(m: number[][]): number[][] {
  let x = m.map((r) => r.slice());
  for (let it = 0; it < 50; it++) {
    const inv = invert3(x);
    if (!inv) return m.map((r) => r.slice());
    const next = x.map((row, r) => row.map((v, c) => (v + inv[c][r]) / 2));
    let delta = 0;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) delta = Math.max(delta, Math.abs(next[r][c] - x[r][c]));
    x = next;
    if (delta < 1e-14) break;
  }
  return x;
}

function invert3(m: number[][]): number[][] | null {
  const [a, b, c] = m[0];
  const [d, e, f] = m[1];
  const [g, h, i] = m[2];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (Math.abs(det) < 1e-12) return null;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}
