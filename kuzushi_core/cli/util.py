"""What the command groups share: the workspace argument, reading images, writing JSON, the model argument."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kuzushi_core.errors import KuzushiError
from kuzushi_core.imaging import decode_pages
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.predict.classifier import load_model
from kuzushi_core.store import Store, default_workspace


def workspace_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="workspace folder (default: $KUZUSHI_WORKSPACE or ./workspace)",
    )


def open_store(args: argparse.Namespace, create: bool = True) -> Store:
    return Store(args.workspace or default_workspace(), create=create)


def read_images(paths: list[Path]):
    """Decode each image file through intake's validation; typed errors on bad input."""
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KuzushiError(f"“{path}” cannot be read: {exc.strerror or exc}.") from exc
        yield path, decode_pages(data, path.name)[0].image


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def model_arg(args):
    """``--model PATH`` loaded safely (default: the shipped reader)."""
    return load_model(args.model or MODELS_DIR / "default.keras")


def pred_dict(p) -> dict:
    return {"label": p.label, "confidence": p.confidence, "candidates": [[c, s] for c, s in p.candidates]}


def command_line(name: str) -> str:
    """The command as typed, for a model card ("" when the command did not come from the shell)."""
    return "python -m kuzushi_core " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [name] else ""


class Progress:
    """Progress lines with the elapsed time and an ETA on stderr, at most one a second."""

    def __init__(self) -> None:
        self.t0 = time.time()
        self.last = 0.0

    def __call__(self, msg: str, frac: float) -> None:
        t = time.time() - self.t0
        if t - self.last < 1.0 and frac < 1.0:
            return
        self.last = t
        eta = f", about {t / frac * (1 - frac):.0f} s left" if 0.05 < frac < 1.0 else ""
        print(f"[{frac:4.0%}] {msg} ({t:.0f} s{eta})", file=sys.stderr, flush=True)
