"""Data out: ``export``."""

from __future__ import annotations

import argparse
from pathlib import Path

from kuzushi_core.cli.util import open_store, workspace_arg
from kuzushi_core.data import export
from kuzushi_core.errors import KuzushiError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a workspace's readings and labels (CSV, JSON, text, PAGE XML, npz, crops)"
                                      " or the lots of its register pages")
    workspace_arg(p)
    p.add_argument("--format", required=True, choices=export.FORMATS)
    p.add_argument("--out", required=True, type=Path, metavar="PATH",
                   help="the file to write (for pagexml: a folder, one .xml per page; for lots: .csv, or .json)")
    p.add_argument("--document", default=None, help="only this document (by name)")
    p.add_argument("--scan", type=int, action="append", default=None, metavar="ID", help="only these scans")
    p.add_argument("--excel", action="store_true",
                   help="CSV for Excel: a byte-order mark first (Excel on Japanese Windows then reads UTF-8)")
    p.add_argument("--wide", action="store_true", help="lots: one row a lot, one column a field (default: a row a field)")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    doc_id = None
    if args.document is not None:
        docs = {d.name: d.id for d in store.list_documents()}
        if args.document not in docs:
            raise KuzushiError(f"there is no document named {args.document!r} (there are: {', '.join(docs)})")
        doc_id = docs[args.document]
    scans = export.select_scans(store, doc_id, args.scan)
    out: Path = args.out
    lots_as = "json" if out.suffix.lower() == ".json" else "wide" if args.wide else "csv"
    result = export.export_file(store, scans, args.format, store.active_model(), out.stem, lots_as=lots_as,
                                excel=args.excel)
    c = result.counts
    if args.format == "pagexml":  # a folder, one .xml per page
        out.mkdir(parents=True, exist_ok=True)
        for name, data in result.members.items():
            (out / name).write_bytes(data)
        print(f"{len(result.members)} PAGE XML files → {out}")
        return 0
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(result.data)
    tmp.replace(out)  # a finished file or none
    if args.format == "lots":
        print(f"{c['lots']} lots ({c['rows']} fields) of {c['pages']} pages → {out}")
    elif args.format == "xlsx":
        print(f"{c['rows']} characters of {c['pages']} pages" + (f", {c['lots']} lots" if c["lots"] else "")
              + f" → {out}")
    elif args.format in ("npz", "crops"):
        print(f"{c['crops']} labelled crops → {out}")
    else:
        print(f"{c['rows']} characters of {c['pages']} pages → {out}")
    return 0
