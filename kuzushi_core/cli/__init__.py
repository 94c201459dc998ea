"""Command-line interface: ``python -m kuzushi_core COMMAND ...``, one module a command group (as kraken's ``ketos``).

- :mod:`.scans` — ``import``, ``scans``, ``import-labels``;
- :mod:`.segment` — ``segment``, ``score-boxes``;
- :mod:`.read` — ``classify``, ``read``;
- :mod:`.train` — ``train``, ``train-reader``, ``adapt``, ``build-lm``, ``worker``;
- :mod:`.export` — ``export``;
- :mod:`.ledger` — ``parse-value``, ``cells``;
- :mod:`.archive` — ``read-archive``, ``import-results``;
- :mod:`.util` — what they share.

The commands and their output formats are a contract (outside checks call
them exactly so): extend them, never rename them.  Bad input ends with a
one-line message on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from kuzushi_core import __version__
from kuzushi_core.cli import archive, export, ledger, read, scans, segment, train
from kuzushi_core.errors import KuzushiError

GROUPS = (scans, segment, train, export, read, ledger, archive)
PROG = "python -m kuzushi_core"


class Parser(argparse.ArgumentParser):
    """argparse with the error contract: a bad argument is one line ``error: …`` on stderr and exit code 1."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        where = f"{command}: " if command else ""
        self.exit(1, f"error: {where}{message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Kuzushi Lab: read handwritten Japanese ledgers (kuzushiji) into data.",
    )
    parser.add_argument("--version", action="version", version=f"kuzushi-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


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
