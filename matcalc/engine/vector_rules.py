"""The vector rules: one matcher per operation class, returning the rule and its Jacobian.

As SymPy's ``manualintegrate`` does for integrals, ``match(expr, wrt, algebra)`` looks at
one expression and one variable and returns a rule object, or None when no single rule
differentiates it (the walk then names its arguments as intermediates first).  The rule
object says which rule it is (``rule``: catalogue ids) and computes its compact Jacobian
(``jacobian``, numerator layout) on demand, so that the name of a rule, its value and
whether an expression is "simple" (``is_simple``: a rule matches it as it stands) are
decided in one place and cannot disagree.

Rules are chosen by expression class: ``MATCHERS`` maps an operation class of
``matcalc.linalg`` to its rules, tried in order (the first whose ``applies`` holds wins);
any other expression is element-wise (``Elementwise``), differentiated by the scalar
rules (``engine.rules``).  Operations that are differentiated elsewhere, or never, are
listed too (``BY_DIFFERENTIAL``, ``NOT_DIFFERENTIATED``), so that every class has one
answer (``tests/test_registry.py``).

To add an operation: a ``VectorRule`` subclass whose docstring states the math, with its
``op`` (the class), ``ids`` (the catalogue ids its ``rule`` may name), ``applies``,
``rule`` and ``jacobian``, and its name in ``RULES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sympy import Add, Basic, Expr, Integer, Symbol

from matcalc.engine.jacobian_algebra import JacobianAlgebra
from matcalc.engine.rules import Local, depends, local_derivative, rule_for
from matcalc.engine.rules import is_simple as scalar_is_simple
from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR, _Op
from matcalc.linalg.declarations import MatrixName
from matcalc.linalg.jacobians import (
    Commutation,
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
from matcalc.linalg.operations import (
    Circ,
    Det,
    Inv,
    MatT,
    MatVec,
    MDiff,
    Mean,
    MMul,
    MPow,
    MTrace,
    Norm,
    VDot,
    VSum,
)
from matcalc.linalg.shapes import evaluate_shaped
from matcalc.msg import Msg
from matcalc.steps import Rule


@dataclass(frozen=True, slots=True)
class VectorRule:
    """A rule that differentiates ``expr`` (as written) by ``wrt``."""

    expr: Expr
    wrt: Symbol

    op: ClassVar[type]
    """The class of expression the rule is for."""
    ids: ClassVar[tuple[str, ...]] = ()
    """The catalogue ids (``rule.<id>``) that ``rule`` may name."""

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        """True when the rule differentiates ``expr`` by ``wrt`` as it stands."""
        raise NotImplementedError

    def simple(self) -> bool:
        """True when the rule needs no intermediate variables."""
        return True

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        raise NotImplementedError

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        """The compact Jacobian of ``expr``, the evaluated form of ``self.expr``."""
        raise NotImplementedError


def _by_matrix(wrt: Symbol) -> bool:
    return isinstance(wrt, MatrixName)


@dataclass(frozen=True, slots=True)
class _OfVariable(VectorRule):
    """A rule for an operation applied to the variable itself: sum(v) by v, tr(X) by X, …"""

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        return expr.args[0] == wrt


@dataclass(frozen=True, slots=True)
class SumReduction(_OfVariable):
    """sum(v) by v: 1ᵀ (§4.4); sum(X) by X: 𝟏𝟏ᵀ; by a vector of length 1: 1."""

    op = VSum
    ids = ("sum_reduction", "sum_entries")

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("sum_entries" if _by_matrix(self.wrt) else "sum_reduction")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        rows, cols = algebra.shape(self.wrt)
        if (rows, cols) == SCALAR:
            return Integer(1)
        return OnesMatrix(cols, rows) if _by_matrix(self.wrt) else T(Ones(rows))


@dataclass(frozen=True, slots=True)
class MeanReduction(_OfVariable):
    """mean(v) by the n-vector v: 1ᵀ/n (sum reduction, divided by n); by a vector of length
    1: 1."""

    op = Mean
    ids = ("mean_reduction",)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("mean_reduction")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        rows = algebra.length(self.wrt)
        return Integer(1) if rows == 1 else T(Ones(rows)) / rows


@dataclass(frozen=True, slots=True)
class NormRule(_OfVariable):
    """‖v‖ by v: vᵀ/‖v‖; the Frobenius norm ‖X‖ by X: Xᵀ/‖X‖."""

    op = Norm
    ids = ("norm", "frobenius")

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("frobenius" if _by_matrix(self.wrt) else "norm")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        wrt = self.wrt
        if algebra.shape(wrt) == SCALAR:
            return wrt / expr  # a vector of length 1
        return (MatT(wrt) if _by_matrix(wrt) else T(wrt)) / expr


@dataclass(frozen=True, slots=True)
class MatVecRule(VectorRule):
    """A v by v: A."""

    op = MatVec
    ids = ("matvec",)

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        matrix, vector = expr.args
        return vector == wrt and not depends(matrix, wrt)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("matvec")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        return expr.args[0]


@dataclass(frozen=True, slots=True)
class MatVecByMatrix(VectorRule):
    """X v by the matrix X: the operator Outer(v, I), for a scalar f ∂f/∂X = v·∂f/∂(Xv) (an
    outer product); Xᵀ v by X: OuterT(v, I).  A 1×n X gives a scalar, whose gradient is v."""

    op = MatVec
    ids = ("matvec_by_matrix",)

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        matrix, vector = expr.args
        return matrix in (wrt, MatT(wrt)) and not depends(vector, wrt)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("matvec_by_matrix")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        matrix, vector = expr.args
        if algebra.shape(expr) == SCALAR:
            # a vector of length 1 (X is 1×n): a scalar, whose gradient by X is v (or vᵀ)
            return vector if matrix == self.wrt else T(vector)
        rows = Ident(algebra.shape(matrix)[0])
        return (Outer if matrix == self.wrt else OuterT)(vector, rows)


@dataclass(frozen=True, slots=True)
class TraceRule(_OfVariable):
    """tr(X) by X: I."""

    op = MTrace
    ids = ("trace",)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("trace")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        return Ident(algebra.length(expr.args[0]))


@dataclass(frozen=True, slots=True)
class TraceProduct(VectorRule):
    """tr(F₁ … F_k) by X, each factor X, Xᵀ or free of X: one product-rule term per
    occurrence of X, applied to I (tr(AXB) by X: BA; tr(XᵀX): 2Xᵀ)."""

    op = MTrace
    ids = ("trace_product",)

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        (arg,) = expr.args
        return isinstance(arg, MMul) and factors(arg, wrt) is not None

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("trace_product")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        (arg,) = expr.args
        identity = Ident(algebra.length(arg))
        return algebra.apply(product_jacobian(arg, self.wrt, algebra), identity)


@dataclass(frozen=True, slots=True)
class MatrixProduct(VectorRule):
    """F₁ … F_k by X, each factor X, Xᵀ or free of X: the product rule, one term per
    occurrence; A X B gives G ↦ B G A (by vec, A ⊗ₖ Bᵀ), A Xᵀ B gives G ↦ Aᵀ Gᵀ Bᵀ."""

    op = MMul
    ids = ("matrix_product",)

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        return factors(expr, wrt) is not None

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("matrix_product")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        return product_jacobian(expr, self.wrt, algebra)


@dataclass(frozen=True, slots=True)
class Transpose(_OfVariable):
    """Xᵀ by X: the map G ↦ Gᵀ (by vec, the commutation matrix K)."""

    op = MatT
    ids = ("transpose",)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("transpose")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        return algebra.identity_map(self.wrt, 1)


@dataclass(frozen=True, slots=True)
class ColumnTranspose(_OfVariable):
    """vᵀ by v: I (a row has the entries of its column)."""

    op = T
    ids = ("column_transpose",)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        return Rule.named("column_transpose")

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        return Ident(algebra.length(self.wrt))


@dataclass(frozen=True, slots=True)
class Elementwise(VectorRule):
    """An element-wise expression f(v, z, …): by a vector, diag(∂f/∂v) (§4.2; a constant
    diagonal c is c·I); by a scalar, the column ∂f/∂z (scalar expansion, §4.3; c·1 when
    the same in every component); by a matrix W, c·W gives the map G ↦ c G; a matrix by a
    scalar, the matrix of its entries' derivatives.  The scalar rule names the derivative."""

    op = Basic
    ids = ("elementwise", "scalar_expansion", "scalar_multiple_matrix", "matrix_by_scalar")

    @staticmethod
    def applies(expr: Expr, wrt: Symbol) -> bool:
        return True  # the value exists for any element-wise expression

    def simple(self) -> bool:
        inner_ops = [a for a in self.expr.atoms(_Op) if depends(a, self.wrt)]
        return not inner_ops and scalar_is_simple(self.expr, self.wrt)

    def rule(self, algebra: JacobianAlgebra) -> Rule:
        definition, wrt = self.expr, self.wrt
        scalar_rule = rule_for(definition, wrt)
        if _by_matrix(wrt):
            return Rule.named("scalar_multiple_matrix").and_clause(scalar_rule)
        if algebra.is_matrix(definition):
            return Rule.named("matrix_by_scalar").and_clause(scalar_rule)
        out_vector, in_vector = algebra.shape(definition) != SCALAR, algebra.shape(wrt) != SCALAR
        if out_vector and in_vector:
            return Rule.named("elementwise").and_clause(scalar_rule)
        if out_vector:
            return Rule.named("scalar_expansion").and_clause(scalar_rule)
        return scalar_rule

    def jacobian(self, expr: Expr, algebra: JacobianAlgebra) -> Expr:
        wrt = self.wrt
        if isinstance(expr, _Op):  # evaluated into an operation: not element-wise after all
            raise UnsupportedError(Msg("err.vector.operation", name=type(expr).__name__))
        if _by_matrix(wrt) or algebra.is_matrix(expr):
            return _elementwise_matrix(expr, wrt, algebra)
        value = local_derivative(expr, wrt)
        out_vector, in_vector = algebra.shape(expr) != SCALAR, algebra.shape(wrt) != SCALAR
        varying = algebra.shape(value) != SCALAR
        if out_vector and in_vector:
            return Diag(value) if varying else value * Ident(algebra.length(wrt))
        if out_vector:
            return value if varying else value * Ones(algebra.length(expr))
        return value


