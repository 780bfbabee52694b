"""matcalc's exceptions: every failure a user can cause is one of these.

Each class carries the exit status the CLI uses for it (2: usage, parse or limit
error; 1: a mathematical failure) and a short ``kind`` used in JSON errors.
Add a new failure by subclassing the nearest class here.
"""

from __future__ import annotations


class MatcalcError(Exception):
    """Base class: a failure explained in one line, with an optional 1-based column."""

    kind = "error"
    exit_code = 1

    def __init__(self, message: str, *, column: int | None = None, text: str | None = None):
        super().__init__(message)
        self.message = message
        self.column = column
        self.text = text

    def __str__(self) -> str:
        if self.column is not None:
            return f"{self.message} (column {self.column})"
        return self.message


class UsageError(MatcalcError):
    """The request itself is malformed (bad option, unknown variable, ...)."""

    kind = "usage"
    exit_code = 2


class ParseError(UsageError):
    """The expression text is not valid matcalc input."""

    kind = "parse"


class LimitError(UsageError):
    """The input exceeds a safety limit (length, depth, exponent size, time, ...)."""

    kind = "limit"


class ShapeError(UsageError):
    """Vector or matrix shapes do not fit together."""

    kind = "shape"


class UnsupportedError(UsageError):
    """A construct matcalc understands but cannot differentiate yet."""

    kind = "unsupported"


class MathError(MatcalcError):
    """The mathematics failed: no derivative, or a result that does not verify."""

    kind = "math"
    exit_code = 1


class InternalError(MathError):
    """SymPy or matcalc failed unexpectedly; the cause is chained.  Always a bug to report."""

    kind = "internal"
