"""Bounded simplification that keeps the paper's form.

``tidy`` evaluates an unevaluated tree and then picks the smallest of a few cheap,
predictable rewrites (``factor_terms``, ``cancel``, ``together``; the polynomial cancel
starts from ``together``'s form rather than doing SymPy's own sign and common-term passes
again).  It never calls
``simplify`` or ``trigsimp``: those are unbounded on big inputs and turn
cos/sin into cot or 1/tan, which is not how the paper writes a result.  Above
``MAX_OPS`` operations the evaluated form is returned as it is.

Budgets: the time limit is never spent on making a correct answer prettier.  A
rewrite that expands (``cancel`` multiplies out numerators and denominators) runs
only when ``expansion_terms`` bounds what it would produce by ``CANCEL_TERMS``, and
in the main thread it is also interrupted after ``REWRITE_SECONDS`` of CPU time
(``TOTAL_REWRITE_SECONDS`` for all of one derivation's rewrites together).  A rewrite
skipped either way is recorded (``budget``), and ``derive`` adds a Note saying the
simplification was cut short; the best form found so far is kept.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from math import comb, gcd

from sympy import (
    Abs,
    Add,
    Basic,
    Derivative,
    Expr,
    Heaviside,
    MatrixBase,
    Max,
    Min,
    Mul,
    Pow,
    S,
    Subs,
    Symbol,
    cancel,
    count_ops,
    default_sort_key,
    exp,
    expand,
    expand_mul,
    factor_terms,
    preorder_traversal,
    sign,
    together,
)
from sympy.concrete.summations import Sum
from sympy.core.function import _coeff_isneg
from sympy.core.operations import LatticeOp
from sympy.integrals.integrals import Integral
from sympy.simplify.radsimp import fraction

from matcalc.deadline import Deadline, alarm
from matcalc.errors import LimitError
from matcalc.functions import decide_gate

MAX_OPS = 120
CANCEL_TERMS = 300
"""Most terms ``cancel`` may multiply out (numerator and denominator, as estimated)."""
EXPAND_TERMS = 2000
"""Most terms a full ``expand`` may produce (as estimated), for callers that expand."""
REWRITE_SECONDS = 1.0
"""CPU seconds one optional rewrite may take (interrupted where a signal can be used).
CPU time, not the wall clock, so that a busy machine does not change the output."""

TOTAL_REWRITE_SECONDS = 2.0
"""CPU seconds all optional rewrites of one derivation may take together."""


class _Record(list):
    """The names of the rewrites skipped, and the CPU time the optional ones took; and the
    evaluated form of each unevaluated tree ``evaluate`` has rebuilt in this derivation."""

    spent = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.evaluated: dict = {}


_SKIPPED: contextvars.ContextVar[_Record | None] = contextvars.ContextVar("skipped", default=None)


@contextlib.contextmanager
def budget() -> Iterator[list[str]]:
    """Record the rewrites skipped for their cost while the block runs (in this context),
    and hold them all to ``TOTAL_REWRITE_SECONDS``."""
    skipped = _Record()
    token = _SKIPPED.set(skipped)
    try:
        yield skipped
    finally:
        _SKIPPED.reset(token)


def skipped(name: str) -> None:
    """Note that the rewrite ``name`` was skipped because of its cost."""
    record = _SKIPPED.get()
    if record is not None and name not in record:
        record.append(name)


def expansion_terms(expr, cap: int = EXPAND_TERMS) -> int:
    """An upper estimate of the terms ``expand(expr)`` builds, counting every expansion
    inside function arguments and denominators too; stops counting above ``cap``.

    A product multiplies the terms of its factors, a power (a + b + …)^±k of t terms
    gives C(t + k - 1, k) monomials (a denominator counts like a numerator: expand
    multiplies it out too); a function call or a fractional power is one term whose
    argument is expanded separately.  Cheap: one walk over the tree.
    """
    total = 0

    def terms(e) -> int:
        nonlocal total
        if total > cap:
            return 1
        if not isinstance(e, Basic) or not e.args:
            return 1
        if e.is_Add:
            return min(sum(terms(a) for a in e.args), cap + 1)
        if e.is_Mul:
            n = 1
            for a in e.args:
                n = min(n * terms(a), cap + 1)
            return n
        if e.is_Pow:
            base, k = terms(e.base), e.exp
            if k.is_Rational and abs(k) >= 1 and base > 1:
                n = int(abs(k))  # (a + b)^(5/2) expands to (a + b)^2·√(a + b)
                # 1/(a + b)^k counts as (a + b)^k: expand multiplies a product's
                # denominators out too, and nested fractions make each term dear
                return min(comb(base + n - 1, n), cap + 1) if n <= cap else cap + 1
            terms(e.exp)
            return 1
        for a in e.args:  # a function: its arguments expand on their own
            total += terms(a)
        return 1

    total += terms(expr)
    return min(total, cap + 1)


def fraction_terms(expr, cap: int = CANCEL_TERMS) -> int:
    """An upper estimate of the terms ``cancel`` multiplies out: the numerator and
    denominator of ``expr`` over a common denominator, each expanded."""

    def nd(e) -> tuple[int, int]:
        if not isinstance(e, Basic) or not e.args or not (e.is_Add or e.is_Mul or e.is_Pow):
            return 1, 1
        if e.is_Add:
            parts = [nd(a) for a in e.args]
            den = 1
            for _, d in parts:
                den = min(den * d, cap + 1)
            num = sum(n * (den // max(d, 1) if d <= cap else cap + 1) for n, d in parts)
            return min(num, cap + 1), den
        if e.is_Mul:
            num = den = 1
            for a in e.args:
                n, d = nd(a)
                num, den = min(num * n, cap + 1), min(den * d, cap + 1)
            return num, den
        k = e.exp
        if not (k.is_Integer or (k.is_Rational and abs(k) >= 1)):
            return 1, 1
        n, d = nd(e.base)
        power = int(abs(k))

        def grow(t: int) -> int:
            return (
                min(comb(t + power - 1, power), cap + 1)
                if t > 1 and power <= cap
                else (1 if t <= 1 else cap + 1)
            )

        n, d = grow(n), grow(d)
        return (n, d) if k.is_positive else (d, n)

    num, den = nd(expr)
    return min(num + den, 2 * cap + 2)


def count_ops_fast(expr, limit: int | None = None) -> int:
    """``sympy.count_ops(expr)`` (visual=False), the same number, counted as integers.

    SymPy's own collects its counts as a sum of symbols (``2*ADD + MUL + SIN``) and then
    adds up the coefficients; this walks the tree in exactly the same way and adds the
    counts directly.  Anything but a plain expression goes to SymPy's.  ``limit``: stop
    counting once the count is above it (the number returned is then only above it)."""
    if not isinstance(expr, Expr) or expr.is_Relational:
        return count_ops(expr)
    total = 0
    args = [expr]
    while args:
        if limit is not None and total > limit:
            return total
        a = args.pop()
        if a.is_Rational:
            if a is not S.One:
                total += (a.p < 0) + (a.q != 1)  # -1/3 = NEG + DIV
                continue
        elif a.is_Mul or a.is_MatMul:
            if _coeff_isneg(a):
                total += 1  # NEG
                a = a.as_two_terms()[1] if a.args[0] is S.NegativeOne else -a
            n, d = (a, S.One) if _plain_product(a) else fraction(a)
            if n.is_Integer:
                total += 2 if n < 0 else 1  # DIV (and NEG)
                args.append(d)
                continue
            elif d is not S.One:
                if not d.is_Integer:
                    args.append(d)
                total += 1  # DIV
                args.append(n)
                continue
        elif a.is_Add or a.is_MatAdd:
            aargs = list(a.args)
            negs = 0
            for i, ai in enumerate(aargs):
                if _coeff_isneg(ai):
                    negs += 1
                    args.append(-ai)
                else:
                    args.append(ai)
                total += i > 0  # SUB or ADD
            if negs == len(aargs):  # -x - y = NEG + SUB
                total += 1
            # -x + y = SUB, recorded as ADD: SymPy adds SUB - ADD, which counts 0
            continue
        if a.is_Pow and a.exp is S.NegativeOne:
            total += 1  # DIV
            args.append(a.base)
            continue
        if a == S.Exp1:
            total += 1
            continue
        if a.is_Pow and a.base == S.Exp1:
            total += 1
            args.append(a.exp)
            continue
        if a.is_Mul or isinstance(a, LatticeOp):
            total += len(a.args) - 1
        elif a.args and (a.is_Pow or a.is_Function or isinstance(a, (Derivative, Integral, Sum))):
            total += 1
        if not a.is_Symbol:
            args.extend(a.args)
    return total


def _plain_product(a) -> bool:
    """True where ``fraction(a)`` is (a product that is no integer, 1), found without it:
    ``a`` a product of symbols, sums and functions (not exp) that are no numbers, and
    powers of such with a positive rational exponent, after a nonzero integer at most.
    (``fraction`` rebuilds both products with evaluation on, the most of what counting
    a product cost; ``count_ops_fast`` reads only whether the numerator is an integer and
    the denominator 1.)"""
    if not a.is_Mul:
        return False
    for i, t in enumerate(a.args):
        if t.is_Symbol:
            continue
        if t.is_Integer:
            if i or t is S.Zero:
                return False
            continue
        if t.is_Pow:
            e = t.exp
            if not (e.is_Rational and e.p > 0) or t.base.is_number:
                return False
            continue
        if not (t.is_Add or (t.is_Function and not isinstance(t, exp))) or t.is_number:
            return False
    return True


def bounded(rewrite, expr, name: str | None = None, seconds: float = REWRITE_SECONDS):
    """``rewrite(expr)``, or None when it runs past ``seconds`` of CPU time.

    With a ``name`` it is an optional simplification: recorded as skipped when cut
    short, and charged to the derivation's ``TOTAL_REWRITE_SECONDS``."""
    record = _SKIPPED.get() if name else None
    if name and record is not None:
        left = TOTAL_REWRITE_SECONDS - record.spent
        if left <= 0:
            skipped(name)
            return None
        seconds = min(seconds, left)
    start = time.process_time()
    try:
        with alarm(Deadline(seconds, cpu=True)):
            return rewrite(expr)
    except LimitError:
        if name:
            skipped(name)
        return None
    finally:
        if record is not None:
            record.spent += time.process_time() - start


