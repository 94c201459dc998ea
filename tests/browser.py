"""Start the real app on a free port and drive it in Debian's Chromium (Playwright)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import require_data_enabled

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
#: the clickable page image (streamlit-image-coordinates); while Streamlit reruns, a second, empty one (height 0)
#: can stand beside it for a moment, so only the visible one is meant
IMAGE_FRAME = 'iframe[title="streamlit_image_coordinates.streamlit_image_coordinates"] >> visible=true'
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(workspace: Path, log: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "KUZUSHI_WORKSPACE": str(workspace)}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited: {log.read_text()}")
            else:
                raise RuntimeError("streamlit did not start in 90 s")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        msg = "Debian's chromium is not installed (apt-get install chromium)"
        if require_data_enabled():
            pytest.fail(msg)
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            b.close()


def wait_idle(page, timeout: float = 60.0) -> None:
    """Wait until Streamlit has finished its script run (no 'running' indicator)."""
    page.wait_for_selector("[data-testid=stApp]")
    deadline = time.time() + timeout
    time.sleep(0.3)
    while time.time() < deadline:
        if page.locator("[data-testid=stStatusWidget]").count() == 0:
            return
        time.sleep(0.2)


#: how far the app's page is scrolled (Streamlit scrolls its main container, not the window)
SCROLL = ("() => Math.max(window.scrollY, ...Array.from(document.querySelectorAll('[data-testid=stMain], "
          "section.main, [data-testid=stAppViewContainer]')).map(e => e.scrollTop))")


#: start recording, every 25 ms, how far the page is scrolled and whether the page's first Plotly chart is drawn
WATCH_SCROLL = """() => { window.__scrolls = [];
  const main = () => document.querySelector('[data-testid=stMain]') || document.querySelector('[data-testid=stAppViewContainer]');
  window.__watch = setInterval(() => { const m = main();
    window.__scrolls.push([m ? m.scrollTop : -1, document.querySelectorAll('.js-plotly-plot').length]); }, 25); }"""
#: stop recording; the samples as [scrollTop, number of Plotly charts]
SCROLL_TRACE = "() => { clearInterval(window.__watch); return window.__scrolls || []; }"


def settle_into_view(page, locator, timeout: float = 30.0) -> None:
    """Scroll `locator` to the middle of the view and wait until the layout around it has stopped moving: images and
    charts above it that are still loading push it down, and the browser's scroll anchoring then moves the page
    under the test."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        locator.evaluate("e => e.scrollIntoView({block: 'center'})")
        time.sleep(0.5)
        box = locator.bounding_box()
        where = None if box is None else (round(box["y"]), page.evaluate(SCROLL))
        if where is not None and where == last:
            return
        last = where
    raise AssertionError(f"the layout did not settle in {timeout} s")
