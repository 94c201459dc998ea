"""The workspace store: one SQLite database plus a folder of files.

The store is the single source of truth of Kuzushi Lab.  A workspace folder
holds::

    kuzushi.sqlite      documents, scans, boxes, labels, classes, runs, models
    files/              scan images and models, content-addressed, write-once

Design rules
------------
* SQLite in WAL mode with foreign keys on and a generous busy timeout, so that
  the Streamlit server, a training process and the CLI can write at the same
  time.  Every write is one ``BEGIN IMMEDIATE`` transaction: it either lands
  whole or not at all, also when the process is killed half-way.
* The schema carries a version (``PRAGMA user_version``); :data:`MIGRATIONS`
  brings an older workspace up to date when it is opened.
* A label is never overwritten: every correction is a new row, and the current
  label of a box is the latest row.
* Files are written to a temporary name, flushed, then renamed into place
  before the row that refers to them is committed, so a crash can leave at
  worst an unreferenced file, never a row pointing at nothing.
* One connection per operation: cheap for SQLite, and safe from any thread
  (Streamlit runs each session in its own thread).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from kuzushi_core.containers import (
    CharBox,
    CharClass,
    Document,
    Label,
    ModelRecord,
    Prediction,
    Scan,
    TrainingRun,
)
from kuzushi_core.errors import NotFoundError, StoreError, WorkspaceError
from kuzushi_core.segment.columns import reading_order

DB_NAME = "kuzushi.sqlite"
FILES_DIR = "files"
DEFAULT_DOCUMENT = "Unsorted"

#: Ordered schema migrations; migration ``i`` brings ``user_version`` from i to i+1.
MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema.
    """
    CREATE TABLE documents (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        note        TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL
    );
    CREATE TABLE scans (
        id            INTEGER PRIMARY KEY,
        document_id   INTEGER NOT NULL REFERENCES documents(id) ON DELETE RESTRICT,
        content_hash  TEXT NOT NULL,
        page_index    INTEGER NOT NULL DEFAULT 0,
        source_name   TEXT NOT NULL,
        byte_size     INTEGER NOT NULL,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        format        TEXT NOT NULL,
        image_path    TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        UNIQUE (content_hash, page_index)
    );
    CREATE INDEX scans_document ON scans(document_id);
    CREATE TABLE boxes (
        id          INTEGER PRIMARY KEY,
        scan_id     INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        x INTEGER NOT NULL, y INTEGER NOT NULL,
        w INTEGER NOT NULL CHECK (w > 0), h INTEGER NOT NULL CHECK (h > 0),
        column_index INTEGER NOT NULL DEFAULT 0,
        order_index  INTEGER NOT NULL DEFAULT 0,
        source      TEXT NOT NULL DEFAULT 'auto' CHECK (source IN ('auto', 'user')),
        flags       TEXT NOT NULL DEFAULT '',
        created_at  TEXT NOT NULL
    );
    CREATE INDEX boxes_scan ON boxes(scan_id, order_index);
    CREATE TABLE labels (
        id          INTEGER PRIMARY KEY,
        box_id      INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
        char        TEXT NOT NULL,
        source      TEXT NOT NULL DEFAULT 'user' CHECK (source IN ('user', 'auto', 'import')),
        created_at  TEXT NOT NULL
    );
    CREATE INDEX labels_box ON labels(box_id, id);
    CREATE TABLE classes (
        id          INTEGER PRIMARY KEY,
        char        TEXT NOT NULL UNIQUE,
        codepoint   TEXT NOT NULL,
        note        TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE models (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        path        TEXT NOT NULL,
        classes     TEXT NOT NULL,
        metrics     TEXT NOT NULL DEFAULT '{}',
        card        TEXT NOT NULL DEFAULT '{}',
        parent_id   INTEGER REFERENCES models(id) ON DELETE SET NULL,
        active      INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        config      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        pid         INTEGER,
        error       TEXT,
        progress    REAL NOT NULL DEFAULT 0,
        metrics     TEXT NOT NULL DEFAULT '{}',
        model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL
    );
    CREATE TABLE run_epochs (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        fold        INTEGER NOT NULL DEFAULT 0,
        epoch       INTEGER NOT NULL,
        metrics     TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (run_id, fold, epoch)
    );
    """,
    # 1 -> 2: model predictions per box (top-k candidates), kept per model version.
    """
    CREATE TABLE predictions (
        box_id      INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
        model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        label       TEXT NOT NULL,
        confidence  REAL NOT NULL,
        candidates  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (box_id, model_id)
    );
    """,
    # 2 -> 3: cancelling a training run from any tab; named augmentation configs from the Augment page.
    """
    ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE augment_configs (
        name        TEXT PRIMARY KEY,
        config      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    """,
    # 3 -> 4: a scan's page number in its document (several files imported into one document in one call
    # were all "page 1"); the workspace's own settings (the UI language a user chose last).
    """
    ALTER TABLE scans ADD COLUMN page_no INTEGER NOT NULL DEFAULT 0;
    UPDATE scans SET page_no = (SELECT COUNT(*) FROM scans AS s2
                                WHERE s2.document_id = scans.document_id AND s2.id <= scans.id);
    CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    """,
    # 4 -> 5: ledger mode: form templates per document, the ruled cells found on a page, and the field texts a
    # historian typed (append-only, the latest wins, like labels).
    """
    CREATE TABLE templates (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        spec            TEXT NOT NULL,
        source_scan_id  INTEGER REFERENCES scans(id) ON DELETE SET NULL,
        created_at      TEXT NOT NULL
    );
    CREATE TABLE ledger_pages (
        scan_id     INTEGER PRIMARY KEY REFERENCES scans(id) ON DELETE CASCADE,
        cells       TEXT NOT NULL,
        angle       REAL NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE field_edits (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        scan_id      INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        template_id  INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
        lot          INTEGER NOT NULL,
        field        TEXT NOT NULL,
        text         TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX field_edits_scan ON field_edits(scan_id, template_id);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def now() -> str:
    """The current time as an ISO 8601 UTC string with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def default_workspace() -> Path:
    """``$KUZUSHI_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get("KUZUSHI_WORKSPACE") or "workspace").resolve()


class Store:
    """A workspace: ``Store(path)`` opens it, creating and migrating as needed."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True):
        self.root = Path(root).expanduser().resolve()
        self.db_path = self.root / DB_NAME
        self.files = self.root / FILES_DIR
        if not self.db_path.exists():
            if not create:
                raise WorkspaceError(f"No workspace at {self.root} (no {DB_NAME} there).")
            try:
                self.files.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WorkspaceError(f"Cannot create a workspace at {self.root}: {exc.strerror}.") from exc
        self.files.mkdir(parents=True, exist_ok=True)
        self._migrate()

    # -- connections -----------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise WorkspaceError(f"Cannot open the workspace database {self.db_path}: {exc}.") from exc
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA synchronous = NORMAL")
        return con

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``)."""
        con = self._open()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    def _migrate(self) -> None:
        con = self._open()
        try:
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. network file systems
                raise WorkspaceError(f"The workspace at {self.root} cannot use WAL mode ({mode}).")
            con.execute("BEGIN IMMEDIATE")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                con.execute("ROLLBACK")
                raise WorkspaceError(
                    f"This workspace was written by a newer Kuzushi Lab (schema {version}, "
                    f"this version knows {SCHEMA_VERSION}). Update the app to open it."
                )
            for i in range(version, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[i]):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {i + 1}")
            con.execute("COMMIT")
        finally:
            con.close()

    def schema_version(self) -> int:
        with self.read() as con:
            return con.execute("PRAGMA user_version").fetchone()[0]

    def integrity_ok(self) -> bool:
        with self.read() as con:
            ok = con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
        return ok and not fk

    # -- files -----------------------------------------------------------
    def put_file(self, data: bytes, suffix: str, kind: str = "scans") -> str:
        """Store bytes under their hash; returns the path relative to ``files/``.

        Storing the same bytes twice is a no-op.
        """
        digest = sha256_bytes(data)
        rel = f"{kind}/{digest[:2]}/{digest}{suffix}"
        target = self.files / rel
        if not (target.exists() and target.stat().st_size == len(data)):
            self.write_file(rel, data)
        return rel

    def write_file(self, rel: str, data: bytes) -> Path:
        """Write ``files/rel`` atomically: a temporary file, flushed, then renamed.

        A file is therefore either whole or absent, whatever kills the process.
        """
        target = self.files / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def path_of(self, rel: str) -> Path:
        return self.files / rel

    # -- settings --------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        """A workspace setting (e.g. ``ui.language``), or ``default`` when it was never set."""
        with self.read() as con:
            row = con.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row["value"] if row is not None else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as con:
            con.execute(
                "INSERT INTO settings(key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, str(value), now()),
            )

    # -- ledger mode -----------------------------------------------------
    def save_template(self, document_id: int, name: str, spec: str, source_scan_id: int | None = None) -> int:
        with self.write() as con:
            cur = con.execute("INSERT INTO templates(document_id, name, spec, source_scan_id, created_at)"
                              " VALUES (?, ?, ?, ?, ?)", (document_id, name, spec, source_scan_id, now()))
            return int(cur.lastrowid)

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

    def add_field_edit(self, scan_id: int, template_id: int, lot: int, field: str, text: str) -> None:
        with self.write() as con:
            con.execute("INSERT INTO field_edits(scan_id, template_id, lot, field, text, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)", (scan_id, template_id, int(lot), field, text, now()))

    def field_edits(self, scan_id: int, template_id: int) -> dict[tuple[int, str], str]:
        """The latest typed text of each (lot, field) of a page read with a template."""
        with self.read() as con:
            rows = con.execute("SELECT lot, field, text FROM field_edits WHERE scan_id = ? AND template_id = ?"
                               " ORDER BY id", (scan_id, template_id)).fetchall()
        return {(r["lot"], r["field"]): r["text"] for r in rows}

    # -- documents -------------------------------------------------------
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

    # -- scans -----------------------------------------------------------
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

    # -- boxes -----------------------------------------------------------
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
                out.append(_box(con.execute("SELECT * FROM boxes WHERE id = ?", (cur.lastrowid,)).fetchone()))
        return out

    def replace_auto_boxes(self, scan_id: int, boxes: Iterable[dict], *, replace_user: bool = False) -> list[CharBox]:
        """Store a new segmentation of a scan in one transaction.

        ``user`` boxes (drawn or edited by the historian) are kept unless
        ``replace_user``; boxes that carry a label are always kept, so a re-run
        never loses a label.  New boxes that overlap a kept box (IoU ≥ 0.5) are
        not added.  Reading order is recomputed over all boxes of the scan.
        """
        with self.write() as con:
            labelled = "SELECT box_id FROM labels"
            kinds = "('auto', 'user')" if replace_user else "('auto')"
            con.execute(
                f"DELETE FROM boxes WHERE scan_id = ? AND source IN {kinds} AND id NOT IN ({labelled})", (scan_id,)
            )
            kept = [_box(r) for r in con.execute("SELECT * FROM boxes WHERE scan_id = ?", (scan_id,))]
            stamp = now()
            for b in boxes:
                if any(_iou_xywh((b["x"], b["y"], b["w"], b["h"]), (k.x, k.y, k.w, k.h)) >= 0.5 for k in kept):
                    continue
                con.execute(
                    "INSERT INTO boxes(scan_id, x, y, w, h, column_index, order_index, source, flags, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, 'auto', ?, ?)",
                    (scan_id, int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"]), int(b.get("column", 0)),
                     int(b.get("order", 0)), b.get("flags", ""), stamp),
                )
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
        return [_box(r) for r in rows]

    # -- labels ----------------------------------------------------------
    def add_label(self, box_id: int, char: str, source: str = "user") -> Label:
        char = char.strip()
        if not char:
            raise StoreError("A label needs a character.")
        with self.write() as con:
            cur = con.execute(
                "INSERT INTO labels(box_id, char, source, created_at) VALUES (?, ?, ?, ?)",
                (box_id, char, source, now()),
            )
            row = con.execute("SELECT * FROM labels WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _label(row)

    def current_labels(self, scan_id: int | None = None) -> dict[int, Label]:
        """The latest label of every labelled box (of one scan, or all)."""
        sql = (
            "SELECT l.* FROM labels l JOIN boxes b ON b.id = l.box_id"
            " WHERE l.id = (SELECT MAX(id) FROM labels WHERE box_id = l.box_id)"
        )
        args: tuple = ()
        if scan_id is not None:
            sql += " AND b.scan_id = ?"
            args = (scan_id,)
        with self.read() as con:
            rows = con.execute(sql, args).fetchall()
        return {r["box_id"]: _label(r) for r in rows}

    def set_box_flags(self, box_id: int, flags: str) -> None:
        """Flags of a box, e.g. ``excluded`` (kept on the page, left out of training and evaluation)."""
        with self.write() as con:
            con.execute("UPDATE boxes SET flags = ? WHERE id = ?", (flags, box_id))

    def get_box(self, box_id: int) -> CharBox:
        with self.read() as con:
            row = con.execute("SELECT * FROM boxes WHERE id = ?", (box_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no box #{box_id} in this workspace.")
        return _box(row)

    def all_predictions(self, model_id: int) -> dict[int, Prediction]:
        """The stored predictions of one model over the whole workspace, by box id."""
        with self.read() as con:
            rows = con.execute("SELECT * FROM predictions WHERE model_id = ?", (model_id,)).fetchall()
        return {
            r["box_id"]: Prediction(r["label"], r["confidence"], tuple((c, s) for c, s in json.loads(r["candidates"])))
            for r in rows
        }

    def label_counts(self) -> dict[str, int]:
        """Current labels per character over the workspace (boxes flagged ``excluded`` left out)."""
        with self.read() as con:
            rows = con.execute(
                "SELECT l.char AS c, COUNT(*) AS n FROM labels l JOIN boxes b ON b.id = l.box_id"
                " WHERE l.id = (SELECT MAX(id) FROM labels WHERE box_id = l.box_id) AND b.flags NOT LIKE '%excluded%'"
                " GROUP BY l.char ORDER BY n DESC, l.char"
            ).fetchall()
        return {r["c"]: r["n"] for r in rows}

    def label_history(self, box_id: int) -> list[Label]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM labels WHERE box_id = ? ORDER BY id", (box_id,)).fetchall()
        return [_label(r) for r in rows]

    def count_labels(self) -> int:
        with self.read() as con:
            return con.execute("SELECT COUNT(*) FROM labels").fetchone()[0]

    # -- classes ---------------------------------------------------------
    def add_class(self, char: str, note: str = "") -> CharClass:
        char = char.strip()
        if not char:
            raise StoreError("A class needs a character.")
        codepoint = " ".join(f"U+{ord(c):04X}" for c in char)
        with self.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO classes(char, codepoint, note) VALUES (?, ?, ?)",
                (char, codepoint, note),
            )
            row = con.execute("SELECT * FROM classes WHERE char = ?", (char,)).fetchone()
        return CharClass(id=row["id"], char=row["char"], codepoint=row["codepoint"], note=row["note"])

    def list_classes(self) -> list[CharClass]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM classes ORDER BY id").fetchall()
        return [CharClass(id=r["id"], char=r["char"], codepoint=r["codepoint"], note=r["note"]) for r in rows]

    # -- models ----------------------------------------------------------
    def register_model(
        self,
        name: str,
        path: str,
        classes: Sequence[str],
        *,
        metrics: dict | None = None,
        card: dict | None = None,
        parent_id: int | None = None,
        activate: bool = False,
    ) -> ModelRecord:
        with self.write() as con:
            if activate:
                con.execute("UPDATE models SET active = 0")
            cur = con.execute(
                "INSERT INTO models(name, path, classes, metrics, card, parent_id, active, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    path,
                    json.dumps(list(classes), ensure_ascii=False),
                    json.dumps(metrics or {}),
                    json.dumps(card or {}, ensure_ascii=False),
                    parent_id,
                    int(activate),
                    now(),
                ),
            )
            row = con.execute("SELECT * FROM models WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _model(row)

    def get_model(self, model_id: int) -> ModelRecord:
        with self.read() as con:
            row = con.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no model #{model_id} in this workspace.")
        return _model(row)

    def list_models(self) -> list[ModelRecord]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM models ORDER BY id").fetchall()
        return [_model(r) for r in rows]

    def active_model(self) -> ModelRecord | None:
        with self.read() as con:
            row = con.execute("SELECT * FROM models WHERE active = 1 ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else _model(row)

    def set_active_model(self, model_id: int) -> None:
        with self.write() as con:
            if con.execute("SELECT 1 FROM models WHERE id = ?", (model_id,)).fetchone() is None:
                raise NotFoundError(f"There is no model #{model_id} in this workspace.")
            con.execute("UPDATE models SET active = (id = ?)", (model_id,))

    # -- predictions -----------------------------------------------------
    def save_predictions(self, model_id: int, items: Iterable[tuple[int, Prediction]]) -> None:
        with self.write() as con:
            stamp = now()
            con.executemany(
                "INSERT OR REPLACE INTO predictions(box_id, model_id, label, confidence, candidates, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(box_id, model_id, p.label, float(p.confidence), json.dumps([list(c) for c in p.candidates],
                                                                                ensure_ascii=False), stamp)
                 for box_id, p in items],
            )

    def predictions(self, scan_id: int, model_id: int) -> dict[int, Prediction]:
        with self.read() as con:
            rows = con.execute(
                "SELECT p.* FROM predictions p JOIN boxes b ON b.id = p.box_id WHERE b.scan_id = ? AND p.model_id = ?",
                (scan_id, model_id),
            ).fetchall()
        return {
            r["box_id"]: Prediction(r["label"], r["confidence"], tuple((c, s) for c, s in json.loads(r["candidates"])))
            for r in rows
        }

    # -- training runs ---------------------------------------------------
    def create_run(self, config: dict) -> TrainingRun:
        with self.write() as con:
            cur = con.execute(
                "INSERT INTO runs(config, created_at) VALUES (?, ?)",
                (json.dumps(config, ensure_ascii=False), now()),
            )
            row = con.execute("SELECT * FROM runs WHERE id = ?", (cur.lastrowid,)).fetchone()
        return _run(row)

    def update_run(self, run_id: int, **fields) -> None:
        allowed = {"status", "started_at", "finished_at", "pid", "error", "progress", "metrics", "model_id"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"Unknown run fields: {sorted(bad)}")
        if "metrics" in fields:
            fields["metrics"] = json.dumps(fields["metrics"])
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.write() as con:
            con.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def add_epoch(self, run_id: int, epoch: int, metrics: dict, fold: int = 0) -> None:
        with self.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO run_epochs(run_id, fold, epoch, metrics, created_at) VALUES (?, ?, ?, ?, ?)",
                (run_id, fold, epoch, json.dumps(metrics), now()),
            )

    def get_run(self, run_id: int) -> TrainingRun:
        with self.read() as con:
            row = con.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no training run #{run_id} in this workspace.")
        return _run(row)

    def list_runs(self) -> list[TrainingRun]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM runs ORDER BY id DESC").fetchall()
        return [_run(r) for r in rows]

    def request_cancel(self, run_id: int) -> None:
        """Ask a queued or running job to stop (it checks between batches); a queued one is cancelled at once."""
        with self.write() as con:
            con.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
            con.execute("UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'",
                        (now(), run_id))

    def cancel_requested(self, run_id: int) -> bool:
        with self.read() as con:
            row = con.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def claim_next_run(self, pid: int) -> TrainingRun | None:
        """Take the oldest queued run for this worker (one transaction: two workers never take the same run)."""
        with self.write() as con:
            row = con.execute("SELECT id FROM runs WHERE status = 'queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                return None
            con.execute("UPDATE runs SET status = 'running', pid = ?, started_at = ? WHERE id = ?",
                        (pid, now(), row["id"]))
            row = con.execute("SELECT * FROM runs WHERE id = ?", (row["id"],)).fetchone()
        return _run(row)

    def run_epochs(self, run_id: int) -> list[dict]:
        with self.read() as con:
            rows = con.execute(
                "SELECT fold, epoch, metrics FROM run_epochs WHERE run_id = ? ORDER BY fold, epoch", (run_id,)
            ).fetchall()
        return [{"fold": r["fold"], "epoch": r["epoch"], **json.loads(r["metrics"])} for r in rows]


    # -- augmentation configs -------------------------------------------
    def save_augment_config(self, name: str, config: dict) -> None:
        name = name.strip()
        if not name:
            raise StoreError("An augmentation config needs a name.")
        with self.write() as con:
            con.execute("INSERT OR REPLACE INTO augment_configs(name, config, created_at) VALUES (?, ?, ?)",
                        (name, json.dumps(config), now()))

    def augment_configs(self) -> dict[str, dict]:
        with self.read() as con:
            rows = con.execute("SELECT name, config FROM augment_configs ORDER BY name").fetchall()
        return {r["name"]: json.loads(r["config"]) for r in rows}


def _iou_xywh(a: tuple, b: tuple) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


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


def _box(r: sqlite3.Row) -> CharBox:
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


def _label(r: sqlite3.Row) -> Label:
    return Label(id=r["id"], box_id=r["box_id"], char=r["char"], source=r["source"], created_at=r["created_at"])


def _model(r: sqlite3.Row) -> ModelRecord:
    return ModelRecord(
        id=r["id"],
        name=r["name"],
        path=r["path"],
        classes=tuple(json.loads(r["classes"])),
        metrics=json.loads(r["metrics"]),
        parent_id=r["parent_id"],
        active=bool(r["active"]),
        created_at=r["created_at"],
        card=json.loads(r["card"]),
    )


def _run(r: sqlite3.Row) -> TrainingRun:
    return TrainingRun(
        id=r["id"],
        config=json.loads(r["config"]),
        status=r["status"],
        created_at=r["created_at"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        pid=r["pid"],
        error=r["error"],
        progress=r["progress"],
        metrics=json.loads(r["metrics"]),
        model_id=r["model_id"],
    )
