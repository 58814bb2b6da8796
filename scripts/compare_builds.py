"""Claim by claim, the verdicts of two builds of the book — e.g. the `default` grid with seeds 0–2 and the same
grid with seeds 3–5 — and whether any claim is confirmed in one and refuted in the other (a contradiction: that
claim is noise at this budget, not a finding).

Usage (from the repository root, after building both books, each in its own checkout)::

    python scripts/compare_builds.py A/book/_build/executed/default/chapters B/book/_build/executed/default/chapters \
        [--labels "seeds 0-2" "seeds 3-5"]

Each folder holds executed chapters; the verdicts are the ``claim-<name>-result`` / ``-interval`` values the
trained-run chapters glue (``rtc.report.built_verdicts``). Prints one Markdown table per chapter (verdict and 90 %
interval of each build, and their agreement: same, one undecided, contradiction) and a count. Exit status 0 when
no claim contradicts, 1 otherwise, 2 when a folder has no executed chapter.
"""
from __future__ import annotations

import argparse
import sys

from rtc.claims import AGREEMENTS, compare_verdicts
from rtc.report import built_verdicts, markdown_table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("first", help="executed chapters of the first build (book/_build/executed/<profile>/chapters)")
    p.add_argument("second", help="executed chapters of the second build")
    p.add_argument("--labels", nargs=2, default=("A", "B"), metavar=("FIRST", "SECOND"),
                   help="column labels of the two builds (default: A B)")
    args = p.parse_args(argv)
    try:
        a, b = built_verdicts(args.first), built_verdicts(args.second)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    counts = dict.fromkeys((*AGREEMENTS, "missing"), 0)
    for chapter in list(a) + [c for c in b if c not in a]:
        table = compare_verdicts(a.get(chapter, {}), b.get(chapter, {}), labels=tuple(args.labels))
        print(f"## {chapter}\n\n{markdown_table(table)}\n")
        for k, n in table["agreement"].value_counts().items():
            counts[k] += int(n)
    print("claims: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 1 if counts["contradiction"] else 0


if __name__ == "__main__":
    sys.exit(main())
