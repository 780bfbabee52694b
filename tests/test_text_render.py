"""Text output: the 2D drawing is SymPy's, lines fit the width, ASCII is ASCII, results display.

1. The truth for the drawing is SymPy's own ``PrettyPrinter._print_Mul`` (which matcalc's
   ``TextPrettyPrinter`` replaces to avoid a slow import) drawn without matcalc's memo,
   with matcalc's names (ln, 1[z > 0], f′), over the scalar fuzz corpus of
   ``test_fuzz.py``: the expressions and their ``sympy.diff``.
2. Every line fits the width (80, or narrower) over every ``derivations/`` problem and a
   part of the fuzz corpus, except a single token with nowhere to break; the CLI follows
   ``COLUMNS`` and ``--width``.
3. ``--ascii`` output is pure ASCII over the same problems.
4. ``sympy.pretty``, ``sympy.latex`` (Jupyter) and ``repr`` of results show matcalc's
   notation, not its class names; ``str()`` stays SymPy's.
"""

from __future__ import annotations

import io
import re
import sys
import unicodedata
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.printer import Printer
from test_fuzz import DECLARED, FAST, FUZZ, VECTOR_CASES, X, scalar_tree, to_sympy, vector_text
from test_fuzz import to_text as fuzz_text

import matcalc
from matcalc import documents
from matcalc.cli import main
from matcalc.errors import MatcalcError
from matcalc.render import printing as render_printing
from matcalc.render.printing import TextPrettyPrinter, _canonical
from matcalc.render.text import fill

DERIVATIONS = Path(__file__).resolve().parent.parent / "derivations"


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
    """The drawing, with SymPy's global unicode switch as the printer's (as sympy.pretty does)."""
    previous = pretty_use_unicode(bool(printer._settings["use_unicode"]))
    try:
        out = printer._print(expr).render(wrap_line=False)
    finally:
        pretty_use_unicode(previous)
    # SymPy draws a product with "⋅" (U+22C5); matcalc's text has one dot, "·", everywhere
    return out.replace("⋅", "·") if isinstance(printer, SympyDrawing) else out


# one printer for the whole corpus, as a renderer shares one across a derivation: a memo
# that hands out forms SymPy then changes in place shows up as a wrong later drawing
SHARED = {
    True: TextPrettyPrinter({"use_unicode": True, "vectors": False}),
    False: TextPrettyPrinter({"use_unicode": False, "vectors": False}),
}


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
            ours = drawn(SHARED[uni], e)
            assert ours == drawn(reference, e), e
            assert uni or ours.isascii(), ours


