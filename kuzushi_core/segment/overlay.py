"""Drawing boxes over a page for display (colour by column, optional order numbers).

Numbers are drawn with OpenCV's built-in Hershey font, which ships inside the
opencv wheel: nothing depends on the fonts of the machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

#: Colour-blind-safe palette (Okabe–Ito), RGB.
PALETTE = [(0, 114, 178), (213, 94, 0), (0, 158, 115), (204, 121, 167), (230, 159, 0), (86, 180, 233)]
SELECTED = (220, 20, 60)


def display_scale(shape: Sequence[int], max_height: int = 1100, max_width: int = 1400) -> float:
    """The factor (≤ 1) that fits a page of ``shape`` into ``max_height`` × ``max_width`` pixels.

    Bounding both sides keeps a wide (landscape) scan from being sent at full height and then
    overflowing its column; the browser shrinks the image further to the column's width.
    """
    return min(1.0, max_height / shape[0], max_width / shape[1])


def page_point(x: float, y: float, shown_width: float | None, page_width: int, scale: float) -> tuple[float, float]:
    """A point clicked on a page image shown ``shown_width`` pixels wide → page pixels.

    ``scale`` is the factor the image was drawn at, used when the browser did not say how wide it showed it.
    """
    k = page_width / shown_width if shown_width else 1.0 / scale
    return x * k, y * k


def plot_height(shape: Sequence[int], column_width: int = 620, low: int = 380, high: int = 900) -> int:
    """A plot height that holds a page of ``shape`` shown ``column_width`` wide, without bands above and below."""
    return int(max(low, min(high, round(column_width * shape[0] / shape[1]))))


def draw_boxes(
    page: np.ndarray,
    boxes: Iterable,
    *,
    scale: float = 1.0,
    selected: Iterable[int] = (),
    show_order: bool = False,
    ruby: Iterable = (),
) -> np.ndarray:
    """An RGB image of the page (resized by ``scale``) with the boxes drawn.

    ``boxes`` are objects with x, y, w, h, column, order and (optionally) id.
    """
    img = page if page.ndim == 3 else np.repeat(page[:, :, None], 3, axis=2)
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        img = img.copy()
    chosen = set(selected)
    thick = max(1, int(round(2 * max(scale, 0.5))))
    for b in ruby:
        p0 = (int(b.x * scale), int(b.y * scale))
        p1 = (int((b.x + b.w) * scale), int((b.y + b.h) * scale))
        cv2.rectangle(img, p0, p1, (150, 150, 150), 1)
    for b in boxes:
        p0 = (int(b.x * scale), int(b.y * scale))
        p1 = (int((b.x + b.w) * scale), int((b.y + b.h) * scale))
        is_sel = getattr(b, "id", None) in chosen
        colour = SELECTED if is_sel else PALETTE[b.column % len(PALETTE)]
        cv2.rectangle(img, p0, p1, colour, thick * (2 if is_sel else 1))
        if show_order:
            cv2.putText(img, str(b.order + 1), (p0[0] + 2, p0[1] + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1,
                        cv2.LINE_AA)
    return img


def box_at(boxes: Iterable, x: float, y: float):
    """The smallest box containing the point (original pixels), or None."""
    hits = [b for b in boxes if b.x <= x <= b.x + b.w and b.y <= y <= b.y + b.h]
    return min(hits, key=lambda b: b.w * b.h) if hits else None


def union(boxes: Sequence) -> tuple[int, int, int, int]:
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def split_box(b, page_gray: np.ndarray | None = None) -> list[tuple[int, int, int, int]]:
    """Split a box in two across its longer side, at the emptiest row/column near the middle."""
    vertical = b.h >= b.w
    length = b.h if vertical else b.w
    cut = length // 2
    if page_gray is not None and length >= 8:
        region = page_gray[b.y : b.y + b.h, b.x : b.x + b.w].astype(np.float32)
        ink = (255 - region).sum(1 if vertical else 0)
        lo, hi = length // 4, 3 * length // 4
        if hi > lo:
            cut = lo + int(np.argmin(ink[lo:hi]))
    if vertical:
        return [(b.x, b.y, b.w, cut), (b.x, b.y + cut, b.w, b.h - cut)]
    return [(b.x, b.y, cut, b.h), (b.x + cut, b.y, b.w - cut, b.h)]
