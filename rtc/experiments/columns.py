"""The one column check of the analyses' tables."""
from __future__ import annotations

import pandas as pd

__all__ = ["need_columns"]


def need_columns(table: pd.DataFrame, columns) -> None:
    """``KeyError`` naming the ``columns`` that ``table`` lacks; nothing when it has them all."""
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"the run table lacks columns {missing}")
