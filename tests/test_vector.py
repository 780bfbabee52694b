"""Vector and matrix derivatives (§4–§6, §8, the Matrix Cookbook, DL staples).

Truth is built here by hand: explicit components (w_1, w_2, …, X_11, …) and
SymPy's ``Matrix.jacobian`` or element-wise ``diff``, at n = 2, 3 and 4.  The
engine's compact result is instantiated with ``Derivation.explicit`` and the two
are compared at random points (kinks use 1[z > 0] on our side and SymPy's
Heaviside on the other; random points never land on a kink).
"""

from __future__ import annotations

import random

import pytest
import sympy
from conftest import mat, vec
from sympy import ImmutableMatrix, Matrix, Max, Symbol, exp, log, sqrt

import matcalc
from matcalc.steps import ChainRule, Intermediate, LocalDerivative, TotalDerivative

b, z = sympy.symbols("b z", real=True)


def gradient(f, variables: Matrix) -> Matrix:
    """∂f/∂v as a 1×n row (numerator layout)."""
    return Matrix([[sympy.diff(f, v) for v in variables]])


def matrix_gradient(f, X: Matrix) -> Matrix:
    """∂f/∂X in numerator layout: the transpose of X's shape."""
    return Matrix(X.rows, X.cols, lambda i, j: sympy.diff(f, X[i, j])).T


def assert_same(ours: Matrix, truth: Matrix, seed: int = 0) -> None:
    ours, truth = Matrix(ours), Matrix(truth)
    assert ours.shape == truth.shape, (ours.shape, truth.shape)
    symbols = sorted(ours.free_symbols | truth.free_symbols, key=str)
    rng = random.Random(seed)
    for _ in range(3):
        point = {s: sympy.Rational(rng.randint(-150, 150) or 7, 97) for s in symbols}
        a = ours.xreplace(point).evalf(20)
        t = truth.xreplace(point).evalf(20)
        for x, y in zip(a, t):
            assert abs(complex(x) - complex(y)) < 1e-9 * max(1, abs(complex(y))), (ours, truth)


def check(text, wrt, truth_fn, *, vectors=(), matrices=(), sizes=(2, 3, 4), layout="numerator"):
    d = matcalc.derive(text, wrt, vectors=list(vectors), matrices=list(matrices), layout=layout)
    assert d.verified is True
    declared = {str(s) for decl in d.problem.declarations for s in (decl.rows, decl.cols)}
    for n in sizes:
        truth = truth_fn(n)
        if layout == "denominator":
            truth = truth.T
        dims = {"n": n, "N": n + 1}
        assert_same(d.explicit(**{k: v for k, v in dims.items() if k in declared}), truth)
    return d


# --- §5: the neuron ---------------------------------------------------------------


def neuron(n):
    w, x = vec("w", n), vec("x", n)
    return Max(0, (w.T * x)[0] + b), w, x


def test_neuron_by_w_has_the_papers_intermediates():
    d = check(
        "max(0, w @ x + b)", "w", lambda n: gradient(neuron(n)[0], neuron(n)[1]), vectors=["w", "x"]
    )
    inters = [s for s in d.steps if isinstance(s, Intermediate)]
    assert [str(i.definition) for i in inters] == ["w*x", "VSum(u_1)", "b + u_2", "Max(0, u_3)"]
    jacobians = [str(s.value) for s in d.steps if isinstance(s, LocalDerivative)]
    assert jacobians == ["Diag(x)", "T(Ones(n))", "1", "Heaviside(u_3, 0)"]
    (chain,) = [s for s in d.steps if isinstance(s, ChainRule)]
    assert str(chain.value) == "Heaviside(u_3, 0)*T(x)"  # 1ᵀ diag(x) = xᵀ


def test_neuron_by_b():
    check(
        "max(0, w @ x + b)",
        "b",
        lambda n: Matrix([[sympy.diff(neuron(n)[0], b)]]),
        vectors=["w", "x"],
    )


def test_neuron_dot_spelling_and_denominator_layout():
    check(
        "max(0, dot(w, x) + b)",
        "w",
        lambda n: gradient(neuron(n)[0], neuron(n)[1]),
        vectors=["w", "x"],
        layout="denominator",
    )


# --- §6: the loss, with the gate inside the sum (errata 6) -------------------------