def evaluate(expr, each=None):
    """Rebuild an unevaluated tree with SymPy's automatic evaluation on; ``each``, if given,
    is called with every rebuilt node as it is made (to refuse one, by raising).

    Each subtree is evaluated once per derivation (``budget``'s record keeps them): the
    input is evaluated first to check it, its pieces come back in the substituted
    derivative, and a substituted intermediate appears wherever it was used.  (With
    ``each``, every node is rebuilt, so that ``each`` sees it, and kept for later calls.)"""
    record = _SKIPPED.get()
    return _evaluated(expr, each, {} if record is None else record.evaluated)


def _evaluated(expr, each, memo: dict):
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: _evaluated(e, each, memo))
    if not isinstance(expr, Basic) or not expr.args:
        return expr
    value = None
    try:
        value = None if each is not None else memo.get(expr)
    except TypeError:  # a mutable matrix inside is unhashable: not kept
        memo = {}
    if value is not None:
        return value
    value = decide_gate(expr.func(*(_evaluated(a, each, memo) for a in expr.args)))
    if each is not None:
        each(value)
    try:
        memo[expr] = value
    except TypeError:
        pass
    return value


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
    others = [
        mapping[s]
        for s in derivative.expr.free_symbols
        if isinstance(s, Symbol) and s in mapping and s not in variables
    ]
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
        (
            s
            for s in derivative.free_symbols
            if s in mapping and (s in variables or (free and mapping[s].has(*free)))
        ),
        key=str,
    )
    rest = {s: mapping[s] for s in derivative.free_symbols if s in mapping and s not in bound}
    inner = Derivative(substitute(derivative.expr, rest), *derivative.variable_count)
    return Subs(inner, bound, [mapping[s] for s in bound])


