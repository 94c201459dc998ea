"""The printed ruling of a register form, found as cells.

A cell is a smallest ruled rectangle: a region of the page enclosed by ruling lines. The lines are what
stays of the ink under a morphological opening with long thin kernels (handwriting, stamps and text
have no long straight runs); gaps of broken or faint printing are closed along each line's direction;
the cells are then the connected regions of the page that no line covers, less the outside of the frame
and the slivers between doubled lines. The page is levelled first (the skew measured on the long
horizontal lines), and the cells are mapped back to the original pixels.

Rows are numbered top to bottom and columns right to left (a vertical form's reading order) by the
cells' top and right edges; a cell spanning several takes the row of its top and the column of its right.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from kuzushi_core.containers import RuledCell


@dataclass(frozen=True)
class CellParams:
    line_frac: float = 0.035   # the skew is measured on runs this share of the page's shorter side
    run: int = 15              # vertical / horizontal runs of at least this many px are pieces of lines
    gap_frac: float = 0.03     # gaps up to this share of the shorter side are closed along a line
    min_line_frac: float = 0.06  # a line is at least this share of the shorter side long (a printed heading's strokes are shorter)
    min_cover: float = 0.04    # and its runs add up to this share of the page's height (or width)
    min_side_frac: float = 0.012  # regions thinner than this (the space between doubled lines) are no cells
    min_fill: float = 0.6      # a cell fills most of its bounding box
    max_skew_deg: float = 5.0


def _ink(gray: np.ndarray) -> np.ndarray:
    """Dark marks (ruling, writing) as 255 on 0, by a local threshold that follows uneven light."""
    side = min(gray.shape)
    block = max(15, int(side * 0.02) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


def _segments(frag: np.ndarray, min_cover: float, gap: int, min_len: int,
              cover: float = 0.7) -> list[tuple[int, int, int]]:
    """Vertical ruling lines in a levelled page: ``(x, y0, y1)`` for each.

    ``frag`` holds the page's vertical runs (ruling pieces between breaks, and some strokes of writing). A
    line is a sharp peak of the column profile (a straight line piles its runs on one x; writing scatters
    them); along it, runs are chained across gaps of up to ``gap`` px (broken or faint printing) into
    segments of at least ``min_len`` px that the runs cover ``cover`` of (strokes of writing that line up
    across neighbouring cells leave wide gaps between characters).
    """
    H = frag.shape[0]
    prof = np.convolve((frag > 0).sum(0).astype(np.float32), np.ones(3, np.float32), "same")
    order = np.argsort(-prof)
    taken = np.zeros(len(prof), bool)
    out = []
    for x in order:
        if prof[x] < min_cover * H:
            break
        if taken[max(0, x - 4) : x + 5].any():
            continue
        taken[x] = True
        band = (frag[:, max(0, x - 3) : x + 4] > 0).any(1)
        ys = np.flatnonzero(band)
        if not len(ys):
            continue
        breaks = np.flatnonzero(np.diff(ys) > gap)
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(ys) - 1]])
        pieces = [(int(ys[s_]), int(ys[e_]), int(e_ - s_ + 1)) for s_, e_ in zip(starts, ends)]
        pieces = [p for p in pieces if p[1] - p[0] >= min_len and p[2] >= cover * (p[1] - p[0] + 1)]
        # two long pieces in one line across a wider gap (a seal or a blot over the line) are one line
        merged: list[list[int]] = []
        for y0, y1, _ in pieces:
            if merged and y0 - merged[-1][1] <= 3 * gap:
                merged[-1][1] = y1
            else:
                merged.append([y0, y1])
        out += [(int(x), y0, y1) for y0, y1 in merged]
    return out


def _lines(bw: np.ndarray, run: int, gap: int, min_len: int, min_cover: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical ruling of a levelled page, redrawn as solid lines (gaps closed)."""
    H, W = bw.shape
    vfrag = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, run)))
    hfrag = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1)))
    vsegs = _lone(_segments(vfrag, min_cover, gap, min_len), bw)
    hsegs = _lone(_segments(hfrag.T, min_cover, gap, min_len), bw.T)
    reach = gap // 2  # a line that stops just short of the one it meets still meets it
    # a ruling line ends where it meets another (or the frame): a run of strokes of writing or of a printed
    # heading that happens to be long and straight ends in the middle of a cell, and is no line
    vsegs, hsegs = _anchored(vsegs, hsegs, 2 * reach), _anchored(hsegs, vsegs, 2 * reach)
    vsegs, hsegs = _solid(vsegs, vfrag), _solid(hsegs, hfrag.T)
    vert = np.zeros_like(bw)
    horiz = np.zeros_like(bw)
    for x, y0, y1 in vsegs:
        cv2.line(vert, (x, max(0, y0 - reach)), (x, min(H - 1, y1 + reach)), 255, 3)
    for y, x0, x1 in hsegs:
        cv2.line(horiz, (max(0, x0 - reach), y), (min(W - 1, x1 + reach), y), 255, 3)
    return horiz, vert


