"""The fonts that write the reader's characters, and which characters each one covers.

The faces are Debian packages (``scripts/install_fonts.sh`` installs them): brush hands
(衡山毛筆 楷書/行書/草書, 青柳衡山, 青柳疎石), handwriting (きろ字, 瀬戸), a Meiji-style
mincho (Oradano), IPAmj明朝 and Noto CJK.  Coverage is read from each font's cmap with
fontTools, never assumed.  Nothing here fails when fonts are missing: :func:`available`
returns what is installed and :func:`missing_packages` says what is not.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from kuzushi_core.errors import FontError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / ".local/share/fonts")


@dataclass(frozen=True)
class FontFace:
    """One face: a file (and its index inside a .ttc collection), a short name, its style."""

    name: str
    path: Path
    index: int
    style: str  # "brush", "handwriting", "mincho", "gothic"
    package: str


# (name, file name, face family inside a collection or "", style, Debian package)
KNOWN_FACES = (
    ("kouzan-sosho", "KouzanBrushFontSousyo.ttf", "", "brush", "fonts-kouzan-mouhitsu"),
    ("kouzan-gyosho", "kouzan-mouhitsu-gyosho.ttf", "", "brush", "fonts-kouzan-mouhitsu"),
    ("kouzan-kaisho", "kouzan-mouhitsu.ttf", "", "brush", "fonts-kouzan-mouhitsu"),
    ("aoyagi-kouzan", "AoyagiKouzanT.ttf", "", "brush", "fonts-aoyagi-kouzan-t"),
    ("aoyagi-soseki", "aoyagi-soseki.ttf", "", "brush", "fonts-aoyagi-soseki"),
    ("kiloji", "kiloji.ttf", "", "handwriting", "fonts-kiloji"),
    ("kiloji-b", "kiloji_b.ttf", "", "handwriting", "fonts-kiloji"),
    ("seto", "setofont.ttf", "", "handwriting", "fonts-seto"),
    ("oradano", "OradanoGSRR.ttf", "", "mincho", "fonts-oradano-mincho-gsrr"),
    ("ipamj", "ipamjm.ttf", "", "mincho", "fonts-ipamj-mincho"),
    ("noto-serif", "NotoSerifCJK-Regular.ttc", "Noto Serif CJK JP", "mincho", "fonts-noto-cjk"),
    ("noto-serif-bold", "NotoSerifCJK-Bold.ttc", "Noto Serif CJK JP", "mincho", "fonts-noto-cjk"),
    ("noto-sans", "NotoSansCJK-Regular.ttc", "Noto Sans CJK JP", "gothic", "fonts-noto-cjk"),
)
PACKAGES = tuple(dict.fromkeys(f[4] for f in KNOWN_FACES))
#: the font files' licences, from each package's /usr/share/doc/PACKAGE/copyright (renders are made from them)
LICENCES = {
    "fonts-kouzan-mouhitsu": "public domain", "fonts-aoyagi-kouzan-t": "public domain",
    "fonts-aoyagi-soseki": "public domain", "fonts-kiloji": "BSD-3-Clause", "fonts-seto": "OFL-1.1",
    "fonts-oradano-mincho-gsrr": "free licence of its authors (see the package's copyright file)",
    "fonts-ipamj-mincho": "IPA Font License 1.0", "fonts-noto-cjk": "SIL OFL 1.1",
}
#: the faces the Read page draws candidates in (most like a brush hand first)
DISPLAY_FACES = ("kouzan-gyosho", "kouzan-sosho", "aoyagi-soseki", "kouzan-kaisho", "noto-serif")


def _find(file_name: str, dirs=FONT_DIRS) -> Path | None:
    for d in dirs:
        if d.is_dir():
            hits = sorted(d.rglob(file_name))
            if hits:
                return hits[0]
    return None


def _collection_index(path: Path, family: str) -> int:
    if not family or path.suffix.lower() != ".ttc":
        return 0
    from fontTools.ttLib import TTCollection

    coll = TTCollection(str(path), lazy=True)
    for i, font in enumerate(coll.fonts):
        if any(rec.nameID in (1, 16) and rec.toUnicode() == family for rec in font["name"].names):
            return i
    return 0


@functools.lru_cache(maxsize=4)
def available(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[FontFace, ...]:
    """The known faces that are installed, in :data:`KNOWN_FACES` order."""
    out = []
    for name, file_name, family, style, package in KNOWN_FACES:
        path = _find(file_name, dirs)
        if path is not None:
            out.append(FontFace(name, path, _collection_index(path, family), style, package))
    return tuple(out)


#: the faces no model may learn from, comma-separated: a benchmark's unseen hand ("registers" in
#: bench/bench_adapt.py trains a reader without one hand and writes registers in it)
HOLD_OUT_ENV = "KUZUSHI_HOLD_OUT_FACES"


def held_out() -> frozenset[str]:
    import os

    return frozenset(n.strip() for n in os.environ.get(HOLD_OUT_ENV, "").split(",") if n.strip())


def training_faces(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[FontFace, ...]:
    """The installed faces renders for training are drawn in: all of :func:`available` but the held-out ones
    (:data:`HOLD_OUT_ENV`).  Pages generated for testing use :func:`available`."""
    out = held_out()
    return tuple(f for f in available(dirs) if f.name not in out)


def missing_packages(dirs: tuple[Path, ...] = FONT_DIRS) -> tuple[str, ...]:
    have = {f.package for f in available(dirs)}
    return tuple(p for p in PACKAGES if p not in have)


def cache_dir() -> Path:
    """Where derived, re-creatable data is kept (``$KUZUSHI_CACHE`` or ``~/.cache/kuzushi-lab``)."""
    import os

    return Path(os.environ.get("KUZUSHI_CACHE") or Path.home() / ".cache" / "kuzushi-lab")


@functools.lru_cache(maxsize=64)
def coverage(face: FontFace) -> frozenset[str]:
    """The characters the face has a glyph for (its best Unicode cmap; read once, then cached on disk)."""
    st = face.path.stat()
    cached = cache_dir() / "coverage" / f"{face.name}-{face.index}-{st.st_size}-{int(st.st_mtime)}.txt"
    if cached.exists():
        return frozenset(cached.read_text(encoding="utf-8"))
    chars = _read_coverage(face)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text("".join(sorted(chars)), encoding="utf-8")
        tmp.replace(cached)
    except OSError:
        pass
    return chars


def _read_coverage(face: FontFace) -> frozenset[str]:
    import logging

    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)

    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    cmap = font.getBestCmap() or {}
    glyf = font["glyf"] if "glyf" in font else None
    chars = set()
    for code, gname in cmap.items():
        if glyf is not None:  # an empty outline (some handwriting fonts map kanji to blanks) is no glyph
            g = glyf[gname]
            if getattr(g, "numberOfContours", 0) == 0:
                continue
        chars.add(chr(code))
    return frozenset(chars)


def faces_for(char: str, faces: tuple[FontFace, ...] | None = None) -> tuple[FontFace, ...]:
    faces = available() if faces is None else faces
    return tuple(f for f in faces if char in coverage(f))


def by_name(name: str) -> FontFace:
    for f in available():
        if f.name == name:
            return f
    raise FontError(f"the font {name!r} is not installed (scripts/install_fonts.sh installs the reader's fonts)")
