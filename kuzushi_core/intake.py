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


def import_annotations(store: Store, scan: Scan, data: bytes, source_name: str = "annotations.csv") -> dict[str, int]:
    """Labels from a CODH coordinate CSV (or Kaggle train.csv) for one scan, with source ``import``.

    Each true box is matched to a stored box (IoU ≥ 0.5) and labels it; a true box
    without a match is added as a ``user`` box with its label.  When the file holds
    several images, the one named like the scan (without extension) is used, else
    the only one.  A label a person gave is never overwritten.
    """
    import tempfile

    import numpy as np

    from .scoring import match_iou, read_codh_csv, read_kaggle_csv

    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            head = data[:200].decode("utf-8-sig", errors="replace")
            pages = read_kaggle_csv(tmp.name) if head.startswith("image_id") else read_codh_csv(tmp.name)
        except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise KuzushiError(f"{source_name} is not a CODH coordinate CSV or Kaggle train.csv ({exc}).") from exc
    if not pages:
        raise KuzushiError(f"{source_name} holds no annotated characters.")
    stem = Path(scan.source_name).stem
    gt = pages.get(stem) or (next(iter(pages.values())) if len(pages) == 1 else None)
    if gt is None:
        raise KuzushiError(f"{source_name} has no page named {stem} (it has {', '.join(sorted(pages)[:5])}).")
    boxes = store.list_boxes(scan.id)
    existing = store.current_labels(scan.id)
    pairs = match_iou(np.array([[g.x, g.y, g.w, g.h] for g in gt]),
                      np.array([[b.x, b.y, b.w, b.h] for b in boxes]).reshape(-1, 4))
    matched = {gi for gi, _ in pairs}
    n_labelled = n_kept = 0
    for gi, pi in pairs:
        b = boxes[pi]
        if b.id in existing and existing[b.id].source == "user":
            n_kept += 1
            continue
        store.add_label(b.id, gt[gi].char, source="import")
        n_labelled += 1
    missing = [g for i, g in enumerate(gt) if i not in matched]
    if missing:
        before = {b.id for b in store.list_boxes(scan.id)}
        added = store.edit_boxes(scan.id, add=[(g.x, g.y, g.w, g.h) for g in missing])
        new = [b for b in added if b.id not in before]
        for b in new:
            g = min(missing, key=lambda m: abs(m.x - b.x) + abs(m.y - b.y))
            store.add_label(b.id, g.char, source="import")
    return {"labelled": n_labelled, "added_boxes": len(missing), "kept_user_labels": n_kept, "true_boxes": len(gt)}
