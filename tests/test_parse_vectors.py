"""Tests for matcalc.parse with declared vectors and matrices: numpy-style @ and .T,
element-wise operators and functions, vector functions, one-line shape errors with
columns, the hostile corpus and property-based fuzzing in vector mode."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Add, Integer, Max, Mul, Pow, Rational

from matcalc.errors import LimitError, MatcalcError, ParseError, ShapeError, UnsupportedError
from matcalc.functions import sigmoid
from matcalc.limits import Limits
from matcalc.linalg import (
    SCALAR,
    Diag,
    Ident,
    MatProd,
    MatrixName,
    MatT,
    MatVec,
    MMul,
    MTrace,
    Norm,
    T,
    VDot,
    VSum,
    declare,
    shape_of,
)
from matcalc.parse import FUNCTIONS, VECTOR_FUNCTIONS, parse
from matcalc.parse.visitor import Parser
from matcalc.symbols import VectorName

SHAPES = declare(["w", "x", "a", "y:N"], ["X:N,n", "A"])
BY_NAME = {s.name: s for s in SHAPES}
w, x, a, y = (BY_NAME[k] for k in "wxay")
X, A = BY_NAME["X"], BY_NAME["A"]
b, z = sympy.symbols("b z", real=True)  # undeclared: real scalars
n_size = sympy.Symbol("n", integer=True, positive=True)  # declared sizes: scalars too
N_size = sympy.Symbol("N", integer=True, positive=True)
VEC_n, VEC_N = (n_size, Integer(1)), (N_size, Integer(1))
HOSTILE_FILE = Path(__file__).parent / "data" / "hostile.txt"


def U(cls, *args: object) -> sympy.Expr:
    """An unevaluated SymPy node."""
    return cls(*args, evaluate=False)


def neg(e: sympy.Expr) -> sympy.Expr:
    return U(Mul, -1, e)


def inv(e: sympy.Expr) -> sympy.Expr:
    return U(Pow, e, -1)


def vparse(text: str, **kwargs: object) -> sympy.Expr:
    return parse(text, shapes=SHAPES, **kwargs)


@contextmanager
def shapes_checked() -> Iterator[None]:
    """Check every shape the parser records (read from its operands' recorded shapes)
    against linalg.shape_of of the whole node from the declarations, node by node."""
    record = Parser.shaped

    def checked(self: Parser, expr: sympy.Expr) -> sympy.Expr:
        result = record(self, expr)
        assert shape_of(expr, SHAPES) == self.shape(expr), (expr, self.shape(expr))
        return result

    with mock.patch.object(Parser, "shaped", checked):
        yield


def test_declared_names_resolve_to_declared_symbols() -> None:
    assert isinstance(vparse("x"), VectorName) and vparse("x").name == "x"
    assert isinstance(vparse("X"), MatrixName) and vparse("X").name == "X"
    assert vparse("x") is x and vparse("A") is A
    assert vparse("z") == z and type(vparse("z")) is sympy.Symbol  # undeclared: scalar


def test_size_names_are_the_size_symbols() -> None:
    assert vparse("N") is N_size and vparse("n") is n_size  # sum(...) / N: the sample count
    assert vparse("sum(x) / n") == U(Mul, VSum(x), inv(n_size))
    assert shape_of(vparse("n * x"), SHAPES) == VEC_n
    assert parse("N") == sympy.Symbol("N", real=True)  # without shapes: an ordinary scalar
    shapes = declare(["n", "x"])  # a declared name wins over a size of the same name
    assert isinstance(parse("n", shapes=shapes), VectorName)


# -- structure and shape ----------------------------------------------------------------
EXP_X = U(sympy.exp, x)
STRUCTURE = [
    # the paper's neuron and loss
    ("max(0, w @ x + b)", U(Max, 0, U(Add, VDot(w, x), b)), SCALAR),
    ("max(0, dot(w, x) + b)", U(Max, 0, U(Add, VDot(w, x), b)), SCALAR),
    (
        "sum((y - max(0, X @ w + b))**2) / N",
        U(Mul, VSum(U(Pow, U(Add, y, neg(U(Max, 0, U(Add, MatVec(X, w), b)))), 2)), inv(N_size)),
        SCALAR,
    ),
    # @ and .T
    ("x.T @ A @ x", VDot(x, MatVec(A, x)), SCALAR),
    ("a.T @ x", VDot(a, x), SCALAR),
    ("x.T @ a", VDot(x, a), SCALAR),
    ("w @ x", VDot(w, x), SCALAR),
    ("A @ x", MatVec(A, x), VEC_n),
    ("X @ w", MatVec(X, w), VEC_N),
    ("y.T @ X @ w", VDot(y, MatVec(X, w)), SCALAR),
    ("a.T @ X.T @ y", VDot(a, MatVec(MatT(X), y)), SCALAR),
    ("(x.T @ A).T", MatVec(MatT(A), x), VEC_n),
    ("x.T.T", x, VEC_n),
    # a row with numbers and other rows is a row (the gradient as a student writes it in
    # numerator layout), its parts as columns inside: (2x)ᵀ, (x/‖x‖)ᵀ, (Aᵀx + Ax)ᵀ
    ("(2 * x.T).T", U(Mul, 2, x), VEC_n),
    ("(x.T / z).T", U(Mul, x, U(Pow, z, -1)), VEC_n),
    ("(-x.T).T", neg(x), VEC_n),
    ("(x.T @ A + x.T).T", U(Add, MatVec(MatT(A), x), x), VEC_n),
    ("2 * x.T @ a", VDot(U(Mul, 2, x), a), SCALAR),
    ("y @ X", MatVec(MatT(X), y), VEC_n),  # numpy: a vector on the left is a row
    ("X.T @ y", MatVec(MatT(X), y), VEC_n),
    ("A @ X.T", MMul(A, MatT(X)), (n_size, N_size)),
    ("X @ A @ x", MatVec(MMul(X, A), x), VEC_N),
    ("A.T", MatT(A), (n_size, n_size)),
    ("x.T @ A.T @ A @ x", VDot(x, MatVec(MatT(A), MatVec(A, x))), SCALAR),
    # element-wise operators and scalar expansion
    ("w * x", U(Mul, w, x), VEC_n),
    ("x + z", U(Add, x, z), VEC_n),
    ("x * z", U(Mul, x, z), VEC_n),
    ("z - x", U(Add, z, neg(x)), VEC_n),
    ("x / w", U(Mul, x, inv(w)), VEC_n),
    ("x / 2", U(Mul, x, inv(Integer(2))), VEC_n),
    ("1/x", inv(x), VEC_n),
    ("-x", neg(x), VEC_n),
    ("x**2", U(Pow, x, 2), VEC_n),
    ("e**x", EXP_X, VEC_n),
    ("2*A + A", U(Add, U(Mul, 2, A), A), (n_size, n_size)),
    ("A / 2", U(Mul, A, inv(Integer(2))), (n_size, n_size)),
    ("(x - a)/norm(x - a)", U(Mul, U(Add, x, neg(a)), inv(Norm(U(Add, x, neg(a))))), VEC_n),
    # functions
    ("norm(x - a)**2", U(Pow, Norm(U(Add, x, neg(a))), 2), SCALAR),
    ("sum(x)", VSum(x), SCALAR),
    ("sigmoid(x)", U(sigmoid, x), VEC_n),
    ("sin(x) + exp(w)", U(Add, U(sympy.sin, x), U(sympy.exp, w)), VEC_n),
    ("sqrt(x)", U(Pow, x, Rational(1, 2)), VEC_n),
    ("max(0, x)", U(Max, 0, x), VEC_n),
    ("softmax(x)", U(Mul, EXP_X, inv(VSum(EXP_X))), VEC_n),
    ("logsumexp(x)", U(sympy.log, VSum(EXP_X)), SCALAR),
    ("trace(A)", MTrace(A), SCALAR),
    ("trace(X.T @ X)", MTrace(MMul(MatT(X), X)), SCALAR),
    (
        "softmax(softmax(x))",
        U(
            Mul,
            U(sympy.exp, U(Mul, EXP_X, inv(VSum(EXP_X)))),
            inv(VSum(U(sympy.exp, U(Mul, EXP_X, inv(VSum(EXP_X)))))),
        ),
        VEC_n,
    ),
    (
        "sum(softmax(x)) + norm(exp(x))",
        U(Add, VSum(U(Mul, EXP_X, inv(VSum(EXP_X)))), Norm(EXP_X)),
        SCALAR,
    ),
    ("f(w @ x)", sympy.Function("f", real=True)(VDot(w, x)), SCALAR),
]


@pytest.mark.parametrize(("text", "expected", "shape"), STRUCTURE, ids=[t for t, *_ in STRUCTURE])
def test_structure_and_shape(text: str, expected: sympy.Expr, shape: tuple) -> None:
    with shapes_checked():
        got = vparse(text)
    # ==, not `is`: f is a class SymPy makes on demand; once its cache has evicted it (a
    # long fuzz run), Function('f') is a new but equal class
    assert type(got) == type(expected)  # noqa: E721
    assert got == expected
    assert sympy.srepr(got) == sympy.srepr(expected)
    assert shape_of(got, SHAPES) == shape


def test_operands_keep_typed_order() -> None:
    assert vparse("x + z").args == (x, z)
    assert vparse("z * w * x").args == (z, w, x)


def test_scalar_mode_is_unchanged() -> None:
    for text in ["x + y", "sin(x)*2", "max(0, x)", "x/y"]:
        assert parse(text, shapes={}) == parse(text) == parse(text, shapes=None)
    for text in ["sum(x)", "norm(x)"]:  # not an unknown function named sum (issue 9)
        with pytest.raises(UnsupportedError, match="needs a declared vector"):
            parse(text)
    for shapes in (None, {}):
        with pytest.raises(ShapeError, match="x is a scalar; only declared vectors and matrices"):
            parse("x.T", shapes=shapes)  # (was "attribute access is not allowed")
        with pytest.raises(ShapeError, match="x is a scalar; only declared vectors and matrices"):
            parse("xᵀ", shapes=shapes)
        with pytest.raises(ParseError, match="attribute access is not allowed"):
            parse("x.y", shapes=shapes)
        with pytest.raises(UnsupportedError, match="the @ operator needs declared vectors"):
            parse("x @ y", shapes=shapes)


def test_vector_functions_exist_only_with_shapes() -> None:
    assert set(VECTOR_FUNCTIONS) == {
        "dot",
        "sum",
        "mean",
        "norm",
        "trace",
        "softmax",
        "logsumexp",
        "inv",
        "det",
        "logdet",
        "matrix_power",
    }
    assert not set(VECTOR_FUNCTIONS) & set(FUNCTIONS)


def test_every_element_wise_function_takes_a_vector() -> None:
    for name, fn in FUNCTIONS.items():
        if name in ("factorial", "atan2", "arctan2"):  # atan2: scalars only
            continue
        args = "x, 2" if name == "pow" else ", ".join(["x"] * fn.min_args)
        got = vparse(f"{name}({args})")
        assert shape_of(got, SHAPES) == VEC_n, name


# -- errors: one line, the operator, both shapes, the column ------------------------------
ERRORS = [
    ("w @ X", ShapeError, "w @ X: length n does not match N rows", 3),
    ("w @ y", ShapeError, "w @ y: lengths n and N differ", 3),
    ("x.T @ X", ShapeError, "x.T @ X: length n does not match N rows", 5),
    ("A @ X", ShapeError, "A @ X: n columns do not match N rows", 3),
    ("X @ y", ShapeError, "X @ y: n columns do not match length N", 3),
    ("x @ 2", ShapeError, "@ needs vectors or matrices; use * with a scalar", 3),
    ("z @ A", ShapeError, "@ needs vectors or matrices; use * with a scalar", 3),
    ("z @ 2", UnsupportedError, "the @ operator needs declared vectors", 3),
    ("w + y", ShapeError, "w + y: lengths n and N differ", 3),
    ("x - a - y", ShapeError, "x - a - y: lengths n and N differ", 7),
    ("x + A", ShapeError, "x + A: cannot add a vector of length n and a matrix of size n×n", 3),
    ("A + X", ShapeError, "A + X: shapes n×n and N×n differ", 3),
    ("A + 1", ShapeError, "cannot add a matrix of size n×n and a scalar", 3),
    ("(x + a + w + a + x + a) + y", ShapeError, "left + y: lengths n and N differ", 25),
    (
        "x * x.T",
        ShapeError,
        "x.T is a row (a transposed vector): it can only be used on the left of @, or with "
        "numbers and other rows",
        6,
    ),
    ("x.T + x", ShapeError, "x.T is a row (a transposed vector)", 2),
    ("A + x.T @ A", ShapeError, "x.T @ A is a row (a transposed vector)", 6),
    ("x.T * A", ShapeError, "can only be used on the left of @", 2),
    ("sin(x.T)", ShapeError, "can only be used on the left of @", 6),
    ("A @ x.T", ShapeError, "can only be used on the left of @", 6),
    ("x + (x + a + w + a + x + a).T", ShapeError, "a transposed vector can only be used", 28),
    (
        "z.T",
        ShapeError,
        "z.T: z is a scalar; only declared vectors and matrices can be transposed",
        2,
    ),
    ("x.real", ParseError, "attribute access is not allowed", 1),
    ("x.T.real", ParseError, "attribute access is not allowed", 1),
    ("A.T(x)", ParseError, "missing '@' between a transpose and what it multiplies", 4),
    (
        "X * X",
        UnsupportedError,
        "X * X: element-wise products of matrices are not supported; use @ for the matrix product",
        3,
    ),
    ("x * A", ShapeError, "use @ for the matrix product", 3),
    ("w * y", ShapeError, "w * y: lengths n and N differ", 3),
    (
        "x / A",
        UnsupportedError,
        "x / A: division by a matrix is not supported; multiply by its inverse",
        3,
    ),
    ("2 / A", UnsupportedError, "division by a matrix is not supported", 3),
    ("A ** 2", UnsupportedError, "A ** 2: ** of a matrix is not supported except X**-1", 3),
    ("A^2", UnsupportedError, "write matrix_power", 2),
    ("x ** y", ShapeError, "x ** y: lengths n and N differ", 3),
    ("sum(z)", ShapeError, "sum(z): sum needs a vector; z is a scalar", 1),
    ("2 * norm(3)", ShapeError, "norm(3): norm needs a vector; 3 is a scalar", 5),
    ("softmax(z)", ShapeError, "softmax needs a vector", 1),
    ("logsumexp(w @ x)", ShapeError, "logsumexp needs a vector; w @ x is a scalar", 1),
    ("softmax(A)", UnsupportedError, "softmax(A): softmax of a matrix is not supported", 1),
    ("trace(X)", ShapeError, "trace(X): X is N×n, not square", 1),
    ("trace(x)", ShapeError, "trace needs a square matrix; x is a vector of length n", 1),
    ("dot(x, y)", ShapeError, "dot(x, y): lengths n and N differ", 1),
    ("dot(x, A)", ShapeError, "dot needs two vectors; A is a matrix of size n×n", 1),
    ("dot(x)", ParseError, "dot takes 2 arguments, got 1", 1),
    ("max(x, y)", ShapeError, "max(x, y): lengths n and N differ", 1),
    ("sin(A)", UnsupportedError, "sin(A): element-wise sin of a matrix is not supported", 1),
    ("f(x)", UnsupportedError, "unknown function f of a vector", 1),
    ("1 + g(z, A)", UnsupportedError, "unknown function g of a matrix", 5),
    ("x(2)", ParseError, "x is a vector, not a function", 1),
    ("sum + 1", ParseError, "sum is a function; write sum(...)", 1),
    # columns in the typed text; · is the dot or matrix product (as matcalc prints x·y),
    # ⊗ element-wise (the paper's), each shown as typed
    ("x ⊗ A", ShapeError, "x ⊗ A: cannot multiply a vector of length n and a matrix", 3),
    ("1 + x·y", ShapeError, "x · y: lengths n and N differ", 6),
    ("w×x", ShapeError, "w × x: × of two vectors or matrices would be the cross product", 2),
]


@pytest.mark.parametrize(("text", "cls", "message", "column"), ERRORS, ids=[t for t, *_ in ERRORS])
def test_error_is_one_line_with_column(text: str, cls: type, message: str, column: int) -> None:
    with pytest.raises(cls) as info:
        vparse(text)
    err = info.value
    assert message in err.message
    assert "\n" not in err.message and err.message == err.message.strip()
    assert err.column == column
    assert err.text == text


def test_sizes_can_be_numbers() -> None:
    shapes = declare(["u:3", "v:4"], ["M:4,3"])
    assert shape_of(parse("M @ u", shapes=shapes), shapes) == (4, 1)
    with pytest.raises(ShapeError, match="u @ v: lengths 3 and 4 differ"):
        parse("u @ v", shapes=shapes)


# -- limits and hostile input still hold in vector mode ------------------------------------
def test_limits_hold_in_vector_mode() -> None:
    with pytest.raises(LimitError, match="exponent too large"):
        vparse("x**(10**10**10)")
    with pytest.raises(LimitError, match="syntax nodes"):
        vparse(" + ".join(["x"] * 300))
    with pytest.raises(LimitError, match="nested more than"):
        vparse("x" + ".T" * 70)
    with pytest.raises(LimitError, match="nested more than"):
        vparse("x" + " @ A" * 70)
    with pytest.raises(LimitError):
        vparse("sum(x)", limits=Limits(max_nodes=2))
    with pytest.raises(LimitError, match="number too large"):
        vparse("x * exp(10**9*log(10))")


VECTOR_HOSTILE = [
    "x.T.__class__",
    "x.__class__",
    "A.T.__class__.__mro__",
    "x.T.T.T.T(1)",
    "dot(x, x.T)",
    "(x.T @ A) ** 2",
    "__import__('os').T",
    "x.T @ __import__('os')",
    "sum(x)(1)",
    "x @ x @ x",
    "norm",
    "trace(A.T @ x)",
    "softmax(x.T)",
    "lambda: x.T",
]


def _hostile_sample() -> list[str]:
    lines = HOSTILE_FILE.read_text(encoding="utf-8").splitlines()
    return lines[::2] + VECTOR_HOSTILE


@pytest.mark.parametrize("text", _hostile_sample(), ids=lambda t: repr(t)[:40])
def test_hostile_input_is_refused_fast_with_shapes(text: str) -> None:
    start = time.process_time()  # CPU time: a loaded machine only slows the wall clock
    with pytest.raises(MatcalcError) as info:
        vparse(text)
    assert "\n" not in info.value.message
    assert time.process_time() - start < 2.0


# -- property-based: any mix of declared names and operators ends well -----------------------
LEAVES = ["w", "x", "a", "y", "X", "A", "z", "b", "N", "0", "1", "2", "0.5", "e", "pi"]
OPERATORS = ["@", "*", "+", "-", "/", "**"]
CALLABLES = [
    *VECTOR_FUNCTIONS,
    "sin",
    "exp",
    "ln",
    "sqrt",
    "abs",
    "sigmoid",
    "tanh",
    "max",
    "min",
    "log",
    "f",
]
TOKENS = [*LEAVES, *OPERATORS, *CALLABLES, "(", ")", ".T", ", ", " ", ".", "^"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(OPERATORS), children)
    call = st.tuples(st.sampled_from(CALLABLES), st.lists(children, min_size=1, max_size=3))
    return st.one_of(
        binary.map(" ".join),
        call.map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        children.map(lambda s: f"({s})"),
        children.map(lambda s: f"({s}).T"),
        children.map(lambda s: f"{s}.T"),
        children.map(lambda s: f"-{s}"),
    )


GRAMMAR = st.recursive(st.sampled_from(LEAVES), _extend, max_leaves=12)
TOKEN_SOUP = st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(GRAMMAR, TOKEN_SOUP))
def test_vector_inputs_parse_or_raise_matcalc_error(text: str) -> None:
    try:
        with shapes_checked():
            result = vparse(text)
    except MatcalcError as err:
        assert err.message and "\n" not in err.message
        # the last-resort guards (SymPy refusing a node) must never be what stops an input
        assert "cannot build" not in err.message and "cannot take" not in err.message
        assert err.column is None or 1 <= err.column <= len(text) + 1
        return
    assert isinstance(result, sympy.Expr)  # never the parser's internal row marker
    shape_of(result, SHAPES)  # every accepted expression has a consistent shape
    sympy.srepr(result)


def test_jacobian_matrices_in_an_answer_only():
    """diag(v), eye(n), ones(n) and the outer product a @ b.T write a Jacobian in an answer to
    ``check`` (diag(σ) − σσᵀ); an expression to differentiate has none of them."""
    n = SHAPES[x].rows
    assert parse("diag(w)", shapes=SHAPES, answer=True) == Diag(w)
    assert parse("eye(n)", shapes=SHAPES, answer=True) == Ident(n)
    outer = parse("w @ x.T", shapes=SHAPES, answer=True)
    assert outer == MatProd(w, T(x)) and shape_of(outer, SHAPES) == (n, n)
    assert shape_of(parse("y @ x.T", shapes=SHAPES, answer=True), SHAPES) == (SHAPES[y].rows, n)
    for text, match in [
        ("diag(w)", r"diag\(\.\.\.\) is written only in an answer to matcalc check"),
        ("eye(n)", r"eye\(\.\.\.\) is written only in an answer"),
        ("w @ x.T", "is a row"),
    ]:
        with pytest.raises(MatcalcError, match=match):
            parse(text, shapes=SHAPES)
    with pytest.raises(ShapeError, match="must be one of the problem's sizes"):
        parse("eye(3)", shapes=SHAPES, answer=True)


def test_sizes_in_an_answer_may_be_the_declared_numbers():
    """With x declared x:3, ones(3) and eye(3) are the problem's own sizes (they were refused
    as "not one of the problem's sizes (n)", a size the problem does not have); ones(n) is
    refused, naming 3."""
    three = declare(["x:3"], ["A:2,3"])
    assert shape_of(parse("ones(3)", shapes=three, answer=True), three) == (3, 1)
    assert shape_of(parse("eye(2)", shapes=three, answer=True), three) == (2, 2)
    with pytest.raises(
        ShapeError, match=r"ones\(n\): the size must be one of the problem's sizes \(2, 3\)"
    ):
        parse("ones(n)", shapes=three, answer=True)
    with pytest.raises(MatcalcError, match="is a row"):
        parse("A @ x.T", shapes=SHAPES, answer=True)  # a matrix @ a row: no such product


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        # truth: the components at n = 3, written here with SymPy (w_i, x_i, A_ij)
        ("w·x", lambda w, x, A: sum(w[i] * x[i] for i in range(3))),
        ("2·w·x", lambda w, x, A: 2 * sum(w[i] * x[i] for i in range(3))),
        ("xᵀ·A·x", lambda w, x, A: (x.T * A * x)[0]),
        ("sum(A·x)", lambda w, x, A: sum(A * x)),
        ("sum(w ⊗ x)", lambda w, x, A: sum(w[i] * x[i] for i in range(3))),
        ("σ(w·x)·(A·x)", lambda w, x, A: A * x / (1 + sympy.exp(-(w.T * x)[0]))),
    ],
)
def test_the_product_sign_is_the_product_the_shapes_call_for(text, truth):
    """· between two vectors or matrices is the dot or matrix product, as matcalc prints
    w·x and A·x (it was read as * , element-wise: w·x was w ⊗ x); ⊗ is element-wise and ᵀ
    the transpose.  Truth: SymPy's Jacobian of the components, by x."""
    import matcalc

    d = matcalc.derive(text, "x", vectors="w,x", matrices="A")
    w = sympy.Matrix([sympy.Symbol(f"w_{i}", real=True) for i in (1, 2, 3)])
    x = sympy.Matrix([sympy.Symbol(f"x_{i}", real=True) for i in (1, 2, 3)])
    A = sympy.Matrix(3, 3, lambda i, j: sympy.Symbol(f"A_{i + 1}{j + 1}", real=True))
    value = truth(w, x, A)
    want = (value if isinstance(value, sympy.MatrixBase) else sympy.Matrix([value])).jacobian(x)
    got = d.explicit(n=3)
    assert got.shape == want.shape
    names = sorted({s.name for s in want.free_symbols | got.free_symbols})
    point = {name: sympy.Rational(k % 7 + 2, k % 5 + 3) for k, name in enumerate(names)}

    def at(m):
        return sympy.Matrix(m).subs({s: point[s.name] for s in m.free_symbols}).evalf(30)

    assert (at(got) - at(want)).norm() < 1e-20


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        # x^T was x to the power of a scalar T, element-wise: silently another function
        ("x^T @ A @ x", lambda w, x, A: (x.T * A * x)[0]),
        ("x**T @ w", lambda w, x, A: (x.T * w)[0]),
        ("(A @ x - w)^T @ (A @ x - w)", lambda w, x, A: ((A * x - w).T * (A * x - w))[0]),
        ("w^T @ A^T @ x", lambda w, x, A: (w.T * A.T * x)[0]),
    ],
)
def test_x_caret_t_is_the_transpose_as_textbooks_write_it(text, truth):
    test_the_product_sign_is_the_product_the_shapes_call_for(text, truth)


