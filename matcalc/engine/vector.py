"""Vector calculus for the four steps (§4–§6): compact Jacobians and their products.

The walk, the naming and the combination are the scalar engine's (``chain``); this
module plugs in what a local Jacobian is (``vector_rules``: one matcher per operation
class, giving the rule and its compact Jacobian together) and how two of them multiply
(``jacobian_algebra``).

Local Jacobians (numerator layout, m×n for an m-vector by an n-vector): element-wise
f(v) by v is diag(∂f/∂v) (§4.2), by a scalar z the column ∂f/∂z (scalar expansion,
§4.3); sum(v) by v is 1ᵀ (§4.4); ‖v‖ by v is vᵀ/‖v‖; X v by v is X, by the matrix X an
outer product; tr(F₁…F_k) and F₁…F_k by X one product-rule term per occurrence of X.
A dot product is first written as sum(a ⊗ b), as in §5 (``expand_dots``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Mul, Symbol, default_sort_key, preorder_traversal

from matcalc.deadline import NEVER, Deadline
from matcalc.engine import vector_rules
from matcalc.engine.jacobian_algebra import JacobianAlgebra, gate, normalize
from matcalc.engine.rules import Local, depends
from matcalc.engine.simplify import tidy
from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR
from matcalc.linalg.declarations import Declaration, MatrixName, Shapes
from matcalc.linalg.jacobians import (
    Diag,
    DMat,
    Ident,
    Kron,
    Lin,
    MatProd,
    Ones,
    OnesMatrix,
    Outer,
    OuterT,
    Rank1,
    T,
)
from matcalc.linalg.operations import VDot, VSum
from matcalc.linalg.shapes import evaluate_shaped, has_vectors, keep_vector
from matcalc.msg import Msg
from matcalc.symbols import VectorName


def expand_dots(expr: Expr, wrt: Symbol) -> Expr:
    """Write a · b as sum(a ⊗ b), the paper's first step, where it depends on ``wrt``."""
    if not expr.args or not depends(expr, wrt):
        return expr
    args = tuple(expand_dots(a, wrt) for a in expr.args)
    if isinstance(expr, VDot):
        return VSum(Mul(*args, evaluate=False))
    if args == expr.args:
        return expr
    return expr.func(*args, evaluate=False)


class VectorCalculus(JacobianAlgebra):
    """Compact Jacobians of vector expressions; ``shapes`` grows as intermediates are named."""

    def __init__(self, shapes: Shapes, deadline: Deadline = NEVER):
        super().__init__(shapes)
        self.deadline = deadline

    # --- the Calculus protocol ----------------------------------------------------
    def is_simple(self, expr: Expr, wrt: Symbol) -> bool:
        return vector_rules.is_simple(expr, wrt)

    def differentiate(self, definition: Expr, wrt: Symbol) -> Local:
        self.deadline.check()
        return vector_rules.differentiate(definition, wrt, self)

    def display_product(self, factors: Sequence[Expr]) -> Expr:
        operators = [f for f in factors if self.is_operator(f)]
        if len(operators) < 2 and all(
            self.shape(f) == SCALAR for f in factors if not self.is_operator(f)
        ):
            return Mul(*factors, evaluate=False)
        return MatProd(*factors)

    def total(self, terms: Sequence[Expr]) -> Expr:
        return Add(*terms)

    def name(self, symbol: Symbol, definition: Expr) -> Symbol:
        rows, cols = self.shape(definition)
        if (rows, cols) == SCALAR:
            return symbol
        named = (
            VectorName(symbol.name, real=True) if cols == 1 else MatrixName(symbol.name, real=True)
        )
        self.shapes[named] = Declaration(named, rows, cols)
        self._shape_of.clear()
        return named

    def tidy(self, expr: Expr) -> Expr:
        self.deadline.check()
        expr = evaluate_shaped(expr, self.shapes)
        expr = expr.replace(lambda e: isinstance(e, MatProd), lambda e: self.product(e.args))
        # a vector by a matrix: the operator becomes the Jacobian by vec(W), W's rows stacked
        expr = expr.replace(lambda e: isinstance(e, Outer), lambda e: Kron(e.args[1], T(e.args[0])))
        expr = expr.replace(
            lambda e: isinstance(e, OuterT), lambda e: Kron(T(e.args[0]), e.args[1])
        )
        if expr.has(Lin, DMat, Rank1):
            raise UnsupportedError(Msg("err.vector.matrix_valued"))
        expr = gate(self._tidy_keeping(same_dots(expr)), self)
        return self._tidy_keeping(self.scalars_out(normalize(expr, self)))

    def _tidy_keeping(self, expr: Expr) -> Expr:
        """``tidy(expr)``, unless it turned the vector under a ᵀ, diag or sum into a
        scalar: the scalar rewrites take sign(x)² and sin(x)² + cos(x)² to 1, right entry by
        entry, but 1 is not the vector 1, and (sign(x) ⊗ sign(x))ᵀ came out the scalar 1ᵀ
        (NOT VERIFIED, the gradient of sum(|x| ⊗ sign(x)); diag(sign(x)²) a refusal).  Then
        each such vector is tidied alone and a constant written c·1 (``keep_vector``), and
        failing that ``expr`` is kept as it is: equal, if not as short."""
        out = tidy(expr)
        if not _collapsed(out) or _collapsed(expr):
            return out
        inner = expr.replace(
            lambda e: isinstance(e, (T, Diag, VSum)) and _vector_like(e.args[0]),
            lambda e: e.func(keep_vector(tidy(e.args[0]), e.args[0], self.shapes)),
        )
        out = tidy(inner)
        return expr if _collapsed(out) else out


def _collapsed(expr: Expr) -> bool:
    return any(
        isinstance(e, (T, Diag, VSum)) and not _vector_like(e.args[0])
        for e in preorder_traversal(expr)
    )


def _vector_like(expr: Expr) -> bool:
    return expr.has(Ones, OnesMatrix, Ident) or has_vectors(expr)


def same_dots(expr: Expr) -> Expr:
    """w·x and x·w written one way, so that they collect: (w·x + x·w)·xᵀ is 2(w·x)·xᵀ.

    Only a dot product whose mirror also occurs is rewritten (to the order that sorts
    first); one written a single way stays as typed."""
    dots = expr.atoms(VDot)
    mirror = {}
    for d in dots:
        flipped = VDot(d.args[1], d.args[0])
        if flipped != d and flipped in dots and default_sort_key(flipped) < default_sort_key(d):
            mirror[d] = flipped
    return expr.xreplace(mirror) if mirror else expr
