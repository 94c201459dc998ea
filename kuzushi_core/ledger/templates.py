"""Form templates: the fields of a register's form, marked once per volume, placed on its other pages.

A historian picks, on one page, the cells that hold the fields (地番, 地目, 反別, …) and names each. The
template keeps each field's box relative to the form's frame (the outermost ruling: the union of the page's
cells). On another page of the volume the frame is found again from that page's ruling, each field's box is
mapped into it, and snapped to the detected cell that covers it best — so a page scanned a little shifted,
scaled or skewed still has its fields where they are.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from kuzushi_core.errors import TemplateError

#: the fields of a register, with their printed headings and the kind of value each holds
FIELDS: dict[str, tuple[str, str]] = {
    "aza": ("字", "text"), "lot_no": ("地番", "number"), "category": ("地目", "text"), "area": ("反別", "area"),
    "value": ("地価", "money"), "tax": ("地租", "money"), "owner": ("所有主", "text"), "date": ("年月日", "date"),
    "event": ("事由", "text"),
    # a page's written totals (名寄帳 計), checked against the sum of its lots
    "total_area": ("計 反別", "area"), "total_value": ("計 地価", "money"), "total_tax": ("計 地租", "money"),
}
SNAP_IOU = 0.4  # a mapped field box snaps to a detected cell that overlaps it at least this much


@dataclass(frozen=True)
class TemplateField:
    name: str  # a key of FIELDS (or any name the historian gives)
    kind: str  # number, area, money, date or text
    lot: int  # which lot of the page (0 on a one-lot page; -1: a field of every lot, e.g. a 名寄帳's one owner)
    box: tuple[float, float, float, float]  # x, y, w, h as shares of the frame
    printed: str = ""  # the heading as the form prints it (番地 where another form says 地番), when known

    @property
    def heading(self) -> str:
        return self.printed or FIELDS.get(self.name.split("#")[0], (self.name, ""))[0]


@dataclass(frozen=True)
class Template:
    name: str
    fields: tuple[TemplateField, ...]

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "fields": [asdict(f) for f in self.fields]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Template:
        try:
            d = json.loads(text)
            fields = []
            for f in d["fields"]:
                x, y, w, h = (float(v) for v in f["box"])
                fields.append(TemplateField(f["name"], f["kind"], int(f["lot"]), (x, y, w, h), str(f.get("printed", ""))))
            return cls(d["name"], tuple(fields))
        except (ValueError, KeyError, TypeError) as exc:
            raise TemplateError(f"not a template: {exc}") from None

    def lots(self) -> list[int]:
        return sorted({f.lot for f in self.fields})


def frame_of(cells) -> tuple[int, int, int, int]:
    """The form's frame: the box around all its cells."""
    if not cells:
        raise TemplateError("the page has no ruled cells: the form's fields cannot be placed on it (a blank or unruled page?)")
    x0 = min(c.x for c in cells)
    y0 = min(c.y for c in cells)
    x1 = max(c.x + c.w for c in cells)
    y1 = max(c.y + c.h for c in cells)
    return x0, y0, x1 - x0, y1 - y0


def make_template(name: str, cells, picks) -> Template:
    """A template from ``picks``: ``(cell index, field name, lot)`` on a page with ``cells``."""
    fx, fy, fw, fh = frame_of(cells)
    fields = []
    seen = set()
    for index, field, lot in picks:
        if not 0 <= index < len(cells):
            raise TemplateError(f"there is no cell #{index}")
        if (field, lot) in seen:
            raise TemplateError(f"{field} of lot {lot + 1} is marked twice")
        seen.add((field, lot))
        c = cells[index]
        kind = FIELDS.get(field.split("#")[0], (field, "text"))[1]  # date#1: a date, like date
        fields.append(TemplateField(field, kind, int(lot), ((c.x - fx) / fw, (c.y - fy) / fh, c.w / fw, c.h / fh)))
    if not fields:
        raise TemplateError("mark at least one field")
    return Template(name.strip() or "template", tuple(fields))


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def place(template: Template, cells) -> list[tuple[TemplateField, tuple[int, int, int, int], int]]:
    """Each field's box on a page with ``cells``: ``(field, box, cell index or -1)``; the box is the snapped
    cell's, or the mapped box where no cell covers it (a line the ruling detector missed)."""
    fx, fy, fw, fh = frame_of(cells)
    out = []
    for f in template.fields:
        bx, by, bw, bh = f.box
        mapped = (fx + bx * fw, fy + by * fh, bw * fw, bh * fh)
        best, score = -1, 0.0
        for i, c in enumerate(cells):
            v = _iou(mapped, (c.x, c.y, c.w, c.h))
            if v > score:
                best, score = i, v
        if score >= SNAP_IOU:
            c = cells[best]
            out.append((f, (c.x, c.y, c.w, c.h), best))
        else:
            x, y, w, h = (int(round(v)) for v in mapped)
            out.append((f, (x, y, w, h), -1))
    return out
