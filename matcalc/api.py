"""``derive``: the Python entry point, used by the CLI and by documents.

It parses (text only ever goes through ``matcalc.parse``), works out what is
asked (derivative, gradient or Jacobian), lets the engine build the steps, and
checks the result against SymPy's own derivative before returning it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sympy import (
    Abs,
    Expr,
    ImmutableMatrix,
    Matrix,
    Max,
    Min,
    Pow,
    S,
    Symbol,
    preorder_traversal,
    sign,
)
from sympy.core.function import AppliedUndef

from matcalc.deadline import Deadline, alarm
from matcalc.derivation import Derivation
from matcalc.engine import build
from matcalc.engine.simplify import budget, evaluate
from matcalc.errors import (
    InternalError,
    LimitError,
    MatcalcError,
    MathError,
    UnsupportedError,
    UsageError,
)
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.linalg import declare, is_scalar
from matcalc.parse import declare_functions, parse, real_argument
from matcalc.problem import LAYOUTS
from matcalc.steps import Explicit, Math, Note, Problem, Verify
from matcalc.symbols import names_used, output_name
from matcalc.verify import (
    not_real_somewhere,
    substitute_functions,
    substitutions,
    verify,
    verify_by_substitution,
    verify_explicit,
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# a name as typed in an expression: not an attribute (.T), not called (sin(...))
_WRITTEN = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\b(?!\s*\()")
_CONSTANTS = frozenset({"e", "E", "pi", "I", "oo"})


def derive(
    expr: str | Expr | Sequence[str | Expr],
    wrt: str | Symbol | Iterable[str | Symbol] | None = None,
    *,
    vectors: str | Iterable[str] = (),
    matrices: str | Iterable[str] = (),
    layout: str = "numerator",
    order: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
    functions: str | Iterable[str] = (),
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
    name is a scalar.  One-letter names called as functions (``f(g(x))``) are unknown
    functions; ``functions=["phi"]`` (or ``"phi,psi"``) declares longer names as such.
    ``order=k`` gives the k-th derivative, each order derived from the previous result
    with the same method; with several scalar variables ``order=2`` gives the Hessian.
    ``timeout`` (seconds; default ``limits.timeout``, 10 s)
    bounds the whole derivation.  Raises ``MatcalcError`` subclasses for bad
    input, and ``LimitError`` for a limit or the timeout.

    The time limit: a result is never returned after it (``LimitError`` instead).
    In the main thread of a Unix process a SIGALRM timer also interrupts a long
    SymPy call; it is disarmed when ``derive`` returns or raises, and the caller's
    own SIGALRM handler and ``alarm``/``setitimer`` timer are restored (a timer
    of the caller's that falls due meanwhile still reaches the caller's handler on
    time).  In any other thread no signal is used: the engine checks the clock
    between its steps and skips every rewrite whose cost it cannot bound, so the
    limit holds up to one SymPy call; ``derive`` cannot bound memory there, so run
    it in a subprocess with a memory limit (as the CLI does) to cap that too.
    """
    deadline = Deadline(limits.timeout if timeout is None else timeout)
    _check_counts(expr, wrt)
    with (
        alarm(deadline),
        budget() as skipped,
    ):  # disarmed on the way out, the caller's timer restored
        try:
            return _noted(
                _derive(expr, wrt, vectors, matrices, layout, limits, deadline, functions, order),
                skipped,
            )
        except MatcalcError:
            raise
        except RecursionError as error:
            raise LimitError("expression is too deeply nested to differentiate") from error
        except MemoryError as error:
            raise LimitError(
                "out of memory: the expression grew too large to differentiate"
            ) from error
        except Exception as error:
            name = type(error).__name__
            raise InternalError(
                f"could not differentiate this expression ({name}); please report it"
            ) from error


MAX_ITEMS = 200
"""Most expressions (rows of a Jacobian) and most variables to differentiate by."""


def _check_counts(expr, wrt) -> None:
    """Refuse a list too long to work through in time, before any work starts."""
    exprs = 1 if isinstance(expr, (str, Expr)) else len(expr) if isinstance(expr, Sequence) else 0
    names = (
        wrt.count(",") + 1
        if isinstance(wrt, str)
        else len(wrt)
        if isinstance(wrt, (list, tuple))
        else 0
    )
    if exprs > MAX_ITEMS:
        raise LimitError(f"too many expressions: {exprs}; at most {MAX_ITEMS}")
    if names > MAX_ITEMS:
        raise LimitError(f"--wrt lists {names} variables; at most {MAX_ITEMS}")


