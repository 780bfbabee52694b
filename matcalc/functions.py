"""Functions matcalc adds to SymPy's: the logistic sigmoid, log₁₀ and log₂, the real cube
root, and the gate 1[z > 0] decided.

SymPy has no sigmoid, so it is a small ``Function`` subclass whose derivative is
σ(x)(1 − σ(x)), as deep-learning texts write it.  SymPy writes log₁₀(x) as ln(x)/ln(10) at
once, and its x**(1/3) is the complex principal root (∛(−8) = 1 + √3·i), so ``log10``,
``log2`` and ``cbrt`` (real: ∛(−8) = −2, as numpy's) are small classes too, so that the input
is echoed as typed (cbrt by its name: SymPy draws its own x**(1/3) as ∛x).
``rewrite_builtin`` turns them back into SymPy built-ins (exponentials, ln(x)/ln(b),
sign(x)·|x|^(1/3)) for checking against SymPy's own derivative.

To add one: a ``Function`` subclass with ``fdiff`` (the derivative), ``_eval_evalf``, and an
entry in ``BUILTIN_FORMS``; then its name in ``matcalc.parse.functions.FUNCTIONS`` (and a
complex approximation in ``matcalc.parse.guard._APPROX``) and, for a notation of its own,
``_latex``/``_pretty`` here and ``_print_<name>`` in ``matcalc.render.printing``.
"""

from __future__ import annotations

from typing import ClassVar

import sympy
from sympy import (
    Abs,
    Add,
    Function,
    Heaviside,
    Integer,
    Mul,
    Pow,
    Rational,
    integer_nthroot,
    log,
    sign,
)


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


class _FixedBaseLog(Function):
    """log_b(x) = ln(x)/ln(b) for a fixed base b: printed log₁₀(x), \\log_{10}(x)."""

    nargs = 1
    base: ClassVar[int]

    @classmethod
    def eval(cls, arg):
        if arg.is_zero:  # a pole, as SymPy's log(0)
            return sympy.zoo
        if isinstance(arg, Integer) and arg > 0:  # log10(1000) = 3; the parser bounds the size
            n, k = int(arg), 0
            while n % cls.base == 0:
                n, k = n // cls.base, k + 1
            if n == 1:
                return Integer(k)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return 1 / (self.args[0] * log(self.base))

    def _eval_rewrite_as_log(self, arg, **kwargs):
        return log(arg) / log(self.base)

    def _eval_is_extended_real(self):
        return True if self.args[0].is_extended_positive else None

    def _eval_evalf(self, prec):
        return (log(self.args[0]) / log(self.base))._eval_evalf(prec)

    def _latex(self, printer, exp=None) -> str:
        name = rf"\log_{{{self.base}}}" + (f"^{{{exp}}}" if exp else "")
        return rf"{name}\left({printer._print(self.args[0])}\right)"

    def _pretty(self, printer):
        name = f"log{self.base}"
        if printer._use_unicode:
            name = "log" + str(self.base).translate(_SUBSCRIPTS)
        return printer._print_Function(self, func_name=name)


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class log10(_FixedBaseLog):
    """log₁₀(x), the common logarithm."""

    base = 10


class log2(_FixedBaseLog):
    """log₂(x), the binary logarithm."""

    base = 2


class cbrt(Function):
    """∛x, the real cube root: ∛(−8) = −2 (numpy's cbrt), unlike SymPy's principal x**(1/3)."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if isinstance(arg, Integer):  # ∛(−27) = −3; the parser bounds the size
            root, exact = integer_nthroot(abs(int(arg)), 3)
            if exact:
                return Integer(root) if arg >= 0 else -Integer(root)
        return None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return 1 / (3 * cbrt(self.args[0]) ** 2)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _eval_evalf(self, prec):
        return _real_cube_root(self.args[0])._eval_evalf(prec)

    # Printed by its name, never as a radical: SymPy draws its complex x**(1/3) as ∛x.
    def _latex(self, printer, exp=None) -> str:
        name = r"\operatorname{cbrt}" + (f"^{{{exp}}}" if exp else "")
        return rf"{name}\left({printer._print(self.args[0])}\right)"


def _real_cube_root(arg):
    return sign(arg) * Abs(arg) ** Rational(1, 3)


BUILTIN_FORMS = {
    sigmoid: lambda a: 1 / (1 + sympy.exp(-a)),
    log10: lambda a: log(a) / log(10),
    log2: lambda a: log(a) / log(2),
    cbrt: _real_cube_root,
}
"""matcalc's own function classes -> the same function written with SymPy built-ins."""


