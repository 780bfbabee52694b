"""The engine on the seed's worked examples (§2–§4.5).

Truth comes from outside the engine: ``sympy.diff`` and ``Matrix.jacobian`` of
expressions built here by hand.  The step assertions pin the paper's method:
which intermediates, which rules, which combination.
"""

from __future__ import annotations

import sympy
from conftest import same
from sympy import Matrix, Rational, cos, diff, exp, log, sin, symbols

import matcalc
from matcalc.steps import (
    Assemble,
    ChainRule,
    Intermediate,
    LocalDerivative,
    Note,
    Part,
    Simplify,
    Substitute,
    TotalDerivative,
    Verify,
)

x, y, z = symbols("x y z", real=True)


def of_kind(d, cls):
    return [s for s in d.steps if isinstance(s, cls)]


def test_chain_of_four_intermediates_like_the_paper():
    d = matcalc.derive("ln(sin(x**3)**2)")
    inters = of_kind(d, Intermediate)
    u1, u2, u3, u4 = symbols("u_1 u_2 u_3 u_4", real=True)
    assert [i.name for i in inters] == [u1, u2, u3, u4]
    assert [sympy.srepr(i.definition) for i in inters] == [
        sympy.srepr(x**3),
        sympy.srepr(sin(u1)),
        sympy.srepr(u2**2),
        sympy.srepr(log(u3)),
    ]
    assert inters[-1].output == symbols("y", real=True)
    locals_ = of_kind(d, LocalDerivative)
    assert [(s.of, s.wrt) for s in locals_] == [(u1, x), (u2, u1), (u3, u2), (u4, u3)]
    assert [s.rule for s in locals_] == [
        "power rule",
        "derivative of sin",
        "power rule",
        "derivative of ln",
    ]
    assert [s.value for s in locals_] == [3 * x**2, cos(u1), 2 * u2, 1 / u3]
    (chain,) = of_kind(d, ChainRule)
    assert [(f.of, f.wrt) for f in chain.factors] == [(u4, u3), (u3, u2), (u2, u1), (u1, x)]
    assert of_kind(d, Substitute) and of_kind(d, Simplify)
    truth = diff(log(sin(x**3) ** 2), x)
    assert same(d.result, truth)
    # the paper's form: cos over sin, not 1/tan
    assert d.result == 6 * x**2 * cos(x**3) / sin(x**3)
    assert d.verified is True


def test_sin_x_squared_uses_a_single_u():
    d = matcalc.derive("sin(x**2)")
    inters = of_kind(d, Intermediate)
    assert [str(i.name) for i in inters] == ["u", "y"]
    assert inters[0].definition == x**2
    assert same(d.result, diff(sin(x**2), x))


def test_simple_expressions_need_no_intermediates():
    for text, expr in [("x**3", x**3), ("3*x**2", 3 * x**2), ("sin(x)", sin(x)), ("x + 1", x + 1)]:
        d = matcalc.derive(text)
        assert not of_kind(d, Intermediate), text
        (local,) = of_kind(d, LocalDerivative)
        assert same(d.result, diff(expr, x))
    assert of_kind(matcalc.derive("x**3"), LocalDerivative)[0].rule == "power rule"


def test_partial_derivatives_hold_the_other_variable_constant():
    dx = matcalc.derive("3*x**2*y", "x")
    (local,) = of_kind(dx, LocalDerivative)
    assert local.partial and local.held_constant == (y,)
    assert local.rule == "constant multiple rule, power rule"
    assert dx.result == diff(3 * x**2 * y, x) == 6 * x * y
    dy = matcalc.derive("3*x**2*y", "y")
    # errata 2: the second partial is by y and gives 3x²
    assert dy.result == diff(3 * x**2 * y, y) == 3 * x**2


def test_gradient_is_a_row_in_numerator_layout():
    d = matcalc.derive("3*x**2*y", "x,y")
    assert d.problem.kind == "gradient"
    assert d.result.shape == (1, 2)
    assert d.result == Matrix([[diff(3 * x**2 * y, v) for v in (x, y)]])
    assert len(of_kind(d, Part)) == 2 and of_kind(d, Assemble)
    assert matcalc.derive("3*x**2*y", "x,y", layout="denominator").result.shape == (2, 1)


def test_gradient_of_the_papers_g_errata_1():
    d = matcalc.derive("2*x + y**8", "x,y")
    assert d.result == Matrix([[2, 8 * y**7]])


def test_jacobian_of_two_functions_both_layouts():
    f, g = 3 * x**2 * y, 2 * x + y**8
    truth = Matrix([f, g]).jacobian([x, y])
    d = matcalc.derive(["3*x**2*y", "2*x + y**8"], "x,y")
    assert d.result == truth and d.verified
    assert d.result.shape == (2, 2)
    den = matcalc.derive(["3*x**2*y", "2*x + y**8"], "x,y", layout="denominator")
    assert den.result == truth.T
    assert of_kind(den, Assemble)[0].layout == "denominator"


def test_total_derivative_for_x_plus_x_squared():
    d = matcalc.derive("x + x**2")
    (total,) = of_kind(d, TotalDerivative)
    assert [t.via for t in total.terms] == [None, symbols("u", real=True)]
    assert d.result == diff(x + x**2, x) == 1 + 2 * x


def test_total_derivative_for_sin_of_x_plus_x_squared():
    d = matcalc.derive("sin(x + x**2)")
    u1, u2, u3 = symbols("u_1 u_2 u_3", real=True)
    inters = of_kind(d, Intermediate)
    assert [i.name for i in inters] == [u1, u2, u3]
    assert inters[1].depends_on == (x, u1)
    totals = of_kind(d, TotalDerivative)
    assert [t.of for t in totals] == [u2, u3]
    assert totals[0].value == 1 + 2 * x
    assert same(d.result, diff(sin(x + x**2), x))