def _noted(derivation: Derivation, skipped: list[str]) -> Derivation:
    """The derivation with a Note, before its checks, when a simplification was cut short."""
    if not skipped:
        return derivation
    steps = list(derivation.steps)
    at = len(steps)
    while at and isinstance(steps[at - 1], (Verify, Explicit)):
        at -= 1
    note = Note(
        topic="simplify_cut",
        explanation=(
            "The result is not simplified as far as it might be: a rewrite "
            f"({', '.join(skipped)}) would have taken too long, so the form found so far is kept."
        ),
    )
    return replace(derivation, steps=(*steps[:at], note, *steps[at:]))


def _derive(
    expr, wrt, vectors, matrices, layout, limits, deadline, functions=(), order=1
) -> Derivation:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}: use {' or '.join(LAYOUTS)}")
    from matcalc.engine.higher import MAX_ORDER

    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise UsageError(f"the order must be a whole number from 1 to {MAX_ORDER}")
    shapes = declare(vectors, matrices)
    texts, typed = _expressions(expr, limits, shapes, functions)
    evaluated = tuple(_check_defined(e) for e in typed)  # reused by the check
    exprs = tuple(_modulus_of_powers(e) for e in typed)
    variables = _variables(wrt, exprs, shapes, texts)
    _check_function_names(exprs, variables)
    taken = names_used(exprs) | set(variables)
    kind = (
        "derivative"
        if len(exprs) == 1 and len(variables) == 1
        else ("gradient" if len(exprs) == 1 and is_scalar(exprs[0], shapes) else "jacobian")
    )
    problem = Problem(
        text=texts,
        exprs=exprs,
        wrt=variables,
        kind=kind,
        layout=layout,
        output=output_name(taken),
        declarations=tuple(shapes.values()),
        order=order,
    )
    if not shapes:
        _refuse_complex_arguments(exprs, deadline)
    steps, result = build(problem, deadline)
    rewritten = tuple(
        Note(topic="modulus_of_power", math=e) for t, e in zip(typed, exprs) if t != e
    )
    steps = (*_unused_notes(problem), *rewritten, *steps)
    deadline.check()
    if shapes:
        if problem.order == 2:
            from matcalc.verify import verify_hessian

            checks = (verify_hessian(problem.exprs[0], problem.wrt[0], result, shapes, deadline),)
        else:
            checks = _verify_parts(problem, steps, result, shapes, deadline)
        return Derivation(problem=problem, steps=(*steps, *checks), result=result)
    check = _verify_scalar(problem, typed, result, deadline, evaluated)
    return Derivation(problem=problem, steps=(*steps, check), result=result)


def _verify_scalar(problem: Problem, typed, result, deadline: Deadline, evaluated=None) -> Verify:
    """Check a scalar problem against SymPy's derivative of the input as typed (``typed``,
    before |a^p| was written |a|^p), on the input's own real domain.

    With unknown functions, concrete ones are substituted first (SymPy's own derivative
    of g(f(x), f(x)) is wrong).
    """
    if any(e.atoms(AppliedUndef) for e in typed):
        return verify_by_substitution(
            result,
            lambda concrete: reference(problem, concrete),
            typed,
            deadline,
            truths_of=lambda concrete: _truths(problem, concrete),
        )
    truth = reference(problem, typed, evaluated)
    return verify(result, truth, deadline, domain=typed, truths=_truths(problem, typed))


def _modulus_of_powers(expr: Expr) -> Expr:
    """|a^p| written |a|^p for a real exponent p: equal for every a, real or not, so that
    |√x|² = |x| is differentiated on the whole line (the rule d|u| = sign(u)·u′ needs a
    real u, and √x is not real for x < 0)."""
    from matcalc.engine.simplify import replace_unevaluated

    def is_power(e: Expr) -> bool:
        return (
            isinstance(e, Abs)
            and isinstance(e.args[0], Pow)
            and e.args[0].exp.is_number
            and e.args[0].exp.is_extended_real is True
        )

    def modulus(a: Expr) -> Expr:
        # |a^p| = |a|^p again for a power base; any other |a| stays as typed (SymPy's own
        # Abs(|x|^acos(x)) = |x|^re(acos(x)) would hide a complex argument from the check)
        if isinstance(a, Pow) and a.exp.is_number and a.exp.is_extended_real is True:
            return Pow(modulus(a.base), a.exp, evaluate=False)
        return Abs(a, evaluate=False)

    return replace_unevaluated(expr, is_power, lambda e: modulus(e.args[0]))


