"""Engines that read an archive: ``local`` in this process, ``ray`` on a Ray cluster (local or joined).

Both plan the same tasks, run the same stage functions and hand whole pages to the same :class:`~.sink.PartWriter`
in this process, so their rows are the same.  The local engine holds one page and one part at a time, whatever
the archive's size.  The Ray engine runs segmentation and classification as two Ray Data stages: pages stream
between them with backpressure, each classification actor loads the model once (from its path: the model is never
pickled) with TensorFlow's thread pools sized for its share of the cores, and failed tasks are retried by Ray.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kuzushi_core.archive.sink import PartWriter, clean_temporaries, done_pages
from kuzushi_core.archive.sources import PageOpener, PageTask, expand_sources, plan_tasks
from kuzushi_core.archive.stages import (
    LedgerMode,
    PageResult,
    SegmentedPage,
    classify_pages,
    model_version,
    segment_page,
    task_of_record,
)
from kuzushi_core.errors import KuzushiError
from kuzushi_core.lazy import tf
from kuzushi_core.ledger.templates import Template
from kuzushi_core.predict.classifier import load_card, load_model

ENGINES = ("local", "ray")


@dataclass
class ReadSummary:
    pages: int = 0  # pages read in this call
    skipped: int = 0  # already in the folder (resume)
    failed: int = 0  # pages that became error rows
    characters: int = 0
    seconds: float = 0.0
    engine: str = "local"
    parts: list[Path] = field(default_factory=list)

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0


def _model_size(path: Path) -> int:
    card = load_card(path)
    return int((card.get("input") or {}).get("height", 28))


def read_archive(srcs: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str], *, model: str | os.PathLike[str],
                 engine: str = "local", address: str | None = None, workers: int = 2, resume: bool = False,
                 pages_per_part: int = 32, progress: Callable[[str, int, int], None] | None = None,
                 ledger: bool = False, template: Template | None = None) -> ReadSummary:
    """Read every page under ``srcs`` into the Parquet dataset ``out``.

    ``progress(phase, done, total)`` is called as files are planned (``"plan"``) and pages read (``"read"``).
    Without ``resume`` the folder must not hold results yet; with it, pages already there are skipped, provided
    they were read by the same model. With ``ledger`` each page is also read as a register (with ``template``, or
    the one its headings propose) into the lots table (``DIR/_lots``).
    """
    if engine not in ENGINES:
        raise KuzushiError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    model = Path(model)
    version = model_version(model)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise KuzushiError(f"{out} is a file; --out names a folder for the Parquet dataset.")
    done = done_pages(out) if out.exists() else {}
    if done and not resume:
        raise KuzushiError(f"{out} already holds {len(done)} page(s) of an archive run: add --resume to continue "
                           "it, or choose an empty folder.")
    others = {v for v in done.values() if v != version}
    if others:
        raise KuzushiError(f"{out} was read with {', '.join(sorted(others))}; this run uses {version}. "
                           "Resume with that model, or read into a new folder.")
    out.mkdir(parents=True, exist_ok=True)
    clean_temporaries(out)

    files = expand_sources(srcs)
    tasks = list(plan_tasks(files, progress=(lambda i: progress("plan", i, len(files))) if progress else None))
    todo = [t for t in tasks if t.key not in done]
    summary = ReadSummary(skipped=len(tasks) - len(todo), engine=engine)
    writer = PartWriter(out, version, pages_per_part=pages_per_part, lots=ledger)
    spec = template.to_json() if template is not None else None
    t0 = time.perf_counter()
    if progress:
        progress("read", 0, len(todo))
    results = (_local(todo, model, version, ledger=ledger, spec=spec) if engine == "local"
               else _ray(todo, model, version, address=address, workers=workers, ledger=ledger, spec=spec))
    try:
        for r in results:
            writer.add(r)
            summary.pages += 1
            summary.failed += bool(r.error)
            summary.characters += len(r.chars)
            if progress:
                progress("read", summary.pages, len(todo))
    finally:
        writer.close()  # the pages read so far are kept, even when the run stops on an error
        summary.seconds = time.perf_counter() - t0
        summary.parts = writer.parts
    return summary


# -- local -------------------------------------------------------------------------------------------------------
def single_threaded_tf() -> bool:
    """Run TensorFlow's kernels on the calling thread, as each Ray actor does: a model's numbers depend (in the
    last bits) on how its sums are split over threads, and both engines must give the same rows.  False when
    TensorFlow was already started in this process with other settings (then rows may differ in the 4th decimal).
    """

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        return tf.config.threading.get_intra_op_parallelism_threads() == 1
    return True


def _ledger_mode(ledger: bool, spec: str | None) -> LedgerMode | None:
    return LedgerMode(Template.from_json(spec) if spec else None) if ledger else None


def _local(todo: list[PageTask], model: Path, version: str, threads: int | None = None, ledger: bool = False,
           spec: str | None = None):
    """Pages segmented by a pool of threads (OpenCV and NumPy release the GIL), a window of pages ahead; the
    model (cheap beside segmentation) classifies them in order on this thread.  Memory: the window's pages."""
    import threading
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    if not single_threaded_tf():
        print("note: TensorFlow was started before with several threads; confidences may differ from the ray "
              "engine in the 4th decimal", file=sys.stderr)
    lm = load_model(model)
    mode = _ledger_mode(ledger, spec)
    threads = threads or max(1, os.cpu_count() or 1)
    local = threading.local()

    def segment_one(task: PageTask) -> SegmentedPage:
        if not hasattr(local, "opener"):
            local.opener = PageOpener()
        return segment_page(task, local.opener, lm.size)

    pending = iter(todo)
    with ThreadPoolExecutor(threads, thread_name_prefix="segment") as pool:
        window = deque(pool.submit(segment_one, t) for _, t in zip(range(2 * threads), pending))
        while window:
            page = window.popleft().result()
            nxt = next(pending, None)
            if nxt is not None:
                window.append(pool.submit(segment_one, nxt))
            yield from classify_pages(lm, version, [page], mode)