def rewrite_builtin(expr, memo: dict | None = None):
    """Replace matcalc's own functions with SymPy built-ins (sigmoid → exp, log10 → ln/ln 10,
    cbrt → sign(x)·|x|^(1/3)).  ``memo``: shared by calls on expressions with common
    subtrees (the entries of one matrix), each subtree rewritten once."""
    for cls, form in BUILTIN_FORMS.items():
        if expr.has(cls):
            expr = _replace_type(expr, cls, form, {} if memo is None else memo.setdefault(cls, {}))
    return expr


def _replace_type(expr, cls, form, done: dict | None = None):
    """``expr.replace(cls, form)``, the same tree, with each distinct subtree walked once.

    SymPy's ``replace`` walks a subtree again wherever it recurs (σ(z) in every term of a
    Hessian entry); the walk is a function of the subtree alone, so its result is kept
    (in ``done``, which may be shared by several calls with the same ``cls`` and ``form``).
    The rest is SymPy's own walk (``simultaneous=True``), step for step."""
    if not isinstance(expr, sympy.Basic) or isinstance(expr, sympy.MatrixBase):
        return expr.replace(cls, form)
    if done is None:
        done = {}

    def walk(rv):
        try:
            return done[rv]
        except KeyError:
            pass
        original = rv
        args = rv.args
        if args:
            newargs = tuple([walk(a) for a in args])
            if args != newargs:
                try:
                    rv = rv.func(*newargs)
                except ValueError:  # Max/Min of an argument SymPy cannot compare (complex)
                    rv = rv.func(*newargs, evaluate=False)
                for i, e in enumerate(args):  # already replaced: not again
                    if rv == e and e != newargs[i]:
                        done[original] = rv
                        return rv
        if isinstance(rv, cls):
            v = form(*rv.args)
            if v is not None and v != rv:
                rv = v
        done[original] = rv
        return rv

    return walk(expr)


def decide_gate(expr):
    """1[z > 0] (Heaviside(z, 0)) is 0 where SymPy knows z ≤ 0, e.g. 1[-x² > 0], and a
    positive integer power of it is itself.

    SymPy's Heaviside only evaluates for z < 0 or z > 0; with the convention 1[0 > 0] = 0
    a z that is never positive decides it too (the gate of max(0, -x ⊗ x), element-wise).
    """
    if (
        isinstance(expr, Heaviside)
        and expr.args[1:] == (0,)
        and expr.args[0].is_extended_nonpositive
    ):
        return Integer(0)
    # 1[z > 0]^k = 1[z > 0]: its values are 0 and 1 (d²/dx² max(0, x)² is 2·1[x > 0]);
    # the power is made by Mul's own flattening of 1[z > 0]·1[z > 0], so look into a Mul too
    if _gate_power(expr):
        return expr.base
    if isinstance(expr, Mul) and any(_gate_power(a) for a in expr.args):
        return Mul(*(a.base if _gate_power(a) else a for a in expr.args))
    return expr


def _gate_power(expr) -> bool:
    """A positive integer power of 1[z > 0] or of 1 - 1[z > 0] (both are 0 or 1)."""
    return (
        isinstance(expr, Pow)
        and expr.exp.is_Integer
        and expr.exp > 0
        and (_gate(expr.base) or _open_gate(expr.base))
    )


def _open_gate(expr) -> bool:
    """1 - 1[z > 0], as SymPy holds it: Add(1, Mul(-1, 1[z > 0]))."""
    return (
        isinstance(expr, Add)
        and len(expr.args) == 2
        and expr.args[0] == 1
        and isinstance(expr.args[1], Mul)
        and expr.args[1].args[0] == -1
        and len(expr.args[1].args) == 2
        and _gate(expr.args[1].args[1])
    )


def _gate(expr) -> bool:
    return isinstance(expr, Heaviside) and expr.args[1:] == (0,)
