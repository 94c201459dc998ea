"""Exports for analysis and for other tools, per document or page.

* :func:`character_rows` — one row per character box: document, page, column,
  order, x, y, w, h, character, confidence, model version, source (``user``
  when a person gave or confirmed the label, ``auto`` when it is the model's
  reading); CSV (:func:`to_csv`) and JSON (:func:`to_json`) are made from them.
* :func:`to_text` — the transcription in reading order (columns right to left).
* :func:`to_page_xml` — PAGE XML 2019-07-15 with character-level ``Glyph``
  elements (Transkribus, eScriptorium); one text line per column.
* :func:`to_seed_npz` and :func:`to_crops_zip` — the labelled crops as the
  seed's npz layout or as a zip of class folders (folder name = character).
* :func:`lots_csv` / :func:`lots_json` — a register's lots (ledger mode).

:func:`export_file` is the one path every caller takes (the CLI's ``export``, the Export page, the Ledger page).

Columns of the CSV are a contract: extend at the end, never rename.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

import numpy as np

from kuzushi_core.containers import CharBox, ModelRecord, Scan
from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.datasets import DatasetError, GlyphSet, save_seed_npz
from kuzushi_core.imaging import encode_png, read_image
from kuzushi_core.ledger.workspace import LOT_COLUMNS, document_lots
from kuzushi_core.store import Store

CSV_COLUMNS = ("document", "page", "column", "order", "x", "y", "w", "h", "character", "confidence",
               "model_version", "source", "scan_id", "box_id", "page_index", "label_source",
               "page_no", "labelled_by", "confirmed_by")
UNREAD = "〓"  # geta mark: a box nobody (person or model) has read yet
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"


@dataclass(frozen=True)
class PageRows:
    scan: Scan
    document: str
    boxes: tuple[CharBox, ...]
    rows: tuple[dict, ...]


def select_scans(store: Store, document_id: int | None = None, scan_ids: Iterable[int] | None = None) -> list[Scan]:
    scans = store.list_scans(document_id)
    if scan_ids is not None:
        wanted = set(scan_ids)
        scans = [s for s in scans if s.id in wanted]
    return scans


def page_rows(store: Store, scans: list[Scan], model: ModelRecord | None) -> list[PageRows]:
    docs = {d.id: d.name for d in store.list_documents()}
    out = []
    for scan in scans:
        labels = store.current_labels(scan.id)
        people = store.label_people(scan.id)
        preds = store.predictions(scan.id, model.id) if model else {}
        boxes = tuple(b for b in store.list_boxes(scan.id) if not b.has_flag("excluded"))
        rows = []
        label_source: str
        for b in boxes:
            lab, pred = labels.get(b.id), preds.get(b.id)
            if lab is not None:
                char, source, label_source = lab.char, "user", lab.source
            elif pred is not None:
                char, source, label_source = pred.label, "auto", ""
            else:
                char, source, label_source = UNREAD, "auto", ""
            author, confirmed = people.get(b.id, ("", ())) if lab is not None else ("", ())
            rows.append({
                "document": docs.get(scan.document_id, ""), "page": scan.source_name, "column": b.column + 1,
                "order": b.order + 1, "x": b.x, "y": b.y, "w": b.w, "h": b.h, "character": char,
                "confidence": round(pred.confidence, 4) if pred is not None else "",
                "model_version": f"{model.name} (#{model.id})" if (model and pred is not None) else "",
                "source": source, "scan_id": scan.id, "box_id": b.id, "page_index": scan.page_index,
                "label_source": label_source, "page_no": scan.page_no, "labelled_by": author,
                "confirmed_by": "; ".join(confirmed),
            })
        out.append(PageRows(scan, docs.get(scan.document_id, ""), boxes, tuple(rows)))
    return out


def character_rows(store: Store, scans: list[Scan], model: ModelRecord | None) -> list[dict]:
    return [r for p in page_rows(store, scans, model) for r in p.rows]


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _columns(rows: Iterable[dict]) -> list[str]:
    lines: dict[int, list[str]] = {}
    for r in rows:
        lines.setdefault(r["column"], []).append(r["character"])
    return ["".join(lines[c]) for c in sorted(lines)]


def to_json(pages: list[PageRows], model: ModelRecord | None) -> str:
    doc = {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": None if model is None else {"id": model.id, "name": model.name, "classes": list(model.classes)},
        "pages": [{"scan_id": p.scan.id, "document": p.document, "page": p.scan.source_name,
                   "page_index": p.scan.page_index, "page_no": p.scan.page_no, "width": p.scan.width, "height": p.scan.height,
                   "transcription": _columns(p.rows), "characters": list(p.rows)} for p in pages],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1)


def to_text(pages: list[PageRows]) -> str:
    """Per page a heading line, then one line per column (right to left), characters top to bottom."""
    out = []
    for p in pages:
        out.append(f"# {p.document} / p.{p.scan.page_no} {p.scan.source_name}"
                   + (f" ({p.scan.page_index + 1})" if p.scan.page_index else ""))
        out.extend(_columns(p.rows))
        out.append("")
    return "\n".join(out)


def _points(x: int, y: int, w: int, h: int) -> str:
    return f"{x},{y} {x + w},{y} {x + w},{y + h} {x},{y + h}"


def to_page_xml(page: PageRows, creator: str = "Kuzushi Lab") -> str:
    """One page as PAGE XML (2019-07-15): a text region, a text line per column, a Glyph per character."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    sc = page.scan
    by_col: dict[int, list[tuple[CharBox, dict]]] = {}
    for b, r in zip(page.boxes, page.rows):
        by_col.setdefault(b.column, []).append((b, r))
    x = ['<?xml version="1.0" encoding="UTF-8"?>',
         f'<PcGts xmlns="{PAGE_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         f'xsi:schemaLocation="{PAGE_NS} {PAGE_NS}/pagecontent.xsd">',
         f"<Metadata><Creator>{creator}</Creator><Created>{stamp}</Created><LastChange>{stamp}</LastChange>"
         f"<Comments>{_esc(page.document)}</Comments></Metadata>",
         f'<Page imageFilename={quoteattr(sc.source_name)} imageWidth="{sc.width}" imageHeight="{sc.height}">']
    if page.boxes:
        x0 = min(b.x for b in page.boxes)
        y0 = min(b.y for b in page.boxes)
        x1 = max(b.x + b.w for b in page.boxes)
        y1 = max(b.y + b.h for b in page.boxes)
        x.append('<ReadingOrder><OrderedGroup id="ro1"><RegionRefIndexed index="0" regionRef="r1"/>'
                 '</OrderedGroup></ReadingOrder>')
        x.append('<TextRegion id="r1" type="paragraph" readingDirection="top-to-bottom" '
                 'textLineOrder="right-to-left">')
        x.append(f'<Coords points="{_points(x0, y0, x1 - x0, y1 - y0)}"/>')
        for c in sorted(by_col):
            items = by_col[c]
            cx0 = min(b.x for b, _ in items)
            cy0 = min(b.y for b, _ in items)
            cx1 = max(b.x + b.w for b, _ in items)
            cy1 = max(b.y + b.h for b, _ in items)
            text = "".join(r["character"] for _, r in items)
            x.append(f'<TextLine id="l{c + 1}" readingDirection="top-to-bottom">'
                     f'<Coords points="{_points(cx0, cy0, cx1 - cx0, cy1 - cy0)}"/>')
            x.append(f'<Word id="w{c + 1}" readingDirection="top-to-bottom">'
                     f'<Coords points="{_points(cx0, cy0, cx1 - cx0, cy1 - cy0)}"/>')
            for b, r in items:
                conf = f' conf="{float(r["confidence"]):.4f}"' if (r["source"] == "auto" and r["confidence"] != "") \
                    else ""
                x.append(f'<Glyph id="g{b.id}"><Coords points="{_points(b.x, b.y, b.w, b.h)}"/>'
                         f'<TextEquiv{conf}><Unicode>{_esc(r["character"])}</Unicode></TextEquiv></Glyph>')
            x.append(f"<TextEquiv><Unicode>{_esc(text)}</Unicode></TextEquiv></Word>")
            x.append(f"<TextEquiv><Unicode>{_esc(text)}</Unicode></TextEquiv></TextLine>")
        x.append("<TextEquiv><Unicode>" + _esc("\n".join(_columns(page.rows))) + "</Unicode></TextEquiv>")
        x.append("</TextRegion>")
    x.append("</Page></PcGts>")
    return "\n".join(x) + "\n"


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def validate_page_xml(xml: str, xsd_path) -> list[str]:
    """Schema errors of a PAGE XML document (empty when valid)."""
    import xmlschema

    schema = xmlschema.XMLSchema(str(xsd_path))
    return [str(e.reason or e) for e in schema.iter_errors(xml)]


