"""JSON's result as SymPy matrix expressions (matcalc.render.matrix_expr): its shortcuts give
what SymPy's own evaluation and printing give, character for character."""

from __future__ import annotations

import contextlib
import threading

import pytest
import sympy
from sympy import (
    DiagMatrix,
    HadamardProduct,
    Lambda,
    MatrixSymbol,
    OneMatrix,
    Q,
    Symbol,
    ZeroMatrix,
    assuming,
)
from sympy.core.cache import clear_cache
from sympy.printing.precedence import precedence

import matcalc
from matcalc.render import matrix_expr
from matcalc.render.matrix_expr import _diag_doit, _ones_doit, _str_precedence, result_str

n = Symbol("n", integer=True, positive=True)
x, w = MatrixSymbol("x", n, 1), MatrixSymbol("w", n, 1)
A = MatrixSymbol("A", n, n)
t = Symbol("t", real=True)

CASES = [
    "norm(((exp(x) + sqrt(x)) - tanh(sin(w))))",  # a composed element-wise function: a Dummy
    "(((x + x) * x) - (((A @ x) + b) - tanh(x)))",  # diag(…) of sums, A
    "(((x - w) - (b - (A @ x))))**2",  # diag(−2b·1 + 2Ax − …)
    "sum(((sigmoid(x) + exp(x)) * ((w - x) - ((A @ x) * x))))",
    "(b + ((b + (A @ x)) * ((A @ x) - b)))",
    "x * (A @ x)",
    "-2 * (A @ x) + sin(x)",
    "sum(sin(sin(x)) * x)",
]


def _plain(text: str) -> str:
    """result_str as SymPy alone makes it: no memo of doit, SymPy's own precedence."""
    saved = matrix_expr._doit_memo, matrix_expr._str_precedence
    matrix_expr._doit_memo = lambda expr: contextlib.nullcontext()  # type: ignore[assignment]
    matrix_expr._str_precedence = precedence
    try:
        clear_cache()
        return result_str(matcalc.derive(text, "x", vectors=["x", "w"], matrices=["A"]))
    finally:
        matrix_expr._doit_memo, matrix_expr._str_precedence = saved


@pytest.mark.parametrize("text", CASES)
def test_the_shortcuts_change_no_character(text) -> None:
    clear_cache()
    ours = result_str(matcalc.derive(text, "x", vectors=["x", "w"], matrices=["A"]))
    assert ours == _plain(text)
    assert "Dummy" not in ours and "MatrixSymbol" not in ours


VECTORS = [
    x,
    x.T,
    A * x,
    -2 * A * x,
    3 * x,
    x + w,
    HadamardProduct(x, w),
    x.applyfunc(Lambda(t, sympy.exp(t))),
    DiagMatrix(w) * x,
    A * x + Symbol("b", real=True) * OneMatrix(n, 1),
]


@pytest.mark.parametrize("v", VECTORS, ids=str)
def test_a_diag_is_evaluated_as_sympy_does(v) -> None:
    """_diag_doit is DiagMatrix.doit of the installed SymPy, without its question."""
    assert _diag_doit(DiagMatrix(v)) == DiagMatrix(v).doit()


def test_a_diag_that_might_be_diagonal_is_left_to_sympy() -> None:
    assert _diag_doit(DiagMatrix(ZeroMatrix(n, 1))) is None
    assert _diag_doit(DiagMatrix(A)) is None  # square
    with assuming(Q.diagonal(x)):  # an assumption in the global context: SymPy must decide
        assert _diag_doit(DiagMatrix(x)) is None


N = Symbol("N", integer=True, positive=True)


@pytest.mark.parametrize(
    "shape", [(n, 1), (1, n), (n, N), (n, n), (3, 1), (1, 3), (1, 1), (2 * n, 1)], ids=str
)
def test_ones_are_evaluated_as_sympy_does(shape) -> None:
    ours, theirs = _ones_doit(OneMatrix(*shape)), OneMatrix(*shape).doit()
    if shape in ((1, 1), (2 * n, 1)):
        assert ours is None  # left to SymPy (the 1×1 identity; a size it would have to ask)
    else:
        assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize(
    "product",
    [-2 * A * x, 2 * A * x, -A * x, sympy.Rational(-1, 2) * A * x, sympy.Rational(1, 2) * A, A * x],
    ids=str,
)
def test_the_precedence_of_a_product_is_sympys(product) -> None:
    assert _str_precedence(product) == precedence(product)


def test_the_memo_lives_for_one_call_in_one_thread() -> None:
    seen = []

    def other() -> None:
        seen.append(getattr(matrix_expr._ACTIVE, "memo", None))

    with matrix_expr._doit_memo(x):
        assert matrix_expr._ACTIVE.memo == {}
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == [None]
    assert matrix_expr._ACTIVE.memo is None
    with pytest.raises(ValueError), matrix_expr._doit_memo(x):
        raise ValueError
    assert matrix_expr._ACTIVE.memo is None
    with matrix_expr._doit_memo(sympy.Float(2.0) * x):  # Float(2.0) == 2: no memo
        assert getattr(matrix_expr._ACTIVE, "memo", None) is None


