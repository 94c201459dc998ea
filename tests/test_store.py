"""The workspace store: schema, migrations, append-only labels, crash safety, concurrency."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kuzushi_core import errors
from kuzushi_core.store import MIGRATIONS, SCHEMA_VERSION, Store

ROOT = Path(__file__).resolve().parent.parent


def _scan_rows(n=1):
    return [
        dict(content_hash=f"h{i}", page_index=0, source_name=f"p{i}.jpg", byte_size=10, width=100,
             height=200, format="JPEG", image_path=f"scans/p{i}.jpg")
        for i in range(n)
    ]


def _box(store, n_scans=1):
    doc = store.ensure_document("Ledger A")
    scans, _ = store.add_scans(doc.id, _scan_rows(n_scans))
    return store.add_boxes(scans[0].id, [dict(x=1, y=2, w=3, h=4, column=0, order=0)])[0]


def test_new_workspace_is_wal_versioned_and_enforces_foreign_keys(tmp_path):
    s = Store(tmp_path / "ws")
    assert s.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    with s.read() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.IntegrityError):
        with s.write() as con:
            con.execute("INSERT INTO boxes(scan_id, x, y, w, h, created_at) VALUES (999, 0, 0, 1, 1, 'now')")
    assert s.integrity_ok()


def test_migration_from_an_older_schema_and_refusal_of_a_newer(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    con = sqlite3.connect(root / "kuzushi.sqlite")
    con.execute("CREATE TABLE unrelated(x)")  # a version-0 database
    con.commit()
    con.close()
    s = Store(root)
    assert s.schema_version() == SCHEMA_VERSION
    assert s.ensure_document("x").name == "x"

    con = sqlite3.connect(root / "kuzushi.sqlite")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(errors.WorkspaceError, match="newer"):
        Store(root)


def test_open_missing_workspace_without_create(tmp_path):
    with pytest.raises(errors.WorkspaceError, match="No workspace"):
        Store(tmp_path / "nope", create=False)


def test_labels_are_appended_and_latest_wins(store):
    box = _box(store)
    store.add_label(box.id, "お")
    store.add_label(box.id, "を", source="user")
    store.add_label(box.id, "〇")
    history = store.label_history(box.id)
    assert [lab.char for lab in history] == ["お", "を", "〇"]
    assert store.current_labels()[box.id].char == "〇"
    assert store.current_labels(box.scan_id)[box.id].char == "〇"
    with pytest.raises(errors.StoreError):
        store.add_label(box.id, "  ")


def test_duplicate_scans_are_detected(store):
    doc = store.ensure_document("A")
    new, dups = store.add_scans(doc.id, _scan_rows(2))
    assert len(new) == 2 and not dups
    new2, dups2 = store.add_scans(doc.id, _scan_rows(3))
    assert [s.content_hash for s in new2] == ["h2"] and len(dups2) == 2


def test_delete_scan_cascades_and_counts(store):
    box = _box(store)
    store.add_label(box.id, "な")
    assert store.scan_stats(box.scan_id) == {"boxes": 1, "labelled": 1}
    store.delete_scan(box.scan_id)
    assert store.list_scans() == [] and store.count_labels() == 0
    with pytest.raises(errors.NotFoundError):
        store.delete_scan(box.scan_id)


def test_models_registry_single_active(store):
    a = store.register_model("default", "models/default.keras", list("おきすつなはまやれを"), activate=True)
    b = store.register_model("v2", "files/models/v2.keras", ["お", "〇"], parent_id=a.id, activate=True)
    assert store.active_model().id == b.id
    store.set_active_model(a.id)
    assert [m.active for m in store.list_models()] == [True, False]
    assert store.list_models()[1].parent_id == a.id


def test_runs_and_epochs(store):
    run = store.create_run({"mode": "feature-extraction"})
    store.update_run(run.id, status="running", progress=0.5)
    store.add_epoch(run.id, 0, {"loss": 1.0, "val_loss": 1.2})
    store.add_epoch(run.id, 1, {"loss": 0.5, "val_loss": 0.9})
    assert store.get_run(run.id).status == "running"
    assert [e["val_loss"] for e in store.run_epochs(run.id)] == [1.2, 0.9]
    with pytest.raises(errors.StoreError):
        store.update_run(run.id, bogus=1)


def test_put_file_is_content_addressed(store):
    a = store.put_file(b"abc", ".bin", kind="x")
    b = store.put_file(b"abc", ".bin", kind="x")
    assert a == b and store.path_of(a).read_bytes() == b"abc"
    assert not list(store.path_of(a).parent.glob(".tmp-*"))


WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from kuzushi_core.store import Store
    s = Store({ws!r})
    box_id = int(sys.argv[1]); n = int(sys.argv[2]); tag = sys.argv[3]
    for i in range(n):
        s.add_label(box_id, f"{{tag}}{{i}}")
        print(i, flush=True)
    # now hang inside an open write transaction, half-way through
    with s.write() as con:
        for j in range(50):
            con.execute("INSERT INTO labels(box_id, char, source, created_at) VALUES (?, ?, 'user', 'x')",
                        (box_id, f"uncommitted{{j}}"))
        print("inside", flush=True)
        time.sleep(60)
    """
)


