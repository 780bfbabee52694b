"""Bounded simplification that keeps the paper's form.

``tidy`` evaluates an unevaluated tree and then picks the smallest of a few cheap,
predictable rewrites (``factor_terms``, ``cancel``, ``together``).  It never calls
``simplify`` or ``trigsimp``: those are unbounded on big inputs and turn
cos/sin into cot or 1/tan, which is not how the paper writes a result.  Above
``MAX_OPS`` operations the evaluated form is returned as it is.
"""

from __future__ import annotations

from sympy import (
    Add,
    Basic,
    Derivative,
    MatrixBase,
    Mul,
    Subs,
    Symbol,
    cancel,
    count_ops,
    factor_terms,
    preorder_traversal,
    together,
)

from matcalc.functions import decide_gate

MAX_OPS = 120


def evaluate(expr):
    """Rebuild an unevaluated tree with SymPy's automatic evaluation on."""
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(evaluate)
    if not isinstance(expr, Basic) or not expr.args:
        return expr
    return decide_gate(expr.func(*(evaluate(a) for a in expr.args)))


def substitute(expr, mapping: dict):
    """``expr`` with ``mapping`` applied, keeping the tree unevaluated.

    (SymPy's ``evaluate(False)`` context manager clears SymPy's whole cache each
    time it is entered, which made every derivation several times slower.)
    """
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: substitute(e, mapping))
    if expr in mapping:
        return mapping[expr]
    if not isinstance(expr, Basic) or not expr.args:
        return expr
    if isinstance(expr, Derivative) and _needs_subs(expr, mapping):
        return _at_point(expr, mapping)
    return rebuild(expr, tuple(substitute(a, mapping) for a in expr.args))


def rebuild(expr, args: tuple):
    """``expr`` with new ``args``, unevaluated where SymPy allows it (the same object when
    nothing changed)."""
    if args == expr.args:
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


def replace_unevaluated(expr, query, value):
    """``expr.replace(query, value)`` that keeps the rest of the tree as it is.

    SymPy's ``replace`` rebuilds every parent with evaluation on, so x·s/x became s: a
    vector (x/x is 𝟏) turned into a scalar in the middle of a derivation.
    """
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: replace_unevaluated(e, query, value))
    if not isinstance(expr, Basic) or not expr.args:
        return value(expr) if isinstance(expr, Basic) and query(expr) else expr
    node = rebuild(expr, tuple(replace_unevaluated(a, query, value) for a in expr.args))
    return value(node) if query(node) else node


def _needs_subs(derivative: Derivative, mapping: dict) -> bool:
    """True when substituting into ∂f(u, …)/∂v would change what is differentiated.

    Derivative(f(u), u) with u = g(x) may become Derivative(f(g(x)), g(x)), f′ at g(x);
    but u = -x cannot be a variable of differentiation, and in ∂f(u, x)/∂x with u = -x
    the x inside u would be differentiated too.  Those are written Subs(∂f(u, x)/∂x, u, -x),
    and so is a function of several arguments differentiated by one that becomes f(x)
    (SymPy's d/df(x) g(f(x), x) is no notation for a reader).
    """
    variables = derivative.variables
    new = [mapping.get(v, v) for v in variables]
    if any(not getattr(n, "_diff_wrt", False) for n in new) or len(set(new)) < len(set(variables)):
        return True
    if any(not isinstance(n, Symbol) for n in new) and len(derivative.expr.args) > 1:
        return True  # ∂g(u, x)/∂u at u = f(x), not SymPy's d/df(x) g(f(x), x)
    others = [mapping[s] for s in derivative.expr.free_symbols
              if isinstance(s, Symbol) and s in mapping and s not in variables]
    return any(value.has(n) for value in others for n in new)


def _at_point(derivative: Derivative, mapping: dict) -> Subs:
    """Subs(∂f(u, …)/∂v, u, value): only the variables of differentiation, and the symbols
    whose values contain a free variable of differentiation, are bound; the other symbols
    are substituted in place.  (Binding them all made SymPy take Subs(∂f(u₁, u₂)/∂u₁, …)
    and Subs(∂f(u₁, u₂)/∂u₂, …) at equal points for equal: f(x + y, y + x) lost ∂₂f.)
    """
    variables = set(derivative.variables)
    free = [v for v in variables if v not in mapping]
    bound = sorted(
        (s for s in derivative.free_symbols if s in mapping
         and (s in variables or (free and mapping[s].has(*free)))),
        key=str,
    )
    rest = {s: mapping[s] for s in derivative.free_symbols if s in mapping and s not in bound}
    inner = Derivative(substitute(derivative.expr, rest), *derivative.variable_count)
    return Subs(inner, bound, [mapping[s] for s in bound])


def _size(expr) -> tuple[int, int]:
    return (count_ops(expr), len(str(expr)))


def has_fraction(expr) -> bool:
    """True when ``cancel``/``together`` might help: a sum meets a denominator."""
    for node in preorder_traversal(expr):
        if node.is_Pow and node.exp.is_negative and node.base.has(Add):
            return True
        if node.is_Add and any(a.is_Pow and a.exp.is_negative for a in Mul.make_args(node)):
            return True
        if node.is_Add and any(
            f.is_Pow and f.exp.is_negative for t in node.args for f in Mul.make_args(t)
        ):
            return True
    return False


def tidy(expr):
    """The evaluated expression, rewritten into its smallest cheap form."""
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(tidy)
    expr = evaluate(expr)
    if not expr.has(Add) or count_ops(expr) > MAX_OPS:
        return expr
    rewrites = (factor_terms, cancel, together) if has_fraction(expr) else (factor_terms,)
    best, best_size = expr, _size(expr)
    for rewrite in rewrites:
        try:
            candidate = rewrite(expr)
        except Exception:  # a rewrite that fails is simply not used
            continue
        size = _size(candidate)
        if size < best_size:
            best, best_size = candidate, size
    return best
