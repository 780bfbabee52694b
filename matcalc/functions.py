"""Functions matcalc adds to SymPy's: the logistic sigmoid, and the gate 1[z > 0] decided.

SymPy has no sigmoid, so it is a small ``Function`` subclass whose derivative is
σ(x)(1 − σ(x)), as deep-learning texts write it.  ``rewrite_builtin`` turns it
back into exponentials for checking against SymPy's own derivative.
"""

from __future__ import annotations

import sympy
from sympy import Function, Heaviside, Integer


class sigmoid(Function):
    """σ(x) = 1 / (1 + e^(−x))."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + sympy.exp(-arg))

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        return (1 / (1 + sympy.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer) -> str:
        return rf"\sigma\left({printer._print(self.args[0])}\right)"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        arg = printer._print(self.args[0])
        name = "σ" if printer._use_unicode else "sigmoid"
        return prettyForm(*prettyForm(*arg.parens()).left(name))


def rewrite_builtin(expr):
    """Replace matcalc's own functions with SymPy built-ins (sigmoid → exp)."""
    if not expr.has(sigmoid):
        return expr
    return expr.replace(sigmoid, lambda a: 1 / (1 + sympy.exp(-a)))


def decide_gate(expr):
    """1[z > 0] (Heaviside(z, 0)) is 0 where SymPy knows z ≤ 0, e.g. 1[-x² > 0].

    SymPy's Heaviside only evaluates for z < 0 or z > 0; with the convention 1[0 > 0] = 0
    a z that is never positive decides it too (the gate of max(0, -x ⊗ x), element-wise).
    """
    if isinstance(expr, Heaviside) and expr.args[1:] == (0,) and expr.args[0].is_extended_nonpositive:
        return Integer(0)
    return expr
