"""Write an Enhanced CT multi-frame instance whose geometry, rescale and window live only in functional groups (pydicom).

usage: make_enhanced.py OUT.dcm REVERSED(0|1)
Shared groups: Pixel Measures (spacing 0.7 \\ 0.8, thickness 3), Plane Orientation (0,1,0 / 0,0,-1: sagittal, normal
-x), Pixel Value Transformation (slope 2, intercept -1024). Per frame: Plane Position (x = -5 + 2.5 k, or stepping
the other way with REVERSED=1), Frame VOI LUT (centre 40 + k, width 400); frame 2 overrides the rescale (slope 1,
intercept -1000). Prints the stored values as JSON [frames][rows*cols] and each frame's rescale.
"""
import json
import sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian
out = sys.argv[1]
reverse = len(sys.argv) > 2 and sys.argv[2] == '1'
frames, rows, cols = 4, 6, 5
rng = np.random.default_rng(3)
px = rng.integers(0, 3000, size=(frames, rows, cols)).astype(np.uint16)
root = '1.2.826.0.1.3680043.10.1234.77'
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2.1'  # Enhanced CT
meta.MediaStorageSOPInstanceUID = f'{root}.3'
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset(); ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID; ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.Modality = 'CT'
ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = 'MONOCHROME2'
ds.BitsAllocated = 16; ds.BitsStored = 12; ds.HighBit = 11; ds.PixelRepresentation = 0
def item(**kw):
    d = Dataset()
    for k, v in kw.items(): setattr(d, k, v)
    return d
shared = item(
    PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.7, 0.8], SliceThickness=3.0)]),
    PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[0, 1, 0, 0, 0, -1])]),
    PixelValueTransformationSequence=Sequence([item(RescaleIntercept=-1024, RescaleSlope=2, RescaleType='HU')]),
)
ds.SharedFunctionalGroupsSequence = Sequence([shared])
per = []
for k in range(frames):
    per.append(item(
        PlanePositionSequence=Sequence([item(ImagePositionPatient=[-5.0 + (-2.5 if reverse else 2.5) * k, 12.0, 40.0])]),
        FrameVOILUTSequence=Sequence([item(WindowCenter=40 + k, WindowWidth=400)]),
    ))
    if k == 2:
        per[-1].PixelValueTransformationSequence = Sequence([item(RescaleIntercept=-1000, RescaleSlope=1, RescaleType='HU')])
ds.PerFrameFunctionalGroupsSequence = Sequence(per)
ds.PixelData = px.tobytes()
ds.is_little_endian = True; ds.is_implicit_VR = False
ds.save_as(out, write_like_original=False)
back = pydicom.dcmread(out)
arr = back.pixel_array.astype(float)  # pydicom's own decoding, then each frame's rescale read back from the file
rescale = []
for k in range(frames):
    g = back.PerFrameFunctionalGroupsSequence[k]
    t = g.PixelValueTransformationSequence[0] if 'PixelValueTransformationSequence' in g else back.SharedFunctionalGroupsSequence[0].PixelValueTransformationSequence[0]
    rescale.append([float(t.RescaleSlope), float(t.RescaleIntercept)])
print(json.dumps({"values": [(arr[k] * rescale[k][0] + rescale[k][1]).ravel().tolist() for k in range(frames)], "rescale": rescale}))