def _writer(tmp_path, ws, box_id, n, tag):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT), ws=str(ws)))
    return subprocess.Popen(
        [sys.executable, str(script), str(box_id), str(n), tag],
        stdout=subprocess.PIPE, text=True,
    )


def test_sigkill_mid_transaction_keeps_every_committed_label(tmp_path):
    ws = tmp_path / "ws"
    store = Store(ws)
    box = _box(store)
    store.add_label(box.id, "before")
    proc = _writer(tmp_path, ws, box.id, 30, "L")
    lines = []
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline().strip()
        lines.append(line)
        if line == "inside":
            break
    assert lines[-1] == "inside", lines
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    reopened = Store(ws)
    assert reopened.integrity_ok()
    chars = [lab.char for lab in reopened.label_history(box.id)]
    assert chars == ["before"] + [f"L{i}" for i in range(30)]
    # and the workspace takes writes again at once (the dead writer's lock is gone)
    reopened.add_label(box.id, "after")
    assert reopened.current_labels()[box.id].char == "after"


def test_sigkill_at_random_moments(tmp_path):
    ws = tmp_path / "ws"
    store = Store(ws)
    box = _box(store)
    for k, delay in enumerate([0.3, 0.6, 0.9]):
        proc = _writer(tmp_path, ws, box.id, 100_000, f"r{k}-")
        first = proc.stdout.readline()  # it is running and has committed one label
        assert first.strip() == "0"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        out = first + proc.stdout.read()
        proc.wait(10)
        printed = [int(x) for x in out.split() if x.isdigit()]
        s = Store(ws)
        assert s.integrity_ok()
        stored = {lab.char for lab in s.label_history(box.id) if lab.char.startswith(f"r{k}-")}
        # every label the writer saw committed is there; at most one more (committed, not yet printed)
        assert {f"r{k}-{i}" for i in printed} <= stored
        assert len(stored) - len(printed) in (0, 1)


