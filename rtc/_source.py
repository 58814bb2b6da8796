"""Hashes of the library's own source code, for the caches that must notice a code change.

One definition serves the training cache (:func:`rtc.models.train.code_version`), the evaluation cache
(:func:`rtc.experiments.store.eval_code_version`) and the book runner's chapter cache.

A set of files is hashed as the *multiset of its top-level statements*, each parsed and unparsed with docstrings
dropped, so comments, docstrings and layout do not invalidate a cache while any change to the code does, and
neither does moving a definition from one file of the set to another (splitting a module is not a code change).
What binds names does not count as a statement: imports from inside ``rtc`` (the definitions they bind are
hashed where they live) and ``__all__``. Imports from outside ``rtc`` count, as the set of bound names
(``numpy as np``), so rebinding a third-party name changes the digest.
"""
from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

__all__ = ["code_digest", "files_digest", "statements"]


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            if is_doc and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]


def _bindings(node: ast.Import | ast.ImportFrom) -> list[str]:
    """``module.name as alias`` per name an import binds, or [] for an import from inside ``rtc``."""
    if isinstance(node, ast.ImportFrom):
        if node.level or (node.module or "").split(".")[0] == "rtc":
            return []
        return [f"from {node.module} import {a.name} as {a.asname or a.name}" for a in node.names]
    return [f"import {a.name} as {a.asname or a.name}" for a in node.names if a.name.split(".")[0] != "rtc"]


def _is_export_list(node: ast.stmt) -> bool:
    targets = (node.targets if isinstance(node, ast.Assign)
               else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


@cache
def statements(path: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """(top-level statements, third-party import bindings) of a Python file: each statement unparsed with its
    docstrings dropped, sorted; imports and ``__all__`` apart (see the module's docstring)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    _strip_docstrings(tree)
    stmts, binds = [], set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update(_bindings(node))
        elif not _is_export_list(node) and not isinstance(node, ast.Pass):
            stmts.append(ast.unparse(node))
    return tuple(sorted(stmts)), frozenset(binds)


def files_digest(paths) -> str:
    """sha256 of the code of ``paths``: the sorted multiset of their top-level statements and the set of their
    third-party import bindings (independent of the order of the files, of where a definition lives among them,
    and of comments, docstrings and layout)."""
    stmts, binds = [], set()
    for p in {str(p) for p in paths}:
        s, b = statements(p)
        stmts.extend(s)
        binds |= b
    blob = "\n\0".join(sorted(stmts)) + "\n\1" + "\n".join(sorted(binds))
    return hashlib.sha256(blob.encode()).hexdigest()


def code_digest(path: str) -> str:
    """sha256 of one Python file's code (:func:`files_digest` of that file alone)."""
    return files_digest([path])