def result_block(text: str) -> str:
    """The rows of the Result section, without its heading."""
    block = text.split("\nResult\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(row[2:] for row in block.split("\n"))


def test_issue_11_coefficients_stay_on_their_row() -> None:
    x = sympy.Symbol("x", real=True)
    sin, cos, exp = sympy.sin, sympy.cos, sympy.exp
    cases = [  # typed, the same by hand, a piece the garbled drawing lost
        ("sin(x)**3/3 + 2*sin(x)", sin(x) ** 3 / 3 + 2 * sin(x), "⎝2 + sin"),
        ("sin(x)**2*exp(cos(x))", sin(x) ** 2 * exp(cos(x)), "⎝2·cos(x) - sin"),
    ]
    name = "dy/dx = "
    for text, expr, piece in cases:
        d = matcalc.derive(text, "x")
        assert sympy.simplify(d.result - sympy.diff(expr, x)) == 0
        block = result_block(d.to_text())
        assert piece in block, block
        expected = drawn(SympyDrawing({"use_unicode": True, "vectors": False}), d.result)
        assert [r[len(name) :].rstrip() for r in block.split("\n")] == [
            r.rstrip() for r in expected.split("\n")
        ]
        ascii_block = result_block(d.to_text(unicode=False))
        assert "2" in ascii_block.split("\n")[-1], ascii_block


def test_a_negated_power_of_a_number_reads_as_typed() -> None:
    """-10**6*x**2 is stored unevaluated as (-1·10⁶)·x², which SymPy's str shows as it is."""
    for typed, line in [
        ("exp(-10**6*x**2)", "y = exp(-10⁶·x²)"),
        ("-2**3*x", "y = -2³·x"),
        ("x - 10**6*x**2", "y = x - 10⁶·x²"),
    ]:
        assert matcalc.derive(typed, "x").to_text().splitlines()[1].strip() == line
    assert "exp(-10^6*x^2)" in matcalc.derive("exp(-10**6*x**2)").to_text(unicode=False)


# -- 2. lines fit the width -------------------------------------------------------------------
def cols(line: str) -> int:
    """Terminal columns, counted here: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def unbreakable(line: str, width: int) -> bool:
    """A line may stick out only where one token, with nowhere to break it, does."""
    start = 0
    for token in line.split(" "):
        end = start + cols(token)
        if end > width and token and not any(c in token for c in "·*/,;(+"):
            return True
        start = end + 1
    return False


def assert_fits(text: str, width: int, *, ascii_only: bool = False, what: object = "") -> None:
    for line in text.split("\n"):
        assert cols(line) <= width or unbreakable(line, width), (what, width, line)
        if ascii_only:
            assert line.isascii(), (what, line)


def derivation_problems():
    for path in sorted(DERIVATIONS.glob("*.toml")):
        for exercise in documents.load(path).exercises:
            if not exercise.error:
                yield exercise


def derive_exercise(exercise):
    exprs = list(exercise.exprs) if len(exercise.exprs) > 1 else exercise.exprs[0]
    return matcalc.derive(
        exprs,
        exercise.wrt,
        vectors=exercise.vectors,
        matrices=exercise.matrices,
        layout=exercise.layout,
    )


def test_derivations_fit_80_columns_and_ascii_is_ascii() -> None:
    """Every problem of derivations/: 80 columns in Unicode, ASCII, and Chinese; --ascii is ASCII."""
    problems = list(derivation_problems())
    assert len(problems) >= 40
    for exercise in problems:
        d = derive_exercise(exercise)
        assert_fits(d.to_text(), 80, what=exercise.exprs)
        assert_fits(d.to_text(unicode=False), 80, ascii_only=True, what=exercise.exprs)
        assert_fits(d.to_text(lang="zh"), 80, what=exercise.exprs)


def test_narrow_widths_and_no_limit() -> None:
    d = matcalc.derive("v @ max(0, W @ x + b)", "W", vectors=["v", "x", "b"], matrices=["W"])
    for width in (40, 60):
        assert_fits(d.to_text(width=width), width, what=width)
        assert_fits(d.to_text(width=width, unicode=False), width, ascii_only=True, what=width)
    # no limit: the note is one line, as it was before wrapping
    unlimited = d.to_text(width=0)
    assert any(cols(line) > 150 for line in unlimited.split("\n"))
    assert unlimited.replace("\n", " ").split() == d.to_text().replace("\n", " ").split()


def test_a_2d_result_too_wide_is_printed_on_one_line() -> None:
    d = matcalc.derive(["sin(x*y)**2/(1 + x**2)", "exp(x/y)*ln(x + y)"], "x,y")
    wide = d.to_text(width=200)
    assert "⎡" in wide.split("\nResult\n")[1]  # drawn in 2D when there is room
    narrow = d.to_text(width=60)
    result = narrow.split("\nResult\n")[1].split("\n\n")[0]
    assert "⎡" not in result and result.startswith("  J = [")
    assert_fits(narrow, 60)
    # the one-line form is the linear printer's, entry by entry
    x, y = sympy.symbols("x y", real=True)
    truth = sympy.Matrix([sympy.sin(x * y) ** 2 / (1 + x**2), sympy.exp(x / y) * sympy.log(x + y)])
    assert sympy.simplify(sympy.Matrix(d.result) - truth.jacobian([x, y])) == sympy.zeros(2, 2)


def test_prose_fills_by_columns_and_keeps_math_whole() -> None:
    lines = fill("注意：max(0, z) 在 z = 0 处不可导。" * 4, "", "", 40)
    assert all(cols(line) <= 40 for line in lines)
    assert all(not line.startswith(("，", "。", "：")) for line in lines)
    assert "".join(lines).replace(" ", "") == ("注意：max(0,z)在z=0处不可导。" * 4)
    text = "and writes 1[z > 0] for the derivative of max(0, z); min is the same"
    for width in range(20, 60):
        lines = fill(text, "  ", "  ", width)
        assert " ".join(line.strip() for line in lines) == text
        assert all(cols(line) <= width for line in lines)
        assert not any(line.rstrip().endswith(("max(0,", "1[z", "1[z >")) for line in lines)
    assert fill("a " + "x" * 50 + " b", "", "", 20) == ["a", "x" * 50, "b"]
    # what fits on one line: the words one space apart (runs of spaces closed up), as when
    # the text is filled word by word; wide characters take two columns
    assert fill("  a  b c  ", "> ", "", 20) == ["> a b c"]
    assert fill("中文中文", "", "", 8) == ["中文中文"] and fill("中文中文", "", "", 7) == [
        "中文中",
        "文",
    ]
    assert fill("", "  ", "  ", 20) == [""]


def test_cli_width_follows_columns_and_the_option() -> None:
    args = ["derive", "max(0, w @ x + b)", "--vector", "w,x", "--wrt", "w"]
    for env, extra, width in (
        ({"COLUMNS": "80"}, [], 80),
        ({"COLUMNS": "50"}, [], 50),
        ({"COLUMNS": "200"}, ["--width", "44"], 44),
    ):
        result = CliRunner(env=env).invoke(main, args + extra)
        assert result.exit_code == 0, result.output
        assert_fits(result.stdout, width, what=(env, extra))
        assert max(cols(line) for line in result.stdout.split("\n")) > width - 10
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, [*args, "--width", "0"])
    assert max(cols(line) for line in result.stdout.split("\n")) > 120  # the kink note on one line
    # into a pipe or a file (CliRunner's stdout) without COLUMNS: 80, whatever the terminal
    result = CliRunner(env={"COLUMNS": None}).invoke(main, args)
    assert_fits(result.stdout, 80)
    assert max(cols(line) for line in result.stdout.split("\n")) > 70
    result = CliRunner().invoke(main, [*args, "--width", "-3"])
    assert result.exit_code == 2 and "--width" in result.output


def test_check_text_fits_the_width_too() -> None:
    args = [
        "check",
        "sum((y - max(0, X @ w + b))**2) / N",
        "--answer",
        "2*(X @ w - y) @ X",
        "--vector",
        "w",
        "--vector",
        "y:N",
        "--matrix",
        "X:N,n",
        "--wrt",
        "w",
    ]
    for env, extra, width in (
        ({"COLUMNS": "80"}, [], 80),
        ({"COLUMNS": "200"}, ["--width", "50"], 50),
    ):
        result = CliRunner(env=env).invoke(main, args + extra)
        assert "Check your answer" in result.stdout, result.output
        assert_fits(result.stdout, width, what=extra)
        assert_fits(
            CliRunner(env=env).invoke(main, [*args, *extra, "--ascii"]).stdout,
            width,
            ascii_only=True,
        )


@settings(max_examples=80, **FUZZ)
@given(scalar_tree(variables=("x", "y")))
def test_scalar_fuzz_corpus_fits_80_columns(tree) -> None:
    try:
        d = matcalc.derive(fuzz_text(tree), "x", timeout=FAST)
    except MatcalcError:
        return
    assert_fits(d.to_text(), 80, what=fuzz_text(tree))
    assert_fits(d.to_text(unicode=False), 80, ascii_only=True, what=fuzz_text(tree))


@settings(max_examples=120, **FUZZ)
@given(VECTOR_CASES)
def test_vector_fuzz_corpus_fits_80_columns(case) -> None:
    tree, wrt, *layout = case  # (tree, wrt, layout) since the fuzzer draws the layout too
    try:
        d = matcalc.derive(
            vector_text(tree), wrt, timeout=FAST, layout=(layout or ["numerator"])[0], **DECLARED
        )
    except MatcalcError:
        return
    assert_fits(d.to_text(), 80, what=vector_text(tree))
    assert_fits(d.to_text(unicode=False), 80, ascii_only=True, what=vector_text(tree))


# -- 4. results display in matcalc's notation --------------------------------------------------
_OPS = r"(VDot|VSum|Norm|MatVec|MatT|MMul|MTrace|Diag|Ident|Ones|T|Outer|OuterT|Kron|MatProd)"
CLASS_NAMES = re.compile(  # Name(…), Name{\left(…, \operatorname{Name}, SymPy's V̇ for VDot
    rf"\b{_OPS}(\(|\{{\\left)|operatorname\{{{_OPS}\}}|\\dot\{{V\}}|\\vec\{{Mat\}}|V̇|⃗"
)


def test_results_display_in_matcalcs_notation_everywhere() -> None:
    """sympy.pretty and sympy.latex (Jupyter's _repr_latex_) of every derivations/ result."""
    for exercise in derivation_problems():
        result = derive_exercise(exercise).result
        shown = [
            sympy.pretty(result),
            sympy.pretty(result, use_unicode=False),
            result._repr_latex_() if hasattr(result, "_repr_latex_") else sympy.latex(result),
            render_printing.pretty(result),
            render_printing.latex(result),
        ]
        for text in shown:
            assert not CLASS_NAMES.search(text), (exercise.exprs, text)
        assert not CLASS_NAMES.search(repr(derive_exercise(exercise)).split(" = ", 1)[1])


def test_an_element_wise_product_of_vectors_is_drawn_with_its_sign() -> None:
    """PrettyVectors._print_Mul: x ⊗ w in 2D as in linear text (SymPy's own draws x⋅w)."""
    from matcalc.symbols import VectorName

    x, w = VectorName("x"), VectorName("w")
    assert render_printing.pretty(sympy.Mul(x, w, evaluate=False)) == "x ⊗ w"
    assert render_printing.pretty(sympy.Mul(3, x, w, evaluate=False)) == "3·x ⊗ w"


def test_the_neuron_result_at_the_prompt_and_in_jupyter(monkeypatch) -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors=["w", "x"])
    # str() stays SymPy's, for machines: the hooks only change displays
    assert str(d.result) == sympy.StrPrinter().doprint(d.result)
    assert "·" not in str(d.result) and "ᵀ" not in str(d.result)
    assert sympy.pretty(d.result).endswith("xᵀ") and "w·x" in sympy.pretty(d.result)
    assert r"\mathbf{x}^{T}" in d.result._repr_latex_()
    assert "x^T" in sympy.pretty(d.result, use_unicode=False)
    # matcalc's own printers draw the whole result, the gate 1[·] included
    assert render_printing.pretty(d.result) == "𝟙[w·x + b > 0]·xᵀ"
    assert render_printing.pretty(d.result, use_unicode=False) == "1[dot(w, x) + b > 0]*x^T"
    assert render_printing.latex(d.result).startswith(
        r"\mathbb{1}\left[\mathbf{w} \cdot \mathbf{x} + b"
    )
    assert "= 𝟙[w·x + b > 0]·xᵀ (verified" in repr(d)
    # matcalc.init_printing(): SymPy's init_printing with these printers (the prompt here)
    from sympy.printing.printer import Printer

    monkeypatch.setattr(sys, "displayhook", sys.displayhook)
    monkeypatch.setattr(Printer, "_global_settings", dict(Printer._global_settings))
    matcalc.init_printing()
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    sys.displayhook(d.result)
    assert out.getvalue().strip() == "𝟙[w·x + b > 0]·xᵀ"


@pytest.mark.parametrize(
    "text, wrt, shown, tex",
    [
        ("x.T @ A @ x", "x", "y = xᵀAx", r"\mathbf{x}^{T} \mathbf{A} \mathbf{x}"),
        ("a @ X @ b", "X", "y = aᵀXb", r"\mathbf{a}^{T} \mathbf{X} \mathbf{b}"),
        ("a @ inv(X) @ b", "X", "y = aᵀ·X⁻¹·b", r"\mathbf{a}^{T} \mathbf{X}^{-1} \mathbf{b}"),
        ("(x + a) @ A @ b", "x", "y = (x + a)ᵀ·A·b", None),
        ("dot(A @ x, x)", "x", "y = (Ax)·x", None),  # not typed as a bilinear form: as typed
    ],
)
def test_a_bilinear_form_is_echoed_as_written(text, wrt, shown, tex):
    """a @ M @ b is aᵀMb in the echo and the steps, not (Mᵀa)·b (the tree it parses to)."""
    d = matcalc.derive(text, wrt, vectors="x,a,b", matrices="A,X")
    assert shown in d.to_text()
    if tex is not None:
        assert tex in d.to_latex()


@pytest.mark.parametrize(
    ("text", "wrt", "line"),
    [
        ("-y*log(p) - (1-y)*log(1-p)", "p", "f = -y·ln(p) - (1 - y)·ln(1 - p)"),
        ("k*exp(-k*t)", "k", "y = k·exp(-k·t)"),
        ("-(x + 1)*y", "x", "f = -(x + 1)·y"),
        ("x*(-y)", "x", "f = x·(-y)"),
    ],
)
def test_a_product_typed_with_a_leading_minus_prints_as_typed(text, wrt, line):
    """-y·ln(p), the cross-entropy as typed, printed as (-y)·ln(p): the parser's product
    has -y as its first factor, and SymPy's printer parenthesises a negative factor."""
    out = matcalc.derive(text, wrt).to_text()
    assert f"\n  {line}\n" in out


def test_the_imaginary_unit_is_not_printed_like_a_variable_named_i():
    """sqrt(-1)*x + I*x by x printed "I + I": SymPy's str() of √-1 is I, the name of the
    variable I too.  The line form writes ⅈ, as the 2D form does."""
    d = matcalc.derive("sqrt(-1)*x + I*x", "x")
    assert d.result_text == "ⅈ + I"


def test_a_long_line_is_broken_in_one_walk(monkeypatch):
    """Breaking a line measures each character about once: measuring every prefix anew made
    the components of a 3×3 inverse with --dim n=3 take 50 s to wrap."""
    from matcalc.render import text as text_module

    measured = []
    real = text_module.columns
    monkeypatch.setattr(text_module, "columns", lambda s: measured.append(len(s)) or real(s))
    line = " + ".join(f"A_{k % 9 + 1}{k % 7 + 1}·sin(x_{k})" for k in range(2000))
    cut = text_module._break(line, 80)
    assert cut is not None and real(line[:cut].rstrip()) <= 80
    assert line[cut:].startswith("+ A_")  # the next line starts at a top-level "+"
    assert sum(measured) < 400, sum(measured)  # the first line's worth, not 2000 terms


def test_the_inverse_components_at_n_3_are_written_in_time():
    from click.testing import CliRunner

    from matcalc.cli import main

    args = ["derive", "a @ inv(A) @ b", "--vector", "a,b", "--matrix", "A", "--wrt", "A"]
    result = CliRunner().invoke(main, [*args, "--dim", "n=3", "--timeout", "8"])
    assert result.exit_code == 0, result.output
    assert "A_11" in result.output.replace("₁₁", "_11")


def test_one_multiplication_dot_and_the_dot_product_as_the_paper_writes_it() -> None:
    """Learner brief §3: SymPy's 2D products drew "⋅" (U+22C5) next to matcalc's "·" in one
    result (2⋅((Xw + b - y) ⊗ 1[Xw + b > 0])ᵀ·X over N).  Now one dot, "·"; the dot product
    stays w·x, as the paper (and DESIGN.md's neuron, max(0, w·x + b)) writes it, with a
    compound operand in parentheses."""
    d = matcalc.derive(
        "sum((y - max(0, X @ w + b))**2) / N", "w", vectors=["w", "y:N"], matrices=["X:N,n"]
    )
    block = result_block(d.to_text())
    assert "⋅" not in d.to_text() and "2·((Xw + b - y) ⊗ 𝟙[Xw + b > 0])ᵀ·X" in block
    neuron = matcalc.derive("max(0, w @ x + b)", "w", vectors=["w", "x"]).to_text()
    assert "y = max(0, w·x + b)" in neuron and "wᵀx" not in neuron
    dots = matcalc.derive("sum(exp(x)) * dot(tan(x), cot(x))", "x", vectors=["x"]).to_text()
    assert "y = sum(exp(x))·(tan(x)·cot(x))" in dots
    assert (
        matcalc.derive("dot(w, x)", "w", vectors=["w", "x"])
        .to_text(unicode=False)
        .count("dot(w, x)")
    )


def test_a_factor_one_beside_the_indicator_does_not_read_as_eleven() -> None:
    """Learner brief §4: 1[w·x + b > 0]·1·𝟏ᵀ·diag(x) read as "11"; the indicator is the
    double-struck 𝟙 in Unicode text (2D too), and stays 1[…] in ASCII."""
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors=["w", "x"])
    text = d.to_text()
    assert "∂y/∂w = 𝟙[w·x + b > 0]·1·𝟏ᵀ·diag(x)" in text
    assert "1[" not in text.replace("𝟙[", "")
    assert "1[dot(w, x) + b > 0]*1*ones^T*diag(x)" in d.to_text(unicode=False)
    assert render_printing.pretty(sympy.Heaviside(sympy.Symbol("z"), 0)) == "𝟙[z > 0]"
    assert r"\mathbb{1}\left[" in d.to_markdown()


