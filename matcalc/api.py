"""``derive``: the Python entry point, used by the CLI and by documents.

It parses (text only ever goes through ``matcalc.parse``), works out what is
asked (derivative, gradient or Jacobian), lets the engine build the steps, and
checks the result against SymPy's own derivative before returning it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sympy import Abs, Expr, ImmutableMatrix, Matrix, Max, Min, S, Symbol, preorder_traversal, sign
from sympy.core.function import AppliedUndef

from matcalc.deadline import Deadline, Expired, alarm
from matcalc.derivation import Derivation
from matcalc.engine import build
from matcalc.engine.simplify import evaluate
from matcalc.errors import InternalError, LimitError, MatcalcError, MathError, UsageError
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.linalg import declare, is_scalar
from matcalc.parse import parse, real_argument
from matcalc.steps import Math, Note, Part, Problem, Verify
from matcalc.symbols import output_name
from matcalc.verify import (
    not_real_somewhere,
    substitute_functions,
    substitutions,
    verify,
    verify_by_substitution,
    verify_explicit,
)

LAYOUTS = ("numerator", "denominator")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def derive(
    expr: str | Expr | Sequence[str | Expr],
    wrt: str | Symbol | Iterable[str | Symbol] | None = None,
    *,
    vectors: str | Iterable[str] = (),
    matrices: str | Iterable[str] = (),
    layout: str = "numerator",
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
) -> Derivation:
    """Differentiate ``expr`` (text or SymPy) and show the work.

    - one expression, one variable: a derivative;
    - one expression, several variables (``wrt="x,y"``): a gradient, 1×n in
      numerator layout;
    - several expressions: a Jacobian, m×n in numerator layout.

    With ``wrt=None`` an expression with a single free symbol is differentiated
    by it.

    ``vectors=["w", "x", "y:N"]`` and ``matrices=["X:N,n"]`` declare names as
    vectors (length n unless given) and matrices (n×n unless given); every other
    name is a scalar.  ``timeout`` (seconds; default ``limits.timeout``, 10 s)
    bounds the whole derivation.  Raises ``MatcalcError`` subclasses for bad
    input, and ``LimitError`` for a limit or the timeout.
    """
    deadline = Deadline(limits.timeout if timeout is None else timeout)
    try:
        with alarm(deadline):
            return _derive(expr, wrt, vectors, matrices, layout, limits, deadline)
    except MatcalcError:
        raise
    except Expired:  # the alarm fired just as the block ended
        raise deadline.error() from None
    except RecursionError as error:
        raise LimitError("expression is too deeply nested to differentiate") from error
    except Exception as error:
        name = type(error).__name__
        raise InternalError(f"could not differentiate this expression ({name}); please report it") from error


def _derive(expr, wrt, vectors, matrices, layout, limits, deadline) -> Derivation:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: use numerator or denominator")
    shapes = declare(vectors, matrices)
    texts, exprs = _expressions(expr, limits, shapes)
    for e in exprs:
        _check_defined(e)
    variables = _variables(wrt, exprs, shapes)
    taken = set().union(*(e.free_symbols for e in exprs), variables)
    kind = "derivative" if len(exprs) == 1 and len(variables) == 1 else (
        "gradient" if len(exprs) == 1 and is_scalar(exprs[0], shapes) else "jacobian"
    )
    problem = Problem(
        text=texts,
        exprs=exprs,
        wrt=variables,
        kind=kind,
        layout=layout,
        output=output_name(taken),
        declarations=tuple(shapes.values()),
    )
    steps, result = build(problem, deadline)
    deadline.check()
    if shapes:
        checks = _verify_parts(problem, steps, result, shapes, deadline)
        return Derivation(problem=problem, steps=(*steps, *checks), result=result)
    notes, check = _verify_scalar(problem, result, deadline)
    return Derivation(problem=problem, steps=(*notes, *steps, check), result=result)


def _verify_scalar(problem: Problem, result, deadline: Deadline) -> tuple[tuple[Note, ...], Verify]:
    """Check a scalar problem against SymPy's derivative, on the input's own real domain.

    With unknown functions, concrete ones are substituted first (SymPy's own derivative
    of g(f(x), f(x)) is wrong).  Where the input takes |u| or sign(u) of a u that is not
    real everywhere the input is, the rule sign(u) holds only where u is real: a Note
    says so, and the check covers exactly that set.
    """
    exprs = problem.exprs
    unknown = any(e.atoms(AppliedUndef) for e in exprs)
    where = _complex_arguments(exprs, deadline)
    notes = tuple(
        Note(topic="real", math=u, explanation=(
            f"the rules d|u| = sign(u) du and d sign(u) = 0 hold where u is real, and {u} is "
            f"not real everywhere the expression is; the result holds where {u} is real, "
            "and it is checked there."))
        for u in where
    )
    if unknown:
        check = verify_by_substitution(
            result, lambda concrete: reference(problem, concrete), exprs, deadline,
            truths_of=lambda concrete: _truths(problem, concrete), where=where,
        )
    else:
        check = verify(result, reference(problem), deadline, domain=exprs, where=where,
                       truths=_truths(problem, exprs))
    return notes, check


def _complex_arguments(exprs, deadline: Deadline) -> tuple[Expr, ...]:
    """The arguments of |·| and sign in ``exprs`` that are not real at some point where the
    expressions are (√x in |√x|, ln x in |ln x|); with unknown functions, for one of the
    concrete functions the check substitutes."""
    choices = substitutions(exprs) if any(e.atoms(AppliedUndef) for e in exprs) else [{}]
    concrete = [[substitute_functions(e, c) for e in exprs] if c else exprs for c in choices]
    out: list[Expr] = []
    for e in exprs:
        for node in preorder_traversal(e):
            if isinstance(node, (Abs, sign)) and node.args[0] not in out:
                u = node.args[0]
                if u.is_extended_real is True:
                    continue
                if any(not_real_somewhere(substitute_functions(u, c) if c else u, domain, deadline)
                       for c, domain in zip(choices, concrete)):
                    out.append(u)
    return tuple(out)


def _truths(problem: Problem, exprs) -> list[tuple[Expr, Symbol]]:
    """(expression, variable) of each entry of the reference, in its order."""
    if problem.kind == "derivative":
        return [(exprs[0], problem.wrt[0])]
    pairs = [[(e, w) for w in problem.wrt] for e in exprs]
    if problem.layout == "denominator":
        pairs = [list(col) for col in zip(*pairs)]
    return [p for row in pairs for p in row]


def _verify_parts(problem: Problem, steps, result, shapes, deadline: Deadline):
    expr = problem.exprs[0]
    if len(problem.wrt) == 1:
        return (verify_explicit(expr, problem.wrt[0], result, shapes, problem.layout, deadline),)
    parts = [s for s in steps if isinstance(s, Part)]
    checks = [
        verify_explicit(expr, p.wrt, p.result, shapes, problem.layout, deadline) for p in parts
    ]
    statuses = [c.status for c in checks]
    status = False if False in statuses else None if None in statuses else True
    first = checks[0]
    return (
        Verify(
            status=status,
            method=first.method,
            reference=ImmutableMatrix([[c.reference for c in checks]]),
            points=first.points,
            detail=first.detail,
            explanation=" ".join(c.explanation for c in checks),
        ),
    )


def reference(problem: Problem, exprs=None) -> Math:
    """SymPy's own derivative of the problem (or of ``exprs`` in its place), in the
    problem's layout."""
    evaluated = [evaluate(e) for e in (problem.exprs if exprs is None else exprs)]
    if problem.kind == "derivative":
        return evaluated[0].diff(problem.wrt[0])
    jacobian = ImmutableMatrix(Matrix(evaluated).jacobian(list(problem.wrt)))
    return jacobian.T if problem.layout == "denominator" else jacobian


