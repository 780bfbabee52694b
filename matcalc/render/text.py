"""Plain text for a terminal: Unicode by default, pure ASCII with ``unicode=False``.

Expressions are linear (``TextPrinter``: u₁, x³, 3x²·cos(x)); the result and any
matrix are drawn in 2D with ``TextPrettyPrinter`` (``sympy.pretty``).  Sections are
plain lines with 2-space indents, equals signs aligned and rule names in
parentheses after the formula; no colour.

Every line fits ``width`` columns (80 by default; the CLI passes the terminal's):
prose is filled word by word (character by character in Chinese), a long equation
continues on new lines under its "=", a long side is broken before a ``+`` or after
a ``·`` (outside parentheses first), a rule name too long for its line goes on the
next one, and a 2D drawing wider than the line is printed on one line instead.  Only
a single token with nowhere to break (a very long name) can stick out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from sympy import (
    Add,
    Basic,
    MatrixBase,
    Mul,
    Symbol,
    acos,
    asin,
    atan,
    cos,
    cosh,
    log,
    sin,
    sinh,
    tan,
    tanh,
)
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm

from matcalc.linalg.jacobians import KRONECKER
from matcalc.render.base import Block, Line, Renderer
from matcalc.render.printing import TextPrettyPrinter, TextPrinter

WIDTH = 80
"""The default width in columns (``to_text``); the CLI uses the terminal's (``--width``)."""
MIN_WIDTH = 30
ASCII = str.maketrans(
    {
        "—": "-",
        "–": "-",
        "·": "*",
        "∂": "del ",
        "×": "x",
        "→": "->",
        "∇": "grad ",
        "ᵀ": "^T",
        "ᵢ": "_i",
        "⊗": "*",
        "σ": "sigmoid",
        "‖": "||",
        "′": "'",
        "…": "...",
        "≤": "<=",
        "≥": ">=",
        "≠": "!=",
        "√": "sqrt",
        "𝟏": "ones",
        "𝟙": "1",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "²": "^2",
        "³": "^3",
        "−": "-",
        "⋅": "*",
        "\u00a0": " ",
    }
)
"""Prose in ASCII (rule names and notes carry a little notation: "sum reduction (1ᵀ)")."""

Frag = Any  # a str, or a prettyForm for 2D pieces (matrices, the result)

# Where a long side of an equation may be broken: before these operators (the next line
# starts with "+ b") ...
_BREAK_BEFORE = (" + ", " - ", " ⊗ ", " ⊗ₖ ", " * ", " @ ", " kron ")
# ... and after these (the line ends with "·")
_BREAK_AFTER = ("·", "*", ", ", "; ")
_OPEN, _CLOSE = "([{", ")]}"
_NO_LINE_START = set("，。；：、）」』！？,.;:)]}")
_OPENING = set("（「『([{")
_LAST_RESORT = 1 << 20  # the nesting depth given to a break after "f(": used when nothing else fits


_ONE_COLUMN = set(map(chr, range(0x300)))
"""Characters known to take one column: all below U+0300, and those met since (a fact about
each character, kept to measure the next text without asking ``unicodedata`` again)."""


def columns(text: str) -> int:
    """The width of ``text`` in a terminal: East Asian wide characters take two columns,
    combining marks none.  (Below U+0300 every character takes one.)"""
    if text.isascii() or _ONE_COLUMN.issuperset(text):
        return len(text)
    total = len(text)
    for c in set(text):
        if c not in _ONE_COLUMN:
            width = (
                2
                if unicodedata.east_asian_width(c) in "WF"
                else 0
                if unicodedata.combining(c)
                else 1
            )
            if width != 1:
                total += (width - 1) * text.count(c)
            elif len(_ONE_COLUMN) < 0x10000:
                _ONE_COLUMN.add(c)
    return total


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _pieces(word: str) -> list[str]:
    """A word cut where a line may break inside it: next to a Chinese character."""
    if word.isascii():
        return [word]
    parts, start = [], 0
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        if (_wide(a) or _wide(b)) and b not in _NO_LINE_START and a not in _OPENING:
            parts.append(word[start:i])
            start = i
    parts.append(word[start:])
    return parts


