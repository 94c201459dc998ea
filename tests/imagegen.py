"""Small images made by the tests themselves, in every format and mode intake takes."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def page_array(h: int = 120, w: int = 80, seed: int = 0) -> np.ndarray:
    """A light 'paper' page with a few dark vertical 'columns' of strokes."""
    rng = np.random.default_rng(seed)
    a = np.full((h, w, 3), (235, 225, 200), np.uint8)
    for x in range(w - 15, 5, -20):
        for y in range(10, h - 15, 18):
            a[y : y + 10, x : x + 6] = rng.integers(20, 60)
    return a


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def rgb(fmt: str, h: int = 120, w: int = 80) -> bytes:
    return encode(Image.fromarray(page_array(h, w)), fmt)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size but holds almost no data (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def multipage_tiff(n: int = 3) -> bytes:
    frames = [Image.fromarray(page_array(60 + 10 * i, 40, seed=i)) for i in range(n)]
    return encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    im = Image.fromarray(page_array(120, 80))
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(im, "JPEG", exif=exif.tobytes())


def png16(value: int = 65535) -> bytes:
    arr = np.full((30, 20), value, dtype=np.uint16)
    arr[:10] = 0
    return encode(Image.fromarray(arr), "PNG")


def rgba_transparent() -> bytes:
    arr = np.zeros((30, 20, 4), np.uint8)  # fully transparent black
    arr[:10, :, 3] = 255  # opaque black band on top
    return encode(Image.fromarray(arr), "PNG")


def palette_png() -> bytes:
    return encode(Image.fromarray(page_array(40, 30)).convert("P"), "PNG")


def cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(page_array(40, 30)).convert("CMYK"), "JPEG")


def pdf_page() -> bytes:
    return encode(Image.fromarray(page_array(200, 140)), "PDF", resolution=72.0)
