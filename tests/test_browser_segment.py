"""Real browser: the box editor adds, merges, splits and deletes boxes by mouse; the store follows."""

from __future__ import annotations

import time

import pytest

from kuzushi_core.data.intake import import_paths
from kuzushi_core.store import Store

from .browser import IMAGE_FRAME as FRAME
from .browser import browser_page, running_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.data]



def wait_for(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def workspace_with(tmp_path, page_images, name: str):
    """A workspace holding one of the shared book's pages: (folder, store, scan)."""
    ws = tmp_path / "ws"
    store = Store(ws)
    doc = store.ensure_document("Book")
    import_paths(store, [p for p in page_images if p.name == name], doc.id)
    return ws, store, store.list_scans()[0]


def test_box_editor_in_the_browser(tmp_path, page_images, artifacts):
    ws, store, scan = workspace_with(tmp_path, page_images, "100241706_00004_2.jpg")
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1300) as page:
        page.goto(url + "/segment")
        wait_idle(page)
        page.get_by_text("English").click()
        wait_idle(page)
        page.get_by_role("button", name="Run segmentation").click()
        page.get_by_text("boxes found").wait_for()
        n0 = len(store.list_boxes(scan.id))
        assert n0 > 40

        def image_box():
            img = page.frame_locator(FRAME).locator("img")
            img.wait_for()
            bb = img.bounding_box()
            return bb, bb["width"] / scan.width

        def click_box(b):
            bb, k = image_box()
            page.mouse.click(bb["x"] + (b.x + b.w / 2) * k, bb["y"] + (b.y + b.h / 2) * k)
            wait_idle(page)
            time.sleep(0.5)

        # add: drag a box in the empty upper margin
        page.get_by_text("Drag: add a box").click()
        wait_idle(page)
        x0, y0, x1, y1 = 300, 300, 500, 480
        for _attempt in range(2):  # the image is drawn again after the mode switch: a drag on the old one is lost
            time.sleep(1.0)
            bb, k = image_box()
            page.mouse.move(bb["x"] + x0 * k, bb["y"] + y0 * k)
            page.mouse.down()
            page.mouse.move(bb["x"] + x1 * k, bb["y"] + y1 * k, steps=5)
            page.mouse.up()
            try:
                added = wait_for(lambda: [b for b in store.list_boxes(scan.id) if b.source == "user"], 15)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("a dragged box was not added")
        assert len(added) == 1 and abs(added[0].x - x0) < 15 and abs(added[0].w - (x1 - x0)) < 15
        wait_idle(page)

        # merge: select two neighbours of one column by clicking, then Merge
        page.get_by_text("Click: select").click()
        wait_idle(page)
        col = sorted([b for b in store.list_boxes(scan.id) if b.column == 0 and b.source == "auto"], key=lambda b: b.y)
        a, b = col[0], col[1]
        click_box(a)
        page.get_by_text(f"Selected: #{a.id}").wait_for()
        click_box(b)
        page.get_by_text(f"Selected: #{a.id}, #{b.id}").wait_for()
        page.screenshot(path=str(artifacts / "segment_selected.png"))
        page.get_by_role("button", name="Merge").click()
        wait_for(lambda: len(store.list_boxes(scan.id)) == n0)  # +1 added, -2 +1 merged
        merged = [x for x in store.list_boxes(scan.id) if x.source == "user" and x.x <= a.x and x.y == min(a.y, b.y)]
        assert len(merged) == 1
        wait_idle(page)

        # split the merged box
        click_box(merged[0])
        page.get_by_text(f"Selected: #{merged[0].id}").wait_for()
        page.get_by_role("button", name="Split").click()
        wait_for(lambda: len(store.list_boxes(scan.id)) == n0 + 1)
        wait_idle(page)

        # delete the added box
        click_box(added[0])
        page.get_by_text(f"Selected: #{added[0].id}").wait_for()
        page.get_by_role("button", name="Delete").click()
        wait_for(lambda: all(x.id != added[0].id for x in store.list_boxes(scan.id)))
        wait_idle(page)
        page.get_by_text("Show reading order").click()
        wait_idle(page)
        time.sleep(1)
        page.screenshot(path=str(artifacts / "segment_editor.png"))
        # a tall scan: scrolled down to the foot of the page image, the tools are still in view beside it
        bb, _ = image_box()
        page.mouse.move(bb["x"] + 50, bb["y"] + 50)
        page.mouse.wheel(0, 1400)
        time.sleep(1)
        tools = page.locator(".st-key-seg_tools").bounding_box()
        bb, _ = image_box()
        assert bb["y"] < 0, "the page did not scroll"
        assert 0 <= tools["y"] < 200 and tools["x"] > bb["x"] + bb["width"] - 5, tools
        page.screenshot(path=str(artifacts / "segment_scrolled_tools.png"))
    final = store.list_boxes(scan.id)
    assert len(final) == n0
    assert sum(b.source == "user" for b in final) == 2  # the two halves of the split


def test_segmentation_method_in_the_browser(tmp_path, page_images, artifacts):
    """The second method (joined and split by reading) is picked, run, shown with the boxes and kept after a
    reload."""
    from kuzushi_core.segment.refine import METHOD_SETTING

    ws, store, scan = workspace_with(tmp_path, page_images, "100241706_00005_2.jpg")
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1500, 1300) as page:
        page.goto(url + "/segment?lang=en")
        wait_idle(page)
        page.get_by_text("Columns, then joined and split by reading").click()
        wait_idle(page)
        page.get_by_role("button", name="Run segmentation").click()
        page.get_by_text("made by: Columns, then joined and split by reading").wait_for(timeout=180_000)
        assert store.get_setting(METHOD_SETTING.format(scan_id=scan.id)) == "columns+reading"
        assert len(store.list_boxes(scan.id)) > 40
        page.frame_locator(FRAME).locator("img").wait_for()  # the page with its boxes
        time.sleep(1.0)
        page.screenshot(path=str(artifacts / "segment_method.png"))
        page.reload()
        wait_idle(page)
        page.get_by_text("made by: Columns, then joined and split by reading").wait_for()
        checked = page.locator("label:has-text('Columns, then joined and split by reading') input")
        assert checked.is_checked()
