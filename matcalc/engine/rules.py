"""The paper's scalar derivative rules (§2), one entry per expression class.

Each class's entry in ``RULES`` (a ``ScalarRule``) holds all that the engine asks of
it in one place: the rule's ``name`` (a ``steps.Rule``: catalogue ids), the derivative's
``value``, and whether the rule differentiates the expression with no intermediate
variable (``simple``).  Entries are found by walking ``type(expr).__mro__``, as SymPy's
printers do, so a new function class needs one entry in ``RULES`` (or none: the
``sympy.Function`` entry covers f(u) of one argument).

``differentiate(definition, wrt, evaluated)`` gives both together (a ``Local``): the
name is read off the definition as written (x·x² is the product rule, as the user typed
it), the value is that of its evaluated form (3x²).  ``rule_for``, ``local_derivative``
and ``is_simple`` are the three parts on their own.

Kinks follow the paper's convention: the derivative of max(0, z) is 0 at z = 0,
written 1[z > 0] (``Heaviside(z, 0)``), and the derivative of |x| is sign(x),
which is also 0 at 0.  sign(x) itself jumps at 0 and is constant elsewhere: its
derivative is 0 (SymPy's 2·δ(x) is 0 away from 0, and has no value at 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Abs, Add, DiracDelta, Expr, Heaviside, Max, Min, Mul, Pow, S, Symbol, sign
from sympy.core.function import AppliedUndef

from matcalc.functions import sigmoid
from matcalc.steps import Math, Rule

KINK_FUNCTIONS = (Abs, Max, Min)


@dataclass(frozen=True, slots=True)
class Local:
    """A local derivative: the rule that gives it, and its value (a compact Jacobian for a
    vector problem)."""

    rule: Rule
    value: Math


def depends(expr: Expr, wrt: Symbol) -> bool:
    return wrt in expr.free_symbols


def _constant_factors(expr: Mul, wrt: Symbol) -> tuple[list[Expr], list[Expr]]:
    varying = [a for a in expr.args if depends(a, wrt)]
    constant = [a for a in expr.args if not depends(a, wrt)]
    return varying, constant


# --- names: read off the expression as written ---------------------------------------


def _add_rule(expr: Add, wrt: Symbol) -> Rule:
    """The sum (difference) rule, and the rule of its one varying term where the others
    are constants: ∂/∂y (2x + y⁸) is the sum rule and the power rule."""
    negative = any(a.could_extract_minus_sign() for a in expr.args[1:])
    rule = Rule.named("difference" if negative and len(expr.args) == 2 else "sum")
    varying = [a for a in expr.args if depends(a, wrt)]
    if len(varying) != 1:
        return rule
    term = varying[0]
    if isinstance(term, Mul) and term.args[0] == -1:
        term = Mul(*term.args[1:])  # x - y⁸: the power rule of y⁸, not a multiple
    return rule if term == wrt else rule.and_part(rule_for(term, wrt))


def _mul_rule(expr: Mul, wrt: Symbol) -> Rule:
    varying, constant = _constant_factors(expr, wrt)
    if len(varying) == 1:
        inner = varying[0]
        if inner == wrt or not constant:
            return rule_for(inner, wrt) if inner != wrt else Rule.named("constant_multiple")
        return Rule.named("constant_multiple").and_part(rule_for(inner, wrt))
    reciprocal = [a for a in varying if isinstance(a, Pow) and a.exp.is_negative]
    return Rule.named("quotient" if reciprocal else "product")


def _pow_rule(expr: Pow, wrt: Symbol) -> Rule:
    base, exp = expr.args
    if depends(base, wrt) and depends(exp, wrt):
        return Rule.named("logarithmic")
    if depends(exp, wrt):
        return Rule.named("function", "exp") if base == sympy.E else Rule.named("exponential")
    if exp == sympy.S.Half:
        return Rule.named("power_sqrt")
    return Rule.named("power")


def _function_rule(expr: Expr, wrt: Symbol) -> Rule:
    name = "ln" if isinstance(expr, sympy.log) else type(expr).__name__
    return Rule.named("function", name)


def _abs_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("abs")


def _sign_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("sign")


def _step_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("step")


def _max_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("function", type(expr).__name__.lower())


def _undefined_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("unknown_function", type(expr).__name__)


# --- values: of the evaluated expression -----------------------------------------------


def _diff(expr: Expr, wrt: Symbol) -> Expr:
    return sympy.diff(expr, wrt)


def _monomial(expr: Expr, wrt: Symbol) -> Expr | None:
    """``sympy.diff(expr, wrt)`` of c·wrt^k (k and c free of wrt), the same expression
    without SymPy's derivative machinery (which costs most of a local step); else None.

    SymPy's product rule sums, over the factors, the product with that factor
    differentiated: every term but the varying factor's is 0.  With a symbolic k SymPy
    writes k·x^k/x; the power rule's k·x^(k - 1) is how a person writes it."""
    if expr == wrt:
        return S.One
    if isinstance(expr, Pow) and expr.base == wrt and not depends(expr.exp, wrt):
        return expr.exp * wrt ** (expr.exp - 1)
    if isinstance(expr, Mul):
        varying = [a for a in expr.args if depends(a, wrt)]
        if len(varying) == 1 and (varying[0] == wrt or isinstance(varying[0], Pow)):
            d = _monomial(varying[0], wrt)
            if d is not None:
                return Mul(*(d if a is varying[0] else a for a in expr.args))
    return None


