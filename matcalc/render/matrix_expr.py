"""A vector or matrix result as SymPy's own matrix expressions, for JSON's ``result``.

matcalc keeps vectors as commutative symbols with small operation classes (see
``matcalc.linalg``); those class names must not reach a program.  ``to_matrix_expr``
rewrites such a result with SymPy's matrix expressions, and ``matrix_str`` prints it in
SymPy's ``str()`` syntax, which ``sympy.parse_expr`` reads back given the declared names as
``MatrixSymbol``s (a vector w of length n is ``MatrixSymbol("w", n, 1)``)::

    parse_expr(result, local_dict={"w": MatrixSymbol("w", n, 1), "x": ..., "n": n})

The dictionary of operations (one entry per class, as in ``matcalc.render.code``):

- w·x is ``Trace(w.T*x)``, sum(v) ``Trace(OneMatrix(1, n)*v)``, ‖v‖ ``sqrt(Trace(v.T*v))``,
  tr(A) ``Trace(A)``;
- aᵀ and Aᵀ are ``a.T``; A v, A B and products of Jacobians are ``*`` (``MatMul``);
- X⁻¹ is ``Inverse(X)``, det(X) ``Determinant(X)``, Xᵏ ``MatPow(X, k)``;
- diag(v) is ``DiagMatrix(v)``, I ``Identity(n)``, 1 ``OneMatrix(n, 1)``, ⊗ₖ
  ``KroneckerProduct``;
- element-wise: u ⊗ v is ``HadamardProduct(u, v)``, vᵏ ``HadamardPower(v, k)``, f(v)
  ``v.applyfunc(Lambda(t, f(t)))`` (1[z > 0] is ``Heaviside(t, 0)``), and a scalar s
  added to a vector is ``s*OneMatrix(n, 1)``.

A result this cannot write (an element-wise function of two vectors, max(u, v)) raises
``UnsupportedError``; the caller then falls back to ``plain_str``, matcalc's notation in
``str()`` syntax with the operations named as in the input language (dot, sum, norm,
matmul, transpose, diag, eye, ones, kron, trace).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

import sympy
from sympy import (
    Determinant,
    DiagMatrix,
    HadamardPower,
    HadamardProduct,
    Identity,
    Integer,
    Inverse,
    KroneckerProduct,
    Lambda,
    MatMul,
    MatPow,
    MatrixBase,
    MatrixSymbol,
    OneMatrix,
    S,
    Symbol,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.assumptions import global_assumptions
from sympy.core.mul import _keep_coeff
from sympy.core.numbers import Float
from sympy.core.symbol import Dummy
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.matrices.expressions.slice import MatrixSlice
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR, _Op
from matcalc.linalg.declarations import MatrixName
from matcalc.linalg.shapes import shape_of
from matcalc.render import printing
from matcalc.render.printing import (
    _PRECEDENCE,
    _Memo,
    _NumberTimesOne,
    _StrPrecedence,
    ordered_terms,
)
from matcalc.symbols import VectorName


class _Convert:
    def __init__(self, shapes: dict):
        self.shapes = shapes
        self.shapes_of: dict = {}  # each subexpression's shape, found once
        self.vectors_in: dict = {}  # whether it has vectors, found once

    def run(self, expr):
        if isinstance(expr, MatrixBase):
            raise UnsupportedError("a matrix of blocks")
        if expr in self.shapes:
            d = self.shapes[expr]
            return MatrixSymbol(expr.name, d.rows, d.cols)
        if not expr.args or not self.has_vectors(expr):
            return expr
        handler = _TABLE.get(type(expr).__name__)
        if handler is not None:
            return handler(self, expr)
        if not isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)) and not _elementwise(expr):
            # vec(G), and any operation added later: no matrix expression (yet), never guessed
            raise UnsupportedError(f"no matrix expression for {type(expr).__name__.lower()}")
        return self.elementwise(expr)

    def shape(self, expr):
        try:
            return self.shapes_of[expr]
        except KeyError:
            shape = self.shapes_of[expr] = shape_of(expr, self.shapes)
            return shape

    def has_vectors(self, expr) -> bool:
        try:
            return self.vectors_in[expr]
        except KeyError:
            found = self.vectors_in[expr] = _has_vectors(expr)
            return found

    def scalar(self, expr) -> bool:
        return self.shape(expr) == SCALAR

    def elementwise(self, expr):
        shape = self.shape(expr)
        args = [self.run(a) for a in expr.args]
        if shape == SCALAR:  # a scalar function of scalars that contain vector operations
            return expr.func(*args)
        if isinstance(expr, sympy.Add):
            total = None
            for original, a in zip(expr.args, args):
                term = a * OneMatrix(*shape) if self.scalar(original) else a
                total = term if total is None else total + term
            return total
        if isinstance(expr, sympy.Mul):
            scalars = [a for o, a in zip(expr.args, args) if self.scalar(o)]
            arrays = [a for o, a in zip(expr.args, args) if not self.scalar(o)]
            array = arrays[0] if len(arrays) == 1 else HadamardProduct(*arrays)
            return sympy.Mul(*scalars) * array if scalars else array
        if isinstance(expr, sympy.Pow):
            base, exp = expr.args
            if not self.scalar(exp):
                raise UnsupportedError("an element-wise power with a vector exponent")
            return HadamardPower(args[0], args[1])
        arrays = [i for i, o in enumerate(expr.args) if not self.scalar(o)]
        if len(arrays) != 1:
            raise UnsupportedError("an element-wise function of several vectors")
        t = Symbol("t", real=True)
        while t in expr.free_symbols:
            t = Symbol(t.name + "_", real=True)
        inner = [t if i == arrays[0] else a for i, a in enumerate(args)]
        return args[arrays[0]].applyfunc(Lambda(t, expr.func(*inner)))

    def _vdot(self, expr):
        a, b = (self.run(x) for x in expr.args)
        return Trace(Transpose(a) * b)

    def _vsum(self, expr):
        (v,) = expr.args
        return Trace(OneMatrix(1, self.shape(v)[0]) * self.run(v))

    def _mean(self, expr):
        (v,) = expr.args
        return self._vsum(expr) / self.shape(v)[0]

    def _norm(self, expr):
        v = self.run(expr.args[0])
        return sympy.sqrt(Trace(Transpose(v) * v))

    def _trace(self, expr):
        return Trace(self.run(expr.args[0]))

    def _transpose(self, expr):
        a = self.run(expr.args[0])
        return a if self.scalar(expr.args[0]) else Transpose(a)

    def _product(self, expr):
        return MatMul(*(self.run(a) for a in expr.args))

    def _diag(self, expr):
        return DiagMatrix(self.run(expr.args[0]))

    def _ident(self, expr):
        return Identity(expr.args[0])

    def _inverse(self, expr):
        return Inverse(self.run(expr.args[0]))

    def _determinant(self, expr):
        return Determinant(self.run(expr.args[0]))

    def _power(self, expr):
        return MatPow(self.run(expr.args[0]), expr.args[1])

    def _ones(self, expr):
        return OneMatrix(expr.args[0], 1)

    def _ones_matrix(self, expr):
        return OneMatrix(*expr.args)

    def _kron(self, expr):
        """A ⊗ₖ B with the scalar factors of A and B in front, c·(A ⊗ₖ B): SymPy's own
        KroneckerProduct of a factor c·A fails when it is evaluated (AttributeError)."""
        coefficient, factors = S.One, []
        for a in expr.args:
            factor = self.run(a).doit()  # A·diag(-v) is -A·diag(v) once evaluated
            inner = factor.arg if isinstance(factor, Transpose) else factor
            if isinstance(inner, MatMul):  # c·A, or (c·A)ᵀ
                c, inner = inner.as_coeff_mmul()
                coefficient *= c
                factor = Transpose(inner) if isinstance(factor, Transpose) else inner
            factors.append(factor)
        product = KroneckerProduct(*factors)
        return product if coefficient == 1 else coefficient * product


_TABLE = {
    "VDot": _Convert._vdot,
    "VSum": _Convert._vsum,
    "Mean": _Convert._mean,
    "Norm": _Convert._norm,
    "MTrace": _Convert._trace,
    "T": _Convert._transpose,
    "MatT": _Convert._transpose,
    "MatVec": _Convert._product,
    "MMul": _Convert._product,
    "MatProd": _Convert._product,
    "Diag": _Convert._diag,
    "Ident": _Convert._ident,
    "Inv": _Convert._inverse,
    "Det": _Convert._determinant,
    "MPow": _Convert._power,
    "Ones": _Convert._ones,
    "Kron": _Convert._kron,
    "OnesMatrix": _Convert._ones_matrix,
}
"""matcalc.linalg class name -> rewrite.  A class without an entry raises UnsupportedError."""

NO_MATRIX_EXPR = {
    "Commutation": "SymPy has no commutation matrix: matcalc's notation (plain_str)",
    "Outer": "an operator of the engine, never a result",
    "OuterT": "an operator of the engine, never a result",
    "Lin": "a Jacobian of a matrix by a matrix, refused as a result",
    "DMat": "a Jacobian of a matrix by a scalar, refused as a result",
    "Rank1": "a Jacobian of a matrix through a scalar, refused as a result",
    "Circ": "display only: a note of the differential method",
    "MDiff": "display only: the steps of the differential method",
}
"""matcalc.linalg classes with no entry in ``_TABLE`` on purpose: ``result_str`` falls back to
``plain_str`` (UnsupportedError), never guessed."""


def _elementwise(expr) -> bool:
    """A function that matcalc applies entry by entry (sin, max, the gate, σ, …)."""
    from matcalc.render.code import _HANDLERS, _Emitter

    return _HANDLERS.get(type(expr).__name__) in (_Emitter._function, _Emitter._maxmin)


def _has_vectors(expr) -> bool:
    return any(isinstance(s, (VectorName, MatrixName)) for s in expr.free_symbols) or any(
        isinstance(node, _Op) for node in sympy.preorder_traversal(expr)
    )


def to_matrix_expr(expr, shapes: dict):
    """``expr`` with SymPy's matrix expressions; UnsupportedError where there is none."""
    with _doit_memo(expr):
        return _Convert(shapes).run(expr)


