"""Every page walked with AppTest in Japanese and in English: no English words in the Japanese UI but proper names
and codes, and no Japanese text of the catalogue in the English UI.

The walk reads every string Streamlit sends for an element (titles, text, captions, labels, help, options,
placeholders, metric labels, table headers), on a workspace where each page has something to show.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kuzushi_core.i18n import STRINGS

from .test_app_read import ws  # noqa: F401
from .test_app_review import read_ws  # noqa: F401 - a read page with labels and the bars model
from .test_classifier import tiny_model  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["home", "scans", "segment", "read", "ledger", "evaluate", "queue", "augment", "train", "models", "export"]
#: fields of an element's message that carry what a user reads
SHOWN = {"label", "body", "help", "options", "placeholder", "caption", "text", "title", "value", "display_value"}
#: words that are the same in both UIs: names of formats, tools, measures and units, and code names shown as such
CODES = {
    "KMNIST", "CSV", "JSON", "PAGE", "XML", "xlsx", "Excel", "ECE", "CNN", "Keras", "OCR", "Tesseract", "CPU", "GPU",
    "AUROC", "Parquet", "Ray", "UTF", "BOM", "CODH", "JPEG", "PNG", "TIFF", "BMP", "WebP", "PDF", "NDL", "ROIS",
    "Kaggle", "Unicode", "IoU", "top", "msp", "mixup", "Noto", "Sans", "CJK", "max", "softmax",
    "Streamlit", "SQLite", "GitHub", "English", "Language", "kuzushi", "core", "python", "Lab",
    "Shift", "JIS", "npz", "zip", "Enter", "Otsu", "Sauvola",
}


def visible(at: AppTest) -> list[str]:
    """Every string shown by the current page (Markdown/HTML with its tags, inline code and links removed)."""
    out: list[str] = []

    def collect(msg) -> None:
        for fd, v in msg.ListFields():
            vals = list(v) if type(v).__name__.startswith("Repeated") or isinstance(v, (list, tuple)) else [v]
            for x in vals:
                if fd.type == fd.TYPE_STRING and fd.name in SHOWN:
                    out.append(x)
                elif fd.type == fd.TYPE_MESSAGE:
                    collect(x)

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        # skipped: a chart's spec (its titles are checked where the page makes them), and the model card's raw JSON
        # (a record shown as stored, one click away from its readable summary)
        if proto is not None and hasattr(proto, "ListFields") and type(node).__name__ not in ("PlotlyChart", "Json"):
            collect(proto)
        children = getattr(node, "children", None) or {}
        for ch in (children.values() if isinstance(children, dict) else children):
            walk(ch)

    walk(at._tree)
    for df in at.dataframe:
        out.extend(str(c) for c in df.value.columns)
    cleaned = []
    for s in out:
        s = re.sub(r"<style>.*?</style>", " ", s, flags=re.S)  # the page's own CSS
        s = re.sub(r'<span lang="en">.*?</span>', " ", s, flags=re.S)  # a record's own words, quoted as written
        s = re.sub(r"<[^>]+>", " ", s)  # HTML tags and their attributes
        s = re.sub(r"`[^`]*`", " ", s)  # inline code: paths, commands, file names
        s = re.sub(r"\(https?://[^)]*\)|https?://\S+", " ", s)
        cleaned.append(s)
    return cleaned


def names_in(store) -> set[str]:
    """Proper names of the workspace (documents, files, models, fonts): shown as they are in either language."""
    from kuzushi_core.synth import fonts

    words: set[str] = set()
    items = [d.name for d in store.list_documents()] + [s.source_name for s in store.list_scans()]
    items += [m.name for m in store.list_models()] + [f.name for f in fonts.available()]
    for item in items:
        words |= set(re.findall(r"[A-Za-z]+", item))
    return words


def english_words(text: str, allowed: set[str]) -> list[str]:
    text = re.sub(r"\b[\w.-]+\.(jpe?g|png|tiff?|csv|json|keras|xml|txt|zip|npz|xlsx)\b", " ", text, flags=re.I)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed and w.lower() not in
            {c.lower() for c in allowed}]


def catalogue_fragments(lang: str, pattern: str, min_len: int) -> set[str]:
    """Pieces of the catalogue's texts in one language between placeholders, long enough to be telling."""
    out = set()
    for entry in STRINGS.values():
        for piece in re.split(r"\{[^}]*\}", entry[lang]):
            piece = piece.strip(" ：:、。・（）()「」“”\"'")
            if len(piece) >= min_len and re.search(pattern, piece):
                out.add(piece)
    return out


def walk_pages(lang: str):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    if lang == "en":
        at.sidebar.radio[0].set_value("en").run()
    at.sidebar.text_input(key="user_name_input").input("Aiko").run()
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        yield page, visible(at)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_page_speaks_one_language(read_ws, lang):  # noqa: F811
    s, _, _ = read_ws
    english = catalogue_fragments("en", r"[A-Za-z]{3,}.*\s.*[A-Za-z]{3,}", 12)
    japanese = catalogue_fragments("ja", r"[\u3040-\u30ff\u4e00-\u9fff]", 4)
    found: dict[str, set[str]] = {}
    n_texts = 0
    for page, texts in walk_pages(lang):
        allowed = CODES | names_in(s) | {"Aiko"}  # the app registers the shipped reader on its first run
        n_texts += len(texts)
        for text in texts:
            if lang == "ja":
                bad = set(english_words(text, allowed)) | {f for f in english if f in text}
            else:
                bad = {f for f in japanese if f in text and f not in STRINGS["sidebar.language"]["en"]}
            if bad:
                found.setdefault(page, set()).update(bad)
    assert n_texts > 300  # the walk really read the pages
    assert not found, "\n".join(f"{p}: {sorted(w)}" for p, w in found.items())