def loss(n, N):
    X, w, y = mat("X", N, n), vec("w", n), vec("y", N)
    act = [Max(0, (X[i, :] * w)[0] + b) for i in range(N)]
    return sum((y[i] - act[i]) ** 2 for i in range(N)) / N, X, w, y


LOSS = "sum((y - max(0, X @ w + b))**2) / N"
LOSS_DECL = dict(vectors=["w", "y:N"], matrices=["X:N,n"])


def test_mse_loss_by_w():
    d = check(
        LOSS,
        "w",
        lambda n: gradient(loss(n, n + 1)[0], loss(n, n + 1)[2]),
        **LOSS_DECL,
    )
    text = str(d.result)
    assert "Heaviside" in text and "MatProd" in text  # the gate multiplies each sample's error


def test_mse_loss_by_b_is_not_the_average_error():
    d = check(LOSS, "b", lambda n: Matrix([[sympy.diff(loss(n, n + 1)[0], b)]]), **LOSS_DECL)
    # one sample active (z = 2), one not (z = -2): the gradient is (2/N)·e_1 = 1,
    # not the average error ((2 - 1) + (-2 - 5))/2 = -3
    value = d.explicit(n=1, N=2)[0]
    point = {
        Symbol("X_11", real=True): 1,
        Symbol("X_21", real=True): -1,
        Symbol("w_1", real=True): 2,
        b: 0,
        Symbol("y_1", real=True): 1,
        Symbol("y_2", real=True): 5,
    }
    assert value.subs(point) == 1


# --- §4.2–4.4 and §8: element-wise, scalar expansion, sum reduction ---------------


@pytest.mark.parametrize(
    "text,wrt,fn",
    [
        ("w + x", "w", lambda w, x: w + x),
        ("w - x", "x", lambda w, x: w - x),
        ("w * x", "w", lambda w, x: w.multiply_elementwise(x)),
        ("w * x", "x", lambda w, x: w.multiply_elementwise(x)),
        ("w / x", "x", lambda w, x: Matrix([a / c for a, c in zip(w, x)])),
        (
            "sin(w) * exp(x)",
            "w",
            lambda w, x: Matrix([sympy.sin(a) * exp(c) for a, c in zip(w, x)]),
        ),
    ],
)
def test_element_wise_binary_operators_are_diagonal(text, wrt, fn):
    def truth(n):
        w, x = vec("w", n), vec("x", n)
        return fn(w, x).jacobian(w if wrt == "w" else x)

    check(text, wrt, truth, vectors=["w", "x"])


@pytest.mark.parametrize(
    "text,wrt,fn",
    [
        ("x + z", "x", lambda x: x + z * sympy.ones(x.rows, 1)),
        ("x + z", "z", lambda x: x + z * sympy.ones(x.rows, 1)),
        ("x * z", "x", lambda x: x * z),
        ("x * z", "z", lambda x: x * z),
    ],
)
def test_scalar_expansion(text, wrt, fn):
    def truth(n):
        x = vec("x", n)
        return fn(x).jacobian(x if wrt == "x" else [z])

    check(text, wrt, truth, vectors=["x"])


@pytest.mark.parametrize(
    "text,wrt,fn",
    [
        ("sum(x)", "x", lambda x: sum(x)),
        ("sum(x * z)", "x", lambda x: sum(x) * z),
        ("sum(x * z)", "z", lambda x: sum(x) * z),
    ],
)
def test_sum_reduction(text, wrt, fn):
    def truth(n):
        x = vec("x", n)
        return gradient(fn(x), x if wrt == "x" else Matrix([z]))

    check(text, wrt, truth, vectors=["x"])


# --- the Matrix Cookbook's vector identities, both layouts ---------------------------

