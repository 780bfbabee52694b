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
    "init_printing",
]
__version__ = "0.1.0"  # the only place the version is written (pyproject.toml reads it)


def init_printing(**settings) -> None:
    """Display SymPy expressions, ``Derivation.result`` included, in matcalc's notation
    (1[z > 0], ln, σ, w·x, xᵀ) in Jupyter, IPython and at the Python prompt: SymPy's
    ``init_printing`` with matcalc's printers; ``settings`` go to it."""
    from matcalc.render.printing import init_printing as init

    init(**settings)
