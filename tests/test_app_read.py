"""AppTest: the Read page reads a scan with a registered model and stores a correction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.data.intake import import_bytes
from kuzushi_core.imaging import encode_png
from kuzushi_core.predict.reading import transcription
from kuzushi_core.store import Store

from .test_classifier import tiny_model  # noqa: F401 - the module-scoped fixture

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path, monkeypatch, tiny_model):  # noqa: F811
    path, data = tiny_model
    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    s = Store(tmp_path / "ws")
    # a page with two columns of the test's glyphs, dark ink on paper
    page = np.full((900, 500), 235, np.uint8)
    for x in (320, 120):  # two columns of three glyphs
        for k, i in enumerate([0, 70, 150]):
            page[60 + 90 * k : 116 + 90 * k, x : x + 56] = 235 - np.kron(data.images[i], np.ones((2, 2), np.uint8)) * 0.85
    doc = s.ensure_document("L")
    import_bytes(s, encode_png(page), "p.png", doc.id)
    s.register_model("bars", str(path), data.classes, activate=True)
    return s


def review_list(at):
    return at.selectbox(key="read_box")


def test_read_page_reads_and_corrects(ws):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/read.py").run()
    at.sidebar.radio[0].set_value("en").run()
    assert any("Not read yet" in i.value for i in at.info)
    at.button(key="read_run").click().run()
    assert not at.exception, at.exception
    scan = ws.list_scans()[0]
    model = ws.active_model()
    preds = ws.predictions(scan.id, model.id)
    boxes = ws.list_boxes(scan.id)
    assert len(boxes) == 6 and set(preds) == {b.id for b in boxes}
    # each glyph's own reading (crop by crop): right column first, top to bottom
    assert [preds[b.id].candidates[0][0] for b in boxes] == ["一", "丨", "口"] * 2
    assert transcription(ws, scan, model, in_context=False) == ["一丨口", "一丨口"]
    # in context the language model may overrule a glyph (丨 is no character of classical text), only ever for one
    # of the glyph's own candidates, and the page can show either reading
    assert all(preds[b.id].label in [c for c, _ in preds[b.id].candidates] for b in boxes)
    assert transcription(ws, scan, model) == ["".join(preds[b.id].label for b in boxes[:3]),
                                              "".join(preds[b.id].label for b in boxes[3:])]
    at.radio(key="read_view").set_value("crop").run()
    assert not at.exception and any("otherwise in context" in c.value for c in at.caption)
    assert "一丨口" in at.code[0].value

    # correct the box under review by clicking a candidate, then by typing
    box_id = review_list(at).value
    at.toggle(key=f"read_more_{box_id}").set_value(True).run()  # the longer list, computed for this crop
    assert not at.exception, at.exception
    assert len([b for b in at.button if b.key and b.key.startswith(f"cand_{box_id}_")]) == len(model.classes)
    at.button(key=f"cand_{box_id}_1").click().run()
    assert ws.current_labels(scan.id)[box_id].source == "user"
    assert review_list(at).value != box_id  # on to the next uncertain character
    review_list(at).set_value(boxes[0].id).run()
    at.text_input(key=f"typed_{boxes[0].id}").input("〇")
    form_buttons = [b for b in at.button if b.label == "Save label"]
    form_buttons[0].click().run()
    assert ws.current_labels(scan.id)[boxes[0].id].char == "〇"
    assert transcription(ws, scan, model)[0][0] == "〇"
    assert not at.exception


def test_learn_from_my_corrections_scores_the_new_version_beside_its_parent(ws):
    import time

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/read.py").run()
    at.sidebar.radio[0].set_value("en").run()
    at.button(key="read_run").click().run()
    scan = ws.list_scans()[0]
    parent = ws.active_model()
    boxes = ws.list_boxes(scan.id)
    for b, ch in zip(boxes, ["一", "丨", "口"] * 2):
        ws.add_label(b.id, ch, "user")
    at.run()
    learn = at.button(key="read_learn")
    assert "6 labels" in learn.label and not learn.disabled
    learn.click().run()
    assert not at.exception, at.exception
    deadline = time.time() + 240
    while time.time() < deadline and ws.list_runs()[0].status in ("queued", "running"):
        time.sleep(1)
    run = ws.list_runs()[0]
    assert run.status == "completed", run.error
    assert run.config["kind"] == "adapt" and ws.get_model(run.model_id).parent_id == parent.id
    at.run()
    assert not at.exception, at.exception
    shown = " ".join([m.label for m in at.metric] + [x.value for x in at.success] + [x.value for x in at.warning])
    if run.metrics["scores"].get("holdout"):
        assert "Held-out labels" in shown
    if run.metrics["activated"]:
        assert ws.active_model().id == run.model_id and "is active" in shown
        assert len(ws.predictions(scan.id, run.model_id)) == len(boxes)  # the page was re-read
    else:
        assert ws.active_model().id == parent.id and "not made active" in shown
        at.button(key=f"read_learn_activate_{run.id}").click().run()
        assert ws.active_model().id == run.model_id
    assert len(ws.current_labels(scan.id)) == 6  # no label lost
