"""Variant kana (変体仮名): the forms a Meiji or Edo hand writes for a kana.

Two sources, each labelled with the modern kana it is read as:

* the Unicode hentaigana block (U+1B000–U+1B16F), drawn by the fonts that have it
  (IPAmj明朝 has 286): the Unicode name says the reading (``HENTAIGANA LETTER KA-3`` → か);
* the source kanji (字母) of the common variants, written in the cursive brush faces
  (草書, 疎石, 行書): a variant kana *is* the cursive of its source kanji.

The 字母 list is the common set of the hentaigana tables (one line a kana).
"""

from __future__ import annotations

import unicodedata

from kuzushi_core.synth.fonts import FontFace, coverage

#: kana → its common source kanji (字母); the modern form's own source comes first
SOURCES = {
    "あ": "安阿愛", "い": "以伊意移", "う": "宇有雲", "え": "衣江盈", "お": "於隠",
    "か": "加可閑我家賀", "き": "幾支起喜貴", "く": "久具九倶", "け": "計介遣希", "こ": "己古故許",
    "さ": "左佐散沙", "し": "之志新四", "す": "寸須春数寿", "せ": "世勢瀬", "そ": "曽楚所",
    "た": "太多堂当", "ち": "知千遅", "つ": "川津徒", "て": "天亭帝", "と": "止登東",
    "な": "奈那南", "に": "仁尓耳丹", "ぬ": "奴努", "ね": "祢年", "の": "乃能農",
    "は": "波者八盤半", "ひ": "比飛悲", "ふ": "不布婦", "へ": "部遍辺", "ほ": "保本奉",
    "ま": "末万満麻", "み": "美三見", "む": "武無牟", "め": "女免馬", "も": "毛母茂",
    "や": "也屋夜", "ゆ": "由遊", "よ": "与余", "ら": "良羅", "り": "利里理",
    "る": "留流類", "れ": "礼連麗", "ろ": "呂路", "わ": "和王", "ゐ": "為井",
    "ゑ": "恵衛", "を": "遠乎越", "ん": "无",
}
CURSIVE_FACES = ("kouzan-sosho", "aoyagi-soseki", "kouzan-gyosho")

_ROMAJI = {}
for _k in "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん":
    _n = unicodedata.name(_k).removeprefix("HIRAGANA LETTER ")
    _ROMAJI[_n] = _k
_ROMAJI.update({"YI": "い", "YE": "え", "WU": "う"})


def hentaigana_reading(ch: str) -> str | None:
    """The modern hiragana a Unicode hentaigana is read as (None for anything else)."""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    if not name.startswith("HENTAIGANA LETTER "):
        return None
    syl = name.removeprefix("HENTAIGANA LETTER ").split("-")[0]
    return _ROMAJI.get(syl)


def unicode_variants(faces) -> list[tuple[str, str, FontFace]]:
    """(variant character, kana, face) for every hentaigana the given faces draw."""
    out = []
    for face in faces:
        for ch in sorted(c for c in coverage(face) if 0x1B000 <= ord(c) <= 0x1B16F):
            kana = hentaigana_reading(ch)
            if kana:
                out.append((ch, kana, face))
    return out


def source_variants(faces) -> list[tuple[str, str, FontFace]]:
    """(source kanji, kana, cursive face) for every 字母 a cursive face draws."""
    out = []
    cursive = [f for f in faces if f.name in CURSIVE_FACES]
    for kana, srcs in SOURCES.items():
        for src in srcs:
            for face in cursive:
                if src in coverage(face):
                    out.append((src, kana, face))
    return out
