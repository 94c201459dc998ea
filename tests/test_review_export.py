"""Error analysis, the model registry's import/export, exports (CSV, JSON, text, PAGE XML, npz, crops zip),
annotation import, and the store's v3 additions."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import numpy as np
import pytest

from kuzushi_core.containers import Prediction
from kuzushi_core.data import export
from kuzushi_core.data.datasets import load_class_folders, load_seed_npz
from kuzushi_core.data.intake import import_annotations, import_bytes
from kuzushi_core.evaluation.metrics import (
    compare_versions,
    mean_curves,
    most_confused_pairs,
    overfitting_onset,
    reliability_curve,
    top_losses,
)
from kuzushi_core.evaluation.review import compare, evaluation_from_probs, uncertainty_queue
from kuzushi_core.paths import DEMO_PAGE, schemas_dir
from kuzushi_core.predict.classifier import ModelFileError
from kuzushi_core.store import SCHEMA_VERSION, Store
from kuzushi_core.train.fit import oversample
from kuzushi_core.train.registry import export_model_zip, import_model, rollback

from .conftest import need
from .glyphs import bars
from .test_classifier import tiny_model  # noqa: F401


# -- evaluate helpers ------------------------------------------------------------
def test_confused_pairs_top_losses_reliability_and_version_diff():
    cm = np.array([[5, 2, 0], [0, 4, 3], [1, 0, 6]])
    assert most_confused_pairs(cm, "abc", 2) == [("b", "c", 3), ("a", "b", 2)]
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.55, 0.45]])
    y = np.array([0, 0, 0, 1])
    assert top_losses(probs, y).tolist() == [2, 1, 3]  # misclassified, highest loss first
    rel = reliability_curve(probs, y, bins=2)
    assert sum(b["n"] for b in rel) == 4 and all(0 <= b["accuracy"] <= 1 for b in rel)
    d = compare_versions(np.array([0, 1, 2]), np.array([0, 0, 1]), np.array([1, 1, 1]))
    assert d["fixed"].tolist() == [1] and d["broke"].tolist() == [0] and d["both_wrong"].tolist() == [2]


def test_overfitting_onset_and_kfold_mean_curves():
    good = [{"epoch": e, "loss": 1 / (e + 1), "val_loss": 1 / (e + 1) + 0.1} for e in range(6)]
    assert overfitting_onset(good) is None
    over = [{"epoch": e, "loss": 1 / (e + 1), "val_loss": [0.9, 0.6, 0.5, 0.55, 0.62, 0.7][e]} for e in range(6)]
    assert overfitting_onset(over) == 2
    rows = [{"epoch": 0, "fold": 0, "loss": 1.0, "val_loss": 1.2}, {"epoch": 0, "fold": 1, "loss": 0.8, "val_loss": 1.0}]
    (m,) = mean_curves(rows)
    assert m["folds"] == 2 and m["loss"] == pytest.approx(0.9) and m["loss_std"] == pytest.approx(0.1)


def test_evaluation_keeps_out_of_vocabulary_labels_as_their_own_rows():
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    ev = evaluation_from_probs(("あ", "い"), probs, np.zeros((4, 28, 28), np.uint8), ["あ", "あ", "〇", "い"],
                               box_ids=[10, 11, 12, 13], scan_ids=[1, 1, 1, 1])
    assert ev.classes == ("あ", "い", "〇") and ev.out_of_vocabulary == 1
    assert ev.report["accuracy"] == pytest.approx(0.5) and ev.report["accuracy_in_vocabulary"] == pytest.approx(2 / 3)
    assert [it.box_id for it in ev.misclassified()] == [12, 11]  # the unknown 〇 has the highest loss
    assert [it.box_id for it in ev.cell("あ", "い")] == [11]
    other = evaluation_from_probs(("あ", "い"), probs[[0, 0, 0, 3]], np.zeros((4, 28, 28), np.uint8),
                                  ["あ", "あ", "〇", "い"])
    assert compare(ev, other) == {"fixed": [1], "broke": [], "both_wrong": [2]}  # what `other` changed
    assert compare(other, ev) == {"fixed": [], "broke": [1], "both_wrong": [2]}


# -- workspace fixtures ----------------------------------------------------------
@pytest.fixture
def demo_ws(tmp_path, tiny_model):  # noqa: F811
    """The demo ledger page with boxes, predictions of the bars model, and one user label."""
    path, data = tiny_model
    s = Store(tmp_path / "ws")
    doc = s.ensure_document("台帳 & 帳簿")
    import_bytes(s, DEMO_PAGE.read_bytes(), "ledger_demo.jpg", doc.id)
    scan = s.list_scans()[0]
    from kuzushi_core.predict.reading import read_scan

    model = s.register_model("bars", str(path), data.classes, activate=True)
    read_scan(s, scan, model)
    return s, scan, model


def test_annotation_import_labels_boxes_and_keeps_user_labels(demo_ws):
    s, scan, _ = demo_ws
    boxes = s.list_boxes(scan.id)
    s.add_label(boxes[0].id, "〇")  # a person's label
    csv_bytes = (DEMO_PAGE.parent / "ledger_demo_coordinate.csv").read_bytes()
    done = import_annotations(s, scan, csv_bytes, "ledger_demo_coordinate.csv")
    assert done["true_boxes"] == 47 and done["kept_user_labels"] == 1
    labels = s.current_labels(scan.id)
    assert labels[boxes[0].id].char == "〇" and labels[boxes[0].id].source == "user"
    assert sum(lab.source == "import" for lab in labels.values()) == 46
    with pytest.raises(Exception, match="not a CODH|no annotated|no page"):
        import_annotations(s, scan, b"\x00\x01garbage", "x.csv")


def test_exports_csv_json_text_and_page_xml_validates(demo_ws):
    s, scan, model = demo_ws
    boxes = s.list_boxes(scan.id)
    s.add_label(boxes[1].id, "〇")
    pages = export.page_rows(s, [scan], model)
    rows = [r for p in pages for r in p.rows]
    parsed = list(csv.DictReader(io.StringIO(export.to_csv(rows))))
    assert list(parsed[0])[:12] == ["document", "page", "column", "order", "x", "y", "w", "h", "character",
                                    "confidence", "model_version", "source"]
    assert len(parsed) == len(boxes)
    fixed = next(r for r in parsed if int(r["box_id"]) == boxes[1].id)
    assert fixed["character"] == "〇" and fixed["source"] == "user" and fixed["document"] == "台帳 & 帳簿"
    auto = next(r for r in parsed if int(r["box_id"]) == boxes[2].id)
    assert auto["source"] == "auto" and auto["model_version"] == f"bars (#{model.id})" and float(auto["confidence"]) > 0
    assert [int(r["order"]) for r in parsed] == list(range(1, len(parsed) + 1))
    doc = json.loads(export.to_json(pages, model))
    assert doc["pages"][0]["transcription"] == export._columns(rows) and doc["model"]["classes"] == list(model.classes)
    text = export.to_text(pages)
    assert text.splitlines()[0] == "# 台帳 & 帳簿 / p.1 ledger_demo.jpg" and "〇" in text.splitlines()[1]
    xml = export.to_page_xml(pages[0])
    xsd = need(schemas_dir() / "pagecontent-2019-07-15.xsd", "the PAGE XML schema")
    assert export.validate_page_xml(xml, xsd) == []
    assert xml.count("<Glyph ") == len(boxes) and "<Unicode>〇</Unicode>" in xml and "&amp;" in xml
    broken = xml.replace("<Coords points", "<Coordz points", 1)
    assert export.validate_page_xml(broken, xsd)  # the validator does catch a broken file


def test_crops_zip_and_seed_npz_round_trip(demo_ws, tmp_path):
    s, scan, _ = demo_ws
    boxes = s.list_boxes(scan.id)
    for b, c in zip(boxes[:6], "あいあう/あ"):
        s.add_label(b.id, c)
    items = export.labelled_crops(s, [scan])
    assert len(items) == 6
    z = zipfile.ZipFile(io.BytesIO(export.to_crops_zip(items)))
    names = z.namelist()
    assert {n.split("/")[0] for n in names} == {"あ", "い", "う", "U+002F"}  # "/" cannot be a folder name
    z.extractall(tmp_path / "crops")
    back = load_class_folders(tmp_path / "crops")  # dark-on-light crops load as glyphs (either polarity)
    assert back.counts() == {"U+002F": 1, "あ": 3, "い": 1, "う": 1}
    npz = tmp_path / "seed.npz"
    npz.write_bytes(export.to_seed_npz(items, 64))
    seed = load_seed_npz(npz, 64)
    assert seed.classes == ("/", "あ", "い", "う") and len(seed) == 6 and seed.images.shape[1:] == (64, 64)


def test_uncertainty_queue_orders_unlabelled_boxes_by_confidence(demo_ws):
    s, scan, model = demo_ws
    boxes = s.list_boxes(scan.id)
    s.add_label(boxes[0].id, "x")
    s.set_box_flags(boxes[1].id, "excluded")
    q = uncertainty_queue(s, model.id, order="uncertainty")
    ids = [b.id for b, _ in q]
    assert boxes[0].id not in ids and boxes[1].id not in ids and len(ids) == len(boxes) - 2
    confs = [p.confidence for _, p in q]
    assert confs == sorted(confs)
    rand = uncertainty_queue(s, model.id, order="random")
    assert sorted(b.id for b, _ in rand) == sorted(ids)


def test_expected_gain_prefers_a_doubt_about_a_frequent_character():
    from kuzushi_core.containers import Prediction
    from kuzushi_core.evaluation.review import expected_gain

    counts = {"の": 40, "之": 1, "乃": 2}
    frequent = Prediction("の", 0.5, (("の", 0.5), ("乃", 0.3)))
    rare = Prediction("之", 0.4, (("之", 0.4), ("乃", 0.3)))
    sure = Prediction("の", 0.99, (("の", 0.99),))
    assert expected_gain(frequent, counts) > expected_gain(rare, counts) > 0
    assert expected_gain(sure, counts) < expected_gain(frequent, counts)


# -- registry --------------------------------------------------------------------
def test_model_import_refuses_bad_files_and_leaves_the_registry_unchanged(tmp_path, tiny_model):  # noqa: F811
    import keras

    path, data = tiny_model
    s = Store(tmp_path / "ws")
    s.register_model("bars", str(path), data.classes, activate=True)
    card = path.with_suffix(".json").read_bytes()
    before = s.list_models()

    inp = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    lam_model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x)))
    lam = tmp_path / "lambda.keras"
    lam_model.save(lam)
    inp = keras.Input((32, 32, 3))
    wrong_model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inp)))
    wrong = tmp_path / "wrong.keras"
    wrong_model.save(wrong)
    cases = {
        "corrupt": (path.read_bytes()[:700], card, "not a Keras model file|cannot be loaded"),
        "lambda": (lam.read_bytes(), card, "cannot be loaded safely"),
        "wrong shape": (wrong.read_bytes(), card, "expects input"),
        "no card": (path.read_bytes(), None, "model card"),
        "bad card": (path.read_bytes(), b"{not json", "not valid JSON"),
        "empty": (b"", card, "empty"),
    }
    for name, (blob, c, msg) in cases.items():
        with pytest.raises(ModelFileError, match=msg):
            import_model(s, blob, c, name)
        assert s.list_models() == before, name
        assert not list((s.files / "models").glob("*.keras")) if (s.files / "models").exists() else True
    rec = import_model(s, path.read_bytes(), card, "copy")
    assert rec.classes == data.classes and not rec.active and len(s.list_models()) == 2
    stem = rec.path.rsplit("/", 1)[-1][: -len(".keras")]
    z = zipfile.ZipFile(io.BytesIO(export_model_zip(rec)))
    assert sorted(z.namelist()) == [f"{stem}.json", f"{stem}.keras"]


def test_rollback_goes_to_the_parent(tmp_path, tiny_model):  # noqa: F811
    path, data = tiny_model
    s = Store(tmp_path / "ws")
    a = s.register_model("a", str(path), data.classes, activate=True)
    with pytest.raises(ModelFileError, match="no earlier"):
        rollback(s)
    b = s.register_model("b", str(path), data.classes, parent_id=a.id, activate=True)
    s.register_model("c", str(path), data.classes, parent_id=b.id, activate=True)
    assert rollback(s).id == b.id and rollback(s).id == a.id


# -- store v3 and training helpers ------------------------------------------------
def test_store_v3_cancel_flags_and_augment_configs(store):
    assert store.schema_version() == SCHEMA_VERSION >= 3
    r1 = store.create_run({"mode": "scratch"})
    r2 = store.create_run({"mode": "scratch"})
    claimed = store.claim_next_run(pid=4242)
    assert claimed.id == r1.id and claimed.status == "running" and claimed.pid == 4242
    store.request_cancel(r2.id)  # a queued run is cancelled at once
    assert store.get_run(r2.id).status == "cancelled" and store.claim_next_run(1) is None
    store.request_cancel(r1.id)  # a running one is asked to stop
    assert store.cancel_requested(r1.id) and store.get_run(r1.id).status == "running"
    store.save_augment_config("mine", {"rotation_range": 5})
    assert store.augment_configs() == {"mine": {"rotation_range": 5}}
    with pytest.raises(Exception, match="name"):
        store.save_augment_config("  ", {})


def test_oversample_balances_every_class():
    data = bars(20)
    small = data.subset(np.r_[0:20, 20:23, 40:45])
    big = oversample(small)
    assert big.counts() == {"一": 20, "丨": 20, "口": 20}
    assert set(map(bytes, big.images[big.labels == 1].reshape(60 // 3, -1))) == \
        set(map(bytes, small.images[small.labels == 1].reshape(3, -1)))


def test_predictions_record_round_trip(store):
    doc = store.ensure_document()
    (scan,), _ = store.add_scans(doc.id, [dict(content_hash="h", page_index=0, source_name="p.png", byte_size=1,
                                               width=10, height=10, format="PNG", image_path="x.png")])
    (b,) = store.add_boxes(scan.id, [dict(x=1, y=1, w=3, h=3)])
    m = store.register_model("m", "m.keras", ["a", "b"])
    store.save_predictions(m.id, [(b.id, Prediction("a", 0.7, (("a", 0.7), ("b", 0.3))))])
    assert store.all_predictions(m.id)[b.id].candidates == (("a", 0.7), ("b", 0.3))


def test_export_cli(demo_ws, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    s, scan, _ = demo_ws
    s.add_label(s.list_boxes(scan.id)[0].id, "〇")
    root = Path(__file__).resolve().parent.parent
    run = lambda *a: subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(s.root), *a],  # noqa: E731
                                    cwd=root, capture_output=True, text=True, timeout=120)
    r = run("--format", "csv", "--out", str(tmp_path / "x.csv"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "x.csv", encoding="utf-8")))
    assert rows[0]["character"] == "〇" and rows[0]["source"] == "user" and len(rows) == len(s.list_boxes(scan.id))
    r = run("--format", "pagexml", "--out", str(tmp_path / "xml"))
    assert r.returncode == 0 and len(list((tmp_path / "xml").glob("*.xml"))) == 1
    r = run("--format", "csv", "--out", str(tmp_path / "y.csv"), "--document", "nope")
    assert r.returncode == 1 and "no document named" in r.stderr


def test_labels_split_into_corrections_and_confirmations(demo_ws):
    from kuzushi_core.evaluation.review import accuracy_by_kind, evaluate_workspace, label_kinds
    from kuzushi_core.predict.reading import loaded

    s, scan, model = demo_ws
    boxes = s.list_boxes(scan.id)
    preds = s.predictions(scan.id, model.id)
    s.add_label(boxes[0].id, preds[boxes[0].id].label)  # agrees with the reading shown: a confirmation
    # differs from the reading shown (in context) and from the glyph's own best candidate: a correction the model
    # gets wrong crop by crop as well
    shown = preds[boxes[1].id]
    wrong = next(c for c in model.classes if c not in (shown.label, shown.candidates[0][0]))
    s.add_label(boxes[1].id, wrong)  # differs: a correction
    kinds = label_kinds(s, [boxes[0].id, boxes[1].id])
    assert kinds == {boxes[0].id: "confirmation", boxes[1].id: "correction"}
    ev = evaluate_workspace(s, loaded(model))
    by = accuracy_by_kind(ev, kinds)
    assert by["correction"] == (0.0, 1)  # the model that showed the reading scores 0 there by construction
    assert by["confirmation"][1] == 1


def same(a, b) -> bool:
    """Two tables read as text hold the same rows (a number may be written 1 or 1.0)."""
    def norm(v):
        try:
            return float(v)
        except ValueError:
            return v
    return [{k: norm(v) for k, v in r.items()} for r in a.to_dict("records")] == \
        [{k: norm(v) for k, v in r.items()} for r in b.to_dict("records")]


def test_excel_ready_exports_bom_csv_and_xlsx_with_the_same_rows(demo_ws, tmp_path):
    """The app's CSV starts with a byte-order mark (Japanese Excel then reads UTF-8, not Shift-JIS); the workbook
    holds the same character rows as the CSV and one row a column of transcription; the CLI's CSV stays plain
    unless ``--excel``, and writes ``--format xlsx``."""
    import io
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    from kuzushi_core.data import export

    s, scan, model = demo_ws
    s.add_label(s.list_boxes(scan.id)[0].id, "畑")
    app_csv = export.export_file(s, [scan], "csv", model, "x")
    assert app_csv.data.startswith("\ufeff".encode()) and app_csv.data[3:].decode("utf-8").startswith("document,")
    assert "畑".encode("shift_jis") not in app_csv.data  # UTF-8, which only the mark tells Excel
    book = export.export_file(s, [scan], "xlsx", model, "x")
    sheets = pd.read_excel(io.BytesIO(book.data), sheet_name=None, dtype=str, keep_default_na=False)
    assert set(sheets) == {"characters", "transcription"}
    from_csv = pd.read_csv(io.BytesIO(app_csv.data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(sheets["characters"].columns) == list(export.CSV_COLUMNS) == list(from_csv.columns)
    assert same(sheets["characters"], from_csv)
    lines = export.to_text(export.page_rows(s, [scan], model)).splitlines()[1:]
    assert list(sheets["transcription"]["text"]) == [ln for ln in lines if ln]

    root = Path(__file__).resolve().parent.parent
    run = lambda *a: subprocess.run([sys.executable, "-m", "kuzushi_core", "export", "--workspace", str(s.root), *a],  # noqa: E731
                                    cwd=root, capture_output=True, text=True, timeout=120)
    assert run("--format", "csv", "--out", str(tmp_path / "plain.csv")).returncode == 0
    assert not (tmp_path / "plain.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert run("--format", "csv", "--excel", "--out", str(tmp_path / "excel.csv")).returncode == 0
    assert (tmp_path / "excel.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    r = run("--format", "xlsx", "--out", str(tmp_path / "book.xlsx"))
    assert r.returncode == 0, r.stderr
    cli_book = pd.read_excel(tmp_path / "book.xlsx", sheet_name="characters", dtype=str, keep_default_na=False)
    assert same(cli_book, from_csv)


def test_who_labelled_what_in_exports_evaluation_filter_and_review(demo_ws, tmp_path):
    from kuzushi_core.evaluation.review import evaluate_workspace, to_confirm
    from kuzushi_core.predict.reading import loaded

    s, scan, model = demo_ws
    boxes = s.list_boxes(scan.id)
    for b in boxes[:3]:
        s.add_label(b.id, "〇", labelled_by="Aiko")
    for b in boxes[3:5]:
        s.add_label(b.id, "一", labelled_by="Ben")
    s.add_label(boxes[0].id, "〇", labelled_by="Ben")  # Ben confirms one of Aiko's
    # the exports name the author and the confirmations
    rows = {int(r["box_id"]): r for r in csv.DictReader(io.StringIO(
        export.to_csv(export.character_rows(s, [scan], model))))}
    assert (rows[boxes[0].id]["labelled_by"], rows[boxes[0].id]["confirmed_by"]) == ("Aiko", "Ben")
    assert (rows[boxes[4].id]["labelled_by"], rows[boxes[4].id]["confirmed_by"]) == ("Ben", "")
    assert rows[boxes[6].id]["labelled_by"] == "" and rows[boxes[6].id]["source"] == "auto"
    data = export.export_file(s, [scan], "xlsx", model, "x").data
    import pandas as pd

    sheet = pd.read_excel(io.BytesIO(data), sheet_name="characters").fillna("")
    assert sheet.set_index("box_id").loc[boxes[1].id, "labelled_by"] == "Aiko"
    # the evaluation of one person's labels
    lm = loaded(model)
    ev_a, ev_b = evaluate_workspace(s, lm, labelled_by="Aiko"), evaluate_workspace(s, lm, labelled_by="Ben")
    assert sorted(it.box_id for it in ev_a.items) == sorted(b.id for b in boxes[:3])
    assert sorted(it.box_id for it in ev_b.items) == sorted(b.id for b in boxes[3:5])
    assert len(evaluate_workspace(s, lm).items) == 5
    # Ben's review of Aiko's labels: the two he has not confirmed, the worst first; none of his own
    people = s.label_people()
    todo = to_confirm(ev_a, people, "Aiko", "Ben")
    assert sorted(it.box_id for it in todo) == sorted(b.id for b in boxes[1:3])
    assert [it.loss for it in todo] == sorted((it.loss for it in todo), reverse=True)
    assert to_confirm(ev_a, people, "Aiko", "Aiko") == [] and to_confirm(ev_a, people, "Aiko", "") == []
