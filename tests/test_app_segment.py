"""AppTest: the Segment page runs the segmentation, stores boxes and edits them."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.data.intake import import_bytes
from kuzushi_core.imaging import encode_png
from kuzushi_core.store import Store
from kuzushi_core.synth.kanapages import LedgerParams, generate_page

from .test_segmentation import synthetic_glyphs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    s = Store(tmp_path / "ws")
    page = generate_page(synthetic_glyphs(), seed=5, params=LedgerParams(width=600, height=900))
    doc = s.ensure_document("Ledger")
    import_bytes(s, encode_png(page.image), "ledger.png", doc.id)
    return s


def test_segment_page_without_scans(tmp_path, monkeypatch):
    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(tmp_path / "empty"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/segment.py").run()
    assert not at.exception
    assert any("スキャンがありません" in i.value for i in at.info)


def test_run_edit_and_rerun_keeps_user_boxes_and_labels(ws):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/segment.py").run()
    at.sidebar.radio[0].set_value("en").run()
    assert any("No boxes yet" in i.value for i in at.info)
    at.button(key="seg_run").click().run()
    assert not at.exception, at.exception
    scan = ws.list_scans()[0]
    boxes = ws.list_boxes(scan.id)
    assert len(boxes) > 10 and all(b.source == "auto" for b in boxes)
    assert any("boxes found" in m.value for m in at.success)

    # merge the first two boxes (selection is what a click on the image sets)
    a, b = boxes[0], boxes[1]
    at.session_state["seg_selected"] = [a.id, b.id]
    at.run()
    at.button(key="seg_merge").click().run()
    after = ws.list_boxes(scan.id)
    assert len(after) == len(boxes) - 1
    merged = [x for x in after if x.source == "user"]
    assert len(merged) == 1 and merged[0].x == min(a.x, b.x) and merged[0].y == min(a.y, b.y)

    # split it again, then delete one half
    at.session_state["seg_selected"] = [merged[0].id]
    at.run()
    at.button(key="seg_split").click().run()
    halves = [x for x in ws.list_boxes(scan.id) if x.source == "user"]
    assert len(halves) == 2
    at.session_state["seg_selected"] = [halves[0].id]
    at.run()
    at.button(key="seg_delete").click().run()
    assert len(ws.list_boxes(scan.id)) == len(boxes) - 1

    # a label on an auto box, then a re-run: the user box and the labelled box survive
    auto = [x for x in ws.list_boxes(scan.id) if x.source == "auto"][3]
    ws.add_label(auto.id, "〇")
    at.button(key="seg_run").click().run()
    final = ws.list_boxes(scan.id)
    assert any(x.id == halves[1].id for x in final)
    assert ws.current_labels(scan.id)[auto.id].char == "〇"
    assert sorted(x.order for x in final) == list(range(len(final)))


def test_specks_are_left_out_unless_the_slider_keeps_them(tmp_path, monkeypatch):
    """Dots of dirt below the characters are no boxes by default; with the speck slider at 0 they are. The page is a
    ruled form, read cell by cell: the cells' own boxes lose their specks too."""
    import cv2
    import numpy as np

    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.chdir(ROOT)
    s = Store(tmp_path / "ws")
    page = generate_page(synthetic_glyphs(), seed=3, params=LedgerParams(width=800, height=1200))
    char = float(np.median([max(b.w, b.h) for b in page.boxes]))
    img = page.image.copy()
    clear = 0.5 * char
    dots = []
    for b in page.boxes:
        x, y = int(b.x + b.w / 2), int(b.y + b.h + 0.8 * char)
        if y < img.shape[0] - 0.3 * char and not any(
                o.x - clear <= x <= o.x + o.w + clear and o.y - clear <= y <= o.y + o.h + clear for o in page.boxes):
            cv2.circle(img, (x, y), max(2, int(0.05 * char)), (30, 30, 30), -1)
            dots.append((x, y))
    assert len(dots) >= 3
    import_bytes(s, encode_png(img), "dirty.png", s.ensure_document("Ledger").id)
    scan = s.list_scans()[0]

    def on_dots():
        return sum(any(b.x - 2 <= x <= b.x + b.w + 2 and b.y - 2 <= y <= b.y + b.h + 2 for b in s.list_boxes(scan.id))
                   for x, y in dots)

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/segment.py").run()
    at.button(key="seg_run").click().run()
    assert not at.exception, at.exception
    assert len(s.list_boxes(scan.id)) > 10 and on_dots() == 0
    at.slider(key="p_min_char").set_value(0.0).run()
    at.button(key="seg_run").click().run()
    assert not at.exception, at.exception
    assert on_dots() >= 3  # (a dot at a cell's edge is taken for what is left of the ruling even so)


def test_the_method_is_chosen_shown_and_remembered(ws):
    from kuzushi_core.segment.refine import METHOD_SETTING

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    at.switch_page("app_pages/segment.py").run()
    at.sidebar.radio[0].set_value("en").run()
    radio = at.radio(key="seg_method")
    assert list(radio.options) == ["Columns (image only)", "Columns, then joined and split by reading"]
    radio.set_value("columns+reading").run()
    at.button(key="seg_run").click().run()
    assert not at.exception, at.exception
    scan = ws.list_scans()[0]
    assert ws.get_setting(METHOD_SETTING.format(scan_id=scan.id)) == "columns+reading"
    assert len(ws.list_boxes(scan.id)) > 10
    assert any("made by: Columns, then joined and split by reading" in c.value for c in at.caption)
    # a new session on the page shows the method that made the boxes
    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    again.switch_page("app_pages/segment.py").run()
    again.sidebar.radio[0].set_value("en").run()
    assert again.radio(key="seg_method").value == "columns+reading"
    again.radio(key="seg_method").set_value("columns").run()
    again.button(key="seg_run").click().run()
    assert ws.get_setting(METHOD_SETTING.format(scan_id=scan.id)) == "columns"
    assert any("made by: Columns (image only)" in c.value for c in again.caption)