def fill(text: str, first: str, rest: str, width: int) -> list[str]:
    """Prose filled to ``width`` columns, lines starting with ``first`` and then ``rest``.

    Lines break at spaces, and next to a Chinese character (never before a closing
    mark), preferably outside parentheses (math such as max(0, z) stays whole); a word
    longer than a line stays whole.
    """
    one_line = first + " ".join(word for word in text.split(" ") if word)
    if columns(one_line) <= width:  # the words, one space apart, fit on the first line
        return [one_line.rstrip()]
    units: list[tuple[str, bool, bool]] = []  # (piece, after a space, inside brackets)
    depth = 0
    for space, word in re.findall(r"( *)([^ ]+)", text):
        for i, piece in enumerate(_pieces(word)):
            units.append((piece, bool(space) and i == 0, depth > 0))
            opened = sum(piece.count(c) for c in "([") - sum(piece.count(c) for c in ")]")
            depth = max(0, depth + opened)
    lines: list[str] = []
    line: list[tuple[str, bool, bool]] = []
    lead = first

    def used(pieces: list[tuple[str, bool, bool]]) -> int:
        return columns(lead) + sum(columns(p) + (k > 0 and s) for k, (p, s, _) in enumerate(pieces))

    taken = used(line)  # the columns of ``line`` after ``lead``, kept as the line grows
    for unit in units:
        more = columns(unit[0]) + (bool(line) and unit[1])
        if line and taken + more > width:
            # move back to the last break outside brackets, if the line keeps something
            cut = next((k for k in range(len(line) - 1, 0, -1) if not line[k][2]), len(line))
            if unit[2] is False or cut == len(line):
                cut = len(line)
            elif columns(_joined(rest, [*line[cut:], unit])) > width:
                cut = len(line)  # what moves on would not fit its own line: break here instead
            lines.append(_joined(lead, line[:cut]))
            line, lead = line[cut:], rest
            taken = used(line)
            more = columns(unit[0]) + (bool(line) and unit[1])
        line.append(unit)
        taken += more
    lines.append(_joined(lead, line))
    return lines


def _joined(lead: str, pieces: list[tuple[str, bool, bool]]) -> str:
    text = "".join((" " if k > 0 and spaced else "") + p for k, (p, spaced, _) in enumerate(pieces))
    return (lead + text).rstrip()


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _drawn(method):
    """Draw with SymPy's global unicode switch set as this renderer's (as sympy.pretty does):
    2D pieces are also drawn outside ``render``, e.g. the verdict block of a check."""

    def draw(self, *args: Any) -> Any:
        previous = pretty_use_unicode(self.unicode)
        try:
            return method(self, *args)
        finally:
            pretty_use_unicode(previous)

    draw.__name__, draw.__doc__ = method.__name__, method.__doc__
    return draw