def safe_folder(char: str) -> str:
    """A folder name for a character: itself when the file system allows it, else its code points."""
    if char and all(ch.isprintable() and ch not in '/\\:*?"<>|.' for ch in char):
        return char
    return "_".join(f"U+{ord(ch):04X}" for ch in char) or "_"


def labelled_crops(store: Store, scans: list[Scan]) -> list[tuple[str, np.ndarray, int]]:
    """(character, grey crop as cut from the page, box id) for every labelled, not excluded box."""
    out = []
    for scan in scans:
        labels = store.current_labels(scan.id)
        boxes = [b for b in store.list_boxes(scan.id) if b.id in labels and not b.has_flag("excluded")]
        if not boxes:
            continue
        page = read_image(store.scan_path(scan), gray=True)
        out.extend((labels[b.id].char, crop_box(page, b.x, b.y, b.w, b.h), b.id) for b in boxes)
    return out


def to_crops_zip(items: list[tuple[str, np.ndarray, int]]) -> bytes:
    """A zip of class folders (``<character>/box<id>.png``), crops as cut from the page (dark ink on light)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for char, crop, box_id in items:
            z.writestr(f"{safe_folder(char)}/box{box_id}.png", encode_png(crop))
    return buf.getvalue()


def to_seed_npz(items: list[tuple[str, np.ndarray, int]], size: int = 64) -> bytes:
    """The seed's npz layout (``trainimg``, one-hot ``trainlabel``, ``imgsize``, plus ``classes``)."""
    if not items:
        raise DatasetError("there are no labelled characters to export")
    classes = tuple(sorted({c for c, _, _ in items}))
    idx = {c: i for i, c in enumerate(classes)}
    data = GlyphSet(np.stack([to_glyph(crop, size) for _, crop, _ in items]),
                    np.array([idx[c] for c, _, _ in items], np.int64), classes, "workspace")
    buf = io.BytesIO()
    save_seed_npz(buf, data)
    return buf.getvalue()


