"""The README's set-up step (scripts/setup_env.sh, called by run.sh and test.sh), run for real against a
throw-away folder: it makes a virtual environment, installs into it (never into the interpreter, which may
be "externally managed", PEP 668), reuses it on a second run and refuses an unusable Python clearly."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "scripts" / "setup_env.sh"
DEBIAN_PYTHON = Path("/usr/bin/python3")


def _externally_managed(python: Path) -> bool:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                         capture_output=True, text=True)
    return out.returncode == 0 and (Path(out.stdout.strip()) / "EXTERNALLY-MANAGED").exists()


def _pythons() -> list:
    """This interpreter, and Debian's own externally managed one where the machine has it."""
    found = [pytest.param(Path(sys.executable), id="this-python")]
    if DEBIAN_PYTHON.exists() and _externally_managed(DEBIAN_PYTHON):
        found.append(pytest.param(DEBIAN_PYTHON, id="debian-externally-managed"))
    return found


def _wheel(folder: Path, version: str = "0.1") -> Path:
    """A real, tiny wheel on disk, so that the install needs no network."""
    path = folder / f"kz_setup_probe-{version}-py3-none-any.whl"
    dist = f"kz_setup_probe-{version}.dist-info"
    files = {
        "kz_setup_probe/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: kz-setup-probe\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: kuzushi-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{dist}/RECORD"])
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def _setup(req: Path, venv: Path, python: Path | str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": str(python), "KUZUSHI_VENV": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(["bash", str(SETUP), str(req)], capture_output=True, text=True, env=env, timeout=600)


@pytest.mark.parametrize("python", _pythons())
def test_setup_makes_reuses_and_updates_a_project_environment(tmp_path, python):
    wheel = _wheel(tmp_path)
    req = tmp_path / "requirements.txt"
    req.write_text(f"# probe\n{wheel}\n")
    venv = tmp_path / "venv"

    first = _setup(req, venv, python)
    assert first.returncode == 0, first.stderr
    vpy = Path(first.stdout.strip().splitlines()[-1])
    assert vpy == venv / "bin" / "python"
    assert "Creating the virtual environment" in first.stderr and "Installing" in first.stderr
    probe = subprocess.run([str(vpy), "-c", "import kz_setup_probe; print(kz_setup_probe.VERSION)"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "0.1", probe.stderr
    # nothing went into the interpreter itself
    outside = subprocess.run([str(python), "-c", "import kz_setup_probe"], capture_output=True, text=True)
    assert outside.returncode != 0

    # a second run reuses the environment and does not run pip again
    inode = vpy.resolve().stat().st_ino, (venv / "pyvenv.cfg").stat().st_mtime_ns
    second = _setup(req, venv, python)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines()[-1] == str(vpy)
    assert "Creating" not in second.stderr and "Installing" not in second.stderr
    assert (vpy.resolve().stat().st_ino, (venv / "pyvenv.cfg").stat().st_mtime_ns) == inode

    # changed requirements (here: an included file) are installed on the next run
    inc = tmp_path / "more.txt"
    (tmp_path / "v2").mkdir()
    inc.write_text(f"{_wheel(tmp_path / 'v2', '0.2')}\n")
    req.write_text("-r more.txt\n")
    third = _setup(req, venv, python)
    assert third.returncode == 0, third.stderr
    assert "Installing" in third.stderr and "Creating" not in third.stderr
    probe = subprocess.run([str(vpy), "-c", "import kz_setup_probe; print(kz_setup_probe.VERSION)"],
                           capture_output=True, text=True)
    assert probe.stdout.strip() == "0.2"


def test_setup_refuses_a_wrong_or_missing_python_with_a_clear_message(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text("")
    old = tmp_path / "python3.8"
    old.write_text("#!/bin/sh\necho 3.8\n")
    old.chmod(0o755)
    for python, says in ((old, "is Python 3.8"), (tmp_path / "nowhere" / "python3", "was not found")):
        r = _setup(req, tmp_path / "venv", python)
        assert r.returncode == 2
        assert "needs Python 3.11" in r.stderr and says in r.stderr and "PYTHON=" in r.stderr
        assert r.stdout == ""
        assert not (tmp_path / "venv").exists()


def test_the_readme_commands_set_up_through_the_project_environment():
    """run.sh and test.sh install nothing into the interpreter itself: both go through setup_env.sh."""
    for script, req in (("run.sh", "requirements.txt"), ("test.sh", "requirements-dev.txt")):
        text = (ROOT / script).read_text()
        assert f"scripts/setup_env.sh {req}" in text
        assert "pip install" not in text
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()
    assert sysconfig.get_python_version() in ("3.11", "3.12")
