"""Datasets: KMNIST / Kuzushiji-49 from a path (or downloaded), CODH page crops,
class folders, the seed npz layout, and deterministic stratified splits.

Everything returns a :class:`GlyphSet`: uint8 images N×S×S in KMNIST polarity
(white ink on black), integer labels, and the class list (characters) in label
order.  Splits are stratified and seeded, and :func:`assert_disjoint` checks by
content hash that no test image reaches training.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.classzip import IMAGE_SUFFIXES, unpack_into
from kuzushi_core.errors import DatasetError
from kuzushi_core.evaluation.scoring import read_codh_csv
from kuzushi_core.imaging import read_image
from kuzushi_core.store import Store

KMNIST_CLASSES = ("お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を")

#: Official download location; MD5 checksums of the files whose official sums were
#: verified against the shared copy (the others are downloaded unchecked).
KMNIST_BASE = "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"
KMNIST_MD5 = {
    "t10k-images-idx3-ubyte.gz": "5c965bf0a639b31b8f53240b1b52f4d7",
    "t10k-labels-idx1-ubyte.gz": "7320c461ea6c1c855c0b718fb2a4b134",
    "train-labels-idx1-ubyte.gz": "e144d726b3acfaa3e44228e80efcd344",
    "kmnist-test-imgs.npz": "dace6de62ca8b90843cc45366337d02e",
    "kmnist-test-labels.npz": "3ae489a79983d0fe386152684e3b5412",
}
K49_BASE = "http://codh.rois.ac.jp/kmnist/dataset/k49/"
K49_FILES = ("k49-train-imgs.npz", "k49-train-labels.npz", "k49-test-imgs.npz", "k49-test-labels.npz")


@dataclass
class GlyphSet:
    """Images (uint8, N×H×W, white ink on black), labels (int) and class characters."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str = ""

    def __len__(self) -> int:
        return int(len(self.labels))

    def subset(self, idx: np.ndarray) -> GlyphSet:
        return GlyphSet(self.images[idx], self.labels[idx], self.classes, self.source)

    def counts(self) -> dict[str, int]:
        c = np.bincount(self.labels, minlength=len(self.classes))
        return {ch: int(n) for ch, n in zip(self.classes, c)}


def merge(sets: Sequence[GlyphSet], classes: Sequence[str] | None = None) -> GlyphSet:
    """Several glyph sets as one, labels remapped by character.

    ``classes`` fixes the output order (e.g. a base model's classes first, new
    ones after); characters missing from it are appended in sorted order.
    """
    sets = [g for g in sets if len(g)]
    if not sets:
        raise DatasetError("there is no training data (every source is empty)")
    order = list(classes or ())
    for ch in sorted({c for g in sets for c in g.classes} - set(order)):
        order.append(ch)
    index = {c: i for i, c in enumerate(order)}
    sizes = {g.images.shape[1] for g in sets}
    if len(sizes) != 1:
        raise DatasetError(f"the sources have different glyph sizes {sorted(sizes)}")
    images = np.concatenate([g.images for g in sets])
    labels = np.concatenate([np.array([index[g.classes[i]] for i in g.labels], np.int64) for g in sets])
    return GlyphSet(images, labels, tuple(order), " + ".join(g.source for g in sets))


def per_class_sample(data: GlyphSet, n: int, seed: int = 0) -> GlyphSet:
    """At most ``n`` images of every class, chosen deterministically (e.g. rehearsal of old classes)."""
    rng = np.random.default_rng(seed)
    idx = []
    for c in range(len(data.classes)):
        pick = np.flatnonzero(data.labels == c)
        rng.shuffle(pick)
        idx.extend(pick[:n].tolist())
    return data.subset(np.sort(np.asarray(idx, np.int64)))


def content_hashes(images: np.ndarray) -> list[str]:
    return [hashlib.sha1(np.ascontiguousarray(im).tobytes()).hexdigest() for im in images]


def assert_disjoint(train: GlyphSet, test: GlyphSet) -> None:
    """Raise if any test image (by content hash) is also in the training set."""
    overlap = set(content_hashes(train.images)) & set(content_hashes(test.images))
    if overlap:
        raise DatasetError(f"{len(overlap)} test images also appear in training data")