def _elementwise_matrix(expr: Expr, wrt: Symbol, algebra: JacobianAlgebra) -> Expr:
    """A matrix expression that is linear in its matrices (the parser allows only sums
    and scalar multiples): by a matrix W, c·W gives the map G ↦ c G; by a scalar z, the
    matrix of the entries' derivatives."""
    value = local_derivative(expr, wrt)
    if _by_matrix(wrt):
        if not algebra.is_matrix(expr) or algebra.shape(value) != SCALAR:
            raise UnsupportedError(Msg("err.vector.by_matrix", wrt=wrt))
        return value * algebra.identity_map(wrt, 0)
    if algebra.shape(value) == SCALAR:
        raise UnsupportedError(Msg("err.vector.matrix_by_scalar"))
    return DMat(value)


# --- products of matrices -------------------------------------------------------------


def factors(product: Expr, wrt: Symbol) -> list[Expr] | None:
    """The factors of a matrix product (nested products opened) when each is ``wrt``,
    its transpose, or free of it; otherwise None (the walk names the other factors)."""
    out: list[Expr] = []
    for arg in product.args:
        if isinstance(arg, MMul):
            inner = factors(arg, wrt)
            if inner is None:
                return None
            out.extend(inner)
        elif arg in (wrt, MatT(wrt)) or not depends(arg, wrt):
            out.append(arg)
        else:
            return None
    return out


