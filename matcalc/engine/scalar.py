"""Scalar calculus for the four steps (§2–§4.5.2): ordinary derivatives.

``derive_scalar`` runs the paper's steps (``chain.derive_chain``) with
``ScalarCalculus``: local derivatives come from the named rules in ``rules``,
the chain rule multiplies them and the total-derivative rule adds the paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Mul, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.chain import derive_chain
from matcalc.engine.rules import Local, differentiate, is_simple
from matcalc.engine.simplify import evaluate, tidy
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
