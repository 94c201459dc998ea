"""Kuzushi Lab core: every piece of logic of the app, free of any UI code."""

__version__ = "0.1.0"
