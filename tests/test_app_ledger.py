"""AppTest: the Ledger page on a workspace with a generated register: cells, the template editor, reading
with the template, the lots table, a flagged value fixed by a typed text."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.ledger import workspace as lw
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.store import Store
from kuzushi_core.synth.registers import generate_register, save

from .test_ledger_registers import fonts_installed  # noqa: F401
from .test_ledger_workspace import field_picks

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path, monkeypatch):
    path = tmp_path / "ws"
    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(path))
    monkeypatch.chdir(ROOT)
    store = Store(path)
    ensure_default_model(store)
    doc = store.ensure_document("Vol")
    reg = generate_register(12, "lot", form_seed=7)
    image, _ = save(reg, tmp_path, "page")
    import_paths(store, [image], doc.id)
    return store, reg


def test_ledger_page_template_read_and_type(ws):
    store, reg = ws
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("app_pages/ledger.py").run()
    assert not at.exception, at.exception
    assert any("ruled cells" in c.value for c in at.caption)
    scan = store.list_scans()[0]
    cells, _ = lw.page_cells(store, scan)
    for index, name, _lot in field_picks(cells, reg):
        at.session_state["ledger_cell"] = index  # what a click on the cell sets
        at.run()
        at.selectbox(key="ledger_field").set_value(name).run()
        at.button(key="ledger_assign").click().run()
    assert at.dataframe[0].value.shape[0] == 5  # the marked fields
    at.text_input(key="ledger_tpl_name").input("様式").run()
    at.button(key="ledger_save_tpl").click().run()
    assert not at.exception, at.exception
    assert any("様式" in s.value for s in at.success)
    (tpl,) = store.list_templates()
    assert at.selectbox(key="ledger_template").value == tpl["id"]
    at.button(key="ledger_read").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value  # the lots
    assert list(table["heading"]) == ["地番", "地目", "反別", "地価", "地租"]
    # every flagged value has its own editor; typing the right text fixes it and clears the flag
    reading = lw.read_page(store, scan, tpl["id"], store.active_model())
    if not reading.lots[0].flags:  # the reader got the lot right: a wrong label gives the checks a value to flag
        store.add_label(reading.boxes[(0, "lot_no")][0], "〆")
        at.button(key="ledger_read").click().run()
        reading = lw.read_page(store, scan, tpl["id"], store.active_model())
    flagged = [fl.field for fl in reading.lots[0].flags]
    assert flagged
    name = flagged[0]
    at.text_input(key=f"ledger_edit_0_{name}").input(reg.lots[0][name]["text"]).run()
    at.button(key=f"ledger_save_0_{name}").click().run()
    assert not at.exception
    fixed = lw.read_page(store, scan, tpl["id"], store.active_model()).lots[0].fields[name]
    assert fixed.value == reg.lots[0][name]["value"] and fixed.source == "user"


def test_ledger_page_on_a_page_without_ruled_cells(ws, tmp_path):
    """A blank page in a volume that has a template: the page says that no ruled cells were found, reading with
    the template answers with a message (no exception), and nothing stored is lost."""
    import cv2
    import numpy as np

    from kuzushi_core.ledger.templates import make_template

    store, reg = ws
    first = store.list_scans()[0]
    cells, _ = lw.page_cells(store, first)
    tpl = make_template("様式", cells, field_picks(cells, reg))
    tid = store.save_template(first.document_id, "様式", tpl.to_json(), first.id)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((900, 700), 245, np.uint8))
    import_paths(store, [blank], first.document_id)
    scan = next(s for s in store.list_scans() if s.source_name == "blank.png")
    store.add_boxes(scan.id, [{"x": 10, "y": 10, "w": 30, "h": 30}])
    box = store.list_boxes(scan.id)[0]
    store.add_label(box.id, "田")
    before = (store.list_boxes(scan.id), store.current_labels(scan.id), store.list_templates())

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("app_pages/ledger.py").run()
    at.selectbox(key="ledger_scan").set_value(scan.id).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="ledger_template").value == tid
    assert any("0 ruled cells" in c.value for c in at.caption), [c.value for c in at.caption]
    if at.button(key="ledger_read"):  # offered: reading must answer with a message
        at.button(key="ledger_read").click().run()
        assert not at.exception, at.exception
        assert any("no ruled cells" in e.value for e in at.error), [e.value for e in at.error]
    assert (store.list_boxes(scan.id), store.current_labels(scan.id), store.list_templates()) == before


def test_ledger_page_proposes_a_template_from_the_headings(ws):
    """No clicks on cells: the headings propose the template; accepted, it reads the lots; a hand-marked
    template saved later is the one the page opens with."""
    store, reg = ws
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("app_pages/ledger.py").run()
    at.button(key="ledger_propose").click().run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in at.markdown)
    assert "**1 lots**" in shown and "地番" in shown and "反別" in shown
    at.button(key="ledger_accept").click().run()
    (tpl,) = store.list_templates()
    assert tpl["name"].startswith(lw.PROPOSED) and at.selectbox(key="ledger_template").value == tpl["id"]
    at.button(key="ledger_read").click().run()
    assert not at.exception, at.exception
    lots = at.dataframe[-1].value
    truth = {f: v["value"] for f, v in reg.lots[0].items()}
    got = dict(zip(lots.iloc[:, 1], lots.iloc[:, 3]))  # heading → value (as shown)
    assert {"字", "地番", "地目", "反別", "地価", "地租"} <= set(got)
    assert sum(str(truth[f]) == got[h] for f, h in (("lot_no", "地番"), ("category", "地目"), ("area", "反別"),
                                                      ("value", "地価"), ("tax", "地租"))) >= 3
    # correcting by hand: the proposal's fields load into the editor; the saved hand-marked template wins
    at.button(key="ledger_propose").click().run()
    at.button(key="ledger_correct").click().run()
    assert at.dataframe[0].value.shape[0] >= 7
    at.text_input(key="ledger_tpl_name").input("by hand").run()
    at.button(key="ledger_save_tpl").click().run()
    assert lw.preferred_template(store.list_templates()) == next(
        t["id"] for t in store.list_templates() if t["name"] == "by hand")
    assert not at.exception, at.exception


def test_a_flagged_tax_offers_the_agreeing_reading_and_one_click_takes_it(ws):
    """The reader's top choice for one digit of the 地租 is wrong and the right digit only its far second (too
    improbable for the agreement to choose alone): the flag offers the agreeing reading, marked ✓; one click
    stores it as the user's and clears the flag."""
    from kuzushi_core.containers import Prediction
    from kuzushi_core.ledger.templates import make_template

    store, reg = ws
    scan = store.list_scans()[0]
    cells, _ = lw.page_cells(store, scan)
    tpl = make_template("様式", cells, field_picks(cells, reg))
    tid = store.save_template(scan.document_id, tpl.name, tpl.to_json(), scan.id)
    model = store.active_model()
    lw.prepare(store, scan, tid, model)
    reading = lw.read_page(store, scan, tid, model)
    # the 地価 and 地租 glyphs read as written, but for one digit of the 地租
    pinned = []
    for name in ("value", "tax"):
        for bid, ch in zip(reading.boxes[(0, name)], reg.lots[0][name]["text"]):
            pinned.append((bid, Prediction(ch, 0.9, ((ch, 0.9),))))
    tax_text = reg.lots[0]["tax"]["text"]
    k = next(i for i, ch in enumerate(tax_text) if ch in "一二三四五六七八九")
    wrong = "三" if tax_text[k] != "三" else "五"
    assert len(reading.boxes[(0, "tax")]) == len(tax_text), "the segmenter found the 地租's glyphs"
    pinned[len(reg.lots[0]["value"]["text"]) + k] = (reading.boxes[(0, "tax")][k],
                                                    Prediction(wrong, 0.999, ((wrong, 0.999), (tax_text[k], 0.0004))))
    store.save_predictions(model.id, pinned)
    reading = lw.read_page(store, scan, tid, model)
    assert [fl.code for fl in reading.lots[0].flags] == ["tax"]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("app_pages/ledger.py").run()
    at.selectbox(key="ledger_template").set_value(tid).run()
    assert not at.exception, at.exception
    offers = [b for b in at.button if b.key.startswith("ledger_offer_0_tax_")]
    assert offers and offers[0].label == f"地租 {tax_text} ✓", [b.label for b in offers]
    offers[0].click().run()
    assert not at.exception, at.exception
    fixed = lw.read_page(store, scan, tid, model)
    assert fixed.lots[0].fields["tax"].text == tax_text and fixed.lots[0].fields["tax"].source == "user"
    assert not fixed.lots[0].flags
    assert not [b for b in at.button if b.key.startswith("ledger_offer_0_tax_")]
