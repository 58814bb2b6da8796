"""``python -m rtc.book``: :func:`rtc.book.cli.main`."""
import sys

from .cli import main

sys.exit(main())
