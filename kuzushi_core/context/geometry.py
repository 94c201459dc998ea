"""A character-geometry prior: how tall and how wide a character is relative to its column, from the corpus' real
boxes (``../shared/data/corpus/``: 134,652 boxes of columns of three or more characters, ruby set apart).

A column's width unit is the median width of its boxes; a box is the point ``(log(h / unit), log(w / unit))``.  The
prior is a smoothed two-dimensional histogram of those points (a log density, floored so that no shape is
impossible): a box twice a character tall — two characters taken as one — or a sliver of a stroke is unlikely, a
box of a character's proportions likely.  The decoder that chooses a column's cuts
(:mod:`kuzushi_core.context.cuts`) weighs it beside the reader and the language model.  It travels in the language
model's card (``meta["geometry"]``), built by ``build-lm`` from the same corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

LO, HI, BINS = -2.5, 1.5, 32  # log-ratio range and bins on each axis
SMOOTH = 1.0  # Gaussian smoothing of the histogram, in bins
MIN_COLUMN = 3  # columns shorter than this give no width unit worth the name


@dataclass(frozen=True)
class Geometry:
    """Log density of ``(log h/unit, log w/unit)`` on a ``BINS × BINS`` grid over ``[LO, HI)²`` (rows: height)."""

    logdensity: np.ndarray
    boxes: int = 0

    def logp(self, w: float, h: float, unit: float) -> float:
        """Log density of a ``w × h`` box in a column whose width unit is ``unit`` (pixels)."""
        if w <= 0 or h <= 0 or unit <= 0:
            return float(self.logdensity.min())
        step = (HI - LO) / BINS
        i = int(np.clip((np.log(h / unit) - LO) / step, 0, BINS - 1))
        j = int(np.clip((np.log(w / unit) - LO) / step, 0, BINS - 1))
        return float(self.logdensity[i, j])

    def as_dict(self) -> dict:
        return {"range": [LO, HI], "bins": BINS, "smooth": SMOOTH, "boxes": self.boxes,
                "logdensity": [[round(float(v), 3) for v in row] for row in self.logdensity]}

    @classmethod
    def from_dict(cls, doc: dict) -> Geometry:
        if [float(x) for x in doc.get("range", [])] != [LO, HI] or int(doc.get("bins", 0)) != BINS:
            raise ValueError("a geometry prior on another grid")
        return cls(np.asarray(doc["logdensity"], float), int(doc.get("boxes", 0)))


def column_unit(widths: Iterable[float]) -> float:
    """A column's width unit: the median width of its boxes."""
    ws = [float(w) for w in widths if w > 0]
    return float(np.median(ws)) if ws else 0.0


def _smooth(hist: np.ndarray, sigma: float) -> np.ndarray:
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    out = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 0, hist)
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 1, out)


def fit_geometry(columns: Iterable[Sequence]) -> Geometry:
    """The prior from columns of boxes (anything with ``w`` and ``h``), each in reading order without ruby."""
    hs: list[float] = []
    ws: list[float] = []
    for col in columns:
        if len(col) < MIN_COLUMN:
            continue
        unit = column_unit(b.w for b in col)
        if unit <= 0:
            continue
        for b in col:
            if b.w > 0 and b.h > 0:
                hs.append(float(np.log(b.h / unit)))
                ws.append(float(np.log(b.w / unit)))
    eps = 1e-6  # points beyond the grid count in its edge bins
    hist, _, _ = np.histogram2d(np.clip(hs, LO, HI - eps), np.clip(ws, LO, HI - eps), bins=BINS,
                                range=[[LO, HI], [LO, HI]])
    hist = _smooth(hist, SMOOTH) + 0.5  # every cell keeps a little: nothing is impossible
    step = (HI - LO) / BINS
    dens = hist / (hist.sum() * step * step)
    return Geometry(np.log(dens), len(hs))
