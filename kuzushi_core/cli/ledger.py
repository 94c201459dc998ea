"""The ledger commands of ``python -m kuzushi_core`` (a command group, registered by :mod:`kuzushi_core.cli`).

Contracts (outside checks call them exactly so):

- ``parse-value --kind number|area|money|date TEXT... --json OUT.json`` writes
  ``[{"text", "kind", "value", "unit"}]`` (plus ``"error"`` when the text does not parse, ``"note"`` where a
  reading needs one); exit 0 when the file was written, whatever the texts said.
- ``cells IMAGE... --json OUT.json`` writes ``{"pages": [{"image", "width", "height", "cells": [{"x", "y", "w",
  "h", "row", "col"}]}]}`` in original-image pixels, rows top to bottom, columns right to left.
- ``read-ledger IMAGE... --json OUT.json [--template FILE]`` writes ``{"pages": [{"image", "lots": [{"lot",
  "fields": {HEADING: {"text", "value", "unit", "flag"}}}], "totals"}]}``: lots in the form's reading order,
  fields keyed by the heading as printed, values as ``parse-value`` gives them (null when the text does not
  parse), ``flag`` from the checks; without ``--template`` the template is proposed from the printed headings.
  A page where no form or no headings are found gets ``"error"`` and no lots; the run goes on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kuzushi_core.cli.util import Progress, model_arg, read_images, write_json
from kuzushi_core.errors import KuzushiError, TemplateError
from kuzushi_core.ledger.read import read_register, reading_json
from kuzushi_core.ledger.templates import Template
from kuzushi_core.ledger.values import KINDS, parse_value
from kuzushi_core.segment.cells import find_cells


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse-value", help="parse register values (numbers, areas, money, era dates) into numbers")
    p.add_argument("--kind", required=True, choices=KINDS)
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--json", required=True, type=Path, metavar="OUT.json", help="where to write the values")
    p.set_defaults(func=cmd_parse_value)

    p = sub.add_parser("cells", help="find the ruled cells of a printed register form")
    p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
    p.add_argument("--json", required=True, type=Path, metavar="OUT.json", help="where to write the cells")
    p.set_defaults(func=cmd_cells)

    p = sub.add_parser("read-ledger", help="read register pages into lots (fields by their printed headings)")
    p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
    p.add_argument("--json", required=True, type=Path, metavar="OUT.json", help="where to write the lots")
    p.add_argument("--template", type=Path, default=None, metavar="FILE",
                   help="a template (JSON, as the Ledger page saves it); default: proposed from each page's headings")
    p.add_argument("--model", type=Path, default=None, help="a .keras model with its .json card (default: models/default.keras)")
    p.set_defaults(func=cmd_read_ledger)


def cmd_parse_value(args: argparse.Namespace) -> int:
    rows = [parse_value(t, args.kind) for t in args.texts]
    write_json(args.json, [r.as_dict() for r in rows])
    for r in rows:
        shown = f"{r.value} {r.unit or ''}".rstrip() if r.ok else f"error: {r.error}"
        print(f"{r.text}\t{shown}" + (f"\t({r.note})" if r.note else ""))
    return 0


def cmd_cells(args: argparse.Namespace) -> int:
    pages = []
    for path, page in read_images(args.images):
        cells = find_cells(page)
        pages.append({"image": str(path), "width": int(page.shape[1]), "height": int(page.shape[0]),
                      "cells": [c.as_dict() for c in cells]})
        rows = len({c.row for c in cells})
        cols = len({c.col for c in cells})
        print(f"{path.name}: {len(cells)} cells in {rows} rows × {cols} columns", file=sys.stderr)
    write_json(args.json, {"pages": pages})
    return 0


def cmd_read_ledger(args: argparse.Namespace) -> int:
    template = None
    if args.template is not None:
        try:
            text = args.template.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KuzushiError(f"the template {args.template} cannot be read: {exc}") from exc
        template = Template.from_json(text)
    images = list(read_images(args.images))  # every file decoded before anything is read: a bad one stops the run
    lm = model_arg(args)
    progress = Progress()
    pages = []
    for k, (path, page) in enumerate(images):
        progress(f"reading {path.name}", k / len(images))
        try:
            reading = read_register(page, lm, template)
        except TemplateError as exc:
            pages.append({"image": str(path), "error": str(exc), "lots": [], "totals": {}})
            print(f"{path.name}: {exc}", file=sys.stderr)
            continue
        page_json = reading_json(str(path), reading)
        pages.append(page_json)
        flagged = sum(bool(f["flag"]) for lot in page_json["lots"] for f in lot["fields"].values())
        print(f"{path.name}: {len(reading.lots)} lots, {flagged} fields flagged"
              f"{' (template proposed from the headings)' if reading.proposed else ''}", file=sys.stderr)
    progress("done", 1.0)
    write_json(args.json, {"pages": pages})
    return 0
