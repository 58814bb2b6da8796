"""Where the repository is: :func:`find_root`, the one rule every layer uses to find ``parameters/`` and the
results cache (it imports nothing of ``rtc``, so any module may use it)."""
from __future__ import annotations

from pathlib import Path

__all__ = ["find_root"]


def find_root(start: str | Path | None = None) -> Path:
    """The repository root: the nearest ancestor of ``start`` holding ``parameters/`` and ``book/``.

    Without ``start``: the nearest above the working directory, else the checkout this ``rtc`` package is
    installed from (``pip install -e``) — so a chapter executed from another folder (nbmake runs notebooks
    where they are) still finds the profiles' training grids and the results cache.
    """
    starts = [Path(start)] if start else [Path.cwd(), Path(__file__).resolve().parent]
    for p in starts:
        p = p.resolve()
        for cand in (p, *p.parents):
            if (cand / "parameters").is_dir() and (cand / "book").is_dir():
                return cand
    raise FileNotFoundError(f"no repository root (a folder with parameters/ and book/) above "
                            f"{' or '.join(str(p.resolve()) for p in starts)}")
