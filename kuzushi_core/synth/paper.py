"""Paper and ink for the generated pages (kana pages, handwritten pages, registers): one look, shared."""

from __future__ import annotations

import cv2
import numpy as np


def paper(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Yellowed paper (H×W×3 float) with uneven light and fibres."""
    base = np.array([236, 226, 200], np.float32) + rng.normal(0, 6, 3)
    small = rng.normal(0, 1, (h // 64 + 2, w // 64 + 2)).astype(np.float32)
    light = cv2.resize(cv2.GaussianBlur(small, (0, 0), 2), (w, h)) * 12
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gradient = 18 * ((xx / w) * rng.uniform(-1, 1) + (yy / h) * rng.uniform(-1, 1))
    fibres = rng.normal(0, 5, (h, w)).astype(np.float32)
    page = base[None, None, :] + (light + gradient + fibres)[..., None]
    return page


def ink(page: np.ndarray, glyph: np.ndarray, x: int, y: int, darkness: float, colour=(0, 0, 0)) -> None:
    """Darken the page where the glyph (float 0..1 alpha) is, towards an ink colour."""
    h, w = glyph.shape
    H, W = page.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = glyph[y0 - y : y1 - y, x0 - x : x1 - x, None] * darkness
    region = page[y0:y1, x0:x1]
    page[y0:y1, x0:x1] = region * (1 - a) + np.array(colour, np.float32) * a