def _expressions(expr, limits: Limits, shapes) -> tuple[tuple[str, ...], tuple[Expr, ...]]:
    items = [expr] if isinstance(expr, (str, Expr)) else list(expr)
    if not items:
        raise UsageError("no expression given")
    texts, exprs = [], []
    for item in items:
        if isinstance(item, str):
            texts.append(item)
            exprs.append(parse(item, limits=limits, shapes=shapes) if shapes else parse(item, limits=limits))
        elif isinstance(item, Expr):
            _check_tree(item, limits)
            texts.append(str(item))
            exprs.append(item)
        else:
            raise UsageError(f"cannot differentiate a {type(item).__name__}; pass text or a SymPy expression")
    return tuple(texts), tuple(exprs)


UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)


def _check_defined(expr: Expr) -> None:
    """Refuse an expression that is undefined as typed: 1/0, csc(0), ln(0), max(I, x).

    SymPy would go on with ``zoo`` (and call the derivative of x + 1/0 zero), or fail
    deep inside the engine when max or min meets a number that is not real.
    """
    try:
        value = evaluate(expr)
    except (TypeError, ValueError) as error:  # SymPy's Max/Min: "... is not comparable"
        if expr.has(Max, Min):
            msg = "max and min need real arguments; one of them is not real, or undefined (1/0)"
            raise MathError(msg) from error
        raise
    if value.has(*UNDEFINED):
        msg = "the expression is undefined: it divides by zero or takes a pole (1/0, ln(0), csc(0))"
        raise MathError(msg)
    for node in preorder_traversal(expr):  # as typed: SymPy rewrites |x + i| as a square root
        if isinstance(node, (Abs, Max, Min)) and not all(map(real_argument, node.args)):
            what = "abs needs a real argument" if isinstance(node, Abs) else (
                f"{type(node).__name__.lower()} needs real arguments")
            msg = f"{what}; this one is not real (it involves sqrt(-1), as ln(-2) or acosh(0) do)"
            raise MathError(msg)


def _check_tree(expr: Expr, limits: Limits) -> None:
    """Apply the parser's size and depth limits to a SymPy expression passed in directly."""
    stack, nodes = [(expr, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > limits.max_depth:
            raise LimitError(f"expression is nested more than {limits.max_depth} levels deep")
        if nodes > limits.max_nodes:
            raise LimitError(f"expression is too large: more than {limits.max_nodes} nodes")
        stack.extend((a, depth + 1) for a in node.args)


def _variables(wrt, exprs: tuple[Expr, ...], shapes=None) -> tuple[Symbol, ...]:
    free = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    if wrt is None:
        if len(free) == 1:
            return (free[0],)
        if not free:
            raise UsageError("the expression has no variable; say which one with --wrt")
        names = ", ".join(str(s) for s in free)
        raise UsageError(f"the expression has several variables ({names}); choose with --wrt, e.g. --wrt {free[0]}")
    items = wrt.split(",") if isinstance(wrt, str) else [wrt] if isinstance(wrt, Symbol) else list(wrt)
    # a declared vector or matrix keeps its shape even where the expression does not use it
    by_name = {**{str(s): s for s in shapes or ()}, **{str(s): s for s in free}}
    out: list[Symbol] = []
    for item in items:
        name = str(item).strip()
        if not _NAME.match(name):
            raise UsageError(f"--wrt: {name!r} is not a variable name")
        symbol = by_name.get(name, Symbol(name, real=True))
        if symbol in out:
            raise UsageError(f"--wrt: {name} is listed twice")
        out.append(symbol)
    return tuple(out)