def _mul_value(expr: Expr, wrt: Symbol) -> Expr:
    value = _monomial(expr, wrt)  # c·wrt^k
    return sympy.diff(expr, wrt) if value is None else value


def _add_value(expr: Expr, wrt: Symbol) -> Expr:
    """Only the terms that contain wrt: linear in the size."""
    return Add(*(_mul_value(a, wrt) for a in expr.args if depends(a, wrt)))


def _pow_value(expr: Expr, wrt: Symbol) -> Expr:
    if expr.base == wrt and not depends(expr.exp, wrt):
        return expr.exp * wrt ** (expr.exp - 1)  # the power rule, without diff's machinery
    if expr.base == 0:  # 0^u is 0 for u > 0 (undefined for u < 0); SymPy: 0^u·ln 0 = nan
        return S.Zero
    return sympy.diff(expr, wrt)


def _sign_value(expr: Expr, wrt: Symbol) -> Expr:
    return S.Zero  # constant on each side of its jump


def _maxmin_value(expr: Expr, wrt: Symbol) -> Expr:
    if sum(1 for a in expr.args if a.free_symbols) >= 2:
        return _selected(expr, wrt)
    return sympy.diff(expr, wrt)


def _function_value(expr: Expr, wrt: Symbol) -> Expr:
    if expr.args == (wrt,):
        textbook = _TEXTBOOK.get(type(expr))
        if textbook is not None:
            return textbook(wrt)
        return expr.fdiff(1)  # f'(u) for a one-argument function of u itself
    return sympy.diff(expr, wrt)


_TEXTBOOK: dict[type, Callable[[Expr], Expr]] = {
    sympy.asec: lambda u: 1 / (sympy.Abs(u) * sympy.sqrt(u**2 - 1)),
    sympy.acsc: lambda u: -1 / (sympy.Abs(u) * sympy.sqrt(u**2 - 1)),
    sympy.acsch: lambda u: -1 / (sympy.Abs(u) * sympy.sqrt(1 + u**2)),
}
"""Derivatives as tables write them where SymPy's own differ in form: SymPy's asec′(u) is
1/(u²·√(1 − 1/u²)), which is 1/(|u|·√(u² − 1)) for every real u ≠ 0 (both imaginary
alike for |u| < 1), and so for acsc and acsch (−1/(u²·√(1 + 1/u²)))."""


# --- simple: one rule, no intermediate variable ------------------------------------


def _pow_simple(expr: Expr, wrt: Symbol) -> bool:
    base, exp = expr.args
    if base == wrt:  # x^c (power rule) or x^x (logarithmic differentiation)
        return exp == wrt or not depends(exp, wrt)
    return exp == wrt and not depends(base, wrt)


def _one_varying_simple(expr: Expr, wrt: Symbol) -> bool:
    varying = [a for a in expr.args if depends(a, wrt)]
    return len(varying) == 1 and (varying[0] == wrt or is_simple(varying[0], wrt))


def _arguments_simple(expr: Expr, wrt: Symbol) -> bool:
    return all(a == wrt or not depends(a, wrt) for a in expr.args)


def _never_simple(expr: Expr, wrt: Symbol) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class ScalarRule:
    """What the engine asks of one class of expression: the name of its rule, the value
    of its derivative, and whether that rule alone differentiates it."""

    name: Callable[[Expr, Symbol], Rule]
    value: Callable[[Expr, Symbol], Expr] = _diff
    simple: Callable[[Expr, Symbol], bool] = _never_simple


