"""Derivatives by a matrix through the differential (the method of Magnus & Neudecker,
and of the Matrix Cookbook's §2): for a scalar f of a matrix X,

1. take the differential df, one rule per operation (d(X⁻¹) = −X⁻¹·dX·X⁻¹, eq. 59;
   d det(X) = det(X)·tr(X⁻¹·dX), eq. 46; d(MN) = dM·N + M·dN; d tr(M) = tr(dM); …);
2. move dX to the end of each trace with the cyclic property tr(AB) = tr(BA), so that
   df = tr(Gᵀ·dX);
3. read off the gradient: ∂f/∂X = G in denominator layout (Gᵀ in numerator layout).

This is the method for scalars with ``inv``, ``det``, ``logdet`` and ``matrix_power``, and
for a symmetric matrix variable, where the chain rule's Jacobian by vec(X) would be
unreadable; the paper's chain rule stays the method for everything else.

A differential is a list of terms c·L·dW·R (or c·L·dWᵀ·R), L and R tuples of matrix or
vector factors and c a scalar; the differential of a scalar is read as a sum of traces
c·tr(L·dW·R).  To support a new operation, add a case to ``_Differentials.matrix`` (a
matrix or vector) or ``_Differentials.scalar``; anything without a case is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Add, Dummy, Expr, Integer, Mul, Pow, Symbol

from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR
from matcalc.linalg.declarations import MatrixName, Shapes
from matcalc.linalg.jacobians import Ident, MatProd, Ones, T
from matcalc.linalg.operations import (
    Det,
    Inv,
    MatT,
    MatVec,
    MDiff,
    MMul,
    MPow,
    MTrace,
    Norm,
    VDot,
    VSum,
)
from matcalc.linalg.shapes import evaluate_shaped, shape_of, vector_valued
from matcalc.msg import Msg
from matcalc.steps import DifferentialStep, Note, Rule, Step
from matcalc.symbols import VectorName

MATRIX_FUNCTIONS = (Inv, Det, MPow)
"""Operations whose derivatives by a matrix are taken through the differential."""

# scalar functions whose derivative SymPy knows exactly (the chain rule d f(s) = f′(s) ds)
_SCALAR_FUNCTIONS = (
    sympy.exp,
    sympy.log,
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.sinh,
    sympy.cosh,
    sympy.tanh,
    sympy.atan,
)

RULE_INVERSE = Rule.named("differential_inverse")  # Matrix Cookbook eq. 59
RULE_DET = Rule.named("differential_det")  # eq. 46
RULE_LOGDET = Rule.named("differential_logdet")  # eq. 57, in differential form
RULE_POWER = Rule.named("differential_power")  # the product rule
RULE_CHAIN = Rule.named("differential_chain")  # d f(s) = f′(s)·ds


def uses_differential(expr: Expr, shapes: Shapes) -> bool:
    """True when ``expr`` has an operation of ``MATRIX_FUNCTIONS`` or a symmetric matrix."""
    if any(getattr(d, "symmetric", False) for d in shapes.values()):
        return True
    return any(isinstance(node, MATRIX_FUNCTIONS) for node in sympy.preorder_traversal(expr))


@dataclass(frozen=True, slots=True)
class _Term:
    """c·L·dW·R, or c·L·dWᵀ·R when ``t``."""

    c: Expr
    left: tuple
    right: tuple
    t: bool = False


class _Differentials:
    def __init__(self, wrt: Symbol, shapes: Shapes):
        self.wrt = wrt
        self.shapes = shapes
        self.symmetric = {s for s, d in shapes.items() if getattr(d, "symmetric", False)}
        self.rules: dict[Expr, tuple[Rule, Expr, Expr]] = {}

    # -- helpers ------------------------------------------------------------------------------
    def depends(self, e: Expr) -> bool:
        return self.wrt in getattr(e, "free_symbols", ())

    def is_scalar(self, e: Expr) -> bool:
        return shape_of(e, self.shapes) == SCALAR and not vector_valued(e)

    def refuse(self, e: Expr, why: str, **values: object) -> UnsupportedError:
        """The refusal of ``e``: ``why`` names what is unsupported (``err.differential.why.*``)."""
        from matcalc.render.printing import TextPrinter

        text = TextPrinter({"unicode": False}).doprint(e)
        reason = Msg(f"err.differential.why.{why}", **values)
        return UnsupportedError(Msg("err.differential.refuse", expr=text, why=reason))

    def factors(self, e: Expr) -> tuple:
        """The factors of a matrix product, nested products opened."""
        if isinstance(e, (MMul, MatVec, MatProd)):
            return tuple(f for a in e.args for f in self.factors(a))
        if isinstance(e, Ident):
            return ()
        return (e,)

    def transpose(self, factors: tuple) -> tuple:
        return tuple(self.transpose_one(f) for f in reversed(factors))

    def transpose_one(self, f: Expr) -> Expr:
        if f in self.symmetric:
            return f
        if isinstance(f, (MatT, T)):
            return f.args[0]
        if isinstance(f, (VectorName, Ones)) or (vector_valued(f) and not isinstance(f, MatVec)):
            return T(f)
        if isinstance(f, Inv) and (f.args[0] in self.symmetric):
            return f
        if isinstance(f, Inv) and isinstance(f.args[0], MatT):  # (Aᵀ)⁻ᵀ = A⁻¹
            return Inv(f.args[0].args[0])
        if isinstance(f, Ident):
            return f
        return MatT(f)

    # -- the differential of a matrix or a vector ---------------------------------------------
    def matrix(self, e: Expr) -> list[_Term]:
        if e == self.wrt:
            return [_Term(Integer(1), (), ())]
        if not self.depends(e):
            return []
        if isinstance(e, (MatT, T)):
            return [
                _Term(t.c, self.transpose(t.right), self.transpose(t.left), not t.t)
                for t in self.matrix(e.args[0])
            ]
        if isinstance(e, (MMul, MatVec, MatProd)):
            return self.product(e.args)
        if isinstance(e, Inv):
            m = e.args[0]
            self.rule(e, RULE_INVERSE, -MatProd(Inv(m), MDiff(m), Inv(m)), lhs=MDiff(e))
            return [_Term(-t.c, (e, *t.left), (*t.right, e), t.t) for t in self.matrix(m)]
        if isinstance(e, MPow):
            m, k = e.args[0], int(e.args[1])
            power = [
                MatProd(*self.power(m, i), MDiff(m), *self.power(m, k - 1 - i)) for i in range(k)
            ]
            self.rule(e, RULE_POWER, Add(*power, evaluate=False), lhs=MDiff(e))
            return [
                _Term(t.c, (*self.power(m, i), *t.left), (*t.right, *self.power(m, k - 1 - i)), t.t)
                for i in range(k)
                for t in self.matrix(m)
            ]
        if isinstance(e, Add):
            out = []
            for a in e.args:
                if self.is_scalar(a):
                    if self.depends(a):
                        raise self.refuse(e, "scalar_added")
                    continue
                out += self.matrix(a)
            return out
        if isinstance(e, Mul):
            scalars = [a for a in e.args if self.is_scalar(a)]
            others = [a for a in e.args if not self.is_scalar(a)]
            if len(others) != 1:
                raise self.refuse(e, "hadamard")
            if any(self.depends(s) for s in scalars):
                raise self.refuse(e, "scalar_times")
            c = Mul(*scalars)
            return [_Term(c * t.c, t.left, t.right, t.t) for t in self.matrix(others[0])]
        raise self.refuse(e, "elementwise")

    def power(self, m: Expr, i: int) -> tuple:
        return () if i == 0 else (m,) if i == 1 else (MPow(m, i),)

    def product(self, args) -> list[_Term]:
        out = []
        factors = [self.factors(a) for a in args]
        for i, a in enumerate(args):
            before = tuple(f for fs in factors[:i] for f in fs)
            after = tuple(f for fs in factors[i + 1 :] for f in fs)
            out += [_Term(t.c, (*before, *t.left), (*t.right, *after), t.t) for t in self.matrix(a)]
        return out

    # -- the differential of a scalar: terms c·tr(L·dW·R) -----------------------------------------
    def scalar(self, e: Expr) -> list[_Term]:
        if not self.depends(e):
            return []
        if e == self.wrt:
            return [_Term(Integer(1), (), ())]
        if isinstance(e, MTrace):
            return self.matrix(e.args[0])
        if isinstance(e, Det):
            m = e.args[0]
            self.rule(e, RULE_DET, e * MTrace(MatProd(Inv(m), MDiff(m))), lhs=MDiff(e))
            return [_Term(t.c * e, (Inv(m), *t.left), t.right, t.t) for t in self.matrix(m)]
        if isinstance(e, VDot):
            a, b = e.args
            left = [
                _Term(
                    t.c,
                    self.transpose(t.right),
                    (*self.transpose(t.left), *self.factors(b)),
                    not t.t,
                )
                for t in self.matrix(a)
            ]
            row = self.transpose(self.factors(a))
            return left + [_Term(t.c, (*row, *t.left), t.right, t.t) for t in self.matrix(b)]
        if isinstance(e, VSum):  # sum(v) = 𝟏ᵀv, and sum(M) = 𝟏ᵀM𝟏 for a matrix M
            n, m = shape_of(e.args[0], self.shapes)
            right = (Ones(m),) if m != 1 else ()
            return [
                _Term(t.c, (T(Ones(n)), *t.left), (*t.right, *right), t.t)
                for t in self.matrix(e.args[0])
            ]
        if isinstance(e, Norm):  # d‖v‖ = vᵀ·dv/‖v‖ (the Frobenius norm: tr(Vᵀ dV)/‖V‖)
            v = e.args[0]
            if shape_of(v, self.shapes)[1] != 1:
                raise self.refuse(e, "frobenius")
            row = self.transpose(self.factors(v))
            return [_Term(t.c / e, (*row, *t.left), t.right, t.t) for t in self.matrix(v)]
        if isinstance(e, Add):
            return [t for a in e.args for t in self.scalar(a)]
        if isinstance(e, Mul):
            out = []
            for i, a in enumerate(e.args):
                rest = Mul(*(e.args[:i] + e.args[i + 1 :]))
                out += [_Term(rest * t.c, t.left, t.right, t.t) for t in self.scalar(a)]
            return out
        if isinstance(e, Pow):
            base, k = e.args
            if self.depends(k):
                raise self.refuse(e, "varying_exponent")
            return [
                _Term(k * base ** (k - 1) * t.c, t.left, t.right, t.t) for t in self.scalar(base)
            ]
        if isinstance(e, _SCALAR_FUNCTIONS) and len(e.args) == 1:
            s = e.args[0]
            u = Dummy("u")
            slope = e.func(u).diff(u).subs(u, s)
            if isinstance(e, sympy.log) and isinstance(s, Det):
                m = s.args[0]
                self.rule(e, RULE_LOGDET, MTrace(MatProd(Inv(m), MDiff(m))), lhs=MDiff(e))
            else:
                self.rule(e, RULE_CHAIN, slope * MDiff(s), lhs=MDiff(e))
            return [_Term(slope * t.c, t.left, t.right, t.t) for t in self.scalar(s)]
        raise self.refuse(e, "function", name=type(e).__name__.lower())

    def rule(self, e: Expr, name: Rule, rhs: Expr, *, lhs: Expr) -> None:
        self.rules.setdefault(e, (name, lhs, rhs))


# -- tidying products ---------------------------------------------------------------------------
def _tidy(factors: tuple) -> tuple:
    """M·M⁻¹ and M⁻¹·M cancel, I drops out, and equal neighbours become a power (X·X = X²)."""
    out: list = []
    for f in factors:
        if isinstance(f, Ident):
            continue
        if out and (_inverse_pair(out[-1], f) or _inverse_pair(f, out[-1])):
            out.pop()
            continue
        out.append(f)
    merged: list = []
    for f in out:
        base, k = (f.args[0], int(f.args[1])) if isinstance(f, MPow) else (f, 1)
        if merged:
            pb, pk = (
                (merged[-1].args[0], int(merged[-1].args[1]))
                if isinstance(merged[-1], MPow)
                else (merged[-1], 1)
            )
            if pb == base and isinstance(base, (MatrixName, MatT, Inv)):
                merged[-1] = MPow(base, pk + k)
                continue
        merged.append(f)
    return tuple(merged)


def _inverse_pair(a: Expr, b: Expr) -> bool:
    return (
        isinstance(b, Inv)
        and b.args[0] == a
        or (
            isinstance(a, MatT)
            and isinstance(b, MatT)
            and isinstance(b.args[0], Inv)
            and b.args[0].args[0] == a.args[0]
        )
    )


def _product(factors: tuple, n: Expr) -> Expr:
    if not factors:
        return Ident(n)
    return factors[0] if len(factors) == 1 else MatProd(*factors)


def _d(wrt: Symbol, t: bool) -> Expr:
    return MatT(MDiff(wrt)) if t else MDiff(wrt)


def _traced(product: Expr, shapes: Shapes) -> Expr:
    """tr(P), or P itself when P is 1×1 (aᵀ·dX·b)."""
    return product if shape_of(product, shapes) == SCALAR else MTrace(product)


# -- the builder --------------------------------------------------------------------------------
def derive_differential(
    expr: Expr, wrt: Symbol, shapes: Shapes, *, output: Symbol, layout: str
) -> tuple[tuple[Step, ...], Expr]:
    """The steps and the result of ∂expr/∂wrt for a scalar ``expr`` by the differential."""
    expr = evaluate_shaped(expr, shapes)
    if shape_of(expr, shapes) != SCALAR or vector_valued(expr):
        raise UnsupportedError(Msg("err.differential.not_scalar"))
    if shape_of(wrt, shapes) == SCALAR:
        raise UnsupportedError(Msg("err.differential.scalar_wrt", wrt=str(wrt)))
    calc = _Differentials(wrt, shapes)
    terms = calc.scalar(expr)
    rows = shape_of(wrt, shapes)[0]
    taken = Add(
        *(t.c * _traced(_product((*t.left, _d(wrt, t.t), *t.right), rows), shapes) for t in terms)
    )
    take = DifferentialStep(
        of=output,
        wrt=wrt,
        stage="take",
        expr=expr,
        value=taken,
        rules=tuple(calc.rules.values()),
    )
    # tr(L·dW·R) = tr(R·L·dW); tr(L·dWᵀ·R) = tr(Lᵀ·Rᵀ·dW)
    collected: dict[tuple, Expr] = {}
    for t in terms:
        gt = (
            _tidy((*calc.transpose(t.left), *calc.transpose(t.right)))
            if t.t
            else _tidy((*t.right, *t.left))
        )
        collected[gt] = collected.get(gt, Integer(0)) + t.c
    collected = {k: sympy.factor_terms(v) for k, v in collected.items() if v != 0}
    moved = Add(
        *(c * _traced(_product((*gt, MDiff(wrt)), rows), shapes) for gt, c in collected.items())
    )
    cyclic = DifferentialStep(of=output, wrt=wrt, stage="cyclic", expr=taken, value=moved)
    grad = _merge((_tidy(calc.transpose(gt)), c) for gt, c in collected.items())
    steps: list[Step] = [take, cyclic]
    if wrt in calc.symmetric:  # (G + Gᵀ)/2, the gradient among symmetric matrices
        steps.append(Note(topic="symmetric", math=_sum(grad, rows), about=wrt))
        grad = _merge(
            [(g, c / 2) for g, c in grad.items()]
            + [(_tidy(calc.transpose(g)), c / 2) for g, c in grad.items()]
        )
    if layout == "numerator":
        grad = _merge((_tidy(calc.transpose(g)), c) for g, c in grad.items())
    value = _sum(grad, rows)
    if wrt in calc.symmetric:
        value = sympy.factor_terms(value)  # (a·bᵀ + b·aᵀ)/2
    else:  # a common factor taken out, as for any vector result: (S⁻¹ + S⁻ᵀ)·x
        value = _factored(value, shapes)
    steps.append(
        DifferentialStep(of=output, wrt=wrt, stage="read", expr=moved, value=value, layout=layout)
    )
    return tuple(steps), value


def _factored(value: Expr, shapes: Shapes) -> Expr:
    """``value`` with a factor common to its terms on the left or the right taken out
    (textbook's "factor"): x·S⁻¹·x by x is (S⁻¹ + S⁻ᵀ)·x, not S⁻¹·x + S⁻ᵀ·x."""
    from matcalc.engine.textbook import factor_only

    return factor_only(value, shapes)


def _merge(pairs) -> dict[tuple, Expr]:
    """(factors, coefficient) pairs with equal factors added; zero terms dropped."""
    out: dict[tuple, Expr] = {}
    for g, c in pairs:
        out[g] = out.get(g, Integer(0)) + c
    return {g: sympy.factor_terms(c) for g, c in out.items() if c != 0}


def _sum(terms: dict[tuple, Expr], rows: Expr) -> Expr:
    return Add(*(c * _product(g, rows) for g, c in terms.items()))
