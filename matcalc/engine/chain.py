"""The paper's four steps, for any ``Calculus`` (scalar or vector).

1. Introduce intermediate variables for nested subexpressions (post-order, so
   u₁ is the innermost).  A subexpression that one named rule differentiates
   (x³, 3x²y, sin(x)) becomes a single intermediate and is not split further.
2. Differentiate each intermediate with respect to each of its own arguments.
3. Combine: the single-variable chain rule when the intermediates form one path
   from x to y, otherwise the total-derivative chain rule, one intermediate at a
   time (x + x², x·x², sin(x + x²)).
4. Substitute the definitions back, then simplify (bounded, see ``simplify``).

Expressions that need no intermediates (x³, 3x²y by x) are differentiated by
their named rule in one step.

What "differentiate", "multiply" and "add" mean is the ``Calculus``'s business:
``ScalarCalculus`` (``scalar.py``) uses ordinary derivatives; ``VectorCalculus``
(``vector.py``) uses compact Jacobians (diag(x), I, 1ᵀ, xᵀ, X) and multiplies
them in order.  The steps are the same, as the paper says of the chain rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sympy import Add, Expr, Max, Min, Mul, S, Symbol

from matcalc.engine.rules import Local, depends, has_kink
from matcalc.engine.simplify import evaluate, rebuild, replace_unevaluated, substitute
from matcalc.linalg.jacobians import MatProd
from matcalc.linalg.shapes import has_vectors
from matcalc.msg import Msg
from matcalc.steps import (
    ChainRule,
    Intermediate,
    LocalDerivative,
    Math,
    Note,
    PathTerm,
    Simplify,
    Step,
    Substitute,
    TotalDerivative,
)
from matcalc.symbols import intermediate_names


class Calculus(Protocol):
    """What the four steps need to know about the objects being differentiated."""

    def is_simple(self, expr: Expr, wrt: Symbol) -> bool:
        """True when one named rule differentiates ``expr`` (no intermediates needed)."""

    def differentiate(self, definition: Expr, wrt: Symbol) -> Local:
        """∂definition/∂wrt (a derivative, or a compact Jacobian) and the rule that gives it."""

    def product(self, factors: Sequence[Math]) -> Math:
        """The chain-rule product, outermost factor first."""

    def display_product(self, factors: Sequence[Math]) -> Math:
        """The same product, unevaluated, for showing the substitution."""

    def total(self, terms: Sequence[Math]) -> Math:
        """The sum of the paths' contributions."""

    def name(self, symbol: Symbol, definition: Expr) -> Symbol:
        """The symbol for an intermediate (bold for a vector), registering its shape."""

    def tidy(self, expr: Math) -> Math:
        """Evaluate and simplify (bounded)."""

    def present(self, expr: Math) -> Math:
        """A substituted expression written as the paper writes it (w·x for sum(w ⊗ x))."""


@dataclass(slots=True)
class _Graph:
    """Intermediates found by the walk: (definition, dependencies) in creation order."""

    wrt: Symbol
    calc: Calculus
    nodes: list[tuple[Expr, tuple[Expr, ...]]] = field(default_factory=list)
    index: dict[Expr, int] = field(default_factory=dict)


def _walk(node: Expr, graph: _Graph) -> Expr:
    """Return ``node`` with its x-dependent subexpressions replaced by placeholders."""
    if node == graph.wrt or not depends(node, graph.wrt):
        return node
    if node in graph.index:
        return _Placeholder(graph.index[node])
    if graph.calc.is_simple(node, graph.wrt):
        definition, deps = node, (graph.wrt,)
    else:
        args = tuple(_walk_arg(a, node, graph) for a in node.args)
        definition = node.func(*args, evaluate=False)
        deps = _collect_deps(definition, graph.wrt)
    graph.index[node] = len(graph.nodes)
    graph.nodes.append((definition, deps))
    return _Placeholder(len(graph.nodes) - 1)


