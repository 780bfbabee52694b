"""Renderers: the same derivation in text, Markdown, LaTeX and JSON.

Derivations are built from the scalar engine (``derive_scalar``) plus a hand-made
``Verify`` step, or by hand for gradients, Jacobians and the vector chain rule,
so these tests depend on the engine's steps but not on the parser or the API.
"""

from __future__ import annotations

import json
import re

import pytest
import sympy
from sympy import (
    Abs,
    Add,
    Derivative,
    Dummy,
    Function,
    Heaviside,
    ImmutableMatrix,
    Max,
    Mul,
    Pow,
    Subs,
    Symbol,
    cos,
    diag,
    log,
    sign,
    sin,
)

import matcalc
from matcalc.api import derive
from matcalc.derivation import Derivation
from matcalc.engine.scalar import derive_scalar
from matcalc.functions import sigmoid
from matcalc.problem import KINDS, LAYOUTS
from matcalc.render.base import Renderer, sections
from matcalc.render.json import JsonRenderer
from matcalc.render.latex import LatexRenderer, escape_prose, text_in_math
from matcalc.render.markdown import MarkdownRenderer
from matcalc.render.messages import CATALOGUES, EN, Prose, message, rule_name
from matcalc.render.printing import MathLatexPrinter, TextPrinter
from matcalc.render.text import TextRenderer
from matcalc.steps import (
    Assemble,
    ChainRule,
    DerivativeName,
    Intermediate,
    LocalDerivative,
    Part,
    Problem,
    Step,
    Verify,
)
from matcalc.symbols import VectorName

x, y, z = sympy.symbols("x y z", real=True)
f_out = Symbol("f", real=True)
y_out = Symbol("y", real=True)
u = [Symbol(f"u_{k}", real=True) for k in range(1, 5)]


def P(base, exp):
    return Pow(base, exp, evaluate=False)


def scalar(expr, text, wrt=x, *, status=True, method="symbolic", points=0):
    """A Derivation of d(expr)/d(wrt) from the scalar engine, with a Verify step."""
    others = expr.free_symbols - {wrt}
    output = f_out if others else y_out
    steps, result = derive_scalar(
        expr, wrt, output=output, partial=bool(others), taken=set(expr.free_symbols)
    )
    reference = sympy.diff(expr.doit(), wrt)
    check = Verify(status=status, method=method, reference=reference, points=points)
    problem = Problem(
        text=(text,), exprs=(expr,), wrt=(wrt,), kind="derivative",
        layout="numerator", output=output,
    )  # fmt: skip
    return Derivation(problem=problem, steps=(*steps, check), result=result)


LN = log(P(sin(P(x, 3)), 2), evaluate=False)
SIN_SUM = sin(Add(x, P(x, 2), evaluate=False), evaluate=False)


@pytest.fixture(scope="module")
def ln_d():
    return scalar(LN, "ln(sin(x**3)**2)")


@pytest.fixture(scope="module")
def sum_d():
    return scalar(SIN_SUM, "sin(x + x**2)")


def gradient(layout="numerator"):
    expr = Mul(3, P(x, 2), y, evaluate=False)
    parts = []
    for wrt in (x, y):
        steps, result = derive_scalar(expr, wrt, output=f_out, partial=True, taken={x, y})
        parts.append(Part(of=f_out, expr=expr, wrt=wrt, steps=steps, result=result))
    value = ImmutableMatrix([[6 * x * y, 3 * x**2]])
    names = (tuple(DerivativeName(of=f_out, wrt=w, partial=True) for w in (x, y)),)
    if layout == "denominator":
        value, names = value.T, tuple((n,) for n in names[0])
    shape = "1×2" if layout == "numerator" else "2×1"
    assemble = Assemble(of=f_out, shape=shape, layout=layout, entries=names, value=value)
    check = Verify(status=True, method="symbolic", reference=value)
    problem = Problem(
        text=("3*x**2*y",), exprs=(expr,), wrt=(x, y), kind="gradient",
        layout=layout, output=f_out,
    )  # fmt: skip
    return Derivation(problem=problem, steps=(*parts, assemble, check), result=value)


