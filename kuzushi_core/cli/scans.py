"""Scans in and out of a workspace: ``import``, ``scans``, ``import-labels``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kuzushi_core.cli.util import open_store, workspace_arg
from kuzushi_core.data.intake import import_label_files, import_paths
from kuzushi_core.store import DEFAULT_DOCUMENT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import scans (JPEG, PNG, TIFF, BMP, WebP, PDF) into a workspace")
    workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE", type=Path)
    p.add_argument("--document", default=DEFAULT_DOCUMENT, help="document (ledger volume) to file them under")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("scans", help="list the scans of a workspace")
    workspace_arg(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_scans)

    p = sub.add_parser("import-labels", help="import CODH coordinate CSVs as boxes and user labels, pages matched to "
                                             "the workspace's scans by file name stem")
    workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="CSV", type=Path)
    p.add_argument("--by", default="", metavar="NAME", help="the name recorded with the labels (labelled_by)")
    p.set_defaults(func=cmd_import_labels)


def cmd_import(args: argparse.Namespace) -> int:
    store = open_store(args)
    doc = store.ensure_document(args.document)
    results = import_paths(store, args.files, doc.id)
    failed = [r for r in results if not r.ok]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "file": r.source_name,
                        "scans": [s.id for s in r.scans],
                        "pages": [s.page_no for s in r.scans],
                        "duplicates": [s.id for s in r.duplicates],
                        "error": r.error,
                    }
                    for r in results
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        for r in results:
            if r.ok and r.scans:
                ids = ", ".join(f"#{s.id}" for s in r.scans)
                pages = ", ".join(str(s.page_no) for s in r.scans)
                print(f"imported {r.source_name}: scan {ids}, page {pages} of {doc.name} "
                      f"({r.scans[0].width}×{r.scans[0].height})")
            elif r.ok:
                ids = ", ".join(f"#{s.id}" for s in r.duplicates)
                print(f"already in the workspace: {r.source_name} (scan {ids})")
    for r in failed:
        print(f"error: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_scans(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    docs = {d.id: d.name for d in store.list_documents()}
    scans = store.list_scans()
    if args.json:
        rows = [
            {
                "id": s.id,
                "document": docs.get(s.document_id, ""),
                "source_name": s.source_name,
                "page": s.page_no,
                "page_in_file": s.page_index + 1,
                "width": s.width,
                "height": s.height,
                "format": s.format,
                "bytes": s.byte_size,
                "sha256": s.content_hash,
                "created_at": s.created_at,
            }
            for s in scans
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not scans:
        print("no scans in this workspace")
        return 0
    print(f"{'id':>5}  {'document':<20} {'page':>4}  {'size':>11}  {'format':<6} source")
    for s in scans:
        print(
            f"{s.id:>5}  {docs.get(s.document_id, '')[:20]:<20} {s.page_no:>4}  "
            f"{f'{s.width}×{s.height}':>11}  {s.format:<6} {s.source_name}"
        )
    return 0


def cmd_import_labels(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    for r in import_label_files(store, args.files, labelled_by=args.by):
        print(f"{r['file']}: page {r['page']} → scan #{r['scan']}: {r['labelled']} boxes labelled, "
              f"{r['added_boxes']} boxes added, {r['kept_user_labels']} user labels kept")
    return 0
