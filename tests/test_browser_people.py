"""Real browser, two people: two sessions with two names label boxes of the same page at the same time; the Read
page names who labelled each, the exported CSV has them in ``labelled_by``, and Evaluate filters by name."""

from __future__ import annotations

import csv
import io
import re

import pytest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.paths import DEMO_PAGE, MODELS_DIR
from kuzushi_core.predict.reading import ensure_default_model, read_scan
from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle
from .test_browser_train import wait_for

pytestmark = [pytest.mark.browser]


def first_candidate(page, box_id: int):
    row = page.locator(f".st-key-cand_row_{box_id}_0")
    row.wait_for(timeout=60_000)
    return row.locator("button").first


def selected_box(page) -> int:
    """The box the Read page's review panel shows (its candidate rows are keyed by the box id)."""
    row = page.locator("[class*='st-key-cand_row_']").first
    row.wait_for(timeout=60_000)
    return int(re.search(r"st-key-cand_row_(\d+)_0", row.get_attribute("class")).group(1))


def choose(page, key: str, option, typed: str | None = None, tries: int = 3) -> None:
    """Pick an option of a selectbox, again if a rerun closed its list under the click."""
    for attempt in range(tries):
        wait_idle(page, 120)
        box = page.locator(f".st-key-{key} input")
        box.click()
        if typed:
            box.fill(typed)
        try:
            page.get_by_role("option", name=option).first.click(timeout=15_000)
        except Exception:  # noqa: BLE001 - the list closed while the page ran again: open it once more
            page.keyboard.press("Escape")
            if attempt == tries - 1:
                raise
            continue
        wait_idle(page, 120)
        return


def test_two_people_label_one_page_at_once(tmp_path, artifacts):
    assert (MODELS_DIR / "default.keras").exists(), "the shipped default model is missing"
    ws = tmp_path / "ws"
    store = Store(ws)
    import_paths(store, [DEMO_PAGE], store.ensure_document("Ledger").id)
    scan = store.list_scans()[0]
    read_scan(store, scan, ensure_default_model(store))
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1300) as aiko:
        # a second, independent browser session (its own cookies and Streamlit session) in the same Chromium
        ben = aiko.context.browser.new_context(viewport={"width": 1500, "height": 1300}).new_page()
        ben.set_default_timeout(60_000)
        aiko.goto(url + "/read?who=Aiko")
        ben.goto(url + "/read?who=Ben")
        wait_idle(aiko)
        wait_idle(ben)
        name_box = aiko.locator(".st-key-user_name_input input")
        name_box.wait_for()
        wait_for(lambda: name_box.input_value() == "Aiko", 30)  # the name from the address, in the sidebar
        first = selected_box(aiko)
        assert selected_box(ben) == first  # both start on the least certain character

        # both choose at once, on the same character: both labels are kept, each with its name
        a_btn, b_btn = first_candidate(aiko, first), first_candidate(ben, first)
        a_btn.click(no_wait_after=True)
        b_btn.click(no_wait_after=True)
        wait_for(lambda: len(store.label_history(first)) == 2, 60)
        assert sorted(lab.labelled_by for lab in store.label_history(first)) == ["Aiko", "Ben"]
        wait_idle(aiko)
        wait_idle(ben)
        # each moved on; Aiko labels the next character in her session, Ben the one after his
        nxt_a = selected_box(aiko)
        assert nxt_a != first
        first_candidate(aiko, nxt_a).click()
        wait_for(lambda: nxt_a in store.current_labels(scan.id), 60)
        wait_idle(aiko)
        ben.reload()
        wait_idle(ben)
        nxt_b = selected_box(ben)
        assert nxt_b not in (first, nxt_a)
        first_candidate(ben, nxt_b).click()
        wait_for(lambda: nxt_b in store.current_labels(scan.id), 60)
        people = store.label_people(scan.id)
        assert people[nxt_a][0] == "Aiko" and people[nxt_b][0] == "Ben"

        # the Read page says who gave the label of the box it shows (Ben's session moved on: choose nxt_a)
        aiko.reload()
        wait_idle(aiko)
        choose(aiko, "read_box", re.compile(f"^#{nxt_a} "), f"#{nxt_a} ")
        aiko.get_by_text(re.compile(r"現在のラベル：.（入力・選択・Aiko）")).wait_for(timeout=60_000)
        aiko.screenshot(path=str(artifacts / "read_who_ja.png"), full_page=False)

        # the CSV download names them
        aiko.goto(url + "/export?who=Aiko")
        wait_idle(aiko)
        with aiko.expect_download() as dl:
            aiko.locator(".st-key-export_download button").click()
        rows = {int(r["box_id"]): r for r in csv.DictReader(io.StringIO(
            open(dl.value.path(), encoding="utf-8-sig").read()))}
        assert rows[nxt_a]["labelled_by"] == "Aiko" and rows[nxt_b]["labelled_by"] == "Ben"
        assert rows[first]["labelled_by"] == people[first][0] in ("Aiko", "Ben")

        # Evaluate, filtered to Ben's labels: his count
        ben.goto(url + "/evaluate?who=Ben")
        wait_idle(ben, 120)
        n_ben = store.labellers()["Ben"]
        choose(ben, "eval_by", f"Ben（{n_ben} 件）")
        metric = ben.locator("[data-testid=stMetric]").filter(has_text="件数")
        assert metric.locator("[data-testid=stMetricValue]").inner_text().strip() == str(n_ben)
        ben.screenshot(path=str(artifacts / "evaluate_by_ben_ja.png"), full_page=True)
