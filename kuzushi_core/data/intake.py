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

from kuzushi_core.containers import ImportResult, Scan
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.scoring import match_iou, read_codh_csv, read_kaggle_csv
from kuzushi_core.imaging import Limits, decode_pages, read_image, thumbnail_jpeg
from kuzushi_core.store import Store, sha256_bytes


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
        return ImportResult(source_name=source_name,
                            duplicates=tuple(s for s in store.list_scans() if s.content_hash == digest))
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
    path = store.path_of(_thumb_rel(scan.image_path))
    if not path.exists():
        store.write_file(_thumb_rel(scan.image_path), thumbnail_jpeg(read_image(store.scan_path(scan))))
    return path


def import_annotations(store: Store, scan: Scan, data: bytes, source_name: str = "annotations.csv",
                       source: str = "import", labelled_by: str = "") -> dict[str, int]:
    """Labels from a CODH coordinate CSV (or Kaggle train.csv) for one scan, with source ``import`` (``user`` from
    ``import-labels``: a historian's own labels made elsewhere).

    Each true box is matched to a stored box (IoU ≥ 0.5) and labels it; a true box
    without a match is added as a ``user`` box with its label.  When the file holds
    several images, the one named like the scan (without extension) is used, else
    the only one.  A label a person gave is never overwritten.
    """
    import tempfile

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
    return apply_annotations(store, scan, gt, source, labelled_by)


def apply_annotations(store: Store, scan: Scan, gt: list, source: str = "import",
                      labelled_by: str = "") -> dict[str, int]:
    """True boxes (:class:`~kuzushi_core.evaluation.scoring.TrueBox`) of one scan as labels: each matched to a stored box
    (IoU ≥ 0.5), the others added as boxes; a label a person gave is never overwritten."""
    import numpy as np

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
        store.add_label(b.id, gt[gi].char, source=source, labelled_by=labelled_by)
        n_labelled += 1
    missing = [g for i, g in enumerate(gt) if i not in matched]
    if missing:
        before = {b.id for b in store.list_boxes(scan.id)}
        added = store.edit_boxes(scan.id, add=[(g.x, g.y, g.w, g.h) for g in missing])
        new = [b for b in added if b.id not in before]
        for b in new:
            g = min(missing, key=lambda m: abs(m.x - b.x) + abs(m.y - b.y))
            store.add_label(b.id, g.char, source=source, labelled_by=labelled_by)
    return {"labelled": n_labelled, "added_boxes": len(missing), "kept_user_labels": n_kept, "true_boxes": len(gt)}


def _read_annotation_pages(path: Path) -> dict:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KuzushiError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    try:
        head = data[:200].decode("utf-8-sig")
        pages = read_kaggle_csv(path) if head.startswith("image_id") else read_codh_csv(path)
    except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise KuzushiError(f"{path.name} is not a CODH coordinate CSV or Kaggle train.csv ({exc}).") from exc
    if not pages:
        raise KuzushiError(f"{path.name} holds no annotated characters.")
    return pages


def import_label_files(store: Store, paths: list[Path], labelled_by: str = "") -> list[dict]:
    """``import-labels``: CODH coordinate CSVs as boxes and user labels, each page matched to the workspace's scans
    by file name stem.  Every file is read and every page matched before anything is written: a page that matches
    no scan (or several) is an error naming it, and nothing is imported."""
    by_stem: dict[str, list[Scan]] = {}
    for scan in store.list_scans():
        by_stem.setdefault(Path(scan.source_name).stem, []).append(scan)
    plan, errors = [], []
    for path in paths:
        pages = _read_annotation_pages(Path(path))
        for stem, boxes in pages.items():
            scans = by_stem.get(stem, [])
            if len(scans) != 1:
                errors.append(f"{Path(path).name}: {len(boxes)} rows of page {stem!r} match "
                              f"{'no scan' if not scans else f'{len(scans)} scans'}")
                continue
            plan.append((Path(path), stem, scans[0], len(boxes)))
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise KuzushiError("; ".join(errors[:3]) + more + "; nothing was imported (scan names: "
                           + ", ".join(sorted(by_stem)[:5]) + ("…" if len(by_stem) > 5 else "") + ")")
    out = []
    for path, stem, scan, _n in plan:
        res = apply_annotations(store, scan, _read_annotation_pages(path)[stem], source="user",
                                labelled_by=labelled_by)
        out.append({"file": path.name, "page": stem, "scan": scan.id, **res})
    return out