def has_fraction(expr) -> bool:
    """True when ``cancel``/``together`` might help: a sum meets a denominator."""
    for node in preorder_traversal(expr):
        if node.is_Pow and node.exp.is_negative and node.base.has(Add):
            return True
        if node.is_Add and any(
            f.is_Pow and f.exp.is_negative for t in node.args for f in Mul.make_args(t)
        ):
            return True
    return False


def _together(expr):
    """``together(expr)`` (bounded), or None when it fails or is cut short."""
    try:
        return bounded(together, expr, "together")
    except Exception:  # a rewrite that fails is simply not used
        return None


def _cancel(over):
    """SymPy's ``cancel`` of a fraction already over one denominator (``together``'s form):
    its numerator and denominator as polynomials in their generators, their gcd divided
    out (``cancel``'s own sign and common-term passes are what ``together`` did).

    The polynomials are SymPy's own (``sring``'s expansion, generators, order and domain),
    kept in a ring over stand-in generators with only their number, order and domain
    (``_ring``), made once: a new ``PolyRing`` compiles its monomial arithmetic (and
    the gcd makes one for each generator it drops), which cost more than the cancel."""
    from sympy.polys.constructor import construct_domain
    from sympy.polys.polyoptions import build_options
    from sympy.polys.polyutils import _parallel_dict_from_expr

    p, q = fraction(over)
    opt = build_options((), {})
    reps, opt = _parallel_dict_from_expr([p, q], opt)
    gens = opt.gens
    if not gens:
        return over.expand()
    coeffs = [c for rep in reps for c in rep.values()]
    domain, converted = construct_domain(coeffs, opt=opt)
    value = dict(zip(coeffs, converted))
    ring = _ring(len(gens), domain, opt.order)
    num, den = (ring.from_dict({m: value[c] for m, c in rep.items()}) for rep in reps)
    num, den = num.cancel(den)
    return num.as_expr(*gens) / den.as_expr(*gens)


SLACK = 2
"""How many operations ``factor_terms`` may take out of a numerator (``_denominator_factored``)."""


def _denominator_factored(cancelled, over, best_ops: int):
    """``cancel``'s fraction with its denominator as ``together`` had it, a product, where
    that one divides the cancelled denominator exactly (cancel multiplies a denominator
    out: d/dx √x·(x + 1)/(x - 1) came out (x² - 4x - 1)/(2√x - 4x^(3/2) + 2x^(5/2)), where
    the quotient rule gives the denominator 2√x·(x - 1)²); None where there is none, or
    where even cancel's numerator over that denominator has more operations than
    ``best_ops`` (the division it needs, a second cancel, is then skipped)."""
    if cancelled is None or over is None:
        return None
    p, q = fraction(cancelled)
    q_over = fraction(over)[1]
    if not q.is_Add or q_over.is_Add or q_over == q:
        return None
    if count_ops_fast(p) + count_ops_fast(q_over) > best_ops + SLACK:
        return None
    try:
        ratio = bounded(_cancel, q / q_over, "cancel")
    except Exception:  # a rewrite that fails is simply not used
        return None
    if ratio is None or not ratio.is_number or ratio == 0:
        return None
    return factor_terms(p / ratio) / q_over  # x·(2 - x²), as cancel's form is factored


