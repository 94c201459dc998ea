"""Data → model: ``train``, ``train-reader``, ``adapt``, ``worker``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from kuzushi_core.cli.util import Progress, command_line, open_store, workspace_arg
from kuzushi_core.context.decode import ContextWeights
from kuzushi_core.context.lm import build_shipped
from kuzushi_core.errors import KuzushiError
from kuzushi_core.paths import MODELS_DIR, data_dir
from kuzushi_core.synth.fonts import HOLD_OUT_ENV, held_out
from kuzushi_core.train import retrain as retraining
from kuzushi_core.train import transfer
from kuzushi_core.train.adapt import adapt
from kuzushi_core.train.augment import PRESETS, to_dict
from kuzushi_core.train.fit import TrainConfig, train_cli
from kuzushi_core.train.jobs import work
from kuzushi_core.train.reader import ReaderConfig, page_names, train_base, train_pages
from kuzushi_core.train.retrain import AdaptConfig


def register(sub: argparse._SubParsersAction) -> None:
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

    p = sub.add_parser("adapt", help="learn from the workspace's labels and unlabelled pages: a new model version, "
                                     "scored against its parent on held-out labels, active only when not worse")
    workspace_arg(p)
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

    p = sub.add_parser("build-lm", help="build the character language model of reading in context from the corpus "
                                        "(../shared/data/corpus), with its card")
    p.add_argument("--data", type=Path, default=None, metavar="DIR", help="the data folder (default $KUZUSHI_DATA or "
                                                                           "../shared/data)")
    p.add_argument("--out", required=True, type=Path, metavar="PATH.json.gz")
    p.add_argument("--order", type=int, default=3, choices=[3], help="n-gram order (the decoder reads trigrams)")
    p.add_argument("--lm-weight", type=float, default=ContextWeights.lm, metavar="W")
    p.add_argument("--prior-weight", type=float, default=ContextWeights.prior, metavar="W")
    p.add_argument("--temperature", type=float, default=ContextWeights.temperature, metavar="T",
                   help="the in-context confidence's temperature (calibration)")
    p.add_argument("--drop", default="", metavar="PAGES", help="comma-separated corpus pages to leave out")
    p.add_argument("--cuts", default="off", metavar="G,B,U",
                   help="choosing the unsure boxes' cuts by reading, as `read` does by default: the geometry prior's "
                        "weight, the bonus a glyph and the confidence below which a box is unsure (off: no cutting)")
    p.set_defaults(func=cmd_build_lm)

    p = sub.add_parser("worker", help="run the queued training jobs of a workspace (started by the app)")
    workspace_arg(p)
    p.set_defaults(func=cmd_worker)


def cmd_train(args: argparse.Namespace) -> int:
    transferring = args.base is not None or args.mode is not None
    mode = args.mode or "feature-extraction"
    cached = transferring and mode != "scratch"
    epochs = args.epochs if args.epochs is not None else (AdaptConfig.epochs if cached else 50)
    patience = args.patience if args.patience is not None else (AdaptConfig.patience if cached else 15)
    cfg = TrainConfig(arch=args.arch, size=args.size, epochs=epochs, batch_size=args.batch_size,
                      learning_rate=args.learning_rate if args.learning_rate is not None else 3e-3,
                      val_split=args.val_split, folds=args.folds, seed=args.seed,
                      stroke_jitter=args.stroke_jitter, balance=args.balance or "weights", patience=patience,
                      strategy=args.strategy)
    if args.mixup:
        cfg.augment = to_dict(replace(PRESETS["none"], mixup_alpha=args.mixup))
    command = command_line("train") or None
    if transferring:
        if mode != "scratch" and args.base is None:
            raise KuzushiError(f"--mode {mode} needs --base PATH.keras")
        if args.learning_rate is None:
            cfg.learning_rate = transfer.DEFAULT_LEARNING_RATE[mode]
        cfg.balance = args.balance or transfer.DEFAULT_BALANCE
        if args.data is None and not args.synth:
            raise KuzushiError("give --data SRC, or --synth CHARS to learn characters from font renders")
        # feature extraction, fine-tuning: on cached features (adapt); scratch: a new network (transfer)
        run = transfer.transfer_cli if mode == "scratch" else retraining.transfer_cli
        print(run(args.base, mode, args.data, args.out, cfg, unfreeze=args.unfreeze, keep_old=args.keep_old,
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

    data = args.data or data_dir()
    if not (data / "kmnist").is_dir():
        raise KuzushiError(f"{data} is not the data folder train-reader needs (kmnist/, pages/, ledger/; "
                           "see ../shared/data/README.md, or pass --data DIR)")
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
    command = command_line("train-reader")
    if command and held_out():  # the faces kept out of its renders are part of how to make it again
        command = f"{HOLD_OUT_ENV}={','.join(sorted(held_out()))} {command}"
    res = train_pages(args.base_out, data, args.out, pages, cfg, command=command)
    print(f"saved {args.out} ({res['n_train']} glyphs in stage 2, {res['seconds']:.0f} s)")
    return 0


def cmd_adapt(args: argparse.Namespace) -> int:
    store = open_store(args, create=False)
    cfg = AdaptConfig(mode=args.mode, unfreeze=args.unfreeze, epochs=args.epochs, pseudo=args.pseudo,
                      rehearsal=args.rehearsal, seed=args.seed)
    res = adapt(store, args.out, base=args.base, document=args.document, cfg=cfg, activate=args.activate,
                progress=Progress(), command=command_line("adapt"))
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


def cmd_worker(args: argparse.Namespace) -> int:
    n = work(open_store(args, create=False))
    print(f"worker: {n} job(s) run", file=sys.stderr)
    return 0


def cmd_build_lm(args: argparse.Namespace) -> int:
    drop = [d.strip() for d in args.drop.split(",") if d.strip()]
    cuts = None
    if args.cuts != "off":
        try:
            g, b, u = (float(v) for v in args.cuts.split(","))
        except ValueError as exc:
            raise KuzushiError(f"--cuts takes off or three numbers G,B,U (geometry weight, bonus, unsure), not {args.cuts!r}") from exc
        cuts = {"geometry": g, "bonus": b, "unsure": u}
    lm = build_shipped(args.data, args.out, args.order, {"lm": args.lm_weight, "prior": args.prior_weight, "temperature": args.temperature}, drop,
                       command_line("build-lm"), cuts=cuts)
    c, ppl = lm.meta["corpus"], lm.meta["perplexity_held_out_books"]["mean"]
    print(f"{args.out}: order {lm.order}, {len(lm.vocab)} characters, {c['characters']} in {c['columns']} columns of "
          f"{c['pages']} pages; perplexity on held-out books {ppl}")
    return 0
