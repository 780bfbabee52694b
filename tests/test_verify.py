"""Verification never lies: True only when SymPy agrees, None ("not verified") when it
cannot tell, False only for a real disagreement; domains and kinks follow the stated
conventions (``matcalc.verify``'s docstring)."""

from __future__ import annotations

import pytest
import sympy
from conftest import flat
from sympy import Heaviside, Integer, cos, exp, sin, sqrt

import matcalc
from matcalc import verify as V

x = sympy.Symbol("x", real=True)


f = sympy.Function("f", real=True)


def test_points_are_spread_over_scales_at_full_precision():
    """Not a 1/1000 grid in [-2, 2]: points near 0, moderate and large, both signs, and
    not rounded (a grid made sin(1000πx) vanish at every point)."""
    sampler = V._Sampler((x,), [x], 0, V.NEVER)
    values = [float(sampler.draw(k)[x]) for k in range(40)]
    assert min(map(abs, values)) < 1e-3 and max(map(abs, values)) > 10
    assert any(v < 0 for v in values) and any(v > 0 for v in values)
    assert all(abs(v * 1000 - round(v * 1000)) > 1e-9 for v in values if abs(v) > 1e-3)


def test_symbolic_check_first():
    check = V.verify(2 * x, x + x)
    assert check.status is True and check.method == "symbolic"
    # sin² + cos² = 1, written in one of them (cos² = 1 − sin² or sin² = 1 − cos²)
    check = V.verify(sin(x) ** 2 + cos(x) ** 2, Integer(1))
    assert check.status is True and check.method == "symbolic"


def test_numbers_decide_what_algebra_cannot():
    """sin(2x) = 2·sin(x)·cos(x) is beyond expand/cancel: the seeded numeric check says True."""
    check = V.verify(sin(2 * x), 2 * sin(x) * cos(x))
    assert check.status is True and check.method == "numeric"
    assert check.points == V.POINTS
    assert "points" in str(check.explanation)  # a catalogue sentence; English as str()


def test_numeric_check_is_seeded():
    a = V.compare(sin(x) ** 2 + cos(x) ** 2, Integer(1), seed=3)
    b = V.compare(sin(x) ** 2 + cos(x) ** 2, Integer(1), seed=3)
    assert a == b


def test_a_real_difference_is_false():
    check = V.verify(sin(x) ** 2 + cos(x) ** 2, Integer(1) + x / 10**6)
    assert check.status is False and "NOT VERIFIED" in str(check.explanation)


def test_undefined_functions_are_never_checked_numerically():
    """sin(2f) = 2·sin(f)·cos(f) cannot be decided symbolically, and f has no values: None."""
    check = V.verify(sin(2 * f(x)), 2 * sin(f(x)) * cos(f(x)))
    assert check.status is None
    assert str(check.explanation).startswith("Not verified")


def test_too_few_finite_points_is_undecided():
    """Both sides exceed 1e12 at every point: no evidence either way."""
    big = exp(exp(x**2 + 30))
    check = V.verify(big * sin(2 * x), 2 * big * sin(x) * cos(x))
    assert check.status is None and check.points < 3


def test_no_evidence_is_not_verified_in_every_format():
    """A result that equals the derivative only by sin(2x) = 2·sin(x)·cos(x) (beyond the
    symbolic check) of a function above 1e12 at every point: ``check`` has no evidence either way,
    and every format says "not verified" (never "Verified" on no points)."""
    d = matcalc.derive("exp(exp(x**2 + 30))", "x")
    assert d.verified is True  # its own result: SymPy agrees symbolically
    disguised = d.result * (1 + sin(2 * x) - 2 * sin(x) * cos(x))
    check = V.check(d.problem, disguised)
    assert check.status is None and check.points < V.MIN_POINTS
    assert V.check(d.problem, d.result).status is True
    d = matcalc.Derivation(problem=d.problem, steps=(*d.steps[:-1], check), result=disguised)
    assert d.verified is None
    assert "not verified" in d.to_text().lower()
    assert "not verified" in d.to_markdown().lower()
    assert "not verified" in d.to_latex().lower()
    assert d.to_dict()["verified"] is None


