"""Text output: the 2D drawing is SymPy's, lines fit the width, ASCII is ASCII, results display.

The truth for the drawing is SymPy's own ``PrettyPrinter._print_Mul`` (which matcalc's
``TextPrettyPrinter`` replaces to avoid a slow import) drawn without matcalc's memo, over
the scalar fuzz corpus of ``test_fuzz.py``: the expressions and their ``sympy.diff``.
"""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.printer import Printer
from test_fuzz import FUZZ, X, scalar_tree, to_sympy

import matcalc
from matcalc.render.printing import TextPrettyPrinter, _canonical


# -- 1. the 2D drawing -------------------------------------------------------------------------
class SympyDrawing(TextPrettyPrinter):
    """matcalc's names (ln, 1[z > 0], f′) drawn by SymPy's own code: no memo, SymPy's products."""

    def _print(self, expr, **kwargs):
        return Printer._print(self, expr, **kwargs)

    def _print_Mul(self, expr):
        # the order matcalc chooses (typed products as typed, SymPy's own as SymPy orders them)
        settings = self._settings
        saved, settings["order"] = settings["order"], None if _canonical(expr) else "none"
        try:
            return PrettyPrinter._print_Mul(self, expr)
        finally:
            settings["order"] = saved


def drawn(printer, expr) -> str:
    return printer._print(expr).render(wrap_line=False)


# one printer for the whole corpus, as a renderer shares one across a derivation: a memo
# that hands out forms SymPy then changes in place shows up as a wrong later drawing
SHARED = {True: TextPrettyPrinter({"use_unicode": True, "vectors": False}),
          False: TextPrettyPrinter({"use_unicode": False, "vectors": False})}


@settings(max_examples=300, **FUZZ)
@given(scalar_tree(variables=("x", "y")))
def test_drawing_is_sympys_over_the_scalar_fuzz_corpus(tree) -> None:
    try:
        expr = to_sympy(tree)
        derivative = sympy.diff(expr, X)
    except (TypeError, ValueError, ArithmeticError):
        return
    for e in (expr, derivative):
        for uni in (True, False):
            reference = SympyDrawing({"use_unicode": uni, "vectors": False})
            assert drawn(SHARED[uni], e) == drawn(reference, e), e


def result_block(text: str) -> str:
    """The rows of the Result section, without its heading."""
    block = text.split("\nResult\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(row[2:] for row in block.split("\n"))


def test_issue_11_coefficients_stay_on_their_row() -> None:
    x = sympy.Symbol("x", real=True)
    sin, cos, exp = sympy.sin, sympy.cos, sympy.exp
    cases = [  # typed, the same by hand, a piece the garbled drawing lost
        ("sin(x)**3/3 + 2*sin(x)", sin(x) ** 3 / 3 + 2 * sin(x), "⎝2 + sin"),
        ("sin(x)**2*exp(cos(x))", sin(x) ** 2 * exp(cos(x)), "+ 2⋅cos(x)"),
    ]
    name = "dy/dx = "
    for text, expr, piece in cases:
        d = matcalc.derive(text, "x")
        assert sympy.simplify(d.result - sympy.diff(expr, x)) == 0
        block = result_block(d.to_text())
        assert piece in block, block
        expected = drawn(SympyDrawing({"use_unicode": True, "vectors": False}), d.result)
        assert [r[len(name):].rstrip() for r in block.split("\n")] == [
            r.rstrip() for r in expected.split("\n")
        ]
        ascii_block = result_block(d.to_text(unicode=False))
        assert "2" in ascii_block.split("\n")[-1], ascii_block
