"""UI strings in Japanese and English, one module a page (:mod:`.shell`, :mod:`.scans`, :mod:`.segment`, …).

Pages call ``t(key, lang)``; a missing Japanese string falls back to English,
a missing key to the key itself (so a typo shows up on screen, not as a crash).
``tests/test_app.py`` checks that every key has both languages.
"""

from __future__ import annotations

from kuzushi_core.i18n import (
    augment,
    evaluate,
    export,
    learn,
    ledger,
    models,
    queue,
    read,
    scans,
    segment,
    shell,
    train,
)

LANGUAGES = {"ja": "日本語", "en": "English"}
DEFAULT_LANGUAGE = "ja"


STRINGS: dict[str, dict[str, str]] = {}
for _page in (shell, scans, segment, read, ledger, evaluate, queue, augment, train, models, export, learn):
    _clash = STRINGS.keys() & _page.STRINGS.keys()
    assert not _clash, f"UI strings defined twice: {sorted(_clash)}"
    STRINGS.update(_page.STRINGS)


#: where the UI language is kept between browser sessions: the URL (``?lang=en``, so a bookmark or a shared link
#: keeps it) and the workspace's settings (the language last chosen, for a new tab or a bare address)
QUERY_KEY = "lang"
SETTING_KEY = "ui.language"
#: the name of the person using this browser session, kept in the URL like the language (``?who=…``)
WHO_KEY = "who"


def choose_language(*candidates: object) -> str:
    """The first of ``candidates`` that is a known language code, else :data:`DEFAULT_LANGUAGE`.

    Called with the URL's ``lang`` first and the workspace's saved choice second; anything else
    (a typo in a link, ``None``) is passed over.
    """
    for c in candidates:
        if isinstance(c, (list, tuple)):  # a query parameter given twice
            c = c[-1] if c else None
        if isinstance(c, str) and c.strip().lower() in LANGUAGES:
            return c.strip().lower()
    return DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kwargs: object) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        text = key
    else:
        text = entry.get(lang) or entry["en"]
    return text.format(**kwargs) if kwargs else text