# -- domains: principal branches, poles, kinks --------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "ln(x)",
        "ln(-x)",
        "ln(x - 10)",
        "sqrt(x - 5)",
        "asin(2*x)",
        "1/x",
        "x**(-3)",
        "1/(x - 1/2)",
        "ln(abs(x))",
        "acosh(x)",
    ],
)
def test_ln_of_negative_values_and_poles_verify(text):
    """ln(x) at x < 0 is ln|x| + iπ on both sides; |x| ≥ 0.05 keeps points off the pole at 0,
    and a point that lands on a pole (1/(x - 1/2)) is skipped."""
    d = matcalc.derive(text, "x")
    assert d.verified is True, text


@pytest.mark.parametrize(
    "text,at_zero",
    [("max(0, x)", 0), ("abs(x)", 0), ("min(0, x)", 0), ("max(x, 0)**2", 0), ("abs(x)*x", 0)],
)
def test_kinks_use_zero(text, at_zero):
    d = matcalc.derive(text, "x")
    assert d.verified is True
    assert d.result.subs(x, 0) == at_zero


def test_step_functions_compare_with_the_same_convention():
    """SymPy's Heaviside(0) is 1/2, matcalc's is 0: compared as H(z, 0), off the kink."""
    check = V.verify(Heaviside(x, 0), Heaviside(x))
    assert check.status is True


def test_a_point_on_the_kink_is_skipped():
    """At x = 1/2 the step differs (0 vs 1); such points are skipped, not called a bug."""
    on = {x: sympy.Float(0.5, 30)}
    assert not V._Sampler((x,), [Heaviside(x - sympy.Rational(1, 2), 0)], 0, V.NEVER).usable(on)
    assert not V._Sampler((x,), [sympy.Max(x, 1 - x)], 0, V.NEVER).usable(on)
    assert V._Sampler((x,), [sympy.Abs(x)], 0, V.NEVER).usable({x: sympy.Float(0.25, 30)})


def test_a_point_where_an_inner_part_is_complex_is_in_the_domain():
    """|√x| is real at x = -1: the point belongs to the input's domain."""
    point = {x: sympy.Float(-1, 30)}
    assert V._Sampler((x,), [sympy.Abs(sqrt(x))], 0, V.NEVER).usable(point)
    assert not V._Sampler((x,), [sqrt(x)], 0, V.NEVER).usable(point)


def test_abs_of_a_complex_value_is_right_on_the_whole_line():
    """d|u|/du = sign(u) is a statement about real u; where u = √x is imaginary,
    sign(√x)/(2√x) is wrong. |√x| is written √|x| (|a^p| = |a|^p for every a), whose
    derivative sign(x)/(2√|x|) holds for every x ≠ 0: compared here with a central
    difference of |√x| at x < 0, where the input is real."""
    d = matcalc.derive("abs(sqrt(x))", "x")
    assert d.verified is True
    assert "|a^p| = |a|^p" in flat(d.to_text())
    e = sympy.Abs(sympy.sqrt(x))
    h = sympy.Float("1e-20", 60)

    def at(v):
        return e.xreplace({x: v}).evalf(50)

    for x0 in (-0.7, -2.5):
        truth = complex(
            ((at(sympy.Float(x0, 60) + h) - at(sympy.Float(x0, 60) - h)) / (2 * h)).evalf(20)
        )
        assert complex(d.result.xreplace({x: sympy.Float(x0, 30)}).evalf(20)) == pytest.approx(
            truth
        )


@pytest.mark.parametrize("scale", [12, 25])
def test_the_numeric_check_is_relative_to_the_values(scale):
    """d/dx |x|/10¹² answered with the wrong sign, ten times too large, or 0 was called
    equal to SymPy's sign(x)/10¹²: the numeric check compared against an absolute floor of
    10⁻⁹.  It is relative now; at 10⁻²⁵, below what 30-digit evaluation can tell from 0,
    agreeing values are no evidence (undecided, never True)."""
    x = sympy.Symbol("x", real=True)
    typed = sympy.Abs(x) / 10**scale
    truth = sympy.sign(x) / 10**scale  # by hand: |x|' = sign(x)
    expected = False if scale == 12 else None
    for wrong in (-truth, 10 * truth, sympy.Integer(0)):
        check = V.verify(wrong, truth, domain=[typed], truths=[(typed, x)])
        assert check.status is expected, wrong


