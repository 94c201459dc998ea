"""Synthetic training sets: many classes × fonts × augmented samples, made in parallel and cached.

A job is (label, character to draw, faces, n, seed): the label is what the model learns, the
drawn character is usually the same (a variant kana draws its source kanji or the hentaigana
code point instead).  Every job's samples depend on its own seed only, so a set is the same
whatever the number of processes; finished sets are cached as ``.npz`` under
:func:`~kuzushi_core.synth.fonts.cache_dir` by a key of everything that made them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kuzushi_core.data.datasets import GlyphSet
from kuzushi_core.synth import fonts
from kuzushi_core.synth.render import SynthConfig, samples_for
from kuzushi_core.synth.variants import source_variants, unicode_variants

NEIGHBOURS = "のしにてをはとかいるもこれたなりらくすおきつやまへ一人大日中年出見子事時行上下"


@dataclass(frozen=True)
class Job:
    label: str
    draw: str
    faces: tuple[str, ...]
    n: int
    seed: int


def plain_jobs(chars: Sequence[str], n: int, seed: int, faces=None) -> list[Job]:
    """``n`` samples of every character that some installed face draws, in the faces that draw it."""
    faces = fonts.training_faces() if faces is None else faces
    out = []
    for i, ch in enumerate(chars):
        names = tuple(f.name for f in faces if ch in fonts.coverage(f))
        if names:
            out.append(Job(ch, ch, names, n, seed * 1_000_003 + i))
    return out


def variant_jobs(n: int, seed: int, faces=None, sources: bool = False) -> list[Job]:
    """``n`` samples of every variant kana form (see :mod:`kuzushi_core.synth.variants`): the Unicode hentaigana,
    and with ``sources`` the source kanji in the cursive faces too (the reader's previous recipe)."""
    faces = fonts.training_faces() if faces is None else faces
    out = []
    forms = unicode_variants(faces) + (source_variants(faces) if sources else [])
    for j, (draw, kana, face) in enumerate(forms):
        out.append(Job(kana, draw, (face.name,), n, seed * 1_000_003 + 500_000 + j))
    return out


_FACES: dict[str, fonts.FontFace] = {}


def _init() -> None:
    _FACES.update({f.name: f for f in fonts.available()})


def _run(args: tuple[Job, dict]) -> np.ndarray:
    job, cfg = args
    if not _FACES:
        _init()
    faces = tuple(_FACES[n] for n in job.faces if n in _FACES)
    return samples_for(job.draw, faces, job.n, job.seed, SynthConfig(**cfg), tuple(NEIGHBOURS))


def _key(jobs: Sequence[Job], cfg: SynthConfig) -> str:
    h = hashlib.sha1(json.dumps([cfg.to_dict(), [tuple(j.__dict__.values()) for j in jobs]],
                                ensure_ascii=False, default=list).encode())
    for f in fonts.available():
        h.update(f"{f.name}:{f.path.stat().st_size}".encode())
    return h.hexdigest()[:16]


def make(jobs: Sequence[Job], cfg: SynthConfig = SynthConfig(), processes: int = 2, cache: bool = True,
         progress: Callable[[int, int, float], None] | None = None, classes: Sequence[str] | None = None) -> GlyphSet:
    """Run the jobs (in ``processes`` worker processes) → one GlyphSet labelled by the jobs' labels.

    ``classes`` fixes the label order (default: labels in first-seen order).
    """
    order = list(classes) if classes is not None else list(dict.fromkeys(j.label for j in jobs))
    index = {c: i for i, c in enumerate(order)}
    path = fonts.cache_dir() / "synth" / f"{_key(jobs, cfg)}.npz"
    if cache and path.exists():
        with np.load(path) as z:
            imgs, labels = z["images"], z["labels"]
        names = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        remap = np.array([index[c] for c in names], np.int64)
        return GlyphSet(imgs, remap[labels], tuple(order), f"synth:{path.stem}")
    t0 = time.time()
    args = [(j, cfg.to_dict()) for j in jobs]
    chunks: list[np.ndarray] = []
    if processes > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(processes, initializer=_init) as pool:
            for k, arr in enumerate(pool.imap(_run, args, chunksize=8)):
                chunks.append(arr)
                if progress and (k % 50 == 0 or k == len(args) - 1):
                    progress(k + 1, len(args), time.time() - t0)
    else:
        for k, a in enumerate(args):
            chunks.append(_run(a))
            if progress and (k % 50 == 0 or k == len(args) - 1):
                progress(k + 1, len(args), time.time() - t0)
    labels_local = list(dict.fromkeys(j.label for j in jobs))
    li = {c: i for i, c in enumerate(labels_local)}
    imgs = np.concatenate(chunks) if chunks else np.zeros((0, cfg.size, cfg.size), np.uint8)
    lab = np.concatenate([np.full(len(a), li[j.label], np.int64) for a, j in zip(chunks, jobs)]) if chunks else \
        np.zeros(0, np.int64)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, images=imgs, labels=lab)
        path.with_suffix(".json").write_text(json.dumps(labels_local, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    remap = np.array([index[c] for c in labels_local], np.int64)
    return GlyphSet(imgs, remap[lab] if len(lab) else lab, tuple(order), f"synth:{path.stem}")


def print_progress(done: int, total: int, seconds: float) -> None:
    eta = seconds / max(done, 1) * (total - done)
    print(f"\rrendering {done}/{total} characters  {seconds:.0f} s  ETA {eta:.0f} s", end="" if done < total else "\n",
          file=sys.stderr, flush=True)
