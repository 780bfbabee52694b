"""The engine: turns a ``Problem`` into steps and a result.

- ``scalar``: one expression, one variable (the paper's §2–§4.5.2).
- ``vector_chain``: a vector of functions of one scalar (§4.5.3).
- ``vector``: expressions with declared vectors and matrices (§4–§6), with the
  same four steps (``chain``) on compact Jacobians.
- this module: gradients and Jacobians assembled from per-entry derivations
  (§3–§4), in numerator or denominator layout.

Add a new kind of problem by writing a builder that returns ``(steps, result)``
and choosing it in ``build``.
"""

from __future__ import annotations

from sympy import Expr, ImmutableMatrix, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.chain import derive_chain
from matcalc.engine.scalar import derive_scalar
from matcalc.engine.simplify import tidy
from matcalc.engine.vector import VectorCalculus, expand_dots
from matcalc.engine.vector_chain import derive_vector_chain, fits_vector_chain
from matcalc.errors import UnsupportedError
from matcalc.steps import Assemble, DerivativeName, Math, Part, Problem, Simplify, Step


def build(problem: Problem, deadline: Deadline = NEVER) -> tuple[tuple[Step, ...], Math]:
    """The steps and the result of ``problem`` (verification is added by the caller)."""
    if problem.order > 1:
        from matcalc.engine.higher import build_higher

        return build_higher(problem, deadline)
    taken = set().union(*(e.free_symbols for e in problem.exprs), problem.wrt)
    if problem.declarations:
        return _vector(problem, taken, deadline)
    if problem.kind == "derivative":
        (expr,), (wrt,) = problem.exprs, problem.wrt
        partial = bool(expr.free_symbols - {wrt})
        return derive_scalar(
            expr, wrt, output=problem.output, partial=partial, taken=taken, deadline=deadline
        )
    if problem.kind == "jacobian" and fits_vector_chain(problem.exprs, problem.wrt):
        return derive_vector_chain(problem.exprs, problem.wrt[0], taken=taken)
    return _assembled(problem, taken, deadline)


def row_names(problem: Problem) -> tuple[Symbol, ...]:
    """f for a gradient; f_1 … f_m (after the output letter) for a Jacobian's rows."""
    if len(problem.exprs) == 1:
        return (problem.output,)
    letter = problem.output.name
    return tuple(Symbol(f"{letter}_{i}", real=True) for i in range(1, len(problem.exprs) + 1))


def _assembled(
    problem: Problem, taken: set[Symbol], deadline: Deadline
) -> tuple[tuple[Step, ...], Math]:
    rows = row_names(problem)
    parts: list[Step] = []
    values: list[list[Expr]] = []
    for name, expr in zip(rows, problem.exprs):
        row = []
        for wrt in problem.wrt:
            steps, result = derive_scalar(
                expr, wrt, output=name, partial=True, taken=taken, deadline=deadline
            )
            parts.append(
                Part(
                    of=name,
                    expr=expr,
                    wrt=wrt,
                    steps=steps,
                    result=result,
                    explanation=f"∂{name}/∂{wrt}: every other variable is held constant.",
                )
            )
            row.append(result)
        values.append(row)
    matrix = ImmutableMatrix(values)
    entries = tuple(tuple(DerivativeName(of=r, wrt=w, partial=True) for w in problem.wrt) for r in rows)
    if problem.layout == "denominator":
        matrix = matrix.T
        entries = tuple(zip(*entries))
    shape = "{}×{}".format(*matrix.shape)
    what = "gradient" if problem.kind == "gradient" else "Jacobian"
    assemble = Assemble(
        of=problem.output,
        shape=shape,
        layout=problem.layout,
        entries=entries,
        value=matrix,
        explanation=f"Place the partial derivatives in the {shape} {what} ({problem.layout} layout).",
    )
    return (*parts, assemble), matrix


def _vector(
    problem: Problem, taken: set[Symbol], deadline: Deadline
) -> tuple[tuple[Step, ...], Math]:
    if len(problem.exprs) != 1:
        raise UnsupportedError("give one expression when it has vectors or matrices")
    shapes = {d.symbol: d for d in problem.declarations}
    calc = VectorCalculus(shapes, deadline)
    output = calc.name(problem.output, problem.exprs[0])
    parts: list[Step] = []
    results = []
    for wrt in problem.wrt:
        expr = expand_dots(problem.exprs[0], wrt)
        steps, result = derive_chain(expr, wrt, calc, output=output, partial=True, taken=taken)
        if problem.layout == "denominator":
            steps, result = _to_denominator(steps, calc.transpose(result), result, output, wrt)
        parts.append(Part(of=output, expr=problem.exprs[0], wrt=wrt, steps=steps, result=result))
        results.append(result)
    if len(parts) == 1:
        return parts[0].steps, results[0]
    return tuple(parts), ImmutableMatrix([results])


def _to_denominator(steps, transposed, result, output, wrt):
    transposed = tidy(transposed)
    step = Simplify(
        of=output,
        wrt=wrt,
        before=result,
        after=transposed,
        partial=True,
        explanation="Denominator layout: transpose the numerator-layout result.",
    )
    return (*steps, step), transposed
