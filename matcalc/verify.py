"""Check a result against references built from the input alone, before it is shown.

The one entry point is ``check(problem, result)``, which ``matcalc.api`` calls for every
derivation: it builds the reference (``reference``: SymPy's derivative, for scalars;
``explicit_reference``: ``Matrix.jacobian`` of the explicit components at concrete sizes,
for vectors and matrices; ``sympy.hessian`` of them at two sizes, for a Hessian),
substitutes concrete functions for unknown ones, and returns one ``Verify`` step.  The
components shown with ``--dim`` (``explicit``, ``explicit_step``) are written out here too.

``verify(result, reference)`` compares one result with one reference, entry by entry:

1. symbolic: the difference is 0 after evaluation, ``expand`` or ``cancel``, within a
   budget: skipped on large expressions, ``expand`` only when ``expansion_terms`` bounds
   its result by ``EXPAND_TERMS`` (``(1 + x + x² + x³)⁴⁰`` is not expanded, only its
   common factors taken out), each rewrite bounded in time; the numeric check decides;
2. numeric: otherwise both sides are evaluated at seeded pseudo-random points, at full
   double precision (not on a grid), drawn log-uniformly from four scales (1e-6…1e-3,
   1e-3…0.1, 0.1…3 and 3…100; every other point takes all variables from one scale
   and sign in turn, the others mix them), plus up to ``MAX_SPECIAL``
   points on both sides of each kink and domain boundary of the input (1e-6 and 1e-3
   away, relatively).  Each side is evaluated at the point node by node in mpmath at 30
   digits (a node mpmath lacks: SymPy's ``evalf``) and compared with relative tolerance
   ``TOLERANCE`` = 1e-9 above ``NOISE`` = 1e-20 (two values both within ``NOISE`` of 0
   are no evidence; against a difference quotient of the input, which is good to fewer
   digits, the tolerance is 1e-9 of the larger of 1 and the values); a disagreement is
   confirmed by SymPy's ``evalf`` at 60 digits,
   and a point whose values move between the two (sin(e²⁰⁰)) is skipped as
   ill-conditioned.  Up to ``TRIES`` random points are tried; ``POINTS`` agreeing (or at
   least ``MIN_POINTS``, 6) gives True; any point disagreeing gives False; fewer than
   ``MIN_POINTS`` gives None (undecided, shown as "not verified").  A point is skipped
   where a side is not a finite number (a pole, ln of 0, a value above 1e12 such as
   exp(100)).  ``deadline`` is checked between points.

The domain: given the input (``domain``), a point counts when the input *as typed* is
real and finite there, even where an inner part is complex (|√x| at x < 0 is real);
points outside that domain are skipped.  A point on a kink of the input (an argument of
|·|, sign or the step at 0, two arguments of max or min equal, within 1e-9) is compared
with a central difference of the input (``truth``), not with SymPy's derivative (whose
value on a kink is a convention): a tie can hold on a whole interval (max(-x, |x|) for
x < 0, max(sin²x, 1 - cos²x) everywhere), where the input is differentiable.  The point
is skipped only where the input is not differentiable (its left and right difference
quotients differ, |x| at 0), or when there is no ``truth`` to ask.  Without ``domain``
(a component check), points where a kink's argument is not real are skipped too.  Where
SymPy's derivative cannot be evaluated at a point of the domain, a central difference
of the input (``truth``) at 30 digits stands in for it.

Conventions: complex values are compared as SymPy computes them (principal branches:
ln(-2) = ln 2 + iπ).  Kinks (max, min, |x|) use 0 at the kink; SymPy's ``Heaviside``
uses 1/2 there.  Both are compared as ``Heaviside(z, 0)``, off the kink.

Unknown functions (f(x)) have no values: ``matcalc.api`` substitutes concrete ones
(``substitutions``) and compares with SymPy's derivative of the substituted input.
Called directly, an expression with an unknown function is only checked symbolically:
True or None, never False.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

import mpmath
from sympy import (
    Abs,
    Add,
    Basic,
    Derivative,
    Dummy,
    Expr,
    Float,
    Heaviside,
    Lambda,
    MatrixBase,
    Max,
    Min,
    Mul,
    Pow,
    Rational,
    S,
    Subs,
    Symbol,
    acos,
    acosh,
    acoth,
    acsc,
    asec,
    asin,
    atan2,
    atanh,
    cancel,
    exp,
    expand,
    factor_terms,
    log,
    nan,
    preorder_traversal,
    sign,
    sin,
    together,
    zoo,
)
from sympy.core.function import AppliedUndef

from matcalc.deadline import NEVER, Deadline
from matcalc.engine.simplify import (
    CANCEL_TERMS,
    EXPAND_TERMS,
    MAX_RATIO_OPS,
    _in_sin_cos,
    _ratios_meet,
    bounded,
    count_ops_fast,
    expansion_terms,
    fraction_terms,
    has_fraction,
    plain_gates,
)
from matcalc.functions import rewrite_builtin
from matcalc.msg import Msg
from matcalc.steps import Explicit, Math, Problem, Verify

TOLERANCE = 1e-9
NOISE = 1e-20  # an imaginary part this small is rounding (values above 1e12 are skipped)
"""Relative tolerance of the numeric check, and the distance from a kink that counts as on it."""
POINTS = 12
"""Agreeing points that make a numeric check True (at least ``MIN_POINTS`` when fewer are found)."""
MIN_POINTS = 6
"""Fewer agreeing points than this is no evidence: the check is undecided, never "Verified"."""
SIDES_AGREE = 1e-6
"""Relative distance within which the one-sided difference quotients at a kink agree."""
OFF, ON_KINK = "off", "on kink"
"""Where a sample point lies (``_Sampler.locate``)."""
TRIES = 40
MAX_SPECIAL = 8
SPECIAL_SECONDS = 0.5
"""Time for finding the kinks and domain boundaries of the input (the points beside them)."""
SCALES = ((1e-6, 1e-3), (1e-3, 0.1), (0.1, 3.0), (3.0, 100.0))
LARGE = 1e12
MAX_SYMBOLIC_OPS = 200
_KINKS = (Abs, Heaviside, Max, Min, sign)
_GRID = sorted({s * 10 ** (k / 4) for k in range(-16, 9) for s in (-1, 1)} | {0.0})
NEAR_DELTAS: tuple[float, ...] = (1e-6, -1e-6, 1e-3, -1e-3)
"""Where the special points lie beside a boundary or kink at r: r + δ·max(1, |r|)."""
TOGETHER_DELTAS = (
    1.3e-3,
    -1.3e-3,
    0.013,
    -0.013,
    0.13,
    -0.13,
    0.53,
    -0.53,
    1.13,
    -1.13,
    2.17,
    -2.17,
)
"""The same for the points with every variable beside its own boundary at once (δ, then
1.3δ, 1.6δ … for the second, third … variable).  No round numbers: at x = -1 exactly,
cot(x)^|x| is real, but nowhere beside it (the slow fuzz found its derivative "wrong" there)."""
FAR_DELTAS: tuple[float, ...] = (
    1e-6,
    -1e-6,
    1e-3,
    -1e-3,
    0.01,
    -0.01,
    0.1,
    -0.1,
    0.3,
    -0.3,
    1.0,
    -1.0,
)
"""The same beside one beyond 100, and further in, where the random points never go."""
FAR_GRID = sorted({s * 10 ** (k / 4) for k in range(8, 25) for s in (-1, 1)})
"""100 to 10⁶ in size, either sign: kinks beyond _GRID (|x - 200|), for matcalc check."""


def _normalise(expr: Expr, memo: dict | None = None) -> Expr:
    """``expr`` with SymPy's built-ins for matcalc's functions, and 1[0 > 0] = 0;
    ``memo``: see ``rewrite_builtin``."""
    expr = rewrite_builtin(expr, memo)
    if expr.has(Heaviside):
        try:
            expr = expr.replace(
                lambda e: isinstance(e, Heaviside) and e.args[1:] != (0,),
                lambda e: Heaviside(e.args[0], 0),
            )
        except ValueError:  # 1[z > 0] of a z SymPy finds complex: left as it is
            pass
        expr = plain_gates(expr)  # 1[-2x > 0] is 1[-x > 0], on both sides alike
    return expr


def _normal_form(expr: Expr, known: dict) -> Expr:
    """``_normalise(expr)``, once per expression of a check."""
    key = ("normal", expr)
    if key not in known:
        known[key] = _normalise(expr, known.setdefault("rewritten", {}))
    return known[key]


def _common_factor_zero(diff: Expr) -> Expr:
    """``factor_terms(diff)``, or 0 where one of its factors is a sum small enough to
    multiply out and that is 0: 100p⁹⁹q⁹⁹·(5x⁴ + 4x³ + 2x + 1) − 100p⁹⁹q¹⁰⁰·(2x + 1) − …
    is 100p⁹⁹q⁹⁹·(5x⁴ + 4x³ + 2x + 1 − (2x + 1)·q − (3x² − 1)·p), whose last factor is."""
    factored = factor_terms(diff)
    for factor in Mul.make_args(factored):
        if factor.is_Add and expansion_terms(factor) <= EXPAND_TERMS and expand(factor) == 0:
            return S.Zero
    return factored


def _same_radicands(diff: Expr) -> Expr:
    """``diff`` with the sums under a root (any power not an integer) multiplied out where
    two of them are then the same: the result's ‖(2w + 1) ⊗ Ax‖ and SymPy's ‖Ax + 2Ax ⊗ w‖
    are one root, which over one denominator would otherwise multiply each other's
    numerators (3 times the work); unchanged otherwise, or where a sum is too big."""
    roots = [
        p
        for p in diff.atoms(Pow)
        if p.base.is_Add and not p.exp.is_Integer and expansion_terms(p.base) <= CANCEL_TERMS
    ]
    sums = {p.base for p in roots}
    if len(sums) < 2:
        return diff
    bases = {b: expand(b) for b in sums}
    if len(set(bases.values())) == len(bases):  # no two sums the same multiplied out
        return diff
    return diff.xreplace({p: Pow(bases[p.base], p.exp) for p in roots})


def _symbolically_zero(diff: Expr) -> bool:
    if diff == 0:
        return True
    if count_ops_fast(diff, limit=MAX_SYMBOLIC_OPS) > MAX_SYMBOLIC_OPS:
        return False
    diff = _same_radicands(diff)
    if diff == 0:
        return True
    # cancel only helps with rational functions; with kinks the numeric check decides
    fractions = has_fraction(diff) and not diff.has(Heaviside, Max, Min)
    # last, where the others fail: tan with sec, sin² with cos …, written in sin and cos
    # with sin² + cos² = 1
    rewrites: tuple = (_numerator_zero, expand, cancel) if fractions else (expand,)
    rewrites = (*rewrites, _in_sin_cos)
    if expansion_terms(diff) > EXPAND_TERMS:  # too big to multiply out in time
        # common factors only: p^99·q^99·(… − …) is still seen as 0 (its last factor
        # multiplied out where that is small)
        rewrites = (_common_factor_zero,)
    for rewrite in rewrites:
        if rewrite is _numerator_zero and fraction_terms(diff) > CANCEL_TERMS:
            continue
        if rewrite is cancel and fraction_terms(diff) > CANCEL_TERMS:
            continue
        if rewrite is _in_sin_cos and not (
            count_ops_fast(diff) <= MAX_RATIO_OPS and _ratios_meet(diff)
        ):
            continue
        try:
            if bounded(rewrite, diff) == 0:
                return True
        except Exception:
            continue
    return False


def _kink_args(node: Expr) -> list[Expr]:
    """The expressions that are 0 at the kink of ``node`` (|u|, sign(u), 1[u > 0], max, min).

    A constant one is left out: |0| and max(x, x + 0) do not switch anywhere, and a kink
    argument that is 0 everywhere would put every point "on the kink"."""
    if isinstance(node, (Max, Min)):
        args = [p - q for i, p in enumerate(node.args) for q in node.args[i + 1 :]]
    else:
        args = [node.args[0]]
    return [a for a in args if a.free_symbols]


def _boundaries(exprs: Sequence[Expr]) -> list[Expr]:
    """Expressions whose zeros are a kink or a domain boundary of one of ``exprs``."""
    out: list[Expr] = []
    for expr in exprs:
        for node in expr.atoms(*_KINKS):
            out += _kink_args(node)
        for node in expr.atoms(log, Pow, asin, acos, acosh, atanh):
            if isinstance(node, log):
                out.append(node.args[0])
            elif isinstance(node, Pow):
                if not node.exp.is_integer and node.base.free_symbols:
                    out.append(node.base)
            elif isinstance(node, acosh):
                out.append(node.args[0] - 1)
            else:
                out += [node.args[0] - 1, node.args[0] + 1]
    seen: list[Expr] = []
    for b in out:
        if b.free_symbols and b not in seen:
            seen.append(b)
    return seen


class _Sampler:
    """The points of one check: the input's domain and its kinks."""

    def __init__(self, exprs, domain, seed: int, deadline: Deadline, inputs=()):
        """``inputs``: without a ``domain`` (a component check), the input components whose
        kinks are the input's own (``ON_KINK``)."""
        self.domain = [_normalise(e) for e in domain] if domain is not None else None
        symbols = set().union(*(e.free_symbols for e in exprs))
        for e in self.domain or ():
            symbols |= e.free_symbols
        self.symbols = sorted(symbols, key=str)
        self.rng = random.Random(seed)
        # the other components an input depends on, drawn apart (the points stay as they were)
        self.extra = sorted(set().union(*(e.free_symbols for e in inputs)) - symbols, key=str)
        self.extra_rng = random.Random(seed + 1)
        self.deadline = deadline
        own = set().union(
            *(e.atoms(*_KINKS) for e in (self.domain if self.domain is not None else inputs))
        )
        other = set().union(*(e.atoms(*_KINKS) for e in exprs)) - own
        self.own_kinks = [a for k in own for a in _kink_args(k)]
        self.other_kinks = [a for k in other for a in _kink_args(k)]

    def draw(self, k: int = -1) -> dict[Symbol, Expr]:
        """The k-th random point: every other one takes all variables from one scale, in
        turn (very near 0, near 0, moderate, large); the others mix the scales."""
        extra = {s: self._number(rng=self.extra_rng) for s in self.extra}
        if k < 0 or k % 2:
            return {**{s: self._number() for s in self.symbols}, **extra}
        turn = k // 2 % (2 * len(SCALES))  # each scale positive, then each negative
        scale, sign = SCALES[turn % len(SCALES)], 1 if turn < len(SCALES) else -1
        return {**{s: self._number(scale, sign) for s in self.symbols}, **extra}

    def _number(self, scale=None, sign=0, rng=None) -> Float:
        rng = rng or self.rng
        low, high = scale or rng.choice(SCALES)
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        sign = sign or (1 if rng.random() < 0.5 else -1)
        return Float(sign * value, 30)

    def special(self) -> list[dict[Symbol, Expr]]:
        """Points on both sides of the kinks and domain boundaries, near but not on them."""
        boundaries = _boundaries(self.domain if self.domain is not None else [])
        boundaries = sorted((b for b in boundaries if count_ops_fast(b) <= 60), key=count_ops_fast)
        points: list[dict[Symbol, Expr]] = []
        budget = time.monotonic() + SPECIAL_SECONDS
        first: dict[Symbol, float] = {}  # a root of each variable alone, for ``together``
        for b in boundaries[:4]:
            if time.monotonic() > budget:
                break
            full = len(points) >= MAX_SPECIAL  # then only the roots of another variable
            if full and (len(b.free_symbols) != 1 or b.free_symbols <= set(first)):
                continue
            base = self.draw()
            s = sorted(b.free_symbols, key=str)[0]
            if s not in base:
                continue
            roots, deltas = self._roots(b, s, base), NEAR_DELTAS
            if not roots and b.is_polynomial(s):  # beyond 100 (ln(x - 1000), a kink at
                # x = 200): out to 10⁶ for a polynomial (as check does), and further from it,
                # where the random points (within 100) never go
                roots, deltas = self._roots(b, s, base, FAR_GRID), FAR_DELTAS
            if roots and len(b.free_symbols) == 1:
                first.setdefault(s, roots[0])
            for root in roots[:2] if not full else ():
                for delta in deltas:
                    point = dict(base)
                    point[s] = Float(root + delta * max(1.0, abs(root)), 30)
                    points.append(point)
        moved = beside_all(first, 1.0)
        base = self.draw() if moved else {}  # (no draw otherwise: the points stay as they were)
        together = [{**base, **{s: Float(v, 30) for s, v in m.items()}} for m in moved]
        return together + points[: MAX_SPECIAL * 2]

    def _roots(self, b: Expr, s: Symbol, base, grid: Sequence[float] = ()) -> list[float]:
        """Up to two zeros of ``b`` in ``s`` (the others at ``base``), found where ``b``
        changes sign between two points of ``grid`` (default ``_GRID``, 1e-4 to 100 in size)."""

        def at(t: float) -> float | None:
            point = dict(base)
            point[s] = Float(t, 30)
            v = _value(b, point)
            return None if v is None or abs(v.imag) > TOLERANCE * max(1.0, abs(v)) else v.real

        roots: list[float] = []
        values = [(t, at(t)) for t in grid or _GRID]
        for (t0, v0), (t1, v1) in zip(values, values[1:]):
            self.deadline.check()
            if v0 == 0:
                roots.append(t0)
                continue
            if v0 is None or v1 is None or (v0 > 0) == (v1 > 0):
                continue
            lo, hi, vlo = t0, t1, v0
            for _ in range(40):
                mid = (lo + hi) / 2
                vm = at(mid)
                if vm is None:
                    break
                if (vm > 0) == (vlo > 0):
                    lo, vlo = mid, vm
                else:
                    hi = mid
            roots.append((lo + hi) / 2)
            if len(roots) >= 2:
                break
        return roots[:2]

    def usable(self, point, memo: dict | None = None) -> bool:
        """True when ``point`` is in the domain and off the kinks.

        ``memo``: the values of subexpressions at this point, shared with later evaluations."""
        return self.locate(point, memo) == OFF

    def locate(self, point, memo: dict | None = None) -> str | None:
        """Where ``point`` lies: ``OFF`` every kink, in the domain; ``ON_KINK`` of the
        input (two arguments of max tie, |u| with u = 0), in the domain and off the other
        kinks; None outside the domain, or on a kink of the result or reference only.

        ``memo``: the values of subexpressions at this point, shared with later evaluations."""
        if self.domain is not None and not all(_in_domain(e, point, memo) for e in self.domain):
            return None
        place = OFF
        for arg in self.own_kinks:
            v = _value(arg, point, memo=memo)
            if v is None or (self.domain is None and not _real(v)):  # no input to ask
                return None
            if _real(v) and abs(v.real) <= TOLERANCE:
                place = ON_KINK
        for arg in self.other_kinks:
            v = _value(arg, point, memo=memo)
            if v is None or (self.domain is None and not _real(v)):  # no input to ask
                return None
            if _real(v) and abs(v.real) <= TOLERANCE and place == OFF:
                return None  # a kink of the result or reference only: no truth here
        return place


