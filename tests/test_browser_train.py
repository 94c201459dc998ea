"""Real browser: start a feature-extraction run from the Train page, watch progress and curves, cancel it,
run another to the end, and find the new model version in the registry."""

from __future__ import annotations

import time

import pytest

from kuzushi_core.data.intake import import_annotations, import_paths
from kuzushi_core.imaging import read_image
from kuzushi_core.paths import DEMO_PAGE, MODELS_DIR
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.segment.columns import segment
from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle

pytestmark = [pytest.mark.browser]


def labelled_workspace(ws):
    """The demo ledger page, segmented, with its ground truth imported as labels (47 characters)."""
    assert (MODELS_DIR / "default.keras").exists(), "the shipped default model is missing"
    store = Store(ws)
    ensure_default_model(store)
    doc = store.ensure_document("Demo")
    import_paths(store, [DEMO_PAGE], doc.id)
    scan = store.list_scans()[0]
    store.replace_auto_boxes(scan.id, [b.as_dict() for b in segment(read_image(store.scan_path(scan))).boxes])
    import_annotations(store, scan, (DEMO_PAGE.parent / "ledger_demo_coordinate.csv").read_bytes())
    return store, scan


def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def wait_for(pred, timeout=180.0):
    t = time.time()
    while time.time() - t < timeout:
        if pred():
            return True
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_train_page_cancel_one_run_and_complete_another(tmp_path, artifacts):
    ws = tmp_path / "ws"
    store, _ = labelled_workspace(ws)
    base = store.active_model()
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1400, 1300) as page:
        page.goto(url + "/train")
        wait_idle(page)
        page.get_by_text("English").click()
        wait_idle(page)
        page.get_by_text("Workspace labels (47)").wait_for()
        set_number(page, "train_kmnist", 0)
        set_number(page, "train_epochs", 300)
        set_number(page, "train_patience", 300)  # long enough to be cancelled, not early-stopped
        page.locator(".st-key-train_start button").click()
        page.get_by_text("Run #1 queued").wait_for()
        # the worker picks it up: progress and the learning curves appear and grow
        wait_for(lambda: len(store.run_epochs(1)) >= 2)
        # the fragment redraws every second: an old (hidden) chart may stand beside the new one for a moment
        page.locator(".st-key-train_curves .js-plotly-plot >> visible=true").first.wait_for(timeout=30_000)
        bar = page.locator("[data-testid=stProgress]").first
        first_text = bar.inner_text()
        wait_for(lambda: bar.inner_text() != first_text, 150)  # one epoch: ~20 s here, ~40 s on a slower Python build
        page.screenshot(path=str(artifacts / "train_running_en.png"), full_page=True)
        page.locator(".st-key-train_cancel_1 button").click()
        wait_for(lambda: store.get_run(1).status == "cancelled", 30)
        page.get_by_text("cancelled · ").first.wait_for(timeout=15_000)

        # a second run, to the end
        set_number(page, "train_epochs", 2)
        page.locator(".st-key-train_name input").fill("demo FE")
        page.locator(".st-key-train_name input").press("Enter")
        wait_idle(page)
        page.locator(".st-key-train_start button").click()
        page.get_by_text("Run #2 queued").wait_for()
        wait_for(lambda: store.get_run(2).status == "completed", 180)
        page.get_by_text("Done: model #").wait_for(timeout=30_000)
        # the list of runs does not go on calling the finished run "running" (its state is on the progress line)
        time.sleep(1.5)
        shown = page.locator(".st-key-train_run input").input_value()  # what the closed list shows
        assert shown.startswith("#2 ") and "running" not in shown
        page.get_by_text("completed · 100%").first.wait_for(timeout=15_000)
        # a reload (a new session, which keeps the language of the address) shows the same runs from the store
        page.reload()
        wait_idle(page)
        page.get_by_text("Done: model #").wait_for(timeout=60_000)
        # and a second tab without the address's language starts in the workspace's last choice
        other = page.context.browser.new_page(viewport={"width": 1400, "height": 1300})  # a new session
        other.goto(url + "/train")
        wait_idle(other)
        other.get_by_text("Done: model #").wait_for(timeout=60_000)
        other.close()
        time.sleep(1.5)
        page.screenshot(path=str(artifacts / "train_done_en.png"), full_page=True)
    runs = {r.id: r for r in store.list_runs()}
    assert runs[1].status == "cancelled" and runs[1].model_id is None
    assert runs[2].status == "completed"
    new = store.active_model()
    assert new.id == runs[2].model_id and new.name == "demo FE" and new.parent_id == base.id
    assert len(store.run_epochs(2)) == 2 and [m.name for m in store.list_models()] == ["kmnist10", "reader", "demo FE"]
