"""The only place where text becomes mathematics: a whitelisting expression parser.

``parse(text)`` turns a formula such as ``ln(sin(x^3)^2)`` into an *unevaluated*
SymPy tree that keeps the expression as typed (``x*x**2`` stays ``Mul(x, Pow(x, 2))``).
Nothing is ever evaluated: no ``eval``/``exec``/``sympify``; the text goes through

1. ``source.py``: pre-checks of the raw text (length, blank input, characters, brackets,
   a cheap node count), friendly Unicode and ``^`` rewritten to ASCII with a column map;
2. ``ast.parse(src, mode="eval")``, its syntax errors told at their column;
3. ``visitor.py``: ``Parser``, one ``visit_<NodeClass>`` method per allowed AST node; every
   other node is refused with a named ``ParseError``.  Calls are looked up in the function
   table (``functions.py``), the operands of every operator and call are checked against
   the declared shapes (``shapes.py``), and the numeric size guard (``guard.py``) refuses
   any constant sub-expression or power that could grow beyond ``max_integer_digits * 10``
   digits.

Every error is a ``MatcalcError`` subclass carrying the 1-based column in the text
the user typed.

Where to add things: a function is one entry in ``functions.FUNCTIONS`` (and, if SymPy can
evaluate it to a number, a complex approximation in ``guard._APPROX``); a function of
vectors or matrices one entry in ``functions.VECTOR_FUNCTIONS``, whose builder checks its
argument's shape with ``shapes.py``; an operator one entry in ``visitor._BINARY`` or
``visitor._UNARY``; a named constant one entry in ``functions.CONSTANTS``.

``parse(text, shapes=declare(...))`` resolves declared names to their ``VectorName`` /
``MatrixName`` symbols, and the names of their sizes (``n``, ``N``) to the size symbols
(positive integer scalars, so the loss ``sum(...) / N`` means the sample count).  Without
``shapes`` nothing of vectors applies and ``@``, ``.T`` and ``sum`` & co. behave as in the
scalar parser.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable
from typing import TypeAlias

import sympy

from matcalc.errors import LimitError, ParseError
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.msg import Msg
from matcalc.parse.functions import (
    CONSTANTS,
    FUNCTIONS,
    UNSUPPORTED,
    VECTOR_FUNCTIONS,
    declare_functions,
    real_argument,
)
from matcalc.parse.source import first_line, read
from matcalc.parse.visitor import Parser

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "UNSUPPORTED",
    "VECTOR_FUNCTIONS",
    "declare_functions",
    "parse",
    "real_argument",
]

Expr: TypeAlias = sympy.Expr


def parse(
    text: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    shapes: dict | None = None,
    functions: str | Iterable[str] = (),
    answer: bool = False,
    skip: int = 0,
) -> Expr:
    """Parse ``text`` into an unevaluated SymPy expression, or raise a ``MatcalcError``.

    ``answer``: a student's answer to ``check``, which may also write a Jacobian with
    diag(v), eye(n) and outer products a @ b.T (``functions.ANSWER_FUNCTIONS``).

    ``shapes`` is the dict of ``matcalc.linalg.declare``: declared names become their
    vector or matrix symbols and shapes are checked (see ``shapes.py``).
    ``functions`` declares names of unknown functions ("sni", or "f,g"; see
    ``declare_functions``); one-letter names (f, g2, h_1) need no declaration.
    ``skip``: the characters before the expression (``source.written``: d/dx, y =).
    """
    declared = declare_functions(functions, shapes)
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, not {type(text).__name__}")
    source = read(text, limits, dot=bool(shapes), skip=skip, functions=FUNCTIONS)
    offset = len(source.src) - len(source.src.lstrip(" \t"))
    try:
        with warnings.catch_warnings():  # 1if x: Python's own "<unknown>:1: SyntaxWarning"
            warnings.simplefilter("ignore", SyntaxWarning)  # line on stderr, before ours
            tree = ast.parse(source.src[offset:], mode="eval")
    except SyntaxError as exc:
        raise source.syntax_error(exc, offset, FUNCTIONS) from None
    except (RecursionError, MemoryError, ValueError):
        raise source.error(LimitError, Msg("err.too_deep"), 0) from None
    try:
        return Parser(source, offset, limits, shapes, declared, tree, answer).visit(tree)
    except (RecursionError, MemoryError):
        raise source.error(LimitError, Msg("err.too_deep"), 0) from None
    except (ArithmeticError, TypeError, ValueError) as exc:  # last resort: SymPy refused a node
        raise ParseError(Msg("err.cannot_build", detail=first_line(exc)), text=text) from None
