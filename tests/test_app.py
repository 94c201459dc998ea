"""Streamlit AppTest: the shell and the Scans page, on a workspace made by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.data.intake import import_bytes
from kuzushi_core.store import Store

from . import imagegen as g

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path, monkeypatch):
    path = tmp_path / "ws"
    monkeypatch.setenv("KUZUSHI_WORKSPACE", str(path))
    monkeypatch.chdir(ROOT)
    return Store(path)


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def test_home_shows_counts_and_sidebar(ws):
    doc = ws.ensure_document("台帳 一")
    import_bytes(ws, g.rgb("PNG"), "p1.png", doc.id)
    at = app()
    assert at.title[0].value == "くずし字ラボ"
    assert any("スキャン 1 枚" in m.value for m in at.markdown)
    assert "台帳 一" in at.sidebar.selectbox[0].options
    # language switch
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "Kuzushi Lab"
    assert any("1 scans" in m.value for m in at.markdown)


def test_language_is_kept_in_the_url_and_the_workspace(ws):
    # a link with ?lang=en opens in English, and the URL keeps the language on every page
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    assert at.title[0].value == "Kuzushi Lab" and at.sidebar.radio[0].value == "en"
    at.switch_page("app_pages/scans.py").run()
    assert at.query_params["lang"] == ["en"] or at.query_params["lang"] == "en"

    # a new browser session without a query: the default, until a user picks a language ...
    at = app()
    assert at.title[0].value == "くずし字ラボ" and ws.get_setting("ui.language") is None
    at.sidebar.radio[0].set_value("en").run()
    assert ws.get_setting("ui.language") == "en"
    assert at.query_params["lang"] in ("en", ["en"])
    # ... which the next session (a reload, a bookmark without the query) starts with
    at = app()
    assert at.title[0].value == "Kuzushi Lab"
    # the URL wins over the saved choice; a code nobody knows is passed over
    for query, title in (("ja", "くずし字ラボ"), ("fr", "Kuzushi Lab")):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["lang"] = query
        at.run()
        assert at.title[0].value == title, query


def test_choose_language():
    from kuzushi_core.i18n import choose_language

    assert choose_language(None, None) == "ja"
    assert choose_language(["fr"], "en") == "en"
    assert choose_language(["ja", "EN "], "ja") == "en"
    assert choose_language([], None) == "ja"


def test_scans_page_empty(ws):
    at = app("app_pages/scans.py")
    assert any("スキャンはまだありません" in i.value for i in at.info)


def test_scans_page_grid_open_and_delete(ws):
    doc_a = ws.ensure_document("Vol A")
    doc_b = ws.ensure_document("Vol B")
    import_bytes(ws, g.rgb("PNG"), "a1.png", doc_a.id)
    import_bytes(ws, g.multipage_tiff(2), "b.tif", doc_b.id)
    at = app("app_pages/scans.py")
    at.sidebar.radio[0].set_value("en").run()
    headers = [h.value for h in at.subheader]
    assert headers == ["Vol A · 1 scans", "Vol B · 2 scans"]
    assert len(at.get("image")) == 3  # one thumbnail per page

    # the sidebar's document filter narrows the grid
    at.sidebar.selectbox[0].set_value(doc_b.id).run()
    assert [h.value for h in at.subheader] == ["Vol B · 2 scans"]
    at.sidebar.selectbox[0].select_index(0).run()

    scans = ws.list_scans()
    first = scans[0]
    at.button(key=f"open_{first.id}").click().run()
    assert any(f"#{first.id} · a1.png" in h.value for h in at.subheader)
    assert any("80×120 px" in c.value for c in at.caption)
    at.button(key="close_scan").click().run()

    victim = scans[1]
    at.button(key=f"delete_{victim.id}").click().run()
    assert any(f"Delete scan #{victim.id}" in w.value for w in at.warning)
    at.button(key=f"cancel_delete_{victim.id}").click().run()
    assert len(ws.list_scans()) == 3
    at.button(key=f"delete_{victim.id}").click().run()
    at.button(key=f"confirm_delete_{victim.id}").click().run()
    assert not at.exception
    assert [s.id for s in ws.list_scans()] == [scans[0].id, scans[2].id]
    assert any(f"Scan #{victim.id} deleted" in s.value for s in at.success)


def test_scans_page_numbers_pages_within_the_document(ws):
    doc = ws.ensure_document("Vol A")
    import_bytes(ws, g.rgb("PNG"), "a1.png", doc.id)
    import_bytes(ws, g.rgb("PNG", 90, 60), "a2.png", doc.id)
    at = app("app_pages/scans.py")
    at.sidebar.radio[0].set_value("en").run()
    second = ws.list_scans()[1]
    at.button(key=f"open_{second.id}").click().run()
    assert any("· page 2 ·" in c.value for c in at.caption), [c.value for c in at.caption]


def test_scans_page_adds_the_demo_registers(ws):
    from kuzushi_core.synth import fonts

    if not fonts.available():
        pytest.skip("no Japanese fonts installed (bash scripts/install_fonts.sh)")
    at = app("app_pages/scans.py")
    at.button(key="demo_registers_button").click().run()
    assert not at.exception, at.exception
    names = [sc.source_name for sc in ws.list_scans()]
    assert names == ["register_lot_3101.jpg", "register_lot_3102.jpg", "register_nayose_3201.jpg"]
    assert [sc.page_no for sc in ws.list_scans()] == [1, 2, 3]
    at.button(key="demo_registers_button").click().run()  # a second time: recognised, nothing added
    assert len(ws.list_scans()) == 3


def test_new_document_from_sidebar(ws):
    at = app()
    at.sidebar.text_input(key="new_document_name").input("Meiji 15 land ledger")
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert [d.name for d in ws.list_documents()] == ["Meiji 15 land ledger"]
    doc = ws.list_documents()[0]
    assert at.sidebar.selectbox[0].value == doc.id


def test_demo_page_is_added_and_segments_well(ws):
    from kuzushi_core.evaluation.scoring import read_codh_csv, score
    from kuzushi_core.imaging import read_image
    from kuzushi_core.paths import DEMO_PAGE
    from kuzushi_core.segment.columns import segment

    at = app("app_pages/scans.py")
    at.button(key="demo_button").click().run()
    assert not at.exception
    [scan] = ws.list_scans()
    assert scan.source_name == "ledger_demo.jpg" and (scan.width, scan.height) == (1600, 2400)
    at.button(key="demo_button").click().run()
    assert len(ws.list_scans()) == 1  # recognised, not added twice
    gt = read_codh_csv(DEMO_PAGE.with_name("ledger_demo_coordinate.csv"))
    seg = segment(read_image(ws.scan_path(scan)))
    s = score(gt, {"ledger_demo": [b.as_dict() for b in seg.boxes]})["overall"]
    assert s["iou50"]["f1"] >= 0.9 and s["order"]["agreement"] >= 0.95


def test_every_ui_string_has_both_languages_and_every_key_used_exists():
    """Each key of the UI strings has an English and a Japanese text with the same placeholders, and every
    literal key a page passes to ``tr(...)`` is defined (a missing key would show as the key itself)."""
    import re
    import string

    from kuzushi_core.i18n import STRINGS

    fields = string.Formatter()
    for key, entry in STRINGS.items():
        assert entry.get("en") and entry.get("ja"), key
        names = [{f for _, f, _, _ in fields.parse(entry[lang]) if f} for lang in ("en", "ja")]
        assert names[0] == names[1], (key, names)
    used = set()
    for page in (ROOT / "app_pages").glob("*.py"):
        used |= set(re.findall(r"\btr\(\s*\"([a-z_]+\.[a-z_.0-9]+)\"", page.read_text(encoding="utf-8")))
    used |= set(re.findall(r"\btr\(\s*\"([a-z_]+\.[a-z_.0-9]+)\"", (ROOT / "app.py").read_text(encoding="utf-8")))
    assert used and not used - set(STRINGS), sorted(used - set(STRINGS))
