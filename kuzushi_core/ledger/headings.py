"""Templates without clicks: the form's printed headings read, and the fields laid out from them.

A register form prints its headings (字, 地番 or 番地, 地目, 反別, 地価, 地租, 所有主, 年月日, 事由, 計, …) in a row of
cells above the entries or in a column of cells beside them. Each cell's glyphs are read by the reader and
matched against the headings' printed forms (:data:`HEADING_FORMS`, from ``../shared/data/ledger``: the most
probable form with as many characters as the cell has glyphs). The headings are the row or the column of cells
where most of them are found; each heading's entries are the cells beyond it — below a row of headings, to the
left of a column of them (the form is read right to left) — the first one lot 1, the next lot 2, and so on; a
lot whose cells are all empty is no lot (a remarks row). A heading whose band has one cell across all the lots
(名寄帳: the owner across the top) gives a field of every lot (``lot = -1``). A 計 cell outside the headings marks
the column (or row) of the page's written totals.

Repeated headings are numbered the way the registers repeat them: the 沿革 blocks (年月日, 事由, 所有主) after the
first 年月日 are ``date#0``, ``event#0``, ``new_owner#0``, ``date#1``, …; other repeats get ``#2``, ``#3``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kuzushi_core.containers import Prediction
from kuzushi_core.errors import TemplateError
from kuzushi_core.ledger.lots import read_word
from kuzushi_core.ledger.templates import FIELDS, Template, TemplateField, frame_of

#: printed forms of each field's heading on the forms of the 1870s–1880s (the vocabulary of ../shared/data/ledger)
HEADING_FORMS: dict[str, tuple[str, ...]] = {
    "aza": ("字", "大字", "小字"),
    "lot_no": ("地番", "番地", "番"),
    "category": ("地目",),
    "area": ("反別", "段別", "地積", "面積"),
    "value": ("地価", "地價"),
    "tax": ("地租",),
    "owner": ("所有主", "所有者", "氏名", "所有主氏名", "住所氏名"),
    "date": ("年月日", "登記年月日"),
    "event": ("事由", "事故", "沿革"),
    "grade": ("等級",),
    "total": ("計", "合計"),
}
KIND_OF = {name: kind for name, (_, kind) in FIELDS.items()} | {"grade": "text", "new_owner": "text"}
MIN_SCORE = 0.02  # mean probability of a heading form's characters below which a cell is no heading
MIN_HEADINGS = 3  # fewer headings found than this: no template is proposed


@dataclass(frozen=True)
class HeadingCell:
    cell: int  # index into the page's cells
    field: str  # a key of HEADING_FORMS
    text: str  # the form as printed (番地 or 地番)
    score: float


def read_headings(cells, glyphs: list[list[int]], preds: list[Prediction]) -> list[HeadingCell]:
    """The cells whose glyphs read as a heading: ``glyphs[i]`` are the indices into ``preds`` of cell ``i``'s
    glyphs in reading order (top to bottom; right to left across a wide cell)."""
    forms = [(field, form) for field, fs in HEADING_FORMS.items() for form in fs]
    lexicon = tuple(dict.fromkeys(form for _, form in forms))
    field_of = {}
    for field, form in forms:
        field_of.setdefault(form, field)
    out = []
    for i, members in enumerate(glyphs):
        if not 1 <= len(members) <= 5:
            continue
        cands = [preds[g].candidates for g in members]
        classes = tuple(sorted({c for cs in cands for c, _ in cs} | set("".join(lexicon))))
        index = {c: j for j, c in enumerate(classes)}
        probs = np.full((len(members), len(classes)), 1e-6)
        for k, cs in enumerate(cands):
            for c, p in cs:
                probs[k, index[c]] = p
        hit = read_word(probs, classes, lexicon)
        if hit is not None and hit[1] >= MIN_SCORE:
            out.append(HeadingCell(i, field_of[hit[0]], hit[0], hit[1]))
    return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """How much of the shorter span the two spans share."""
    inter = min(a1, b1) - max(a0, b0)
    return max(0.0, inter) / max(1e-9, min(a1 - a0, b1 - b0))


def _inside(a0: float, a1: float, b0: float, b1: float) -> float:
    """How much of span a lies within span b."""
    return max(0.0, min(a1, b1) - max(a0, b0)) / max(1e-9, a1 - a0)


def _aligned(cells, heads: list[HeadingCell], axis: str) -> list[list[HeadingCell]]:
    """Groups of headings that share a row (``axis="row"``: their y spans overlap) or a column (x spans)."""
    groups: list[list[HeadingCell]] = []
    for h in sorted(heads, key=lambda h: (cells[h.cell].y, -cells[h.cell].x)):
        c = cells[h.cell]
        span = (c.y, c.y + c.h) if axis == "row" else (c.x, c.x + c.w)
        for g in groups:
            g0 = cells[g[0].cell]
            other = (g0.y, g0.y + g0.h) if axis == "row" else (g0.x, g0.x + g0.w)
            if _overlap(*span, *other) > 0.6:
                g.append(h)
                break
        else:
            groups.append([h])
    return groups


def _name(fields: list[str]) -> list[str]:
    """Field names for headings in reading order (the repeats of the 沿革 blocks numbered)."""
    out, seen, events = [], {}, -1
    for f in fields:
        if f == "date" and "date" in seen:
            events += 1
        if f == "date" and "date" not in seen:
            events = 0
        seen[f] = seen.get(f, 0) + 1
        if events >= 0 and f in ("date", "event", "owner") and not (f == "owner" and seen[f] == 1):
            out.append(f"{'new_owner' if f == 'owner' else f}#{events}")
        elif seen[f] > 1:
            out.append(f"{f}#{seen[f]}")
        else:
            out.append(f)
    return out


def propose_template(cells, glyphs: list[list[int]], preds: list[Prediction], title: str = "proposed") -> Template:
    """A template from the page's printed headings (see the module's docstring); :class:`TemplateError` when
    fewer than :data:`MIN_HEADINGS` headings line up."""
    heads = [h for h in read_headings(cells, glyphs, preds) if h.field != "total"]
    totals = [h for h in read_headings(cells, glyphs, preds) if h.field == "total"]
    best: tuple[float, str, list[HeadingCell]] | None = None
    for axis in ("row", "column"):
        for g in _aligned(cells, heads, axis):
            distinct = len({h.field for h in g})
            score = sum(h.score for h in g) + distinct
            if distinct >= MIN_HEADINGS and (best is None or score > best[0]):
                best = (score, axis, g)
    if best is None:
        raise TemplateError(f"no row or column of printed headings was found (headings read: "
                            f"{', '.join(h.text for h in heads) or 'none'}); mark the fields by hand")
    _, axis, group = best
    fx, fy, fw, fh = frame_of(cells)
    in_row = axis == "row"
    # reading order of the headings: right to left along a row, top to bottom down a column
    group = sorted(group, key=(lambda h: -cells[h.cell].x) if in_row else (lambda h: cells[h.cell].y))
    names = _name([h.field for h in group])
    head_ids = {h.cell for h in group}
    total_cells = [h.cell for h in totals if h.cell not in head_ids]

    def beyond(h: HeadingCell) -> list[int]:
        """The cells in the heading's band beyond it, in reading order (below a row; leftwards from a column)."""
        c = cells[h.cell]
        if in_row:
            ids = [i for i, d in enumerate(cells) if i not in head_ids and d.y >= c.y + c.h * 0.5
                   and _overlap(c.x, c.x + c.w, d.x, d.x + d.w) > 0.6]
            return sorted(ids, key=lambda i: cells[i].y)
        ids = [i for i, d in enumerate(cells) if i not in head_ids and d.x + d.w <= c.x + c.w * 0.5
               and _overlap(c.y, c.y + c.h, d.y, d.y + d.h) > 0.6]
        return sorted(ids, key=lambda i: -cells[i].x)

    def in_totals(i: int) -> bool:
        """Whether cell ``i`` is in the line of written totals that a 計 cell heads: the row of a 計 (lots in
        rows, below a row of headings) or its column (lots in columns, beside a column of headings)."""
        a = cells[i]
        for t in total_cells:
            b = cells[t]
            if (_inside(a.y, a.y + a.h, b.y, b.y + b.h) if in_row else _inside(a.x, a.x + a.w, b.x, b.x + b.w)) > 0.6:
                return True
        return False

    def span(i: int) -> tuple[float, float]:
        """A cell's span along the lots (down the columns under a row of headings; leftwards from a column)."""
        c = cells[i]
        return (c.y, c.y + c.h) if in_row else (-(c.x + c.w), -c.x)

    per_head = []
    for h, name in zip(group, names):
        ids = [i for i in beyond(h) if i not in total_cells]
        per_head.append((h, name, [i for i in ids if not in_totals(i)], [i for i in ids if in_totals(i)]))
    # the lots' slots, agreed over every band: the biggest cells first, each cell joining the slot it mostly
    # coincides with or opening a new one; a slot most bands have a cell in is a lot (a sliver cut off by a stray
    # line or a seal, or a cell across several lots, opens a slot no other band shares; a band with one cell across
    # every lot, the owner's, takes no part)
    most = max((len(e) for _, _, e, _ in per_head), default=0)
    voters = [(b, i) for b, (_, _, e, _) in enumerate(per_head) if len(e) > 1 or most <= 1 for i in e]
    members: list[list[tuple[int, int]]] = []
    for b, i in sorted(voters, key=lambda bi: -(span(bi[1])[1] - span(bi[1])[0])):
        a0, a1 = span(i)
        home = next((m for m in members if _inside(a0, a1, *span(m[0][1])) >= 0.6
                     and _inside(*span(m[0][1]), a0, a1) >= 0.6), None)  # they mostly coincide
        if home is None:
            members.append([(b, i)])
        else:
            home.append((b, i))
    bands = len({b for b, _ in voters})
    slots = sorted((float(np.median([span(i)[0] for _, i in m])), float(np.median([span(i)[1] for _, i in m])))
                   for m in members if len({b for b, _ in m}) >= max(1, bands / 2))
    spans = sorted(span(i)[1] - span(i)[0] for _, i in voters)
    typical = spans[len(spans) // 2] if spans else 0.0

    def slot_cells(entries: list[int]) -> list[list[int]]:
        """The band's cells of each lot slot: those lying mostly inside it (a cell split by a stray line gives two;
        none where nothing covers half the slot)."""
        out: list[list[int]] = []
        for a0, a1 in slots:
            inside = [i for i in entries if _inside(*span(i), a0, a1) >= 0.6]
            covered = sum(min(a1, span(i)[1]) - max(a0, span(i)[0]) for i in inside)
            out.append(inside if covered >= 0.5 * (a1 - a0) else [])
        return out

    per_slot = [slot_cells(e) for _, _, e, _ in per_head]
    filled = [any(glyphs[i] for row in per_slot for i in row[k]) for k in range(len(slots))]
    while filled and not filled[-1]:
        filled.pop()  # trailing rows or columns with nothing written: remarks, not lots
    fields = []

    def rel(*ids: int) -> tuple[float, float, float, float]:
        """The box around cells ``ids`` as shares of the frame."""
        x0 = min(cells[i].x for i in ids)
        y0 = min(cells[i].y for i in ids)
        x1 = max(cells[i].x + cells[i].w for i in ids)
        y1 = max(cells[i].y + cells[i].h for i in ids)
        return (x0 - fx) / fw, (y0 - fy) / fh, (x1 - x0) / fw, (y1 - y0) / fh

    for (h, name, entries, totals_here), row in zip(per_head, per_slot):
        kind = KIND_OF.get(name.split("#")[0], "text")
        if len(filled) > 1 and len(entries) == 1 and span(entries[0])[1] - span(entries[0])[0] > 1.8 * typical:
            fields.append(TemplateField(name, kind, -1, rel(entries[0]), h.text))  # one cell across every lot
        else:
            for k, ids in enumerate(row[:len(filled)]):
                if ids:
                    fields.append(TemplateField(name, kind, k, rel(*ids), h.text))
        if totals_here and name in ("area", "value", "tax"):
            fields.append(TemplateField(f"total_{name}", kind, -1, rel(totals_here[0]), f"計 {h.text}"))
    if not fields:
        raise TemplateError("the headings were found but no cells beyond them: mark the fields by hand")
    return Template(title, tuple(fields))
