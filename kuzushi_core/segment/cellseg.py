"""Characters in one cell of a register: a single vertical line of writing, split into character boxes.

Inside a field's cell the writing is one column, top to bottom, so the page segmenter's column finding is
not needed: the ink's row profile splits it into pieces (strokes and characters), and pieces are merged
into characters about as tall as the column is wide (三 is three strokes, 一 one), or a run much taller than
that (touching characters) is cut at the profile's thinnest rows.
"""

from __future__ import annotations

import cv2
import numpy as np

from kuzushi_core.segment.cells import RuledCell, estimate_skew

INSET = 6  # px kept clear of the ruling at the cell's edges


def _group(pieces: list[list[int]], pitch: float) -> list[list[int]]:
    """Pieces (strokes, characters; top to bottom) grouped into characters written at a steady ``pitch``.

    A gap alone cannot tell the two strokes of 二 from 一 above 二; the rhythm of the line can: the partition
    is the one (dynamic programming) whose characters' centres follow each other most nearly one pitch apart,
    with no character much taller than a pitch.
    """
    n = len(pieces)
    if n <= 1:
        return [list(p) for p in pieces]

    def gcost(i: int, j: int) -> float:
        h = pieces[j][1] - pieces[i][0]
        return 10.0 * max(0.0, h - 1.1 * pitch) ** 2 if i < j else 0.0

    def centre(i: int, j: int) -> float:
        return (pieces[i][0] + pieces[j][1]) / 2

    inf = float("inf")
    best = [[inf] * n for _ in range(n)]  # best[i][j]: pieces 0..j grouped, the last group i..j
    back = [[-1] * n for _ in range(n)]
    for j in range(n):
        best[0][j] = gcost(0, j)
        for i in range(1, j + 1):
            g = gcost(i, j)
            if g == inf:
                continue
            for k in range(i):
                if best[k][i - 1] == inf:
                    continue
                step = centre(i, j) - centre(k, i - 1)
                c = best[k][i - 1] + (step - pitch) ** 2 + g
                if c < best[i][j]:
                    best[i][j], back[i][j] = c, k
    i = min(range(n), key=lambda i_: best[i_][n - 1])
    groups, j = [], n - 1
    while True:
        groups.append([pieces[i][0], pieces[j][1]])
        if i == 0:
            break
        i, j = back[i][j], i - 1
    return groups[::-1]