def _walk_arg(arg: Expr, parent: Expr, graph: _Graph) -> Expr:
    """Walk one argument; a negated term of a sum stays inline (y − u, not u₂ = −u₁)."""
    if isinstance(parent, Add) and isinstance(arg, Mul) and len(arg.args) == 2:
        coeff, rest = arg.args
        if coeff == -1 and not graph.calc.is_simple(arg, graph.wrt):
            return Mul(coeff, _walk(rest, graph), evaluate=False)
    return _walk(arg, graph)


class _Placeholder(Symbol):
    """Stands for the k-th intermediate until names are known."""

    def __new__(cls, k: int):
        obj = Symbol.__new__(cls, f"_placeholder_{k}", real=True)
        obj.k = k
        return obj


def _collect_deps(definition: Expr, wrt: Symbol) -> tuple[Expr, ...]:
    found = sorted(
        (s for s in definition.free_symbols if isinstance(s, _Placeholder)), key=lambda s: s.k
    )
    return (*([wrt] if wrt in definition.free_symbols else []), *found)


def derive_chain(
    expr: Expr,
    wrt: Symbol,
    calc: Calculus,
    *,
    output: Symbol,
    partial: bool,
    taken: set[Symbol],
) -> tuple[tuple[Step, ...], Math]:
    """The steps and the simplified result of d(expr)/d(wrt)."""
    expr, settled = _settle_ties(expr)
    notes = (*_kink_notes(expr), *settled)
    if calc.is_simple(expr, wrt):
        steps, result = _direct(expr, wrt, calc, output=output, partial=partial)
        return (*notes, *_logarithmic_note(steps), *steps), result
    graph = _Graph(wrt, calc)
    _walk(expr, graph)
    names = _name(graph, output, taken)
    intermediates = _intermediates(graph, names, output, calc)
    locals_ = _local_derivatives(intermediates, wrt, partial, calc)
    combine, before, factors = _combine(intermediates, locals_, wrt, output, partial, calc)
    finish, result = _substitute_and_simplify(
        intermediates, before, factors, output, wrt, partial, calc
    )
    shown = tuple(locals_.values())
    steps = (*notes, *_logarithmic_note(shown), *intermediates, *shown, *combine, *finish)
    return steps, result


def _logarithmic_note(steps: tuple[Step, ...]) -> tuple[Note, ...]:
    """How x^x is differentiated, where a local derivative does it: the rule's name alone
    does not say how (f^g = e^(g·ln f))."""
    if not any(
        isinstance(step, LocalDerivative) and "logarithmic" in _rule_keys(step.rule)
        for step in steps
    ):
        return ()
    return (Note(topic="logarithmic", explanation=Msg("explain.note.logarithmic")),)


def _rule_keys(rule) -> set[str]:
    return {key for clause in getattr(rule, "clauses", ()) for key, _ in clause}


def _direct(
    expr: Expr, wrt: Symbol, calc: Calculus, *, output: Symbol, partial: bool
) -> tuple[tuple[Step, ...], Math]:
    local = calc.differentiate(expr, wrt)
    value = local.value
    held = tuple(sorted(expr.free_symbols - {wrt}, key=str))
    step = LocalDerivative(
        of=output,
        wrt=wrt,
        expr=expr,
        value=value,
        rule=local.rule,
        partial=partial,
        held_constant=held,
        explanation=_held_text(held, wrt),
    )
    result = calc.tidy(value)
    if result == value:
        return (step,), result
    simplify = Simplify(of=output, wrt=wrt, before=value, after=result, partial=partial)
    return (step, simplify), result


def _held_text(held: tuple[Symbol, ...], wrt: Symbol) -> Msg:
    if not held:
        return Msg("explain.differentiate", wrt=wrt)
    names = ", ".join(str(s) for s in held)
    return Msg("explain.differentiate.held", wrt=wrt, names=names)


