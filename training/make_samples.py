"""Copy the redistributable demo/parity images into samples/ with neutral names and write labels + README.

    /usr/bin/python3 training/make_samples.py

VQA-RAD (CC0 1.0) images are used only as demo / parity samples, never for training or tuning.
PneumoniaMNIST (CC BY 4.0) test arrays are written as native 28x28 8-bit greyscale PNGs.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

SAMPLES = os.path.join(data.ROOT, "samples")

# (source image in vqa_rad/, sample name, organ, modality, evidence from qa.jsonl)
VQA = [
    ("images/synpic42202.jpg", "vqarad-chest-xray-1.jpg", "CHEST", "X-ray", "What type of image is this? -> Chest X-ray"),
    ("images/synpic18461.jpg", "vqarad-chest-xray-2.jpg", "CHEST", "X-ray", "What kind of image is this? -> Chest x-ray"),
    ("images/synpic23631.jpg", "vqarad-head-ct-1.jpg", "HEAD", "CT", "Is this a noncontrast CT? -> yes"),
    ("images/synpic54610.jpg", "vqarad-head-mr-1.jpg", "HEAD", "MR", "What type of imaging is this? -> MRI Diffusion Weighted"),
    ("images/synpic20260.jpg", "vqarad-abdomen-ct-1.jpg", "ABD", "CT", "What kind of scan is this? -> CT"),
    ("images/synpic21604.jpg", "vqarad-abdomen-ct-2.jpg", "ABD", "CT",
     "What is the modality by which the image was taken? -> CT"),
]

README = """# Sample images

Small, redistributable images for demos, examples and the ONNX/PyTorch parity fixture of
`models/medvlm-tiny` (reference embeddings in `models/medvlm-tiny/reference/embeddings.json`).
Ground truth for each file is in `labels.json`.

| file | source | licence |
|---|---|---|
{rows}

## Sources and attribution

- **VQA-RAD** — Lau, J. J., Gayen, S., Ben Abacha, A., Demner-Fushman, D. "A dataset of clinically generated
  visual questions and answers about radiology images." *Scientific Data* 5, 180251 (2018).
  https://doi.org/10.1038/sdata.2018.251 — released under **CC0 1.0** (public domain dedication); the images
  originate from MedPix (U.S. National Library of Medicine). Organ labels come from the dataset's image list,
  modality from its clinician question-answer pairs (quoted in `labels.json`). File names were changed to
  neutral ones; pixels are unchanged (byte copies). medvlm-tiny was **never trained or tuned** on VQA-RAD.
- **PneumoniaMNIST** (MedMNIST v2) — Yang, J. et al. "MedMNIST v2 — A large-scale lightweight benchmark for 2D
  and 3D biomedical image classification." *Scientific Data* 10, 41 (2023). https://doi.org/10.1038/s41597-022-01721-8
  — **CC BY 4.0**. Derived from Kermany et al., *Cell* 2018 (pediatric chest X-rays). The two files are arrays
  from the official *test* split written unchanged as 28x28 8-bit greyscale PNGs; the number in the name is the
  index in that split.

These images are for demonstration only, not for clinical use.
"""


def main():
    os.makedirs(SAMPLES, exist_ok=True)
    labels = {}
    rows = []
    for src, name, organ, mod, ev in VQA:
        shutil.copyfile(os.path.join(data.DATA, "vqa_rad", src), os.path.join(SAMPLES, name))
        labels[name] = {"source": "VQA-RAD", "licence": "CC0-1.0", "organ": organ, "modality": mod,
                        "modality_evidence": ev}
        rows.append(f"| `{name}` | VQA-RAD, organ {organ}, {mod} | CC0 1.0 |")
    from PIL import Image

    pm = data.pmnist()
    y = pm["test_labels"].ravel()
    for lab, word in ((0, "normal"), (1, "pneumonia")):
        i = int(np.where(y == lab)[0][0])
        name = f"pneumoniamnist-test-{i:04d}-{word}.png"
        Image.fromarray(pm["test_images"][i], mode="L").save(os.path.join(SAMPLES, name))
        labels[name] = {"source": "PneumoniaMNIST (MedMNIST v2), official test split", "licence": "CC-BY-4.0",
                        "index": i, "label": word, "organ": "CHEST", "modality": "X-ray"}
        rows.append(f"| `{name}` | PneumoniaMNIST test #{i}, {word} | CC BY 4.0 |")
    with open(os.path.join(SAMPLES, "labels.json"), "w") as f:
        json.dump(labels, f, indent=1)
    with open(os.path.join(SAMPLES, "README.md"), "w") as f:
        f.write(README.format(rows="\n".join(rows)))
    print(json.dumps(labels, indent=1))


if __name__ == "__main__":
    main()