def vector_chain():
    """§4.5.3: g = [x², 3x]ᵀ, f = [ln(g₁), sin(g₂)]ᵀ, ∂f/∂x = ∂f/∂g · ∂g/∂x."""
    g, fv = VectorName("g", real=True), VectorName("f", real=True)
    g1, g2 = sympy.symbols("g_1 g_2", real=True)
    g_value = ImmutableMatrix([x**2, 3 * x])
    dfdg = ImmutableMatrix(diag(1 / g1, cos(g2)))
    dgdx = ImmutableMatrix([2 * x, 3])
    result = ImmutableMatrix([2 / x, 3 * cos(3 * x)])
    steps = (
        Intermediate(name=g, definition=g_value, depends_on=(x,)),
        Intermediate(name=fv, definition=ImmutableMatrix([log(g1), sin(g2)]), depends_on=(g,)),
        LocalDerivative(of=g, wrt=x, expr=g_value, value=dgdx, rule="power rule"),
        LocalDerivative(
            of=fv, wrt=g, expr=ImmutableMatrix([log(g1), sin(g2)]), value=dfdg,
            rule="element-wise derivative", partial=True,
        ),
        ChainRule(
            of=fv, wrt=x, factors=(DerivativeName(of=fv, wrt=g, partial=True),
                                   DerivativeName(of=g, wrt=x)),
            factor_values=(dfdg, dgdx), value=result, partial=True, vector=True,
        ),
        Verify(status=True, method="numeric", reference=result, points=5),
    )  # fmt: skip
    problem = Problem(
        text=("[ln(x**2), sin(3*x)]",), exprs=(ImmutableMatrix([log(x**2), sin(3 * x)]),),
        wrt=(x,), kind="jacobian", layout="numerator", output=fv,
    )  # fmt: skip
    return Derivation(problem=problem, steps=steps, result=result)


def all_derivations():
    fg = Function("f")(Function("g")(x))
    return [
        scalar(LN, "ln(sin(x**3)**2)"),
        scalar(SIN_SUM, "sin(x + x**2)"),
        scalar(Mul(x, P(x, 2), evaluate=False), "x*x**2"),
        scalar(Mul(3, P(x, 2), y, evaluate=False), "3*x**2*y"),
        scalar(P(x, 3), "x**3"),
        scalar(fg, "f(g(x))"),
        scalar(Max(0, Add(Mul(3, x), 1, evaluate=False), evaluate=False), "max(0, 3*x + 1)"),
        scalar(P(sigmoid(x), 2), "sigmoid(x)**2"),
        scalar(Mul(Abs(x), x, evaluate=False), "abs(x)*x"),
        gradient(),
        gradient("denominator"),
        vector_chain(),
    ]


FORMATS = {
    "text": lambda d, lang="en": TextRenderer(lang=lang).render(d),
    "ascii": lambda d, lang="en": TextRenderer(unicode=False, lang=lang).render(d),
    "markdown": lambda d, lang="en": MarkdownRenderer(lang=lang).render(d),
    "latex": lambda d, lang="en": LatexRenderer(lang=lang).render(d),
    "math": lambda d, lang="en": LatexRenderer(lang=lang).render_math(d),
}
LEAKS = ("Derivative(", "Subs(", "Dummy", "_x", "Heaviside", "log(", "placeholder", "Matrix(")


def in_order(text, pieces):
    """Each piece occurs in ``text`` after the previous one."""
    start = 0
    for piece in pieces:
        found = text.find(piece, start)
        assert found >= 0, (piece, text[start:])
        start = found + len(piece)