# -- doit, once per subexpression -------------------------------------------------------------
# SymPy's matrix arithmetic evaluates as it builds: a + b is MatAdd(a, b).doit(), and doit
# goes all the way down, so each sum or product built on a subexpression evaluates it again
# (DiagMatrix's asks the assumption system whether its vector is diagonal, each time).  While
# one conversion runs, each distinct (subexpression, hints) is evaluated once: doit is a pure
# function of the expression, so the result is the very one SymPy gives.  Except where a
# Dummy is involved: doit composes f.(g.(v)) into (Lambda(d, f(g(d)))).(v) with a new Dummy
# d each time, and a sum's terms are ordered by their Dummies' indices, so such a
# subexpression (one with a Dummy, or an element-wise function of one) is evaluated afresh
# each time, as without the memo.  The memo belongs to that one call (and thread) and is
# dropped when it returns.

_ACTIVE = threading.local()


@contextmanager
def _doit_memo(expr) -> Iterator[None]:
    """Memoise matrix expressions' ``doit`` in this thread while converting ``expr``.  Not
    with a Float in it: Float(2.0) == 2 for SymPy, which would make HadamardPower(v, 2.0)
    the memo's HadamardPower(v, 2)."""
    if getattr(_ACTIVE, "memo", None) is not None or expr.atoms(Float):
        yield
        return
    _install()
    _ACTIVE.memo = {}
    try:
        yield
    finally:
        _ACTIVE.memo = None
        _uninstall()


