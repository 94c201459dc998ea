"""Joining and splitting boxes by reading: where the classifier is unsure of a box, try the box merged with its
neighbour below or split at its row projection's minimum, and keep the variant the model reads with more
confidence.

A segmenter alone cannot tell 二 (one character) from 一 over 一 (two), nor a kanji whose radical stands apart
from its other half: the reader can, because only one of the variants is a character it knows.  The gain must
exceed ``margin`` so that noise in the confidences does not reshape the page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from kuzushi_core.crops import crop_box, to_gray
from kuzushi_core.predict.classifier import classify_crops
from kuzushi_core.segment.columns import Box, Segmentation, segment


@dataclass(frozen=True)
class RefineParams:
    threshold: float = 0.5  # boxes read below this confidence are tried
    margin: float = 0.1  # a variant must raise the mean confidence by this much
    max_merged: float = 1.5  # a merged box is at most this × the character size tall
    min_split: float = 1.1  # a box is split only when at least this × the character size tall
    min_part: float = 0.6  # ... and into parts at least this × the character size tall
    split_margin: float = 0.3  # a split must gain more: the halves of a kanji are often characters themselves
    split: bool = True
    small: float = 0.0  # boxes smaller than this × the character size (strokes of a character cut apart) are
    #                     tried merged with the box above and below whatever their confidence (0: off)
    small_margin: float = 0.0
    passes: int = 1  # rounds of merging and splitting (a character in three pieces needs two)


def union_box(a: Box, b: Box) -> Box:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    x1, y1 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
    return replace(a, x=x0, y=y0, w=x1 - x0, h=y1 - y0)


def split_box(gray: np.ndarray, b: Box, char: float) -> list[Box] | None:
    """The box cut in two at the emptiest row between 30 % and 70 % of its height, each part tight to its ink."""
    crop = gray[b.y : b.y + b.h, b.x : b.x + b.w]
    if crop.size == 0 or b.h < 0.6 * char:
        return None
    _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    prof = ink.sum(1).astype(np.float32)
    lo, hi = int(0.3 * b.h), int(0.7 * b.h)
    if hi <= lo:
        return None
    cut = lo + int(np.argmin(prof[lo:hi]))
    parts = []
    for a, z in ((0, cut), (cut, b.h)):
        ys, xs = np.nonzero(ink[a:z])
        if len(ys) == 0:
            return None
        parts.append(replace(b, x=b.x + int(xs.min()), y=b.y + a + int(ys.min()), w=int(xs.max() - xs.min() + 1),
                             h=int(ys.max() - ys.min() + 1)))
    return parts


def refine_by_reading(img: np.ndarray, seg: Segmentation, lm, params: RefineParams | None = None
                      ) -> tuple[list[Box], dict]:
    """The page's boxes after trying merges and splits of the unsure ones; and counts of what was done."""
    p = params or RefineParams()
    boxes = list(seg.boxes)
    done = {"merged": 0, "split": 0, "tried": 0}
    gray = to_gray(img) if boxes else None
    read = _Confidences(img, lm)
    for _ in range(max(1, p.passes)):
        boxes, step = _one_pass(read, gray, boxes, seg.char_size, p)
        for k in done:
            done[k] += step[k]
        if not step["merged"] and not step["split"]:
            break
    return [replace(b, order=n) for n, b in enumerate(boxes)], done


class _Confidences:
    """The reader's confidence in each box of one page, every box read once (the passes share what they read)."""

    def __init__(self, img: np.ndarray, lm):
        self.img, self.lm = img, lm
        self.known: dict = {}

    def __call__(self, boxes: list[Box]) -> list[float]:
        keys = [(b.x, b.y, b.w, b.h) for b in boxes]
        todo = list(dict.fromkeys(k for k in keys if k not in self.known))
        if todo:
            preds = classify_crops(self.lm, [crop_box(self.img, *k) for k in todo])
            self.known.update(zip(todo, (q.confidence for q in preds)))
        return [self.known[k] for k in keys]


def _one_pass(read: _Confidences, gray, boxes: list[Box], char: float, p: RefineParams) -> tuple[list[Box], dict]:
    if not boxes:
        return boxes, {"merged": 0, "split": 0, "tried": 0}
    conf = read(boxes)

    def small(b: Box) -> bool:
        return p.small > 0 and max(b.w, b.h) < p.small * char

    def same_column(i: int, j: int) -> bool:
        return 0 <= j < len(boxes) and boxes[j].column == boxes[i].column

    # the variants of every unsure (or small) box, read in one batch; a merge is (i, i + 1)
    variants: list[tuple[str, int, list[Box], float]] = []
    seen: set[int] = set()
    for i, b in enumerate(boxes):
        unsure = conf[i] < p.threshold
        if not unsure and not small(b):
            continue
        for j in (i, i - 1):  # merge i with the next, or the previous with i
            if j in seen or not same_column(j, j + 1) or j < 0:
                continue
            u = union_box(boxes[j], boxes[j + 1])
            if u.h <= p.max_merged * char and u.w <= p.max_merged * char:
                seen.add(j)
                margin = p.small_margin if (small(boxes[j]) or small(boxes[j + 1])) else p.margin
                variants.append(("merge", j, [u], margin))
        if unsure and p.split and b.h >= p.min_split * char:
            parts = split_box(gray, b, char)
            if parts and min(q.h for q in parts) >= p.min_part * char:
                variants.append(("split", i, parts, p.split_margin))
    flat = [v for _, _, vs, _ in variants for v in vs]
    vconf = read(flat)
    gains, k = [], 0
    for kind, i, vs, margin in variants:
        new = float(np.mean(vconf[k : k + len(vs)]))
        k += len(vs)
        old = float(np.mean(conf[i : i + 2])) if kind == "merge" else conf[i]
        gains.append((new - old, margin, kind, i, vs))
    # the best gains first; a box takes part in one change at most
    used: set[int] = set()
    replace_at: dict[int, list[Box]] = {}
    done = {"merged": 0, "split": 0, "tried": len(variants)}
    for gain, margin, kind, i, vs in sorted(gains, key=lambda g: -(g[0] - g[1])):
        span = {i, i + 1} if kind == "merge" else {i}
        if gain < margin or span & used:
            continue
        used |= span
        replace_at[i] = vs
        if kind == "merge":
            replace_at[i + 1] = []
        done["merged" if kind == "merge" else "split"] += 1
    out: list[Box] = []
    for i, b in enumerate(boxes):
        out.extend(replace_at.get(i, [b]))
    return out, done


#: the ways the Segment page can make a page's boxes
METHODS = ("columns", "columns+reading")
METHOD_SETTING = "segment.method.{scan_id}"  # the workspace setting that records which method made a scan's boxes


def segment_by(method: str, img: np.ndarray, params=None, lm=None, keep_steps: bool = False) -> Segmentation:
    """Segment with ``method``: ``columns`` (the classical pipeline) or ``columns+reading`` (then joining and
    splitting the unsure boxes by what the reader ``lm`` reads with more confidence)."""
    if method not in METHODS:
        raise ValueError(f"unknown segmentation method {method!r} (one of {', '.join(METHODS)})")
    seg = segment(img, params, keep_steps=keep_steps)
    if method == "columns+reading":
        if lm is None:
            raise ValueError("columns+reading needs a reader (a loaded model)")
        seg = replace(seg, boxes=refine_by_reading(img, seg, lm)[0])
    return seg
