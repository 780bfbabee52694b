"""The matrix engine (issue 9 §3): scalars times matrices, the matrix variable transposed,
in products, twice, inside trace, sum and norm; rows xᵀA; vectors of length 1; x**x.

Truth comes from explicit components that each test builds itself with SymPy (X_11, X_12, …,
w_1, …), differentiated with ``diff`` / ``Matrix.jacobian``, at TWO sizes; never from
matcalc.  Conventions checked (numerator layout): a scalar by an r×c matrix X is the c×r
matrix G with G[j, i] = ∂f/∂X_ij; a vector by X is the Jacobian by vec(X), X's rows stacked.
"""

from __future__ import annotations

import random

import pytest
from conftest import katex_report
from sympy import ImmutableMatrix, Matrix, Rational, Symbol, diff, sqrt

import matcalc

SIZES = ({"n": 2, "N": 3}, {"n": 3, "N": 2})


def comps(name: str, rows: int, cols: int | None = None) -> Matrix:
    """Components named as matcalc names them: w_1 … for a vector, X_11 … for a matrix."""
    if cols is None:
        return Matrix(rows, 1, lambda i, _: Symbol(f"{name}_{i + 1}", real=True))
    return Matrix(rows, cols, lambda i, j: Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def gradient(f, X: Matrix) -> Matrix:
    """Numerator layout: G[j, i] = ∂f/∂X_ij (for a vector X: the row ∂f/∂x)."""
    if X.cols == 1:
        return Matrix([[diff(f, x) for x in X]])
    return Matrix(X.cols, X.rows, lambda j, i: diff(f, X[i, j]))


def jacobian(values: Matrix, X: Matrix) -> Matrix:
    """Numerator layout Jacobian of the entries of ``values`` by X's entries (rows stacked)."""
    return Matrix(list(values)).jacobian(list(X))


def scalar(f) -> Matrix:
    return Matrix([[f]])


def assert_same(ours, truth: Matrix) -> None:
    """Equal at random positive rational points (exact where possible, else 1e-12)."""
    ours = Matrix(ours)
    assert ours.shape == truth.shape, (ours.shape, truth.shape)
    symbols = sorted(ours.free_symbols | truth.free_symbols, key=str)
    rng = random.Random(7)
    for _ in range(2):
        point = {s: Rational(rng.randint(1, 40), rng.randint(1, 9)) for s in symbols}
        diff_ = (ours - truth).subs(point)
        for entry in diff_:
            assert abs(complex(entry.evalf(30))) < 1e-12, (ours, truth, point)


def _derive(expr, wrt, vectors=(), matrices=(), layout="numerator"):
    d = matcalc.derive(expr, wrt, vectors=vectors, matrices=matrices, layout=layout)
    assert d.verified is True, d.to_text()
    return d


def _cases():
    """(expr, wrt, vectors, matrices, truth(sizes) -> Matrix)."""

    def c(expr, wrt, vectors, matrices, truth):
        return pytest.param(expr, wrt, vectors, matrices, truth, id=f"{expr} by {wrt}")

    z = Symbol("z", real=True)
    return [
        c(
            "trace(z*A)",
            "z",
            (),
            ("A",),
            lambda n, N: scalar(diff((z * comps("A", n, n)).trace(), z)),
        ),
        c(
            "(z*A) @ x",
            "z",
            ("x",),
            ("A",),
            lambda n, N: jacobian(z * comps("A", n, n) * comps("x", n), Matrix([z])),
        ),
        c(
            "trace(X.T @ A)",
            "X",
            (),
            ("X:N,n", "A:N,n"),
            lambda n, N: gradient(
                (comps("X", N, n).T * comps("A", N, n)).trace(), comps("X", N, n)
            ),
        ),
        c(
            "trace(A @ X @ B)",
            "X",
            (),
            ("X:N,n", "A:n,N", "B"),
            lambda n, N: gradient(
                (comps("A", n, N) * comps("X", N, n) * comps("B", n, n)).trace(), comps("X", N, n)
            ),
        ),
        c(
            "trace(X.T @ X)",
            "X",
            (),
            ("X:N,n",),
            lambda n, N: gradient(
                (comps("X", N, n).T * comps("X", N, n)).trace(), comps("X", N, n)
            ),
        ),
        c(
            "trace(X @ X)",
            "X",
            (),
            ("X",),
            lambda n, N: gradient((comps("X", n, n) ** 2).trace(), comps("X", n, n)),
        ),
        c(
            "b @ X.T @ X @ c",
            "X",
            ("b", "c"),
            ("X:N,n",),
            lambda n, N: gradient(
                (comps("b", n).T * comps("X", N, n).T * comps("X", N, n) * comps("c", n))[0, 0],
                comps("X", N, n),
            ),
        ),
        c(
            "X @ A @ w",
            "X",
            ("w",),
            ("X:N,n", "A"),
            lambda n, N: jacobian(
                comps("X", N, n) * comps("A", n, n) * comps("w", n), comps("X", N, n)
            ),
        ),
        c(
            "x.T @ A",
            "x",
            ("x:N",),
            ("A:N,n",),
            lambda n, N: jacobian(comps("x", N).T * comps("A", N, n), comps("x", N)),
        ),
        c(
            "x.T @ A",
            "A",
            ("x:N",),
            ("A:N,n",),
            lambda n, N: jacobian(comps("x", N).T * comps("A", N, n), comps("A", N, n)),
        ),
        c(
            "trace(2*X)",
            "X",
            (),
            ("X",),
            lambda n, N: gradient((2 * comps("X", n, n)).trace(), comps("X", n, n)),
        ),
        c(
            "sum(X)",
            "X",
            (),
            ("X:N,n",),
            lambda n, N: gradient(sum(comps("X", N, n)), comps("X", N, n)),
        ),
        c(
            "norm(X)",
            "X",
            (),
            ("X:N,n",),
            lambda n, N: gradient(sqrt(sum(e**2 for e in comps("X", N, n))), comps("X", N, n)),
        ),
        c(
            "x**x",
            "x",
            ("x",),
            (),
            lambda n, N: jacobian(comps("x", n).applyfunc(lambda e: e**e), comps("x", n)),
        ),
        c(
            "x**w",
            "w",
            ("x", "w"),
            (),
            lambda n, N: jacobian(
                Matrix([a**b for a, b in zip(comps("x", n), comps("w", n))]), comps("w", n)
            ),
        ),
        # one sample: a vector of length 1 and a 1×n matrix
        c(
            "sum((X @ w - y)**2)",
            "w",
            ("y:1", "w"),
            ("X:1,n",),
            lambda n, N: gradient(
                ((comps("X", 1, n) * comps("w", n))[0, 0] - comps("y", 1)[0]) ** 2, comps("w", n)
            ),
        ),
        c(
            "sum((X @ w - y)**2)",
            "X",
            ("y:1", "w"),
            ("X:1,n",),
            lambda n, N: gradient(
                ((comps("X", 1, n) * comps("w", n))[0, 0] - comps("y", 1)[0]) ** 2, comps("X", 1, n)
            ),
        ),
        c(
            "norm(X @ w - y) + y @ y",
            "y",
            ("y:1", "w"),
            ("X:1,n",),
            lambda n, N: gradient(
                sqrt(((comps("X", 1, n) * comps("w", n))[0, 0] - comps("y", 1)[0]) ** 2)
                + comps("y", 1)[0] ** 2,
                comps("y", 1),
            ),
        ),
        # scalars times matrices, the variable in several places
        c(
            "trace(z*X)",
            "X",
            (),
            ("X",),
            lambda n, N: gradient((z * comps("X", n, n)).trace(), comps("X", n, n)),
        ),
        c(
            "trace(X.T @ (z*X))",
            "X",
            (),
            ("X:N,n",),
            lambda n, N: gradient(
                (z * comps("X", N, n).T * comps("X", N, n)).trace(), comps("X", N, n)
            ),
        ),
        c(
            "trace(sin(z)*A @ X)",
            "z",
            (),
            ("A:n,N", "X:N,n"),
            lambda n, N: scalar(diff((comps("A", n, N) * comps("X", N, n)).trace() * _sin(z), z)),
        ),
        c("sum(z*A)", "z", (), ("A:N,n",), lambda n, N: scalar(diff(sum(z * comps("A", N, n)), z))),
        c(
            "norm(z*A)",
            "z",
            (),
            ("A:N,n",),
            lambda n, N: scalar(diff(sqrt(sum((z * e) ** 2 for e in comps("A", N, n))), z)),
        ),
        c(
            "norm(A @ X)",
            "X",
            (),
            ("A:N,n", "X:n,N"),
            lambda n, N: gradient(
                sqrt(sum(e**2 for e in comps("A", N, n) * comps("X", n, N))), comps("X", n, N)
            ),
        ),
        c(
            "sum(X @ A @ w)",
            "X",
            ("w",),
            ("X:N,n", "A"),
            lambda n, N: gradient(
                sum(comps("X", N, n) * comps("A", n, n) * comps("w", n)), comps("X", N, n)
            ),
        ),
        c(
            "w @ (X.T @ X) @ w",
            "X",
            ("w",),
            ("X:N,n",),
            lambda n, N: gradient(
                (comps("w", n).T * comps("X", N, n).T * comps("X", N, n) * comps("w", n))[0, 0],
                comps("X", N, n),
            ),
        ),
        c(
            "sum((z*A) @ x)",
            "z",
            ("x",),
            ("A:N,n",),
            lambda n, N: scalar(diff(sum(z * comps("A", N, n) * comps("x", n)), z)),
        ),
        c(
            "trace((A @ X).T @ (X @ B))",
            "X",
            (),
            ("A", "X", "B"),
            lambda n, N: gradient(
                (
                    (comps("A", n, n) * comps("X", n, n)).T * comps("X", n, n) * comps("B", n, n)
                ).trace(),
                comps("X", n, n),
            ),
        ),
        # found by the fuzzer: a matrix scaled by a scalar that depends on the variable
        c(
            "trace(trace(X)*X)",
            "X",
            (),
            ("X",),
            lambda n, N: gradient(comps("X", n, n).trace() ** 2, comps("X", n, n)),
        ),
        c(
            "trace(sum(w)*X)",
            "w",
            ("w",),
            ("X",),
            lambda n, N: gradient(sum(comps("w", n)) * comps("X", n, n).trace(), comps("w", n)),
        ),
        c(
            "(sum(w)*X) @ w",
            "w",
            ("w",),
            ("X",),
            lambda n, N: jacobian(
                sum(comps("w", n)) * comps("X", n, n) * comps("w", n), comps("w", n)
            ),
        ),
        # a 1×n matrix: Xᵀ is n×1 but still a matrix, X Xᵀ is 1×1
        c(
            "trace(X.T @ X)",
            "X",
            (),
            ("X:1,n",),
            lambda n, N: gradient(
                (comps("X", 1, n).T * comps("X", 1, n)).trace(), comps("X", 1, n)
            ),
        ),
        c(
            "trace(X @ X.T)",
            "X",
            (),
            ("X:1,n",),
            lambda n, N: gradient(
                (comps("X", 1, n) * comps("X", 1, n).T).trace(), comps("X", 1, n)
            ),
        ),
    ]


def _sin(z):
    from sympy import sin

    return sin(z)


@pytest.mark.parametrize(("expr", "wrt", "vectors", "matrices", "truth"), _cases())
def test_matrix_examples_are_right_and_verified(expr, wrt, vectors, matrices, truth):
    d = _derive(expr, wrt, vectors, matrices)
    for sizes in SIZES:
        used = {k: v for k, v in sizes.items() if k in _size_names(vectors, matrices)}
        assert_same(d.explicit(**used), truth(sizes["n"], sizes["N"]))


@pytest.mark.parametrize(
    ("expr", "wrt", "vectors", "matrices", "truth"),
    [
        p
        for p in _cases()
        if p.id
        in {
            "trace(A @ X @ B) by X",
            "trace(X.T @ X) by X",
            "b @ X.T @ X @ c by X",
            "x.T @ A by x",
            "sum(X) by X",
        }
    ],
)
def test_denominator_layout_is_the_transpose(expr, wrt, vectors, matrices, truth):
    d = _derive(expr, wrt, vectors, matrices, layout="denominator")
    for sizes in SIZES:
        used = {k: v for k, v in sizes.items() if k in _size_names(vectors, matrices)}
        assert_same(d.explicit(**used), truth(sizes["n"], sizes["N"]).T)


def _size_names(vectors, matrices) -> set[str]:
    names = {"n"}
    for item in (*vectors, *matrices):
        _, _, size = item.partition(":")
        names |= {s for s in size.split(",") if s and not s.isdigit()}
    return names


def test_cookbook_identities_by_name():
    """∂tr(AXB)/∂X = AᵀBᵀ (Cookbook eq. 101) has the shape of X: numerator layout is BA."""
    d = _derive("trace(A @ X @ B)", "X", (), ("A", "X", "B"))
    assert d.to_text().count("B·A") >= 1
    assert "Cookbook eq. 101" in d.to_text()
    d = _derive("trace(A @ X @ B)", "X", (), ("A", "X", "B"), layout="denominator")
    assert "Aᵀ·Bᵀ" in d.to_text()


OPERATIONS = [
    ("trace(X.T @ (z*X))", "X", (), ("X",)),
    ("trace((A @ X).T @ (X @ B))", "X", (), ("A", "X", "B")),
    ("(z*A) @ x", "z", ("x",), ("A",)),
    ("X @ A @ w", "X", ("w",), ("X", "A")),
    ("sum(X)", "X", (), ("X",)),
    ("x.T @ A", "x", ("x",), ("A",)),
]


@pytest.mark.parametrize(("expr", "wrt", "vectors", "matrices"), OPERATIONS)
def test_no_class_names_in_any_format(expr, wrt, vectors, matrices):
    d = _derive(expr, wrt, vectors, matrices)
    texts = [d.to_text(), d.to_markdown(), d.to_latex()]
    for text in texts:
        for name in (
            "Lin(",
            "DMat(",
            "OnesMatrix(",
            "Commutation(",
            "MatVec(",
            "MatT(",
            "MMul(",
            "MTrace(",
            "MatProd(",
            "Outer(",
            "Kron(",
            "Derivative(",
            "Dummy",
        ):
            assert name not in text, (name, text)


def test_matrix_by_matrix_is_refused_clearly():
    for expr, wrt, vectors, matrices in [
        ("X.T", "X", (), ("X",)),
        ("2*X", "X", (), ("X",)),
        ("z*A", "z", (), ("A",)),
        ("A @ X", "X", (), ("A", "X")),
    ]:
        with pytest.raises(matcalc.MatcalcError, match="matrix-valued expression is not supported"):
            matcalc.derive(expr, wrt, vectors=vectors, matrices=matrices)


def test_row_vectors_as_the_whole_expression_or_with_numbers_and_rows():
    # a row meets numbers and other rows only: never a column
    with pytest.raises(matcalc.MatcalcError, match="row"):
        matcalc.derive("x + x.T @ A", "x", vectors="x", matrices="A")
    # 1 + xᵀA is the row (1 + Aᵀx)ᵀ: its Jacobian by x is Aᵀ (the components' own)
    d = matcalc.derive("1 + x.T @ A", "x", vectors="x", matrices="A")
    assert d.verified is True
    assert d.explicit(n=3) == ImmutableMatrix(comps("A", 3, 3).T)


def test_explicit_components_are_the_tests_own():
    """The helper names components as the contract says (w_1, X_12), so the comparison is fair."""
    d = _derive("trace(X.T @ A)", "X", (), ("X", "A"))
    assert d.explicit(n=2) == ImmutableMatrix(comps("A", 2, 2).T)


def test_katex_accepts_the_matrix_formulas():
    """Every display formula of these derivations' Markdown renders in KaTeX (if installed)."""
    formulas = []
    for expr, wrt, vectors, matrices in [
        *OPERATIONS,
        ("trace(trace(X)*X)", "X", (), ("X",)),
        ("norm(X)", "X", (), ("X",)),
    ]:
        text = _derive(expr, wrt, vectors, matrices).to_markdown()
        for k, block in enumerate(text.split("$$\n")[1::2]):
            formulas.append({"tex": block.strip(), "display": True, "where": f"{expr}:{k}"})
    assert len(formulas) > 10
    report = katex_report(formulas)
    assert not report["errors"] + report["warnings"], report
