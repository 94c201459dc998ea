"""Scan intake: uploaded bytes → validated pages → workspace.

One function serves the Scans page and the CLI, so both accept and refuse
exactly the same files with the same messages.  Nothing is half-stored: all
pages of a file are decoded (and refused as a whole if one is bad) before
anything is written; files are written before the single transaction that
records them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import KuzushiError
from .imaging import Limits, decode_pages, thumbnail_jpeg
from .records import ImportResult, Scan
from .store import Store, sha256_bytes


def import_bytes(
    store: Store,
    data: bytes,
    source_name: str,
    document_id: int,
    limits: Limits | None = None,
) -> ImportResult:
    """Import one file; errors come back in the result, never as an exception."""
    digest = sha256_bytes(data)
    known = store.find_scan(digest, 0)
    if known is not None:
        dups = tuple(s for s in store.list_scans() if s.content_hash == digest)
        return ImportResult(source_name=source_name, duplicates=dups)
    try:
        pages = decode_pages(data, source_name, limits)
    except KuzushiError as exc:
        return ImportResult(source_name=source_name, error=str(exc))
    rows = []
    for page in pages:
        rel = store.put_file(page.encoded, page.suffix, kind="scans")
        store.write_file(_thumb_rel(rel), thumbnail_jpeg(page.image))
        rows.append(
            {
                "content_hash": digest,
                "page_index": page.page_index,
                "source_name": source_name,
                "byte_size": len(data),
                "width": page.width,
                "height": page.height,
                "format": page.format,
                "image_path": rel,
            }
        )
    new, dups = store.add_scans(document_id, rows)
    return ImportResult(source_name=source_name, scans=tuple(new), duplicates=tuple(dups))


def import_paths(
    store: Store,
    paths: Iterable[str | Path],
    document_id: int,
    limits: Limits | None = None,
    progress: Callable[[int, int, ImportResult], None] | None = None,
) -> list[ImportResult]:
    paths = list(paths)
    results = []
    for i, p in enumerate(paths):
        p = Path(p)
        try:
            data = p.read_bytes()
        except OSError as exc:
            result = ImportResult(source_name=p.name, error=f"“{p}” cannot be read: {exc.strerror or exc}.")
        else:
            result = import_bytes(store, data, p.name, document_id, limits)
        results.append(result)
        if progress:
            progress(i + 1, len(paths), result)
    return results


def _thumb_rel(image_rel: str) -> str:
    return f"thumbs/{Path(image_rel).name}.jpg"


def thumbnail_path(store: Store, scan: Scan) -> Path:
    """The stored thumbnail of a scan, made again if it went missing."""
    from .imaging import read_image

    path = store.path_of(_thumb_rel(scan.image_path))
    if not path.exists():
        store.write_file(_thumb_rel(scan.image_path), thumbnail_jpeg(read_image(store.scan_path(scan))))
    return path
