"""Where things live: the shared data folder, the shipped models, the fonts."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_ROOT / "models"
DEMO_PAGE = PROJECT_ROOT / "demo" / "ledger_demo.jpg"


def data_dir() -> Path:
    """The real-data folder: ``$KUZUSHI_DATA``, else ``../shared/data`` beside the project."""
    env = os.environ.get("KUZUSHI_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data").resolve()


def schemas_dir() -> Path:
    return (data_dir().parent / "schemas").resolve()