COOKBOOK = [
    ("a.T @ x", "x", lambda a, x, A: (a.T * x)[0]),
    ("x.T @ a", "x", lambda a, x, A: (x.T * a)[0]),
    ("x.T @ A @ x", "x", lambda a, x, A: (x.T * A * x)[0]),
    ("x.T @ x", "x", lambda a, x, A: (x.T * x)[0]),
    ("norm(x)**2", "x", lambda a, x, A: sum(e**2 for e in x)),
    ("norm(x - a)", "x", lambda a, x, A: sqrt(sum(e**2 for e in x - a))),
]


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("text,wrt,fn", COOKBOOK)
def test_cookbook_scalar_identities(text, wrt, fn, layout):
    def truth(n):
        a, x, A = vec("a", n), vec("x", n), mat("A", n, n)
        return gradient(fn(a, x, A), x)

    check(text, wrt, truth, vectors=["a", "x"], matrices=["A"], layout=layout)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_cookbook_vector_identities(layout):
    def ax(n):
        x, A = vec("x", n), mat("A", n, n)
        return (A * x).jacobian(x)

    def unit(n):
        x, a = vec("x", n), vec("a", n)
        r = x - a
        return (r / sqrt(sum(e**2 for e in r))).jacobian(x)

    check("A @ x", "x", ax, vectors=["x"], matrices=["A"], layout=layout)
    check("(x - a) / norm(x - a)", "x", unit, vectors=["a", "x"], layout=layout, sizes=(2, 3))


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
@pytest.mark.parametrize("wrt", ["s", "x", "A"])
def test_weighted_quadratic_form(wrt, layout):
    decl = dict(vectors=["x:m", "s:n"], matrices=["A:m,n", "W:m,m"])

    def truth(n):
        m = n + 1
        x, s, A, W = vec("x", m), vec("s", n), mat("A", m, n), mat("W", m, m)
        r = x - A * s
        f = (r.T * W * r)[0]
        return matrix_gradient(f, A) if wrt == "A" else gradient(f, {"s": s, "x": x}[wrt])

    d = matcalc.derive("(x - A @ s).T @ W @ (x - A @ s)", wrt, layout=layout, **decl)
    assert d.verified is True
    for n in (2, 3):
        t = truth(n)
        assert_same(d.explicit(n=n, m=n + 1), t.T if layout == "denominator" else t)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_matrix_gradients(layout):
    decl = dict(vectors=["a:N", "b:n"], matrices=["X:N,n"])

    def abx(n):
        a, bb, X = vec("a", n + 1), vec("b", n), mat("X", n + 1, n)
        return matrix_gradient((a.T * X * bb)[0], X)

    def abxt(n):
        a, bb, X = vec("a", n + 1), vec("b", n), mat("X", n + 1, n)
        return matrix_gradient((bb.T * X.T * a)[0], X)

    check("a.T @ X @ b", "X", abx, layout=layout, **decl)
    check("b.T @ X.T @ a", "X", abxt, layout=layout, **decl)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_trace_of_xa(layout):
    def truth(n):
        X, A = mat("X", n, n), mat("A", n, n)
        return matrix_gradient((X * A).trace(), X)

    check("trace(X @ A)", "X", truth, matrices=["X", "A"], layout=layout)


# --- deep-learning staples -------------------------------------------------------


def softmax(x):
    e = x.applyfunc(exp)
    return e / sum(e)


@pytest.mark.parametrize(
    "text,fn",
    [
        ("sigmoid(x)", lambda x: x.applyfunc(lambda t: 1 / (1 + exp(-t)))),
        ("softmax(x)", softmax),
    ],
)
def test_vector_activations(text, fn):
    d = matcalc.derive(text, "x", vectors=["x"])
    assert d.verified is True
    for n in (2, 3):
        x = vec("x", n)
        ours = Matrix(d.explicit(n=n)).applyfunc(lambda e: e.rewrite(exp))
        assert_same(ours, fn(x).jacobian(x))


def test_log_sum_exp_and_cross_entropy():
    for text, fn in [
        ("logsumexp(x)", lambda x, y: log(sum(x.applyfunc(exp)))),
        (
            "-(y.T @ ln(softmax(x)))",
            lambda x, y: -sum(y[i] * log(softmax(x)[i]) for i in range(x.rows)),
        ),
    ]:
        d = matcalc.derive(text, "x", vectors=["x", "y"])
        assert d.verified is True, text
        for n in (2, 3):
            x, y = vec("x", n), vec("y", n)
            assert_same(d.explicit(n=n), gradient(fn(x, y), x))


def test_dense_layer_by_b():
    def truth(n):
        W, x, bb = mat("W", n, n), vec("x", n), vec("b", n)
        z_ = W * x + bb
        return z_.applyfunc(lambda t: Max(0, t)).jacobian(bb)

    d = check("max(0, W @ x + b)", "b", truth, vectors=["x", "b"], matrices=["W"])
    assert any(isinstance(s, LocalDerivative) and "Diag" in str(s.value) for s in d.steps)


