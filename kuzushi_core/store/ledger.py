"""Ledger mode: a volume's form templates, the ruled cells found on a page, the field texts a historian typed."""

from __future__ import annotations

from kuzushi_core.errors import NotFoundError
from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.schema import now, person_name


class LedgerMixin(StoreBase):
    # -- ledger mode -------------------------------------------------------
    def save_template(self, document_id: int, name: str, spec: str, source_scan_id: int | None = None) -> int:
        with self.write() as con:
            cur = con.execute("INSERT INTO templates(document_id, name, spec, source_scan_id, created_at)"
                              " VALUES (?, ?, ?, ?, ?)", (document_id, name, spec, source_scan_id, now()))
            return int(cur.lastrowid or 0)

    def list_templates(self, document_id: int | None = None) -> list[dict]:
        """``{"id", "document_id", "name", "spec", "source_scan_id", "created_at"}``, newest first."""
        with self.read() as con:
            if document_id is None:
                rows = con.execute("SELECT * FROM templates ORDER BY id DESC").fetchall()
            else:
                rows = con.execute("SELECT * FROM templates WHERE document_id = ? ORDER BY id DESC",
                                   (document_id,)).fetchall()
        return [dict(r) for r in rows]

    def get_template(self, template_id: int) -> dict:
        with self.read() as con:
            row = con.execute("SELECT * FROM templates WHERE id = ?", (template_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no template #{template_id} in this workspace.")
        return dict(row)

    def save_ledger_cells(self, scan_id: int, cells_json: str, angle: float) -> None:
        with self.write() as con:
            con.execute("INSERT INTO ledger_pages(scan_id, cells, angle, created_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT(scan_id) DO UPDATE SET cells = excluded.cells, angle = excluded.angle,"
                        " created_at = excluded.created_at", (scan_id, cells_json, float(angle), now()))

    def ledger_cells(self, scan_id: int) -> tuple[str, float] | None:
        with self.read() as con:
            row = con.execute("SELECT cells, angle FROM ledger_pages WHERE scan_id = ?", (scan_id,)).fetchone()
        return None if row is None else (row["cells"], row["angle"])

    def add_field_edit(self, scan_id: int, template_id: int, lot: int, field: str, text: str,
                       edited_by: str = "") -> None:
        with self.write() as con:
            con.execute("INSERT INTO field_edits(scan_id, template_id, lot, field, text, created_at, edited_by)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (scan_id, template_id, int(lot), field, text, now(), person_name(edited_by)))

    def field_edits(self, scan_id: int, template_id: int) -> dict[tuple[int, str], str]:
        """The latest typed text of each (lot, field) of a page read with a template."""
        with self.read() as con:
            rows = con.execute("SELECT lot, field, text FROM field_edits WHERE scan_id = ? AND template_id = ?"
                               " ORDER BY id", (scan_id, template_id)).fetchall()
        return {(r["lot"], r["field"]): r["text"] for r in rows}
