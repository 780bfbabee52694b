"""Vector calculus for the four steps (§4–§6): compact Jacobians and their products.

The walk, the naming and the combination are the scalar engine's (``chain``);
this module says what a local Jacobian is and how two of them multiply.

Local Jacobians (numerator layout, m×n for an m-vector by an n-vector):

- element-wise f(v) by v: diag(∂f/∂v), the scalar derivative on the diagonal
  (§4.2); a constant diagonal c is written c·I;
- element-wise f(v, z) by a scalar z (scalar expansion, §4.3): the column ∂f/∂z,
  written c·1 when it is the same in every component;
- sum(v) by v: 1ᵀ (§4.4); ‖v‖ by v: vᵀ/‖v‖; X v by v: X;
- X v by the matrix X, for a scalar f: ∂f/∂X = v · ∂f/∂(Xv) (an outer product);
  tr(X A) by X: A.

Products follow the paper's simplifications: I·A = A, diag(a)·diag(b) =
diag(a ⊗ b), 1ᵀ·diag(x) = xᵀ, aᵀ·diag(b) = (a ⊗ b)ᵀ, aᵀ·1 = sum(a),
diag(a)·1 = a.  A dot product is first written as sum(a ⊗ b), as in §5.
"""

from __future__ import annotations

from collections.abc import Sequence

from sympy import Add, Expr, Heaviside, Integer, Max, Mul, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.rules import depends, is_simple, local_derivative, rule_for
from matcalc.engine.simplify import replace_unevaluated, tidy
from matcalc.errors import UnsupportedError
from matcalc.linalg import (
    SCALAR,
    Declaration,
    Diag,
    Ident,
    Kron,
    MatProd,
    MatrixName,
    MatT,
    MatVec,
    MMul,
    MTrace,
    Norm,
    Ones,
    Outer,
    OuterT,
    Shapes,
    T,
    VDot,
    VSum,
    _Op,
    evaluate_shaped,
    keep_vector,
    shape_of,
)
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