def beside_all(first: dict, floor: float) -> list[dict]:
    """Every variable of ``first`` (variable → a root of one of its boundaries) beside its
    own root at once, r + δ·max(floor, |r|) for each δ of ``TOGETHER_DELTAS`` (the second
    variable 1.3δ, the third 1.6δ …, so that no two entries are equal): the entries of
    sum(√(x - 50)) are real together only where every xᵢ is beyond 50, which moving one
    variable at a time never reaches.  Empty for fewer than two variables."""
    if len(first) < 2:
        return []
    return [
        {s: r + d * (1 + 0.3 * i) * max(floor, abs(r)) for i, (s, r) in enumerate(first.items())}
        for d in TOGETHER_DELTAS
    ]


def _real(value: complex | None) -> bool:
    """A real number, up to rounding: its imaginary part is small against the value itself
    (not against 1: u = (-0.06)^22.9 ≈ 1e-28·e^(iθ) is complex, however small), or below
    ``NOISE``, what 30-digit evaluation leaves of an exact zero."""
    if value is None:
        return False
    return abs(value.imag) <= max(TOLERANCE * abs(value), NOISE)


def _in_domain(expr: Expr, point: dict, memo: dict | None = None) -> bool:
    """``expr`` is a real number at ``point`` (``_real``), and not only by ``NOISE``
    (``_tiny_complex``) unless that is the rounding of an exact 0 (``_vanishes``)."""
    v = _value(expr, point, memo=memo)
    return _real(v) and not (_tiny_complex(v) and not _vanishes(expr, point))


