"""Command-line interface: ``python -m kuzushi_core COMMAND ...``.

The commands and their output formats are a contract (outside checks call
them exactly so): extend them, never rename them.  Bad input ends with a
one-line message on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kuzushi_core import __version__
from kuzushi_core.train.adapt import AdaptConfig
from kuzushi_core.errors import KuzushiError
from kuzushi_core.store import DEFAULT_DOCUMENT, Store, default_workspace


def _workspace_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help="workspace folder (default: $KUZUSHI_WORKSPACE or ./workspace)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kuzushi_core",
        description="Kuzushi Lab: read handwritten Japanese ledgers (kuzushiji) into data.",
    )
    parser.add_argument("--version", action="version", version=f"kuzushi-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", help="import scans (JPEG, PNG, TIFF, BMP, WebP, PDF) into a workspace")
    _workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="FILE", type=Path)
    p.add_argument("--document", default=DEFAULT_DOCUMENT, help="document (ledger volume) to file them under")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("scans", help="list the scans of a workspace")
    _workspace_arg(p)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_scans)

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

    p = sub.add_parser("train", help="train a character classifier")
    p.add_argument("--data", type=Path, metavar="SRC", default=None,
                   help="a KMNIST folder, a folder (or a zip) of class folders, a seed-layout npz, or a workspace "
                        "(may be left out with --base and --synth)")
    p.add_argument("--out", required=True, type=Path, metavar="PATH.keras")
    p.add_argument("--arch", default="default", choices=["default", "baseline"])
    p.add_argument("--epochs", type=int, default=None,
                   help="default 50; with --base (feature extraction, fine-tuning on cached features) 12")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--val-split", type=float, default=0.1, metavar="F")
    g.add_argument("--folds", type=int, default=0, metavar="K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=28, choices=[28, 64])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=None,
                   help="default 3e-3; with --base the mode's own (feature extraction 1e-3, fine-tuning 5e-4)")
    p.add_argument("--patience", type=int, default=None, metavar="N",
                   help="early stopping after N epochs without a lower val_loss (>= --epochs: the whole schedule runs; "
                        "the best epoch on val_loss is kept either way; default 15, with --base 4)")
    p.add_argument("--stroke-jitter", action="store_true", help="augment stroke thickness (±1 px) during training")
    p.add_argument("--strategy", default="default", choices=["default", "mirrored"],
                   help="mirrored: train on all of this host's GPUs in sync (tf.distribute.MirroredStrategy; "
                        "--batch-size is the global batch)")
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mixup in the training pipeline, pairs mixed with λ ~ Beta(α, α) (0 = off)")
    p.add_argument("--test", type=Path, default=None, metavar="SRC",
                   help="report accuracy on this held-out set (never trained on); for a KMNIST folder, its test split")
    p.add_argument("--base", type=Path, default=None, metavar="PATH.keras",
                   help="transfer learning from this model (with its .json card)")
    p.add_argument("--mode", default=None, choices=["feature-extraction", "fine-tune", "scratch"],
                   help="with --base: retrain the head only, also the top conv blocks, or a new network")
    p.add_argument("--unfreeze", type=int, default=1, metavar="N", help="fine-tune: how many top conv blocks to train")
    p.add_argument("--no-keep-old", dest="keep_old", action="store_false",
                   help="with --base: drop the base model's classes (default: keep them, add the new ones)")
    p.add_argument("--rehearsal", type=Path, default=None, metavar="SRC",
                   help="with --base: mix in images of the old classes from this source (e.g. a KMNIST folder)")
    p.add_argument("--per-class", type=int, default=200, metavar="N", help="rehearsal images per old class")
    p.add_argument("--balance", default=None, choices=["weights", "oversample", "none"],
                   help="small classes: class weights (default without --base) or oversampling (default with --base)")
    p.add_argument("--synth", default="", metavar="CHARS",
                   help="with --base: also learn these characters from brush-font renders (no real crop needed)")
    p.add_argument("--synth-per-char", type=int, default=300, metavar="N", help="renders per --synth character")
    p.add_argument("--synth-rehearsal", type=int, default=None, metavar="N",
                   help="with --base: N font renders of every base class as rehearsal, from the base's feature cache "
                        "(default 2; 0 = none: the new version may forget the other characters)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("train-reader", help="train the base reader (thousands of characters) from fonts, KMNIST "
                                            "and the annotated pages")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="the data folder (kmnist/, pages/, ledger/; default $KUZUSHI_DATA or ../shared/data)")
    p.add_argument("--out", required=True, type=Path, metavar="PATH.keras")
    p.add_argument("--base-out", type=Path, default=Path("build/reader-base.keras"), metavar="PATH.keras",
                   help="where stage 1 (fonts + KMNIST) is written; reused when it exists")
    p.add_argument("--warm", type=Path, default=None, metavar="PATH.keras",
                   help="start the first conv blocks from this model (default: models/kmnist10.keras)")
    p.add_argument("--pages", default="all", metavar="NAMES",
                   help="annotated pages to learn from in stage 2: all, none, or comma-separated page names")
    p.add_argument("--epochs", type=int, default=None, help="stage 1 epochs")
    p.add_argument("--page-epochs", type=int, default=None, help="stage 2 epochs")
    p.add_argument("--synth-per-class", type=int, default=None, metavar="N", help="stage 1 renders per character")
    p.add_argument("--no-variants", dest="variants", action="store_false", help="no variant kana forms in stage 2")
    p.add_argument("--no-specialist", dest="specialist", action="store_false",
                   help="no KMNIST specialist (models/kmnist10.keras) beside the reader")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train_reader)

    p = sub.add_parser("export", help="export a workspace's readings and labels (CSV, JSON, text, PAGE XML, npz, crops)"
                                      " or the lots of its register pages")
    _workspace_arg(p)
    p.add_argument("--format", required=True, choices=["csv", "json", "text", "pagexml", "npz", "crops", "lots"])
    p.add_argument("--out", required=True, type=Path, metavar="PATH",
                   help="the file to write (for pagexml: a folder, one .xml per page; for lots: .csv, or .json)")
    p.add_argument("--document", default=None, help="only this document (by name)")
    p.add_argument("--scan", type=int, action="append", default=None, metavar="ID", help="only these scans")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("worker", help="run the queued training jobs of a workspace (started by the app)")
    _workspace_arg(p)
    p.set_defaults(func=cmd_worker)

    for name, help_text in (("classify", "classify each image as one character crop"),
                            ("read", "segment and classify page images")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("images", nargs="+", metavar="IMAGE", type=Path)
        p.add_argument("--json", required=True, type=Path, metavar="OUT.json")
        p.add_argument("--model", type=Path, default=None, help="a .keras model with its .json card (default: models/default.keras)")
        p.set_defaults(func=cmd_classify if name == "classify" else cmd_read)

    p = sub.add_parser("adapt", help="learn from the workspace's labels and unlabelled pages: a new model version, "
                                     "scored against its parent on held-out labels, active only when not worse")
    _workspace_arg(p)
    p.add_argument("--out", required=True, type=Path, metavar="PATH.keras")
    p.add_argument("--base", type=Path, default=None, metavar="PATH.keras",
                   help="the model to start from (default: the workspace's active model, else the shipped reader)")
    p.add_argument("--document", default=None, help="learn from (and re-read) this document only")
    p.add_argument("--mode", default="feature-extraction", choices=["feature-extraction", "fine-tune"])
    p.add_argument("--unfreeze", type=int, default=1, metavar="N", help="fine-tune: how many top conv blocks train")
    p.add_argument("--epochs", type=int, default=AdaptConfig.epochs)
    p.add_argument("--no-pseudo", dest="pseudo", action="store_false",
                   help="no self-training on the unlabelled boxes the base reads confidently")
    p.add_argument("--no-rehearsal", dest="rehearsal", action="store_false",
                   help="no rehearsal of the base's other characters (it may forget them: the parent check still "
                        "decides whether the new version becomes active)")
    p.add_argument("--activate", default="auto", choices=["auto", "never", "always"],
                   help="auto: make the new version active only when it is not worse than its parent")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_adapt)

    p = sub.add_parser("import-labels", help="import CODH coordinate CSVs as boxes and user labels, pages matched to "
                                             "the workspace's scans by file name stem")
    _workspace_arg(p)
    p.add_argument("files", nargs="+", metavar="CSV", type=Path)
    p.set_defaults(func=cmd_import_labels)

    from kuzushi_core.cli import ledger as ledger_cli  # the register commands: parse-value, cells

    ledger_cli.register(sub)
    from kuzushi_core.cli import archive as archive_cli  # whole archives: read-archive, import-results

    archive_cli.register(sub)
    return parser


def _read_images(paths: list[Path]):
    """Decode each image file through intake's validation; typed errors on bad input."""
    from kuzushi_core.imaging import decode_pages

    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KuzushiError(f"“{path}” cannot be read: {exc.strerror or exc}.") from exc
        yield path, decode_pages(data, path.name)[0].image


