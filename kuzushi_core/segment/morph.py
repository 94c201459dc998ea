"""Morphology that leaves the page's ink where it was."""

from __future__ import annotations

import cv2
import numpy as np


def opening(mask: np.ndarray, kernel: np.ndarray | tuple[int, int]) -> np.ndarray:
    """Morphological opening (erosion, then dilation by the reflected kernel) that moves nothing.

    ``cv2.morphologyEx(MORPH_OPEN)`` erodes and dilates with the same anchor, so a kernel of even size moves what it
    keeps by one pixel (a 2×2 kernel: one pixel right and down). On a page scaled to the segmenter's working height
    that pixel is about three of the original page: every character box came out shifted by it (measured against
    the book's true boxes: left and top edges +3–4 px, right and bottom +2–3 px). ``kernel``: an array, or the
    (width, height) of a rectangle.
    """
    if isinstance(kernel, tuple):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
    kh, kw = kernel.shape[:2]
    return cv2.dilate(cv2.erode(mask, kernel), kernel, anchor=(kw - 1 - kw // 2, kh - 1 - kh // 2))
