"""The AST visitor: one ``visit_<NodeClass>`` method per allowed node builds its SymPy node.

``Parser`` walks the tree that ``ast.parse(src, mode="eval")`` made of the checked source.
Every AST class without a visitor is refused with a named ``ParseError`` (``_REFUSED``);
the walk counts nodes and depth, and asks the size guard (``guard.py``) about every node
it builds.  Nodes are built with ``evaluate=False``: the tree keeps the input as typed.

* ``e``/``E`` and ``pi`` are constants and ``e**x`` becomes ``exp(x)``; every other name,
  including ``I``, ``oo`` and ``nan``, is a real ``Symbol``.  A bare function name
  (``sin + 1``) is refused.
* ``int/int`` literals (``1/2``, ``-3/4``) become one ``Rational``; otherwise ``1/x`` is
  ``Pow(x, -1)`` and ``a/b`` is ``Mul(a, Pow(b, -1))``.  A minus directly on a literal
  gives a negative number, so ``x - 3`` is ``Add(x, -3)``.  ``Max``/``Min`` keep SymPy's
  canonical argument order (SymPy sorts them even unevaluated).  A decimal literal is the
  exact ``Rational`` of its text (``0.5`` is 1/2).
* Python integer spellings (``0x1F``, ``1_000``) are accepted.
* A binary operator is one entry in ``_BINARY`` (AST operator class name -> method);
  a unary one is one entry in ``_UNARY``.

With declared vectors and matrices (``shapes``), the parser records the shape of every node
it builds (``shape``, ``shaped``) and checks operands first (``shapes.py``):

* ``@`` is numpy's: vector @ vector is ``VDot``, matrix @ vector ``MatVec``, matrix @ matrix
  ``MMul``, vector @ matrix ``MatVec(MatT(X), v)``; a scalar on either side is refused.
* ``.T`` is the only attribute: ``MatT(A)`` on a matrix; on a vector a parser-internal row
  (``_Row``: vᵀ M1 M2 …) that may only be the left operand of ``@`` and never reaches
  the result: ``x.T @ A @ x`` is ``VDot(x, MatVec(A, x))``.
* ``X ** -1`` is the inverse of a square matrix, as in textbooks.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple, TypeAlias

import sympy

from matcalc.errors import LimitError, MatcalcError, ParseError, ShapeError, UnsupportedError
from matcalc.limits import Limits
from matcalc.linalg import SCALAR, Inv, MatProd, MatT, MatVec, MMul, T, VDot, shape_of
from matcalc.msg import Msg
from matcalc.parse.functions import (
    ANSWER_FUNCTIONS,
    ANSWER_GATES,
    CONSTANTS,
    FUNCTIONS,
    POW,
    SCALAR_ONLY,
    VECTOR_FUNCTIONS,
    arity,
    unknown_function,
)
from matcalc.parse.guard import SizeGuard
from matcalc.parse.shapes import (
    Shape,
    Sized,
    check_call,
    check_matmul,
    check_power,
    column_matrix,
    product_shape,
    size_names,
    sum_shape,
)
from matcalc.parse.source import _PRODUCT_SIGNS, _SUPERSCRIPTS, Source, first_line

Expr: TypeAlias = sympy.Expr


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
    "Set": Msg("err.refused.set", example="e^{x}"),
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
_RUN_TOGETHER = re.compile(
    r"(sin|cos|tan|cot|sec|csc|sinh|cosh|tanh|asin|acos|atan|arcsin|arccos|arctan"
    r"|ln|log|exp|sqrt|cbrt|abs)([xyz])"
)
"""A function's name run into x, y or z (sinx, lnx, expx): a slip for sin(x), never a name."""
_FUNCTION_POWER = re.compile(r"\s*\*\*\s*\(?(\d+)\)?\s*\(([^()]*)\)")
"""sin**2(x), from sin^2(x): the power of a function's value, written before its argument."""
_FUNCTION_INVERSE = re.compile(r"\s*\*\*\s*\(?\s*-\s*1\s*\)?\s*\(([^()]*)\)")
"""sin**-1(x), from sin^-1(x) or sin⁻¹(x): the inverse function, as calculators write it."""
_FLOAT = re.compile(r"(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?")


