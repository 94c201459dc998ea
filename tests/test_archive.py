"""Reading whole archives: read-archive (local and Ray engines), --resume after SIGKILL, import-results."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from kuzushi_core.archive import SCHEMA, done_pages, expand_sources, plan_tasks, read_archive, read_dataset
from kuzushi_core.errors import KuzushiError
from kuzushi_core.imaging import PageFile
from kuzushi_core.paths import MODELS_DIR
from kuzushi_core.synth.kanapages import write_pages
from tests import imagegen as g
from tests.conftest import need_fonts, require_data_enabled
from tests.glyphs import bars

ROOT = Path(__file__).resolve().parent.parent
MODEL = MODELS_DIR / "default.keras"
CONTRACT = ["source", "page_index", "page_width", "page_height", "x", "y", "w", "h", "column", "order", "label",
            "confidence", "candidates", "model_version"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """Eight generated pages in two folders, a 3-page TIFF, a PDF, a copy of one page, an empty and a corrupt
    file, and a hidden folder that must be left alone."""
    root = tmp_path_factory.mktemp("archive")
    pages = write_pages(root / "vol1", 5, bars(), seed=0)
    write_pages(root / "vol2" / "deep", 3, bars(), seed=100)
    (root / "vol2" / "book.tiff").write_bytes(g.multipage_tiff(3))
    (root / "vol2" / "scan.pdf").write_bytes(g.pdf_page())
    shutil.copy(pages[0], root / "vol2" / "copy-of-first.jpg")
    (root / "vol2" / "empty.png").write_bytes(b"")
    (root / "vol2" / "corrupt.jpg").write_bytes(pages[1].read_bytes()[:1500])
    (root / ".hidden").mkdir()
    shutil.copy(pages[2], root / ".hidden" / "x.jpg")
    (root / "vol1" / "notes.txt").write_text("not a page")
    return root


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "kuzushi_core", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def rows_by_page(folder: Path) -> dict[tuple[str, int], list[tuple]]:
    """Every row of a run, grouped by page (content hash, index), without the source path."""
    df = read_dataset(folder)
    out: dict[tuple[str, int], list[tuple]] = {}
    for r in df.sort_values("order", na_position="first").to_dict("records"):
        key = (r["content_hash"], int(r["page_index"]))
        cand = tuple((c["label"], c["score"]) for c in r["candidates"]) if r["candidates"] is not None else None
        out.setdefault(key, []).append(tuple(None if (v is None or v is np.nan or (isinstance(v, float) and v != v))
                                             else v for k, v in r.items() if k not in ("source", "candidates"))
                                       + (cand,))
    return out


def test_page_file_decodes_one_page_at_a_time():
    with PageFile(g.multipage_tiff(3), "vol.tiff") as pf:
        assert len(pf) == 3
        assert [pf.page(i).height for i in (2, 0, 1)] == [80, 60, 70]
        with pytest.raises(IndexError):
            pf.page(3)
    with PageFile(g.pdf_page(), "one.pdf") as pf:
        assert len(pf) == 1 and pf.page(0).format == "PDF"


def test_sources_expand_folders_and_plan_one_task_per_page(archive: Path):
    files = expand_sources([archive])
    names = [f.name for f in files]
    assert "notes.txt" not in names and "x.jpg" not in names  # not a page suffix; a hidden folder
    assert len(files) == 13
    tasks = list(plan_tasks(files))
    # 8 pages + 3 TIFF pages + 1 PDF page + 2 error tasks; the copy of the first page is planned once
    assert len(tasks) == 14
    assert len({t.key for t in tasks}) == 14
    assert [t.page_index for t in tasks if t.source.endswith("book.tiff")] == [0, 1, 2]
    errors = {Path(t.source).name: t.error for t in tasks if t.error}
    # the truncated JPEG's header is whole: it is planned, and fails when its pixels are decoded
    assert set(errors) == {"empty.png"} and "empty" in errors["empty.png"]
    with pytest.raises(KuzushiError, match="neither a file nor a folder"):
        expand_sources([archive / "missing"])


def test_local_engine_writes_the_contract_rows(archive: Path, tmp_path: Path):
    out = tmp_path / "run"
    seen = []
    s = read_archive([archive], out, model=MODEL, progress=lambda ph, d, t: seen.append((ph, d, t)), pages_per_part=4)
    assert (s.pages, s.failed, s.skipped) == (14, 2, 0)
    assert seen[-1] == ("read", 14, 14) and any(ph == "plan" for ph, _, _ in seen)
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 4 and not list(out.glob(".*.tmp"))
    assert pq.read_schema(parts[0]).names[:len(CONTRACT)] == CONTRACT
    assert pq.read_schema(parts[0]).remove_metadata().equals(SCHEMA)
    df = read_dataset(out)
    chars, errors = df[df["error"].isna()], df[df["error"].notna()]
    assert len(chars) == s.characters > 100
    assert sorted(Path(p).name for p in errors["source"]) == ["corrupt.jpg", "empty.png"]
    assert errors["label"].isna().all()
    assert (chars["candidates"].map(len) == 5).all()
    # read in context: each label is one of the glyph's own candidates, its confidence the probability in context
    assert all(lab in [c["label"] for c in cands] for lab, cands in zip(chars["label"], chars["candidates"]))
    assert chars["confidence"].between(0, 1).all()
    assert chars["model_version"].str.fullmatch(r"default@[0-9a-f]{12}").all()
    # reading order: per page, `order` runs 0..n-1, columns numbered right to left (on these ruled pages, segmented
    # cell by cell, a column is a cell's line: the columns of one column of cells stand at about the same x)
    for _, page in chars.groupby(["content_hash", "page_index"]):
        assert sorted(page["order"]) == list(range(len(page)))
        by_col = page.groupby("column")["x"].mean()
        slack = float(page["w"].median())  # a character: the lines of one column of cells differ by less
        assert list(by_col.index) == sorted(by_col.index)
        assert all(a >= b - slack for a, b in zip(by_col, by_col[1:]))
    pages = done_pages(out)
    assert len(pages) == 14  # the pages without characters (the tiny TIFF pages) are recorded too
    # a finished folder is not read into again by accident; --resume has nothing left to do
    with pytest.raises(KuzushiError, match="--resume"):
        read_archive([archive], out, model=MODEL)
    again = read_archive([archive], out, model=MODEL, resume=True)
    assert (again.pages, again.skipped) == (0, 14)
    with pytest.raises(KuzushiError, match="read with"):
        read_archive([archive], out, model=MODELS_DIR / "kmnist10.keras", resume=True)


def test_resume_after_sigkill_reads_every_page_exactly_once(tmp_path: Path):
    src = tmp_path / "pages"
    write_pages(src, 16, bars(), seed=500)
    full, killed = tmp_path / "full", tmp_path / "killed"
    assert cli("read-archive", src, "--out", full, "--part-pages", "1").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "kuzushi_core", "read-archive", str(src), "--out", str(killed),
                             "--part-pages", "1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while len(list(killed.glob("part-*.parquet"))) < 5 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(done_pages(killed))
    assert 5 <= written < 16, f"the kill came at {written} pages: not halfway"
    r = cli("read-archive", src, "--out", killed, "--resume", "--part-pages", "1")
    assert r.returncode == 0, r.stderr
    assert f"{written} already done" in r.stdout
    assert "page/s" in r.stderr and "<" in r.stderr  # tqdm: rate and time left
    # every page once (blank pages included), and the same rows as the run that was never killed
    keys = [k for part in killed.glob("part-*.parquet")
            for k in map(tuple, json.loads(pq.read_schema(part).metadata[b"kuzushi.pages"]))]
    assert len(keys) == len(set(keys)) == 16
    assert rows_by_page(killed) == rows_by_page(full)


def test_ray_engine_gives_the_local_engine_rows(archive: Path, tmp_path: Path):
    try:
        import ray  # noqa: F401
    except ImportError:
        if require_data_enabled():
            pytest.fail("KUZUSHI_REQUIRE_DATA=1 but Ray is not installed (requirements-scale.txt)")
        pytest.skip("Ray is not installed (pip install -r requirements-scale.txt)")
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    a = cli("read-archive", archive, "--out", local, "--json", tmp_path / "a.json")
    b = cli("read-archive", archive, "--out", on_ray, "--engine", "ray", "--workers", "2", "--json",
            tmp_path / "b.json", timeout=600)
    assert a.returncode == 0, a.stderr
    assert b.returncode == 0, b.stderr[-3000:]
    sa, sb = (json.loads((tmp_path / f).read_text()) for f in ("a.json", "b.json"))
    assert sb["engine"] == "ray" and sa["pages"] == sb["pages"] == 14 and sa["failed"] == sb["failed"] == 2
    ra, rb = rows_by_page(local), rows_by_page(on_ray)
    assert len(ra) == len(rb) == 14 - 3  # three TIFF pages without characters have no rows
    assert ra == rb


def test_ray_engine_joins_a_running_cluster(archive: Path, tmp_path: Path):
    """What the README tells a user: `ray start --head`, then read-archive with --address (the package is shipped
    to the workers by Ray; here they run in another folder than the project)."""
    ray_bin = Path(sys.executable).with_name("ray")
    if not ray_bin.exists():
        if require_data_enabled():
            pytest.fail("KUZUSHI_REQUIRE_DATA=1 but Ray is not installed (requirements-scale.txt)")
        pytest.skip("Ray is not installed (pip install -r requirements-scale.txt)")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.run([str(ray_bin), "start", "--head", "--port", str(port), "--num-cpus", "2",
                           "--include-dashboard=false", "--disable-usage-stats"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert head.returncode == 0, head.stderr[-2000:]
    try:
        out = tmp_path / "cluster"
        r = subprocess.run([sys.executable, "-m", "kuzushi_core", "read-archive", str(archive / "vol1"), "--out",
                            str(out), "--engine", "ray", "--address", f"127.0.0.1:{port}", "--workers", "2"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
        assert "5 page(s) read (0 failed" in r.stdout
        local = tmp_path / "local"
        read_archive([archive / "vol1"], local, model=MODEL)
        assert set(rows_by_page(out)) == set(rows_by_page(local))
    finally:
        subprocess.run([str(ray_bin), "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_import_results_brings_a_run_into_the_workspace(archive: Path, tmp_path: Path, store):
    out = tmp_path / "run"
    read_archive([archive / "vol1", archive / "vol2" / "corrupt.jpg"], out, model=MODEL)
    df = read_dataset(out)
    chars = df[df["error"].isna()]
    r = cli("import-results", out, "--workspace", store.root, "--document", "Vol. 1", "--json", tmp_path / "s.json")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["scans"] == 5 and s["boxes"] == len(chars) and len(s["failed"]) == 1
    assert "corrupt.jpg" in r.stderr
    [doc] = [d for d in store.list_documents() if d.name == "Vol. 1"]
    scans = store.list_scans(doc.id)
    assert len(scans) == 5
    model = store.active_model()
    assert model is not None and Path(model.path).resolve() == MODEL.resolve()  # the shipped reader, as the app has it
    for scan in scans:
        boxes = store.list_boxes(scan.id)
        page = chars[chars["content_hash"] == scan.content_hash].sort_values("order")
        assert [(b.x, b.y, b.w, b.h) for b in boxes] == list(zip(page.x, page.y, page.w, page.h))
        preds = store.predictions(scan.id, model.id)
        assert [preds[b.id].label for b in boxes] == list(page.label)
    # a second import adds nothing and keeps what is there
    r2 = cli("import-results", out, "--workspace", store.root, "--document", "Vol. 1", "--json", tmp_path / "t.json")
    s2 = json.loads((tmp_path / "t.json").read_text())
    assert r2.returncode == 0 and (s2["scans"], s2["boxes"], s2["kept"]) == (0, 0, 5)

    # the app shows the run's reading of an imported page without reading it again
    from streamlit.testing.v1 import AppTest

    from kuzushi_core.predict.reading import transcription

    os.environ["KUZUSHI_WORKSPACE"] = str(store.root)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
        at.switch_page("app_pages/read.py").run()
        at.sidebar.radio[0].set_value("en").run()
        assert not at.exception, at.exception
        assert not any("Not read yet" in i.value for i in at.info)
        shown = " ".join(m.value for m in at.markdown) + " ".join(str(c.value) for c in at.code)
        lines = [transcription(store, sc, model) for sc in scans]
        assert any(t and t[0] in shown for t in lines)  # the page on show, in the run's reading
    finally:
        del os.environ["KUZUSHI_WORKSPACE"]


def test_read_archive_refuses_bad_arguments(tmp_path: Path):
    r = cli("read-archive", tmp_path / "nothing", "--out", tmp_path / "o")
    assert r.returncode == 1 and "neither a file nor a folder" in r.stderr and "Traceback" not in r.stderr
    r = cli("import-results", tmp_path, "--workspace", tmp_path / "ws")
    assert r.returncode == 1 and "no archive results" in r.stderr


def test_read_archive_ledger_writes_the_lots_beside_the_characters(tmp_path: Path):
    """--ledger: each page also read as a register; the lots in a second table (DIR/_lots), the characters' dataset
    unchanged and still readable as it is; a page without a form gets an error row; resume reads nothing twice."""
    from kuzushi_core.archive.sink import LOTS_DIR, read_lots
    from kuzushi_core.synth.registers import generate_register, save

    need_fonts()
    src = tmp_path / "registers"
    regs = [generate_register(800, "nayose"), generate_register(801, "lot")]
    for reg in regs:
        save(reg, src, f"reg_{reg.seed}")
    write_pages(src / "book", 1, bars(), seed=3)  # a page that is no register
    out = tmp_path / "out"
    r = cli("read-archive", src, "--out", out, "--ledger", "--part-pages", "2")
    assert r.returncode == 0, r.stderr
    assert len(read_dataset(out)) > 0 and "lot" not in read_dataset(out).columns  # the characters, as before
    import pandas as pd

    assert len(pd.read_parquet(out)) == len(read_dataset(out))  # DIR read as a plain dataset skips _lots
    lots = read_lots(out)
    assert sorted(p.name for p in (out / LOTS_DIR).glob("part-*.parquet")) == sorted(
        p.name for p in out.glob("part-*.parquet"))  # a lots part beside each characters' part
    by_page = {Path(s).stem: df for s, df in lots.groupby("source")}
    nayose, one = by_page["reg_800"], by_page["reg_801"]
    assert set(nayose["lot"].dropna().astype(int)) == set(range(0, len(regs[0].lots) + 1))  # lots 1..n, 0: 計
    assert {"地番", "反別", "地価"} <= set(nayose["heading"]) and nayose["error"].isna().all()
    assert set(one["lot"].astype(int)) == {1} and "年月日" in set(one["heading"])
    truth = {k + 1: str(t["lot_no"]["value"]) for k, t in enumerate(regs[0].lots)}
    got = nayose[nayose["field"] == "lot_no"].set_index("lot")["value"].to_dict()
    assert sum(got.get(k) == v for k, v in truth.items()) >= len(truth) // 2
    book = [df for name, df in by_page.items() if not name.startswith("reg_")][0]
    assert len(book) == 1 and "headings" in book["error"].iloc[0]
    # --resume finds every page done: nothing read, no lots row twice
    r = cli("read-archive", src, "--out", out, "--ledger", "--resume")
    assert r.returncode == 0, r.stderr
    assert len(read_lots(out)) == len(lots)
    # a lots part left without its characters' part (a kill between the two) is removed, its pages read again
    (out / LOTS_DIR / "part-orphan.parquet").write_bytes((out / LOTS_DIR / sorted(
        p.name for p in (out / LOTS_DIR).glob("part-*.parquet"))[0]).read_bytes())
    r = cli("read-archive", src, "--out", out, "--ledger", "--resume")
    assert r.returncode == 0 and not (out / LOTS_DIR / "part-orphan.parquet").exists()
    assert len(read_lots(out)) == len(lots)
    # --template needs --ledger
    r = cli("read-archive", src, "--out", tmp_path / "o2", "--template", out / "x.json")
    assert r.returncode == 1 and r.stderr.strip().startswith("error:") and "--ledger" in r.stderr
    # the Ray engine writes the same lots
    try:
        import ray  # noqa: F401
    except ImportError:
        if require_data_enabled():
            pytest.fail("ray is not installed")
        return
    on_ray = tmp_path / "ray"
    r = cli("read-archive", src, "--out", on_ray, "--ledger", "--engine", "ray", "--workers", "2", timeout=600)
    assert r.returncode == 0, r.stderr

    def table(df):
        cols = ["content_hash", "lot", "field", "heading", "text", "value", "unit", "flag", "error"]
        return sorted(tuple(str(v) for v in row) for row in df[cols].itertuples(index=False))

    assert table(read_lots(on_ray)) == table(lots)


def test_a_segmented_page_carries_its_form_cells_to_another_process():
    """Ray ships a segmented page as plain values: a register's ruled cells go with it (its fields are read with
    their grammar on the other side), and a record from before cells were carried still loads."""
    from kuzushi_core.archive.sources import PageTask
    from kuzushi_core.archive.stages import SegmentedPage
    from kuzushi_core.containers import RuledCell

    task = PageTask(source="a.png", page_index=0, content_hash="ab12")
    cells = [RuledCell(10, 20, 30, 40, 0, 1).as_dict()]
    page = SegmentedPage(task, 100, 200, [{"x": 12, "y": 22, "w": 5, "h": 5, "column": 0, "order": 0,
                                           "flags": "cell"}], np.zeros((1, 4, 4), np.uint8), cells=cells)
    back = SegmentedPage.from_record(page.to_record())
    assert back.cells == cells and RuledCell(**back.cells[0]) == RuledCell(10, 20, 30, 40, 0, 1)
    old = {k: v for k, v in page.to_record().items() if k != "cells"}
    assert SegmentedPage.from_record(old).cells == []
