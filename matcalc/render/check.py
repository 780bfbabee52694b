"""A ``Check`` in every format: the verdict, the answer beside matcalc's result, then
matcalc's own derivation (with the step where a named mistake enters marked).

The verdict block is written with the same primitives as a derivation (``_section``,
``Line``, ``_msg``), by the same renderer instance, so it looks like the rest of the
output in each format.  Every sentence comes from the message catalogue.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sympy import Symbol

from matcalc.render.base import Line, Renderer
from matcalc.render.decimals import decimal_form, shown
from matcalc.render.messages import Prose, message


def _renderer(
    fmt: str,
    *,
    unicode: bool = True,
    lang: str = "en",
    width: int | None = 80,
    compact: bool = False,
) -> Renderer:
    if fmt == "text":
        from matcalc.render.text import TextRenderer

        return TextRenderer(unicode=unicode, lang=lang, width=width)
    if fmt == "markdown":
        from matcalc.render.markdown import MarkdownRenderer

        return MarkdownRenderer(lang=lang, compact=compact)
    from matcalc.render.latex import LatexRenderer

    return LatexRenderer(standalone=False, lang=lang, compact=compact)


def render_check(
    c: Any,
    fmt: str,
    *,
    unicode: bool = True,
    standalone: bool = False,
    lang: str = "en",
    width: int | None = 80,
    compact: bool = False,
) -> str:
    """The check as text (``width`` columns), Markdown or LaTeX (``standalone``: a document;
    ``compact``: see ``Derivation.to_latex``)."""
    r = _renderer(fmt, unicode=unicode, lang=lang, width=width, compact=compact)
    d = shown(c.derivation, c.answer_text)  # decimals in, decimals out
    if d is not c.derivation:
        c = replace(c, derivation=d, answer=decimal_form(c.answer))
    r.configure(d)
    verdict = _verdict_block(r, c)
    heading = r._heading(r._msg("check.derivation"))
    body = r.render(d)
    if fmt == "latex":
        from matcalc.render.latex import LatexRenderer

        if standalone:
            return LatexRenderer(standalone=True, lang=lang, compact=compact)._document(
                [verdict, heading, body]
            )
    return r.BLOCK_SEP.join([verdict, heading, body.rstrip("\n")]) + "\n"


def _verdict_block(r: Renderer, c: Any) -> str:
    d = c.derivation
    items: list[Any] = []
    name = r._result_name(d)
    if c.answer is not None:
        items.append(r._msg("check.answer"))
        items.append(Line(name, (r._display(_as_row(c.answer)),)))
    items.append(r._msg("check.matcalc"))
    zero = r.zero_result(d)
    items.append(Line(name, (r._display(d.result) if zero is None else zero,)))
    items.append(r._loud(_verdict(r, c)) if c.verdict == "wrong" else _verdict(r, c))
    detail = _detail(r, c)
    if detail:
        items.append(detail)
    heading = r._heading(r._msg("check.title"))
    return r._section(heading, items)


def _m(r: Renderer, expr: Any) -> str:
    return r._inline(r._m_inline(expr))


def _layout_word(r: Renderer, layout: str) -> str:
    return r._msg(f"check.layout.{layout}")


def _verdict(r: Renderer, c: Any) -> str:
    p = c.derivation.problem
    how = r._msg(f"check.method.{c.method}") if c.method else ""
    if c.method == "components" and c.sizes:
        sizes = _point(r, [(Symbol(str(s)), v) for s, v in c.sizes])
        how = r._msg("check.method.components_at", sizes=sizes)
    if c.verdict == "right":
        return r._msg("check.right", how=how)
    if c.verdict == "other_layout":
        other = "denominator" if p.layout == "numerator" else "numerator"
        return r._msg(
            "check.other_layout", yours=_layout_word(r, other), ours=_layout_word(r, p.layout)
        )
    if c.verdict == "assumption":
        kind, symbol = c.assumption
        return r._msg(f"check.assumption.{kind}", name=_m(r, symbol))
    if c.verdict == "cannot_judge":
        return r._msg(f"check.cannot.{c.reason}", name=_m(r, c.term) if c.term is not None else "")
    # wrong
    if c.mistake is None:
        return r._msg("check.wrong")
    kw: dict[str, Any] = {}
    if c.mistake == "factor":
        kw["factor"] = _m(r, c.factor)
    if c.mistake in (
        "dropped_term",
        "missing_factor",
        "swapped",
        "power_not_lowered",
        "power_rule_on_exponential",
        "trig_sign",
    ):
        kw["term"] = _m(r, c.term)
    if c.mistake == "transpose":  # a square result: the transpose is the other layout's
        kw["other"] = _layout_word(r, "denominator" if p.layout == "numerator" else "numerator")
    if c.mistake == "close":
        kw["where"] = _point(r, c.point)
        kw["difference"] = f"{c.difference:.1e}"
    if c.mistake == "swapped" and c.swap is not None:
        kw["had"], kw["meant"] = (_m(r, e) for e in c.swap)
    key = c.cause if c.mistake == "sign" and c.cause else c.mistake
    return r._msg(f"check.mistake.{key}", **kw)


def _detail(r: Renderer, c: Any) -> str:
    out: list[str] = []
    if c.verdict == "wrong" and c.transposed and c.mistake not in (None, "transpose"):
        out.append(r._msg("check.also_transposed"))
    if c.step is not None:
        out.append(r._msg("check.step", step=Prose(_step_title(r, c))))
    if c.verdict == "wrong" and c.mistake is None and c.values is not None:
        where = _point(r, c.point)
        yours, ours = (r._inline(_number(v)) for v in c.values)
        key = "check.differ.entry" if c.entry is not None else "check.differ"
        if not c.point and c.entry is None:  # a constant (π²): no point to name
            key = "check.differ.constant"
        entry = f"({c.entry[0] + 1}, {c.entry[1] + 1})" if c.entry is not None else ""
        out.append(r._msg(key, where=where, yours=yours, ours=ours, entry=entry))
    return " ".join(out)


def _step_title(r: Renderer, c: Any) -> str:
    """How the marked step is named in the derivation below: its rule and equation."""
    step = c.derivation.steps[c.step]
    from matcalc.render.messages import rule_name

    rule = getattr(step, "rule", "") or ""
    name = r._d(step.of, step.wrt, getattr(step, "partial", False)) if hasattr(step, "of") else ""
    name = r._inline(name)
    return f"{name} ({rule_name(rule, r.lang)})" if rule else name


def _point(r: Renderer, point: Any) -> str:
    """x = -1.906, y = 0.5 (or sizes, n = 3): each one piece of math (a minus sign, not a
    hyphen, in LaTeX)."""
    return ", ".join(r._inline(f"{r._m_inline(s)} = {v:.4g}") for s, v in point)


def _number(value: complex) -> str:
    if abs(value.imag) > 1e-12:
        return f"{value.real:.6g}{value.imag:+.6g}i"
    return f"{value.real:.6g}"


def check_dict(c: Any, *, lang: str = "en") -> dict[str, Any]:
    """JSON-safe data: the verdict, the mistake and its details, the derivation."""
    from sympy import latex as sympy_latex  # noqa: F401  (kept lazy; printers below)

    from matcalc.render.json import JsonRenderer

    j = JsonRenderer(lang=lang)
    derivation = j.to_dict(c.derivation)
    r = _renderer("text", unicode=True, lang=lang)
    r.configure(c.derivation)
    out: dict[str, Any] = {
        "answer_input": list(c.answer_text),
        "answer": None if c.answer is None else str(c.answer),
        "verdict": c.verdict,
        "method": c.method or None,
        "mistake": c.mistake,
        "cause": c.cause,
        "message": _strip(_verdict(r, c)),
        "detail": _strip(_detail(r, c)) or None,
        "factor": None if c.factor is None else str(c.factor),
        "term": None if c.term is None else str(c.term),
        "swap": None
        if c.swap is None
        else {"answer_has": _m(r, c.swap[0]), "belongs": _m(r, c.swap[1])},
        "transposed": c.transposed,
        "step": c.step,
        "assumption": None
        if c.assumption is None
        else {"kind": c.assumption[0], "name": str(c.assumption[1])},
        "point": {str(s): v for s, v in c.point} or None,
        "values": None
        if c.values is None
        else {"answer": _number(c.values[0]), "matcalc": _number(c.values[1])},
        "sizes": {str(s): v for s, v in c.sizes} or None,
        "difference": c.difference,
        "reason": c.reason or None,
        "derivation": derivation,
    }
    return out


def _strip(text: str) -> str:
    return " ".join(str(text).split())


def verdict_line(c: Any, *, lang: str = "en", unicode: bool = True) -> str:
    """The verdict as one line of text (documents, the CLI's stderr)."""
    r = _renderer("text", unicode=unicode, lang=lang)
    r.configure(c.derivation)
    return _strip(_verdict(r, c) + " " + _detail(r, c))


__all__ = ["check_dict", "message", "render_check", "verdict_line"]


def _as_row(answer: Any) -> Any:
    """A row answer as it was typed: xᵀ·(A + Aᵀ), not ((A + Aᵀ)ᵀ·x)ᵀ, the form the parser
    keeps it in (a column, transposed).  Display only: the same matrix."""
    from sympy import Basic

    from matcalc.linalg import MatProd, MatT, MatVec, T

    if not isinstance(answer, Basic):
        return answer

    def row(e: Any) -> Any:
        if isinstance(e, T) and isinstance(e.args[0], MatVec) and len(e.args[0].args) == 2:
            m, v = e.args[0].args
            return MatProd(T(v), m.args[0] if isinstance(m, MatT) else MatT(m))
        return e

    return answer.replace(lambda e: isinstance(e, T), row)
