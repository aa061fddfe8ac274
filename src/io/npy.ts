/**
 * Encode a 2D float32 matrix as a NumPy `.npy` file (format version 1.0, little endian), so that
 * embeddings open with `numpy.load` without any medvlm code.
 */
export function encodeNpyFloat32(rows: Float32Array[], columns: number): Uint8Array {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${columns}), }`;
  const preamble = 10;
  const padded = header + ' '.repeat((64 - ((preamble + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(preamble + padded.length + rows.length * columns * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[preamble + i] = padded.charCodeAt(i);
  const body = new DataView(out.buffer, preamble + padded.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < columns; j++) body.setFloat32((i * columns + j) * 4, r[j], true);
  });
  return out;
}