def _paper(crop: np.ndarray) -> np.ndarray:
    """The paper's brightness around each pixel of a cell: the ink dilated away, smoothed (at a quarter of the
    size: the paper changes slowly)."""
    bright = cv2.dilate(crop, np.ones((31, 31), np.uint8))
    h, w = bright.shape
    if min(h, w) < 40:
        return cv2.GaussianBlur(bright, (0, 0), 10).astype(np.float32)
    small = cv2.resize(bright, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 2.5)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def segment_cell(gray: np.ndarray, cell, inset: int = INSET) -> CellBoxes:
    """Character boxes ``(x, y, w, h)`` in page pixels, top to bottom (the right line first), in ``cell`` (anything
    with x, y, w, h); those of a correction struck through are marked (``.struck``)."""
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_RGB2GRAY)
    H, W = gray.shape
    x0, y0 = max(0, cell.x + inset), max(0, cell.y + inset)
    x1, y1 = min(W, cell.x + cell.w - inset), min(H, cell.y + cell.h - inset)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return CellBoxes()
    crop = gray[y0:y1, x0:x1]
    # ink against the paper around it (uneven light, yellowing), strong enough not to be the other side's
    # writing showing through
    paper = _paper(crop)
    dark = paper - crop.astype(np.float32)
    ink = (dark > max(30.0, 0.4 * float(np.percentile(dark, 99.5)))).astype(np.uint8)
    # a correction struck through: its lines found before the long straight runs are taken for ruling
    clean, struck_x = _strike_out(ink)
    # the ruling that a skewed cell's box still holds at its edges: straight runs longer than any stroke
    h_, w_ = ink.shape
    for kernel in ((1, max(15, int(0.9 * w_))), (max(15, int(0.85 * w_)), 1)):
        line = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        ink = cv2.subtract(ink, cv2.dilate(line, np.ones((3, 3), np.uint8)))
    # specks and the stray line remnant at an edge are no writing
    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        at_edge = (x <= 1 or x + w >= crop.shape[1] - 1 or y <= 1 or y + h >= crop.shape[0] - 1) and min(w, h) <= 8
        keep[i] = area >= 12 and not at_edge  # a thin piece at the edge is the ruling of a skewed cell
    ink = keep[lab].astype(np.uint8)
    if ink.sum() < 40:
        return CellBoxes()
    clean = cv2.bitwise_and(ink, clean)
    lines = _two_lines(clean)
    if struck_x and lines is not None and any(a <= (l0 + l1) / 2 <= b for l0, l1 in lines for a, b in struck_x):
        ink = clean  # a line struck through beside the line that corrects it
    else:
        struck_x, lines = [], _two_lines(ink)
    one = _split_line(ink, x0, y0)
    found = one
    if lines is not None:
        sides = [_split_line(ink[:, a_:b_], x0 + a_, y0) for a_, b_ in lines[::-1]]  # the right line first
        heights = [float(np.median([max(w, h) for *_, w, h in side])) for side in sides if side]  # 一 is short
        # two lines of small writing: read as one line they give "characters" wider than tall, or far fewer than
        # the two lines hold; and the two lines are written in one size (a radical apart, 氵 of 池, is not a line)
        merged = float(np.median([w / max(1, h) for _, _, w, h in one])) > 1.5 if one else True
        fewer = 1.5 * len(one) < sum(len(side) for side in sides)
        # a line struck through (a correction) beside the right one: two lines whatever their sizes
        if len(heights) == 2 and (struck_x or (max(heights) <= 1.5 * min(heights) and (merged or fewer))):
            found = [b for side in sides for b in side]
    struck = {b for b in found for a_, b_ in struck_x if a_ <= b[0] - x0 + b[2] / 2 <= b_}
    return CellBoxes(found, struck)


class CellBoxes(list):
    """A cell's character boxes ``(x, y, w, h)`` (a list), and which of them are struck through (``struck``: the
    boxes themselves, so that any reordering keeps it)."""

    def __init__(self, boxes=(), struck=()):
        super().__init__(boxes)
        self.struck = frozenset(struck)