_RINGS: dict = {}


def _ring(n: int, domain, order):
    """The polynomial ring in n stand-in generators over ``domain``, made once."""
    from sympy import Dummy
    from sympy.polys.rings import PolyRing

    key = (n, domain, order)
    ring = _RINGS.get(key)
    if ring is None:
        if len(_RINGS) > 64:
            _RINGS.clear()
        ring = _RINGS[key] = PolyRing([Dummy(f"g{k}") for k in range(n)], domain, order)
    return ring


def _product_of_sum(term) -> bool:
    """A product with a sum among its factors: x·(1 + x)."""
    return term.is_Mul and any(a.is_Add for a in term.args)


def _worth_distributing(expr) -> bool:
    """A sum of two or more products that have a sum among their factors, σ·(1 - y) -
    y·(1 - σ), where multiplied out terms may cancel; and few enough terms multiplied out.
    (Any other form is left alone: the rewrite costs time and rarely wins.)"""
    candidates = any(
        node.is_Add and sum(map(_product_of_sum, node.args)) >= 2
        for node in preorder_traversal(expr)
    )
    return candidates and expansion_terms(expr, CANCEL_TERMS) <= CANCEL_TERMS


def _distributed(expr):
    """Products multiplied out, like terms collected, then common factors taken out:
    x·(σ·(1 - y) - y·(1 - σ)) is x·(σ - y), the logistic loss's gradient as it is taught.
    (``cancel`` does this for a fraction; only products are multiplied out, no exp or log
    is split.)  ``tidy`` takes it only when it at least halves the operations: where like
    terms cancel, not to trade σ(1 - σ) for σ - σ²."""
    return factor_terms(expand_mul(expr))


def may_factor(expr) -> bool:
    """False only where ``factor_terms(expr)`` is ``expr`` itself, found by one walk.

    ``factor_terms`` takes out of each sum the common factors, content and sign of its
    terms, and on the way rebuilds what it walks through; that costs as much as SymPy's
    derivative of a small input, while most sums have nothing in common.  True (worth
    running) as soon as a sum has terms with a common base, a non-integer coefficient,
    integer coefficients with a common divisor or all negative, or where a rebuild would
    change a form SymPy leaves non-canonical (checked on 60 000 random trees, and on every
    input of the benchmarks, against ``factor_terms`` itself): a product or sum not flat,
    0·u or c·(a + b), f(f(u)) (|−|y|| is left as ||y||), (a·b)^e, √a·a, a non-rational
    number (a float, i), anything not commutative.
    """
    for node in preorder_traversal(expr):
        if node.is_Number:
            if not node.is_Rational:
                return True
            continue
        if node is S.ImaginaryUnit or not node.is_commutative:
            return True
        if (node.is_Add or node.is_Mul) and any(a.func is node.func for a in node.args):
            return True
        if node.is_Mul:
            first = node.args[0]
            if first is S.Zero or (first.is_Number and any(a.is_Add for a in node.args)):
                return True
            if len({a.as_base_exp()[0] for a in node.args}) < len(node.args):
                return True
            continue
        if node.is_Pow:
            if node.base.is_Mul:
                return True
            continue
        if node.is_Function:
            if any(a.func is node.func for a in node.args):
                return True
            continue
        if not node.is_Add:
            if not (node.is_Symbol or node.is_NumberSymbol):
                return True
            continue
        common: set | None = None
        divisor, negative = 0, True
        for term in node.args:
            c, rest = term.as_coeff_Mul()
            if not c.is_Integer:
                return True
            divisor = gcd(divisor, int(c))
            negative = negative and c < 0
            bases = (
                {f.as_base_exp()[0] for f in Mul.make_args(rest)} if rest is not S.One else set()
            )
            common = bases if common is None else common & bases
        if common or divisor != 1 or negative:
            return True
    return False


_RECIPROCALS = {
    "tan": ("cot", "sin", "cos", "sec", "csc"),
    "cot": ("tan", "sin", "cos", "sec", "csc"),
    "sec": ("cos", "tan", "cot"),
    "csc": ("sin", "tan", "cot"),
    "tanh": ("coth", "sinh", "cosh", "sech", "csch"),
    "coth": ("tanh", "sinh", "cosh", "sech", "csch"),
    "sech": ("cosh", "tanh", "coth"),
    "csch": ("sinh", "tanh", "coth"),
    "Abs": ("sign",),
}
"""Functions whose products with the others listed, of the same argument, SymPy does not
simplify: tan(x)·cot(x) stays as it is, so its derivative is not seen to be 0."""


