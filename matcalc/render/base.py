"""The base visitor of every format: it turns a ``Derivation``'s steps into items to lay out.

``Renderer`` walks the steps.  ``_render(step)`` dispatches on ``type(step).__mro__``
to ``_render_<ClassName>``, which returns a list of items: a ``Line`` (one
displayed equation, lhs = rhs₁ = rhs₂ …, with an optional reason) or a finished
block of the format (a paragraph, a nested sub-derivation).  The step methods
here are written once, in terms of a few primitives that each format supplies
(``_m`` prints an expression, ``_d`` a derivative name, ``_product`` a product,
``_section`` lays out a titled group of items …), so every format shows the
same content.  Consecutive steps are grouped into the paper's sections by
``sections``; numbered sections become "Step 1 — …".

To render a new kind of step, add ``_render_<StepClass>`` here (or in one format
where the generic form is weak) and, if it starts a section, an entry in
``SECTION_OF``.  Every sentence comes from ``messages``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sympy import (
    Abs,
    Add,
    Basic,
    Expr,
    Heaviside,
    ImmutableMatrix,
    MatrixBase,
    Max,
    Min,
    Mul,
    Rational,
    Symbol,
    sign,
)

from matcalc.msg import text as msg_text
from matcalc.render.messages import Prose, message, rule_name
from matcalc.render.printing import Label
from matcalc.steps import (
    Assemble,
    ChainRule,
    DifferentialStep,
    Explicit,
    HessianVector,
    Intermediate,
    LocalDerivative,
    Note,
    Part,
    Reshape,
    Shape,
    Simplify,
    Stage,
    Step,
    Substitute,
    TotalDerivative,
    Verify,
)

SECTION_OF = {
    "Note": "notes",
    "Intermediate": "intermediates",
    "LocalDerivative": "derivatives",
    "ChainRule": "combine",
    "TotalDerivative": "combine",
    "Substitute": "substitute",
    "Simplify": "simplify",
    "Verify": "verify",
    "Part": "part",
    "Stage": "stage",
    "Assemble": "assemble",
    "Explicit": "explicit",
    "Reshape": "reshape",
    "Shape": "shape",
}
NUMBERED = (
    "intermediates",
    "derivatives",
    "combine",
    "substitute",
    "simplify",
    "reshape",
    "differential.take",
    "differential.cyclic",
    "differential.read",
)


@dataclass(frozen=True, slots=True)
class Line:
    """One displayed equation: lhs = rhs[0] = rhs[1] …, then a reason such as a rule name."""

    lhs: Any
    rhs: tuple[Any, ...]
    reason: str = ""


class Block(str):
    """A finished piece of output (a nested sub-derivation): placed as it is."""


@dataclass(frozen=True, slots=True)
class Section:
    """Consecutive steps of one kind: "intermediates", "derivatives", "combine", …"""

    key: str
    steps: tuple[Step, ...]


def section_key(step: Step) -> str:
    if isinstance(step, Reshape) and step.to == "vec":  # a gradient listed as vec, to assemble
        return "assemble"
    if isinstance(step, DifferentialStep):  # one section per stage of the method
        return f"differential.{step.stage}"
    for cls in type(step).__mro__:
        if cls.__name__ in SECTION_OF:
            return SECTION_OF[cls.__name__]
    return "other"


def sections(steps: Iterable[Step]) -> list[Section]:
    """Group consecutive steps into sections; each ``Part`` is a section of its own."""
    out: list[Section] = []
    for step in steps:
        key = section_key(step)
        if out and out[-1].key == key and key not in ("part", "stage", "other"):
            out[-1] = Section(key, (*out[-1].steps, step))
        else:
            out.append(Section(key, (step,)))
    return out


def local_partials(steps: Iterable[Step]) -> dict[tuple[Symbol, Symbol], bool]:
    """Whether each local derivative d(of)/d(wrt) of a step sequence is a partial one."""
    return {(s.of, s.wrt): s.partial for s in steps if isinstance(s, LocalDerivative)}


def local_held(steps: Iterable[Step]) -> dict[tuple[Symbol, Symbol], tuple[Symbol, ...]]:
    """The direct partial ∂(of)/∂(wrt) of a total-derivative step whose own left side is
    ∂(of)/∂(wrt) too (a partial derivative by one of several variables, or a Jacobian), with
    the intermediates of its other paths, which it holds constant: it is shown
    (∂u₃/∂x)_{u₂}, so that the step does not read ∂u₃/∂x = ∂u₃/∂x + ∂u₃/∂u₂ · ∂u₂/∂x."""
    out = {}
    for s in steps:
        if isinstance(s, TotalDerivative) and s.partial and any(t.via is None for t in s.terms):
            held = tuple(t.via for t in s.terms if t.via is not None)
            if held:
                out[(s.of, s.wrt)] = held
    return out


def local_shapes(steps: Iterable[Step]) -> dict[tuple[Symbol, Symbol], tuple[Expr, ...]]:
    """The stated shape of each derivative d(of)/d(wrt) that a step sequence computes, for
    its factors: a 0 there is a zero vector or matrix."""
    kinds = (LocalDerivative, ChainRule, TotalDerivative)
    return {(s.of, s.wrt): s.shape for s in steps if isinstance(s, kinds) and s.shape}


class StepVisitor:
    """Dispatch a step to ``_render_<Class>`` along its MRO, as SymPy's printers do."""

    def __init__(self, *, lang: str = "en") -> None:
        self.lang = lang

    def _render(self, step: Step) -> Any:
        for cls in type(step).__mro__:
            method = getattr(self, f"_render_{cls.__name__}", None)
            if method is not None:
                return method(step)
        raise TypeError(f"{type(self).__name__} cannot render {type(step).__name__}")


