r"""LaTeX: a fragment of prose and ``align*`` blocks, or a standalone document.

``LatexMath`` holds the math primitives (``MathLatexPrinter``; \frac{du_1}{dx},
\cdot, \text{(power rule)}) shared with ``MarkdownRenderer``.  ``LatexRenderer``
lays them out for pdflatex: the output is pure ASCII for English (prose is
escaped, σ becomes $\sigma$), and ``standalone=True`` wraps it in a document that
needs only amsmath and amssymb.  ``render_math`` gives the whole derivation as
one ``aligned`` block for Jupyter (MathJax/KaTeX).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sympy import Basic, MatrixBase, Symbol

from matcalc.linalg import KRONECKER
from matcalc.render import Block, Line, Renderer
from matcalc.render.printing import MathLatexPrinter

# Characters that cannot stay in LaTeX text, as math-mode LaTeX.
MATH_CHARS = {
    "σ": r"\sigma", "∂": r"\partial", "·": r"\cdot", "×": r"\times", "ᵀ": "^{T}",
    "⊗": r"\otimes", "⊘": r"\oslash", "→": r"\to", "≥": r"\geq", "≤": r"\leq",
    "≠": r"\neq", "−": "-", "∇": r"\nabla", "∑": r"\sum", "√": r"\surd", "∞": r"\infty",
    "|": "|", "<": "<", ">": ">", "π": r"\pi", "θ": r"\theta", "λ": r"\lambda",
    **{d: f"_{{{i}}}" for i, d in enumerate("₀₁₂₃₄₅₆₇₈₉")},
    **{d: f"^{{{i}}}" for i, d in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
}  # fmt: skip
# Characters that text mode (pdflatex, KaTeX, MathJax alike) needs escaped.
TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "%": r"\%",
    "&": r"\&", "#": r"\#", "$": r"\$", "^": r"\^{}", "~": r"\~{}",
    "—": "---", "–": "--", "’": "'", "‘": "`", "“": "``", "”": "''",
}  # fmt: skip
_SPECIAL = re.compile(f"([{re.escape(''.join({**MATH_CHARS, **TEXT_ESCAPES}))}])")


def escape_prose(text: str) -> str:
    """Prose for LaTeX text mode: specials escaped, math symbols as $...$."""
    out = []
    for i, piece in enumerate(_SPECIAL.split(text)):
        if not i % 2:
            out.append(piece)
        elif piece in TEXT_ESCAPES:
            out.append(TEXT_ESCAPES[piece])
        else:
            out.append(f"${MATH_CHARS[piece]}$")
    return "".join(out)


def text_in_math(text: str) -> str:
    r"""Prose inside math: plain runs in \text{...}, symbols as math (no $ inside \text)."""
    out = []
    for i, piece in enumerate(_SPECIAL.split(text.replace(" — ", "—"))):
        if not i % 2:
            if piece:
                out.append(rf"\text{{{piece}}}")
        elif piece in MATH_CHARS:
            out.append(MATH_CHARS[piece] + " ")
        elif piece in "—–":
            out.append(r"\quad ")
        elif piece in TEXT_ESCAPES and len(TEXT_ESCAPES[piece]) == 2:
            out.append(TEXT_ESCAPES[piece])  # \{ \_ \% ... are math-mode commands too
        else:
            out.append(rf"\text{{{TEXT_ESCAPES.get(piece, piece)}}}")
    return "".join(out)


class LatexMath(Renderer):
    """Math primitives in LaTeX (shared by the LaTeX and Markdown renderers)."""

    INDICATOR = r"\mathbb{1}"  # 1[z > 0]: KaTeX and MathJax have a blackboard 1

    def __init__(self, *, lang: str = "en", memo: dict | None = None) -> None:
        super().__init__(lang=lang, memo=memo)
        memo = self._memos.setdefault("latex", {})
        self._printer = MathLatexPrinter({"indicator": LatexMath.INDICATOR}, memo)

    def _m(self, expr: Any) -> str:
        return self._printer.doprint(expr)

    def _d(self, of: Symbol, wrt: Symbol, partial: bool) -> str:
        d = r"\partial " if partial else "d "
        return rf"\frac{{{d}{self._m(of)}}}{{{d}{self._m(wrt)}}}"

    def _op(self, wrt: Symbol, partial: bool, expr: Any) -> str:
        d = r"\partial" if partial else "d"
        body = self._m(expr)
        if isinstance(expr, Basic) and (expr.is_Add or expr.is_Mul):
            body = rf"\left({body}\right)"
        return rf"\frac{{{d}}}{{{d} {self._m(wrt)}}} {body}"

    def _factor(self, expr: Any) -> str:
        grouped = not isinstance(expr, MatrixBase) and (
            expr.is_Add or isinstance(expr, KRONECKER) or expr.could_extract_minus_sign()
        )
        return rf"\left({self._m(expr)}\right)" if grouped else self._m(expr)

    _summand = _factor

    def _product(self, frags: Sequence[str], vector: bool = False, loose: bool = False) -> str:
        return (r" \, " if vector else r" \cdot ").join(frags)

    def _sum(self, frags: Sequence[str]) -> str:
        return " + ".join(frags)

    def _eq(self, a: str, b: str) -> str:
        return f"{a} = {b}"

    def _gradient_name(self, of: Symbol) -> str:
        return r"\nabla " + self._m(of)

    def _inline(self, frag: str) -> str:
        return f"${frag}$"

    def _tm(self, text: str) -> str:
        return text_in_math(text)

    CROSS = r" \times "

    def _rows(self, lines: Sequence[Line]) -> list[str]:
        """Rows of an aligned block: lhs &= rhs …; three or more forms one per row."""
        rows = []
        for line in lines:
            reason = f" && {line.reason}" if line.reason else ""
            if not line.rhs:
                rows.append(f"& {line.lhs}{reason}")
            elif len(line.rhs) >= 3:
                rows.append(f"{line.lhs} &= {line.rhs[0]}")
                rows += [f"&= {r}" for r in line.rhs[1:]]
                rows[-1] += reason
            else:
                rows.append(f"{line.lhs} &= " + " = ".join(line.rhs) + reason)
        return rows

    def equation(self, line: Line) -> str:
        """One line as a single LaTeX equation (no alignment), for JSON."""
        reason = rf" \quad {line.reason}" if line.reason else ""
        return " = ".join([line.lhs, *line.rhs]) + reason


class LatexRenderer(LatexMath):
    """A LaTeX fragment; ``standalone=True`` gives a document for pdflatex."""

    INDICATOR = r"\mathbf{1}"  # amssymb's \mathbb has no digits

    def __init__(self, standalone: bool = False, *, lang: str = "en", memo: dict | None = None) -> None:
        super().__init__(lang=lang, memo=memo)
        self.standalone = standalone

    def render(self, d: Any) -> str:
        # The printer's memo is shared with Markdown and JSON, which keep \mathbb{1}.
        return super().render(d).replace(LatexMath.INDICATOR, self.INDICATOR)

    def render_math(self, d: Any) -> str:
        """The derivation as one ``$$\\begin{aligned} … \\end{aligned}$$`` (Jupyter)."""
        return _MathOnly(lang=self.lang, memo=self._memos).render(d)

    def _escape(self, text: str) -> str:
        return escape_prose(text)

    def _loud(self, text: str) -> str:
        return rf"\textbf{{{text}}}"

    def _heading(self, text: str) -> str:
        style = r"\textbf" if self._depth == 0 else r"\textit"
        return rf"\medskip\noindent{style}{{{text}}}\par"

    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        out = [heading] if heading else []
        for run in self._runs(items):
            if isinstance(run, list):
                rows = " \\\\\n".join(self._rows(run))
                out.append(f"\\begin{{align*}}\n{rows}\n\\end{{align*}}")
            elif isinstance(run, Block):
                out.append(str(run))
            else:
                out.append(rf"\noindent {run}\par")
        return "\n".join(out)

    def _document(self, blocks: Sequence[str]) -> str:
        body = self.BLOCK_SEP.join(b for b in blocks if b) + "\n"
        if not self.standalone:
            return body
        return (
            "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
            "\\begin{document}\n" + body + "\\end{document}\n"
        )


class _MathOnly(LatexRenderer):
    """Everything inside one ``aligned`` block: prose becomes \\text rows."""

    BLOCK_SEP = " \\\\\n"
    INDICATOR = LatexMath.INDICATOR

    def _escape(self, text: str) -> str:
        return text_in_math(text)

    def _inline(self, frag: str) -> str:
        return frag

    def _loud(self, text: str) -> str:
        return text

    def _heading(self, text: str) -> str:
        return "& " + text

    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        rows = [heading] if heading else []
        for item in items:
            if isinstance(item, Line):
                rows += self._rows([item])
            else:
                rows.append(str(item) if isinstance(item, Block) else "& " + item)
        return self.BLOCK_SEP.join(rows)

    def _document(self, blocks: Sequence[str]) -> str:
        body = self.BLOCK_SEP.join(b for b in blocks if b)
        return f"$$\\begin{{aligned}}\n{body}\n\\end{{aligned}}$$"
