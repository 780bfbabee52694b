"""Results in the form people write them (issue 11 §1): each case asserts the printed
one-line result, not only its value.  The cases are in ``tests/data/forms.txt`` (in the
style of markdown-it-py's fixture files); the expected forms are the textbooks'."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

import matcalc

FORMS = Path(__file__).parent / "data" / "forms.txt"


def _cases():
    for number, line in enumerate(FORMS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        expr, options, expected = (f.strip() for f in line.split(" | "))
        kw: dict = {}
        for item in filter(None, (o.strip() for o in options.split(";"))):
            key, _, value = item.partition("=")
            if key in ("vectors", "matrices"):
                kw[key] = value.split(",") if key == "vectors" else [value]
            elif key == "order":
                kw[key] = int(value)
            else:
                kw[key] = value
        yield pytest.param(expr, kw, expected, id=f"line{number}")


CASES = list(_cases())


def test_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("expr", "kw", "expected"), CASES)
def test_textbook_form(expr, kw, expected):
    if "matrices" in kw:  # "A,X" declares two n×n matrices; "X:N,n" one of that shape
        value = kw["matrices"][0]
        kw["matrices"] = [value] if ":" in value else value.split(",")
    wrt = kw.pop("wrt", None)
    d = matcalc.derive(expr, wrt, **kw)
    assert d.verified is True
    assert d.result_text == expected


def test_the_cross_entropy_note_states_the_assumption():
    d = matcalc.derive("-sum(y * ln(softmax(z)))", "z", vectors=["y", "z"])
    text = d.to_text(width=0)
    assert "when the entries of y sum to 1" in text
    assert "(softmax(z) - y)ᵀ" in text
    assert "(recognise softmax; transpose of a sum)" in text
    assert "y 的各分量之和为 1" in d.to_text(lang="zh", width=0)


# Element-wise bodies simplified as the scalar function of one entry (learner brief §1).
# Truth: the Jacobian of explicit components x_1..x_3, simplified by SymPy, and the
# hand-written textbook form.
ELEMENTWISE = [
    ("sum(tan(x)*cot(x))", "0", lambda xs: [0, 0, 0]),
    ("sum(tan(x)*cos(x))", "cos(x)ᵀ", lambda xs: [sympy.cos(v) for v in xs]),
    ("sum(sec(x)*cos(x) + x)", "𝟏ᵀ", lambda xs: [1, 1, 1]),
]


@pytest.mark.parametrize(("expr", "expected", "row"), ELEMENTWISE)
def test_elementwise_bodies_collapse_like_scalars(expr, expected, row):
    d = matcalc.derive(expr, "x", vectors=["x"])
    assert d.verified is True
    assert d.result_text == expected
    xs = sympy.symbols("x_1:4", real=True)
    assert sympy.simplify(d.explicit(n=3) - sympy.Matrix([row(xs)])) == sympy.zeros(1, 3)


def test_elementwise_diagonal_terms_add_up():
    # the Jacobian of tan(x) ⊗ cot(x) = 1 (entry by entry) is the zero matrix
    d = matcalc.derive("tan(x)*cot(x)", "x", vectors=["x"])
    assert d.verified is True
    assert d.result_text == "0"
    assert d.explicit(n=3) == sympy.zeros(3, 3)
    xs = sympy.symbols("x_1:4", real=True)
    components = sympy.Matrix([sympy.tan(v) * sympy.cot(v) for v in xs])
    assert sympy.simplify(components.jacobian(xs)) == sympy.zeros(3, 3)


def test_elementwise_keeps_dot_products_and_sums_as_they_are():
    # sum(exp(x))·sum(tan(x) ⊗ cot(x)): the dot/sum stands in as a symbol, the body tidies
    d = matcalc.derive("sum(exp(x))*sum(tan(x)*cot(x))", "x", vectors=["x"])
    assert d.verified is True
    xs = sympy.symbols("x_1:4", real=True)
    y = sum(sympy.exp(v) for v in xs) * sum(sympy.tan(v) * sympy.cot(v) for v in xs)
    truth = sympy.Matrix([y]).jacobian(xs)
    assert sympy.simplify(d.explicit(n=3) - truth) == sympy.zeros(1, 3)
    assert "cot(x)²" not in d.result_text