def _strike_out(ink: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """A correction struck through (二重線: one or two lines drawn by hand, a little slanted, often crossing): straight
    thin near-vertical lines down several characters, away from the cell's edges (where the ruling's remnants are),
    are taken out of the ink; returns the ink and the x-ranges (crop px) of the lines of writing they strike.
    Writing has no straight line two characters long: the strokes of 刂 川 十 stop within their character."""
    h_, w_ = ink.shape
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths = [int(w) for _, _, w, h, a in stats[1:] if h >= 6 and a >= 12 and w <= 0.5 * w_]
    char = float(np.percentile(widths, 90)) if widths else 0.0
    margin = max(10, int(0.08 * w_))
    rows = np.flatnonzero(ink[:, margin : w_ - margin].any(1))  # what is written (the ruling's remnants apart)
    # down several characters, and most of what is written (a correction strikes the whole value)
    length = int(max(100.0, 2.2 * char, 0.5 * (rows[-1] - rows[0] + 1) if len(rows) else 0.0))
    if not char or length > h_ or not _may_hold_line(ink, length, margin):
        return ink, []
    segs = _straight_lines(ink, length, margin)
    if not segs:
        return ink, []
    lines = np.zeros_like(ink)
    spans: list[list[float]] = []
    for x1, y1, x2, y2 in segs:
        cv2.line(lines, (x1, y1), (x2, y2), 1, 5)
        lo, hi = min(x1, x2) - 0.75 * char, max(x1, x2) + 0.75 * char
        for sp in spans:
            if lo <= sp[1] and hi >= sp[0]:
                sp[0], sp[1] = min(sp[0], lo), max(sp[1], hi)
                break
        else:
            spans.append([lo, hi])
    return cv2.subtract(ink, lines), [(a, b) for a, b in spans]


def _straight_lines(ink: np.ndarray, length: int, margin: int) -> list[tuple[int, int, int, int]]:
    """Straight near-vertical lines of ink (``HoughLinesP``): ``length`` rows or more, gaps of at most 4 rows,
    leaning at most 0.08 of their height, between the margins."""
    found = cv2.HoughLinesP(ink * 255, 1, np.pi / 360, threshold=int(0.6 * length), minLineLength=length, maxLineGap=4)
    if found is None:
        return []
    w_ = ink.shape[1]
    return [(x1, y1, x2, y2) for x1, y1, x2, y2 in found.reshape(-1, 4).tolist()
            if abs(x2 - x1) <= 0.08 * abs(y2 - y1) and min(x1, x2) >= margin and max(x1, x2) <= w_ - margin]


def _may_hold_line(ink: np.ndarray, length: int, margin: int) -> bool:
    """False only where :func:`_straight_lines` cannot find a line (a cheap test first: the
    Hough transform is most of a form's segmentation time, and most cells hold no struck line).  Such a line runs
    ``length`` rows or more between the margins with gaps of at most 4 rows, leaning at most 0.08 of its height:
    over any ``length`` rows of it the ink stays within 0.04·length of its middle, so the ink widened by that much
    sideways and closed over 4-row gaps has a column that is on for ``length`` rows."""
    band = np.zeros_like(ink)  # the columns a kept line's ink lies in: margin … width − margin, both included
    band[:, margin : ink.shape[1] - margin + 1] = ink[:, margin : ink.shape[1] - margin + 1]
    reach = int(np.ceil(0.04 * length)) + 2
    wide = cv2.dilate(band, np.ones((1, 2 * reach + 1), np.uint8))
    closed = cv2.morphologyEx(wide, cv2.MORPH_CLOSE, np.ones((5, 1), np.uint8))
    if closed.shape[0] < length:
        return False
    # a run of ``length`` on-rows in a column: a window of ``length`` rows whose sum is ``length``
    cum = np.zeros((closed.shape[0] + 1, closed.shape[1]), np.int32)
    np.cumsum(closed > 0, axis=0, out=cum[1:])
    return bool((cum[length:] - cum[:-length] >= length).any())


def _pieces(on: np.ndarray) -> list[list[int]]:
    """Runs of True in ``on``: ``[start, end)``."""
    out, i = [], 0
    while i < len(on):
        if on[i]:
            s = i
            while i < len(on) and on[i]:
                i += 1
            out.append([s, i])
        else:
            i += 1
    return out


def _two_lines(ink: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Column spans of two lines of writing side by side in a cell, or None for one line: a gap of no ink down
    the whole cell with writing on both sides, each side several characters (two or more pieces one above the
    other, at least 1.6 times as tall as wide: the strokes of 八 or 川, the halves of 畑 or 林 are no lines) and
    alike in width."""
    cols = np.flatnonzero(ink.any(0))
    if len(cols) < 8:
        return None
    runs = _pieces(ink[:, cols[0]:cols[-1] + 1].any(0))
    if len(runs) < 2:
        return None
    gaps = [(runs[k + 1][0] - runs[k][1], k) for k in range(len(runs) - 1)]
    gap, k = max(gaps)
    split = cols[0] + runs[k][1] + gap // 2
    left, right = (int(cols[0]), int(split)), (int(split), int(cols[-1]) + 1)
    width = cols[-1] - cols[0] + 1
    if gap < max(3, 0.06 * width) or min(split - cols[0], cols[-1] + 1 - split) < 0.25 * width:
        return None
    widths = []
    for a, b in (left, right):
        if len([p for p in _pieces(ink[:, a:b].any(1)) if p[1] - p[0] >= 3]) < 2:
            return None
        side = np.flatnonzero(ink[:, a:b].any(0))
        tall = np.flatnonzero(ink[:, a:b].any(1))
        if tall[-1] - tall[0] + 1 < 1.6 * (side[-1] - side[0] + 1):
            return None  # not a line of several characters: the two halves of one (畑, 林)
        widths.append(side[-1] - side[0] + 1)
    if min(widths) < 0.5 * max(widths):  # two lines of writing are alike; a remnant of a ruling line is thin
        return None
    return left, right


def _pitch(rows: np.ndarray, size: float) -> float:
    """How far apart the characters of a line follow each other: the strongest period of its row profile between
    0.9 and 1.9 characters (strokes of 三 or 六 lie closer, the characters' rhythm is longer); 1.1 character
    widths when the line is too short to show one."""
    on = np.flatnonzero(rows > 0)
    if not len(on):
        return 1.1 * size
    prof = (rows[on[0] : on[-1] + 1] > 0).astype(np.float64)  # the written stretch: a blank tail is no rhythm
    prof -= prof.mean()
    lo, hi = int(0.9 * size), int(1.9 * size)
    if len(prof) < 2.5 * lo or not prof.any():
        return 1.1 * size
    ac = np.array([float(np.dot(prof[:-k], prof[k:])) / (len(prof) - k) for k in range(lo, min(hi, len(prof) // 2) + 1)])
    top = float(ac.max())
    if top <= 0.2 * float(np.dot(prof, prof)) / len(prof):
        return 1.1 * size
    # the first peak nearly as strong as the strongest: a period's multiples are periods too
    peaks = [k for k in range(len(ac)) if (k == 0 or ac[k] >= ac[k - 1]) and (k == len(ac) - 1 or ac[k] >= ac[k + 1])]
    k = min(k for k in peaks if ac[k] >= 0.8 * top)
    return float(lo + k)


def _steady(pieces: list[list[int]], size: float) -> list[list[int]]:
    """Pieces grouped into characters on a line too short for its rhythm to show in the row profile: of the
    groupings at pitches from 0.8 to 1.6 character widths, the one whose characters follow each other most evenly
    (and none much taller than a character)."""
    best, best_cost = _group(pieces, 1.1 * size), float("inf")
    for pitch in np.linspace(0.8, 1.6, 9) * size:
        groups = _group(pieces, float(pitch))
        cost = _unevenness(groups, size)
        if cost < best_cost - 1e-9:
            best, best_cost = groups, cost
    return best


def _unevenness(groups: list[list[int]], size: float) -> float:
    """How unevenly characters ``groups`` follow each other (variance of the steps over their mean squared), plus
    what any is taller than 1.35 characters; infinite for fewer than three."""
    if len(groups) < 3:
        return float("inf")
    steps = np.diff(np.array([(a + b) / 2 for a, b in groups]))
    return float(steps.var() / max(1.0, steps.mean()) ** 2) + sum(max(0.0, (b - a) / size - 1.35) for a, b in groups)


def _split_line(ink: np.ndarray, x0: int, y0: int) -> list[tuple[int, int, int, int]]:
    """One line of writing (top to bottom) in ``ink`` (placed at x0, y0) split into character boxes."""
    rows = ink.sum(1)
    pieces = _pieces(rows > 0)
    # a character is about as tall as the writing is wide: the median width of the taller pieces
    widths = [np.ptp(np.flatnonzero(ink[s_:e_].any(0))) + 1 for s_, e_ in pieces if e_ - s_ >= 6]
    size = max(8.0, float(np.percentile(widths, 90))) if widths else 8.0
    pitch = _pitch(rows, size)
    if pitch != 1.1 * size:
        chars = _group(pieces, pitch)
        # the row profile's rhythm misleads where characters of few strokes (二, 三) leave most rows blank: it can
        # find every second character (二町 | 二反); the even grouping wins where it follows more evenly
        steady = _steady(pieces, size)
        if _unevenness(steady, size) < _unevenness(chars, size) - 1e-9:
            chars, pitch = steady, 1.1 * size
    else:
        chars = _steady(pieces, size)
    # a character's height: the width, or less than the pitch where the line's rhythm shows taller ones (し, つ)
    size = max(size, 0.9 * pitch)
    out = []
    for s, e in chars:
        k = int(round((e - s) / size)) if (e - s) > 1.6 * size else 1
        cuts = [s]
        for j in range(1, k):  # touching characters: cut at the thinnest row near each expected boundary
            t = s + j * (e - s) / k
            a, b = int(t - 0.25 * size), int(t + 0.25 * size)
            cuts.append(a + int(np.argmin(rows[a:b])) if b > a else int(t))
        cuts.append(e)
        for a, b in zip(cuts[:-1], cuts[1:]):
            band = ink[a:b]
            cols = np.flatnonzero(band.any(0))
            rr = np.flatnonzero(band.any(1))
            if not len(cols) or band.sum() < 20:
                continue
            out.append((x0 + int(cols[0]), y0 + a + int(rr[0]), int(cols[-1] - cols[0] + 1), int(rr[-1] - rr[0] + 1)))
    return out


__all__ = ["segment_cell", "RuledCell"]


def red_ink(rgb: np.ndarray) -> np.ndarray:
    """Pixels of red ink (seals, vermilion printing): red well above green and blue. Yellowed paper is red above
    blue but not above green; sumi on it is neither."""
    img = rgb.astype(np.int16)
    return ((img[..., 0] - img[..., 1]) > 45) & ((img[..., 0] - img[..., 2]) > 30)


def without_seals(rgb: np.ndarray) -> np.ndarray:
    """The page in grey with its red ink (seals, vermilion marks) made paper: the entries are in sumi."""
    red = red_ink(rgb)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if red.any():
        paper = int(np.percentile(gray[::4, ::4], 90))
        gray = gray.copy()
        gray[cv2.dilate(red.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = paper
    return gray


def segment_cells(gray: np.ndarray, cells: list, angle: float | None = None) -> list[CellBoxes]:
    """:func:`segment_cell` for each of ``cells`` (boxes in page pixels, as ``find_cells`` gives them) on a
    skewed page: the page is levelled first, so that the ruling of each cell lies along its edges, and the
    character boxes come back in the original pixels."""
    if gray.ndim == 3:
        gray = without_seals(gray)
    H, W = gray.shape
    angle = estimate_skew(gray) if angle is None else angle
    centre = (W / 2, H / 2)
    level = cv2.getRotationMatrix2D(centre, -angle, 1.0)
    back = cv2.getRotationMatrix2D(centre, angle, 1.0)
    flat = cv2.warpAffine(gray, level, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a = np.radians(abs(angle))
    c, s = np.cos(a), np.sin(a)
    out = []
    for cell in cells:
        # the levelled cell: its centre moved, its sides those of the rectangle whose rotation has this box
        cx, cy = level @ np.array([cell.x + cell.w / 2, cell.y + cell.h / 2, 1.0])
        d = c * c - s * s
        w = (cell.w * c - cell.h * s) / d
        h = (cell.h * c - cell.w * s) / d
        box = RuledCell(int(round(cx - w / 2)), int(round(cy - h / 2)), int(round(w)), int(round(h)))
        chars, struck = [], []
        found = segment_cell(flat, box)
        if box.w > 2 * box.h and any(bw > 1.6 * bh for _, _, bw, bh in found):
            # a band across the form written across (a name along the top, right to left): read along its line;
            # a short wide cell written top to bottom (a heading) splits into characters about as wide as tall
            turned = segment_cell(np.ascontiguousarray(flat.T), RuledCell(box.y, box.x, box.h, box.w))
            found = CellBoxes([(y, x, bh, bw) for x, y, bw, bh in turned])
        for b in found:
            x, y, bw, bh = b
            pts = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64) @ back.T
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            chars.append((int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))))
            if b in found.struck:
                struck.append(chars[-1])
        out.append(CellBoxes(chars, struck))
    return out