def test_x_caret_t_is_a_power_where_t_is_declared():
    T = declare(["x", "T"], [])
    assert "MatT" not in sympy.srepr(parse("x^T", shapes=T))


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("x^T A x", "missing '@' between a transpose and what it multiplies: write x^T @ A", 5),
        ("xᵀ A x", "write xᵀ @ A", 4),
        ("(A·x − w)ᵀ(A·x − w)", "write (A·x − w)ᵀ @ (A·x − w)", 11),  # was 'only a function'
        ("σ(w·x)(1 − σ(w·x))", "write σ(w·x)*(1 − σ(w·x))", 7),
        # wᵀx as textbooks write it: 'attribute access is not allowed' (column 1)
        ("wᵀx", "write wᵀ @ x", 3),
        ("σ(wᵀx + 1)", "write wᵀ @ x", 5),  # inside a call: 'invalid syntax'
        ("xᵀAx", "write xᵀ @ Ax", 3),
        ("(A@x - w)^T (A@x - w)", "write (A@x - w)^T @ (A@x - w)", 13),
        ("||x||^2", "write norm(x) for ||x||", 1),
        ("‖x‖^2", "write norm(x) for ||x||", 1),
        # bars around a vector or matrix: its absolute values, its norm, its length (the
        # paper's |x| = n) or a determinant; a scalar inside bars is read as abs
        ("sum(|x|)", "|x| of a vector may mean", 5),
        ("|A @ x - w|^2", "write abs(A @ x - w), norm(A @ x - w) or its size", 1),
        ("ln|A|", "write abs(A), norm(A) or det(A)", 3),
        ("x'*A*x", "' is not allowed: write x.T (or xᵀ) for a transpose", 2),
        ("sin²(w·x)", "write sin(w·x)^2 for sin^2(w·x)", 1),  # as typed, not w@x
        ("σ^2(w·x)", "write σ(w·x)^2 for σ^2(w·x)", 1),
        ("transpose(x) @ A", "write x.T (or xᵀ) for the transpose", 1),
    ],
)
def test_transposes_and_norms_as_other_tools_write_them_get_a_hint(text, message, column):
    with pytest.raises(MatcalcError, match=re.escape(message)) as info:
        vparse(text)
    assert info.value.column == column