# -- KMNIST --------------------------------------------------------------------
def _read_npz(path: Path) -> np.ndarray:
    with np.load(path) as z:
        return z["arr_0"]


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 8:
        raise DatasetError(f"{path.name} is not an idx file")
    magic = int.from_bytes(data[:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise DatasetError(f"{path.name} is not an unsigned-byte idx file (magic {magic:#x})")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise DatasetError(f"{path.name} is truncated")
    return arr.reshape(dims)


def load_kmnist(folder: str | os.PathLike[str], split: str = "train") -> GlyphSet:
    """KMNIST from a folder holding the npz or idx files.

    ``split`` is ``"train"`` or ``"test"``.  For training, the full
    ``kmnist-train-imgs.npz`` is used when present, else the first-N subset
    file (``kmnist-train-imgs-first7011.npz``) that ships with the shared data.
    """
    folder = Path(folder)
    if split == "test":
        candidates = [
            ("kmnist-test-imgs.npz", "kmnist-test-labels.npz"),
            ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        ]
    elif split == "train":
        candidates = [
            ("kmnist-train-imgs.npz", "kmnist-train-labels.npz"),
            ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        ]
        candidates += [
            (p.name, p.name.replace("-imgs-", "-labels-")) for p in sorted(folder.glob("kmnist-train-imgs-first*.npz"))
        ]
    else:
        raise DatasetError(f"unknown split {split!r}")
    for img_name, lab_name in candidates:
        ip, lp = folder / img_name, folder / lab_name
        if ip.exists() and lp.exists():
            imgs = _read_npz(ip) if ip.suffix == ".npz" else _read_idx(ip)
            labs = _read_npz(lp) if lp.suffix == ".npz" else _read_idx(lp)
            if len(imgs) != len(labs):
                raise DatasetError(f"{img_name} and {lab_name} differ in length")
            return GlyphSet(imgs.astype(np.uint8), labs.astype(np.int64), KMNIST_CLASSES, f"kmnist:{img_name}")
    raise DatasetError(f"no KMNIST {split} files in {folder}")


def load_k49(folder: str | os.PathLike[str], split: str = "train") -> GlyphSet:
    """Kuzushiji-49 (npz files + k49_classmap.csv) from a folder."""
    folder = Path(folder)
    imgs = _read_npz(folder / f"k49-{split}-imgs.npz")
    labs = _read_npz(folder / f"k49-{split}-labels.npz")
    classes = read_classmap(folder / "k49_classmap.csv")
    return GlyphSet(imgs.astype(np.uint8), labs.astype(np.int64), classes, f"k49:{split}")


def read_classmap(path: Path) -> tuple[str, ...]:
    with open(path, encoding="utf-8") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["index"]))
    return tuple(r["char"] for r in rows)


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(names: Sequence[str], base: str, folder: str | os.PathLike[str],
             checksums: Mapping[str, str | None] | None = None) -> list[Path]:  # pragma: no cover - needs internet
    """Download official dataset files (for users who are online), checking MD5 where known."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        target = folder / name
        if not target.exists():
            tmp = target.with_suffix(target.suffix + ".part")
            urllib.request.urlretrieve(base + name, tmp)
            tmp.replace(target)
        want = (checksums or {}).get(name)
        if want and md5(target) != want:
            raise DatasetError(f"{name}: checksum mismatch; delete it and download again")
        out.append(target)
    return out


def download_kmnist(folder: str | os.PathLike[str]) -> list[Path]:  # pragma: no cover - needs internet
    names = ["kmnist-train-imgs.npz", "kmnist-train-labels.npz", "kmnist-test-imgs.npz", "kmnist-test-labels.npz"]
    return download(names, KMNIST_BASE, folder, KMNIST_MD5) + download(["kmnist_classmap.csv"], KMNIST_BASE, folder)


def download_k49(folder: str | os.PathLike[str]) -> list[Path]:  # pragma: no cover - needs internet
    return download([*K49_FILES, "k49_classmap.csv"], K49_BASE, folder)


# -- splits ------------------------------------------------------------------------
def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int = 0) -> list[np.ndarray]:
    """Split indices per class by ``fractions`` (summing to 1), deterministically."""
    fr = np.asarray(fractions, float)
    if abs(fr.sum() - 1) > 1e-6:
        raise ValueError("fractions must sum to 1")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        cuts = np.round(np.cumsum(fr)[:-1] * len(idx)).astype(int)
        for k, chunk in enumerate(np.split(idx, cuts)):
            parts[k].extend(chunk.tolist())
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def kfold(labels: np.ndarray, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold: ``[(train_idx, val_idx), ...]``, every index in exactly one val fold."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            folds[j % k].append(int(i))
    out = []
    all_idx = np.arange(len(labels))
    for f in folds:
        val = np.sort(np.asarray(f, dtype=np.int64))
        out.append((np.setdiff1d(all_idx, val), val))
    return out


# -- other sources ----------------------------------------------------------------


def load_class_folders(folder: str | os.PathLike[str], size: int = 28) -> GlyphSet:
    """The seed's ``images/train/<class>/…`` layout: folder name = the character.

    Crops may be in either polarity (dark ink on light paper, or white on black).
    """
    from PIL import Image

    folder = Path(folder)
    classes = sorted(d.name for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DatasetError(f"{folder} holds no class folders")
    imgs, labs = [], []
    for i, c in enumerate(classes):
        for f in sorted((folder / c).iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                try:
                    with Image.open(f) as im:
                        arr = np.asarray(im.convert("L"))
                except Exception as exc:  # noqa: BLE001
                    raise DatasetError(f"{f} is not a readable image") from exc
                imgs.append(to_glyph(arr, size))
                labs.append(i)
    if not imgs:
        raise DatasetError(f"no images in the class folders of {folder}")
    return GlyphSet(np.stack(imgs), np.asarray(labs, np.int64), tuple(classes), f"folders:{folder}")


def load_seed_npz(path: str | os.PathLike[str], size: int = 28) -> GlyphSet:
    """The seed's npz layout: ``trainimg`` (N×H×W or N×H·W), ``trainlabel`` one-hot, ``imgsize``."""
    with np.load(path, allow_pickle=False) as z:
        if "trainimg" not in z or "trainlabel" not in z:
            raise DatasetError(f"{path} lacks trainimg/trainlabel")
        imgs, onehot = z["trainimg"], z["trainlabel"]
        side = int(np.asarray(z["imgsize"]).ravel()[0]) if "imgsize" in z else int(round(np.sqrt(imgs.shape[1])))
        classes = tuple(str(c) for c in z["classes"]) if "classes" in z else tuple(str(i) for i in range(onehot.shape[1]))
    imgs = imgs.reshape(len(imgs), side, side)
    if imgs.dtype != np.uint8:
        imgs = np.clip(imgs * (255.0 if imgs.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    glyphs = np.stack([to_glyph(im, size) for im in imgs])  # same normalisation as every other source
    return GlyphSet(glyphs, onehot.argmax(1).astype(np.int64), classes, f"npz:{path}")


def save_seed_npz(path: str | os.PathLike[str] | BinaryIO, data: GlyphSet) -> None:
    onehot = np.eye(len(data.classes), dtype=np.float32)[data.labels]
    size = data.images.shape[1]
    np.savez_compressed(path, trainimg=data.images.reshape(len(data), -1), trainlabel=onehot,
                        imgsize=np.array([size]), classes=np.array(data.classes))


def workspace_items(store, size: int = 28, scan_ids=None,
                    labelled_by: str | None = None) -> tuple[np.ndarray, list[str], list[int], list[int]]:
    """Every labelled, not excluded box of a workspace (with ``labelled_by``: only those whose current label that
    person gave): glyphs, current labels, box ids, scan ids."""
    labels = store.current_labels()
    if labelled_by is not None:
        people = store.label_people()
        labels = {b: lab for b, lab in labels.items() if people.get(b, ("",))[0] == labelled_by}
    imgs, chars, box_ids, scans = [], [], [], []
    for scan in store.list_scans():
        if scan_ids is not None and scan.id not in scan_ids:
            continue
        boxes = [b for b in store.list_boxes(scan.id) if b.id in labels and not b.has_flag("excluded")]
        if not boxes:
            continue
        page = read_image(store.scan_path(scan), gray=True)
        for b in boxes:
            imgs.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), size))
            chars.append(labels[b.id].char)
            box_ids.append(b.id)
            scans.append(scan.id)
    glyphs = np.stack(imgs) if imgs else np.zeros((0, size, size), np.uint8)
    return glyphs, chars, box_ids, scans


