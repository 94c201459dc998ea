"""Real browser: read a real page with the shipped reader and correct one character by clicking a candidate
shown as brush-font glyphs."""

from __future__ import annotations

import time

import pytest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.data]


def test_read_and_correct_in_the_browser(tmp_path, page_images, artifacts):
    assert (MODELS_DIR / "default.keras").exists(), "the shipped default model is missing"
    ws = tmp_path / "ws"
    store = Store(ws)
    doc = store.ensure_document("Book")
    import_paths(store, [p for p in page_images if p.name == "100241706_00005_1.jpg"], doc.id)
    scan = store.list_scans()[0]
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1300) as page:
        page.goto(url + "/read")
        wait_idle(page)
        page.get_by_role("button", name="このページを認識").click()
        page.get_by_text("文字を認識しました").wait_for(timeout=120_000)
        wait_idle(page)
        model = store.active_model()
        assert model is not None and model.name == "reader" and len(model.classes) > 3000
        preds = store.predictions(scan.id, model.id)
        assert len(preds) > 40
        page.screenshot(path=str(artifacts / "read_page_ja.png"))
        # the UI's Japanese is set in Noto Sans CJK JP, not in whichever brush face the machine has
        family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
        assert "Noto Sans CJK JP" in family, family

        # the box under review is the least confident one; each candidate comes with its brush-font renders
        review = min(preds, key=lambda i: preds[i].confidence)
        second = preds[review].candidates[1][0]
        row = page.locator(f".st-key-cand_row_{review}_1")
        row.wait_for()
        img = row.locator("img").first
        img.wait_for()
        assert page.evaluate("(el) => el.naturalWidth > 0 && el.naturalHeight > 0", img.element_handle())
        row.screenshot(path=str(artifacts / "read_candidate_brush.png"))
        row.get_by_role("button", name=f"2: {second} {preds[review].candidates[1][1]:.2f}").click()
        page.get_by_text(f"枠 #{review} に「{second}」を付けました").wait_for()
        wait_idle(page)
        time.sleep(1)
        page.screenshot(path=str(artifacts / "read_corrected_ja.png"))
    label = store.current_labels(scan.id)[review]
    assert (label.char, label.source) == (second, "user")
