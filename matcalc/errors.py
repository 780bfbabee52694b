"""matcalc's exceptions: every failure a user can cause is one of these.

Each class carries the exit status the CLI uses for it (2: usage, parse or limit
error; 1: a mathematical failure) and a short ``kind`` used in JSON errors.
Add a new failure by subclassing the nearest class here.
"""

from __future__ import annotations

import unicodedata

from matcalc.msg import Msg


class MatcalcError(Exception):
    """Base class: a failure explained in one line, with an optional 1-based column.

    The explanation is a ``Msg`` (a catalogue key and its values) or, for text that has no
    key yet, a plain English string.  ``message`` and ``str(error)`` are English, for the
    Python API; ``text(lang)`` is the line in ``lang``, as the CLI prints it.
    """

    kind = "error"
    exit_code = 1

    def __init__(
        self, message: str | Msg, *, column: int | None = None, text: str | None = None
    ) -> None:
        self.msg = message if isinstance(message, Msg) else None
        english = str(message)
        super().__init__(english)
        self.message = english
        self.column = column
        self.text = text

    @property
    def key(self) -> str | None:
        """The catalogue key of the message (stable across languages), or None."""
        return self.msg.key if self.msg is not None else None

    def localized(self, lang: str = "en") -> str:
        """The message in ``lang``, without the column."""
        if self.msg is None or lang == "en":
            return self.message
        return self.msg.text(lang)

    def line(self, lang: str = "en") -> str:
        """The message in ``lang`` with its column: what the CLI prints."""
        if lang == "en":
            return str(self)
        from matcalc.render.messages import message

        text = self.localized(lang)
        if self.column is not None:
            return message("error.column", lang, message=text, column=self.column)
        return text

    def __reduce__(self):  # keeps the key through worker processes
        return (_rebuild, (type(self), self.msg or self.message, self.column, self.text))

    def __str__(self) -> str:
        if self.column is not None:
            return f"{self.message} (column {self.column})"
        return self.message


def _rebuild(cls: type, message: str | Msg, column: int | None, text: str | None):
    return cls(message, column=column, text=text)


POINTER_WIDTH = 100
"""The longest input (as shown, escapes included) that ``pointer`` echoes."""


def pointer(error: MatcalcError, width: int = POINTER_WIDTH) -> list[str]:
    """The input and a caret under the error's column, as two lines (or none).

    Only for a one-line input that is short enough.  The input is shown terminal-safe:
    every character outside printable ASCII (controls, bidi overrides, look-alikes, NUL,
    tabs) is written as its Python escape (``\\u202e``), and the caret moves with it,
    except those the parser accepts (ω, ², ·, −: ``source.ACCEPTED``, one column each)::

        sin(x
           ^
    """
    text, column = error.text, error.column
    if text is None or column is None or "\n" in text or "\r" in text:
        return []
    from matcalc.parse.source import ACCEPTED

    shown = [
        ch if (" " <= ch <= "~" and ch != "\\") or ch in ACCEPTED else ascii(ch)[1:-1]
        for ch in text
    ]
    line = "".join(shown)
    if len(line) > width or not 1 <= column <= len(text) + 1:
        return []
    offset = sum(len(s) for s in shown[: column - 1])
    return [f"  {line}", "  " + " " * offset + "^"]


_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def visible(text: str) -> str:
    """``text`` with every control, format (bidi override, zero width) or unassigned character
    written as its Python escape (``\\x1b``, ``\\u202e``): safe to echo to a terminal or to
    write into a document, and the reader sees what is there."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch) in _INVISIBLE else ch for ch in text)


class FieldError(ValueError):
    """A bad value in a problem file (a field, a line's clause, math in a note): the caller
    adds where it is.  ``msg`` is the catalogue sentence, ``str(error)`` its English."""

    def __init__(self, msg: Msg) -> None:
        super().__init__(str(msg))
        self.msg = msg


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