@pytest.mark.parametrize(
    "text,shown",
    [
        # by hand: ∂/∂xᵢ Σ √(xⱼ - 50) = 1/(2√(xᵢ - 50)), a row in numerator layout
        ("sum(sqrt(x - 50))", "∂y/∂x = (1/√(x - 50))ᵀ/2"),
        ("sum(ln(x))", "∂y/∂x = (1/x)ᵀ"),  # ∂ ln xᵢ/∂xᵢ = 1/xᵢ
        ("sum(x**3/3)", "∂y/∂x = (x²)ᵀ"),  # ∂ (xᵢ³/3)/∂xᵢ = xᵢ²
    ],
)
def test_a_transposed_power_or_quotient_is_in_parentheses(text, shown) -> None:
    """Red team 4: the row (1/√(x - 50))ᵀ/2 was printed 1/√(x - 50)ᵀ/2, where ᵀ binds to
    √(x - 50) alone (and x²ᵀ reads as x to the power 2ᵀ); LaTeX had the parentheses."""
    d = matcalc.derive(text, "x", vectors=["x"])
    assert shown in d.to_text(width=0)


def test_an_element_wise_product_over_a_quotient_keeps_its_sign() -> None:
    """Red team 4: x*w/y (element-wise) was printed x·w/y, and \\frac{x w}{y} in LaTeX, where
    x·w is the dot product; and the logistic loss's H·v, Xᵀ·(σ′ ⊗ Xv) written out (by hand:
    H = Xᵀ·diag(σ(Xw) ⊗ (1 - σ(Xw)))·X), was printed Xᵀ·((e^{Xw}/(…))·Xv), a dot product."""
    d = matcalc.derive("sum(x * w / y)", "w", vectors=["x", "w", "y"])
    text = d.to_text(width=0)
    assert "f = sum(x ⊗ w/y)" in text and "x·w" not in text
    assert r"\frac{\mathbf{x} \otimes \mathbf{w}}{\mathbf{y}}" in d.to_latex()
    assert "x * w/(y * x)" in matcalc.derive(
        "sum(x * w / (y * x))", "w", vectors=["x", "w", "y"]
    ).to_text(unicode=False, width=0)  # the whole product below the bar
    hvp = matcalc.derive(
        "sum(ln(1 + exp(X @ w)))", "w", vectors=["w", "v"], matrices=["X:N,n"], hvp="v"
    )
    result = hvp.to_text(width=0).split("Result")[1]
    assert "exp(Xw) ⊗ Xv/" in result and "·Xv" not in result


