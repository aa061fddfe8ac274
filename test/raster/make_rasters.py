"""Write PNG and TIFF test images with plain numpy + zlib (no imaging library), so that medvlm's
sharp-based reader is checked against an independent encoder.

usage: /usr/bin/python3 make_rasters.py OUT_DIR

Each image's exact pixel values are a formula of (row, column), also written as a .npy next to it
with the expected array (rows, columns[, channels]) in the dtype of the file.
"""
import struct
import sys
import zlib

import numpy as np

out = sys.argv[1]
H, W = 37, 53  # odd sizes catch stride mistakes
r = np.arange(H).reshape(H, 1)
c = np.arange(W).reshape(1, W)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(path, arr, bit_depth, color_type):
    """arr: (H, W) or (H, W, C) of uint8/uint16; filter type 0 on every row, big-endian samples."""
    h, w = arr.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    rows = arr.astype(dtype).reshape(h, -1).view(np.uint8).reshape(h, -1)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    np.save(path + ".npy", arr)


def write_tiff(path, arr, bits):
    """Uncompressed little-endian baseline TIFF, one strip, greyscale (MinIsBlack) or RGB."""
    h, w = arr.shape[:2]
    spp = 1 if arr.ndim == 2 else arr.shape[2]
    data = arr.astype("<u2" if bits == 16 else "u1").tobytes()
    entries = [
        (256, 3, 1, w),
        (257, 3, 1, h),
        (258, 3, 1, bits) if spp == 1 else (258, 3, 3, None),
        (259, 3, 1, 1),
        (262, 3, 1, 1 if spp == 1 else 2),
        (273, 4, 1, None),  # strip offset, filled below
        (277, 3, 1, spp),
        (278, 3, 1, h),
        (279, 4, 1, len(data)),
        (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    extra_off = 8 + ifd_size
    extra = b""
    if spp == 3:
        extra = struct.pack("<HHH", bits, bits, bits)
    data_off = extra_off + len(extra)
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 273:
            value = data_off
        if tag == 258 and spp == 3:
            ifd += struct.pack("<HHII", tag, typ, count, extra_off)
            continue
        if typ == 3:
            ifd += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    with open(path, "wb") as f:
        f.write(b"II*\x00" + struct.pack("<I", 8) + ifd + extra + data)
    np.save(path + ".npy", arr)


grey8 = ((r * 7 + c * 3) % 256).astype(np.uint8)
grey16 = ((r * 1777 + c * 1231) % 65536).astype(np.uint16)
grey16[0, 0], grey16[0, 1], grey16[1, 0] = 0, 65535, 257
rgb8 = np.stack([grey8, (255 - grey8), ((r * c) % 256).astype(np.uint8)], axis=-1)
rgba8 = np.concatenate([rgb8, np.full((H, W, 1), 128, np.uint8)], axis=-1)
grey_as_rgb8 = np.stack([grey8] * 3, axis=-1)
rgb16 = np.stack([grey16, 65535 - grey16, ((r * c * 50) % 65536).astype(np.uint16)], axis=-1)

write_png(f"{out}/grey8.png", grey8, 8, 0)
write_png(f"{out}/grey16.png", grey16, 16, 0)
write_png(f"{out}/rgb8.png", rgb8, 8, 2)
write_png(f"{out}/rgba8.png", rgba8, 8, 6)
write_png(f"{out}/grey_as_rgb8.png", grey_as_rgb8, 8, 2)
write_png(f"{out}/rgb16.png", rgb16, 16, 2)
write_tiff(f"{out}/grey8.tif", grey8, 8)
write_tiff(f"{out}/grey16.tif", grey16, 16)
write_tiff(f"{out}/rgb8.tif", rgb8, 8)
print("ok")