def _memoised(doit):
    @wraps(doit)
    def memoised(self, **hints):
        memo = getattr(_ACTIVE, "memo", None)
        if memo is None:
            return doit(self, **hints)
        key = (self, tuple(sorted(hints.items())))
        try:
            return memo[key]
        except KeyError:
            value = _SHORTCUTS[type(self)](self) if type(self) in _SHORTCUTS else None
            if value is None:
                value = doit(self, **hints)
            if not _makes_dummies(self, memo) and not _makes_dummies(value, memo):
                memo[key] = value
            return value
        except TypeError:  # an unhashable hint
            return doit(self, **hints)

    return memoised


def _diag_doit(diag):
    """``DiagMatrix(v).doit()`` for a vector v that cannot be diagonal, without asking.

    SymPy's doit first asks the assumption system whether v is diagonal (then diag(v) is v
    itself: a 1×1 matrix, an identity), which runs the SAT solver on the facts of every
    subexpression of v: tens of milliseconds each time.  A matrix that is not square is
    diagonal for SymPy only as a zero matrix or a slice (or given assumptions, in the global
    context), so for any other v its answer is known: no.  The rest is SymPy's doit
    (``test_a_diag_is_evaluated_as_sympy_does`` holds it to the installed SymPy's); None
    where the question is not so settled."""
    v = diag._vector
    rows, cols = v.shape
    if rows == cols or global_assumptions or isinstance(v, MatrixBase):
        return None
    if v.has(ZeroMatrix, MatrixSlice):
        return None
    if isinstance(v, MatMul):
        matrices = [a for a in v.args if a.is_Matrix]
        scalars = [a for a in v.args if a not in matrices]
        if scalars:
            return sympy.Mul.fromiter(scalars) * DiagMatrix(MatMul.fromiter(matrices).doit()).doit()
    return DiagMatrix(v.arg if isinstance(v, Transpose) else v)


