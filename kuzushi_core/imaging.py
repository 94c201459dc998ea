"""Loading and validating scans.

:func:`decode_pages` turns the bytes of an uploaded file into one or more
8-bit page images (grey or RGB, EXIF orientation applied), or raises a
:class:`~kuzushi_core.errors.ImageError` whose message a historian can act on.
It is the only door through which images enter the workspace; the Scans page,
the CLI and the tests all use it.

Decoding uses Pillow (the maintained reference decoder for every format we
take: JPEG, PNG, TIFF incl. multi-page, BMP, WebP) and pypdfium2 (PDFium,
Chrome's PDF renderer) for PDF pages.  Sizes are checked from the header
*before* pixels are decoded, so a decompression bomb is refused without being
inflated.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from kuzushi_core.errors import (
    CorruptImageError,
    DecompressionBombError,
    EmptyFileError,
    ImageError,
    ImageTooLargeError,
    MislabelledFileError,
    UnsupportedFormatError,
)

#: PDFium is not thread-safe: every call into it, from any thread, holds this lock
PDFIUM_LOCK = threading.RLock()

SUPPORTED = ("JPEG", "PNG", "TIFF", "BMP", "WEBP", "PDF")

#: File-name suffix -> the format its content should have.
SUFFIX_FORMAT = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".jfif": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".dib": "BMP",
    ".webp": "WEBP",
    ".pdf": "PDF",
    ".gif": "GIF",
}


@dataclass(frozen=True)
class Limits:
    """Configurable limits on what intake accepts.

    ``max_pixels`` per page (default 120 MP, an A3 sheet at 800 dpi);
    ``max_bytes`` per file; ``max_pages`` per multi-page file;
    ``bomb_ratio``: pixels per byte of file above which an over-size image is
    called a decompression bomb; ``pdf_dpi``: resolution PDF pages are
    rendered at.
    """

    max_bytes: int = 200 * 1024 * 1024
    max_pixels: int = 120_000_000
    max_pages: int = 500
    bomb_ratio: float = 500.0
    pdf_dpi: int = 300


@dataclass(frozen=True)
class DecodedPage:
    """One page of an uploaded file, ready to be stored.

    ``image`` is uint8, H×W (grey) or H×W×3 (RGB).  ``encoded`` holds the bytes
    to store: the original file when it can be shown as is (an upright 8-bit
    JPEG or PNG), else a lossless PNG of ``image``.
    """

    image: np.ndarray
    page_index: int
    format: str
    encoded: bytes
    suffix: str

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


def sniff_format(data: bytes) -> str | None:
    """The format named by a file's first bytes (its magic number), or None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "PDF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


def decode_pages(data: bytes, name: str = "upload", limits: Limits | None = None) -> list[DecodedPage]:
    """Decode an uploaded file into pages, or raise an :class:`ImageError`."""
    with PageFile(data, name, limits) as pages:
        return [pages.page(i) for i in range(len(pages))]


