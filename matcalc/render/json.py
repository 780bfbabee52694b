"""JSON: the derivation as JSON-safe data, every expression in SymPy's ``str()`` syntax.

``to_dict`` gives ``{"input", "wrt", "kind", "layout", "result", "result_latex",
"verified", "steps"}``.  Each step is ``{"kind", "rule", "explanation", "latex",
…its fields}``: SymPy values as ``str()`` (what ``sympy.parse_expr`` reads back),
tuples as lists, derivative names as ``{"of", "wrt", "partial"}``, and a ``Part``'s
steps nested.  ``latex`` is the step's equation as the LaTeX renderer writes it.
A new step kind needs nothing here unless its fields are unusual.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from typing import Any

from sympy import Basic, MatrixBase, Symbol

from matcalc.msg import Msg
from matcalc.render.base import Line, StepVisitor
from matcalc.render.latex import _MathOnly
from matcalc.render.matrix_expr import PlainStrPrinter
from matcalc.render.messages import EN, message, placeholders, rule_name
from matcalc.render.printing import SympyStrPrinter
from matcalc.steps import (
    Assemble,
    ChainRule,
    Explicit,
    HessianVector,
    LocalDerivative,
    Part,
    Stage,
    Step,
    Verify,
)

RULES = {
    "intermediate": "intermediate variable",
    "substitute": "substitution",
    "simplify": "simplification",
    "note": "note",
    "verify": "verification",
    "part": "partial derivative",
    "total_derivative": "total-derivative chain rule",
    "chain_rule": "chain rule",
    "vector_chain_rule": "vector chain rule",
    "hessian_vector": "Hessian-vector product",
}
"""A step's ``rule`` in English JSON; another language has ``json.rule.<kind>`` keys."""

_ONLY_WHEN_SET = ("functions", "more_sizes", "positive", "hvp", "layout", "equals", "others")
_ONLY_WHEN_FALSE = ("near_identity",)
"""Written only where false: some points of a matrix check were not 2I + E."""
"""Fields of a verification written only when they say something (stand-ins, a second size,
the determinants kept positive, a stage's layout where it is not the problem's, what a
settled max equals).  Unset is None, empty or False: a value 0 is written."""


def _unset(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, (tuple, str)) and not value)


def _str(value: Any) -> str:
    """``str(value)``; a name without a StrPrinter for each (``StrPrinter`` prints its name)."""
    return value.name if type(value) is Symbol else str(value)


_FIELDS: dict[type, tuple[str, ...]] = {}
"""The field names of each kind of step (``dataclasses.fields``, looked up once a class)."""


def _field_names(step: Step) -> tuple[str, ...]:
    names = _FIELDS.get(type(step))
    if names is None:
        names = _FIELDS[type(step)] = tuple(f.name for f in fields(step))
    return names