def _ones_doit(ones):
    """``OneMatrix(m, n).doit()`` for sizes that are numbers or symbols, without asking.

    SymPy's doit asks whether m = 1 and n = 1 (then it is the 1×1 identity) by evaluating
    Eq(m, 1) & Eq(n, 1), whose Eq(n, 1) queries the assumptions of n - 1: milliseconds on a
    cold cache, for every 1 in a result.  Eq(s, 1) of a symbol s is never True (no
    assumption fixes a symbol's value), and of a number it is s == 1; so unless both sizes
    are the number 1 the answer is OneMatrix(m, n) as it stands.  None otherwise."""
    m, n = ones.args
    if not all(isinstance(a, (Symbol, Integer)) for a in (m, n)) or (m == 1 and n == 1):
        return None
    return OneMatrix(m, n)


_SHORTCUTS = {DiagMatrix: _diag_doit, OneMatrix: _ones_doit}
"""Matrix classes whose doit asks a question whose answer is known (see each function)."""


def _ones_is_identity(ones) -> bool | None:
    """``OneMatrix(m, n).is_Identity`` for sizes that are numbers or symbols, without asking.

    A product's doit removes identities (``remove_ids``), asking each factor whether it is
    one; a OneMatrix answers ``Eq(m, 1) & Eq(n, 1) == True``, an assumption query on m - 1
    and n - 1 each time.  As for its doit (``_ones_doit``), Eq(s, 1) of a symbol is never
    True and of a number it is s == 1: the answer is m == 1 and n == 1.  None otherwise."""
    m, n = ones.args
    if not all(isinstance(a, (Symbol, Integer)) for a in (m, n)):
        return None
    return m == 1 and n == 1


_sympy_ones_is_identity = getattr(  # SymPy's getter (not this module's, if imported again)
    OneMatrix.is_Identity.fget, "__wrapped__", OneMatrix.is_Identity.fget
)


def _memoised_ones_is_identity(self) -> bool:
    """OneMatrix.is_Identity: ``_ones_is_identity`` while a conversion runs, else SymPy's."""
    if getattr(_ACTIVE, "memo", None) is not None:
        known = _ones_is_identity(self)
        if known is not None:
            return known
    return _sympy_ones_is_identity(self)


def _makes_dummies(expr, memo: dict) -> bool:
    """``expr`` has a Dummy, or an element-wise function of one (whose doit makes one);
    found once per subexpression (``memo``: the doit memo, under keys of their own)."""
    key = ("dummies", expr)
    found = memo.get(key)
    if found is None:
        found = memo[key] = (
            isinstance(expr, Dummy)
            or (isinstance(expr, ElementwiseApplyFunction) and _has_elementwise(expr.expr, memo))
            or any(_makes_dummies(a, memo) for a in expr.args)
        )
    return found


def _has_elementwise(expr, memo: dict) -> bool:
    key = ("elementwise", expr)
    found = memo.get(key)
    if found is None:
        found = memo[key] = isinstance(expr, ElementwiseApplyFunction) or any(
            _has_elementwise(a, memo) for a in expr.args
        )
    return found


# SymPy's classes are changed only while some thread converts (``_install`` on entering the
# first ``_doit_memo``, ``_uninstall`` on leaving the last): a program that imports matcalc
# gets SymPy's own ``doit`` and ``OneMatrix.is_Identity`` back whenever no conversion runs,
# and another thread meanwhile gets SymPy's behaviour through the wrappers (its memo is None).
_LOCK = threading.Lock()
_USERS = 0
_ABSENT = object()
_SAVED: list[tuple[type, str, object]] = []


