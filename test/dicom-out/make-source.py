"""Write an MR instance with full plane geometry from raw 8-bit grey pixels (pydicom).

usage: make-source.py RAW WIDTH HEIGHT OUT.dcm [FRAMES]
The test gives the pixels of a repository sample; values are stored as 16-bit unsigned (x 4). With FRAMES > 1:
an Enhanced MR instance of FRAMES frames (frame k = the pixels rolled by 16 k columns), pixel spacing and
orientation in the shared functional groups, each frame's ImagePositionPatient (z = 33 + 4 k) in its own.
"""
import sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

raw, w, h, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
frames = int(sys.argv[5]) if len(sys.argv) > 5 else 1
px = (np.fromfile(raw, dtype=np.uint8).reshape(h, w).astype(np.uint16) * 4)
root = '1.2.826.0.1.3680043.10.1234.88'
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.4'
meta.MediaStorageSOPInstanceUID = f'{root}.3.1'
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = f'{root}.1'
ds.SeriesInstanceUID = f'{root}.2'
ds.FrameOfReferenceUID = f'{root}.4'
ds.PatientName = 'Test^Dense'
ds.PatientID = 'DENSE-001'
ds.PatientBirthDate = '19700101'
ds.PatientSex = 'O'
ds.StudyDate = '20260102'
ds.StudyTime = '101500'
ds.ReferringPhysicianName = ''
ds.StudyID = '1'
ds.AccessionNumber = 'ACC-DENSE-1'
ds.Modality = 'MR'
ds.SeriesNumber = 3
ds.InstanceNumber = 1
ds.PositionReferenceIndicator = ''
ds.ImagePositionPatient = [-101.5, -87.25, 33.0]
ds.ImageOrientationPatient = [1, 0, 0, 0, 0.984807753, -0.173648178]
ds.PixelSpacing = [0.8, 0.7]
ds.SliceThickness = 4
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = 'MONOCHROME2'
ds.Rows = h
ds.Columns = w
ds.BitsAllocated = 16
ds.BitsStored = 12
ds.HighBit = 11
ds.PixelRepresentation = 0
ds.PixelData = px.tobytes()
ds.ScanningSequence = 'SE'
ds.SequenceVariant = 'NONE'
ds.ScanOptions = ''
ds.MRAcquisitionType = '2D'
ds.EchoTime = 20
ds.EchoTrainLength = 1
ds.ImageType = ['ORIGINAL', 'PRIMARY', 'AXIAL']
ds.Manufacturer = 'test'
ds.PatientPosition = 'HFS'
ds.RepetitionTime = 500
ds.BodyPartExamined = 'HEAD'
if frames > 1:
    from pydicom.sequence import Sequence
    meta.MediaStorageSOPClassUID = ds.SOPClassUID = '1.2.840.10008.5.1.4.1.1.4.1'
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = f'{root}.3.2'
    ds.SeriesInstanceUID = f'{root}.2.2'
    ds.NumberOfFrames = frames
    ds.PixelData = np.stack([np.roll(px, 16 * k, axis=1) for k in range(frames)]).tobytes()
    pm = Dataset(); pm.PixelSpacing = ds.PixelSpacing; pm.SliceThickness = 4
    po = Dataset(); po.ImageOrientationPatient = ds.ImageOrientationPatient
    shared = Dataset(); shared.PixelMeasuresSequence = Sequence([pm]); shared.PlaneOrientationSequence = Sequence([po])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for k in range(frames):
        pp = Dataset(); pp.ImagePositionPatient = [-101.5, -87.25, 33.0 + 4 * k]
        g = Dataset(); g.PlanePositionSequence = Sequence([pp])
        per.append(g)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    for k in ('ImagePositionPatient', 'ImageOrientationPatient', 'PixelSpacing', 'SliceThickness'):
        delattr(ds, k)
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.save_as(out, write_like_original=False)
