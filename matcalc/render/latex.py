r"""LaTeX: a fragment of prose and ``align*`` blocks, or a standalone document.

``LatexMath`` holds the math primitives (``MathLatexPrinter``; \frac{du_1}{dx},
\cdot, \text{(power rule)}) shared with ``MarkdownRenderer``.  ``LatexRenderer``
lays them out for pdflatex: the output is pure ASCII for English (prose is
escaped, σ becomes $\sigma$), and ``standalone=True`` wraps it in a document that
needs only amsmath and amssymb.  ``render_math`` gives the whole derivation as
one ``aligned`` block for Jupyter (MathJax/KaTeX).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from sympy import Basic, MatrixBase, Symbol
from sympy.core.cache import CACHE

from matcalc.linalg.jacobians import KRONECKER
from matcalc.render.base import Block, Line, Renderer
from matcalc.render.printing import MathLatexPrinter

BLACKBOARD_ONE = r"\mathbb{1}"
"""The indicator 𝟙[z > 0] where KaTeX and MathJax draw it (not pdflatex's amssymb)."""
# Characters that cannot stay in LaTeX text, as math-mode LaTeX.
MATH_CHARS = {
    "σ": r"\sigma", "∂": r"\partial", "·": r"\cdot", "×": r"\times", "ᵀ": "^{T}",
    "⊗": r"\otimes", "⊘": r"\oslash", "→": r"\to", "≥": r"\geq", "≤": r"\leq",
    "≠": r"\neq", "−": "-", "∇": r"\nabla", "∑": r"\sum", "√": r"\surd", "∞": r"\infty",
    "|": "|", "<": "<", ">": ">", "π": r"\pi", "θ": r"\theta", "λ": r"\lambda",
    "𝟙": BLACKBOARD_ONE, "ᵢ": "_{i}", "ₖ": "_{K}", "′": r"^{\prime}",
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

    INDICATOR = BLACKBOARD_ONE

    def __init__(
        self,
        *,
        lang: str = "en",
        memo: dict | None = None,
        part: str = "solution",
        compact: bool = False,
    ) -> None:
        super().__init__(lang=lang, memo=memo, part=part, compact=compact)
        memo = self._memos.setdefault(f"latex {self.INDICATOR}", {})
        self._printer = MathLatexPrinter({"indicator": self.INDICATOR}, memo)

    def _m(self, expr: Any) -> str:
        return self._printer.doprint(expr)

    def _zeros(self) -> tuple[str, str]:
        return (r"\mathbf{0}", r"\mathbf{0}^{T}")

    def _d(self, of: Symbol, wrt: Symbol, partial: bool, held: Sequence[Symbol] = ()) -> str:
        d = r"\partial " if partial else "d "
        name = rf"\frac{{{d}{self._m(of)}}}{{{d}{self._m(wrt)}}}"
        if held:
            return rf"\left({name}\right)_{{{', '.join(self._m(h) for h in held)}}}"
        return name

    def _d_order(self, of: Symbol, wrt: Symbol, partial: bool, order: int) -> str:
        if order == 1:
            return self._d(of, wrt, partial)
        d = r"\partial" if partial else "d"
        return rf"\frac{{{d}^{{{order}}} {self._m(of)}}}{{{d} {self._m(wrt)}^{{{order}}}}}"

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


LINE_WIDTH = 42.0
"""How wide a row of display math may be, in the units of ``width`` (about one em of
11-point math), before it is broken: a quarter under the text width of matcalc's
documents, so that the estimate's errors stay inside the page."""
COMPACT_LINE_WIDTH = 24.0
"""The same for a column of the compact layout (``COMPACT_PREAMBLE``: 10-point type, two
columns of 3.5 in)."""
COMPACT_PREAMBLE = (
    "\\documentclass[10pt]{article}\n"
    "\\usepackage{amsmath}\n"
    "\\usepackage{amssymb}\n"
    "\\usepackage{multicol}\n"
    "\\setlength{\\textwidth}{7.3in}\n"
    "\\setlength{\\oddsidemargin}{-0.4in}\n"
    "\\setlength{\\evensidemargin}{-0.4in}\n"
    "\\setlength{\\topmargin}{-0.5in}\n"
    "\\setlength{\\headheight}{0pt}\n"
    "\\setlength{\\headsep}{0pt}\n"
    "\\setlength{\\textheight}{9.6in}\n"
    "\\setlength{\\footskip}{0.35in}\n"
    "\\setlength{\\columnsep}{0.25in}\n"
    "\\setlength{\\multicolsep}{3pt plus 2pt}\n"
    "\\setlength{\\parskip}{0pt}\n"
    "\\setlength{\\medskipamount}{2pt plus 1pt}\n"
    "\\setlength{\\jot}{1pt}\n"
    "\\makeatletter\n"
    "\\g@addto@macro\\normalsize{\\setlength\\abovedisplayskip{3pt plus 1pt}"
    "\\setlength\\belowdisplayskip{3pt plus 1pt}"
    "\\setlength\\abovedisplayshortskip{0pt plus 1pt}"
    "\\setlength\\belowdisplayshortskip{2pt plus 1pt}}\n"
    "\\renewcommand\\section{\\@startsection{section}{1}{\\z@}{-1.2ex plus -.5ex minus -.2ex}"
    "{0.6ex plus .2ex}{\\normalfont\\large\\bfseries}}\n"
    "\\renewcommand\\subsection{\\@startsection{subsection}{2}{\\z@}{-1ex plus -.5ex minus -.2ex}"
    "{0.4ex plus .2ex}{\\normalfont\\normalsize\\bfseries}}\n"
    "\\makeatother\n"
    "\\allowdisplaybreaks\n"
    "\\sloppy\n"
)
"""The compact layout: 10-point type on narrow margins, display math and headings set
tight, the body in two columns (``multicols``, from texlive-latex-base); what does not fit
a column (``COMPACT_LINE_WIDTH``) goes across the page between them."""
MULTICOLS = ("\\begin{multicols}{2}\n", "\n\\end{multicols}")

_NARROW = {",": 0.2, ";": 0.3, ":": 0.25, "!": -0.15, " ": 0.3, "quad": 1.0, "qquad": 2.0}
_WORDS = ("operatorname", "text", "mathrm", "textit", "textbf")
_FUNCTIONS = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "sinh",
        "cosh",
        "tanh",
        "coth",
        "ln",
        "log",
        "exp",
        "arcsin",
        "arccos",
        "arctan",
        "max",
        "min",
        "det",
        "lim",
    ]
)
FIT = (
    r"\providecommand{\matcalcfit}[2]{\sbox0{$\displaystyle #2$}"
    r"\ifdim\wd0>#1\sbox0{$\textstyle #2$}\fi\ifdim\wd0>#1\sbox0{$\scriptstyle #2$}\fi"
    r"\usebox0}"
)
"""A row of math that still does not fit after breaking is set smaller (text style, then
script style), measured by TeX itself; plain LaTeX, no package."""


