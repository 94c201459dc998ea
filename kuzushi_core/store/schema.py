"""The workspace's schema: the SQL migrations (``PRAGMA user_version`` counts those applied) and small helpers."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

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
    # 5 -> 6: the ``classes`` table is dropped: nothing wrote or read it (a model's classes live in its card and
    # in ``models.classes``; the user's new classes are the labels they type).
    """
    DROP TABLE IF EXISTS classes;
    """,
    # 6 -> 7: who did it: the name of the person (chosen per browser session, or ``--by`` on the CLI) with every
    # label, field edit and training run; '' where no one was named (everything before this migration).
    """
    ALTER TABLE labels ADD COLUMN labelled_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE field_edits ADD COLUMN edited_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE runs ADD COLUMN started_by TEXT NOT NULL DEFAULT '';
    CREATE INDEX labels_by ON labels(labelled_by);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def now() -> str:
    """The current time as an ISO 8601 UTC string with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


MAX_NAME = 40


def person_name(name: str | None) -> str:
    """A person's name as stored with what they did: whitespace collapsed, at most ``MAX_NAME`` characters, ''
    for no one (there are no accounts: the app serves localhost, a name is a courtesy between colleagues)."""
    return " ".join((name or "").split())[:MAX_NAME]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def default_workspace() -> Path:
    """``$KUZUSHI_WORKSPACE`` if set, else ``./workspace``."""
    return Path(os.environ.get("KUZUSHI_WORKSPACE") or "workspace").resolve()


def split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