# -- ray ---------------------------------------------------------------------------------------------------------
class _Segmenter:
    """Ray Data stage 1 (an actor: one page file kept open across the pages of a multi-page file)."""

    def __init__(self, size: int):
        import cv2

        cv2.setNumThreads(1)
        self.size, self.opener = size, PageOpener()

    def __call__(self, batch):
        import pandas as pd

        rows = [segment_page(task_of_record(r), self.opener, self.size).to_record() for r in batch.to_dict("records")]
        return pd.DataFrame(rows)


class _Classifier:
    """Ray Data stage 2: the model loaded once per actor, TensorFlow limited to the actor's threads."""

    def __init__(self, model_path: str, version: str, threads: int, ledger: bool = False, spec: str | None = None):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)

        self.lm, self.version = load_model(model_path), version
        self.mode = _ledger_mode(ledger, spec)

    def __call__(self, batch):
        import pandas as pd

        pages = [SegmentedPage.from_record(r) for r in batch.to_dict("records")]
        return pd.DataFrame([r.to_record() for r in classify_pages(self.lm, self.version, pages, self.mode)])


def _ray_init(address: str | None, workers: int):
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships in ray[data]
    except ImportError as exc:
        raise KuzushiError("--engine ray needs Ray: pip install -r requirements-scale.txt") from exc
    if not ray.is_initialized():
        kw = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if address:
            # the package travels to the cluster's workers; the page files must be on a shared path
            try:
                ray.init(address=address, runtime_env={"py_modules": [str(Path(__file__).resolve().parents[1])]},
                         **kw)
            except ConnectionError as exc:
                raise KuzushiError(
                    f"cannot join the Ray cluster at {address} ({str(exc).splitlines()[0][:160]}). Is it running "
                    "(ray status)? Since Ray 2.59 clusters use token authentication: set RAY_AUTH_MODE=token here, "
                    "with the cluster's token (ray get-auth-token) in RAY_AUTH_TOKEN or ~/.ray/auth_token.") from exc
        else:
            ray.init(num_cpus=workers, **kw)
    return ray


def _ray(todo: list[PageTask], model: Path, version: str, *, address: str | None, workers: int, ledger: bool = False,
         spec: str | None = None):
    if not todo:
        return
    if workers < 1:
        raise KuzushiError("--workers must be at least 1.")
    ray = _ray_init(address, workers)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # our own bar (pages/s, ETA) is on stderr
    ctx.execution_options.preserve_order = False
    size = _model_size(model)
    # half a CPU per actor of each stage: a worker's segmenter and classifier share one core.  Ray Data restarts
    # a dead actor and retries its batch (its defaults for actor pools), so a lost worker costs a batch, not the run
    ds = ray.data.from_items([t.as_record() for t in todo], override_num_blocks=min(len(todo), 8 * workers))
    ds = ds.map_batches(_Segmenter, fn_constructor_kwargs={"size": size}, batch_size=1, batch_format="pandas",
                        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=0.5)
    ds = ds.map_batches(_Classifier, fn_constructor_kwargs={"model_path": str(model.resolve()), "version": version,
                                                             "threads": 1, "ledger": ledger, "spec": spec},
                        batch_size=4, batch_format="pandas", compute=ray.data.ActorPoolStrategy(size=workers),
                        num_cpus=0.5)
    for batch in ds.iter_batches(batch_size=None, batch_format="pandas"):
        for r in batch.to_dict("records"):
            yield PageResult.from_record(r)


def shutdown_ray() -> None:
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
