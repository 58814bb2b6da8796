"""Claim by claim, the verdicts of two builds of the book — e.g. the `default` grid with seeds 0–2 and the same
grid with seeds 3–5 — and whether any claim is confirmed in one and refuted in the other (a contradiction: that
claim is noise at this budget, not a finding), at the end of training and at half training apart.

Usage (from the repository root, after building both books, each in its own checkout)::

    python scripts/compare_builds.py A/book/_build/executed/default/chapters B/book/_build/executed/default/chapters \
        [--labels "seeds 0-2" "seeds 3-5"]

Each folder holds executed chapters; the verdicts are the values the trained-run chapters glue
(``rtc.report.built_verdicts``): ``claim-<name>-result`` (the verdict the book prints), ``-interval`` (its 90 %
interval), and the two verdicts ``-result`` combines, ``-end`` (at the end of training) and ``-half`` (at half
training, "not computed" without snapshots). The combined verdict is "not converged" where the end and half
verdicts are confirmed and refuted, so two builds both "not converged" can still contradict each other at the
end of training (or at half training): the end and half verdicts are compared on their own.

Prints one Markdown table per chapter — each build's verdict and interval and their agreement (same, one
undecided, contradiction; missing where a build lacks the claim), then each build's end verdict and the end
agreement, each build's half verdict and the half agreement (missing where a build predates the ``-end`` /
``-half`` keys: shown "not glued", never guessed) — and a count for each of the three agreements. Exit status 0
when no claim contradicts, 1 when one does in the verdict, at the end or at half training, 2 when a folder has no
executed chapter.
"""
from __future__ import annotations

import argparse
import sys

from rtc.claims import AGREEMENTS, NOT_COMPUTED, compare_verdicts
from rtc.report import built_verdicts, markdown_table

# The agreement columns of rtc.claims.compare_verdicts, as the count line names them.
COLUMNS = {"agreement": "claims", "end agreement": "end of training", "half agreement": "half training"}


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
    counts = {c: dict.fromkeys((*AGREEMENTS, "missing") + ((NOT_COMPUTED,) if c != "agreement" else ()), 0)
              for c in COLUMNS}
    for chapter in list(a) + [c for c in b if c not in a]:
        table = compare_verdicts(a.get(chapter, {}), b.get(chapter, {}), labels=tuple(args.labels))
        print(f"## {chapter}\n\n{markdown_table(table)}\n")
        for column, count in counts.items():
            for k, n in table[column].value_counts().items():
                count[k] += int(n)
    for column, name in COLUMNS.items():
        print(f"{name}: " + ", ".join(f"{n} {k}" for k, n in counts[column].items()))
    return 1 if any(count["contradiction"] for count in counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
