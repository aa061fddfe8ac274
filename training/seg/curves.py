"""Draw training curves (loss, validation Dice) of one or more runs into a PNG with PIL (matplotlib is absent here).

    /usr/bin/python3 training/seg/curves.py OUT.png LABEL=run/log.jsonl [LABEL=run/log.jsonl ...]
"""
from __future__ import annotations

import json
import sys

from PIL import Image, ImageDraw

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]
W, H, PAD = 460, 300, 48


def read(path: str) -> tuple[list, list]:
    loss, val = [], []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            t = r.get("wall_s", 0) / 60
            if "loss" in r:
                loss.append((t, r["loss"]))
            if "val" in r:
                val.append((t, r["val"]["busi_dice"], r["val"]["kvasir_dice"]))
    return loss, val


def panel(draw: ImageDraw.ImageDraw, ox: int, title: str, series: list[tuple[list, tuple, str]], ymax: float):
    x0, y0, x1, y1 = ox + PAD, PAD // 2 + 14, ox + W - 12, H - PAD
    draw.rectangle([x0, y0, x1, y1], outline=(0, 0, 0))
    draw.text((x0, 4), title, fill=(0, 0, 0))
    tmax = max([p[0] for s, _, _ in series for p in s] + [1.0])
    for k in range(5):
        yv = ymax * k / 4
        yy = y1 - (y1 - y0) * k / 4
        draw.line([x0 - 4, yy, x0, yy], fill=(0, 0, 0))
        draw.text((ox + 6, yy - 6), f"{yv:.2f}", fill=(0, 0, 0))
    for k in range(5):
        tv = tmax * k / 4
        xx = x0 + (x1 - x0) * k / 4
        draw.line([xx, y1, xx, y1 + 4], fill=(0, 0, 0))
        draw.text((xx - 8, y1 + 6), f"{tv:.0f}", fill=(0, 0, 0))
    draw.text(((x0 + x1) // 2 - 30, y1 + 20), "wall minutes", fill=(0, 0, 0))
    ly = y0 + 4
    for pts, col, label in series:
        xy = [(x0 + (x1 - x0) * t / tmax, y1 - (y1 - y0) * min(v, ymax) / ymax) for t, v in pts]
        if len(xy) > 1:
            draw.line(xy, fill=col, width=2)
        draw.text((x1 - 150, ly), label, fill=col)
        ly += 12


def main():
    out, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    img = Image.new("RGB", (2 * W, H), "white")
    draw = ImageDraw.Draw(img)
    ls, vs = [], []
    for i, (label, path) in enumerate(runs):
        loss, val = read(path)
        c = COLOURS[i % len(COLOURS)]
        light = tuple(min(255, v + 90) for v in c)
        ls.append((loss, c, f"{label} train loss"))
        vs.append(([(t, b) for t, b, _ in val], c, f"{label} val Dice BUSI"))
        vs.append(([(t, k) for t, _, k in val], light, f"{label} val Dice Kvasir"))
    panel(draw, 0, "training loss (BCE + soft Dice)", ls, max([v for s, _, _ in ls for _, v in s] + [0.1]) * 1.05)
    panel(draw, W, "validation Dice (threshold 0.5)", vs, 1.0)
    img.save(out)


if __name__ == "__main__":
    main()
