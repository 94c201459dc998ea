"""Documents (ledger volumes), their scans (pages) and the character boxes on them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from kuzushi_core.containers import CharBox, Document, Scan
from kuzushi_core.errors import NotFoundError
from kuzushi_core.segment.order import reading_order
from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.schema import DEFAULT_DOCUMENT, now


class PagesMixin(StoreBase):
    # -- documents ---------------------------------------------------------
    def ensure_document(self, name: str = DEFAULT_DOCUMENT, note: str = "") -> Document:
        name = name.strip() or DEFAULT_DOCUMENT
        with self.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO documents(name, note, created_at) VALUES (?, ?, ?)",
                (name, note, now()),
            )
            row = con.execute("SELECT * FROM documents WHERE name = ?", (name,)).fetchone()
        return _document(row)

    def list_documents(self) -> list[Document]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM documents ORDER BY name").fetchall()
        return [_document(r) for r in rows]

    def get_document(self, document_id: int) -> Document:
        with self.read() as con:
            row = con.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no document #{document_id} in this workspace.")
        return _document(row)

    # -- scans -------------------------------------------------------------
    def find_scan(self, content_hash: str, page_index: int = 0) -> Scan | None:
        with self.read() as con:
            row = con.execute(
                "SELECT * FROM scans WHERE content_hash = ? AND page_index = ?",
                (content_hash, page_index),
            ).fetchone()
        return None if row is None else _scan(row)

    def add_scans(self, document_id: int, pages: Sequence[dict]) -> tuple[list[Scan], list[Scan]]:
        """Insert the pages of one uploaded file in one transaction.

        Each dict holds the :class:`Scan` fields except ``id``, ``document_id``
        and ``created_at``.  Pages already in the workspace (same content hash
        and page index) are not inserted again but returned as duplicates.
        Returns ``(new, duplicates)``.
        """
        new: list[Scan] = []
        dups: list[Scan] = []
        with self.write() as con:
            if con.execute("SELECT 1 FROM documents WHERE id = ?", (document_id,)).fetchone() is None:
                raise NotFoundError(f"There is no document #{document_id} in this workspace.")
            for page in pages:
                row = con.execute(
                    "SELECT * FROM scans WHERE content_hash = ? AND page_index = ?",
                    (page["content_hash"], page["page_index"]),
                ).fetchone()
                if row is not None:
                    dups.append(_scan(row))
                    continue
                # the next page of the document: after its last page, whichever call imported that one
                page_no = con.execute(
                    "SELECT COALESCE(MAX(page_no), 0) + 1 FROM scans WHERE document_id = ?", (document_id,)
                ).fetchone()[0]
                cur = con.execute(
                    "INSERT INTO scans(document_id, content_hash, page_index, source_name, byte_size,"
                    " width, height, format, image_path, created_at, page_no)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        document_id,
                        page["content_hash"],
                        page["page_index"],
                        page["source_name"],
                        page["byte_size"],
                        page["width"],
                        page["height"],
                        page["format"],
                        page["image_path"],
                        now(),
                        page_no,
                    ),
                )
                row = con.execute("SELECT * FROM scans WHERE id = ?", (cur.lastrowid,)).fetchone()
                new.append(_scan(row))
        return new, dups

    def list_scans(self, document_id: int | None = None) -> list[Scan]:
        with self.read() as con:
            if document_id is None:
                rows = con.execute("SELECT * FROM scans ORDER BY document_id, page_no, id").fetchall()
            else:
                rows = con.execute(
                    "SELECT * FROM scans WHERE document_id = ? ORDER BY page_no, id", (document_id,)
                ).fetchall()
        return [_scan(r) for r in rows]

    def get_scan(self, scan_id: int) -> Scan:
        with self.read() as con:
            row = con.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no scan #{scan_id} in this workspace.")
        return _scan(row)

    def scan_path(self, scan: Scan) -> Path:
        return self.path_of(scan.image_path)

    def scan_stats(self, scan_id: int) -> dict[str, int]:
        """How many boxes and labelled boxes a scan has (shown before deleting)."""
        with self.read() as con:
            boxes = con.execute("SELECT COUNT(*) FROM boxes WHERE scan_id = ?", (scan_id,)).fetchone()[0]
            labelled = con.execute(
                "SELECT COUNT(DISTINCT l.box_id) FROM labels l JOIN boxes b ON b.id = l.box_id"
                " WHERE b.scan_id = ?",
                (scan_id,),
            ).fetchone()[0]
        return {"boxes": boxes, "labelled": labelled}

    def delete_scan(self, scan_id: int) -> None:
        """Delete a scan with its boxes and labels (the UI asks first)."""
        with self.write() as con:
            cur = con.execute("DELETE FROM scans WHERE id = ?", (scan_id,))
            if cur.rowcount == 0:
                raise NotFoundError(f"There is no scan #{scan_id} in this workspace.")

    # -- boxes -------------------------------------------------------------
    def add_boxes(self, scan_id: int, boxes: Iterable[CharBox | dict]) -> list[CharBox]:
        out = []
        with self.write() as con:
            for b in boxes:
                d = b if isinstance(b, dict) else b.__dict__
                cur = con.execute(
                    "INSERT INTO boxes(scan_id, x, y, w, h, column_index, order_index, source, flags,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        scan_id,
                        int(d["x"]),
                        int(d["y"]),
                        int(d["w"]),
                        int(d["h"]),
                        int(d.get("column", 0)),
                        int(d.get("order", 0)),
                        d.get("source", "auto"),
                        d.get("flags", ""),
                        now(),
                    ),
                )
                out.append(box_from_row(con.execute("SELECT * FROM boxes WHERE id = ?", (cur.lastrowid,)).fetchone()))
        return out

    def replace_auto_boxes(self, scan_id: int, boxes: Iterable[dict], *, replace_user: bool = False) -> list[CharBox]:
        """Store a new segmentation of a scan in one transaction.

        ``user`` boxes (drawn or edited by the historian) are kept unless
        ``replace_user``; boxes that carry a label are always kept, so a re-run
        never loses a label.  New boxes that overlap a kept box (IoU ≥ 0.5) are
        not added.  The segmenter's reading order (each box's ``column`` and
        ``order``) is kept when every kept box stands for one of the new boxes
        (a form's cells, read line by line, are not the x-overlap columns of a
        book page); otherwise reading order is recomputed over all boxes.
        """
        incoming = list(boxes)
        with self.write() as con:
            labelled = "SELECT box_id FROM labels"
            kinds = "('auto', 'user')" if replace_user else "('auto')"
            con.execute(
                f"DELETE FROM boxes WHERE scan_id = ? AND source IN {kinds} AND id NOT IN ({labelled})", (scan_id,)
            )
            kept = [box_from_row(r) for r in con.execute("SELECT * FROM boxes WHERE scan_id = ?", (scan_id,))]
            stands_for: dict[int, dict] = {}  # kept box id -> the new box it overlaps most (IoU >= 0.5)
            for k in kept:
                ious = [(_iou_xywh((b["x"], b["y"], b["w"], b["h"]), (k.x, k.y, k.w, k.h)), i)
                        for i, b in enumerate(incoming)]
                best = max(ious, default=(0.0, -1))
                if best[0] >= 0.5:
                    stands_for[k.id] = incoming[best[1]]
            stamp = now()
            for b in incoming:
                if any(_iou_xywh((b["x"], b["y"], b["w"], b["h"]), (k.x, k.y, k.w, k.h)) >= 0.5 for k in kept):
                    continue
                con.execute(
                    "INSERT INTO boxes(scan_id, x, y, w, h, column_index, order_index, source, flags, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'auto', ?, ?)",
                    (scan_id, int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"]), int(b.get("column", 0)),
                     int(b.get("order", 0)), b.get("flags", ""), stamp),
                )
            ordered = incoming and all("order" in b and "column" in b for b in incoming)
            if ordered and len(stands_for) == len(kept):
                for box_id, b in stands_for.items():  # a kept box takes the place of the new box it stands for
                    con.execute("UPDATE boxes SET column_index = ?, order_index = ? WHERE id = ?",
                                (int(b["column"]), int(b["order"]), box_id))
            else:
                self._renumber(con, scan_id, reading_order)
        return self.list_boxes(scan_id)

    def edit_boxes(self, scan_id: int, *, delete: Iterable[int] = (), add: Iterable[tuple[int, int, int, int]] = (),
                   update: dict[int, tuple[int, int, int, int]] | None = None) -> list[CharBox]:
        """One user edit (delete, add, move/resize; merge and split are a delete plus an add) in one transaction.

        Every box touched becomes a ``user`` box.  A box that is moved keeps its labels.
        """
        with self.write() as con:
            for box_id in delete:
                con.execute("DELETE FROM boxes WHERE id = ? AND scan_id = ?", (box_id, scan_id))
            stamp = now()
            for x, y, w, h in add:
                if w > 0 and h > 0:
                    con.execute(
                        "INSERT INTO boxes(scan_id, x, y, w, h, source, created_at) VALUES (?, ?, ?, ?, ?, 'user', ?)",
                        (scan_id, int(x), int(y), int(w), int(h), stamp),
                    )
            for box_id, (x, y, w, h) in (update or {}).items():
                con.execute(
                    "UPDATE boxes SET x = ?, y = ?, w = ?, h = ?, source = 'user' WHERE id = ? AND scan_id = ?",
                    (int(x), int(y), int(w), int(h), box_id, scan_id),
                )
            self._renumber(con, scan_id, reading_order)
        return self.list_boxes(scan_id)

    @staticmethod
    def _renumber(con: sqlite3.Connection, scan_id: int, reading_order) -> None:
        rows = con.execute("SELECT id, x, y, w, h FROM boxes WHERE scan_id = ?", (scan_id,)).fetchall()
        ids = [r["id"] for r in rows]
        cols, order = reading_order([(r["x"], r["y"], r["w"], r["h"]) for r in rows])
        for box_id, c, o in zip(ids, cols, order):
            con.execute("UPDATE boxes SET column_index = ?, order_index = ? WHERE id = ?", (c, o, box_id))

    def list_boxes(self, scan_id: int) -> list[CharBox]:
        with self.read() as con:
            rows = con.execute(
                "SELECT * FROM boxes WHERE scan_id = ? ORDER BY order_index, id", (scan_id,)
            ).fetchall()
        return [box_from_row(r) for r in rows]


def _iou_xywh(a: tuple, b: tuple) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _document(r: sqlite3.Row) -> Document:
    return Document(id=r["id"], name=r["name"], note=r["note"], created_at=r["created_at"])


def _scan(r: sqlite3.Row) -> Scan:
    return Scan(
        id=r["id"],
        document_id=r["document_id"],
        content_hash=r["content_hash"],
        page_index=r["page_index"],
        source_name=r["source_name"],
        byte_size=r["byte_size"],
        width=r["width"],
        height=r["height"],
        format=r["format"],
        image_path=r["image_path"],
        page_no=r["page_no"],
        created_at=r["created_at"],
    )


def box_from_row(r: sqlite3.Row) -> CharBox:
    return CharBox(
        id=r["id"],
        scan_id=r["scan_id"],
        x=r["x"],
        y=r["y"],
        w=r["w"],
        h=r["h"],
        column=r["column_index"],
        order=r["order_index"],
        source=r["source"],
        flags=r["flags"],
    )
