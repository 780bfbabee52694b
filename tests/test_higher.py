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
    with pytest.raises(UnsupportedError, match="not supported yet"):
        matcalc.derive("w @ x", wrt="w", vectors="w,x", order=2)
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