class TextRenderer(Renderer):
    """Plain lines: "Step 1 — …", then ``lhs = rhs = …  (rule)`` indented by two spaces."""

    def __init__(
        self,
        unicode: bool = True,
        *,
        lang: str = "en",
        memo: dict | None = None,
        width: int | None = WIDTH,
    ) -> None:
        super().__init__(lang=lang, memo=memo)
        self.unicode = unicode
        # None or 0: no limit; a very narrow terminal still gets a readable minimum
        self.width = max(width, MIN_WIDTH) if width else 1 << 30
        self._printer = TextPrinter(
            {"unicode": unicode}, self._memos.setdefault(f"text{unicode}", {})
        )
        self._pretty = TextPrettyPrinter(
            {"use_unicode": unicode}, self._memos.setdefault(f"pretty{unicode}", {})
        )
        self._times = "·" if unicode else "*"
        self.CROSS = "×" if unicode else "x"
        self._partial_d = "∂" if unicode else "del "  # ASCII: del u/del x, not du/dx

    def render(self, d: Any) -> str:
        # 2D pieces consult SymPy's global unicode switch, as sympy.pretty does.
        previous = pretty_use_unicode(self.unicode)
        try:
            return super().render(d)
        finally:
            pretty_use_unicode(previous)

    # -- math primitives --------------------------------------------------------------
    def _m(self, expr: Any) -> Frag:
        if isinstance(expr, MatrixBase) and _drawable(expr):
            return self._m_drawn(expr)
        return self._printer.doprint(expr)  # linear text: SymPy's unicode switch is not read

    @_drawn
    def _m_drawn(self, expr: MatrixBase) -> Frag:
        return _drawing(self._pretty._print(expr), self._printer.doprint(expr))

    def _m_inline(self, expr: Any) -> str:
        return self._printer.doprint(expr)

    @_drawn
    def _display(self, expr: Any) -> Frag:
        """2D, as ``sympy.pretty`` draws it; one-line results stay plain strings."""
        if isinstance(expr, MatrixBase) and not _drawable(expr):
            return self._m(expr)
        if _one_line(expr):  # as the drawing would be: its 2D form need not be made
            return self._m(expr)
        form = self._pretty._print(expr)
        if form.height() == 1:
            return self._m(expr)
        return _drawing(form, self._printer.doprint(expr))

    def _zeros(self) -> tuple[str, str]:
        return ("𝟎", "𝟎ᵀ") if self.unicode else ("0", "0^T")

    def _d(self, of: Symbol, wrt: Symbol, partial: bool, held: Sequence[Symbol] = ()) -> str:
        d = self._partial_d if partial else "d"
        name = f"{d}{self._m(of)}/{d}{self._m(wrt)}"
        if len(held) == 1:
            return f"({name})_{self._m(held[0])}"
        if held:
            return f"({name})_({', '.join(self._m(h) for h in held)})"
        return name

    def _d_order(self, of: Symbol, wrt: Symbol, partial: bool, order: int) -> str:
        if order == 1:
            return self._d(of, wrt, partial)
        d = self._partial_d if partial else "d"
        k = str(order).translate(_SUPERSCRIPTS) if self.unicode else f"^{order}"
        return f"{d}{k}{self._m(of)}/{d}{self._m(wrt)}{k}"

    def _op(self, wrt: Symbol, partial: bool, expr: Any) -> Frag:
        d = self._partial_d if partial else "d"
        grouped = isinstance(expr, Basic) and (expr.is_Add or expr.is_Mul or expr.is_Pow)
        body = self._m(expr)
        operator = f"{d.strip()}/{d}{self._m(wrt)} "
        return self._hjoin([operator, self._parens(body) if grouped else body])

    def _factor(self, expr: Any) -> Frag:
        if isinstance(expr, MatrixBase):
            return self._m(expr)
        grouped = (
            expr.is_Add
            or isinstance(expr, KRONECKER)
            or expr.is_Mul
            or (expr.is_Pow and expr.exp.is_negative)
            or (expr.is_Rational and not expr.is_Integer)
            or expr.could_extract_minus_sign()
        )
        return self._parens(self._m(expr)) if grouped else self._m(expr)

    def _summand(self, expr: Any) -> Frag:
        if isinstance(expr, MatrixBase) or not (expr.is_Add or expr.could_extract_minus_sign()):
            return self._m(expr)
        return self._parens(self._m(expr))

    def _product(self, frags: Sequence[Frag], vector: bool = False, loose: bool = False) -> Frag:
        sep = " " if vector else self._times
        return self._hjoin(frags, f" {sep} " if loose and not vector else sep)

    def _sum(self, frags: Sequence[Frag]) -> Frag:
        return self._hjoin(frags, " + ")

    def _eq(self, a: Frag, b: Frag) -> Frag:
        return self._hjoin([a, b], " = ")

    def _list(self, symbols: Any) -> str:
        return ", ".join(self._m(s) for s in symbols)

    def _gradient_name(self, of: Symbol) -> str:
        return ("∇" if self.unicode else "grad ") + self._m(of)

    def _parens(self, frag: Frag) -> Frag:
        if isinstance(frag, str):
            return f"({frag})"
        return self._parens_drawn(frag)

    @_drawn
    def _parens_drawn(self, frag: prettyForm) -> Frag:
        return _drawing(prettyForm(*frag.parens()), _linear(frag, "({})"))

    def _hjoin(self, frags: Sequence[Frag], sep: str = "") -> Frag:
        """Join side by side: plain strings stay strings; 2D pieces share a baseline."""
        if all(isinstance(f, str) for f in frags):
            return sep.join(frags)
        out = None
        for f in frags:
            form = prettyForm(f) if isinstance(f, str) else f
            out = form if out is None else prettyForm(*out.right(sep, form))
        linear = [s for s in map(_linear, frags) if s is not None]
        return _drawing(out, sep.join(linear) if len(linear) == len(frags) else None)

    # -- prose ------------------------------------------------------------------------
    def _inline(self, frag: Frag) -> str:
        if isinstance(frag, str):
            return frag
        return _linear(frag) or frag.render(wrap_line=False)

    def _escape(self, text: str) -> str:
        return text if self.unicode else text.replace("⊗ₖ", "kron").translate(ASCII)

    _tm = _escape

    def _loud(self, text: str) -> str:
        return f"!! {text}"

    def _heading(self, text: str) -> str:
        return "  " * self._depth + text

    # -- layout -----------------------------------------------------------------------
    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        indent = "  " * self._depth
        body = indent + "  " if heading else indent
        out = self._prose(heading, "") if heading else []  # a heading has its indentation
        for run in self._runs(items):
            if isinstance(run, list):
                out += self._equations(run, indent + "  ")
            elif isinstance(run, Block):
                out.append(str(run))
            else:
                out += self._prose(run, body)
        return "\n".join(out)

    def _prose(self, text: str, indent: str) -> list[str]:
        """A paragraph (or heading) filled to the width; its own indentation is kept."""
        out = []
        for paragraph in text.split("\n"):
            stripped = paragraph.lstrip(" ")
            lead = indent + paragraph[: len(paragraph) - len(stripped)]
            out += fill(stripped, lead, lead, self.width)
        return out

    def _equations(self, lines: Sequence[Line], indent: str) -> list[str]:
        """Equals signs aligned; what does not fit continues on new lines under its "="."""
        lhs_width = max(
            (columns(ln.lhs) for ln in lines if isinstance(ln.lhs, str) and "\n" not in ln.lhs),
            default=0,
        )
        flat = [self._flat(line, lhs_width) for line in lines]
        width = self._reason_column(lines, flat, indent)
        out = []
        for line, text in zip(lines, flat):
            if text is None:
                rows = self._block(line, indent)
                if all(self._fits(row) for row in rows):
                    out += rows
                    continue
            elif self._fits(indent + text):
                out += self._with_reason(
                    indent + text, width - columns(text), line, lhs_width, indent
                )
                continue
            out += self._broken(line, indent, lhs_width)
        return out

    def _reason_column(self, lines: Sequence[Line], flat: list[str | None], indent: str) -> int:
        """Where reasons start: the column that keeps the most of them aligned on their lines."""
        sized = [
            (columns(f), columns(f"{indent}  {line.reason}"))
            for f, line in zip(flat, lines)
            if f is not None and line.reason and self._fits(f"{indent}{f}  {line.reason}")
        ]

        def aligned(column: int) -> int:
            return sum(w <= column and column + rest <= self.width for w, rest in sized)

        return max((w for w, _ in sized), key=lambda c: (aligned(c), c), default=0)

    def _fits(self, row: str) -> bool:
        return columns(row) <= self.width

    def _with_reason(
        self, row: str, pad: int, line: Line, lhs_width: int, indent: str
    ) -> list[str]:
        """A one-line equation and its reason: aligned with the others, after it, or below."""
        if not line.reason:
            return [row.rstrip()]
        for candidate in (row + " " * pad, row):
            if self._fits(f"{candidate}  {line.reason}"):
                return [f"{candidate}  {line.reason}".rstrip()]
        return [row.rstrip(), *self._reason(line.reason, indent, lhs_width)]

    def _reason(self, reason: str, indent: str, lhs_width: int) -> list[str]:
        """A reason on lines of its own, under the right-hand side."""
        lead = indent + " " * (lhs_width + 3)
        if columns(lead) > self.width // 2:
            lead = indent + "  "
        return fill(reason, lead, lead + " ", self.width)

    def _broken(self, line: Line, indent: str, lhs_width: int) -> list[str]:
        """An equation too wide for one line: one "= side" a line, each side wrapped."""
        if not line.rhs:
            pieces = [(indent, line.lhs)]
        else:
            lhs = _linear(line.lhs)
            if lhs is None:
                lhs = line.lhs.render(wrap_line=False)
            first = f"{indent}{' ' * (lhs_width - columns(lhs))}{lhs} = "
            later = f"{indent}{' ' * (lhs_width + 1)}= "
            pieces = [(first if i == 0 else later, r) for i, r in enumerate(line.rhs)]
        out = []
        for prefix, frag in pieces:
            if not isinstance(frag, str):
                form = self._hjoin([prefix, frag])
                rows = [row.rstrip() for row in form.render(wrap_line=False).split("\n")]
                if all(self._fits(row) for row in rows) or _linear(frag) is None:
                    out += rows
                    continue
                frag = _linear(frag)
            out += self._wrap(prefix, frag)
        if line.reason:
            out += self._reason(line.reason, indent, lhs_width)
        return out

    def _wrap(self, prefix: str, text: str) -> list[str]:
        """``prefix`` then ``text``, broken to the width; later lines align under ``text``."""
        cont = " " * columns(prefix)
        if columns(cont) > self.width // 2:  # a very long left-hand side
            cont = " " * (columns(prefix) - columns(prefix.lstrip()) + 4)
        rows, lead = [], prefix
        if not self._fits(prefix + text) and self.width - columns(prefix) < 16 and prefix.strip():
            rows.append(prefix.rstrip())  # too little room after a long left-hand side
            lead = cont = " " * (columns(prefix) - columns(prefix.lstrip()) + 4)
        while not self._fits(lead + text):
            cut = _break(text, self.width - columns(lead))
            if cut is None:
                break
            rows.append((lead + text[:cut]).rstrip())
            text, lead = text[cut:].lstrip(" "), cont
        rows.append((lead + text).rstrip())
        return rows

    def _flat(self, line: Line, lhs_width: int) -> str | None:
        """The equation on one line, or None when it has 2D pieces."""
        parts = [line.lhs, *line.rhs]
        if not all(isinstance(p, str) and "\n" not in p for p in parts):
            return None
        lhs = " " * (lhs_width - columns(line.lhs)) + line.lhs
        return " = ".join([lhs, *line.rhs])

    def _block(self, line: Line, indent: str) -> list[str]:
        form = self._hjoin([line.lhs, *line.rhs], " = ")
        if line.reason:
            form = self._hjoin([form, line.reason], "  ")
        text = form if isinstance(form, str) else form.render(wrap_line=False)
        return [(indent + row).rstrip() for row in text.split("\n")]

    def _document(self, blocks: Sequence[str]) -> str:
        return self.BLOCK_SEP.join(b for b in blocks if b) + "\n"


