"""Hashes of the library's own source code, for the caches that must notice a code change.

One definition serves the training cache (:func:`rtc.models.train.code_version`), the evaluation cache
(:func:`rtc.experiments.results.eval_code_version`) and the book runner's chapter cache: a file's digest is the sha256
of
its parsed-and-unparsed code with docstrings dropped, so comments, docstrings and layout do not invalidate a cache
while any change to the code does.
"""
from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

__all__ = ["code_digest", "files_digest"]


@cache
def code_digest(path: str) -> str:
    """sha256 of a Python file's code: parsed and unparsed, with docstrings dropped (and so comments and layout)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            if is_doc and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.unparse(tree).encode()).hexdigest()


def files_digest(paths) -> str:
    """sha256 over the code digests of ``paths`` (sorted: independent of the order and of where the files are)."""
    return hashlib.sha256("".join(sorted(code_digest(str(p)) for p in paths)).encode()).hexdigest()
