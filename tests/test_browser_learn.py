"""Real browser: label a few characters of a real page, press "learn from my corrections", see the new version's
score on the held-out labels beside its parent's, make it active, see the page re-read; the page keeps its place
after each correction (issue #24)."""

from __future__ import annotations

import time

import pytest

from kuzushi_core.data.intake import apply_annotations, import_paths
from kuzushi_core.evaluation.scoring import read_codh_csv
from kuzushi_core.store import Store

from .browser import SCROLL, SCROLL_TRACE, WATCH_SCROLL, browser_page, running_app, settle_into_view, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.data]

def shown_box(page) -> int:
    """The box under review: its candidate rows carry its id in their key."""
    cls = page.locator("[class*='st-key-cand_row_']").first.get_attribute("class")
    key = next(c for c in cls.split() if c.startswith("st-key-cand_row_"))
    return int(key.split("_")[2])


def test_learn_from_corrections_in_the_browser(tmp_path, data_dir, artifacts):
    book = data_dir / "pages" / "100241706"
    ws = tmp_path / "ws"
    store = Store(ws)
    doc = store.ensure_document("Book")
    import_paths(store, [book / "images" / "100241706_00005_1.jpg", book / "images" / "100241706_00005_2.jpg"],
                 doc.id)
    scan = next(s for s in store.list_scans() if s.source_name.startswith("100241706_00005_1"))
    gt = read_codh_csv(book / "100241706_coordinate.csv")["100241706_00005_1"]
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1100) as page:
        page.goto(url + "/read")
        wait_idle(page)
        page.get_by_role("button", name="このページを認識").click()
        page.get_by_text("文字を認識しました").wait_for(timeout=120_000)
        wait_idle(page)
        # a transcription made before, of half the page, labels the boxes it matches
        apply_annotations(store, scan, gt[:40], source="import")
        page.reload()
        wait_idle(page)
        parent = store.active_model()
        labels_before = len(store.current_labels(scan.id))
        # two corrections by clicking a candidate: the page stays where it was, the next uncertain box comes up
        for _ in range(2):
            box_id = shown_box(page)
            row = page.locator(f".st-key-cand_row_{box_id}_0")
            page.locator(".js-plotly-plot").first.wait_for(state="visible")  # the page image above the review
            settle_into_view(page, row)
            before = page.evaluate(SCROLL)
            page.evaluate(WATCH_SCROLL)
            row.get_by_role("button").first.click()
            page.get_by_text(f"枠 #{box_id} に").first.wait_for()
            wait_idle(page)
            time.sleep(1)
            after = page.evaluate(SCROLL)
            trace = page.evaluate(SCROLL_TRACE)
            assert before > 100 and abs(after - before) < 150, (before, after)  # no jump to the top
            # nor on the way: the page image is never drawn anew (while it loads the page is short and the browser
            # scrolls to the top; on a busy machine it may stay there)
            assert trace and all(charts >= 1 for _, charts in trace), trace
            assert min(top for top, _ in trace) > before - 150, (before, trace)
            assert store.current_labels(scan.id)[box_id].source == "user"
            # moved on to the next uncertain character: the reviewed box's candidates are gone, another's are shown
            page.locator(f".st-key-cand_row_{box_id}_0").wait_for(state="detached", timeout=20_000)
            assert shown_box(page) != box_id
        assert len(store.current_labels(scan.id)) == labels_before + 2
        learn = page.get_by_role("button", name="直したラベルから学ぶ")
        learn.scroll_into_view_if_needed()
        learn.click()
        page.get_by_text("取り分けたラベル").first.wait_for(timeout=300_000)  # the scores, parent → new
        wait_idle(page)
        page.screenshot(path=str(artifacts / "learn_scores_ja.png"), full_page=True)
        run = store.list_runs()[0]
        assert run.status == "completed" and run.config["kind"] == "adapt"
        new_id = run.model_id
        assert store.get_model(new_id).parent_id == parent.id
        h = run.metrics["scores"]["holdout"]
        assert page.get_by_text(f"今の版 {h['parent']:.0%} → 新しい版 {h['new']:.0%}").count() >= 1
        if store.active_model().id != new_id:  # kept out by the parent check: the historian may still choose it
            page.get_by_role("button", name=f"版 #{new_id} を使用中にする").click()
            page.get_by_text(f"版 #{new_id} を使用中にしました").wait_for()
        else:
            page.get_by_text(f"新しい版 #{new_id} を使用中にし").first.wait_for()
        wait_idle(page)
        assert store.active_model().id == new_id
        # the page shows the new version's readings (the document was re-read by the run)
        boxes = store.list_boxes(scan.id)
        assert len(store.predictions(scan.id, new_id)) == len(boxes)
        assert page.get_by_text("使用中のモデルではまだ認識していません").count() == 0
        page.screenshot(path=str(artifacts / "learn_active_ja.png"), full_page=True)
    assert len(store.current_labels(scan.id)) == labels_before + 2  # nothing lost
