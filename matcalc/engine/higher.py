"""Higher derivatives: each order is derived from the previous result with the same method.

``build_higher(problem)`` runs the engine once per order.  Order 1 is the problem itself;
order k differentiates the result of order k − 1 again (a ``Stage`` each, so a reader
sees the intermediate variables and rules of every stage).  With several scalar
variables, order 2 is the Hessian: stage 2 differentiates each entry y_x of the gradient
by every variable, and the matrix of second partials is assembled (it is symmetric,
as the mixed partials of a smooth function agree).

Vector and matrix variables (the Hessian by a vector) are not supported here yet: they
are refused by name.
"""

from __future__ import annotations

from dataclasses import replace

from sympy import ImmutableMatrix, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.errors import UnsupportedError
from matcalc.steps import Math, Problem, Stage, Step

MAX_ORDER = 10


def build_higher(problem: Problem, deadline: Deadline = NEVER) -> tuple[tuple[Step, ...], Math]:
    """The stages of an order-k derivative (or a Hessian) and its result."""
    from matcalc.engine import build

    order = problem.order
    if problem.declarations:
        raise UnsupportedError(
            "derivatives of order 2 or more of expressions with vectors or matrices (a Hessian "
            "by a vector) are not supported yet; use scalar variables, e.g. wrt x,y"
        )
    if problem.kind == "jacobian":
        raise UnsupportedError("a derivative of order 2 or more needs one expression")
    if problem.kind == "gradient" and order > 2:
        raise UnsupportedError("with several variables the highest order is 2 (the Hessian)")
    output = problem.output
    first = replace(problem, order=1)
    steps, result = build(first, deadline)
    partial = problem.kind != "derivative" or bool(problem.exprs[0].free_symbols - set(problem.wrt))
    stages: list[Step] = [
        Stage(of=output, wrt=problem.wrt, order=1, expr=problem.exprs[0], steps=steps,
              result=result, partial=partial)
    ]
    if problem.kind == "derivative":
        (x,) = problem.wrt
        for k in range(2, order + 1):
            deadline.check()
            previous = result
            name = Symbol(output.name + "'" * (k - 1), real=True)  # y' = dy/dx, y'' …
            sub = replace(problem, text=(str(previous),), exprs=(previous,), kind="derivative",
                          output=name, order=1)
            steps, result = build(sub, deadline)
            stages.append(Stage(of=output, wrt=(x,) * k, order=k, expr=previous, steps=steps,
                                result=result, partial=partial, names=(name,)))
        return tuple(stages), result
    # the Hessian: the gradient of each entry of the gradient
    gradient = list(result)
    rows, parts, names = [], [], []
    for x_j, g in zip(problem.wrt, gradient):
        deadline.check()
        name = Symbol(f"{output.name}_{x_j.name}", real=True)
        names.append(name)
        sub = replace(problem, text=(str(g),), exprs=(g,), output=name, order=1,
                      layout="numerator")
        steps, row = build(sub, deadline)
        parts.extend(steps)
        rows.append(list(row))
    hessian = ImmutableMatrix(rows)
    stages.append(Stage(of=output, wrt=problem.wrt, order=2, expr=result, steps=tuple(parts),
                        result=hessian, partial=True, hessian=True, names=tuple(names)))
    return tuple(stages), hessian
