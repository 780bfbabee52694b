"""The only place where text becomes mathematics: a whitelisting expression parser.

``parse(text)`` turns a formula such as ``ln(sin(x^3)^2)`` into an *unevaluated*
SymPy tree that keeps the expression as typed (``x*x**2`` stays ``Mul(x, Pow(x, 2))``).
Nothing is ever evaluated: no ``eval``/``exec``/``sympify``; the text goes through

1. pre-checks: length, blank input, friendly Unicode (``−`` ``×`` ``·`` ``²`` ``³``) and
   ``^`` rewritten to ASCII with a column map, a printable-ASCII whitelist, a bracket scan;
2. ``ast.parse(src, mode="eval")``;
3. ``_Parser``: one ``visit_<NodeClass>`` method per allowed AST node; every other node
   is refused with a named ``ParseError`` (messages in ``_REFUSED``).  The walk counts
   nodes and depth, and a numeric size guard (``_Parser.estimate``) refuses any constant
   sub-expression or power that could grow beyond ``max_integer_digits * 10`` digits.

Every error is a ``MatcalcError`` subclass carrying the 1-based column in the text
the user typed.

Extending
---------
* A function is one entry in ``FUNCTIONS``: ``"name": _unary(sympy.cls)`` or
  ``_Fn(min_args, max_args_or_None, builder)``.  If SymPy can evaluate it to a number,
  also add a complex approximation to ``_APPROX`` so the size guard can see through it.
* A binary operator is one entry in ``_BINARY`` (AST operator class name -> method);
  a unary one is one entry in ``_UNARY``.  Named constants live in ``CONSTANTS``.

Decisions
---------
* ``e``/``E`` and ``pi`` are constants and ``e**x`` becomes ``exp(x)``; every other name,
  including ``I``, ``oo`` and ``nan``, is a real ``Symbol``.  A bare function name
  (``sin + 1``) is refused.
* Calls: a built-in (``FUNCTIONS``), else an undefined real function when the name is one
  letter (``f``, ``g2``, ``h_1``) or declared (``parse(..., functions=["phi"])``), else
  refused: ``UNSUPPORTED`` names with their reason, others as "unknown function sni; did you
  mean sin?" (``difflib``).  A name both called and used as a variable (``x(x+1)``) is
  refused with the hint ``x*(x+1)``: one name never stands for two things.  ``pow(x, y)`` is
  built as ``x ** y`` (the same guards and shapes).
* ``int/int`` literals (``1/2``, ``-3/4``) become one ``Rational``; otherwise ``1/x`` is
  ``Pow(x, -1)`` and ``a/b`` is ``Mul(a, Pow(b, -1))``.  A minus directly on a literal
  gives a negative number, so ``x - 3`` is ``Add(x, -3)``.  ``Max``/``Min`` keep SymPy's
  canonical argument order (SymPy sorts them even unevaluated).
* Python integer spellings (``0x1F``, ``1_000``) are accepted; ``#`` is refused (it would
  silently comment out the rest), as are ``$ ? ` \\ ;`` and, after the
  friendly replacements, anything outside printable ASCII.
* The size guard is conservative: a constant whose magnitude or exact size may exceed
  about ``10**(max_integer_digits*10)`` is refused (``2**1000``, ``exp(1000)``).

Vectors and matrices
--------------------
``parse(text, shapes=declare(...))`` resolves declared names to their ``VectorName`` /
``MatrixName`` symbols, and the names of their sizes (``n``, ``N``) to the size symbols
(positive integer scalars, so the loss ``sum(...) / N`` means the sample count).  It
checks the shape of every node as it is built (``_Parser.shape``: ``(1, 1)`` scalar,
``(n, 1)`` vector, ``(r, c)`` matrix).  Without ``shapes`` nothing
here applies and ``@``, ``.T`` and ``sum`` & co. behave as in the scalar parser.

* ``@`` is numpy's: vector @ vector is ``VDot``, matrix @ vector ``MatVec``, matrix @ matrix
  ``MMul``, vector @ matrix ``MatVec(MatT(X), v)``; a scalar on either side is refused.
* ``.T`` is the only attribute: ``MatT(A)`` on a matrix; on a vector a parser-internal row
  (``_Row``: vᵀ M1 M2 …) that may only be the left operand of ``@`` and never reaches
  the result: ``x.T @ A @ x`` is ``VDot(x, MatVec(A, x))``.
* ``* / + -`` are element-wise on vectors of equal length, with a scalar expanded
  (``x + z``); ``v ** 2`` and ``2 ** v`` are element-wise too.  A matrix may be added to a
  matrix of the same shape and multiplied or divided by a scalar, nothing more.
* The element-wise ``FUNCTIONS`` take vectors (not matrices); ``VECTOR_FUNCTIONS`` (``dot``,
  ``sum``, ``norm``, ``trace``, ``softmax``, ``logsumexp``) check their own arguments.
* Shape errors are one line naming the operator, the operands as typed and the declared
  sizes, at the operator's column: ``w @ X: length n does not match N rows``.
"""

from __future__ import annotations

import ast
import builtins
import cmath
import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import NamedTuple, TypeAlias

import sympy
from sympy.core.function import AppliedUndef
from sympy.polys.polyerrors import BasePolynomialError

from matcalc.errors import (
    LimitError,
    MatcalcError,
    MathError,
    ParseError,
    ShapeError,
    UnsupportedError,
    UsageError,
)
from matcalc.functions import cbrt, log2, log10, sigmoid
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.linalg import (
    SCALAR,
    Det,
    Ident,
    Inv,
    MatrixName,
    MatT,
    MatVec,
    Mean,
    MMul,
    MPow,
    MTrace,
    Norm,
    T,
    VDot,
    VSum,
    shape_of,
    vector_valued,
)
from matcalc.msg import Msg

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
Builder: TypeAlias = Callable[["_Parser", ast.Call, list[Expr]], Expr]
Shape: TypeAlias = tuple[Expr, Expr]


class _Fn(NamedTuple):
    """A function table entry: accepted argument counts and how to build the node."""

    min_args: int
    max_args: int | None  # None: no upper bound
    build: Builder


def _unary(cls: type) -> _Fn:
    return _Fn(1, 1, lambda p, node, a: cls(a[0], evaluate=False))


