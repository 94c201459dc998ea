"""The small typed records that flow between the modules of Kuzushi Lab.

Every stage of the pipeline (intake, segmentation, classification, training,
export) takes and returns these records rather than loose dicts or tuples, so
that a page of the app, the CLI and a test all see the same shapes.  They are
plain, frozen dataclasses: cheap to build, easy to compare in tests, and
serialisable with :func:`dataclasses.asdict`.

Coordinates are always in pixels of the *stored* scan image (after EXIF
orientation was applied), with ``x, y`` the top-left corner.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

BoxSource = Literal["auto", "user"]
LabelSource = Literal["user", "auto", "import"]
RunStatus = Literal["queued", "running", "completed", "failed", "cancelled"]


@dataclass(frozen=True)
class Document:
    """A ledger volume (or any group of scans the historian wants together)."""

    id: int
    name: str
    note: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class Scan:
    """One page image in the workspace.

    ``content_hash`` is the SHA-256 of the uploaded file's bytes; together with
    ``page_index`` (for multi-page TIFF/PDF) it identifies a page, so that a
    re-upload of the same file is recognised.  ``image_path`` is relative to the
    workspace's files folder and always decodes to 8-bit grey or RGB.  ``page_no``
    is the page's number in its document (1, 2, … in the order of import, across
    files and calls); ``page_index`` is the page's place inside its own file.
    """

    id: int
    document_id: int
    content_hash: str
    page_index: int
    source_name: str
    byte_size: int
    width: int
    height: int
    format: str
    image_path: str
    page_no: int = 0
    created_at: str = ""


@dataclass(frozen=True)
class CharBox:
    """A character box on a scan, in reading order.

    ``column`` counts vertical columns from the right edge of the page
    (0 = rightmost); ``order`` is the position in the page's reading order.
    ``source`` is ``"auto"`` for boxes made by segmentation and ``"user"`` for
    boxes the historian drew or edited: a re-run of segmentation never
    replaces ``user`` boxes unless asked to.
    """

    id: int
    scan_id: int
    x: int
    y: int
    w: int
    h: int
    column: int = 0
    order: int = 0
    source: BoxSource = "auto"
    flags: str = ""  # space-separated words: ``excluded`` (left out of training and scores), ``ledger``, ``ruby``

    def has_flag(self, flag: str) -> bool:
        """Whether ``flag`` is one of the box's flags (a whole word, not a substring)."""
        return flag in self.flags.split()


@dataclass(frozen=True)
class Label:
    """One labelling event: a character given to a box.

    Labels are appended, never overwritten; the current label of a box is the
    latest one.
    """

    id: int
    box_id: int
    char: str
    source: LabelSource = "user"
    created_at: str = ""
    labelled_by: str = ""  # the person who gave it ('' when no one was named)


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one crop: top-k candidates, best first."""

    label: str
    confidence: float
    candidates: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class TrainingRun:
    """A training job: its configuration, state and per-epoch history."""

    id: int
    config: dict = field(default_factory=dict)
    status: RunStatus = "queued"
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    pid: int | None = None
    error: str | None = None
    progress: float = 0.0
    metrics: dict = field(default_factory=dict)
    model_id: int | None = None
    started_by: str = ""  # the person who started it ('' when no one was named)


@dataclass(frozen=True)
class ModelRecord:
    """A registered model version (a ``.keras`` file plus its model card)."""

    id: int
    name: str
    path: str
    classes: tuple[str, ...]
    metrics: dict = field(default_factory=dict)
    parent_id: int | None = None
    active: bool = False
    created_at: str = ""
    card: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    """What happened to one uploaded file: the scans it produced or reused."""

    source_name: str
    scans: tuple[Scan, ...] = ()
    duplicates: tuple[Scan, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- boxes and cells: what segmentation, scoring and the ledger's ruling find --------------------------------
@dataclass(frozen=True)
class Box:
    """A character box found on a page (original pixels), its column (0 = rightmost) and reading order."""

    x: int
    y: int
    w: int
    h: int
    column: int = 0
    order: int = 0
    flags: str = ""

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "column": self.column, "order": self.order}


@dataclass
class Segmentation:
    """A page's segmentation: its boxes in reading order, the ruby apart, and the intermediate images."""

    width: int
    height: int
    boxes: list[Box]
    ruby: list[Box]
    char_size: float  # estimated character width, original px
    steps: dict[str, np.ndarray] = field(default_factory=dict)
    skew: float = 0.0  # degrees the page was turned back by
    cells: list = field(default_factory=list)  # a ruled form's cells (RuledCell), segmented one by one; [] on a book page


@dataclass(frozen=True)
class TrueBox:
    """A ground-truth character box (CODH or Kaggle labels): its character and reading order."""

    x: int
    y: int
    w: int
    h: int
    char: str = ""
    order: int = 0


@dataclass(frozen=True)
class RuledCell:
    """A smallest ruled rectangle of a printed register form, its row (top to bottom) and column (right to left)."""

    x: int
    y: int
    w: int
    h: int
    row: int = 0
    col: int = 0

    def as_dict(self) -> dict:
        return asdict(self)