def _refuse_complex_arguments(exprs, deadline: Deadline) -> None:
    """Refuse |u| or sign(u) of a u that is not real everywhere the input is (ln x in
    |ln x| at x < 0): d|u| = sign(u)·u′ and d sign(u) = 0 hold for real u only, and a
    result that holds on part of the domain is not the derivative."""
    from matcalc.render.printing import TextPrinter

    for u in _complex_arguments(exprs, deadline):
        raise UnsupportedError(
            f"abs or sign of {TextPrinter().doprint(u)}, which is not real everywhere the expression is: the rule "
            f"d|u| = sign(u)·du holds only where u is real; write the argument so that it is "
            f"real wherever the expression is defined (for example with abs inside, as in "
            f"ln(abs(x)))"
        )


def _complex_arguments(exprs, deadline: Deadline) -> tuple[Expr, ...]:
    """The arguments of |·| and sign in ``exprs`` that are not real at some point where the
    expressions are (√x in |√x|, ln x in |ln x|); with unknown functions, for one of the
    concrete functions the check substitutes."""
    choices, concrete = [], []
    for choice in substitutions(exprs) if any(e.atoms(AppliedUndef) for e in exprs) else [{}]:
        try:
            concrete.append([substitute_functions(e, choice) for e in exprs] if choice else exprs)
            choices.append(choice)
        except (ArithmeticError, TypeError, ValueError):  # no real input with this choice
            continue
    out: list[Expr] = []
    for e in exprs:
        for node in preorder_traversal(e):
            if isinstance(node, (Abs, sign)) and node.args[0] not in out:
                u = node.args[0]
                if u.is_extended_real is True:
                    continue
                if any(
                    _not_real_somewhere(u, c, domain, deadline)
                    for c, domain in zip(choices, concrete)
                ):
                    out.append(u)
    return tuple(out)


def _not_real_somewhere(u: Expr, choice: dict, domain, deadline: Deadline) -> bool:
    try:
        u = substitute_functions(u, choice) if choice else u
    except (ArithmeticError, TypeError, ValueError):
        return False
    return not_real_somewhere(u, domain, deadline)


def _truths(problem: Problem, exprs) -> list[tuple[Expr, Symbol]] | None:
    """(expression, variable) of each entry of the reference, in its order (first
    derivatives only: the central difference that stands in for SymPy is of order 1)."""
    if problem.order != 1:
        return None
    if problem.kind == "derivative":
        return [(exprs[0], problem.wrt[0])]
    pairs = [[(e, w) for w in problem.wrt] for e in exprs]
    if problem.layout == "denominator":
        pairs = [list(col) for col in zip(*pairs)]
    return [p for row in pairs for p in row]


def _verify_parts(problem: Problem, steps, result, shapes, deadline: Deadline):
    """The assembled result, in its layout and shape, against the Jacobian of the input's
    components by all the variables' components together (a matrix's rows stacked)."""
    wrt = problem.wrt[0] if len(problem.wrt) == 1 else problem.wrt
    return (verify_explicit(problem.exprs[0], wrt, result, shapes, problem.layout, deadline),)


def reference(problem: Problem, exprs=None, evaluated=None) -> Math:
    """SymPy's own derivative of the problem (or of ``exprs`` in its place), in the
    problem's layout; ``evaluated``: those expressions already evaluated (``evaluate``)."""
    if evaluated is None:
        evaluated = [evaluate(e) for e in (problem.exprs if exprs is None else exprs)]
    if problem.kind == "derivative":
        return evaluated[0].diff(problem.wrt[0], problem.order)
    if problem.order == 2:  # the Hessian: SymPy's own, symmetric in either layout
        from sympy import hessian

        return ImmutableMatrix(hessian(evaluated[0], list(problem.wrt)))
    jacobian = ImmutableMatrix(Matrix(evaluated).jacobian(list(problem.wrt)))
    return jacobian.T if problem.layout == "denominator" else jacobian


