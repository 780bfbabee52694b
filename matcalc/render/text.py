"""Plain text for a terminal: Unicode by default, pure ASCII with ``unicode=False``.

Expressions are linear (``TextPrinter``: u₁, x³, 3x²·cos(x)); the result and any
matrix are drawn in 2D with ``TextPrettyPrinter`` (``sympy.pretty``).  Sections are
plain lines with 2-space indents, equals signs aligned and rule names in
parentheses after the formula; no colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sympy import Basic, MatrixBase, Symbol
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm

from matcalc.linalg import KRONECKER
from matcalc.render import Block, Line, Renderer
from matcalc.render.printing import TextPrettyPrinter, TextPrinter

WIDTH = 80
ASCII = str.maketrans(
    {"—": "-", "–": "-", "·": "*", "∂": "del ", "×": "x", "→": "->", "∇": "grad "}
)

Frag = Any  # a str, or a prettyForm for 2D pieces (matrices, the result)


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class TextRenderer(Renderer):
    """Plain lines: "Step 1 — …", then ``lhs = rhs = …  (rule)`` indented by two spaces."""

    def __init__(self, unicode: bool = True, *, lang: str = "en", memo: dict | None = None) -> None:
        super().__init__(lang=lang, memo=memo)
        self.unicode = unicode
        self._printer = TextPrinter({"unicode": unicode}, self._memos.setdefault(f"text{unicode}", {}))
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
        if isinstance(expr, MatrixBase):
            return self._pretty._print(expr)
        return self._printer.doprint(expr)

    def _m_inline(self, expr: Any) -> str:
        return self._printer.doprint(expr)

    def _display(self, expr: Any) -> Frag:
        """2D, as ``sympy.pretty`` draws it; one-line results stay plain strings."""
        form = self._pretty._print(expr)
        return form if form.height() > 1 else self._m(expr)

    def _d(self, of: Symbol, wrt: Symbol, partial: bool) -> str:
        d = self._partial_d if partial else "d"
        return f"{d}{self._m(of)}/{d}{self._m(wrt)}"

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
        return prettyForm(*frag.parens())

    def _hjoin(self, frags: Sequence[Frag], sep: str = "") -> Frag:
        """Join side by side: plain strings stay strings; 2D pieces share a baseline."""
        if all(isinstance(f, str) for f in frags):
            return sep.join(frags)
        out = None
        for f in frags:
            form = prettyForm(f) if isinstance(f, str) else f
            out = form if out is None else prettyForm(*out.right(sep, form))
        return out

    # -- prose ------------------------------------------------------------------------
    def _inline(self, frag: Frag) -> str:
        return frag if isinstance(frag, str) else frag.render(wrap_line=False)

    def _escape(self, text: str) -> str:
        return text if self.unicode else text.translate(ASCII)

    _tm = _escape

    def _loud(self, text: str) -> str:
        return f"!! {text}"

    def _heading(self, text: str) -> str:
        return "  " * self._depth + text

    # -- layout -----------------------------------------------------------------------
    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        indent = "  " * self._depth
        body = indent + "  " if heading else indent
        out = [heading] if heading else []
        for run in self._runs(items):
            if isinstance(run, list):
                out += self._equations(run, indent + "  ")
            elif isinstance(run, Block):
                out.append(str(run))
            else:
                out.append(body + run)
        return "\n".join(out)

    def _equations(self, lines: Sequence[Line], indent: str) -> list[str]:
        """Equals signs aligned; a long chain continues on new lines under its "="."""
        lhs_width = max((len(ln.lhs) for ln in lines if isinstance(ln.lhs, str)), default=0)
        flat = [self._flat(line, lhs_width) for line in lines]
        width = max((len(f) for f in flat if f is not None and len(f) <= WIDTH), default=0)
        out = []
        for line, text in zip(lines, flat):
            if text is None:
                out += self._block(line, indent)
            elif len(text) <= WIDTH:
                reason = f"  {line.reason}" if line.reason else ""
                out.append((indent + text.ljust(width) + reason).rstrip())
            else:
                pad = " " * (lhs_width + 1)
                first, *rest = line.rhs
                out.append(f"{indent}{line.lhs.rjust(lhs_width)} = {first}")
                out += [f"{indent}{pad}= {r}" for r in rest]
                if line.reason:
                    out.append(f"{indent}{pad}  {line.reason}")
        return out

    def _flat(self, line: Line, lhs_width: int) -> str | None:
        """The equation on one line, or None when it has 2D pieces."""
        parts = [line.lhs, *line.rhs]
        if not all(isinstance(p, str) and "\n" not in p for p in parts):
            return None
        return " = ".join([line.lhs.rjust(lhs_width), *line.rhs])

    def _block(self, line: Line, indent: str) -> list[str]:
        form = self._hjoin([line.lhs, *line.rhs], " = ")
        if line.reason:
            form = self._hjoin([form, line.reason], "  ")
        text = form if isinstance(form, str) else form.render(wrap_line=False)
        return [(indent + row).rstrip() for row in text.split("\n")]

    def _document(self, blocks: Sequence[str]) -> str:
        return self.BLOCK_SEP.join(b for b in blocks if b) + "\n"
