"""Shared fixtures: the real-data folder, a fresh workspace, generated images."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kuzushi_core.paths import data_dir as _data_dir  # noqa: E402
from kuzushi_core.store import Store  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"


def require_data_enabled() -> bool:
    return os.environ.get("KUZUSHI_REQUIRE_DATA", "") not in ("", "0", "false", "no")


def need_fonts() -> None:
    """Skip the test when no Japanese font is installed, or fail it under KUZUSHI_REQUIRE_DATA=1."""
    from kuzushi_core.synth import fonts

    if not fonts.available():
        msg = "no Japanese fonts installed (bash scripts/install_fonts.sh)"
        if require_data_enabled():
            pytest.fail(msg)
        pytest.skip(msg)


def need(path: Path, what: str) -> Path:
    """Return ``path``; when absent skip the test, or fail it under KUZUSHI_REQUIRE_DATA=1."""
    if not path.exists():
        msg = f"{what} not found at {path} (set KUZUSHI_DATA or place ../shared/data beside the project)"
        if require_data_enabled():
            pytest.fail(f"KUZUSHI_REQUIRE_DATA=1 but {msg}")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return need(_data_dir(), "the real-data folder")


@pytest.fixture(scope="session")
def page_images(data_dir: Path) -> list[Path]:
    folder = need(data_dir / "pages" / "100241706" / "images", "the annotated page scans")
    return sorted(folder.glob("*.jpg"))


@pytest.fixture(scope="session")
def real_scans(data_dir: Path) -> list[Path]:
    folder = need(data_dir / "scans", "the unannotated real scans")
    return sorted(p for p in folder.rglob("*.jpg"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "ws")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
