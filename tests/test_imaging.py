"""Scan intake: every format and mode it takes, every kind of bad input it refuses."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kuzushi_core import errors
from kuzushi_core.data.intake import import_bytes, import_paths
from kuzushi_core.imaging import Limits, decode_pages, read_image, sniff_format

from . import imagegen as g


@pytest.mark.parametrize("fmt,name", [("JPEG", "a.jpg"), ("PNG", "a.png"), ("TIFF", "a.tif"),
                                      ("BMP", "a.bmp"), ("WEBP", "a.webp")])
def test_each_format_decodes_to_8bit_pixels(fmt, name):
    pages = decode_pages(g.rgb(fmt), name)
    assert len(pages) == 1
    p = pages[0]
    assert p.image.dtype == np.uint8 and p.image.shape == (120, 80, 3)
    assert p.format == fmt
    # Lossless formats keep the pixels exactly.
    if fmt in ("PNG", "TIFF", "BMP"):
        assert np.array_equal(p.image, g.page_array())


def test_plain_jpeg_and_png_are_stored_as_uploaded():
    data = g.rgb("JPEG")
    [p] = decode_pages(data, "x.jpg")
    assert p.encoded == data and p.suffix == ".jpg"
    bmp = decode_pages(g.rgb("BMP"), "x.bmp")[0]
    assert bmp.suffix == ".png" and bmp.encoded.startswith(b"\x89PNG")


def test_multipage_tiff_gives_one_page_each(store):
    pages = decode_pages(g.multipage_tiff(3), "vol.tiff")
    assert [p.height for p in pages] == [60, 70, 80]
    doc = store.ensure_document("Vol 1")
    r = import_bytes(store, g.multipage_tiff(3), "vol.tiff", doc.id)
    assert r.ok and [s.page_index for s in r.scans] == [0, 1, 2]
    assert len(store.list_scans(doc.id)) == 3
    # stored pages decode back to the same size
    for s in r.scans:
        assert read_image(store.scan_path(s)).shape[:2] == (s.height, s.width)


def test_exif_orientation_is_applied():
    [p] = decode_pages(g.exif_rotated_jpeg(6), "rot.jpg")
    assert (p.height, p.width) == (80, 120)  # 120×80 portrait turned 90°
    assert p.suffix == ".png"  # the stored image is the upright one
    [q] = decode_pages(g.exif_rotated_jpeg(1), "up.jpg")
    assert (q.height, q.width) == (120, 80)


def test_16_bit_is_scaled_not_clipped():
    [p] = decode_pages(g.png16(32896), "deep.png")
    assert p.image.dtype == np.uint8
    assert p.image[0, 0] == 0 and p.image[-1, -1] == 128


def test_alpha_is_composited_on_white():
    [p] = decode_pages(g.rgba_transparent(), "alpha.png")
    assert p.image.shape == (30, 20, 3)
    assert (p.image[:10] == 0).all() and (p.image[10:] == 255).all()


def test_palette_and_cmyk_become_rgb():
    for data, name in [(g.palette_png(), "p.png"), (g.cmyk_jpeg(), "c.jpg")]:
        [p] = decode_pages(data, name)
        assert p.image.shape == (40, 30, 3)
        assert abs(int(p.image[0, 0].astype(int).sum()) - (235 + 225 + 200)) < 40


def test_pdf_pages_are_rendered():
    [p] = decode_pages(g.pdf_page(), "scan.pdf", Limits(pdf_dpi=72))
    assert p.format == "PDF" and p.image.ndim == 3
    assert abs(p.width - 140) <= 1 and abs(p.height - 200) <= 1


@pytest.mark.parametrize(
    "data,name,error,words",
    [
        (b"", "empty.jpg", errors.EmptyFileError, "empty"),
        (g.rgb("JPEG")[:300], "cut.jpg", errors.CorruptImageError, "damaged"),
        (b"Hello, this is a text file\n" * 10, "notes.jpg", errors.UnsupportedFormatError, "not an image"),
        (g.rgb("PNG"), "named.jpg", errors.MislabelledFileError, "named .jpg"),
        (g.encode(g.Image.fromarray(g.page_array()), "GIF"), "anim.gif", errors.UnsupportedFormatError, "GIF"),
        (g.png_header_only(100_000, 100_000), "bomb.png", errors.DecompressionBombError, "bomb"),
        (b"PK\x03\x04" + b"\x00" * 100, "scans.zip", errors.UnsupportedFormatError, "Accepted"),
        (b"%PDF-1.4\n%broken", "broken.pdf", errors.CorruptImageError, "PDF"),
    ],
)
def test_bad_input_is_a_typed_error_with_a_clear_message(data, name, error, words):
    with pytest.raises(error) as info:
        decode_pages(data, name)
    msg = str(info.value)
    assert words in msg and name in msg
    assert "Traceback" not in msg and "\n" not in msg


def test_limits_are_configurable():
    data = g.rgb("PNG", 300, 300)
    with pytest.raises(errors.ImageTooLargeError, match="megapixels"):
        decode_pages(data, "big.png", Limits(max_pixels=50_000, bomb_ratio=1e9))
    with pytest.raises(errors.ImageTooLargeError, match="MB"):
        decode_pages(data, "big.png", Limits(max_bytes=100))
    assert decode_pages(data, "big.png", Limits(max_pixels=90_000))


def test_sniffing():
    assert sniff_format(g.rgb("JPEG")) == "JPEG"
    assert sniff_format(g.rgb("WEBP")) == "WEBP"
    assert sniff_format(b"nothing") is None


def _snapshot(store):
    files = sorted(str(p.relative_to(store.root)) for p in store.files.rglob("*") if p.is_file())
    return files, store.list_scans(), store.list_documents()


def test_bad_corpus_is_refused_and_workspace_unchanged(store, tmp_path):
    doc = store.ensure_document("Ledger")
    good = tmp_path / "good.png"
    good.write_bytes(g.rgb("PNG"))
    import_paths(store, [good], doc.id)
    before = _snapshot(store)
    corpus = {
        "empty.jpg": b"",
        "truncated.jpg": g.rgb("JPEG")[:500],
        "text.png": b"not a png at all",
        "renamed.tif": g.rgb("PNG", 50, 50),
        "bomb.png": g.png_header_only(60_000, 60_000),
        "garbage.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(range(256)),
        "broken.tiff": b"II*\x00" + b"\xff" * 64,
        "half.bmp": g.rgb("BMP")[:100],
    }
    paths = []
    for name, data in corpus.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    paths.append(tmp_path / "missing.jpg")
    results = import_paths(store, paths, doc.id)
    assert len(results) == len(paths)
    for r in results:
        assert not r.ok and not r.scans, r
        assert r.source_name in r.error and len(r.error) < 400
    assert _snapshot(store) == before


def _mutate(data: bytes, rnd: random.Random, n_ops: int) -> bytes:
    b = bytearray(data)
    for _ in range(n_ops):
        op = rnd.randrange(5)
        pos = rnd.randrange(len(b)) if b else 0
        if op == 0 and b:  # flip a byte
            b[pos] ^= 1 << rnd.randrange(8)
        elif op == 1:  # truncate
            del b[pos:]
        elif op == 2:  # insert junk
            b[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 32)))
        elif op == 3 and b:  # overwrite a run
            for i in range(pos, min(len(b), pos + rnd.randrange(1, 64))):
                b[i] = rnd.randrange(256)
        else:  # duplicate a slice
            j = rnd.randrange(len(b) + 1)
            b[j:j] = b[pos : pos + rnd.randrange(1, 256)]
    return bytes(b)


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 6), fmt=st.sampled_from(["PNG", "TIFF", "BMP", "WEBP", "JPEG"]))
def test_fuzzed_generated_images_raise_only_typed_errors(seed, n_ops, fmt):
    data = _mutate(g.rgb(fmt, 64, 48), random.Random(seed), n_ops)
    try:
        pages = decode_pages(data, f"fuzz.{fmt.lower()}")
    except errors.ImageError:
        return
    for p in pages:
        assert p.image.dtype == np.uint8 and p.image.ndim in (2, 3)


@pytest.mark.data
def test_fuzzed_real_jpegs_raise_only_typed_errors_and_store_nothing(real_scans, tmp_path):
    from kuzushi_core.store import Store

    store = Store(tmp_path / "ws")
    doc = store.ensure_document("Fuzz")
    sources = [p.read_bytes() for p in real_scans if p.stat().st_size < 100_000][:4]
    assert sources, "no small real JPEG found"
    rnd = random.Random(20261122)
    refused = accepted = 0
    for i in range(160):
        data = _mutate(rnd.choice(sources), rnd, rnd.randrange(1, 5))
        before = len(store.list_scans())
        files_before = sum(1 for _ in store.files.rglob("*"))
        r = import_bytes(store, data, f"fuzz{i}.jpg", doc.id)  # raises nothing
        if r.ok:
            accepted += 1
            assert len(store.list_scans()) == before + len(r.scans)
        else:
            refused += 1
            assert r.error and "fuzz" in r.error
            assert len(store.list_scans()) == before
            assert sum(1 for _ in store.files.rglob("*")) == files_before
    assert refused > 20  # the mutations really do break files
    assert store.integrity_ok()


@pytest.mark.data
def test_real_scans_import(store, real_scans, page_images):
    doc = store.ensure_document("Real")
    results = import_paths(store, [*page_images, *real_scans], doc.id)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    scans = store.list_scans(doc.id)
    assert len(scans) == len(page_images) + len(real_scans)
    big = [s for s in scans if s.source_name == "100241706_00004_2.jpg"][0]
    assert (big.width, big.height) == (2404, 3874)
    # the same file again is recognised, not stored twice
    again = import_paths(store, page_images[:1], doc.id)[0]
    assert again.ok and not again.scans and again.duplicates[0].id == big.id