# -- one path for every export: the CLI, the Export page and the Ledger page ---------------------------------
#: every format, in the order the Export page offers them (``lots``: the Ledger page and ``export --format lots``)
FORMATS = ("csv", "json", "text", "pagexml", "npz", "crops", "lots", "xlsx")
MIME = {"csv": "text/csv", "json": "application/json", "text": "text/plain", "xml": "application/xml",
        "zip": "application/zip", "npz": "application/octet-stream",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: a byte-order mark before UTF-8 text: what Excel on Japanese Windows needs to open a CSV as UTF-8, not Shift-JIS
BOM = "\ufeff"
LOT_KEYS = ("document", "page_no", "scan_id", "source_name", "lot")


@dataclass(frozen=True)
class ExportFile:
    """An export as one file (``data``, to download or write) and, for PAGE XML, its pages apart (``members``)."""

    name: str
    data: bytes
    mime: str
    counts: dict  # what it holds: rows, user, pages, crops, classes, lots
    members: dict[str, bytes] = field(default_factory=dict)


def lots_csv(rows: list[dict]) -> str:
    """Lot rows (:func:`kuzushi_core.ledger.workspace.lot_rows`) as CSV, columns ``LOT_COLUMNS``."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(LOT_COLUMNS), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return buf.getvalue()


def lots_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)


def lots_wide(rows: list[dict]) -> list[dict]:
    """The long lot rows (one a field) as one row a lot: the lot's keys, then each field's text and its parsed value
    (``地番``, ``地番 value``, …, headed by the form's own headings), and the lot's flags."""
    lots: dict[tuple, dict] = {}
    for r in rows:
        row = lots.setdefault(tuple(r[k] for k in LOT_KEYS), {k: r[k] for k in LOT_KEYS} | {"flags": ""})
        heading = r.get("heading") or r["field"]
        row[heading] = r["text"]
        row[f"{heading} value"] = "" if r["value"] is None else r["value"]
        if r.get("flag"):
            row["flags"] = "; ".join(x for x in (row["flags"], f"{heading}: {r['flag']}") if x)
    return list(lots.values())


def export_csv_text(rows: list[dict], excel: bool = True) -> str:
    """Any table as CSV (header from the rows' keys in order of first appearance), with a BOM for Excel."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)), lineterminator="\n")
    w.writeheader()
    w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
    return (BOM if excel else "") + buf.getvalue()


def transcription_rows(pages: list[PageRows]) -> list[dict]:
    """One row a column of each page: document, page, column (1 = rightmost), its text top to bottom."""
    return [{"document": p.document, "page_no": p.scan.page_no, "scan_id": p.scan.id, "page": p.scan.source_name,
             "column": i + 1, "text": line} for p in pages for i, line in enumerate(_columns(p.rows))]


def to_xlsx(sheets: dict[str, list[dict]]) -> bytes:
    """A workbook with one sheet a table (header row from the rows' keys in order of first appearance)."""
    from openpyxl import Workbook  # only for this format: the workbook library is not needed to read or train

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name[:31])
        header: list[str] = []
        for r in rows:
            header += [k for k in r if k not in header]
        ws.append(header)
        for r in rows:
            ws.append([_cell(r.get(k)) for k in header])
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, (int, float, str)):
        return v
    return json.dumps(v, ensure_ascii=False)


def export_file(store: Store, scans: list[Scan], fmt: str, model: ModelRecord | None, stem: str,
                lots_as: str = "csv", excel: bool = True) -> ExportFile:
    """The export of ``scans`` in ``fmt`` (one of :data:`FORMATS`); ``lots_as``: ``csv``, ``wide`` (one row a
    lot) or ``json``; ``excel``: CSV text starts with a byte-order mark (Excel reads it as UTF-8).

    Raises :class:`~kuzushi_core.errors.KuzushiError` subclasses when there is nothing to export."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if not scans:
        raise DatasetError("no scans to export")
    if fmt in ("npz", "crops"):
        items = labelled_crops(store, scans)
        counts = {"crops": len(items), "classes": len({c for c, _, _ in items})}
        if fmt == "npz":
            return ExportFile(f"{stem}.npz", to_seed_npz(items), MIME["npz"], counts)
        return ExportFile(f"{stem}-crops.zip", to_crops_zip(items), MIME["zip"], counts)
    bom = BOM if excel else ""
    wanted = {s.id for s in scans}
    lot_rows = [r for r in document_lots(store) if r["scan_id"] in wanted] if fmt in ("lots", "xlsx") else []
    if fmt == "lots":
        if not lot_rows:
            raise DatasetError("no page of these scans was read in ledger mode (the Ledger page, with a template)")
        counts = {"lots": len({(r["scan_id"], r["lot"]) for r in lot_rows}), "rows": len(lot_rows),
                  "pages": len({r["scan_id"] for r in lot_rows})}
        if lots_as == "json":
            return ExportFile(f"{stem}-lots.json", lots_json(lot_rows).encode("utf-8"), MIME["json"], counts)
        if lots_as == "wide":
            return ExportFile(f"{stem}-lots-wide.csv", export_csv_text(lots_wide(lot_rows), excel).encode("utf-8"),
                              MIME["csv"], counts)
        return ExportFile(f"{stem}-lots.csv", (bom + lots_csv(lot_rows)).encode("utf-8"), MIME["csv"], counts)
    pages = page_rows(store, scans, model)
    rows = [r for p in pages for r in p.rows]
    counts = {"rows": len(rows), "user": sum(r["source"] == "user" for r in rows), "pages": len(pages)}
    if fmt == "xlsx":
        sheets = {"characters": [{k: r.get(k, "") for k in CSV_COLUMNS} for r in rows],
                  "transcription": transcription_rows(pages)}
        if lot_rows:
            sheets |= {"lots": lots_wide(lot_rows), "lot fields": lot_rows}
        return ExportFile(f"{stem}.xlsx", to_xlsx(sheets), MIME["xlsx"], counts | {"lots": len(lots_wide(lot_rows))})
    if fmt == "csv":
        return ExportFile(f"{stem}.csv", (bom + to_csv(rows)).encode("utf-8"), MIME["csv"], counts)
    if fmt == "json":
        return ExportFile(f"{stem}.json", to_json(pages, model).encode("utf-8"), MIME["json"], counts)
    if fmt == "text":
        return ExportFile(f"{stem}.txt", to_text(pages).encode("utf-8"), MIME["text"], counts)
    members = {f"{p.scan.id}-{p.scan.source_name.rsplit('.', 1)[0]}.xml": to_page_xml(p).encode("utf-8")
               for p in pages}
    if len(members) == 1:
        return ExportFile(f"{stem}.xml", next(iter(members.values())), MIME["xml"], counts, members)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(f"page/{name}", data)
    return ExportFile(f"{stem}-pagexml.zip", buf.getvalue(), MIME["zip"], counts, members)
