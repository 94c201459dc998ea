"""Real browser: the Models page refuses a corrupt model, a Lambda-layer model and a wrong input shape
with a message each, and the registry stays as it was; a good model is imported."""

from __future__ import annotations

import json
import re

import pytest

from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.store import Store

from .browser import browser_page, running_app, wait_idle

pytestmark = [pytest.mark.browser]


def upload(page, model, card) -> None:
    """Choose both files and wait until the uploader lists them: a click before the upload has landed
    submits an empty form (the form clears its uploader after each submit)."""
    page.locator(".st-key-models_files input[type=file]").set_input_files([str(model), str(card)])
    for f in (model, card):
        page.locator(".st-key-models_files").get_by_text(f.name, exact=True).wait_for(timeout=60_000)
    wait_idle(page)


def test_models_page_import_refusals_and_success(tmp_path, artifacts):
    import keras

    ws = tmp_path / "ws"
    store = Store(ws)
    ensure_default_model(store)
    before = store.list_models()
    default = MODELS_DIR / "default.keras"
    card = tmp_path / "card.json"
    card.write_text(default.with_suffix(".json").read_text(encoding="utf-8"), encoding="utf-8")
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(default.read_bytes()[:4000])
    inp = keras.Input((28, 28, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    lam = tmp_path / "lambda.keras"
    keras.Model(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x))).save(lam)
    inp = keras.Input((32, 32, 3))
    wrong = tmp_path / "wrong.keras"
    keras.Model(inp, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inp))).save(wrong)
    good = tmp_path / "good.keras"
    good.write_bytes(default.read_bytes())

    with running_app(ws, tmp_path / "streamlit.log") as url, browser_page(1400, 1100) as page:
        page.goto(url + "/models")
        wait_idle(page)
        for path, message in ((corrupt, "not a Keras model file"), (lam, "cannot be loaded safely"),
                              (wrong, "expects input")):
            upload(page, path, card)
            page.get_by_role("button", name="取り込む").click()
            page.get_by_text(re.compile(f"取り込めません：{path.stem}.keras.*{message}")).wait_for(timeout=180_000)
            assert store.list_models() == before
            page.screenshot(path=str(artifacts / f"models_refused_{path.stem}.png"), full_page=True)
        upload(page, good, card)
        page.locator(".st-key-models_name input").fill("copy of default")
        page.get_by_role("button", name="取り込む").click()
        page.get_by_text("「copy of default」を取り込みました").wait_for()
    models = store.list_models()
    assert [m.name for m in models] == ["kmnist10", "reader", "copy of default"] and models[1].active
    assert json.loads(card.read_text())["classes"] == list(models[1].classes)