def test_bold_digits_as_matcalc_prints_them_say_what_to_write():
    with pytest.raises(MatcalcError, match=re.escape("write ones(n) for 𝟏")) as info:
        vparse("𝟏ᵀ·A")
    assert info.value.column == 1 and "𝟏ᵀ·A" in str(info.value.text)


@pytest.mark.parametrize(("text", "column"), [("I·x", 1), ("sum((A + I)·x)", 10), ("x - I*w", 5)])
def test_i_with_vectors_is_not_a_silent_scalar(text, column):
    """I·x with vectors declared was the scalar variable I times x, derived and printed as
    ∂y/∂x = I·I (the scalar I times the identity, both written I), where one who copies
    matcalc's I means the identity.  Refused with vectors; a declared I is a matrix; in
    scalar problems I stays a variable; an answer's I gets check's eye(n) hint."""
    with pytest.raises(ParseError, match="I is how matcalc writes the identity matrix") as info:
        vparse(text)
    assert info.value.column == column
    assert isinstance(parse("I·x", shapes=declare(["x"], ["I"])), MatVec)
    assert parse("I*x") == sympy.Symbol("I", real=True) * sympy.Symbol("x", real=True)


@pytest.mark.parametrize(
    ("text", "shown", "column"),
    [
        ("wᵀ·x + (w·x)·eye(n)", "wᵀ·x + (w·x)·eye(n): cannot add a scalar and a matrix", 6),
        ("√x + A", "√x + A: cannot add a vector", 4),  # was sqrt(x) + A
        ("A²·x", "A ^ 2: ** of a matrix", 2),
    ],
)
def test_operands_in_an_error_are_shown_as_typed(text, shown, column):
    """The operands an error names were the source Python reads: w.T@x + (w@x)@eye(n) for
    wᵀ·x + (w·x)·eye(n), sqrt(x) for √x and A ** (2) for A²."""
    with pytest.raises(MatcalcError) as info:
        vparse(text, answer=True)
    assert str(info.value).startswith(shown) and info.value.column == column


