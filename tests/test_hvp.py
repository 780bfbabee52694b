"""Hessian-vector products H·v: truth from ``sympy.hessian`` of hand-built explicit
components times v, compared numerically at random points; forms written by hand."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import matcalc
from matcalc.cli import main
from matcalc.errors import UsageError
from matcalc.linalg import Diag, Ident, MatProd, T
from matcalc.steps import HessianVector, Stage

N, n = 2, 3  # the sizes matcalc writes components at first (N = 2, n = 3)


def _vec(name, size):
    return sp.Matrix([sp.Symbol(f"{name}_{i}", real=True) for i in range(1, size + 1)])


def _mat(name, rows, cols):
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def _logistic():
    X, w, y, b = _mat("X", N, n), _vec("w", n), _vec("y", N), sp.Symbol("b", real=True)
    z = X * w + sp.ones(N, 1) * b
    s = [1 / (1 + sp.exp(-z[i])) for i in range(N)]
    return -sum(y[i] * sp.log(s[i]) + (1 - y[i]) * sp.log(1 - s[i]) for i in range(N)), w


def _least_squares():
    X, w, y = _mat("X", N, n), _vec("w", n), _vec("y", N)
    r = X * w - y
    return (r.T * r)[0], w


def _quadratic():
    x, A = _vec("x", n), _mat("A", n, n)
    return (x.T * A * x)[0], x


def _logsumexp():
    z = _vec("z", n)
    return sp.log(sum(sp.exp(e) for e in z)), z


def _norm():
    x = _vec("x", n)
    return sum(e**2 for e in x), x


LOGISTIC = "-sum(y * ln(sigmoid(X @ w + b)) + (1 - y) * ln(1 - sigmoid(X @ w + b)))"
# (input, wrt, declarations, truth, the form textbooks write, hand-written)
CASES = [
    (
        "logsumexp(z)",
        "z",
        dict(vectors=["z", "v"]),
        _logsumexp,
        "softmax(z) ⊗ v - softmax(z)·(softmax(z)·v)",
    ),
    ("x.T @ A @ x", "x", dict(vectors=["x", "v"], matrices=["A"]), _quadratic, "(A + Aᵀ)·v"),
    (
        LOGISTIC,
        "w",
        dict(vectors=["w", "y:N", "v"], matrices=["X:N,n"]),
        _logistic,
        "Xᵀ·(σ(Xw + b) ⊗ (1 - σ(Xw + b)) ⊗ Xv)",
    ),
    ("norm(x)**2", "x", dict(vectors=["x", "v"]), _norm, "2v"),
    (
        "norm(X @ w - y)**2",
        "w",
        dict(vectors=["w", "y:N", "v"], matrices=["X:N,n"]),
        _least_squares,
        "2Xᵀ·Xv",
    ),
]


def _close(a, b, seed=0):
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(seed)
    for _ in range(4):
        point = {s: sp.Float(rng.uniform(-1.5, 1.5), 30) for s in symbols}
        va, vb = (complex(sp.N(e.xreplace(point), 20)) for e in (a, b))
        assert abs(va - vb) <= 1e-9 * max(1, abs(vb)), (a, b, point)


@pytest.mark.parametrize(("text", "wrt", "kw", "truth", "form"), CASES)
def test_hvp_equals_sympy_hessian_times_v(text, wrt, kw, truth, form):
    d = matcalc.derive(text, wrt, hvp="v", **kw)
    assert d.verified is True
    f, x = truth()
    reference = sp.hessian(f, list(x)) * _vec("v", n)
    ours = d.explicit(n=3, N=2) if "N" in str(kw) else d.explicit(n=3)
    assert ours.shape == (n, 1)
    for a, b in zip(ours, reference):
        _close(a, b)
    assert d.result_text == form


@pytest.mark.parametrize(("text", "wrt", "kw", "truth", "form"), CASES)
def test_hvp_never_forms_the_hessian(text, wrt, kw, truth, form):
    d = matcalc.derive(text, wrt, hvp="v", **kw)
    # no n×n matrix in the result: no diag(·), no identity, no outer product a·bᵀ
    assert not d.result.has(Diag, Ident)
    assert not any(
        isinstance(p, MatProd) and any(isinstance(a, T) for a in p.args[1:])
        for p in sp.preorder_traversal(d.result)
    )


def test_hvp_steps_follow_the_hessian():
    d = matcalc.derive("logsumexp(z)", "z", vectors="z,v", hvp="v")
    stages = [s for s in d.steps if isinstance(s, Stage)]
    (step,) = [s for s in d.steps if isinstance(s, HessianVector)]
    assert [s.order for s in stages] == [1, 2]
    assert step.hessian == stages[-1].result  # H·v multiplies the Hessian of stage 2
    assert step.rules == ("diag", "outer", "product")
    assert d.problem.order == 2 and str(d.problem.hvp) == "v"
    text = d.to_text()
    assert "Stage 3 — Multiply the Hessian by v, without forming it" in text
    assert "diag(a)·v = a ⊗ v" in text
    assert "Hv = softmax(z) ⊗ v - softmax(z)·(softmax(z)·v)" in text
    assert "SymPy's Hessian of the components times the" in text


def test_hvp_in_every_format():
    d = matcalc.derive("logsumexp(z)", "z", vectors="z,v", hvp="v")
    assert r"\otimes \mathbf{v}" in d.to_latex()
    assert r"\mathbf{H} \mathbf{v}" in d.to_markdown()
    data = json.loads(d.to_json())
    kinds = [s["kind"] for s in data["steps"]]
    assert kinds[-2:] == ["hessian_vector", "verify"]
    assert data["steps"][-1]["hvp"] == "v"
    assert data["steps"][-2]["rule"] == "Hessian-vector product"
    assert "第 3 阶段" in d.to_text(lang="zh")


def test_hvp_as_numpy_code():
    d = matcalc.derive(LOGISTIC, "w", vectors=["w", "y:N", "v"], matrices=["X:N,n"], hvp="v")
    space: dict = {}
    exec(compile(d.to_numpy(), "<matcalc>", "exec"), space)  # matcalc's own output
    (fn,) = [v for k, v in space.items() if k.startswith("hvp_")]
    rng = np.random.default_rng(0)
    X, w, y, v = rng.normal(size=(2, 3)), rng.normal(size=3), rng.random(2), rng.normal(size=3)
    b = 0.3
    f, _ = _logistic()
    point = {sp.Symbol("b", real=True): b}
    for name, value in (("X", X), ("w", w), ("y", y)):
        for index, entry in np.ndenumerate(value):
            suffix = "".join(str(i + 1) for i in index)
            point[sp.Symbol(f"{name}_{suffix}", real=True)] = entry
    hessian = sp.hessian(f, list(_vec("w", n))).xreplace(point)
    truth = np.array(hessian.evalf(), dtype=float) @ v.reshape(-1, 1)
    assert np.allclose(fn(w, v, X, y, b), truth, rtol=1e-9)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (dict(vectors="z,v", hvp="q"), "must be a declared vector: q"),
        (dict(vectors="z,v", hvp="z"), "must differ from the variable z"),
        (dict(vectors="z,v:m", hvp="v"), "v has length m but z has length n"),
        (dict(vectors="z,v", hvp="v", order=3), "is of order 2"),
    ],
)
def test_hvp_refusals(kw, message):
    with pytest.raises(UsageError, match=message):
        matcalc.derive("logsumexp(z)", "z", **kw)


def test_hvp_cli():
    runner = CliRunner()
    ok = runner.invoke(
        main, ["derive", "logsumexp(z)", "--vector", "z,v", "--wrt", "z", "--hvp", "v"]
    )
    assert ok.exit_code == 0, ok.output
    assert "Hv = softmax(z) ⊗ v - softmax(z)·(softmax(z)·v)" in ok.output
    bad = runner.invoke(
        main, ["derive", "logsumexp(z)", "--vector", "z", "--wrt", "z", "--hvp", "v"]
    )
    assert bad.exit_code == 2
    assert "must be a declared vector: v" in bad.output
