"""One crop normalisation for training and inference.

A character box cut from a page (dark ink on light paper, any size) and a KMNIST
image (white ink on black, 28×28) must look alike to the model.  :func:`to_glyph`
makes both the same: grey, white ink on black, background at 0, ink stretched
to 255, the glyph scaled to fit a square canvas with its aspect ratio kept and
centred — as KMNIST was made from the Kuzushiji dataset.
"""

from __future__ import annotations

import cv2
import numpy as np

SIZES = (28, 64)


def to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[:, :, :3]
        return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    return img


def ink_is_dark(gray: np.ndarray) -> bool:
    """True for dark ink on light paper: the border (mostly background) is brighter than the median."""
    if gray.size == 0:
        return True
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]).astype(np.float32)
    return float(np.median(border)) >= float(np.mean(gray))


def percentiles_u8(img: np.ndarray, qs: tuple[float, ...]) -> tuple[np.float32, ...]:
    """``np.percentile(img.astype(np.float32), q)`` for each q, from a 256-bin histogram instead of a sort (a crop is
    read thousands of times a page when boxes are refined): the same order statistics and the same interpolation."""
    cum = np.cumsum(np.bincount(img.ravel(), minlength=256))
    n = int(cum[-1])
    out = []
    for q in qs:
        pos = q / 100.0 * (n - 1)
        k0 = int(np.floor(pos))
        a, b = (np.float32(np.searchsorted(cum, k, side="right")) for k in (k0, min(k0 + 1, n - 1)))
        t = pos - k0
        out.append(np.float32(b - (b - a) * (1 - t)) if t >= 0.5 else np.float32(a + (b - a) * t))
    return tuple(out)


def to_glyph(img: np.ndarray, size: int = 28, pad: float = 0.0) -> np.ndarray:
    """Any crop (grey or RGB, either polarity) → uint8 size×size, white ink on black."""
    gray = to_gray(np.asarray(img))
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    if gray.size == 0 or min(gray.shape) == 0:
        return np.zeros((size, size), np.uint8)
    if ink_is_dark(gray):
        gray = 255 - gray
    lo, hi = percentiles_u8(gray, (5.0, 99.5))
    g = gray.astype(np.float32)
    if hi - lo < 8:  # a blank crop
        return np.zeros((size, size), np.uint8)
    g = np.clip((g - lo) * (255.0 / (hi - lo)), 0, 255)
    h, w = g.shape
    inner = max(1, int(round(size * (1 - 2 * pad))))
    scale = inner / max(h, w)
    nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(g, (nw, nh), interpolation=interp)
    out = np.zeros((size, size), np.float32)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def crop_box(page: np.ndarray, x: int, y: int, w: int, h: int, margin: float = 0.04) -> np.ndarray:
    """Cut a box (with a small margin) out of a page, clipped to the page."""
    H, W = page.shape[:2]
    m = int(round(max(w, h) * margin))
    x0, y0 = max(0, x - m), max(0, y - m)
    x1, y1 = min(W, x + w + m), min(H, y + h + m)
    return page[y0:y1, x0:x1]