def _tiny_complex(value: complex | None) -> bool:
    """Real only by ``NOISE``: below it, with an imaginary part that is not small against the
    value.  That is the rounding of an exact 0 (``_vanishes``), or a value truly complex and
    tiny: √(x − 500)^(10x) at x = -25 is about 10⁻¹⁴⁰·i, outside the input's real domain,
    where a result wrong only for x > 500 agreed with the reference at every point."""
    return value is not None and value != 0 and abs(value.imag) > TOLERANCE * abs(value)


class _SharedPoints:
    """The random points of a whole matrix check, drawn once over the symbols of all its
    entries, each with one memo of subexpression values: every entry is compared at the
    same points, so a subexpression the entries share (σ(x₁·w + b) in every entry of a
    Hessian, a whole entry repeated by symmetry) is evaluated once per point.  For
    component checks only (no ``domain``, so no special points beside its boundaries)."""

    def __init__(self, exprs: Sequence[Expr], deadline: Deadline):
        self.exprs, self.deadline = list(dict.fromkeys(exprs)), deadline
        self.sampler: _Sampler | None = None  # drawn from when an entry is first compared
        self.points: list[tuple[dict[Symbol, Expr], dict]] = []

    def sampler_of(self) -> _Sampler:
        """The sampler of the whole check (its symbols and kinks are those of every entry)."""
        if self.sampler is None:
            self.sampler = _Sampler(self.exprs, None, 0, self.deadline)
        return self.sampler

    def get(self, k: int) -> tuple[dict[Symbol, Expr], dict]:
        """The k-th point and its memo."""
        sampler = self.sampler_of()
        while len(self.points) <= k:
            self.points.append((sampler.draw(len(self.points)), {}))
        return self.points[k]


def _numerator_zero(diff: Expr) -> Expr:
    """0 when the numerator of ``diff`` over one denominator multiplies out to 0 (then
    ``diff`` is 0 wherever it is defined), else ``diff`` itself.

    The same proof as ``cancel``'s, which also divides out the gcd of numerator and
    denominator, work a zero test does not need (SymPy's ``cancel`` builds a new
    polynomial ring for each call, which cost more than the expansion)."""
    numerator = together(diff).as_numer_denom()[0]
    return S.Zero if expand(numerator) == 0 else diff


def _numeric(
    result: Expr,
    reference: Expr,
    seed: int,
    deadline: Deadline = NEVER,
    *,
    domain: Sequence[Expr] | None = None,
    truth: tuple[Expr, Symbol] | None = None,
    shared: _SharedPoints | None = None,
) -> tuple[bool | None, int]:
    """(status, points compared) from evaluation at points of the domain.

    On a kink of the input (``ON_KINK``: max(-x, |x|) for x < 0 ties on a whole interval),
    SymPy's derivative follows a convention, not the input: the result is compared there
    with a central difference of the input (``truth``), where the input is differentiable
    (its one-sided difference quotients agree); other points on a kink are skipped.
    ``shared``: the points (and values) of a whole matrix check, in place of this entry's
    own (``seed``); without a ``domain`` only."""
    if result.atoms(AppliedUndef) or reference.atoms(AppliedUndef):
        return None, 0
    if domain is not None and any(e.atoms(AppliedUndef) for e in domain):
        return None, 0
    inputs = () if truth is None else (_normalise(truth[0]),)
    if shared is not None and truth is None:
        # the check's own sampler: a point on a kink of any entry is skipped for every entry
        sampler = shared.sampler_of()
    else:
        sampler = _Sampler((result, reference), domain, seed, deadline, inputs)
    agreed = 0
    special = [] if shared is not None else sampler.special()
    for k in range(len(special) + TRIES):
        deadline.check()
        memo: dict  # both sides and the domain share their subexpressions' values
        if shared is not None:
            point, memo = shared.get(k)
        else:
            point = special[k] if k < len(special) else sampler.draw(k - len(special))
            memo = {}
        place = sampler.locate(point, memo)
        if place is None or (place == ON_KINK and truth is None):
            continue
        a = _value(result, point, memo=memo)
        if a is None:
            continue
        quotient = place == ON_KINK and truth is not None  # b a difference quotient
        if quotient and truth is not None:
            b = _one_sided(truth[0], truth[1], point)
        else:
            b = _value(reference, point, memo=memo)
            if b is None and truth is not None and domain is not None:
                b, quotient = _difference(*truth, point), True
        if b is None:
            continue
        differ = _differ_quotient if quotient else _differ
        if differ(a, b):
            # confirm at twice the working precision: sin(e^200) at 30 digits is noise, and
            # so is a difference quotient of an input whose value is large against its
            # change (atanh(‖max(0, -w³)‖) + 10¹⁰·a at w ≈ 10⁻³: 30 digits leave one unit of
            # the last place for the step)
            a2 = _value(result, point, precision=60)
            if place == ON_KINK and truth is not None:
                b2 = _one_sided(truth[0], truth[1], point, digits=60)
            else:
                b2 = _value(reference, point, precision=60)
                if b2 is None and truth is not None and domain is not None:
                    b2 = _difference(*truth, point, digits=60)
            if a2 is None or b2 is None or _differ(a, a2) or differ(b, b2):
                continue  # ill-conditioned here: no evidence either way
            return False, agreed + 1
        # both within noise of 0: evidence only where both are 0 (an identity such as
        # d sum(softmax(x)) = 0 that SymPy does not cancel within its bounds), not small
        if (
            not quotient
            and not _evidence(a, b)
            and not (_vanishes(result, point) and _vanishes(reference, point))
        ):
            continue
        agreed += 1
        if k >= len(special) and agreed >= POINTS:  # every special point, then POINTS in all
            return True, agreed
    return (True if agreed >= MIN_POINTS else None), agreed


def _value(
    expr: Expr,
    point: dict[Symbol, Expr],
    digits: int = 15,
    precision: int = 30,
    memo: dict | None = None,
) -> complex | None:
    """``expr`` at ``point``, or None where it is not a finite number no larger than 1e12.

    Evaluated node by node in mpmath at ``precision`` digits (fast on large trees); a node
    mpmath does not know, or ``precision`` above 30, takes SymPy's ``evalf``.  ``memo``
    (at 30 digits only) holds the values of subexpressions at this same ``point``, to share
    them between evaluations there."""
    number: complex | None
    if precision <= 30:
        if precision != 30 or memo is None:
            memo = {}
        try:
            with mpmath.workdps(precision):
                at = memo.get(_POINT)
                if at is None:  # the point in mpmath numbers, converted once per point
                    at = memo[_POINT] = {s: mpmath.mpf(v) for s, v in point.items()}
                exact = _mp(expr, at, memo)
                number = complex(exact)
                if number == 0 and exact != 0 and not _rounds_to_zero():
                    return None  # below 1e-308 (√(x - 500)^x at 500.0005 is 10⁻⁴¹³): a
                    # double's 0, which any other value that small would equal
        except _Unknown:
            number = _sympy_value(expr, point, digits, precision)
        except (ArithmeticError, ValueError, TypeError, OverflowError):
            return None
    else:
        number = _sympy_value(expr, point, digits, precision)
    if number is None or number != number or abs(number) > LARGE:
        return None
    return number


def _sympy_value(expr: Expr, point, digits: int, precision: int) -> complex | None:
    try:
        at = {s: Float(v, precision) for s, v in point.items()}
        value = expr.xreplace(at).evalf(digits)
    except Exception:
        return None
    if value.has(nan, zoo) or value.free_symbols or not value.is_number:
        return None
    try:
        return complex(value)
    except TypeError:
        return None


_POINT = object()
"""The key under which a memo of ``_value`` keeps its point in mpmath numbers."""


class _Unknown(Exception):
    """A node the mpmath evaluator does not know: SymPy evaluates the expression instead."""


_MP_FUNCTIONS = {
    name: getattr(mpmath, name)
    for name in [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "asin",
        "acos",
        "atan",
        "acot",
        "asec",
        "acsc",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "sech",
        "csch",
        "asinh",
        "acosh",
        "atanh",
        "acoth",
        "asech",
        "acsch",
        "exp",
        "erf",
        "erfc",
    ]
}
_MP_FUNCTIONS["log"] = mpmath.log
_GROWING = {"exp", "sinh", "cosh", "tanh", "coth", "sech", "csch"}
_PERIODIC = {"sin", "cos", "tan", "cot", "sec", "csc"}
_HUGE = 1e4
"""Beyond e^(10⁴) a value is far above ``LARGE``; mpmath would still build it, slowly."""