_COMMAND = re.compile(r"\\([a-zA-Z]+|.)")


@functools.lru_cache(maxsize=4096)  # a pure function of the string: lines are measured often
def width(tex: str) -> float:
    """A rough width of a LaTeX math string, in ems: enough to decide where to break.

    A fraction is as wide as its wider part, a script counts 0.6, ``\text{…}`` and
    ``\\operatorname{…}`` count their letters, a matrix its widest row.
    """
    value, _ = _width(tex, 0)
    return value


CACHE.append(width)  # emptied with SymPy's cache, as the printed forms it measures are


def _group(tex: str, i: int) -> tuple[str, int]:
    """The brace group starting at tex[i] (or the single token there) and the index after it."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] != "{":
        if tex[i] == "\\":
            match = _COMMAND.match(tex, i)
            end = match.end() if match else i + 1
            return tex[i:end], end
        return tex[i], i + 1
    depth = 0
    for j in range(i, len(tex)):
        if tex[j] == "{" and (j == 0 or tex[j - 1] != "\\"):
            depth += 1
        elif tex[j] == "}" and (j == 0 or tex[j - 1] != "\\"):
            depth -= 1
            if depth == 0:
                return tex[i + 1 : j], j + 1
    return tex[i + 1 :], len(tex)


def _width(tex: str, i: int) -> tuple[float, int]:
    rows: list[float] = [0.0]
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            match = _COMMAND.match(tex, i)
            name = match.group(1) if match else ""
            i = match.end() if match else i + 1
            if name == "frac":
                num, i = _group(tex, i)
                den, i = _group(tex, i)
                rows[-1] += max(width(num), width(den)) + 0.4
            elif name in _WORDS:
                body, i = _group(tex, i)
                rows[-1] += len(body) * 0.55 if name != "operatorname" else len(body) * 0.5
            elif name in ("mathbf", "boldsymbol"):  # bold letters are wider (X: 0.9 em)
                body, i = _group(tex, i)
                # a bold capital, a matrix, is as wide as it says: 1.25 × 0.55 fell short,
                # and trace(A @ inv(X) @ …) results of bold capitals stuck out of the page
                rows[-1] += 0.9 if len(body) == 1 and body.isupper() else 1.25 * width(body)
            elif name in ("mathbb", "sqrt", "overline"):
                body, i = _group(tex, i)
                rows[-1] += width(body) + (0.8 if name == "sqrt" else 0)
            elif name in ("left", "right", "big", "Big", "bigl", "bigr"):
                i += 1  # the delimiter
                rows[-1] += 0.4
            elif name in ("begin", "end"):
                _, i = _group(tex, i)
            elif name == "\\":
                rows.append(0.0)
            elif name in _NARROW:
                rows[-1] += _NARROW[name]
            elif name in ("cdot", "otimes", "oslash", "times"):
                rows[-1] += 1.2
            elif name in _FUNCTIONS:
                rows[-1] += 0.5 * len(name) + 0.2
            else:
                rows[-1] += 0.8
        elif c in "^_":
            body, i = _group(tex, i + 1)
            rows[-1] += 0.6 * width(body)
        elif c in "{}":
            i += 1
        elif c == "&":
            rows[-1] += 1.0
            i += 1
        elif c == " ":
            i += 1
        elif c in "=+-<>":
            rows[-1] += 1.3
            i += 1
        else:
            rows[-1] += 0.55
            i += 1
    return max(rows), i


def split_top(tex: str, ops: tuple[str, ...] = (" + ", " - ")) -> list[str]:
    """``tex`` cut before each top-level operator of ``ops`` (outside braces, \\left…\right
    and environments); each later piece starts with its operator."""
    pieces, start, depth = [], 0, 0
    i = 0
    while i < len(tex):
        if tex.startswith("\\left", i) or tex.startswith("\\begin", i):
            depth += 1
        elif tex.startswith("\\right", i) or tex.startswith("\\end", i):
            depth -= 1
        elif tex[i] == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif tex[i] == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
        elif depth == 0 and i > start:
            for op in ops:
                if tex.startswith(op, i):
                    pieces.append(tex[start:i])
                    start = i + 1  # keep the operator with the next piece
                    break
        i += 1
    pieces.append(tex[start:])
    return [p.strip() for p in pieces if p.strip()]


def _broken(body: str, room: float) -> list[str]:
    """``body`` in pieces that each fit in ``room``: cut at top-level + and −, else at
    top-level products; a piece still too wide whose width is in one \\left( … \\right)
    group has that group opened into \\Bigl( … \\Bigr), which may span rows."""
    if width(body) <= room:
        return [body]
    pieces = split_top(body)
    if len(pieces) == 1:
        pieces = split_top(body, (r" \cdot ", r" \, "))
    if len(pieces) == 1:
        return _opened(body, room)
    rows, current = [], ""
    for piece in pieces:
        if current and width(current + " " + piece) > room:
            rows.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    rows.append(current)
    out: list[str] = []
    for row in rows:
        out += _broken(row, room) if width(row) > room and row != body else [row]
    return out


def _opened(body: str, room: float) -> list[str]:
    """Break inside the widest top-level \\left( … \\right) group of ``body``."""
    groups, depth, braces, start = [], 0, 0, None
    i = 0
    while i < len(body):
        if body[i] == "{" and body[i - 1 : i] != "\\":
            braces += 1
        elif body[i] == "}" and body[i - 1 : i] != "\\":
            braces -= 1
        elif braces:
            pass
        elif body.startswith(r"\left(", i):
            if depth == 0:
                start = i
            depth += 1
        elif body.startswith(r"\right)", i):
            depth -= 1
            if depth == 0 and start is not None:
                groups.append((start, i + len(r"\right)")))
        elif body.startswith(r"\left", i):
            depth += 1
        elif body.startswith(r"\right", i):
            depth -= 1
        i += 1
    if not groups:
        return _fraction_opened(body, room)
    a, b = max(groups, key=lambda g: width(body[g[0] : g[1]]))
    inner = body[a + len(r"\left(") : b - len(r"\right)")]
    if width(inner) < room / 2:
        return [body]
    parts = _broken(inner, room)
    if len(parts) == 1:
        return [body]
    parts[0] = body[:a] + r"\Bigl(" + parts[0]
    parts[-1] = parts[-1] + r"\Bigr)" + body[b:]
    return parts


def _fraction_opened(body: str, room: float) -> list[str]:
    """± \\frac{N}{D} with a wide numerator: written ± \\frac{1}{D} \\Bigl(N\\Bigr), N broken."""
    sign, rest = "", body
    for op in ("+ ", "- "):
        if rest.startswith(op):
            sign, rest = op, rest[len(op) :]
    if not rest.startswith(r"\frac"):
        return [body]
    num, i = _group(rest, len(r"\frac"))
    den, j = _group(rest, i)
    if j != len(rest) or width(num) <= room:
        return [body]
    parts = _broken(num, room)
    if len(parts) == 1:
        return [body]
    parts[0] = rf"{sign}\frac{{1}}{{{den}}} \Bigl(" + parts[0]
    parts[-1] += r"\Bigr)"
    return parts


def _fit(piece: str, room: str = "rhs", line_width: float = LINE_WIDTH) -> str:
    """A piece of a row, set smaller by TeX if it is still too wide (see ``FIT``); a
    piece well inside the line is left as it is."""
    if width(piece) < 0.7 * line_width:
        return piece
    limit = r"\linewidth" if room == "full" else r"0.8\linewidth"
    return rf"\matcalcfit{{{limit}}}{{{piece}}}"


def set_smaller(latex: str, line_width: float) -> bool:
    """Whether a row piece of ``latex`` is estimated wider than ``line_width``, so that TeX
    will set it smaller (``FIT``): compact documents set such a problem across the page."""
    start = latex.find("\\matcalcfit{")
    while start != -1:
        limit, i = _group(latex, start + len("\\matcalcfit"))
        piece, i = _group(latex, i)
        if width(piece) > line_width * (0.8 if limit.startswith("0.8") else 1):
            return True
        start = latex.find("\\matcalcfit{", i)
    return False


class LatexRenderer(LatexMath):
    """A LaTeX fragment; ``standalone=True`` gives a document for pdflatex.

    Rows of display math are broken to fit the page: a chain of forms one per row, a long
    sum at its top-level + and −, a long product at its top-level ·; a rule name is a
    ``\tag*``, which amsmath moves to a line of its own when the row leaves no room.
    A step heading is kept with the equations that follow it.
    """

    INDICATOR = r"\mathrm{1\!\!1}"
    r"""amssymb's \mathbb has no digits, and \mathbf{1} is the ones vector: the classic double
    1, two upright 1s a third of an em apart, which needs no package."""

    def __init__(
        self,
        standalone: bool = False,
        *,
        lang: str = "en",
        memo: dict | None = None,
        part: str = "solution",
        compact: bool = False,
    ) -> None:
        super().__init__(lang=lang, memo=memo, part=part, compact=compact)
        self.standalone = standalone
        self.line_width = COMPACT_LINE_WIDTH if compact else LINE_WIDTH

    def render(self, d: Any) -> str:
        text = super().render(d)
        if self.standalone and self.compact and set_smaller(text, self.line_width):
            self.line_width = LINE_WIDTH  # too wide for a column: one column, across the page
            text = super().render(d)
        return text

    def _render_Assemble(self, step: Any) -> list[Any]:
        items = super()._render_Assemble(step)
        line = items[-1]
        if width(" = ".join(line.rhs)) <= self.line_width:
            return items
        return [items[0], Line(line.lhs, line.rhs[:1]), *self._value_lines(line.lhs, step.value)]

    def _value_lines(self, name: Any, value: Any) -> list[Any]:
        """A matrix too wide for the page is written entry by entry: (name)_ij = entry."""
        if not isinstance(value, MatrixBase) or width(self._m(value)) <= self.line_width:
            return super()._value_lines(name, value)
        lines: list[Any] = [self._msg("latex.entries")]
        for i in range(value.rows):
            for j in range(value.cols):
                index = f"{i + j + 1}" if 1 in value.shape else f"{i + 1}{j + 1}"
                lines.append(Line(rf"\left({name}\right)_{{{index}}}", (self._m(value[i, j]),)))
        return lines

    def _document(self, blocks: Sequence[str]) -> str:
        body = self.BLOCK_SEP.join(b for b in blocks if b) + "\n"
        if r"\matcalcfit" in body:
            body = FIT + "\n" + body
        if not self.standalone:
            return body
        if self.compact:
            if self.line_width == COMPACT_LINE_WIDTH:
                body = MULTICOLS[0] + body + MULTICOLS[1] + "\n"
            return COMPACT_PREAMBLE + "\\begin{document}\n" + body + "\\end{document}\n"
        return (
            "\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n\\usepackage{amssymb}\n"
            "\\addtolength{\\textwidth}{1.4in}\n\\addtolength{\\oddsidemargin}{-0.7in}\n"
            "\\addtolength{\\evensidemargin}{-0.7in}\n\\allowdisplaybreaks\n\\sloppy\n"
            "\\begin{document}\n" + body + "\\end{document}\n"
        )

    def render_math(self, d: Any) -> str:
        """The derivation as one ``$$\\begin{aligned} … \\end{aligned}$$`` (Jupyter)."""
        return _MathOnly(lang=self.lang, memo=self._memos).render(d)

    def _escape(self, text: str) -> str:
        return escape_prose(text).replace(BLACKBOARD_ONE, self.INDICATOR)

    def _tm(self, text: str) -> str:
        return text_in_math(text).replace(BLACKBOARD_ONE, self.INDICATOR)

    def _loud(self, text: str) -> str:
        return rf"\textbf{{{text}}}"

    def _heading(self, text: str) -> str:
        style = r"\textbf" if self._depth == 0 else r"\textit"
        return rf"\medskip\noindent{style}{{{text}}}\par\nopagebreak"

    def _rows(self, lines: Sequence[Line]) -> list[str]:
        """Rows of an ``align*``, each made to fit the line (see the class docstring)."""
        rows: list[str] = []
        full = self.line_width
        for line in lines:
            tag = rf" \tag*{{${line.reason}$}}" if line.reason else ""
            if not line.rhs:
                rows += [f"& {_fit(p, 'full', full)}" for p in _broken(line.lhs, full)]
                rows[-1] += tag
                continue
            lhs = width(line.lhs)
            total = lhs + sum(width(r) + 1.3 for r in line.rhs)
            if len(line.rhs) < 3 and total <= full:
                rows.append(f"{line.lhs} &= " + " = ".join(line.rhs) + tag)
                continue
            room = full - min(lhs, full / 3) - 1.3
            first = f"{line.lhs} &="
            for rhs in line.rhs:
                pieces = _broken(rhs, room)
                rows.append(f"{first} {_fit(pieces[0], line_width=full)}")
                rows += [rf"& \quad {_fit(p, line_width=full)}" for p in pieces[1:]]
                first = "&="
            rows[-1] += tag
        return rows

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


class _MathOnly(LatexRenderer):
    """Everything inside one ``aligned`` block: prose becomes \\text rows."""

    BLOCK_SEP = " \\\\\n"
    INDICATOR = LatexMath.INDICATOR
    _rows = LatexMath._rows  # one aligned block for MathJax/KaTeX: no TeX box measuring

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
