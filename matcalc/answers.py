"""``check``: judge a student's own answer against matcalc's verified derivative.

``check(expr, answer, wrt, ...)`` derives ``expr`` exactly as ``derive`` does, parses
``answer`` with the same safe parser (the same input language, never ``eval``), and
compares the two on explicit components, against a reference built from the input
(SymPy's derivative for scalars, ``Matrix.jacobian`` of the components for vectors and
matrices), never against a form the engine printed.

The verdict is one of ``VERDICTS``:

- ``right``: equal to the derivative (decided symbolically, or numerically at random
  points, on explicit components for vectors and matrices);
- ``other_layout``: the transpose of the derivative, right in the other layout;
- ``assumption``: equal when an assumption holds (the entries of a vector sum to 1, a
  matrix is symmetric), which is named;
- ``wrong``: with the likely mistake named when one explains the difference (see
  ``MISTAKES``), else the first point at which the two differ, with both values;
- ``cannot_judge``: shapes that cannot match, no point at which both are defined, an
  unknown name in the answer.  Never a guess.

Diagnoses are tried in a fixed order, each a numeric identity at the same random points
(several sizes for vectors, so a factor N is told from a factor 2): a constant factor
(−1 is "a sign"), a missing transpose, the ReLU gate applied outside the sum (the
paper's own §6.1 slip: the answer equals the derivative with every gate 1[z > 0] open),
a dropped term of a sum, product or total-derivative rule, a missing chain-rule factor.
Each points at the step of the derivation where that mistake would enter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sympy import (
    Add,
    Basic,
    DiracDelta,
    Expr,
    Float,
    Heaviside,
    ImmutableMatrix,
    MatrixBase,
    Max,
    Min,
    Rational,
    S,
    Symbol,
    nsimplify,
)
from sympy.core.function import AppliedUndef
from sympy.matrices.exceptions import ShapeError as SympyShapeError

from matcalc.deadline import Deadline, alarm
from matcalc.derivation import Derivation
from matcalc.errors import InternalError, LimitError, MatcalcError, UnsupportedError, UsageError
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.msg import Msg
from matcalc.steps import ChainRule, LocalDerivative, Math, Substitute, TotalDerivative

VERDICTS = ("right", "other_layout", "assumption", "wrong", "cannot_judge")
MISTAKES = (
    "factor",  # off by a constant factor (2, 1/2, N, 1/N)
    "sign",  # off by a factor −1
    "transpose",  # a row where a column belongs (not a layout: a square result)
    "gate_outside_sum",  # max(0, ·)'s gate outside the sum over samples (§6.1)
    "gate_missing",  # max(0, ·)'s gate left out where there is no sum (right where z > 0 only)
    "dropped_term",  # one term of a sum, product or total-derivative rule is missing
    "missing_factor",  # one chain-rule factor (a local derivative) is missing
    "swapped",  # a square matrix A written where Aᵀ belongs (or Aᵀ for A), at one place
    "close",  # within 1e-7 of the derivative but not equal to it (a rounded number)
)
TOLERANCE = 1e-7
POINTS = 5
NOISE = 1e-15
"""Values this small are no evidence of equality: two values within it agree (the noise of
a cancellation at 30 digits), but a right verdict needs ``EVIDENCE`` points at which each
entry of the two sides is larger than it.  Without that, exp(-1000x²)'s derivative was
called right for the answers 0 and +2000x·exp(-1000x²), both below 1e-7 (the absolute
tolerance then) at every sample point."""
EVIDENCE = 3
PRECISE = 60
EXACT = 1e-30
"""An answer that agrees with the derivative to ``TOLERANCE`` at 30 digits is evaluated
again at ``PRECISE`` digits, at up to ``EVIDENCE`` of its points, and is right only if it
agrees there to ``EXACT`` (relative): x²'s derivative answered 2.0000001x, or 2x + 10⁻²⁰,
was called right."""
CONFIRM = 12
"""Points of a wider range (1e-3 to 100 in size) at which an answer that agrees at the
``POINTS`` (on [-2, 2]) must agree too before it is called right: d/dx |x - 3| answered -1,
and max(x, 3)'s answered 0, were called right, being wrong for x > 3 only."""
BESIDE = 36
"""At most this many points beside the kinks and domain boundaries (``_beside_kinks``)."""
_BESIDE = (0.01, -0.01, 0.5, -0.5, 2.0, -2.0)
"""Where they are, relative to the kink or boundary's size: beside it, and further on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """A student's answer, judged: ``verdict`` and, when wrong, the likely ``mistake``.

    ``derivation`` is matcalc's own worked derivative; ``answer`` the parsed answer.
    ``factor`` (for "factor" and "sign"), ``term`` (the dropped term or the missing
    factor), ``step`` (an index into ``derivation.steps`` where the mistake enters),
    ``assumption`` (("sum_to_one", y) or ("symmetric", A)), ``point`` and ``values``
    (where they differ: the answer's value, then the derivative's) add detail.
    ``method`` says how it was decided: "symbolic", "numeric" or "components"
    (numerically, on explicit components at ``sizes``).
    """

    derivation: Derivation
    answer_text: tuple[str, ...]
    answer: Math | None
    verdict: str
    method: str = ""
    mistake: str | None = None
    factor: Expr | None = None
    transposed: bool = False
    term: Math | None = None
    step: int | None = None
    assumption: tuple[str, Symbol] | None = None
    point: tuple[tuple[Symbol, float], ...] = ()
    values: tuple[complex, complex] | None = None
    entry: tuple[int, int] | None = None
    sizes: tuple[tuple[Symbol, int], ...] = ()
    swap: tuple[Math, Math] | None = None
    """For "swapped": (what the answer has, what belongs there), A and Aᵀ; ``term`` is then
    the answer with that one place mended, which is the derivative."""
    cause: str | None = None
    """For "sign": its likely cause, "numerator_swapped" (the quotient rule's numerator the
    wrong way round) where the problem is a quotient."""
    difference: float | None = None
    """For "close": the relative difference at ``point``, |answer − derivative| / |derivative|."""
    reason: str = ""
    """For cannot_judge: "shape", "undefined", "tiny" (equal only where both sides are too
    small to tell apart from 0), "name", "identity" (I, not a name of the problem, with
    vectors) or "function"."""

    @property
    def right(self) -> bool:
        return self.verdict in ("right", "other_layout")

    # -- rendering, as for a Derivation ------------------------------------------------
    def to_text(self, *, unicode: bool = True, lang: str = "en", width: int | None = 80) -> str:
        """Plain text, every line at most ``width`` columns (None or 0: no limit)."""
        from matcalc.render.check import render_check

        return render_check(self, "text", unicode=unicode, lang=lang, width=width)

    def to_markdown(self, *, lang: str = "en", compact: bool = False) -> str:
        from matcalc.render.check import render_check

        return render_check(self, "markdown", lang=lang, compact=compact)

    def to_latex(self, *, standalone: bool = False, lang: str = "en", compact: bool = False) -> str:
        from matcalc.render.check import render_check

        return render_check(self, "latex", standalone=standalone, lang=lang, compact=compact)

    def to_dict(self, *, lang: str = "en") -> dict[str, Any]:
        from matcalc.render.check import check_dict

        return check_dict(self, lang=lang)

    def to_json(self, *, lang: str = "en", indent: int | None = None) -> str:
        import json

        return json.dumps(self.to_dict(lang=lang), indent=indent, ensure_ascii=False)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        what = self.mistake or self.reason or ""
        extra = f", {what}" if what else ""
        answer = "; ".join(self.answer_text)
        return f"<Check of {answer!r}: {self.verdict}{extra}>"

    def __str__(self) -> str:
        return self.to_text()


def check(
    expr: str | Expr | Sequence[str | Expr],
    answer: str | Sequence[str],
    wrt: Any = None,
    *,
    vectors: str | Iterable[str] = (),
    matrices: str | Iterable[str] = (),
    layout: str = "numerator",
    functions: str | Iterable[str] = (),
    order: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
) -> Check:
    """Derive ``expr`` and judge ``answer`` (text in the input language) against it.

    Several answers (a list) are the entries of a gradient or Jacobian, row by row.
    Raises ``MatcalcError`` for bad input (in the expression or the answer), like
    ``derive``.
    """
    from matcalc.api import derive

    texts = (answer,) if isinstance(answer, str) else tuple(answer)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise UsageError(Msg("err.check.text"))
    budget = limits.timeout if timeout is None else timeout
    deadline = Deadline(budget)
    derivation = derive(
        expr,
        wrt,
        vectors=vectors,
        matrices=matrices,
        layout=layout,
        functions=functions,
        order=order,
        limits=limits,
        timeout=budget,
    )
    if order > 1 and derivation.problem.declarations:
        raise UnsupportedError(Msg("err.check.hessian"))
    try:
        with alarm(deadline):
            return _judge(derivation, texts, limits, deadline)
    except MatcalcError:
        raise
    except RecursionError as error:
        raise LimitError(Msg("err.check.too_deep")) from error
    except Exception as error:
        name = type(error).__name__
        raise InternalError(Msg("err.check.internal", name=name)) from error


# -- the comparison ---------------------------------------------------------------------
def _judge(d: Derivation, texts: tuple[str, ...], limits: Limits, deadline: Deadline) -> Check:
    from matcalc.parse import parse

    problem = d.problem
    shapes = {decl.symbol: decl for decl in problem.declarations}
    parsed = [parse(t, limits=limits, shapes=shapes or None, answer=True) for t in texts]
    base: dict[str, Any] = {"derivation": d, "answer_text": texts}
    sizes = {s for d in shapes.values() for s in (d.rows, d.cols) if isinstance(s, Symbol)}
    known = set().union(*(e.free_symbols for e in problem.exprs), problem.wrt, shapes, sizes)
    known_names = {s.name for s in known}
    for e in parsed:
        strangers = sorted(s.name for s in e.free_symbols if s.name not in known_names)
        if strangers:
            return Check(
                **base,
                answer=None,
                verdict="cannot_judge",
                # I, as matcalc prints the identity: say how an answer writes it
                reason="identity" if strangers[0] == "I" and shapes else "name",
                term=Symbol(strangers[0]),
            )
        if e.atoms(AppliedUndef) or any(e.atoms(AppliedUndef) for e in problem.exprs):
            return Check(**base, answer=None, verdict="cannot_judge", reason="function")
    # the answer's symbols are the problem's own (same assumptions)
    by_name = {s.name: s for s in known}
    parsed = [e.xreplace({s: by_name[s.name] for s in e.free_symbols}) for e in parsed]
    answer: Math = parsed[0] if len(parsed) == 1 else _arrange(parsed, d.result)
    judge = _Judge(d, answer, shapes, deadline)
    return judge.run(base)


def _arrange(entries: list[Expr], result: Math) -> Math:
    """Several answers: the entries of the result, row by row, in its shape."""
    if isinstance(result, MatrixBase) and len(result) == len(entries):
        return ImmutableMatrix(result.rows, result.cols, entries)
    return ImmutableMatrix([entries])


class _Judge:
    """Values of the answer and of the reference at the same random points."""

    def __init__(self, d: Derivation, answer: Math, shapes: dict, deadline: Deadline):
        self.d = d
        self.problem = d.problem
        self.answer = answer
        self.shapes = shapes
        self.deadline = deadline
        self.rng = random.Random(20261129)
        # the input written out at each size (its entries' real domain), by _sizes_of
        self.domains: dict[tuple, list[Expr]] = {}
        self._beside_memo: dict[tuple, list] = {}
        self.shift = 0
        """0, or 1 once an answer equal at the first sizes is found to differ at the second:
        it is then judged at the second sizes (and named against the third)."""

    # -- the two sides, written out -----------------------------------------------------
    def _sides(self, dims: dict) -> tuple[ImmutableMatrix, ImmutableMatrix, dict]:
        """(answer, reference, components) as explicit matrices at sizes ``dims``."""
        from matcalc.verify import _normalise, reference

        if not self.shapes:
            # SymPy's sign′ and |x|″ are 2·δ(x): 0 wherever they have a value, and a δ
            # left in would keep an answer 0 from being symbolically the same (a cannot_judge)
            ref = reference(self.problem).replace(DiracDelta, lambda *args: S.Zero)
            self.domains[()] = [_normalise(e) for e in self.problem.exprs]
            return _matrix(self.answer), _matrix(ref), {}
        from matcalc.linalg.components import components, explicit
        from matcalc.linalg.shapes import evaluate_shaped
        from matcalc.verify import explicit_reference

        p = self.problem
        comps = components(self.shapes, dims)
        self.domains[_sizes_of(comps)] = [
            entry
            for e in p.exprs
            for entry in _matrix(explicit(evaluate_shaped(e, self.shapes), self.shapes, dims))
        ]
        if len(p.wrt) == 1:
            ref = explicit_reference(p.exprs[0], p.wrt[0], self.shapes, dims, p.layout)
            ref = _matrix(ref).applyfunc(lambda e: e.replace(DiracDelta, lambda *args: S.Zero))
        else:  # the verified, assembled result (checked against the components)
            names = {s.name: v for s, v in dims.items()}
            ref = self.d.explicit(**names)

        def written(entry: Math) -> ImmutableMatrix:
            return _matrix(explicit(evaluate_shaped(entry, self.shapes), self.shapes, dims))

        if isinstance(self.answer, MatrixBase):  # several answers: blocks, [xᵀ  1] by w, b
            try:
                rows = [
                    ImmutableMatrix.hstack(*(written(e) for e in self.answer.row(i)))
                    for i in range(self.answer.rows)
                ]
                ans = ImmutableMatrix.vstack(*rows)
            except SympyShapeError:  # blocks that do not fit together ([x  1]): no shape
                ans = ImmutableMatrix.zeros(0, 0)
            return ans, _matrix(ref), components(self.shapes, dims)
        return written(self.answer), _matrix(ref), components(self.shapes, dims)

    def _dims(self, second: bool = False) -> dict:
        """The sizes the answer is judged at (``verify.default_dims``, each size one larger
        when ``shift`` is 1); ``second``: each one larger still, to tell a factor N from a
        number."""
        from matcalc.verify import default_dims

        grow = self.shift + (1 if second else 0)
        return {s: v + grow for s, v in default_dims(self.shapes).items()}

    def _agrees_at_other_sizes(self, transposed: bool) -> bool:
        """The answer equals the reference (or its transpose: ``transposed``) at the second
        sizes too: (2/N)·Xᵀ(Xw − y) answered Xᵀ(Xw − y) is equal at N = 2 alone, and was
        called right.  Sizes at which neither side is defined tell nothing (True)."""
        if not self.shapes:
            return True
        ans, ref, comps = self._sides(self._dims(second=True))
        if (ans.T if transposed else ans).shape != ref.shape:
            return False
        samples = self._samples_or_beside(ans, ref, comps)
        return len(samples) < 3 or _agree(samples, ans.shape if transposed else None)

    def _samples_or_beside(self, ans, ref, comps) -> list:
        """``_samples``, and where fewer than 3 random points are in the domain, the points
        beside its boundaries as well (sum(√(x − 50)): every entry beyond 50)."""
        samples = self._samples(ans, ref, comps)
        return samples if len(samples) >= 3 else samples + self._beside(ans, ref, comps)

    # -- points ---------------------------------------------------------------------------
    def _points(self, symbols: list[Symbol], count: int = POINTS, constraint=None, draw=None):
        out: list[dict[Symbol, float]] = []
        tries = 0
        while len(out) < count and tries < count * 8:
            tries += 1
            self.deadline.check()
            point = {s: (draw or self._draw)() for s in symbols}
            if constraint is not None:
                point = constraint(point)
            out.append(point)
        return out

    def _draw(self) -> float:
        value = 0.0
        while abs(value) < 0.1:
            value = self.rng.uniform(-2.0, 2.0)
        return value

    def _draw_wide(self) -> float:
        """Uniform on [-10, 10] or (as often) from 1e-3 to 100 in size, either sign,
        log-uniformly: near 0 (where exp(-1000x²)'s derivative is not vanishingly small)
        and beyond 2 (where |x - 3|'s derivative is no longer -1)."""
        if self.rng.random() < 0.5:
            return self.rng.uniform(-10.0, 10.0)
        return self.rng.choice((-1.0, 1.0)) * 10 ** self.rng.uniform(-3.0, 2.0)

    def _draw_positive(self) -> float:
        return abs(self._draw_wide())

    def _confirm(self, ans, ref, comps, samples, flip):
        """``samples`` (which agree), with ``CONFIRM`` more points of a wider range, and more
        again where needed until every entry of the two sides is larger than ``NOISE`` at
        ``EVIDENCE`` points (an entry literally the same on both sides, such as a structural
        0, needs none).  Returns the samples as soon as one disagrees (the answer is then
        judged on them), None when too few points tell (a cannot_judge): agreement within
        the noise, or on [-2, 2] only, is no proof of a right answer."""
        pairs = list(zip(ans.T if flip is not None else ans, ref))
        more = list(samples)
        beside = self._beside(ans, ref, comps)
        if beside:
            more += beside
            if not _agree(more, flip):
                return more
        for _ in range(3):
            more += self._samples(ans, ref, comps, count=CONFIRM, draw=self._draw_wide)
            if not _agree(more, flip):
                return more
            if _evidenced(more, pairs, flip):
                return more
        return None

    def _beside(self, ans, ref, comps) -> list:
        """The samples at ``_beside_kinks``' points, found once per answer and reference."""
        key = (ans, ref)
        if key not in self._beside_memo:
            points = self._beside_kinks(ans, ref, comps)
            found = self._samples(ans, ref, comps, count=len(points), points=points)
            self._beside_memo[key] = found if points else []
        return self._beside_memo[key]

    def _beside_kinks(self, ans, ref, comps) -> list[dict[Symbol, float]]:
        """Points just beside each kink and domain boundary of the input, the answer and the
        reference (1% of the root's size away, each variable moved in turn; for a polynomial's
        roots also 50% and 200% away, √(x - 50) being real beyond 50 only, where random
        points are few, and halfway between two of them): d/dx |x - 20| answered -1 was called right, being wrong for
        x > 20 only, which few of the random points reach; so was |x| + |x - 0.001|
        answered 2·sign(x), wrong on (0, 0.001) only."""
        from matcalc.engine.simplify import count_ops_fast
        from matcalc.verify import FAR_GRID, SPECIAL_SECONDS, _boundaries, _Sampler, beside_all

        exprs = [*self.domains.get(_sizes_of(comps), []), *ans, *ref]
        sampler = _Sampler(exprs, exprs, self.rng.randrange(2**30), self.deadline)
        found = [b for b in _boundaries(exprs) if count_ops_fast(b) <= 60]
        boundaries = sorted(found, key=count_ops_fast)[:6]
        base = sampler.draw()
        plain = {s: float(v) for s, v in base.items()}  # as _points draws them (JSON's point)
        budget = time.monotonic() + SPECIAL_SECONDS
        out: list[dict[Symbol, float]] = []
        first: dict[Symbol, float] = {}  # each variable's smallest root, for ``together``
        for symbol in sorted(base, key=str):
            roots: set[float] = set()
            polynomial: set[float] = set()  # roots of a polynomial: none elsewhere nearby
            for b in boundaries:
                if symbol in b.free_symbols and time.monotonic() < budget:
                    found_here = sampler._roots(b, symbol, base)
                    roots.update(found_here)
                    if b.is_polynomial(symbol):  # |x - 200|, beyond the usual grid too
                        polynomial.update(found_here, sampler._roots(b, symbol, base, FAR_GRID))
            roots |= polynomial
            ordered = _distinct(roots)
            values = [r + d * max(abs(r), 1e-3) for r in ordered for d in _BESIDE[:2]]
            # further on, and halfway between two, only for a polynomial's roots: a periodic
            # function's special points (3·7π/6 is a pole of sec) are not to be met there
            spaced = _distinct(polynomial)
            values += [r + d * max(abs(r), 1e-3) for r in spaced for d in _BESIDE[2:]]
            values += [(p + q) / 2 for p, q in zip(spaced, spaced[1:])]
            # not on another kink: 1 + 2·|-1| is the kink at 1 of asin(2x/(1 + x²))
            far = [v for v in values if all(abs(v - r) > 1e-4 * max(1.0, abs(r)) for r in ordered)]
            out += [{**plain, symbol: v} for v in far]
            if ordered:
                first[symbol] = ordered[0]
        # and every variable beside its own boundary at once (sum(√(x - 50)))
        together = [{**plain, **moved} for moved in beside_all(first, 1e-3)]
        return together + out[: BESIDE - len(together)]

    def _values(
        self, m: ImmutableMatrix, point: dict, memo: dict | None = None
    ) -> list[complex] | None:
        """The entries of ``m`` at ``point`` (complex, principal branches), or None where one
        is not a finite number: the check's own evaluator (``verify._value``).  ``memo``:
        the values of subexpressions at this point, shared between the calls that pass it."""
        from matcalc.verify import _value, underflow_to_zero

        subs = {s: Float(v, 30) for s, v in point.items()}
        if memo is None:
            memo = {}
        with underflow_to_zero():  # a 0 is no evidence here (_evidenced): e^(-10⁴) is 0
            values = [_value(entry, subs, memo=memo) for entry in m]
        finite = [v for v in values if v is not None]
        return finite if len(finite) == len(values) else None

    def _samples(self, ans, ref, comps, constraint=None, count=POINTS, draw=None, points=None):
        """[(point, answer values, reference values)] where both are defined, the reference
        is real and so is the input (its own domain: SymPy's derivative of acosh(x) or
        ln(x) is real for x < 0 too, where the input is not, and a textbook's 1/√(x² − 1)
        or 1/|x| is right on the domain only).  Where the domain ruled points out, up to
        ``count`` · 9 more are drawn, of positive values (the domain of ln(x) or acosh(x)
        in every entry of a vector is rarely hit at random otherwise).  ``points``: these
        points instead of random ones (one batch)."""
        domain = self.domains.get(_sizes_of(comps), [])
        symbols = sorted(
            ans.free_symbols | ref.free_symbols | set().union(*(e.free_symbols for e in domain)),
            key=str,
        )
        out: list = []
        outside = 0
        for batch in range(2):
            if batch and (len(out) == count or not outside):
                break  # a second batch only where the domain ruled points out
            if batch and points is not None:
                break
            if batch:  # positive values, 1e-3 to 100 (ln(x), acosh(x) of every entry)
                draw = self._draw_positive
            drawn = (
                points
                if points is not None
                else self._points(symbols, count * (3 if batch == 0 else 9), constraint, draw)
            )
            for point in drawn:
                memo: dict = {}  # the two sides and the input share their subexpressions here
                if domain and not self._in_domain(domain, point, memo):
                    outside += 1
                    continue
                r = self._values(ref, point, memo)
                if r is None and domain and not self.shapes:
                    r = self._slopes(ref, point, memo)
                if r is None or any(abs(v.imag) > TOLERANCE * max(1.0, abs(v)) for v in r):
                    continue
                if _on_kink(ref, point) or _on_kink(ans, point):
                    continue
                a = self._values(ans, point, memo)
                if a is None:
                    continue
                out.append((point, a, r))
                if len(out) == count:
                    break
        return out

    def _slopes(self, ref: ImmutableMatrix, point: dict, memo: dict) -> list[complex] | None:
        """The reference at ``point`` where SymPy's derivative is undefined but the input has
        one: each undefined entry a central difference of the input whose one-sided
        quotients agree (``verify._one_sided``).  SymPy's derivative of √relu(x) is 0/0 for
        x < 0, where the slope is 0, so an answer 1/(2√x) was judged on x > 0 alone and
        called right.  None where an entry has neither."""
        from matcalc.verify import _one_sided, _truths, _value

        truths = _truths(self.problem, self.problem.exprs)
        if truths is None or len(truths) != len(ref):
            return None
        subs = {s: Float(v, 30) for s, v in point.items()}
        out = []
        for entry, (expr, wrt) in zip(ref, truths):
            v = _value(entry, subs, memo=memo)
            if v is None:
                v = _one_sided(expr, wrt, subs)
            if v is None:
                return None
            out.append(v)
        return out

    def _in_domain(self, domain: list[Expr], point: dict, memo: dict) -> bool:
        """Every entry of the input is a real number at ``point`` (``verify._real``)."""
        from matcalc.verify import _real, _value

        subs = {s: Float(v, 30) for s, v in point.items()}
        return all(_real(_value(e, subs, memo=memo)) for e in domain)

    # -- the verdict --------------------------------------------------------------------
    def run(self, base: dict) -> Check:
        dims = self._dims()
        ans, ref, comps = self._sides(dims)
        sizes = tuple(dims.items())
        common = {**base, "answer": self.answer, "sizes": sizes}
        method = "components" if self.shapes else "numeric"
        if ans.shape == (1, 1) and ans[0] == 0 and ref.shape != (1, 1):
            ans = ImmutableMatrix.zeros(*ref.shape)  # 0 for a zero vector or matrix, as written
        straight = ans.shape == ref.shape
        flipped = ans.T.shape == ref.shape and ans.shape != (1, 1)
        if not straight and not flipped:
            return Check(**common, verdict="cannot_judge", reason="shape", values=None, term=None)
        samples = self._samples(ans, ref, comps)
        if len(samples) < 3:
            samples = samples + self._beside(ans, ref, comps)
        if len(samples) < 3:
            return Check(**common, verdict="cannot_judge", reason="undefined")
        if straight and self._symbolic_equal(ans, ref):
            return Check(**common, verdict="right", method="symbolic")
        if (straight and _agree(samples)) or (flipped and _agree(samples, ans.shape)):
            confirmed = self._confirm(ans, ref, comps, samples, None if straight else ans.shape)
            if confirmed is None:  # equal, but only where both are too small to tell
                return Check(**common, verdict="cannot_judge", reason="tiny")
            samples = confirmed
            transposed = not (straight and _agree(samples))
            if not self.shift and not self._agrees_at_other_sizes(transposed):
                # equal at these sizes only: judged again where it differs
                self.shift = 1
                self._beside_memo.clear()
                return self.run(base)
        close = None
        if straight and _agree(samples):
            close = self._off(ans, ref, samples, None)
            if close is None:
                return Check(**common, verdict="right", method=method)
        elif flipped and _agree(samples, ans.shape):
            close = self._off(ans, ref, samples, ans.shape)
        if close is not None:  # equal to 1e-7, not at 60 digits
            point, a, r, k, difference = close
            return Check(
                **common,
                verdict="wrong",
                method=method,
                mistake="close",
                transposed=not straight,
                point=tuple(point.items()),
                values=(a[k], r[k]),
                entry=divmod(k, ref.cols) if ref.shape != (1, 1) else None,
                difference=difference,
            )
        if flipped and _agree(samples, ans.shape):
            verdict = "other_layout" if ans.shape != ans.T.shape else "wrong"
            mistake = None if verdict == "other_layout" else "transpose"
            return Check(**common, verdict=verdict, method=method, mistake=mistake, transposed=True)
        flip = None if straight else ans.shape
        # a mistake is named only where it holds beside the kinks too: |x² - 10⁶| answered 2x
        # is minus the derivative on [-2, 2], not beyond 1000 (it was 'wrong sign')
        samples = samples + [b for b in self._beside(ans, ref, comps) if b not in samples]
        for diagnose in (
            self._assumption,
            self._factor,
            self._misused_rule,
            self._wrong_local_rule,
            self._gate,
            self._dropped_term,
            self._missing_factor,
            self._swapped,
        ):
            found = diagnose(ans, ref, comps, samples, flip)
            if found is not None:
                return Check(**common, method=method, **found)
        point, a, r, k = _first_difference(samples, flip)
        entry = divmod(k, ref.cols) if ref.shape != (1, 1) else None
        return Check(
            **common,
            verdict="wrong",
            method=method,
            point=tuple((s, v) for s, v in point.items()),
            values=(a[k], r[k]),
            entry=entry,
        )

    def _off(self, ans, ref, samples, flip):
        """Where an answer that agrees with the reference to ``TOLERANCE`` differs from it at
        ``PRECISE`` digits by more than ``EXACT``: (point, answer values, reference values,
        entry, relative difference) at the first of up to ``EVIDENCE`` samples where one
        entry does; None where every entry agrees (or cannot be evaluated)."""
        from matcalc.verify import precise_value

        pairs = list(zip(ans.T if flip is not None else ans, ref))
        for point, a, r in samples[:EVIDENCE]:
            self.deadline.check()
            for k, (mine, theirs) in enumerate(pairs):
                if mine == theirs:
                    continue
                x, y = precise_value(mine, point, PRECISE), precise_value(theirs, point, PRECISE)
                if x is None or y is None:
                    continue
                size = max(abs(x), abs(y))
                if abs(x - y) > EXACT * size and size > NOISE:
                    return point, _orient(a, flip), r, k, float(abs(x - y) / size)
        return None

    def _symbolic_equal(self, ans: ImmutableMatrix, ref: ImmutableMatrix) -> bool:
        if self.shapes:
            return False
        from matcalc.verify import compare

        for a, r in zip(ans, ref):
            status, method, _ = compare(a, r, deadline=self.deadline)
            if not (status and method == "symbolic"):
                return False
        return True

    # -- the diagnoses ------------------------------------------------------------------
    def _assumption(self, ans, ref, comps, samples, flip):
        """Right when a vector's entries sum to 1, or a square matrix is symmetric.

        Only an assumption that states what the problem leaves open, and that the answer
        has used, is offered: a vector of the input (not one merely declared) whose sum the
        answer no longer contains (an answer with sum(y) has not used sum(y) = 1: d(w·x)/dw
        answered x·sum(x) is wrong, not right "when the entries of x sum to 1"), and a
        matrix A that the input cannot tell from Aᵀ (xᵀAx = xᵀAᵀx, so A may be taken
        symmetric, and 2Ax is the textbook's gradient; but 2A(Ax − b) for ‖Ax − b‖², or Ax
        for d(xᵀAw)/dw, is the mistake of A for Aᵀ, not an assumption)."""
        if not self.shapes:
            return None
        used = set().union(*(e.free_symbols for e in self.problem.exprs))
        for symbol, decl in sorted(self.shapes.items(), key=lambda kv: str(kv[0])):
            if symbol in self.problem.wrt or symbol not in comps or symbol not in used:
                continue
            entries = list(comps[symbol])
            if decl.is_vector:
                if self._keeps_sum(symbol):
                    continue
                kind, constraint = "sum_to_one", _sum_to_one(entries)
            elif comps[symbol].rows == comps[symbol].cols:
                if decl.symmetric or not self._transpose_blind(symbol, comps):
                    continue
                kind, constraint = "symmetric", _symmetric(comps[symbol])
            else:
                continue
            held = self._samples(ans, ref, comps, constraint=constraint)
            pairs = list(zip(ans.T if flip is not None else ans, ref))
            if (
                len(held) >= 3
                and _agree(held, flip)
                and _evidenced(held, pairs, flip)
                and self._holds_at_other_sizes(kind, symbol, flip)
            ):
                return {
                    "verdict": "assumption",
                    "assumption": (kind, symbol),
                    "transposed": flip is not None,
                }
        return None

    def _holds_at_other_sizes(self, kind: str, symbol: Symbol, flip) -> bool:
        """The answer agrees under the assumption at the second sizes too: (softmax(z) − y)ᵀ·3/n
        for the cross-entropy is right at n = 3 only, and was called right "when the entries
        of y sum to 1".  Sizes at which too few points are defined tell nothing (True)."""
        ans, ref, comps = self._sides(self._dims(second=True))
        flip = None if flip is None else ans.shape  # transposed: the shape at these sizes
        if (ans.T if flip is not None else ans).shape != ref.shape:
            return False
        entries = comps[symbol]
        constraint = _sum_to_one(list(entries)) if kind == "sum_to_one" else _symmetric(entries)
        held = self._samples(ans, ref, comps, constraint=constraint)
        return len(held) < 3 or _agree(held, flip)

    def _keeps_sum(self, symbol: Symbol) -> bool:
        """The answer contains sum(v) or mean(v) of the vector ``symbol`` itself."""
        from sympy import preorder_traversal

        from matcalc.linalg.operations import Mean, VSum

        return any(
            isinstance(e, (VSum, Mean)) and e.args[0] == symbol
            for e in preorder_traversal(self.answer)
        )

    def _transpose_blind(self, symbol: Symbol, comps: dict) -> bool:
        """The input has the same value with the matrix ``symbol`` and with its transpose, at
        random points (those where it is defined): only its symmetric part matters."""
        from matcalc.linalg.components import explicit
        from matcalc.linalg.shapes import evaluate_shaped

        dims = self._dims()
        swapped = dict(comps)
        swapped[symbol] = comps[symbol].T
        told = 0
        for e in self.problem.exprs:
            shaped = evaluate_shaped(e, self.shapes)
            a = _matrix(explicit(shaped, self.shapes, dims, comps))
            b = _matrix(explicit(shaped, self.shapes, dims, swapped))
            symbols = sorted(a.free_symbols | b.free_symbols, key=str)
            rng = random.Random(7)  # its own draws: the other diagnoses' points stay as they were
            for _ in range(4):
                point = {s: rng.choice((-1.0, 1.0)) * rng.uniform(0.1, 2.0) for s in symbols}
                memo: dict = {}
                va, vb = self._values(a, point, memo), self._values(b, point, memo)
                if va is None or vb is None:
                    continue
                if not all(_close(x, y) for x, y in zip(va, vb)):
                    return False
                told += 1
        return told > 0

    def _factor(self, ans, ref, comps, samples, flip):
        c = _ratio(samples, flip)
        if c is None:
            return None
        factor = _nice(c)
        if self.shapes:  # a factor that changes with the sizes is a size (N, 1/N)
            dims2 = self._dims(second=True)
            ans2, ref2, comps2 = self._sides(dims2)
            c2 = _ratio(self._samples_or_beside(ans2, ref2, comps2), flip)
            if c2 is None:
                return None
            if not _close(c, c2):
                factor = _size_factor(c, c2, self._dims(), dims2)
                if factor is None:
                    return None
        if factor == 1 or factor == 0:  # an answer 0 is not "0 times the derivative"
            return None
        mistake = "sign" if factor == -1 else "factor"
        found = {
            "verdict": "wrong",
            "mistake": mistake,
            "factor": factor,
            "transposed": flip is not None,
        }
        if mistake == "sign" and self._quotient():
            found["cause"] = "numerator_swapped"  # the quotient rule's f·g′ - f′·g
        return found

    def _quotient(self) -> bool:
        """The problem is one scalar quotient f/g of one variable, f and g varying with it
        (1/x and e⁻ˣ are powers, not quotients)."""
        one = self._one_scalar()
        if one is None:
            return False
        from sympy import fraction

        expr, x = one
        top, bottom = fraction(expr)
        return top.has(x) and bottom.has(x)

    def _one_scalar(self) -> tuple[Expr, Symbol] | None:
        """The problem's one scalar expression, as SymPy evaluates it, and its one variable;
        None for vectors, several expressions or several variables (found once)."""
        if not hasattr(self, "_scalar"):
            p = self.problem
            self._scalar = None
            if not self.shapes and len(p.exprs) == 1 and len(p.wrt) == 1:
                from matcalc.engine.simplify import evaluate

                self._scalar = (evaluate(p.exprs[0]), p.wrt[0])
        return self._scalar

    def _gate(self, ans, ref, comps, samples, flip):
        """The answer is the derivative with every gate 1[z > 0] open (§6.1's slip)."""
        if not ref.has(Heaviside, Max, Min):
            return None
        opened = ref.replace(lambda e: isinstance(e, Heaviside), lambda e: S.One)
        opened = opened.replace(
            lambda e: isinstance(e, (Max, Min)) and S.Zero in e.args and len(e.args) == 2,
            lambda e: next(a for a in e.args if a != 0),
        )
        if opened == ref:
            return None
        mine = [(p, a, self._values(opened, p)) for p, a, _ in samples]
        mine = [(p, a, o) for p, a, o in mine if o is not None]
        if len(mine) < 3 or not _agree(mine, flip):
            return None
        if _agree(samples, flip):
            return None
        from matcalc.linalg import VSum

        summed = any(e.has(VSum) for e in self.problem.exprs)
        return {
            "verdict": "wrong",
            "mistake": "gate_outside_sum" if summed else "gate_missing",
            "transposed": flip is not None,
            "step": self._step_with(lambda s: _value_of(s).has(Heaviside)),
        }

    def _dropped_term(self, ans, ref, comps, samples, flip):
        """reference − answer is one of the terms the rules add up."""
        for term, index in self._terms():
            self.deadline.check()
            value = self._explicit(term)
            if value is None or value.shape != ref.shape:
                continue
            missing = [(p, a, self._values(value, p)) for p, a, _ in samples]
            if any(m is None for _, _, m in missing):
                continue
            if all(
                _close(ai + mi, ri)
                for (_, a, m), (_, _, r) in zip(missing, samples)
                for ai, mi, ri in zip(_orient(a, flip), m, r)
            ):
                return {
                    "verdict": "wrong",
                    "mistake": "dropped_term",
                    "term": term,
                    "step": index,
                    "transposed": flip is not None,
                }
        return None

    def _missing_factor(self, ans, ref, comps, samples, flip):
        """answer · (one local derivative, substituted back) = the reference, where the
        derivation has a chain rule: |x| answered 1 lacks no chain-rule factor, there is
        no chain (sign(x) is the whole derivative)."""
        if ref.shape != (1, 1):
            return None
        if not any(isinstance(step, (ChainRule, TotalDerivative)) for step in self.d.steps):
            return None
        for index, step in enumerate(self.d.steps):
            if not isinstance(step, LocalDerivative) or isinstance(step.value, MatrixBase):
                continue
            factor = self._substituted(step.value)
            if factor.is_number or factor.free_symbols - set(self._all_symbols()):
                continue
            value = self._explicit(factor)
            if value is None or value.shape != (1, 1):
                continue
            pairs = [(a[0], self._values(value, p), r[0]) for p, a, r in samples]
            if any(f is None for _, f, _ in pairs):
                continue
            if all(_close(a * f[0], r) for a, f, r in pairs):
                return {
                    "verdict": "wrong",
                    "mistake": "missing_factor",
                    "term": factor,
                    "step": index,
                }
        return None

    def _misused_rule(self, ans, ref, comps, samples, flip):
        """The classic misuses of the product and quotient rules, for a scalar product or
        quotient: (f·g)′ taken as f′·g′, (f/g)′ as f′/g′, or (f′·g − f·g′)/g with g, not g²,
        below.  (Its numerator the wrong way round is minus the derivative: ``_factor``'s
        sign, with that cause.)  A dropped term is named instead where it explains the
        answer too: x·eˣ answered eˣ."""
        one = self._one_scalar()
        if one is None:
            return None
        from sympy import Mul, diff, fraction

        expr, x = one
        top, bottom = fraction(expr)
        varying = [f for f in Mul.make_args(top) if f.has(x)]
        constant = Mul(*(f for f in Mul.make_args(top) if not f.has(x)))
        variants = []
        if bottom.has(x) and varying:
            d_top, d_bottom = diff(top, x), diff(bottom, x)
            variants.append(("quotient_of_derivatives", d_top / d_bottom))
            variants.append(("denominator_not_squared", (d_top * bottom - top * d_bottom) / bottom))
        elif len(varying) >= 2:
            product = Mul(*(diff(f, x) for f in varying))
            variants.append(("product_of_derivatives", constant * product / bottom))
        for mistake, variant in variants:
            if self._explains(variant, samples):
                if mistake == "product_of_derivatives" and self._dropped_term(
                    ans, ref, comps, samples, flip
                ):
                    return None
                return {"verdict": "wrong", "mistake": mistake}
        return None

    def _explains(self, variant: Expr, samples) -> bool:
        """A scalar ``variant`` equals the answer, and not the derivative, at the samples."""
        self.deadline.check()
        value = self._explicit(variant)
        if value is None or value.shape != (1, 1):
            return False
        pairs = []
        for q, a, r in samples:
            v = self._values(value, q)
            if v is None:
                return False
            pairs.append((a[0], v[0], r[0]))
        return all(_close(a, v) for a, v, _ in pairs) and not all(_close(v, r) for _, v, r in pairs)

    def _wrong_local_rule(self, ans, ref, comps, samples, flip):
        """One function's derivative misremembered, everywhere it occurs, the chain rule
        otherwise right: uⁿ → n·uⁿ (the exponent not lowered), cᵘ → u·cᵘ⁻¹ (the power rule
        on an exponential), sin → -cos, cos → sin."""
        one = self._one_scalar()
        if one is None:
            return None
        from sympy import Derivative, Dummy, cos, diff, preorder_traversal, sin

        expr, x = one
        seen: set = set()
        for node in preorder_traversal(expr):
            if node in seen or not node.has(x) or node == x:
                continue
            seen.add(node)
            wrong = None
            if node.is_Pow and not node.exp.has(x) and node.exp.is_positive and node.exp != 1:
                u, n = node.args
                mistake, wrong = "power_not_lowered", n * u**n * diff(u, x)
            elif node.is_Pow and not node.base.has(x) and node.base.is_positive:
                c, u = node.args
                mistake, wrong = "power_rule_on_exponential", u * c ** (u - 1) * diff(u, x)
            elif isinstance(node, sin):
                u = node.args[0]
                mistake, wrong = "trig_sign", -cos(u) * diff(u, x)
            elif isinstance(node, cos):
                u = node.args[0]
                mistake, wrong = "trig_sign", sin(u) * diff(u, x)
            if wrong is None:
                continue
            stand_in = Dummy(real=True)
            outer = expr.xreplace({node: stand_in})
            try:
                chain = diff(outer, x) + diff(outer, stand_in) * wrong
                if chain.has(Derivative):  # |u|′ of a u not known to be real, f′ of an f
                    continue
                variant = chain.xreplace({stand_in: node})
            except (ValueError, TypeError, ArithmeticError):
                continue
            if self._explains(variant, samples):
                return {"verdict": "wrong", "mistake": mistake, "term": node}
        return None

    # -- helpers ------------------------------------------------------------------------
    def _swapped(self, ans, ref, comps, samples, flip):
        """The answer with one square matrix A read as Aᵀ, at one place (or Aᵀ as A), is the
        derivative: 2A(Ax − b) for ‖Ax − b‖², whose gradient is 2Aᵀ(Ax − b)."""
        if not self.shapes or isinstance(self.answer, MatrixBase):
            return None
        from matcalc.linalg import MatT

        square = {
            symbol
            for symbol, decl in self.shapes.items()
            if symbol in comps
            and comps[symbol].rows == comps[symbol].cols
            and comps[symbol].rows > 1
            and not decl.symmetric
        }
        for variant, had, meant in _one_swap(self.answer, square, MatT):
            self.deadline.check()
            value = self._explicit(variant)
            if value is None or value.shape != ans.shape:
                continue
            mine = [(p, self._values(value, p), r) for p, _, r in samples]
            mine = [(p, v, r) for p, v, r in mine if v is not None]
            if len(mine) >= 3 and len(mine) == len(samples) and _agree(mine, flip):
                return {
                    "verdict": "wrong",
                    "mistake": "swapped",
                    "term": variant,
                    "swap": (had, meant),
                    "transposed": flip is not None,
                }
        return None

    def _all_symbols(self) -> set:
        p = self.problem
        return set().union(*(e.free_symbols for e in p.exprs), p.wrt)

    def _replacements(self) -> list[tuple[Symbol, Math]]:
        pairs: list[tuple[Symbol, Math]] = []
        for step in _walk(self.d.steps):
            if isinstance(step, Substitute):
                pairs.extend(step.replacements)
        return pairs

    def _substituted(self, expr: Math) -> Math:
        """An engine value in the input's own variables (intermediates replaced)."""
        pairs = dict(self._replacements())
        for _ in range(len(pairs) + 1):
            new = expr.xreplace(pairs)
            if new == expr:
                break
            expr = new
        return expr

    def _explicit(self, expr: Math) -> ImmutableMatrix | None:
        if expr.free_symbols - self._all_symbols() - set(self.shapes):
            return None
        if not self.shapes:
            from matcalc.engine.simplify import evaluate

            return _matrix(evaluate(expr) if isinstance(expr, Expr) else expr)
        from matcalc.linalg.components import explicit
        from matcalc.linalg.shapes import evaluate_shaped

        try:
            return _matrix(explicit(evaluate_shaped(expr, self.shapes), self.shapes, self._dims()))
        except Exception:
            return None

    def _terms(self) -> list[tuple[Math, int | None]]:
        """Candidate terms: of the result, of each total derivative, of product rules."""
        out: list[tuple[Math, int | None]] = []
        seen: set = set()
        steps = list(self.d.steps)

        def add(term: Math, index: int | None) -> None:
            term = self._substituted(term)
            if term not in seen and term != 0:
                seen.add(term)
                out.append((term, index))

        for index, step in enumerate(steps):
            if isinstance(step, TotalDerivative):
                for path in step.terms:
                    value = (
                        path.partial_value
                        if path.total_value is None
                        else (
                            path.partial_value * path.total_value
                            if not isinstance(path.partial_value, MatrixBase)
                            else None
                        )
                    )
                    if value is not None:
                        add(value, index)
            if isinstance(step, LocalDerivative) and isinstance(step.value, Add):
                for arg in step.value.args:
                    add(arg, index)
        result = self.d.result
        if isinstance(result, Expr) and isinstance(result, Add):
            for arg in result.args:
                add(arg, _last(steps, LocalDerivative))
        return out

    def _step_with(self, test) -> int | None:
        for index, step in enumerate(self.d.steps):
            if isinstance(step, LocalDerivative) and test(step):
                return index
        return None


def _one_swap(expr, square: set, transpose) -> Iterator[tuple[Math, Math, Math]]:
    """(expr with one place changed, what was there, what is there now): each A of
    ``square`` that is not transposed becomes Aᵀ, each Aᵀ becomes A, one at a time."""
    from matcalc.engine.simplify import rebuild

    if isinstance(expr, transpose) and expr.args[0] in square:
        yield expr.args[0], expr, expr.args[0]
        return
    if expr in square:
        yield transpose(expr), expr, transpose(expr)
        return
    if not isinstance(expr, Basic):
        return
    for i, arg in enumerate(expr.args):
        for changed, had, meant in _one_swap(arg, square, transpose):
            args = (*expr.args[:i], changed, *expr.args[i + 1 :])
            yield rebuild(expr, args), had, meant


def _first_difference(samples, flip):
    """(point, answer values, reference values, entry) where they first differ."""
    for point, a, r in samples:
        a = _orient(a, flip)
        for k, (x, y) in enumerate(zip(a, r)):
            if not _close(x, y):
                return point, a, r, k
    point, a, r = samples[0]
    return point, _orient(a, flip), r, 0


def _walk(steps):
    for step in steps:
        yield step
        inner = getattr(step, "steps", None)
        if inner:
            yield from _walk(inner)


def _value_of(step) -> Any:
    value = getattr(step, "value", None)
    return value if value is not None else S.Zero


def _last(steps, kind) -> int | None:
    found = [i for i, s in enumerate(steps) if isinstance(s, kind)]
    return found[-1] if found else None


def _sizes_of(comps: dict) -> tuple:
    """A key for the sizes at which ``comps`` (``components``) are written out."""
    return tuple(sorted((str(k), getattr(v, "shape", ())) for k, v in comps.items()))


def _matrix(value: Any) -> ImmutableMatrix:
    if isinstance(value, MatrixBase):
        return ImmutableMatrix(value)
    return ImmutableMatrix([[value]])


def _close(a: complex, b: complex) -> bool:
    """Equal to ``TOLERANCE``, relative to the larger value (not to 1: small values are
    compared too), or both within ``NOISE`` of each other."""
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b)) or abs(a - b) <= NOISE