def _mp(expr: Expr, point: dict, memo: dict):
    """``expr`` as an mpmath number at ``point`` (mpmath's working precision, 30 digits)."""
    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        if expr not in point:
            raise _Unknown
        value = point[expr]
    elif expr is S.ImaginaryUnit:
        value = mpmath.mpc(0, 1)
    elif expr.is_Number or expr.is_NumberSymbol:
        if expr.is_Number and not expr.is_finite:
            raise ArithmeticError
        value = mpmath.mpf(expr.evalf(mpmath.mp.dps + 5))  # 35 digits at the usual 30
    else:
        args = [_mp(a, point, memo) for a in expr.args]
        value = _mp_node(expr, args)
    if isinstance(value, mpmath.mpc) and value.imag == 0:
        value = value.real
    memo[expr] = value
    return value


def precise_value(expr: Expr, point: dict[Symbol, float], digits: int = 60):
    """``expr`` at ``point`` as an mpmath number at ``digits`` digits (node by node; SymPy's
    ``evalf`` where mpmath lacks a node), or None where it is not a finite number.  For
    ``matcalc check``, whose answers agree with the derivative to 1e-7 at 30 digits before
    they are called right, and must then agree to 1e-30 here (2.0000001x is not 2x)."""
    try:
        with mpmath.workdps(digits):
            try:
                value = _mp(expr, {s: mpmath.mpf(v) for s, v in point.items()}, {})
            except _Unknown:
                at = {s: Float(v, digits) for s, v in point.items()}
                number = expr.xreplace(at).evalf(digits - 10)
                if number.has(nan, zoo) or not number.is_number:
                    return None
                re, im = (mpmath.mpf(str(part)) for part in number.as_real_imag())
                value = mpmath.mpc(re, im)
            return value if mpmath.isfinite(value) else None
    except (ArithmeticError, ValueError, TypeError, OverflowError):
        return None


_ZERO_BELOW = contextvars.ContextVar("matcalc_zero_below", default=False)


@contextlib.contextmanager
def underflow_to_zero() -> Iterator[None]:
    """While it is open, ``_value`` at 30 digits takes a value below e^(-10⁴) as 0 instead
    of refusing the point.  For ``matcalc check``, whose evidence must be above ``NOISE``
    (a 0 is never evidence there), so that exp(-10⁶x²) still has points on [-2, 2].  Not
    for ``verify``: there two equal values are evidence, and e^(-10⁶)'s derivative and
    minus it would agree as 0 = 0 at every point."""
    token = _ZERO_BELOW.set(True)
    try:
        yield
    finally:
        _ZERO_BELOW.reset(token)


def _rounds_to_zero() -> bool:
    """Whether a value below e^(-10⁴) is taken as 0 (``underflow_to_zero``), at 30 digits
    only (not in ``_vanishes``, which asks whether a value is exactly 0)."""
    return _ZERO_BELOW.get() and mpmath.mp.dps <= 40


def _underflow(base, exponent) -> bool:
    """base^exponent (real, base > 0) far below 1, and taken as 0 (``_rounds_to_zero``)."""
    return (
        isinstance(base, mpmath.mpf)
        and base > 0
        and isinstance(exponent, mpmath.mpf)
        and exponent * mpmath.log(base) < 0
        and _rounds_to_zero()
    )


def _mp_node(expr: Expr, args: list):
    if isinstance(expr, Add):
        return mpmath.fsum(args)
    if isinstance(expr, Mul):
        return mpmath.fprod(args)
    if isinstance(expr, Pow):
        base, exponent = args
        if base == 0:
            if mpmath.re(exponent) < 0:
                raise ZeroDivisionError
            return mpmath.power(base, exponent)
        if abs(exponent) * (abs(mpmath.log(abs(base))) + 1) > _HUGE:  # e^(±10⁴) and beyond
            if _underflow(base, exponent):
                return mpmath.mpf(0)  # below e^(-10⁴): 0 to any digit the check uses
            raise OverflowError
        return mpmath.power(base, exponent)
    name = type(expr).__name__
    if name in _MP_FUNCTIONS and len(args) == 1:
        if name == "exp" and mpmath.re(args[0]) < -_HUGE and _rounds_to_zero():
            return mpmath.mpf(0)  # e^(-10⁴) is 0 to any digit the check uses, not undefined
        if name in _GROWING and abs(mpmath.re(args[0])) > _HUGE:
            raise OverflowError  # far out of range
        if name in _PERIODIC and abs(args[0]) > 1e12:
            raise OverflowError  # no digit of sin(10¹³) is left at 30 digits
        return _MP_FUNCTIONS[name](args[0])
    if isinstance(expr, Abs):
        return abs(args[0])
    if isinstance(expr, sign):
        return 0 if args[0] == 0 else args[0] / abs(args[0])
    if isinstance(expr, atan2):  # defined for real arguments only, as max and min are
        if any(isinstance(a, mpmath.mpc) and a.imag != 0 for a in args):
            raise ValueError("not real")
        return mpmath.atan2(*(mpmath.re(a) for a in args))
    if isinstance(expr, (Max, Min, Heaviside)):
        if any(isinstance(a, mpmath.mpc) for a in args):
            raise ValueError("not real")
        if isinstance(expr, Max):
            return max(args)
        if isinstance(expr, Min):
            return min(args)
        if args[0] == 0:
            if len(args) < 2:
                raise _Unknown
            return args[1]
        return mpmath.mpf(1) if args[0] > 0 else mpmath.mpf(0)
    raise _Unknown


def _differ(a: complex, b: complex) -> bool:
    """Relative to the values themselves: -sign(x)/10¹² is not sign(x)/10¹² (an absolute
    floor of 10⁻⁹ called them equal); above ``NOISE``, what 30-digit evaluation leaves of
    an exact zero."""
    return abs(a - b) > max(TOLERANCE * max(abs(a), abs(b)), NOISE)


def _differ_quotient(a: complex, b: complex) -> bool:
    """``_differ`` against a difference quotient of the input, which is good to some digits
    only (its step is 10⁻¹², its values' rounding is divided by it): within 10⁻⁹ of the
    larger of 1 and the values."""
    return abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b))


def _vanishes(expr: Expr, point: dict[Symbol, Expr]) -> bool:
    """Whether ``expr`` is 0 at ``point``, not merely small: its value shrinks with the working
    precision (below 10⁻⁴⁵ at 60 digits, and by 30 orders more at 120), as the rounding of a
    cancellation does (d/dx₁ of sum(softmax(x)) is a sum of terms near 1 that cancel), while a
    value that is truly tiny (|x|/10²⁵'s slope, or e⁻¹⁰⁰⁰) stays the same at every precision."""
    values = []
    for dps in (60, 120):
        try:
            with mpmath.workdps(dps):
                at = {s: mpmath.mpf(v) for s, v in point.items()}
                values.append(abs(mpmath.mpmathify(_mp(expr, at, {}))))
        except Exception:  # a function mpmath does not know, a pole: no claim
            return False
    v60, v120 = values
    return v60 < mpmath.mpf(10) ** -45 and v120 <= v60 * mpmath.mpf(10) ** -30


def _evidence(a: complex, b: complex) -> bool:
    """Whether agreeing values are evidence: equal, or one of them above ``NOISE`` (two
    values within rounding of 0 would agree whatever the sign of |x|/10²⁵'s slope)."""
    return a == b or max(abs(a), abs(b)) > NOISE


def _difference(
    expr: Expr, wrt: Symbol, point: dict[Symbol, Expr], digits: int = 30
) -> complex | None:
    """d expr / d wrt at ``point`` by a central difference, each side at ``digits`` digits."""
    x0 = point.get(wrt)
    if x0 is None:
        return None
    h = Float(1e-12, 40) * max(1, abs(x0))
    sides = []
    for step in (h, -h):
        moved = {s: Float(v, digits + 20) for s, v in point.items()}
        moved[wrt] = Float(x0, digits + 20) + step
        try:  # subtracted at 30 digits: in doubles the two sides would be equal
            v = _normalise(expr).xreplace(moved).evalf(digits)
        except Exception:
            return None
        if v.has(nan, zoo) or v.free_symbols or not v.is_number:
            return None
        sides.append(v)
    try:
        number = complex(((sides[0] - sides[1]) / (2 * h)).evalf(15))
    except (TypeError, ValueError):
        return None
    if number != number or abs(number) > LARGE:
        return None
    return number


def _one_sided(
    expr: Expr, wrt: Symbol, point: dict[Symbol, Expr], digits: int = 30
) -> complex | None:
    """d expr / d wrt at a point on a kink of ``expr``: the central difference when the
    left and right difference quotients agree (within ``SIDES_AGREE``), else None (the
    input is not differentiable there, as |x| at 0).  Each value at ``digits`` digits."""
    x0 = point.get(wrt)
    if x0 is None:
        return None
    h = Float(1e-12, 40) * max(1, abs(x0))
    values = []
    for step in (-h, 0, h):
        moved = {s: Float(v, digits + 20) for s, v in point.items()}
        moved[wrt] = Float(x0, digits + 20) + step
        try:
            v = _normalise(expr).xreplace(moved).evalf(digits)
        except Exception:
            return None
        if v.has(nan, zoo) or v.free_symbols or not v.is_number:
            return None
        values.append(v)
    try:
        left, right = (complex(((q - p) / h).evalf(15)) for p, q in zip(values, values[1:]))
    except (TypeError, ValueError):
        return None
    if any(n != n or abs(n) > LARGE for n in (left, right)):
        return None
    if abs(left - right) > SIDES_AGREE * max(1.0, abs(left), abs(right)):
        return None
    return (left + right) / 2


