#!/usr/bin/env bash
# Set up and start Kuzushi Lab on the embedded default workspace (./workspace,
# or $KUZUSHI_WORKSPACE). Needs Python 3.11 (PYTHON=..., default python3); the packages go
# into the project's own virtual environment (.venv), created on the first run.
set -euo pipefail
cd "$(dirname "$0")"
VPY=$(bash scripts/setup_env.sh requirements.txt)
bash scripts/install_fonts.sh  # brush fonts for synthetic glyphs and candidate renders; the app runs without
exec "$VPY" -m streamlit run app.py "$@"
