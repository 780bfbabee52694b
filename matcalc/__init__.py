"""matcalc: derivatives with the work shown, from the chain rule to Jacobians.

The public API is ``derive`` (returns a ``Derivation``) and the error classes.
"""

from __future__ import annotations

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
    "derive",
]
__version__ = "0.1.0"
