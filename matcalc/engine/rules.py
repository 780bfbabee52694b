"""The paper's scalar derivative rules (§2), one small function per expression class.

``rule_for(expr, wrt)`` names the rule (a ``steps.Rule``: catalogue ids) that differentiates ``expr`` with respect to
``wrt`` when every other symbol is held constant; ``local_derivative`` computes
the value.  Rules are chosen by walking ``type(expr).__mro__`` through ``RULES``,
as SymPy's printers do, so a new function class needs one entry in ``RULES``.

Kinks follow the paper's convention: the derivative of max(0, z) is 0 at z = 0,
written 1[z > 0] (``Heaviside(z, 0)``), and the derivative of |x| is sign(x),
which is also 0 at 0.  sign(x) itself jumps at 0 and is constant elsewhere: its
derivative is 0 (SymPy's 2·δ(x) is 0 away from 0, and has no value at 0).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Abs, Add, DiracDelta, Expr, Heaviside, Max, Min, Mul, Pow, S, Symbol, sign
from sympy.core.function import AppliedUndef

from matcalc.functions import sigmoid
from matcalc.steps import Rule

KINK_FUNCTIONS = (Abs, Max, Min)


def depends(expr: Expr, wrt: Symbol) -> bool:
    return wrt in expr.free_symbols


def _constant_factors(expr: Mul, wrt: Symbol) -> tuple[list[Expr], list[Expr]]:
    varying = [a for a in expr.args if depends(a, wrt)]
    constant = [a for a in expr.args if not depends(a, wrt)]
    return varying, constant


def _add_rule(expr: Add, wrt: Symbol) -> Rule:
    negative = any(a.could_extract_minus_sign() for a in expr.args[1:])
    return Rule.named("difference" if negative and len(expr.args) == 2 else "sum")


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


def _max_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("function", type(expr).__name__.lower())


def _undefined_rule(expr: Expr, wrt: Symbol) -> Rule:
    return Rule.named("unknown_function", type(expr).__name__)


RULES: dict[type, Callable[[Expr, Symbol], Rule]] = {
    Add: _add_rule,
    Mul: _mul_rule,
    Pow: _pow_rule,
    Abs: _abs_rule,
    sign: _sign_rule,
    Max: _max_rule,
    Min: _max_rule,
    sigmoid: _function_rule,
    AppliedUndef: _undefined_rule,
    sympy.Function: _function_rule,
}


def rule_for(expr: Expr, wrt: Symbol) -> Rule:
    """The name of the rule that differentiates ``expr`` by ``wrt``."""
    if not depends(expr, wrt):
        return Rule.named("constant")
    if expr == wrt:
        return Rule.named("identity")
    for cls in type(expr).__mro__:
        rule = RULES.get(cls)
        if rule is not None:
            return rule(expr, wrt)
    return Rule.named("derivative")


def _monomial(expr: Expr, wrt: Symbol) -> Expr | None:
    """``sympy.diff(expr, wrt)`` of c·wrt^k (k a number, c free of wrt), the same expression
    without SymPy's derivative machinery (which costs most of a local step); else None.

    SymPy's product rule sums, over the factors, the product with that factor
    differentiated: every term but the varying factor's is 0."""
    if expr == wrt:
        return S.One
    if isinstance(expr, Pow) and expr.base == wrt and expr.exp.is_Number:
        return expr.exp * wrt ** (expr.exp - 1)  # (with a symbolic k SymPy writes k·x^k/x)
    if isinstance(expr, Mul):
        varying = [a for a in expr.args if depends(a, wrt)]
        if len(varying) == 1 and (varying[0] == wrt or isinstance(varying[0], Pow)):
            d = _monomial(varying[0], wrt)
            if d is not None:
                return Mul(*(d if a is varying[0] else a for a in expr.args))
    return None


def _diff(expr: Expr, wrt: Symbol) -> Expr:
    value = _monomial(expr, wrt)
    return sympy.diff(expr, wrt) if value is None else value


def local_derivative(expr: Expr, wrt: Symbol) -> Expr:
    """∂expr/∂wrt with the paper's convention at kinks (0 there)."""
    if isinstance(expr, Add):  # only the terms that contain wrt: linear in the size
        value = Add(*(_diff(a, wrt) for a in expr.args if depends(a, wrt)))
    elif isinstance(expr, sign):  # constant on each side of its jump
        value = S.Zero
    elif isinstance(expr, (Max, Min)) and sum(1 for a in expr.args if a.free_symbols) >= 2:
        value = _selected(expr, wrt)
    elif isinstance(expr, Pow) and expr.base == wrt and not depends(expr.exp, wrt):
        value = expr.exp * wrt ** (expr.exp - 1)  # the power rule, without diff's machinery
    elif (monomial := _monomial(expr, wrt)) is not None:
        value = monomial  # c·wrt^k
    elif (
        expr.args == (wrt,)
        and isinstance(expr, sympy.Function)
        and not isinstance(expr, AppliedUndef)
    ):
        value = expr.fdiff(1)  # f'(u) for a one-argument function of u itself
    else:
        value = sympy.diff(expr, wrt)
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
    if isinstance(expr, Pow):
        base, exp = expr.args
        return (base == wrt and not depends(exp, wrt)) or (exp == wrt and not depends(base, wrt))
    if isinstance(expr, (Mul, Add)):
        varying = [a for a in expr.args if depends(a, wrt)]
        return len(varying) == 1 and (varying[0] == wrt or is_simple(varying[0], wrt))
    if isinstance(expr, (Max, Min)):
        return all(a == wrt or not depends(a, wrt) for a in expr.args)
    if isinstance(expr, sympy.Function):
        return all(a == wrt or not depends(a, wrt) for a in expr.args)
    return False
