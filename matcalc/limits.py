"""Safety limits that turn a pathological input into an error instead of a hang.

The defaults suit people typing formulas; pass your own ``Limits`` to ``parse``
or ``derive`` to loosen or tighten them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Upper bounds checked while parsing and deriving."""

    max_length: int = 2000
    """Characters of input text."""
    max_nodes: int = 500
    """Syntax-tree nodes of one expression."""
    max_depth: int = 60
    """Nesting depth (parentheses, calls, operators)."""
    max_integer_digits: int = 30
    """Decimal digits of an integer literal."""
    max_exponent: int = 1000
    """Absolute value of a numeric exponent."""
    max_factorial: int = 100
    """Largest integer argument of factorial."""
    timeout: float = 10.0
    """Wall-clock seconds for one derivation."""


DEFAULT_LIMITS = Limits()