def cmd_segment(args: argparse.Namespace) -> int:
    from kuzushi_core.segment.columns import segment

    pages = []
    for path, img in _read_images(args.images):
        seg = segment(img)
        page = {"image": str(path), "width": seg.width, "height": seg.height,
                "boxes": [b.as_dict() for b in seg.boxes]}
        if args.ruby:
            page["ruby"] = [b.as_dict() | {"flags": "ruby"} for b in seg.ruby]
        pages.append(page)
    _write_json(args.json, {"pages": pages})
    print(f"{sum(len(p['boxes']) for p in pages)} boxes on {len(pages)} page(s) → {args.json}")
    return 0


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def cmd_score_boxes(args: argparse.Namespace) -> int:
    from kuzushi_core.evaluation.scoring import read_codh_csv, read_kaggle_csv, score

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


def cmd_train(args: argparse.Namespace) -> int:
    from kuzushi_core.train.fit import TrainConfig, train_cli

    transfer = args.base is not None or args.mode is not None
    mode = args.mode or "feature-extraction"
    cached = transfer and mode != "scratch"
    epochs = args.epochs if args.epochs is not None else (AdaptConfig.epochs if cached else 50)
    patience = args.patience if args.patience is not None else (AdaptConfig.patience if cached else 15)
    cfg = TrainConfig(arch=args.arch, size=args.size, epochs=epochs, batch_size=args.batch_size,
                      learning_rate=args.learning_rate if args.learning_rate is not None else 3e-3,
                      val_split=args.val_split, folds=args.folds, seed=args.seed,
                      stroke_jitter=args.stroke_jitter, balance=args.balance or "weights", patience=patience,
                      strategy=args.strategy)
    if args.mixup:
        from dataclasses import replace

        from kuzushi_core.train.augment import PRESETS, to_dict

        cfg.augment = to_dict(replace(PRESETS["none"], mixup_alpha=args.mixup))
    command = "python -m kuzushi_core " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    if transfer:
        from kuzushi_core.train.transfer import DEFAULT_BALANCE, DEFAULT_LEARNING_RATE, transfer_cli

        if mode != "scratch" and args.base is None:
            raise KuzushiError(f"--mode {mode} needs --base PATH.keras")
        if args.learning_rate is None:
            cfg.learning_rate = DEFAULT_LEARNING_RATE[mode]
        cfg.balance = args.balance or DEFAULT_BALANCE
        if args.data is None and not args.synth:
            raise KuzushiError("give --data SRC, or --synth CHARS to learn characters from font renders")
        if mode != "scratch":  # feature extraction, fine-tuning: on cached features
            from kuzushi_core.train.adapt import transfer_cli
        print(transfer_cli(args.base, mode, args.data, args.out, cfg, unfreeze=args.unfreeze, keep_old=args.keep_old,
                           rehearsal=args.rehearsal, per_class=args.per_class, command=command,
                           synth=args.synth, synth_per_char=args.synth_per_char,
                           synth_rehearsal=args.synth_rehearsal))
        return 0
    if args.synth:
        raise KuzushiError("--synth adds characters to a model: use it with --base PATH.keras")
    if args.data is None:
        raise KuzushiError("train needs --data SRC")
    summary = train_cli(args.data, args.out, cfg, test=args.test, command=command)
    print(summary)
    return 0


