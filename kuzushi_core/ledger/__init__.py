"""Land registers (土地台帳, 名寄帳): from a page to a table of lots.

- :mod:`.values` — the written values of a register (numbers, areas, money, era dates) parsed into numbers;
- :mod:`.kanapages` — generated ledger-like pages of KMNIST kana (the segmentation benchmark's stand-in).
"""

from .kanapages import LedgerPage, LedgerParams, generate_page, write_demo

__all__ = ["LedgerPage", "LedgerParams", "generate_page", "write_demo"]