def test_a_matrix_product_beside_an_element_wise_product_is_grouped() -> None:
    """Red team 4: (W @ x + b) * (A.T @ w) * x was echoed (Wx + b) ⊗ Aᵀ·w ⊗ x, which also
    reads (… ⊗ Aᵀ)·(w ⊗ x); the product Aᵀ·w is one operand of ⊗, in parentheses (Xw,
    written without a dot, needs none)."""
    d = matcalc.derive(
        "sum((W @ x + b) * (A.T @ w) * x)", "x", vectors=["x", "w", "b"], matrices=["A", "W"]
    )
    assert "y = sum((Wx + b) ⊗ (Aᵀ·w) ⊗ x)" in d.to_text(width=0)
    d = matcalc.derive("sum((A @ x) * w)", "x", vectors=["x", "w"], matrices=["A"])
    assert "y = sum(Ax ⊗ w)" in d.to_text(width=0)


def test_the_diagonal_jacobian_rule_names_g_i_with_a_subscript() -> None:
    """Red team 4: the rule beside ∂y/∂g of a Jacobian said "its own g_i", an underscore in
    Unicode text and g\\_i in LaTeX; now gᵢ, g_{i} in LaTeX, g_i in ASCII."""
    d = matcalc.derive(["ln(x**2)", "sin(3*x)"], "x")
    assert "its own gᵢ," in d.to_text(width=0) and "g_i" not in d.to_text(width=0)
    assert "its own g_i," in d.to_text(unicode=False, width=0)
    for tex in (d.to_latex(), d.to_markdown()):
        assert r"its own g}_{i}" in tex and r"\_" not in tex