def load_workspace(root: str | os.PathLike[str], size: int = 28) -> GlyphSet:
    """Every labelled box of a workspace (its current label) as a glyph; boxes flagged ``excluded`` are left out."""
    imgs, chars, _, _ = workspace_items(Store(root, create=False), size)
    if not len(imgs):
        raise DatasetError(f"the workspace {root} has no labelled characters yet")
    classes = tuple(sorted(set(chars)))
    index = {c: i for i, c in enumerate(classes)}
    return GlyphSet(imgs, np.array([index[c] for c in chars], np.int64), classes, f"workspace:{root}")


def load_source(src: str | os.PathLike[str], size: int = 28, split: str = "train") -> GlyphSet:
    """Any training source the CLI takes, recognised by its content."""
    src = Path(src)
    if src.is_file() and src.suffix == ".npz":
        return load_seed_npz(src, size)
    if src.is_file() and src.suffix.lower() == ".zip":  # a zip of class folders, unpacked for this call
        with tempfile.TemporaryDirectory(prefix="kuzushi-zip-") as tmp:
            got = unpack_into(Path(tmp), src.read_bytes(), src.name)
            data = load_class_folders(got.folder, size)
        return GlyphSet(data.images, data.labels, data.classes, f"zip:{src}")
    if not src.is_dir():
        raise DatasetError(f"{src} is neither a folder nor an npz file")
    if (src / "kuzushi.sqlite").exists():
        return load_workspace(src, size)
    if list(src.glob("kmnist-*.npz")) or list(src.glob("*-idx3-ubyte*")):
        data = load_kmnist(src, split)
        if size != data.images.shape[1]:
            import cv2

            data = GlyphSet(np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_LINEAR) for im in data.images]),
                            data.labels, data.classes, data.source)
        return data
    if list(src.glob("k49-*.npz")):
        return load_k49(src, split)
    return load_class_folders(src, size)


