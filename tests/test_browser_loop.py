"""Real browser, the whole loop: upload a scan → segment → read → import its annotations → Evaluate →
click a confusion-matrix cell → relabel a crop in the gallery → retrain by feature extraction → the new
version is active → the exported CSV holds the corrected label with source ``user``."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest

from kuzushi_core.paths import DEMO_PAGE, MODELS_DIR
from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle
from .test_browser_train import set_number, wait_for

pytestmark = [pytest.mark.browser]
RED = "rgb(214, 39, 40)"  # off-diagonal cells of the confusion matrix


def test_whole_loop_in_the_browser(tmp_path, artifacts):
    assert (MODELS_DIR / "default.keras").exists(), "the shipped default model is missing"
    ws = tmp_path / "ws"
    store = Store(ws)
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1300) as page:
        # 1. upload
        page.goto(url + "/scans")
        wait_idle(page)
        page.locator("input[type=file]").set_input_files(str(DEMO_PAGE))
        page.get_by_role("button", name="1 件を取り込む").click()
        page.get_by_text("ledger_demo.jpg を取り込みました").wait_for()
        scan = store.list_scans()[0]

        # 2. segment
        page.goto(url + "/segment")
        wait_idle(page)
        page.locator(".st-key-seg_run button").click()
        wait_for(lambda: len(store.list_boxes(scan.id)) > 40, 60)
        wait_idle(page)

        # 3. read, then label the page from its transcription (CODH coordinate CSV)
        page.goto(url + "/read")
        wait_idle(page)
        page.locator(".st-key-read_run button").click()
        page.get_by_text("文字を認識しました").wait_for(timeout=120_000)
        wait_idle(page)
        page.get_by_text("注釈の取り込み").first.click()
        page.locator(".st-key-read_ann_1 input[type=file]").set_input_files(
            str(DEMO_PAGE.parent / "ledger_demo_coordinate.csv"))
        page.locator(".st-key-read_ann_go button").click()
        page.get_by_text(re.compile(r"\d+ 枠にラベル")).wait_for(timeout=180_000)
        assert len(store.current_labels(scan.id)) >= 45

        # 4. Evaluate: click an off-diagonal cell of the confusion matrix
        page.goto(url + "/evaluate")
        wait_idle(page)
        page.locator(".st-key-eval_cm .js-plotly-plot >> visible=true").first.wait_for(timeout=120_000)
        time.sleep(1)
        points = page.locator(".st-key-eval_cm path.point")
        red = [i for i in range(points.count()) if RED in (points.nth(i).get_attribute("style") or "")]
        assert red, "the model makes no error on the demo page: nothing to click"
        points.nth(red[0]).click(force=True)
        page.get_by_text(re.compile("正解 .・予測 .：")).wait_for(timeout=30_000)
        wait_idle(page)
        page.screenshot(path=str(artifacts / "evaluate_cell_ja.png"), full_page=True)

        # 5. relabel the first crop of that cell: the model was right, take its reading
        take = page.locator("[class*='st-key-eval_take_']").first
        box_id = int(re.search(r"st-key-eval_take_(\d+)", take.get_attribute("class")).group(1))
        # the button says what it does: 「X」が正しい (the reading X is right)
        predicted = re.search("「(.+)」", take.locator("button").first.inner_text()).group(1)
        before = store.current_labels()[box_id]
        take.locator("button").first.click()
        wait_for(lambda: store.current_labels()[box_id].id != before.id, 30)
        label = store.current_labels()[box_id]
        assert (label.char, label.source) == (predicted, "user") and label.char != before.char

        # 6. retrain by feature extraction, 2 epochs, from the workspace labels only
        page.goto(url + "/train")
        wait_idle(page)
        set_number(page, "train_kmnist", 0)
        set_number(page, "train_epochs", 2)
        page.locator(".st-key-train_start button").click()
        wait_for(lambda: store.list_runs() and store.list_runs()[0].status in ("completed", "failed"), 240)
        run = store.list_runs()[0]
        assert run.status == "completed", run.error
        page.get_by_text("完了：モデル #").wait_for(timeout=30_000)
        active = store.active_model()
        assert active.id == run.model_id and active.parent_id is not None

        # 7. the new version is listed and active on the Models page
        page.goto(url + "/models")
        wait_idle(page)
        page.get_by_text(active.name).first.wait_for()
        page.screenshot(path=str(artifacts / "models_ja.png"), full_page=True)

        # 8. export CSV
        page.goto(url + "/export")
        wait_idle(page)
        with page.expect_download() as dl:
            page.locator(".st-key-export_download button").click()
        text = open(dl.value.path(), encoding="utf-8").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if int(r["box_id"]) == box_id)
    assert (row["character"], row["source"], row["label_source"]) == (predicted, "user", "user")
    # the reading's model is named exactly when the active version has read that box (no either-or)
    read_by_active = box_id in store.predictions(scan.id, active.id)
    assert row["model_version"] == (f"{active.name} (#{active.id})" if read_by_active else "")
    assert {r["model_version"] for r in rows} <= {f"{active.name} (#{active.id})", ""}
    assert any(r["model_version"] for r in rows) == bool(store.predictions(scan.id, active.id))
