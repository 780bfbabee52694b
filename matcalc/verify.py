"""Check a result against SymPy's own derivative before it is shown.

``verify(result, reference)`` returns a ``Verify`` step:

1. symbolic: the difference is 0 after evaluation, ``expand`` or ``cancel``
   (bounded: skipped on large expressions);
2. numeric: otherwise both sides are evaluated at seeded random points
   (each variable drawn from [-2, 2] with |x| ≥ 0.05, on a grid of 0.001, as 30-digit
   floats; compared at 15 digits with relative tolerance ``TOLERANCE`` = 1e-9).  Up to
   ``POINTS * 3`` points are tried, skipping those where either side is not a finite
   number (a pole, ln of 0) or larger than 1e12.  ``POINTS`` agreeing (or at least 3)
   gives True; any point disagreeing gives False; fewer than 3 gives None (undecided,
   shown as "not verified").  Results with undefined functions (f(x)) are only ever
   checked symbolically: they are True or None, never False.

Points are floats, not rationals: with exact numbers SymPy's automatic evaluation (a
Heaviside deciding the sign of a nested radical) can take unbounded time.  A
``deadline`` is checked between points.

Conventions: complex values are compared as SymPy computes them (principal branches:
ln(-2) = ln 2 + iπ), so ln of a negative number is no error.  |·|, max, min, sign and the
step 1[z > 0] are functions of a real argument: a point where one of their arguments is
not real (|√x| at x < 0), or is at the kink (within 1e-9), is skipped like a pole.
Kinks (max, min, |x|) use 0 at the kink; SymPy's ``Heaviside`` uses
1/2 there.  Both are compared as ``Heaviside(z, 0)`` since they differ only on a
set of measure zero, and random points never land on it.
"""

from __future__ import annotations

import random

from sympy import (
    Abs,
    Expr,
    Float,
    Heaviside,
    MatrixBase,
    Max,
    Min,
    Rational,
    Symbol,
    cancel,
    count_ops,
    expand,
    factor_terms,
    nan,
    sign,
    zoo,
)
from sympy.core.function import AppliedUndef

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.simplify import (
    CANCEL_TERMS,
    EXPAND_TERMS,
    bounded,
    expansion_terms,
    fraction_terms,
    has_fraction,
)
from matcalc.functions import rewrite_builtin
from matcalc.steps import Math, Verify

TOLERANCE = 1e-9
"""Relative tolerance of the numeric check, and the distance from a kink that counts as on it."""
POINTS = 6
MAX_SYMBOLIC_OPS = 200
_KINKS = (Abs, Heaviside, Max, Min, sign)


def _normalise(expr: Expr) -> Expr:
    expr = rewrite_builtin(expr)
    if expr.has(Heaviside):
        expr = expr.replace(
            lambda e: isinstance(e, Heaviside) and e.args[1:] != (0,),
            lambda e: Heaviside(e.args[0], 0),
        )
    return expr


def _symbolically_zero(diff: Expr) -> bool:
    if diff == 0:
        return True
    if count_ops(diff) > MAX_SYMBOLIC_OPS:
        return False
    # cancel only helps with rational functions; with kinks the numeric check decides
    rewrites = (expand, cancel) if has_fraction(diff) and not diff.has(Heaviside, Max, Min) else (expand,)
    if expansion_terms(diff) > EXPAND_TERMS:  # too big to multiply out in time
        rewrites = (factor_terms,)  # common factors only: p^99·q^99·(… − …) is still seen as 0
    for rewrite in rewrites:
        if rewrite is cancel and fraction_terms(diff) > CANCEL_TERMS:
            continue
        try:
            if bounded(rewrite, diff) == 0:
                return True
        except Exception:
            continue
    return False


def _numeric(
    result: Expr, reference: Expr, seed: int, deadline: Deadline = NEVER
) -> tuple[bool | None, int]:
    """(status, points compared) from evaluation at random points."""
    symbols = sorted(result.free_symbols | reference.free_symbols, key=str)
    if result.atoms(AppliedUndef) or reference.atoms(AppliedUndef):
        return None, 0
    kinks = result.atoms(*_KINKS) | reference.atoms(*_KINKS)
    rng = random.Random(seed)
    agreed = 0
    for _ in range(POINTS * 3):
        deadline.check()
        point = {s: _draw(rng) for s in symbols}
        if not all(_regular(kink, point) for kink in kinks):
            continue
        a, b = _value(result, point), _value(reference, point)
        if a is None or b is None:
            continue
        if abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b)):
            return False, agreed + 1
        agreed += 1
        if agreed == POINTS:
            return True, agreed
    return (True if agreed >= 3 else None), agreed