def _transposed(values: list[complex], shape: tuple[int, int]) -> list[complex]:
    rows, cols = shape
    return [values[i * cols + j] for j in range(cols) for i in range(rows)]


def _orient(a: list[complex], shape: tuple[int, int] | None) -> list[complex]:
    """The answer's values, transposed when ``shape`` (the answer's own shape) is given."""
    return a if shape is None else _transposed(a, shape)


def _evidenced(samples, pairs, shape: tuple[int, int] | None = None) -> bool:
    """Every entry k (of ``pairs``: (answer's, reference's) entry, in the reference's order)
    larger than ``NOISE`` on one side at ``EVIDENCE`` samples, or literally the same."""
    for k, (mine, theirs) in enumerate(pairs):
        if mine == theirs:
            continue
        seen = 0
        for _, a, r in samples:
            if max(abs(_orient(a, shape)[k]), abs(r[k])) > NOISE:
                seen += 1
        if seen < EVIDENCE:
            return False
    return True


def _agree(samples, shape: tuple[int, int] | None = None) -> bool:
    """Answer = reference at every sample (the answer transposed when ``shape`` is given)."""
    for _, a, r in samples:
        a = _orient(a, shape)
        if len(a) != len(r) or not all(_close(x, y) for x, y in zip(a, r)):
            return False
    return True


