"""The workspace's connections (one per operation, WAL, ``BEGIN IMMEDIATE`` writes), migrations, files and settings."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kuzushi_core.errors import WorkspaceError
from kuzushi_core.store.schema import DB_NAME, FILES_DIR, MIGRATIONS, SCHEMA_VERSION, now, sha256_bytes, split_sql


class StoreBase:
    """Opening a workspace (creating and migrating it as needed), its connections, files and settings."""

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

    # -- connections -------------------------------------------------------
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
                for statement in split_sql(MIGRATIONS[i]):
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

    # -- files -------------------------------------------------------------
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

    # -- settings ----------------------------------------------------------
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
