"""Augment page in a real browser: time from a slider change to the new 32-sample grid on screen.

Starts the app on a scratch workspace holding the demo ledger page (segmented), opens the Augment page
in Debian's Chromium, and presses → on a slider (rotation, then zoom, then shear — every press is a
configuration not seen before, so the cached pipeline does not help) and measures until the grid image
in the page has changed.  Bar (issue #5): 0.5 s for 32 samples.

    python bench/bench_augment_browser.py        # writes the "augmentation preview in the browser" section
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import write_section  # noqa: E402

from kuzushi_core.data.intake import import_paths  # noqa: E402
from kuzushi_core.imaging import read_image  # noqa: E402
from kuzushi_core.paths import DEMO_PAGE  # noqa: E402
from kuzushi_core.segment.columns import segment  # noqa: E402
from kuzushi_core.store import Store  # noqa: E402
from tests.browser import browser_page, running_app, wait_idle  # noqa: E402

GRID = ".st-key-aug_grid img"


def main() -> None:
    ws = Path(tempfile.mkdtemp()) / "ws"
    store = Store(ws)
    import_paths(store, [DEMO_PAGE], store.ensure_document().id)
    scan = store.list_scans()[0]
    store.replace_auto_boxes(scan.id, [b.as_dict() for b in segment(read_image(store.scan_path(scan))).boxes])
    times: dict[str, list[float]] = {}
    with running_app(ws, ws.parent / "streamlit.log") as url, browser_page(1400, 1200) as page:
        page.goto(url + "/augment")
        wait_idle(page, 120)
        page.locator(GRID).first.wait_for(timeout=120_000)
        # timestamps taken inside the page: the key press (capture phase) and the moment the changed grid image
        # has loaded; Playwright's own round trips are not counted
        page.evaluate("""(sel) => {
            window._kl = {press: 0, shown: 0};
            document.addEventListener('keydown', () => { window._kl.press = performance.now(); window._kl.shown = 0; },
                                      true);
            const seen = new Set();
            new MutationObserver(() => {
                const img = document.querySelector(sel);
                if (!img || seen.has(img.src)) return;
                seen.add(img.src);
                const done = () => { if (!window._kl.shown) window._kl.shown = performance.now(); };
                if (img.complete) done(); else img.addEventListener('load', done, {once: true});
            }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
        }""", GRID)
        for key, presses in (("aug_rotation_range", 8), ("aug_zoom_range", 8), ("aug_shear_range", 8)):
            thumb = page.locator(f".st-key-{key} input[type=range]")
            for _ in range(presses):
                thumb.focus()
                thumb.press("ArrowRight")
                page.wait_for_function("() => window._kl.shown > window._kl.press", timeout=30_000)
                kl = page.evaluate("() => window._kl")
                times.setdefault(key, []).append((kl["shown"] - kl["press"]) / 1000)
                wait_idle(page)
    rows = ["| slider | presses | median s | max s |", "|---|---|---|---|"]
    for key, ts in times.items():
        rows.append(f"| {key.removeprefix('aug_')} | {len(ts)} | {statistics.median(ts):.3f} | {max(ts):.3f} |")
    everything = [t for ts in times.values() for t in ts]
    body = "\n".join([
        "Slider change (keyboard →) to the changed 4×8 grid of 32 augmented crops of the demo page loaded in "
        "Chromium, timed inside the page (key press to the new image's load); app on this machine; every press a "
        "new configuration, so the pipeline is built anew. "
        "Command: `python bench/bench_augment_browser.py`.", "", *rows, "",
        f"- **Median over all {len(everything)} changes: {statistics.median(everything):.3f} s** "
        f"(bar 0.5 s); 90th percentile {sorted(everything)[int(0.9 * (len(everything) - 1))]:.3f} s.",
    ])
    print(body)
    write_section("augmentation preview in the browser", body)


if __name__ == "__main__":
    main()