_ONE_LINE_FUNCTIONS = (sin, cos, tan, sinh, cosh, tanh, asin, acos, atan, log)
"""Functions that SymPy's 2D printer draws as name(argument), as high as the argument
(ln for log); not exp (e with a raised exponent) nor the ones matcalc draws itself."""


def _one_line(expr: Any) -> bool:
    """Whether the 2D drawing of ``expr`` is one line high (``_display`` then writes the
    linear form): names, integers, and sums, products and ``_ONE_LINE_FUNCTIONS`` of them.
    Not a power, a fraction or another number (drawn raised or stacked), nor anything else."""
    todo = [expr]
    while todo:
        e = todo.pop()
        kind = type(e)
        if kind is Symbol or kind is Add or kind is Mul or kind in _ONE_LINE_FUNCTIONS:
            todo.extend(e.args)
        elif not (isinstance(e, Basic) and e.is_Integer):
            return False
    return True


def _drawing(form: prettyForm, linear: str | None) -> prettyForm:
    """A 2D piece that remembers its one-line form (printed instead when it is too wide)."""
    form.linear = linear
    return form


def _linear(frag: Frag, template: str = "{}") -> str | None:
    """The one-line form of a piece: the text itself, or what a 2D piece remembers."""
    if isinstance(frag, str):
        return template.format(frag)
    linear = getattr(frag, "linear", None)
    return None if linear is None else template.format(linear)


