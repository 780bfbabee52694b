"""Higher derivatives and Hessians of scalar functions: truth from SymPy's diff and hessian
of hand-built expressions, compared numerically at random points."""

from __future__ import annotations

import json
import random

import pytest
import sympy as sp
from click.testing import CliRunner

import matcalc
from matcalc.cli import main
from matcalc.errors import UnsupportedError, UsageError
from matcalc.steps import Stage

x, y = sp.symbols("x y", real=True)

CASES = [
    ("x**3*sin(x)", x**3 * sp.sin(x), 2),
    ("exp(2*x)", sp.exp(2 * x), 3),
    ("ln(x)", sp.log(x), 4),
    ("sin(x**2)", sp.sin(x**2), 2),
    ("1/(1 + x**2)", 1 / (1 + x**2), 2),
    ("sqrt(x)", sp.sqrt(x), 3),
    ("atan(x)", sp.atan(x), 2),
    ("x**x", x**x, 2),
]


def _close(a, b, symbols, seed=0):
    rng = random.Random(seed)
    for _ in range(5):
        point = {s: sp.Float(rng.uniform(0.3, 1.7), 30) for s in symbols}
        va = complex(sp.N(a.xreplace(point), 20))
        vb = complex(sp.N(b.xreplace(point), 20))
        assert abs(va - vb) <= 1e-9 * max(1, abs(vb)), (a, b, point)


@pytest.mark.parametrize(("text", "truth", "order"), CASES)
def test_order_k_matches_sympy(text, truth, order):
    d = matcalc.derive(text, order=order)
    assert d.verified is True
    _close(d.result, sp.diff(truth, x, order), [x])
    stages = [s for s in d.steps if isinstance(s, Stage)]
    assert [s.order for s in stages] == list(range(1, order + 1))
    # each stage differentiates the previous stage's result
    for before, after in zip(stages, stages[1:]):
        assert after.expr == before.result


def test_hessian_of_two_variables():
    d = matcalc.derive("x**2*y + exp(x*y)", wrt="x,y", order=2)
    truth = sp.hessian(x**2 * y + sp.exp(x * y), [x, y])
    assert d.verified is True and d.result.shape == (2, 2)
    for a, b in zip(d.result, truth):
        _close(a, b, [x, y])
    text = d.to_text()
    assert "Hessian" in text and "H =" in text


def test_renders_everywhere():
    d = matcalc.derive("x**3*sin(x)", order=2)
    assert "d²y/dx²" in d.to_text()
    assert "d^2y/dx^2" in d.to_text(unicode=False)
    assert r"\frac{d^{2} y}{d x^{2}}" in d.to_latex()
    assert "阶导数" in d.to_text(lang="zh")
    data = json.loads(d.to_json())
    assert [s["kind"] for s in data["steps"]][:2] == ["stage", "stage"]
    assert data["steps"][1]["steps"]  # nested steps of stage 2


def test_refusals():
    with pytest.raises(UnsupportedError, match="highest order is 2"):
        matcalc.derive("x*y", wrt="x,y", order=3)
    with pytest.raises(UsageError):
        matcalc.derive("x**2", order=0)


def test_cli_order():
    result = CliRunner().invoke(main, ["derive", "x**4", "--order", "3"])
    assert result.exit_code == 0, result.output
    assert "d³y/dx³ = 24x" in result.output
    bad = CliRunner().invoke(main, ["derive", "x**4", "--order", "0"])
    assert bad.exit_code == 2


# -- Hessians by a vector: truth from sympy.hessian of components written out here -------
def _vec(name, n):
    return sp.Matrix([sp.Symbol(f"{name}_{i}", real=True) for i in range(1, n + 1)])


