"""Ruled forms (registers) segmented cell by cell.

A page whose printed ruling makes a grid — several rows and columns of cells covering most of the page — is a
form: its characters are found cell by cell (:mod:`.cellseg`: one line of writing a cell, or two lines of small
writing, or a band written across), not by the book page's column finding, which takes a form's columns of
cells for columns of text and merges what is written two to a line.

Red ink on a form is of two kinds. A seal is a blot over writing: red in a cell that also holds writing in sumi,
or a round or square ring (with its character inside) where nothing else is written; it is made paper. Red
*printing* — the headings of a form printed in vermilion, in cells that hold nothing else — is text, and is
segmented (and read) as such.

The cells are numbered as :func:`.cells.find_cells` numbers them (rows top to bottom, columns right to left);
the page is read column by column, right to left, top to bottom in a column (a vertical form's order); inside
a cell top to bottom, the right line first, and along a band written across right to left.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kuzushi_core.containers import Box, RuledCell, Segmentation
from kuzushi_core.segment.cells import estimate_skew, find_cells
from kuzushi_core.segment.cellseg import INSET, CellBoxes, red_ink, segment_cells
from kuzushi_core.segment.order import reading_order


@dataclass(frozen=True)
class FormParams:
    work_height: int = 1400  # the form is looked for on the page scaled to about this height (px)
    min_cells: int = 12  # a form has at least this many cells ...
    min_rows: int = 2  # ... in at least this many rows (a book's ruled columns make one row)
    min_cols: int = 3  # ... and columns
    min_cover: float = 0.45  # and its cells cover at least this share of the page


def looks_like_form(cells: list[RuledCell], shape: tuple[int, int], p: FormParams = FormParams()) -> bool:
    """Whether ``cells`` (found on a page of ``shape``) make a ruled form rather than a book page's frame and
    column rules (or boxes an OCR tool drew round its columns): enough cells, in rows and columns, covering most
    of the page, and ruled across — at least ``min_cols`` cells of a fair size with another such cell right
    below them (a book's columns stand side by side, never one above the other)."""
    if len(cells) < p.min_cells:
        return False
    H, W = shape[:2]
    cover = sum(c.w * c.h for c in cells) / float(H * W)
    if len({c.row for c in cells}) < p.min_rows or len({c.col for c in cells}) < p.min_cols or cover < p.min_cover:
        return False
    fair = [c for c in cells if c.h >= 0.03 * H and c.w >= 0.015 * W]
    tol = max(6, int(0.006 * max(H, W)))
    stacked = 0
    for a in fair:
        if any(abs(b.y - (a.y + a.h)) <= tol and min(a.x + a.w, b.x + b.w) - max(a.x, b.x) > 0.5 * min(a.w, b.w)
               for b in fair):
            stacked += 1
    return stacked >= p.min_cols


def find_form(img: np.ndarray, p: FormParams = FormParams()) -> tuple[list[RuledCell], float] | None:
    """The cells of the ruled form on a page (uint8 grey or RGB) and the page's skew, or None for a page that is
    no form. The test runs on the page scaled down (fast on book pages); a form's cells are found at full size."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    scale = min(1.0, p.work_height / gray.shape[0])
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    if not looks_like_form(find_cells(small), small.shape, p):
        return None
    cells = find_cells(gray)
    if not looks_like_form(cells, gray.shape, p):
        return None
    return cells, estimate_skew(small)  # an angle: the small page's is the page's


def _rings(red: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes of the seals among red marks: round or square rings (with a character inside) — a closed outline
    whose hole is most of its area. A printed heading's strokes enclose no such hole (目 and 田 hold small ones)."""
    u8 = cv2.dilate(red.astype(np.uint8), np.ones((3, 3), np.uint8))
    # a vermilion form's ruling touches the seals across it: long straight runs are taken out first
    H, W = u8.shape
    for kernel in ((max(15, W // 12), 1), (1, max(15, H // 12))):
        u8 = cv2.subtract(u8, cv2.dilate(cv2.morphologyEx(u8, cv2.MORPH_OPEN, cv2.getStructuringElement(
            cv2.MORPH_RECT, kernel)), np.ones((3, 3), np.uint8)))
    u8 = cv2.morphologyEx(u8, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))  # the ring closed where a line crossed it
    contours, hierarchy = cv2.findContours(u8, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    if hierarchy is None:
        return out
    for i, c in enumerate(contours):
        if hierarchy[0][i][3] != -1:
            continue  # a hole
        x, y, w, h = cv2.boundingRect(c)
        if min(w, h) < 16 or not 0.7 <= w / h <= 1.43:
            continue
        outer = cv2.contourArea(c)
        k = hierarchy[0][i][2]
        biggest = 0.0
        while k != -1:
            biggest = max(biggest, cv2.contourArea(contours[k]))
            k = hierarchy[0][k][0]
        if outer > 0 and biggest >= 0.45 * outer:
            out.append((x, y, w, h))
    return out


def coloured_ink(rgb: np.ndarray) -> np.ndarray:
    """Red (vermilion seals and printing) or blue (indigo printing, stamps) ink: sumi is neither."""
    img = rgb.astype(np.int16)
    blue = ((img[..., 2] - img[..., 0]) > 40) & ((img[..., 2] - img[..., 1]) > 15)
    return red_ink(rgb) | blue


def form_ink(rgb: np.ndarray, cells: list[RuledCell]) -> np.ndarray:
    """The page in grey (its darkest channel) as its characters are segmented: seals made paper, printing kept.

    Coloured ink (red, blue) in a cell that also holds dark ink that is not coloured (writing in sumi) is a seal
    or a stamp over the writing; in a cell of its own it is printing, except for a seal's ring and what it
    encloses."""
    if rgb.ndim != 3:
        return rgb
    r, g, b = cv2.split(rgb)
    gray = cv2.min(cv2.min(r, g), b)  # the darkest channel: sumi is dark in all three, red printing in green and blue
    red = coloured_ink(rgb)
    if not red.any():
        return gray
    paper = int(np.percentile(gray[::4, ::4], 90))
    brightest = cv2.max(cv2.max(r, g), b)  # sumi is dark in its brightest channel too; coloured ink is not
    dark = brightest < int(np.percentile(brightest[::4, ::4], 90)) - 60
    out = gray.copy()
    seal = np.zeros_like(red)
    for x, y, w, h in _rings(red):
        seal[y : y + h, x : x + w] = True
    H, W = gray.shape
    printed = np.zeros_like(red)
    for c in cells:
        ys, xs = slice(max(0, c.y + 4), min(H, c.y + c.h - 4)), slice(max(0, c.x + 4), min(W, c.x + c.w - 4))
        rr = red[ys, xs]
        sumi = int((dark[ys, xs] & ~cv2.dilate(rr.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)).sum())
        if rr.any() and sumi < 0.1 * int(rr.sum()) + 30:
            printed[ys, xs] = True
    drop = cv2.dilate((red & (~printed | seal)).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    out[drop] = paper
    return out


def cell_order(boxes: list[tuple[int, int, int, int]], cell: tuple[int, int, int, int],
               by_lines: bool = False) -> list[int]:
    """Reading order of a cell's character boxes: right to left along a line written across a wide band; else
    as the cell segmenter gives them (top to bottom, the right line first), or — ``by_lines``, for boxes in no
    particular order (a workspace's) — line by line, right to left, each top to bottom."""
    across = (cell[2] > 2 * cell[3] and len(boxes) > 1
              and min(b[1] + b[3] for b in boxes) > max(b[1] for b in boxes))
    if across:
        return sorted(range(len(boxes)), key=lambda i: -(boxes[i][0] + boxes[i][2]))
    if by_lines:
        order = reading_order(boxes)[1]
        return sorted(range(len(boxes)), key=lambda i: order[i])
    return list(range(len(boxes)))


def segment_form(img: np.ndarray, cells: list[RuledCell], angle: float,
                 ink: np.ndarray | None = None) -> list[CellBoxes]:
    """Each cell's character boxes ``(x, y, w, h)`` in page pixels, in reading order inside the cell (those of a
    correction struck through marked: ``.struck``)."""
    ink = (form_ink(img, cells) if img.ndim == 3 else img) if ink is None else ink
    per_cell = segment_cells(ink, cells, angle)
    return [CellBoxes([boxes[i] for i in cell_order(boxes, (c.x, c.y, c.w, c.h))], boxes.struck)
            for c, boxes in zip(cells, per_cell)]


def _inside(b: tuple[int, int, int, int], c: RuledCell) -> float:
    """How much of box b lies inside cell c."""
    x0, y0 = max(b[0], c.x), max(b[1], c.y)
    x1, y1 = min(b[0] + b[2], c.x + c.w), min(b[1] + b[3], c.y + c.h)
    return max(0, x1 - x0) * max(0, y1 - y0) / max(1, b[2] * b[3])


def _ink_in(dark: np.ndarray, boxes, c: RuledCell) -> int:
    """Ink pixels of cell c (its inside, clear of the ruling) that lie in ``boxes``."""
    ys, xs = slice(max(0, c.y + INSET), c.y + c.h - INSET), slice(max(0, c.x + INSET), c.x + c.w - INSET)
    sub = np.zeros(dark[ys, xs].shape, bool)
    for x, y, w, h in boxes:
        sub[max(0, y - ys.start) : max(0, y + h - ys.start), max(0, x - xs.start) : max(0, x + w - xs.start)] = True
    return int((dark[ys, xs] & sub).sum())


def _side_by_side(boxes) -> bool:
    """Whether two of ``boxes`` stand side by side (two lines of small writing), not one above the other."""
    for i, p in enumerate(boxes):
        for q in boxes[i + 1 :]:
            rows = min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1])
            cols = min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0])
            if rows > 0.5 * min(p[3], q[3]) and cols < 0.3 * min(p[2], q[2]):
                return True
    return False


def choose_boxes(c: RuledCell, own: CellBoxes, page: list, dark: np.ndarray) -> CellBoxes:
    """A cell's characters: the page segmenter's boxes (``page``, found by the book page's column finding, its
    strength on a column of cursive writing) where they are sound there, else the cell segmenter's (``own``).
    They are not where they cut a character's flat strokes apart (二 三: the cell segmenter groups strokes by the
    line's rhythm), where one of them crosses the cell's ruling (the columns of two cells taken for one), holds
    two of the cell's lines side by side in one box or characters together with what lies beside them (far wider
    than the cell's characters), or leaves out ink the cell's own boxes hold (printing in red taken for a seal), or
    boxes ink they leave out (what is left of the ruling at the cell's edge)."""
    if own.struck or any(_inside(b, c) < 0.85 for b in page):
        return own  # a correction struck through is the cell segmenter's to find
    inner = RuledCell(c.x + INSET, c.y + INSET, c.w - 2 * INSET, c.h - 2 * INSET)
    page = [b for b in page if _inside(b, inner) >= 0.5]  # a box on the cell's edge is what is left of the ruling
    if not page:
        return own
    for f in own:  # the flat strokes of 二 or 三 cut apart where the cell's rhythm makes them one character
        held = [b for b in page if f[0] <= b[0] + b[2] / 2 <= f[0] + f[2] and f[1] <= b[1] + b[3] / 2 <= f[1] + f[3]]
        if len(held) >= 2 and any(b[3] < 0.4 * b[2] for b in held):
            return own
    w_own = float(np.median([f[2] for f in own])) if own else 0.0
    for b in page:
        held = [f for f in own if b[0] <= f[0] + f[2] / 2 <= b[0] + b[2] and b[1] <= f[1] + f[3] / 2 <= b[1] + b[3]]
        if _side_by_side(held) or (len(held) >= 2 and b[2] > 1.6 * w_own):
            return own  # two lines in one box, or characters merged with what lies beside them
    theirs, mine = _ink_in(dark, page, c), _ink_in(dark, own, c)
    if theirs < 0.95 * mine or mine < 0.95 * theirs:
        return own  # they leave out what the cell holds, or box what the cell segmenter knows is no writing
    return CellBoxes(page)


def form_order(cells: list[RuledCell]) -> list[int]:
    """The cells' reading order on a vertical form: columns right to left, top to bottom in a column."""
    return sorted(range(len(cells)), key=lambda i: (cells[i].col, cells[i].row, -(cells[i].x + cells[i].w)))


def form_boxes(img: np.ndarray, cells: list[RuledCell], angle: float, page_boxes: list | None = None,
               ink: np.ndarray | None = None) -> list[CellBoxes]:
    """Each cell's characters ``(x, y, w, h)`` in reading order: from the cell segmenter, or from ``page_boxes``
    (the page segmenter's, in its reading order) where those are sound in the cell (:func:`choose_boxes`)."""
    ink = (form_ink(img, cells) if img.ndim == 3 else img) if ink is None else ink
    per_cell = segment_form(img, cells, angle, ink)
    dark = ink < int(np.percentile(ink[::4, ::4], 90)) - 40
    page = [(b.x, b.y, b.w, b.h) if isinstance(b, Box) else tuple(b) for b in page_boxes or []]
    out = []
    for c, own in zip(cells, per_cell):
        mine = [b for b in page if c.x <= b[0] + b[2] / 2 <= c.x + c.w and c.y <= b[1] + b[3] / 2 <= c.y + c.h]
        out.append(choose_boxes(c, own, mine, dark))
    return out


def form_segmentation(img: np.ndarray, cells: list[RuledCell], angle: float, page_boxes: list[Box] | None = None,
                      keep_steps: bool = False) -> Segmentation:
    """A form page's :class:`Segmentation`, cell by cell (:func:`form_boxes`): each line of a cell one column of
    boxes, the cells in the form's order."""
    H, W = img.shape[:2]
    ink = form_ink(img, cells) if img.ndim == 3 else img
    per_cell = form_boxes(img, cells, angle, page_boxes, ink)
    boxes: list[Box] = []
    col = 0
    for i in form_order(cells):
        chars = per_cell[i]
        prev = None
        for x, y, w, h in chars:
            # the second line of a two-line cell (its boxes start again at the top) is a column of its own
            if prev is not None and y + h / 2 < prev[1]:
                col += 1
            # "cell": read in its cell, out of a book's language model; "struck": a correction struck through
            boxes.append(Box(x, y, w, h, column=col, order=len(boxes),
                             flags="cell struck" if (x, y, w, h) in chars.struck else "cell"))
            prev = (x, y + h / 2)
        if chars:
            col += 1
    heights = [b.h for b in boxes]
    widths = [b.w for b in boxes]
    size = float(np.median(np.maximum(heights, widths))) if boxes else 20.0
    steps: dict[str, np.ndarray] = {}
    if keep_steps:
        steps["form ink (seals removed)"] = ink
        grid = cv2.cvtColor(ink, cv2.COLOR_GRAY2RGB)
        for c in cells:
            cv2.rectangle(grid, (c.x, c.y), (c.x + c.w, c.y + c.h), (0, 160, 0), max(2, W // 600))
        steps["form cells"] = grid
    return Segmentation(W, H, boxes, [], size, steps, skew=-angle, cells=list(cells))  # turned back by -angle
