"""The workspace store: one SQLite database plus a folder of files.

The store is the single source of truth of Kuzushi Lab.  A workspace folder
holds::

    kuzushi.sqlite      documents, scans, boxes, labels, runs, models, templates
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

Layout: one module a group of tables, each a mixin of :class:`Store` —
:mod:`.schema` (migrations), :mod:`.base` (connections, files, settings), :mod:`.pages` (documents, scans,
boxes), :mod:`.labels`, :mod:`.models` (model versions, predictions), :mod:`.runs` (training runs, augmentation
configs), :mod:`.ledger` (templates, cells, field edits).
"""

from __future__ import annotations

from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.labels import LabelsMixin
from kuzushi_core.store.ledger import LedgerMixin
from kuzushi_core.store.models import ModelsMixin
from kuzushi_core.store.pages import PagesMixin
from kuzushi_core.store.runs import RunsMixin
from kuzushi_core.store.schema import (
    DB_NAME,
    DEFAULT_DOCUMENT,
    FILES_DIR,
    MIGRATIONS,
    SCHEMA_VERSION,
    default_workspace,
    now,
    person_name,
    sha256_bytes,
    split_sql,
)


class Store(PagesMixin, LabelsMixin, ModelsMixin, RunsMixin, LedgerMixin, StoreBase):
    """A workspace: ``Store(path)`` opens it, creating and migrating as needed."""


__all__ = ["DB_NAME", "DEFAULT_DOCUMENT", "FILES_DIR", "MIGRATIONS", "SCHEMA_VERSION", "Store", "person_name", "split_sql",
           "default_workspace", "now", "sha256_bytes"]
