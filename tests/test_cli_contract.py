"""The CLI's error contract: every subcommand, given bad files or bad arguments, answers with one line
``error: …`` on stderr and exit code 1 — never a traceback, never a half-written output.

The table below must name every subcommand the parser knows (a new command without a bad-input case fails
:func:`test_every_subcommand_has_a_bad_input_case`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kuzushi_core.cli import build_parser, main
from kuzushi_core.store import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    (d / "garbage.png").write_bytes(bytes(range(256)) * 12)  # named like an image, is none
    (d / "empty.csv").write_bytes(b"")
    (d / "nocols.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (d / "bogus.keras").write_text("not a model", encoding="utf-8")
    (d / "bogus.json").write_text(json.dumps({"classes": ["a"]}), encoding="utf-8")
    (d / "notjson.json").write_text("{", encoding="utf-8")
    (d / "data").mkdir()  # a data folder without kmnist/
    Store(d / "ws")  # an empty workspace
    return {"dir": d, "png": d / "garbage.png", "empty": d / "empty.csv", "nocols": d / "nocols.csv",
            "keras": d / "bogus.keras", "notjson": d / "notjson.json", "ws": d / "ws", "nows": d / "no-workspace",
            "none": d / "does-not-exist", "data": d / "data", "out": d / "out"}


#: command → (bad files, bad arguments); {name} is filled from the ``bad`` fixture
CASES: dict[str, tuple[str, str]] = {
    "import": ("--workspace {ws} {png}", "--workspace {ws}"),
    "scans": ("--workspace {nows}", "--workspace {ws} --format csv"),
    "segment": ("{png} --json {out}/s.json", "{png}"),
    "score-boxes": ("--gt {nocols} --pred {notjson}", "--gt {nocols}"),
    "train": ("--data {none} --out {out}/m.keras", "--data {none} --out {out}/m.keras --arch nonesuch"),
    "train-reader": ("--data {data} --out {out}/r.keras --base-out {out}/b.keras", "--out {out}/r.keras --epochs x"),
    "build-lm": ("--data {data} --out {out}/lm.json.gz", "--out {out}/lm.json.gz --order 7"),
    "export": ("--workspace {ws} --format csv --out {out}/x.csv", "--workspace {ws} --format docx --out {out}/x"),
    "worker": ("--workspace {nows}", "--workspace {ws} --now"),
    "classify": ("{png} --json {out}/c.json --model {keras}", "--json {out}/c.json"),
    "read": ("{png} --json {out}/r.json", "{png} --json"),
    "adapt": ("--workspace {ws} --out {out}/a.keras", "--workspace {ws} --out {out}/a.keras --mode sideways"),
    "import-labels": ("--workspace {ws} {empty}", "--workspace {ws}"),
    "parse-value": ("--kind number 一 --json {png}/v.json", "--kind colour 一 --json {out}/v.json"),
    "cells": ("{png} --json {out}/c.json", "--json {out}/c.json"),
    "read-ledger": ("{png} --json {out}/l.json", "{png} --json {out}/l.json --template"),
    "read-archive": ("{none} --out {out}/arch", "{none} --out {out}/arch --engine spark"),
    "import-results": ("{none} --workspace {ws}", "--workspace {ws}"),
}


def subcommands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)


def test_every_subcommand_has_a_bad_input_case():
    assert subcommands() == set(CASES)


@pytest.mark.parametrize("kind", ["files", "arguments"])
@pytest.mark.parametrize("command", sorted(CASES))
def test_bad_input_is_one_error_line_and_exit_1(command, kind, bad, capsys):
    template = CASES[command][0 if kind == "files" else 1]
    argv = [command, *template.format(**{k: str(v) for k, v in bad.items()}).split()]
    before = sorted(p.name for p in bad["dir"].rglob("*"))
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1, (argv, err)
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0], (argv, err)
    # nothing half-written beside the inputs (an output folder may be made, no file in it)
    after = sorted(p.name for p in bad["dir"].rglob("*") if p.is_file())
    assert set(after) <= set(before), (argv, set(after) - set(before))


def test_the_contract_holds_through_python_m(bad):
    """The same through the real entry point: stderr is the one line, stdout is empty, no traceback."""
    r = subprocess.run([sys.executable, "-m", "kuzushi_core", "segment", str(bad["png"]), "--json",
                        str(bad["out"] / "s.json")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_learning_rate_given_with_an_equals_sign_is_honoured(tmp_path, monkeypatch):
    """``--learning-rate=1e-2`` and ``--learning-rate 1e-2`` reach the training configuration alike (the CLI once
    looked for the flag in ``sys.argv`` and missed the ``=`` form and any call through ``main(argv)``)."""
    from kuzushi_core.cli import train as cli_train

    seen = []
    monkeypatch.setattr(cli_train, "train_cli", lambda data, out, cfg, **kw: seen.append(cfg.learning_rate) or "ok")
    (tmp_path / "d").mkdir()
    for argv in (["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "m.keras"), "--learning-rate=1e-2"],
                 ["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "m.keras"), "--learning-rate", "2e-2"],
                 ["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "m.keras")]):
        assert main(argv) == 0
    assert seen == [1e-2, 2e-2, 3e-3]
