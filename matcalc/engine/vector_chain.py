"""The vector chain rule for a vector of functions of one scalar (§4.5.3).

For y = [ln(x²), sin(3x)] the paper introduces g = [x², 3x] and writes
y = f(g(x)); then ∂y/∂x = ∂f/∂g · ∂g/∂x, a product of Jacobians.  Because each
fᵢ depends on gᵢ alone, ∂f/∂g is diagonal.

A problem fits when every expression is an outer function of exactly one inner
subexpression of x (not x itself).
"""

from __future__ import annotations

import functools

from sympy import Expr, ImmutableMatrix, Integer, Symbol

from matcalc.engine.rules import depends, local_derivative, rule_for
from matcalc.engine.simplify import evaluate, reordered_only, substitute, tidy
from matcalc.msg import Msg
from matcalc.steps import (
    ChainRule,
    DerivativeName,
    Intermediate,
    LocalDerivative,
    Rule,
    Shape,
    Simplify,
    Step,
    Substitute,
)
from matcalc.symbols import VectorName


def _inner(expr: Expr, wrt: Symbol) -> Expr | None:
    varying = [a for a in expr.args if depends(a, wrt)]
    if len(varying) != 1 or varying[0] == wrt:
        return None
    return varying[0]


def fits_vector_chain(exprs: tuple[Expr, ...], wrt: tuple[Symbol, ...]) -> bool:
    if len(wrt) != 1 or len(exprs) < 2:
        return False
    return all(_inner(e, wrt[0]) is not None for e in exprs)


def _letter(taken: set[Symbol], preferred: str, fallback: str) -> str:
    names = {str(s) for s in taken}
    return (
        preferred
        if not any(n == preferred or n.startswith(preferred + "_") for n in names)
        else fallback
    )


def derive_vector_chain(
    exprs: tuple[Expr, ...], wrt: Symbol, *, taken: set[Symbol], layout: str = "numerator"
) -> tuple[tuple[Step, ...], ImmutableMatrix]:
    """Numerator layout: ∂y/∂x = ∂f/∂g · ∂g/∂x, an m×1 column.  Denominator layout: every
    Jacobian transposed and the product reversed, ∂y/∂x = ∂g/∂x · ∂f/∂g, a 1×m row."""
    g_letter = _letter(taken, "g", "v")
    y_letter = _letter(taken, "y", "f")
    g, y = VectorName(g_letter, real=True), VectorName(y_letter, real=True)
    components = [Symbol(f"{g_letter}_{i}", real=True) for i in range(1, len(exprs) + 1)]
    inners = [_inner(e, wrt) for e in exprs]
    outers = [substitute(e, {inner: c}) for e, inner, c in zip(exprs, inners, components)]
    g_def, f_def = ImmutableMatrix(inners), ImmutableMatrix(outers)
    dg = ImmutableMatrix([local_derivative(evaluate(i), wrt) for i in inners])
    evaluated = [evaluate(o) for o in outers]
    df = ImmutableMatrix([[local_derivative(o, c) for c in components] for o in evaluated])
    denominator = layout == "denominator"
    if denominator:
        dg, df = dg.T, df.T
    product = dg * df if denominator else df * dg
    m = len(exprs)
    g_shape, f_shape = ((1, m), (m, m)) if denominator else ((m, 1), (m, m))
    names = (DerivativeName(of=y, wrt=g, partial=True), DerivativeName(of=g, wrt=wrt, partial=True))
    steps: list[Step] = [
        Intermediate(
            name=g,
            definition=g_def,
            depends_on=(wrt,),
            explanation=Msg("explain.inner_vector", g=g, y=y, wrt=wrt),
        ),
        Intermediate(name=y, definition=f_def, depends_on=(g,), output=None),
        LocalDerivative(
            of=g,
            wrt=wrt,
            expr=g_def,
            value=dg,
            rule=Rule.named("each_component"),
            partial=True,
            shape=g_shape,
        ),
        LocalDerivative(
            of=y,
            wrt=g,
            expr=f_def,
            value=df,
            rule=Rule.named("diagonal_jacobian"),
            partial=True,
            explanation=Msg(
                "explain.rules",
                rules=functools.reduce(
                    Rule.and_clause, (rule_for(o, c) for o, c in zip(outers, components))
                ),
            ),
            shape=f_shape,
        ),
        ChainRule(
            of=y,
            wrt=wrt,
            factors=names[::-1] if denominator else names,
            factor_values=(dg, df) if denominator else (df, dg),
            value=product,
            partial=True,
            vector=True,
            shape=g_shape,
            explanation=Msg("explain.vector_chain_rule"),
        ),
    ]
    replace = dict(zip(components, inners))
    after = product.applyfunc(lambda v: substitute(v, replace))
    steps.append(
        Substitute(
            of=y,
            wrt=wrt,
            before=product,
            after=after,
            replacements=tuple(replace.items()),
            partial=True,
            explanation=Msg("explain.substitute.g"),
        )
    )
    result = tidy(after)
    if result != after and not reordered_only(after, result):
        steps.append(Simplify(of=y, wrt=wrt, before=after, after=result, partial=True))
    steps.append(Shape(of=y, rows=Integer(g_shape[0]), cols=Integer(g_shape[1])))
    return tuple(steps), result