def _lone(segs: list[tuple[int, int, int]], bw: np.ndarray, share: float = 0.5) -> list[tuple[int, int, int]]:
    """The segments (vertical, in ``bw``) that stand alone as a ruling line does: a column of writing whose
    straight strokes (十 千 中) line up has the rest of its characters on both sides of them, along most of its
    inked length; a line has ink on both sides only where writing or a seal crosses it."""
    side = max(6, int(0.006 * min(bw.shape)))
    W = bw.shape[1]
    out = []
    for x, y0, y1 in segs:
        left = bw[y0 : y1 + 1, max(0, x - 4 - side) : max(0, x - 4)]
        right = bw[y0 : y1 + 1, min(W, x + 5) : min(W, x + 5 + side)]
        on = bw[y0 : y1 + 1, max(0, x - 1) : x + 2].any(1)  # the rows the segment has ink in
        if left.size and right.size and on.any() and float((left.any(1) & right.any(1))[on].mean()) > share:
            continue
        out.append((x, y0, y1))
    return out


def _solid(segs: list[tuple[int, int, int]], frag: np.ndarray, cover: float = 0.8) -> list[tuple[int, int, int]]:
    """The segments (vertical, in ``frag``) whose runs cover ``cover`` of their length from one crossing line to the
    other: a printed line is broken only in short stretches; strokes of writing or of a printed heading that line
    up (地 over 目) leave the gaps between the characters."""
    out = []
    for x, y0, y1 in segs:
        band = (frag[y0 : y1 + 1, max(0, x - 3) : x + 4] > 0).any(1)
        if band.size and float(band.mean()) >= cover:
            out.append((x, y0, y1))
    return out


def _anchored(segs: list[tuple[int, int, int]], across: list[tuple[int, int, int]], tol: int) -> list:
    """The segments that run from one line of the other direction to another, cut back to their first and
    last crossing (within ``tol`` px): a line that overshoots (into the page number under the frame) ends at
    the frame; a run of strokes inside a cell, which crosses no two lines, is dropped."""
    out = []
    for p, s0, s1 in segs:
        hits = [a for a, b0, b1 in across if s0 - tol <= a <= s1 + tol and b0 - tol <= p <= b1 + tol]
        if len(hits) >= 2 and max(hits) - min(hits) >= tol:
            out.append((p, min(hits), max(hits)))
    return out


def estimate_skew(gray: np.ndarray, params: CellParams = CellParams()) -> float:
    """The page's skew in degrees (counter-clockwise positive, as cv2.getRotationMatrix2D), from the long
    horizontal ruling lines; 0 when there are none."""
    bw = _ink(gray)
    side = min(gray.shape)
    length = max(25, int(side * params.line_frac))
    horiz = cv2.morphologyEx(cv2.dilate(bw, np.ones((5, 1), np.uint8)), cv2.MORPH_OPEN,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(horiz, connectivity=8)
    angles, weights = [], []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if w < gray.shape[1] * 0.2:
            continue
        ys, xs = np.nonzero(lab[y : y + h, x : x + w] == i)
        vx, vy = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01)[:2, 0]
        a = float(np.degrees(np.arctan2(vy, vx)))
        a = (a + 90) % 180 - 90
        if abs(a) <= params.max_skew_deg:
            angles.append(a)
            weights.append(w)
    if not angles:
        return 0.0
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    median = float(np.asarray(angles)[order][np.searchsorted(cum, cum[-1] / 2)])
    return -median  # an image line going down to the right (positive slope in pixels) is a clockwise skew