def _name(graph: _Graph, output: Symbol, taken: set[Symbol]) -> dict[int, Symbol]:
    count = len(graph.nodes)
    if count == 2:
        (inner,) = intermediate_names(1, taken)
        return {0: inner, 1: output}
    return dict(enumerate(intermediate_names(count, taken)))


def _intermediates(
    graph: _Graph, names: dict[int, Symbol], output: Symbol, calc: Calculus
) -> list[Intermediate]:
    def rename(e: Expr) -> Expr:
        return substitute(e, {p: names[p.k] for p in e.free_symbols if isinstance(p, _Placeholder)})

    out = []
    for k, (definition, deps) in enumerate(graph.nodes):
        definition = rename(definition)
        name = names[k] = calc.name(names[k], definition)
        depends_on = tuple(names[d.k] if isinstance(d, _Placeholder) else d for d in deps)
        is_output = k == len(graph.nodes) - 1 and name != output
        out.append(
            Intermediate(
                name=name,
                definition=definition,
                depends_on=depends_on,
                output=output if is_output else None,
                explanation=Msg("explain.nested", name=name),
            )
        )
    return out


def _local_derivatives(
    intermediates: list[Intermediate], wrt: Symbol, partial: bool, calc: Calculus
) -> dict[tuple[Symbol, Symbol], LocalDerivative]:
    out = {}
    for inter in intermediates:
        several = len(inter.depends_on) > 1
        for dep in inter.depends_on:
            held = tuple(s for s in inter.depends_on if s != dep)
            local = calc.differentiate(inter.definition, dep)
            out[inter.name, dep] = LocalDerivative(
                of=inter.name,
                wrt=dep,
                expr=inter.definition,
                value=local.value,
                rule=local.rule,
                partial=partial or several,
                held_constant=held,
            )
    return out


def _is_chain(intermediates: list[Intermediate], wrt: Symbol) -> bool:
    previous = wrt
    for inter in intermediates:
        if inter.depends_on != (previous,):
            return False
        previous = inter.name
    return True


def _combine(intermediates, locals_, wrt, output, partial, calc: Calculus):
    """Chain rule or total-derivative chain rule; returns (steps, value, factors)."""
    if _is_chain(intermediates, wrt):
        factors, values = [], []
        for inter in reversed(intermediates):
            step = locals_[inter.name, inter.depends_on[0]]
            factors.append(step.name)
            values.append(step.value)
        value = calc.product(values)
        chain = ChainRule(
            of=output,
            wrt=wrt,
            factors=tuple(factors),
            factor_values=tuple(values),
            value=value,
            partial=partial,
            explanation=Msg("explain.chain_rule.single"),
        )
        return [chain], value, tuple(values)
    totals: dict[Symbol, Expr] = {}
    steps = []
    for inter in intermediates:
        terms = []
        for dep in inter.depends_on:
            local = locals_[inter.name, dep].value
            total = None if dep == wrt else totals[dep]
            terms.append(
                PathTerm(via=None if dep == wrt else dep, partial_value=local, total_value=total)
            )
        value = calc.total(
            [
                t.partial_value
                if t.total_value is None
                else calc.product([t.partial_value, t.total_value])
                for t in terms
            ]
        )
        totals[inter.name] = value
        if inter.depends_on == (wrt,):
            continue
        steps.append(
            TotalDerivative(
                of=inter.name,
                wrt=wrt,
                terms=tuple(terms),
                value=value,
                partial=partial,
                explanation=_total_explanation(inter, wrt),
            )
        )
    return steps, totals[intermediates[-1].name], ()


def _total_explanation(inter: Intermediate, wrt: Symbol) -> Msg:
    if isinstance(inter.definition, Mul) and len(inter.depends_on) > 1:
        return Msg("explain.total.product", wrt=wrt, of=inter.name)
    return Msg("explain.total", wrt=wrt, of=inter.name)