def load_codh_pages(folder: str | os.PathLike[str], size: int = 28, pages: set[str] | None = None) -> GlyphSet:
    """CODH page data (``*_coordinate.csv`` + ``images/``) → character crops labelled with their characters.

    ``pages`` (image names without extension) limits the crops to some pages, for
    leave-one-page-out evaluation.  Also returns the page of each crop in ``source``
    order via :func:`codh_page_of`.
    """
    folder = Path(folder)
    csvs = sorted(folder.glob("*_coordinate.csv"))
    if not csvs:
        raise DatasetError(f"no *_coordinate.csv in {folder}")
    imgs, chars, where = [], [], []
    for csv_path in csvs:
        for name, boxes in read_codh_csv(csv_path).items():
            if pages is not None and name not in pages:
                continue
            path = folder / "images" / f"{name}.jpg"
            if not path.exists():
                raise DatasetError(f"{path} is missing")
            page = read_image(path, gray=True)
            for b in boxes:
                imgs.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), size))
                chars.append(b.char)
                where.append(name)
    classes = tuple(sorted(set(chars)))
    index = {c: i for i, c in enumerate(classes)}
    out = GlyphSet(np.stack(imgs), np.array([index[c] for c in chars], np.int64), classes, f"codh:{folder}")
    out.pages = where  # type: ignore[attr-defined]
    return out


def kmnist_split(data: str | os.PathLike[str], seed: int) -> tuple[GlyphSet, GlyphSet]:
    """KMNIST's 7,011 training images split 90/10 (stratified): the reader trains on the first part only, so the
    second is a validation set no model of the project has trained on."""
    km = load_kmnist(Path(data) / "kmnist", "train")
    tr, va = stratified_split(km.labels, [0.9, 0.1], seed)
    return km.subset(tr), km.subset(va)
