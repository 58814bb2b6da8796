"""Fail on any import cycle among the modules of a package (``make lint``; the layers contract in pyproject.toml
catches upward imports between layers, this catches cycles inside one layer or one package, including imports
made inside functions).

    python scripts/import_cycles.py [package]      # default: rtc; exit 1 and print each cycle when there is one
"""
from __future__ import annotations

import sys

import grimp


def cycles(package: str = "rtc") -> list[list[str]]:
    """The strongly connected components of more than one module in ``package``'s graph of direct imports
    (Tarjan's algorithm), each sorted; [] when the graph is acyclic."""
    graph = grimp.build_graph(package, include_external_packages=False)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(root: str) -> None:  # iterative Tarjan: deep import chains must not hit the recursion limit
        work = [(root, 0)]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, i = work[-1]
            if i < len(edges[node]):
                work[-1] = (node, i + 1)
                nxt = edges[node][i]
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    return sorted(out)


def main(argv=None) -> int:
    package = (argv or sys.argv[1:] or ["rtc"])[0]
    found = cycles(package)
    for comp in found:
        print("import cycle: " + " ⇄ ".join(comp))
    print(f"{package}: {len(found)} import cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
