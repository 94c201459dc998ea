"""Which reader reads each shared page in the benchmarks of reading: one that never saw it."""

from __future__ import annotations

import argparse
from pathlib import Path

from kuzushi_core.evaluation.scoring import read_codh_csv
from kuzushi_core.paths import MODELS_DIR, PROJECT_ROOT
from kuzushi_core.predict.classifier import load_model
from kuzushi_core.segment.order import reading_order

BUILD = PROJECT_ROOT / "build"


def lopo_path(page: str) -> Path:
    return BUILD / f"reader-lopo-{page}.keras"


def readers_for(names: list[str], reader: Path, shipped: bool, lopo: bool) -> tuple[dict, str]:
    """``{page: loaded reader}`` and a sentence saying which: the shipped reader (it trained on every shared page:
    not honest), each page's fold reader (trained on the other pages: ``lopo``), or ``reader`` for all."""
    if shipped:
        model = load_model(MODELS_DIR / "default.keras")
        return {n: model for n in names}, ("Reader: `models/default.keras` (the shipped reader: it trained on these "
                                           "pages, **not an honest score**)")
    if lopo:
        missing = [lopo_path(n) for n in names if not lopo_path(n).exists()]
        if missing:
            raise SystemExit(f"{missing[0]} is missing: python -m kuzushi_core train-reader --pages <the other pages> "
                             f"--base-out build/reader-base.keras --out {missing[0]}")
        return ({n: load_model(lopo_path(n)) for n in names},
                "Readers: `build/reader-lopo-PAGE.keras`, each trained on the other two pages (the shipped recipe, "
                "`train-reader --pages OTHER1,OTHER2`), never on the page it reads")
    if not reader.exists():
        raise SystemExit(f"{reader} is missing: python -m kuzushi_core train-reader --pages none --out {reader}")
    model = load_model(reader)
    shown = reader.relative_to(PROJECT_ROOT) if reader.is_relative_to(PROJECT_ROOT) else reader
    return {n: model for n in names}, f"Reader: `{shown}` (trained without any of the three pages)"


def reader_args(ap: argparse.ArgumentParser) -> None:
    """The options that say which reader reads the shared pages (:func:`readers_for`)."""
    ap.add_argument("--reader", type=Path, default=BUILD / "reader-nopages.keras")
    ap.add_argument("--shipped", action="store_true", help="use the shipped reader (it saw the pages: not honest)")
    ap.add_argument("--lopo", action="store_true",
                    help="read each page with the reader trained on the other two (build/reader-lopo-PAGE.keras: "
                         "train-reader --pages OTHER1,OTHER2 --out build/reader-lopo-PAGE.keras)")


def shared_pages(data: Path) -> tuple[dict, list[str], dict[str, Path]]:
    """The shared book's annotated pages: their true boxes by page, the pages in order, their image files."""
    gt: dict = {}
    for csv_path in sorted((data / "pages").glob("*/*_coordinate.csv")):
        gt.update(read_codh_csv(csv_path))
    names = sorted(gt)
    return gt, names, {n: next((data / "pages").glob(f"*/images/{n}.jpg")) for n in names}


def in_reading_order(boxes) -> tuple[list[int], list[int]]:
    """A page's true boxes in reading order: their indices in that order, and each one's column (same order)."""
    col, order = reading_order([(b.x, b.y, b.w, b.h) for b in boxes])
    idx = sorted(range(len(boxes)), key=lambda i: order[i])
    return idx, [col[i] for i in idx]