def product_jacobian(product: Expr, wrt: Symbol, algebra: JacobianAlgebra) -> Expr:
    """∂(F₁ F₂ … F_k)/∂X by the product rule, one term per factor X or Xᵀ.

    With A the factors before and B those after: U = A X B gives G ↦ B G A
    (∂vec(U)/∂vec(X) = A ⊗ₖ Bᵀ), and U = A Xᵀ B gives G ↦ Aᵀ Gᵀ Bᵀ.
    """
    found = factors(product, wrt)
    if found is None:  # evaluated into a product that is not one step (never as written)
        raise UnsupportedError(Msg("err.vector.operation", name=type(product).__name__))
    rows, cols = algebra.shape(wrt)
    terms = []
    for k, factor in enumerate(found):
        if not depends(factor, wrt):
            continue
        before, after = algebra.chain(found[:k]), algebra.chain(found[k + 1 :])
        if factor == wrt:
            before, after = (
                before if before != 1 else Ident(rows),
                after if after != 1 else Ident(cols),
            )
            terms.append(Lin(after, before, Integer(0)))
        else:  # A Xᵀ B: A has as many columns as X, B as many rows
            before, after = (
                before if before != 1 else Ident(cols),
                after if after != 1 else Ident(rows),
            )
            terms.append(Lin(algebra.transpose(before), algebra.transpose(after), Integer(1)))
    return Add(*terms)


