"""Check a result against SymPy's own derivative before it is shown.

``verify(result, reference)`` returns a ``Verify`` step:

1. symbolic: the difference is 0 after evaluation, ``expand`` or ``cancel``
   (bounded: skipped on large expressions);
2. numeric: otherwise both sides are evaluated at seeded random points
   (x ∈ [-2, 2] \\ {0}, 15 digits, relative tolerance ``TOLERANCE``).  Every point
   agreeing gives True; any point disagreeing gives False; too few points where
   both sides are finite gives None (undecided).

Conventions: kinks (max, min, |x|) use 0 at the kink; SymPy's ``Heaviside`` uses
1/2 there.  Both are compared as ``Heaviside(z, 0)`` since they differ only on a
set of measure zero, and random points never land on it.
"""

from __future__ import annotations

import random

from sympy import Expr, Heaviside, MatrixBase, Max, Min, Symbol, cancel, count_ops, expand, nan, zoo
from sympy.core.function import AppliedUndef

from matcalc.engine.simplify import has_fraction
from matcalc.functions import rewrite_builtin
from matcalc.steps import Math, Verify

TOLERANCE = 1e-9
POINTS = 6
MAX_SYMBOLIC_OPS = 200


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
    for rewrite in rewrites:
        try:
            if rewrite(diff) == 0:
                return True
        except Exception:
            continue
    return False


def _numeric(result: Expr, reference: Expr, seed: int) -> tuple[bool | None, int]:
    """(status, points compared) from evaluation at random points."""
    symbols = sorted(result.free_symbols | reference.free_symbols, key=str)
    if result.atoms(AppliedUndef) or reference.atoms(AppliedUndef):
        return None, 0
    rng = random.Random(seed)
    agreed = 0
    for _ in range(POINTS * 3):
        point = {s: _draw(rng) for s in symbols}
        a, b = _value(result, point), _value(reference, point)
        if a is None or b is None:
            continue
        if abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b)):
            return False, agreed + 1
        agreed += 1
        if agreed == POINTS:
            return True, agreed
    return (True if agreed >= 3 else None), agreed


def _draw(rng: random.Random):
    from sympy import Rational

    value = 0
    while abs(value) < 0.05:
        value = rng.uniform(-2, 2)
    return Rational(round(value * 1000), 1000)


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


def compare(result: Expr, reference: Expr, seed: int = 0) -> tuple[bool | None, str, int]:
    """(status, method, points) for one scalar entry."""
    result, reference = _normalise(result), _normalise(reference)
    if _symbolically_zero(result - reference):
        return True, "symbolic", 0
    status, points = _numeric(result, reference, seed)
    return status, "numeric", points


def verify(result: Math, reference: Math) -> Verify:
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
        status, method, n = compare(a, b, seed=k)
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
    """SymPy's Jacobian of the explicitly expanded components (numerator or denominator)."""
    from sympy import ImmutableMatrix, Matrix

    from matcalc.engine.simplify import evaluate
    from matcalc.linalg import components, explicit

    values = explicit(evaluate(expr), shapes, dims)
    comps = components(shapes, dims)
    variable = comps.get(wrt, ImmutableMatrix([[wrt]]))
    if variable.cols > 1 and isinstance(values, MatrixBase):  # a vector by vec(W), rows stacked
        jac = ImmutableMatrix(Matrix(values).jacobian(list(variable)))
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


def verify_explicit(expr, wrt, result, shapes, layout: str) -> Verify:
    """Verify a vector result by writing everything out at concrete sizes (n = 3, …)."""
    from sympy import ImmutableMatrix

    from matcalc.linalg import explicit

    dims = default_dims(shapes)
    reference = explicit_reference(expr, wrt, shapes, dims, layout)
    ours = explicit(result, shapes, dims)
    if not isinstance(ours, MatrixBase):
        ours = ImmutableMatrix([[ours]])
    check = verify(ours, reference)
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
