"""The function table: every name the parser may call, its arity and how its node is built.

* ``FUNCTIONS``: the scalar functions (sin, ln/log, sqrt, abs, max, sigmoid, …), with
  their aliases (``arcsin`` for ``asin``, ``arsinh`` and ``arcsinh`` for ``asinh``,
  ``cosec`` for ``csc``, ``Abs`` for ``abs``).  With declared vectors
  they apply element by element (except ``atan2``: ``SCALAR_ONLY``).
* ``VECTOR_FUNCTIONS``: functions of vectors and matrices (``dot``, ``sum``, ``mean``, ``norm``,
  ``trace``, ``softmax``, ``logsumexp``, ``inv``, ``det``, ``logdet``, ``matrix_power``),
  known only when ``parse`` is given ``shapes``; their builders check their arguments'
  shapes (``shapes.py``).
* ``CONSTANTS``: ``e``/``E`` and ``pi``.
* ``UNSUPPORTED``: names a user may expect that are refused by name, with why or what to
  write instead.
* ``unknown_function``: any other call is an undefined real function when the name is one
  letter (``f``, ``g2``, ``h_1``) or declared (``declare_functions``), else refused with a
  hint: "unknown function sni; did you mean sin?" (``difflib``).  A name both called and
  used as a variable (``x(x+1)``) is refused with the hint ``x*(x+1)``: one name never
  stands for two things.

Extending: a function is one entry in ``FUNCTIONS``: ``"name": _unary(sympy.cls)`` or
``Fn(min_args, max_args_or_None, builder)``, where a builder takes the parser, the call's
AST node and the built arguments.  If SymPy can evaluate it to a number, also add a complex
approximation to ``guard._APPROX`` so the size guard can see through it.  ``pow(x, y)`` is
built as ``x ** y`` by the visitor (the same guards and shapes).
"""

from __future__ import annotations

import ast
import builtins
import difflib
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import sympy
from sympy.polys.polyerrors import BasePolynomialError

from matcalc.errors import (
    LimitError,
    MathError,
    ParseError,
    ShapeError,
    UnsupportedError,
    UsageError,
)
from matcalc.functions import cbrt, log2, log10, sigmoid
from matcalc.linalg import Det, Diag, Ident, Inv, Mean, MPow, MTrace, Norm, Ones, VDot, VSum
from matcalc.msg import Msg
from matcalc.parse.shapes import check_dot, check_trace, one_vector, size_names, square

if TYPE_CHECKING:
    from matcalc.parse.visitor import Parser

Expr: TypeAlias = sympy.Expr
Builder: TypeAlias = Callable[["Parser", ast.Call, list[Expr]], Expr]


class Fn(NamedTuple):
    """A function table entry: accepted argument counts and how to build the node."""

    min_args: int
    max_args: int | None  # None: no upper bound
    build: Builder


def _unary(cls: type) -> Fn:
    return Fn(1, 1, lambda p, node, a: cls(a[0], evaluate=False))


