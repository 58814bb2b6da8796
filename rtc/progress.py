"""Progress of long work inside a chapter, shown by the book runner: one line per update, no kernel noise.

A chapter executes in a Jupyter kernel, so what it prints lands in the notebook, not in the terminal of the
person who ran ``make book`` — who would otherwise see nothing for the half hour a training grid takes. The
runner (:mod:`rtc.book`) sets ``$RTC_PROGRESS`` to a file for the kernel and prints every line appended to it,
prefixed with the chapter, as it arrives. :func:`report` appends a line there (and does nothing when no runner
listens, e.g. in a notebook opened by hand).
"""
from __future__ import annotations

import os

__all__ = ["ENV", "report"]

ENV = "RTC_PROGRESS"


def report(line: str) -> None:
    """Append ``line`` (one line; newlines become spaces) to the runner's progress file, if there is one."""
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(" ".join(str(line).split()) + "\n")
    except OSError:  # progress is a courtesy: never fail the work for it
        pass