def _install() -> None:
    """Wrap ``doit`` of every matrix expression class that defines one (and MatrixExpr's own,
    inherited from Basic, for the rest), and ``OneMatrix.is_Identity``; counted, so that
    conversions in several threads share one installation."""
    global _USERS
    with _LOCK:
        _USERS += 1
        if _USERS > 1:
            return
        classes, todo = [], [MatrixExpr]
        while todo:
            cls = todo.pop()
            classes.append(cls)
            todo.extend(c for c in cls.__subclasses__() if c not in classes and c not in todo)
        for cls in classes:
            own = vars(cls).get("doit", _ABSENT)
            if cls is MatrixExpr and own is _ABSENT:
                _SAVED.append((cls, "doit", own))
                cls.doit = _memoised(sympy.Basic.doit)
            elif own is not _ABSENT and not hasattr(own, "__wrapped__"):
                _SAVED.append((cls, "doit", own))
                cls.doit = _memoised(own)
        _SAVED.append((OneMatrix, "is_Identity", vars(OneMatrix)["is_Identity"]))
        OneMatrix.is_Identity = property(_memoised_ones_is_identity)


_memoised_ones_is_identity.__wrapped__ = _sympy_ones_is_identity  # type: ignore[attr-defined]


def _uninstall() -> None:
    """Undo ``_install`` once its last user is done: SymPy's classes as they were."""
    global _USERS
    with _LOCK:
        _USERS -= 1
        if _USERS:
            return
        while _SAVED:
            cls, name, value = _SAVED.pop()
            if value is _ABSENT:
                delattr(cls, name)
            else:
                setattr(cls, name, value)


def _str_precedence(item) -> int:
    """SymPy's ``precedence(item)``.  A product A·B without a number in front cannot have a
    minus sign to take out, which SymPy finds by comparing it with −A·B, built and
    evaluated all the way down (``Mul.could_extract_minus_sign``): that is skipped.  With a
    number c ≠ 0 in front (finite, not nan), −A·B has −c ≠ c in front, or none: never equal
    to A·B, and the sign is c's."""
    if type(item) is not MatMul:
        return precedence(item)
    c = item.args[0]
    if c.is_Number and c in (S.Zero, S.ComplexInfinity, S.NaN):
        return precedence(item)
    if any(  # precedence_Mul's first question, as SymPy asks it
        hasattr(a, "precedence")
        and isinstance(a, sympy.Function)
        and a.precedence < PRECEDENCE["Mul"]
        for a in item.args
    ):
        return PRECEDENCE["Mul"]
    if c.is_Number and c.is_extended_negative:
        return PRECEDENCE["Add"]
    return PRECEDENCE["Mul"]  # precedence_Mul's answer when no sign can be taken out


class _StrSums:
    """Mixin for a ``StrPrinter``: a sum of scalars in ``str()``'s order without SymPy's
    evalf of each coefficient (``ordered_terms``), and each term's precedence found once
    (``self._precedence``): SymPy's finds a product's by building its negation."""

    def _as_ordered_terms(self, expr, order=None):
        if (order or self.order) is None and isinstance(expr, sympy.Add):
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)

    def _print_Add(self, expr, order=None):
        # StrPrinter's, with each term's precedence found once
        prec = self._precedence(expr)
        out = []
        for term in self._as_ordered_terms(expr, order=order):
            t = self._print(term)
            sign = "+"
            if t.startswith("-") and not term.is_Add:
                sign, t = "-", t[1:]
            if self._precedence(term) < prec or term.is_Add:
                t = f"({t})"
            out.extend([sign, t])
        sign = out.pop(0)
        return ("" if sign == "+" else sign) + " ".join(out)


class MatrixExprStrPrinter(_StrSums, StrPrinter):
    """``str()``, with the matrix expressions that ``parse_expr`` must read back spelled out.

    The precedence of each subexpression is found once: a product's asks whether it could
    be negated, which SymPy answers by building −A·B and evaluating it all the way down
    (``doit``), once per factor of every product above it."""

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self._precedences: dict = {}

    def _precedence(self, item) -> int:
        try:
            return self._precedences[item]
        except KeyError:
            value = self._precedences[item] = _str_precedence(item)
            return value
        except TypeError:  # unhashable
            return _str_precedence(item)

    def parenthesize(self, item, level, strict=False):
        p = self._precedence(item)
        if p < level or (not strict and p <= level):
            return f"({self._print(item)})"
        return self._print(item)

    def _print_MatMul(self, expr):
        c, m = expr.as_coeff_mmul()
        sign = ""
        if c.is_number:  # StrPrinter's, with the product's precedence found once
            re, im = c.as_real_imag()
            if (im.is_zero and re.is_negative) or (re.is_zero and im.is_negative):
                expr = _keep_coeff(-c, m)
                sign = "-"
        level = self._precedence(expr)
        return sign + "*".join([self.parenthesize(arg, level) for arg in expr.args])

    def _print_Identity(self, expr):
        return f"Identity({self._print(expr.rows)})"

    def _print_OneMatrix(self, expr):
        return f"OneMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_ZeroMatrix(self, expr):
        return f"ZeroMatrix({self._print(expr.rows)}, {self._print(expr.cols)})"

    def _print_BlockMatrix(self, expr):
        rows = ", ".join(
            "[" + ", ".join(self._print(b) for b in expr.blocks.row(i)) + "]"
            for i in range(expr.blocks.rows)
        )
        return f"BlockMatrix([{rows}])"

    def _print_Lambda(self, expr):
        """A function SymPy composed (f.(g.(v)) is v.applyfunc(Lambda(_d, f(g(_d))))) has a
        Dummy for its variable: written t, as the one-function case is (t_ where t is taken)."""
        variables, body = expr.signature, expr.expr
        if len(variables) != 1 or not isinstance(variables[0], Dummy):
            return super()._print_Lambda(expr)
        t = Symbol("t", real=True)
        while t in body.free_symbols:
            t = Symbol(t.name + "_", real=True)
        return super()._print_Lambda(Lambda(t, body.xreplace({variables[0]: t})))

    def _print_ElementwiseApplyFunction(self, expr):
        inner = self.parenthesize(expr.expr, PRECEDENCE["Atom"], strict=True)
        return f"{inner}.applyfunc({self._print(expr.function)})"


