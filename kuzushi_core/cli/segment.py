"""Scan → boxes: ``segment`` and ``score-boxes``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kuzushi_core.cli.util import read_images, write_json
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.scoring import read_codh_csv, read_kaggle_csv, score
from kuzushi_core.segment.columns import segment


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("segment", help="segment page images into character boxes in reading order")
    p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
    p.add_argument("--json", required=True, type=Path, metavar="OUT.json", help="where to write the boxes")
    p.add_argument("--ruby", action="store_true", help="also list ruby (furigana) boxes, apart, per page")
    p.set_defaults(func=cmd_segment)

    p = sub.add_parser("score-boxes", help="score predicted boxes against ground truth (CODH CSV or Kaggle train.csv)")
    p.add_argument("--gt", required=True, type=Path, metavar="CSV")
    p.add_argument("--pred", required=True, type=Path, metavar="OUT.json")
    p.add_argument("--json", action="store_true", help="print the scores as JSON")
    p.set_defaults(func=cmd_score_boxes)


def cmd_segment(args: argparse.Namespace) -> int:
    pages: list[dict] = []
    for path, img in read_images(args.images):
        seg = segment(img)
        page = {"image": str(path), "width": seg.width, "height": seg.height,
                "boxes": [b.as_dict() for b in seg.boxes]}
        if args.ruby:
            page["ruby"] = [b.as_dict() | {"flags": "ruby"} for b in seg.ruby]
        pages.append(page)
    write_json(args.json, {"pages": pages})
    print(f"{sum(len(p['boxes']) for p in pages)} boxes on {len(pages)} page(s) → {args.json}")
    return 0


def cmd_score_boxes(args: argparse.Namespace) -> int:
    try:
        header = args.gt.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise KuzushiError(f"cannot read the ground truth {args.gt}") from exc
    try:
        gt = read_kaggle_csv(args.gt) if header.startswith("image_id") else read_codh_csv(args.gt)
    except (KeyError, ValueError, IndexError) as exc:
        raise KuzushiError(f"{args.gt} is not a CODH coordinate CSV (Unicode, Image, X, Y, Width, Height) or a "
                           f"Kaggle train.csv (image_id, labels): {exc!r} is missing or malformed") from exc
    try:
        pred_doc = json.loads(args.pred.read_text(encoding="utf-8"))
        pred = {Path(p["image"]).stem: p["boxes"] for p in pred_doc["pages"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KuzushiError(f"{args.pred} is not a segment output ({{\"pages\": [...]}})") from exc
    gt = {k: v for k, v in gt.items() if k in pred}
    if not gt:
        raise KuzushiError("no page of the prediction has ground truth in the CSV (matched by file name)")
    result = score(gt, pred)
    if args.json:
        print(json.dumps(result, indent=1, default=float))
        return 0
    print(f"{'page':<28} {'F1@IoU0.5':>9} {'P':>6} {'R':>6} {'F1 centre':>9} {'order':>6}")
    rows = list(result["pages"].items()) + [("overall", result["overall"])]
    for name, r in rows:
        print(f"{name:<28} {r['iou50']['f1']:>9.3f} {r['iou50']['precision']:>6.3f} {r['iou50']['recall']:>6.3f} "
              f"{r['centre']['f1']:>9.3f} {r['order']['agreement']:>6.3f}")
    return 0