def compare(
    result: Expr,
    reference: Expr,
    seed: int = 0,
    deadline: Deadline = NEVER,
    *,
    domain: Sequence[Expr] | None = None,
    truth: tuple[Expr, Symbol] | None = None,
    known: dict | None = None,
    shared: _SharedPoints | None = None,
) -> tuple[bool | None, str, int]:
    """(status, method, points) for one scalar entry.

    ``domain``: the input expression(s), whose real domain is sampled; ``truth``: (input,
    variable) for a central difference where ``reference`` cannot be evaluated or does
    not follow the input (on a kink of it).  ``known``: shared by the entries of one
    check, the normal forms and symbolic verdicts found so far (a symmetric matrix
    repeats its entries); ``shared``: the points of the whole check (``_SharedPoints``).
    """
    if known is None:
        known = {}
    result, reference = _normal_form(result, known), _normal_form(reference, known)
    key = ("zero", result, reference)
    if key not in known:
        known[key] = _symbolically_zero(result - reference)
    if known[key]:
        return True, "symbolic", 0
    status, points = _numeric(
        result, reference, seed, deadline, domain=domain, truth=truth, shared=shared
    )
    return status, "numeric", points


def real_somewhere(exprs: Sequence[Expr], deadline: Deadline = NEVER) -> bool:
    """Whether the scalar ``exprs`` are real together around one point the numeric check
    would draw (within 100, and beside their boundaries out to 10⁶): √(-1 - x²), acoth(sin x)
    and ln(-eˣ) are real nowhere, and their derivatives are those of complex functions.  A
    point counts only with real values beside it too (``real_beside``): ln(-1)·x is real at
    x = 0 alone, where it is 0, and its derivative iπ is still complex."""
    if not _may_be_complex_anywhere(exprs):
        return True  # real wherever it is defined
    if any(e.atoms(AppliedUndef) for e in exprs) or not any(e.free_symbols for e in exprs):
        return True  # unknown functions or constants: no claim
    normal = [_normalise(e) for e in exprs]
    symbols = sorted(set().union(*(e.free_symbols for e in normal)), key=str)

    def real_at(point) -> bool:
        memo: dict = {}
        return all(_in_domain(e, point, memo) for e in normal)

    def real_beside(point) -> bool:
        """Real at a point beside ``point`` too: ln(-1)·x and (-8)^(1/3)·x are real at
        x = 0 alone, √x + √(-x) too, (-2)ˣ at whole x; none has a real derivative there.
        Each variable moves by a different amount, so that the line x = y of √(-(x - y)²)
        is left."""
        return any(
            real_at(
                {
                    s: v + side * (1 + 0.3 * i) * Float(1e-8, 30) * max(1, abs(v))
                    for i, (s, v) in enumerate(sorted(point.items(), key=lambda sv: str(sv[0])))
                }
            )
            for side in (1, -1)
        )

    for t in (0.7, 1.3, -0.6):  # a quick look first: most inputs are real at one of these
        point = {s: Float(t, 30) for s in symbols}
        # (beside it too where every variable has the one value t: the line x = y)
        if real_at(point) and (len(symbols) == 1 or real_beside(point)):
            return True
    sampler = _Sampler(exprs, exprs, 0, deadline)
    for k in range(TRIES):
        deadline.check()
        # a random point is no single real point of a set with no room (those are x = 0, the
        # integers, a line, where the grids below look and ask beside them)
        if sampler.locate(sampler.draw(k), {}) is not None:
            return True
    # then every variable at each point of the grids (acos(acos(acos(x))) is real on
    # [0.54, 0.86] only), of a fine one on [-10, 10] (√(sin(x) - 0.99): on intervals 0.28
    # wide), and beside the boundaries
    fine = [k / 20 for k in range(-200, 201)]
    grid = [{s: Float(t, 30) for s in sampler.symbols} for t in (*_GRID, *FAR_GRID, *fine)]
    return any(
        sampler.locate(point, {}) is not None and real_beside(point)
        for point in (*grid, *sampler.special())
    )


def components_real_somewhere(exprs: Sequence[Expr], shapes, deadline: Deadline = NEVER) -> bool:
    """``real_somewhere`` of the explicit components of vector or matrix ``exprs``, every size
    2: ln(-‖x‖), √(-1 - ‖x‖²) and ln(-1)·sum(x) are real nowhere, as their scalar kin are."""
    from matcalc.linalg.components import explicit
    from matcalc.linalg.shapes import evaluate_shaped

    if not _may_be_complex_anywhere(exprs):
        return True  # no ln, root or inverse function in it: real wherever defined
    dims = dict.fromkeys(default_dims(shapes), 2)
    entries: list[Expr] = []
    for e in exprs:
        value = explicit(evaluate_shaped(e, shapes), shapes, dims)
        entries += list(value) if isinstance(value, MatrixBase) else [value]
    return real_somewhere(entries, deadline)


_PARTLY_REAL = (log, asin, acos, acosh, atanh, acoth, asec, acsc)
"""Functions not real for every real argument (as powers with a fractional exponent)."""


def _may_be_complex_anywhere(exprs: Sequence[Expr]) -> bool:
    return any(_may_be_complex(n) for e in exprs for n in preorder_traversal(e))


def _may_be_complex(node: Basic) -> bool:
    if isinstance(node, _PARTLY_REAL) or node is S.ImaginaryUnit:  # i·x, or ln(-1) evaluated
        return True
    if not node.is_Pow or node.exp.is_Integer:
        return False
    try:
        return not node.base.is_positive
    except (AttributeError, TypeError, ValueError):  # SymPy's own: sec(0) typed, unevaluated,
        return True  # fails its is_positive (1 has no _eval_is_extended_real)


def verify(
    result: Math,
    reference: Math,
    deadline: Deadline = NEVER,
    *,
    domain: Sequence[Expr] | None = None,
    truths: Sequence[tuple[Expr, Symbol] | None] | None = None,
    shared_points: bool = False,
) -> Verify:
    """Compare ``result`` with SymPy's ``reference`` entry by entry.

    ``domain`` and ``truths`` (one per entry) are passed to ``compare``.  With
    ``shared_points`` (a component check: no ``domain``), the entries compared numerically
    are compared at the same points (``_SharedPoints``), each entry at as many as alone.
    """
    if isinstance(result, MatrixBase) != isinstance(reference, MatrixBase):
        return Verify(status=False, method="shape", reference=reference, detail="shapes differ")
    if isinstance(result, MatrixBase):
        if result.shape != reference.shape:
            return Verify(status=False, method="shape", reference=reference, detail="shapes differ")
        pairs = list(zip(result, reference))
    else:
        pairs = [(result, reference)]
    statuses, methods, points = [], set(), 0
    known: dict = {}  # normal forms and verdicts, shared by the entries (see compare)
    shared = None
    if shared_points and domain is None and len(pairs) > 1:
        exprs = [_normal_form(e, known) for pair in pairs for e in pair]
        shared = _SharedPoints(exprs, deadline)
    verdicts: dict = {}  # at shared points the same pair (a mirrored entry) has one verdict
    for k, (a, b) in enumerate(pairs):
        truth = truths[k] if truths is not None else None
        key = (a, b, truth)
        if shared is not None and key in verdicts:
            status, method, n = verdicts[key]
        else:
            status, method, n = compare(
                a,
                b,
                seed=k,
                deadline=deadline,
                domain=domain,
                truth=truth,
                known=known,
                shared=shared,
            )
            verdicts[key] = (status, method, n)
        statuses.append(status)
        methods.add(method)
        points = max(points, n)
        if status is False:
            break
    overall = _overall(statuses)
    method = "numeric" if "numeric" in methods else "symbolic"
    return Verify(
        status=overall,
        method=method,
        reference=reference,
        points=points,
        explanation=_sentence(_explain(overall, method, points)),
    )


def _overall(statuses) -> bool | None:
    if False in statuses:
        return False
    return None if None in statuses else True


def _explain(status: bool | None, method: str, points: int, functions=()) -> Msg:
    """The verdict as a catalogue sentence (without its final full stop: see ``_sentence``)."""
    if status is None:
        return Msg("explain.verify.undecided")
    if status is False:
        return Msg("explain.verify.failed")
    if method == "substitution":
        names = "; ".join(
            f"({k}) " + ", ".join(f"{f} = {body}" for f, body in row)
            for k, row in enumerate(functions, 1)
        )
        key = "explain.verify.substitution" + (".numeric" if points else "")
        text = Msg(key, functions=names, points=points)
    elif method == "numeric":
        text = Msg("explain.verify.numeric", points=points)
    else:
        text = Msg("explain.verify.symbolic")
    return text


def _sentence(text: Msg) -> Msg:
    return Msg("explain.sentence", text=text)


# -- unknown functions: concrete stand-ins ------------------------------------------------------
def _stand_ins(arity: int, offset: int) -> list[Lambda]:
    """Three different concrete functions of ``arity`` arguments, that depend on every
    argument and not symmetrically (so ∂₁ and ∂₂ cannot be swapped unseen)."""
    t = [Dummy(f"t{i + 1}") for i in range(arity)]
    mixed = Add(*(Rational(i + 1, 2) * a for i, a in enumerate(t))) if arity > 1 else t[0]
    product = Mul(*t) if arity > 1 else 0
    pool = [
        sin(mixed) + product,
        exp(mixed / 3) + product / 4,
        Add(*(a ** (i + 2) for i, a in enumerate(t))) - mixed + Rational(1, 3) + product,
        sin(mixed) * exp(-mixed / 5) + Rational(2, 3) * product,
    ]
    picked = [pool[(offset + i) % len(pool)] for i in range(3)]
    return [Lambda(tuple(t), body) for body in picked]