def test_a_zero_derivative_sympy_does_not_cancel_is_verified_where_it_vanishes():
    # red-team find: sum(softmax(x)) is 1, so its gradient is 0; SymPy's derivative of the
    # components is a sum of terms near 1 that cancel, too large for the bounded cancel, and
    # both sides within noise of 0 were no evidence: "Not verified" (exit 1) on a right result
    d = matcalc.derive("sum(softmax(x))", "x", vectors="x")
    assert d.verified is True
    xs = sympy.symbols("x_1:4", real=True)
    total = sum(exp(v) for v in xs)
    truth = sympy.Matrix([[sum(exp(v) / total for v in xs)]]).jacobian(xs)
    assert sympy.simplify(truth) == sympy.zeros(1, 3) == d.explicit(n=3)
    # what tells a vanishing value from a small one: it shrinks with the precision
    point = {x: sympy.Float("0.7", 30)}
    assert V._vanishes(
        sympy.diff(sum(exp(v) / total for v in xs), xs[0]), dict.fromkeys(xs, point[x])
    )
    tiny = Integer(10) ** -40
    assert not V._vanishes(exp(x + tiny) - exp(x), point)  # 2·10⁻⁴⁰, by cancellation
    assert not V._vanishes(tiny * cos(x), point)  # 10⁻⁴⁰·cos(0.7), no cancellation
    # and a 0 against a derivative that is tiny everywhere is still no evidence
    assert V.compare(Integer(0), Integer(10) ** -25 * cos(x))[0] is not True


def test_a_value_below_e_to_the_minus_ten_thousand_is_zero_not_undefined():
    """exp(-10⁶x²) at x = 0.1 is e^(-10⁴): the evaluator refused it as out of range, so
    every point of [-2, 2] was unusable (``matcalc check`` then said no point was defined).
    For ``check`` it is 0 to every digit compared (and a 0 is never its evidence); e^(+10⁴)
    stays out of range."""
    x = sympy.Symbol("x", real=True)
    at = {x: sympy.Float(0.1, 30)}
    with V.underflow_to_zero():
        assert V._value(exp(-(10**6) * x**2), at) == 0
        assert V._value(x ** (-(10**5)), at) is None  # 10^(10⁵): far out of range
        assert V._value(x ** (10**5), at) == 0
        assert V._value(exp(10**6 * x**2), at) is None
    # verify counts equal values as evidence: there the point makes no claim, so minus the
    # derivative of exp(-10⁶(x² + 1)), 0 = 0 at every point in 30 digits, is not Verified
    assert V._value(exp(-(10**6) * x**2), at) is None
    f = exp(-(10**6) * (x**2 + 1))
    truth = sympy.diff(f, x)
    assert V.verify(-truth, truth, domain=[f]).status is not True
    assert V.verify(truth, truth, domain=[f]).status is True


def test_roots_of_one_sum_written_two_ways_are_one_root():
    """x(x + 3) + 2 = x² + 3x + 2 by hand: before the zero test, the two roots become one
    (over one denominator they were two factors, each multiplying the other's numerator);
    roots of different sums stay as they are."""
    X = sympy.Symbol("x", real=True)
    same = X / sqrt(X**2 + 3 * X + 2) - X / sqrt(X * (X + 3) + 2)
    assert V._same_radicands(same) == 0
    assert V._symbolically_zero(same)
    other = X / sqrt(X**2 + 3 * X + 3) - X / sqrt(X * (X + 3) + 2)
    assert V._same_radicands(other) == other
    assert not V._symbolically_zero(other)


def test_a_norm_written_two_ways_is_verified_symbolically():
    """‖Ax + 2Ax ⊗ w‖ and ‖(2w + 1) ⊗ Ax‖ are one norm: the check proves the entries equal
    to SymPy's Jacobian without numbers."""
    d = matcalc.derive("norm(A@x + (A@x + A@x)*w)", "x", vectors=["x", "w"], matrices=["A"])
    assert d.verified and d.steps[-1].method == "symbolic"
