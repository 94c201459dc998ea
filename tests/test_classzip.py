"""Training crops uploaded as a zip of class folders: unpacked into the workspace once, the test split of a
train/test zip left out, bad zips refused with a message and nothing written."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from kuzushi_core.data.classzip import unpack
from kuzushi_core.data.datasets import DatasetError, load_class_folders, load_source
from kuzushi_core.store import Store


def png(seed: int = 0, size: int = 40) -> bytes:
    rng = np.random.default_rng(seed)
    arr = np.full((size, size), 235, np.uint8)
    y, x = rng.integers(5, size - 15, 2)
    arr[y : y + 10, x : x + 4] = 20  # a dark stroke on light paper
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "ws")


def datasets_dir(store):
    d = store.files / "datasets"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_a_zip_of_class_folders_is_unpacked_once_and_reads_as_training_data(store, tmp_path):
    data = zip_of({"あ/1.png": png(1), "あ/2.png": png(2), "畑/1.png": png(3), "畑/notes.txt": b"x",
                   "__MACOSX/畑/._1.png": b"junk", "README.png": png(4), "畑/.hidden.png": b"junk"})
    got = unpack(store, data, "mine.zip")
    assert got.counts == {"あ": 2, "畑": 1} and got.n_images == 3 and got.note == ""
    assert got.folder.parent == store.files / "datasets"
    glyphs = load_class_folders(got.folder)
    assert glyphs.classes == ("あ", "畑") and glyphs.images.shape == (3, 28, 28)
    # the same bytes again: the same folder, nothing unpacked a second time
    stamp = (got.folder / "あ" / "1.png").stat().st_mtime_ns
    again = unpack(store, data, "mine (1).zip")
    assert again.folder == got.folder and (got.folder / "あ" / "1.png").stat().st_mtime_ns == stamp
    assert len(datasets_dir(store)) == 1
    # the CLI's sources take the zip file itself
    path = tmp_path / "mine.zip"
    path.write_bytes(data)
    via_cli = load_source(path)
    assert via_cli.classes == ("あ", "畑") and len(via_cli) == 3


def test_a_train_test_zip_trains_on_train_only(store):
    data = zip_of({"kuzushi/train/あ/1.png": png(1), "kuzushi/train/い/1.png": png(2),
                   "kuzushi/test/あ/9.png": png(9), "kuzushi/test/う/9.png": png(8)})
    got = unpack(store, data, "split.zip")
    assert got.counts == {"あ": 1, "い": 1}
    assert "kuzushi/test" in got.note and "train" in got.note
    assert not (got.folder / "う").exists()
    # held-out folders with another name for the training split
    got = unpack(store, zip_of({"crops/あ/1.png": png(1), "val/あ/2.png": png(2)}), "val.zip")
    assert got.counts == {"あ": 1} and "val" in got.note


def test_shift_jis_names_from_japanese_windows_are_read(store):
    data = bytearray(zip_of({"XX/1.png": png(1), "YY/2.png": png(2)}))
    assert b"XX/" in data and not (int.from_bytes(data[6:8], "little") & 0x800)  # no UTF-8 flag
    data = bytes(data).replace(b"XX/", "あ/".encode("cp932")).replace(b"YY/", "畑/".encode("cp932"))
    got = unpack(store, data, "windows.zip")
    assert got.counts == {"あ": 1, "畑": 1}


@pytest.mark.parametrize("members, says", [
    ({"../evil/1.png": png(1)}, "outside its folder"),
    ({"/abs/あ/1.png": png(1)}, "outside its folder"),
    ({"1.png": png(1), "2.png": png(2)}, "no class folders"),
    ({"あ/1.png": png(1), "い/broken.png": b"\x89PNG\r\n\x1a\n not really"}, "not a readable image"),
    ({"a/x/1.png": png(1), "b/y/2.png": png(2)}, "several places"),
    ({"あ/big.png": bytes(3 << 20)}, "zip bomb"),
])
def test_bad_zips_are_refused_and_nothing_is_written(store, members, says):
    with pytest.raises(DatasetError, match=says):
        unpack(store, zip_of(members), "bad.zip")
    assert datasets_dir(store) == []  # no half-unpacked folder left behind


def test_not_a_zip_and_empty(store):
    with pytest.raises(DatasetError, match="not a zip"):
        unpack(store, png(1), "photo.zip")
    with pytest.raises(DatasetError, match="empty"):
        unpack(store, b"", "empty.zip")
    link = io.BytesIO()
    with zipfile.ZipFile(link, "w") as z:
        info = zipfile.ZipInfo("あ/1.png")
        info.external_attr = (0o120777 << 16)  # a symbolic link
        z.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match="symbolic link"):
        unpack(store, link.getvalue(), "link.zip")
