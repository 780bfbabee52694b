"""The engine: turns a ``Problem`` into steps and a result.

- ``scalar``: one expression, one variable (the paper's §2–§4.5.2).
- ``vector_chain``: a vector of functions of one scalar (§4.5.3).
- ``vector``: expressions with declared vectors and matrices (§4–§6), with the
  same four steps (``chain``) on compact Jacobians.
- this module: gradients and Jacobians assembled from per-entry derivations
  (§3–§4), in numerator or denominator layout.
- ``layout``: every step in denominator layout, shapes, derivatives by vec(W), and
  results by several variables of different shapes assembled from blocks.

Add a new kind of problem by writing a builder that returns ``(steps, result)``
and choosing it in ``build``.
"""

from __future__ import annotations

from dataclasses import replace

from sympy import Expr, ImmutableMatrix, Integer, Symbol

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.chain import derive_chain
from matcalc.engine.layout import (
    Vec,
    annotate_shapes,
    assemble,
    assembled_shape,
    by_vec,
    jacobian_shape,
    relabel_by_vec,
    shape_text,
    to_denominator,
    vec_matrix_intermediates,
)
from matcalc.engine.scalar import derive_scalar
from matcalc.engine.vector import VectorCalculus, expand_dots
from matcalc.engine.vector_chain import derive_vector_chain, fits_vector_chain
from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR
from matcalc.linalg.declarations import MatrixName
from matcalc.linalg.shapes import shape_of
from matcalc.msg import Msg
from matcalc.steps import (
    Assemble,
    DerivativeName,
    Math,
    Note,
    Part,
    Problem,
    Shape,
    Stage,
    Step,
)
from matcalc.symbols import names_used


def build(problem: Problem, deadline: Deadline = NEVER) -> tuple[tuple[Step, ...], Math]:
    """The steps and the result of ``problem`` (verification is added by the caller)."""
    steps, result = _build(problem, deadline)
    return _notes_once(steps, set()), result


def _notes_once(steps: tuple[Step, ...], seen: set) -> tuple[Step, ...]:
    """Each note where it is first read: a second part or stage does not repeat it."""
    kept: list[Step] = []
    for step in steps:
        if isinstance(step, Note):
            key = (step.topic, step.explanation, step.math, step.about)
            if key in seen:
                continue
            seen.add(key)
        elif isinstance(step, (Part, Stage)):
            step = replace(step, steps=_notes_once(step.steps, seen))
        kept.append(step)
    return tuple(kept)


def _build(problem: Problem, deadline: Deadline) -> tuple[tuple[Step, ...], Math]:
    if problem.order > 1:
        from matcalc.engine.higher import build_higher

        return build_higher(problem, deadline)
    taken = names_used(problem.exprs) | set(problem.wrt)
    if problem.declarations:
        return _vector(problem, taken, deadline)
    if problem.kind == "derivative":
        (expr,), (wrt,) = problem.exprs, problem.wrt
        partial = bool(expr.free_symbols - {wrt})
        steps, result = derive_scalar(
            expr, wrt, output=problem.output, partial=partial, taken=taken, deadline=deadline
        )
        from matcalc.engine.textbook import order_only

        return steps, order_only(result)  # σ(z)(1 − σ(z)), as textbooks write it
    if problem.kind == "jacobian" and fits_vector_chain(problem.exprs, problem.wrt):
        return derive_vector_chain(
            problem.exprs, problem.wrt[0], taken=taken, layout=problem.layout
        )
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
                    explanation=Msg("explain.part.held", name=name, wrt=wrt),
                )
            )
            row.append(result)
        values.append(row)
    matrix = ImmutableMatrix(values)
    entries = tuple(
        tuple(DerivativeName(of=r, wrt=w, partial=True) for w in problem.wrt) for r in rows
    )
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
        explanation=Msg(
            "explain.assemble.entries",
            shape=shape,
            what=Msg(what.lower()),
            layout=Msg(problem.layout),
        ),
    )
    size = Shape(of=problem.output, rows=Integer(matrix.rows), cols=Integer(matrix.cols))
    return (*parts, assemble, size), matrix


