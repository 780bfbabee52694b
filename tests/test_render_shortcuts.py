"""Shortcuts of the vector renderings (matcalc.render.matrix_expr, vector_notation): each
answer is the one SymPy's own machinery gives, and nothing outlives SymPy's cache."""

from __future__ import annotations

import pytest
from sympy import MatrixSymbol, OneMatrix, Symbol, sin
from sympy.core.cache import clear_cache

from matcalc.linalg.declarations import MatrixName
from matcalc.linalg.operations import MatVec, VSum
from matcalc.render import matrix_expr, vector_notation
from matcalc.render.matrix_expr import _ones_is_identity
from matcalc.symbols import VectorName

n = Symbol("n", integer=True, positive=True)
N = Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize(
    "shape", [(n, 1), (1, n), (n, N), (n, n), (3, 1), (1, 3), (1, 1), (2 * n, 1)], ids=str
)
def test_ones_are_identities_only_as_sympy_says(shape) -> None:
    ours = _ones_is_identity(OneMatrix(*shape))
    theirs = matrix_expr._sympy_ones_is_identity(OneMatrix(*shape))
    if shape == (2 * n, 1):
        assert ours is None  # left to SymPy (a size it would have to ask about)
    else:
        assert ours is theirs


def test_sympys_answer_outside_a_conversion() -> None:
    """Outside result_str the property is SymPy's own, for any size."""
    assert OneMatrix(1, 1).is_Identity is True
    assert OneMatrix(n, 1).is_Identity is False
    assert not MatrixSymbol("A", n, n).is_Identity


def test_vector_answers_are_forgotten_with_sympys_cache() -> None:
    x = VectorName("x")
    y = Symbol("y", real=True)
    A = MatrixName("A")
    assert vector_notation.is_vector_expr(sin(x) + y)
    assert not vector_notation.is_vector_expr(VSum(x) * y)
    assert vector_notation.is_vector_expr(MatVec(A, x)) is True
    assert vector_notation._VECTOR
    clear_cache()
    assert not vector_notation._VECTOR


def _terms_and_factors():
    from sympy import Eq, Integral, Mod, Piecewise, Product, Rational, Sum, exp, log, sqrt

    a, b, k = Symbol("a", real=True), Symbol("b", real=True), Symbol("k", integer=True)
    x = VectorName("x")
    return [
        a,
        -a,
        2 * a,
        -2 * a * b,
        a + b,
        a - b,
        a**2,
        1 / a,
        sqrt(a),
        Rational(-1, 2),
        exp(a) * sin(b),
        log(a + b),
        Eq(a, b),
        Piecewise((a, a > 0), (b, True)),
        Mod(a, 3) * b,
        sin(Mod(a, 3)),
        Integral(a, b),
        a * Integral(a, b),
        Sum(a**k, (k, 0, 3)),
        Product(a + k, (k, 1, 3)),
        sin(x) * a,
        VSum(x) + a,
    ]


@pytest.mark.parametrize("expr", _terms_and_factors(), ids=str)
def test_brackets_are_sympys(expr) -> None:
    """LatexVectors' answers (without SymPy's search for Mod, Integral, Product or Sum
    where there is none) are SymPy's LatexPrinter's, for every position in a product."""
    from sympy.printing.latex import LatexPrinter

    from matcalc.render.printing import MathLatexPrinter

    ours, theirs = MathLatexPrinter(), LatexPrinter()
    for first in (False, True):
        for last in (False, True):
            assert ours._needs_mul_brackets(expr, first=first, last=last) == (
                theirs._needs_mul_brackets(expr, first=first, last=last)
            )
    assert ours._needs_add_brackets(expr) == theirs._needs_add_brackets(expr)
    clear_cache()
    assert not vector_notation._BRACKETED