# -- content: the paper's ln(sin(x³)²) --------------------------------------------------
INTERMEDIATES = {
    "text": ["u₁ = x³", "u₂ = sin(u₁)", "u₃ = u₂²", "y = u₄ = ln(u₃)"],
    "ascii": ["u_1 = x^3", "u_2 = sin(u_1)", "u_3 = u_2^2", "y = u_4 = ln(u_3)"],
    "markdown": [
        "u_{1} &= x^{3}",
        r"u_{2} &= \sin{\left(u_{1} \right)}",
        "u_{3} &= u_{2}^{2}",
        r"y = u_{4} &= \ln{\left(u_{3} \right)}",
    ],
}
INTERMEDIATES["latex"] = INTERMEDIATES["math"] = INTERMEDIATES["markdown"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_intermediates_in_order(ln_d, fmt):
    in_order(FORMATS[fmt](ln_d), INTERMEDIATES[fmt])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_rule_names_and_sections_in_order(ln_d, fmt):
    out = FORMATS[fmt](ln_d)
    in_order(out, ["power rule", "derivative of sin", "power rule", "derivative of ln"])
    titles = ["Introduce intermediate variables", "Differentiate each", "chain rule",
              "Substitute", "Simplify", "Result", "Verified"]  # fmt: skip
    in_order(out, titles)


def test_text_chain_rule_substitute_simplify(ln_d):
    out = ln_d.to_text()
    assert "du₁/dx = d/dx (x³) = 3x²" in out
    assert "dy/dx = du₄/du₃ · du₃/du₂ · du₂/du₁ · du₁/dx" in out
    in_order(out, [
        "= (1/u₃)·(2u₂)·cos(u₁)·(3x²)",
        "Substitute u₁ = x³, u₂ = sin(x³), u₃ = sin(x³)²",
        "dy/dx = (1/sin(x³)²)·(2sin(x³))·cos(x³)·(3x²)",
        "dy/dx = 6x²·cos(x³)/sin(x³)",
        "Verified: equal to SymPy's derivative (symbolic check).",
    ])  # fmt: skip
    assert "────" in out  # the result is drawn in 2D


@pytest.mark.parametrize("fmt", ["markdown", "latex", "math"])
def test_latex_chain_rule_substitute_simplify(ln_d, fmt):
    out = FORMATS[fmt](ln_d)
    in_order(out, [
        r"\frac{d y}{d x} &= \frac{d u_{4}}{d u_{3}} \cdot \frac{d u_{3}}{d u_{2}}",
        r"&= \frac{1}{u_{3}} \cdot 2 u_{2} \cdot \cos{\left(u_{1} \right)} \cdot 3 x^{2}",
        r"\frac{1}{\sin^{2}{\left(x^{3} \right)}} \cdot 2 \sin{\left(x^{3} \right)}",
        r"\frac{6 x^{2} \cos{\left(x^{3} \right)}}{\sin{\left(x^{3} \right)}}",
    ])  # fmt: skip
    assert r"\text{(power rule)}" in out


def test_ascii_text_is_pure_ascii():
    for d in all_derivations():
        out = d.to_text(unicode=False)
        assert out.isascii(), [c for c in out if not c.isascii()]


# -- total-derivative chain rule ----------------------------------------------------------
def test_total_derivative_text(sum_d):
    out = sum_d.to_text()
    assert "∂u₂/∂x = ∂/∂x (x + u₁) = 1" in out
    assert "(sum rule, u₁ held constant)" in out
    assert "du₂/dx = ∂u₂/∂x + ∂u₂/∂u₁ · du₁/dx = 1 + 1·(2x) = 1 + 2x" in out
    assert "du₃/dx = du₃/du₂ · du₂/dx = cos(u₂)·(1 + 2x)" in out
    assert "total-derivative chain rule" in out
    assert "dy/dx = (1 + 2x)·cos(x + x²)" in out


def test_total_derivative_latex(sum_d):
    out = sum_d.to_markdown()
    assert (
        r"\frac{d u_{2}}{d x} &= \frac{\partial u_{2}}{\partial x} + "
        r"\frac{\partial u_{2}}{\partial u_{1}} \cdot \frac{d u_{1}}{d x}"
    ) in out
    assert r"\text{(sum rule, }u_{1}\text{ held constant)}" in out


def test_direct_rule_with_held_constant():
    d = scalar(Mul(3, P(x, 2), y, evaluate=False), "3*x**2*y")
    out = d.to_text()
    assert "partial derivative with respect to x" in out
    assert "∂f/∂x = ∂/∂x (3x²·y) = 6x·y" in out
    assert "(constant multiple rule, power rule, y held constant)" in out
    assert "Step 1 — Differentiate" in out


def test_undefined_functions_and_kink():
    d = scalar(Function("f")(Function("g")(x)), "f(g(x))")
    assert "dy/dx = f′(g(x))·g′(x)" in d.to_text()
    assert "f'(g(x))*g'(x)" in d.to_text(unicode=False)
    assert r"f'\left(g{\left(x \right)}\right) g'\left(x\right)" in d.to_markdown()
    kink = scalar(Max(0, Add(Mul(3, x), 1, evaluate=False), evaluate=False), "max(0, 3*x+1)")
    text = kink.to_text()
    in_order(text, ["Note: max(0, 3x + 1) has no derivative where 3x + 1 = 0", "Step 1"])
    assert "the step 𝟙[3x + 1 > 0] to be 0, as the paper does for max(0, z)." in " ".join(
        text.split()
    )
    assert "dy/du = d/du max(0, u) = 𝟙[u > 0]" in text
    assert r"\mathbb{1}\left[u > 0\right]" in kink.to_markdown()
    # amssymb has no blackboard 1, and \mathbf{1} is the ones vector: a double 1
    assert r"\mathrm{1\!\!1}\left[u > 0\right]" in kink.to_latex()


@pytest.mark.parametrize("fmt", ["text", "ascii", "markdown", "latex", "math"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_sympy_internals_leak(fmt, lang):
    for d in all_derivations():
        out = FORMATS[fmt](d, lang)
        assert not [leak for leak in LEAKS if leak in out], out


# -- Markdown ---------------------------------------------------------------------------
def markdown_blocks(out):
    lines = out.split("\n")
    fences = [i for i, line in enumerate(lines) if line.strip() == "$$"]
    assert len(fences) % 2 == 0
    return lines, list(zip(fences[::2], fences[1::2]))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_rules(lang):
    for d in all_derivations():
        out = d.to_markdown(lang=lang)
        lines, blocks = markdown_blocks(out)
        assert blocks
        for start, end in blocks:
            assert start == 0 or lines[start - 1] == "", "blank line before $$"
            assert end == len(lines) - 1 or lines[end + 1] == "", "blank line after $$"
            body = lines[start + 1 : end]
            assert body[0] == r"\begin{aligned}" and body[-1] == r"\end{aligned}"
            assert all(line.strip() for line in body), "no blank line inside $$"
            # one matrix row (and one aligned row) per line
            assert all(line.count(r"\\") <= 1 for line in body)
            assert all(not line.strip(" \\").endswith("&") for line in body)
        math_lines = {i for s, e in blocks for i in range(s, e + 1)}
        prose = [line for i, line in enumerate(lines) if i not in math_lines]
        assert not [p for p in prose if re.match(r"\s*([-*+] |\d+[.)] |#)", p)], "no lists"
        assert not re.search(r"<[A-Za-z/]", out), "no HTML"
        assert "$$" not in "".join(prose)
        assert "**Result**" in out or "**结果**" in out


def test_markdown_matrix_one_row_per_line():
    out = gradient().to_markdown()
    assert "\\begin{bmatrix}\n6 x y & 3 x^{2}\n\\end{bmatrix}" in out
    out = vector_chain().to_markdown()
    assert "\\begin{bmatrix}\n\\frac{1}{g_{1}} & 0 \\\\\n0 & \\cos{\\left(g_{2} \\right)}" in out


def test_markdown_titles_are_bold_paragraphs(ln_d):
    out = ln_d.to_markdown()
    assert "\n**Step 1 — Introduce intermediate variables**\n" in out
    assert "Differentiate with respect to $x$:" in out


# -- LaTeX ------------------------------------------------------------------------------
def test_latex_fragment_and_standalone_are_ascii():
    for d in all_derivations():
        fragment = d.to_latex()
        assert fragment.isascii(), [c for c in fragment if not c.isascii()]
        assert r"\documentclass" not in fragment and r"\begin{align*}" in fragment
        doc = d.to_latex(standalone=True)
        assert doc.startswith("\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n")
        assert "\\usepackage{amssymb}" in doc and doc.rstrip().endswith(r"\end{document}")
        assert doc.isascii()


def test_latex_escapes_prose():
    assert escape_prose("50% of u_1 & {x} # $ σ — |x| < 1") == (
        r"50\% of u\_1 \& \{x\} \# \$ $\sigma$ --- $|$x$|$ $<$ 1"
    )
    assert text_in_math("(derivative of |x| (sign))") == (
        r"\text{(derivative of }| \text{x}| \text{ (sign))}"
    )


def test_render_math_for_jupyter(ln_d):
    out = ln_d._repr_latex_()
    assert out.startswith("$$\\begin{aligned}\n") and out.endswith("\\end{aligned}$$")
    assert r"&& \text{(power rule)}" in out
    assert "$" not in out[2:-2]
    assert r"& \text{Step 1}\quad \text{Introduce intermediate variables} \\" in out


# -- JSON -------------------------------------------------------------------------------
REQUIRED = {
    "intermediate": {"name", "definition"},
    "local_derivative": {"of", "wrt", "value", "rule"},
    "chain_rule": {"of", "wrt", "value", "factors", "factor_values"},
    "total_derivative": {"of", "wrt", "value", "terms"},
    "substitute": {"before", "after"},
    "simplify": {"before", "after"},
    "verify": {"status", "method"},
}


def test_json_round_trip():
    for d in all_derivations():
        data = json.loads(JsonRenderer().render(d))
        assert data == d.to_dict()
        assert {"input", "wrt", "kind", "layout", "result", "result_latex", "verified",
                "steps"} <= set(data)  # fmt: skip
        names = {str(s): s for s in d.result.free_symbols} | {"sigmoid": sigmoid}
        parsed = sympy.parse_expr(data["result"], local_dict=names)
        assert sympy.ImmutableMatrix([parsed]).shape == sympy.ImmutableMatrix([d.result]).shape
        difference = sympy.ImmutableMatrix([parsed]) - sympy.ImmutableMatrix([d.result])
        assert all(sympy.simplify(entry) == 0 for entry in difference)
        assert data["verified"] is True
        for step in data["steps"]:
            assert {"kind", "rule", "explanation", "latex"} <= set(step)
            assert REQUIRED.get(step["kind"], set()) <= set(step), step["kind"]
            assert step["explanation"]


def test_json_fields(ln_d, sum_d):
    data = ln_d.to_dict()
    assert data["input"] == "ln(sin(x**3)**2)" and data["wrt"] == ["x"]
    assert data["kind"] == "derivative" and data["layout"] == "numerator"
    kinds = [s["kind"] for s in data["steps"]]
    assert kinds == ["intermediate"] * 4 + ["local_derivative"] * 4 + [
        "chain_rule", "substitute", "simplify", "verify"]  # fmt: skip
    chain = data["steps"][8]
    assert chain["factors"][0] == {"of": "u_4", "wrt": "u_3", "partial": False}
    assert chain["factor_values"] == ["1/u_3", "2*u_2", "cos(u_1)", "3*x**2"]
    assert chain["rule"] == "chain rule"
    assert data["steps"][4]["latex"].startswith(r"\frac{d u_{1}}{d x} = ")
    assert data["steps"][3]["output"] == "y"
    total = sum_d.to_dict()["steps"][-3]
    assert total["terms"] == [{"via": "u_2", "partial_value": "cos(u_2)",
                               "total_value": "2*x + 1"}]  # fmt: skip
    assert gradient("denominator").to_dict()["result"] == "Matrix([[6*x*y], [3*x**2]])"
    nested = gradient().to_dict()["steps"][0]
    assert nested["kind"] == "part" and nested["steps"][0]["kind"] == "local_derivative"
    assert JsonRenderer(lang="zh").to_dict(ln_d)["steps"][4]["explanation"].startswith("求")


# -- verification, parts and layouts ------------------------------------------------------
def test_verification_lines():
    assert "(numeric check at 7 points)" in scalar(
        LN, "ln", method="numeric", points=7).to_text()  # fmt: skip
    undecided = scalar(LN, "ln", status=None)
    assert "Not verified: SymPy could not decide" in undecided.to_text()
    failed = scalar(LN, "ln", status=False)
    assert "NOT VERIFIED — this is a bug" in failed.to_text()
    assert "**NOT VERIFIED — this is a bug" in failed.to_markdown()
    assert r"\textbf{NOT VERIFIED --- this is a bug" in failed.to_latex()
    assert failed.to_dict()["verified"] is False


def test_gradient_parts_and_assemble():
    out = gradient().to_text()
    in_order(out, ["Find the gradient with respect to x, y:", "Layout: numerator",
                   "Partial derivative ∂f/∂x", "  Step 1 — Differentiate",
                   "Partial derivative ∂f/∂y", "Assemble the gradient",
                   "In numerator layout the gradient is a 1×2 row.", "∇f = [∂f/∂x  ∂f/∂y] = ",
                   "Result"])  # fmt: skip
    md = gradient().to_markdown()
    assert "**Partial derivative $\\frac{\\partial f}{\\partial x}$**" in md
    assert "*Step 1 — Differentiate*" in md
    denominator = gradient("denominator").to_text()
    assert "In denominator layout the gradient is a 2×1 column" in denominator
    assert "Layout: denominator" in denominator


def test_vector_chain_rule_renders_matrices():
    d = vector_chain()
    text = d.to_text()
    assert "Combine with the vector chain rule" in text
    assert "⎡" in text and "∂𝐟/∂x" not in text  # 2D matrices; names stay plain
    md = d.to_markdown()
    names = r"\frac{\partial \mathbf{f}}{\partial \mathbf{g}} \, \frac{d \mathbf{g}}{d x}"
    assert r"\frac{\partial \mathbf{f}}{\partial x} &= " + names in md
    assert md.count(r"\begin{bmatrix}") >= 5
    assert "(numeric check at 5 points)" in text


# -- the visitor, sections, catalogue and printers ----------------------------------------
def test_unknown_step_is_a_type_error(ln_d):
    class Strange(Step):
        kind = "strange"

    with pytest.raises(TypeError, match="TextRenderer cannot render Strange"):
        TextRenderer()._render(Strange())
    assert JsonRenderer()._render(Strange())["kind"] == "strange"  # JSON is generic
    assert issubclass(TextRenderer, Renderer)


def test_sections_group_consecutive_steps(ln_d, sum_d):
    assert [s.key for s in sections(ln_d.steps)] == [
        "intermediates",
        "derivatives",
        "combine",
        "substitute",
        "simplify",
        "verify",
    ]
    assert [len(s.steps) for s in sections(sum_d.steps)][:3] == [3, 4, 2]
    assert [s.key for s in sections(gradient().steps)] == ["part", "part", "assemble", "verify"]


def test_catalogues_are_complete():
    for lang, catalogue in CATALOGUES.items():
        missing = [k for k in EN if k not in catalogue]
        assert not missing, (lang, missing)
        for key, template in catalogue.items():
            if key in EN:
                placeholders = set(re.findall(r"\{(\w+)\}", EN[key]))
                assert placeholders == set(re.findall(r"\{(\w+)\}", template)), (lang, key)


def test_messages_and_rule_names():
    assert message("step", n=2, title="Simplify") == "Step 2 — Simplify"
    assert message("reason", "en", escape=str.upper, rule=Prose("sum rule")) == "(SUM RULE)"
    assert message("reason", "en", escape=str.upper, rule="$x$") == "($x$)"
    assert rule_name("power rule", "zh") == "幂法则"
    assert rule_name("constant multiple rule, power rule", "zh") == "常数倍法则，幂法则"
    assert rule_name("derivative of sin", "zh") == "sin 的导数"
    assert rule_name("derivative of an unknown function f", "zh") == "未知函数 f 的导数"
    assert rule_name("some new rule", "zh") == "some new rule"
    with pytest.raises(ValueError, match="unknown language"):
        message("step", "xx", n=1, title="t")
    zh = scalar(LN, "ln").to_text(lang="zh")
    for word in ("引入中间变量", "链式法则", "幂法则", "第 1 步"):
        assert word in zh


def test_printers():
    t, a, tex = TextPrinter(), TextPrinter({"unicode": False}), MathLatexPrinter()
    typed = Add(x, P(x, 2), evaluate=False)
    assert (t.doprint(typed), a.doprint(typed), tex.doprint(typed)) == ("x + x²", "x + x^2",
                                                                        "x + x^{2}")  # fmt: skip
    assert t.doprint(6 * x**2 * cos(x**3) / sin(x**3)) == "6x²·cos(x³)/sin(x³)"
    assert t.doprint(3 * x**2 * y) == "3x²·y" and a.doprint(3 * x**2 * y) == "3*x^2*y"
    # the double-struck 𝟙 in Unicode (1·𝟙[z > 0] is not 11), 1 in ASCII
    assert t.doprint(Heaviside(z, 0)) == "𝟙[z > 0]" and a.doprint(Heaviside(z)) == "1[z > 0]"
    assert tex.doprint(Heaviside(z, 0)) == r"\mathbb{1}\left[z > 0\right]"
    assert tex.doprint(sign(x)) == r"\operatorname{sign}\left(x\right)"
    assert (t.doprint(sigmoid(x)), a.doprint(sigmoid(x))) == ("σ(x)", "sigmoid(x)")
    assert tex.doprint(sigmoid(x) ** 2) == r"\sigma\left(x\right)^{2}"
    assert (t.doprint(log(x)), tex.doprint(log(x))) == ("ln(x)", r"\ln{\left(x \right)}")
    assert (t.doprint(sympy.sqrt(x)), t.doprint(Abs(x))) == ("√(x)", "|x|")
    assert tex.doprint(VectorName("g")) == r"\mathbf{g}"
    fa, ga = Function("f"), Function("g")
    chain = sympy.diff(fa(ga(x)), x)
    assert t.doprint(chain) == "f′(g(x))·g′(x)"
    assert tex.doprint(Derivative(fa(x), x)) == r"f'\left(x\right)"
    xi = Dummy("xi")
    assert a.doprint(Subs(Derivative(fa(xi), xi), xi, ga(x))) == "f'(g(x))"
    assert "Subs" not in tex.doprint(Subs(Derivative(fa(xi), xi), xi, ga(x)))
    assert t.doprint(Symbol("u_12")) == "u₁₂" and tex.doprint(Symbol("u_12")) == "u_{12}"
    assert t.doprint(ImmutableMatrix([x**2, 3 * x])) == "[x², 3x]ᵀ"


def test_every_kind_and_layout_has_its_sentences_in_every_language():
    """The vocabulary of ``matcalc.problem``: what ``derive`` returns, and the catalogue."""
    kinds = {
        derive("x**2").problem.kind,
        derive("x*y", "x,y").problem.kind,
        derive(["x*y", "x + y"], "x,y").problem.kind,
        derive("w * x", "w,x", vectors=["w", "x"]).problem.kind,
    }
    assert kinds == set(KINDS)
    for lang, catalogue in CATALOGUES.items():
        for kind in KINDS:
            assert f"problem.{kind}" in catalogue, (lang, kind)
        for layout in LAYOUTS:
            assert f"layout.{layout}" in catalogue, (lang, layout)
            for kind in ("gradient", "jacobian"):
                assert f"assemble.{layout}.{kind}" in catalogue, (lang, layout, kind)


def test_printed_forms_shared_across_renderings_are_cleared_with_sympys_cache():
    """The printers' memo outlives one rendering (formats share it) but not clear_cache, and
    a derivation renders the same whatever was printed before it."""
    from sympy.core.cache import clear_cache

    from matcalc.render import printing

    first = derive("ln(sin(x**3)**2)")
    alone = [first.to_text(), first.to_markdown(), first.to_latex(), first.to_json()]
    other = derive("exp(x)*sin(x)**2/(1 + x**2)")
    other.to_text(), other.to_markdown(), other.to_latex(), other.to_json()
    assert printing._SHARED
    again = [first.to_text(), first.to_markdown(), first.to_latex(), first.to_json()]
    assert again == alone
    clear_cache()
    assert not printing._SHARED


def test_str_printer_orders_sums_as_str_does():
    """SympyStrPrinter orders the terms of a sum without SymPy's evalf of each coefficient
    (``printing.ordered_terms``): the order must be ``str()``'s, for every kind of
    coefficient (integers, fractions exact in a float or not, floats, irrational and
    imaginary factors, huge and tiny numbers)."""
    from sympy import Float, I, Rational, exp, pi, sqrt

    from matcalc.render.printing import SympyStrPrinter, ordered_terms

    sums = [
        Add(Rational(1, 3) * x, Rational(2, 3) * x, evaluate=False),
        Add(Rational(1, 2) * x, Rational(1, 4) * x, Rational(-3, 8) * x, evaluate=False),
        3 - 2 * x,
        1 + sqrt(2) * x + pi * y + Float(0.1) * x**2 + I * x,
        exp(2) * x - Rational(7, 10**30) * y + 10**40 * x * y + 2**60 * x**3,
        Add(x, -x, 2 * x ** Rational(1, 2), 1 / x, evaluate=False),
        sin(x) ** 2 * cos(x) + sin(x) ** 2 + 1 + x * y**3 - 5 * y,
    ]
    sums += [sympy.diff(e, x) for e in (sin(x**2 + y) / (1 + x**2), x**7 * sympy.exp(y * x))]
    for s in sums:
        assert ordered_terms(s) == s.as_ordered_terms(), s
        assert SympyStrPrinter().doprint(s) == str(s)


def test_precedences_are_cleared_with_sympys_cache():
    """The printers find each expression's precedence once (``printing._PRECEDENCE``); that
    memo is emptied with the printed forms, by SymPy's clear_cache."""
    from sympy.core.cache import clear_cache

    from matcalc.render import printing

    assert TextPrinter().doprint(-2 * x * (x + 1) ** 2) == "-2x·(1 + x)²"
    assert MathLatexPrinter().doprint((x + 1) ** 3) == r"\left(1 + x\right)^{3}"
    assert printing._PRECEDENCE and printing._TRADITIONAL
    clear_cache()
    assert not printing._PRECEDENCE and not printing._TRADITIONAL


def test_printers_skip_sorting_a_number_times_one_factor_without_changing_a_character(
    monkeypatch,
):
    """c·f is printed without SymPy's sort of its factors (``printing._number_times_one``):
    on random trees, evaluated and not, every printer writes what it writes with the sort,
    and JSON's printer writes str()."""
    import random

    from sympy import E, Integer, Rational, exp, pi
    from sympy.core.cache import clear_cache

    from matcalc.render import printing
    from matcalc.render.printing import SympyStrPrinter, TextPrettyPrinter

    rng = random.Random(13)
    numbers = [Integer(-1), Integer(-2), Integer(2), Integer(3), Rational(1, 2), Rational(-3, 4)]

    def tree(depth: int):
        if depth == 0 or rng.random() < 0.2:
            return rng.choice([x, y, z, rng.choice(numbers), pi, E])
        kind, evaluate = rng.random(), rng.random() < 0.5
        if kind < 0.3:
            return Mul(rng.choice(numbers), tree(depth - 1), evaluate=evaluate)
        if kind < 0.5:
            return Mul(tree(depth - 1), tree(depth - 1), evaluate=evaluate)
        if kind < 0.65:
            return Add(tree(depth - 1), tree(depth - 1), evaluate=evaluate)
        if kind < 0.8:
            power = rng.choice([Integer(-1), Integer(2), Integer(-2), Rational(1, 2), y])
            return Pow(tree(depth - 1), power, evaluate=evaluate)
        return rng.choice([exp, sin, log])(tree(depth - 1), evaluate=evaluate)

    def printed(e):
        printers = [
            TextPrinter({"vectors": False}),
            TextPrinter({"unicode": False, "vectors": False}),
            MathLatexPrinter({"vectors": False}),
            SympyStrPrinter(),
            TextPrettyPrinter({"vectors": False}),
        ]
        clear_cache()
        return [p.doprint(e) for p in printers]

    shortcut = printing._number_times_one
    for _ in range(400):
        e = tree(4)
        monkeypatch.setattr(printing, "_number_times_one", shortcut)
        fast = printed(e)
        monkeypatch.setattr(printing, "_number_times_one", lambda expr: False)
        assert fast == printed(e), e
        assert fast[3] == str(e)


def test_text_skips_drawing_a_result_whose_drawing_is_one_line():
    """``text._one_line`` says an expression's 2D drawing is one line high without drawing
    it (the text then writes its linear form, as for any one-line drawing): on random trees
    of names, integers, sums, products and functions, whenever it says so, SymPy's 2D
    printer (Unicode and ASCII) draws one line; and it refuses powers, fractions and e^x."""
    import random

    from sympy import Integer, Rational, Symbol, asin, atan, exp, sinh, sqrt, tan, tanh
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    from matcalc.render.printing import TextPrettyPrinter
    from matcalc.render.text import _one_line

    rng = random.Random(5)
    atoms = [x, y, Symbol("a_1"), Symbol("alpha"), Symbol("x_12^ab"), Integer(2), Integer(-3)]
    functions = [sin, cos, tan, sinh, tanh, asin, atan, log]

    def tree(depth: int):
        if depth == 0 or rng.random() < 0.25:
            return rng.choice(atoms)
        kind, evaluate = rng.random(), rng.random() < 0.5
        if kind < 0.35:
            return Add(tree(depth - 1), tree(depth - 1), evaluate=evaluate)
        if kind < 0.7:
            return Mul(tree(depth - 1), tree(depth - 1), evaluate=evaluate)
        return rng.choice(functions)(tree(depth - 1), evaluate=evaluate)

    one_line = 0
    for _ in range(300):
        e = tree(rng.randint(1, 4))
        if not _one_line(e):
            continue
        one_line += 1
        for unicode in (True, False):
            previous = pretty_use_unicode(unicode)
            try:
                assert TextPrettyPrinter({"use_unicode": unicode})._print(e).height() == 1, e
            finally:
                pretty_use_unicode(previous)
    assert one_line > 200
    for e in (x**2, Rational(1, 2) * x, exp(x), sin(x) / x, sqrt(x), sin(x) ** 2, Integer(3) / 4):
        assert not _one_line(e), e


def test_json_result_reads_back_given_its_symbols():
    """parse_expr reads N, S, I, Q, E1, beta and gamma as SymPy's own (N() and S are
    callables, I the imaginary unit): JSON lists the scalar variables to bind."""
    import json

    from sympy import Symbol, parse_expr

    x = Symbol("x", real=True)
    names = {n: Symbol(n, real=True) for n in ["N", "S", "Q", "E1", "beta", "gamma"]}
    by_hand = x**2 / names["N"] + names["S"] * names["beta"] * x + names["Q"] * names["E1"]
    for text in ["x**2/N + S*beta*x + Q*E1", "gamma*sin(x)"]:
        data = json.loads(derive(text, "x").to_json())
        back = parse_expr(
            data["result"], local_dict={s: Symbol(s, real=True) for s in data["symbols"]}
        )
        truth = sympy.diff(by_hand if "gamma" not in text else names["gamma"] * sympy.sin(x), x)
        assert sympy.simplify(back - truth) == 0, (data["result"], data["symbols"])
    vector = json.loads(derive("w @ x + b", "x", vectors=["w", "x"]).to_json())
    assert vector["symbols"] == ["b"]


# Learner brief §6: the notes on max/min speak of the user's own max or min, not of
# max(0, z) or of SymPy.  Expected sentences hand-written.
@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "max(0, x**2+1)",
            [
                "1 + x² ≥ 0 everywhere, so max(0, x² + 1) = 1 + x², and that is what is differentiated."
            ],
        ),
        (
            "max(sin(x), x**2)",
            [
                "max(sin(x), x²) has no derivative where sin(x) = x².",
                "There matcalc takes the step 𝟙[sin(x) - x² > 0] to be 0,",
            ],
        ),
        ("min(0, x**3)", ["min(0, x³) has no derivative where x³ = 0.", "𝟙[x³ < 0] to be 0"]),
        ("max(1, x)", ["max(1, x) has no derivative where x = 1.", "𝟙[x - 1 > 0] to be 0"]),
        (
            "abs(x)*x",
            ["|x| has no derivative where x = 0. matcalc writes its derivative as sign(x)"],
        ),
    ],
)
def test_max_min_notes_name_the_users_own_max_or_min(text, sentences):
    out = " ".join(matcalc.derive(text, "x").to_text(width=0).split())
    for sentence in sentences:
        assert sentence in out, out
    assert "SymPy can order" not in out and "max(0, z) has no derivative" not in out


