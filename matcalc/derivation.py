"""``Derivation``: what ``matcalc.derive`` returns — the problem, its steps, the result.

It is immutable data.  The ``to_*`` methods hand it to a renderer in
``matcalc.render``; renderers are imported on first use so that ``import matcalc``
stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sympy import ImmutableMatrix

from matcalc.steps import Math, Problem, Step, Verify


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Derivation:
    """A worked derivative: ``problem``, ordered ``steps``, ``result`` and ``verified``.

    ``verified`` is the status of the last ``Verify`` step (``matcalc.verify.check``):
    True when the result equals the reference built from the input (SymPy's derivative,
    or the Jacobian of explicit components), None when that could not be decided ("not
    verified"), and False when they differ: a bug in matcalc, which the derivation says
    in every format and for which the CLI exits with status 1.
    """

    problem: Problem
    steps: tuple[Step, ...]
    result: Math

    @property
    def verified(self) -> bool | None:
        return self.verification.status if self.verification else None

    @property
    def verification(self) -> Verify | None:
        for step in reversed(self.steps):
            if isinstance(step, Verify):
                return step
        return None

    def explicit(self, /, **dims: int) -> ImmutableMatrix:
        """The result written out in components at concrete sizes, e.g. ``explicit(n=3, N=2)``.

        A vector w of length 3 has entries w_1, w_2, w_3 and a matrix X entries
        X_11, X_12, …  Sizes not given default to n = 3, N = 2.  A scalar result
        is a 1×1 matrix.  It is always one flat matrix of the result's true shape: a
        result by several variables (w, b) is 1×(n + 1) in numerator layout, its blocks
        side by side (a matrix variable's gradient as vec, rows stacked), and
        (n + 1)×1 in denominator layout.  Written out by ``matcalc.verify.explicit``.
        """
        from matcalc.verify import explicit

        return explicit(self.problem, self.result, dims)

    def with_explicit(self, /, **dims: int) -> Derivation:
        """This derivation with a closing step, its result in components (``--dim``)."""
        from matcalc.verify import explicit_step

        step = explicit_step(self.problem, self.result, dims)
        return Derivation(problem=self.problem, steps=(*self.steps, step), result=self.result)

    def to_text(self, *, unicode: bool = True, lang: str = "en", width: int | None = 80) -> str:
        """Plain text, every line at most ``width`` columns (None or 0: no limit)."""
        from matcalc.render.text import TextRenderer

        return TextRenderer(unicode=unicode, lang=lang, width=width).render(self.shown())

    def to_markdown(
        self, *, lang: str = "en", part: str = "solution", compact: bool = False
    ) -> str:
        """Markdown.  ``part``: "solution" (everything), "problem" (the statement only, for
        a problem sheet) or "answer" (the statement, the result and its verification, for
        an answer key).  ``compact``: without the numbered step titles, fewer blocks."""
        from matcalc.render.markdown import MarkdownRenderer

        return MarkdownRenderer(lang=lang, part=part, compact=compact).render(self.shown())

    def to_latex(
        self,
        *,
        standalone: bool = False,
        lang: str = "en",
        part: str = "solution",
        compact: bool = False,
    ) -> str:
        """LaTeX; ``part`` as for ``to_markdown``.  ``compact``: rows broken to fit a column
        of the two-column compact layout (a standalone document is set in it)."""
        from matcalc.render.latex import LatexRenderer

        return LatexRenderer(standalone=standalone, lang=lang, part=part, compact=compact).render(
            self.shown()
        )

    def shown(self) -> Derivation:
        """This derivation as the text, Markdown and LaTeX renderings show it: with the
        decimals of an input typed with decimals (``matcalc.render.decimals``), else itself."""
        from matcalc.render.decimals import shown

        return shown(self)

    def to_dict(self, *, lang: str = "en") -> dict[str, Any]:
        from matcalc.render.json import JsonRenderer

        return JsonRenderer(lang=lang).to_dict(self)

    def to_json(self, *, lang: str = "en", indent: int | None = None) -> str:
        from matcalc.render.json import JsonRenderer

        return JsonRenderer(lang=lang).render(self, indent=indent)

    def to_numpy(self) -> str:
        """The result as a self-contained NumPy function (Python source), named after the
        problem, with the problem's variables as parameters; see ``matcalc.render.code``.
        Raises ``UnsupportedError`` for a result with an unknown function."""
        from matcalc.render.code import numpy_function

        return numpy_function(self)

    def to_torch(self) -> str:
        """The result as a self-contained PyTorch function (Python source); as ``to_numpy``."""
        from matcalc.render.code import torch_function

        return torch_function(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        from matcalc.render.latex import LatexRenderer

        return LatexRenderer().render_math(self.shown())

    @property
    def result_text(self) -> str:
        """The result on one line in matcalc's notation, as the text output writes it
        (xᵀ·(A + Aᵀ), 1[w·x + b > 0]·xᵀ, diag(softmax(z)) - softmax(z)·softmax(z)ᵀ)."""
        from matcalc.render.printing import TextPrinter

        result = self.shown().result
        return TextPrinter({"vectors": bool(self.problem.declarations)}).doprint(result)

    def __repr__(self) -> str:
        p = self.problem
        status = {True: "verified", False: "NOT VERIFIED", None: "not verified"}[self.verified]
        wrt = ", ".join(str(s) for s in p.wrt)
        exprs = "; ".join(p.text)
        result = self.result_text
        return f"<Derivation of {exprs} by {wrt} = {result} ({status}, {len(self.steps)} steps)>"

    def __str__(self) -> str:
        return self.to_text()