def matrix_str(expr, shapes: dict) -> str:
    return MatrixExprStrPrinter().doprint(to_matrix_expr(expr, shapes))


def result_str(d) -> str:
    """JSON's ``result`` of a problem with vectors or matrices: SymPy matrix expressions
    (``BlockMatrix`` for a gradient by several variables), else ``plain_str``."""
    from matcalc.render.code import NUMPY, _Function

    shapes = {decl.symbol: decl for decl in d.problem.declarations}
    try:
        with _doit_memo(d.result):  # printing evaluates too (−A·B, to find a sign)
            blocks = _Function(d, NUMPY).blocks()
            if len(blocks) == 1 and len(blocks[0]) == 1:
                value = _block(*blocks[0][0], shapes)
            else:
                value = sympy.BlockMatrix(
                    [[_block(e, t, shapes, matrix=True) for e, t in row] for row in blocks]
                )
            return MatrixExprStrPrinter().doprint(value)
    except UnsupportedError:
        return plain_str(d.result)


def _block(expr, target, shapes, matrix: bool = False):
    value = to_matrix_expr(expr, shapes)
    if target == SCALAR and not isinstance(value, sympy.MatrixExpr) and not matrix:
        return value
    if expr == 0:
        return sympy.ZeroMatrix(*target)
    if not isinstance(value, sympy.MatrixExpr):  # a scalar where the Jacobian is bigger
        return value * OneMatrix(*target)
    return value


_PLAIN = {
    "VDot": "dot",
    "VSum": "sum",
    "Mean": "mean",
    "Norm": "norm",
    "MatVec": "matmul",
    "MMul": "matmul",
    "MatProd": "matmul",
    "MatT": "transpose",
    "T": "transpose",
    "MTrace": "trace",
    "Diag": "diag",
    "Ident": "eye",
    "Ones": "ones",
    "Kron": "kron",
}


class PlainStrPrinter(_StrSums, _NumberTimesOne, _StrPrecedence, _Memo, StrPrinter):
    """matcalc's notation in ``str()`` syntax, each operation named as in the input language
    (JSON's step values of vector problems, whose intermediates have no declared shape):
    dot(a, b), sum(v), norm(v), matmul(A, B, …) (a product in order), transpose(a),
    trace(A), diag(v), eye(n), ones(n) (a column of n ones), kron(A, B).

    Sums and products are put in ``str()``'s order as ``SympyStrPrinter`` does it (the
    scalar JSON's printer): the order of a sum's terms without SymPy's ``evalf`` of each
    coefficient (``ordered_terms``), and c·f without f's sort key; each precedence found
    once.  The explicit Jacobian of a verification is mostly such sums."""

    def _precedence(self, item) -> int:
        return printing._memoised(_PRECEDENCE, precedence, item)

    def _print_Function(self, expr):
        name = _PLAIN.get(type(expr).__name__)
        if name is None:
            if isinstance(expr, _Op):
                name = type(expr).__name__.lower()
            else:
                return super()._print_Function(expr)
        return f"{name}({self.stringify(expr.args, ', ')})"


def plain_str(expr) -> str:
    return PlainStrPrinter(None, None).doprint(expr)
