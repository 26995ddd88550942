"""What every aggregate's part of the store shares: the low-level client and the table name."""

from __future__ import annotations

from typing import Any


class StoreBase:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table
