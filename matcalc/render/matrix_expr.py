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

import sympy
from sympy import (
    Determinant,
    DiagMatrix,
    HadamardPower,
    HadamardProduct,
    Identity,
    Inverse,
    KroneckerProduct,
    Lambda,
    MatMul,
    MatPow,
    MatrixBase,
    MatrixSymbol,
    OneMatrix,
    Symbol,
    Trace,
    Transpose,
)
from sympy.core.mul import _keep_coeff
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR, _Op
from matcalc.linalg.declarations import MatrixName
from matcalc.linalg.shapes import shape_of
from matcalc.render.printing import _Memo
from matcalc.symbols import VectorName


class _Convert:
    def __init__(self, shapes: dict):
        self.shapes = shapes
        self.cache: dict = {}

    def run(self, expr):
        if isinstance(expr, MatrixBase):
            raise UnsupportedError("a matrix of blocks")
        if expr in self.shapes:
            d = self.shapes[expr]
            return MatrixSymbol(expr.name, d.rows, d.cols)
        if not expr.args or not _has_vectors(expr):
            return expr
        handler = _TABLE.get(type(expr).__name__)
        if handler is not None:
            return handler(self, expr)
        if not isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)) and not _elementwise(expr):
            # vec(G), and any operation added later: no matrix expression (yet), never guessed
            raise UnsupportedError(f"no matrix expression for {type(expr).__name__.lower()}")
        return self.elementwise(expr)

    def shape(self, expr):
        return shape_of(expr, self.shapes)

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
        return KroneckerProduct(*(self.run(a) for a in expr.args))


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
    return _Convert(shapes).run(expr)


def _str_precedence(item) -> int:
    """SymPy's ``precedence(item)``.  A product A·B without a number in front cannot have a
    minus sign to take out, which SymPy finds by comparing it with −A·B, built and
    evaluated all the way down (``Mul.could_extract_minus_sign``): that is skipped."""
    if type(item) is MatMul and not item.args[0].is_Number:
        return PRECEDENCE["Mul"]  # precedence_Mul's answer when no sign can be taken out
    return precedence(item)


class MatrixExprStrPrinter(StrPrinter):
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


class PlainStrPrinter(_Memo, StrPrinter):
    """matcalc's notation in ``str()`` syntax, each operation named as in the input language
    (JSON's step values of vector problems, whose intermediates have no declared shape):
    dot(a, b), sum(v), norm(v), matmul(A, B, …) (a product in order), transpose(a),
    trace(A), diag(v), eye(n), ones(n) (a column of n ones), kron(A, B)."""

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
