"""The shipped language model (``models/charlm.json.gz``) and the one call every reader uses to read in context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from kuzushi_core.containers import Prediction, Segmentation
from kuzushi_core.context.cuts import CutWeights, choose_cuts, cut_weights_of, geometry_of
from kuzushi_core.context.decode import ContextWeights, in_context
from kuzushi_core.context.lm import CharLM
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.predict.classifier import read_page

LM_FILE = "charlm.json.gz"


@lru_cache(maxsize=4)
def load_lm(path: str | None = None) -> CharLM | None:
    """The character model at ``path`` (default: the shipped one); None when there is none (crop-by-crop reading)."""
    p = Path(path) if path else MODELS_DIR / LM_FILE
    return CharLM.load(p) if p.exists() else None


def weights_of(lm: CharLM) -> ContextWeights:
    """The decoding weights the model's card carries (chosen leave-one-page-out by ``bench/bench_context.py``)."""
    w = lm.meta.get("weights") or {}
    return ContextWeights(**{k: float(v) for k, v in w.items() if k in ContextWeights.__dataclass_fields__})


def context_column(column: int, flags: str) -> int | None:
    """The column a box is read in context in, or None for a box read alone: a ruled form's cell (``cell``), whose
    values follow a register's grammar, not a book's (measured: the book model costs 2–5 points of F1 on every
    development register family, "register pages" in BENCHMARKS.md)."""
    return None if "cell" in flags.split() else column


def read_in_context(preds: Sequence[Prediction], columns: Sequence[int | None], lm: CharLM | None = None,
                    weights: ContextWeights | None = None) -> list[Prediction]:
    """``preds`` (one page's boxes in reading order, ``columns[i]`` box i's column) read in context with ``lm``
    (default: the shipped model); unchanged when there is no model."""
    lm = lm or load_lm()
    if lm is None:
        return list(preds)
    return in_context(preds, columns, lm, weights or weights_of(lm))


def segment_and_read(model, img: np.ndarray, params=None, lm: CharLM | None = None, cuts: bool | None = None
                     ) -> tuple[Segmentation, list[Prediction]]:
    """Segment a page and classify its boxes (:func:`~kuzushi_core.predict.classifier.read_page`), then let reading
    choose the unsure boxes' cuts (:func:`~kuzushi_core.context.cuts.choose_cuts`) where the language model's card
    carries cut weights (``cuts`` None), always (True: the card's weights, else the defaults) or never (False).  The
    predictions are crop by crop; the caller reads them in context."""
    seg, preds = read_page(model, img, params)
    lm = lm or load_lm()
    if lm is None or cuts is False or not seg.boxes:
        return seg, preds
    cw = cut_weights_of(lm) or (CutWeights() if cuts else None)
    if cw is None:
        return seg, preds
    boxes, chosen, _ = choose_cuts(img, seg.boxes, seg.char_size, model, lm, weights_of(lm), cw, geometry_of(lm),
                                   read=preds)
    return replace(seg, boxes=boxes), chosen
