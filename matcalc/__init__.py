"""matcalc: derivatives with the work shown, from the chain rule to Jacobians.

The public API is ``derive`` (returns a ``Derivation``), ``check`` (judges an answer,
returns a ``Check``) and the error classes.
"""

from __future__ import annotations

from matcalc.answers import Check, check
from matcalc.api import derive
from matcalc.derivation import Derivation
from matcalc.errors import (
    InternalError,
    LimitError,
    MatcalcError,
    MathError,
    ParseError,
    ShapeError,
    UnsupportedError,
    UsageError,
)
from matcalc.limits import DEFAULT_LIMITS, Limits

__all__ = [
    "Check",
    "DEFAULT_LIMITS",
    "Derivation",
    "InternalError",
    "LimitError",
    "Limits",
    "MatcalcError",
    "MathError",
    "ParseError",
    "ShapeError",
    "UnsupportedError",
    "UsageError",
    "check",
    "derive",
]
__version__ = "0.1.0"