def test_x_caret_t_is_the_transpose_where_t_is_a_size():
    """With --vector x:T (T time steps), x^T @ A @ x was x to the power of its length T,
    element-wise, then @ A @ x: derived and verified without a word.  Truth: SymPy's
    Jacobian of xᵀAx on components at T = 3, by hand."""
    import matcalc

    d = matcalc.derive("x^T @ A @ x", "x", vectors="x:T", matrices="A:T,T")
    x = sympy.Matrix([sympy.Symbol(f"x_{i}", real=True) for i in (1, 2, 3)])
    A = sympy.Matrix(3, 3, lambda i, j: sympy.Symbol(f"A_{i + 1}{j + 1}", real=True))
    want = sympy.Matrix([(x.T * A * x)[0]]).jacobian(x)
    got = d.explicit(T=3)
    by_name = {s.name: s for s in want.free_symbols}
    got = got.xreplace({s: by_name[s.name] for s in got.free_symbols})
    assert (got - want).expand() == sympy.zeros(1, 3)


def test_a_greek_name_may_be_declared():
    """--vector θ,x declared a vector named θ, while the expression's θ is theta: θ·x was the
    scalar theta times x, and by θ its derivative was the column x, derived and verified
    without a word.  Truth by hand: ∂(θ·x)/∂θ = xᵀ; sum(x)/τ with --vector x:τ is 𝟏ᵀ/τ."""
    import matcalc

    d = matcalc.derive("θ·x", "θ", vectors="θ,x")
    x = [sympy.Symbol(f"x_{i}", real=True) for i in (1, 2, 3)]
    got = d.explicit(n=3)
    assert got.shape == (1, 3)
    assert [sympy.Symbol(str(e), real=True) for e in got] == x
    d = matcalc.derive("sum(x)/τ", "x", vectors="x:τ")
    assert d.explicit(tau=2) == sympy.Matrix([[sympy.Rational(1, 2)] * 2])
    with pytest.raises(ParseError, match="σ is a vector, not a function"):
        parse("σ(x)", shapes=declare(["σ", "x"]))


