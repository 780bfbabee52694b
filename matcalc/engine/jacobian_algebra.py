"""The algebra of compact Jacobians: products, transposes, operators, and the normal form.

A compact Jacobian is the paper's notation for a Jacobian (numerator layout, m×n for an
m-vector by an n-vector): diag(v), I, 1, vᵀ, a matrix X, c·1, sums and products of these
(``matcalc.linalg.jacobians``).  ``JacobianAlgebra`` multiplies them in order and
simplifies as the paper does: I·A = A, diag(a)·diag(b) = diag(a ⊗ b), 1ᵀ·diag(x) = xᵀ,
aᵀ·diag(b) = (a ⊗ b)ᵀ, aᵀ·1 = sum(a), diag(a)·1 = a.

Matrices (the Cookbook's first-order identities).  A scalar's gradient G by an r×c matrix
is c×r (numerator layout).  The Jacobian of a matrix U by a matrix X is kept as the map it
applies to a scalar's gradient, ``Lin(P, Q, t)``: G ↦ P G Q (U = Q X P, shown by vec as
Q ⊗ₖ Pᵀ) or G ↦ P Gᵀ Q (shown as (Pᵀ ⊗ₖ Q)·K, K the commutation matrix); a matrix by a
scalar z is ``DMat(M)`` (shown as vec(M)), and G times it is tr(G M); a matrix through a
scalar z of X is ``Rank1(M, H)``, G ↦ tr(G M)·H.  Products of these compose
(``_compose``) or apply to a gradient (``apply``); what is left at the end (the derivative
of a matrix-valued expression) is refused by the calculus.

The normal form (``gate``, ``normalize``, ``scalars_out``) writes a result as the paper
does: w·x for sum(w ⊗ x), numbers outside ᵀ and sum, a leading minus absorbed into a
difference, and max(0, z) as z beside its gate 1[z > 0].
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Heaviside, Integer, Max, Min, Mul, Symbol

from matcalc.engine.simplify import decide, replace_unevaluated, singular_power
from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR, _Op
from matcalc.linalg.declarations import MatrixName, Shapes
from matcalc.linalg.jacobians import (
    OPERATORS,
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
from matcalc.linalg.operations import MatT, MatVec, MTrace, VDot, VSum
from matcalc.linalg.shapes import keep_vector, shape_of
from matcalc.msg import Msg


class JacobianAlgebra:
    """Products and transposes of compact Jacobians, given the shapes of the names in them."""

    def __init__(self, shapes: Shapes):
        self.shapes: Shapes = dict(shapes)
        self._shape_of: dict = {}  # shapes found so far; cleared when a name is declared

    def shape(self, expr: Expr):
        try:
            return self._shape_of[expr]
        except KeyError:
            shape = self._shape_of[expr] = shape_of(expr, self.shapes)
            return shape

    def is_vector(self, expr: Expr) -> bool:
        return self.shape(expr) != SCALAR and self.shape(expr)[1] == 1

    def length(self, expr: Expr) -> Expr:
        return self.shape(expr)[0]

    def is_matrix(self, expr: Expr) -> bool:
        """True for a matrix (not a scalar, not a column vector)."""
        return self.shape(expr)[1] != 1

    def is_column(self, expr: Expr) -> bool:
        rows, cols = self.shape(expr)
        return cols == 1 and rows != 1

    def is_scalar(self, expr: Expr) -> bool:
        return not isinstance(expr, OPERATORS) and self.shape(expr) == SCALAR

    def split(self, expr: Expr) -> tuple[Expr, Expr]:
        """(scalar coefficient, the rest) of a Jacobian."""
        if isinstance(expr, Mul):
            scalars = [a for a in expr.args if self.is_scalar(a)]
            rest = [a for a in expr.args if not self.is_scalar(a)]
            return Mul(*scalars), Mul(*rest)
        if self.is_scalar(expr):
            return expr, Integer(1)
        return Integer(1), expr

    def product(self, factors: Sequence[Expr]) -> Expr:
        out = factors[0]
        for factor in factors[1:]:
            out = self.multiply(out, factor)
        return out

    def chain(self, factors: Sequence[Expr]) -> Expr:
        """The matrix product of ``factors`` (1, the identity, for none)."""
        factors = [f for f in factors if f != 1]
        return self.product(factors) if factors else Integer(1)

    def multiply(self, a: Expr, b: Expr) -> Expr:
        """The matrix product a·b of two compact Jacobians, simplified."""
        if isinstance(a, Add):
            terms = a.args
            if self.is_column(a):  # u + s with a scalar s is u + s·1: keep the 1 when splitting
                rows = self.shape(a)[0]
                terms = [t if self.shape(t) != SCALAR else t * Ones(rows) for t in terms]
            return Add(*(self.multiply(t, b) for t in terms))
        if isinstance(b, Add) and not self.is_vector(b):
            return Add(*(self.multiply(a, t) for t in b.args))
        ca, ja = self.split(a)
        cb, jb = self.split(b)
        return ca * cb * self._core(ja, jb)

    def _core(self, a: Expr, b: Expr) -> Expr:
        if a == 1:
            return b
        if b == 1:
            return a
        if isinstance(b, (Lin, DMat, Rank1)) or (
            isinstance(b, (Outer, OuterT)) and self.is_operator(a)
        ):
            return self._compose(a, b) if self.is_operator(a) else self.apply(b, a)
        if isinstance(a, DMat):  # a matrix through a scalar z, then z's derivative (not a number)
            return Rank1(a.args[0], b)
        if isinstance(a, Rank1):
            return Rank1(a.args[0], self.multiply(a.args[1], b))
        if isinstance(b, (Outer, OuterT)):
            vector, after = b.args
            inner = self.multiply(a, after)
            if self.shape(a)[0] != 1:  # not yet the row of a scalar's derivative
                return b.func(vector, inner)
            if isinstance(b, Outer):
                return MatProd(vector, inner)
            return MatProd(self.transpose(inner), T(vector))
        if self.is_column(a) and self.shape(b)[0] != 1:
            return self._spread_gradient(a, b)
        if isinstance(b, MatProd):
            return self.product([self._core(a, b.args[0]), *b.args[1:]])
        if isinstance(a, Ident):
            return b
        if isinstance(b, Ident):
            return a
        if isinstance(a, Diag) and isinstance(b, Diag):
            return Diag(self._times(a.args[0], b.args[0]))
        if isinstance(a, T) and self.is_vector(a.args[0]):
            return self._row_times(a.args[0], b)
        if isinstance(a, Diag):
            if isinstance(b, Ones):
                return a.args[0]
            if self.is_vector(b):
                return self._times(a.args[0], b)
        if isinstance(a, MatProd):
            last = self._core(a.args[-1], b)
            if not isinstance(last, MatProd):
                return self.product([*a.args[:-1], last]) if len(a.args) > 1 else last
            return self._matprod(*a.args, b)
        return self._matprod(a, b)

    def _matprod(self, *factors: Expr) -> Expr:
        """The product of the factors; uᵀ M … v, a 1×1 product, as the scalar u · (M … v)."""
        first, last = factors[0], factors[-1]
        if isinstance(first, T) and self.is_vector(first.args[0]) and self.is_column(last):
            vector = last
            for matrix in reversed(factors[1:-1]):
                vector = MatVec(matrix, vector)
            row = first.args[0]
            return VSum(vector) if isinstance(row, Ones) else VDot(row, vector)
        return MatProd(*factors)

    def _spread_gradient(self, column: Expr, gradient: Expr) -> Expr:
        """c·∂s/∂X: a scalar's gradient by a matrix X, spread over a vector c (c = 1 for
        scalar expansion), as the Jacobian by vec(X), X's rows stacked.

        The gradient p q (numerator layout: ∂s/∂X_ij = q_i p_j) is the row q ⊗ pᵀ by
        vec(X), so c·(p q) is (c q) ⊗ₖ pᵀ: the operator Outer(p, c q), which ``tidy``
        writes as that Kronecker product (like the dense layer's diag(…) ⊗ₖ xᵀ).
        """
        if isinstance(gradient, MatProd) and len(gradient.args) == 2:
            p, q = gradient.args
            if self.is_column(p) and self.shape(q)[0] == 1:
                return Outer(p, self.multiply(column, q))
        raise UnsupportedError(Msg("err.vector.jacobian_by_matrix"))

    def _times(self, a: Expr, b: Expr) -> Expr:
        """a ⊗ b, still a vector when it cancels to a constant (√u ⊗ 1/(2√u) = ½·1)."""
        product = a * b
        return keep_vector(product, Mul(a, b, evaluate=False), self.shapes)

    def _row_times(self, row: Expr, b: Expr) -> Expr:
        ones = isinstance(row, Ones)
        if isinstance(b, Diag):
            return _t(b.args[0] if ones else self._times(row, b.args[0]), self)
        if isinstance(b, Ones):
            return b.args[0] if ones else VSum(row)
        if self.is_vector(b):
            return VSum(b) if ones else VDot(row, b)
        return MatProd(_t(row, self), b)

    def transpose(self, expr: Expr) -> Expr:
        """The transpose of a compact Jacobian (numerator ↔ denominator layout)."""
        if isinstance(expr, Add):
            scalars = [self.is_scalar(a) for a in expr.args]
            if any(scalars) and not all(scalars):  # w + c: c is c·𝟏, so (w + c)ᵀ = wᵀ + c·𝟏ᵀ
                return T(expr) if self.is_vector(expr) else MatT(expr)
            return Add(*(self.transpose(a) for a in expr.args))
        coeff, rest = self.split(expr)
        if rest == 1:
            return coeff
        if isinstance(rest, Add):
            return coeff * self.transpose(rest)
        if isinstance(rest, T):
            core = rest.args[0]
        elif isinstance(rest, (Diag, Ident)):
            core = rest
        elif isinstance(rest, MatrixName):
            core = MatT(rest)
        elif isinstance(rest, MatT):
            core = rest.args[0]
        elif isinstance(rest, MatProd):
            core = MatProd(*(self.transpose(a) for a in reversed(rest.args)))
        elif isinstance(rest, OnesMatrix):
            core = OnesMatrix(*reversed(rest.args))
        elif isinstance(rest, Kron):  # (A ⊗ₖ B)ᵀ = Aᵀ ⊗ₖ Bᵀ
            core = Kron(*(self.transpose(a) for a in rest.args))
        elif isinstance(rest, Outer):  # Outer(v, J) is J ⊗ₖ vᵀ
            core = Kron(self.transpose(rest.args[1]), rest.args[0])
        elif isinstance(rest, OuterT):  # OuterT(v, J) is vᵀ ⊗ₖ J
            core = Kron(rest.args[0], self.transpose(rest.args[1]))
        elif self.is_vector(rest):
            core = T(rest)
        else:
            core = MatT(rest)
        return coeff * core

    def identity_map(self, wrt: Symbol, transposed: int) -> Expr:
        """G ↦ G (or Gᵀ) for a matrix by the r×c matrix ``wrt``: P = I_c, Q = I_r."""
        rows, cols = self.shape(wrt)
        return Lin(Ident(cols), Ident(rows), Integer(transposed))

    def is_operator(self, expr: Expr) -> bool:
        """True for a Jacobian kept as an operator (by a matrix, or of a matrix), or c times one."""
        if isinstance(expr, OPERATORS):
            return True
        return isinstance(expr, (Mul, Add)) and any(self.is_operator(a) for a in expr.args)

    def _lin_args(self, op: Expr) -> tuple[Expr, Expr, int]:
        """(P, Q, t) of an operator G ↦ P G Q (t = 0) or P Gᵀ Q (t = 1)."""
        if isinstance(op, Outer):
            return op.args[0], op.args[1], 0
        if isinstance(op, OuterT):
            return self.transpose(op.args[1]), T(op.args[0]), 1
        p, q, t = op.args
        return p, q, int(t)

    def _lin(self, p: Expr, q: Expr, t: int) -> Expr:
        """The operator (P, Q, t), as Outer/OuterT when it is one (a vector by a matrix)."""
        if t == 0 and p != 1 and not isinstance(p, Ident) and self.is_column(p):
            return Outer(p, q)
        if (
            t == 1
            and q != 1
            and not isinstance(q, Ident)
            and self.shape(q)[0] == 1
            and self.shape(q)[1] != 1
        ):
            return OuterT(self.transpose(q), self.transpose(p))
        return Lin(p, q, Integer(t))

    def apply(self, op: Expr, gradient: Expr) -> Expr:
        """A scalar's gradient by U times ∂U/∂X: the scalar's gradient by X."""
        if isinstance(op, Add):
            return Add(*(self.apply(term, gradient) for term in op.args))
        coeff, op = self.split(op)
        if isinstance(op, DMat):  # Σᵢⱼ ∂s/∂Uᵢⱼ · ∂Uᵢⱼ/∂z
            return coeff * self._trace(gradient, op.args[0])
        if isinstance(op, Rank1):
            return coeff * self.multiply(self._trace(gradient, op.args[0]), op.args[1])
        p, q, t = self._lin_args(op)
        middle = self.transpose(gradient) if t else gradient
        return coeff * self.chain([p, middle, q])

    def _trace(self, gradient: Expr, m: Expr) -> Expr:
        """tr(G M), written sum(M) for G = 𝟏𝟏ᵀ and turned about a leading column,
        tr(v rᵀ …) = rᵀ … v."""
        if isinstance(gradient, Add):
            return Add(*(self._trace(t, m) for t in gradient.args))
        coeff, core = self.split(gradient)
        if isinstance(core, OnesMatrix):
            return coeff * VSum(m)
        product = self.multiply(core, m)
        c2, product = self.split(product)
        if isinstance(product, MatProd) and self.is_column(product.args[0]):
            return coeff * c2 * self.product([*product.args[1:], product.args[0]])
        return coeff * c2 * MTrace(product)

    def _compose(self, a: Expr, b: Expr) -> Expr:
        """∂Y/∂U · ∂U/∂X for two operators: the map G ↦ b(a(G))."""
        if isinstance(b, Rank1):  # through the scalar z: (∂Y/∂z)·(∂z/∂X)
            through = self._compose(a, DMat(b.args[0]))
            if isinstance(through, DMat):
                return Rank1(through.args[0], b.args[1])
            if self.shape(b.args[1])[0] != 1 and not self.is_scalar(through):
                raise UnsupportedError(Msg("err.vector.through_scalar"))
            return self.multiply(through, b.args[1])
        p1, q1, t1 = self._lin_args(a)
        if isinstance(b, DMat):  # forward: dY = Q dU P, or Pᵀ dUᵀ Qᵀ
            m = b.args[0]
            parts = (
                [q1, m, p1]
                if not t1
                else [self.transpose(p1), self.transpose(m), self.transpose(q1)]
            )
            value = self.chain(parts)
            return DMat(value) if self.is_matrix(value) else value
        p2, q2, t2 = self._lin_args(b)
        if not t2:
            return self._lin(self.chain([p2, p1]), self.chain([q1, q2]), t1)
        return self._lin(
            self.chain([p2, self.transpose(q1)]), self.chain([self.transpose(p1), q2]), 1 - t1
        )

    def present(self, expr: Expr) -> Expr:
        return replace_unevaluated(expr, lambda e: isinstance(e, VSum), lambda e: _as_dot(e, self))

    def scalars_out(self, expr: Expr) -> Expr:
        """(zX)ᵀ = z Xᵀ and tr(zA) = z tr(A): scalar factors out of a transpose or a trace."""

        def out(e: Expr) -> Expr:
            (arg,) = e.args
            coeff, rest = self.split(arg)
            return e if coeff == 1 or rest == 1 else coeff * e.func(rest)

        return expr.replace(
            lambda e: isinstance(e, (MatT, MTrace)) and isinstance(e.args[0], Mul), out
        )


def _t(vector: Expr, calc: JacobianAlgebra) -> Expr:
    """vᵀ, with scalar factors pulled out: (2u)ᵀ = 2uᵀ."""
    coeff, rest = calc.split(vector)
    return coeff * T(rest)


def gate(expr: Expr, calc: JacobianAlgebra) -> Expr:
    """In a product with 1[z > 0], max(0, z) is z: where the gate is 0 the product is 0.

    For a vector z this holds component by component, so only in element-wise positions:
    not inside sum(…), a dot product, a norm or a matrix product, which mix components
    (in 1[z > 0] ⊗ exp(max(0, z)) / sum(exp(max(0, z))) only the numerator's max goes).
    """

    def fix(mul: Mul) -> Expr:
        gates = [a.args[0] for a in mul.args if isinstance(a, Heaviside)]
        if not gates:
            return mul
        scalar = {Max(0, g): g for g in gates if calc.shape(g) == SCALAR}
        vector = {Max(0, g): g for g in gates if calc.shape(g) != SCALAR}
        # any other max or min the gates decide, under a negative or fractional power only
        # (1[1 - x] ⊗ (1 - min(1, x)²)^(-1/2) is 0/0 where x > 1, and ⊘ √(1 - x²) is 0 there)
        for a in mul.args:
            if not isinstance(a, Heaviside) and singular_power(a):
                for m in a.atoms(Max, Min):
                    chosen = decide(m, gates)
                    if chosen != m and m not in scalar:
                        vector.setdefault(m, chosen)

        def put(a: Expr) -> Expr:
            return _elementwise_replace(a.xreplace(scalar) if scalar else a, vector)

        return Mul(*(a if isinstance(a, Heaviside) else put(a) for a in mul.args))

    return expr.replace(lambda e: isinstance(e, Mul), fix)


def _elementwise_replace(expr: Expr, mapping: dict) -> Expr:
    """``expr.xreplace(mapping)`` that does not enter operations mixing components."""
    if not mapping:
        return expr
    if expr in mapping:
        return mapping[expr]
    if not expr.args or (isinstance(expr, _Op) and not isinstance(expr, (T, Diag))):
        return expr
    args = tuple(_elementwise_replace(a, mapping) for a in expr.args)
    return expr if args == expr.args else expr.func(*args)


def normalize(expr: Expr, calc: JacobianAlgebra) -> Expr:
    """The paper's way of writing results: w·x for sum(w ⊗ x), numbers outside T(…)
    and sum(…), and a leading minus sign absorbed into a difference, so that
    −(2/N)((y − Xw − b) ⊗ …)ᵀX reads (2/N)((Xw + b − y) ⊗ …)ᵀX.
    """

    def numbers_out(e: Expr) -> Expr:
        number, rest = e.args[0].as_coeff_Mul()
        return number * e.func(rest) if number != 1 else e

    def matprod_numbers_out(e: MatProd) -> Expr:
        numbers, factors = [], []
        for arg in e.args:
            number, rest = arg.as_coeff_Mul()
            numbers.append(number)
            factors.append(rest)
        return Mul(*numbers) * MatProd(*factors)

    expr = calc.present(expr)
    expr = expr.replace(lambda e: isinstance(e, (T, VSum)), numbers_out)
    expr = expr.replace(lambda e: isinstance(e, MatProd), matprod_numbers_out)
    return expr.replace(
        lambda e: isinstance(e, Mul) and e.could_extract_minus_sign(), _absorb_minus
    )


def _as_dot(e: VSum, calc: JacobianAlgebra) -> Expr:
    """sum(a ⊗ b) written back as the dot product a·b."""
    (arg,) = e.args
    if isinstance(arg, Mul) and len(arg.args) == 2 and all(calc.is_vector(a) for a in arg.args):
        return VDot(*arg.args)
    return e


def _flip(expr: Expr) -> Expr | None:
    """−expr with the sign absorbed into a difference inside it, or None."""
    if isinstance(expr, (T, VSum)):
        factors = list(Mul.make_args(expr.args[0]))
        for k, f in enumerate(factors):
            if isinstance(f, Add) and f.could_extract_minus_sign():
                factors[k] = -f
                return expr.func(Mul(*factors))
        return None
    if isinstance(expr, MatProd):
        first = _flip(expr.args[0])
        return None if first is None else MatProd(first, *expr.args[1:])
    return None


def _absorb_minus(mul: Mul) -> Expr:
    factors = list(mul.args)
    for k, f in enumerate(factors):
        flipped = _flip(f)
        if flipped is not None:
            factors[k] = flipped
            return -Mul(*factors)
    return mul
