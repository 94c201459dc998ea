"""Tiny glyph sets drawn by the tests themselves (white ink on black, 28×28)."""

from __future__ import annotations

import numpy as np

from kuzushi_core.data.datasets import GlyphSet


def bars(n_per_class=60, seed=0) -> GlyphSet:
    """Three easy classes drawn by the test: a vertical bar, a horizontal bar, a box (white on black, 28×28)."""
    import cv2

    rng = np.random.default_rng(seed)
    imgs, labels = [], []
    for c in range(3):
        for _ in range(n_per_class):
            im = np.zeros((28, 28), np.uint8)
            o = int(rng.integers(-3, 4))
            if c == 0:
                cv2.line(im, (14 + o, 4), (14 + o, 24), 255, 3)
            elif c == 1:
                cv2.line(im, (4, 14 + o), (24, 14 + o), 255, 3)
            else:
                cv2.rectangle(im, (7 + o, 7), (21 + o, 21), 255, 2)
            imgs.append(im)
            labels.append(c)
    return GlyphSet(np.stack(imgs), np.array(labels), ("一", "丨", "口"), "bars")


def crosses(n: int = 40, seed: int = 1, char: str = "十") -> GlyphSet:
    """A fourth shape for transfer tests: a cross."""
    import cv2

    rng = np.random.default_rng(seed)
    imgs = []
    for _ in range(n):
        im = np.zeros((28, 28), np.uint8)
        o = int(rng.integers(-3, 4))
        cv2.line(im, (14 + o, 5), (14 + o, 23), 255, 3)
        cv2.line(im, (5, 14 + o), (23, 14 + o), 255, 3)
        imgs.append(im)
    return GlyphSet(np.stack(imgs), np.zeros(n, np.int64), (char,), "crosses")


def write_class_folders(root, data: GlyphSet, dark_on_light: bool = False) -> None:
    """A folder of class folders (folder name = the character), PNG crops."""
    from PIL import Image

    for i, im in enumerate(data.images):
        d = root / data.classes[data.labels[i]]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - im if dark_on_light else im).save(d / f"{i:04d}.png")