def test_a_power_of_a_matrix_product_is_in_parentheses() -> None:
    """Red team 4: sum((A.T @ x)**2) was echoed sum(Aᵀ·x²), exactly as sum(A.T @ x**2) is,
    and (A @ x)**2 as Ax² (A @ x^2 in ASCII, Ax with a ² above it in 2D); (w @ x)**2 was
    drawn w·x with a ² above it.  LaTeX had the parentheses: (Aᵀx)², (Ax)², (w·x)²."""
    declared = dict(vectors=["x", "w"], matrices=["A"])
    echo = {
        text: matcalc.derive(text, "x", **declared).to_text(width=0).split("\n")[1]
        for text in ("sum((A.T @ x)**2)", "sum(A.T @ x**2)", "sum((A @ x)**2)", "sum(1/(A @ x))")
    }
    assert echo["sum((A.T @ x)**2)"] == "  y = sum((Aᵀ·x)²)"
    assert echo["sum(A.T @ x**2)"] == "  y = sum(Aᵀ·x²)"
    assert echo["sum((A @ x)**2)"] == "  y = sum((Ax)²)"
    assert echo["sum(1/(A @ x))"] == "  y = sum(1/(Ax))"
    d = matcalc.derive("sum((A @ x)**2)", "x", **declared)
    assert "y = sum((A @ x)^2)" in d.to_text(unicode=False, width=0)
    assert "(Ax)" in render_printing.pretty(d.problem.exprs[0].args[0])
    dot = matcalc.derive("(w @ x)**2", "x", **declared).problem.exprs[0]
    assert "(w·x)" in render_printing.pretty(dot)


