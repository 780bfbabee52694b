"""Higher derivatives: each order is derived from the previous result with the same method.

``build_higher(problem)`` runs the engine once per order.  Order 1 is the problem itself;
order k differentiates the result of order k − 1 again (a ``Stage`` each, so a reader
sees the intermediate variables and rules of every stage).  With several scalar
variables, order 2 is the Hessian: stage 2 differentiates each entry y_x of the gradient
by every variable, and the matrix of second partials is assembled (it is symmetric,
as the mixed partials of a smooth function agree).

The Hessian of a scalar function of one vector x is the Jacobian of its gradient: stage 1
is the gradient, written as a column (denominator layout, ∇y = (∂y/∂x)ᵀ), and stage 2
differentiates that column by x with the vector chain rule, in the problem's layout (the
Hessian is symmetric, so both layouts give the same matrix).  Hessians by a matrix, by
several variables at once, or of order 3 and more with vectors are refused by name.
"""

from __future__ import annotations

from dataclasses import replace

from sympy import Expr, ImmutableMatrix, Symbol
from sympy.core.function import AppliedUndef

from matcalc.deadline import NEVER, Deadline
from matcalc.errors import UnsupportedError
from matcalc.msg import Msg
from matcalc.steps import Math, Problem, Stage, Step

MAX_ORDER = 10


def build_higher(problem: Problem, deadline: Deadline = NEVER) -> tuple[tuple[Step, ...], Math]:
    """The stages of an order-k derivative (or a Hessian) and its result."""
    from matcalc.engine import build

    order = problem.order
    if problem.declarations:
        return _vector_hessian(problem, deadline)
    if problem.kind == "jacobian":
        raise UnsupportedError(Msg("err.higher.one_expression"))
    if problem.kind == "gradient" and order > 2:
        raise UnsupportedError(Msg("err.higher.several"))
    if any(e.atoms(AppliedUndef) for e in problem.exprs):
        raise UnsupportedError(Msg("err.higher.unknown_function"))
    output = problem.output
    first = replace(problem, order=1)
    steps, result = build(first, deadline)
    partial = problem.kind != "derivative" or bool(problem.exprs[0].free_symbols - set(problem.wrt))
    stages: list[Step] = [
        Stage(
            of=output,
            wrt=problem.wrt,
            order=1,
            expr=problem.exprs[0],
            steps=steps,
            result=result,
            partial=partial,
        )
    ]
    if problem.kind == "derivative":
        (x,) = problem.wrt
        for k in range(2, order + 1):
            deadline.check()
            previous = result
            name = Symbol(output.name + "'" * (k - 1), real=True)  # y' = dy/dx, y'' …
            sub = replace(
                problem,
                text=(str(previous),),
                exprs=(previous,),
                kind="derivative",
                output=name,
                order=1,
            )
            steps, result = build(sub, deadline)
            stages.append(
                Stage(
                    of=output,
                    wrt=(x,) * k,
                    order=k,
                    expr=previous,
                    steps=steps,
                    result=result,
                    partial=partial,
                    names=(name,),
                )
            )
        return tuple(stages), result
    # the Hessian: the gradient of each entry of the gradient
    gradient = list(result)
    rows: list[list[Expr]] = []
    parts: list[Step] = []
    names: list[Symbol] = []
    for x_j, g in zip(problem.wrt, gradient):
        deadline.check()
        name = Symbol(f"{output.name}_{x_j.name}", real=True)
        names.append(name)
        sub = replace(problem, text=(str(g),), exprs=(g,), output=name, order=1, layout="numerator")
        steps, row = build(sub, deadline)
        parts.extend(steps)
        rows.append(list(row))
    hessian = ImmutableMatrix(rows)
    stages.append(
        Stage(
            of=output,
            wrt=problem.wrt,
            order=2,
            expr=result,
            steps=tuple(parts),
            result=hessian,
            partial=True,
            hessian=True,
            names=tuple(names),
        )
    )
    return tuple(stages), hessian


def _vector_hessian(problem: Problem, deadline: Deadline) -> tuple[tuple[Step, ...], Math]:
    from matcalc.engine import build
    from matcalc.linalg import MatProd, MatVec, Ones, shape_of

    shapes = {d.symbol: d for d in problem.declarations}
    if problem.order > 2:
        raise UnsupportedError(Msg("err.higher.vectors"))
    if len(problem.wrt) != 1 or len(problem.exprs) != 1:
        raise UnsupportedError(Msg("err.higher.one_variable"))
    (x,) = problem.wrt
    rows, cols = shape_of(problem.exprs[0], shapes)
    if (rows, cols) != (1, 1):
        raise UnsupportedError(Msg("err.higher.scalar"))
    if x in shapes and not shapes[x].is_vector:
        raise UnsupportedError(Msg("err.higher.matrix"))
    output = problem.output
    first = replace(problem, order=1, layout="denominator")
    steps, gradient = build(first, deadline)
    deadline.check()

    def as_column(product: Math) -> Math:  # M·v with v a column: the matrix-vector product
        args = product.args
        if len(args) == 2 and shape_of(args[1], shapes)[1] == 1 and not isinstance(args[1], Ones):
            return MatVec(*args)
        return product

    column = gradient.replace(lambda e: isinstance(e, MatProd), as_column)
    stages: list[Step] = [
        Stage(
            of=output,
            wrt=(x,),
            order=1,
            expr=problem.exprs[0],
            steps=steps,
            result=gradient,
            partial=True,
        )
    ]
    name = Symbol("g", real=True) if Symbol("g") not in shapes else Symbol("g_", real=True)
    from matcalc.symbols import VectorName

    name = VectorName(name.name, real=True)
    sub = replace(
        problem, text=(str(column),), exprs=(column,), kind="jacobian", output=name, order=1
    )
    steps, hessian = build(sub, deadline)  # in textbook form: its Simplify step applied it
    stages.append(
        Stage(
            of=output,
            wrt=(x,),
            order=2,
            expr=gradient,
            steps=steps,
            result=hessian,
            partial=True,
            hessian=True,
            names=(name,),
        )
    )
    return tuple(stages), hessian
