"""Labels: append-only, the latest label of a box is its label; box flags."""

from __future__ import annotations

import sqlite3

from kuzushi_core.containers import CharBox, Label
from kuzushi_core.errors import NotFoundError, StoreError
from kuzushi_core.store.base import StoreBase
from kuzushi_core.store.pages import box_from_row
from kuzushi_core.store.schema import now, person_name


class LabelsMixin(StoreBase):
    # -- labels ------------------------------------------------------------
    def add_label(self, box_id: int, char: str, source: str = "user", labelled_by: str = "") -> Label:
        """Append a label (the box's label from now on), with the name of the person who gave it."""
        char = char.strip()
        if not char:
            raise StoreError("A label needs a character.")
        with self.write() as con:
            cur = con.execute(
                "INSERT INTO labels(box_id, char, source, created_at, labelled_by) VALUES (?, ?, ?, ?, ?)",
                (box_id, char, source, now(), person_name(labelled_by)),
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
        """Flags of a box, space-separated words, e.g. ``excluded`` (kept on the page, left out of training and
        evaluation)."""
        with self.write() as con:
            con.execute("UPDATE boxes SET flags = ? WHERE id = ?", (" ".join(flags.split()), box_id))

    def add_box_flag(self, box_id: int, flag: str) -> None:
        """Add one flag word to a box (in the same transaction as reading its flags)."""
        with self.write() as con:
            row = con.execute("SELECT flags FROM boxes WHERE id = ?", (box_id,)).fetchone()
            if row is None:
                raise NotFoundError(f"There is no box #{box_id}.")
            words = row["flags"].split()
            if flag not in words:
                con.execute("UPDATE boxes SET flags = ? WHERE id = ?", (" ".join([*words, flag]), box_id))

    def get_box(self, box_id: int) -> CharBox:
        with self.read() as con:
            row = con.execute("SELECT * FROM boxes WHERE id = ?", (box_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no box #{box_id} in this workspace.")
        return box_from_row(row)

    def label_counts(self) -> dict[str, int]:
        """Current labels per character over the workspace (boxes flagged ``excluded`` left out)."""
        with self.read() as con:
            rows = con.execute(
                "SELECT l.char AS c, COUNT(*) AS n FROM labels l JOIN boxes b ON b.id = l.box_id"
                " WHERE l.id = (SELECT MAX(id) FROM labels WHERE box_id = l.box_id) AND (' ' || b.flags || ' ') NOT LIKE '% excluded %'"
                " GROUP BY l.char ORDER BY n DESC, l.char"
            ).fetchall()
        return {r["c"]: r["n"] for r in rows}

    def label_history(self, box_id: int) -> list[Label]:
        with self.read() as con:
            rows = con.execute("SELECT * FROM labels WHERE box_id = ? ORDER BY id", (box_id,)).fetchall()
        return [_label(r) for r in rows]

    def label_people(self, scan_id: int | None = None) -> dict[int, tuple[str, tuple[str, ...]]]:
        """Who stands behind each box's current label: (the person who first gave that character, the others who
        gave the same character after them — a review's confirmations). A confirmation appends a label like any
        other; it does not make the reviewer the author."""
        sql = "SELECT l.box_id, l.char, l.labelled_by FROM labels l"
        args: tuple = ()
        if scan_id is not None:
            sql += " JOIN boxes b ON b.id = l.box_id WHERE b.scan_id = ?"
            args = (scan_id,)
        with self.read() as con:
            rows = con.execute(sql + " ORDER BY l.box_id, l.id", args).fetchall()
        runs: dict[int, tuple[str, list[str]]] = {}  # box -> (char, names of the trailing run of that char)
        for r in rows:
            char, names = runs.get(r["box_id"], ("", []))
            if r["char"] != char:
                char, names = r["char"], []
            names.append(r["labelled_by"])
            runs[r["box_id"]] = (char, names)
        out = {}
        for box_id, (_, names) in runs.items():
            later = tuple(dict.fromkeys(n for n in names[1:] if n and n != names[0]))
            out[box_id] = (names[0], later)
        return out

    def labellers(self, people: dict[int, tuple[str, tuple[str, ...]]] | None = None) -> dict[str, int]:
        """Every author of a current label (:meth:`label_people`, or ``people`` already read) and how many they
        gave ('' = no one named), most first."""
        counts: dict[str, int] = {}
        for author, _ in (self.label_people() if people is None else people).values():
            counts[author] = counts.get(author, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def count_labels(self) -> int:
        with self.read() as con:
            return con.execute("SELECT COUNT(*) FROM labels").fetchone()[0]


def _label(r: sqlite3.Row) -> Label:
    return Label(id=r["id"], box_id=r["box_id"], char=r["char"], source=r["source"], created_at=r["created_at"],
                 labelled_by=r["labelled_by"])
