"""Build NIfTI test fixtures with nibabel (the independent reference) and write nibabel's view of
each file to reference.json. Called by test/support/nifti-fixtures.ts.

usage: /usr/bin/python3 build_fixtures.py OUT_DIR STACK_U8 K H W

STACK_U8 is a raw uint8 stack of K real greyscale images (H rows x W columns, C order), made from
MedPix CT slices. Voxel (i, j, k) of every volume is stack[k, j, i]: i = image column, j = image row.
"""
import gzip
import json
import math
import struct
import sys

import numpy as np
import nibabel as nib
from nibabel.orientations import aff2axcodes

out_dir, stack_path = sys.argv[1], sys.argv[2]
K, H, W = (int(v) for v in sys.argv[3:6])
stack = np.fromfile(stack_path, dtype=np.uint8).reshape(K, H, W)
vol_u8 = np.ascontiguousarray(stack.transpose(2, 1, 0))  # (i, j, k) = (W, H, K)


def rot(ax, deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    m = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][ax]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def affine(R, zooms, offset):
    a = np.eye(4)
    a[:3, :3] = R @ np.diag(zooms)
    a[:3, 3] = offset
    return a


RAS = affine(np.eye(3), [0.8, 0.75, 2.5], [-25.0, -18.0, 40.0])
LAS = affine(np.diag([-1.0, 1.0, 1.0]), [0.8, 0.75, 2.5], [25.0, -18.0, -10.0])
LPS = affine(np.diag([-1.0, -1.0, 1.0]), [0.5, 0.5, 3.0], [16.0, 12.0, -7.5])
OBLIQUE = affine(rot(2, 20) @ rot(0, 12) @ rot(1, -7) @ np.diag([-1.0, 1.0, 1.0]), [0.9, 0.9, 3.0], [30.0, -20.0, 15.0])
# Mostly coronal acquisition: voxel axes map to L, S, P (codes "LSP"-ish after rotation).
CORONAL = affine(np.array([[-1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]) @ np.eye(3), [0.7, 0.7, 2.0], [20.0, 30.0, -15.0])

refs = {}


def save(name, img, codes=None, patch=None):
    """Save, optionally patch header bytes, reload with nibabel and record its view."""
    path = f"{out_dir}/{name}"
    if codes is not None:
        img.header.set_sform(img.affine if codes[2] is None else codes[2], code=codes[0])
        img.header.set_qform(img.affine if codes[3] is None else codes[3], code=codes[1])
    nib.save(img, path)
    if patch is not None:
        patch(path)
    ref_img = nib.load(path)
    hdr = ref_img.header
    is_rgb = hdr.get_data_dtype().names is not None
    if is_rgb:
        raw = np.asanyarray(ref_img.dataobj)
        data = np.stack([raw["R"], raw["G"], raw["B"]], axis=-1).astype(np.float64)
    else:
        data = ref_img.get_fdata(dtype=np.float64)
    rng = np.random.default_rng(len(name))
    samples = []
    spatial = data.shape[: len(ref_img.shape)]
    corners = [tuple(0 for _ in spatial), tuple(s - 1 for s in spatial), tuple(s // 2 for s in spatial)]
    randoms = [tuple(int(rng.integers(0, s)) for s in spatial) for _ in range(12)]
    for idx in corners + randoms:
        v = data[idx]
        samples.append({"index": list(idx), "value": v.tolist() if is_rgb else float(v)})
    # nibabel moves scaling from the header into the data proxy on load
    slope = getattr(ref_img.dataobj, "slope", None)
    inter = getattr(ref_img.dataobj, "inter", None)
    refs[name] = {
        "shape": list(ref_img.shape),
        "zooms": [float(z) for z in hdr.get_zooms()],
        "affine": ref_img.affine.tolist(),
        "axcodes": "".join(aff2axcodes(ref_img.affine)),
        "sformCode": int(hdr["sform_code"]),
        "qformCode": int(hdr["qform_code"]),
        "datatype": str(hdr.get_data_dtype()),
        "slope": None if slope is None else float(slope),
        "inter": None if inter is None else float(inter),
        "min": float(data.min()),
        "max": float(data.max()),
        "mean": float(data.mean()),
        "samples": samples,
        "version": 2 if isinstance(hdr, nib.Nifti2Header) else 1,
    }


def patch_scaling(slope, inter):
    def patch(path):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = bytearray(f.read())
        raw[112:120] = struct.pack("<ff", slope, inter)
        with opener(path, "wb") as f:
            f.write(bytes(raw))
    return patch


hu = vol_u8.astype(np.int16) * 8 - 1024

save("ras_int16.nii", nib.Nifti1Image(hu, RAS), (1, 1, None, None))
save("las_uint8.nii.gz", nib.Nifti1Image(vol_u8, LAS), (2, 1, None, None))
save("lps_float32.nii", nib.Nifti1Image(vol_u8.astype(np.float32) / 255.0 * 3.5 - 0.25, LPS), (1, 1, None, None))
save("oblique_qform_only.nii", nib.Nifti1Image(hu, OBLIQUE), (0, 1, None, None))
save("coronal_int16.nii.gz", nib.Nifti1Image(hu, CORONAL), (1, 1, None, None))
# sform (LAS, code 2) and qform (RAS, code 1) disagree: the sform wins.
save("sform_ne_qform.nii", nib.Nifti1Image(hu, LAS), (2, 1, LAS, RAS))
# raw int16 stored values with scl_slope 2.5, scl_inter -1024 patched into the header
save("scaled_int16.nii.gz", nib.Nifti1Image(vol_u8.astype(np.int16) * 3, RAS), (1, 1, None, None), patch_scaling(2.5, -1024.0))
# slope 0 means "no scaling" even with an intercept present
save("slope0_int16.nii", nib.Nifti1Image(vol_u8.astype(np.int16), RAS), (1, 1, None, None), patch_scaling(0.0, 100.0))
# neither sform nor qform: pixdim only
pixdim_img = nib.Nifti1Image(vol_u8, None)
pixdim_img.header.set_zooms((0.8, 0.75, 2.5))
save("pixdim_only_uint8.nii", pixdim_img)

vol4d = np.stack([vol_u8.astype(np.float32) * (1 + 0.25 * t) for t in range(3)], axis=-1)
img4d = nib.Nifti1Image(vol4d, RAS)
img4d.header.set_xyzt_units("mm", "sec")
img4d.header["pixdim"][4] = 2.0
save("fmri_4d_float32.nii.gz", img4d, (1, 1, None, None))

save("nifti2_int16.nii", nib.Nifti2Image(hu, LPS), (1, 1, None, None))
save("nifti2_float64.nii.gz", nib.Nifti2Image(vol_u8.astype(np.float64) * 0.1 + 0.05, OBLIQUE), (0, 1, None, None))

be_hdr = nib.Nifti1Header(endianness=">")
be_img = nib.Nifti1Image(hu.astype(">i2"), LAS, be_hdr)
be_img.set_data_dtype(np.dtype(">i2"))
save("bigendian_int16.nii", be_img, (1, 1, None, None))

small = vol_u8[:16, :12, :4].astype(np.int64)
for dt, values in [
    ("int8", small // 2 - 64),
    ("uint16", small * 257),
    ("int32", small * 100000 - 12800000),
    ("uint32", small * 16000000),
    ("float64", small / 7.0 - 3.0),
]:
    save(f"dtype_{dt}.nii", nib.Nifti1Image(values.astype(dt), RAS), (1, 1, None, None))

rgb_dtype = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
rgb = np.zeros(small.shape, dtype=rgb_dtype)
rgb["R"] = small
rgb["G"] = 255 - small
rgb["B"] = (small * 3) % 256
save("rgb24.nii", nib.Nifti1Image(rgb, RAS), (1, 1, None, None))

units_img = nib.Nifti1Image(vol_u8, affine(np.eye(3), [0.0008, 0.00075, 0.0025], [0.01, 0.02, -0.03]))
units_img.header.set_xyzt_units("meter")
save("units_meter_uint8.nii", units_img, (1, 1, None, None))

with open(f"{out_dir}/reference.json", "w") as f:
    json.dump({"nibabel": nib.__version__, "files": refs}, f, indent=1)
print(f"wrote {len(refs)} fixtures to {out_dir}")