class Parser:
    """Whitelist visitor: ``visit_<ASTClass>`` methods build SymPy nodes; nothing else passes."""

    def __init__(
        self,
        source: Source,
        offset: int,
        limits: Limits,
        shapes: dict | None = None,
        functions: frozenset[str] = frozenset(),
        tree: ast.AST | None = None,
        answer: bool = False,
    ) -> None:
        self.source, self.offset, self.limits = source, offset, limits
        self.answer = answer  # an answer to check: diag, eye and outer products too
        self.src = source.src[offset:]
        self.nodes = self.depth = 0
        self.guard = SizeGuard(limits)
        self.shapes = dict(shapes or {})  # empty: scalar mode, exactly the scalar parser
        self.declared = {symbol.name: symbol for symbol in self.shapes}
        self.sizes = size_names(self.shapes)  # n, N: scalars, as in sum(v) / N
        self._shapes = {s: Sized(d.rows, d.cols) for s, d in self.shapes.items()}
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
        too_big = self.guard.too_many_digits(result, "number")
        if too_big is not None:
            raise self.error(LimitError, too_big, node)
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
            return shape_of(expr, self._shapes)
        except ShapeError as exc:
            raise self.error(ShapeError, exc.msg or exc.message, 0) from None

    def shaped(self, expr: Expr) -> Expr:
        """Record the shape of a node just built (a no-op in scalar mode): ``linalg.shape_of``
        of the node, read from its arguments' recorded shapes (its operands are checked
        before it is built, by ``shapes.py``)."""
        if self.shapes:
            self._shapes[expr] = Sized(*shape_of(expr, self._shapes))
        return expr

    def segment(self, start: int, end: int, fallback: str | Msg, width: int = 20) -> str | Msg:
        """The text between two indices of the source, as the user typed it (wᵀ·x where the
        source has w.T@x), or ``fallback`` when it is long."""
        text = self.typed_span(start, end)
        return text if len(text) <= width else fallback

    def operands(self, node: ast.BinOp, where: int, typed: str | None = None) -> Msg:
        """'w @ X' for error messages: the operands as typed (or 'left'/'right') and the sign
        (``typed`` in its place, the × that the source reads as @)."""
        sign = "**" if isinstance(node.op, ast.Pow) else self.src[where]
        if typed is None and sign in "*@":  # · ⊗ × as typed, not the @ or * they are read as
            shown = self.typed_at(where)
            typed = shown if shown in _SIGNS_SHOWN else None
        left = self.segment(node.col_offset, where, Msg("err.left"))
        right = self.segment(where + len(sign), node.end_col_offset or 0, Msg("err.right"))
        if sign == "**" and typed is None:  # x^2 or x² as typed: x ^ 2, not x ** (2)
            start, end = self.source.typed(where + self.offset)
            if self.source.text[start:end] != "*":
                typed = "^"
                right = right.translate(_SUPERSCRIPTS) if isinstance(right, str) else right
        return Msg("err.operands", left=left, sign=typed or sign, right=right)

    def typed_at(self, index: int) -> str:
        """The character the user typed at ``src[index]`` (· where the source has @)."""
        column = self.source.column(index + self.offset)
        return self.source.text[column - 1 : column]

    def typed(self, node: ast.AST) -> str:
        """The character the user typed where ``node`` starts (σ where the source has sigma)."""
        return self.typed_at(node.col_offset)  # type: ignore[attr-defined]

    def typed_span(self, start: int, end: int) -> str:
        """The user's text of ``src[start:end]`` (w·x where the source has w@x)."""
        return self.source.typed_text(start + self.offset, end + self.offset)

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
        return self.shaped(MatT(matrix))

    def matvec(self, matrix: Expr, vector: Expr) -> Expr:
        return self.shaped(MatVec(matrix, vector))

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
            return self.shaped(T(self.column(body)))
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
        if name == "I" and self.shapes and not self.answer:  # I·x, as matcalc prints eye(n)
            raise self.error(ParseError, Msg("err.identity_scalar"), node)
        if name in FUNCTIONS or (self.shapes and name in VECTOR_FUNCTIONS):
            inverse = _FUNCTION_INVERSE.match(self.src, node.end_col_offset or 0)
            if inverse is not None and "a" + name in FUNCTIONS:  # sin⁻¹(x): asin(x)
                arg = self.typed_span(*inverse.span(1))
                msg = Msg("err.function_inverse", name=name, inverse="a" + name, arg=arg)
                raise self.error(ParseError, msg, node)
            power = _FUNCTION_POWER.match(self.src, node.end_col_offset or 0)
            if power is not None:  # sin^2(x), as in print: sin(x)^2
                k, arg = power.group(1), self.typed_span(*power.span(2))
                msg = Msg("err.function_power", name=name, k=k, arg=arg)
                raise self.error(ParseError, msg, node)
            raise self.error(ParseError, Msg("err.is_function", name=name), node)
        if name in self.functions:
            msg = Msg("err.is_declared_function", name=name)
            raise self.error(ParseError, msg, node)
        power = _FUNCTION_POWER.match(self.src, node.end_col_offset or 0)
        if name == "sigma" and power is not None and self.typed(node) == "\u03c3":
            k, arg = power.group(1), self.typed_span(*power.span(2))  # σ²(z): σ(z)^2
            msg = Msg("err.function_power", name="\u03c3", k=k, arg=arg)
            raise self.error(ParseError, msg, node)
        run_together = _RUN_TOGETHER.fullmatch(name)
        if run_together is not None:  # sinx: read as one name, its derivative by x would be 0
            call = "{}({})".format(*run_together.groups())
            raise self.error(ParseError, Msg("err.run_together", name=name, call=call), node)
        parts = _declared_run(name, self.declared)
        if parts:  # Ax, Xw: as matcalc prints A·x and X·w, but one scalar variable here
            msg = Msg("err.declared_run", name=name, product="\u00b7".join(parts))
            raise self.error(ParseError, msg, node)
        return sympy.Symbol(name, real=True)

    def visit_Attribute(self, node: ast.Attribute) -> Expr | _Row:
        """``.T`` of a vector (a row) or a matrix, when shapes are declared; nothing else."""
        dot = self.src.find(".", node.value.end_col_offset or 0)
        if not self.shapes and node.attr == "T":  # xᵀ with nothing declared
            what = self.segment(node.col_offset, dot, Msg("err.this"))
            raise self.error(ShapeError, Msg("err.transpose_scalar", what=what), dot)
        if not self.shapes or node.attr != "T":
            raise self.error(ParseError, _REFUSED["Attribute"], node)
        return self._transposed(node.value, node, dot)

    def _transposed(self, operand: ast.expr, node: ast.expr, dot: int) -> Expr | _Row:
        """The transpose of ``operand``, written ``operand.T`` (or ``operand^T``) at ``node``,
        whose sign is at index ``dot``."""
        value = self.visit_any(operand)
        if isinstance(value, _Row):
            return self.column(value)  # (vᵀ)ᵀ = v
        shape = self.shape(value)
        if shape == SCALAR:
            what = self.segment(node.col_offset, dot, Msg("err.this"))
            msg = Msg("err.transpose_scalar", what=what)
            raise self.error(ShapeError, msg, dot)
        if shape[1] == 1:
            return _Row(value, (), shape[0], dot, node)
        return self.shaped(MatT(value))

    def visit_Subscript(self, node: ast.Subscript) -> Expr:
        """``1[z > 0]`` (or 𝟙[z > 0], as matcalc prints the gate) in an answer: the gate,
        1 - 1[-z > 0] for ``>=``; a comparison with 0 only.  Refused anywhere else."""
        test = node.slice
        if not (
            self.answer
            and isinstance(node.value, ast.Constant)
            and node.value.value == 1
            and isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Gt, ast.Lt, ast.GtE, ast.LtE))
        ):
            raise self.error(ParseError, _REFUSED["Subscript"], node)
        op: ast.cmpop = test.ops[0]
        left, right = test.left, test.comparators[0]
        if _is_zero(left):  # 0 < z is z > 0
            op, left, right = _FLIPPED[type(op)](), right, left
        if not _is_zero(right):
            raise self.error(ParseError, Msg("err.gate_zero"), test)
        z = self.visit(left)
        if self.shapes and self.shape(z)[1] != 1 and self.shape(z) != SCALAR:
            raise self.error(ParseError, Msg("err.gate_zero"), test)
        # with H(u) = 1[u > 0]: z > 0 is H(z), z < 0 is H(-z), z >= 0 is 1 - H(-z) and
        # z <= 0 is 1 - H(z)
        negated = self.shaped(sympy.Mul(-1, z, evaluate=False))
        argument = z if isinstance(op, (ast.Gt, ast.LtE)) else negated
        gate = self.shaped(sympy.Heaviside(argument, 0))
        if isinstance(op, (ast.Gt, ast.Lt)):
            return gate
        minus = self.shaped(sympy.Mul(-1, gate, evaluate=False))
        return self.shaped(sympy.Add(sympy.Integer(1), minus, evaluate=False))

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

    def _negative(self, operand: ast.expr) -> Expr | _Row:
        """Minus: a negative number on a literal, ``Mul(-1, e)`` on anything else (-xᵀ: a row)."""
        value = self.visit_any(operand)
        if isinstance(value, _Row):
            column = self.shaped(sympy.Mul(sympy.S.NegativeOne, self.column(value), evaluate=False))
            return _Row(column, (), value.length, value.dot, value.node)
        if isinstance(operand, ast.Constant) and isinstance(value, sympy.Number):
            return -value
        return self.shaped(sympy.Mul(sympy.S.NegativeOne, value, evaluate=False))

    def _rows_as_columns(self, values: list) -> tuple[list[Expr], _Row | None]:
        """The operands of an element-wise ``+ - * /``, each row as its column, and the first
        row (None if there is none).  A row may meet rows and scalars only (2xᵀ, xᵀ/‖x‖,
        xᵀA + xᵀAᵀ: the result is then a row, (2x)ᵀ …), never a column or a matrix."""
        rows = [v for v in values if isinstance(v, _Row)]
        if not rows:
            return values, None
        for v in values:
            if not isinstance(v, _Row) and self.shape(v) != SCALAR:
                raise self.row_error(rows[0])
        return [self.column(v) if isinstance(v, _Row) else v for v in values], rows[0]

    def _as_row(self, column: Expr, row: _Row | None, node: ast.expr) -> Expr | _Row:
        """``column`` as the row it stands for when an operand was a row (see above)."""
        if row is None:
            return column
        return _Row(column, (), self.shape(column)[0], row.dot, node)

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        name = type(node.op).__name__
        if name == "MatMult":
            if self.shapes and self.typed_operator(node) in _PRODUCT_SIGNS:
                return self._product_sign(node)
            if self.shapes:
                return self._matmul(node)
            msg = Msg("err.matmul_undeclared")
            raise self.error(UnsupportedError, msg, self.op_index(node))
        transpose = self._transpose_power(node) if name == "Pow" else None
        if transpose == "power":  # xᵀ written x^T, as on paper
            return self._transposed(node.left, node, self.op_index(node))
        if transpose == "called":  # (Ax - b)^T (Ax - b)
            assert isinstance(node.right, ast.Call)
            paren = self.src.find("(", node.right.func.end_col_offset or 0)
            left = self.segment(node.col_offset, node.right.func.end_col_offset or 0, "...", 30)
            right = self.segment(paren, node.end_col_offset or 0, "(...)", 30)
            typed = str(left).replace("**", "^")
            msg = Msg("err.missing_matmul_between", pair=f"{typed} @ {right}")
            raise self.error(ParseError, msg, paren)
        if name not in _BINARY:
            msg = _REFUSED.get(name) or Msg("err.operator", name=name)
            raise self.error(ParseError, msg, self.op_index(node))
        return getattr(self, _BINARY[name])(node)

    def _t_transposes(self) -> bool:
        """T after ^ means the transpose: vectors are declared and T is not one of them (a
        size T, as in --vector x:T, does not make x^T or x^-T a power of x's length)."""
        return bool(self.shapes) and "T" not in self.declared

    def _transpose_power(self, node: ast.BinOp) -> str | None:
        """``x^T`` (or ``x**T``) with vectors declared and no T among them: "power", the
        transpose as textbooks write it (it was x to the power of a scalar T, element-wise);
        "called" for ``x^T (y)``, the transpose and a bracket Python reads as a call of T.
        A size T (``--vector x:T``, T time steps) does not make it a power: x to the power
        of its own length is what no one means by xᵀAx."""
        if not self._t_transposes():
            return None
        right = node.right
        if isinstance(right, ast.Name) and right.id == "T":
            return "power"
        if (
            isinstance(right, ast.Call)
            and isinstance(right.func, ast.Name)
            and right.func.id == "T"
        ):
            return "called"
        return None

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

    def _sum(self, node: ast.BinOp) -> Expr | _Row:
        links = self.chain(node, ("Add", "Sub"))
        visited = [
            self._negative(operand) if op == "Sub" else self.visit_any(operand)
            for op, operand, _ in links
        ]
        terms, row = self._rows_as_columns(visited)
        shape = SCALAR
        for term_value, (_, _, binop) in zip(terms, links, strict=True):
            if self.shapes:
                term = self.shape(term_value)
                shape = term if binop is None else sum_shape(self, shape, term, binop)
        return self._as_row(self.shaped(sympy.Add(*terms, evaluate=False)), row, node)

    def _product(self, node: ast.BinOp) -> Expr | _Row:
        items = self.chain(node, ("Mult", "Div"))
        values, row = self._rows_as_columns([self.visit_any(link.operand) for link in items])
        if row is not None:
            return self._as_row(self._factors(items, values), row, node)
        if (
            len(items) == 2
            and items[1][0] == "Div"
            and values[1] != 0
            and all(_int_literal(link.operand) for link in items)
        ):
            return sympy.Rational(values[0], values[1])  # 1/2 is how a rational is typed
        return self._factors(items, values)

    def _factors(self, items: list[_Link], values: list[Expr]) -> Expr:
        """The product of a chain of ``*`` and ``/`` (shapes checked), as a ``Mul``."""
        shape = self.shape(values[0])
        ring = "\u2218" in self.source.text
        for link, value in zip(items[1:], values[1:], strict=True):
            assert link.node is not None  # only the first operand of a chain has no operator
            if ring and SCALAR in (shape, self.shape(value)):
                self.refuse_composition(link.node)
            if self.shapes:
                shape = product_shape(self, shape, self.shape(value), link.op, link.node)
        factors = [
            self.shaped(sympy.Pow(v, -1, evaluate=False)) if link.op == "Div" else v
            for link, v in zip(items, values, strict=True)
        ]
        first = items[0][1]
        if items[1][0] == "Div" and isinstance(first, ast.Constant) and first.value == 1:
            factors.pop(0)  # 1/x -> Pow(x, -1)
        if len(factors) == 1:
            return factors[0]
        return self.shaped(sympy.Mul(*factors, evaluate=False))

    def _product_sign(self, node: ast.BinOp) -> Expr | _Row:
        """· (or ⋅, ×) typed with declared vectors: the dot or matrix product between two
        vectors or matrices, as matcalc prints w·x, A·x and xᵀ·A; a product where one side
        is a scalar (2·x, σ(z)·y).  × of two vectors is refused: it reads as the cross
        product, which matcalc does not have."""
        left, right = self.visit_any(node.left), self.visit_any(node.right)

        def scalar(value) -> bool:
            return not isinstance(value, _Row) and self.shape(value) == SCALAR

        if scalar(left) or scalar(right):
            items = [_Link("", node.left, None), _Link("Mult", node.right, node)]
            values, row = self._rows_as_columns([left, right])
            return self._as_row(self._factors(items, values), row, node)
        if self.typed_operator(node) == "\u00d7":
            msg = Msg("err.cross", what=self.operands(node, self.op_index(node)))
            raise self.error(ShapeError, msg, self.op_index(node))
        return self._matmul(node, (left, right))

    def refuse_composition(self, node: ast.BinOp) -> None:
        """f∘g(x) typed with a scalar on a side of ∘: the composition, as calculus writes it,
        not the element-wise product ∘ is read as (f∘g(x) was f·g(x), derived as f·g′(x))."""
        where = self.op_index(node)
        if self.typed_operator(node) == "\u2218":
            msg = Msg("err.compose", what=self.operands(node, where))
            raise self.error(ParseError, msg, where)

    def typed_operator(self, node: ast.BinOp) -> str:
        """The operator as the user typed it (· where the source has @)."""
        return self.typed_at(self.op_index(node))

    def _matmul(self, node: ast.BinOp, visited: tuple | None = None) -> Expr | _Row:
        """``@``: vector·vector, matrix·vector, matrix·matrix, vᵀ·…, numpy style; in an
        answer also a column @ a row, the outer product a·bᵀ.  ``visited``: the operands,
        already visited (``_product_sign``)."""
        if visited is None:
            left = self.visit_any(node.left)
            right = self.visit_any(node.right) if self.answer else self.visit(node.right)
        else:
            left, right = visited
            if isinstance(right, _Row) and not self.answer:
                raise self.row_error(right)
        where = self.op_index(node)
        if isinstance(right, _Row):
            if isinstance(left, _Row) or self.shape(left) == SCALAR or self.shape(left)[1] != 1:
                raise self.row_error(right)
            return self.shaped(MatProd(left, self.shaped(T(self.column(right)))))
        if isinstance(left, _Row):  # vᵀ M1 … @ right
            check_matmul(self, node, where, None, right, left.length)
            cols = self.shape(right)[1]
            if cols == 1:
                return self.shaped(VDot(left.vector, self.apply(left.matrices, right)))
            return _Row(left.vector, (*left.matrices, right), cols, left.dot, node)
        cols = self.shape(right)[1]
        if check_matmul(self, node, where, left, right):  # a vector v @ right
            if cols == 1:
                return self.shaped(VDot(left, right))
            return self.matvec(self.transpose(right), left)  # v @ X = Xᵀ v
        if cols == 1 and not column_matrix(right):
            return self.matvec(left, right)
        return self.shaped(MMul(left, right))

    def _power(self, node: ast.BinOp) -> Expr:
        base, exponent = self.visit(node.left), self.visit(node.right)
        where = self.op_index(node)
        if (
            self._t_transposes()
            and self.shape(base) != SCALAR
            and any(s.name == "T" for s in exponent.free_symbols)
        ):  # x^-T, x^T^2: a transpose meant, never an element-wise power of a variable T
            msg = Msg("err.power_of_t", what=self.operands(node, where))
            raise self.error(ParseError, msg, where)
        if self.shapes and exponent == -1 and self.shape(base)[1] != 1:
            shape = self.shape(base)
            if shape[0] != shape[1]:
                msg = Msg("err.inverse_square", what=self.operands(node, where))
                raise self.error(ShapeError, msg, where)
            return self.shaped(Inv(base))  # X**-1 is the inverse, as in textbooks
        if self.shapes:
            check_power(self, base, exponent, node, where)
        too_big = self.guard.exponent_too_large(exponent)
        if too_big is not None:
            raise self.error(LimitError, too_big, where)
        result = (
            sympy.exp(exponent, evaluate=False)
            if base == sympy.E
            else sympy.Pow(base, exponent, evaluate=False)
        )
        too_big = self.guard.too_many_digits(result, "power")
        if too_big is not None:
            raise self.error(LimitError, too_big, where)
        return self.shaped(result)

    # -- calls --------------------------------------------------------------------------
    def refuse_bars_of_vector(self, node: ast.Call, arg: Expr) -> None:
        """|x| typed with bars around a vector or matrix: its entries' absolute values
        (numpy's abs), its norm (physics), its length (the paper's |x| = n) or a matrix's
        determinant; refused with each spelling."""
        shape = self.shape(arg)
        if shape == SCALAR:
            return
        text = self.segment(node.args[0].col_offset, node.args[0].end_col_offset or 0, "x", 30)
        key = "err.bars_of_vector" if 1 in shape else "err.bars_of_matrix"
        raise self.error(ParseError, Msg(key, arg=text), node.func)

    def visit_Call(self, node: ast.Call) -> Expr:
        func = node.func
        paren = self.src.find("(", func.end_col_offset or 0)
        # what is called, as typed, and its bracket: σ(z) and (1 − σ(z)) in σ(z)(1 − σ(z))
        called = self.segment(node.col_offset, paren, "...", 30)
        bracket = self.segment(paren, node.end_col_offset or 0, "(...)", 30)
        if isinstance(func, ast.Attribute):
            self.visit_any(func)  # refused with "attribute access is not allowed" but .T
            if func.attr == "T":  # (Ax − b)ᵀ(Ax − b), Aᵀ(x): the product of a transpose
                msg = Msg("err.missing_matmul_between", pair=f"{called} @ {bracket}")
                raise self.error(ParseError, msg, paren)
        if isinstance(func, ast.Constant) and isinstance(func.value, (int, float)):
            number = self.segment(func.col_offset, func.end_col_offset or 0, "2", 30)
            pair = f"{number}*{bracket}"
            raise self.error(ParseError, Msg("err.missing_star_between", pair=pair), paren)
        if isinstance(func, ast.BinOp) and isinstance(func.op, ast.Mult):
            self.refuse_composition(func)  # (f∘g)(x)
        if not isinstance(func, ast.Name) or self.src[func.end_col_offset :].lstrip()[:1] != "(":
            if isinstance(func, ast.Name) and func.id in FUNCTIONS:  # (sin)(x)
                raise self.error(ParseError, Msg("err.call_name"), paren)
            # σ(z)(1 − σ(z)), (x + 1)(x - 1): a product without its * (it said "only a
            # function name can be called", of the derivative of σ as textbooks write it)
            msg = Msg("err.missing_star_between", pair=f"{called}*{bracket}")
            raise self.error(ParseError, msg, paren)
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
            typed = self.typed_span(func.col_offset, func.end_col_offset or 0)  # σ, not sigma
            msg = Msg("err.not_function", name=typed, kind=Msg(f"err.kind.{kind}"))
            raise self.error(ParseError, msg, func)
        if node.keywords:
            raise self.error(ParseError, Msg("err.keywords"), node.keywords[0])
        vector_fn = VECTOR_FUNCTIONS.get(name) if self.shapes else None
        if vector_fn is None and self.shapes and self.answer:
            vector_fn = ANSWER_FUNCTIONS.get(name)
        if vector_fn is None and name in ANSWER_FUNCTIONS and name not in self.functions:
            raise self.error(ParseError, Msg("err.answer_only", name=name), func)
        if name == "sigma" and name not in self.functions and self.typed(func) == "\u03c3":
            name = "sigmoid"  # σ(z), as matcalc prints the sigmoid (sigma alone is a variable)
        # heaviside(z) in an answer: the gate, element-wise like the built-in functions
        gate = ANSWER_GATES.get(name) if self.answer and name not in self.functions else None
        fn = vector_fn or gate or FUNCTIONS.get(name) or unknown_function(self, node)
        if len(node.args) < fn.min_args or (
            fn.max_args is not None and len(node.args) > fn.max_args
        ):
            msg = Msg(
                "err.arity", name=name, takes=arity(fn.min_args, fn.max_args), got=len(node.args)
            )
            raise self.error(ParseError, msg, node)
        if fn is POW:  # pow(x, y) is x ** y, with the same guards and shapes
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
        if name == "abs" and self.shapes and self.typed(func) == "|":
            self.refuse_bars_of_vector(node, args[0])
        elementwise = (
            bool(self.shapes) and vector_fn is None
        )  # vector_fn: its builder checks, shapes
        if elementwise:
            known = name in FUNCTIONS or gate is not None
            check_call(self, node, args, known=known, elementwise=name not in SCALAR_ONLY)
        try:
            result = fn.build(self, node, args)
            return self.shaped(result) if elementwise else result
        except (ArithmeticError, TypeError, ValueError) as exc:  # SymPy refused the arguments
            msg = Msg("err.arguments", name=name, detail=first_line(exc))
            raise self.error(ParseError, msg, node) from None


