"""A register page's lots: each field's characters joined into text, parsed, and cross-checked.

A lot is a mapping field → :class:`Field`. The checks catch misreads the way a historian would: a 地租
that is not the 地価 times the tax rate (2.5 % from 1877, 3 % before), an area, value or date that does not
parse, and a page's written totals (名寄帳 計) that are not the sum of its lots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from kuzushi_core.ledger import grammar
from kuzushi_core.ledger.values import ParsedValue, parse_value

TAX_RATES = (0.025, 0.03)  # 1877 onwards; 1873–1876
PARSED_KINDS = ("number", "area", "money", "date")
#: the fields that make a lot: what the benchmark counts as "read right"
KEY_FIELDS = ("lot_no", "category", "area", "value")


@dataclass(frozen=True)
class Field:
    name: str
    text: str
    kind: str  # number, area, money, date, or text (字, 地目, names: kept as written)
    value: object = None
    unit: str | None = None
    error: str | None = None
    confidence: float = 1.0
    source: str = "auto"  # "auto" (the reader) or "user"
    cell: int = -1
    #: a value cell's few best readings that parse, ``(text, log-probability, value)`` (:mod:`.grammar`)
    alternatives: tuple = field(default=(), compare=False, repr=False)
    note: str | None = None  # why the reading is not the cell's most probable one

    def as_dict(self) -> dict:
        return {"field": self.name, "text": self.text, "kind": self.kind, "value": self.value, "unit": self.unit,
                "error": self.error, "confidence": round(self.confidence, 4), "source": self.source,
                "cell": self.cell}


@dataclass(frozen=True)
class Flag:
    """A check's finding on a field: ``reason`` in English (what the exports write), ``code`` and ``figures`` for
    the UI to say it in its language (``ledger.flag.<code>``)."""

    field: str
    reason: str
    code: str = ""
    figures: tuple[tuple[str, object], ...] = ()


@dataclass
class Lot:
    fields: dict[str, Field]
    flags: list[Flag] = field(default_factory=list)

    def value(self, name: str):
        f = self.fields.get(name)
        return None if f is None else f.value


def make_field(name: str, text: str, kind: str, *, confidence: float = 1.0, source: str = "auto",
               cell: int = -1) -> Field:
    """A field from its text: parsed when its kind is a value kind, kept as written otherwise."""
    if kind in PARSED_KINDS:
        p: ParsedValue = parse_value(text, kind)
        return Field(name, text, kind, p.value, p.unit, p.error, confidence, source, cell)
    return Field(name, text, kind, text or None, None, None if text else "empty", confidence, source, cell)


def tax_agrees(value, tax) -> bool:
    """地租 is 地価 × 2.5 % (from 1877) or × 3 % (before), to 1 厘 of rounding."""
    if not isinstance(value, (int, float)) or not isinstance(tax, (int, float)):
        return False
    return any(abs(tax - value * r) <= 1.0 for r in TAX_RATES)


def tax_agrees_to_the_unit(value, tax, tax_text: str) -> bool:
    """The strict agreement that may choose a reading: 地租 is 地価 × 2.5 % or × 3 % to within the smallest unit
    the 地租 is written in (毛 0.1 厘, 厘, 銭 10 厘) — rounded down or to the nearest. (:func:`tax_agrees`, the check
    that flags, allows 1 厘 whatever the unit: a wrong 毛 is not worth a flag, but it must not choose a reading of
    the 地価 either.)"""
    if not isinstance(value, (int, float)) or not isinstance(tax, (int, float)):
        return False
    step = 0.1 if "毛" in tax_text else 1.0 if "厘" in tax_text else 10.0 if set("銭錢") & set(tax_text) else 100.0
    return any(abs(tax - value * r) < step for r in TAX_RATES)


def check_lot(lot: Lot) -> list[Flag]:
    """Flags for one lot: values that do not parse, and 地租 against 地価 × rate."""
    flags = [Flag(name, f"does not parse: {f.error}", "unparsed", (("error", f.error),))
             for name, f in lot.fields.items() if f.kind in PARSED_KINDS and f.error]
    value, tax = lot.value("value"), lot.value("tax")
    if isinstance(value, (int, float)) and isinstance(tax, (int, float)):
        if not tax_agrees(value, tax):
            expect = value * TAX_RATES[0]
            flags.append(Flag("tax", f"地租 {tax} 厘 is not 地価 {value} 厘 × 2.5 % (= {expect:.1f}) nor × 3 %", "tax",
                              (("tax", tax), ("value", value), ("expect", expect))))
    return flags


def check_totals(lots: Iterable[Lot], totals: Mapping[str, Field]) -> list[Flag]:
    """Flags for a page's written totals (``area``, ``value``, ``tax``) that are not the sum of its lots."""
    lots = list(lots)
    flags = []
    for name, written in totals.items():
        if written.error or not isinstance(written.value, (int, float)):
            flags.append(Flag(f"total_{name}", f"the written total does not parse: {written.error}", "total_unparsed",
                              (("error", written.error),)))
            continue
        vals = [lot.value(name) for lot in lots]
        if any(not isinstance(v, (int, float)) for v in vals):
            continue  # a lot's own flag says which
        s = sum(vals)
        if abs(s - written.value) > 1.0:
            flags.append(Flag(f"total_{name}", f"the written total {written.value} is not the lots' sum {s:g}",
                              "total_sum", (("written", written.value), ("sum", s))))
    return flags


