"""The result of an archive run: a Parquet dataset, one row per character, one per page that failed.

Rows are written in part files of whole pages: a part is written under a hidden temporary name and renamed into
place, so a killed run leaves whole pages or nothing of a page.  Each part's footer (Parquet key-value metadata)
lists the pages it holds, blank pages included, so ``--resume`` finds what is done without reading rows.  The
folder is a plain Parquet dataset: ``pandas.read_parquet(DIR)``, pyarrow, DuckDB, Spark read it as it is
(hidden and ``_``-prefixed files are ignored by all of them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kuzushi_core.archive.stages import PageResult
from kuzushi_core.errors import KuzushiError

CANDIDATE = pa.struct([("label", pa.string()), ("score", pa.float64())])

#: the dataset's columns, in order (the contract of ``read-archive``; new columns go at the end)
SCHEMA = pa.schema([
    ("source", pa.string()),
    ("page_index", pa.int32()),
    ("page_width", pa.int32()),
    ("page_height", pa.int32()),
    ("x", pa.int32()),
    ("y", pa.int32()),
    ("w", pa.int32()),
    ("h", pa.int32()),
    ("column", pa.int32()),
    ("order", pa.int32()),
    ("label", pa.string()),
    ("confidence", pa.float64()),
    ("candidates", pa.list_(CANDIDATE)),
    ("model_version", pa.string()),
    ("error", pa.string()),
    ("content_hash", pa.string()),
])

#: ``read-archive --ledger``: the second table, one row a field of each lot (lot 0: the page's written totals), one
#: row with ``error`` for a page where no form or no headings were found; in ``DIR/_lots`` (a ``_`` folder, which
#: readers of DIR's own dataset skip), each part named like the characters' part that holds the same pages
LOTS_DIR = "_lots"
LOTS_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("page_index", pa.int32()),
    ("lot", pa.int32()),
    ("field", pa.string()),
    ("heading", pa.string()),
    ("text", pa.string()),
    ("value", pa.string()),
    ("unit", pa.string()),
    ("flag", pa.string()),
    ("model_version", pa.string()),
    ("error", pa.string()),
    ("content_hash", pa.string()),
])

PAGES_KEY = b"kuzushi.pages"
MODEL_KEY = b"kuzushi.model_version"


def page_rows(r: PageResult) -> list[dict]:
    base = {"source": r.task.source, "page_index": r.task.page_index, "page_width": r.width,
            "page_height": r.height, "model_version": r.model_version, "content_hash": r.task.content_hash}
    if r.error:
        return [{**base, "error": r.error}]
    return [{**base, **{k: c[k] for k in ("x", "y", "w", "h", "column", "order", "label", "confidence",
                                            "candidates")}, "error": None} for c in r.chars]


def part_files(folder: Path) -> list[Path]:
    """The dataset's finished part files (a killed run's hidden temporaries are not among them)."""
    return sorted(p for p in folder.glob("part-*.parquet") if p.is_file())


def done_pages(folder: str | os.PathLike[str]) -> dict[tuple[str, int], str]:
    """(content hash, page index) → model version of every page already written in the folder."""
    done: dict[tuple[str, int], str] = {}
    for part in part_files(Path(folder)):
        try:
            meta = pq.read_schema(part).metadata or {}
            pages = json.loads(meta[PAGES_KEY])
            version = meta.get(MODEL_KEY, b"").decode()
        except Exception as exc:  # noqa: BLE001 - a part we did not write
            raise KuzushiError(f"{part} is not a part file of a Kuzushi Lab archive run ({exc}).") from exc
        for h, i in pages:
            done[(h, int(i))] = version
    return done


class PartWriter:
    """Collects whole pages and writes them a part file at a time."""

    def __init__(self, folder: str | os.PathLike[str], model_version: str, pages_per_part: int = 32,
                 rows_per_part: int = 50_000, lots: bool = False):
        self.lots_folder = Path(folder) / LOTS_DIR if lots else None
        self._lots: list[dict] = []
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.version = model_version
        self.pages_per_part, self.rows_per_part = pages_per_part, rows_per_part
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        self._seq = 0
        self._rows: list[dict] = []
        self._pages: list[list] = []  # [source, page_index] of the pages in the part being collected
        self.parts: list[Path] = []

    def add(self, result: PageResult) -> None:
        self._rows += page_rows(result)
        if self.lots_folder is not None:
            base = {"source": result.task.source, "page_index": result.task.page_index,
                    "model_version": result.model_version, "content_hash": result.task.content_hash}
            rows = result.lots or ([{"error": result.error}] if result.error else [])
            self._lots += [{**base, **r} for r in rows]
        self._pages.append(list(result.task.key))
        if len(self._pages) >= self.pages_per_part or len(self._rows) >= self.rows_per_part:
            self.flush()

    def flush(self) -> None:
        if not self._pages:
            return
        meta = {PAGES_KEY: json.dumps(self._pages).encode(), MODEL_KEY: self.version.encode()}
        table = pa.Table.from_pylist(self._rows, schema=SCHEMA.with_metadata(meta))
        name = f"part-{self.run}-{self._seq:05d}.parquet"
        if self.lots_folder is not None:  # first the lots: the characters' part is what marks the pages done
            self.lots_folder.mkdir(exist_ok=True)
            _write_atomic(pa.Table.from_pylist(self._lots, schema=LOTS_SCHEMA.with_metadata(meta)),
                          self.lots_folder / name)
            self._lots = []
        _write_atomic(table, self.folder / name)
        self.parts.append(self.folder / name)
        self._seq += 1
        self._rows, self._pages = [], []

    def close(self) -> None:
        self.flush()


def read_dataset(folder: str | os.PathLike[str]):
    """The dataset as a pandas DataFrame (every part; temporary files of a killed run left out)."""
    parts = part_files(Path(folder))
    if not parts:
        raise KuzushiError(f"{folder} holds no archive results (part-*.parquet).")
    return to_pandas(pa.concat_tables([pq.read_table(p, schema=SCHEMA) for p in parts]))


def to_pandas(table: pa.Table):
    """Integers stay integers where an error row leaves them null (pandas' nullable Int32)."""
    import pandas as pd

    return table.to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)


def _write_atomic(table: pa.Table, path: Path) -> None:
    """Write a part under a hidden temporary name, flush it to disk, then rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def clean_temporaries(folder: Path) -> int:
    """Remove what a killed run left behind: temporary part files, and lots parts whose characters' part was never
    written (their pages are read again); how many."""
    n = 0
    for tmp in [*folder.glob(".part-*.parquet.tmp"), *(folder / LOTS_DIR).glob(".part-*.parquet.tmp")]:
        tmp.unlink(missing_ok=True)
        n += 1
    for orphan in (folder / LOTS_DIR).glob("part-*.parquet"):
        if not (folder / orphan.name).exists():
            orphan.unlink(missing_ok=True)
            n += 1
    return n


def read_lots(folder: str | os.PathLike[str]):
    """The lots table of a ``--ledger`` run as a pandas DataFrame."""
    parts = sorted((Path(folder) / LOTS_DIR).glob("part-*.parquet"))
    if not parts:
        raise KuzushiError(f"{folder} holds no lots (was it read with --ledger?).")
    return to_pandas(pa.concat_tables([pq.read_table(p, schema=LOTS_SCHEMA) for p in parts]))
