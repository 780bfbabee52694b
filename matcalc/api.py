"""``derive``: the Python entry point, used by the CLI and by documents.

It parses (text only ever goes through ``matcalc.parse``), works out what is
asked (derivative, gradient or Jacobian), lets the engine build the steps, and
has ``matcalc.verify.check`` verify the result before returning it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from sympy import (
    Abs,
    Expr,
    Max,
    Min,
    Pow,
    S,
    Symbol,
    preorder_traversal,
    sign,
)
from sympy.calculus.accumulationbounds import AccumBounds
from sympy.core.function import AppliedUndef

from matcalc import verify
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
from matcalc.linalg.declarations import declare
from matcalc.linalg.shapes import is_scalar
from matcalc.msg import Msg
from matcalc.parse import parse
from matcalc.parse.functions import declare_functions, real_argument
from matcalc.parse.source import Written, ascii_names, halfwidth, written
from matcalc.problem import LAYOUTS
from matcalc.steps import Explicit, Note, Problem, Verify
from matcalc.symbols import names_used, output_name
from matcalc.verify import (
    not_real_somewhere,
    substitute_functions,
    substituted_domain,
    substitutions,
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
    hvp: str | Symbol | None = None,
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
    ``hvp="v"`` (a declared vector as long as the one vector variable) gives the
    Hessian-vector product H·v: the Hessian, then H times v taken from the right, so that
    the result never forms an n×n matrix (``order`` is then 2).
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
                _derive(
                    expr, wrt, vectors, matrices, layout, limits, deadline, functions, order, hvp
                ),
                skipped,
            )
        except MatcalcError:
            raise
        except RecursionError as error:
            raise LimitError(Msg("err.api.too_deep")) from error
        except MemoryError as error:
            raise LimitError(Msg("err.api.out_of_memory")) from error
        except Exception as error:
            name = type(error).__name__
            raise InternalError(Msg("err.api.internal", name=name)) from error


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
        raise LimitError(Msg("err.api.too_many_exprs", count=exprs, limit=MAX_ITEMS))
    if names > MAX_ITEMS:
        raise LimitError(Msg("err.api.too_many_wrt", count=names, limit=MAX_ITEMS))


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
        explanation=Msg("explain.note.simplify_cut", rewrites=", ".join(skipped)),
    )
    return replace(derivation, steps=(*steps[:at], note, *steps[at:]))


def _derive(
    expr, wrt, vectors, matrices, layout, limits, deadline, functions=(), order=1, hvp=None
) -> Derivation:
    if layout not in LAYOUTS:
        raise UsageError(Msg("err.api.layout", layout=repr(layout)))
    from matcalc.engine.higher import MAX_ORDER

    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise UsageError(Msg("err.api.order", limit=MAX_ORDER))
    shapes = declare(vectors, matrices)
    texts, typed, said = _expressions(expr, limits, shapes, functions)
    wrt, order, named = _as_written(said, wrt, order)
    evaluated = tuple(_check_defined(e) for e in typed)  # reused by the check
    exprs = tuple(_modulus_of_powers(e) for e in typed)
    # d/dy x² (written, not --wrt): y is meant, and the derivative is 0, with a note
    meant = any(w.wrt is not None for w in said)
    variables = _variables(wrt, exprs, shapes, texts, meant=meant)
    _check_function_names(exprs, variables)
    _check_entry_names(exprs, variables, shapes)
    vector = None
    if hvp is not None:
        vector = _hvp_vector(hvp, variables, shapes, order)
        order = 2
    taken = names_used(exprs) | set(variables)
    if named and named in {str(s) for s in taken} | _function_names(exprs):
        raise UsageError(Msg("err.equation", left=named))  # y = x·y: not a definition
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
        output=Symbol(named, real=True) if named else output_name(taken),
        declarations=tuple(shapes.values()),
        order=order,
        hvp=vector,
    )
    if not shapes:
        _refuse_complex_arguments(exprs, deadline)
    steps, result = build(problem, deadline)
    if result.has(S.NaN, S.ComplexInfinity):  # (x - x)^x: ln(x - x) in a step, zoo·0^x
        raise MathError(Msg("err.api.undefined_result"))
    rewritten = tuple(
        Note(topic="modulus_of_power", math=e) for t, e in zip(typed, exprs) if t != e
    )
    notes = (
        *_precedence_notes(texts),
        *(() if shapes else _power_t_notes(texts)),
        *_run_together_notes(exprs, variables),
    )
    steps = (*_unused_notes(problem), *notes, *rewritten, *steps)
    deadline.check()
    check = verify.check(problem, result, deadline, inputs=typed, evaluated=evaluated)
    # a numeric check compared at points of the real domain: only a symbolic one asks
    if check.method == "symbolic" and not _real_somewhere(typed, shapes, deadline):
        steps = (*steps, Note(topic="nowhere_real"))
    return Derivation(problem=problem, steps=(*steps, check), result=result)


def _real_somewhere(exprs, shapes, deadline: Deadline) -> bool:
    """Whether the input is real somewhere (``verify.real_somewhere``); with vectors, its
    explicit components (matrix functions, inv, det, logdet, say where they are real
    themselves)."""
    if not shapes:
        return verify.real_somewhere(exprs, deadline)
    from matcalc.engine.differential import uses_differential

    if any(uses_differential(e, shapes) for e in exprs):
        return True
    return verify.components_real_somewhere(exprs, shapes, deadline)


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
        raise UnsupportedError(Msg("err.api.abs_not_real", u=TextPrinter().doprint(u)))


def _complex_arguments(exprs, deadline: Deadline) -> tuple[Expr, ...]:
    """The arguments of |·| and sign in ``exprs`` that are not real at some point where the
    expressions are (√x in |√x|, ln x in |ln x|); with unknown functions, for one of the
    concrete functions the check substitutes."""
    choices, concrete = [], []
    for choice in substitutions(exprs) if any(e.atoms(AppliedUndef) for e in exprs) else [{}]:
        try:
            concrete.append(substituted_domain(exprs, choice) if choice else exprs)
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


def _expressions(
    expr, limits: Limits, shapes, functions=()
) -> tuple[tuple[str, ...], tuple[Expr, ...], tuple[Written, ...]]:
    """The texts of the expressions (without a d/dx or y = written before them), the
    expressions parsed, and what was written before each (``source.written``)."""
    items = [expr] if isinstance(expr, (str, Expr)) else list(expr)
    if not items:
        raise UsageError(Msg("err.api.no_expression"))
    functions = declare_functions(functions, shapes)
    texts, exprs, said = [], [], []
    for item in items:
        if isinstance(item, str):
            item = halfwidth(item)  # （x＋1）＾２ as (x+1)^2, for the notes on the text too
            before = written(item) if len(item) <= limits.max_length else Written()
            said.append(before)
            texts.append(item[before.skip :].strip() if before.skip else item)
            exprs.append(
                parse(
                    item,
                    limits=limits,
                    shapes=shapes or None,
                    functions=functions,
                    skip=before.skip,
                )
            )
        elif isinstance(item, Expr):
            _check_tree(item, limits)
            texts.append(str(item))
            exprs.append(item)
        else:
            raise UsageError(Msg("err.api.type", type=type(item).__name__))
    return tuple(texts), tuple(exprs), tuple(said)


def _as_written(said: Sequence[Written], wrt, order: int) -> tuple[object, int, str | None]:
    """(wrt, order, the result's name) with what the expressions say before them: d/dx
    sin(x) is by x, d²/dx² of order 2, y = x² names the result y.  What they say must agree
    with each other and with ``wrt`` and ``order`` where those are given."""
    variables = {w.wrt for w in said if w.wrt is not None}
    orders = {w.order for w in said if w.order}  # a definition (y = x²) writes no order
    names = {w.output for w in said if w.output is not None}
    if len(variables) > 1 or len(orders) > 1 or len(names) > 1:
        raise UsageError(Msg("err.api.written_disagree"))
    if variables:
        (said_wrt,) = variables
        if wrt is None:
            wrt = said_wrt
        else:
            given = wrt if isinstance(wrt, str) else ",".join(map(str, _listed(wrt)))
            if ascii_names(given.replace(" ", "")) != said_wrt:
                raise UsageError(Msg("err.api.written_wrt", said=said_wrt, given=given))
    if orders:
        (said_order,) = orders
        if order not in (1, said_order):
            raise UsageError(Msg("err.api.written_order", said=said_order, given=order))
        order = said_order
    return wrt, order, next(iter(names), None)


def _function_names(exprs) -> set[str]:
    return {f.func.__name__ for e in exprs for f in e.atoms(AppliedUndef)}


def _listed(wrt) -> list:
    return [wrt] if isinstance(wrt, Symbol) else list(wrt)


# AccumBounds: SymPy's value for atan(log(0)), an interval standing in for a limit
UNDEFINED = (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity, AccumBounds)


def _check_defined(expr: Expr) -> Expr:
    """Refuse an expression that is undefined as typed: 1/0, csc(0), ln(0), max(I, x);
    return it evaluated.

    SymPy would go on with ``zoo`` (and call the derivative of x + 1/0 zero), or fail
    deep inside the engine when max or min meets a number that is not real.
    """
    try:
        value = evaluate(expr, _refuse_undefined)
    except (TypeError, ValueError) as error:  # SymPy's Max/Min: "... is not comparable"
        if expr.has(Max, Min):
            msg = Msg("err.api.max_real")
            raise MathError(msg) from error
        # atan2(0, atan2(0, 0)): SymPy cannot compare the undefined inner value
        raise MathError(Msg("err.api.undefined")) from error
    if value.has(*UNDEFINED):
        msg = Msg("err.api.undefined")
        raise MathError(msg)
    for node in preorder_traversal(expr):  # as typed: SymPy rewrites |x + i| as a square root
        if isinstance(node, (Abs, Max, Min)) and not all(map(real_argument, node.args)):
            msg = (
                Msg("err.api.abs_real")
                if isinstance(node, Abs)
                else Msg("err.api.max_min_real", name=type(node).__name__.lower())
            )
            raise MathError(msg)
    return value


def _refuse_undefined(node) -> None:
    """A node of the input, as evaluated, that is undefined as typed even if the whole would
    absorb it: in atan(ln y)/(√2/(1 - 1)) the part √2/0 is 1/0, and SymPy's a/∞ = 0 would
    have let the whole through (zoo·x is absorbed one level up, by 1/(zoo·x) = 0)."""
    for part in (node, *node.args):
        if part is _ZOO or part is _NAN or isinstance(part, AccumBounds):
            raise MathError(Msg("err.api.undefined"))


_ZOO, _NAN = S.ComplexInfinity, S.NaN


def _check_function_names(exprs: tuple[Expr, ...], variables: tuple[Symbol, ...]) -> None:
    """One name, one meaning: f may not be a function in one expression (or the parser would
    have refused it) and a variable in another, or the variable to differentiate by."""
    functions = {f.func.__name__ for e in exprs for f in e.atoms(AppliedUndef)}
    symbols = set().union(*(e.free_symbols for e in exprs), variables)
    clash = sorted(s.name for s in symbols if s.name in functions)
    if clash:
        raise UsageError(Msg("err.api.clash", name=clash[0]))


def _check_entry_names(exprs: tuple[Expr, ...], variables: tuple[Symbol, ...], shapes) -> None:
    """Refuse the names the components of declared vectors and matrices take.

    The check writes a vector x out as x_1, x_2, … and a matrix X as X_11, X_12, …, and a
    size (n) as a number: a scalar called x_1 beside a vector x became x's first entry
    there (x_1 + w·x by x was "NOT VERIFIED — this is a bug"), and a derivative by the
    size n was compared with one by the number 3.
    """
    if not shapes:
        return
    sizes = {
        str(size): str(d.symbol)
        for d in shapes.values()
        for size in (d.rows, d.cols)
        if isinstance(size, Symbol)
    }
    for variable in variables:
        if str(variable) in sizes and variable not in shapes:
            raise UsageError(
                Msg("err.api.wrt_size", name=str(variable), owner=sizes[str(variable)])
            )
    declared = {str(s) for s in shapes}
    for symbol in sorted(set().union(*(e.free_symbols for e in exprs)), key=str):
        stem, _, digits = str(symbol).rpartition("_")
        if stem in declared and digits.isdigit() and symbol not in shapes:
            raise UsageError(Msg("err.api.entry_name", name=str(symbol), owner=stem))


def _check_tree(expr: Expr, limits: Limits) -> None:
    """Apply the parser's size and depth limits to a SymPy expression passed in directly."""
    stack, nodes = [(expr, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > limits.max_depth:
            raise LimitError(Msg("err.nested", depth=limits.max_depth))
        if nodes > limits.max_nodes:
            raise LimitError(Msg("err.api.too_many_nodes", nodes=limits.max_nodes))
        stack.extend((a, depth + 1) for a in node.args)


_LIKELY = ("x", "t", "w", "W", "z", "theta", "θ", "y")
"""The names a textbook or a course differentiates by, most likely first: the example an
error gives for a*x**2 + b*x + c is --wrt x, not --wrt a."""


def _likely_variable(free: Sequence[Symbol]) -> Symbol:
    by_name = {s.name: s for s in free}
    return next((by_name[n] for n in _LIKELY if n in by_name), free[0])


def _variables(
    wrt, exprs: tuple[Expr, ...], shapes=None, texts: Sequence[str] = (), meant: bool = False
) -> tuple[Symbol, ...]:
    """The variables of ``wrt`` (default: the one free symbol).  A name that is not in the
    expressions is a slip and refused, unless the text writes it (``meant``: d/dy x², f(x, y)
    = x²), or the expressions are constants (d/dx 5): then its derivative is 0."""
    free = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    if wrt is None:
        if len(free) == 1:
            return (free[0],)
        if not free:
            raise UsageError(Msg("err.api.no_variable"))
        names = ", ".join(str(s) for s in free)
        raise UsageError(Msg("err.api.several", names=names, first=_likely_variable(free)))
    items = (
        wrt.split(",") if isinstance(wrt, str) else [wrt] if isinstance(wrt, Symbol) else list(wrt)
    )
    items = [
        part
        for item in items
        for part in (halfwidth(item).split(",") if isinstance(item, str) else [item])
    ]
    # a declared vector or matrix keeps its shape even where the expression does not use it
    by_name = {**{str(s): s for s in shapes or ()}, **{str(s): s for s in free}}
    # a name typed in the expression but cancelled out of it (x - x + y) is still a variable
    written = {m for t in texts for m in _WRITTEN.findall(ascii_names(t))} - _CONSTANTS
    # an unknown function's name (f in f(x)) is left to _check_function_names, which says so
    written |= _function_names(exprs)
    out: list[Symbol] = []
    for item in items:
        name = ascii_names(str(item).strip())  # --wrt ω is omega, as in the expression
        if not _NAME.match(name):
            raise UsageError(Msg("err.api.wrt_name", name=repr(name)))
        # a constant (5, π², e^π) has no variable to mistype: its derivative by any name
        # is 0, the constant rule, as d/dx 5 asks
        if name not in by_name and name not in written and (by_name or written) and not meant:
            raise UsageError(_not_in_expression(name, sorted(by_name)))
        symbol = by_name.get(name, Symbol(name, real=True))
        if symbol in out:
            raise UsageError(Msg("err.api.wrt_twice", name=name))
        out.append(symbol)
    return tuple(out)


def _not_in_expression(name: str, known: list[str]) -> Msg:
    """--wrt names a variable the expression neither uses nor declares: a slip, with a hint."""
    run = [k for k in known if _few_letters(k) and name in k]
    if len(name) == 1 and run:  # ax + b by x: ax is one name
        return Msg("err.api.wrt_run_together", name=name, run=run[0], product="*".join(run[0]))
    same = [k for k in known if k.lower() == name.lower()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return Msg("err.api.wrt_close", name=name, close=close[0])
    if known:
        return Msg("err.api.wrt_known", name=name, known=", ".join(known))
    return Msg("err.api.wrt_none", name=name)


def _hvp_vector(name, variables: tuple[Symbol, ...], shapes, order: int) -> Symbol:
    """The vector v of a Hessian-vector product H·v: a declared vector other than the one
    vector variable, of the same length."""
    if order not in (1, 2):
        raise UsageError(Msg("err.hvp.order"))
    text = str(name).strip()
    vector = next((s for s in shapes if str(s) == text), None)
    if vector is None or not shapes[vector].is_vector:
        raise UsageError(Msg("err.hvp.vector", name=text))
    if len(variables) != 1 or variables[0] not in shapes or not shapes[variables[0]].is_vector:
        raise UsageError(Msg("err.hvp.variable"))
    (x,) = variables
    if vector == x:
        raise UsageError(Msg("err.hvp.same", name=text))
    if shapes[vector].rows != shapes[x].rows:
        raise UsageError(
            Msg("err.hvp.length", v=text, x=str(x), a=shapes[vector].rows, b=shapes[x].rows)
        )
    return vector


_POWER_FRACTION = re.compile(r"(\^|\*\*)\s*(1)\s*/\s*(\d+)")


def _precedence_notes(texts: Sequence[str]) -> tuple[Note, ...]:
    """A Note where ``x^1/2`` was typed: it is (x^1)/2, as Python reads it, and whoever
    types a power 1 means x^(1/2) (x^2/2 is left alone: x²/2 is what most mean)."""
    notes = []
    for text in texts:
        for match in _POWER_FRACTION.finditer(text):
            op, p, q = match.groups()
            msg = Msg("explain.note.power_fraction", typed=match.group(), op=op, p=p, q=q)
            notes.append(Note(topic="power_fraction", explanation=msg))
    return tuple(notes[:1])


_POWER_T = re.compile(r"(?:\^|\*\*)\s*T(?![\w(])")


def _power_t_notes(texts: Sequence[str]) -> tuple[Note, ...]:
    """A Note where x^T was typed with nothing declared: it is x to the power of a variable
    T, and whoever means the transpose must declare x a vector (then x^T is xᵀ)."""
    for text in texts:
        match = _POWER_T.search(text)
        if match is not None:
            msg = Msg("explain.note.power_t", typed=match.group().strip())
            return (Note(topic="power_t", explanation=msg),)
    return ()


def _few_letters(name: str) -> bool:
    """A name of 2 to 4 Latin letters, such as xy or ax: a product typed without its *?"""
    return 2 <= len(name) <= 4 and name.isascii() and name.isalpha()


def _run_together_notes(exprs, variables) -> tuple[Note, ...]:
    """A Note for a name of two or more letters in which a variable to differentiate by
    is one letter, as in x² + xy by x: xy is one variable (held constant), not x·y."""
    letters = {s.name for s in variables if len(s.name) == 1}
    names = sorted({s.name for e in exprs for s in e.free_symbols} - {s.name for s in variables})
    notes = []
    for name in names:
        if _few_letters(name) and letters & set(name):
            product = "*".join(name)
            msg = Msg("explain.note.run_together", name=name, product=product)
            notes.append(Note(topic="run_together", explanation=msg))
    return tuple(notes[:2])


def _unused_notes(problem: Problem) -> tuple[Note, ...]:
    """A Note for each variable the expression does not depend on: its derivative is 0."""
    free = set().union(*(e.free_symbols for e in problem.exprs))
    return tuple(
        Note(
            topic="unused",
            math=symbol,
            explanation=Msg("explain.note.unused", name=symbol),
        )
        for symbol in problem.wrt
        if symbol not in free
    )
