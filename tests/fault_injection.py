"""SIGKILL in the middle of a write, for the recovery tests: imported by a real subprocess before it runs rtc.

``kill_at_rename(pattern, nth)`` makes the process kill itself (SIGKILL: no cleanup handler, no ``finally``) at
the ``nth`` time a file is about to be renamed onto a target whose name matches ``pattern`` — after its temporary file
was written,
which is first cut to half its size, so what stays behind is exactly what a writer killed mid-write leaves: a
partial temporary file beside an old (or missing) target.
"""
import fnmatch
import os
import signal
from pathlib import Path


def kill_at_rename(pattern: str, nth: int = 1) -> None:
    """Kill this process at the ``nth`` rename onto a file whose name matches ``pattern`` (fnmatch)."""
    real_replace = os.replace
    seen = [0]

    def replace(src, dst, *args, **kwargs):
        if fnmatch.fnmatch(Path(dst).name, pattern):
            seen[0] += 1
            if seen[0] == nth:
                with open(src, "r+b") as f:
                    f.truncate(os.path.getsize(src) // 2)
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *args, **kwargs)

    os.replace = replace