def check_page(lots: list[Lot], totals: Mapping[str, Field] | None = None) -> list[Flag]:
    """Set each lot's flags; return the page's own (totals) flags."""
    for lot in lots:
        lot.flags = check_lot(lot)
    return check_totals(lots, totals or {})


NUMERALS = "〇一二三四五六七八九十廿卅百千万萬壱弐参肆伍陸漆捌玖拾佰阡壹貳參"
#: the characters a field of each kind can hold: a reader of a value cell chooses among these only
ALPHABETS = {
    "number": NUMERALS,
    "area": NUMERALS + "町反段畝歩坪合勺",
    "money": NUMERALS + "金円圓銭錢厘毛也",
    "date": NUMERALS + "明治大正昭和元年月日正朔閏",
}


#: 地目, the land categories of the registers (../shared/data/ledger/README.md): a 地目 cell holds one of these
CATEGORIES = ("田", "畑", "宅地", "山林", "原野", "池沼", "溜池", "墳墓地", "雑種地", "用悪水路", "井溝", "堤塘", "保安林",
              "道路", "鉄道用地", "塩田", "鉱泉地", "牧場", "社寺境内", "官有地", "荒地", "郡村宅地", "市街宅地")


def read_word(probs, classes: tuple[str, ...], lexicon: tuple[str, ...]) -> tuple[str, float] | None:
    """The entry of ``lexicon`` with as many characters as there are glyphs that the model finds most probable
    (sum of log-probabilities), with its mean probability; None when no entry has that length."""
    import numpy as np

    probs = np.asarray(probs)
    index = {c: i for i, c in enumerate(classes)}
    best, score = None, -np.inf
    for word in lexicon:
        if len(word) != len(probs) or any(c not in index for c in word):
            continue
        s = float(sum(np.log(probs[k, index[c]] + 1e-12) for k, c in enumerate(word)))
        if s > score:
            best, score = word, s
    if best is None:
        return None
    return best, float(np.exp(score / len(best)))


#: the events of 沿革/事故 (../shared/data/ledger/README.md): an event cell holds one of these
EVENTS = ("売買", "譲渡", "相続", "家督相続", "質入", "書入", "抵当", "分筆", "合筆", "開墾", "地目変換", "修正")
#: the fields read as a word of a list
LEXICONS = {"category": CATEGORIES, "event": EVENTS}


def word_of(cands, lexicon: tuple[str, ...]) -> tuple[str, float] | None:
    """The word of ``lexicon`` that the glyphs' candidates (one list of ``(character, probability)`` a glyph)
    make most probable (None when none has their count)."""
    import numpy as np

    classes = sorted({c for cs in cands for c, _ in cs} | set("".join(lexicon)))
    index = {c: i for i, c in enumerate(classes)}
    probs = np.full((len(cands), len(classes)), 1e-6)
    for k, cs in enumerate(cands):
        for c, v in cs:
            probs[k, index[c]] = v
    return read_word(probs, tuple(classes), lexicon)


def read_field(name: str, kind: str, cands, cell: int = -1, *, source: str = "auto", lexicon: bool = True) -> Field:
    """A field from its glyphs' candidates in reading order (a list of ``(character, probability)`` a glyph, most
    probable first; a glyph the user labelled is ``[(label, 1.0)]``): a 地目 or an event read as a word of its
    list (``lexicon``: not where the user labelled a glyph), a value cell as the most probable text that parses
    (:mod:`.grammar`, its few best readings kept for the checks across fields), anything else as read."""
    base = name.removeprefix("total_").split("#")[0]
    words = LEXICONS.get(base) if lexicon else None
    guess = word_of(cands, words) if words and cands else None
    if guess is not None:
        return make_field(name, guess[0], kind, confidence=guess[1], source=source, cell=cell)
    if kind in PARSED_KINDS and cands:
        alts = grammar.readings(cands, kind, ALPHABETS[kind], margin=grammar.OFFER_MARGIN)  # agreement keeps to MARGIN
        if alts:
            f = make_field(name, alts[0][0], kind, confidence=grammar.glyph_confidence(cands, alts[0][0]),
                           source=source, cell=cell)
            return replace(f, alternatives=tuple(alts))
    allowed = ALPHABETS.get(kind, "")
    read = []
    for cs in cands:
        inside = [(c, p) for c, p in cs if c in allowed]
        read.append(inside[0] if inside else (cs[0] if cs else ("", 0.0)))
    return make_field(name, "".join(c for c, _ in read), kind, confidence=min((p for _, p in read), default=0.0),
                      source=source, cell=cell)


