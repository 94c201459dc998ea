"""The two stages of reading a page, shared by every engine so that they give the same rows.

``segment_page`` decodes one page, finds its character boxes in reading order and cuts them out as model-sized
glyphs; ``classify_pages`` runs the model over them and reads each column in context (:mod:`kuzushi_core.context`,
as ``read`` does).  Each page's glyphs go through the model in chunks of a fixed
size (the last one padded), so a page's numbers do not depend on which other pages share a batch on an engine.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kuzushi_core.archive.sources import PageOpener, PageTask
from kuzushi_core.containers import RuledCell
from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.errors import KuzushiError, TemplateError
from kuzushi_core.ledger.incontext import read_page_in_context
from kuzushi_core.ledger.read import flag_of, output_keys, read_register
from kuzushi_core.ledger.templates import Template
from kuzushi_core.predict.classifier import ood_factor, top_k
from kuzushi_core.segment.columns import SegmentParams, segment

CHUNK = 64  # glyphs per model call, padded: the same shapes on every engine
TOP_K = 5


def _text(v) -> str | None:
    """A text column's value from a Ray batch: None for "", None, NaN or pandas' NA."""
    return v if isinstance(v, str) and v else None


def task_of_record(r: dict) -> PageTask:
    return PageTask(str(r["source"]), int(r["page_index"]), str(r["content_hash"]), _text(r["error"]))


@dataclass
class SegmentedPage:
    task: PageTask
    width: int = 0
    height: int = 0
    boxes: list[dict] = field(default_factory=list)  # x, y, w, h, column, order
    glyphs: np.ndarray | None = None  # N×S×S uint8
    error: str | None = None
    cells: list[dict] = field(default_factory=list)  # a ruled form's cells (x, y, w, h, row, col); [] on a book page

    def to_record(self) -> dict:
        """Plain values for another process (Ray): the glyphs as .npy bytes, the boxes and cells as JSON."""
        buf = io.BytesIO()
        np.save(buf, self.glyphs if self.glyphs is not None else np.zeros((0, 1, 1), np.uint8))
        return {**self.task.as_record(), "width": self.width, "height": self.height,
                "boxes": json.dumps(self.boxes), "glyphs": buf.getvalue(), "seg_error": self.error or "",
                "cells": json.dumps(self.cells)}

    @classmethod
    def from_record(cls, r: dict) -> SegmentedPage:
        return cls(task_of_record(r), int(r["width"]), int(r["height"]), json.loads(r["boxes"]),
                   np.load(io.BytesIO(r["glyphs"])), _text(r["seg_error"]), json.loads(r.get("cells") or "[]"))


@dataclass
class PageResult:
    """A page read: its characters (dicts of the dataset's columns) or the error that stopped it."""

    task: PageTask
    width: int
    height: int
    chars: list[dict]
    model_version: str
    error: str | None = None
    lots: list[dict] = field(default_factory=list)  # with --ledger: a row a field of each lot (or the page's error)

    def to_record(self) -> dict:
        return {**self.task.as_record(), "width": self.width, "height": self.height,
                "chars": json.dumps(self.chars, ensure_ascii=False), "model_version": self.model_version,
                "page_error": self.error or "", "lots": json.dumps(self.lots, ensure_ascii=False)}

    @classmethod
    def from_record(cls, r: dict) -> PageResult:
        return cls(task_of_record(r), int(r["width"]), int(r["height"]), json.loads(r["chars"]), str(r["model_version"]),
                   _text(r["page_error"]), json.loads(r.get("lots") or "[]"))


def ledger_rows(img, lm, template: Template | None) -> list[dict]:
    """A register page's lots as rows of the lots table (``read-archive --ledger``): what ``read-ledger`` reads,
    one row a field (lot 0: the page's written totals); one row with ``error`` when no form or no headings are
    found."""
    try:
        reading = read_register(img, lm, template)
    except TemplateError as exc:
        return [{"lot": None, "field": None, "heading": None, "text": None, "value": None, "unit": None,
                 "flag": None, "error": str(exc)}]
    order = list(dict.fromkeys(f.name for f in reading.template.fields if not f.name.startswith("total_")))
    keys = output_keys(order, reading.headings)
    rows = []

    def row(lot: int, name: str, heading: str, f, flags) -> dict:
        return {"lot": lot, "field": name, "heading": heading, "text": f.text,
                "value": None if f.value is None else str(f.value), "unit": f.unit,
                "flag": flag_of(f, flags) or f.error, "error": None}

    for k, lot in enumerate(reading.lots, 1):
        rows += [row(k, n, keys[n], lot.fields[n], lot.flags) for n in order if n in lot.fields]
    for n, f in reading.totals.items():
        rows.append(row(0, f"total_{n}", reading.headings.get(f"total_{n}", f"計 {n}"), f, reading.flags))
    return rows


def segment_page(task: PageTask, opener: PageOpener, size: int, params: SegmentParams | None = None
                 ) -> SegmentedPage:
    """Decode, segment and cut out one page; a bad page comes back with its error, never as an exception."""
    if task.error:
        return SegmentedPage(task, error=task.error)
    try:
        img = opener.image(task)
    except (KuzushiError, OSError) as exc:
        opener.close()
        return SegmentedPage(task, error=str(exc) if isinstance(exc, KuzushiError) else f"“{task.source}”: {exc}")
    h, w = img.shape[:2]
    try:
        seg = segment(img, params)
    except Exception as exc:  # noqa: BLE001 - one odd page must not end an archive run
        return SegmentedPage(task, w, h, error=f"segmentation failed: {type(exc).__name__}: {exc}")
    boxes = [b.as_dict() | ({"flags": b.flags} if b.flags else {}) for b in seg.boxes]
    glyphs = (np.stack([to_glyph(crop_box(img, b.x, b.y, b.w, b.h), size) for b in seg.boxes]) if seg.boxes
              else np.zeros((0, size, size), np.uint8))
    return SegmentedPage(task, w, h, boxes, glyphs, cells=[c.as_dict() for c in seg.cells or []])


def model_version(path: str | Path) -> str:
    """The model file's name and the start of its SHA-256: which weights read a row."""
    path = Path(path)
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"{path.stem}@{h.hexdigest()[:12]}"


def classify_pages(lm, version: str, pages: list[SegmentedPage], ledger: LedgerMode | None = None
                   ) -> list[PageResult]:
    """Each segmented page read (its columns in context); with ``ledger``, also read as a register into lots."""
    out = []
    for page in pages:
        t = page.task
        if page.error:
            out.append(PageResult(t, page.width, page.height, [], version, page.error))
            continue
        glyphs = page.glyphs
        assert glyphs is not None  # a page without error has its glyphs
        preds = []
        for i in range(0, len(glyphs), CHUNK):
            part = glyphs[i:i + CHUNK]
            padded = np.zeros((CHUNK, *glyphs.shape[1:]), np.uint8)
            padded[:len(part)] = part
            probs = lm.read_glyphs(padded, batch=CHUNK)
            preds += top_k(probs, lm.classes, TOP_K, ood_factor(lm, padded))[:len(part)]
        # in context, as ``read``: a book's columns with the language model, a register's fields with their grammar
        preds = read_page_in_context(preds, page.boxes, [RuledCell(**c) for c in page.cells])
        chars = [{**{k: v for k, v in b.items() if k != "flags"}, "label": p.label, "confidence": float(p.confidence),
                  "candidates": [{"label": c, "score": float(s)} for c, s in p.candidates]}
                 for b, p in zip(page.boxes, preds)]
        lots = []
        if ledger is not None:  # the page decoded again here: a register is read cell by cell, not by columns
            try:
                lots = ledger_rows(ledger.opener.image(t), lm, ledger.template)
            except (KuzushiError, OSError) as exc:
                lots = [{"lot": None, "field": None, "heading": None, "text": None, "value": None, "unit": None,
                         "flag": None, "error": str(exc)}]
        out.append(PageResult(t, page.width, page.height, chars, version, lots=lots))
    return out


@dataclass
class LedgerMode:
    """``read-archive --ledger``: the template (None: proposed from each page's headings) and a page opener."""

    template: Template | None = None
    opener: PageOpener = field(default_factory=PageOpener)
