"""Write one benchmark's section into BENCHMARKS.md (between its own markers)."""

from __future__ import annotations

import datetime
import hashlib
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "BENCHMARKS.md"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def commit() -> str:
    """The checked-out commit (short hash), ``+changes`` when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" +changes" if dirty else "")


def model_hashes() -> str:
    """The shipped models' file hashes (SHA-256, first 12 hex digits)."""
    out = []
    for path in sorted((ROOT / "models").glob("*.keras")):
        out.append(f"{path.name} {hashlib.sha256(path.read_bytes()).hexdigest()[:12]}")
    return ", ".join(out)


def provenance() -> str:
    """Which command, at which commit, with which shipped models measured a section."""
    command = "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]) if sys.argv and sys.argv[0] else "?"
    return f"Command `{command}` at commit `{commit()}`; models: {model_hashes()}."


def write_section(name: str, body: str) -> None:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"<!-- {name}:start -->\n## {name}\n\n_Measured {stamp} on {machine()}. {provenance()}_\n\n"
               f"{body.strip()}\n<!-- {name}:end -->")
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n\nWritten by the scripts in `bench/`; each section is replaced when its script runs again.\n"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    REPORT.write_text(text, encoding="utf-8")
