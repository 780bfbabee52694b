"""Shape checks of parsed nodes: each operator and call checks its operands' shapes.

With declared vectors and matrices, the parser knows the shape of every node it builds:
``(1, 1)`` for a scalar, ``(n, 1)`` for a vector, ``(r, c)`` for a matrix.  The shape of a
node is not computed here: ``Parser.shaped`` records it with ``linalg.shape_of`` from the
recorded shapes of its arguments (one set of shape rules for the whole program).  What is
here is the part the parser alone has: *checking* operands before a node is built, with
an error that names the operator, the operands as typed and their sizes, at the
operator's column (``w @ X: length n does not match N rows``).

* ``* / + -`` are element-wise on vectors of equal length, with a scalar expanded
  (``x + z``); ``v ** 2`` and ``2 ** v`` are element-wise too.  A matrix may be added to a
  matrix of the same shape and multiplied or divided by a scalar, nothing more.
* The element-wise functions take vectors (not matrices); the functions of vectors and
  matrices (``sum``, ``dot``, ``trace``, ``inv`` …) check their own arguments with
  ``one_vector``, ``check_dot``, ``check_trace`` and ``square``.

A vector of length 1 has the shape of a scalar; where that matters (``@``, ``sum``)
``linalg.vector_valued`` tells them apart.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import sympy

from matcalc.errors import ShapeError, UnsupportedError
from matcalc.linalg import SCALAR, MatrixName, MatT, MMul, vector_valued
from matcalc.msg import Msg

if TYPE_CHECKING:
    from matcalc.parse.visitor import Parser

Expr: TypeAlias = sympy.Expr
Shape: TypeAlias = tuple[Expr, Expr]


class Sized(NamedTuple):
    """The recorded shape of a parsed node: a (rows, cols) tuple that ``linalg.shape_of``
    reads as it reads a ``Declaration``."""

    rows: Expr
    cols: Expr


def size_names(shapes: dict | None) -> dict[str, Expr]:
    """The named sizes of the declarations (n, N): name -> its size symbol, a positive
    integer scalar (so that the loss ``sum(...) / N`` means the sample count)."""
    return {
        size.name: size
        for d in (shapes or {}).values()
        for size in (d.rows, d.cols)
        if isinstance(size, sympy.Symbol)
    }


def dimensions(shape: Shape) -> str:
    return f"{shape[0]}\u00d7{shape[1]}"


def describe(shape: Shape) -> Msg:
    if shape == SCALAR:
        return Msg("err.a_scalar")
    if shape[1] == 1:
        return Msg("err.a_vector_of", length=shape[0])
    return Msg("err.a_matrix_of", size=dimensions(shape))


def column_matrix(expr: Expr) -> bool:
    """An r×1 matrix that is not a vector: Xᵀ of a 1×n X, or a product of matrices."""
    return isinstance(expr, (MatT, MMul)) or (
        not vector_valued(expr) and any(isinstance(s, MatrixName) for s in expr.free_symbols)
    )


# -- operators -------------------------------------------------------------------------
def sum_shape(p: Parser, left: Shape, right: Shape, node: ast.BinOp) -> Shape:
    """Shape of left ± right: equal shapes, or a scalar expanded to a vector."""
    if left == right or (SCALAR in (left, right) and left[1] == right[1] == 1):
        return right if left == SCALAR else left
    where = p.op_index(node)
    what = p.operands(node, where)
    if left[1] == right[1] == 1:
        msg = Msg("err.lengths", what=what, a=left[0], b=right[0])
    elif left[1] != 1 and right[1] != 1:
        msg = Msg("err.shapes", what=what, a=dimensions(left), b=dimensions(right))
    else:
        msg = Msg("err.cannot_add", what=what, a=describe(left), b=describe(right))
    raise p.error(ShapeError, msg, where)


def product_shape(p: Parser, left: Shape, right: Shape, op: str, node: ast.BinOp) -> Shape:
    """Shape of left * right or left / right (``op`` "Mult" or "Div"), element-wise (⊗, ⊘)
    or scalar expansion."""
    if op == "Div" and right[1] != 1:
        where = p.op_index(node)
        msg = Msg("err.matrix_inverse", what=p.operands(node, where))
        raise p.error(UnsupportedError, msg, where)
    if left == SCALAR or right == SCALAR:
        return right if left == SCALAR else left
    if left == right and left[1] == 1:
        return left
    where = p.op_index(node)
    what = p.operands(node, where)
    if left[1] == right[1] == 1:
        msg = Msg("err.lengths", what=what, a=left[0], b=right[0])
        raise p.error(ShapeError, msg, where)
    if left[1] != 1 and right[1] != 1:
        msg = Msg("err.elementwise_matrices", what=what)
        raise p.error(UnsupportedError, msg, where)
    msg = Msg("err.cannot_multiply", what=what, a=describe(left), b=describe(right))
    raise p.error(ShapeError, msg, where)


def check_matmul(
    p: Parser,
    node: ast.BinOp,
    where: int,
    left: Expr | None,
    right: Expr,
    row_length: Expr | None = None,
) -> bool:
    """The operands of ``left @ right``, numpy style; ``left`` None: a row vᵀ M1 … of length
    ``row_length``.  True when the left operand is a vector or a row (a dot product, or vᵀ X),
    False when it is a matrix."""
    left_shape = None if left is None else p.shape(left)
    right_shape = p.shape(right)
    # a vector of length 1 has the shape of a scalar, (1, 1), but is a vector for @
    if (
        left_shape == SCALAR
        and right_shape == SCALAR
        and not (vector_valued(left) or vector_valued(right))
    ):
        raise p.error(UnsupportedError, Msg("err.matmul_undeclared"), where)
    what = p.operands(node, where)
    if (left_shape == SCALAR and not vector_valued(left)) or (
        right_shape == SCALAR and not vector_valued(right)
    ):
        msg = Msg("err.matmul_scalar", what=what)
        raise p.error(ShapeError, msg, where)
    rows, cols = right_shape
    if left_shape is None or (left_shape[1] == 1 and not column_matrix(left)):
        # a row vᵀ…, or a vector v as numpy's
        length = row_length if left_shape is None else left_shape[0]
        if length != rows:
            mismatch = Msg(
                "err.lengths" if cols == 1 else "err.length_rows",
                what=what,
                a=length,
                b=rows,
            )
            raise p.error(ShapeError, mismatch, where)
        return True
    if left_shape[1] != rows:
        key = "err.columns_length" if cols == 1 else "err.columns_rows"
        msg = Msg(key, what=what, cols=left_shape[1], rows=rows)
        raise p.error(ShapeError, msg, where)
    return False


def check_power(p: Parser, base: Expr, exponent: Expr, node: ast.BinOp, where: int) -> None:
    """Element-wise powers only: vector ** scalar, or scalar ** vector (as exp(v))."""
    left, right = p.shape(base), p.shape(exponent)
    if left[1] != 1 or right[1] != 1:
        msg = Msg("err.matrix_power", what=p.operands(node, where))
        raise p.error(UnsupportedError, msg, where)
    if left != SCALAR and right != SCALAR and left != right:
        msg = Msg("err.lengths", what=p.operands(node, where), a=left[0], b=right[0])
        raise p.error(ShapeError, msg, where)


# -- calls -----------------------------------------------------------------------------
def check_call(
    p: Parser, node: ast.Call, args: list[Expr], *, known: bool, elementwise: bool
) -> None:
    """The arguments of a call of a scalar function: scalars, or vectors of one length for
    a built-in (``known``) that applies element by element (``elementwise``: not atan2)."""
    name = node.func.id  # type: ignore[attr-defined]
    shapes = [p.shape(arg) for arg in args]
    found = [s for s in shapes if s != SCALAR]
    if not found:
        return
    matrix = not all(s[1] == 1 for s in found)
    kind = Msg("err.a_matrix" if matrix else "err.a_vector")
    if not known:
        msg = Msg("err.unknown_elementwise", name=name, kind=kind)
        raise p.error(UnsupportedError, msg, node)
    if not elementwise:
        msg = Msg("err.scalars_only", call=p.call_text(node), name=name, kind=kind)
        raise p.error(UnsupportedError, msg, node)
    if matrix:
        msg = Msg("err.elementwise_of_matrix", call=p.call_text(node), name=name)
        raise p.error(UnsupportedError, msg, node)
    lengths = list(dict.fromkeys(s[0] for s in found))
    if len(lengths) > 1:
        msg = Msg("err.lengths", what=p.call_text(node), a=lengths[0], b=lengths[1])
        raise p.error(ShapeError, msg, node)


def one_vector(p: Parser, node: ast.Call, a: list[Expr], matrix: bool = False) -> Shape:
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


def check_dot(p: Parser, node: ast.Call, a: list[Expr]) -> None:
    """dot(u, v): two vectors of one length."""
    shapes = [p.shape(arg) for arg in a]
    for i, shape in enumerate(shapes):
        if (shape == SCALAR and not vector_valued(a[i])) or shape[1] != 1:
            msg = Msg(
                "err.dot_vectors",
                call=p.call_text(node),
                arg=p.arg_text(node, i),
                what=describe(shape),
            )
            raise p.error(ShapeError, msg, node)
    if shapes[0][0] != shapes[1][0]:
        msg = Msg("err.lengths", what=p.call_text(node), a=shapes[0][0], b=shapes[1][0])
        raise p.error(ShapeError, msg, node)


def check_trace(p: Parser, node: ast.Call, a: list[Expr]) -> None:
    """trace(M): a square matrix, or the 1×1 matrix X Xᵀ of a 1×n X."""
    shape, what = p.shape(a[0]), p.arg_text(node, 0)
    if shape == SCALAR and column_matrix(a[0]):
        return
    if shape == SCALAR or shape[1] == 1:
        msg = Msg("err.trace_square", call=p.call_text(node), arg=what, what=describe(shape))
        raise p.error(ShapeError, msg, node)
    if shape[0] != shape[1]:
        msg = Msg("err.not_square", call=p.call_text(node), arg=what, size=dimensions(shape))
        raise p.error(ShapeError, msg, node)


def square(p: Parser, node: ast.Call, a: list[Expr], name: str) -> Shape:
    """The shape of a square matrix argument of ``name``; ShapeError otherwise."""
    shape, what = p.shape(a[0]), p.arg_text(node, 0)
    if shape == SCALAR or shape[1] == 1:
        msg = Msg(
            "err.square_needed", call=p.call_text(node), name=name, arg=what, what=describe(shape)
        )
        raise p.error(ShapeError, msg, node)
    if shape[0] != shape[1]:
        msg = Msg("err.not_square", call=p.call_text(node), arg=what, size=dimensions(shape))
        raise p.error(ShapeError, msg, node)
    return shape
