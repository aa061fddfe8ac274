import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpyFloat32 } from '../../src/io/npy.js';

const rows = [Float32Array.from([1, -2.5, 3.25]), Float32Array.from([0.1, 0, -1e-3])];

describe('encodeNpyFloat32', () => {
  it('writes a v1.0 header padded to 64 bytes and little-endian float32 rows', () => {
    const b = encodeNpyFloat32(rows, 3);
    const headerLen = b[8] | (b[9] << 8);
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(b.subarray(10, 10 + headerLen));
    expect(header).toContain("'shape': (2, 3)");
    expect(header.endsWith('\n')).toBe(true);
    const body = new Float32Array(b.slice(10 + headerLen).buffer);
    expect(Array.from(body)).toEqual([1, -2.5, 3.25, Math.fround(0.1), 0, Math.fround(-1e-3)]);
  });
  const numpy = existsSync('/usr/bin/python3') &&
    (() => { try { execFileSync('/usr/bin/python3', ['-c', 'import numpy']); return true; } catch { return false; } })();
  it.skipIf(!numpy)('opens with numpy.load (reference reader)', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'npy-')), 'e.npy');
    writeFileSync(f, encodeNpyFloat32(rows, 3));
    const outp = execFileSync('/usr/bin/python3', ['-c', `import numpy as n; a=n.load('${f}'); print(a.dtype, a.shape, repr(a.tolist()))`]).toString().trim();
    expect(outp).toBe('float32 (2, 3) [[1.0, -2.5, 3.25], [0.10000000149011612, 0.0, -0.0010000000474974513]]');
  });
});