RULES: dict[type, ScalarRule] = {
    Add: ScalarRule(_add_rule, _add_value, _one_varying_simple),
    Mul: ScalarRule(_mul_rule, _mul_value, _one_varying_simple),
    Pow: ScalarRule(_pow_rule, _pow_value, _pow_simple),
    Abs: ScalarRule(_abs_rule, _function_value, _arguments_simple),
    sign: ScalarRule(_sign_rule, _sign_value, _arguments_simple),
    Heaviside: ScalarRule(_step_rule, _sign_value, _arguments_simple),  # 1[u > 0], in order 2
    Max: ScalarRule(_max_rule, _maxmin_value, _arguments_simple),
    Min: ScalarRule(_max_rule, _maxmin_value, _arguments_simple),
    sigmoid: ScalarRule(_function_rule, _function_value, _arguments_simple),
    AppliedUndef: ScalarRule(_undefined_rule, _diff, _arguments_simple),
    sympy.Function: ScalarRule(_function_rule, _function_value, _arguments_simple),
}
"""Expression class -> its rule; the first class of ``type(expr).__mro__`` found wins."""


def _entry(expr: Expr) -> ScalarRule | None:
    for cls in type(expr).__mro__:
        entry = RULES.get(cls)
        if entry is not None:
            return entry
    return None


def differentiate(definition: Expr, wrt: Symbol, evaluated: Expr) -> Local:
    """The local derivative of ``definition`` by ``wrt``: the rule is read off the
    definition as written (x·x² is the product rule), the value is the derivative of its
    evaluated form ``evaluated``."""
    return Local(rule=rule_for(definition, wrt), value=local_derivative(evaluated, wrt))


def rule_for(expr: Expr, wrt: Symbol) -> Rule:
    """The name of the rule that differentiates ``expr`` by ``wrt``."""
    if not depends(expr, wrt):
        return Rule.named("constant")
    if expr == wrt:
        return Rule.named("identity")
    entry = _entry(expr)
    return entry.name(expr, wrt) if entry is not None else Rule.named("derivative")


def local_derivative(expr: Expr, wrt: Symbol) -> Expr:
    """∂expr/∂wrt with the paper's convention at kinks (0 there)."""
    entry = _entry(expr)
    value = entry.value(expr, wrt) if entry is not None else sympy.diff(expr, wrt)
    if value.has(DiracDelta):  # d sign(u)/du = 2·δ(u): 0 wherever it has a value
        value = value.replace(DiracDelta, lambda *args: S.Zero)
    if value.has(Heaviside):
        value = value.replace(
            lambda e: isinstance(e, Heaviside) and e.args[1:] != (0,),
            lambda e: Heaviside(e.args[0], 0),
        )
    return value


def _selected(expr: Expr, wrt: Symbol) -> Expr:
    """d max(a₁, …, aₙ) (or min) with gates that select exactly one argument everywhere.

    Where two varying arguments coincide on a whole interval (max(-x, |x|) for x < 0, or
    max(x, |x|) for x > 0) exactly one of them must pass its derivative, which is then the
    derivative of all of them; with the paper's 0 at a kink on every gate the derivative
    there would be 0 (found by the slow fuzz run).  The last maximal argument is selected:
    gᵢ = Πⱼ<ᵢ 1[aⱼ ≤ aᵢ] · Πⱼ>ᵢ 1[aᵢ > aⱼ] for max, and the same with the sides swapped for
    min.  With two arguments that is 1[a > b]·a′ + (1 − 1[a > b])·b′.
    """
    args = expr.args
    bigger = (lambda u, v: u - v) if isinstance(expr, Max) else (lambda u, v: v - u)
    total = S.Zero
    for i, a in enumerate(args):
        da = sympy.diff(a, wrt)
        if da == 0:
            continue
        gate = S.One
        for j, b in enumerate(args):
            if j < i:
                gate *= 1 - Heaviside(bigger(b, a), 0)  # aⱼ is not past aᵢ
            elif j > i:
                gate *= Heaviside(bigger(a, b), 0)  # aᵢ is past aⱼ
        total += gate * da
    return total


def has_kink(expr: Expr) -> bool:
    return expr.has(*KINK_FUNCTIONS)


def is_simple(expr: Expr, wrt: Symbol) -> bool:
    """True when one named rule differentiates ``expr`` with no intermediate variable.

    That is wrt itself, wrt**c, c**wrt, f(wrt) for a one-argument function,
    max/min of wrt and constants, a constant multiple of one of these, or one of
    these plus constants.  (x + x**2 is not simple: x reaches it along two paths,
    which is the total-derivative chain rule's case.)
    """
    if expr == wrt or not depends(expr, wrt):
        return True
    entry = _entry(expr)
    return entry is not None and entry.simple(expr, wrt)