# --- the registry -----------------------------------------------------------------------

RULES: tuple[type[VectorRule], ...] = (
    SumReduction,
    MeanReduction,
    NormRule,
    MatVecRule,
    MatVecByMatrix,
    TraceRule,
    TraceProduct,
    MatrixProduct,
    Transpose,
    ColumnTranspose,
    Elementwise,
)

MATCHERS: dict[type, tuple[type[VectorRule], ...]] = {}
for _rule in RULES:
    MATCHERS[_rule.op] = (*MATCHERS.get(_rule.op, ()), _rule)
MATCHERS[_Op] = ()  # an operation with no rule of its own is not element-wise

BY_DIFFERENTIAL: dict[type, tuple[str, ...]] = {
    Inv: ("differential_inverse",),
    Det: ("differential_det", "differential_logdet"),
    MPow: ("differential_power",),
}
"""Differentiated by the differential method (``engine.differential``), never by a rule here:
class -> the catalogue ids of its rules there."""
NOT_DIFFERENTIATED = (
    VDot,  # written sum(a ⊗ b) first (``vector.expand_dots``), as in §5
    Diag,
    Ident,
    Ones,
    OnesMatrix,
    Commutation,
    Kron,
    MatProd,
    Outer,
    OuterT,
    Lin,
    DMat,
    Rank1,
    Circ,
    MDiff,
)
"""Compact Jacobians and display forms: results, never differentiated (the walk refuses them)."""


def match(expr: Expr, wrt: Symbol) -> VectorRule | None:
    """The rule that differentiates ``expr`` by ``wrt`` as it stands, or None."""
    for cls in type(expr).__mro__:
        rules = MATCHERS.get(cls)
        if rules is not None:
            return next((r(expr, wrt) for r in rules if r.applies(expr, wrt)), None)
    return None


def is_simple(expr: Expr, wrt: Symbol) -> bool:
    """True when one rule differentiates ``expr`` with no intermediate variable."""
    if expr == wrt or not depends(expr, wrt):
        return True
    found = match(expr, wrt)
    return found is not None and found.simple()


def differentiate(definition: Expr, wrt: Symbol, algebra: JacobianAlgebra) -> Local:
    """The local derivative of ``definition`` by ``wrt``: its rule and compact Jacobian.

    The rule is read off the definition as written (x·x² is the product rule); the value is
    computed on its evaluated form, and is the zero Jacobian (of any shape) where that no
    longer depends on ``wrt``."""
    found = match(definition, wrt)
    expr = evaluate_shaped(definition, algebra.shapes)
    if not depends(expr, wrt):
        rule = found.rule(algebra) if found is not None else Rule.named("constant")
        return Local(rule=rule, value=Integer(0))
    if found is None:
        raise UnsupportedError(Msg("err.vector.operation", name=type(definition).__name__))
    return Local(rule=found.rule(algebra), value=found.jacobian(expr, algebra))
