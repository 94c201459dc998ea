#!/usr/bin/env bash
# Set up and start Kuzushi Lab on the embedded default workspace (./workspace,
# or $KUZUSHI_WORKSPACE). Needs Python 3.11 with pip; nothing else.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
bash scripts/install_fonts.sh  # brush fonts for synthetic glyphs and candidate renders; the app runs without
"$PY" -m pip install -q -r requirements.txt
exec "$PY" -m streamlit run app.py "$@"