def _log(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    ln = sympy.log(a[0], evaluate=False)
    if len(a) == 1:
        return ln
    inverse = sympy.Pow(sympy.log(a[1], evaluate=False), -1, evaluate=False)
    return sympy.Mul(ln, inverse, evaluate=False)


def _factorial(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    limit = p.limits.max_factorial
    if isinstance(a[0], sympy.Integer):
        n = int(a[0])
        if n < 0:
            raise p.error(UnsupportedError, Msg("err.factorial.negative"), node)
        if n > limit:
            raise p.error(LimitError, Msg("err.factorial.limit", n=n, limit=limit), node)
        return sympy.Integer(math.factorial(n))
    est = p.guard.estimate(a[0])
    if est is not None and est.value is not None and abs(est.value) > limit:
        raise p.error(LimitError, Msg("err.factorial.argument", limit=limit), node)
    msg = Msg("err.factorial.literal")
    raise p.error(UnsupportedError, msg, node)


def _real_args(cls: type, low: int, high: int | None) -> Fn:
    """abs, max and min: functions of real arguments, whose derivatives are 1[·], sign(·).

    SymPy cannot order complex numbers (max(sqrt(-1), x) fails later with "not
    comparable"), and d|u|/du = sign(u) is wrong for a complex u (|√-1·x|′ would be
    −sign(x)), so an argument that is not real is refused here, with its column.  The
    test is SymPy's own: not real, or a number that cannot be compared.
    """

    def build(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
        for i, arg in enumerate(a):
            if not real_argument(arg):
                name = node.func.id  # type: ignore[attr-defined]
                key = "err.real_argument" if high == 1 else "err.real_arguments"
                msg = Msg(key, name=name, arg=p.arg_text(node, i))
                raise p.error(MathError, msg, node.args[i])
        return cls(*a, evaluate=False)

    return Fn(low, high, build)


def real_argument(arg: Expr) -> bool:
    """False when SymPy's Max/Min would refuse ``arg`` (not real, or not comparable), or
    when, once evaluated, it involves √-1 (x·sqrt(-1), ln(-2)) or a constant that is not
    real (acos(pi/2) + x)."""
    try:
        if arg.is_extended_real is False:
            return False
        value = arg.doit()  # the tree as typed is unevaluated: x*sqrt(-1) is not yet x*I
        if value.is_extended_real is False or value.has(sympy.I):
            return False
        if value.is_number and not value.has(*_INFINITE) and not value.is_comparable:
            return False  # evaluated: |sin(π)| as typed is not comparable (sin(π) loses
            # its precision), its value 0 is; nan and zoo are "undefined", said later
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


def _relu(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """relu(u) is max(0, u), the paper's ReLU (its argument real, as max's)."""
    if not real_argument(a[0]):
        msg = Msg("err.real_argument", name="relu", arg=p.arg_text(node, 0))
        raise p.error(MathError, msg, node.args[0])
    return sympy.Max(sympy.Integer(0), a[0], evaluate=False)


def _softplus(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """softplus(u) is ln(1 + exp(u)); each node gets its shape, as in ``_softmax``."""
    e = p.shaped(sympy.exp(a[0], evaluate=False))
    return sympy.log(p.shaped(sympy.Add(sympy.Integer(1), e, evaluate=False)), evaluate=False)


def _sqrt(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return sympy.Pow(a[0], sympy.Rational(1, 2), evaluate=False)


_TRIG = "sin cos tan cot sec csc asin acos atan acot asec acsc"
_HYP = "sinh cosh tanh coth sech csch asinh acosh atanh acoth asech acsch"
_INVERSE = "asin acos atan acot asec acsc asinh acosh atanh acoth asech acsch"
"""Their aliases: arcsin … arccsch, and ISO's area functions arsinh … arcsch."""


def _pow(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """pow(x, y) is x ** y; ``visit_Call`` builds it as that power (same guards and shapes)."""
    raise AssertionError("pow is built by Parser.visit_Call")  # pragma: no cover


POW = Fn(2, 2, _pow)
"""The entry of pow(x, y), which ``Parser.visit_Call`` builds as x ** y."""


FUNCTIONS: dict[str, Fn] = {
    **{name: _unary(getattr(sympy, name)) for name in f"{_TRIG} {_HYP} exp".split()},
    **{f"arc{name[1:]}": _unary(getattr(sympy, name)) for name in _INVERSE.split()},
    **{f"ar{name[1:]}": _unary(getattr(sympy, name)) for name in _INVERSE.split()[6:]},
    "cosec": _unary(sympy.csc),
    "ln": _unary(sympy.log),
    "log": Fn(1, 2, _log),
    "log10": _unary(log10),
    "log2": _unary(log2),
    "sqrt": Fn(1, 1, _sqrt),
    "cbrt": _real_args(cbrt, 1, 1),
    "pow": POW,
    "abs": _real_args(sympy.Abs, 1, 1),
    "Abs": _real_args(sympy.Abs, 1, 1),
    "sign": _real_args(sympy.sign, 1, 1),
    "max": _real_args(sympy.Max, 2, None),
    "Max": _real_args(sympy.Max, 2, None),
    "relu": Fn(1, 1, _relu),
    "softplus": Fn(1, 1, _softplus),
    "min": _real_args(sympy.Min, 2, None),
    "Min": _real_args(sympy.Min, 2, None),
    "atan2": _real_args(sympy.atan2, 2, 2),
    "arctan2": _real_args(sympy.atan2, 2, 2),
    "erf": _unary(sympy.erf),
    "erfc": _unary(sympy.erfc),
    "sigmoid": _unary(sigmoid),
    "factorial": Fn(1, 1, _factorial),
}
"""Callable names -> table entry.  Add a function here (see the module docstring)."""

SCALAR_ONLY = {"atan2", "arctan2"}
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
    "root": Msg("err.why.write", form="x**(1/n)"),
    "real_root": Msg("err.why.write", form="sign(x)*abs(x)**(1/n)"),
    "nthroot": Msg("err.why.write", form="x**(1/n)"),
    "transpose": Msg("err.why.write", form="x.T (or xᵀ) for the transpose"),
}
"""Names a user may expect (numpy's, SymPy's) that matcalc refuses by name, with why or what
to write instead.  They may not be declared as unknown functions either."""


# -- functions of vectors and matrices -------------------------------------------------
def _vsum(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    one_vector(p, node, a, matrix=True)
    return p.shaped(VSum(a[0]))


def _mean(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    one_vector(p, node, a)
    return p.shaped(Mean(a[0]))


def _norm(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    one_vector(p, node, a, matrix=True)
    return p.shaped(Norm(a[0]))


def _exp_total(p: Parser, node: ast.Call, a: list[Expr]) -> tuple[Expr, Expr]:
    """exp(v) and sum(exp(v)), the pieces of softmax and logsumexp."""
    one_vector(p, node, a)
    e = p.shaped(sympy.exp(a[0], evaluate=False))
    return e, p.shaped(VSum(e))


def _softmax(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    e, total = _exp_total(p, node, a)
    inverse = p.shaped(sympy.Pow(total, -1, evaluate=False))
    return p.shaped(sympy.Mul(e, inverse, evaluate=False))


def _logsumexp(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return p.shaped(sympy.log(_exp_total(p, node, a)[1], evaluate=False))


def _dot(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    check_dot(p, node, a)
    return p.shaped(VDot(a[0], a[1]))


def _trace(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    check_trace(p, node, a)  # a square matrix, or X Xᵀ of a 1×n X: a 1×1 matrix
    return p.shaped(MTrace(a[0]))


MAX_MATRIX_POWER = 8
"""matrix_power(X, k) for 0 ≤ k ≤ this: X⁸ is already a product of eight factors."""


def _inv(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    square(p, node, a, "inv")
    return p.shaped(Inv(a[0]))


def _det(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    square(p, node, a, "det")
    return p.shaped(Det(a[0]))


def _logdet(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """logdet(X) is ln(det(X)): real where det(X) > 0."""
    det = _det(p, node, a)
    return p.shaped(sympy.log(det, evaluate=False))


def _matrix_power(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    shape = square(p, node, a, "matrix_power")
    k = a[1]
    if not (isinstance(k, sympy.Integer) and 0 <= int(k) <= MAX_MATRIX_POWER):
        negative = isinstance(k, sympy.Integer) and int(k) < 0
        key = "err.matrix_power_negative" if negative else "err.matrix_power_range"
        msg = Msg(key, call=p.call_text(node), high=MAX_MATRIX_POWER)
        raise p.error(UnsupportedError, msg, node)
    if k == 0:
        return p.shaped(Ident(shape[0]))
    if k == 1:
        return a[0]
    return p.shaped(MPow(a[0], k))


VECTOR_FUNCTIONS: dict[str, Fn] = {
    "inv": Fn(1, 1, _inv),
    "det": Fn(1, 1, _det),
    "logdet": Fn(1, 1, _logdet),
    "matrix_power": Fn(2, 2, _matrix_power),
    "dot": Fn(2, 2, _dot),
    "sum": Fn(1, 1, _vsum),
    "mean": Fn(1, 1, _mean),
    "norm": Fn(1, 1, _norm),
    "trace": Fn(1, 1, _trace),
    "softmax": Fn(1, 1, _softmax),
    "logsumexp": Fn(1, 1, _logsumexp),
}
"""Functions of vectors and matrices, known only when ``parse`` is given ``shapes``.  Their
builders check the argument shapes themselves and record the result's shape."""


def _diag(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    one_vector(p, node, a)
    return p.shaped(Diag(a[0]))


def _sized(cls: type) -> Callable[[Parser, ast.Call, list[Expr]], Expr]:
    def build(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
        size = a[0]
        # the problem's sizes: its n, N (symbols) and the numbers declared (x:3)
        numbers = {
            s
            for d in (p.shapes or {}).values()
            for s in ((d.rows,) if d.is_vector else (d.rows, d.cols))
            if s.is_Integer
        }
        if size not in p.sizes.values() and size not in numbers:
            sizes = ", ".join([*sorted(p.sizes), *map(str, sorted(numbers))]) or "n"
            raise p.error(ShapeError, Msg("err.size_of", call=p.call_text(node), sizes=sizes), node)
        return p.shaped(cls(size))

    return build


def _gate(p: Parser, node: ast.Call, a: list[Expr]) -> Expr:
    """heaviside(z) or step(z) in an answer: the gate 1[z > 0] (0 at z = 0, as max(0, z)'s
    derivative is taken here), its argument real."""
    if not real_argument(a[0]):
        name = node.func.id  # type: ignore[attr-defined]
        msg = Msg("err.real_argument", name=name, arg=p.arg_text(node, 0))
        raise p.error(MathError, msg, node.args[0])
    return sympy.Heaviside(a[0], 0)


ANSWER_GATES: dict[str, Fn] = {name: Fn(1, 1, _gate) for name in ("heaviside", "step")}
"""The gate of ReLU's derivative, as an answer may write it (also 1[z > 0], as matcalc
prints it): refused in an expression to differentiate (``UNSUPPORTED``), whose derivative
would be 0 but at the jump."""

ANSWER_FUNCTIONS: dict[str, Fn] = {
    "diag": Fn(1, 1, _diag),
    "eye": Fn(1, 1, _sized(Ident)),
    "ones": Fn(1, 1, _sized(Ones)),
}
"""Matrices that a Jacobian is written with, known in an answer to ``check`` only (``parse(...,
answer=True)``): diag(v), the square matrix with v on its diagonal, eye(n), the identity, and
ones(n), the column of n ones (with ``a @ b.T``, the outer product, they write diag(σ) − σσᵀ,
I − 𝟏𝟏ᵀ/n, 𝟏ᵀ); an expression to differentiate never has them (the engine has no rule for
them as operations)."""

CONSTANTS: dict[str, Expr] = {"e": sympy.E, "E": sympy.E, "pi": sympy.pi}


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IMPLICIT_FUNCTION = re.compile(r"[A-Za-z](?:_?[0-9]+)?")
"""Names called as unknown functions without being declared: f, g, h, F, f1, g_2."""
_KNOWN_NAMES = sorted({*FUNCTIONS, *VECTOR_FUNCTIONS})
_OTHER_NOTATIONS = {
    "tg": "tan",
    "ctg": "cot",
    "cotg": "cot",
    "arctg": "atan",
    "arcctg": "acot",
    "sh": "sinh",
    "ch": "cosh",
    "th": "tanh",
    "cth": "coth",
    "lg": "log10",
    "sigma": "sigmoid",
}
"""Names other traditions write (tg x, sh x, lg x), told the name matcalc knows."""


def declare_functions(names: str | Iterable[str], shapes: dict | None = None) -> frozenset[str]:
    """The names of declared unknown functions, from "f,g" or ["f", "sni"] (items may hold
    commas, as repeated ``--function`` options do).

    A name must be a plain identifier, and may not be a built-in function, a constant, a
    name refused by name (``UNSUPPORTED``) or a declared vector, matrix or size: two different
    functions never share a name (an unknown ``sign`` would print like the built-in one).
    """
    items = [names] if isinstance(names, str) else list(names)
    taken = {s.name for s in shapes or ()} | set(size_names(shapes))
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


def _reserved(name: str) -> bool:
    """A name SymPy or Python already gives a meaning: an unknown function so named would be
    confused with it (``str()`` of a result, read back by ``parse_expr``, would call it)."""
    return hasattr(sympy, name) or hasattr(builtins, name)


def _reserved_message(name: str) -> Msg:
    owner = "SymPy" if hasattr(sympy, name) else "Python"
    return Msg("err.reserved", name=name, owner=owner)


def _undefined(p: Parser, node: ast.Call, args: list[Expr]) -> Expr:
    name = node.func.id  # type: ignore[attr-defined]
    return sympy.Function(name, real=True)(*args)


def arity(low: int, high: int | None) -> Msg:
    plural = "" if low == 1 else ".plural"
    if high is None:
        return Msg("err.arity.at_least" + plural, low=low)
    if high == low:
        return Msg("err.arity.exactly" + plural, low=low)
    return Msg("err.arity.to" if high > low + 1 else "err.arity.or", low=low, high=high)


def unknown_function(p: Parser, node: ast.Call) -> Fn:
    """The entry of a call of a name matcalc does not define: an unknown function when it
    is one letter (f, g2, h_1) or declared, never when the name is also a variable."""
    name = node.func.id  # type: ignore[attr-defined]
    if name in p.variables and name not in p.functions:
        call = str(p.call_text(node))  # the text as typed (or "name(...)")
        hint = f"{name}*{call[len(name) :].lstrip()}" if call.startswith(name) else f"{name}*(...)"
        raise p.error(ParseError, Msg("err.variable_called", name=name, hint=hint), node)
    if name in UNSUPPORTED:
        msg = Msg("err.unsupported_function", name=name, why=UNSUPPORTED[name])
        raise p.error(UnsupportedError, msg, node)
    if name in VECTOR_FUNCTIONS:  # scalar mode: sum(x) with x not declared
        msg = Msg("err.needs_declared", name=name)
        raise p.error(UnsupportedError, msg, node)
    if name not in p.functions and not _IMPLICIT_FUNCTION.fullmatch(name):
        close = [_OTHER_NOTATIONS[name]] if name in _OTHER_NOTATIONS else []
        close = close or difflib.get_close_matches(name.lower(), _KNOWN_NAMES, n=1)
        if close:
            msg = Msg("err.unknown_function.close", name=name, close=close[0])
        else:
            msg = Msg("err.unknown_function", name=name)
        raise p.error(ParseError, msg, node)
    if _reserved(name):  # N(x), S(x): SymPy's N and S
        raise p.error(ParseError, _reserved_message(name), node)
    return Fn(1, None, _undefined)
