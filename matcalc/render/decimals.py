"""Numbers as the user typed them: an input written with decimals (0.1·x², 1.5·sin(x),
1e-3) is shown with decimals, d/dx (0.1x² + 1.5·sin x) = 0.2x + 1.5·cos(x), where exact
fractions would give (2x + 15·cos(x))/10.

The parser reads a decimal as the exact fraction it is (0.1 is 1/10), and the engine and
the check work with those, so nothing is rounded.  Only what is shown changes: each
fraction whose decimal ends within ``MAX_PLACES`` places (a denominator 2ᵃ·5ᵇ) is written
as that decimal, a numeric factor of such a fraction times a sum is multiplied into the
sum (0.1·(2x + 15·cos x) is 0.2x + 1.5·cos x), and exponents stay fractions (x^(3/2)).
1/3 stays 1/3.  ``shown`` is the derivation so written, for the text, Markdown and LaTeX
renderings; JSON keeps the exact fractions (its SymPy strings are for programs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, is_dataclass, replace
from typing import Any

from sympy import Add, Basic, Float, MatrixBase, Rational

MAX_PLACES = 6
"""The most decimal places a fraction is shown with (1/64 = 0.015625; 1/128 stays 1/128)."""

_DECIMAL = re.compile(r"(?<![\w.])(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+[eE][+-]?[0-9]+)")
"""A number typed with a decimal point or an exponent: 0.1, 1.5, .5, 2., 1e-3."""


def typed_decimals(texts: Iterable[str]) -> bool:
    """Whether the user wrote a number as a decimal in any of ``texts``."""
    return any(_DECIMAL.search(t) for t in texts)


def _decimal(r: Rational) -> Float | None:
    """``r`` as a Float printed with its exact decimal digits, or None when its decimal does
    not end within ``MAX_PLACES`` places."""
    q, twos, fives = r.q, 0, 0
    while q % 2 == 0:
        q, twos = q // 2, twos + 1
    while q % 5 == 0:
        q, fives = q // 5, fives + 1
    places = max(twos, fives)
    if q != 1 or places > MAX_PLACES:
        return None
    scaled = abs(r.p) * 10**places // r.q
    digits = str(scaled).rjust(places + 1, "0")
    text = ("-" if r.p < 0 else "") + digits[:-places] + "." + digits[-places:]
    # as many digits of precision as it has significant digits: printed alone (1.5), a
    # Float prints all of its precision, 1.50000000000000 at SymPy's default 15
    return Float(text, max(1, len(digits.lstrip("0").rstrip("0"))))


def _shown_number(r: Any) -> Any:
    if r.is_Rational and not r.is_Integer:
        return _decimal(r) or r
    return r


def decimal_form(expr: Any) -> Any:
    """``expr`` with its fractions written as decimals, as the module says; the same value."""
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(decimal_form)
    if not isinstance(expr, Basic):
        return expr
    if expr.is_Number:
        return _shown_number(expr)
    if all(r.is_Integer for r in expr.atoms(Rational)):
        return expr  # no fraction to show (Integer is a Rational too)
    try:
        return _walk(expr)
    except Exception:  # a class that cannot be rebuilt this way: shown as it is
        return expr


def _walk(e: Basic) -> Basic:
    if e.is_Number:
        return _shown_number(e)
    if not e.args or e.is_Atom:
        return e
    if e.is_Pow:  # the exponent stays a fraction: x^(3/2), √x
        base = _walk(e.base)
        return e if base is e.base else e.func(base, e.exp, evaluate=False)
    if e.is_Mul:
        c, rest = e.as_coeff_Mul()
        if c.is_Rational and not c.is_Integer and rest.is_Add and _decimal(c) is not None:
            return Add(*(_walk(c * t) for t in rest.args), evaluate=False)
    args = tuple(_walk(a) for a in e.args)
    if all(a is b for a, b in zip(args, e.args)):
        return e
    try:
        return e.func(*args, evaluate=False)
    except TypeError:
        return e.func(*args)


def _shown_value(value: Any) -> Any:
    if isinstance(value, (Basic, MatrixBase)):
        return decimal_form(value)
    if isinstance(value, tuple):
        return tuple(_shown_value(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in fields(value):
            old = getattr(value, f.name)
            new = _shown_value(old)
            if new is not old:
                changes[f.name] = new
        return replace(value, **changes) if changes else value
    return value


def shown(derivation: Any, also: Iterable[str] = ()) -> Any:
    """``derivation`` with every expression in it written as the module says, when its
    input (or one of the texts ``also``, a student's answer) was typed with decimals; else
    ``derivation`` itself."""
    if not typed_decimals((*derivation.problem.text, *also)):
        return derivation
    return _shown_value(derivation)