def _log(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    ln = sympy.log(a[0], evaluate=False)
    if len(a) == 1:
        return ln
    inverse = sympy.Pow(sympy.log(a[1], evaluate=False), -1, evaluate=False)
    return sympy.Mul(ln, inverse, evaluate=False)


def _factorial(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    limit = p.limits.max_factorial
    if isinstance(a[0], sympy.Integer):
        n = int(a[0])
        if n < 0:
            raise p.error(UnsupportedError, Msg("err.factorial.negative"), node)
        if n > limit:
            raise p.error(LimitError, Msg("err.factorial.limit", n=n, limit=limit), node)
        return sympy.Integer(math.factorial(n))
    est = p.estimate(a[0])
    if est is not None and est.value is not None and abs(est.value) > limit:
        raise p.error(LimitError, Msg("err.factorial.argument", limit=limit), node)
    msg = Msg("err.factorial.literal")
    raise p.error(UnsupportedError, msg, node)


def _real_args(cls: type, low: int, high: int | None) -> _Fn:
    """abs, max and min: functions of real arguments, whose derivatives are 1[·], sign(·).

    SymPy cannot order complex numbers (max(sqrt(-1), x) fails later with "not
    comparable"), and d|u|/du = sign(u) is wrong for a complex u (|√-1·x|′ would be
    −sign(x)), so an argument that is not real is refused here, with its column.  The
    test is SymPy's own: not real, or a number that cannot be compared.
    """

    def build(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
        for i, arg in enumerate(a):
            if not real_argument(arg):
                name = node.func.id  # type: ignore[attr-defined]
                key = "err.real_argument" if high == 1 else "err.real_arguments"
                msg = Msg(key, name=name, arg=p.arg_text(node, i))
                raise p.error(MathError, msg, node.args[i])
        return cls(*a, evaluate=False)

    return _Fn(low, high, build)


def real_argument(arg: Expr) -> bool:
    """False when SymPy's Max/Min would refuse ``arg`` (not real, or not comparable), or
    when, once evaluated, it involves √-1 (x·sqrt(-1), ln(-2)) or a constant that is not
    real (acos(pi/2) + x)."""
    try:
        if arg.is_extended_real is False or (arg.is_number and not arg.is_comparable):
            return False
        value = arg.doit()  # the tree as typed is unevaluated: x*sqrt(-1) is not yet x*I
        if value.is_extended_real is False or value.has(sympy.I):
            return False
        return not any(_complex_number(n) for n in sympy.preorder_traversal(value))
    except (ArithmeticError, AttributeError, TypeError, ValueError):  # csc(0), acsch(0): a pole
        return False
    except BasePolynomialError:  # acosh(0)**0: SymPy's own as_real_imag fails; not provably real
        return False


def _complex_number(node: Expr) -> bool:
    """A constant that is not real and that SymPy leaves unevaluated: acos(pi/2)."""
    if not node.is_number or node.is_Atom or node.has(*_INFINITE):
        return False
    return not node.is_comparable


_INFINITE = (sympy.zoo, sympy.oo, -sympy.oo, sympy.nan)


def _sqrt(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return sympy.Pow(a[0], sympy.Rational(1, 2), evaluate=False)


_TRIG = "sin cos tan cot sec csc asin acos atan acot asec acsc"
_HYP = "sinh cosh tanh coth sech csch asinh acosh atanh acoth asech acsch"


def _pow(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """pow(x, y) is x ** y; ``visit_Call`` builds it as that power (same guards and shapes)."""
    raise AssertionError("pow is built by _Parser.visit_Call")  # pragma: no cover


FUNCTIONS: dict[str, _Fn] = {
    **{name: _unary(getattr(sympy, name)) for name in f"{_TRIG} {_HYP} exp".split()},
    "arcsin": _unary(sympy.asin),
    "arccos": _unary(sympy.acos),
    "arctan": _unary(sympy.atan),
    "ln": _unary(sympy.log),
    "log": _Fn(1, 2, _log),
    "log10": _unary(log10),
    "log2": _unary(log2),
    "sqrt": _Fn(1, 1, _sqrt),
    "cbrt": _real_args(cbrt, 1, 1),
    "pow": _Fn(2, 2, _pow),
    "abs": _real_args(sympy.Abs, 1, 1),
    "Abs": _real_args(sympy.Abs, 1, 1),
    "sign": _real_args(sympy.sign, 1, 1),
    "max": _real_args(sympy.Max, 2, None),
    "Max": _real_args(sympy.Max, 2, None),
    "min": _real_args(sympy.Min, 2, None),
    "Min": _real_args(sympy.Min, 2, None),
    "atan2": _real_args(sympy.atan2, 2, 2),
    "arctan2": _real_args(sympy.atan2, 2, 2),
    "erf": _unary(sympy.erf),
    "erfc": _unary(sympy.erfc),
    "sigmoid": _unary(sigmoid),
    "factorial": _Fn(1, 1, _factorial),
}
"""Callable names -> table entry.  Add a function here (see the module docstring)."""

_SCALAR_ONLY = {"atan2", "arctan2"}
"""Built-in functions of several scalars that do not apply element-wise to vectors."""

_NO_DERIVATIVE = Msg("err.why.no_derivative")
UNSUPPORTED: dict[str, Msg] = {
    **dict.fromkeys(
        ["floor", "ceil", "ceiling", "round", "trunc", "frac", "heaviside", "Heaviside", "step"],
        _NO_DERIVATIVE,
    ),
    **dict.fromkeys(
        [
            "gamma",
            "lgamma",
            "loggamma",
            "digamma",
            "polygamma",
            "beta",
            "zeta",
            "erfinv",
            "erfcinv",
            "Ei",
            "li",
            "Si",
            "Ci",
            "sinc",
            "LambertW",
            "besselj",
            "bessely",
            "DiracDelta",
        ],
        Msg("err.why.no_rules"),
    ),
    **dict.fromkeys(
        ["re", "im", "conj", "conjugate", "arg", "real", "imag"], Msg("err.why.real_numbers")
    ),
    "log1p": Msg("err.why.write", form="ln(1 + x)"),
    "expm1": Msg("err.why.write", form="exp(x) - 1"),
    "exp2": Msg("err.why.write", form="2**x"),
    "hypot": Msg("err.why.write", form="sqrt(x**2 + y**2)"),
    "square": Msg("err.why.write", form="x**2"),
    "relu": Msg("err.why.write", form="max(0, x)"),
    "softplus": Msg("err.why.write", form="ln(1 + exp(x))"),
}
"""Names a user may expect (numpy's, SymPy's) that matcalc refuses by name, with why or what
to write instead.  They may not be declared as unknown functions either."""


def _one_vector(p: _Parser, node: ast.Call, a: list[Expr], matrix: bool = False) -> Shape:
    """The shape of the one argument of sum, norm, softmax, logsumexp: it must be a vector
    (one of length 1 too), or for sum and norm (Frobenius) a matrix."""
    name, shape = node.func.id, p.shape(a[0])  # type: ignore[attr-defined]
    if shape == SCALAR and vector_valued(a[0]):
        return shape
    if matrix and shape[1] != 1:
        return shape
    if shape == SCALAR:
        msg = Msg("err.needs_vector", call=p.call_text(node), name=name, arg=p.arg_text(node, 0))
        raise p.error(ShapeError, msg, node)
    if shape[1] != 1:
        raise p.error(
            UnsupportedError, Msg("err.of_matrix", call=p.call_text(node), name=name), node
        )
    return shape


def _vsum(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    _one_vector(p, node, a, matrix=True)
    return p.shaped(VSum(a[0]), SCALAR)


def _mean(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    _one_vector(p, node, a)
    return p.shaped(Mean(a[0]), SCALAR)


def _norm(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    _one_vector(p, node, a, matrix=True)
    return p.shaped(Norm(a[0]), SCALAR)


def _exp_total(p: _Parser, node: ast.Call, a: list[Expr]) -> tuple[Expr, Expr]:
    """exp(v) and sum(exp(v)), the pieces of softmax and logsumexp."""
    e = p.shaped(sympy.exp(a[0], evaluate=False), _one_vector(p, node, a))
    return e, p.shaped(VSum(e), SCALAR)


def _softmax(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    e, total = _exp_total(p, node, a)
    inverse = p.shaped(sympy.Pow(total, -1, evaluate=False), SCALAR)
    return p.shaped(sympy.Mul(e, inverse, evaluate=False), p.shape(e))


def _logsumexp(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return p.shaped(sympy.log(_exp_total(p, node, a)[1], evaluate=False), SCALAR)


def _dot(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    shapes = [p.shape(arg) for arg in a]
    for i, shape in enumerate(shapes):
        if (shape == SCALAR and not vector_valued(a[i])) or shape[1] != 1:
            msg = Msg(
                "err.dot_vectors",
                call=p.call_text(node),
                arg=p.arg_text(node, i),
                what=_describe(shape),
            )
            raise p.error(ShapeError, msg, node)
    if shapes[0][0] != shapes[1][0]:
        msg = Msg("err.lengths", what=p.call_text(node), a=shapes[0][0], b=shapes[1][0])
        raise p.error(ShapeError, msg, node)
    return p.shaped(VDot(a[0], a[1]), SCALAR)


def _column_matrix(expr: Expr) -> bool:
    """An r×1 matrix that is not a vector: Xᵀ of a 1×n X, or a product of matrices."""
    return isinstance(expr, (MatT, MMul)) or (
        not vector_valued(expr) and any(isinstance(s, MatrixName) for s in expr.free_symbols)
    )


def _trace(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    shape, what = p.shape(a[0]), p.arg_text(node, 0)
    if shape == SCALAR and _column_matrix(a[0]):  # X Xᵀ of a 1×n X: a 1×1 matrix
        return p.shaped(MTrace(a[0]), SCALAR)
    if shape == SCALAR or shape[1] == 1:
        msg = Msg("err.trace_square", call=p.call_text(node), arg=what, what=_describe(shape))
        raise p.error(ShapeError, msg, node)
    if shape[0] != shape[1]:
        msg = Msg("err.not_square", call=p.call_text(node), arg=what, size=_size(shape))
        raise p.error(ShapeError, msg, node)
    return p.shaped(MTrace(a[0]), SCALAR)


MAX_MATRIX_POWER = 8
"""matrix_power(X, k) for 0 ≤ k ≤ this: X⁸ is already a product of eight factors."""


def _square(p: _Parser, node: ast.Call, a: list[Expr], name: str) -> Shape:
    """The shape of a square matrix argument of ``name``; ShapeError otherwise."""
    shape, what = p.shape(a[0]), p.arg_text(node, 0)
    if shape == SCALAR or shape[1] == 1:
        msg = f"{p.call_text(node)}: {name} needs a square matrix; {what} is {_describe(shape)}"
        raise p.error(ShapeError, msg, node)
    if shape[0] != shape[1]:
        msg = f"{p.call_text(node)}: {what} is {_size(shape)}, not square"
        raise p.error(ShapeError, msg, node)
    return shape


def _inv(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return p.shaped(Inv(a[0]), _square(p, node, a, "inv"))


def _det(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    _square(p, node, a, "det")
    return p.shaped(Det(a[0]), SCALAR)


def _logdet(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """logdet(X) is ln(det(X)): real where det(X) > 0."""
    det = _det(p, node, a)
    return p.shaped(sympy.log(det, evaluate=False), SCALAR)


def _matrix_power(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    shape = _square(p, node, a, "matrix_power")
    k = a[1]
    if not (isinstance(k, sympy.Integer) and 0 <= int(k) <= MAX_MATRIX_POWER):
        negative = isinstance(k, sympy.Integer) and int(k) < 0
        hint = "; for a negative power write inv(matrix_power(X, k))" if negative else ""
        msg = (
            f"{p.call_text(node)}: the power must be a whole number from 0 to "
            f"{MAX_MATRIX_POWER}{hint}"
        )
        raise p.error(UnsupportedError, msg, node)
    if k == 0:
        return p.shaped(Ident(shape[0]), shape)
    if k == 1:
        return a[0]
    return p.shaped(MPow(a[0], k), shape)


VECTOR_FUNCTIONS: dict[str, _Fn] = {
    "inv": _Fn(1, 1, _inv),
    "det": _Fn(1, 1, _det),
    "logdet": _Fn(1, 1, _logdet),
    "matrix_power": _Fn(2, 2, _matrix_power),
    "dot": _Fn(2, 2, _dot),
    "sum": _Fn(1, 1, _vsum),
    "mean": _Fn(1, 1, _mean),
    "norm": _Fn(1, 1, _norm),
    "trace": _Fn(1, 1, _trace),
    "softmax": _Fn(1, 1, _softmax),
    "logsumexp": _Fn(1, 1, _logsumexp),
}
"""Functions of vectors and matrices, known only when ``parse`` is given ``shapes``.  Their
builders check the argument shapes themselves and record the result's shape."""

CONSTANTS: dict[str, Expr] = {"e": sympy.E, "E": sympy.E, "pi": sympy.pi}

_FRIENDLY = {
    "\u2212": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u00b2": "**2",
    "\u00b3": "**3",
    "^": "**",
}
_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")": "(", "]": "[", "}": "{"}
_FRIENDLY_RE = re.compile("|".join(map(re.escape, _FRIENDLY)))
_FRIENDLY_TABLE = str.maketrans(_FRIENDLY)
_BAD_CHAR = re.compile(r"[^\t -~]|[#$?`\\;]")
_BRACKET = re.compile(r"""[()\[\]{}'"]""")

_REFUSED = {
    "Attribute": Msg("err.refused.attribute"),
    "Subscript": Msg("err.refused.subscript"),
    "Slice": Msg("err.refused.slice"),
    "Lambda": Msg("err.refused.lambda"),
    **dict.fromkeys(
        ["ListComp", "SetComp", "DictComp", "GeneratorExp"], Msg("err.refused.comprehension")
    ),
    **dict.fromkeys(["JoinedStr", "FormattedValue"], Msg("err.refused.fstring")),
    "Starred": Msg("err.refused.starred"),
    "NamedExpr": Msg("err.refused.walrus"),
    "Compare": Msg("err.refused.compare"),
    "BoolOp": Msg("err.refused.boolop"),
    "IfExp": Msg("err.refused.ifexp"),
    "Tuple": Msg("err.refused.tuple"),
    "List": Msg("err.refused.list"),
    "Set": Msg("err.refused.set"),
    "Dict": Msg("err.refused.dict"),
    **dict.fromkeys(["Await", "Yield", "YieldFrom"], Msg("err.refused.await")),
    "Not": Msg("err.refused.not"),
    **{
        op: Msg("err.refused.operator", sign=sign)
        for op, sign in [
            ("Invert", "~"),
            ("Mod", "%"),
            ("FloorDiv", "//"),
            ("BitOr", "|"),
            ("BitAnd", "&"),
            ("BitXor", "^"),
            ("LShift", "<<"),
            ("RShift", ">>"),
        ]
    },
}
"""AST class name -> refusal message (ParseError) for constructs without a visitor."""

_CONSTANT_REFUSED = {
    bool: Msg("err.refused.bool"),
    complex: Msg("err.refused.complex"),
    str: Msg("err.refused.str"),
    bytes: Msg("err.refused.bytes"),
    type(None): Msg("err.refused.none"),
    type(...): Msg("err.refused.ellipsis"),
}
_BINARY = {"Add": "_sum", "Sub": "_sum", "Mult": "_product", "Div": "_product", "Pow": "_power"}
_UNARY = {"USub": "_negative", "UAdd": "_positive"}
_WORD = re.compile(r"[A-Za-z0-9_.]+")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IMPLICIT_FUNCTION = re.compile(r"[A-Za-z](?:_?[0-9]+)?")
"""Names called as unknown functions without being declared: f, g, h, F, f1, g_2."""
_KNOWN_NAMES = sorted({*FUNCTIONS, *VECTOR_FUNCTIONS})
_FLOAT = re.compile(r"(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?")


class _Source:
    """The user's text, the ASCII source given to Python, and the column map between them."""

    def __init__(self, text: str) -> None:
        self.text, self.src = text, text.translate(_FRIENDLY_TABLE)

    def column(self, index: int) -> int:
        """1-based column in the user's text of ``src[index]`` (computed only for errors)."""
        shift = 0  # how much longer src is than text so far
        for match in _FRIENDLY_RE.finditer(self.text):
            start, width = match.start() + shift, len(_FRIENDLY[match.group()])
            if index < start:
                break
            if index < start + width:
                return match.start() + 1
            shift += width - 1
        return index - shift + 1

    def error(self, cls: type[MatcalcError], message: str | Msg, index: int) -> MatcalcError:
        return cls(message, column=self.column(max(0, index)), text=self.text)

    def check_characters(self) -> None:
        match = _BAD_CHAR.search(self.src)
        if match is None:
            return
        ch = match.group()
        if ch == "#":
            msg = Msg("err.comment")
        elif " " <= ch <= "~":
            msg = Msg("err.character", ch=f"'{ch}'")
        else:  # show control and format characters escaped, never raw
            shown = f"'{ch}'" if ch.isprintable() else ascii(ch)
            code = f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
            msg = Msg("err.character.code", ch=shown, code=code)
        raise self.error(ParseError, msg, match.start())

    def check_brackets(self, max_depth: int) -> None:
        stack: list[int] = []
        src, match = self.src, _BRACKET.search(self.src)
        while match is not None:
            i, ch = match.start(), match.group()
            if ch in "'\"":
                match = _BRACKET.search(src, _skip_string(src, i))
                continue
            if ch in _OPEN:
                stack.append(i)
                if len(stack) > max_depth:
                    msg = Msg("err.brackets_deep", depth=max_depth)
                    raise self.error(LimitError, msg, i)
            elif not stack or src[stack[-1]] != _CLOSE[ch]:
                raise self.error(ParseError, Msg("err.unmatched", ch=ch), i)
            else:
                stack.pop()
            match = _BRACKET.search(src, i + 1)
        if stack:
            raise self.error(ParseError, Msg("err.unclosed", ch=src[stack[-1]]), stack[-1])

    def check_size(self, max_nodes: int) -> None:
        """Cheap lower-bound node count, so a huge input never reaches Python's parser."""
        words = sum(1 for _ in _WORD.finditer(self.src))
        operators = sum(self.src.count(op) for op in "+-*/%@&|~<>=") // 2
        if words + operators > 2 * max_nodes:
            msg = Msg("err.too_many_nodes", nodes=max_nodes)
            raise self.error(LimitError, msg, 0)

    def syntax_error(self, exc: SyntaxError, offset: int) -> MatcalcError:
        msg = exc.msg or ""
        if "nested" in msg or "too complex" in msg or "Exceeds the limit" in msg:
            return self.error(LimitError, Msg("err.too_deep"), 0)
        index = (exc.offset or 0) - 1 + offset
        if not offset <= index < len(self.src):
            return self.error(ParseError, Msg("err.unexpected_end"), len(self.src.rstrip()))
        if msg.startswith("invalid decimal literal"):
            while index < len(self.src) and (self.src[index].isdigit() or self.src[index] in "._"):
                index += 1
            return self.error(ParseError, Msg("err.missing_star"), index)
        if msg.startswith("unterminated"):
            return self.error(ParseError, Msg("err.unterminated_string"), index)
        return self.error(ParseError, Msg("err.invalid_syntax"), index)


def _skip_string(src: str, i: int) -> int:
    """Index just after the quoted string starting at ``src[i]`` (end of text if unclosed)."""
    j = i + 1
    while j < len(src):
        if src[j] == "\\":
            j += 2
        elif src[j] == src[i]:
            return j + 1
        else:
            j += 1
    return len(src)


def parse(
    text: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    shapes: dict | None = None,
    functions: str | Iterable[str] = (),
) -> Expr:
    """Parse ``text`` into an unevaluated SymPy expression, or raise a ``MatcalcError``.

    ``shapes`` is the dict of ``matcalc.linalg.declare``: declared names become their
    vector or matrix symbols and shapes are checked (see "Vectors and matrices" above).
    ``functions`` declares names of unknown functions ("sni", or "f,g"; see
    ``declare_functions``); one-letter names (f, g2, h_1) need no declaration.
    """
    declared = declare_functions(functions, shapes)
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, not {type(text).__name__}")
    if len(text) > limits.max_length:
        raise LimitError(
            Msg("err.too_long", length=len(text), limit=limits.max_length),
            text=text[: limits.max_length],
        )
    if not text.strip():
        raise ParseError(Msg("err.empty"), text=text)
    source = _Source(text)
    source.check_characters()
    source.check_brackets(limits.max_depth)
    source.check_size(limits.max_nodes)
    offset = len(source.src) - len(source.src.lstrip(" \t"))
    try:
        tree = ast.parse(source.src[offset:], mode="eval")
    except SyntaxError as exc:
        raise source.syntax_error(exc, offset) from None
    except (RecursionError, MemoryError, ValueError):
        raise source.error(LimitError, Msg("err.too_deep"), 0) from None
    try:
        return _Parser(source, offset, limits, shapes, declared, tree).visit(tree)
    except (RecursionError, MemoryError):
        raise source.error(LimitError, Msg("err.too_deep"), 0) from None
    except (ArithmeticError, TypeError, ValueError) as exc:  # last resort: SymPy refused a node
        raise ParseError(Msg("err.cannot_build", detail=_first_line(exc)), text=text) from None


def declare_functions(names: str | Iterable[str], shapes: dict | None = None) -> frozenset[str]:
    """The names of declared unknown functions, from "f,g" or ["f", "sni"] (items may hold
    commas, as repeated ``--function`` options do).

    A name must be a plain identifier, and may not be a built-in function, a constant, a
    name refused by name (``UNSUPPORTED``) or a declared vector, matrix or size: two different
    functions never share a name (an unknown ``sign`` would print like the built-in one).
    """
    items = [names] if isinstance(names, str) else list(names)
    taken = {s.name for s in shapes or ()} | {
        size.name
        for d in (shapes or {}).values()
        for size in (d.rows, d.cols)
        if isinstance(size, sympy.Symbol)
    }
    out: set[str] = set()
    for item in items:
        if not isinstance(item, str):
            raise UsageError(Msg("err.function_name_type", type=type(item).__name__))
        for name in (part.strip() for part in item.split(",")):
            if not _IDENTIFIER.fullmatch(name):
                raise UsageError(Msg("err.function_name", name=repr(name)))
            if name in FUNCTIONS or name in VECTOR_FUNCTIONS or name in CONSTANTS:
                kind = (
                    "err.function_is_constant" if name in CONSTANTS else "err.function_is_builtin"
                )
                msg = Msg(kind, name=name)
                raise UsageError(msg)
            if name in UNSUPPORTED:
                raise UsageError(Msg("err.function_unsupported", name=name, why=UNSUPPORTED[name]))
            if name in taken:
                raise UsageError(Msg("err.function_taken", name=name))
            if _reserved(name):
                raise UsageError(_reserved_message(name))
            out.add(name)
    return frozenset(out)


class _Parser:
    """Whitelist visitor: ``visit_<ASTClass>`` methods build SymPy nodes; nothing else passes."""

    def __init__(
        self,
        source: _Source,
        offset: int,
        limits: Limits,
        shapes: dict | None = None,
        functions: frozenset[str] = frozenset(),
        tree: ast.AST | None = None,
    ) -> None:
        self.source, self.offset, self.limits = source, offset, limits
        self.src = source.src[offset:]
        self.nodes = self.depth = 0
        self.max_digits = limits.max_integer_digits * 10
        self._memo: dict[Expr, _Est | None] = {}
        self.shapes = dict(shapes or {})  # empty: scalar mode, exactly the scalar parser
        self.declared = {symbol.name: symbol for symbol in self.shapes}
        self.sizes = {
            size.name: size
            for d in self.shapes.values()
            for size in (d.rows, d.cols)
            if isinstance(size, sympy.Symbol)
        }  # n, N: scalars, as in sum(v) / N
        self._shapes: dict[Expr, Shape] = {s: (d.rows, d.cols) for s, d in self.shapes.items()}
        self.functions = functions  # declared unknown functions
        self.variables = _variable_names(tree) if tree is not None else set()

    # -- plumbing ---------------------------------------------------------------------
    def error(
        self, cls: type[MatcalcError], message: str | Msg, node: ast.AST | int
    ) -> MatcalcError:
        index = node if isinstance(node, int) else getattr(node, "col_offset", 0)
        return self.source.error(cls, message, index + self.offset)

    def count(self, node: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            msg = Msg("err.too_many_nodes", nodes=self.limits.max_nodes)
            raise self.error(LimitError, msg, node)

    def visit(self, node: ast.AST) -> Expr:
        """The expression of ``node``; a transposed vector (a row) is refused here."""
        result = self.visit_any(node)
        if isinstance(result, _Row):
            raise self.row_error(result)
        return result

    def visit_any(self, node: ast.AST) -> Expr | _Row:
        """Like ``visit``, but a row may come back: only the left operand of @ and .T use it."""
        self.count(node)
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                msg = Msg("err.nested", depth=self.limits.max_depth)
                raise self.error(LimitError, msg, node)
            name = type(node).__name__
            method = getattr(self, f"visit_{name}", None)
            if method is None:
                msg = _REFUSED.get(name) or Msg("err.python_syntax", name=name)
                raise self.error(ParseError, msg, node)
            result: Expr | _Row = method(node)
        finally:
            self.depth -= 1
        if isinstance(result, _Row):
            return result
        est = self.estimate(result)
        if est is not None and est.digits > self.max_digits:
            msg = _too_big("number", est.digits, self.max_digits, digits=True)
            raise self.error(LimitError, msg, node)
        return result

    def op_index(self, node: ast.BinOp) -> int:
        """Index of the operator between the operands (skipping spaces and parentheses)."""
        start = node.left.end_col_offset or 0
        for i, ch in enumerate(self.src[start : node.right.col_offset]):
            if ch not in " \t()":
                return start + i
        return node.col_offset

    # -- shapes (vector mode only) -------------------------------------------------------
    def shape(self, expr: Expr) -> Shape:
        """(rows, cols) of a node this parser built; (1, 1) for a scalar."""
        known = self._shapes.get(expr)
        if known is not None:
            return known
        if not self.shapes or not expr.args:
            return SCALAR
        try:  # not reached for nodes built here; kept as a safety net
            return shape_of(expr, self.shapes)
        except ShapeError as exc:
            raise self.error(ShapeError, exc.msg or exc.message, 0) from None

    def shaped(self, expr: Expr, shape: Shape) -> Expr:
        """Record the shape of a node just built (a no-op in scalar mode)."""
        if self.shapes:
            self._shapes[expr] = shape
        return expr

    def segment(self, start: int, end: int, fallback: str | Msg, width: int = 20) -> str | Msg:
        """The source text between two indices, or ``fallback`` when it is long."""
        text = self.src[start:end].strip()
        return text if len(text) <= width else fallback

    def operands(self, node: ast.BinOp, where: int) -> Msg:
        """'w @ X' for error messages: the operands as typed (or 'left'/'right') and the sign."""
        sign = "**" if isinstance(node.op, ast.Pow) else self.src[where]
        left = self.segment(node.col_offset, where, Msg("err.left"))
        right = self.segment(where + len(sign), node.end_col_offset or 0, Msg("err.right"))
        return Msg("err.operands", left=left, sign=sign, right=right)

    def call_text(self, node: ast.Call) -> str | Msg:
        name = node.func.id  # type: ignore[attr-defined]
        return self.segment(node.col_offset, node.end_col_offset or 0, f"{name}(...)", 30)

    def arg_text(self, node: ast.Call, i: int) -> str | Msg:
        arg = node.args[i]
        return self.segment(arg.col_offset, arg.end_col_offset or 0, Msg("err.argument", n=i + 1))

    def row_error(self, row: _Row) -> MatcalcError:
        node = row.node
        text = self.segment(node.col_offset, node.end_col_offset or 0, "")
        msg = Msg("err.row.named", text=text) if text else Msg("err.row")
        return self.error(ShapeError, msg, row.dot)

    def transpose(self, matrix: Expr) -> Expr:
        if isinstance(matrix, MatT):
            return matrix.args[0]
        rows, cols = self.shape(matrix)
        return self.shaped(MatT(matrix), (cols, rows))

    def matvec(self, matrix: Expr, vector: Expr) -> Expr:
        return self.shaped(MatVec(matrix, vector), (self.shape(matrix)[0], sympy.Integer(1)))

    def apply(self, matrices: tuple[Expr, ...], vector: Expr) -> Expr:
        """M1 (M2 (… v)): the column M1 M2 … v, built as nested ``MatVec``."""
        for matrix in reversed(matrices):
            vector = self.matvec(matrix, vector)
        return vector

    def column(self, row: _Row) -> Expr:
        """(vᵀ M1 M2 …)ᵀ = M…ᵀ M2ᵀ M1ᵀ v as a column vector."""
        vector = row.vector
        for matrix in row.matrices:
            vector = self.matvec(self.transpose(matrix), vector)
        return vector

    # -- leaves -------------------------------------------------------------------------
    def visit_Expression(self, node: ast.Expression) -> Expr:
        """The whole expression; it alone may be a row (``x.T @ A`` is (Aᵀx)ᵀ)."""
        body = self.visit_any(node.body)
        if isinstance(body, _Row):
            return self.shaped(T(self.column(body)), (sympy.Integer(1), body.length))
        return body

    def visit_Name(self, node: ast.Name) -> Expr:
        name = node.id
        if name.startswith("_"):
            raise self.error(ParseError, Msg("err.underscore"), node)
        if name in self.declared:
            return self.declared[name]
        if name in self.sizes:
            return self.sizes[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS or (self.shapes and name in VECTOR_FUNCTIONS):
            raise self.error(ParseError, Msg("err.is_function", name=name), node)
        if name in self.functions:
            msg = Msg("err.is_declared_function", name=name)
            raise self.error(ParseError, msg, node)
        return sympy.Symbol(name, real=True)

    def visit_Attribute(self, node: ast.Attribute) -> Expr | _Row:
        """``.T`` of a vector (a row) or a matrix, when shapes are declared; nothing else."""
        if not self.shapes or node.attr != "T":
            raise self.error(ParseError, _REFUSED["Attribute"], node)
        value = self.visit_any(node.value)
        dot = self.src.find(".", node.value.end_col_offset or 0)
        if isinstance(value, _Row):
            return self.column(value)  # (vᵀ)ᵀ = v
        shape = self.shape(value)
        if shape == SCALAR:
            what = self.segment(node.col_offset, dot, Msg("err.this"))
            msg = Msg("err.transpose_scalar", what=what)
            raise self.error(ShapeError, msg, dot)
        if shape[1] == 1:
            return _Row(value, (), shape[0], dot, node)
        return self.shaped(MatT(value), (shape[1], shape[0]))

    def visit_Constant(self, node: ast.Constant) -> Expr:
        value = node.value
        if type(value) in _CONSTANT_REFUSED:
            raise self.error(ParseError, _CONSTANT_REFUSED[type(value)], node)
        if isinstance(value, int):
            return self.integer(value, node)
        if isinstance(value, float):
            return self.decimal(node)
        raise self.error(ParseError, Msg("err.literal", type=type(value).__name__), node)

    def integer(self, value: int, node: ast.AST) -> Expr:
        limit, bits = self.limits.max_integer_digits, abs(value).bit_length()
        # a number below 10**limit has at most limit * log2(10) + 1 bits (2**99 has 30 digits)
        if bits > limit * 3.33 + 1 or (bits >= limit * 3.32 - 4 and abs(value) >= 10**limit):
            raise self.error(LimitError, Msg("err.integer_digits", limit=limit), node)
        return sympy.Integer(value)

    def decimal(self, node: ast.Constant) -> Expr:
        """Exact Rational from the literal's own text: 0.5 -> 1/2, 1e-3 -> 1/1000."""
        literal = self.src[node.col_offset : node.end_col_offset].replace("_", "").lower()
        match = _FLOAT.fullmatch(literal)
        if match is None:
            raise self.error(ParseError, Msg("err.invalid_number"), node)
        whole, frac, exp = match.group(1), match.group(2) or "", match.group(3)
        if exp is not None and len(exp.lstrip("+-")) > 6:
            raise self.error(LimitError, Msg("err.number_exponent"), node)
        shift = int(exp or 0) - len(frac)
        mantissa = (whole + frac).lstrip("0")
        limit = self.limits.max_integer_digits
        if len(mantissa) + max(shift, 0) > limit or -shift > limit:
            raise self.error(LimitError, Msg("err.number_digits", limit=limit), node)
        return sympy.Rational(int(mantissa or "0") * 10 ** max(shift, 0), 10 ** max(-shift, 0))

    # -- operators ----------------------------------------------------------------------
    def visit_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        name = type(node.op).__name__
        if name not in _UNARY:
            msg = _REFUSED.get(name) or Msg("err.operator", name=name)
            raise self.error(ParseError, msg, node)
        return getattr(self, _UNARY[name])(node.operand)

    def _positive(self, operand: ast.expr) -> Expr:
        return self.visit(operand)

    def _negative(self, operand: ast.expr) -> Expr:
        """Minus: a negative number on a literal, ``Mul(-1, e)`` on anything else."""
        value = self.visit(operand)
        if isinstance(operand, ast.Constant) and isinstance(value, sympy.Number):
            return -value
        return self.shaped(sympy.Mul(sympy.S.NegativeOne, value, evaluate=False), self.shape(value))

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        name = type(node.op).__name__
        if name == "MatMult":
            if self.shapes:
                return self._matmul(node)
            msg = Msg("err.matmul_undeclared")
            raise self.error(UnsupportedError, msg, self.op_index(node))
        if name not in _BINARY:
            msg = _REFUSED.get(name) or Msg("err.operator", name=name)
            raise self.error(ParseError, msg, self.op_index(node))
        return getattr(self, _BINARY[name])(node)

    def chain(self, node: ast.BinOp, ops: tuple[str, ...]) -> list[_Link]:
        """Flatten a left-associative chain (a+b-c) into [(op, operand, BinOp)], first op ''."""
        items: list[_Link] = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp) and type(current.op).__name__ in ops:
            if current is not node:
                self.count(current)
            items.append(_Link(type(current.op).__name__, current.right, current))
            current = current.left
        items.append(_Link("", current, None))
        return items[::-1]

    def _sum(self, node: ast.BinOp) -> Expr:
        terms, shape = [], SCALAR
        for op, operand, binop in self.chain(node, ("Add", "Sub")):
            terms.append(self._negative(operand) if op == "Sub" else self.visit(operand))
            if self.shapes:
                term = self.shape(terms[-1])
                shape = term if binop is None else self.sum_shape(shape, term, binop)
        return self.shaped(sympy.Add(*terms, evaluate=False), shape)

    def sum_shape(self, left: Shape, right: Shape, node: ast.BinOp) -> Shape:
        """Shape of left ± right: equal shapes, or a scalar expanded to a vector."""
        if left == right or (SCALAR in (left, right) and left[1] == right[1] == 1):
            return right if left == SCALAR else left
        where = self.op_index(node)
        what = self.operands(node, where)
        if left[1] == right[1] == 1:
            msg = Msg("err.lengths", what=what, a=left[0], b=right[0])
        elif left[1] != 1 and right[1] != 1:
            msg = Msg("err.shapes", what=what, a=_size(left), b=_size(right))
        else:
            msg = Msg("err.cannot_add", what=what, a=_describe(left), b=_describe(right))
        raise self.error(ShapeError, msg, where)

    def _product(self, node: ast.BinOp) -> Expr:
        items = self.chain(node, ("Mult", "Div"))
        values = [self.visit(link.operand) for link in items]
        shape = SCALAR
        if self.shapes:
            shape = self.shape(values[0])
            for link, value in zip(items[1:], values[1:], strict=True):
                shape = self.product_shape(shape, self.shape(value), link)
        if (
            len(items) == 2
            and items[1][0] == "Div"
            and values[1] != 0
            and all(_int_literal(link.operand) for link in items)
        ):
            return sympy.Rational(values[0], values[1])  # 1/2 is how a rational is typed
        factors = [
            self.shaped(sympy.Pow(v, -1, evaluate=False), self.shape(v)) if link.op == "Div" else v
            for link, v in zip(items, values, strict=True)
        ]
        first = items[0][1]
        if items[1][0] == "Div" and isinstance(first, ast.Constant) and first.value == 1:
            factors.pop(0)  # 1/x -> Pow(x, -1)
        if len(factors) == 1:
            return factors[0]
        return self.shaped(sympy.Mul(*factors, evaluate=False), shape)

    def product_shape(self, left: Shape, right: Shape, link: _Link) -> Shape:
        """Shape of left * right or left / right, element-wise (⊗, ⊘) or scalar expansion."""
        node = link.node
        assert node is not None  # only the first operand of a chain has no operator
        if link.op == "Div" and right[1] != 1:
            where = self.op_index(node)
            msg = Msg("err.matrix_inverse", what=self.operands(node, where))
            raise self.error(UnsupportedError, msg, where)
        if left == SCALAR or right == SCALAR:
            return right if left == SCALAR else left
        if left == right and left[1] == 1:
            return left
        where = self.op_index(node)
        what = self.operands(node, where)
        if left[1] == right[1] == 1:
            msg = Msg("err.lengths", what=what, a=left[0], b=right[0])
            raise self.error(ShapeError, msg, where)
        if left[1] != 1 and right[1] != 1:
            msg = Msg("err.elementwise_matrices", what=what)
            raise self.error(UnsupportedError, msg, where)
        msg = Msg("err.cannot_multiply", what=what, a=_describe(left), b=_describe(right))
        raise self.error(ShapeError, msg, where)

    def _matmul(self, node: ast.BinOp) -> Expr | _Row:
        """``@``: vector·vector, matrix·vector, matrix·matrix, vᵀ·…, numpy style."""
        left, right = self.visit_any(node.left), self.visit(node.right)
        where = self.op_index(node)
        left_shape = None if isinstance(left, _Row) else self.shape(left)
        right_shape = self.shape(right)
        # a vector of length 1 has the shape of a scalar, (1, 1), but is a vector for @
        if (
            left_shape == SCALAR
            and right_shape == SCALAR
            and not (vector_valued(left) or vector_valued(right))
        ):
            raise self.error(UnsupportedError, Msg("err.matmul_undeclared"), where)
        what = self.operands(node, where)
        if (left_shape == SCALAR and not vector_valued(left)) or (
            right_shape == SCALAR and not vector_valued(right)
        ):
            msg = Msg("err.matmul_scalar", what=what)
            raise self.error(ShapeError, msg, where)
        rows, cols = right_shape
        if left_shape is None or (left_shape[1] == 1 and not _column_matrix(left)):
            # a row vᵀ…, or a vector v as numpy's
            length = left.length if left_shape is None else left_shape[0]
            if length != rows:
                mismatch = Msg(
                    "err.lengths" if cols == 1 else "err.length_rows",
                    what=what,
                    a=length,
                    b=rows,
                )
                raise self.error(ShapeError, mismatch, where)
            if isinstance(left, _Row):
                if cols == 1:
                    return self.shaped(VDot(left.vector, self.apply(left.matrices, right)), SCALAR)
                return _Row(left.vector, (*left.matrices, right), cols, left.dot, node)
            if cols == 1:
                return self.shaped(VDot(left, right), SCALAR)
            return self.matvec(self.transpose(right), left)  # v @ X = Xᵀ v
        if left_shape[1] != rows:
            key = "err.columns_length" if cols == 1 else "err.columns_rows"
            msg = Msg(key, what=what, cols=left_shape[1], rows=rows)
            raise self.error(ShapeError, msg, where)
        if cols == 1 and not _column_matrix(right):
            return self.matvec(left, right)
        return self.shaped(MMul(left, right), (left_shape[0], cols))

    def _power(self, node: ast.BinOp) -> Expr:
        base, exponent = self.visit(node.left), self.visit(node.right)
        where = self.op_index(node)
        if self.shapes and exponent == -1 and self.shape(base)[1] != 1:
            shape = self.shape(base)
            if shape[0] != shape[1]:
                msg = Msg("err.inverse_square", what=self.operands(node, where))
                raise self.error(ShapeError, msg, where)
            return self.shaped(Inv(base), shape)  # X**-1 is the inverse, as in textbooks
        shape = self.power_shape(base, exponent, node, where) if self.shapes else SCALAR
        est = self.estimate(exponent)
        if est is not None:
            size = _magnitude(est)
            if size > self.limits.max_exponent:
                msg = _too_big("exponent", size, self.limits.max_exponent)
                raise self.error(LimitError, msg, where)
        result = (
            sympy.exp(exponent, evaluate=False)
            if base == sympy.E
            else sympy.Pow(base, exponent, evaluate=False)
        )
        est = self.estimate(result)
        if est is not None and est.digits > self.max_digits:
            msg = _too_big("power", est.digits, self.max_digits, digits=True)
            raise self.error(LimitError, msg, where)
        return self.shaped(result, shape)

    def power_shape(self, base: Expr, exponent: Expr, node: ast.BinOp, where: int) -> Shape:
        """Element-wise powers: vector ** scalar, or scalar ** vector (as exp(v))."""
        left, right = self.shape(base), self.shape(exponent)
        if left[1] != 1 or right[1] != 1:
            msg = Msg("err.matrix_power", what=self.operands(node, where))
            raise self.error(UnsupportedError, msg, where)
        if left != SCALAR and right != SCALAR and left != right:
            msg = Msg("err.lengths", what=self.operands(node, where), a=left[0], b=right[0])
            raise self.error(ShapeError, msg, where)
        return right if left == SCALAR else left

    # -- calls --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> Expr:
        func = node.func
        paren = self.src.find("(", func.end_col_offset or 0)
        if isinstance(func, ast.Attribute):
            self.visit(func)  # refused with "attribute access is not allowed"
        if not isinstance(func, ast.Name) or self.src[func.end_col_offset :].lstrip()[:1] != "(":
            raise self.error(ParseError, Msg("err.call_name"), paren)
        name = func.id
        if name.startswith("_"):
            raise self.error(ParseError, Msg("err.underscore"), func)
        if name in CONSTANTS or name in self.declared or name in self.sizes:
            kind = (
                "constant"
                if name in CONSTANTS
                else "size"
                if name in self.sizes
                else ("vector" if self.shapes[self.declared[name]].is_vector else "matrix")
            )
            msg = Msg("err.not_function", name=name, kind=Msg(f"err.kind.{kind}"))
            raise self.error(ParseError, msg, func)
        if node.keywords:
            raise self.error(ParseError, Msg("err.keywords"), node.keywords[0])
        vector_fn = VECTOR_FUNCTIONS.get(name) if self.shapes else None
        fn = vector_fn or FUNCTIONS.get(name) or self.unknown_function(node)
        if len(node.args) < fn.min_args or (
            fn.max_args is not None and len(node.args) > fn.max_args
        ):
            msg = Msg(
                "err.arity", name=name, takes=_arity(fn.min_args, fn.max_args), got=len(node.args)
            )
            raise self.error(ParseError, msg, node)
        if fn.build is _pow:  # pow(x, y) is x ** y, with the same guards and shapes
            base, exponent = node.args
            power = ast.BinOp(
                left=base,
                op=ast.Pow(),
                right=exponent,
                lineno=base.lineno,
                col_offset=base.col_offset,
                end_lineno=exponent.end_lineno,
                end_col_offset=exponent.end_col_offset,
            )  # errors say "x ** y"
            return self._power(power)
        args = [self.visit(arg) for arg in node.args]
        shape = self.call_shape(node, args) if self.shapes and vector_fn is None else None
        try:
            result = fn.build(self, node, args)
            return result if shape is None else self.shaped(result, shape)  # vector_fn: shaped
        except (ArithmeticError, TypeError, ValueError) as exc:  # SymPy refused the arguments
            msg = Msg("err.arguments", name=name, detail=_first_line(exc))
            raise self.error(ParseError, msg, node) from None

    def unknown_function(self, node: ast.Call) -> _Fn:
        """The entry of a call of a name matcalc does not define: an unknown function when it
        is one letter (f, g2, h_1) or declared, never when the name is also a variable."""
        name = node.func.id  # type: ignore[attr-defined]
        if name in self.variables and name not in self.functions:
            call = str(self.call_text(node))  # the text as typed (or "name(...)")
            hint = (
                f"{name}*{call[len(name) :].lstrip()}"
                if call.startswith(name)
                else (f"{name}*(...)")
            )
            raise self.error(ParseError, Msg("err.variable_called", name=name, hint=hint), node)
        if name in UNSUPPORTED:
            msg = Msg("err.unsupported_function", name=name, why=UNSUPPORTED[name])
            raise self.error(UnsupportedError, msg, node)
        if name in VECTOR_FUNCTIONS:  # scalar mode: sum(x) with x not declared
            msg = Msg("err.needs_declared", name=name)
            raise self.error(UnsupportedError, msg, node)
        if name not in self.functions and not _IMPLICIT_FUNCTION.fullmatch(name):
            close = difflib.get_close_matches(name.lower(), _KNOWN_NAMES, n=1)
            if close:
                msg = Msg("err.unknown_function.close", name=name, close=close[0])
            else:
                msg = Msg("err.unknown_function", name=name)
            raise self.error(ParseError, msg, node)
        if _reserved(name):  # N(x), S(x): SymPy's N and S
            raise self.error(ParseError, _reserved_message(name), node)
        return _Fn(1, None, _undefined)

    def call_shape(self, node: ast.Call, args: list[Expr]) -> Shape:
        """Shape of an element-wise function call: its vector arguments' common shape."""
        name = node.func.id  # type: ignore[attr-defined]
        shapes = [self.shape(arg) for arg in args]
        found = [(i, s) for i, s in enumerate(shapes) if s != SCALAR]
        if not found:
            return SCALAR
        matrix = not all(s[1] == 1 for _, s in found)
        kind = Msg("err.a_matrix" if matrix else "err.a_vector")
        if name not in FUNCTIONS:
            msg = Msg("err.unknown_elementwise", name=name, kind=kind)
            raise self.error(UnsupportedError, msg, node)
        if name in _SCALAR_ONLY:
            msg = Msg("err.scalars_only", call=self.call_text(node), name=name, kind=kind)
            raise self.error(UnsupportedError, msg, node)
        if matrix:
            msg = Msg("err.elementwise_of_matrix", call=self.call_text(node), name=name)
            raise self.error(UnsupportedError, msg, node)
        lengths = list(dict.fromkeys(s[0] for _, s in found))
        if len(lengths) > 1:
            msg = Msg("err.lengths", what=self.call_text(node), a=lengths[0], b=lengths[1])
            raise self.error(ShapeError, msg, node)
        return found[0][1]

    # -- size guard ---------------------------------------------------------------------
    def estimate(self, expr: Expr) -> _Est | None:
        """Size estimate of a constant expression; None when it has free symbols."""
        if expr not in self._memo:
            self._memo[expr] = self._estimate(expr)
        return self._memo[expr]

    def _estimate(self, expr: Expr) -> _Est | None:
        if isinstance(expr, sympy.Rational):
            digits = math.log10(max(abs(int(expr.p)), abs(int(expr.q)), 1))
            return _Est(_approx(float, expr), digits)
        if isinstance(expr, sympy.NumberSymbol):
            return _Est(_approx(float, expr), 1.0)
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
            return _Est(value, grown + extra)
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            combine = sum if isinstance(expr, sympy.Add) else math.prod
            value = _approx(lambda *v: combine(v), *values) if complete else None
            return _Est(value, digits + math.log10(len(parts)))
        fn = None if isinstance(expr, AppliedUndef) else _APPROX.get(type(expr))
        if fn is None:
            return _Est(None, digits)
        if not complete:  # unknown argument: allow for exp-like growth
            return _Est(None, digits + 0.4343 * 10 ** min(digits, 300.0))
        value = _approx(fn, *values)
        if value is None or value == 0:
            return _Est(value, digits)
        return _Est(value, digits + abs(math.log10(abs(value))))


def _reserved(name: str) -> bool:
    """A name SymPy or Python already gives a meaning: an unknown function so named would be
    confused with it (``str()`` of a result, read back by ``parse_expr``, would call it)."""
    return hasattr(sympy, name) or hasattr(builtins, name)


def _reserved_message(name: str) -> Msg:
    owner = "SymPy" if hasattr(sympy, name) else "Python"
    return Msg("err.reserved", name=name, owner=owner)


def _variable_names(tree: ast.AST) -> set[str]:
    """Every name the expression uses other than as the name of a call: x in x(x + 1)."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called
    }


def _undefined(p: _Parser, node: ast.Call, args: list[Expr]) -> Expr:
    name = node.func.id  # type: ignore[attr-defined]
    return sympy.Function(name, real=True)(*args)


class _Row(NamedTuple):
    """Parser-internal: the row vᵀ M1 M2 … (from ``v.T @ M1 @ M2``), never in a result.

    It is kept as its parts so that ``x.T @ A @ x`` becomes ``VDot(x, MatVec(A, x))``."""

    vector: Expr
    matrices: tuple[Expr, ...]
    length: Expr  # the row's current length: cols of the last matrix, else len(v)
    dot: int  # the '.' of the .T, for errors
    node: ast.expr  # the expression that made the row, for its text in errors


class _Link(NamedTuple):
    """One operand of a flattened chain and the BinOp that joins it ('' and None first)."""

    op: str
    operand: ast.expr
    node: ast.BinOp | None


def _size(shape: Shape) -> str:
    return f"{shape[0]}\u00d7{shape[1]}"


def _describe(shape: Shape) -> Msg:
    if shape == SCALAR:
        return Msg("err.a_scalar")
    if shape[1] == 1:
        return Msg("err.a_vector_of", length=shape[0])
    return Msg("err.a_matrix_of", size=_size(shape))


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _magnitude(est: _Est) -> float:
    """Bound on |value|: the approximation, or 10**digits when the value is unknown."""
    if est.value is not None:
        return abs(est.value)
    return 10 ** min(est.digits, 300.0)


def _arity(low: int, high: int | None) -> Msg:
    plural = "" if low == 1 else ".plural"
    if high is None:
        return Msg("err.arity.at_least" + plural, low=low)
    if high == low:
        return Msg("err.arity.exactly" + plural, low=low)
    return Msg("err.arity.to" if high > low + 1 else "err.arity.or", low=low, high=high)


def _too_big(what: str, size: float, limit: int, digits: bool = False) -> Msg:
    """'exponent too large: about 387420489 (limit 1000)'; overflowed sizes are 'astronomical'.

    ``what`` is "number", "exponent" or "power" (the power would be …), ``digits`` whether
    the sizes count digits."""
    unit = ".digits" if digits else ""
    if not math.isfinite(size) or size > 1e300:
        return Msg(f"err.too_big.{what}.astronomical{unit}", limit=limit)
    shown = str(math.ceil(size)) if size < 1e15 else f"{size:.3g}"
    return Msg(f"err.too_big.{what}{unit}", size=shown, limit=limit)


# -- size guard helpers ---------------------------------------------------------------
class _Est(NamedTuple):
    """Size estimate of a constant: approximate value (None: unknown) and an upper
    bound on the decimal digits of any exact number SymPy may evaluate it to."""

    value: complex | None
    digits: float


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