def substitutions(exprs: Sequence[Expr]) -> list[dict]:
    """Three ways to replace every unknown function of ``exprs`` by a concrete one.

    Each is a dict {function class: Lambda}; different unknown functions get different
    concrete functions in the same substitution.
    """
    functions = sorted(
        {(type(a), len(a.args)) for e in exprs for a in e.atoms(AppliedUndef)},
        key=lambda fa: (str(fa[0]), fa[1]),
    )
    out: list[dict] = [{}, {}, {}]
    for offset, (cls, arity) in enumerate(functions):
        for k, stand_in in enumerate(_stand_ins(arity, offset)):
            out[k][cls, arity] = stand_in
    return out


def substitute_functions(expr: Math, substitution: dict) -> Math:
    """``expr`` with each unknown function replaced as ``substitution`` says, evaluated.

    A derivative by a function (SymPy's d/dg(x) f(g(x)), f′ at g(x)) is first written as
    a derivative at a point, so that g can be replaced."""
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: substitute_functions(e, substitution))
    expr = expr.replace(
        lambda e: isinstance(e, Derivative) and any(not isinstance(v, Symbol) for v in e.variables),
        _at_point,
    )
    expr = expr.replace(
        lambda e: isinstance(e, AppliedUndef) and (type(e), len(e.args)) in substitution,
        # the arguments evaluated first: SymPy's sin of an unevaluated nested sum drops
        # terms (sin((x + π) + y) is -sin(y) in SymPy 1.14), and the input is unevaluated
        lambda e: substitution[type(e), len(e.args)](*(a.doit() for a in e.args)),
    )
    return expr.doit()


def substituted_domain(exprs: Sequence[Expr], substitution: dict) -> list[Expr]:
    """The expressions that must be real where the input is defined, with the unknown
    functions replaced: the substituted input, and each argument of an unknown function.

    An unknown function is a real function of real arguments: f(acos(x)) exists for
    |x| ≤ 1 only, although sin(acos(x))² = 1 - x² is real everywhere (and a result that
    writes (f(u)²)^x as |f(u)|^(2x) is right only where u is real)."""
    arguments = {a for e in exprs for call in e.atoms(AppliedUndef) for a in call.args}
    out = [substitute_functions(e, substitution) for e in exprs]
    out += [substitute_functions(a, substitution) for a in sorted(arguments, key=str)]
    return [e for e in out if not e.is_number]


def _at_point(derivative: Derivative) -> Expr:
    names = {v: Dummy("u") for v in derivative.variables if not isinstance(v, Symbol)}
    inner = derivative.expr.xreplace(names)
    variables = [(names.get(v, v), n) for v, n in derivative.variable_count]
    bound = list(names.items())
    return Subs(Derivative(inner, *variables), [u for _, u in bound], [v for v, _ in bound])


def verify_by_substitution(
    result: Math,
    reference_of,
    exprs: Sequence[Expr],
    deadline: Deadline = NEVER,
    truths_of=None,
) -> Verify:
    """Verify a result with unknown functions: for three concrete choices of them, compare
    the substituted result with SymPy's derivative of the substituted input.

    ``reference_of(exprs)`` is SymPy's derivative of the (substituted) input, in the
    problem's shape; ``truths_of(exprs)`` gives the per-entry (input, variable) pairs.
    """
    statuses, points, reference, used = [], 0, None, []
    for substitution in substitutions(exprs):
        deadline.check()
        try:
            concrete = [substitute_functions(e, substitution) for e in exprs]
            domain = substituted_domain(exprs, substitution)
            reference = reference_of(concrete)
            ours = substitute_functions(result, substitution)
            truths = truths_of(concrete) if truths_of else None
        except (ArithmeticError, TypeError, ValueError):  # max(acos(e^(2/3)), x): no real input
            continue
        check = verify(ours, reference, deadline, domain=domain, truths=truths)
        statuses.append(check.status)
        used.append(substitution)
        points = max(points, check.points)
        if check.status is False:
            break
    status = _overall(statuses) if statuses else None
    functions = _describe(used)
    return Verify(
        status=status,
        method="substitution",
        reference=reference,
        points=points,
        functions=functions,
        explanation=_sentence(_explain(status, "substitution", points, functions)),
    )


def _describe(subs: list[dict]) -> tuple[tuple[tuple[Expr, Expr], ...], ...]:
    """For each substitution, (f(t₁, …), its stand-in) for every unknown function."""
    out = []
    for substitution in subs:
        row = []
        for (cls, arity), stand_in in substitution.items():
            t = [Symbol(f"t{i + 1}") for i in range(arity)] if arity > 1 else [Symbol("t")]
            row.append((cls(*t), stand_in(*t)))
        out.append(tuple(row))
    return tuple(out)


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
    return _explicit_jacobian(expr, wrt, shapes, dims, layout)[0]


def _explicit_jacobian(expr, wrt, shapes, dims, layout: str):
    """(``explicit_reference``, and for each of its entries in row-major order the pair
    (input component, variable component) it differentiates: the truth on a kink)."""
    from sympy import ImmutableMatrix, Matrix

    from matcalc.linalg import components, evaluate_shaped, explicit, shape_of
    from matcalc.linalg.components import size

    comps = components(shapes, dims)
    values = explicit(evaluate_shaped(expr, shapes), shapes, dims, comps)
    if isinstance(values, MatrixBase) and values.shape == (1, 1):  # a vector of length 1: a scalar
        values = values[0, 0]
    rows, cols = shape_of(expr, shapes)
    if cols == 1 and rows != 1 and not isinstance(values, MatrixBase):  # w - w: the zero vector
        values = ImmutableMatrix.ones(size(rows, dims), 1) * values
    several = isinstance(wrt, tuple)
    variables = [comps.get(w, ImmutableMatrix([[w]])) for w in (wrt if several else (wrt,))]
    outputs = list(values) if isinstance(values, MatrixBase) else [values]

    def laid_out(jac: MatrixBase, pairs: list[list[tuple]], transpose: bool) -> tuple:
        jac = ImmutableMatrix(jac)
        if transpose:
            return jac.T, [p for column in zip(*pairs) for p in column]
        return jac, [p for row in pairs for p in row]

    def by(wrt_list: list) -> tuple[Matrix, list[list[tuple]]]:
        jac = Matrix(outputs).jacobian(wrt_list)
        return jac, [[(o, w) for w in wrt_list] for o in outputs]

    if several:
        wrt_list = [entry for v in variables for entry in v]  # row-major: rows stacked
        return laid_out(*by(wrt_list), layout == "denominator")
    (variable,) = variables
    if variable.cols > 1 and isinstance(values, MatrixBase):  # a vector by vec(W), rows stacked
        return laid_out(*by(list(variable)), layout == "denominator")
    if variable.cols > 1:  # a matrix variable: a scalar's gradient, entry by entry
        # a symmetric S (s_ij = s_ji, one variable): the symmetric gradient G_s with
        # tr(G_sᵀ dS) = df for every symmetric dS, as ``verify_matrix_functions`` and the
        # engine give it: ∂f/∂s_ii on the diagonal, ½·∂f/∂s_ij off it
        half = S.Half if getattr(shapes.get(wrt), "symmetric", False) else S.One
        grid = ImmutableMatrix(
            variable.rows,
            variable.cols,
            lambda i, j: values.diff(variable[i, j]) * (1 if i == j else half),
        )
        pairs = [
            [(values, variable[i, j]) for j in range(variable.cols)] for i in range(variable.rows)
        ]
        return laid_out(grid, pairs, layout == "numerator")
    wrt_list = list(variable)
    if isinstance(values, MatrixBase):
        return laid_out(*by(wrt_list), layout == "denominator")
    jac = ImmutableMatrix([[values.diff(w) for w in wrt_list]])
    return laid_out(jac, [[(values, w) for w in wrt_list]], layout == "denominator")


def verify_explicit(expr, wrt, result, shapes, layout: str, deadline: Deadline = NEVER) -> Verify:
    """Verify a vector result by writing everything out at concrete sizes (n = 3, …).

    ``wrt`` is one variable or a tuple of several; ``result`` is the whole result as shown
    (a block row or column for several variables), written out as one flat matrix and
    compared entry by entry, shape included, with ``explicit_reference``.
    """
    from matcalc.engine.layout import explicit_value

    dims = default_dims(shapes)
    reference, truths = _explicit_jacobian(expr, wrt, shapes, dims, layout)
    wrts = wrt if isinstance(wrt, tuple) else (wrt,)
    ours = explicit_value(expr, wrts, layout, result, shapes, dims)
    check = verify(ours, reference, deadline, truths=truths)
    undefined = _undefined(check, ours, truths, deadline)
    if undefined is not None:
        return undefined
    sizes = ", ".join(f"{s} = {v}" for s, v in dims.items())
    detail = f"explicit components at {sizes}" if sizes else "explicit components"
    about = (
        Msg("explain.detail.components_at", sizes=sizes)
        if sizes
        else Msg("explain.detail.components")
    )
    return Verify(
        status=check.status,
        method=check.method,
        reference=reference,
        points=check.points,
        detail=detail,
        sizes=tuple(dims.items()),
        explanation=_on(check.explanation, about),
    )