def _vector(
    problem: Problem, taken: set[Symbol], deadline: Deadline
) -> tuple[tuple[Step, ...], Math]:
    if len(problem.exprs) != 1:
        raise UnsupportedError(Msg("err.engine.one_expression"))
    shapes = {d.symbol: d for d in problem.declarations}
    calc = VectorCalculus(shapes, deadline)
    expr = problem.exprs[0]
    output = calc.name(problem.output, expr)
    parts: list[Part] = []
    from matcalc.engine.differential import uses_differential

    if uses_differential(expr, calc.shapes):
        return _by_differential(problem, expr, output, calc)
    for wrt in problem.wrt:
        steps, result = derive_chain(
            expand_dots(expr, wrt), wrt, calc, output=output, partial=True, taken=taken
        )
        if problem.layout == "denominator":
            steps, result = to_denominator(steps, result, calc)
        if isinstance(wrt, MatrixName):
            if shape_of(expr, calc.shapes) == SCALAR:
                steps = by_vec(steps, result, wrt, problem.layout, calc)
            else:
                steps = relabel_by_vec(steps, wrt, problem.layout, calc)
        else:
            steps = vec_matrix_intermediates(steps, problem.layout, calc)
        steps = annotate_shapes(steps, calc.shapes, problem.layout)
        parts.append(Part(of=output, expr=expr, wrt=wrt, steps=steps, result=result))
    if len(parts) == 1:
        result = parts[0].result
        return (*parts[0].steps, _shape(problem, output, calc)), result
    reshapes, value = assemble(expr, parts, calc.shapes, problem.layout, calc)
    rows, cols = assembled_shape(expr, problem.wrt, calc.shapes, problem.layout)
    what = "gradient" if shape_of(expr, calc.shapes) == SCALAR else "Jacobian"
    placed = Assemble(
        of=output,
        shape=shape_text(rows, cols),
        layout=problem.layout,
        entries=tuple(
            (
                DerivativeName(
                    of=output, wrt=Vec(w) if isinstance(w, MatrixName) else w, partial=True
                ),
            )
            for w in problem.wrt
        ),
        value=value,
        size=(rows, cols),
        explanation=Msg(
            "explain.assemble.blocks", what=Msg(what.lower()), layout=Msg(problem.layout)
        ),
    )
    return (*parts, *reshapes, placed, _shape(problem, output, calc, (rows, cols))), value


def _by_differential(
    problem: Problem, expr: Expr, output: Symbol, calc: VectorCalculus
) -> tuple[tuple[Step, ...], Math]:
    """A scalar with inv, det, matrix_power or a symmetric matrix, by one variable: the
    differential method (``engine.differential``)."""
    from matcalc.engine.differential import derive_differential

    if len(problem.wrt) != 1:
        raise UnsupportedError(Msg("err.differential.one_variable"))
    (wrt,) = problem.wrt
    steps, result = derive_differential(
        expr, wrt, calc.shapes, output=output, layout=problem.layout
    )
    return (*steps, _shape(problem, output, calc)), result


def _shape(problem: Problem, output: Symbol, calc: VectorCalculus, shape=None) -> Shape:
    """The result's shape; for a scalar by one matrix, whether it is the matrix's shape."""
    expr, wrt = problem.exprs[0], problem.wrt
    if shape is None:
        shape = jacobian_shape(expr, wrt[0], calc.shapes, problem.layout)
    variable = like = vec = None
    if len(wrt) == 1 and isinstance(wrt[0], MatrixName):
        if shape_of(expr, calc.shapes) == SCALAR:
            variable = wrt[0]
            like = problem.layout == "denominator"  # by construction; W may be square
        else:
            vec = wrt[0]
    return Shape(
        of=output, rows=shape[0], cols=shape[1], variable=variable, like_variable=like, by_vec=vec
    )