def _regular(kink: Expr, point: dict[Symbol, Expr]) -> bool:
    """True when the kink function's arguments are real at ``point`` and off the kink."""
    values = [_value(arg, point) for arg in kink.args[:1 if isinstance(kink, Heaviside) else None]]
    if any(v is None or abs(v.imag) > TOLERANCE * max(1.0, abs(v)) for v in values):
        return False
    reals = [v.real for v in values]
    if isinstance(kink, (Max, Min)):  # the kink is where two arguments meet
        reals = [p - q for i, p in enumerate(reals) for q in reals[i + 1 :]]
    return all(abs(v) > TOLERANCE for v in reals)


def _draw(rng: random.Random) -> Float:
    value = 0.0
    while abs(value) < 0.05:
        value = rng.uniform(-2, 2)
    return Float(Rational(round(value * 1000), 1000), 30)


def _value(expr: Expr, point: dict[Symbol, Expr]) -> complex | None:
    try:
        value = expr.xreplace(point).evalf(15)
    except Exception:
        return None
    if value.has(nan, zoo) or value.free_symbols or not value.is_number:
        return None
    try:
        number = complex(value)
    except TypeError:
        return None
    if number != number or abs(number) > 1e12:
        return None
    return number


def compare(
    result: Expr, reference: Expr, seed: int = 0, deadline: Deadline = NEVER
) -> tuple[bool | None, str, int]:
    """(status, method, points) for one scalar entry."""
    result, reference = _normalise(result), _normalise(reference)
    if _symbolically_zero(result - reference):
        return True, "symbolic", 0
    status, points = _numeric(result, reference, seed, deadline)
    return status, "numeric", points


def verify(result: Math, reference: Math, deadline: Deadline = NEVER) -> Verify:
    """Compare ``result`` with SymPy's ``reference`` entry by entry."""
    if isinstance(result, MatrixBase) != isinstance(reference, MatrixBase):
        return Verify(status=False, method="shape", reference=reference, detail="shapes differ")
    if isinstance(result, MatrixBase):
        if result.shape != reference.shape:
            return Verify(status=False, method="shape", reference=reference, detail="shapes differ")
        pairs = list(zip(result, reference))
    else:
        pairs = [(result, reference)]
    statuses, methods, points = [], set(), 0
    for k, (a, b) in enumerate(pairs):
        status, method, n = compare(a, b, seed=k, deadline=deadline)
        statuses.append(status)
        methods.add(method)
        points = max(points, n)
        if status is False:
            break
    if False in statuses:
        overall: bool | None = False
    elif None in statuses:
        overall = None
    else:
        overall = True
    method = "numeric" if "numeric" in methods else "symbolic"
    return Verify(
        status=overall,
        method=method,
        reference=reference,
        points=points,
        explanation=_explain(overall, method, points),
    )


def _explain(status: bool | None, method: str, points: int) -> str:
    if status is None:
        return "Not verified: SymPy could not decide whether the result equals its derivative."
    if status is False:
        return "NOT VERIFIED: the result differs from SymPy's derivative. This is a bug."
    if method == "numeric":
        return f"Verified: equal to SymPy's derivative at {points} random points."
    return "Verified: equal to SymPy's derivative (symbolic check)."


def default_dims(shapes) -> dict[Symbol, int]:
    """Concrete sizes for the explicit check: n = 3, N = 2, any other size 4, 5, …

    Different sizes for different symbols catch a transposed result.
    """
    preferred = {"n": 3, "N": 2, "m": 4, "k": 5}
    sizes = sorted(
        {s for d in shapes.values() for s in (d.rows, d.cols) if isinstance(s, Symbol)}, key=str
    )
    out, spare = {}, iter(range(4, 100))
    for s in sizes:
        out[s] = preferred.get(s.name) or next(spare)
    return out