def find_cells(gray: np.ndarray, params: CellParams = CellParams()) -> list[RuledCell]:
    """The ruled cells of a page (uint8 grey or RGB) in original-image pixels, numbered by row and column."""
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    H, W = gray.shape
    side = min(H, W)
    angle = estimate_skew(gray, params)
    centre = (W / 2, H / 2)
    level = cv2.getRotationMatrix2D(centre, -angle, 1.0)  # undo the skew
    flat = cv2.warpAffine(gray, level, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    gap = max(9, int(side * params.gap_frac))
    horiz, vert = _lines(_ink(flat), params.run, gap, max(20, int(side * params.min_line_frac)), params.min_cover)
    ruling = cv2.bitwise_or(horiz, vert)
    free = cv2.bitwise_not(ruling)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    min_side = max(10, int(side * params.min_side_frac))
    grow = 1  # the regions stop at the redrawn lines (3 px): give back half of one
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if x == 0 or y == 0 or x + w >= W or y + h >= H:
            continue  # the outside of the frame
        if min(w, h) < min_side or area < params.min_fill * w * h:
            continue
        boxes.append((x - grow, y - grow, w + 2 * grow, h + 2 * grow))
    # a region ringed by another (the inside of a square stamp or seal printed over a cell) is no cell of the form
    boxes = [b for b in boxes if not any(o is not b and o[2] * o[3] > b[2] * b[3] and _within(b, o) for o in boxes)]
    cells = number_cells([RuledCell(*b) for b in boxes])
    back = cv2.getRotationMatrix2D(centre, angle, 1.0)
    out = []
    for c in cells:
        pts = np.array([[c.x, c.y, 1], [c.x + c.w, c.y, 1], [c.x, c.y + c.h, 1], [c.x + c.w, c.y + c.h, 1]],
                       np.float64) @ back.T
        x0, y0 = np.maximum(pts.min(0), 0)
        x1, y1 = np.minimum(pts.max(0), (W, H))
        out.append(replace(c, x=int(round(x0)), y=int(round(y0)), w=int(round(x1 - x0)), h=int(round(y1 - y0))))
    return sorted(out, key=lambda c: (c.row, c.col))


def _within(a: tuple[int, int, int, int], b: tuple[int, int, int, int], share: float = 0.9) -> bool:
    """Whether box a lies (``share`` of it) inside box b."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return max(0, x1 - x0) * max(0, y1 - y0) >= share * a[2] * a[3]


def number_cells(cells: list, tol: float | None = None) -> list:
    """Rows (top to bottom) and columns (right to left) of cells, from their top and right edges.

    Edges within ``tol`` px (default: a quarter of the smallest cell side, at least 6) of the next are one
    ruling line; a cell spanning several rows or columns takes the row of its top and the column of its
    right edge. Takes any dataclasses with x, y, w, h, row and col.
    """
    if not cells:
        return []
    areas = np.array([c.w * c.h for c in cells], np.float64)
    # the rows and columns are set by the cells of the form; a small stray region (a square seal's inside,
    # a stroke that closed a corner) takes the nearest row and column instead of making one of its own
    anchor = areas >= 0.2 * np.median(areas)
    sides = [min(c.w, c.h) for c, a in zip(cells, anchor) if a]
    tol = tol if tol is not None else max(6.0, 0.25 * min(sides))
    rows = _clusters([c.y for c in cells], tol, anchor)
    cols = _clusters([-(c.x + c.w) for c in cells], tol, anchor)
    return [replace(c, row=rows[i], col=cols[i]) for i, c in enumerate(cells)]


def _clusters(values: list[float], tol: float, anchor) -> list[int]:
    """Chain the anchors' sorted values into clusters (a gap > ``tol`` starts the next); each value takes
    the index of the nearest cluster."""
    vals = np.asarray(values, np.float64)
    ref = np.sort(vals[np.asarray(anchor, bool)])
    starts = np.concatenate([[0], np.flatnonzero(np.diff(ref) > tol) + 1])
    lo = ref[starts]
    hi = ref[np.concatenate([starts[1:] - 1, [len(ref) - 1]])]
    dist = np.maximum(lo[None, :] - vals[:, None], 0) + np.maximum(vals[:, None] - hi[None, :], 0)
    return [int(k) for k in dist.argmin(1)]


def iou(a, b) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.w, b.x + b.w), min(a.y + a.h, b.y + b.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


def match_cells(truth: list, found: list, threshold: float = 0.7) -> dict:
    """Greedy one-to-one matching at IoU ≥ ``threshold``: precision, recall, F1, and how many matched cells
    also have the true row and column."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)
                    if abs(t.x - f.x) < max(t.w, f.w) and abs(t.y - f.y) < max(t.h, f.h)), reverse=True)
    used_t, used_f, matched = set(), set(), []
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_t or j in used_f:
            continue
        used_t.add(i)
        used_f.add(j)
        matched.append((i, j))
    tp = len(matched)
    p = tp / len(found) if found else 0.0
    r = tp / len(truth) if truth else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    same = sum(truth[i].row == found[j].row and truth[i].col == found[j].col for i, j in matched)
    return {"truth": len(truth), "found": len(found), "matched": tp, "precision": p, "recall": r, "f1": f1,
            "row_col_right": same / tp if tp else 0.0}
