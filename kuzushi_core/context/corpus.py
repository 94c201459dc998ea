"""The corpus (``../shared/data/corpus/``): character labels of 776 real pages, put back in reading order.

The labels come in the Kaggle ``train.csv`` layout, not in reading order.  :func:`columns_of` rebuilds it the way
the segmenter orders boxes (:func:`kuzushi_core.segment.order.reading_order`: vertical columns right to left,
top to bottom) and sets ruby apart: a box much narrower than its column's characters and off its column's axis
is a reading aid beside the text, not part of it; so is a whole column of such narrow boxes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from kuzushi_core.errors import DatasetError
from kuzushi_core.evaluation.scoring import TrueBox, read_kaggle_csv
from kuzushi_core.paths import data_dir
from kuzushi_core.segment.order import reading_order

CORPUS_FILE = "kaggle_train_labels_776pages.csv"
RUBY_WIDTH = 0.6    # narrower than this × the column's median width ...
RUBY_OFFSET = 0.25  # ... and its centre this × median width off the column's axis: ruby


def corpus_path(data: Path | None = None) -> Path:
    path = Path(data or data_dir()) / "corpus" / CORPUS_FILE
    if not path.exists():
        raise DatasetError(f"the corpus is not at {path} (see ../shared/data/corpus/README.md)")
    return path


def columns_of(boxes: Sequence[TrueBox]) -> list[list[TrueBox]]:
    """The page's columns in reading order, each top to bottom, without ruby."""
    if not boxes:
        return []
    col, order = reading_order([(b.x, b.y, b.w, b.h) for b in boxes])
    columns: dict[int, list[tuple[int, TrueBox]]] = {}
    for b, c, o in zip(boxes, col, order):
        columns.setdefault(c, []).append((o, b))
    page_w = float(np.median([b.w for b in boxes]))
    out = []
    for c in sorted(columns, key=lambda c: min(o for o, _ in columns[c])):
        if float(np.median([b.w for _, b in columns[c]])) < RUBY_WIDTH * page_w:
            continue  # a column of ruby of its own, beside the text
        members = [b for _, b in sorted(columns[c], key=lambda t: t[0])]
        widths = np.array([b.w for b in members], float)
        centres = np.array([b.x + b.w / 2 for b in members], float)
        med_w, axis = float(np.median(widths)), float(np.median(centres))
        main = [b for b, w, cx in zip(members, widths, centres)
                if not (w < RUBY_WIDTH * med_w and abs(cx - axis) > RUBY_OFFSET * med_w)]
        if main:
            out.append(main)
    return out


def page_texts(path: Path | None = None, drop: Iterable[str] = ()) -> dict[str, list[str]]:
    """Every page of the corpus (but ``drop``'s) as its columns' texts in reading order."""
    dropped = set(drop)
    pages = read_kaggle_csv(path or corpus_path())
    return {page: ["".join(b.char for b in column) for column in columns_of(boxes)]
            for page, boxes in pages.items() if boxes and page not in dropped}


def book_of(page: str) -> str:
    """The book a corpus page belongs to (the image id's prefix: ``100241706_00005_1`` → ``100241706``)."""
    return page.split("_")[0].split("-")[0]


def largest_books(pages: Iterable[str], n: int) -> list[str]:
    """The ``n`` books with the most pages (ties by name: the same books on every run)."""
    counts: dict[str, int] = {}
    for page in pages:
        counts[book_of(page)] = counts.get(book_of(page), 0) + 1
    return sorted(counts, key=lambda b: (-counts[b], b))[:n]