def _substitute_and_simplify(intermediates, before, factors, output, wrt, partial, calc: Calculus):
    expansions: dict[Symbol, Expr] = {}
    for inter in intermediates:
        expansions[inter.name] = substitute(inter.definition, expansions)
    replace = {i.name: expansions[i.name] for i in intermediates}
    if factors:
        new_factors = tuple(calc.present(substitute(f, replace)) for f in factors)
        after = calc.display_product(new_factors)
        before = calc.display_product(factors)
    else:
        new_factors = ()
        after = calc.present(substitute(before, replace))
    used = tuple(
        (i.name, calc.present(expansions[i.name])) for i in intermediates if i.name != output
    )
    substitution = Substitute(
        of=output,
        wrt=wrt,
        before=before,
        after=after,
        factors=new_factors,
        replacements=used,
        partial=partial,
        explanation=Msg("explain.substitute"),
    )
    result = calc.tidy(after)
    if result.has(S.NaN, S.ComplexInfinity):
        result = calc.tidy(_constant_paths(after, calc))
    rewrites: tuple[str, ...] = ()
    notes: list[Note] = []
    shapes = getattr(calc, "shapes", None)
    if shapes:  # vector results in the form textbooks write them
        from matcalc.engine.textbook import sum_to_one, textbook

        result, rewrites = textbook(result, shapes)
        notes = [
            Note(topic="sum_to_one", about=v, math=form)
            for v, form in sum_to_one(result, shapes, rewrites)
        ]
    else:  # scalars: σ(z)(1 − σ(z)), as textbooks write it
        from matcalc.engine.textbook import order_only

        result = order_only(result)
    simplify = Simplify(
        of=output,
        wrt=wrt,
        before=after,
        after=result,
        partial=partial,
        rewrites=rewrites,
        explanation=Msg("explain.simplify"),
    )
    steps: list[Step] = [substitution] if after != before else []
    if result != after:
        steps.append(simplify)
    steps += notes
    return steps, result


def _constant_paths(expr: Expr, calc: Calculus) -> Expr:
    """Each product with a factor that is 0 for every x, written 0.

    ‖u‖′ = uᵀ/‖u‖ at u = A·max(0, -x ⊗ x) = 0 is 0/0, so the chain rule's product is nan,
    but its gate 1[-x ⊗ x > 0] is 0 for every x: that path goes through a constant, and
    contributes 0.  Only used when the plain simplification is undefined (nan or zoo).
    """
    return replace_unevaluated(
        expr,
        lambda e: (
            isinstance(e, (Mul, MatProd)) and any(a == 0 or calc.tidy(a) == 0 for a in e.args)
        ),
        lambda e: S.Zero,
    )


def _settle_ties(expr: Expr) -> tuple[Expr, tuple[Note, ...]]:
    """max/min whose arguments SymPy can order, replaced by what SymPy evaluates them to.

    max(min(x², x), x) is x, but its derivative by the kink rule, 1[u > x]·u′ + 1[x > u],
    is 0: the arguments coincide everywhere and the convention "0 at the kink" would hold
    on a whole interval.  So before the steps, such a max is written x (with a note); a
    max whose arguments SymPy cannot order (max(0, z)) stays as typed.
    """
    notes: list[Note] = []

    def settle(node: Expr) -> Expr:
        if not node.args:
            return node
        inner = len(notes)
        args = tuple(settle(a) for a in node.args)
        if isinstance(node, (Max, Min)):
            value = node.func(*(evaluate(a) for a in args))
            settles = not isinstance(value, node.func) or len(value.args) < len(args)
            if settles and not (has_vectors(node) and not has_vectors(value)):  # max(0, w - w)
                del notes[inner:]  # one note for the outermost max or min replaced
                notes.append(
                    Note(
                        topic="tie",
                        math=node,
                        explanation=Msg("explain.note.tie"),
                    )
                )
                return value
        return rebuild(node, args)

    return settle(expr), tuple(notes)


def _kink_notes(expr: Expr) -> tuple[Note, ...]:
    if not has_kink(expr):
        return ()
    return (
        Note(
            topic="kink",
            explanation=Msg("explain.note.kink"),
        ),
    )
