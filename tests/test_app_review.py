"""AppTest: Evaluate, Label next, Augment, Train, Models and Export pages on a workspace made by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.predict.reading import read_scan
from kuzushi_core.train import jobs

from .test_app_read import ws  # noqa: F401 - a workspace with a read-able page and the bars model
from .test_classifier import tiny_model  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    at.sidebar.radio[0].set_value("en").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def read_ws(ws):  # noqa: F811
    scan = ws.list_scans()[0]
    read_scan(ws, scan, ws.active_model())
    boxes = ws.list_boxes(scan.id)
    ws.add_label(boxes[0].id, "丨")  # the model reads 一 here: one error
    ws.add_label(boxes[1].id, "丨")  # right
    ws.add_label(boxes[2].id, "〇")  # a character the model does not know
    return ws, scan, boxes


def test_evaluate_page_metrics_gallery_relabel_and_remove(read_ws):
    s, scan, boxes = read_ws
    at = open_page("app_pages/evaluate.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Labelled"] == "3" and metrics["Unknown to the model"] == "1"
    assert metrics["Accuracy"] == "0.333" and metrics["Accuracy (known chars)"] == "0.500"
    assert any("Misclassified" in h.value and "(2)" in h.value for h in at.subheader)
    # the model was right about box 0: relabel it with the prediction by one click
    at.button(key=f"eval_take_{boxes[0].id}").click().run()
    assert s.current_labels()[boxes[0].id].char == "一" and s.current_labels()[boxes[0].id].source == "user"
    # leave the 〇 box out of training and evaluation
    at.button(key=f"eval_remove_{boxes[2].id}").click().run()
    assert "excluded" in s.get_box(boxes[2].id).flags
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Labelled"] == "2" and metrics["Accuracy"] == "1.000"
    assert not at.exception


def test_evaluate_page_names_filter_and_review_of_a_colleague(read_ws):
    s, scan, boxes = read_ws
    for b in boxes[3:5]:
        s.add_label(b.id, "一", labelled_by="Aiko")
    s.add_label(boxes[5].id, "〇", labelled_by="Ben")
    at = open_page("app_pages/evaluate.py")
    at.sidebar.text_input(key="user_name_input").input("Ben").run()
    assert at.query_params["who"] == ["Ben"] or at.query_params["who"] == "Ben"
    # the filter lists every author with their count; Aiko's labels alone
    by = at.selectbox(key="eval_by")
    assert by.options == ["everyone", "(no name) (3)", "Aiko (2)", "Ben (1)"]
    by.set_value("Aiko").run()
    assert {m.label: m.value for m in at.metric}["Labelled"] == "2"
    assert any("labelled by Aiko" in c.value for c in at.caption)
    # Ben reviews Aiko's labels: two to confirm; one confirmation leaves two, with Aiko still the author
    at.selectbox(key="eval_review_who").set_value("Aiko").run()
    assert any("2 labels of Aiko to confirm" in c.value for c in at.caption)
    at.button(key=f"review_confirm_{boxes[3].id}").click().run()
    assert s.label_people()[boxes[3].id] == ("Aiko", ("Ben",))
    assert any("1 labels of Aiko to confirm" in c.value for c in at.caption)
    # a label typed under Ben's name is his
    at.text_input(key=f"review_fix_{boxes[4].id}").input("二")
    at.button(key=f"review_save_{boxes[4].id}").click().run()
    assert s.label_people()[boxes[4].id] == ("Ben", ()) and s.current_labels()[boxes[4].id].char == "二"
    assert not at.exception


def test_label_next_page_orders_by_uncertainty_and_labels_by_number(read_ws):
    s, scan, boxes = read_ws
    at = open_page("app_pages/queue.py")
    assert any("3 characters waiting" in c.value for c in at.caption)
    preds = s.predictions(scan.id, s.active_model().id)
    from kuzushi_core.evaluation.review import uncertainty_queue

    by_gain = uncertainty_queue(s, s.active_model().id)  # the default order: expected gain
    assert at.radio(key="queue_order").value == "gain"
    assert [t.key for t in at.main.text_input] == [f"queue_typed_{by_gain[0][0].id}"]  # the queue's first box
    at.radio(key="queue_order").set_value("uncertainty")
    at.run()
    unlabelled = sorted(boxes[3:], key=lambda b: (preds[b.id].confidence, b.id))
    first = unlabelled[0]
    at.text_input(key=f"queue_typed_{first.id}").input("2")
    next(b for b in at.button if b.label == "Save label").click().run()
    label = s.current_labels()[first.id]
    assert label.char == preds[first.id].candidates[1][0] and label.source == "user"
    assert any("2 characters waiting" in c.value for c in at.caption)


def test_augment_page_warns_and_saves_a_config(read_ws):
    s, _, _ = read_ws
    at = open_page("app_pages/augment.py")
    assert not at.error  # the safe preset has no warnings
    grids = [m.value for m in at.markdown if 'src="data:image/png;base64,' in m.value and "synthetic" not in m.value]
    assert len(grids) == 2  # the 4×8 grid and the originals, inline
    from kuzushi_core.synth import fonts

    if fonts.available():  # the synthetic source: a character in the brush fonts, as a crop of a scan would be
        synth = [m.value for m in at.markdown if 'alt="synthetic 地"' in m.value]
        assert len(synth) == 1
        at.text_input(key="aug_synth_char").input("畑").run()
        assert [m.value for m in at.markdown if 'alt="synthetic 畑"' in m.value]
        at.text_input(key="aug_synth_char").input("😀").run()
        assert any("No installed font" in w.value for w in at.warning)
    # knobs in plain words, the Keras name in the help
    assert at.slider(key="aug_rotation_range").label == "Tilt the character (±°)"
    assert "`rotation_range`" in at.slider(key="aug_rotation_range").help
    assert at.slider(key="aug_bleed_through").label == "Ink from the back of the sheet"
    at.toggle(key="aug_horizontal_flip").set_value(True).run()
    at.slider(key="aug_rotation_range").set_value(30.0).run()
    errors = " ".join(e.value for e in at.error)
    assert "horizontal flip" in errors and "rotation ±30°" in errors
    at.text_input(key="aug_name").input("risky")
    next(b for b in at.button if b.label == "Save config").click().run()
    saved = s.augment_configs()["risky"]
    assert saved["horizontal_flip"] is True and saved["rotation_range"] == 30.0
    # a saved config is offered as a preset and on the Train page
    at.selectbox(key="aug_preset").set_value("★ risky").run()
    assert at.toggle(key="aug_horizontal_flip").value is True


def test_train_page_queues_a_run_and_shows_its_curves(read_ws, monkeypatch):
    s, _, _ = read_ws
    monkeypatch.setattr(jobs, "ensure_worker", lambda store: None)  # the test runs the worker itself, below
    at = open_page("app_pages/train.py")
    at.number_input(key="train_kmnist").set_value(0).run()
    at.number_input(key="train_epochs").set_value(2).run()
    assert any("fewer than 10" in w.value.lower() or "Fewer than 10" in w.value for w in at.warning)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    run = s.list_runs()[0]
    assert run.status == "queued" and run.config["mode"] == "feature-extraction" and run.config["epochs"] == 2
    assert jobs.work(s) == 1
    assert s.get_run(run.id).status == "completed", s.get_run(run.id).error
    at.run()
    assert any("Done: model" in m.value for m in at.success)
    assert len(at.get("plotly_chart")) >= 1
    new = s.active_model()
    assert new.parent_id is not None and "〇" in new.classes  # the new class from the workspace labels


def test_train_page_takes_an_uploaded_zip_of_class_folders(read_ws, monkeypatch):
    from .test_classzip import png, zip_of

    s, _, _ = read_ws
    monkeypatch.setattr(jobs, "ensure_worker", lambda store: None)
    at = open_page("app_pages/train.py")
    at.number_input(key="train_kmnist").set_value(0).run()
    at.number_input(key="train_epochs").set_value(1).run()
    data = zip_of({f"train/畑/{i}.png": png(i) for i in range(12)} | {"test/畑/x.png": png(99)})
    at.file_uploader(key="train_zip").upload("my crops.zip", data, "application/zip").run()
    assert not at.exception, at.exception
    assert any("my crops.zip: 1 classes, 12 images (畑)" in c.value for c in at.caption)
    assert any("left out: test" in c.value for c in at.caption)  # test crops never go into training
    at.button(key="train_start").click().run()
    run = s.list_runs()[0]
    (folder,) = run.config["folders"]
    assert folder.startswith(str(s.files / "datasets")) and len(list(Path(folder, "畑").iterdir())) == 12
    assert jobs.work(s) == 1
    assert s.get_run(run.id).status == "completed", s.get_run(run.id).error
    assert "畑" in s.active_model().classes

    # a file that is no zip: a message, the page goes on
    at.file_uploader(key="train_zip").clear().upload("notes.zip", b"not a zip", "application/zip").run()
    assert not at.exception
    assert any("notes.zip is not a zip file" in e.value for e in at.error)


def test_models_page_activate_and_roll_back(read_ws):
    s, _, _ = read_ws
    base = s.active_model()
    child = s.register_model("child", base.path, base.classes, parent_id=base.id, activate=True)
    at = open_page("app_pages/models.py")
    # bars, its child, and the shipped models the app registers beside them (kmnist10, the reader)
    assert at.dataframe[0].value.shape[0] == len(s.list_models()) >= 3
    assert {"bars", "child", "kmnist10"} <= {m.name for m in s.list_models()}
    at.button(key="models_rollback").click().run()
    assert s.active_model().id == base.id
    at.selectbox(key="models_choose").set_value(child.id).run()
    at.button(key="models_activate").click().run()
    assert s.active_model().id == child.id
    # the chosen version's card, readable: its parent, who trained it (the run that made it), its figures in words
    run = s.create_run({"mode": "feature-extraction"}, started_by="Aiko")
    s.update_run(run.id, model_id=child.id, status="completed")
    reader = next(m for m in s.list_models() if m.name == "reader")
    at.selectbox(key="models_choose").set_value(child.id).run()
    shown = " ".join(m.value for m in at.markdown)
    assert f"#{base.id} bars" in shown and "Trained by**: Aiko" in shown
    assert {m.label for m in at.metric} >= {"Characters it knows", "Made"}
    at.selectbox(key="models_choose").set_value(reader.id).run()
    assert {m.label: m.value for m in at.metric}["Characters it knows"] == str(len(reader.classes))
    figures = at.table[0].value
    assert "KMNIST test accuracy (10,000 kana)" in figures.iloc[:, 0].tolist()
    assert any("train-reader" in c.value for c in at.code)  # the command that rebuilds it
    assert not at.exception


def test_export_page_formats(read_ws):
    s, scan, boxes = read_ws
    at = open_page("app_pages/export.py")
    code = at.code[0].value
    assert code.splitlines()[0].startswith("document,page,column,order,x,y,w,h,character,confidence,model_version,source")
    assert "〇" in code and ",user," in code and ",auto," in code
    for fmt in ("xlsx", "json", "text", "pagexml", "npz", "crops"):
        at.radio(key="export_format").set_value(fmt).run()
        assert not at.exception, (fmt, at.exception)
    assert any("3 labelled crops in 2 classes" in c.value for c in at.caption)


def test_evaluate_gallery_links_to_the_box_on_the_read_page(read_ws):
    s, scan, boxes = read_ws
    at = open_page("app_pages/evaluate.py")
    at.button(key=f"eval_page_{boxes[0].id}").click().run()
    assert not at.exception, at.exception
    assert at.session_state["read_box"] == boxes[0].id and at.session_state["read_scan"] == scan.id
    assert at.title[0].value == "Read: recognise characters"  # the Read page, opened on that box
    assert at.selectbox(key="read_box").value == boxes[0].id
