"""A page read in context, whatever it is: a book's columns with the language model, a register's fields with their
grammar.  The one call ``read``, the Read page (``predict.reading.read_scan``) and ``read-archive`` make.

A ruled form's boxes (flagged ``cell`` by the form segmenter) are not decoded with the book's language model
(:func:`~kuzushi_core.context.model.context_column`); where the page's printed headings propose a template
(:func:`~kuzushi_core.ledger.headings.propose_template`), each field's glyphs are read as that field reads them
(:func:`~kuzushi_core.ledger.lots.read_field`: a value as the most probable text that parses, a 地目 or an event as a
word of its list, 地価/地租 read to agree) and every glyph takes its character of the field's reading.  A form whose
headings propose nothing keeps its glyphs as read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kuzushi_core.containers import Prediction, RuledCell
from kuzushi_core.context.model import context_column, read_in_context
from kuzushi_core.errors import TemplateError
from kuzushi_core.ledger.headings import propose_template
from kuzushi_core.ledger.lots import Field, assemble, read_field
from kuzushi_core.ledger.templates import place


def _xywh(b) -> tuple[int, int, int, int]:
    return (b.x, b.y, b.w, b.h) if hasattr(b, "x") else (b["x"], b["y"], b["w"], b["h"])


def _flags(b) -> str:
    return (b.flags if hasattr(b, "flags") else b.get("flags", "")) or ""


def _column(b) -> int:
    return b.column if hasattr(b, "column") else int(b.get("column", 0))


def cell_glyphs(cells: Sequence[RuledCell], boxes: Sequence) -> list[list[int]]:
    """For each cell, the indices of the boxes (flagged ``cell``, not ``struck``) whose centre lies in it, in the
    boxes' order (the form segmenter's: a cell's lines right to left, top to bottom)."""
    out: list[list[int]] = [[] for _ in cells]
    for i, b in enumerate(boxes):
        fl = _flags(b).split()
        if "cell" not in fl or "struck" in fl:
            continue
        x, y, w, h = _xywh(b)
        cx, cy = x + w / 2, y + h / 2
        for k, c in enumerate(cells):
            if c.x <= cx < c.x + c.w and c.y <= cy < c.y + c.h:
                out[k].append(i)
                break
    return out


def read_fields(cells: Sequence[RuledCell], boxes: Sequence, preds: Sequence[Prediction]) -> list[Prediction]:
    """``preds`` with every glyph of a register's fields read by its field's grammar (unchanged where the page's
    headings propose no template, or a field's reading does not keep one character a glyph)."""
    out = list(preds)
    if not cells or not any("cell" in _flags(b).split() for b in boxes):
        return out
    glyphs = cell_glyphs(cells, boxes)
    try:
        template = propose_template(list(cells), glyphs, list(preds))
    except TemplateError:
        return out
    made: list[tuple[int, Field]] = []
    for f, _box, index in place(template, list(cells)):
        if index < 0 or not glyphs[index]:
            continue
        cands = [preds[i].candidates for i in glyphs[index]]
        mine = any(len(c) == 1 and c[0][1] >= 1.0 for c in cands)  # a glyph the user labelled: no list word over it
        made.append((f.lot, read_field(f.name, f.kind, cands, index, source="user" if mine else "auto",
                                       lexicon=not mine)))  # a user's field is not read again to agree
    lots, totals = assemble(made)
    for fld in [*(f for lot in lots for f in lot.fields.values()), *totals.values()]:
        members = glyphs[fld.cell] if fld.cell >= 0 else []
        if not members or len(fld.text) != len(members):
            continue
        for i, ch in zip(members, fld.text):
            p = preds[i]
            if ch == p.label:
                continue
            prob = next((q for c, q in p.candidates if c == ch), 0.0)
            scale = p.confidence / p.candidates[0][1] if p.candidates and p.candidates[0][1] else 1.0
            out[i] = replace(p, label=ch, confidence=round(min(1.0, prob * min(scale, 1.0)), 4))
    return out


def read_page_in_context(preds: Sequence[Prediction], boxes: Sequence, cells: Sequence[RuledCell] = (),
                         lm=None) -> list[Prediction]:
    """One page's predictions (its boxes in reading order) read in context: a book's columns with the language model
    ``lm`` (default: the shipped one), a register's fields with their grammar (``cells``: the page's ruled cells)."""
    read = read_in_context(preds, [context_column(_column(b), _flags(b)) for b in boxes], lm)
    return read_fields(cells, boxes, read) if cells else read
