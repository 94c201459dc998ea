"""TensorFlow and Keras, loaded on first use: the one place the package imports them.

Importing TensorFlow takes seconds and hundreds of megabytes.  The CLI commands that neither train nor classify,
the app's pages that only read the store and the tests of pure functions should not pay for it, yet every module
imports what it uses at its top.  So a module that needs them writes ``from kuzushi_core.lazy import keras, tf``;
the real import happens at the first attribute access (``keras.layers``, ``tf.data``...).

Each access goes through :func:`importlib.import_module`, which holds the import lock: two threads (Streamlit
runs pages in threads) never see a half-imported TensorFlow.  ``lazy_loader`` (scikit-image's) was tried first
and dropped: it relies on :class:`importlib.util.LazyLoader`, which is not thread-safe before Python 3.12, and a
page thread touching Keras while another thread was importing it got "module 'keras' has no attribute 'utils'".
Nothing may touch ``keras.…`` or ``tf.…`` at a module's import time (a class deriving from a Keras class is
defined inside the function that needs it).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class LazyModule:
    """Stands for a module; the first attribute access imports it (thread-safe), later ones look it up."""

    def __init__(self, name: str) -> None:
        self._name = name

    def module(self) -> ModuleType:
        return importlib.import_module(self._name)

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


if TYPE_CHECKING:  # the type checker sees the real modules
    import keras
    import tensorflow as tf
else:
    tf = LazyModule("tensorflow")
    keras = LazyModule("keras")

__all__ = ["LazyModule", "keras", "tf"]
