#!/usr/bin/env bash
# Set up and run every test of Kuzushi Lab. Needs Python 3.11 (PYTHON=..., default python3):
# the packages go into the project's virtual environment (.venv, shared with run.sh); installs
# Debian's chromium and Noto CJK fonts (for the real-browser tests) when missing.
set -euo pipefail
cd "$(dirname "$0")"
VPY=$(bash scripts/setup_env.sh requirements-dev.txt)
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "note: chromium not found and no apt-get: the real-browser tests will be skipped" >&2
  fi
fi
bash scripts/install_fonts.sh
if [ "$#" -eq 0 ]; then  # the whole suite (CI): lint and types first
  "$VPY" -m ruff check .
  "$VPY" -m mypy
fi
exec "$VPY" -m pytest "$@"