def verify_hessian(
    expr, wrt, result, shapes, deadline: Deadline = NEVER, hvp: Symbol | None = None
) -> Verify:
    """A Hessian by a vector against ``sympy.hessian`` of the explicit components, at two
    sizes (n = 3 and n = 2, N = 2 and N = 3, …), never against the engine's own gradient; a Hessian-vector
    product (``hvp``: the vector v) against that Hessian times v's components."""
    from sympy import ImmutableMatrix, hessian

    from matcalc.linalg import components, evaluate_shaped, explicit

    first = default_dims(shapes)
    # a second size, different in every dimension (n = 3 → 2, N = 2 → 3): the issue's
    # "n = 2 and n = 3"; smaller rather than larger, since sympy.hessian grows as n²
    second = {s: v - 1 if v >= 3 else v + 1 for s, v in first.items()}
    checks = []
    for dims in (first, second):
        deadline.check()
        values = explicit(evaluate_shaped(expr, shapes), shapes, dims)
        if isinstance(values, MatrixBase):
            values = values[0]
        comps = components(shapes, dims)
        reference = ImmutableMatrix(hessian(values, list(comps[wrt])))
        if hvp is not None:
            reference = ImmutableMatrix(reference * comps[hvp])
        ours = explicit(result, shapes, dims)
        if not isinstance(ours, MatrixBase):
            ours = (
                ImmutableMatrix.zeros(*reference.shape) if ours == 0 else ImmutableMatrix([[ours]])
            )
        checks.append(verify(ImmutableMatrix(ours), reference, deadline, shared_points=True))
        if checks[-1].status is not True:
            break
    statuses = [c.status for c in checks]
    status = False if False in statuses else None if None in statuses else True
    method = "numeric" if any(c.method == "numeric" for c in checks) else "symbolic"
    sizes = ", ".join(f"{s} = {v}" for s, v in first.items())
    more = ", ".join(f"{s} = {v}" for s, v in second.items())
    detail = f"sympy.hessian of explicit components at {sizes} and at {more}"
    if hvp is not None:
        detail = f"sympy.hessian of explicit components times {hvp} at {sizes} and at {more}"
    return Verify(
        status=status,
        method=method,
        reference=reference,
        points=max(c.points for c in checks),
        detail=detail,
        sizes=tuple(first.items()),
        more_sizes=tuple(second.items()),
        hessian=True,
        hvp=hvp,
        explanation=_on(
            checks[-1].explanation,
            Msg(
                "explain.detail.hessian" if hvp is None else "explain.detail.hvp",
                sizes=sizes,
                more=more,
            ),
        ),
    )


def _on(explanation: Msg | None, detail: Msg) -> Msg:
    """A verdict's explanation, said of ``detail`` (the components compared)."""
    text = explanation.kw["text"] if explanation is not None else ""
    return Msg("explain.verify.on", text=text, detail=detail)


def not_real_somewhere(expr: Expr, domain: Sequence[Expr], deadline: Deadline = NEVER) -> bool:
    """True when ``expr`` is not real at some sampled point where ``domain`` is real."""
    expr = _normalise(expr)
    sampler = _Sampler((expr,), domain, 0, deadline)
    special = sampler.special()
    for k in range(len(special) + TRIES):
        deadline.check()
        point = special[k] if k < len(special) else sampler.draw(k - len(special))
        # any point of the domain counts, on a kink or off it: only realness is asked
        if all(_real(_value(e, point)) for e in sampler.domain or ()):
            value = _value(expr, point)
            if value is not None and not _real(value):
                return True
    return False


# -- the entry point ------------------------------------------------------------------------------
def check(
    problem: Problem,
    result: Math,
    deadline: Deadline = NEVER,
    *,
    inputs: Sequence[Expr] = (),
    evaluated: Sequence[Expr] | None = None,
) -> Verify:
    """Verify ``result`` as the answer to ``problem``: the one place a verdict is made.

    - vectors and matrices: the assembled result, in its layout and shape, against the
      Jacobian of the input's explicit components by all the variables' components together
      (a matrix's rows stacked); a Hessian against ``sympy.hessian`` of them, at two sizes;
    - scalars: against SymPy's derivative of the input as typed (``inputs``, before |a^p| was
      written |a|^p; ``problem.exprs`` when not given), on the input's own real domain; with
      unknown functions, by substituting concrete ones (SymPy's own derivative of
      g(f(x), f(x)) is wrong).  ``evaluated``: ``inputs`` already evaluated, if at hand.
    """
    shapes = {d.symbol: d for d in problem.declarations}
    if shapes:
        expr = problem.exprs[0]
        if problem.order == 2:
            return verify_hessian(expr, problem.wrt[0], result, shapes, deadline, problem.hvp)
        from matcalc.engine.differential import uses_differential

        if uses_differential(expr, shapes):  # inv, det, logdet, matrix_power, S:sym
            return verify_matrix_functions(
                expr, problem.wrt[0], result, shapes, problem.layout, deadline
            )
        wrt = problem.wrt[0] if len(problem.wrt) == 1 else problem.wrt
        return verify_explicit(expr, wrt, result, shapes, problem.layout, deadline)
    typed = tuple(inputs) or problem.exprs
    if any(e.atoms(AppliedUndef) for e in typed):
        return verify_by_substitution(
            result,
            lambda concrete: reference(problem, concrete),
            typed,
            deadline,
            truths_of=lambda concrete: _truths(problem, concrete),
        )
    truth = reference(problem, typed, evaluated)
    truths = _truths(problem, typed)
    verdict = verify(result, truth, deadline, domain=typed, truths=truths)
    return _undefined(verdict, result, truths, deadline, typed) or verdict


def _undefined(
    verdict: Verify,
    result: Math,
    truths: Sequence[tuple[Expr, Symbol]] | None,
    deadline: Deadline,
    domain: Sequence[Expr] | None = None,
) -> Verify | None:
    """``verdict`` turned into "not verified" where ``result`` (verified) is undefined at a
    point where the input has a derivative (``_undefined_point``), else None: equal to SymPy's
    derivative wherever that is defined, it is no derivative there (‖max(0, Ax)‖ by A is
    0/0 wherever Ax < 0, where the input is 0).  ``domain``: the
    input; by default the expressions of ``truths`` (explicit components)."""
    if not verdict.status or truths is None or not _gated_singular(result):
        return None
    if domain is None:
        domain = list(dict.fromkeys(t[0] for t in truths))
    point = _undefined_point(result, domain, truths, deadline)
    if point is None:
        return None
    where = ", ".join(f"{s} = {float(v):.6g}" for s, v in sorted(point.items(), key=str))
    return replace(
        verdict,
        status=None,
        method="undefined",
        detail=where,
        explanation=_sentence(Msg("explain.verify.undefined", point=where)),
    )


def _gated_singular(result: Math) -> bool:
    """A gate (1[z > 0], sign) times a power that can be infinite: 0·∞ where the gate is 0."""
    return result.has(Heaviside, sign) and any(
        not p.exp.is_integer or p.exp.is_negative for p in result.atoms(Pow)
    )


def _undefined_point(
    result: Math, typed: Sequence[Expr], truths: Sequence[tuple[Expr, Symbol]], deadline: Deadline
) -> dict | None:
    """A point of the input's domain, off its kinks, where the input has a derivative (its
    one-sided difference quotients agree) and an entry of ``result`` is undefined, even at 60
    digits: SymPy's own derivative of √(|x| − x), (sign(x) − 1)/(2√(|x| − x)), is 0/0 for every
    x > 0, where the input is 0, and so equal to it symbolically.  None when there is none."""
    entries = list(result) if isinstance(result, MatrixBase) else [result]
    sampler = _Sampler(entries, typed, 0, deadline)
    for k in range(TRIES):
        deadline.check()
        point = sampler.draw(k)
        memo: dict = {}
        if sampler.locate(point, memo) != OFF:
            continue
        for entry, truth in zip(entries, truths):
            if _value(entry, point, memo=memo) is not None:
                continue
            if _one_sided(*truth, point) is not None and _value(entry, point, precision=60) is None:
                return point
    return None


def reference(
    problem: Problem,
    exprs: Sequence[Expr] | None = None,
    evaluated: Sequence[Expr] | None = None,
) -> Math:
    """SymPy's own derivative of a scalar problem (or of ``exprs`` in its place), in the
    problem's layout; ``evaluated``: those expressions already evaluated (``evaluate``)."""
    from sympy import ImmutableMatrix, Matrix, hessian

    from matcalc.engine.simplify import evaluate

    if evaluated is None:
        evaluated = [evaluate(e) for e in (problem.exprs if exprs is None else exprs)]
    if problem.kind == "derivative":
        return evaluated[0].diff(problem.wrt[0], problem.order)
    if problem.order == 2:  # the Hessian: SymPy's own, symmetric in either layout
        return ImmutableMatrix(hessian(evaluated[0], list(problem.wrt)))
    jacobian = ImmutableMatrix(Matrix(evaluated).jacobian(list(problem.wrt)))
    return jacobian.T if problem.layout == "denominator" else jacobian


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


def _sizes(problem: Problem, dims: dict[str, int]) -> dict[Symbol, int]:
    """The sizes to write components at: ``default_dims``, with those named in ``dims``."""
    from matcalc.errors import UsageError

    sizes = default_dims({d.symbol: d for d in problem.declarations})
    unknown = set(dims) - {s.name for s in sizes}
    if unknown:
        raise UsageError(Msg("err.explicit.size", names=", ".join(sorted(unknown))))
    sizes.update({s: dims[s.name] for s in sizes if s.name in dims})
    return sizes