# -- the notation matcalc prints, as a property: a random vector expression written with
#    @, * and .T and again with ·, ⊗, ᵀ, σ and − derives to the same components at n = 3,
#    and both agree with SymPy's Jacobian of components built here (never matcalc's own)
_N = 3
_COMPONENTS = {
    name: sympy.Matrix([sympy.Symbol(f"{name}_{i}", real=True) for i in range(1, _N + 1)])
    for name in "xwb"
}
_A = sympy.Matrix(_N, _N, lambda i, j: sympy.Symbol(f"A_{i + 1}{j + 1}", real=True))


def _sig(u):
    return 1 / (1 + sympy.exp(-u))


def _par(text: str, prec: int, need: int) -> str:
    return f"({text})" if prec < need else text


def _vector(rng, depth: int):
    """(ascii, notation, precedence of the notation, components) of a random column."""
    if depth <= 0 or rng.random() < 0.2:
        name = rng.choice("xwb")
        return name, name, 100, _COMPONENTS[name]
    kind = rng.choice(["A@", "AT@", "@A", "*", "+", "-", "sig", "exp", "s*", "neg", "TT"])
    a = _vector(rng, depth - 1)
    if kind == "A@":
        return f"(A @ {a[0]})", f"A·{_par(a[1], a[2], 61)}", 60, _A * a[3]
    if kind == "AT@":
        return f"(A.T @ {a[0]})", f"Aᵀ·{_par(a[1], a[2], 61)}", 60, _A.T * a[3]
    if kind == "@A":  # v @ A is Aᵀv, numpy's
        return f"({a[0]} @ A)", f"{_par(a[1], a[2], 60)}·A", 60, _A.T * a[3]
    if kind in ("*", "+", "-"):
        b = _vector(rng, depth - 1)
        sign, prec = {"*": ("⊗", 60), "+": ("+", 50), "-": ("−", 50)}[kind]
        value = {"*": a[3].multiply_elementwise(b[3]), "+": a[3] + b[3], "-": a[3] - b[3]}
        text = f"{_par(a[1], a[2], prec)} {sign} {_par(b[1], b[2], prec + 1)}"
        return f"({a[0]} {kind} {b[0]})", text, prec, value[kind]
    if kind == "sig":
        return f"sigmoid({a[0]})", f"σ({a[1]})", 100, a[3].applyfunc(_sig)
    if kind == "exp":
        return f"exp({a[0]})", f"exp({a[1]})", 100, a[3].applyfunc(sympy.exp)
    if kind == "s*":
        s = _scalar(rng, depth - 1)
        return (
            f"({s[0]} * {a[0]})",
            f"{_par(s[1], s[2], 60)}·{_par(a[1], a[2], 61)}",
            60,
            s[3] * a[3],
        )
    if kind == "neg":
        return f"(-{a[0]})", f"−{_par(a[1], a[2], 70)}", 70, -a[3]
    return f"({a[0]}).T.T", f"{_par(a[1], a[2], 95)}ᵀᵀ", 95, a[3]