def _take(f: Field, k: int) -> Field:
    """``f`` read as its ``k``-th alternative (agreement with another field chose it)."""
    text = f.alternatives[k][0]
    g = make_field(f.name, text, f.kind, confidence=f.confidence, source=f.source, cell=f.cell)
    return replace(g, alternatives=f.alternatives, note="chosen to agree with another field")


@dataclass(frozen=True)
class Fix:
    """Another reading of a field that parses: its text, its value, and whether it makes the lot's 地価/地租 check
    pass (None where the field has no partner in that check, or the partner has no value)."""

    field: str
    text: str
    value: object
    agrees: bool | None = None


PARTNER = {"value": "tax", "tax": "value"}


def fixes(lot: Lot, names: Iterable[str], n: int = 3) -> list[Fix]:
    """The one-click fixes of a flagged lot: each named field's other readings that parse (its grammar's
    alternatives, :func:`read_field`), those that make the 地価/地租 check pass first, then by probability; at most
    ``n`` a field.  A field the user typed has none; in a field with a labelled glyph that glyph keeps its label."""
    out: list[Fix] = []
    for name in dict.fromkeys(names):
        f = lot.fields.get(name)
        if f is None or not f.alternatives:  # a typed field has none; a labelled glyph stays as labelled in them
            continue
        partner = lot.fields.get(PARTNER.get(name, ""))
        other = partner.value if partner is not None else None
        mine = []
        for text, _logp, value in f.alternatives:
            if text == f.text:
                continue
            agrees = None
            if isinstance(other, (int, float)):
                agrees = tax_agrees(value, other) if name == "value" else tax_agrees(other, value)
            mine.append(Fix(name, text, value, agrees))
        mine.sort(key=lambda x: not x.agrees)  # stable: most probable first within each group
        out += mine[:n]
    return out


def cross_read(lots: list[Lot], totals: dict[str, Field]) -> None:
    """The lots' numbers read to agree where the readings allow: a lot's 地価 and 地租 (the tax rate, to the 地租's
    smallest written unit: :func:`tax_agrees_to_the_unit`), then the page's written totals and the sums of its
    lots — each only among readings that parse and not much less probable than the best
    (:func:`.grammar.agreeing`); a field that holds a user's label or text is left as it is, and is not used to
    read its partner again."""
    for lot in lots:
        v, t = lot.fields.get("value"), lot.fields.get("tax")
        if v is None or t is None or not v.alternatives or not t.alternatives or "user" in (v.source, t.source):
            continue  # a field with a user's label is the user's: neither it nor its partner is read again for it
        pick = grammar.agreeing(list(v.alternatives), list(t.alternatives),
                                lambda x, y: tax_agrees_to_the_unit(x[2], y[2], y[0]))
        if pick is not None and pick != (0, 0):
            i, j = pick
            if i:
                lot.fields["value"] = _take(v, i)
            if j:
                lot.fields["tax"] = _take(t, j)
    for name, written in list(totals.items()):
        vals = [lot.value(name) for lot in lots]
        if (not written.alternatives or written.source == "user" or not vals
                or any(not isinstance(x, (int, float)) for x in vals)):
            continue
        k = grammar.agreeing_total(list(written.alternatives), sum(vals))
        if k:
            totals[name] = _take(written, k)


def assemble(fields: Iterable[tuple[int, Field]]) -> tuple[list[Lot], dict[str, Field]]:
    """Lots from ``(lot, field)`` pairs in the form's order: a field of lot -1 belongs to every lot, a
    ``total_*`` field is the page's written total; their numbers read to agree where the readings allow
    (:func:`cross_read`); :func:`check_page` then flags what still does not."""
    per: dict[int, dict[str, Field]] = {}
    every: dict[str, Field] = {}
    totals: dict[str, Field] = {}
    for lot, f in fields:
        if f.name.startswith("total_"):
            totals[f.name.removeprefix("total_")] = f
        elif lot < 0:
            every[f.name] = f
        else:
            per.setdefault(lot, {})[f.name] = f
    lots = [Lot({**per[k], **every}) for k in sorted(per)] or ([Lot(dict(every))] if every else [])
    cross_read(lots, totals)
    return lots, totals


def join_cell(chars: Iterable[str]) -> str:
    """The characters read in a cell, in reading order, as the field's text."""
    return "".join(c for c in chars if c and not c.isspace())