def _mat(name, r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _check_hessian(d, truth, variables, sizes):
    from matcalc.linalg import explicit

    shapes = {dd.symbol: dd for dd in d.problem.declarations}
    dims = {
        s: sizes[s.name]
        for s in {x for dd in shapes.values() for x in (dd.rows, dd.cols)}
        if isinstance(s, sp.Symbol)
    }
    ours = sp.Matrix(explicit(d.result, shapes, dims))
    expected = sp.hessian(truth, variables)
    assert ours.shape == expected.shape
    rng = random.Random(1)
    for _ in range(3):
        point = {
            s: sp.Float(rng.uniform(-1.5, 1.5), 30)
            for s in expected.free_symbols | ours.free_symbols
        }
        for a, b in zip(ours, expected):
            va, vb = complex(sp.N(a.xreplace(point), 20)), complex(sp.N(b.xreplace(point), 20))
            assert abs(va - vb) <= 1e-9 * max(1, abs(vb))


@pytest.mark.parametrize("n", [2, 3])
def test_vector_hessians_in_textbook_form(n):
    x, z, w = _vec("x", n), _vec("z", n), _vec("w", n)
    A = _mat("A", n, n)
    d = matcalc.derive("x.T @ A @ x", "x", vectors="x", matrices="A", order=2)
    assert d.verified is True
    _check_hessian(d, (x.T * A * x)[0], list(x), {"n": n})
    d = matcalc.derive("norm(x)**2", "x", vectors="x", order=2)
    _check_hessian(d, (x.T * x)[0], list(x), {"n": n})
    assert "H = 2I" in d.to_text()
    d = matcalc.derive("logsumexp(z)", "z", vectors="z", order=2)
    _check_hessian(d, sp.log(sum(sp.exp(v) for v in z)), list(z), {"n": n})
    N = n + 1
    X, y = _mat("X", N, n), _vec("y", N)
    d = matcalc.derive("norm(X @ w - y)**2", "w", vectors=["w", "y:N"], matrices=["X:N,n"], order=2)
    _check_hessian(d, ((X * w - y).T * (X * w - y))[0], list(w), {"n": n, "N": N})
    assert "H = 2Xᵀ·X" in d.to_text()


@pytest.mark.parametrize(
    ("text", "wrt", "hvp"),
    [("sum(x * w)", "x", None), ("max(0, w @ x)", "w", None), ("x @ w", "x", "v")],
)
def test_zero_hessian_written_out_has_the_hessians_shape(text, wrt, hvp):
    # a linear input (or max(0, ·) of one, away from its kink) has the zero Hessian: n×n,
    # and H·v the zero n×1 column; --dim and explicit() gave the gradient's shape, 1×n
    # (red-team find: "Check in components, at n = 3: H = [0  0  0]")
    n = 3
    d = matcalc.derive(text, wrt, vectors=["x", "w", "v"], order=2, hvp=hvp)
    ours = d.explicit(n=n)
    x, w = _vec("x", n), _vec("w", n)
    truth = (w.T * x)[0]
    expected = sp.hessian(truth, list(x if wrt == "x" else w))
    if hvp:
        expected = expected * _vec("v", n)
    assert ours.shape == expected.shape
    assert ours == sp.zeros(*expected.shape) == expected


def test_logistic_loss_hessian_is_xt_diag_x():
    n, N = 2, 3
    X, y, w = _mat("X", N, n), _vec("y", N), _vec("w", n)
    b = sp.Symbol("b", real=True)
    s = [1 / (1 + sp.exp(-((X * w)[i] + b))) for i in range(N)]
    loss = -sum(y[i] * sp.log(s[i]) + (1 - y[i]) * sp.log(1 - s[i]) for i in range(N))
    d = matcalc.derive(
        "-sum(y * ln(sigmoid(X @ w + b)) + (1 - y) * ln(1 - sigmoid(X @ w + b)))",
        "w",
        vectors=["w", "y:N"],
        matrices=["X:N,n"],
        order=2,
    )
    assert d.verified is True
    _check_hessian(d, loss, list(w), {"n": n, "N": N})
    assert "H = Xᵀ·diag(σ(Xw + b) ⊗ (1 - σ(Xw + b)))·X" in d.to_text(width=0)
    assert "Hessian of the components" in d.to_text(width=0)


def test_hessian_refusals_name_what_is_unsupported():
    with pytest.raises(UnsupportedError, match="by a matrix"):
        matcalc.derive("trace(X.T @ X)", "X", matrices="X", order=2)
    with pytest.raises(UnsupportedError, match="scalar expression"):
        matcalc.derive("A @ x", "x", vectors="x", matrices="A", order=2)
    with pytest.raises(UnsupportedError, match="highest order is 2"):
        matcalc.derive("x @ x", "x", vectors="x", order=3)
    # red-team find: this said "the derivative of a matrix- or vector-valued expression
    # with inv … is not supported", of a scalar whose Hessian was asked
    with pytest.raises(UnsupportedError, match="a Hessian with inv, det, logdet or matrix_power"):
        matcalc.derive("x @ inv(A) @ x", "x", vectors="x", matrices="A", order=2)


@pytest.mark.parametrize("n", [2, 3])
def test_hessian_with_a_symmetric_constant_matrix(n):
    # red-team find: xᵀSx with S declared symmetric (S:sym) was refused at order 2, the
    # gradient 2Sx going to the differential method that S calls for as a variable
    x = _vec("x", n)
    S = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"S_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    d = matcalc.derive("x @ S @ x", "x", vectors="x", matrices="S:sym", order=2)
    assert d.verified is True
    assert d.result_text == "2S"
    expected = sp.hessian((x.T * S * x)[0], list(x))
    assert d.explicit(n=n) == expected


@pytest.mark.parametrize("text", ["f(x)", "f(x)*sin(x)", "f(g(x))"])
def test_higher_derivatives_of_unknown_functions_are_refused(text):
    # the first derivative holds f′(x) as SymPy's Derivative, which the engine would take
    # for a constant at the next order (a zero, caught by the check): refuse instead
    with pytest.raises(UnsupportedError, match="unknown functions"):
        matcalc.derive(text, order=2)
    with pytest.raises(UnsupportedError, match="unknown functions"):
        matcalc.derive("f(x, y)", "x,y", order=2)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_vector_hessian_states_the_layout_of_each_stage(layout):
    # learner brief §2: the header said numerator layout while stage 1 (the gradient as a
    # column) is in denominator layout.  Truth: the gradient of xᵀAx by explicit
    # components is a column, (A + Aᵀ)x; stage 1's local ∂(Ax)/∂x is Aᵀ in that layout.
    n = 3
    d = matcalc.derive("x.T @ A @ x", "x", vectors="x", matrices="A", order=2, layout=layout)
    text = d.to_text(width=0)
    first = [s for s in d.steps if isinstance(s, Stage)][0]
    xs, A = _vec("x", n), _mat("A", n, n)
    column = sp.Matrix([sp.diff((xs.T * A * xs)[0], v) for v in xs])
    shapes = {dd.symbol: dd for dd in d.problem.declarations}
    from matcalc.linalg import explicit

    dims = {dd.rows: n for dd in shapes.values() if isinstance(dd.rows, sp.Symbol)}
    stage1 = sp.Matrix(explicit(first.result, shapes, dims))
    assert stage1.shape == (n, 1)
    assert sp.expand(stage1 - column) == sp.zeros(n, 1)
    assert "∂u₁/∂x = ∂/∂x Ax = Aᵀ" in text
    if layout == "numerator":
        assert first.layout == "denominator"
        assert "Layout: numerator (rows are gradients) for the Hessian; stage 1 writes" in text
        assert "Stage 1 — The first derivative, in denominator layout" in text
        assert "第 1 阶段 — 一阶导数，用分母布局" in d.to_text(lang="zh", width=0)
        assert d.to_dict()["steps"][0]["layout"] == "denominator"
    else:  # every stage in the problem's layout: nothing to add
        assert first.layout == ""
        assert "Layout: denominator (columns are gradients)." in text
        assert "Stage 1 — The first derivative\n" in text
        assert "layout" not in d.to_dict()["steps"][0]


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("n", [2, 3])
def test_hessian_of_a_quadratic_form_of_an_elementwise_function(n, layout):
    # red-team find: the gradient of tanh(Ax)ᵀ·A·tanh(Ax) holds diag(1 − tanh(Ax)²)·A·tanh(Ax),
    # written as a column with diag(a)·v as a matrix-vector product, and stage 2 refused it:
    # "the derivative of Diag is not supported yet"; diag(a)·v is a ⊗ v.  Truth: sympy.hessian
    # of the components, with its own tanh and sigmoid
    x, v = _vec("x", n), _vec("v", n)
    A = _mat("A", n, n)
    t = (A * x).applyfunc(sp.tanh)
    d = matcalc.derive(
        "tanh(A @ x) @ A @ tanh(A @ x)", "x", vectors="x", matrices="A", order=2, layout=layout
    )
    assert d.verified is True
    _check_hessian(d, (t.T * A * t)[0], list(x), {"n": n})
    s = x.applyfunc(lambda e: 1 / (1 + sp.exp(-e)))
    d = matcalc.derive("sigmoid(x) @ A @ sigmoid(x)", "x", vectors="x,v", matrices="A", hvp="v")
    assert d.verified is True
    ours = d.explicit(n=n)
    expected = sp.hessian((s.T * A * s)[0], list(x)) * v
    point = {
        e: sp.Rational(k % 5 - 2, 3) for k, e in enumerate(sorted(expected.free_symbols, key=str))
    }
    for a, b in zip(ours, expected):
        assert abs(sp.N(a.xreplace(point) - b.xreplace(point), 30)) < 1e-20
