"""Generated land registers with ground truth: a printed ruled form, handwritten entries that make sense,
and the effects of a scan.

No labelled Meiji land-register scans are public, so these pages stand in for them in the tests and the
ledger benchmark. Each page is a vertical form read right to left:

- ``lot`` (土地台帳, one lot a page): a column per field — 字, 地番, 地目, 反別, 地価, 地租, 所有主 — each with a
  printed heading cell, an entry cell and a remarks cell; then the 沿革 columns (年月日, 事由, 所有主) of two
  or three dated events (売買, 相続, …);
- ``nayose`` (名寄帳, many lots of one owner): a band per field (printed headings in the right-hand column), a
  column per lot, the owner's band across the top and a 計 column of written totals at the left;
- ``rows`` (held out of development, :data:`HELD_OUT`): the headings in a row, one lot a row below them, cells so
  short that a long value is written in two lines of small writing;
- ``dense`` (held out, added after the form-aware segmentation was built, never used in developing it): a 名寄帳 of
  many small lots — 12 to 16 narrow lot columns, so that a long value no longer fits its band and is written in two
  lines of small writing.

The entries are drawn with the brush and handwriting fonts of :mod:`kuzushi_core.synth.fonts` (whatever is
installed; the printed headings in a Mincho face), with values that follow the registers' conventions: lot
numbers, 地目 from the real list, 反別 in 町反畝歩 (坪合勺 for 宅地), 地価 in 円銭厘 and 地租 = 地価 × 2.5 %, era
dates with 廿/卅, owners' names; some entries are corrected (struck through, the right value beside, a
correction seal), red seals cross the ruling. Then skew, uneven light, yellowed paper, bleed-through and JPEG.

Ground truth (:class:`Register`): every cell (row/col as the ``cells`` command numbers them), every
character box (struck ones flagged), every field's text and value.  What the entries say is
:mod:`kuzushi_core.synth.register_text`; paper and ink are :mod:`kuzushi_core.synth.paper`.

Size: about 570 lines, because :func:`generate_register` lays out the three forms (``lot``, ``nayose``, ``rows``) in
one pass over the same cells, and splitting that pass would hand half-built canvases between modules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from kuzushi_core.ledger.lots import Lot, check_page, make_field
from kuzushi_core.segment.cells import RuledCell, number_cells
from kuzushi_core.synth import fonts
from kuzushi_core.synth.paper import ink, paper
from kuzushi_core.synth.register_text import (
    EVENTS,
    HEADINGS,
    KINDS,
    area_text,
    date_text,
    field_text,
    kanji_number,
    lot_values,
    misreading,
    money_text,
    num,
    person,
)
from kuzushi_core.synth.render import master

LAYOUTS = ("lot", "nayose")
#: a layout family kept out of development, for the benchmark of reading registers with no template: headings in a
#: row, one lot a row below them (lots per row), cells so short that a long value is written in two lines of small
#: writing (right line first)
HELD_OUT = ("rows", "dense")
HANDS = ("kouzan-gyosho", "kouzan-sosho", "aoyagi-soseki", "kouzan-kaisho", "aoyagi-kouzan", "kiloji", "seto")
PRINT_FACES = ("noto-serif", "ipamj", "oradano", "noto-serif-bold")


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell(RuledCell):
    """A true cell of the form: a :class:`RuledCell` (box, row, column) with the field it holds (``""`` for
    headings and empty cells), its lot and its printed heading."""

    field: str = ""
    lot: int = -1  # which lot of the page the entry belongs to (-1: none)
    heading: str = ""  # the printed heading in the cell


@dataclass(frozen=True)
class Glyph:
    x: int
    y: int
    w: int
    h: int
    char: str
    cell: int  # index into Register.cells
    struck: bool = False
    printed: bool = False


@dataclass
class Register:
    image: np.ndarray  # uint8 RGB
    layout: str
    seed: int
    cells: list[Cell]
    glyphs: list[Glyph]
    lots: list[dict]  # per lot: field -> {"text", "kind", "value", "unit", "cell"}
    totals: dict = field(default_factory=dict)  # nayose: the written 計 of area, value and tax
    seals: list[tuple[int, int, int]] = field(default_factory=list)  # (cx, cy, r)
    skew_deg: float = 0.0

    def written(self, cell: int) -> list[Glyph]:
        """The handwritten characters of a cell in reading order (struck ones and printed headings left out)."""
        return [g for g in self.glyphs if g.cell == cell and not g.struck and not g.printed]

    def read_lots(self, read_cell) -> tuple[list, dict]:
        """The page's lots (and written totals) as :class:`~kuzushi_core.ledger.lots.Lot`, each field's text
        given by ``read_cell(cell_index) -> (text, confidence)``, parsed and checked."""
        lots = []
        for rec in self.lots:
            fields = {}
            for name, f in rec.items():
                text, conf = read_cell(f["cell"])
                fields[name] = make_field(name, text, f["kind"], confidence=conf, cell=f["cell"])
            lots.append(Lot(fields))
        totals = {name: make_field(f"total_{name}", *read_cell(t["cell"])[:1], kind, cell=t["cell"])
                  for name, t in self.totals.items() if isinstance(t, dict)
                  for kind in [{"area": "area", "value": "money", "tax": "money"}[name]]}
        page_flags = check_page(lots, totals)
        return lots, {"totals": totals, "flags": page_flags}

    def gt(self) -> dict:
        """The ground truth as JSON-able data (boxes in page pixels)."""
        return {"layout": self.layout, "seed": self.seed, "width": int(self.image.shape[1]),
                "height": int(self.image.shape[0]), "skew_deg": self.skew_deg,
                "cells": [c.as_dict() for c in self.cells], "glyphs": [asdict(g) for g in self.glyphs],
                "lots": self.lots, "totals": self.totals, "seals": [list(s) for s in self.seals]}


# -- drawing ---------------------------------------------------------------------------------------
class _Canvas:
    def __init__(self, h: int, w: int, rng: np.random.Generator):
        self.rng = rng
        self.page = paper(h, w, rng)
        self.h, self.w = h, w
        self.text_layer = np.zeros((h, w), np.float32)  # for the bleed-through of the other side
        self.ruling = np.zeros((h, w), np.uint8)  # the printed lines, painted at once by print_ruling

    def line(self, x0, y0, x1, y1, thick, darkness, breaks: float = 0.0) -> None:
        """A printed line (into the ruling layer), with gaps and faint stretches when ``breaks`` > 0."""
        cv2.line(self.ruling, (int(x0), int(y0)), (int(x1), int(y1)), int(255 * darkness), int(thick), cv2.LINE_AA)
        if breaks:
            n = max(1, int(np.hypot(x1 - x0, y1 - y0) / 40))
            for _ in range(self.rng.poisson(breaks * n)):
                t = self.rng.uniform(0, 1)
                cx, cy = int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0))
                r = int(self.rng.integers(3, 9))
                roi = self.ruling[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r]
                roi[:] = (roi * self.rng.uniform(0.0, 0.35)).astype(np.uint8)

    def print_ruling(self, colour) -> None:
        self.paint(self.ruling.astype(np.float32) / 255.0, colour, 1.0)

    def stroke(self, x0, y0, x1, y1, thick, colour, darkness) -> None:
        """A pen stroke (a strike-through), painted at once."""
        pad = thick + 2
        ox, oy = max(0, min(x0, x1) - pad), max(0, min(y0, y1) - pad)
        mask = np.zeros((max(y0, y1) + pad - oy, max(x0, x1) + pad - ox), np.uint8)
        cv2.line(mask, (x0 - ox, y0 - oy), (x1 - ox, y1 - oy), 255, thick, cv2.LINE_AA)
        self.paint(mask.astype(np.float32) / 255.0, colour, darkness, ox, oy)

    def paint(self, a, colour, darkness, x: int = 0, y: int = 0) -> None:
        """Ink of ``colour`` where the alpha ``a`` (placed at x, y) is."""
        h, w = a.shape
        x1, y1 = min(self.w, x + w), min(self.h, y + h)
        if x1 <= x or y1 <= y:
            return
        a = a[: y1 - y, : x1 - x, None] * darkness
        region = self.page[y:y1, x:x1]
        self.page[y:y1, x:x1] = region * (1 - a) + np.asarray(colour, np.float32) * a

    def glyph(self, g: np.ndarray, x: int, y: int, colour, darkness) -> None:
        ink(self.page, g, x, y, darkness, colour)
        h, w = g.shape
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.w, x + w), min(self.h, y + h)
        if x1 > x0 and y1 > y0:
            region = self.text_layer[y0:y1, x0:x1]
            np.maximum(region, g[y0 - y : y1 - y, x0 - x : x1 - x], out=region)


def _faces(names, fallback):
    have = {f.name: f for f in fonts.available()}
    got = [have[n] for n in names if n in have]
    if not got:
        got = [have[n] for n in fallback if n in have] or list(have.values())
    if not got:
        raise fonts.FontError("no Japanese font is installed (bash scripts/install_fonts.sh)")
    return got


def _write(canvas: _Canvas, text: str, face, box: tuple[int, int, int, int], size: int, rng, cell_index: int,
           colour, darkness, struck=False, printed=False, centre=True, x_centre: float | None = None) -> list[Glyph]:
    """Write ``text`` top to bottom in ``box`` (x, y, w, h) with characters of about ``size`` px."""
    x, y, w, h = box
    size = int(max(12, min(size, w * 0.8, h * 0.9 / max(1, len(text)) / 1.02)))
    px = max(12, size - size % 2)
    spare = max(0.0, h - px * 1.02 * len(text))
    cy = y + (h - px * len(text)) / 2 if centre and printed else y + rng.uniform(0.1, 0.5) * min(spare, 0.12 * h)
    cx = x + w / 2 if x_centre is None else x_centre
    out = []
    for ch in text:
        g = _glyph(ch, face, px)
        if g.size == 0:
            cy += px * 0.9
            continue
        gh, gw = g.shape
        gx = int(round(cx - gw / 2 + (0 if printed else rng.normal(0, px * 0.04))))
        gy = int(round(cy + (px - gh) / 2))
        canvas.glyph(np.asarray(g), gx, gy, colour, darkness * (1 if printed else rng.uniform(0.85, 1.0)))
        out.append(Glyph(gx, gy, gw, gh, ch, cell_index, struck, printed))
        cy += px * (1.0 if printed else rng.uniform(0.88, 1.02))
    return out


def _glyph(ch: str, face, px: int) -> np.ndarray:
    """``ch`` in ``face``, or, where that face has no such glyph (圓, 錢, 卅 in some hands), in the first
    installed hand that has it, then in a Mincho face: a clerk writes every character."""
    g = master(ch, face, px)
    if g.size:
        return g
    for other in _faces(HANDS + PRINT_FACES, ("noto-sans",)):
        g = master(ch, other, px)
        if g.size:
            return g
    return g


def generate_register(seed: int = 0, layout: str | None = None, width: int = 1800, height: int = 2500,
                      form_seed: int | None = None, hand: str | None = None) -> Register:
    """One generated register page with its ground truth; the same seed gives the same page.

    ``form_seed`` fixes the printed form (its ruling and colour) apart from the entries: pages with one
    form seed and different seeds are the pages of one volume.  ``hand``: every entry written in this face (one of
    :data:`HANDS`; a volume kept by one clerk), else the seed picks the hands.
    """
    rng = np.random.default_rng(seed)
    frng = rng if form_seed is None else np.random.default_rng(form_seed)
    layout = layout or LAYOUTS[seed % len(LAYOUTS)]
    if layout not in LAYOUTS + HELD_OUT:
        raise ValueError(f"unknown layout {layout!r} (one of {', '.join(LAYOUTS + HELD_OUT)})")
    hands = _faces(HANDS, ("noto-serif",))
    printed_face = _faces(PRINT_FACES, ("noto-sans",))[0]
    chosen = hand
    hand = hands[int(rng.integers(len(hands)))]
    hand2 = hands[int(rng.integers(len(hands)))]
    if chosen is not None:
        named = [f for f in hands if f.name == chosen]
        if not named:
            raise ValueError(f"hand {chosen!r} is not an installed hand (one of {', '.join(f.name for f in hands)})")
        hand = hand2 = named[0]
    canvas = _Canvas(height, width, rng)
    ruling = [(40, 40, 40), (175, 45, 35), (40, 55, 120)][int(frng.integers(3))]  # sumi, vermilion, indigo print
    sumi = (rng.uniform(15, 40),) * 3
    line_dark = rng.uniform(0.55, 0.95)
    breaks = rng.uniform(0.0, 0.6)
    left, right, top, bottom = 90, width - 90, 120, height - 150

    cells: list[Cell] = []
    glyphs: list[Glyph] = []
    lots: list[dict] = []
    totals: dict = {}
    boxes: list[tuple[tuple[int, int, int, int], str, int, str]] = []  # box, field, lot, heading

    if layout == "lot":
        n_events = int(frng.integers(2, 4))
        fields = ["aza", "lot_no", "category", "area", "value", "tax", "owner"]
        ev_fields = ["date", "event", "new_owner"]
        weights = [1.0, 0.9, 0.9, 1.3, 1.3, 1.3, 1.2] + [1.3, 0.9, 1.2] * n_events
        names = fields + [f"{f}#{i}" for i in range(n_events) for f in ev_fields]
        span = right - left
        widths = np.array(weights) / sum(weights) * span
        xs_r = [right - int(round(s)) for s in np.concatenate([[0], np.cumsum(widths)])]  # right to left
        head_h = int(frng.integers(80, 110))
        entry_h = int((bottom - top - head_h) * frng.uniform(0.62, 0.75))
        ys = [top, top + head_h, top + head_h + entry_h, bottom]
        v = lot_values(rng, int(rng.integers(1, 2400)))
        owners = [person(rng)]
        for i, name in enumerate(names):
            x0, x1 = xs_r[i + 1], xs_r[i]
            base = name.split("#")[0]
            boxes.append(((x0, ys[0], x1 - x0, ys[1] - ys[0]), "", -1, HEADINGS[base]))
            boxes.append(((x0, ys[1], x1 - x0, ys[2] - ys[1]), name, 0, ""))
            boxes.append(((x0, ys[2], x1 - x0, ys[3] - ys[2]), "", -1, ""))
        year = int(rng.integers(1873, 1895))
        events = []
        for _ in range(n_events):
            year = min(1911, year + int(rng.integers(1, 8)))
            month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
            new_owner = person(rng)
            events.append((date_text(year, month, day, rng), str(rng.choice(EVENTS)), new_owner))
            owners.append(new_owner)
        texts = {}
        for name in fields:
            texts[name] = field_text(name, v, rng) if name != "owner" else (owners[-1], owners[-1])
        for i, ((dtext, dval), ev, who) in enumerate(events):
            texts[f"date#{i}"] = (dtext, dval)
            texts[f"event#{i}"] = (ev, ev)
            texts[f"new_owner#{i}"] = (who, who)
        lots.append(texts)
    elif layout == "rows":
        n_lots = int(frng.integers(7, 11))
        fields = ["aza", "lot_no", "category", "area", "value", "tax", "owner"]
        widths = np.array([0.9, 0.9, 0.9, 1.2, 1.3, 1.2, 1.2])
        widths = widths / widths.sum() * (right - left)
        xs_r = [right - int(round(s)) for s in np.concatenate([[0], np.cumsum(widths)])]
        head_h = int(frng.integers(80, 110))
        row_h = (bottom - top - head_h) / n_lots
        ys = [top, top + head_h] + [int(round(top + head_h + (k + 1) * row_h)) for k in range(n_lots)]
        ys[-1] = bottom
        start = int(rng.integers(1, 2000))
        values = [lot_values(rng, start + k * int(rng.integers(1, 12))) for k in range(n_lots)]
        for i, name in enumerate(fields):
            x0, x1 = xs_r[i + 1], xs_r[i]
            boxes.append(((x0, ys[0], x1 - x0, ys[1] - ys[0]), "", -1, HEADINGS[name]))
            for k in range(n_lots):
                boxes.append(((x0, ys[k + 1], x1 - x0, ys[k + 2] - ys[k + 1]), name, k, ""))
        for k in range(n_lots):
            who = person(rng)
            lots.append({name: field_text(name, values[k], rng) for name in fields if name != "owner"}
                        | {"owner": (who, who)})
    else:
        n_lots = int(frng.integers(12, 17)) if layout == "dense" else int(frng.integers(6, 11))
        fields = ["aza", "lot_no", "category", "area", "value", "tax"]
        share = np.array([0.75, 0.75, 0.75, 1.3, 1.35, 1.3])
        owner_h = int(frng.integers(110, 150))
        band = (share / share.sum() * (bottom - top - owner_h)).astype(int)
        ys = [top, top + owner_h] + list(top + owner_h + np.cumsum(band))
        ys[-1] = bottom
        head_w, total_w = int(frng.integers(95, 120)), int(frng.integers(120, 150))
        lot_w = (right - left - head_w - total_w) / n_lots
        xs_r = [right, right - head_w] + [int(round(right - head_w - (k + 1) * lot_w)) for k in range(n_lots)]
        xs_r[-1] = left + total_w
        xs_r.append(left)
        # the owner band: a heading cell and one cell across all the rest
        boxes.append(((xs_r[1], ys[0], head_w, owner_h), "", -1, "所有主"))
        boxes.append(((left, ys[0], xs_r[1] - left, owner_h), "owner", -1, ""))
        owner = person(rng)
        start = int(rng.integers(1, 2000))
        values = [lot_values(rng, start + k * int(rng.integers(1, 12))) for k in range(n_lots)]
        for r, name in enumerate(fields):
            y0, y1 = ys[r + 1], ys[r + 2]
            boxes.append(((xs_r[1], y0, head_w, y1 - y0), "", -1, HEADINGS[name]))
            for k in range(n_lots):
                boxes.append(((xs_r[k + 2], y0, xs_r[k + 1] - xs_r[k + 2], y1 - y0), name, k, ""))
            boxes.append(((left, y0, total_w, y1 - y0), f"total_{name}" if name in ("area", "value", "tax") else "",
                          -1, "計" if r == 0 else ""))
        for k in range(n_lots):
            lots.append({name: field_text(name, values[k], rng) for name in fields} | {"owner": (owner, owner)})
        area_sum = sum(x["area"] for x in values)
        value_sum = sum(x["value"] for x in values)
        tax_sum = round(sum(x["tax"] for x in values), 1)
        totals = {"area": (area_text(area_sum, rng, all(x["tsubo"] for x in values)), num(area_sum)),
                  "value": (money_text(value_sum, rng), num(value_sum)),
                  "tax": (money_text(tax_sum, rng), num(tax_sum))}
        lots_owner_text = owner

    # print the ruling: a double outer frame, then the cell lines
    thick = int(frng.integers(2, 4))
    edges = set()
    for (x, y, w, h), *_ in boxes:
        edges |= {("h", x, y, x + w, y), ("h", x, y + h, x + w, y + h), ("v", x, y, x, y + h), ("v", x + w, y, x + w, y + h)}
    for _, x0, y0, x1, y1 in sorted(edges):
        canvas.line(x0, y0, x1, y1, thick, line_dark * rng.uniform(0.8, 1.0), breaks)
    for off, t in ((0, thick + 3), (thick + 9, thick)):  # the frame: thick on the grid's border, a thin one outside
        canvas.line(left - off, top - off, right + off, top - off, t, line_dark)
        canvas.line(left - off, bottom + off, right + off, bottom + off, t, line_dark)
        canvas.line(left - off, top - off, left - off, bottom + off, t, line_dark)
        canvas.line(right + off, top - off, right + off, bottom + off, t, line_dark)
    canvas.print_ruling(ruling)

    # cells, headings and entries
    for i, ((x, y, w, h), name, lot_i, heading) in enumerate(boxes):
        cells.append(Cell(x, y, w, h, field=name, lot=lot_i, heading=heading))
        if heading:
            glyphs += _write(canvas, heading, printed_face, (x, y, w, h), int(min(w * 0.55, 52)), rng, i, ruling,
                             line_dark, printed=True)
    cell_of = {(c.field, c.lot): i for i, c in enumerate(cells)}
    out_lots = []
    for k, texts in enumerate(lots):
        rec = {}
        for name, (text, value) in texts.items():
            base = name.split("#")[0]
            if layout in ("nayose", "dense"):
                ci = cell_of[("owner", -1)] if name == "owner" else cell_of[(name, k)]
            elif layout == "rows":
                ci = cell_of[(name, k)]
            else:
                ci = cell_of[(name, 0)]
            kind = KINDS[base]
            rec[name] = {"text": text, "kind": kind, "value": value,
                         "unit": {"area": "歩", "money": "厘"}.get(kind), "cell": ci}
        out_lots.append(rec)
    written = set()
    for rec in out_lots:
        for name, f in rec.items():
            ci = f["cell"]
            if ci in written:
                continue
            written.add(ci)
            x, y, w, h = cells[ci].x, cells[ci].y, cells[ci].w, cells[ci].h
            face = hand2 if "#" in name else hand
            size = int(min(w * 0.62, 64 if layout == "lot" else 50))
            if name == "owner" and layout in ("nayose", "dense"):  # across the top band, right to left, one line
                glyphs += _write_across(canvas, f["text"], face, (x, y, w, h), int(h * 0.55), rng, ci, sumi)
                continue
            if f["kind"] in ("area", "money", "number") and rng.random() < 0.05 and w > 2.2 * size * 0.6:
                # a correction: the first figure struck through (二重線), the right one to its left, a seal
                wrong = misreading(f["text"], rng)
                col_w = w / 2
                g1 = _write(canvas, wrong, face, (int(x + col_w), y, int(col_w), h), int(min(col_w * 0.75, size)),
                            rng, ci, sumi, rng.uniform(0.75, 0.95), struck=True)
                glyphs += g1
                if g1:
                    sx = int(np.mean([g.x + g.w / 2 for g in g1]))
                    y_top, y_bot = min(g.y for g in g1), max(g.y + g.h for g in g1)
                    for dx in (-4, 4):  # drawn by hand: a little slanted, not ruled
                        slant = int(rng.normal(0, 0.04) * (y_bot - y_top))
                        canvas.stroke(sx + dx - slant // 2, y_top - 4, sx + dx + slant // 2 + int(rng.integers(-6, 7)),
                                      y_bot + 4, int(rng.integers(2, 4)), sumi, 0.9)
                    _seal(canvas, int(x + col_w * 1.5), int(y_bot + 35), 16, rng, "訂")
                glyphs += _write(canvas, f["text"], face, (x, y, int(col_w), h), int(min(col_w * 0.75, size)), rng,
                                 ci, sumi, rng.uniform(0.75, 0.95))
                continue
            if layout in ("rows", "dense") and len(f["text"]) > 3 and len(f["text"]) * size * 0.9 > h:
                # a short cell: the value in two lines of small writing, the right line first
                half = (len(f["text"]) + 1) // 2
                small = int(min(w * 0.36, h * 0.9 / half / 1.02))
                dark = rng.uniform(0.75, 0.95)
                glyphs += _write(canvas, f["text"][:half], face, (x, y, w, h), small, rng, ci, sumi, dark,
                                 x_centre=x + w * 0.72)
                glyphs += _write(canvas, f["text"][half:], face, (x, y, w, h), small, rng, ci, sumi, dark,
                                 x_centre=x + w * 0.28)
                continue
            glyphs += _write(canvas, f["text"], face, (x, y, w, h), size, rng, ci, sumi, rng.uniform(0.75, 0.95))
    for name, (text, _value) in totals.items():
        ci = cell_of[(f"total_{name}", -1)]
        c = cells[ci]
        glyphs += _write(canvas, text, hand, (c.x, c.y, c.w, c.h), int(min(c.w * 0.5, 46)), rng, ci, sumi, 0.9)
    totals_out = {name: {"text": t, "value": v, "cell": cell_of[(f"total_{name}", -1)]} for name, (t, v) in totals.items()}

    # page number, printed below the frame
    pn = kanji_number(int(rng.integers(1, 300)), rng, "units")
    glyphs += _write(canvas, pn, printed_face, (width // 2 - 40, bottom + 40, 80, height - bottom - 50), 30, rng, -1,
                     ruling, line_dark, printed=True)
    # red seals over the owner's cells, crossing the ruling
    seals = []
    for _ in range(int(rng.integers(1, 4))):
        target = [c for c in cells if c.field in ("owner", "new_owner#0", "new_owner#1", "new_owner#2")] or cells
        c = target[int(rng.integers(len(target)))]
        cx = int(c.x + rng.uniform(0.0, 1.0) * c.w)
        cy = int(c.y + rng.uniform(0.3, 0.9) * c.h) if c.h < 400 else int(c.y + rng.uniform(0.55, 0.9) * c.h)
        r = int(rng.integers(28, 46))
        _seal(canvas, cx, cy, r, rng, "印")
        seals.append((cx, cy, r))

    page, cells, glyphs, seals, angle = _scan(canvas, cells, glyphs, seals, rng)
    reg = Register(page, layout, seed, cells, glyphs, out_lots, totals_out, seals, angle)
    if layout in ("nayose", "dense"):
        reg.totals["owner"] = lots_owner_text
    return reg




def _write_across(canvas, text, face, box, size, rng, ci, colour) -> list[Glyph]:
    """A name written across a wide cell (a top band), characters side by side from the right."""
    x, y, w, h = box
    px = max(12, size - size % 2)
    cx = x + w - px * 1.5
    out = []
    for ch in text:  # a vertical form's top band is still read right to left
        g = _glyph(ch, face, px)
        if g.size:
            gh, gw = g.shape
            gx, gy = int(cx - gw / 2), int(y + (h - gh) / 2 + rng.normal(0, 2))
            canvas.glyph(np.asarray(g), gx, gy, colour, 0.9)
            out.append(Glyph(gx, gy, gw, gh, ch, ci))
        cx -= px * 1.05
    return out




def _seal(canvas: _Canvas, cx: int, cy: int, r: int, rng, char: str) -> None:
    red = (rng.uniform(170, 210), rng.uniform(30, 60), rng.uniform(30, 60))
    side = 2 * r + 8
    mask = np.zeros((side, side), np.uint8)
    c = side // 2
    if rng.random() < 0.6:
        cv2.circle(mask, (c, c), r, 255, max(2, r // 9), cv2.LINE_AA)
    else:
        cv2.rectangle(mask, (c - r, c - r), (c + r, c + r), 255, max(2, r // 9), cv2.LINE_AA)

    faces = _faces(("noto-serif-bold", "noto-serif"), ("noto-sans",))
    g = master(char, faces[0], max(12, int(r * 1.2)))
    if g.size:
        gh, gw = g.shape
        sub = mask[c - gh // 2 : c - gh // 2 + gh, c - gw // 2 : c - gw // 2 + gw]
        if sub.shape == g.shape:
            np.maximum(sub, (g * 255).astype(np.uint8), out=sub)
    x0, y0 = cx - c, cy - c
    a = mask.astype(np.float32) / 255.0
    if x0 < 0 or y0 < 0:
        a = a[max(0, -y0) :, max(0, -x0) :]
        x0, y0 = max(0, x0), max(0, y0)
    canvas.paint(a, red, rng.uniform(0.55, 0.85), x0, y0)


def _scan(canvas: _Canvas, cells, glyphs, seals, rng):
    """Bleed-through, yellowing, skew, blur and JPEG; the ground truth follows the skew."""
    h, w = canvas.h, canvas.w
    page = canvas.page
    if rng.random() < 0.7:  # the other side's writing, mirrored and faint
        back = cv2.GaussianBlur(np.roll(canvas.text_layer[:, ::-1], int(rng.integers(-60, 60)), axis=0), (0, 0), 2.0)
        page = page * (1 - back[..., None] * rng.uniform(0.06, 0.14)) + 0
    yellow = np.array([1.0, rng.uniform(0.95, 0.99), rng.uniform(0.82, 0.93)], np.float32)
    page = np.clip(page * yellow, 0, 255)
    angle = float(rng.uniform(-1.2, 1.2))
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = tuple(float(v) for v in page[5, 5])
    page = cv2.warpAffine(page.astype(np.float32), m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)

    def move(x, y, bw, bh):
        pts = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64) @ m.T
        x0, y0 = pts.min(0)
        x1, y1 = pts.max(0)
        return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))

    # rows and columns are those of the printed form, numbered before the skew (as the cells command numbers
    # the levelled page)
    cells = [Cell(*move(c.x, c.y, c.w, c.h), row=c.row, col=c.col, field=c.field, lot=c.lot, heading=c.heading)
             for c in number_cells(cells)]
    glyphs = [Glyph(*move(g.x, g.y, g.w, g.h), char=g.char, cell=g.cell, struck=g.struck, printed=g.printed)
              for g in glyphs]
    seals = [(int(p[0]), int(p[1]), r) for (cx, cy, r) in seals for p in [m @ np.array([cx, cy, 1.0])]]
    if rng.random() < 0.5:
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.4, 1.0))
    page = np.clip(page + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(page, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY,
                                                                         int(rng.integers(55, 92))])
    page = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return page, cells, glyphs, seals, angle


DEMO_VOLUME = ((3101, "lot"), (3102, "lot"), (3201, "nayose"))  # (seed, layout); the lot pages share a form


def demo_pages() -> list[tuple[str, bytes]]:
    """Generated register pages to try ledger mode on: two 土地台帳 pages of one form and a 名寄帳 page,
    as (file name, JPEG bytes)."""
    import io

    from PIL import Image

    out = []
    for seed, layout in DEMO_VOLUME:
        reg = generate_register(seed, layout, form_seed=31 if layout == "lot" else None)
        buf = io.BytesIO()
        Image.fromarray(reg.image).save(buf, format="JPEG", quality=92)
        out.append((f"register_{layout}_{seed}.jpg", buf.getvalue()))
    return out


def save(reg: Register, folder, stem: str | None = None) -> tuple[Path, Path]:
    """Write the page as JPEG and its ground truth as JSON (``<stem>.jpg``, ``<stem>.json``)."""
    import json

    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or f"register_{reg.layout}_{reg.seed}"
    image, gt = folder / f"{stem}.jpg", folder / f"{stem}.json"
    Image.fromarray(reg.image).save(image, format="JPEG", quality=92)
    gt.write_text(json.dumps(reg.gt(), ensure_ascii=False, indent=1), encoding="utf-8")
    return image, gt