def explicit_reference(expr, wrt, shapes, dims, layout: str):
    """SymPy's Jacobian of the explicitly expanded components (numerator or denominator).

    ``wrt`` is one variable, or a tuple of several: then the Jacobian is taken by all their
    components together, in order (a vector's entries, a matrix's with its rows stacked, a
    scalar itself), and every output component is a row (a column in denominator layout).
    The reference is built from the input alone, never from the engine's result.
    """
    from sympy import ImmutableMatrix, Matrix

    from matcalc.linalg import components, evaluate_shaped, explicit, shape_of

    values = explicit(evaluate_shaped(expr, shapes), shapes, dims)
    if isinstance(values, MatrixBase) and values.shape == (1, 1):  # a vector of length 1: a scalar
        values = values[0, 0]
    rows, cols = shape_of(expr, shapes)
    if cols == 1 and rows != 1 and not isinstance(values, MatrixBase):  # w - w: the zero vector
        values = ImmutableMatrix.ones(int(rows.subs(dims)), 1) * values
    comps = components(shapes, dims)
    several = isinstance(wrt, tuple)
    variables = [comps.get(w, ImmutableMatrix([[w]])) for w in (wrt if several else (wrt,))]
    outputs = list(values) if isinstance(values, MatrixBase) else [values]
    if several:
        wrt_list = [entry for v in variables for entry in v]  # row-major: rows stacked
        jac = ImmutableMatrix(Matrix(outputs).jacobian(wrt_list))
        return jac.T if layout == "denominator" else jac
    (variable,) = variables
    if variable.cols > 1 and isinstance(values, MatrixBase):  # a vector by vec(W), rows stacked
        jac = ImmutableMatrix(Matrix(outputs).jacobian(list(variable)))
        return jac.T if layout == "denominator" else jac
    if variable.cols > 1:  # a matrix variable: a scalar's gradient, entry by entry
        grid = ImmutableMatrix(variable.rows, variable.cols, lambda i, j: values.diff(variable[i, j]))
        return grid.T if layout == "numerator" else grid
    wrt_list = list(variable)
    if isinstance(values, MatrixBase):
        jac = ImmutableMatrix(Matrix(values).jacobian(wrt_list))
    else:
        jac = ImmutableMatrix([[values.diff(w) for w in wrt_list]])
    return jac.T if layout == "denominator" else jac


def verify_explicit(expr, wrt, result, shapes, layout: str, deadline: Deadline = NEVER) -> Verify:
    """Verify a vector result by writing everything out at concrete sizes (n = 3, …).

    ``wrt`` is one variable or a tuple of several; ``result`` is the whole result as shown
    (a block row or column for several variables), written out as one flat matrix and
    compared entry by entry, shape included, with ``explicit_reference``.
    """
    from matcalc.engine.layout import explicit_value

    dims = default_dims(shapes)
    reference = explicit_reference(expr, wrt, shapes, dims, layout)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    ours = explicit_value(expr, wrts, layout, result, shapes, dims)
    check = verify(ours, reference, deadline)
    sizes = ", ".join(f"{s} = {v}" for s, v in dims.items())
    detail = f"explicit components at {sizes}" if sizes else "explicit components"
    return Verify(
        status=check.status,
        method=check.method,
        reference=reference,
        points=check.points,
        detail=detail,
        sizes=tuple(dims.items()),
        explanation=check.explanation.rstrip(".") + f", on {detail}.",
    )


def verify_hessian(expr, wrt, result, shapes, deadline: Deadline = NEVER) -> Verify:
    """A Hessian by a vector against ``sympy.hessian`` of the explicit components, at two
    sizes (n = 3 and n = 4, …), never against the engine's own gradient."""
    from sympy import ImmutableMatrix, hessian

    from matcalc.linalg import components, evaluate_shaped, explicit

    first = default_dims(shapes)
    checks, last = [], None
    for dims in (first, {s: v + 1 for s, v in first.items()}):
        deadline.check()
        values = explicit(evaluate_shaped(expr, shapes), shapes, dims)
        if isinstance(values, MatrixBase):
            values = values[0]
        variable = list(components(shapes, dims)[wrt])
        reference = ImmutableMatrix(hessian(values, variable))
        ours = explicit(result, shapes, dims)
        if not isinstance(ours, MatrixBase):
            ours = ImmutableMatrix.zeros(*reference.shape) if ours == 0 else ImmutableMatrix([[ours]])
        checks.append(verify(ImmutableMatrix(ours), reference, deadline))
        last = (dims, reference)
        if checks[-1].status is not True:
            break
    statuses = [c.status for c in checks]
    status = False if False in statuses else None if None in statuses else True
    method = "numeric" if any(c.method == "numeric" for c in checks) else "symbolic"
    dims, reference = last
    sizes = "; ".join(", ".join(f"{s} = {v}" for s, v in d.items()) for d in (first,))
    detail = f"sympy.hessian of explicit components at {sizes} and one size larger"
    return Verify(
        status=status,
        method=method,
        reference=reference,
        points=max(c.points for c in checks),
        detail=detail,
        sizes=tuple(first.items()),
        hessian=True,
        explanation=checks[-1].explanation.rstrip(".") + f", on {detail}.",
    )
