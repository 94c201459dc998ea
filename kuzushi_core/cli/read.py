"""Crops → predictions: ``classify`` and ``read``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kuzushi_core.cli.util import model_arg, pred_dict, read_images, write_json
from kuzushi_core.containers import Box
from kuzushi_core.context.model import load_lm, segment_and_read
from kuzushi_core.crops import crop_box
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.scoring import read_codh_csv
from kuzushi_core.ledger.incontext import read_page_in_context
from kuzushi_core.predict.classifier import classify_crops
from kuzushi_core.segment.forms import find_form
from kuzushi_core.segment.order import reading_order


def register(sub: argparse._SubParsersAction) -> None:
    for name, help_text in (("classify", "classify each image as one character crop"),
                            ("read", "segment and classify page images")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
        p.add_argument("--json", required=True, type=Path, metavar="OUT.json")
        p.add_argument("--model", type=Path, default=None, help="a .keras model with its .json card (default: models/default.keras)")
        if name == "read":
            p.add_argument("--boxes", type=Path, default=None, metavar="FILE",
                           help="read these boxes instead of segmenting: a CODH coordinate CSV (rows matched to the "
                                "images by file name stem) or a segment JSON")
            p.add_argument("--no-context", dest="context", action="store_false",
                           help="read crop by crop (default: each column in context, with the language model)")
            p.add_argument("--lm", type=Path, default=None, metavar="PATH.json.gz",
                           help="the character language model (default: models/charlm.json.gz)")
            p.add_argument("--cuts", choices=["auto", "on", "off"], default="auto",
                           help="let reading choose the cuts of the unsure boxes (merged with the next, split in two; "
                                "reader × language model × the corpus' character geometry): auto as the language "
                                "model's card says, on, or off")
        p.set_defaults(func=cmd_classify if name == "classify" else cmd_read)


def cmd_classify(args: argparse.Namespace) -> int:
    lm = model_arg(args)
    items = list(read_images(args.images))
    preds = classify_crops(lm, [img for _, img in items])
    write_json(args.json, [{"image": str(path), **pred_dict(p)} for (path, _), p in zip(items, preds)])
    print(f"{len(preds)} crops classified → {args.json}")
    return 0


def given_boxes(path: Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """Boxes per image stem from a CODH coordinate CSV or a ``segment`` JSON."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KuzushiError(f"cannot read the boxes file {path}: {exc}") from exc
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
            return {Path(pg["image"]).stem: [(int(b["x"]), int(b["y"]), int(b["w"]), int(b["h"])) for b in pg["boxes"]]
                    for pg in doc["pages"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise KuzushiError(f"{path} is not a segment JSON ({{\"pages\": [{{\"image\", \"boxes\"}}]}})") from exc
    try:
        pages = read_codh_csv(path)
    except (KeyError, ValueError, IndexError) as exc:
        raise KuzushiError(f"{path} is not a CODH coordinate CSV (Unicode, Image, X, Y, Width, Height): {exc!r}") from exc
    return {stem: [(b.x, b.y, b.w, b.h) for b in boxes] for stem, boxes in pages.items()}


def in_a_cell(box, cells) -> bool:
    """Whether the box's centre lies in one of the ruled cells."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return any(c.x <= cx < c.x + c.w and c.y <= cy < c.y + c.h for c in cells)


def cmd_read(args: argparse.Namespace) -> int:
    model = model_arg(args)
    lm = load_lm(str(args.lm)) if args.lm else load_lm()
    if args.lm and lm is None:
        raise KuzushiError(f"there is no language model at {args.lm}")
    boxes_by_stem = given_boxes(args.boxes) if args.boxes else None
    pages: list[dict] = []
    for path, img in read_images(args.images):
        if boxes_by_stem is not None:
            if path.stem not in boxes_by_stem:
                raise KuzushiError(f"{args.boxes} has no boxes for {path.name} (rows are matched by file name stem)")
            raw = boxes_by_stem[path.stem]
            col, order = reading_order(raw)
            idx = sorted(range(len(raw)), key=lambda i: order[i])
            # on a ruled form (a register) the boxes inside its cells are read as its fields, as ``read`` reads them
            form = find_form(img) if args.context else None
            cells = form[0] if form else []
            boxes = [Box(*raw[i], column=col[i], order=order[i], flags="cell" if in_a_cell(raw[i], cells) else "")
                     for i in idx]
            preds = classify_crops(model, [crop_box(img, *raw[i]) for i in idx])
            width, height = int(img.shape[1]), int(img.shape[0])
        else:
            cuts = None if args.cuts == "auto" else args.cuts == "on"
            seg, preds = segment_and_read(model, img, lm=lm, cuts=cuts if args.context else False)
            boxes, width, height = list(seg.boxes), seg.width, seg.height
            cells = list(seg.cells or [])
        if args.context:
            preds = read_page_in_context(preds, boxes, cells, lm)
        rows = [b.as_dict() | pred_dict(p) for b, p in zip(boxes, preds)]
        pages.append({"image": str(path), "width": width, "height": height, "boxes": rows})
    write_json(args.json, {"pages": pages})
    how = "in context" if args.context and lm is not None else "crop by crop"
    print(f"{sum(len(p['boxes']) for p in pages)} characters read {how} on {len(pages)} page(s) → {args.json}")
    return 0