class JsonRenderer(StepVisitor):
    """``to_dict(d)`` for Python, ``render(d)`` for a JSON string."""

    def __init__(self, *, lang: str = "en", memo: dict | None = None) -> None:
        super().__init__(lang=lang)
        memos = {} if memo is None else memo
        self._latex = _MathOnly(lang=lang, memo=memos)  # KaTeX/MathJax LaTeX, as Jupyter shows it
        self._kind = "derivative"
        self._str_printers = (SympyStrPrinter(), PlainStrPrinter())
        self._sympy_str = self._str_printers[0].doprint
        # vector problems: matcalc's operations named as in the input language (matmul,
        # transpose, dot, …), never by their class names
        self._plain_str = self._str_printers[1].doprint
        self._str = self._sympy_str

    def render(self, d: Any, *, indent: int | None = None) -> str:
        """Compact by default (json's fast C encoder); ``indent=2`` for people."""
        return json.dumps(self.to_dict(d), ensure_ascii=False, indent=indent)

    def to_dict(self, d: Any) -> dict[str, Any]:
        p = d.problem
        self._latex.configure(d)
        for printer in self._str_printers:
            printer.share()
        self._kind = p.kind
        self._str = self._plain_str if p.declarations else self._sympy_str
        self._latex._kind = "jacobian" if p.kind == "jacobian" else "gradient"
        return {
            "input": p.text[0] if len(p.text) == 1 else list(p.text),
            "wrt": [_str(s) for s in p.wrt],
            "kind": p.kind,
            "layout": p.layout,
            "result": self._result(d),
            "symbols": _scalar_names(d),
            "result_latex": self._latex._m(d.result),
            **self._numpy(d),
            "verified": d.verified,
            "steps": self._steps(d.steps),
            **self._explicit(d),
        }

    def _result(self, d: Any) -> Any:
        """SymPy ``str()``; with vectors or matrices, of SymPy's own matrix expressions
        (``matcalc.render.matrix_expr``), which ``parse_expr`` reads back given the declared
        names as ``MatrixSymbol``s."""
        if not d.problem.declarations:
            return self._value(d.result)
        from matcalc.render.matrix_expr import result_str

        return result_str(d)

    def _numpy(self, d: Any) -> dict[str, Any]:
        """For a vector or matrix result: ``result_numpy``, the result as one NumPy expression
        (vectors as (n, 1) columns; see ``matcalc.render.code.numpy_expression``), or None
        when it cannot be written (an unknown function)."""
        if not d.problem.declarations and not isinstance(d.result, MatrixBase):
            return {}
        from matcalc.errors import UnsupportedError
        from matcalc.render.code import numpy_expression

        try:
            return {"result_numpy": numpy_expression(d)}
        except UnsupportedError:
            return {"result_numpy": None}

    def _explicit(self, d: Any) -> dict[str, Any]:
        """With ``--dim``: the result in components, as a list of rows of SymPy strings."""
        for step in d.steps:
            if isinstance(step, Explicit):
                value = step.value
                rows = [
                    [self._str(value[i, j]) for j in range(value.cols)] for i in range(value.rows)
                ]
                return {"explicit": rows, "explicit_sizes": {str(s): v for s, v in step.sizes}}
        return {}

    def _steps(self, steps: Sequence[Step]) -> list[dict[str, Any]]:
        with self._latex.local_names(steps):
            return [self._render(step) for step in steps]

    # -- steps ------------------------------------------------------------------------
    def _render_Step(self, step: Step) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": step.kind,
            "rule": self._rule(step),
            "explanation": self._explain(step),
            "latex": self._equation(step),
        }
        for name in _field_names(step):
            if (
                name in ("explanation", "rule")
                or (name in _ONLY_WHEN_SET and _unset(getattr(step, name)))
                or (name in _ONLY_WHEN_FALSE and getattr(step, name) is True)
            ):
                continue
            out[name] = self._value(getattr(step, name))
        return out

    def _render_Part(self, step: Part) -> dict[str, Any]:
        out = self._render_Step(step)
        out["steps"] = self._steps(step.steps)
        return out

    def _render_Stage(self, step: Stage) -> dict[str, Any]:
        out = self._render_Step(step)
        out["steps"] = self._steps(step.steps)
        return out

    def _value(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(
            value, MatrixBase
        ):  # Matrix([[...], [...]]) on one line, as parse_expr reads it
            if self._str is self._sympy_str:
                return str(value)
            rows = (", ".join(self._str(e) for e in value.row(i)) for i in range(value.rows))
            return "Matrix([{}])".format(", ".join(f"[{row}]" for row in rows))
        if isinstance(value, Basic):
            return self._str(value)
        if isinstance(value, Step):
            return self._render(value)
        if is_dataclass(value):
            return {f.name: self._value(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, (tuple, list)):
            return [self._value(v) for v in value]
        return str(value)

    def _rule(self, step: Step) -> str:
        """The rule's name (English by default, the catalogue's words in another language)."""
        if isinstance(step, LocalDerivative):
            return rule_name(step.rule, self.lang)
        if isinstance(step, ChainRule):
            key = "vector_chain_rule" if step.vector else "chain_rule"
        elif step.kind == "assemble":
            key = self._kind
        else:
            key = step.kind
        if self.lang == "en" or f"json.rule.{key}" not in EN:
            return RULES.get(key, key)
        return message(f"json.rule.{key}", self.lang)

    def _explain(self, step: Step) -> str:
        if isinstance(step.explanation, Msg):
            return step.explanation.text(self.lang)
        if step.explanation and self.lang == "en":  # plain text, of a step built by hand
            return step.explanation
        kw: dict[str, Any] = {}
        key = f"explain.{step.kind}"
        if isinstance(step, Verify):
            key = "verify." + {True: step.method, False: "failed", None: "undecided"}[step.status]
            kw["points"] = step.points
            if step.status and step.functions:
                key += ".numeric" if step.points else ""
                kw["functions"] = "; ".join(
                    f"({k}) " + ", ".join(f"{self._str(f)} = {self._str(v)}" for f, v in row)
                    for k, row in enumerate(step.functions, 1)
                )
        elif isinstance(step, LocalDerivative):
            kw["rule"] = rule_name(step.rule, self.lang)
            if step.held_constant:
                key += ".held"
                kw["names"] = ", ".join(map(str, step.held_constant))
        elif step.kind == "note" and getattr(step, "topic", "") == "unused":
            key, kw["name"] = "explain.note.unused", str(getattr(step, "math", ""))
        elif step.kind == "note" and f"explain.note.{getattr(step, 'topic', '')}" in EN:
            key = f"explain.note.{getattr(step, 'topic', '')}"
            kw["name"] = str(getattr(step, "about", ""))
        elif isinstance(step, ChainRule) and step.vector:
            key = "explain.vector_chain_rule"
        elif isinstance(step, Assemble):
            kw["kind"] = message(self._kind, self.lang)
            kw["layout"] = message(step.layout, self.lang)
        for name in placeholders(key, self.lang):  # the step's own fields, as the sentence asks
            if name not in kw and name in ("of", "wrt", "name", "topic"):
                kw[name] = _str(getattr(step, name, ""))
        return message(key, self.lang, **kw)

    def _equation(self, step: Step) -> str:
        latex = self._latex
        if isinstance(step, Part):
            return latex._eq(latex._d(step.of, step.wrt, step.partial), latex._m(step.result))
        if isinstance(step, Stage):
            name = (
                latex._m(Symbol("H"))
                if step.hessian
                else latex._d_order(step.of, step.wrt[0], step.partial, step.order)
            )
            return latex._eq(name, latex._m(step.result))
        if isinstance(step, HessianVector):
            from matcalc.linalg import MatrixName, MatVec

            name = latex._m(MatVec(MatrixName("H", real=True), step.vector))
            return latex._eq(name, latex._m(step.result))
        if isinstance(step, Verify):
            return latex._m(step.reference)
        try:
            lines = [item for item in latex._render(step) if isinstance(item, Line)]
        except TypeError:  # a step kind the LaTeX renderer does not know: data only
            return ""
        return r", \quad ".join(latex.equation(line) for line in lines)


def _scalar_names(d: Any) -> list[str]:
    """The scalar variables of the problem, each ``Symbol(name, real=True)``: what
    ``parse_expr`` must be given (``local_dict``) to read ``result`` back, since N, S, Q, I,
    E1, beta or gamma would otherwise be read as SymPy's own objects."""
    declared = {decl.symbol for decl in d.problem.declarations}
    found: set[Basic] = set()
    for e in (*d.problem.exprs, d.result):
        found |= e.free_symbols if isinstance(e, Basic) else set()
    return sorted(s.name for s in found if type(s) is Symbol and s not in declared and s.is_real)
