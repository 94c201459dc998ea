"""The archive commands of ``python -m kuzushi_core`` (a command group, registered by :mod:`kuzushi_core.cli`).

Contracts (outside checks call them exactly so):

- ``read-archive SRC... --out DIR [--engine local|ray] [--address ADDR] [--workers N] [--model PATH] [--resume]``
  writes a Parquet dataset in DIR, one row per character (``source, page_index, page_width, page_height, x, y, w,
  h, column, order, label, confidence, candidates, model_version``, then ``error, content_hash``) and one row per
  page that failed (``label`` null, ``error`` set); progress with pages/s and ETA on stderr; a summary line on
  stdout.  Exit 0 when every page was read or recorded as failed.
- ``read-archive … --ledger [--template FILE]`` also reads each page as a register (what ``read-ledger`` reads) and
  writes the lots as a second Parquet table in ``DIR/_lots`` (``source, page_index, lot, field, heading, text,
  value, unit, flag, model_version, error, content_hash``; lot 0: the page's written totals; one row with
  ``error`` for a page with no form or no headings), each part named like the characters' part of the same pages.
- ``import-results DIR --workspace WS [--document NAME] [--model PATH]`` brings such a run into a workspace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kuzushi_core.archive.engines import ENGINES, read_archive, shutdown_ray
from kuzushi_core.archive.results import import_results
from kuzushi_core.cli.util import open_store, workspace_arg, write_json
from kuzushi_core.errors import KuzushiError
from kuzushi_core.ledger.templates import Template
from kuzushi_core.paths import MODELS_DIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("read-archive", help="read many page files (folders, PDFs, multi-page TIFFs) into Parquet")
    p.add_argument("srcs", nargs="+", metavar="SRC", type=Path, help="image files, folders (recursively), PDFs")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder of the Parquet dataset")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: this process (default); ray: Ray Data stages, locally or on a cluster")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="a Ray cluster to join (ray start --head prints it; 'auto' finds a local one)")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="Ray: actors per stage (default 2)")
    p.add_argument("--model", type=Path, default=None, help="a .keras model with its .json card "
                                                             "(default: models/default.keras)")
    p.add_argument("--resume", action="store_true", help="skip the pages already in DIR (by content hash)")
    p.add_argument("--part-pages", type=int, default=32, metavar="N",
                   help="pages per Parquet part file (a killed run loses at most the part being collected)")
    p.add_argument("--json", type=Path, default=None, metavar="SUMMARY.json", help="also write the summary here")
    p.add_argument("--ledger", action="store_true",
                   help="also read each page as a register into lots: a second Parquet table in DIR/_lots")
    p.add_argument("--template", type=Path, default=None, metavar="FILE",
                   help="with --ledger: a template (JSON, as the Ledger page saves it); default: proposed from each "
                        "page's printed headings")
    p.set_defaults(func=cmd_read_archive)

    p = sub.add_parser("import-results", help="bring a read-archive run into a workspace for review")
    p.add_argument("dir", type=Path, metavar="DIR")
    workspace_arg(p)
    p.add_argument("--document", default=None, metavar="NAME", help="document to add the pages to "
                                                                    "(default: the folder's name)")
    p.add_argument("--model", type=Path, default=None, help="the model the run used (default: models/default.keras)")
    p.add_argument("--json", type=Path, default=None, metavar="SUMMARY.json", help="also write the summary here")
    p.set_defaults(func=cmd_import_results)


class _Bar:
    """tqdm on stderr: pages done, pages/s, ETA (planning has a bar of its own)."""

    def __init__(self):
        self.bar = None
        self.phase = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase = phase
            unit, desc = ("file", "hashing") if phase == "plan" else ("page", "reading")
            self.bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                            mininterval=0.5, smoothing=0.1)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _default_model(path: Path | None) -> Path:
    return path or MODELS_DIR / "default.keras"


def cmd_read_archive(args: argparse.Namespace) -> int:
    template = None
    if args.template is not None:
        if not args.ledger:
            raise KuzushiError("--template reads register pages: add --ledger.")
        try:
            template = Template.from_json(args.template.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise KuzushiError(f"the template {args.template} cannot be read: {exc}") from exc
    bar = _Bar()
    try:
        s = read_archive(args.srcs, args.out, model=_default_model(args.model), engine=args.engine,
                         address=args.address, workers=args.workers, resume=args.resume,
                         pages_per_part=args.part_pages, progress=bar, ledger=args.ledger, template=template)
    finally:
        bar.close()
        shutdown_ray()
    summary = {"engine": s.engine, "pages": s.pages, "skipped": s.skipped, "failed": s.failed,
               "characters": s.characters, "seconds": round(s.seconds, 2),
               "pages_per_second": round(s.pages_per_second, 3), "out": str(args.out)}
    if args.json:
        write_json(args.json, summary)
    print(f"{s.pages} page(s) read ({s.failed} failed, {s.skipped} already done), {s.characters} characters, "
          f"{s.pages_per_second:.2f} pages/s → {args.out}")
    return 0


def cmd_import_results(args: argparse.Namespace) -> int:
    store = open_store(args)
    s = import_results(args.dir, store, args.document or args.dir.resolve().name, _default_model(args.model))
    for msg in s.failed:
        print(f"not imported: {msg}", file=sys.stderr)
    if args.json:
        write_json(args.json, s.as_dict())
    print(f"{s.scans} scan(s), {s.boxes} boxes imported; {s.kept} page(s) already had boxes; {len(s.failed)} not "
          f"imported")
    return 0
