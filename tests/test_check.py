"""``matcalc check``: verdicts on (problem, answer) pairs whose verdicts were worked out by hand.

The cases live in ``tests/data/answers.txt`` (one per line, ``EXPR | ANSWER | VERDICT[:MISTAKE]
| options``); none of the expected verdicts comes from matcalc's output.  Further tests: the
CLI (exit statuses, JSON, Chinese), the hostile corpus through ``--answer``, and the pointer
to the step where a named mistake enters.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import run

from matcalc import check
from matcalc.cli import main
from matcalc.errors import MatcalcError

DATA = Path(__file__).parent / "data"


def _cases():
    for number, line in enumerate((DATA / "answers.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(" | ")]
        expr, answer, expected = fields[:3]
        options: dict = {}
        if len(fields) > 3:
            for item in fields[3].split(";"):
                key, _, value = item.strip().partition("=")
                options[key] = value
        answers = [a.strip() for a in answer.split(" ; ")]
        yield pytest.param(expr, answers, expected, options, id=f"line{number}")


def _kwargs(options: dict) -> dict:
    out: dict = {}
    if "wrt" in options:
        out["wrt"] = options["wrt"]
    if "vectors" in options:
        out["vectors"] = options["vectors"].split(",")
    if "matrices" in options:  # several matrices are separated by "&" (X:N,n has a comma)
        out["matrices"] = options["matrices"].split("&")
    if "layout" in options:
        out["layout"] = options["layout"]
    return out


@pytest.mark.parametrize(("expr", "answers", "expected", "options"), list(_cases()))
def test_verdicts(expr, answers, expected, options):
    result = check(expr, answers if len(answers) > 1 else answers[0], **_kwargs(options))
    verdict, _, mistake = expected.partition(":")
    assert result.verdict == verdict, result
    if mistake:
        assert result.mistake == mistake, result
    # whatever the verdict, it renders in every format and language without internals
    for text in (
        result.to_text(),
        result.to_markdown(),
        result.to_latex(),
        result.to_json(),
        result.to_text(lang="zh"),
    ):
        assert "Derivative(" not in text and "Dummy" not in text


def test_there_are_at_least_sixty_cases():
    assert len(list(_cases())) >= 60


def test_factor_and_step_details():
    c = check("x**2", "x")
    assert c.factor == pytest.approx(0.5)
    c = check(
        "sum((X @ w - y)**2) / N",
        "2*X.T @ (X @ w - y)",
        wrt="w",
        vectors=["w", "y:N"],
        matrices=["X:N,n"],
    )
    assert c.mistake == "factor" and str(c.factor) == "N", c  # the dropped 1/N is a size
    c = check("sin(x**2)", "cos(x**2)")
    step = c.derivation.steps[c.step]
    assert str(step.value) == "2*x"  # the local derivative that was dropped
    c = check("x**3", "3*x**2 + 1")
    assert c.values is not None and c.point  # the first point where they differ
    yours, ours = c.values
    ((symbol, x),) = c.point
    assert yours == pytest.approx(3 * x**2 + 1) and ours == pytest.approx(3 * x**2)


def test_a_quotients_sign_names_the_quotient_rules_numerator():
    """Minus the derivative of f/g is the quotient rule's numerator the wrong way round:
    still mistake "sign" with factor -1 (the API's promise), its cause named."""
    c = check("sin(x)/x", "(sin(x) - x*cos(x))/x**2")
    assert (c.mistake, c.factor, c.cause) == ("sign", -1, "numerator_swapped")
    assert "numerator the wrong way round" in c.to_text()
    assert json.loads(c.to_json())["cause"] == "numerator_swapped"
    for expr, answer in [("1/x", "1/x**2"), ("exp(-x)", "exp(-x)"), ("x**2", "-2*x")]:
        c = check(expr, answer)
        assert (c.mistake, c.cause) == ("sign", None), expr


def test_gate_outside_the_sum_points_at_the_gate():
    c = check(
        "sum((y - max(0, X @ w + b))**2) / N",
        "2/N * X.T @ (X @ w + b - y)",
        wrt="w",
        vectors=["w", "y:N"],
        matrices=["X:N,n"],
    )
    assert c.mistake == "gate_outside_sum"
    assert "max" in c.derivation.steps[c.step].rule
    assert "outside the sum" in c.to_text()


def test_cli_exit_statuses_and_json():
    assert run("check", "x**2", "--answer", "2*x").exit_code == 0
    wrong = run("check", "x**2*sin(x)", "--answer", "2*x*sin(x)")
    assert wrong.exit_code == 1 and "a term is missing" in wrong.output
    layout = run("check", "w @ x", "--vector", "w,x", "--wrt", "w", "--answer", "x")
    assert layout.exit_code == 0 and "denominator layout" in layout.output
    data = json.loads(run("check", "x**2", "--answer", "-2*x", "--format", "json").output)
    assert data["verdict"] == "wrong" and data["mistake"] == "sign"
    assert data["derivation"]["verified"] is True
    zh = run("check", "x**2", "--answer", "-2*x", "--lang", "zh")
    assert "符号错误" in zh.output


def test_cli_check_of_a_higher_order_and_a_memory_cap():
    # (x³ sin x)'' = 6x sin x + 6x² cos x - x³ sin x, by hand
    right = "6*x*sin(x) + 6*x**2*cos(x) - x**3*sin(x)"
    assert run("check", "x**3*sin(x)", "--order", "2", "--answer", right).exit_code == 0
    half = "6*x*sin(x) + 3*x**2*cos(x) - x**3*sin(x)"
    assert run("check", "x**3*sin(x)", "-k", "2", "--answer", half).exit_code == 1
    # the first derivative is not the second
    first = run("check", "x**3", "--order", "2", "--answer", "3*x**2")
    assert first.exit_code == 1 and "Wrong" in first.output
    capped = run("check", "x**2", "--answer", "2*x", "--memory", "2G")
    assert capped.exit_code == 0
    assert run("check", "x**2", "--answer", "2*x", "--order", "0").exit_code == 2


def test_points_and_values_are_math_in_latex():
    """x³'s second derivative is 6x, not x + 1: the point and both values are set as math, so
    LaTeX prints a minus sign, not a hyphen, before a negative number."""
    latex = check("x**3", "x + 1", order=2).to_latex()
    assert re.search(r"At \$x = -?[0-9.]+\$: your answer is \$-?[0-9.]+\$", latex), latex
    assert "$x$ =" not in latex
    sizes = check("w @ x", "x.T", "w", vectors=["w", "x"]).to_latex()
    assert "components at $n = 3$" in sizes, sizes


@pytest.mark.parametrize("answer", ["0", "0*ones(n).T"])
def test_0_for_a_zero_gradient_is_judged(answer):
    """By hand: sum(w) does not depend on x, so its gradient by x is the zero row, which a
    student writes 0; it was 'cannot judge (shape)'.  Against a gradient that is not zero
    (sum(w*x) by x is wᵀ) the same 0 is wrong."""
    kw = dict(vectors=["w", "x"])
    right = check("sum(w)", answer, "x", **kw)
    assert right.verdict == "right", right
    assert "𝟎ᵀ" in right.to_text(width=0)  # matcalc's derivative, in its shape
    assert check("sum(w*x)", answer, "x", **kw).verdict == "wrong"


def test_markdown_and_latex():
    c = check("sin(x**2)", "cos(x**2)")
    md = c.to_markdown()
    assert "$$" in md and "**Check your answer**" in md
    tex = c.to_latex(standalone=True)
    assert tex.startswith("\\documentclass") and tex.rstrip().endswith("\\end{document}")


HOSTILE = [
    line
    for line in (DATA / "hostile.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("text", HOSTILE[:60])
def test_answer_text_is_never_executed(text):
    with pytest.raises(MatcalcError):
        check("x**2", text)


def test_cli_answer_error_is_one_line():
    result = run("check", "x**2", "--answer", "__import__('os').system('echo hi')")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_problem_file_marks_a_sheet(tmp_path):
    sheet = tmp_path / "sheet.toml"
    sheet.write_text(
        '[[problem]]\nexpr = "x**2*sin(x)"\nanswer = "2*x*sin(x)"\n'
        '[[problem]]\nexpr = "sin(x**2)"\nanswer = "2*x*cos(x**2)"\n'
        '[[problem]]\nexpr = "3*x**2*y"\nwrt = "x,y"\nanswer = ["6*x*y", "3*x**2"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "sheet.md"
    result = CliRunner().invoke(main, ["doc", str(sheet), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "problem 1 (x**2*sin(x)): Wrong: a term is missing" in result.stderr
    assert "problem 2 (sin(x**2)): Right" in result.stderr
    assert "problem 3 (3*x**2*y): Right" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count("**Check your answer**") == 3
    zh = CliRunner().invoke(
        main, ["doc", str(sheet), "-o", str(tmp_path / "zh.md"), "--lang", "zh"]
    )
    assert "漏了一项" in zh.stderr
    plain = tmp_path / "sheet.txt"
    plain.write_text("x**3 ; answer 3*x**2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["doc", str(plain), "-o", str(tmp_path / "p.md")])
    assert "problem 1 (x**3): Right" in result.stderr


def test_an_answer_0_is_no_constant_factor():
    # 0 = 0·(2x) is true but no mistake a student makes: the generic "wrong", with a point
    c = check("x**2", "0")
    assert c.verdict == "wrong" and c.mistake is None and c.factor is None, c
    assert c.values is not None and c.values[0] == 0


def test_values_too_small_to_tell_from_zero_are_no_verdict():
    """d/dx x/10²⁸ is 10⁻²⁸ everywhere: an answer of the wrong sign agrees with it to within
    what the comparison can tell from 0, so it is neither right nor wrong, and the reason
    says so (it used to say that no point had both sides defined)."""
    result = check("x/10**28", "-1/10**28", "x")
    assert result.verdict == "cannot_judge"
    assert result.reason == "tiny"
    assert "too close to 0 to tell apart" in " ".join(result.to_text().split())


def test_a_row_answer_is_shown_as_typed_and_its_transpose_binds_to_the_whole_product():
    """xᵀ·(A + Aᵀ) is kept as the column ((A + Aᵀ)ᵀ·x) transposed.  Printed, the ᵀ of that
    column once bound to x alone, (Aᵀ + A)ᵀ·xᵀ: an n×n matrix times a row, a false line."""
    from matcalc.render.text import TextRenderer

    c = check("x @ A @ x", "x.T @ (A + A.T)", "x", vectors=["x"], matrices=["A"])
    assert c.verdict == "right"
    text = c.to_text(width=0)
    assert "∂y/∂x = xᵀ·(Aᵀ + A)" in text and "(Aᵀ + A)ᵀ·xᵀ" not in text
    assert TextRenderer()._m(c.answer) == "((Aᵀ + A)ᵀ·x)ᵀ"


@pytest.mark.parametrize(
    "expr,wrt,vectors,answer,had,right",
    [  # the textbooks' gradients, in denominator layout: 2Aᵀ(Ax − b) and Aᵀx
        ("norm(A @ x - b)**2", "x", ["x", "b"], "2*A @ (A @ x - b)", "A", "2*A.T @ (A @ x - b)"),
        ("x @ A @ w", "w", ["x", "w"], "A @ x", "A", "A.T @ x"),
        ("x @ A @ w", "x", ["x", "w"], "A.T @ w", "Aᵀ", "A @ w"),
    ],
)
def test_a_matrix_written_for_its_transpose_is_named(expr, wrt, vectors, answer, had, right):
    kw = dict(vectors=vectors, matrices=["A"], layout="denominator")
    c = check(expr, answer, wrt, **kw)
    assert c.verdict == "wrong" and c.mistake == "swapped", c
    text = c.to_text(width=0)
    assert f"your answer has {had} at one place where" in text
    assert c.to_dict()["swap"]["answer_has"] == had
    assert check(expr, right, wrt, **kw).verdict == "right"


def test_an_unrelated_wrong_matrix_answer_is_not_called_a_swap():
    kw = dict(vectors=["x", "w"], matrices=["A"], layout="denominator")
    c = check("x @ A @ w", "A @ A @ x", "w", **kw)
    assert c.verdict == "wrong" and c.mistake != "swapped", c
    c = check("trace(A @ X)", "A", "X", matrices=["A", "X"], layout="denominator")
    assert c.mistake == "transpose", c  # the whole answer transposed: that mistake, as before
    # a square result's transpose is the other layout's derivative (tr(AX) by X is A in
    # numerator layout): the verdict says so, in each language
    assert "It is the derivative in numerator layout" in c.to_text(width=0)
    assert "分子布局下的导数" in c.to_text(width=0, lang="zh")


def test_a_close_answer_is_wrong_and_says_by_how_much():
    """By hand: 2.0000001x - 2x = 10⁻⁷x, a relative difference of 10⁻⁷/2.0000001 ≈ 5·10⁻⁸,
    within the 30-digit check's tolerance (1e-7), which called it right."""
    result = check("x**2", "2.0000001*x")
    assert (result.verdict, result.mistake) == ("wrong", "close")
    assert result.difference == pytest.approx(1e-7 / 2.0000001, rel=1e-6)
    data = json.loads(result.to_json())
    assert data["mistake"] == "close" and data["difference"] == pytest.approx(5e-8, rel=1e-6)
    assert "rounded" in result.to_text() and "四舍五入" in result.to_text(lang="zh")


@pytest.mark.parametrize(
    ("expr", "answer", "wrt", "options", "factor"),
    [
        # d/dw sum((y − Xw)²)/N = (2/N)·Xᵀ(Xw − y) by hand; Xᵀ(Xw − y) is that only at N = 2
        (
            "sum((y - X @ w)**2) / N",
            "X.T @ (X @ w - y)",
            "w",
            dict(vectors=["w", "y:N"], matrices=["X:N,n"], layout="denominator"),
            "N/2",
        ),
        # the same slip in numerator layout, as a row
        (
            "sum((y - X @ w)**2) / N",
            "(X @ w - y).T @ X",
            "w",
            dict(vectors=["w", "y:N"], matrices=["X:N,n"]),
            "N/2",
        ),
        # d/dx sum(x)/n = 𝟏ᵀ/n; 𝟏ᵀ/3 is that only at n = 3
        ("sum(x) / n", "ones(n).T / 3", "x", dict(vectors=["x"]), "n/3"),
        # d/dw (w·x) = xᵀ; (n − 2)·xᵀ is that only at n = 3 (and no common mistake)
        ("w @ x", "(n - 2) * x.T", "w", dict(vectors=["w", "x"]), None),
        # the other layout is no excuse: 𝟏/3 for 𝟏ᵀ/n
        ("sum(x) / n", "ones(n) / 3", "x", dict(vectors=["x"]), "n/3"),
    ],
)
def test_red_team_an_answer_right_at_one_size_only_is_wrong(expr, answer, wrt, options, factor):
    """Red team: answers were judged at one set of sizes (n = 3, N = 2), so an answer equal to
    the derivative there alone was called right: the MSE gradient without its 2/N (2/N = 1 at
    N = 2) above all.  Truth by hand (in the comments)."""
    c = check(expr, answer, wrt, **options)
    assert c.verdict == "wrong", c
    if factor is not None:
        assert (c.mistake, str(c.factor)) == ("factor", factor), c


def test_red_team_answers_right_at_every_size_stay_right():
    """The second sizes take nothing from right answers (by hand: (2/N)·Xᵀ(Xw − y), its row,
    and 𝟏ᵀ/n)."""
    batch = dict(vectors=["w", "y:N"], matrices=["X:N,n"])
    assert check("sum((y - X @ w)**2) / N", "2/N * X.T @ (X @ w - y)", "w", **batch).verdict == (
        "other_layout"
    )
    assert check("sum((y - X @ w)**2) / N", "2/N * (X @ w - y).T @ X", "w", **batch).right
    assert check("sum(x) / n", "ones(n).T / n", "x", vectors=["x"]).verdict == "right"


def test_the_identity_written_i_says_how_an_answer_writes_it():
    """matcalc prints the identity I; an answer I (no name of the problem) cannot be judged,
    and now says to write eye(n); eye(n) is right (∂x/∂x = I, by hand)."""
    c = check("x", "I", wrt="x", vectors="x")
    assert c.verdict == "cannot_judge" and c.reason == "identity"
    assert "eye(n)" in c.to_text()
    assert check("x", "eye(n)", wrt="x", vectors="x").verdict == "right"


@pytest.mark.parametrize(
    ("expr", "answer", "order", "verdict"),
    [
        # by hand: sign(x) is constant on each side of 0, so d/dx sign(x) = 0 for x ≠ 0, and
        # |x|″ = (sign(x))′ = 0 likewise; SymPy writes both as 2·δ(x)
        ("sign(x)", "0", 1, "right"),
        ("abs(x)", "0", 2, "right"),
        ("sign(x)", "1", 1, "wrong"),
        ("abs(x)", "1", 2, "wrong"),
        # (x³·sign(x))″ = (3x²·sign(x))′ = 6x·sign(x) for x ≠ 0
        ("sign(x)*x^3", "6*x*sign(x)", 2, "right"),
        ("sign(x)*x^3", "6*x", 2, "wrong"),
    ],
)
def test_red_team_an_answer_0_where_sympy_writes_a_dirac_delta(expr, answer, order, verdict):
    """The right answer 0 to d/dx sign(x) and d²/dx² |x| was 'cannot judge' ('agree only where
    both are too close to 0'): SymPy's reference 2·δ(x) is 0 at every point drawn but not
    symbolically 0, and an answer of 0 had no nonzero value to be confirmed by."""
    assert check(expr, answer, order=order).verdict == verdict


@pytest.mark.parametrize(
    ("expr", "answer", "verdict"),
    [
        # by hand: each sign(xᵢ) is constant away from 0, so every entry is 0
        ("sum(sign(x))", "0", "right"),
        ("sign(x)", "0", "right"),
        ("w @ sign(x)", "0", "right"),
        ("sum(sign(x))", "ones(n).T", "wrong"),
        ("sum(sign(x)*x)", "0", "wrong"),  # sum(|x|): sign(x)ᵀ
    ],
)
def test_red_team_an_answer_0_where_sympy_writes_a_dirac_delta_in_components(expr, answer, verdict):
    """As for scalars: SymPy's components of the reference carry 2·δ(xᵢ), and the right
    answer 0 was 'cannot judge'."""
    assert check(expr, answer, "x", vectors=["x", "w"]).verdict == verdict
