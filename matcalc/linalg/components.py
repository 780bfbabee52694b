"""Explicit components: every vector and matrix written out, named as the paper names them.

``components(shapes, dims)`` gives each declared name as a matrix of Symbols (w_1 …,
X_11 …; a symmetric matrix's s_ij and s_ji are one Symbol), and ``explicit(expr, shapes,
dims)`` expands an expression into a ``sympy.Matrix`` (or a scalar).  Each operation writes
out its own components (its ``_components``, see ``base``); sums, products and every other
function act entry by entry, a scalar beside a vector being expanded to it.
"""

from __future__ import annotations

from functools import partial

import sympy
from sympy import ImmutableMatrix, MatrixBase, Symbol

from matcalc.linalg.declarations import Shapes


def components(shapes: Shapes, dims: dict[Symbol, int]) -> dict[Symbol, ImmutableMatrix]:
    """Each declared name as a matrix of Symbols w_1 … or X_11 … at concrete sizes."""
    out = {}
    for symbol, d in shapes.items():
        rows, cols = size(d.rows, dims), size(d.cols, dims)
        if d.is_vector:
            entries = [[Symbol(f"{symbol.name}_{i}", real=True)] for i in range(1, rows + 1)]
        elif d.symmetric:  # s_ji is s_ij: one variable
            entries = [
                [
                    Symbol(f"{symbol.name}_{min(i, j)}{max(i, j)}", real=True)
                    for j in range(1, cols + 1)
                ]
                for i in range(1, rows + 1)
            ]
        else:
            entries = [
                [Symbol(f"{symbol.name}_{i}{j}", real=True) for j in range(1, cols + 1)]
                for i in range(1, rows + 1)
            ]
        out[symbol] = ImmutableMatrix(entries)
    return out


def size(s, dims: dict[Symbol, int]) -> int:
    """A size (n, 2·n, 3) at ``dims``: ``int(s.subs(dims))``, by plain replacement (subs
    costs some 50 µs a call, a fair part of a small check)."""
    return int(s.xreplace(dims)) if isinstance(s, sympy.Basic) else int(s)


def explicit(expr, shapes: Shapes, dims: dict[Symbol, int], comps: dict | None = None):
    """``expr`` with every vector and matrix written out in components (``comps``: those of
    ``components(shapes, dims)``, if at hand)."""
    return _Explicit(components(shapes, dims) if comps is None else comps, dims).run(expr)


class _Explicit:
    """Writes out an expression given the components of its names (``values``)."""

    def __init__(self, values: dict, dims: dict):
        self.values = values
        self.dims = dims

    def run(self, expr):
        if isinstance(expr, MatrixBase):
            return ImmutableMatrix([[self.run(e) for e in expr.row(i)] for i in range(expr.rows)])
        if expr in self.values:
            return self.values[expr]
        if not expr.args:
            return expr.subs(self.dims) if expr.free_symbols & set(self.dims) else expr
        args = [self.run(a) for a in expr.args]
        own = getattr(type(expr), "_components", None)
        if own is not None:
            return own(*args)
        if isinstance(expr, sympy.Add):
            return _broadcast_fold(args, lambda a, b: a + b)
        if isinstance(expr, sympy.Mul):
            return _broadcast_fold(args, _times)
        return _elementwise(expr.func, args)


def _unwrap(a, other):
    """A 1×1 matrix (a vector of length 1, X v with X 1×n) as its entry, beside a larger one."""
    if (
        isinstance(a, MatrixBase)
        and a.shape == (1, 1)
        and isinstance(other, MatrixBase)
        and other.shape != (1, 1)
    ):
        return a[0, 0]
    return a


def _times(a, b):
    a, b = _unwrap(a, b), _unwrap(b, a)
    if isinstance(a, MatrixBase) and isinstance(b, MatrixBase):
        return ImmutableMatrix(a.multiply_elementwise(b))
    return a * b


def _broadcast_fold(args, op):
    out = args[0]
    for arg in args[1:]:
        a, b = out, arg
        if isinstance(a, MatrixBase) and not isinstance(b, MatrixBase):
            b = ImmutableMatrix.ones(*a.shape) * b if op is not _times else b
        elif isinstance(b, MatrixBase) and not isinstance(a, MatrixBase):
            a = ImmutableMatrix.ones(*b.shape) * a if op is not _times else a
        out = op(a, b)
    return out


def _elementwise(func, args):
    if func in (sympy.Max, sympy.Min):  # their evaluation compares arguments: slow, and not needed
        func = partial(func, evaluate=False)
    shape = next((a.shape for a in args if isinstance(a, MatrixBase)), None)
    if shape is None:
        return func(*args)
    rows, cols = shape
    return ImmutableMatrix(
        rows,
        cols,
        lambda i, j: func(*(a[i, j] if isinstance(a, MatrixBase) else a for a in args)),
    )