def _ratio(samples, shape: tuple[int, int] | None = None) -> complex | None:
    """The one constant c with answer = c · reference at every point, if there is one."""
    c = None
    for _, a, r in samples:
        for x, y in zip(_orient(a, shape), r):
            if abs(y) <= 1e-9:
                if abs(x) > 1e-9:
                    return None
                continue
            q = x / y
            if c is None:
                c = q
            elif not _close(q, c):
                return None
    if c is None or abs(c.imag) > TOLERANCE:
        return None
    return c


def _nice(c: complex) -> Expr:
    value = c.real
    guess = nsimplify(Float(value, 15), rational=True, tolerance=1e-9)
    if isinstance(guess, Rational) and abs(guess.q) <= 1000:
        return guess
    return Float(value, 6)


def _size_factor(c1: complex, c2: complex, dims1: dict, dims2: dict) -> Expr | None:
    """A factor that is a size (N) or its inverse, times a constant number."""
    for s in dims1:
        for power in (1, -1):
            k1 = c1.real / dims1[s] ** power
            k2 = c2.real / dims2[s] ** power
            if _close(k1, k2):
                return _nice(complex(k1)) * s**power
    return None


def _distinct(roots: Iterable[float]) -> list[float]:
    """``roots`` in order, one found twice (by two boundaries, a little apart) kept once."""
    out: list[float] = []
    for r in sorted(roots):
        if not out or r - out[-1] > 1e-6 * max(1.0, abs(r)):
            out.append(r)
    return out


