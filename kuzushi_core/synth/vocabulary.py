"""The characters the reader knows.

Kana (hiragana and katakana with the small forms), the iteration marks ゝゞヽヾ々〻, 〆 and 〇,
the JIS X 0208 level-1 kanji (2,965, enumerated through the ``euc_jp`` codec), the
land-register vocabulary (``ledger/vocabulary.tsv`` of the data folder: numerals and their
formal and old forms, units, headings, land categories, events), KMNIST's ten kana and every
character of the annotated pages.  A character is kept when enough fonts write it (real crops
count for a character of the pages or KMNIST, which are kept whatever the fonts).
"""

from __future__ import annotations

import csv
from pathlib import Path

from kuzushi_core.synth import fonts

HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097))  # ぁ … ゖ
KATAKANA = "".join(chr(c) for c in range(0x30A1, 0x30FB))  # ァ … ヺ
MARKS = "ゝゞヽヾ々〻〆〇"
KMNIST = "おきすつなはまやれを"


def _jis_rows(first: int, last: int) -> str:
    """The characters of JIS X 0208 rows ``first``–``last`` in JIS order (through the ``euc_jp`` codec)."""
    out = []
    for row in range(first, last + 1):
        for cell in range(1, 95):
            try:
                out.append(bytes([0xA0 + row, 0xA0 + cell]).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    return "".join(out)


def jis_level1_kanji() -> str:
    """The 2,965 kanji of JIS X 0208 level 1 (rows 16–47), in JIS order."""
    return _jis_rows(16, 47)


def jis_level2_kanji() -> str:
    """JIS X 0208 level-2 kanji (rows 48–84): characters outside the vocabulary, for open-set tests."""
    return _jis_rows(48, 84)


def ledger_characters(data: Path) -> dict[str, str]:
    """Field → characters, from ``ledger/vocabulary.tsv`` (empty when the file is absent)."""
    path = Path(data) / "ledger" / "vocabulary.tsv"
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        field, _, chars = line.partition("\t")
        out[field.strip()] = "".join(ch for ch in chars.strip() if not ch.isspace())
    return out


def page_characters(data: Path) -> str:
    """Every character of the annotated pages (``pages/*/*_coordinate.csv``)."""
    chars: dict[str, None] = {}
    for path in sorted((Path(data) / "pages").glob("*/*_coordinate.csv")):
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                code = row["Unicode"]
                if code.startswith("U+"):
                    chars[chr(int(code[2:], 16))] = None
    return "".join(chars)


def build(data: Path | None, min_fonts: int = 3, faces=None) -> tuple[str, ...]:
    """The class list (deduplicated, in a stable order: KMNIST first, then kana, marks, ledger, kanji, pages).

    ``min_fonts``: a character that no real data covers needs at least that many installed fonts writing it.
    """
    faces = fonts.training_faces() if faces is None else faces
    ledger = "".join(ledger_characters(data).values()) if data else ""
    pages = page_characters(data) if data else ""
    real = set(KMNIST) | set(pages)
    order: dict[str, None] = {}
    for ch in KMNIST + HIRAGANA + KATAKANA + MARKS + ledger + jis_level1_kanji() + pages:
        if ch in order or ch.isspace():
            continue
        n = sum(1 for f in faces if ch in fonts.coverage(f))
        if ch in real or n >= min_fonts:
            order[ch] = None
    return tuple(order)


def kind(ch: str) -> str:
    """"kana", "kanji" or "other" (marks, 〇, punctuation) — for reports."""
    o = ord(ch)
    if 0x3041 <= o <= 0x309F or 0x30A0 <= o <= 0x30FF:
        return "kana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "kanji"
    return "other"