def _scalar(rng, depth: int):
    if depth <= 0 or rng.random() < 0.15:
        k = rng.choice([2, 3])
        return f"({k})", str(k), 100, sympy.Integer(k)
    kind = rng.choice(["sum", "norm", "dot", "row", "quad", "mul", "sig"])
    if kind in ("sum", "norm"):
        a = _vector(rng, depth - 1)
        value = sum(a[3]) if kind == "sum" else sympy.sqrt(sum(e**2 for e in a[3]))
        return f"{kind}({a[0]})", f"{kind}({a[1]})", 100, value
    if kind in ("dot", "row", "quad"):
        a, b = _vector(rng, depth - 1), _vector(rng, depth - 1)
        left = _par(a[1], a[2], 61 if kind == "dot" else 95)
        middle = {"dot": ("@", "·"), "row": (".T @", "ᵀ·"), "quad": (".T @ A @", "ᵀ·A·")}[kind]
        value = (a[3].T * (_A if kind == "quad" else sympy.eye(_N)) * b[3])[0]
        if kind == "dot":
            left = _par(a[1], a[2], 60)
        return (
            f"({a[0]}{' ' if kind == 'dot' else ''}{middle[0]} {b[0]})",
            f"{left}{middle[1]}{_par(b[1], b[2], 61)}",
            60,
            value,
        )
    if kind == "mul":
        a, b = _scalar(rng, depth - 1), _scalar(rng, depth - 1)
        return (
            f"({a[0]} * {b[0]})",
            f"{_par(a[1], a[2], 60)}·{_par(b[1], b[2], 61)}",
            60,
            a[3] * b[3],
        )
    a = _scalar(rng, depth - 1)
    return f"sigmoid({a[0]})", f"σ({a[1]})", 100, _sig(a[3])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 10**9))
