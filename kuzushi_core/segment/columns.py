"""Page → character boxes in reading order (vertical columns, right to left).

A classical pipeline over numpy arrays, one function a step, every intermediate
image kept for the UI (:class:`Segmentation.steps`):

1. ``normalise``  – grey, downscaled to a working height; the paper's uneven
   light divided out (background estimated by a large median).
2. ``remove_seals`` – red stamps and seals dropped by colour (high red chroma).
3. ``binarise``   – Otsu, Sauvola or adaptive thresholding (``auto`` picks
   Sauvola when the background is uneven, Otsu otherwise).
4. ``remove_ruling`` – printed ruling, frames and cell lines: long thin runs
   found by morphological opening with line-shaped kernels, and ink touching
   the page border.
5. ``columns``    – the vertical projection of the ink, smoothed at the scale
   of a character, split into column bands; narrow bands beside a column are
   ruby (furigana) and kept apart.
6. ``characters`` – connected components of a column grouped top to bottom
   into characters: parts of one character merged while the merged box stays
   character-sized, over-tall groups (touching characters) split at the
   minimum of the horizontal projection.

All parameters live in :class:`SegmentParams`, whose defaults need no tuning.
Boxes come back in original-image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from kuzushi_core.containers import Box, Segmentation
from kuzushi_core.segment.forms import find_form, form_segmentation


@dataclass(frozen=True)
class SegmentParams:
    work_height: int = 1400  # pages are processed at about this height (px)
    binarisation: str = "auto"  # auto | otsu | sauvola | adaptive
    sauvola_window: int = 31
    sauvola_k: float = 0.2
    line_length: float = 0.12  # ruling: runs longer than this fraction of the page side
    line_thickness: float = 0.012  # ... and thinner than this fraction of the page side
    min_component: int = 10  # components smaller than this (working px) are noise
    # column_smoothing and merge_gap: the segmentation protocol's choice (bench_segprotocol, #25). 0.15/0.15 is at
    # least as good as the former hand-set 0.25/0.25 on each of the three shared pages and on the generated pages
    # (book pages: F1@IoU0.5 mean 0.866 -> 0.880, generated 0.869 -> 0.873) and was the choice on the book's unseen
    # pages too; column_smoothing 0.4 is better on the shared book alone (0.898) but worse on generated pages (0.852)
    column_smoothing: float = 0.15  # projection smoothing, in character widths
    ruby_width: float = 0.5  # bands narrower than this × median column width are ruby ...
    ruby_gap: float = 0.8  # ... when within this × char width of a column of full width: further from every one,
    #                        a narrow band is a short column of its own (a title like 自序, a line's last characters)
    merge_gap: float = 0.15  # parts closer than this × char width (vertically) may merge
    max_aspect: float = 1.35  # a merged character is at most this × char width tall
    core_margin: float = 0.2  # ink further than this × char width outside a column core is not the column's
    remove_seals: bool = True
    deskew: bool = True  # straighten pages turned by up to ±3°
    include_punctuation: bool = True  # small marks (、。) as boxes of their own
    min_char: float = 0.2  # a box whose longer side is under this × the page's median box is a speck, not a
    #                        character: of the corpus' 137,808 real boxes 4 are (0.003 %; 、。 are 0.3–0.5)
    forms: bool = True  # a ruled form (a register) is segmented cell by cell (:mod:`.forms`)
    warichu: float = 1.8  # two lines of small writing side by side in a column (割注) for at least this × char
    #                       width of height are read as two sub-columns, right then left (0: off)






# -- steps -------------------------------------------------------------------------
def speck_floor(sides, min_char: float) -> float:
    """The longer side a box needs to be a character: ``min_char`` × the median of ``sides`` (the page's boxes'
    longer sides); 0 for a page of fewer than five boxes or ``min_char`` 0."""
    return min_char * float(np.median(sides)) if min_char > 0 and len(sides) >= 5 else 0.0


def drop_specks(boxes: list[Box], min_char: float) -> list[Box]:
    """Boxes whose longer side is at least ``min_char`` × the page's median longer side (specks of dirt, the tips
    of a stain at the page's edge, a dot of bleed-through left out; all of them on a page of fewer than five),
    numbered again: columns 0, 1, … (a column of specks alone is gone) and reading order 0, 1, …"""
    least = speck_floor([max(b.w, b.h) for b in boxes], min_char)
    boxes = [b for b in boxes if max(b.w, b.h) >= least]
    renumber = {c: k for k, c in enumerate(sorted({b.column for b in boxes}))}
    return [Box(b.x, b.y, b.w, b.h, renumber[b.column], i, b.flags) for i, b in enumerate(boxes)]


def normalise(img: np.ndarray, work_height: int) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Grey, downscaled, background divided out. Returns (grey, scale, small colour image)."""
    scale = min(1.0, work_height / img.shape[0])
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else img.copy()
    color = small if small.ndim == 3 else None
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
    k = max(3, (min(gray.shape) // 20) | 1)
    tiny = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    bg = cv2.medianBlur(cv2.dilate(tiny, np.ones((3, 3), np.uint8)), max(3, (k // 4) | 1))
    bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    flat = np.clip(gray.astype(np.float32) / np.maximum(bg.astype(np.float32), 1) * 255.0, 0, 255).astype(np.uint8)
    return flat, scale, color


def estimate_skew(ink: np.ndarray, max_deg: float = 3.0, step: float = 0.25) -> float:
    """Skew angle (degrees) of vertical text: the rotation that makes the column profile sharpest.

    Projection-profile method on a downscaled ink mask: for each candidate angle,
    the variance of the vertical projection is highest when columns stand upright.
    """
    small = cv2.resize(ink.astype(np.uint8) * 255, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    if small.sum() == 0:
        return 0.0
    h, w = small.shape
    best, best_score = 0.0, -1.0
    for a in np.arange(-max_deg, max_deg + 1e-9, step):
        M = cv2.getRotationMatrix2D((w / 2, h / 2), float(a), 1.0)
        prof = cv2.warpAffine(small, M, (w, h)).sum(0).astype(np.float64)
        score = float(prof.var())
        if score > best_score:
            best, best_score = float(a), score
    return best


def seal_mask(color: np.ndarray | None) -> np.ndarray | None:
    """Pixels of red seals and stamps, and of other coloured marks (e.g. blue boxes drawn by an OCR tool).

    Brush ink is black to grey, i.e. of low colour saturation; a pixel whose
    saturation is high is not ink.
    """
    if color is None:
        return None
    c = color.astype(np.int16)
    mx, mn = c.max(2), c.min(2)
    sat = (mx - mn) / np.maximum(mx, 1)
    return (sat > 0.45) & (mx > 90) & ((mx - mn) > 60)


def binarise(flat: np.ndarray, method: str = "auto", window: int = 31, k: float = 0.2) -> np.ndarray:
    """Ink mask (True = ink)."""
    if method == "auto":
        spread = np.percentile(flat, 75) - np.percentile(flat, 25)
        method = "sauvola" if spread > 40 else "otsu"
    if method == "otsu":
        # Hysteresis around Otsu's threshold: clearly dark pixels seed the ink, fainter
        # ones join only where connected to them (faint stroke ends yes, bleed-through no).
        from skimage.filters import apply_hysteresis_threshold

        t, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        dark = 255.0 - flat.astype(np.float32)
        strong = t - min(16.0, (t - float(flat.min())) / 2)  # never below the darkest pixel
        return apply_hysteresis_threshold(dark, 255.0 - t - 10, 255.0 - strong - 0.5)
    if method == "adaptive":
        return cv2.adaptiveThreshold(flat, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, window | 1, 15) > 0
    if method == "sauvola":
        from skimage.filters import threshold_sauvola

        t, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return (flat < threshold_sauvola(flat, window_size=window | 1, k=k)) & (flat < min(250, t + 40))
    raise ValueError(f"unknown binarisation {method!r}")


def ruling_mask(ink: np.ndarray, length: float, thickness: float) -> np.ndarray:
    """Long thin horizontal and vertical runs (printed ruling, frames, cell lines)."""
    h, w = ink.shape
    u8 = ink.astype(np.uint8)
    lines = np.zeros_like(u8)
    for kern in (np.ones((1, max(3, int(w * length))), np.uint8), np.ones((max(3, int(h * length)), 1), np.uint8)):
        opened = cv2.morphologyEx(u8, cv2.MORPH_OPEN, kern)
        lines |= opened
    # keep only thin line structures: grow them slightly to swallow anti-aliased edges
    t = max(1, int(round(min(h, w) * thickness * 0.25)))
    return cv2.dilate(lines, np.ones((2 * t + 1, 2 * t + 1), np.uint8)) > 0


def _filter_mask(st: np.ndarray, shape: tuple[int, int], min_area: int) -> np.ndarray:
    H, W = shape
    keep = st[:, 4] >= min_area
    touches = (st[:, 0] <= 1) | (st[:, 1] <= 1) | (st[:, 0] + st[:, 2] >= W - 1) | (st[:, 1] + st[:, 3] >= H - 1)
    huge = (st[:, 2] > 0.5 * W) | (st[:, 3] > 0.5 * H)
    return keep & ~touches & ~huge


def components(mask: np.ndarray, min_area: int) -> np.ndarray:
    """Connected components as rows (x, y, w, h, area), noise and page-border blobs dropped."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    return stats[1:][_filter_mask(stats[1:], mask.shape, min_area)]


def estimate_char_size(comps: np.ndarray) -> float:
    """Typical character width: a high percentile of component widths (parts are narrower)."""
    if len(comps) == 0:
        return 20.0
    big = comps[comps[:, 4] >= np.percentile(comps[:, 4], 50)]
    return float(np.percentile(big[:, 2], 75))


def runs(flags: np.ndarray) -> list[list[int]]:
    """[start, end) index ranges where a 1-D boolean array is True."""
    f = np.concatenate([[False], np.asarray(flags, bool), [False]])
    edges = np.flatnonzero(f[1:] != f[:-1])
    return [[int(a), int(b)] for a, b in zip(edges[::2], edges[1::2])]


def column_cores(mask: np.ndarray, char: float, smoothing: float) -> list[tuple[int, int]]:
    """x-ranges of the dense cores of text columns.

    The count of ink pixels per x, smoothed, is high along a column of
    characters and low where only sparse ruby or stray marks lie.
    """
    prof = mask.sum(0).astype(np.float32)
    k = max(1, int(char * smoothing))
    prof = np.convolve(prof, np.ones(k) / k, mode="same")
    if prof.max() <= 0:
        return []
    thr = 0.25 * float(np.percentile(prof[prof > 0], 97))
    bands = runs(prof > thr)
    merged: list[list[int]] = []
    for b in bands:
        if merged and b[0] - merged[-1][1] < 0.12 * char:
            merged[-1][1] = b[1]
        else:
            merged.append(b)
    mass = np.array([prof[a:b].sum() for a, b in merged]) if merged else np.zeros(0)
    keep = [
        (a, b) for (a, b), m in zip(merged, mass)
        if b - a >= 0.3 * char and m >= 0.15 * float(np.median(mass))
    ]
    return keep


def ruby_bands(cores: list[tuple[int, int]], char: float, width: float, gap: float) -> list[bool]:
    """Which column cores are ruby: narrower than ``width`` × char and within ``gap`` × char of a core of full
    width (ruby is written beside its column; a narrow band standing apart is a short column of its own)."""
    narrow = [b - a < width * char for a, b in cores]
    full = [c for c, n in zip(cores, narrow) if not n]
    if gap <= 0 or not full:
        return narrow
    return [n and min(max(a - f1, f0 - b, 0) for f0, f1 in full) < gap * char for (a, b), n in zip(cores, narrow)]


def assign_columns(comps: np.ndarray, cores: list[tuple[int, int]], char: float) -> np.ndarray:
    """Index of the column core each component belongs to, or -1 (ruby, marks, noise).

    A component belongs to a column when its centre lies within the core (plus a
    tenth of a character), or when it is character-sized and mostly overlaps
    the core.  Small marks beside the core — ruby — belong to none.
    """
    out = np.full(len(comps), -1, int)
    for i, (x, _y, w, _h, _a) in enumerate(comps):
        cx = x + w / 2
        for j, (c0, c1) in enumerate(cores):
            inside = c0 - 0.1 * char <= cx <= c1 + 0.1 * char
            overlap = max(0, min(x + w, c1) - max(x, c0)) / max(w, 1)
            if inside or (w >= 0.6 * char and overlap >= 0.5):
                out[i] = j
                break
    return out


def _spans(prof: np.ndarray, char: float, p: SegmentParams) -> list[list[int]]:
    """Runs of inked rows of a column's row projection, tiny gaps inside a character bridged, fragments (parts of
    one character) merged with the closer neighbour while the result stays character-sized."""
    bridged: list[list[int]] = []
    for r in runs(prof > 0):
        if bridged and r[0] - bridged[-1][1] < 0.06 * char:
            bridged[-1][1] = r[1]
        else:
            bridged.append(r)
    spans = bridged
    changed = True
    while changed and len(spans) > 1:
        changed = False
        for i, (a, b) in enumerate(spans):
            if b - a >= 0.55 * char:
                continue
            cands = []
            if i > 0:
                cands.append((a - spans[i - 1][1], i - 1))
            if i + 1 < len(spans):
                cands.append((spans[i + 1][0] - b, i + 1))
            for gap, j in sorted(cands):
                lo, hi = min(spans[j][0], a), max(spans[j][1], b)
                if hi - lo <= p.max_aspect * char and gap < p.merge_gap * char * 2:
                    spans[min(i, j)] = [lo, hi]
                    del spans[max(i, j)]
                    changed = True
                    break
            if changed:
                break
    return spans


def warichu_runs(sub: np.ndarray, char: float, min_height: float) -> list[tuple[int, int, int]]:
    """Row ranges ``(top, bottom, middle x)`` of a column strip where its writing stands in two lines side by side
    (割注, interlinear notes): no inked row crosses the strip's middle band while rows on both sides of it are
    inked, for at least ``min_height`` × ``char`` rows.  A kanji whose halves stand apart (林, 明) keeps that gap
    for one character's height at most, and most characters cross the middle."""
    if min_height <= 0 or sub.shape[0] < min_height * char:
        return []
    cols = sub.sum(0)
    if cols.sum() == 0:
        return []
    xs = np.nonzero(cols)[0]
    mid = int(round((xs.min() + xs.max()) / 2))
    band = max(1, int(0.05 * char))
    left = sub[:, : max(0, mid - band)].any(1)
    right = sub[:, mid + band + 1 :].any(1)
    crosses = sub[:, max(0, mid - band) : mid + band + 1].any(1)
    out = []
    small = 0.5 * char
    keep_off = ~crosses
    blank = ~(left | right | crosses)
    for g0, g1 in runs(blank):  # a long blank stretch (between cells, between paragraphs) ends a run
        if g1 - g0 >= 0.4 * char:
            keep_off[g0:g1] = False
    for a, b in runs(keep_off):  # rows whose ink keeps off the middle, short blank gaps included
        if b - a < min_height * char:
            continue
        # each line a column of small characters (half a character's size): at least two of them, none taller than
        # 0.55 character; the writing in two lines for at least min_height × char
        lines = [sub[a:b, : max(0, mid - band)], sub[a:b, mid + band + 1 :]]
        spans = [[sp for sp in runs(line.any(1)) if sp[1] - sp[0] >= 0.1 * char] for line in lines]
        if any(len(sp) < 2 or max(q[1] - q[0] for q in sp) > 0.55 * char for sp in spans):
            continue
        widths = [int(line.any(0).sum()) for line in lines]  # each line as wide as a small character, no wider
        if not all(0.3 * char <= w <= 0.55 * char for w in widths) or min(left[a:b].sum(), right[a:b].sum()) < small:
            continue
        inked = np.nonzero(left[a:b] | right[a:b])[0]
        if inked.max() + 1 - inked.min() < min_height * char:
            continue
        out.append((a + int(inked.min()), a + int(inked.max()) + 1, mid))
    return out


def column_characters(cs: np.ndarray, labels: np.ndarray, ids: np.ndarray, char: float, p: SegmentParams,
                      core: tuple[int, int] | None = None) -> list[tuple[int, int, int, int]]:
    """Members of one column → character boxes, from runs of the row projection.

    With ``core`` given, ink further than ``p.core_margin`` characters outside
    the column's core is ignored (ruby touching a character).  Where the column's writing stands in two lines side
    by side (:func:`warichu_runs`), each line is segmented as a sub-column of small characters, the right line's
    boxes before the left's.
    """
    return [b for b, _ in column_characters_flagged(cs, labels, ids, char, p, core)]


def column_characters_flagged(cs: np.ndarray, labels: np.ndarray, ids: np.ndarray, char: float, p: SegmentParams,
                              core: tuple[int, int] | None = None) -> list[tuple[tuple[int, int, int, int], str]]:
    """:func:`column_characters` with each box's flags (``warichu`` for a box of a two-line stretch)."""
    x0, x1 = int(cs[:, 0].min()), int((cs[:, 0] + cs[:, 2]).max())
    if core is not None:
        x0 = max(x0, int(core[0] - p.core_margin * char))
        x1 = min(x1, int(core[1] + p.core_margin * char))
    y0, y1 = int(cs[:, 1].min()), int((cs[:, 1] + cs[:, 3]).max())
    sub = np.isin(labels[y0:y1, x0:x1], ids)
    two = warichu_runs(sub, char, p.warichu) if core is not None else []
    main = sub.copy()
    for a, b, _ in two:
        main[a:b] = False
    pieces: list[tuple[int, list[tuple[tuple[int, int, int, int], str]]]] = []
    for a, b in _spans(main.sum(1), char, p):
        seg = main[a:b]
        ys, xs = np.nonzero(seg)
        if len(ys) == 0:
            continue
        box = (x0 + int(xs.min()), y0 + a + int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        if box[3] > 1.6 * char:
            full = np.zeros(labels.shape, bool)
            full[y0:y1, x0:x1] = main
            pieces.append((box[1], [(q, "") for q in split_tall(box, full, char)]))
        else:
            pieces.append((box[1], [(box, "")]))
    small = char * 0.5
    for a, b, mid in two:  # the right line, then the left
        found = []
        for lo, hi in ((mid, sub.shape[1]), (0, mid)):
            line = sub[a:b, lo:hi]
            for s0, s1 in _spans(line.sum(1), small, p):
                ys, xs = np.nonzero(line[s0:s1])
                if len(ys):
                    found.append(((x0 + lo + int(xs.min()), y0 + a + s0 + int(ys.min()), int(xs.max() - xs.min() + 1),
                                   int(ys.max() - ys.min() + 1)), "warichu"))
        pieces.append((y0 + a, found))
    return [b for _, group in sorted(pieces, key=lambda t: t[0]) for b in group]


def split_tall(box: tuple[int, int, int, int], ink: np.ndarray, char: float) -> list[tuple[int, int, int, int]]:
    """Split a box much taller than a character (touching characters) at minima of its row projection."""
    x, y, w, h = box
    n = int(round(h / (1.05 * char)))
    if n < 2:
        return [box]
    prof = ink[y : y + h, x : x + w].sum(1).astype(np.float32)
    cuts = [0]
    for i in range(1, n):
        target = int(i * h / n)
        lo = max(cuts[-1] + int(0.4 * char), target - int(0.3 * char))
        hi = min(h - int(0.4 * char), target + int(0.3 * char))
        if hi <= lo:
            continue
        cuts.append(lo + int(np.argmin(prof[lo:hi])))
    cuts.append(h)
    out = []
    for a, b in zip(cuts, cuts[1:]):
        ys, xs = np.nonzero(ink[y + a : y + b, x : x + w])
        if len(ys) == 0:
            continue
        out.append((x + int(xs.min()), y + a + int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)))
    return out or [box]


def segment(img: np.ndarray, params: SegmentParams | None = None, keep_steps: bool = False) -> Segmentation:
    """Segment a page image (uint8 grey or RGB) into character boxes in reading order: a ruled form (a register)
    cell by cell, any other page by its columns."""
    p = params or SegmentParams()
    form = find_form(img) if p.forms else None
    if form is not None:
        # a form: cell by cell, each cell's characters from the cell segmenter or from the columns found below (with
        # their specks: a cell takes the columns' boxes only where they hold all of its ink, ``forms.choose_boxes``)
        columns = segment(img, replace(p, forms=False, min_char=0.0), keep_steps=keep_steps)
        seg = form_segmentation(img, *form, page_boxes=columns.boxes, keep_steps=keep_steps)
        seg.boxes = drop_specks(seg.boxes, p.min_char)  # the cells' own boxes hold their specks too
        seg.steps = {**columns.steps, **seg.steps}
        return seg
    H, W = img.shape[:2]
    flat, scale, color = normalise(img, p.work_height)
    steps: dict[str, np.ndarray] = {}
    if keep_steps:
        steps["normalised"] = flat
    ink = binarise(flat, p.binarisation, p.sauvola_window, p.sauvola_k)
    seals = seal_mask(color) if p.remove_seals else None
    if seals is not None:
        ink &= ~seals
    angle = estimate_skew(ink) if p.deskew else 0.0
    rot = None
    if abs(angle) >= 0.25:
        hh, ww = ink.shape
        rot = cv2.getRotationMatrix2D((ww / 2, hh / 2), angle, 1.0)
        ink = cv2.warpAffine(ink.astype(np.uint8), rot, (ww, hh), flags=cv2.INTER_NEAREST) > 0
    if keep_steps:
        steps["binarised"] = ink.astype(np.uint8) * 255
    lines = ruling_mask(ink, p.line_length, p.line_thickness)
    ink &= ~lines
    ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    if keep_steps:
        steps["ruling_removed"] = ink.astype(np.uint8) * 255
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    sel = _filter_mask(stats[1:], ink.shape, p.min_component)
    ids = np.arange(1, n)[sel]
    comps = stats[1:][sel]
    clean = np.isin(labels, ids)
    if keep_steps:
        steps["components"] = clean.astype(np.uint8) * 255
    char = estimate_char_size(comps)
    cores = column_cores(clean, char, p.column_smoothing)
    widths = np.array([b - a for a, b in cores], float)
    if len(widths):
        main = widths[widths >= 0.6 * np.percentile(widths, 90)]
        char = max(char, float(np.median(main)) * 1.1)  # a column core is about one character wide
    ruby_core = ruby_bands(cores, char, p.ruby_width, p.ruby_gap)
    col_of = assign_columns(comps, cores, char)
    boxes: list[Box] = []
    ruby: list[Box] = []
    inv = 1.0 / scale

    back = cv2.invertAffineTransform(rot) if rot is not None else None

    def to_orig(x, y, w, h):
        if back is not None:  # the box's centre back onto the skewed page; the size stays
            cx, cy = back @ np.array([x + w / 2, y + h / 2, 1.0])
            x, y = cx - w / 2, cy - h / 2
        return int(round(x * inv)), int(round(y * inv)), max(1, int(round(w * inv))), max(1, int(round(h * inv)))

    order = sorted(range(len(cores)), key=lambda j: -cores[j][0])  # right to left
    col = 0
    for j in order:
        m = col_of == j
        if not m.any():
            continue
        if ruby_core[j]:
            for x, y, w, h in column_characters(comps[m], labels, ids[m], char * 0.5, p):
                ruby.append(Box(*to_orig(x, y, w, h), flags="ruby"))
            continue
        for (x, y, w, h), flags in column_characters_flagged(comps[m], labels, ids[m], char, p, cores[j]):
            if not p.include_punctuation and max(w, h) < 0.3 * char:
                continue
            boxes.append(Box(*to_orig(x, y, w, h), column=col, flags=flags))
        col += 1
    for (x, y, w, h, a) in comps[col_of == -1]:
        near = any(min(abs(x - c1), abs(x + w - c0)) < 0.8 * char for c0, c1 in cores)
        if near and max(w, h) < 0.9 * char and a >= 3 * p.min_component:
            ruby.append(Box(*to_orig(x, y, w, h), flags="ruby"))
    return Segmentation(W, H, drop_specks(boxes, p.min_char), ruby, char * inv, steps, skew=angle)
