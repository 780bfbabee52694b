"""Scalar calculus for the four steps (§2–§4.5.2): ordinary derivatives.

``derive_scalar`` runs the paper's steps (``chain.derive_chain``) with
``ScalarCalculus``: local derivatives come from the named rules in ``rules``,
the chain rule multiplies them and the total-derivative rule adds the paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Heaviside, Max, Min, Mul, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.chain import derive_chain
from matcalc.engine.rules import Local, differentiate, is_simple
from matcalc.engine.simplify import decide, evaluate, singular_power, tidy
from matcalc.steps import Step


class ScalarCalculus:
    """Ordinary derivatives of scalar expressions."""

    def __init__(self, deadline: Deadline = NEVER):
        self.deadline = deadline

    def is_simple(self, expr: Expr, wrt: Symbol) -> bool:
        return is_simple(expr, wrt)

    def differentiate(self, definition: Expr, wrt: Symbol) -> Local:
        self.deadline.check()
        return differentiate(definition, wrt, evaluate(definition))

    def product(self, factors: Sequence[Expr]) -> Expr:
        return Mul(*factors)

    def display_product(self, factors: Sequence[Expr]) -> Expr:
        return Mul(*factors, evaluate=False)

    def total(self, terms: Sequence[Expr]) -> Expr:
        return Add(*terms)

    def name(self, symbol: Symbol, definition: Expr) -> Symbol:
        return symbol

    def tidy(self, expr: Expr) -> Expr:
        self.deadline.check()
        if expr.has(Heaviside) and expr.has(Max, Min):
            expr = gated(expr)
        return tidy(expr)

    def present(self, expr: Expr) -> Expr:
        return expr


def derive_scalar(
    expr: Expr,
    wrt: Symbol,
    *,
    output: Symbol,
    partial: bool,
    taken: set[Symbol],
    deadline: Deadline = NEVER,
) -> tuple[tuple[Step, ...], Expr]:
    """The steps and the simplified result of d(expr)/d(wrt)."""
    calc = ScalarCalculus(deadline)
    return derive_chain(expr, wrt, calc, output=output, partial=partial, taken=taken)


GATE_ROUNDS = 4


def gated(expr: Expr) -> Expr:
    """In a product with 1[g > 0] (or 1 - 1[-g > 0], that is g ≥ 0), a max or min that the
    gate decides is the argument it selects, where the product would otherwise be 0·∞.

    1[x > 0]/(2√max(0, x)), the derivative of √relu(x), is 0/0 for every x < 0, where
    √relu(x) is 0 and its derivative 0; under its gate max(0, x) is x, and 1[x > 0]/(2√x)
    is 0 there.  Likewise acos(min(1, max(-1, x))) for |x| > 1.  Only a max or min in a
    base raised to a negative or fractional power is replaced (a factor that can be
    infinite where the gate is 0): d relu(x)²/dx stays 2·max(0, x)·1[x > 0]."""

    def fix(mul: Expr) -> Expr:
        positive = [a.args[0] for a in mul.args if isinstance(a, Heaviside)]
        # 1 - 1[z > 0] (or 1[z > 0] - 1): z ≤ 0, so -z ≥ 0 (a max's gate for an argument
        # not past another)
        positive += [z for a in mul.args if (z := _closed_gate(a)) is not None]
        if not positive:
            return mul
        factors = list(mul.args)
        changed = False
        for _ in range(GATE_ROUNDS):
            new = [
                a if isinstance(a, Heaviside) or not singular_power(a) else decide(a, positive)
                for a in factors
            ]
            gates = [decide(g, positive) for g in positive]
            if new == factors and gates == positive:
                break
            changed = changed or new != factors
            factors, positive = new, gates
        return Mul(*factors) if changed else mul

    return expr.replace(lambda e: isinstance(e, Mul), fix)


def _closed_gate(factor: Expr) -> Expr | None:
    """-z for a factor 1 - 1[z > 0] or 1[z > 0] - 1 (nonzero only where z ≤ 0), else None."""
    if not isinstance(factor, Add) or len(factor.args) != 2:
        return None
    for h in factor.args:
        if isinstance(h, Heaviside) and -1 in factor.args:
            return -h.args[0]
        if isinstance(h, Mul) and h.args[0] == -1 and len(h.args) == 2 and 1 in factor.args:
            gate = h.args[1]
            if isinstance(gate, Heaviside):
                return -gate.args[0]
    return None
