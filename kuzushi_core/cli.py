"""Command-line interface: ``python -m kuzushi_core COMMAND ...``.

The commands and their output formats are a contract (outside checks call
them exactly so): extend them, never rename them.  Bad input ends with a
one-line message on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import KuzushiError
from .store import DEFAULT_DOCUMENT, Store, default_workspace


def _workspace_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="workspace folder (default: $KUZUSHI_WORKSPACE or ./workspace)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kuzushi_core",
        description="Kuzushi Lab: read handwritten Japanese ledgers (kuzushiji) into data.",
    )
    parser.add_argument("--version", action="version", version=f"kuzushi-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import scans (JPEG, PNG, TIFF, BMP, WebP, PDF) into a workspace")
    _workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE", type=Path)
    p.add_argument("--document", default=DEFAULT_DOCUMENT, help="document (ledger volume) to file them under")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("scans", help="list the scans of a workspace")
    _workspace_arg(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_scans)
    return parser


def _open_store(args: argparse.Namespace, create: bool = True) -> Store:
    return Store(args.workspace or default_workspace(), create=create)


def cmd_import(args: argparse.Namespace) -> int:
    from .intake import import_paths

    store = _open_store(args)
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
                print(f"imported {r.source_name}: scan {ids} ({r.scans[0].width}×{r.scans[0].height})")
            elif r.ok:
                ids = ", ".join(f"#{s.id}" for s in r.duplicates)
                print(f"already in the workspace: {r.source_name} (scan {ids})")
    for r in failed:
        print(f"error: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_scans(args: argparse.Namespace) -> int:
    store = _open_store(args, create=False)
    docs = {d.id: d.name for d in store.list_documents()}
    scans = store.list_scans()
    if args.json:
        rows = [
            {
                "id": s.id,
                "document": docs.get(s.document_id, ""),
                "source_name": s.source_name,
                "page": s.page_index + 1,
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
            f"{s.id:>5}  {docs.get(s.document_id, '')[:20]:<20} {s.page_index + 1:>4}  "
            f"{f'{s.width}×{s.height}':>11}  {s.format:<6} {s.source_name}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KuzushiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "), file=sys.stderr)
        return 1