def _expressions(
    expr, limits: Limits, shapes, functions=()
) -> tuple[tuple[str, ...], tuple[Expr, ...]]:
    items = [expr] if isinstance(expr, (str, Expr)) else list(expr)
    if not items:
        raise UsageError("no expression given")
    functions = declare_functions(functions, shapes)
    texts, exprs = [], []
    for item in items:
        if isinstance(item, str):
            texts.append(item)
            exprs.append(parse(item, limits=limits, shapes=shapes or None, functions=functions))
        elif isinstance(item, Expr):
            _check_tree(item, limits)
            texts.append(str(item))
            exprs.append(item)
        else:
            raise UsageError(
                f"cannot differentiate a {type(item).__name__}; pass text or a SymPy expression"
            )
    return tuple(texts), tuple(exprs)


UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity)


def _check_defined(expr: Expr) -> Expr:
    """Refuse an expression that is undefined as typed: 1/0, csc(0), ln(0), max(I, x);
    return it evaluated.

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
            what = (
                "abs needs a real argument"
                if isinstance(node, Abs)
                else (f"{type(node).__name__.lower()} needs real arguments")
            )
            msg = f"{what}; this one is not real (it involves sqrt(-1), as ln(-2) or acosh(0) do)"
            raise MathError(msg)
    return value


def _check_function_names(exprs: tuple[Expr, ...], variables: tuple[Symbol, ...]) -> None:
    """One name, one meaning: f may not be a function in one expression (or the parser would
    have refused it) and a variable in another, or the variable to differentiate by."""
    functions = {f.func.__name__ for e in exprs for f in e.atoms(AppliedUndef)}
    symbols = set().union(*(e.free_symbols for e in exprs), variables)
    clash = sorted(s.name for s in symbols if s.name in functions)
    if clash:
        raise UsageError(
            f"{clash[0]} is used both as a function and as a variable; give them different names"
        )


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


def _variables(
    wrt, exprs: tuple[Expr, ...], shapes=None, texts: Sequence[str] = ()
) -> tuple[Symbol, ...]:
    free = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    if wrt is None:
        if len(free) == 1:
            return (free[0],)
        if not free:
            raise UsageError("the expression has no variable; say which one with --wrt")
        names = ", ".join(str(s) for s in free)
        raise UsageError(
            f"the expression has several variables ({names}); choose with --wrt, e.g. --wrt {free[0]}"
        )
    items = (
        wrt.split(",") if isinstance(wrt, str) else [wrt] if isinstance(wrt, Symbol) else list(wrt)
    )
    items = [
        part for item in items for part in (item.split(",") if isinstance(item, str) else [item])
    ]
    # a declared vector or matrix keeps its shape even where the expression does not use it
    by_name = {**{str(s): s for s in shapes or ()}, **{str(s): s for s in free}}
    # a name typed in the expression but cancelled out of it (x - x + y) is still a variable
    written = {m for t in texts for m in _WRITTEN.findall(t)} - _CONSTANTS
    # an unknown function's name (f in f(x)) is left to _check_function_names, which says so
    written |= {f.func.__name__ for e in exprs for f in e.atoms(AppliedUndef)}
    out: list[Symbol] = []
    for item in items:
        name = str(item).strip()
        if not _NAME.match(name):
            raise UsageError(f"--wrt: {name!r} is not a variable name")
        if name not in by_name and name not in written:
            raise UsageError(_not_in_expression(name, sorted(by_name)))
        symbol = by_name.get(name, Symbol(name, real=True))
        if symbol in out:
            raise UsageError(f"--wrt: {name} is listed twice")
        out.append(symbol)
    return tuple(out)


def _not_in_expression(name: str, known: list[str]) -> str:
    """--wrt names a variable the expression neither uses nor declares: a slip, with a hint."""
    same = [k for k in known if k.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"--wrt: {name} is not in the expression; did you mean {close[0]}?"
    if known:
        return f"--wrt: {name} is not in the expression, whose variables are {', '.join(known)}"
    return f"--wrt: {name} is not in the expression, which has no variable"


def _unused_notes(problem: Problem) -> tuple[Note, ...]:
    """A Note for each variable the expression does not depend on: its derivative is 0."""
    free = set().union(*(e.free_symbols for e in problem.exprs))
    return tuple(
        Note(
            topic="unused",
            math=symbol,
            explanation=f"The expression does not depend on {symbol}, so the derivative "
            f"with respect to {symbol} is 0.",
        )
        for symbol in problem.wrt
        if symbol not in free
    )