class VectorCalculus:
    """Compact Jacobians of vector expressions; ``shapes`` grows as intermediates are named."""

    def __init__(self, shapes: Shapes, deadline: Deadline = NEVER):
        self.shapes: Shapes = dict(shapes)
        self.deadline = deadline

    # --- shapes -------------------------------------------------------------------
    def shape(self, expr: Expr):
        return shape_of(expr, self.shapes)

    def is_vector(self, expr: Expr) -> bool:
        return self.shape(expr) != SCALAR and self.shape(expr)[1] == 1

    def _length(self, expr: Expr) -> Expr:
        return self.shape(expr)[0]

    # --- the Calculus protocol ----------------------------------------------------
    def is_simple(self, expr: Expr, wrt: Symbol) -> bool:
        if expr == wrt or not depends(expr, wrt):
            return True
        if isinstance(expr, (VSum, Norm, MatT)):
            return expr.args[0] == wrt
        if isinstance(expr, MatVec):
            matrix, vector = expr.args
            return (vector == wrt and not depends(matrix, wrt)) or (
                matrix in (wrt, MatT(wrt)) and not depends(vector, wrt)
            )
        if isinstance(expr, MTrace):
            return self._trace_partner(expr, wrt) is not None
        if isinstance(expr, _Op):
            return False
        inner_ops = [a for a in expr.atoms(_Op) if depends(a, wrt)]
        return not inner_ops and is_simple(expr, wrt)

    def jacobian(self, definition: Expr, wrt: Symbol) -> Expr:
        self.deadline.check()
        expr = evaluate_shaped(definition, self.shapes)
        if not depends(expr, wrt):
            return Integer(0)  # the zero Jacobian, of any shape
        if isinstance(expr, VSum) and expr.args[0] == wrt:
            return T(Ones(self._length(wrt)))
        if isinstance(expr, Norm) and expr.args[0] == wrt:
            return T(wrt) / expr
        if isinstance(expr, MatVec):
            matrix, vector = expr.args
            if vector == wrt:
                return matrix
            if matrix in (wrt, MatT(wrt)):
                rows = Ident(self.shape(matrix)[0])
                return (Outer if matrix == wrt else OuterT)(vector, rows)
        if isinstance(expr, MTrace):
            partner = self._trace_partner(expr, wrt)
            if partner is not None:
                return partner
        if isinstance(expr, _Op):
            raise UnsupportedError(f"the derivative of {type(expr).__name__} is not supported yet")
        return self._elementwise(expr, wrt)

    def _elementwise(self, expr: Expr, wrt: Symbol) -> Expr:
        if isinstance(wrt, MatrixName):
            raise UnsupportedError(
                "matrices may appear only in a matrix-vector product X @ v when differentiating by them"
            )
        value = local_derivative(expr, wrt)
        out_vector, in_vector = self.shape(expr) != SCALAR, self.shape(wrt) != SCALAR
        varying = self.shape(value) != SCALAR
        if out_vector and in_vector:
            return Diag(value) if varying else value * Ident(self._length(wrt))
        if out_vector:
            return value if varying else value * Ones(self._length(expr))
        return value

    def rule(self, definition: Expr, wrt: Symbol) -> str:
        if isinstance(definition, VSum):
            return "sum reduction (1ᵀ)"
        if isinstance(definition, Norm):
            return "derivative of the norm"
        if isinstance(definition, MatVec):
            if definition.args[0] in (wrt, MatT(wrt)):
                return "matrix-vector product, by vec of the matrix (rows stacked)"
            return "matrix-vector product"
        if isinstance(definition, MTrace):
            return "derivative of the trace"
        scalar_rule = rule_for(definition, wrt)
        out_vector, in_vector = self.shape(definition) != SCALAR, self.shape(wrt) != SCALAR
        if out_vector and in_vector:
            return f"element-wise, so diagonal; {scalar_rule}"
        if out_vector:
            return f"scalar expansion; {scalar_rule}"
        return scalar_rule

    def product(self, factors: Sequence[Expr]) -> Expr:
        out = factors[0]
        for factor in factors[1:]:
            out = self.multiply(out, factor)
        return out

    def display_product(self, factors: Sequence[Expr]) -> Expr:
        if all(self.shape(f) == SCALAR for f in factors if not isinstance(f, (Outer, OuterT))):
            return Mul(*factors, evaluate=False)
        return MatProd(*factors)

    def total(self, terms: Sequence[Expr]) -> Expr:
        return Add(*terms)

    def name(self, symbol: Symbol, definition: Expr) -> Symbol:
        rows, cols = self.shape(definition)
        if (rows, cols) == SCALAR:
            return symbol
        named = VectorName(symbol.name, real=True) if cols == 1 else MatrixName(symbol.name, real=True)
        self.shapes[named] = Declaration(named, rows, cols)
        return named

    def tidy(self, expr: Expr) -> Expr:
        self.deadline.check()
        expr = evaluate_shaped(expr, self.shapes)
        expr = expr.replace(lambda e: isinstance(e, MatProd), lambda e: self.product(e.args))
        # a vector by a matrix: the operator becomes the Jacobian by vec(W), W's rows stacked
        expr = expr.replace(lambda e: isinstance(e, Outer), lambda e: Kron(e.args[1], T(e.args[0])))
        expr = expr.replace(lambda e: isinstance(e, OuterT), lambda e: Kron(T(e.args[0]), e.args[1]))
        expr = _gate(tidy(expr), self)
        return tidy(_normalize(expr, self))

    def _trace_partner(self, expr: MTrace, wrt: Symbol) -> Expr | None:
        """∂tr(·)/∂X in numerator layout: I for tr(X), A for tr(XA) and tr(AX)."""
        (arg,) = expr.args
        if arg == wrt:
            return Ident(self._length(wrt))
        if isinstance(arg, MMul):
            left, right = arg.args
            if left == wrt and not depends(right, wrt):
                return right
            if right == wrt and not depends(left, wrt):
                return left
        return None

    def transpose(self, expr: Expr) -> Expr:
        """The transpose of a compact Jacobian (numerator ↔ denominator layout)."""
        if isinstance(expr, Add):
            return Add(*(self.transpose(a) for a in expr.args))
        coeff, rest = self._split(expr)
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

    def present(self, expr: Expr) -> Expr:
        return replace_unevaluated(expr, lambda e: isinstance(e, VSum), lambda e: _as_dot(e, self))

    # --- products of compact Jacobians -----------------------------------------------
    def _split(self, expr: Expr) -> tuple[Expr, Expr]:
        """(scalar coefficient, the rest) of a Jacobian."""
        if isinstance(expr, Mul):
            scalars = [a for a in expr.args if self._scalar(a)]
            rest = [a for a in expr.args if not self._scalar(a)]
            return Mul(*scalars), Mul(*rest)
        if self._scalar(expr):
            return expr, Integer(1)
        return Integer(1), expr

    def _scalar(self, expr: Expr) -> bool:
        return not isinstance(expr, (Outer, OuterT)) and self.shape(expr) == SCALAR

    def multiply(self, a: Expr, b: Expr) -> Expr:
        """The matrix product a·b of two compact Jacobians, simplified."""
        if isinstance(a, Add):
            terms = a.args
            if self._column(a):  # u + s with a scalar s is u + s·1: keep the 1 when splitting
                rows = self.shape(a)[0]
                terms = [t if self.shape(t) != SCALAR else t * Ones(rows) for t in terms]
            return Add(*(self.multiply(t, b) for t in terms))
        if isinstance(b, Add) and not self.is_vector(b):
            return Add(*(self.multiply(a, t) for t in b.args))
        ca, ja = self._split(a)
        cb, jb = self._split(b)
        return ca * cb * self._core(ja, jb)

    def _core(self, a: Expr, b: Expr) -> Expr:
        if a == 1:
            return b
        if b == 1:
            return a
        if isinstance(b, (Outer, OuterT)):
            vector, after = b.args
            inner = self.multiply(a, after)
            if self.shape(a)[0] != 1:  # not yet the row of a scalar's derivative
                return b.func(vector, inner)
            if isinstance(b, Outer):
                return MatProd(vector, inner)
            return MatProd(self.transpose(inner), T(vector))
        if self._column(a) and self.shape(b)[0] != 1:
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
        if isinstance(first, T) and self.is_vector(first.args[0]) and self._column(last):
            vector = last
            for matrix in reversed(factors[1:-1]):
                vector = MatVec(matrix, vector)
            return VDot(first.args[0], vector)
        return MatProd(*factors)

    def _column(self, expr: Expr) -> bool:
        rows, cols = self.shape(expr)
        return cols == 1 and rows != 1

    def _spread_gradient(self, column: Expr, gradient: Expr) -> Expr:
        """c·∂s/∂X: a scalar's gradient by a matrix X, spread over a vector c (c = 1 for
        scalar expansion), as the Jacobian by vec(X), X's rows stacked.

        The gradient p q (numerator layout: ∂s/∂X_ij = q_i p_j) is the row q ⊗ pᵀ by
        vec(X), so c·(p q) is (c q) ⊗ₖ pᵀ: the operator Outer(p, c q), which ``tidy``
        writes as that Kronecker product (like the dense layer's diag(…) ⊗ₖ xᵀ).
        """
        if isinstance(gradient, MatProd) and len(gradient.args) == 2:
            p, q = gradient.args
            if self._column(p) and self.shape(q)[0] == 1:
                return Outer(p, self.multiply(column, q))
        raise UnsupportedError(
            "this Jacobian of a vector by a matrix is not supported yet (a scalar's gradient "
            "by the matrix, added to or multiplying a vector)"
        )

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


def _t(vector: Expr, calc: VectorCalculus) -> Expr:
    """vᵀ, with scalar factors pulled out: (2u)ᵀ = 2uᵀ."""
    coeff, rest = calc._split(vector)
    return coeff * T(rest)


def _gate(expr: Expr, calc: VectorCalculus) -> Expr:
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


def _normalize(expr: Expr, calc: VectorCalculus) -> Expr:
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
    return expr.replace(lambda e: isinstance(e, Mul) and e.could_extract_minus_sign(), _absorb_minus)


def _as_dot(e: VSum, calc: VectorCalculus) -> Expr:
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