def test_the_notation_derives_as_the_ascii_does(seed):
    import random

    import matcalc

    rng = random.Random(seed)
    ascii_text, notation, _, value = (_scalar if rng.random() < 0.5 else _vector)(rng, 3)
    names = [v for v in "xwb" if v in ascii_text]
    if not names:
        return
    wrt = rng.choice(names)
    value = value if isinstance(value, sympy.MatrixBase) else sympy.Matrix([value])
    want = value.jacobian(_COMPONENTS[wrt])
    point = {s.name: sympy.Rational(rng.randint(-20, 20), 10) for s in want.free_symbols}
    for s in _A:
        point.setdefault(s.name, sympy.Rational(rng.randint(-20, 20), 10))
    for s in _COMPONENTS.values():
        for e in s:
            point.setdefault(e.name, sympy.Rational(rng.randint(-20, 20), 10))

    def at(m):
        m = sympy.Matrix(m)
        return m.subs({s: point[s.name] for s in m.free_symbols}).evalf(30)

    truth = at(want)
    for text in (ascii_text, notation):
        d = matcalc.derive(text, wrt, vectors="x,w,b", matrices="A")
        got = at(d.explicit(n=_N))
        assert got.shape == truth.shape, (text, got.shape, truth.shape)
        assert (got - truth).norm() <= 1e-20 * (1 + truth.norm()), (text, notation)


