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

A Hessian-vector product H·v (``problem.hvp``) adds one step after the Hessian
(``HessianVector``): H times v, each term multiplied from the right (diag(a)·v = a ⊗ v,
(a·bᵀ)·v = a·(b·v), (XᵀDX)·v = Xᵀ(D(Xv))), so that the result never forms an n×n matrix.
"""

from __future__ import annotations

from dataclasses import replace

from sympy import Expr, ImmutableMatrix, Integer, Mul, Symbol
from sympy.core.function import AppliedUndef

from matcalc.deadline import NEVER, Deadline
from matcalc.errors import UnsupportedError
from matcalc.msg import Msg
from matcalc.steps import HessianVector, Math, Problem, Stage, Step

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
    from matcalc.linalg import Diag, MatProd, MatVec, Ones, shape_of

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
    from sympy import preorder_traversal

    from matcalc.engine.differential import MATRIX_FUNCTIONS

    if any(isinstance(e, MATRIX_FUNCTIONS) for e in preorder_traversal(problem.exprs[0])):
        # the gradient would be a vector with inv, det or a power: no Jacobian of that
        raise UnsupportedError(Msg("err.higher.matrix_functions"))
    output = problem.output
    first = replace(problem, order=1, layout="denominator")
    steps, gradient = build(first, deadline)
    deadline.check()

    def as_column(product: Math) -> Math:  # M·v with v a column: the matrix-vector product
        args = product.args
        if shape_of(args[-1], shapes)[1] != 1 or isinstance(args[-1], Ones):
            return product
        if len(args) > 2 and shape_of(args[0], shapes)[0] == 1:
            return product  # a row first: a number, not a column
        # A·B·v is A·(B·v): xᵀAᵀA + (AᵀAx)ᵀ as a column has Aᵀ·A·x, which the walk
        # refused as a product of matrices ("the derivative of MatProd")
        column = args[-1]
        for factor in reversed(args[:-1]):
            # diag(a)·v is a ⊗ v: a MatVec of diag(a) was refused in stage 2 ("the
            # derivative of Diag"), as in the Hessian of tanh(Ax)ᵀ·A·tanh(Ax)
            column = (
                Mul(factor.args[0], column) if isinstance(factor, Diag) else MatVec(factor, column)
            )
        return column

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
            layout="denominator" if problem.layout != "denominator" else "",
        )
    ]
    name = Symbol("g", real=True) if Symbol("g") not in shapes else Symbol("g_", real=True)
    from matcalc.symbols import VectorName

    name = VectorName(name.name, real=True)
    # a symmetric S is a constant here (x is the variable): the gradient's Jacobian by x
    # takes the chain rule, as for any matrix; the differential method, which the symmetric
    # S calls for as a variable, has no Jacobian of a vector (2Sx by x).  The check still
    # writes S out with s_ij = s_ji (``verify_hessian``, from ``problem``'s declarations)
    sub = replace(
        problem,
        text=(str(column),),
        exprs=(column,),
        kind="jacobian",
        output=name,
        order=1,
        declarations=tuple(replace(d, symmetric=False) for d in problem.declarations),
    )
    steps, hessian = build(sub, deadline)
    from matcalc.engine.textbook import textbook

    hessian = textbook(hessian, shapes)[0]  # again: A + Aᵀ, as textbooks write it
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
    if problem.hvp is not None:
        deadline.check()
        step = hessian_vector(output, hessian, problem.hvp, shapes)
        return (*stages, step), step.result
    return tuple(stages), hessian


HVP_RULES = ("diag", "outer", "product", "identity")
"""The rules of ``times_vector``, in the order a step lists them."""


def hessian_vector(output: Symbol, hessian: Math, v: Symbol, shapes) -> HessianVector:
    """The step H·v: ``hessian`` times ``v`` term by term from the right, never forming an
    n×n matrix, then put in textbook form."""
    from matcalc.engine.textbook import textbook
    from matcalc.engine.vector import same_dots

    used: set[str] = set()
    value = same_dots(times_vector(hessian, v, shapes, used))
    result, rewrites = textbook(value, shapes)
    # the printers show softmax(z) as it is, and H·v's terms stay as the rules gave them
    # (s ⊗ v − s(s·v), not (v − s·v) ⊗ s)
    if set(rewrites) <= {"softmax", "order", "elementwise"}:
        result, rewrites = value, ()
    return HessianVector(
        of=output,
        vector=v,
        hessian=hessian,
        value=value,
        result=result,
        rules=tuple(r for r in HVP_RULES if r in used),
        rewrites=rewrites,
    )


def times_vector(matrix: Math, u: Math, shapes, used: set[str]) -> Math:
    """``matrix``·``u`` with every product taken from the right, so that each factor meets a
    vector (or a number) and no matrix product is formed: a sum term by term, scalars
    outside, diag(a)·u = a ⊗ u, bᵀ·u = b·u (a number), a·c = c·a for a column a and a
    number c, A·u = Au for any other matrix; ``used`` collects the rules applied."""
    from sympy import Add, Mul

    from matcalc.linalg import SCALAR, Diag, Ident, MatProd, MatVec, T, VDot, shape_of

    if matrix == 0:
        return Integer(0)
    if isinstance(matrix, Add):
        return Add(*(times_vector(t, u, shapes, used) for t in matrix.args))
    if isinstance(matrix, Mul):
        scalars = [a for a in matrix.args if shape_of(a, shapes) == SCALAR]
        rest = [a for a in matrix.args if shape_of(a, shapes) != SCALAR]
        if len(rest) == 1:
            return Mul(*scalars) * times_vector(rest[0], u, shapes, used)
        if shape_of(u, shapes) == SCALAR:  # a column (a ⊗ b) after a row: (a ⊗ b)·(c·u)
            used.add("outer")
            return Mul(*scalars) * Mul(Mul(*rest), u, evaluate=False)
        return Mul(*scalars) * MatVec(Mul(*rest), u)
    if isinstance(matrix, MatProd):
        used.add("product")
        for factor in reversed(matrix.args):
            u = times_vector(factor, u, shapes, used)
        return u
    if shape_of(u, shapes) == SCALAR:  # a column after a row: a·(b·u)
        used.add("outer")
        return Mul(matrix, u, evaluate=False)  # a·(b·u), in the order written
    if isinstance(matrix, Diag):
        used.add("diag")
        return Mul(matrix.args[0], u, evaluate=False)  # a ⊗ u, in the order written
    if isinstance(matrix, Ident):
        used.add("identity")
        return u
    if isinstance(matrix, T):
        return VDot(matrix.args[0], u)
    return MatVec(matrix, u)
