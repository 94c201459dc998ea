"""The ledger commands of ``python -m kuzushi_core`` (a command group, registered by :mod:`kuzushi_core.cli`).

Contracts (outside checks call them exactly so):

- ``parse-value --kind number|area|money|date TEXT... --json OUT.json`` writes
  ``[{"text", "kind", "value", "unit"}]`` (plus ``"error"`` when the text does not parse, ``"note"`` where a
  reading needs one); exit 0 when the file was written, whatever the texts said.
- ``cells IMAGE... --json OUT.json`` writes ``{"pages": [{"image", "width", "height", "cells": [{"x", "y", "w",
  "h", "row", "col"}]}]}`` in original-image pixels, rows top to bottom, columns right to left.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kuzushi_core.cli.util import read_images, write_json
from kuzushi_core.ledger.cells import find_cells
from kuzushi_core.ledger.values import KINDS, parse_value


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
