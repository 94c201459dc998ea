"""Crops → predictions: ``classify`` and ``read``."""

from __future__ import annotations

import argparse
from pathlib import Path

from kuzushi_core.cli.util import model_arg, pred_dict, read_images, write_json
from kuzushi_core.predict.classifier import classify_crops, read_page


def register(sub: argparse._SubParsersAction) -> None:
    for name, help_text in (("classify", "classify each image as one character crop"),
                            ("read", "segment and classify page images")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
        p.add_argument("--json", required=True, type=Path, metavar="OUT.json")
        p.add_argument("--model", type=Path, default=None, help="a .keras model with its .json card (default: models/default.keras)")
        p.set_defaults(func=cmd_classify if name == "classify" else cmd_read)


def cmd_classify(args: argparse.Namespace) -> int:
    lm = model_arg(args)
    items = list(read_images(args.images))
    preds = classify_crops(lm, [img for _, img in items])
    write_json(args.json, [{"image": str(path), **pred_dict(p)} for (path, _), p in zip(items, preds)])
    print(f"{len(preds)} crops classified → {args.json}")
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    lm = model_arg(args)
    pages = []
    for path, img in read_images(args.images):
        seg, preds = read_page(lm, img)
        boxes = [b.as_dict() | pred_dict(p) for b, p in zip(seg.boxes, preds)]
        pages.append({"image": str(path), "width": seg.width, "height": seg.height, "boxes": boxes})
    write_json(args.json, {"pages": pages})
    print(f"{sum(len(p['boxes']) for p in pages)} characters read on {len(pages)} page(s) → {args.json}")
    return 0