def test_max_min_notes_in_chinese_and_json():
    d = matcalc.derive("max(0, x**2+1)", "x")
    assert "处处有 1 + x² ≥ 0，所以 max(0, x² + 1) = 1 + x²" in d.to_text(lang="zh", width=0)
    (note,) = [s for s in d.to_dict()["steps"] if s["kind"] == "note"]
    assert note["equals"] == "x**2 + 1" and note["others"] == ["0"]
    settled_to_zero = matcalc.derive("max(0, -x**2-1) + x", "x").to_dict()["steps"]
    assert [s["equals"] for s in settled_to_zero if s["kind"] == "note"] == ["0"]


@pytest.mark.parametrize(
    ("expr", "options", "direct"),
    [
        ("x*sin(x*y)", dict(wrt="x"), "(∂u₃/∂x)_u₂"),  # a partial derivative: f(x, y)
        ("sum(x*sin(x))", dict(wrt="x", vectors=["x"]), "(∂u₂/∂x)_u₁"),  # a Jacobian
    ],
)
def test_a_partial_total_derivative_does_not_read_u_equals_u_plus(expr, options, direct):
    """When the total derivative is itself written ∂u/∂x (by one of several variables, or a
    Jacobian), its direct term is the partial with the other paths held constant; written
    ∂u/∂x as well, the step read ∂u₃/∂x = ∂u₃/∂x + ∂u₃/∂u₂ · ∂u₂/∂x."""
    d = derive(expr, **options)
    text = d.to_text(width=None)
    assert direct in text
    for line in text.splitlines():
        m = re.match(r"\s*(\S+) = (\S+) \+", line)
        assert not (m and m.group(1) == m.group(2)), line
    assert r"\right)_{" in d.to_latex()


def test_a_zero_vector_or_matrix_is_the_bold_zero():
    """By hand: d(Aw)/dx = 0, an n×n matrix; d(sum(x - x) + sum(w))/dx = 0ᵀ, a 1×n row.
    The paper writes them 𝟎 and 𝟎ᵀ; the number 0 read as a scalar."""
    matrix = derive("A @ w", vectors=["x", "w"], matrices=["A"], wrt="x")
    assert "∂y/∂x = 𝟎\n" in matrix.to_text()
    assert r"&= \mathbf{0}" in matrix.to_latex()
    row = derive("sum(x - x) + sum(w)", vectors=["x", "w"], wrt="x")
    text = row.to_text()
    assert "∂y/∂x = 𝟎ᵀ\n" in text and "𝟏ᵀ·𝟎 = 𝟎ᵀ" in text
    assert "0^T" in row.to_text(unicode=False)
    assert r"\mathbf{0}^{T}" in row.to_markdown()
