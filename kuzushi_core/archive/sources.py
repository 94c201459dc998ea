"""What an archive run reads: SRC arguments → files → pages.

A page is named by its content, as in the workspace: the SHA-256 of its file's bytes and its index in the file.
A page moved to another folder or renamed is the same page (``--resume`` skips it); two copies of one file are
read once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kuzushi_core.errors import KuzushiError
from kuzushi_core.imaging import SUFFIX_FORMAT, Limits, PageFile
from kuzushi_core.store import sha256_bytes

#: what a folder is searched for (explicit file arguments are read whatever their name)
PAGE_SUFFIXES = frozenset(SUFFIX_FORMAT) - {".gif"}


@dataclass(frozen=True)
class PageTask:
    """One page to read; ``error`` is set when its file could not be opened (the page is then an error row)."""

    source: str
    page_index: int
    content_hash: str
    error: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.content_hash, self.page_index)

    def as_record(self) -> dict:
        """Plain values for a Ray batch (no None: a column of Nones has no type)."""
        return {**asdict(self), "error": self.error or ""}


def expand_sources(srcs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named, and the page files under folders named (recursively, sorted); a missing path is an error."""
    out: list[Path] = []
    for src in srcs:
        p = Path(src)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in PAGE_SUFFIXES
                              and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        elif p.is_file():
            out.append(p)
        else:
            raise KuzushiError(f"“{p}” is neither a file nor a folder.")
    return out


def plan_tasks(files: list[Path], limits: Limits | None = None,
               progress: Callable[[int], None] | None = None) -> Iterator[PageTask]:
    """One task per page of each file, in order; one error task for a file that cannot be read or opened.

    Files are read once here for their hash and page count (the header only: no page is decoded).
    Repeated content (the same file twice) is planned once.  ``progress(n)``: n files planned so far.
    """
    seen: set[str] = set()
    for i, path in enumerate(files):
        if progress:
            progress(i)
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield PageTask(str(path), 0, sha256_bytes(str(path).encode()), f"“{path}” cannot be read: {exc.strerror or exc}.")
            continue
        digest = sha256_bytes(data)
        if digest in seen:
            continue
        seen.add(digest)
        try:
            with PageFile(data, path.name, limits) as pf:
                n = len(pf)
        except KuzushiError as exc:
            yield PageTask(str(path), 0, digest, str(exc))
            continue
        for k in range(n):
            yield PageTask(str(path), k, digest)
    if progress:
        progress(len(files))


class PageOpener:
    """Decodes task pages, keeping the last file open: the pages of a multi-page file are read in one pass."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits
        self._path: str | None = None
        self._file: PageFile | None = None

    def image(self, task: PageTask):
        if self._path != task.source:
            self.close()
            data = Path(task.source).read_bytes()
            if sha256_bytes(data) != task.content_hash:
                raise KuzushiError(f"“{task.source}” changed since the run was planned; read it again.")
            self._file, self._path = PageFile(data, Path(task.source).name, self.limits), task.source
        assert self._file is not None
        return self._file.page(task.page_index).image

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._path = None