def cmd_train_reader(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from kuzushi_core.paths import MODELS_DIR, data_dir
    from kuzushi_core.train.reader import ReaderConfig, page_names, train_base, train_pages

    data = args.data or data_dir()
    cfg = ReaderConfig(seed=args.seed, variants=args.variants, specialist=ReaderConfig().specialist if args.specialist else "")
    for name in ("epochs", "page_epochs", "synth_per_class"):
        if getattr(args, name) is not None:
            cfg = replace(cfg, **{name: getattr(args, name)})
    if args.pages == "all":
        pages = None
    elif args.pages == "none":
        pages = set()
    else:
        pages = {p.strip() for p in args.pages.split(",") if p.strip()}
        unknown = pages - set(page_names(data))
        if unknown:
            raise KuzushiError(f"no annotated page named {', '.join(sorted(unknown))} in {data / 'pages'}")
    if not args.base_out.exists():
        print(train_base(data, args.base_out, cfg, warm=args.warm or MODELS_DIR / "kmnist10.keras"), file=sys.stderr)
    command = "python -m kuzushi_core " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train-reader"] else ""
    res = train_pages(args.base_out, data, args.out, pages, cfg, command=command)
    print(f"saved {args.out} ({res['n_train']} glyphs in stage 2, {res['seconds']:.0f} s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from kuzushi_core.data import export

    store = Store(args.workspace or default_workspace(), create=False)
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
        from kuzushi_core.ledger.workspace import LOT_COLUMNS, document_lots

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


def cmd_adapt(args: argparse.Namespace) -> int:
    import time

    from kuzushi_core.train.adapt import adapt

    store = _open_store(args, create=False)
    cfg = AdaptConfig(mode=args.mode, unfreeze=args.unfreeze, epochs=args.epochs, pseudo=args.pseudo,
                      rehearsal=args.rehearsal, seed=args.seed)
    t0 = time.time()
    last = [0.0]

    def progress(msg: str, frac: float) -> None:
        t = time.time() - t0
        if t - last[0] < 1.0 and frac < 1.0:
            return
        last[0] = t
        eta = f", about {t / frac * (1 - frac):.0f} s left" if 0.05 < frac < 1.0 else ""
        print(f"[{frac:4.0%}] {msg} ({t:.0f} s{eta})", file=sys.stderr, flush=True)

    res = adapt(store, args.out, base=args.base, document=args.document, cfg=cfg, activate=args.activate,
                progress=progress, command="python -m kuzushi_core " + " ".join(sys.argv[1:])
                if sys.argv[1:2] == ["adapt"] else "")
    if args.json:
        print(json.dumps({"model_id": res.record.id, "path": str(res.path), "parent_id": res.parent.id if res.parent
                          else None, "scores": res.scores, "not_worse": res.better, "reasons": res.reasons,
                          "activated": res.activated, "changes": {k: v for k, v in res.changes.items()
                                                                  if k != "examples"},
                          "seconds": round(res.seconds, 1), "boxes": res.sample,
                          "counts": res.retrained.counts}, ensure_ascii=False, indent=1, default=float))
        return 0
    h = res.scores.get("holdout")
    print(f"new version #{res.record.id} ({res.path}) from {res.sample['train']} labelled boxes "
          f"(+{res.sample['pseudo']} read confidently) in {res.seconds:.0f} s")
    if h:
        print(f"held-out labels ({h['n']}): parent {h['parent']:.3f} → new {h['new']:.3f}")
    for key, label in (("kmnist_val", "KMNIST validation"), ("renders", "renders of every character")):
        if key in res.scores:
            print(f"{label}: parent {res.scores[key]['parent']:.4f} → new {res.scores[key]['new']:.4f}")
    for r in res.reasons:
        print(f"note: {r}")
    print(("made active" if res.activated else "not made active: the parent stays active")
          + f"; re-read {res.changes['read']} boxes, {res.changes['changed']} readings changed "
            f"({res.changes['now_agree']} now agree with a label, {res.changes['no_longer_agree']} no longer do)")
    return 0


def cmd_import_labels(args: argparse.Namespace) -> int:
    from kuzushi_core.data.intake import import_label_files

    store = _open_store(args, create=False)
    for r in import_label_files(store, args.files):
        print(f"{r['file']}: page {r['page']} → scan #{r['scan']}: {r['labelled']} boxes labelled, "
              f"{r['added_boxes']} boxes added, {r['kept_user_labels']} user labels kept")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from kuzushi_core.train.jobs import work

    store = Store(args.workspace or default_workspace(), create=False)
    n = work(store)
    print(f"worker: {n} job(s) run", file=sys.stderr)
    return 0


def _model(args):
    from kuzushi_core.paths import MODELS_DIR
    from kuzushi_core.predict.classifier import load_model

    return load_model(args.model or MODELS_DIR / "default.keras")


def _pred_dict(p) -> dict:
    return {"label": p.label, "confidence": p.confidence, "candidates": [[c, s] for c, s in p.candidates]}


def cmd_classify(args: argparse.Namespace) -> int:
    from kuzushi_core.predict.classifier import classify_crops

    lm = _model(args)
    items = list(_read_images(args.images))
    preds = classify_crops(lm, [img for _, img in items])
    _write_json(args.json, [{"image": str(path), **_pred_dict(p)} for (path, _), p in zip(items, preds)])
    print(f"{len(preds)} crops classified → {args.json}")
    return 0


def cmd_read(args: argparse.Namespace) -> int:
    from kuzushi_core.predict.classifier import read_page

    lm = _model(args)
    pages = []
    for path, img in _read_images(args.images):
        seg, preds = read_page(lm, img)
        boxes = [b.as_dict() | _pred_dict(p) for b, p in zip(seg.boxes, preds)]
        pages.append({"image": str(path), "width": seg.width, "height": seg.height, "boxes": boxes})
    _write_json(args.json, {"pages": pages})
    print(f"{sum(len(p['boxes']) for p in pages)} characters read on {len(pages)} page(s) → {args.json}")
    return 0


def _open_store(args: argparse.Namespace, create: bool = True) -> Store:
    return Store(args.workspace or default_workspace(), create=create)


def cmd_import(args: argparse.Namespace) -> int:
    from kuzushi_core.data.intake import import_paths

    store = _open_store(args)
    doc = store.ensure_document(args.document)
    results = import_paths(store, args.files, doc.id)
    failed = [r for r in results if not r.ok]
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "file": r.source_name,
                        "scans": [s.id for s in r.scans],
                        "pages": [s.page_no for s in r.scans],
                        "duplicates": [s.id for s in r.duplicates],
                        "error": r.error,
                    }
                    for r in results
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        for r in results:
            if r.ok and r.scans:
                ids = ", ".join(f"#{s.id}" for s in r.scans)
                pages = ", ".join(str(s.page_no) for s in r.scans)
                print(f"imported {r.source_name}: scan {ids}, page {pages} of {doc.name} "
                      f"({r.scans[0].width}×{r.scans[0].height})")
            elif r.ok:
                ids = ", ".join(f"#{s.id}" for s in r.duplicates)
                print(f"already in the workspace: {r.source_name} (scan {ids})")
    for r in failed:
        print(f"error: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_scans(args: argparse.Namespace) -> int:
    store = _open_store(args, create=False)
    docs = {d.id: d.name for d in store.list_documents()}
    scans = store.list_scans()
    if args.json:
        rows = [
            {
                "id": s.id,
                "document": docs.get(s.document_id, ""),
                "source_name": s.source_name,
                "page": s.page_no,
                "page_in_file": s.page_index + 1,
                "width": s.width,
                "height": s.height,
                "format": s.format,
                "bytes": s.byte_size,
                "sha256": s.content_hash,
                "created_at": s.created_at,
            }
            for s in scans
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not scans:
        print("no scans in this workspace")
        return 0
    print(f"{'id':>5}  {'document':<20} {'page':>4}  {'size':>11}  {'format':<6} source")
    for s in scans:
        print(
            f"{s.id:>5}  {docs.get(s.document_id, '')[:20]:<20} {s.page_no:>4}  "
            f"{f'{s.width}×{s.height}':>11}  {s.format:<6} {s.source_name}"
        )
    return 0


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
