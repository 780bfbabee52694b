"""Decimals in, decimals out (``matcalc.render.decimals``): the expected forms are worked by
hand, d/dx (0.1x² + 1.5·sin x) = 0.2x + 1.5·cos x, not read off matcalc's output."""

from __future__ import annotations

import json

import pytest
import sympy

import matcalc
from matcalc.render.decimals import decimal_form, typed_decimals


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("0.1*x^2 + 1.5*sin(x)", "0.2·x + 1.5·cos(x)"),
        ("1.5x", "1.5"),
        ("0.1*x^2", "0.2·x"),
        ("1e-3*x^3", "0.003·x²"),
        ("0.5*ln(x)", "0.5/x"),
        ("max(0.01*x, x)", "1 - 0.99·𝟙[x < 0]"),
        ("x/3 + 0.5*x^2", "1/3 + x"),  # 1/3 has no decimal that ends: a fraction
        ("x^2.5", "2.5·x^(3/2)"),  # an exponent stays a fraction
        ("x^2/10", "x/5"),  # typed as a fraction: shown as one
    ],
)
def test_a_result_is_shown_with_decimals_where_the_input_has_them(text, result):
    assert matcalc.derive(text).result_text == result


def test_every_format_but_json_shows_the_decimals():
    d = matcalc.derive("0.1*x^2 + 1.5*sin(x)")
    text = d.to_text(width=0)
    assert "y = 0.1·x² + 1.5·sin(x)" in text and "dy/dx = 0.2·x + 1.5·cos(x)" in text
    assert "0.2 x + 1.5 \\cos" in d.to_latex() and "0.2 x + 1.5 \\cos" in d.to_markdown()
    # JSON keeps the exact fractions, for programs; the value is the same
    data = json.loads(d.to_json())
    x = sympy.Symbol("x", real=True)
    truth = x / 5 + 3 * sympy.cos(x) / 2
    assert sympy.expand(sympy.sympify(data["result"], locals={"x": x}) - truth) == 0
    assert "." not in data["result"]
    assert sympy.expand(d.result - truth) == 0 and not d.result.atoms(sympy.Float)  # exact


def test_a_check_shows_the_students_decimals():
    c = matcalc.check("x^2/10", "0.2x")
    assert c.verdict == "right"
    assert "dy/dx = 0.2·x" in c.to_text()


def test_decimal_form_keeps_the_value():
    x = sympy.Symbol("x", real=True)
    for e in (x / 5 + sympy.Rational(3, 2), sympy.Rational(1, 64) * x, (2 * x + 15) / 10):
        shown = decimal_form(e)
        assert abs(sympy.N((shown - e).subs(x, 0.7))) < 1e-12
    assert decimal_form(sympy.Rational(1, 128) * x) == sympy.Rational(1, 128) * x  # 7 places
    assert typed_decimals(["2.5*x"]) and typed_decimals([".5x"]) and typed_decimals(["1e-3"])
    assert not typed_decimals(["x2 + log10(x)", "x**2/10"])
