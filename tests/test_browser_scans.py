"""Real browser: upload a real page scan on the Scans page and see its thumbnail."""

from __future__ import annotations

import pytest

from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.data]


def test_upload_shows_thumbnail(tmp_path, page_images, artifacts):
    scan = [p for p in page_images if p.name == "100241706_00004_2.jpg"][0]
    ws = tmp_path / "ws"
    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page() as page:
        page.goto(url + "/scans")
        wait_idle(page)
        page.get_by_text("スキャンはまだありません").wait_for()
        page.locator("input[type=file]").set_input_files(str(scan))
        page.get_by_role("button", name="1 件を取り込む").click()
        page.get_by_text("100241706_00004_2.jpg を取り込みました").wait_for()
        thumb = page.locator("[data-testid=stImage] img").first
        thumb.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        natural = thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural[1] == 320 and 190 <= natural[0] <= 210  # the 2404×3874 page, shrunk
        page.get_by_text("p.1 · #1 100241706_00004_2.jpg").wait_for()
        page.screenshot(path=str(artifacts / "scans_upload_ja.png"), full_page=True)

        # English UI, and opening the scan shows its details
        page.get_by_text("English").click()
        wait_idle(page)
        page.get_by_role("button", name="Open", exact=True).and_(page.locator("[data-testid=stBaseButton-secondary]")).click()
        page.get_by_text("2404×3874 px").wait_for()
        page.locator("[data-testid=stImage] img").nth(0).wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / "scans_open_en.png"), full_page=True)

    scans = Store(ws).list_scans()
    assert [(s.source_name, s.width, s.height) for s in scans] == [("100241706_00004_2.jpg", 2404, 3874)]
