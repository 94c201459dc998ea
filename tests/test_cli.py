"""The CLI contract: python -m kuzushi_core import / scans."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from . import imagegen as g

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "kuzushi_core", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def test_help_lists_commands():
    r = cli("--help")
    assert r.returncode == 0
    assert "import" in r.stdout and "scans" in r.stdout


def test_import_and_list(tmp_path):
    ws = tmp_path / "ws"
    a, b = tmp_path / "a.png", tmp_path / "vol.tif"
    a.write_bytes(g.rgb("PNG"))
    b.write_bytes(g.multipage_tiff(2))
    r = cli("import", "--workspace", ws, "--document", "Ledger 1", a, b)
    assert r.returncode == 0, r.stderr
    assert "imported a.png" in r.stdout and "imported vol.tif" in r.stdout
    r = cli("scans", "--workspace", ws, "--json")
    rows = json.loads(r.stdout)
    # pages are numbered in the document, across the files of one call; page_in_file is the TIFF's own
    assert [(x["source_name"], x["page"], x["page_in_file"]) for x in rows] == [
        ("a.png", 1, 1), ("vol.tif", 2, 1), ("vol.tif", 3, 2)]
    assert {x["document"] for x in rows} == {"Ledger 1"}
    r = cli("scans", "--workspace", ws)
    assert "vol.tif" in r.stdout and "80×120" in r.stdout
    # importing again: recognised, exit 0
    r = cli("import", "--workspace", ws, a)
    assert r.returncode == 0 and "already in the workspace" in r.stdout
    c = tmp_path / "c.png"
    c.write_bytes(g.rgb("PNG", 90, 60))
    r = cli("import", "--workspace", ws, "--document", "Ledger 1", "--json", c)
    assert json.loads(r.stdout)[0]["pages"] == [4]  # a later call goes on after the last page


def test_bad_input_is_one_line_and_non_zero(tmp_path):
    ws = tmp_path / "ws"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(g.rgb("JPEG")[:200])
    good = tmp_path / "ok.png"
    good.write_bytes(g.rgb("PNG"))
    r = cli("import", "--workspace", ws, bad, good, tmp_path / "absent.png")
    assert r.returncode == 1
    err_lines = r.stderr.strip().splitlines()
    assert len(err_lines) == 2 and all(x.startswith("error: ") for x in err_lines)
    assert "broken.jpg" in err_lines[0] and "absent.png" in err_lines[1]
    assert "Traceback" not in r.stderr
    assert "imported ok.png" in r.stdout  # the good file still went in


def test_scans_on_missing_workspace(tmp_path):
    r = cli("scans", "--workspace", tmp_path / "none")
    assert r.returncode == 1 and r.stderr.startswith("error: No workspace") and "Traceback" not in r.stderr


def test_workspace_from_environment(tmp_path):
    import os

    env = {**os.environ, "KUZUSHI_WORKSPACE": str(tmp_path / "envws")}
    a = tmp_path / "a.bmp"
    a.write_bytes(g.rgb("BMP"))
    assert cli("import", a, env=env).returncode == 0
    assert (tmp_path / "envws" / "kuzushi.sqlite").exists()


def test_score_boxes_on_a_csv_without_unicode_is_one_line(tmp_path):
    gt = tmp_path / "gt.csv"
    gt.write_text("Image,X,Y,Width,Height\np,1,2,3,4\n", encoding="utf-8")
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps({"pages": [{"image": "p.png", "boxes": []}]}), encoding="utf-8")
    r = cli("score-boxes", "--gt", gt, "--pred", pred)
    assert r.returncode == 1 and r.stderr.startswith("error: ") and "Unicode" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_adapt_and_import_labels_on_a_missing_workspace(tmp_path):
    for args in (("adapt", "--workspace", tmp_path / "none", "--out", tmp_path / "x.keras"),
                 ("import-labels", "--workspace", tmp_path / "none", tmp_path / "x.csv")):
        r = cli(*args)
        assert r.returncode == 1 and r.stderr.startswith("error: No workspace") and "Traceback" not in r.stderr
