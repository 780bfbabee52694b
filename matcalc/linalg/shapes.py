"""Shapes of expressions, and evaluation that keeps vectors vectors.

``shape_of`` asks each operation class for its shape (its ``_shape``, see ``base``); a
node without one is element-wise: the shape of its non-scalar arguments, which must agree.
"""

from __future__ import annotations

from functools import partial

import sympy
from sympy import Add, Expr, MatrixBase, Mul

from matcalc.errors import MathError, ShapeError
from matcalc.functions import decide_gate
from matcalc.linalg.base import OPERATOR_SHAPE, SCALAR, _Op
from matcalc.linalg.declarations import MatrixName, Shapes
from matcalc.linalg.jacobians import OPERATORS, Ones
from matcalc.linalg.operations import Inv
from matcalc.msg import Msg
from matcalc.symbols import VectorName


def shape_of(expr: Expr, shapes: Shapes) -> tuple[Expr, Expr]:
    """(rows, cols) of ``expr``; (1, 1) for a scalar.  Raises ShapeError."""
    if isinstance(expr, MatrixBase):
        return expr.shape
    if expr in shapes:
        d = shapes[expr]
        return (d.rows, d.cols)
    declared = getattr(type(expr), "_shape", None)
    if declared is not None:
        return declared(partial(shape_of, shapes=shapes), *expr.args)
    if isinstance(expr, (Add, Mul)) and any(isinstance(a, OPERATORS) for a in _factors_of(expr)):
        return OPERATOR_SHAPE
    # element-wise: the shape of its non-scalar arguments (they must agree)
    found = SCALAR
    for arg in expr.args:
        shape = shape_of(arg, shapes)
        if shape == SCALAR:
            continue
        if found != SCALAR and shape != found:
            raise ShapeError(Msg("err.decl.elementwise", a=_fmt(found), b=_fmt(shape)))
        found = shape
    return found


def _factors_of(expr: Expr):
    """The terms of a sum and factors of a product, nested sums and products opened."""
    for a in expr.args:
        if isinstance(a, (Add, Mul)):
            yield from _factors_of(a)
        else:
            yield a


def _fmt(shape) -> str:
    return "{}×{}".format(*shape)


def is_scalar(expr: Expr, shapes: Shapes) -> bool:
    return shape_of(expr, shapes) == SCALAR


def vector_valued(expr: Expr) -> bool:
    """True for a column vector, even one of length 1 (whose shape is that of a scalar):
    a declared vector, X v, or an element-wise function of one."""
    from matcalc.linalg.operations import MatVec

    if isinstance(expr, (VectorName, MatVec)):
        return True
    if isinstance(expr, (_Op, MatrixName)) or not isinstance(expr, sympy.Basic):
        return False
    return any(vector_valued(a) for a in expr.args)


def has_vectors(expr: Expr) -> bool:
    return any(isinstance(s, (VectorName, MatrixName)) for s in expr.free_symbols)


# --- evaluation that keeps vectors vectors ------------------------------------------


def evaluate_shaped(expr, shapes: Shapes):
    """Evaluate an unevaluated tree; a vector that cancels to a constant c becomes c·1.

    Vectors are commutative symbols, so SymPy evaluates w/w and √u ⊗ (1/√u) to 1 and w - w
    to 0: a vector read as a scalar (sum(w/w) would be 1, not n).  Where a vector is
    required (an argument of sum, norm, @, ᵀ, diag, … and the whole expression) a nonzero
    constant is written c·Ones(n) again; inside element-wise arithmetic the scalar c is
    right as it is (scalar expansion), and 0 stays 0, the zero of any shape.
    """
    return keep_vector(_evaluate_keeping(expr, shapes), expr, shapes)


def _evaluate_keeping(expr, shapes: Shapes):
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: evaluate_shaped(e, shapes))
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = [_evaluate_keeping(a, shapes) for a in expr.args]
    if isinstance(expr, Inv) and args[0] == 0:  # inv(X - X)
        raise MathError(Msg("err.inverse_zero"))
    if isinstance(expr, _Op):
        args = [keep_vector(v, a, shapes) for v, a in zip(args, expr.args, strict=True)]
    return decide_gate(expr.func(*args))


def keep_vector(value, original, shapes: Shapes):
    """``value`` (what ``original`` evaluated to) as s·Ones(n) if a vector collapsed to a
    scalar s: a constant (w/w is 1) or not (max(0, (x/x)·(w·a)) is max(0, w·a))."""
    if value == 0 or value.has(Ones) or not has_vectors(original):
        return value
    if has_vectors(value) and shape_of(value, shapes) != SCALAR:  # still a vector: the usual case
        return value
    rows, cols = shape_of(original, shapes)
    return value * Ones(rows) if cols == 1 and rows != 1 else value
