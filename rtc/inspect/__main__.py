"""``python -m rtc.inspect``: :func:`rtc.inspect.cli.main`."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