_SPOT_START = {op[0] for op in _BREAK_BEFORE + _BREAK_AFTER} | {"/", "("}
"""The characters a place to break starts at (``_spot``): other characters are not tried."""


def _spot(text: str, i: int) -> int | None:
    """The place to break ``text`` at its ``i``-th character, if any: where the next line starts."""
    for op in _BREAK_BEFORE:
        if text.startswith(op, i):
            return i + 1
    for op in _BREAK_AFTER:
        if text.startswith(op, i):
            return i + len(op) if op != "*" or "*" not in (text[i - 1], text[i + 1]) else None
    if text[i] == "/" and text[i - 1] == ")":  # exp(…)/sum(…), not d/dx
        return i + 1
    if text[i] == "(" and text[i - 1].isalpha():  # f(…: only when nothing else fits
        return i + 1
    return None


def _break(text: str, room: int) -> int | None:
    """Where to break ``text`` so that its first part fits in ``room`` columns.

    Before a ``+``/``-`` or after a ``·`` outside parentheses if one fits (and fills a
    third of the line), else at the shallowest nesting that does (between matrix rows
    before between entries); with no place that fits, the first place at all (the line
    sticks out); None when there is none.

    One walk, measuring as it goes, that stops once the text no longer fits (or, when no
    place fits, at the first place): a long line is broken in time linear in its length
    (measuring every prefix anew took 50 s for a 3×3 matrix of inverses with ``--dim``).
    """
    spots: list[tuple[int, int, int]] = []  # (position, rank, columns of text[:position])
    fitting: list[tuple[int, int, int]] = []
    depth, width, solid = 0, 0, 0  # solid: columns up to the last non-blank character
    for i, char in enumerate(text):
        if 0 < i < len(text) - 1:
            if char in _OPEN:
                depth += 1
            elif char in _CLOSE:
                depth = max(depth - 1, 0)
            spot = _spot(text, i) if char in _SPOT_START else None
            if spot is not None:  # rank: shallow first, and a matrix row before an entry
                rank = 2 * depth + (not text.startswith("; ", i))
                rank = rank if char != "(" else _LAST_RESORT
                shown = columns(text[i:spot])  # the place is at most a few characters on
                blank = len(text[i:spot]) - len(text[i:spot].rstrip())
                end = width + shown
                spots.append((spot, rank, end))
                if (end - blank if blank < spot - i else solid) <= room:
                    fitting.append((spot, rank, end))
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
        width += columns(char)
        if not char.isspace():
            solid = width
        if solid > room and (fitting or spots):
            break
    if not spots:
        return None
    if not fitting:
        return spots[0][0]
    full = [(p, r) for p, r, w in fitting if w >= room // 3] or [(p, r) for p, r, _ in fitting]
    best = min(r for _, r in full)
    return max(p for p, r in full if r == best)


MAX_DRAWN_COLUMNS = 30
MAX_DRAWN_ENTRIES = 400


def _drawable(matrix: MatrixBase) -> bool:
    """Small enough to draw in 2D: SymPy's drawing of a matrix takes time quadratic in
    its width (a gradient by 2000 names took 14 s), so a wider one is written on one line."""
    return matrix.cols <= MAX_DRAWN_COLUMNS and matrix.rows * matrix.cols <= MAX_DRAWN_ENTRIES