def test_a_quotient_in_a_matrix_product_is_in_parentheses() -> None:
    """Red team 4: A.T @ (1/(1 + exp(x))) was echoed Aᵀ·1/(exp(x) + 1), which reads
    (Aᵀ·1)/(exp(x) + 1) (and is that in Python: A^T @ 1/(exp(x) + 1) in ASCII); and
    (A @ x) * (B @ x) was A @ x * B @ x in ASCII, ((A @ x) * B) @ x to Python."""
    declared = dict(vectors=["x"], matrices=["A", "B"])
    d = matcalc.derive("A.T @ (1/(1 + exp(x)))", "x", **declared)
    assert "y = Aᵀ·(1/(exp(x) + 1))" in d.to_text(width=0)
    assert "y = A^T @ (1/(exp(x) + 1))" in d.to_text(unicode=False, width=0)
    d = matcalc.derive("sum((A @ x) * (B @ x))", "x", **declared)
    assert "y = sum(Ax ⊗ Bx)" in d.to_text(width=0)
    assert "y = sum((A @ x) * (B @ x))" in d.to_text(unicode=False, width=0)


def test_an_element_wise_product_below_the_bar_keeps_its_sign() -> None:
    """Red team 4: SymPy's (x - w)/((eˣ + 1)(eʷ + 1)) of vectors was printed
    (x - w)/((exp(x) + 1)·(exp(w) + 1)), a dot product below the bar, and x/(y*w) as
    \\frac{x}{y w} in LaTeX; the product below the bar is element-wise, ⊗."""
    d = matcalc.derive("sum(x - w + y)", "x", vectors=["x", "w", "y"])
    x, w, y = (decl.symbol for decl in d.problem.declarations)
    quotient = (x - w) / ((1 + sympy.exp(x)) * (1 + sympy.exp(w)))  # SymPy's own product
    text = render_printing.TextPrinter().doprint(quotient)
    assert text == "(x - w)/((exp(w) + 1) ⊗ (exp(x) + 1))", text  # SymPy orders the factors
    assert r"\otimes" in render_printing.latex(quotient)
    typed = matcalc.derive("sum(x / (y * w))", "x", vectors=["x", "w", "y"])
    assert r"\frac{\mathbf{x}}{\mathbf{y} \otimes \mathbf{w}}" in typed.to_latex()
    assert "f = sum(x/(y ⊗ w))" in typed.to_text(width=0)


