"""Scoring segmentation against ground truth.

Ground truth comes as CODH coordinate CSVs (``Unicode,Image,X,Y,Block ID,Char
ID,Width,Height``) or Kaggle ``train.csv`` (``image_id,labels`` with
``U+XXXX x y w h`` repeated).  Two matching rules:

* IoU ≥ 0.5 with one-to-one matching (greedy, highest IoU first);
* the Kaggle centre rule: a predicted box counts when its centre lies inside an
  unmatched true box.

Reading order agreement is the share of consecutive true characters (in the
ground truth's order) whose matched predictions come in the same order.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from kuzushi_core.containers import TrueBox


def read_codh_csv(path: str | Path) -> dict[str, list[TrueBox]]:
    """Image name (without extension) → boxes in the file's order (the reading order)."""
    pages: dict[str, list[TrueBox]] = defaultdict(list)
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row["Unicode"]
            char = "".join(chr(int(c[2:], 16)) for c in code.split()) if code.startswith("U+") else code
            page = pages[row["Image"]]
            page.append(TrueBox(int(row["X"]), int(row["Y"]), int(row["Width"]), int(row["Height"]), char, len(page)))
    return dict(pages)


def read_kaggle_csv(path: str | Path) -> dict[str, list[TrueBox]]:
    pages: dict[str, list[TrueBox]] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parts = (row.get("labels") or "").split()
            boxes: list[TrueBox] = []
            for i in range(0, len(parts) - 4, 5):
                code, x, y, w, h = parts[i : i + 5]
                boxes.append(TrueBox(int(x), int(y), int(w), int(h), chr(int(code[2:], 16)), len(boxes)))
            pages[row["image_id"]] = boxes
    return pages


def write_codh_csv(path: str | Path, pages: dict[str, list[TrueBox]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Unicode", "Image", "X", "Y", "Block ID", "Char ID", "Width", "Height"])
        for image, boxes in pages.items():
            for i, b in enumerate(boxes):
                code = " ".join(f"U+{ord(c):04X}" for c in b.char)
                w.writerow([code, image, b.x, b.y, "B0001", f"C{i + 1:04d}", b.w, b.h])


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes (x, y, w, h): len(a) × len(b)."""
    ax0, ay0, ax1, ay1 = a[:, 0, None], a[:, 1, None], (a[:, 0] + a[:, 2])[:, None], (a[:, 1] + a[:, 3])[:, None]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    ih = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-9)


def match_iou(gt: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> list[tuple[int, int]]:
    if len(gt) == 0 or len(pred) == 0:
        return []
    iou = _iou(gt.astype(float), pred.astype(float))
    pairs = np.argwhere(iou >= threshold)
    order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]])
    used_g, used_p, out = set(), set(), []
    for gi, pi in pairs[order]:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            out.append((int(gi), int(pi)))
    return out


def match_centre(gt: np.ndarray, pred: np.ndarray) -> list[tuple[int, int]]:
    """Kaggle rule: each predicted centre hits at most one unmatched true box."""
    used, out = set(), []
    for pi, (x, y, w, h) in enumerate(pred[:, :4]):
        cx, cy = x + w / 2, y + h / 2
        inside = np.flatnonzero((gt[:, 0] <= cx) & (cx <= gt[:, 0] + gt[:, 2]) & (gt[:, 1] <= cy) & (cy <= gt[:, 1] + gt[:, 3]))
        for gi in inside:
            if int(gi) not in used:
                used.add(int(gi))
                out.append((int(gi), pi))
                break
    return out


def prf(n_match: int, n_gt: int, n_pred: int) -> dict[str, float]:
    p = n_match / n_pred if n_pred else 0.0
    r = n_match / n_gt if n_gt else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": n_match, "gt": n_gt, "pred": n_pred}


def order_agreement(matches: list[tuple[int, int]], pred_order: np.ndarray) -> tuple[int, int]:
    """(agreeing, total) consecutive true pairs whose predictions keep their order."""
    m = dict(matches)
    agree = total = 0
    for g in range(max(m, default=-1)):
        if g in m and g + 1 in m:
            total += 1
            agree += pred_order[m[g]] < pred_order[m[g + 1]]
    return agree, total


def score_page(gt: list[TrueBox], pred: list[dict]) -> dict:
    g = np.array([[b.x, b.y, b.w, b.h] for b in gt], float).reshape(-1, 4)
    p = np.array([[b["x"], b["y"], b["w"], b["h"]] for b in pred], float).reshape(-1, 4)
    porder = np.array([b.get("order", i) for i, b in enumerate(pred)])
    m_iou = match_iou(g, p)
    m_c = match_centre(g, p)
    agree, total = order_agreement(m_iou, porder)
    return {
        "iou50": prf(len(m_iou), len(g), len(p)),
        "centre": prf(len(m_c), len(g), len(p)),
        "order": {"agree": agree, "pairs": total, "agreement": agree / total if total else 1.0},
    }


def score(gt_pages: dict[str, list[TrueBox]], pred_pages: dict[str, list[dict]]) -> dict:
    """Per page and overall (micro-averaged over all boxes)."""
    per_page = {}
    tot: defaultdict[str, int] = defaultdict(int)
    for name, gt in gt_pages.items():
        s = score_page(gt, pred_pages.get(name, []))
        per_page[name] = s
        for k in ("iou50", "centre"):
            tot[f"{k}_tp"] += s[k]["tp"]
        tot["gt"] += len(gt)
        tot["pred"] += len(pred_pages.get(name, []))
        tot["agree"] += s["order"]["agree"]
        tot["pairs"] += s["order"]["pairs"]
    overall = {
        "iou50": prf(tot["iou50_tp"], tot["gt"], tot["pred"]),
        "centre": prf(tot["centre_tp"], tot["gt"], tot["pred"]),
        "order": {"agreement": tot["agree"] / tot["pairs"] if tot["pairs"] else 1.0, "pairs": tot["pairs"]},
    }
    return {"pages": per_page, "overall": overall}


def match_centre_labels(gt: list[TrueBox], pred: list[dict]) -> int:
    """The Kaggle Kuzushiji rule for reading: a prediction counts when its box centre lies in an unmatched true box
    of the same character (``pred`` rows hold x, y, w, h and ``label``).  Returns the number of hits."""
    used: set[int] = set()
    hits = 0
    for p in pred:
        cx, cy = p["x"] + p["w"] / 2, p["y"] + p["h"] / 2
        for gi, b in enumerate(gt):
            if gi not in used and b.char == p.get("label") and b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h:
                used.add(gi)
                hits += 1
                break
    return hits


def score_reading(gt: list[TrueBox], pred: list[dict]) -> dict:
    """Precision, recall and F1 of a page's reading by :func:`match_centre_labels`."""
    return prf(match_centre_labels(gt, pred), len(gt), len(pred))