def test_product_rule_is_a_special_case_of_the_total_derivative():
    d = matcalc.derive("x*x**2")
    inters = of_kind(d, Intermediate)
    assert isinstance(inters[-1].definition, sympy.Mul)  # stays a product, as typed
    assert of_kind(d, TotalDerivative)
    assert d.result == diff(x**3, x) == 3 * x**2


def test_constant_factor_is_kept():
    d = matcalc.derive("9*(x + x**2)")
    last = of_kind(d, Intermediate)[-1]
    assert last.definition.args[0] == 9
    assert same(d.result, 9 * (1 + 2 * x))


def test_vector_chain_rule_for_functions_of_one_scalar():
    d = matcalc.derive(["ln(x**2)", "sin(3*x)"], "x")
    truth = Matrix([log(x**2), sin(3 * x)]).jacobian([x])
    assert d.result == Matrix([2 / x, 3 * cos(3 * x)]) and same(d.result[0], truth[0])
    (chain,) = of_kind(d, ChainRule)
    assert chain.vector
    jf, jg = chain.factor_values
    assert jf.shape == (2, 2) and jf[0, 1] == 0 and jf[1, 0] == 0  # element-wise: diagonal
    assert jg.shape == (2, 1)


def test_kinks_follow_the_papers_convention():
    d = matcalc.derive("max(0, 3*x + 1)")
    assert of_kind(d, Note)
    assert d.result.subs(x, Rational(-1, 3)) == 0  # 0 at the kink
    assert d.result.subs(x, 1) == 3
    assert d.verified


def test_undefined_functions_give_f_prime_of_g():
    d = matcalc.derive("f(g(x))")
    f, g = sympy.Function("f", real=True), sympy.Function("g", real=True)
    assert d.result == diff(f(g(x)), x)
    assert d.verified


def test_every_result_carries_a_verification():
    for text in ["exp(x)*sin(x)", "x/(1 + x**2)", "sqrt(1 + x**2)", "sigmoid(2*x)", "atan(x**2)"]:
        d = matcalc.derive(text)
        (check,) = of_kind(d, Verify)
        assert check.status is True, text


def test_quotient_and_exponentials_against_sympy():
    cases = {
        "x/(1 + x**2)": x / (1 + x**2),
        "exp(-x**2/2)": exp(-(x**2) / 2),
        "2**x": 2**x,
        "x**x": x**x,
        "ln(x)/x": log(x) / x,
        "sigmoid(x)": 1 / (1 + exp(-x)),
    }
    for text, expr in cases.items():
        d = matcalc.derive(text)
        result = d.result.rewrite(exp) if "sigmoid" in text else d.result
        assert same(result, diff(expr, x)), text
        assert d.verified, text


def test_x_to_the_x_is_one_rule_and_a_note_says_how():
    """x^x is one named rule, like sin(x): it was an intermediate u = x^x equal to y itself,
    then dy/dx = du/dx.  The rule's name alone does not say how, so a note does."""
    d = matcalc.derive("x**x")
    (local,) = of_kind(d, LocalDerivative)
    assert local.rule == "logarithmic differentiation"
    assert same(local.value, diff(x**x, x))
    assert not of_kind(d, Intermediate)
    (note,) = [s for s in d.steps if isinstance(s, Note) and s.topic == "logarithmic"]
    assert "e^(g·ln f)" in d.to_text()
    inner = matcalc.derive("sin(x**x) + x")  # inside a larger expression: the note once
    assert [s.topic for s in inner.steps if isinstance(s, Note)] == ["logarithmic"]
    assert [s.topic for s in matcalc.derive("x**sin(x)").steps if isinstance(s, Note)] == []


def test_a_note_is_shown_once_not_in_every_part_or_stage():
    """The kink note was repeated in ∂f/∂x and ∂f/∂y, and x^x's note in both stages."""
    for text, wrt, order in [("max(x, y)*x", "x,y", 1), ("x**x", "x", 2)]:
        d = matcalc.derive(text, wrt, order=order)
        topics = [s.topic for s in walk_all(d.steps) if isinstance(s, Note)]
        assert len(topics) == len(set(topics)) == 1, (text, topics)


def walk_all(steps):
    for step in steps:
        yield step
        yield from walk_all(getattr(step, "steps", ()))


def test_local_derivative_of_a_monomial_is_sympys_own_expression():
    """c·u^k is differentiated without sympy.diff's machinery, to the very same expression
    (printed forms follow the tree, so equal value is not enough)."""
    from matcalc.engine.rules import local_derivative

    x, y, u = symbols("x y u_1", real=True)
    cases = [
        3 * x,
        x * y,
        -x,
        x * y * sympy.pi,
        sympy.sqrt(2) * x**2,
        y * x ** Rational(1, 2),
        x**-1 * y,
        -3 * x ** Rational(-3, 2) * exp(y),
        u * x + 2 * x**3 - y / x,
        (y + 1) ** 5 * x**-2,
    ]
    for e in cases:
        assert sympy.srepr(local_derivative(e, x)) == sympy.srepr(diff(e, x)), e
    # a symbolic power: the power rule's k·x^(k - 1), not SymPy's own k·x^k/x (red team)
    assert local_derivative(x**y * y, x) == y**2 * x ** (y - 1)
    assert sympy.simplify(local_derivative(x**y * y, x) - diff(x**y * y, x)) == 0