def test_a_product_kept_below_the_bar_has_one_pair_of_parentheses():
    """Red team 4: sum(x/(2*y)) of vectors was echoed x/((2y)) (SymPy's own str adds a pair for
    a Pow(-1) of a product on top of its parenthesize)."""
    d = matcalc.derive("sum(x/(2*y))", "x", vectors=["x", "y"])
    assert "x/(2y)" in d.to_text() and "((" not in d.to_text()
    assert "x/(2*y)" in d.to_text(unicode=False)


def test_prose_that_moves_to_a_new_line_fits_it():
    """Red team 5: filling the substitution sentence of an H·v, a break inside brackets moved
    back to the last one outside them, 'u₂₂ =', and the math that moved on was wider than
    its own line (88 columns of 80); now the line breaks where it is when what would move on
    does not fit.  The sentence is that of softmax(max(0, sigmoid(A @ x + b))**2) @ b by x
    with --hvp v."""
    from matcalc.render.text import columns, fill

    s = "σ(Ax + b)"
    text = (
        f"Substitute u₂₀ = Aᵀ·({s}² ⊗ 𝟙[{s} > 0] ⊗ b ⊗ exp({s}²) ⊗ (1 - {s})), u₂₂ = "
        f"Aᵀ·({s}² ⊗ 𝟙[{s} > 0] ⊗ exp({s}²) ⊗ ({s} - 1))·(b·exp(max(0, {s})²)) + "
        f"Aᵀ·({s}² ⊗ 𝟙[{s} > 0] ⊗ b ⊗ exp({s}²) ⊗ (1 - {s}))·sum(exp(max(0, {s})²)):"
    )
    lines = fill(text, "    ", "    ", 80)
    assert max(columns(line) for line in lines) <= 80, lines
    assert " ".join(" ".join(lines).split()) == " ".join(text.split())  # nothing lost
