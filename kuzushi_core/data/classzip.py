"""Training crops uploaded as a zip of class folders (``あ/001.png``, ``畑/a.jpg``, …).

A browser user has such a zip on their own computer, not a folder on the server: the zip is checked
and unpacked once into the workspace (``files/datasets/<sha256>/``), where the training worker reads
it as a folder of class folders (:func:`kuzushi_core.data.datasets.load_class_folders`).

Checked before anything is written: that it is a zip; no member may leave the folder (absolute
paths, ``..``), links are refused; limits on members, sizes and compression ratio keep a zip bomb
out. Names from Japanese Windows (Shift-JIS, no UTF-8 flag) are decoded as such. Where the zip
holds both ``train`` and ``test`` splits, only ``train`` is used: test crops never go into training.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kuzushi_core.errors import DatasetError
from kuzushi_core.store import Store, sha256_bytes

#: the image files a class folder may hold (also :func:`~kuzushi_core.data.datasets.load_class_folders`)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 1 << 30  # uncompressed, all members
MAX_MEMBER_BYTES = 32 << 20
MAX_RATIO = 200  # uncompressed / compressed, per member (images hardly compress)
HELD_OUT = ("test", "tests", "val", "valid", "validation")
SKIPPED = ("__MACOSX", ".DS_Store", "Thumbs.db")


@dataclass(frozen=True)
class ClassZip:
    """An unpacked zip: the folder of class folders, its classes and image counts."""

    folder: Path
    counts: dict[str, int]
    source_name: str
    note: str = ""

    @property
    def n_images(self) -> int:
        return sum(self.counts.values())


def _name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: UTF-8 when flagged, else UTF-8 or Shift-JIS (cp932) bytes
    that zipfile decoded as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for enc in ("utf-8", "cp932"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _members(z: zipfile.ZipFile, source_name: str) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise DatasetError(f"{source_name} holds {len(infos):,} files; at most {MAX_MEMBERS:,} are accepted.")
    total, out = 0, []
    for info in infos:
        name = _name(info).replace("\\", "/")
        path = PurePosixPath(name)
        if name.startswith("/") or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise DatasetError(f"{source_name} is refused: the member “{name}” would be written outside its folder.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise DatasetError(f"{source_name} is refused: “{name}” is a symbolic link.")
        if info.is_dir() or any(p in SKIPPED or p.startswith(".") for p in path.parts):
            continue
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            raise DatasetError(f"{source_name}: “{name}” is {info.file_size / 1e6:.0f} MB; a crop of at most "
                               f"{MAX_MEMBER_BYTES >> 20} MB is accepted.")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1 << 20:
            raise DatasetError(f"{source_name} is refused: “{name}” unpacks {info.file_size / info.compress_size:.0f}"
                               " times larger than it is stored (a zip bomb?).")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise DatasetError(f"{source_name} unpacks to more than {MAX_TOTAL_BYTES >> 30} GB of images.")
        out.append((info, path))
    return out


def _class_root(paths: list[PurePosixPath], source_name: str) -> tuple[PurePosixPath, str]:
    """The folder whose sub-folders are the classes: the parent of the images' folders.

    One such folder is expected; with several (``train/`` and ``test/``), ``train`` is taken and the
    held-out ones are left out.
    """
    roots: dict[PurePosixPath, int] = {}
    for p in paths:
        if len(p.parts) < 2:
            continue  # an image beside the class folders has no class
        roots[p.parent.parent] = roots.get(p.parent.parent, 0) + 1
    if not roots:
        raise DatasetError(f"{source_name} holds no class folders: put each character's crops in a folder named "
                           "after the character (あ/001.png, 畑/002.png, …).")
    if len(roots) == 1:
        return next(iter(roots)), ""
    train = [r for r in roots if r.name.lower() == "train"]
    if len(train) == 1:
        left = sorted(str(r) for r in roots if r != train[0])
        return train[0], f"only {train[0]}/ is used for training; left out: {', '.join(left)}"
    held_out = [r for r in roots if r.name.lower() in HELD_OUT]
    if held_out and len(roots) - len(held_out) == 1:
        keep = next(r for r in roots if r not in held_out)
        return keep, f"left out the held-out {', '.join(sorted(str(r) for r in held_out))}"
    raise DatasetError(f"{source_name} has class folders in several places ({', '.join(sorted(map(str, roots))[:5])}):"
                       " zip one folder of class folders.")


def unpack(store: Store, data: bytes, source_name: str = "classes.zip") -> ClassZip:
    """Check and unpack an uploaded zip of class folders into the workspace (once per content)."""
    return unpack_into(store.files / "datasets", data, source_name)


def unpack_into(parent: Path, data: bytes, source_name: str = "classes.zip") -> ClassZip:
    """Check and unpack a zip of class folders into ``parent/<sha256 prefix>/`` (kept: a second call with
    the same bytes unpacks nothing)."""
    if not data:
        raise DatasetError(f"{source_name} is empty.")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DatasetError(f"{source_name} is not a zip file.") from None
    with z:
        members = _members(z, source_name)
        root, note = _class_root([p for _, p in members], source_name)
        chosen = [(i, p.relative_to(root)) for i, p in members
                  if len(p.parts) == len(root.parts) + 2 and p.parent.parent == root]
        counts: dict[str, int] = {}
        for _, rel in chosen:
            counts[rel.parts[0]] = counts.get(rel.parts[0], 0) + 1
        target = Path(parent) / sha256_bytes(data)[:24]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
            try:
                for info, rel in chosen:
                    dest = tmp.joinpath(*rel.parts)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with z.open(info) as src, open(dest, "wb") as out:
                            shutil.copyfileobj(src, out, 1 << 20)
                    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                        raise DatasetError(f"{source_name} is damaged: “{_name(info)}” cannot be read ({exc}).") \
                            from None
                _check_images(tmp, source_name)
                os.replace(tmp, target)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
    return ClassZip(target, dict(sorted(counts.items())), source_name, note)


def _check_images(folder: Path, source_name: str) -> None:
    from PIL import Image

    for f in folder.rglob("*"):
        if f.is_file():
            try:
                with Image.open(f) as im:
                    im.verify()
            except Exception:  # noqa: BLE001 - any decoder failure means the same to the user
                raise DatasetError(f"{source_name}: “{f.relative_to(folder)}” is not a readable image.") from None