def test_every_matrix_class_keeps_its_own_doit() -> None:
    """The memo wraps doit where a class defines it (and MatrixExpr's, Basic's); each class
    still runs the doit it had."""
    from sympy.matrices.expressions.matexpr import MatrixExpr

    def original(cls):
        for k in cls.__mro__:
            f = vars(k).get("doit")
            if f is None or (k is MatrixExpr and f.__wrapped__ is sympy.Basic.doit):
                continue
            return getattr(f, "__wrapped__", f)

    classes, todo = set(), [MatrixExpr]
    while todo:
        cls = todo.pop()
        if cls not in classes:
            classes.add(cls)
            todo.extend(cls.__subclasses__())
    for cls in classes:
        assert getattr(cls.doit, "__wrapped__", cls.doit) is original(cls), cls


def test_a_composed_element_wise_function_has_no_dummy_name() -> None:
    """SymPy composes tanh.(sin.(w)) into w.applyfunc(Lambda(_d, tanh(sin(_d)))): JSON's
    result showed the Dummy's name _d; it is written t, and reads back as the same function."""
    d = matcalc.derive("sum(tanh(sin(w)))", "w", vectors=["w"])
    text = result_str(d)
    assert "_d" not in text and "Lambda(t, tanh(sin(t)))" in text, text
    names = {"w": w, "n": n, "t": t}
    back = sympy.parse_expr(text, local_dict=names)
    by_hand = HadamardProduct(
        OneMatrix(n, 1) - sympy.HadamardPower(w.applyfunc(Lambda(t, sympy.tanh(sympy.sin(t)))), 2),
        w.applyfunc(Lambda(t, sympy.cos(t))),
    ).T
    got, want = (sympy.Matrix(m.subs(n, 3).doit()) for m in (back, by_hand))
    assert got.shape == (1, 3) and got == want


def _components(name: str, rows: int, cols: int = 1) -> sympy.Matrix:
    if cols == 1:
        return sympy.Matrix([sympy.Symbol(f"{name}_{i + 1}", real=True) for i in range(rows)])
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


KRONECKER_CASES = [
    # y = s·A·Aᵀ·w: ∂(Wx)/∂vec(W) = I ⊗ₖ xᵀ gives I ⊗ₖ (s·Aᵀw)ᵀ, a scalar in a factor
    ("A @ (s * (A.T @ w))", lambda c: c["s"] * c["A"] * c["A"].T * c["w"]),
    # y = A·((Wx + b)/(1 + e^{Ax})): A·diag(-v) ⊗ₖ xᵀ, whose -1 appears when evaluated
    (
        "A @ ((W @ x + b) / (1 + exp(A @ x)))",
        lambda c: (
            c["A"]
            * (c["W"] * c["x"] + c["b"]).multiply_elementwise(
                (c["A"] * c["x"]).applyfunc(lambda t: 1 / (1 + sympy.exp(t)))
            )
        ),
    ),
]


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("text,written", KRONECKER_CASES)
def test_a_kronecker_factor_with_a_scalar_in_it_reads_back(text, written, layout: str) -> None:
    """Red team 4: JSON's result of A @ (s * (A.T @ w)) by A, I ⊗ₖ (s·Aᵀw)ᵀ + s·(wᵀ ⊗ₖ A),
    failed to render (SymPy's KroneckerProduct of a factor c·M raises AttributeError when it
    is evaluated): --format json ended in an internal error.  The scalar now stands in front;
    the result read back equals SymPy's Jacobian by A's entries, rows stacked (n = 3)."""
    declared = dict(vectors=["w", "x", "b"], matrices=["A", "W"])
    d = matcalc.derive(text, "A", layout=layout, **declared)
    result = d.to_dict()["result"]
    n = sympy.Symbol("n", integer=True, positive=True)
    local: dict = {v: sympy.MatrixSymbol(v, n, 1) for v in ("w", "x", "b")}
    local.update({m: sympy.MatrixSymbol(m, n, n) for m in ("A", "W")})
    local.update(n=n, s=sympy.Symbol("s", real=True))
    parsed = sympy.parse_expr(result, local_dict=local)  # test-only: our own output
    comps = {v: _components(v, 3) for v in ("w", "x", "b")}
    comps.update({m: _components(m, 3, 3) for m in ("A", "W")}, s=local["s"])
    subs = {sympy.MatrixSymbol(v, 3, 1): comps[v] for v in ("w", "x", "b")}
    subs.update({sympy.MatrixSymbol(m, 3, 3): comps[m] for m in ("A", "W")})
    ours = sympy.Matrix(parsed.subs(n, 3).subs(subs).doit().as_explicit())
    jacobian = written(comps).jacobian(list(comps["A"]))  # A's entries, rows stacked
    expected = jacobian if layout == "numerator" else jacobian.T
    symbols = sorted(ours.free_symbols | expected.free_symbols, key=str)
    point = {e: sympy.Rational(k % 5 + 1, 3) * (-1) ** k for k, e in enumerate(symbols)}
    assert ours.shape == expected.shape
    difference = (ours - expected).subs(point).evalf()
    assert all(abs(v) < 1e-12 for v in difference), difference


def test_sympys_matrix_classes_are_left_as_they_were():
    """The JSON result's conversion memoises SymPy's matrix ``doit`` while it runs; it must
    not leave SymPy changed for the program around it (a notebook, a web service)."""
    from sympy.matrices.expressions import DiagMatrix, MatAdd, MatMul, MatrixExpr, OneMatrix

    def state():
        return (
            vars(MatAdd)["doit"],
            vars(MatMul)["doit"],
            vars(DiagMatrix).get("doit"),
            "doit" in vars(MatrixExpr),
            vars(OneMatrix)["is_Identity"],
        )

    before = state()
    d = matcalc.derive("sum(relu(A@x + b))", "x", vectors=["x"], matrices=["A"])
    assert "Heaviside" in d.to_json()
    assert state() == before