def explicit(problem: Problem, result: Math, dims: dict[str, int]):
    """``result`` written out in components at the sizes ``dims`` (names to sizes; any not
    given default to ``default_dims``): one flat ``ImmutableMatrix`` of the result's true
    shape, a scalar result as 1×1 (see ``Derivation.explicit``)."""
    from sympy import ImmutableMatrix

    from matcalc.engine.layout import explicit_value

    sizes = _sizes(problem, dims)
    shapes = {d.symbol: d for d in problem.declarations}
    if not shapes:
        if isinstance(result, MatrixBase):
            return ImmutableMatrix(result)
        return ImmutableMatrix([[result]])
    if problem.order > 1:
        # a Hessian (n×n) or a Hessian-vector product (n×1) by the one vector variable: not
        # the shape of the first derivative, which explicit_value would give a zero result
        from matcalc.linalg import components
        from matcalc.linalg import explicit as written_out

        out = written_out(result, shapes, sizes)
        if isinstance(out, MatrixBase):
            return ImmutableMatrix(out)
        n = len(components(shapes, sizes)[problem.wrt[0]])
        if out == 0:
            return ImmutableMatrix.zeros(n, 1 if problem.hvp is not None else n)
        return ImmutableMatrix([[out]])
    return explicit_value(problem.exprs[0], problem.wrt, problem.layout, result, shapes, sizes)


def explicit_step(problem: Problem, result: Math, dims: dict[str, int]) -> Explicit:
    """The closing step that ``--dim`` adds: the result written out in components."""
    return Explicit(
        of=problem.output,
        wrt=problem.wrt[0],
        sizes=tuple(_sizes(problem, dims).items()),
        value=explicit(problem, result, dims),
        explanation=Msg("explain.explicit"),
    )


MATRIX_POINTS = 2
"""Random points per size in ``verify_matrix_functions``."""


def verify_matrix_functions(
    expr, wrt, result, shapes, layout: str, deadline: Deadline = NEVER
) -> Verify:
    """A result with inv, det, logdet, matrix_power or a symmetric matrix against the
    derivative of the input written out in components, at two sizes (n = 2 and n = 3, other
    sizes likewise one apart), never against the engine.

    The reference is SymPy's: the components of the input (``Matrix.inv``, ``Matrix.det``,
    powers), differentiated by each entry of ``wrt``.  For a symmetric S, whose entries
    s_ij = s_ji are one variable, the reference is the symmetric G_s with tr(G_sᵀ dS) = df
    for every symmetric dS: (G_s)_ii = ∂f/∂s_ii and (G_s)_ij = ½·∂f/∂s_ij (i ≠ j).

    Both are compared at random points with exact rational entries: a square matrix is
    2I + E with |E_ij| ≤ 3/8, far from singular, with det > 0 (its eigenvalues have real
    parts at least 2 − (n − 1)·3/8); if the input is not real there (ln det(−X)), −(2I + E),
    a random matrix or (2I + E)/4 (det X < 1: ln(−ln det X)) is tried, and the explanation
    says so (``Verify.near_identity``).  Points where the input is not a real number are
    skipped.
    Exact wherever no transcendental function is involved, else at 30 digits.
    """
    from sympy import Integer, log, preorder_traversal

    from matcalc.linalg import Det, components, evaluate_shaped

    base = default_dims(shapes)
    sizes = [{s: max(2, v - 1) for s, v in base.items()}, base]
    if not base:
        sizes = [base]
    rng = random.Random(12)
    evaluated = evaluate_shaped(expr, shapes)
    points, reference = 0, None
    status: bool | None = True
    near_identity = True  # every point 2I + E
    for dims in sizes:
        deadline.check()
        comps = components(shapes, dims)
        d = shapes.get(wrt)
        sym = d is not None and d.symmetric
        found = 0
        for attempt in range(MATRIX_POINTS * 6):
            deadline.check()
            if found == MATRIX_POINTS:
                break
            scheme = attempt % 4 if attempt >= MATRIX_POINTS else 0
            point = _matrix_point(shapes, comps, evaluated, scheme, rng)
            try:
                checked = _check_point(evaluated, result, wrt, sym, comps, dims, point, layout)
            except (ArithmeticError, ValueError):  # singular here: another point
                continue
            if checked is None:
                continue
            same, reference = checked
            if same is None:
                continue
            found += 1
            near_identity = near_identity and scheme == 0
            if not same:
                status = False
                break
        points += found
        if status is False:
            break
        if found == 0:
            status = None
    logs = [
        node.args[0]
        for node in preorder_traversal(evaluated)
        if isinstance(node, log) and isinstance(node.args[0], Det)
    ]
    shown = "; ".join(", ".join(f"{s} = {v}" for s, v in dims.items()) for dims in sizes)
    detail = f"explicit components at {shown}" if shown else "explicit components"
    if logs:  # ln det X is real only where det X > 0: the input's own domain, said
        from matcalc.render.printing import TextPrinter

        dets = ", ".join(TextPrinter().doprint(d) for d in dict.fromkeys(logs))
        about = Msg("explain.detail.components_positive", sizes=shown, dets=dets)
    else:
        about = Msg("explain.detail.components_at", sizes=shown)
    explanation = _on(_sentence(_explain(status, "numeric", points)), about)
    return Verify(
        status=status,
        method="components",
        reference=Integer(0) if reference is None else reference,
        points=points,
        detail=detail,
        sizes=tuple(sizes[0].items()),
        more_sizes=tuple(sizes[-1].items()) if len(sizes) > 1 else (),
        positive=tuple(dict.fromkeys(logs)),
        near_identity=near_identity,
        explanation=explanation,
    )


def _check_point(evaluated, result, wrt, sym, comps, dims, point, layout):
    """(whether ``result`` equals the reference at ``point``, the reference there), or None
    where the input is not a real number.

    The reference entry by wrt's component c is d/dt of the input's components with c
    replaced by its value + t, at t = 0: SymPy's derivative of the components along one
    entry, every other number exact, so that it stays small (inv(XᵀX) at n = 3)."""
    from sympy import Dummy, ImmutableMatrix

    from matcalc.linalg import _Explicit

    def run(expr, values):
        out = _Explicit(values, dims).run(expr)
        if isinstance(out, MatrixBase) and out.shape == (1, 1):
            out = out[0, 0]
        return out.xreplace(point) if not isinstance(out, MatrixBase) else out.xreplace(point)

    numbers = {s: m.xreplace(point) for s, m in comps.items()}
    value = _exact(run(evaluated, numbers), {})
    if value is None or not _real(complex(value.evalf(30))):
        return None
    variable = comps[wrt]
    t = Dummy("t")
    slopes = {}
    for c in dict.fromkeys(variable):
        moved = dict(numbers)
        moved[wrt] = variable.xreplace({**point, c: point[c] + t})
        slopes[c] = _slope_at_zero(run(evaluated, moved), t)

    def entry(i, j):
        g = slopes[variable[i, j]]
        return g / 2 if sym and i != j else g

    grid = ImmutableMatrix(variable.rows, variable.cols, entry)
    reference = grid.T if layout == "numerator" else grid  # denominator: wrt's shape
    ours = run(result, numbers)
    if not isinstance(ours, MatrixBase):
        ours = ImmutableMatrix.zeros(*reference.shape) if ours == 0 else ImmutableMatrix([[ours]])
    if ours.shape != reference.shape:
        return False, reference
    return _equal_at(ours, reference, {}), reference


def _slope_at_zero(g, t):
    """dg/dt at t = 0: a rational function of t through its numerator and denominator
    (fast, exact polynomial arithmetic), anything else by SymPy's diff."""
    from sympy import Poly, PolynomialError, cancel, fraction

    if g.is_rational_function(t):
        try:
            p, q = (Poly(e, t) for e in fraction(cancel(g)))
        except PolynomialError:
            p = None
        if p is not None and p.domain.is_QQ or p is not None and p.domain.is_ZZ:
            p0, q0 = p.eval(0), q.eval(0)
            return (p.diff(t).eval(0) * q0 - p0 * q.diff(t).eval(0)) / q0**2
    return g.diff(t).xreplace({t: 0})


def _matrix_point(shapes, comps, f, scheme: int, rng: random.Random) -> dict:
    """Exact rational values for every component and every other scalar of ``f``."""
    from sympy import Rational

    point: dict = {}
    for symbol, d in shapes.items():
        values = comps[symbol]
        rows, cols = values.shape
        square = rows == cols and not d.is_vector
        for i in range(rows):
            for j in range(cols):
                if d.symmetric and j < i:
                    continue
                small = Rational(rng.randint(-3, 3), 8)
                if square and scheme in (0, 1, 3):
                    v = (2 if i == j else 0) + small
                    v = -v if scheme == 1 else v / 4 if scheme == 3 else v
                elif d.is_vector:
                    v = Rational(rng.choice([-3, -2, -1, 1, 2, 3]), 4)
                else:
                    v = Rational(rng.randint(-8, 8), 4)
                point[values[i, j]] = v
    names = {s for m in comps.values() for s in m}
    for s in sorted(f.free_symbols - set(shapes) - names, key=str):
        point[s] = Rational(rng.randint(2, 8), 4)
    return point


def _exact(expr, point):
    try:
        value = expr.xreplace(point)
        value = value.doit() if value.free_symbols == set() else None
    except (ZeroDivisionError, ArithmeticError):
        return None
    if value is None or value.has(nan, zoo) or not value.is_number:
        return None
    return value


def _equal_at(ours, reference, point) -> bool | None:
    """True when every entry agrees at ``point`` (exactly, or to 30 digits); None when an
    entry is undefined there."""
    for a, b in zip(ours, reference):
        x, y = _exact(a, point), _exact(b, point)
        if x is None or y is None:
            return None
        if x.is_Rational and y.is_Rational:
            if x != y:
                return False
            continue
        try:
            gap = abs(complex((x - y).evalf(30)))
            size = abs(complex(y.evalf(30)))
        except (TypeError, ValueError):
            return None
        if gap > 1e-20 * (1 + size):
            return False
    return True
