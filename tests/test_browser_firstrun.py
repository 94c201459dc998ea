"""Real browser: what a new user meets first — the /home address, a language that survives a reload, and a
wide (landscape) scan shown whole on the Segment and Read pages, on a 1500 px screen and a 1280 px laptop."""

from __future__ import annotations

import time

import pytest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.predict.reading import read_scan
from kuzushi_core.store import Store

from .browser import IMAGE_FRAME as FRAME
from .browser import browser_page, running_app, wait_idle
from .conftest import need

pytestmark = [pytest.mark.browser]

LANDSCAPE = "scans/ndl_kotenseki/9973821_0004.jpg"


def test_home_address_and_language_survive_a_reload(tmp_path, artifacts):
    ws = tmp_path / "ws"
    Store(ws)
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1400, 900) as page:
        page.goto(url + "/home")
        wait_idle(page)
        page.get_by_role("heading", name="くずし字ラボ").wait_for()
        assert page.get_by_text("Page not found").count() == 0

        page.get_by_text("English").click()
        wait_idle(page)
        page.get_by_role("heading", name="Kuzushi Lab").wait_for()
        assert "lang=en" in page.url
        page.reload()
        wait_idle(page)
        page.get_by_role("heading", name="Kuzushi Lab").wait_for()
        # another page from the menu keeps it in its address, and so does a reload there
        page.get_by_role("link", name="Scans").click()
        wait_idle(page)
        page.get_by_role("heading", name="Scans").first.wait_for()
        deadline = time.time() + 10
        while "lang=en" not in page.url and time.time() < deadline:
            time.sleep(0.2)
        assert "/scans" in page.url and "lang=en" in page.url
        page.reload()
        wait_idle(page)
        page.get_by_role("heading", name="Scans").first.wait_for()
        # a bare address (a bookmark without the query, a new tab) starts in the workspace's last choice
        page.goto(url)
        wait_idle(page)
        page.get_by_role("heading", name="Kuzushi Lab").wait_for()
        page.screenshot(path=str(artifacts / "firstrun_home_en.png"))
    assert Store(ws).get_setting("ui.language") == "en"


def _inside(inner: dict, outer: dict, slack: float = 1.5) -> bool:
    return (inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack)


@pytest.mark.data
@pytest.mark.parametrize("width", [1500, 1280])
def test_a_landscape_scan_is_shown_whole_on_segment_and_read(tmp_path, data_dir, artifacts, width):
    path = need(data_dir / LANDSCAPE, "the landscape NDL scan")
    ws = tmp_path / "ws"
    store = Store(ws)
    doc = store.ensure_document("NDL")
    import_paths(store, [path], doc.id)
    from kuzushi_core.predict.reading import ensure_default_model

    ensure_default_model(store)
    scan = store.list_scans()[0]
    assert scan.width > scan.height  # 2048 × 1499
    read_scan(store, scan, store.active_model())
    boxes = store.list_boxes(scan.id)
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(width, 800) as page:
        view = {"x": 0, "y": -1e9, "width": width, "height": 2e9}  # all of the page's width, any scroll
        page.goto(url + "/segment?lang=en")
        wait_idle(page)
        frame = page.locator(FRAME)
        img = page.frame_locator(FRAME).locator("img")
        img.wait_for()
        time.sleep(1.0)
        fb, ib = frame.bounding_box(), img.bounding_box()
        assert _inside(ib, fb), (ib, fb)  # not cut by its frame
        assert _inside(fb, view), (fb, width)  # nor by the window
        assert abs(ib["width"] / ib["height"] - scan.width / scan.height) < 0.02
        page.screenshot(path=str(artifacts / f"firstrun_landscape_segment_{width}.png"))

        # a click still lands on the box under the pointer at this size
        def alone(b):
            cx, cy = b.x + b.w / 2, b.y + b.h / 2
            return sum(o.x <= cx < o.x + o.w and o.y <= cy < o.y + o.h for o in boxes) == 1

        target = max((b for b in boxes if alone(b)), key=lambda b: b.w * b.h)
        img.scroll_into_view_if_needed()
        time.sleep(0.5)
        ib = img.bounding_box()
        k = ib["width"] / scan.width
        page.mouse.click(ib["x"] + (target.x + target.w / 2) * k, ib["y"] + (target.y + target.h / 2) * k)
        wait_idle(page)
        page.get_by_text(f"Selected: #{target.id}").wait_for()

        page.goto(url + "/read?lang=en")
        wait_idle(page)
        plot = page.locator("[data-testid=stPlotlyChart]").first
        plot.wait_for()
        picture = plot.locator("g.imagelayer image").first  # the scan, drawn by plotly.js once it has loaded
        picture.wait_for(state="attached")
        time.sleep(1.0)
        pb, gb = plot.bounding_box(), picture.bounding_box()
        assert _inside(gb, pb) and _inside(pb, view), (gb, pb)
        assert abs(gb["width"] / gb["height"] - scan.width / scan.height) < 0.03
        # the page fills its plot: no tall empty bands above and below a wide page
        assert gb["height"] >= 0.75 * pb["height"] and gb["width"] >= 0.75 * pb["width"], (gb, pb)
        page.screenshot(path=str(artifacts / f"firstrun_landscape_read_{width}.png"))