class Renderer(StepVisitor):
    """Base visitor: the paper's sections, written with the format's primitives.

    A format supplies: ``_m(expr)`` an expression, ``_d(of, wrt, partial)`` a
    derivative name, ``_op(wrt, partial, expr)`` d/dx applied to expr,
    ``_factor``/``_summand`` an expression grouped for a product/sum,
    ``_product(frags, vector, loose)``, ``_sum``, ``_eq(a, b)``,
    ``_gradient_name(of)``; for prose ``_inline(frag)`` (math in a sentence),
    ``_escape(text)``, ``_tm(text)`` (prose inside math), ``_loud``; for layout
    ``_heading(text)``, ``_section(heading, items)`` and ``_document(blocks)``.
    """

    BLOCK_SEP = "\n\n"
    PARTS = ("solution", "problem", "answer")
    """What ``render`` shows: the whole worked solution; the problem statement only (a
    problem sheet); or the statement, the result and its verification (an answer key)."""
    STEP_TITLES_WHEN_COMPACT = True
    """Whether numbered step titles ("Step 1 — …") stay in the compact layout."""

    def __init__(
        self,
        *,
        lang: str = "en",
        memo: dict | None = None,
        part: str = "solution",
        compact: bool = False,
    ) -> None:
        super().__init__(lang=lang)
        if part not in self.PARTS:
            raise ValueError(f"part must be one of {', '.join(self.PARTS)}, not {part!r}")
        self.part = part
        self.compact = compact
        self._memos: dict = {} if memo is None else memo  # printer name -> its memo
        self._depth = 0
        self._partials: dict[tuple[Symbol, Symbol], bool] = {}
        self._held: dict[tuple[Symbol, Symbol], tuple[Symbol, ...]] = {}
        self._shapes: dict[tuple[Symbol, Symbol], tuple[Expr, ...]] = {}
        self._kind = "gradient"
        self._layout = "numerator"

    # -- the format's primitives (see the class docstring); a fragment is whatever the
    # format builds a line from (a string, or a text drawing)
    def _m(self, expr: Any) -> Any:
        raise NotImplementedError

    def _d(self, of: Symbol, wrt: Symbol, partial: bool, held: Sequence[Symbol] = ()) -> Any:
        """d(of)/d(wrt), or ∂(of)/∂(wrt); with ``held``, (∂(of)/∂(wrt)) with those held
        constant, as a subscript."""
        raise NotImplementedError

    def _op(self, wrt: Symbol, partial: bool, expr: Any) -> Any:
        raise NotImplementedError

    def _factor(self, expr: Any) -> Any:
        raise NotImplementedError

    def _summand(self, expr: Any) -> Any:
        raise NotImplementedError

    def _product(self, frags: Sequence[Any], vector: bool = False, loose: bool = False) -> Any:
        raise NotImplementedError

    def _sum(self, frags: Sequence[Any]) -> Any:
        raise NotImplementedError

    def _eq(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def _gradient_name(self, of: Symbol) -> Any:
        raise NotImplementedError

    def _inline(self, frag: Any) -> str:
        raise NotImplementedError

    def _escape(self, text: str) -> str:
        raise NotImplementedError

    def _tm(self, text: str) -> str:
        raise NotImplementedError

    def _loud(self, text: str) -> str:
        raise NotImplementedError

    def _heading(self, text: str) -> str:
        raise NotImplementedError

    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        raise NotImplementedError

    def _document(self, blocks: Sequence[str]) -> str:
        raise NotImplementedError

    # -- the document -----------------------------------------------------------------
    def configure(self, d: Any) -> None:
        """Start rendering ``d``: the printers learn whether ``d`` has vectors (scalar ones
        skip the ⊗ search), and then take the memo of their class and settings
        (``printing.shared_memo``), shared with the other formats and renderings."""
        for printer in (getattr(self, "_printer", None), getattr(self, "_pretty", None)):
            if printer is not None:
                printer._settings["vectors"] = bool(d.problem.declarations)
                printer.share()

    def render(self, d: Any) -> str:
        self.configure(d)
        self._kind = "jacobian" if d.problem.kind == "jacobian" else "gradient"
        self._layout = d.problem.layout
        if self.part == "problem":
            return self._document([self._problem(d)])
        blocks = [self._problem(d)]
        if self.part == "solution":
            blocks += self._steps(d.steps, top=True)
        blocks.append(self._result(d))
        for step in d.steps:
            if isinstance(step, Explicit) and self.part == "solution":
                sizes = ", ".join(
                    self._inline(self._eq(self._m(s), self._m(v))) for s, v in step.sizes
                )
                heading = self._heading(self._msg("section.explicit", sizes=sizes))
                items = self._value_lines(self._result_name(d), step.value)
                blocks.append(self._section(heading, items))
        for step in d.steps:
            if isinstance(step, Verify):
                blocks.append(self._section(None, self._render(step)))
        return self._document(blocks)

    def _msg(self, key: str, **kw: object) -> str:
        """A sentence of prose, escaped for the format; ``kw`` values are ready to insert."""
        return message(key, self.lang, escape=self._escape, **kw)

    def _msg_math(self, key: str, **kw: object) -> str:
        """A sentence placed inside displayed math (a reason after an equation)."""
        return message(key, self.lang, escape=self._tm, **kw)

    def _problem(self, d: Any) -> str:
        p = d.problem
        kind = p.kind
        if kind == "derivative" and p.exprs[0].free_symbols - set(p.wrt):
            kind = "partial"  # "holding the other variables constant"
        if p.order > 1:
            kind = "hessian" if p.kind == "gradient" or p.declarations else "order"
        wrt = self._inline(self._list(p.wrt))
        v = self._inline(self._m(p.hvp)) if p.hvp is not None else ""
        if p.hvp is not None:
            kind = "hvp"
        items: list[Any] = [self._msg(f"problem.{kind}", wrt=wrt, order=Prose(p.order), v=v)]
        items += [Line(self._m(name), (self._m(e),)) for name, e in zip(self._names(d), p.exprs)]
        if any(isinstance(s, Stage) and s.layout for s in d.steps):  # stages differ
            items.append(self._msg(f"layout.{p.layout}.stages"))
        elif p.kind != "derivative" or p.declarations or isinstance(d.result, MatrixBase):
            items.append(self._msg(f"layout.{p.layout}"))
        return self._section(None, items)

    @contextlib.contextmanager
    def local_names(self, steps: Sequence[Step]) -> Iterator[None]:
        """While it is open, derivative names and zeros are written as ``steps`` define
        them (``local_partials``, ``local_held``, ``local_shapes``); then as before."""
        saved = self._partials, self._held, self._shapes
        self._partials, self._held = local_partials(steps), local_held(steps)
        self._shapes = local_shapes(steps)
        try:
            yield
        finally:
            self._partials, self._held, self._shapes = saved

    def _steps(self, steps: Sequence[Step], *, top: bool = False) -> list[str]:
        with self.local_names(steps):
            return self._step_blocks(steps, top)

    def _step_blocks(self, steps: Sequence[Step], top: bool) -> list[str]:
        direct = not any(isinstance(s, Intermediate) for s in steps)
        blocks, number = [], 0
        for section in sections(steps):
            if top and section.key in ("verify", "explicit", "shape"):
                continue
            title = self._section_title(section, direct)
            if title and section.key in NUMBERED:
                number += 1
                title = self._msg("step", n=Prose(number), title=title)
            if self.compact and not self.STEP_TITLES_WHEN_COMPACT and section.key in NUMBERED:
                title = None
            heading = self._heading(title) if title else None
            items = [item for step in section.steps for item in self._render(step)]
            blocks.append(self._section(heading, items))
        return blocks

    def _section_title(self, section: Section, direct: bool) -> str | None:
        key, first = section.key, section.steps[0]
        if key == "derivatives" and direct:
            key = "differentiate"
        elif key == "combine":
            key = "total_derivative" if isinstance(first, TotalDerivative) else "chain_rule"
            if isinstance(first, ChainRule) and first.vector:
                key = "vector_chain_rule"
        elif key == "assemble":
            key = "assemble." + self._kind
        elif key not in NUMBERED:
            return None
        return self._msg(f"section.{key}")

    def _result(self, d: Any) -> str:
        heading = self._heading(self._msg("section.result"))
        name = self._result_name(d)
        zero = self.zero_result(d)
        if zero is not None:
            items: list[Any] = [Line(name, (zero,))]
        else:
            items = self._value_lines(name, d.result)
        items += [item for s in d.steps if isinstance(s, Shape) for item in self._render(s)]
        return self._section(heading, items)

    def zero_result(self, d: Any) -> Any | None:
        """A zero vector or matrix result as 𝟎 or 𝟎ᵀ, in its stated shape; else None."""
        shape = next(((s.rows, s.cols) for s in d.steps if isinstance(s, Shape)), ())
        return self._m_shaped(d.result, shape) if _zero_array(d.result, shape) else None

    # -- facts about the problem ------------------------------------------------------
    def _is_partial(self, d: Any) -> bool:
        """∂ wording: the expression has variables other than the one we differentiate by."""
        p = d.problem
        # vector problems use ∂ throughout, as the engine's steps do (§4 onwards)
        return (
            p.kind != "derivative"
            or bool(p.declarations)
            or bool(p.exprs[0].free_symbols - set(p.wrt))
        )

    def _names(self, d: Any) -> list[Symbol]:
        p = d.problem
        if len(p.exprs) == 1:
            return [p.output]
        parts = list(dict.fromkeys(s.of for s in d.steps if isinstance(s, Part)))
        if len(parts) == len(p.exprs):
            return parts
        return [Symbol(f"{p.output}_{i}") for i in range(1, len(p.exprs) + 1)]

    def _result_name(self, d: Any) -> Any:
        p = d.problem
        if p.hvp is not None:
            from matcalc.linalg import MatrixName, MatVec

            return self._m(MatVec(MatrixName("H", real=True), p.hvp))
        if p.order > 1:
            if p.kind == "gradient" or p.declarations:
                return self._m(Symbol("H"))
            return self._d_order(p.output, p.wrt[0], self._is_partial(d), p.order)
        if p.kind == "gradient":
            return self._gradient_name(p.output)
        if p.kind == "jacobian":
            return self._m(Symbol("J"))
        by_vec = next(
            (s.by_vec for s in d.steps if isinstance(s, Shape) and s.by_vec is not None), None
        )
        if by_vec is not None:  # a vector's Jacobian by a matrix W is by vec(W)
            from matcalc.engine.layout import Vec

            return self._d(p.output, Vec(by_vec), self._is_partial(d))
        return self._d(p.output, p.wrt[0], self._is_partial(d))

    def _partial(self, of: Symbol, wrt: Symbol, default: bool) -> bool:
        return self._partials.get((of, wrt), default)

    # -- one method per step ----------------------------------------------------------
    def _render_Note(self, step: Note) -> list[Any]:
        if step.topic == "kink" and step.math is not None and _inline_size(step.math):
            return [self._msg("note", text=self._kink(step.math))]
        if step.topic == "kink" and step.math is not None:  # too long for a sentence
            z = Symbol("z", real=True)
            text = self._msg("note.kink.long", max0=self._inline(self._m(Max(0, z))))
            return [self._msg("note", text=text), Line(self._m(step.math), ())]
        elif step.topic == "sum_to_one" and step.about is not None:
            text = self._msg("note.sum_to_one", name=self._inline(self._m(step.about)))
        elif step.topic == "modulus_of_power" and step.math is not None:
            shown = self._inline(self._m_inline(step.math))
            return [self._msg("note", text=self._msg("note.modulus_of_power", expr=shown))]
        elif step.topic == "symmetric" and step.math is not None and step.about is not None:
            return self._symmetric_note(step)
        elif step.topic in ("simplify_cut", "nowhere_real"):
            text = self._msg(f"note.{step.topic}")
        elif step.topic == "tie" and step.math is not None and step.equals is not None:
            if _inline_size(step.math):
                return [self._msg("note", text=self._tie(step))]
            text = self._msg("note.tie.long")
            return [self._msg("note", text=text), Line(self._m(step.math), (self._m(step.equals),))]
        elif step.topic == "unused" and step.math is not None:  # the variable, not a display
            return [
                self._msg(
                    "note", text=self._msg("note.unused", name=self._inline(self._m(step.math)))
                )
            ]
        else:
            text = self._escape(
                msg_text(step.explanation, self.lang) if step.explanation else step.topic
            )
        items: list[Any] = [self._msg("note", text=text)]
        if step.math is not None:
            items.append(Line(self._m(step.math), ()))
        return items

    def _kink(self, node: Basic) -> str:
        """Where the user's own max, min or |·| has no derivative, and what is taken there:
        max(sin(x), x²) where sin(x) = x², the step 𝟙[sin(x) - x² > 0]."""
        z = Symbol("z", real=True)
        kw = {"m": self._inline(self._m(node)), "max0": self._inline(self._m(Max(0, z)))}
        if isinstance(node, Abs):
            at = self._eq(self._m(node.args[0]), self._m(0))
            sign_of = self._inline(self._m(sign(node.args[0])))
            return self._msg("note.kink.abs", at=self._inline(at), sign=sign_of, **kw)
        if len(node.args) != 2:
            return self._msg("note.kink.many", **kw)
        # the step of the derivative by u, the first argument that is not a number (SymPy
        # puts a number first): max(u, c) has 𝟙[u - c > 0] (𝟙[u > 0] for c = 0), min(u, c)
        # 𝟙[c - u > 0] (𝟙[-u > 0]); written where u = c, x = 1 rather than 1 = x
        u, c = node.args[::-1] if node.args[0].is_Number else node.args
        at = self._eq(self._m(u), self._m(c))
        if isinstance(node, Max):
            gap = u if c == 0 else Add(u, Mul(-1, c), evaluate=False)
        else:
            gap = Mul(-1, u) if c == 0 else Add(c, Mul(-1, u), evaluate=False)
        step = self._inline(self._m(Heaviside(gap, 0)))
        return self._msg("note.kink", at=self._inline(at), step=step, **kw)

    def _tie(self, step: Note) -> str:
        """x² + 1 ≥ 0 everywhere, so max(0, x² + 1) = x² + 1: a max or min settled."""
        kw = {"m": self._inline(self._m(step.math)), "value": self._inline(self._m(step.equals))}
        if not step.others:
            return self._msg("note.tie.equal", **kw)
        others = ", ".join(self._inline(self._m(o)) for o in step.others)
        which = "min" if isinstance(step.math, Min) else "max"
        return self._msg(f"note.tie.{which}", others=others, **kw)

    def _render_Intermediate(self, step: Intermediate) -> list[Any]:
        lhs = self._m(step.name)
        if step.output is not None:
            lhs = self._eq(self._m(step.output), lhs)
        return [Line(lhs, (self._m(step.definition),))]

    def _render_LocalDerivative(self, step: LocalDerivative) -> list[Any]:
        rule: str = Prose(rule_name(step.rule, self.lang))
        if step.shape and tuple(step.shape) != (1, 1):  # a scalar's shape goes without saying
            rule = self._msg_math("reason.shaped", shape=self._shape_math(step.shape), rule=rule)
        if step.held_constant:
            names = self._list(step.held_constant)
            reason = self._msg_math("reason.held", rule=rule, names=names)
        else:
            reason = self._msg_math("reason", rule=rule)
        held = self._held.get((step.of, step.wrt), ()) if step.partial else ()
        lhs = self._d(step.of, step.wrt, step.partial, held)
        op = self._op(step.wrt, step.partial, step.expr)
        return [Line(lhs, (op, self._m_shaped(step.value, step.shape)), reason)]

    def _render_ChainRule(self, step: ChainRule) -> list[Any]:
        names = [self._d(f.of, f.wrt, f.partial) for f in step.factors]
        values = [self._factor_of(v, f.of, f.wrt) for f, v in zip(step.factors, step.factor_values)]
        rhs = [self._product(names, step.vector, loose=True), self._product(values, step.vector)]
        lhs = self._d(step.of, step.wrt, step.partial)
        rhs_all = self._dedupe(rhs, step.value, step.shape)
        return [Line(lhs, rhs_all, self._shape_reason(step.shape))]

    def _render_TotalDerivative(self, step: TotalDerivative) -> list[Any]:
        several = len(step.terms) > 1
        names, values = [], []
        for term in step.terms:
            if term.via is None:
                partial = self._partial(step.of, step.wrt, several)
                held = self._held.get((step.of, step.wrt), ()) if step.partial else ()
                names.append(self._d(step.of, step.wrt, partial, held))
                values.append(self._summand(term.partial_value))
                continue
            local = self._d(step.of, term.via, self._partial(step.of, term.via, several))
            total_name = self._d(term.via, step.wrt, step.partial)
            pair_names = [local, total_name]
            pair_values = [
                self._factor_of(term.partial_value, step.of, term.via),
                self._factor_of(term.total_value, term.via, step.wrt),
            ]
            if step.layout == "denominator":  # (AB)ᵀ = BᵀAᵀ: the path from wrt comes first
                pair_names, pair_values = pair_names[::-1], pair_values[::-1]
            names.append(self._product(pair_names, loose=True))
            values.append(self._product(pair_values))
        rhs = [self._sum(names), self._sum(values)]
        lhs = self._d(step.of, step.wrt, step.partial)
        rhs_all = self._dedupe(rhs, step.value, step.shape)
        return [Line(lhs, rhs_all, self._shape_reason(step.shape))]

    def _render_Substitute(self, step: Substitute) -> list[Any]:
        used = step.before.free_symbols if hasattr(step.before, "free_symbols") else set()
        pairs = [self._eq(self._m(n), self._m_inline(v)) for n, v in step.replacements if n in used]
        items: list[Any] = []
        if pairs:
            items.append(self._msg("substitute.using", pairs=", ".join(map(self._inline, pairs))))
        if step.factors:
            after = self._product([self._factor(f) for f in step.factors])
        else:
            after = self._m(step.after)
        items.append(Line(self._d(step.of, step.wrt, step.partial), (after,)))
        return items

    def _render_Simplify(self, step: Simplify) -> list[Any]:
        shown = [r for r in step.rewrites if r != "order"]
        reason = ""
        if shown:
            names = "; ".join(message(f"rewrite.{r}", self.lang) for r in shown)
            reason = self._msg_math("reason", rule=Prose(names))
        return [Line(self._d(step.of, step.wrt, step.partial), (self._m(step.after),), reason)]

    def _render_DifferentialStep(self, step: DifferentialStep) -> list[Any]:
        """df = d(f) = …, by the rules used; df = tr(Gᵀ·dX); ∂f/∂X = G (or Gᵀ)."""
        from matcalc.linalg import MatProd, MatT, MDiff, MTrace

        def inline(e: Any) -> str:
            return self._inline(self._m(e))

        g = Symbol("G")
        kw: dict[str, Any] = {
            "df": inline(MDiff(step.of)),
            "dx": inline(MDiff(step.wrt)),
            "form": inline(MTrace(MatProd(MatT(g), MDiff(step.wrt)))),
        }
        if step.stage == "take":
            m = Symbol("M")
            kw = {
                "df": kw["df"],
                "dx": kw["dx"],
                "dtr": self._inline(self._eq(self._m(MDiff(MTrace(m))), self._m(MTrace(MDiff(m))))),
            }
            items: list[Any] = [self._msg("differential.take", **kw)]
            items.append(
                Line(
                    self._m(MDiff(step.of)),
                    (self._m(MDiff(step.expr)), self._m(step.value)),
                )
            )
            if step.rules:
                items.append(self._msg("differential.using"))
                items += [
                    Line(
                        self._m(lhs),
                        (self._m(rhs),),
                        self._msg_math("reason", rule=Prose(rule_name(name, self.lang))),
                    )
                    for name, lhs, rhs in step.rules
                ]
            return items
        if step.stage == "cyclic":
            a, b = Symbol("A"), Symbol("B")
            kw["cyclic"] = self._inline(
                self._eq(self._m(MTrace(MatProd(a, b))), self._m(MTrace(MatProd(b, a))))
            )
            return [
                self._msg("differential.cyclic", **kw),
                Line(self._m(MDiff(step.of)), (self._m(step.value),)),
            ]
        kw |= {"g": inline(g), "var": inline(step.wrt)}
        if step.layout == "numerator":
            kw["gt"] = inline(MatT(g))
        return [
            self._msg(f"differential.read.{step.layout}", **kw),
            Line(self._d(step.of, step.wrt, True), (self._m(step.value),)),
        ]

    def _symmetric_note(self, step: Note) -> list[Any]:
        from matcalc.linalg import Circ, Ident, MatProd, MatT, MDiff, MTrace

        def inline(e: Any) -> str:
            return self._inline(self._m(e))

        g, gs, s = Symbol("G"), Symbol("G_s"), step.about
        pairing = self._eq(
            self._m(MTrace(MatProd(MatT(gs), MDiff(s)))),
            self._m(MDiff(Symbol("f"))),
        )
        kw = {
            "name": inline(s),
            "dname": inline(MDiff(s)),
            "gs": inline(gs),
            "pairing": self._inline(pairing),
            "half": self._inline(
                self._eq(self._m(gs), self._m(Mul(Rational(1, 2), g + MatT(g), evaluate=False)))
            ),
            "g": inline(g),
            "wrong": inline(
                Add(
                    g,
                    MatT(g),
                    Mul(-1, Circ(g, Ident(Symbol("n"))), evaluate=False),
                    evaluate=False,
                )
            ),
        }
        return [
            self._msg("note", text=self._msg("note.symmetric", **kw)),
            Line(self._m(g), (self._m(step.math),)),
        ]

    def _render_Part(self, step: Part) -> list[Any]:
        name = self._inline(self._d(step.of, step.wrt, step.partial))
        heading = self._heading(self._msg("section.part", name=name))
        self._depth += 1
        try:
            inner = self._steps(step.steps)
        finally:
            self._depth -= 1
        return [Block(self.BLOCK_SEP.join([heading, *inner]))]

    def _render_Stage(self, step: Stage) -> list[Any]:
        """One order of a higher derivative: what it differentiates, its steps, its result."""
        x = step.wrt[0]
        if step.hessian and not isinstance(step.expr, MatrixBase):
            title = self._msg("stage.hessian.vector", order=Prose(step.order))
        elif step.hessian:
            title = self._msg("stage.hessian", order=Prose(step.order))
        elif step.order == 1 and step.layout:  # not the problem's layout: say which
            title = self._msg(f"stage.first.{step.layout}", order=Prose(1))
        elif step.order == 1:
            title = self._msg("stage.first", order=Prose(1))
        else:
            title = self._msg(
                "stage.again", order=Prose(step.order), previous=Prose(step.order - 1)
            )
        heading = self._heading(title)
        self._depth += 1
        try:
            blocks = []
            if step.hessian and isinstance(step.expr, MatrixBase):  # y_x = ∂y/∂x = …
                lines = [
                    Line(self._m(n), (self._d(step.of, w, True), self._m(g)))
                    for n, w, g in zip(step.names, step.wrt, step.expr)
                ]
                blocks.append(self._section(None, lines))
            elif step.hessian:  # g = ∇y = …, the gradient as a column
                grad = self._gradient_name(step.of)
                lines = [Line(self._m(step.names[0]), (grad, self._m(step.expr)))]
                blocks.append(self._section(None, [self._msg("stage.hessian.gradient"), *lines]))
            elif step.order > 1:  # y' = dy/dx = …
                before = self._d_order(step.of, x, step.partial, step.order - 1)
                lines = [Line(self._m(step.names[0]), (before, self._m(step.expr)))]
                blocks.append(self._section(None, lines))
            blocks += self._steps(step.steps)
            if step.hessian:
                layout = step.layout or self._layout  # columns are gradients in denominator
                key = "stage.hessian.assemble" + (".denominator" if layout == "denominator" else "")
                items: list[Any] = [self._msg(key)]
                items += self._value_lines(self._m(Symbol("H")), step.result)
                blocks.append(self._section(None, items))
            elif step.order > 1:
                name = self._d_order(step.of, x, step.partial, step.order)
                inner = self._d(step.names[0], x, step.partial)
                blocks.append(self._section(None, [Line(name, (inner, self._m(step.result)))]))
        finally:
            self._depth -= 1
        return [Block(self.BLOCK_SEP.join([heading, *blocks]))]

    def _render_HessianVector(self, step: HessianVector) -> list[Any]:
        """Stage 3: H·v = (H)·v = … term by term from the right, by the rules listed."""
        from matcalc.linalg import Diag, Ident, MatProd, MatrixName, MatVec, T, VDot
        from matcalc.symbols import VectorName

        v = step.vector
        a, b = VectorName("a", real=True), VectorName("b", real=True)
        big_a, big_b = MatrixName("A", real=True), MatrixName("B", real=True)
        rules = {
            "diag": (MatVec(Diag(a), v), Mul(a, v, evaluate=False)),
            "outer": (MatVec(MatProd(a, T(b)), v), Mul(a, VDot(b, v), evaluate=False)),
            "product": (MatVec(MatProd(big_a, big_b), v), MatVec(big_a, MatVec(big_b, v))),
            "identity": (MatVec(Ident(Symbol("n")), v), v),
        }
        name = self._m(MatVec(MatrixName("H", real=True), v))
        heading = self._heading(self._msg("stage.hvp", order=Prose(3), v=self._inline(self._m(v))))
        items: list[Any] = [self._msg("hvp.multiply", v=self._inline(self._m(v)))]
        forms = [MatVec(step.hessian, v), step.value, step.result]  # MatVec(0, v) is 0
        values = [self._m(f) for k, f in enumerate(forms) if k == 0 or f != forms[k - 1]]
        shown = [r for r in step.rewrites if r != "order"]
        reason = ""
        if step.result != step.value and shown:
            names = "; ".join(message(f"rewrite.{r}", self.lang) for r in shown)
            reason = self._msg_math("reason", rule=Prose(names))
        items.append(Line(name, tuple(values), reason))
        if step.rules:
            items.append(self._msg("differential.using"))
            items += [Line(self._m(rules[r][0]), (self._m(rules[r][1]),)) for r in step.rules]
        self._depth += 1
        try:
            body = self._section(None, items)
        finally:
            self._depth -= 1
        return [Block(self.BLOCK_SEP.join([heading, body]))]

    def _value_lines(self, name: Any, value: Any) -> list[Any]:
        """name = value, displayed; a format may write a matrix too wide for the page
        entry by entry."""
        return [Line(name, (self._display(value),))]

    def _d_order(self, of: Symbol, wrt: Symbol, partial: bool, order: int) -> Any:
        """dᵏy/dxᵏ; a format overrides it (the base writes d/dx k times)."""
        name = self._d(of, wrt, partial)
        return name if order == 1 else f"{name}^{order}"

    def _render_Assemble(self, step: Assemble) -> list[Any]:
        shape = self._inline(self._shape_math(step.size)) if step.size else Prose(step.shape)
        sentence = self._msg(f"assemble.{step.layout}.{self._kind}", shape=shape)
        names = ImmutableMatrix(
            [[Label(str(self._d(e.of, e.wrt, e.partial))) for e in row] for row in step.entries]
        )
        if names.shape != step.value.shape:  # entries listed in numerator order
            names = names.T
        if self._kind == "gradient":
            lhs = self._gradient_name(step.of)
        else:
            lhs = self._m(Symbol("J"))
        return [sentence, Line(lhs, (self._m(names), self._m(step.value)))]

    def _render_Reshape(self, step: Reshape) -> list[Any]:
        from matcalc.engine.layout import Vec

        sentence = self._msg(
            f"reshape.{step.to}.{step.layout}" if step.to != "vec" else f"reshape.{step.layout}",
            var=self._inline(self._m(step.wrt)),
            before=self._inline(self._shape_math(step.before_shape)),
            after=self._inline(self._shape_math(step.after_shape)),
        )
        lhs = self._d(step.of, Vec(step.wrt) if step.to == "vec" else step.wrt, True)
        return [sentence, Line(lhs, (self._m(step.after),))]

    def _render_Shape(self, step: Shape) -> list[Any]:
        shape = (step.rows, step.cols)
        if shape == (1, 1):
            return []
        kw: dict[str, Any] = {"shape": self._inline(self._shape_math(shape))}
        if step.variable is not None:
            kw["var"] = self._inline(self._m(step.variable))
            key = "shape.variable" if step.like_variable else "shape.transposed"
        elif step.by_vec is not None:
            kw["var"] = self._inline(self._m(step.by_vec))
            key = "shape.by_vec"
        elif step.rows == 1:
            key = "shape.row"
        elif step.cols == 1:
            key = "shape.column"
        else:
            key = "shape.matrix"
        return [self._msg(key, **kw)]

    def _render_Explicit(self, step: Explicit) -> list[Any]:
        return self._value_lines(self._d(step.of, step.wrt, True), step.value)

    def _render_Verify(self, step: Verify) -> list[Any]:
        if step.status is None and step.method == "undefined":  # detail: the point
            return [self._msg("verify.undefined", point=self._escape(step.detail))]
        if step.status is None:
            return [self._msg("verify.undecided")]
        if step.status is False:
            text = self._msg("verify.failed")
            if step.detail:
                text += " " + self._escape(step.detail)
            reference = self._inline(self._m_inline(step.reference))
            reference = self._msg("verify.reference", expr=reference)
            return [self._loud(text), reference]
        kw: dict[str, object] = {"points": step.points}
        key = f"verify.{step.method}"
        if step.functions:
            kw["functions"] = "; ".join(
                f"({k}) "
                + ", ".join(self._inline(self._eq(self._m(f), self._m_inline(v))) for f, v in row)
                for k, row in enumerate(step.functions, 1)
            )
            if step.points:
                key += ".numeric"
        if step.method == "components":
            kw["sizes"] = self._sizes(step.sizes)
            kw["more"] = self._sizes(step.more_sizes)
            key = "verify.components" + (".two" if step.more_sizes else "")
            kind = "near_identity" if step.near_identity else "mixed"
            kw["kind"] = self._msg(f"verify.points.{kind}")
            if step.positive:
                key += ".where"
                kw["where"] = ", ".join(self._inline(self._m_inline(w)) for w in step.positive)
            return [self._msg(key, **kw)]
        items = [self._msg(key, **kw)]
        if step.sizes:
            sizes = ", ".join(self._inline(self._eq(self._m(s), self._m(v))) for s, v in step.sizes)
            key = "verify.hessian" if step.hessian else "verify.explicit"
            if step.hvp is not None:
                key, kw["v"] = "verify.hvp", self._inline(self._m(step.hvp))
            more = self._sizes(step.more_sizes)
            items.append(self._msg(key, sizes=sizes, more=more, v=kw.get("v", "")))
        return items

    # -- helpers shared by the formats ------------------------------------------------
    def _sizes(self, sizes: Sequence[tuple[Any, Any]]) -> str:
        return ", ".join(self._inline(self._eq(self._m(s), self._m(v))) for s, v in sizes)

    @staticmethod
    def _runs(items: Sequence[Any]) -> Iterable[Any]:
        """The items of a section, with each run of consecutive ``Line``s as one list."""
        group: list[Line] = []
        for item in items:
            if isinstance(item, Line):
                group.append(item)
                continue
            if group:
                yield group
                group = []
            yield item
        if group:
            yield group

    def _dedupe(self, rhs: list[Any], value: Any, shape: Sequence[Any] = ()) -> tuple[Any, ...]:
        """rhs, then the value unless it reads exactly like the last form."""
        last = self._m_shaped(value, shape)
        if isinstance(last, str) and any(isinstance(r, str) and r == last for r in rhs):
            return tuple(rhs)
        return (*rhs, last)

    def _zeros(self) -> tuple[Any, Any]:
        """A zero vector or matrix, and a zero row, as the format writes them (the paper's
        bold 0 and 0ᵀ); the base writes the number 0."""
        return ("0", "0")

    def _factor_of(self, expr: Any, of: Symbol, wrt: Symbol) -> Any:
        """The value of d(of)/d(wrt) as a factor: 𝟎 where it is a zero vector or matrix."""
        shape = self._shapes.get((of, wrt), ())
        return self._m_shaped(expr, shape) if _zero_array(expr, shape) else self._factor(expr)

    def _m_shaped(self, expr: Any, shape: Sequence[Any] = ()) -> Any:
        """``expr``, whose shape is ``shape``: a 0 that is a vector or a matrix is written
        𝟎 (𝟎ᵀ for a row), not as the number 0."""
        if _zero_array(expr, shape):
            return self._zeros()[1 if shape[0] == 1 else 0]
        return self._m(expr)

    def _display(self, expr: Any) -> Any:
        """An expression shown on its own (the result): 2D in text."""
        return self._m(expr)

    def _m_inline(self, expr: Any) -> Any:
        """An expression inside a sentence: one line in text, even a matrix."""
        return self._m(expr)

    CROSS = "×"

    def _shape_math(self, shape: Sequence[Any]) -> str:
        """rows × cols as math of the format: n×1, 1×(n² + 1)."""
        sizes = []
        for size in shape:
            if getattr(size, "is_Add", False):  # n² + n + 1, highest power first
                size = Add(*size.as_ordered_terms(), evaluate=False)
                sizes.append(f"({self._m(size)})")
            elif getattr(size, "is_Mul", False):  # (N·n)×N, not N·n×N
                sizes.append(f"({self._m(size)})")
            else:
                sizes.append(str(self._m(size)))
        return self.CROSS.join(sizes)

    def _shape_reason(self, shape: Sequence[Any]) -> str:
        if not shape or tuple(shape) == (1, 1):  # a scalar's shape goes without saying
            return ""
        return self._msg_math("reason", rule=self._shape_math(shape))

    def _list(self, symbols: Iterable[Any]) -> str:
        return ", ".join(self._m(s) for s in symbols)


def _zero_array(expr: Any, shape: Sequence[Any]) -> bool:
    """``expr`` is 0 and ``shape`` a vector's or a matrix's (not () or 1×1)."""
    return bool(shape) and tuple(shape) != (1, 1) and expr == 0


INLINE_CHARS = 40
"""The longest max, min or |·| (in SymPy's str) that a note names inside its sentence; a
longer one is shown on a line of its own, where a long equation can be broken."""


def _inline_size(expr: Basic) -> bool:
    try:
        return len(str(expr)) <= INLINE_CHARS
    except ValueError:  # a number too long for str(): not in a sentence either
        return False