CONCURRENT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from kuzushi_core.store import Store
    s = Store({ws!r})
    box_id, n, tag, start = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    while time.time() < start:
        time.sleep(0.001)
    for i in range(n):
        s.add_label(box_id, f"{{tag}}{{i}}")
        if i % 25 == 0:
            s.ensure_document(f"doc-{{tag}}-{{i}}")
    """
)


def test_two_processes_writing_at_once_both_succeed(tmp_path):
    ws = tmp_path / "ws"
    store = Store(ws)
    box = _box(store)
    script = tmp_path / "conc.py"
    script.write_text(CONCURRENT.format(root=str(ROOT), ws=str(ws)))
    start = time.time() + 1.5
    procs = [
        subprocess.Popen([sys.executable, str(script), str(box.id), "300", tag, str(start)],
                         stderr=subprocess.PIPE, text=True)
        for tag in ("A", "B")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    chars = [lab.char for lab in Store(ws).label_history(box.id)]
    assert sorted(c for c in chars if c[0] == "A") == sorted(f"A{i}" for i in range(300))
    assert sorted(c for c in chars if c[0] == "B") == sorted(f"B{i}" for i in range(300))
    # the writes really interleaved
    firsts = [c[0] for c in chars]
    switches = sum(1 for a, b in zip(firsts, firsts[1:]) if a != b)
    assert switches > 1


def test_version_1_workspace_migrates_and_keeps_labels(tmp_path):
    from kuzushi_core.containers import Prediction
    from kuzushi_core.store import split_sql

    root = tmp_path / "v1"
    root.mkdir()
    con = sqlite3.connect(root / "kuzushi.sqlite")
    for stmt in split_sql(MIGRATIONS[0]):
        con.execute(stmt)
    con.execute("PRAGMA user_version = 1")
    con.execute("INSERT INTO documents(name, created_at) VALUES ('old', 't')")
    con.execute("INSERT INTO scans(document_id, content_hash, source_name, byte_size, width, height, format, image_path,"
                " created_at) VALUES (1, 'h', 'a.jpg', 1, 10, 10, 'JPEG', 'x', 't')")
    con.execute("INSERT INTO boxes(scan_id, x, y, w, h, created_at) VALUES (1, 0, 0, 5, 5, 't')")
    con.execute("INSERT INTO labels(box_id, char, created_at) VALUES (1, '田', 't')")
    con.commit()
    con.close()
    s = Store(root)
    assert s.schema_version() == SCHEMA_VERSION >= 2
    assert s.current_labels()[1].char == "田"
    assert s.current_labels()[1].labelled_by == "" and s.label_people() == {1: ("", ())}  # before names: no one
    m = s.register_model("m", "m.keras", ["田"])
    s.save_predictions(m.id, [(1, Prediction("田", 0.9, (("田", 0.9),)))])
    assert s.predictions(1, m.id)[1].confidence == 0.9


def test_rerun_keeps_user_and_labelled_boxes(store):
    box = _box(store)  # an auto box
    store.add_label(box.id, "畑")
    user = store.edit_boxes(box.scan_id, add=[(50, 50, 10, 10)])
    assert [b.source for b in user if b.x == 50] == ["user"]
    new = store.replace_auto_boxes(box.scan_id, [dict(x=1, y=2, w=3, h=4), dict(x=80, y=0, w=10, h=10)])
    # the labelled box stays (and swallows the overlapping new one), the user box stays, one new box added
    assert sorted((b.x, b.source) for b in new) == [(1, "auto"), (50, "user"), (80, "auto")]
    assert store.current_labels()[box.id].char == "畑"
    assert [b.order for b in new] == [0, 1, 2] and new[0].x == 80  # right to left
    again = store.replace_auto_boxes(box.scan_id, [], replace_user=True)
    assert [b.id for b in again] == [box.id]  # only the labelled box survives


def test_a_segmenters_reading_order_is_kept_and_a_kept_box_takes_its_place(store):
    """A form's cells read line by line (right line first, cell by cell), not by x-overlap columns across cells."""
    box = _box(store)
    scan_id = box.scan_id
    store.replace_auto_boxes(scan_id, [], replace_user=True)
    # two cells one above the other in one form column, each written in two lines (x 50 right, x 30 left)
    cell_lines = [dict(x=50, y=0, w=10, h=10, column=0, order=0), dict(x=50, y=15, w=10, h=10, column=0, order=1),
                  dict(x=30, y=0, w=10, h=10, column=1, order=2),
                  dict(x=50, y=50, w=10, h=10, column=2, order=3), dict(x=30, y=50, w=10, h=10, column=3, order=4)]
    got = store.replace_auto_boxes(scan_id, cell_lines)
    assert [(b.x, b.y) for b in got] == [(50, 0), (50, 15), (30, 0), (50, 50), (30, 50)]
    assert [b.column for b in got] == [0, 0, 1, 2, 3]
    # by x-overlap the right lines of both cells would come first: (50, 0), (50, 15), (50, 50), (30, 0), (30, 50)
    labelled = got[3]
    store.add_label(labelled.id, "田")
    again = store.replace_auto_boxes(scan_id, [dict(b, x=b["x"] + 1) for b in cell_lines])
    assert [(b.y, b.x) for b in again] == [(0, 51), (15, 51), (0, 31), (50, 50), (50, 31)]
    assert again[3].id == labelled.id  # the labelled box kept, in the place of the new box it stands for
    # a kept box no new box stands for (drawn by the user elsewhere): the order is recomputed over all boxes
    store.edit_boxes(scan_id, add=[(5, 200, 10, 10)])
    third = store.replace_auto_boxes(scan_id, cell_lines)
    assert [(b.x, b.y) for b in third][-1] == (5, 200)
    assert [(b.x, b.y) for b in third][:3] == [(50, 0), (50, 15), (50, 50)]  # x-overlap columns again


def test_pages_are_numbered_within_their_document_across_files_and_calls(store):
    a, b = store.ensure_document("Register A"), store.ensure_document("Register B")
    rows = _scan_rows(5)
    first, _ = store.add_scans(a.id, rows[:2])  # two images in one call
    other, _ = store.add_scans(b.id, rows[2:3])
    later, _ = store.add_scans(a.id, rows[3:5])
    assert [s.page_no for s in first + later] == [1, 2, 3, 4]
    assert other[0].page_no == 1
    store.delete_scan(first[1].id)  # a page taken out leaves the others' numbers alone
    assert [s.page_no for s in store.list_scans(a.id)] == [1, 3, 4]
    assert [s.page_no for s in store.add_scans(a.id, _scan_rows(6)[5:])[0]] == [5]


