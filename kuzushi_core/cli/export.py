"""Data out: ``export``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kuzushi_core.cli.util import open_store, workspace_arg
from kuzushi_core.data import export
from kuzushi_core.errors import KuzushiError
from kuzushi_core.ledger.workspace import LOT_COLUMNS, document_lots


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a workspace's readings and labels (CSV, JSON, text, PAGE XML, npz, crops)"
                                      " or the lots of its register pages")
    workspace_arg(p)
    p.add_argument("--format", required=True, choices=["csv", "json", "text", "pagexml", "npz", "crops", "lots"])
    p.add_argument("--out", required=True, type=Path, metavar="PATH",
                   help="the file to write (for pagexml: a folder, one .xml per page; for lots: .csv, or .json)")
    p.add_argument("--document", default=None, help="only this document (by name)")
    p.add_argument("--scan", type=int, action="append", default=None, metavar="ID", help="only these scans")
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
    if not scans:
        raise KuzushiError("no scans to export")
    model = store.active_model()
    out: Path = args.out
    if args.format == "lots":
        wanted = {s.id for s in scans}
        rows = [r for r in document_lots(store, doc_id) if r["scan_id"] in wanted]
        if not rows:
            raise KuzushiError("no page of these scans was read in ledger mode (the Ledger page, with a template)")
        if out.suffix.lower() == ".json":
            out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            import csv
            import io

            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(LOT_COLUMNS))
            w.writeheader()
            w.writerows(rows)
            out.write_text(buf.getvalue(), encoding="utf-8")
        lots = len({(r["scan_id"], r["lot"]) for r in rows})
        print(f"{lots} lots ({len(rows)} fields) of {len({r['scan_id'] for r in rows})} pages → {out}")
        return 0
    if args.format in ("npz", "crops"):
        items = export.labelled_crops(store, scans)
        data = export.to_seed_npz(items) if args.format == "npz" else export.to_crops_zip(items)
        out.write_bytes(data)
        print(f"{len(items)} labelled crops → {out}")
        return 0
    pages = export.page_rows(store, scans, model)
    if args.format == "pagexml":
        out.mkdir(parents=True, exist_ok=True)
        for pg in pages:
            (out / f"{pg.scan.id}-{Path(pg.scan.source_name).stem}.xml").write_text(export.to_page_xml(pg),
                                                                                  encoding="utf-8")
        print(f"{len(pages)} PAGE XML files → {out}")
        return 0
    rows = [r for pg in pages for r in pg.rows]
    text = {"csv": lambda: export.to_csv(rows), "json": lambda: export.to_json(pages, model),
            "text": lambda: export.to_text(pages)}[args.format]()
    out.write_text(text, encoding="utf-8")
    print(f"{len(rows)} characters of {len(pages)} pages → {out}")
    return 0