def _ratios_meet(expr) -> bool:
    """True when ``expr`` has tan(u) with cot(u), sin(u) or cos(u) (and the like): a form
    SymPy may not see is 0; or sin(u) with cos(u), one of them squared, where
    sin² + cos² = 1 may cancel: (sin²x + (1 + cos x)·cos x)/(1 + cos x)² is 1/(1 + cos x)."""
    seen: dict = {}
    squared: dict = {}  # argument -> the names of its functions raised to a power ≥ 2
    for node in preorder_traversal(expr):
        if node.is_Function and len(node.args) == 1:
            seen.setdefault(node.args[0], set()).add(type(node).__name__)
        elif node.is_Pow and node.exp.is_Integer and abs(node.exp) > 1 and node.base.is_Function:
            squared.setdefault(node.base.args[0], set()).add(type(node.base).__name__)
    if any(
        {f, g} <= names and {f, g} & squared.get(u, set())
        for u, names in seen.items()
        for f, g in (("sin", "cos"), ("sinh", "cosh"))
    ):
        return True
    return any(
        any(other in names for other in _RECIPROCALS[name])
        for names in seen.values()
        for name in names & _RECIPROCALS.keys()
    )


def _in_sin_cos(expr):
    """``expr`` written in sin, cos, sinh and cosh (and |u| as u·sign(u) where it meets
    sign(u)) and cancelled over one denominator: (1 + tan²x)·cos x − sin x·tan x is cos x,
    the derivative of tan(x)·cot(x) is 0, and so is sign(x)/x − |x|/x², that of |x|/x."""
    from sympy import cos, cosh, cot, coth, csc, csch, sec, sech, sin, sinh, tan, tanh

    ratios = {
        tan: lambda u: sin(u) / cos(u),
        cot: lambda u: cos(u) / sin(u),
        sec: lambda u: 1 / cos(u),
        csc: lambda u: 1 / sin(u),
        tanh: lambda u: sinh(u) / cosh(u),
        coth: lambda u: cosh(u) / sinh(u),
        sech: lambda u: 1 / cosh(u),
        csch: lambda u: 1 / sinh(u),
    }
    written = expr.replace(lambda e: type(e) in ratios, lambda e: ratios[type(e)](e.args[0]))
    if written.has(Abs) and written.has(sign):  # |u| = u·sign(u), for a real u
        written = written.replace(
            lambda e: isinstance(e, Abs) and e.args[0].is_extended_real is True,
            lambda e: e.args[0] * sign(e.args[0]),
        )
    over = _cancel(together(written))
    # then cos² = 1 − sin², cosh² = 1 + sinh² and sign² = 1 in the multiplied-out
    # numerator and denominator: (cosh² − sinh² − 1)/(sinh·cosh) is 0
    # (or sin² = 1 − cos² and sinh² = cosh² − 1, whichever gives fewer operations:
    # (sin² + (1 + cos)·cos)/(1 + cos)² cancels to 1/(1 + cos) only this way)
    # where u ≠ 0: 1/|x| − sign(x)/x is (1 − sign(x)²)/(x·sign(x)); not for a u that may be
    # 0 on an interval (max(0, x)), where sign(u)² is 0
    one = {sign: lambda u: sign(u) ** 2 if may_vanish_on_interval(u) else 1}
    ways = (
        {cos: lambda u: 1 - sin(u) ** 2, cosh: lambda u: 1 + sinh(u) ** 2, **one},
        {sin: lambda u: 1 - cos(u) ** 2, sinh: lambda u: cosh(u) ** 2 - 1, **one},
    )

    def reduced(e, squares):
        return expand(
            e.replace(
                lambda f: f.is_Pow and type(f.base) in squares and f.exp.is_Integer and f.exp > 1,
                lambda f: (
                    squares[type(f.base)](f.base.args[0]) ** (f.exp // 2) * f.base ** (f.exp % 2)
                ),
            )
        )

    p, q = fraction(over)
    forms = [_cancel(together(reduced(p, way) / reduced(q, way))) for way in ways]
    return min(forms, key=count_ops_fast)


def _by_ratios(expr, ops: int):
    """``_in_sin_cos(expr)`` where tan meets cot, sin or cos (and the like) and that form
    has at most half the operations (a constant, or cos x for the derivative of
    tan(x)·cos(x)); else None.  Bounded, for small expressions only."""
    if ops > MAX_RATIO_OPS or not _ratios_meet(expr):
        return None
    try:
        written = bounded(_in_sin_cos, expr, "cancel")
    except Exception:  # a rewrite that fails is simply not used
        return None
    if written is None or 2 * count_ops_fast(written) > ops:
        return None
    return _reciprocals_back(written, expr)


def _reciprocals_back(written, expr):
    """``written`` (in sin and cos) with 1/cos(u)ᵏ as sec(u)ᵏ where ``expr`` has sec (and
    csc, sech, csch alike): d/dx ln(sec(x) + tan(x)) is sec(x), as tables write it."""
    from sympy import cos, cosh, csc, csch, sec, sech, sin, sinh

    for reciprocal, function in ((sec, cos), (csc, sin), (sech, cosh), (csch, sinh)):
        if expr.has(reciprocal) and written.has(function):
            written = written.replace(
                lambda e, f=function: (
                    e.is_Pow and isinstance(e.base, f) and e.exp.is_Integer and e.exp < 0
                ),
                lambda e, r=reciprocal: r(e.base.args[0]) ** -e.exp,
            )
    return written


MAX_RATIO_OPS = 80
"""The largest expression (in operations) that ``tidy`` writes in sin and cos."""


def may_vanish_on_interval(u) -> bool:
    """Whether ``u`` may be 0 on a whole interval, not at single points only: max(0, x) for
    x < 0, x + |x|, where sign(u)² is 0 and not 1 (x·sign(max(0, x))² is 0 for x < 0, and
    its derivative 0 there; it was written 1).  Any max, min, |·|, sign or step in u may
    make it so; other functions of the input vanish at single points only."""
    return u.has(Max, Min, Abs, sign, Heaviside)


def sign_products(expr):
    """``expr`` with each product of sign(u) and a power of u or of |u| written without the
    sign, as tables do: u^n·sign(u) is u^(n−1)·|u| (n ≥ 1) and |u|^k·sign(u) is u·|u|^(k−1)
    (k ≠ 0), whole numbers n and k, equal for every real u (0 = 0 at u = 0, or undefined on
    both sides there for k < 0); and an even power of sign(u) is 1, as everywhere but at
    u = 0, where the input has a kink.  So d/dx ln|x| is 1/x, d/dx |x|³ is 3x·|x|, d/dx x·|x|
    is 2|x| and d/dx |x|·sign(x) (that is, of x) is 1."""

    def even_sign(f) -> bool:
        return (
            f.is_Pow
            and isinstance(f.base, sign)
            and f.exp.is_Integer
            and f.exp % 2 == 0
            and not may_vanish_on_interval(f.base.args[0])
        )

    def rewrite(product):
        if even_sign(product):
            return S.One
        factors = [S.One if even_sign(f) else f for f in product.args]
        for s in [f for f in factors if isinstance(f, sign)]:
            u = s.args[0]
            for i, f in enumerate(factors):
                base, k = f.as_base_exp()
                if not k.is_Integer:
                    continue
                if base == u and k > 0:
                    factors[i] = Abs(u) * u ** (k - 1)
                elif isinstance(base, Abs) and base.args[0] == u and k != 0:
                    factors[i] = u * Abs(u) ** (k - 1)
                else:
                    continue
                factors.remove(s)
                break
        return Mul(*factors) if factors != list(product.args) else product

    def has_sign(e) -> bool:
        return (e.is_Mul and any(isinstance(a, sign) or even_sign(a) for a in e.args)) or (
            even_sign(e)
        )

    return expr.replace(has_sign, rewrite)


def _constant_sums(expr):
    """Each sum of numbers multiplied out where that is shorter: (√2 + √3)² − 5 − 2√6 is 0,
    and d/dx ((√2 + √3)² − 5 − 2√6)·x, shown as that sum, is 0 (SymPy evaluates
    (√2)² − 2 to 0 itself, but not this)."""

    def shorter(e):
        try:
            expanded = expand(e)
        except Exception:  # a rewrite that fails is simply not used
            return e
        return expanded if count_ops_fast(expanded) < count_ops_fast(e) else e

    if not any(n.is_Add and n.is_number for n in preorder_traversal(expr)):
        return expr
    return expr.replace(lambda e: e.is_Add and e.is_number, shorter)


def tidy(expr):
    """The evaluated expression, rewritten into its smallest cheap form (fewest
    operations, then shortest text), with sinh/cosh named tanh (``named_ratios``)."""
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(tidy)
    return named_ratios(plain_gates(_tidy(expr)))


def plain_gates(expr):
    """``expr`` with each gate 1[c·u > 0] of a positive number c written 1[u > 0], and of a
    negative one 1[-u > 0] (which prints as 𝟙[u < 0]): equal everywhere, 0 at u = 0 alike.
    d/dx max(0, -2x) is -2·𝟙[x < 0], not -2·𝟙[-2x > 0], and the gate of max(0, 3x + 3) is
    𝟙[x + 1 > 0]."""
    if not expr.has(Heaviside):
        return expr

    def plain(gate):
        c, u = gate.args[0].as_content_primitive()  # c > 0, a rational
        return gate if c == 1 else Heaviside(u, *gate.args[1:])

    try:
        return expr.replace(lambda e: isinstance(e, Heaviside), plain)
    except Exception:  # a rewrite that fails is simply not used
        return expr


def named_ratios(expr):
    """``expr`` with each product of sinh(u)ᵏ and cosh(u)⁻ᵏ written tanh(u)ᵏ (coth(u)ᵏ for
    cosh(u)ᵏ/sinh(u)ᵏ): equal everywhere, and how d/dx ln(cosh x) = tanh x, the gradient
    of the log-cosh loss, is written.  Other powers (sinh x/cosh² x) stay as they are, and
    so do sin and cos: the paper writes d/dx ln(sin(x³)²) as 6x²·cos(x³)/sin(x³)."""
    from sympy import cosh, coth, sinh, tanh

    if not (expr.has(sinh) and expr.has(cosh)):
        return expr

    def rewrite(product):
        powers = [f.as_base_exp() for f in product.args]
        factors = list(product.args)
        for i, (base, k) in enumerate(powers):
            if not (isinstance(base, sinh) and k.is_Integer):
                continue
            over = [
                j
                for j, (b, e) in enumerate(powers)
                if isinstance(b, cosh) and b.args == base.args and e == -k
            ]
            if over:
                u = base.args[0]
                factors[i] = tanh(u) ** k if k > 0 else coth(u) ** -k
                factors[over[0]] = S.One
        return Mul(*factors) if factors != list(product.args) else product

    try:
        return expr.replace(lambda e: e.is_Mul, rewrite)
    except Exception:  # a rewrite that fails is simply not used
        return expr


def _tidy(expr):
    expr = evaluate(expr)
    if expr.has(sign):
        expr = sign_products(expr)
    expr = _constant_sums(expr)
    if not expr.has(Add) and not _ratios_meet(expr):
        return expr  # a product of powers and functions (but sign(x)/|x| is 1/x)
    ops = count_ops_fast(expr)
    written = _by_ratios(expr, ops)
    if written is not None:
        expr, ops = written, count_ops_fast(written)
        if not expr.has(Add):
            return expr
    if ops > MAX_OPS:
        return expr
    fractions = has_fraction(expr)
    rewrites = (
        (factor_terms, cancel, _denominator_factored, together)
        if fractions
        else (factor_terms, _distributed)
    )
    cancelled = None
    over = _together(expr) if fractions else None  # cancel starts from it
    start_ops = ops
    ops += nested_fractions(expr)  # a fraction within a fraction costs one more
    best, best_ops, best_len = expr, ops, None  # the text only to break a tie
    for rewrite in rewrites:
        if rewrite is cancel and fraction_terms(expr) > CANCEL_TERMS:
            skipped("cancel")  # it would multiply out a product of sums
            continue
        if rewrite is _distributed and not _worth_distributing(expr):
            continue  # no product of a sum, or one too large to multiply out
        try:
            if rewrite is together:
                candidate = over
            elif rewrite is cancel:
                candidate = None if over is None else bounded(_cancel, over, "cancel")
                cancelled = candidate
            elif rewrite is _denominator_factored:
                candidate = _denominator_factored(cancelled, over, best_ops)
            elif rewrite is factor_terms and not may_factor(expr):
                continue  # it would give expr back
            else:
                candidate = bounded(rewrite, expr, rewrite.__name__)
        except Exception:  # a rewrite that fails is simply not used
            continue
        if candidate is None or candidate == best:
            continue
        ops = count_ops_fast(candidate)
        if rewrite is _distributed and 2 * ops > start_ops:
            continue  # multiplied out only where like terms collapse it (to half or less)
        ops += nested_fractions(candidate)
        if ops > best_ops:
            continue
        length = None
        if ops == best_ops:  # a tie: fewer fraction bars (one fraction, not a sum of
            # them, as the quotient rule gives), then the shorter text
            best_len = (fraction_bars(best), len(str(best))) if best_len is None else best_len
            length = (fraction_bars(candidate), len(str(candidate)))
            if length >= best_len:
                continue
        best, best_ops, best_len = candidate, ops, length
    if best.has(sign):  # cancel may bring sign(u) and |u| together
        best = sign_products(best)
    return _fewer_minus(_collapsed_sums(best))


def _fewer_minus(expr):
    """``expr`` with each negative multiple of one plain denominator that is a sum,
    -c/(a - b), written c/(b - a) where that leaves fewer minus signs: d/dx ln((1 + x)/(1 - x))
    is 2/(1 - x²), not -2/(x² - 1); and of one plain factor that is a sum, -(2 - x)·e⁻ˣ
    as (x - 2)·e⁻ˣ (d²/dx² x·e⁻ˣ).  (Not under a power: (x - 1)³ stays as it is.)  Taken
    only where the whole is simpler by ``tidy``'s measure."""

    def flip(m):
        c, rest = m.as_coeff_Mul()
        if not (c.is_Number and c.is_extended_negative):
            return m
        factors = Mul.make_args(rest)
        sums = [f for f in factors if f.is_Pow and f.exp is S.NegativeOne and f.base.is_Add]
        # -(2 - x)·e⁻ˣ is (x - 2)·e⁻ˣ; a sum of functions, such as tanh′ = 1 - tanh², stays
        sums += [f for f in factors if f.is_Add and f.is_polynomial()]
        if len(sums) != 1:
            return m
        total = sums[0] if sums[0].is_Add else sums[0].base
        terms = total.args
        minus = sum(1 for t in terms if _coeff_isneg(t))
        if len(terms) - minus >= minus + 1:
            return m
        others = [f for f in factors if f is not sums[0]]
        return Mul(-c, *others, -total if sums[0].is_Add else 1 / -total)

    if not expr.has(Add):
        return expr
    try:
        flipped = expr.replace(lambda e: e.is_Mul, flip)
    except Exception:  # a rewrite that fails is simply not used
        return expr
    if flipped == expr:
        return expr
    # taken where it is simpler by tidy's own measure: fewer operations, then shorter text
    before = (count_ops_fast(expr), len(str(expr)))
    return flipped if (count_ops_fast(flipped), len(str(flipped))) < before else expr


def _collapsed_sums(expr):
    """``expr`` with each sum that has a product of a sum among its terms, and no fraction
    (whose denominators ``expand_mul`` would multiply out), multiplied out where that takes
    fewer operations: the factor 2 + x − x·(1 + x) that ``cancel`` leaves
    in x·(2 + x − x·(1 + x))·e⁻ˣ/(1 + x)² is 2 − x², as one writes it."""

    def walk(e):
        if not e.args or e.is_Atom:
            return e
        args = tuple(walk(a) for a in e.args)
        if args != e.args:
            e = e.func(*args)
        if (
            e.is_Add
            and any(map(_product_of_sum, e.args))
            and not has_fraction(e)
            and expansion_terms(e, CANCEL_TERMS) <= CANCEL_TERMS
        ):
            multiplied = expand_mul(e)
            if count_ops_fast(multiplied) < count_ops_fast(e):
                return multiplied
        return e

    if not any(n.is_Add and any(map(_product_of_sum, n.args)) for n in preorder_traversal(expr)):
        return expr
    try:
        return walk(expr)
    except Exception:  # a rewrite that fails is simply not used
        return expr


def reordered_only(before, after) -> bool:
    """True when ``after`` is ``before`` with only the order of terms and factors changed
    (at any depth, nested sums and products flattened): such a form is no simplification,
    and no Simplify step may claim it is.  cos(tanh x)·(1 − tanh²x) and
    (1 − tanh²x)·cos(tanh x) are; 2a + 2b and 2(a + b), or −(a + b) and −a − b, are not."""
    if isinstance(before, MatrixBase) or isinstance(after, MatrixBase):
        return (
            isinstance(before, MatrixBase)
            and isinstance(after, MatrixBase)
            and before.shape == after.shape
            and all(reordered_only(a, b) for a, b in zip(before, after))
        )
    return _order_key(before) == _order_key(after)


def _order_key(expr) -> tuple:
    """``expr``'s tree with the arguments of every sum and product sorted."""
    if not isinstance(expr, Basic):
        return (type(expr).__name__, str(expr))
    if not expr.args:  # SymPy's sort key: a number as a number (3**999**2 has no str)
        return (type(expr).__name__, default_sort_key(expr))
    if isinstance(expr, (Add, Mul)):
        parts, stack = [], list(expr.args)
        while stack:  # a sum of sums is one sum, as printed
            arg = stack.pop()
            if type(arg) is type(expr):
                stack.extend(arg.args)
            else:
                parts.append(_order_key(arg))
        return (type(expr).__name__, tuple(sorted(parts)))
    return (type(expr).__name__, tuple(_order_key(a) for a in expr.args))


def _has_denominator(term) -> bool:
    return any(
        (f.is_Pow and f.exp.is_negative) or (f.is_Rational and not f.is_Integer)
        for f in Mul.make_args(term)
    )


def fraction_bars(expr) -> int:
    """How many fraction bars the expression is drawn with: cos(x)/x - sin(x)/x² has two,
    (x·cos(x) - sin(x))/x² one."""
    if expr.is_Atom:
        return 0
    if expr.is_Mul and _has_denominator(expr):
        return 1 + sum(fraction_bars(f) for f in expr.args)
    if expr.is_Pow and expr.exp.is_negative:
        return 1 + fraction_bars(expr.base)
    return sum(fraction_bars(a) for a in expr.args)


def nested_fractions(expr) -> int:
    """How many sums with a fraction among their terms stand in a fraction's numerator or
    denominator: (ln(x)/2 + 1)/√x has one, (ln(x) + 2)/(2√x) none (the form people write)."""
    count = 0
    for node in preorder_traversal(expr):
        if node.is_Mul and _has_denominator(node):
            count += sum(1 for f in node.args if f.is_Add and any(map(_has_denominator, f.args)))
    return count


# -- a max or min decided by a gate ------------------------------------------------------------
DECIDE_ROUNDS = 4
DECIDE_OPS = 40


def singular_power(factor: Expr) -> bool:
    """A base with a max or min in it, raised to a negative or fractional power."""
    return any(
        (not p.exp.is_integer or p.exp.is_negative) and p.base.has(Max, Min)
        for p in factor.atoms(Pow)
    )


def decide(expr: Expr, positive: list[Expr]) -> Expr:
    """``expr`` with each max (min) replaced by the argument that a difference known to be
    positive (or at least 0) shows to be at least (at most) every other argument."""

    def once(e: Expr, known: list[Expr]) -> Expr:
        def select(m: Expr) -> Expr:
            direction = 1 if isinstance(m, Max) else -1
            for a in m.args:
                if all(b == a or _known_positive(direction * (a - b), known) for b in m.args):
                    return a
            return m

        return e.replace(lambda n: isinstance(n, (Max, Min)), select)

    for _ in range(DECIDE_ROUNDS):  # a gate of max(-1, min(1, x)) has min(1, x) in it
        decided = [once(g, positive) for g in positive]
        if decided == positive:
            break
        positive = decided
    return once(expr, positive)


def _known_positive(difference: Expr, positive: list[Expr]) -> bool:
    """``difference`` is one of ``positive``, as written or multiplied out (small ones only:
    expand is not bounded)."""
    return any(
        difference == g
        or (
            count_ops_fast(difference - g, DECIDE_OPS) <= DECIDE_OPS and expand(difference - g) == 0
        )
        for g in positive
    )
