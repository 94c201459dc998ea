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


# Data, models, training


class ValueSyntaxError(KuzushiError, ValueError):
    """Text that does not follow the register's conventions (turned into ``ParsedValue.error``)."""


class TemplateError(KuzushiError, ValueError):
    """A template that cannot be made or placed (no cells, a field outside the form...)."""


class JobError(KuzushiError):
    """A training job that cannot run as configured (no data, no base model...)."""


class AdaptError(KuzushiError):
    """Nothing to learn from, or a base model that cannot be adapted."""


class FeatureError(KuzushiError):
    """A model that cannot be cut for cached-feature training."""


class TransferError(KuzushiError):
    """A base model that cannot be used for transfer (no feature split point, too few blocks...)."""


class DatasetError(KuzushiError):
    """A training source that cannot be read (missing files, wrong layout, no labels)."""


class ModelFileError(KuzushiError):
    """A model file that cannot be used (corrupt, unsafe, wrong shape or classes)."""


class FontError(KuzushiError):
    """A font that is needed is not installed."""


class Cancelled(Exception):  # noqa: N818 - a signal, not an error: deliberately outside KuzushiError
    """Raised inside the Keras loop when the user asked to cancel (not an error: the run ends as cancelled)."""