class PageFile:
    """The pages of one file, checked and opened once, decoded one page at a time.

    What :func:`decode_pages` does for a whole upload, for a reader of archives that must not hold a 500-page PDF
    in memory: ``len()`` is the page count (from the header), ``page(i)`` decodes page *i*.  Opening raises the same
    typed errors as :func:`decode_pages`; so does ``page(i)`` for a page that is damaged.
    """

    def __init__(self, data: bytes, name: str = "upload", limits: Limits | None = None):
        self.data, self.name, self.limits = data, name, limits or Limits()
        self._pdf = self._im = None
        self.format = self._check()
        self._guard(self._open)

    def __len__(self) -> int:
        return self._n

    def __enter__(self) -> PageFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pdf is not None:
            with PDFIUM_LOCK:
                self._pdf.close()
            self._pdf = None
        if self._im is not None:
            self._im.close()
            self._im = None

    def page(self, i: int) -> DecodedPage:
        if not 0 <= i < self._n:
            raise IndexError(f"“{self.name}” has {self._n} page(s); there is no page {i + 1}.")
        return self._guard(self._pdf_page if self.format == "PDF" else self._raster_page, i)

    # -- checks and decoders ----------------------------------------------------------
    def _check(self) -> str:
        data, name, limits = self.data, self.name, self.limits
        if len(data) == 0:
            raise EmptyFileError(f"“{name}” is empty (0 bytes): the upload or copy did not finish.")
        if len(data) > limits.max_bytes:
            raise ImageTooLargeError(
                f"“{name}” is {len(data) / 2**20:.0f} MB; the limit is {limits.max_bytes / 2**20:.0f} MB per file."
            )
        fmt = sniff_format(data)
        suffix = Path(name).suffix.lower()
        claimed = SUFFIX_FORMAT.get(suffix)
        if fmt is None:
            raise UnsupportedFormatError(
                f"“{name}” is not an image Kuzushi Lab can read. Accepted: JPEG, PNG, TIFF, BMP, WebP, PDF."
            )
        if fmt not in SUPPORTED:
            raise UnsupportedFormatError(
                f"“{name}” is a {fmt} image; accepted are JPEG, PNG, TIFF, BMP, WebP and PDF. "
                "Convert it (e.g. to PNG) and upload again."
            )
        if claimed is not None and claimed != fmt:
            raise MislabelledFileError(
                f"“{name}” is named {suffix} but its content is {fmt}. "
                f"The file may be damaged or renamed; rename it to the right extension and upload again."
            )
        return fmt

    def _guard(self, fn, *args):
        try:
            return fn(*args)
        except ImageError:
            raise
        except MemoryError as exc:
            raise ImageTooLargeError(f"“{self.name}” needs more memory to decode than this machine has.") from exc
        except Exception as exc:  # noqa: BLE001 - untrusted bytes: every decoder failure is bad input
            raise CorruptImageError(
                f"“{self.name}” looks like a {self.format} file but cannot be decoded ({_reason(exc)}); "
                "it is probably damaged or incomplete. Export or copy it again."
            ) from exc

    def _open(self) -> None:
        name, limits = self.name, self.limits
        if self.format == "PDF":
            import pypdfium2 as pdfium

            with PDFIUM_LOCK:
                try:
                    self._pdf = pdfium.PdfDocument(self.data)
                except pdfium.PdfiumError as exc:
                    raise CorruptImageError(f"“{name}” is not a readable PDF ({_reason(exc)}).") from exc
                self._n = len(self._pdf)
            if self._n == 0:
                raise EmptyFileError(f"“{name}” is a PDF without pages.")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                try:
                    self._im = Image.open(io.BytesIO(self.data), formats=[self.format])
                except Image.DecompressionBombError as exc:
                    raise DecompressionBombError(
                        f"“{name}” is refused as a decompression bomb ({_reason(exc)})."
                    ) from exc
            self._n = getattr(self._im, "n_frames", 1) if self.format == "TIFF" else 1
        if self._n > limits.max_pages:
            raise ImageTooLargeError(f"“{name}” has {self._n} pages; the limit is {limits.max_pages}.")

    def _raster_page(self, i: int) -> DecodedPage:
        data, fmt, multi = self.data, self.format, self._n > 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            frame = self._im
            assert frame is not None  # opened by _open
            if multi:
                frame.seek(i)
            _check_size(self.name, frame.size, len(data), self.limits, i if multi else None)
            frame.load()
            upright = ImageOps.exif_transpose(frame)
            rotated = _has_orientation(frame)
            arr = to_uint8(upright)
        keep_original = not multi and fmt in ("JPEG", "PNG") and not rotated and frame.mode in ("L", "RGB")
        if keep_original:
            encoded, suffix = data, ".jpg" if fmt == "JPEG" else ".png"
        else:
            encoded, suffix = encode_png(arr), ".png"
        return DecodedPage(image=arr, page_index=i, format=fmt, encoded=encoded, suffix=suffix)

    def _pdf_page(self, i: int) -> DecodedPage:
        scale = self.limits.pdf_dpi / 72.0
        with PDFIUM_LOCK:
            page = self._pdf[i]
            w_pt, h_pt = page.get_size()
            _check_size(self.name, (int(w_pt * scale), int(h_pt * scale)), 10**12, self.limits, i)
            arr = to_uint8(page.render(scale=scale).to_pil())
            page.close()
        return DecodedPage(image=arr, page_index=i, format="PDF", encoded=encode_png(arr), suffix=".png")


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _check_size(name: str, size: tuple[int, int], n_bytes: int, limits: Limits, page: int | None = None) -> None:
    w, h = size
    where = f"“{name}”" + (f" page {page + 1}" if page is not None else "")
    if w <= 0 or h <= 0:
        raise CorruptImageError(f"{where} declares an empty size ({w}×{h}); the file is damaged.")
    pixels = w * h
    if pixels > limits.max_pixels:
        if pixels / max(n_bytes, 1) > limits.bomb_ratio:
            raise DecompressionBombError(
                f"{where} declares {w}×{h} pixels in only {n_bytes:,} bytes: refused as a "
                "decompression bomb (a tiny file that would fill the memory)."
            )
        raise ImageTooLargeError(
            f"{where} is {w}×{h} = {pixels / 1e6:.0f} megapixels; the limit is "
            f"{limits.max_pixels / 1e6:.0f} megapixels. Scan at a lower resolution (400–600 dpi is plenty)."
        )


def _has_orientation(im: Image.Image) -> bool:
    try:
        return int(im.getexif().get(0x0112, 1)) not in (0, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
        return False


def to_uint8(im: Image.Image) -> np.ndarray:
    """Any Pillow mode → uint8 grey (H×W) or RGB (H×W×3); alpha composited on white."""
    mode = im.mode
    if mode in ("L", "RGB"):
        return np.asarray(im, dtype=np.uint8).copy()
    if mode == "1":
        return np.asarray(im.convert("L"), dtype=np.uint8).copy()
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) <= 65535) else None
        if top is None:
            lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
            arr = (arr - lo) / max(hi - lo, 1e-12)
        elif mode == "F" and arr.max(initial=0) <= 1.0:
            arr = arr
        else:
            arr = arr / top
        return np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        return to_uint8(im)
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(background, rgba).convert("L" if mode in ("LA", "La") else "RGB")
        return np.asarray(out, dtype=np.uint8).copy()
    # CMYK, YCbCr, LAB, HSV, RGBX, ... : Pillow's conversion to RGB.
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def encode_png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def read_image(path: str | Path, *, gray: bool = False) -> np.ndarray:
    """Read a *stored* scan (already validated) as uint8 RGB, or grey if asked."""
    with Image.open(path) as im:
        im.load()
        arr = to_uint8(im)
    if gray and arr.ndim == 3:
        return np.asarray(Image.fromarray(arr).convert("L"))
    if not gray and arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    return arr


def thumbnail_jpeg(arr: np.ndarray, max_side: int = 320, quality: int = 85) -> bytes:
    """A small JPEG of a page image for the thumbnail grid."""
    im = Image.fromarray(arr)
    im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.convert("RGB" if im.mode != "L" else "L").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