@lru_cache(maxsize=16)
def _kinks(m: ImmutableMatrix) -> frozenset:
    """The gates and kinks of ``m``, found once per matrix (not once per point: a 4×4
    inverse written out has some 10⁶ nodes to walk)."""
    return frozenset(m.atoms(Heaviside, Max, Min))


def _on_kink(m: ImmutableMatrix, point: dict) -> bool:
    """Whether a gate or kink of ``m`` sits (nearly) at ``point``: those points are skipped."""
    kinks = _kinks(m)
    if not kinks:
        return False
    subs = {s: Float(v, 30) for s, v in point.items()}
    for kink in kinks:
        args = kink.args[:1] if isinstance(kink, Heaviside) else kink.args
        try:
            values = [complex(a.xreplace(subs).evalf(20)).real for a in args]
        except (TypeError, ValueError):
            return True
        if isinstance(kink, Heaviside):
            if abs(values[0]) < 1e-6:
                return True
        elif any(abs(p - q) < 1e-6 for i, p in enumerate(values) for q in values[i + 1 :]):
            return True
    return False


def _sum_to_one(entries: list[Symbol]):
    def constrain(point: dict) -> dict:
        point = dict(point)
        values = [abs(point.get(e, 0.5)) + 0.05 for e in entries]
        total = sum(values)
        for e, v in zip(entries, values):
            point[e] = v / total
        return point

    return constrain


def _symmetric(matrix: ImmutableMatrix):
    def constrain(point: dict) -> dict:
        point = dict(point)
        for i in range(matrix.rows):
            for j in range(i + 1, matrix.cols):
                if matrix[i, j] in point and matrix[j, i] in point:
                    point[matrix[j, i]] = point[matrix[i, j]]
        return point

    return constrain