def test_total_derivative_when_x_is_used_twice():
    d = matcalc.derive("x.T @ A @ x", "x", vectors=["x"], matrices=["A"])
    assert any(isinstance(s, TotalDerivative) for s in d.steps)


def test_shape_errors_are_clear():
    with pytest.raises(matcalc.ShapeError) as info:
        matcalc.derive("w @ X", "w", vectors=["w"], matrices=["X:N,n"])
    assert "n" in str(info.value) and "N" in str(info.value)


def test_explicit_components_are_named_like_the_paper():
    d = matcalc.derive("x.T @ a", "x", vectors=["a", "x"])
    m = d.explicit(n=3)
    assert m == ImmutableMatrix([[Symbol(f"a_{i}", real=True) for i in (1, 2, 3)]])


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_dense_layer_by_w_is_a_kronecker_product(layout):
    """∂y/∂W by vec(W), W's rows stacked: diag(1[Wx + b > 0]) ⊗ xᵀ."""

    def truth(n):
        m = n + 1
        W, x, bb = mat("W", m, n), vec("x", n), vec("b", m)
        y = (W * x + bb).applyfunc(lambda t: Max(0, t))
        return y.jacobian(list(W))

    d = matcalc.derive(
        "max(0, W @ x + b)", "W", vectors=["x", "b:m"], matrices=["W:m,n"], layout=layout
    )
    assert d.verified is True
    assert "Kron" in str(d.result)
    for n in (2, 3):
        t = truth(n)
        assert_same(d.explicit(n=n, m=n + 1), t.T if layout == "denominator" else t)


# --- mean(v): the sum over the length -------------------------------------------------


@pytest.mark.parametrize(
    "text,wrt,fn",
    [
        ("mean(x)", "x", lambda x, A, y: sum(x) / len(x)),
        ("mean(x * z)", "z", lambda x, A, y: sum(x) * z / len(x)),
        ("mean(exp(x))", "x", lambda x, A, y: sum(exp(e) for e in x) / len(x)),
        ("mean((y - A @ x)**2)", "x", lambda x, A, y: sum(e**2 for e in y - A * x) / len(y)),
        ("ln(mean(x**2))", "x", lambda x, A, y: log(sum(e**2 for e in x) / len(x))),
    ],
)
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_mean_is_the_sum_over_the_length(text, wrt, fn, layout):
    def truth(n):
        x, y, A = vec("x", n), vec("y", n + 1), mat("A", n + 1, n)
        return gradient(fn(x, A, y), x if wrt == "x" else Matrix([z]))

    d = check(
        text, wrt, truth, vectors=["x", "y:N"], matrices=["A:N,n"], sizes=(2, 3), layout=layout
    )
    assert "mean reduction" in d.to_text() or wrt == "z"


def test_mean_rule_and_its_jacobian():
    d = matcalc.derive("mean(x)", "x", vectors=["x"])
    (step,) = [s for s in d.steps if isinstance(s, LocalDerivative)]
    assert str(step.rule) == "mean reduction (1ᵀ over the length)"
    assert "𝟏ᵀ/n" in d.to_text()
    assert "均值归约" in d.to_text(lang="zh")


def test_mean_of_a_matrix_or_a_scalar_is_refused():
    with pytest.raises(matcalc.UnsupportedError):
        matcalc.derive("mean(X)", "X", matrices=["X"])
    with pytest.raises(matcalc.ShapeError):
        matcalc.derive("mean(z)", "z", vectors=["x"])


@pytest.mark.parametrize(
    "text, kw",
    [
        ("(w @ x) * (x @ w)", dict(wrt="w")),
        ("(v @ x) * (x @ x)", dict(wrt="x", hvp="v")),
    ],
)
def test_a_dot_product_and_its_mirror_collect(text, kw):
    """w·x and x·w are one number: the result collects them (2(w·x)·xᵀ, 4v(v·x)), where it
    showed (w·x + x·w)·xᵀ and 2v(v·x) + 2v(x·v)."""
    from matcalc.linalg import VDot

    d = matcalc.derive(text, vectors="w,x,v", **kw)
    assert d.verified is True
    dots = d.result.atoms(VDot)
    assert not any(VDot(b, a) in dots for a, b in (p.args for p in dots) if a != b)
    assert "w·x + x·w" not in d.to_text()
