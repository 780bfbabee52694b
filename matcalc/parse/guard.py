"""The numeric size guard: no constant the parser builds may grow beyond the limits.

SymPy evaluates constants eagerly once a tree is evaluated, so ``2**10**10`` or
``exp(exp(100))`` typed as text would hang the engine (or fill the memory).  The parser
asks the guard about every node it builds: ``SizeGuard.estimate`` gives a constant
sub-expression an approximate complex value and an upper bound on the decimal digits of
any exact number SymPy may evaluate it to, from its arguments' estimates (memoised by node);
``too_many_digits`` and ``exponent_too_large`` turn the estimates into refusals.

The guard is conservative: a constant whose magnitude or exact size may exceed about
``10**(max_integer_digits*10)`` is refused (``2**1000``, ``exp(1000)``).  A function that
SymPy can evaluate to a number needs a complex approximation in ``_APPROX`` (keyed by its
SymPy class) so that the guard can see through it; without one its value is unknown and
its size is bounded as if it grew like exp.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable
from typing import NamedTuple, TypeAlias

import sympy
from sympy.core.function import AppliedUndef

from matcalc.functions import cbrt, log2, log10, sigmoid
from matcalc.limits import Limits
from matcalc.msg import Msg

Expr: TypeAlias = sympy.Expr


class Est(NamedTuple):
    """Size estimate of a constant: approximate value (None: unknown) and an upper
    bound on the decimal digits of any exact number SymPy may evaluate it to."""

    value: complex | None
    digits: float


class SizeGuard:
    """The size guard of one parse: estimates memoised by node, and the refusals."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_digits = limits.max_integer_digits * 10
        self._memo: dict[Expr, Est | None] = {}

    def too_many_digits(self, expr: Expr, what: str) -> Msg | None:
        """The refusal of a constant ``expr`` that may have more than ``max_digits`` digits
        ("number", or "power": the power would be …); None when it is small enough."""
        est = self.estimate(expr)
        if est is not None and est.digits > self.max_digits:
            return _too_big(what, est.digits, self.max_digits, digits=True)
        return None

    def exponent_too_large(self, exponent: Expr) -> Msg | None:
        """The refusal of a constant exponent larger than ``max_exponent``; None otherwise."""
        est = self.estimate(exponent)
        if est is not None:
            size = _magnitude(est)
            if size > self.limits.max_exponent:
                return _too_big("exponent", size, self.limits.max_exponent)
        return None

    def estimate(self, expr: Expr) -> Est | None:
        """Size estimate of a constant expression; None when it has free symbols."""
        if expr not in self._memo:
            self._memo[expr] = self._estimate(expr)
        return self._memo[expr]

    def _estimate(self, expr: Expr) -> Est | None:
        if isinstance(expr, sympy.Rational):
            digits = math.log10(max(abs(int(expr.p)), abs(int(expr.q)), 1))
            return Est(_approx(float, expr), digits)
        if isinstance(expr, sympy.NumberSymbol):
            return Est(_approx(float, expr), 1.0)
        found = [self.estimate(arg) for arg in expr.args]
        parts = [p for p in found if p is not None]
        if not expr.args or len(parts) < len(found):
            return None
        values = [p.value for p in parts if p.value is not None]
        complete = len(values) == len(parts)  # every argument's value is known
        digits = sum(p.digits for p in parts)
        if isinstance(expr, sympy.Pow):
            value = _approx(pow, *values) if complete else None
            grown = parts[0].digits * _magnitude(parts[1]) if parts[0].digits else 0.0
            extra = 0.0 if isinstance(expr.exp, sympy.Rational) else parts[1].digits
            return Est(value, grown + extra)
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            combine = sum if isinstance(expr, sympy.Add) else math.prod
            value = _approx(lambda *v: combine(v), *values) if complete else None
            return Est(value, digits + math.log10(len(parts)))
        fn = None if isinstance(expr, AppliedUndef) else _APPROX.get(type(expr))
        if fn is None:
            return Est(None, digits)
        if not complete:  # unknown argument: allow for exp-like growth
            return Est(None, digits + 0.4343 * 10 ** min(digits, 300.0))
        value = _approx(fn, *values)
        if value is None or value == 0:
            return Est(value, digits)
        return Est(value, digits + abs(math.log10(abs(value))))


def _magnitude(est: Est) -> float:
    """Bound on |value|: the approximation, or 10**digits when the value is unknown."""
    if est.value is not None:
        return abs(est.value)
    return 10 ** min(est.digits, 300.0)


def _too_big(what: str, size: float, limit: int, digits: bool = False) -> Msg:
    """'exponent too large: about 387420489 (limit 1000)'; overflowed sizes are 'astronomical'.

    ``what`` is "number", "exponent" or "power" (the power would be …), ``digits`` whether
    the sizes count digits."""
    unit = ".digits" if digits else ""
    if not math.isfinite(size) or size > 1e300:
        return Msg(f"err.too_big.{what}.astronomical{unit}", limit=limit)
    shown = str(math.ceil(size)) if size < 1e15 else f"{size:.3g}"
    return Msg(f"err.too_big.{what}{unit}", size=shown, limit=limit)


def _approx(fn: Callable[..., complex], *args: complex) -> complex | None:
    try:
        value = complex(fn(*args))
    except OverflowError:
        return complex(math.inf)
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return None if cmath.isnan(value) else value


def _reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    def reciprocal(z: complex) -> complex:
        try:
            return 1 / f(z)
        except OverflowError:
            return 0j

    return reciprocal


def _sigmoid(z: complex) -> complex:
    return 1 / (1 + cmath.exp(-z)) if z.real >= 0 else cmath.exp(z) / (1 + cmath.exp(z))


def _of_reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    return lambda z: f(1 / z)


_APPROX: dict[type, Callable[..., complex]] = {
    getattr(sympy, name): getattr(cmath, name)
    for name in (
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
        "exp",
        "log",
    )
}
_RECIPROCALS = {
    "cot": "tan",
    "sec": "cos",
    "csc": "sin",
    "coth": "tanh",
    "sech": "cosh",
    "csch": "sinh",
}
_APPROX.update({getattr(sympy, r): _reciprocal(getattr(cmath, f)) for r, f in _RECIPROCALS.items()})
_APPROX.update(
    {
        getattr(sympy, "a" + r): _of_reciprocal(getattr(cmath, "a" + f))
        for r, f in _RECIPROCALS.items()
    }
)


def _real_only(f: Callable[[float], float]) -> Callable[[complex], complex]:
    def real(z: complex) -> complex:
        if z.imag:
            raise ValueError("not real")  # the size guard then treats the value as unknown
        return f(z.real)

    return real


def _atan2(y: complex, x: complex) -> complex:
    if y.imag or x.imag:
        raise ValueError("not real")
    return math.atan2(y.real, x.real)


_APPROX.update(
    {
        log10: cmath.log10,
        log2: lambda z: cmath.log(z) / math.log(2),
        sympy.atan2: _atan2,
        cbrt: _real_only(lambda v: math.copysign(abs(v) ** (1 / 3), v)),
        sympy.erf: _real_only(math.erf),
        sympy.erfc: _real_only(math.erfc),
        sympy.sign: _real_only(lambda v: float((v > 0) - (v < 0))),
        sympy.Abs: abs,
        sigmoid: _sigmoid,
        sympy.Max: lambda *z: max(z, key=lambda w: w.real),
        sympy.Min: lambda *z: min(z, key=lambda w: w.real),
    }
)
"""SymPy class -> complex approximation, used only by the size guard."""
