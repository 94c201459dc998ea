"""Archive benchmark: read-archive on generated pages, local and Ray engines, memory, a killed run resumed.

    python bench/bench_archive.py [--pages 200]     # writes the "archive" section of BENCHMARKS.md

Pages are generated ledger pages of real KMNIST glyphs (``ledger.kanapages``, 800×1200), plus an empty and a
truncated file that must become error rows.  Every run is the CLI in a fresh process, as a user runs it:

- local engine on 20 and on all pages: pages/s and the process's peak resident memory (it must not grow with
  the archive);
- Ray engine, a local cluster of 2 workers: pages/s, and its rows against the local engine's (identical);
- a local run killed with SIGKILL halfway (part files of 4 pages), restarted with ``--resume``: every page once,
  the same rows as the run that was not killed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import write_section  # noqa: E402

from kuzushi_core.archive import done_pages, read_dataset  # noqa: E402

WRAP = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)")


def read(srcs, out: Path, *extra) -> dict:
    """One CLI run in a fresh process: its summary and peak RSS (MiB)."""
    summary = out.with_suffix(".json")
    cmd = [sys.executable, "-c", WRAP, sys.executable, "-m", "kuzushi_core", "read-archive", *map(str, srcs),
           "--out", str(out), "--json", str(summary), *extra]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-3000:])
    s = json.loads(summary.read_text())
    s["peak_mib"] = int(r.stderr.strip().splitlines()[-1]) / 1024
    return s


def rows(folder: Path) -> list:
    df = read_dataset(folder).drop(columns=["source"])
    df["candidates"] = df["candidates"].map(lambda c: None if c is None else tuple((d["label"], d["score"])
                                                                                    for d in c))
    df = df.astype(object).where(df.notna(), None)
    return sorted(map(tuple, df.itertuples(index=False, name=None)), key=repr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    n = args.pages
    from kuzushi_core.data.datasets import load_kmnist
    from kuzushi_core.paths import data_dir
    from kuzushi_core.synth.kanapages import write_pages

    work = ROOT / "build" / "bench-archive"
    shutil.rmtree(work, ignore_errors=True)
    pages, small, bad = work / "pages", work / "pages20", work / "bad"
    t = time.perf_counter()
    files = write_pages(pages, n, load_kmnist(data_dir() / "kmnist", "test"), seed=70_000)
    gen_s = time.perf_counter() - t
    small.mkdir(parents=True)
    for f in files[:20]:
        shutil.copy(f, small / f.name)
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    (bad / "truncated.jpg").write_bytes(files[0].read_bytes()[:3000])

    print(f"{n} pages generated in {gen_s:.0f} s", file=sys.stderr)
    local20 = read([small], work / "local20")
    print("local 20:", local20, file=sys.stderr)
    local = read([pages, bad], work / "local")
    print("local:", local, file=sys.stderr)
    ray = read([pages, bad], work / "ray", "--engine", "ray", "--workers", "2")
    print("ray:", ray, file=sys.stderr)
    same = rows(work / "local") == rows(work / "ray")

    killed = work / "killed"
    cmd = [sys.executable, "-m", "kuzushi_core", "read-archive", str(pages), str(bad), "--out", str(killed),
           "--part-pages", "4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and (not killed.exists() or len(done_pages(killed)) < (n + 2) // 2):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = len(done_pages(killed))
    resumed = read([pages, bad], killed, "--resume", "--part-pages", "4")
    import pyarrow.parquet as pq

    keys = [tuple(k) for part in killed.glob("part-*.parquet")
            for k in json.loads(pq.read_schema(part).metadata[b"kuzushi.pages"])]
    once = len(keys) == len(set(keys)) == n + 2
    resumed_same = rows(killed) == rows(work / "local")
    df = read_dataset(work / "local")
    errors = df[df["error"].notna()]

    body = f"""`python bench/bench_archive.py --pages {n}`: {n} generated ledger pages (KMNIST glyphs, 800×1200 JPEG)
and 2 bad files (empty, truncated), read by `python -m kuzushi_core read-archive` with the shipped model, each run
a fresh process; time from the first page to the last part written (loading the model and, for Ray, starting the
local cluster included).

| run | pages | characters | error rows | time | pages/s | peak RSS |
|---|---|---|---|---|---|---|
| local, 20 pages | {local20['pages']} | {local20['characters']} | {local20['failed']} | {local20['seconds']:.1f} s | {local20['pages_per_second']:.2f} | {local20['peak_mib']:.0f} MiB |
| local, {n} pages + 2 bad | {local['pages']} | {local['characters']} | {local['failed']} | {local['seconds']:.1f} s | {local['pages_per_second']:.2f} | {local['peak_mib']:.0f} MiB |
| ray, 2 workers, same input | {ray['pages']} | {ray['characters']} | {ray['failed']} | {ray['seconds']:.1f} s | {ray['pages_per_second']:.2f} | (several processes) |

- Rows of the two engines identical (all columns but `source`, every character, error rows included):
  **{'yes' if same else 'NO'}**.
- Peak memory of the local engine: {local20['peak_mib']:.0f} MiB at 20 pages, {local['peak_mib']:.0f} MiB at
  {n} (the {n} decoded pages alone would take {800 * 1200 * 3 * n / 2**20:.0f} MiB): it holds a window of pages and one
  part file, not the archive.
- Error rows: {', '.join(sorted(Path(s).name for s in errors['source']))} (label null, `error` set); the run went on.
- Killed with SIGKILL at {at_kill} of {n + 2} pages written (parts of 4 pages), restarted with `--resume`:
  {resumed['skipped']} skipped, {resumed['pages']} read; every page exactly once: **{'yes' if once else 'NO'}**;
  rows identical to the run that was not killed: **{'yes' if resumed_same else 'NO'}**.
- On this 2-core machine the Ray engine is slower than the local one: its gain is past one machine (`--address`),
  where segmentation runs on every node's cores; locally it pays the cluster's start-up and moving pages between
  processes.
"""
    write_section("archive", body)
    print(body)


if __name__ == "__main__":
    main()
