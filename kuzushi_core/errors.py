"""Typed errors of Kuzushi Lab.

Every error that bad input can cause derives from :class:`KuzushiError` and
carries a message written for a historian, not a programmer: the UI shows
``str(error)`` as it is and the CLI prints it on one line.
"""

from __future__ import annotations


class KuzushiError(Exception):
    """Base class of every expected, user-facing error."""


class ImageError(KuzushiError):
    """A file could not be taken in as a scan."""


class EmptyFileError(ImageError):
    pass


class UnsupportedFormatError(ImageError):
    pass


class MislabelledFileError(ImageError):
    pass


class CorruptImageError(ImageError):
    pass


class ImageTooLargeError(ImageError):
    pass


class DecompressionBombError(ImageTooLargeError):
    pass


class StoreError(KuzushiError):
    """The workspace could not do what was asked."""


class WorkspaceError(StoreError):
    pass


class NotFoundError(StoreError):
    pass
