#!/usr/bin/env bash
# Create (once) and update the project's virtual environment, then print its Python.
#
#   VPY=$(bash scripts/setup_env.sh requirements.txt)
#
# Works with an "externally managed" interpreter (PEP 668: Debian, Ubuntu 23.04+, Homebrew),
# because nothing is installed into it: packages go into the environment only.
#   PYTHON        the interpreter that creates the environment (default: python3)
#   KUZUSHI_VENV  where the environment lives (default: .venv beside this script's folder)
# Safe to run twice: an existing environment is reused, and pip runs only when the
# requirements changed since the last successful install. Messages go to stderr; the
# environment's Python is the only line on stdout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ=${1:?usage: setup_env.sh REQUIREMENTS_FILE}
[ -f "$REQ" ] || { echo "error: no requirements file $REQ" >&2; exit 2; }
REQ=$(cd "$(dirname "$REQ")" && pwd)/$(basename "$REQ")
PY=${PYTHON:-python3}
VENV=${KUZUSHI_VENV:-$ROOT/.venv}
MIN_MINOR=11
MAX_MINOR=12  # tensorflow 2.20 and the pinned numpy/pandas: Python 3.11 (tested) or 3.12

need_python() {
  echo "error: Kuzushi Lab needs Python 3.$MIN_MINOR (3.$MIN_MINOR–3.$MAX_MINOR); $1" >&2
  echo "       install it (Debian/Ubuntu: apt install python3.11 python3.11-venv; macOS: brew install python@3.11)" >&2
  echo "       and point PYTHON at it, e.g. PYTHON=/usr/bin/python3.11 bash run.sh" >&2
  exit 2
}

command -v "$PY" >/dev/null 2>&1 || need_python "'$PY' was not found."
version=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
  || need_python "'$PY' does not run."
minor=${version#3.}
if [ "${version%%.*}" != 3 ] || [ "$minor" -lt "$MIN_MINOR" ] || [ "$minor" -gt "$MAX_MINOR" ]; then
  need_python "'$PY' is Python $version."
fi

VPY=$VENV/bin/python
if [ -x "$VPY" ] && ! "$VPY" -c 'import sys' >/dev/null 2>&1; then
  echo "note: the environment $VENV is broken (its interpreter no longer runs): making it again" >&2
  rm -rf "$VENV"
fi
if [ ! -x "$VPY" ]; then
  echo "Creating the virtual environment $VENV with $PY (Python $version) ..." >&2
  if ! "$PY" -m venv "$VENV" >&2; then
    rm -rf "$VENV"
    echo "error: '$PY -m venv' failed. On Debian/Ubuntu install the venv module: apt install python3-venv" >&2
    exit 2
  fi
fi

# the requirements and every file they include (-r), hashed: pip runs again only when one changed
req_files() {
  local f=$1 dir
  dir=$(dirname "$f")
  echo "$f"
  sed -n 's/^[[:space:]]*-r[[:space:]]*\([^[:space:]]*\).*/\1/p' "$f" | while read -r inc; do
    req_files "$dir/$inc"
  done
}
STAMP=$VENV/.kuzushi-requirements-$(basename "$REQ").sha256
digest=$(req_files "$REQ" | xargs cat | { "$VPY" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; })
if [ "$(cat "$STAMP" 2>/dev/null)" != "$digest" ]; then
  echo "Installing $(basename "$REQ") into $VENV ..." >&2
  "$VPY" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
  echo "$digest" > "$STAMP"
fi
echo "$VPY"