@pytest.mark.parametrize(
    ("text", "product", "column"),
    [("w·x + Ax·w", "A·x", 7), ("exp(w) + Aa", "A·a", 10), ("sum((Xw + 1)^2)", "X·w", 6)],
)
def test_declared_names_run_together_are_no_silent_scalar(text, product, column):
    """Ax, as matcalc prints A·x, was one scalar variable named Ax: w·x + Ax·w by w was
    derived and verified as Ax·I + 𝟏·xᵀ, which reads as matcalc's own A·x; with no note,
    since Ax does not hold w.  Names that are not declared names run together stay."""
    with pytest.raises(ParseError, match=f"write {re.escape(product)} \\(the dot") as info:
        vparse(text)
    assert info.value.column == column
    assert vparse("Ab + xb2") == sympy.Symbol("Ab", real=True) + sympy.Symbol("xb2", real=True)


@pytest.mark.parametrize(("text", "column"), [("x^-T", 2), ("x^T^2", 2), ("1 + X^-T @ x", 6)])
def test_t_in_the_exponent_of_a_vector_is_refused(text, column):
    """x^-T and x^T^2 were element-wise powers of a variable T (red team 6), derived and
    verified without a word, where a transpose was meant; a scalar's 2^(T + 1) is a power."""
    with pytest.raises(
        ParseError, match=re.escape("T in the exponent of a vector or matrix")
    ) as info:
        vparse(text)
    assert info.value.column == column
    assert "MatT" not in sympy.srepr(vparse("2^(T + 1)"))


def test_t_in_the_exponent_is_refused_with_a_size_named_t_too():
    """With --vector x:T (T time steps), x^T is the transpose (508947b), and so x^-T is not
    x to the power of minus its own length: refused as without the size."""
    shapes = declare(["x:T"], [])
    with pytest.raises(ParseError, match=re.escape("T in the exponent of a vector or matrix")):
        parse("sum(x^-T)", shapes=shapes)


def test_bars_around_a_scalar_among_vectors_are_abs():
    assert vparse("|w @ x| + sum(abs(x))") == vparse("abs(w @ x) + sum(abs(x))")
