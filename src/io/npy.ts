/**
 * Encode a 2D float32 matrix as a NumPy `.npy` file (format version 1.0, little endian), so that
 * embeddings open with `numpy.load` without any medvlm code.
 */
export function encodeNpyFloat32(rows: Float32Array[], columns: number): Uint8Array {
  const { out, offset } = npyFile('<f4', rows.length, columns, 4);
  const body = new DataView(out.buffer, offset);
  rows.forEach((r, i) => {
    for (let j = 0; j < columns; j++) body.setFloat32((i * columns + j) * 4, r[j], true);
  });
  return out;
}

/** Encode a row-major uint8 matrix (`rows` × `columns`, e.g. a 0/1 mask) as a NumPy `.npy` file. */
export function encodeNpyUint8(data: Uint8Array, rows: number, columns: number): Uint8Array {
  if (data.length !== rows * columns) throw new RangeError(`npy: ${data.length} values for shape ${rows}x${columns}`);
  const { out, offset } = npyFile('|u1', rows, columns, 1);
  out.set(data, offset);
  return out;
}

/** An .npy file of the given dtype and 2D shape with its header written; the body starts at `offset`. */
function npyFile(descr: string, rows: number, columns: number, itemBytes: number): { out: Uint8Array; offset: number } {
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${columns}), }`;
  const preamble = 10;
  const padded = header + ' '.repeat((64 - ((preamble + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(preamble + padded.length + rows * columns * itemBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[preamble + i] = padded.charCodeAt(i);
  return { out, offset: preamble + padded.length };
}