def test_version_3_workspace_gets_page_numbers_in_import_order(tmp_path):
    from kuzushi_core.store import split_sql

    root = tmp_path / "v3"
    root.mkdir()
    con = sqlite3.connect(root / "kuzushi.sqlite")
    for script in MIGRATIONS[:3]:
        for stmt in split_sql(script):
            con.execute(stmt)
    con.execute("PRAGMA user_version = 3")
    con.execute("INSERT INTO documents(name, created_at) VALUES ('A', 't'), ('B', 't')")
    for doc, name in ((1, "a1"), (2, "b1"), (1, "a2"), (1, "a3")):
        con.execute("INSERT INTO scans(document_id, content_hash, source_name, byte_size, width, height, format,"
                    " image_path, created_at) VALUES (?, ?, ?, 1, 10, 10, 'JPEG', 'x', 't')", (doc, name, name))
    con.commit()
    con.close()
    s = Store(root)
    assert [(x.source_name, x.page_no) for x in s.list_scans(1)] == [("a1", 1), ("a2", 2), ("a3", 3)]
    assert [(x.source_name, x.page_no) for x in s.list_scans(2)] == [("b1", 1)]
    assert s.add_scans(1, _scan_rows(1))[0][0].page_no == 4


def test_settings_persist_and_update(tmp_path):
    s = Store(tmp_path / "ws")
    assert s.get_setting("ui.language") is None and s.get_setting("ui.language", "ja") == "ja"
    s.set_setting("ui.language", "en")
    s.set_setting("ui.language", "ja")
    s.set_setting("ui.language", "en")
    assert Store(tmp_path / "ws").get_setting("ui.language") == "en"


def test_who_labelled_what_authors_confirmations_and_corrections(store):
    box = _box(store)
    other = store.add_boxes(box.scan_id, [dict(x=20, y=2, w=3, h=4, column=0, order=1)])[0]
    store.add_label(box.id, "田", labelled_by="  Aiko   Sato ")
    assert store.current_labels()[box.id].labelled_by == "Aiko Sato"  # whitespace collapsed
    store.add_label(box.id, "田", labelled_by="Ben")  # Ben confirms: Aiko stays the author
    store.add_label(box.id, "田", labelled_by="Aiko Sato")  # the author again adds nothing
    assert store.label_people()[box.id] == ("Aiko Sato", ("Ben",))
    store.add_label(other.id, "畑", labelled_by="Ben")
    store.add_label(other.id, "烟", labelled_by="Aiko Sato")  # a correction: Aiko is the new author
    assert store.label_people()[other.id] == ("Aiko Sato", ())
    assert store.labellers() == {"Aiko Sato": 2}
    store.add_label(other.id, "畑")  # no name given: the author is '' (shown as "no name")
    assert store.label_people(box.scan_id)[other.id] == ("", ())
    assert store.labellers() == {"Aiko Sato": 1, "": 1}
    # every event kept, each with its person
    assert [(lab.char, lab.labelled_by) for lab in store.label_history(other.id)] == [
        ("畑", "Ben"), ("烟", "Aiko Sato"), ("畑", "")]


def test_runs_and_field_edits_record_who(store):
    run = store.create_run({"mode": "scratch"}, started_by="Ben")
    assert store.get_run(run.id).started_by == "Ben"
    assert store.create_run({"mode": "scratch"}).started_by == ""


def test_two_people_labelling_one_page_at_once_lose_nothing(tmp_path):
    """Two browser sessions (two names) writing labels to the same page's boxes at once, through two stores."""
    import threading

    ws = tmp_path / "ws"
    a = Store(ws)
    doc = a.ensure_document("Ledger A")
    scans, _ = a.add_scans(doc.id, _scan_rows(1))
    boxes = a.add_boxes(scans[0].id, [dict(x=10 * i, y=2, w=3, h=4, column=0, order=i) for i in range(40)])
    b = Store(ws)
    errors_: list[BaseException] = []

    def label(s, who, chars):
        try:
            for bx, c in zip(boxes, chars):
                s.add_label(bx.id, c, labelled_by=who)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors_.append(exc)

    ts = [threading.Thread(target=label, args=(a, "Aiko", "あ" * 40)),
          threading.Thread(target=label, args=(b, "Ben", "い" * 40))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors_
    for bx in boxes:
        hist = [(lab.char, lab.labelled_by) for lab in Store(ws).label_history(bx.id)]
        assert sorted(hist) == [("あ", "Aiko"), ("い", "Ben")]
        # the current label's author is whoever wrote last
        assert Store(ws).label_people()[bx.id][0] == hist[-1][1]