def _declared_run(name: str, declared: dict) -> list[str]:
    """``name`` as two or more declared vector or matrix names run together (Ax: A, x),
    or [] where it is not one."""
    if not declared or name in declared:
        return []
    ways: dict[int, list[str]] = {0: []}  # prefix length -> one way to split it
    for end in range(1, len(name) + 1):
        for start in range(end):
            if start in ways and name[start:end] in declared:
                ways[end] = [*ways[start], name[start:end]]
                break
    return ways.get(len(name), [])


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)


_FLIPPED: dict[type, type[ast.cmpop]] = {
    ast.Gt: ast.Lt,
    ast.Lt: ast.Gt,
    ast.GtE: ast.LtE,
    ast.LtE: ast.GtE,
}


def _variable_names(tree: ast.AST) -> set[str]:
    """Every name the expression uses other than as the name of a call: x in x(x + 1)."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called
    }


class _Row(NamedTuple):
    """Parser-internal: the row vᵀ M1 M2 … (from ``v.T @ M1 @ M2``), never in a result.

    It is kept as its parts so that ``x.T @ A @ x`` becomes ``VDot(x, MatVec(A, x))``."""

    vector: Expr
    matrices: tuple[Expr, ...]
    length: Expr  # the row's current length: cols of the last matrix, else len(v)
    dot: int  # the '.' of the .T, for errors
    node: ast.expr  # the expression that made the row, for its text in errors


_SIGNS_SHOWN = frozenset("\u00b7\u22c5\u00d7\u2297\u2299\u2218")
"""· ⋅ × ⊗ ⊙ ∘: shown in an error as typed, not as the * or @ the source has."""


class _Link(NamedTuple):
    """One operand of a flattened chain and the BinOp that joins it ('' and None first)."""

    op: str
    operand: ast.expr
    node: ast.BinOp | None


def _int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int
