"""Forgiving command-line input (issue 14 §1) and clean usage errors (issue 13 §2).

Truth comes from outside matcalc: ``sympy.diff`` of the same expression written by hand.
"""

from __future__ import annotations

import json

import pytest
import sympy
from conftest import run

x, y, omega = sympy.symbols("x y omega", real=True)


def result_of(output: str) -> sympy.Expr:
    return sympy.sympify(json.loads(output)["result"], locals={"x": x, "y": y})


# -- an expression may start with a minus ------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["-x**2"],
        ["-x**2", "--wrt", "x"],
        ["--wrt", "x", "-x**2"],
        ["--", "-x**2", "--wrt", "x"],
        ["-x**2", "--wrt=x"],
    ],
)
def test_an_expression_may_start_with_a_minus(args):
    result = run("derive", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert sympy.simplify(result_of(result.stdout) - sympy.diff(-(x**2), x)) == 0


def test_a_loss_that_starts_with_a_minus():
    args = ["-sum(y*ln(softmax(z)))", "--vector", "y,z", "--wrt", "z"]
    for argv in (args, ["--", *args]):
        result = run("derive", *argv)
        assert result.exit_code == 0, result.output
        assert "Verified" in result.stdout


def test_several_expressions_with_minus_signs_make_a_jacobian():
    result = run("derive", "-x*y", "-y**2", "--wrt", "x,y", "--format", "json")
    assert result.exit_code == 0, result.output
    got = sympy.Matrix(result_of(result.stdout))
    assert got == sympy.Matrix([-x * y, -(y**2)]).jacobian([x, y])


def test_options_count_after_the_separator_too():
    result = run("derive", "--", "-x**2", "-f", "json")
    assert result.exit_code == 0, result.output
    assert result_of(result.stdout) == -2 * x
    result = run("derive", "--", "(-y)", "--x", "--wrt", "y", "--format", "json")  # --x: -(-x)
    assert result.exit_code == 0, result.output


def test_options_still_work_and_unknown_options_are_named():
    result = run("derive", "x**2", "--wtr", "x")
    assert result.exit_code == 2
    assert "No such option '--wtr'" in result.output
    result = run("derive", "x**2", "--wrt")
    assert result.exit_code == 2
    assert "requires an argument" in result.output
    assert run("derive", "-h").exit_code == 0
    assert "EXPR" in run("derive", "--help").stdout


# -- --wrt ---------------------------------------------------------------------------------
def test_wrt_a_name_not_in_the_expression_is_an_error_with_a_hint():
    result = run("derive", "w**2 + x", "--wrt", "W")
    assert result.exit_code == 2
    assert "did you mean w?" in result.stderr
    assert "Verified" not in result.output
    result = run("derive", "x**2", "--wrt", "y")
    assert result.exit_code == 2
    assert "y is not in the expression" in result.stderr


@pytest.mark.parametrize("expr", ["x - x + y**2", "0*x + y**2"])
def test_a_variable_typed_in_the_expression_is_not_a_slip(expr):
    result = run("derive", expr, "--wrt", "x", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result_of(result.stdout) == 0


def test_unused_variable_note_in_chinese_json():
    result = run(
        "derive", "sum(x)", "--vector", "w,x", "--wrt", "w", "--format", "json", "--lang", "zh"
    )
    assert result.exit_code == 0, result.output
    notes = [s for s in json.loads(result.stdout)["steps"] if s["kind"] == "note"]
    assert notes and "不依赖" in notes[0]["explanation"]


def test_a_declared_vector_the_expression_does_not_use_gives_0_with_a_note():
    result = run("derive", "sum(x)", "--vector", "w,x", "--wrt", "w")
    assert result.exit_code == 0, result.output
    assert "Note" in result.stdout
    assert "does not depend on w" in result.stdout


# -- --dim -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", ["n=3", "self=3"])
def test_dim_on_a_scalar_problem_is_a_clear_usage_error(dim):
    result = run("derive", "x**2", "--dim", dim)
    assert result.exit_code == 2
    assert "no vectors or matrices" in result.stderr
    assert "Traceback" not in result.output


def test_dim_with_an_unknown_size_names_the_known_ones():
    result = run("derive", "w @ x", "--vector", "w,x", "--wrt", "w", "--dim", "self=3")
    assert result.exit_code == 2
    assert "no size called self; the sizes here are n" in result.stderr


# -- --vector b:m,v:m ---------------------------------------------------------------------------
def test_vectors_with_sizes_are_separated_by_commas():
    result = run("derive", "sum(b*v)", "--vector", "b:m,v:m", "--wrt", "b", "--dim", "m=2")
    assert result.exit_code == 0, result.output
    assert "Verified" in result.stdout


# -- standard input -------------------------------------------------------------------------------
def test_dash_reads_expressions_from_standard_input():
    result = run("derive", "-", "--format", "json", stdin="x**2\n")
    assert result.exit_code == 0, result.output
    assert result_of(result.stdout) == 2 * x


def test_dash_reads_one_expression_a_line_into_a_jacobian():
    text = "# a comment\n3*x**2*y\n\n2*x + y**8\n"
    result = run("derive", "-", "--wrt", "x,y", "--format", "json", stdin=text)
    assert result.exit_code == 0, result.output
    got = sympy.sympify(json.loads(result.stdout)["result"], locals={"x": x, "y": y})
    assert sympy.Matrix(got) == sympy.Matrix([3 * x**2 * y, 2 * x + y**8]).jacobian([x, y])


def test_empty_standard_input_is_a_usage_error():
    result = run("derive", "-", stdin="\n# nothing\n")
    assert result.exit_code == 2
    assert "standard input has no expression" in result.stderr


# -- LaTeX in Chinese: refused the same way as matcalc doc --------------------------------------
def test_standalone_latex_in_chinese_is_refused_like_doc(tmp_path):
    result = run("derive", "x**2", "--format", "latex", "--standalone", "--lang", "zh")
    assert result.exit_code == 2
    problems = tmp_path / "p.txt"
    problems.write_text("x**2\n", encoding="utf-8")
    refused = run("doc", str(problems), "-o", str(tmp_path / "out.tex"), "--lang", "zh")
    assert refused.exit_code == 2
    assert result.stderr == refused.stderr
    fragment = run("derive", "x**2", "--format", "latex", "--lang", "zh")  # a fragment is fine
    assert fragment.exit_code == 0


# -- usage errors in JSON, and the time limit's range -----------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["--layout", "diagonal"], ["--timeout", "0"], ["--wrt"], ["--wtr", "x"], ["--timeout", "nan"]],
)
def test_usage_errors_are_json_with_format_json(args):
    result = run("derive", "x**2", "--format", "json", *args)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and error["message"]
    assert "Usage:" not in result.output


@pytest.mark.parametrize("seconds", ["inf", "1e300", "nan", "-1", "0", "ten"])
def test_timeouts_that_are_not_a_number_of_seconds_are_usage_errors(seconds):
    result = run("derive", "x**2", "--timeout", seconds)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "please report" not in result.output


# -- numbers ---------------------------------------------------------------------------------------
def test_thirty_digit_integers_from_2_to_the_99_are_accepted():
    for value in (2**99, 10**30 - 1):
        assert len(str(value)) == 30
        result = run("derive", f"{value}*x", "--format", "json")
        assert result.exit_code == 0, result.output
        assert result_of(result.stdout) == value
    result = run("derive", f"{10**30}*x")
    assert result.exit_code == 2
    assert "more than 30 digits" in result.stderr


@pytest.mark.parametrize(
    "expr", ["x*((x-x+3)**999)**999", "x*" + "*".join(["factorial(100)"] * 30)]
)
def test_huge_hidden_constants_end_cleanly(expr):
    for fmt in ("text", "json"):
        result = run("derive", expr, "--format", fmt)
        assert result.exit_code in (0, 2), result.output
        assert "please report" not in result.output
        if fmt == "json":
            assert json.loads(result.stdout)


def test_api_refuses_an_undeclared_name_the_expression_does_not_use():
    import matcalc
    from matcalc.errors import UsageError

    with pytest.raises(UsageError, match="b is not in the expression"):
        matcalc.derive("w", "b", vectors=["w"])
    with pytest.raises(UsageError, match="did you mean x"):
        matcalc.derive("x**2 + y", "X")


def test_check_takes_expressions_and_answers_that_start_with_a_minus():
    result = run("check", "-x**2", "--answer", "-2*x", "--format", "json")
    assert result.exit_code == 0, result.output
    result = run("check", "x**2", "--answer", "2*x", "--format", "json", "--timeout", "inf")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == "usage"


def test_a_power_1_over_n_is_read_as_python_reads_it_and_says_so():
    import sympy

    import matcalc
    from matcalc.steps import Note

    x = sympy.Symbol("x", real=True)
    d = matcalc.derive("x^1/2")
    assert d.result == sympy.Rational(1, 2)  # (x^1)/2, by Python's precedence
    assert [s.topic for s in d.steps if isinstance(s, Note)] == ["power_fraction"]
    assert "for a fractional power write ^(1/2)" in d.to_text(width=0)
    assert "分数次幂请写作 ^(1/2)" in d.to_text(lang="zh", width=0)
    d = matcalc.derive("x**2/2")  # x²/2 is what most who type it mean: no note
    assert d.result == x
    assert not [s for s in d.steps if isinstance(s, Note)]


# -- the derivative or a definition written before the expression, as on paper -----------
@pytest.mark.parametrize(
    ("text", "truth", "name"),
    [
        ("d/dx sin(x)", sympy.cos(x), "y"),
        ("d/dx(x^2)", 2 * x, "y"),
        ("d/dx [x^2 + 1]", 2 * x, "y"),
        ("∂/∂y [x*y**2]", 2 * x * y, "f"),
        ("d²/dx² x⁴", 12 * x**2, "y"),
        ("d^2/dx^2 sin(x)", -sympy.sin(x), "y"),
        ("y = x^3", 3 * x**2, "y"),
        ("L = x**2", 2 * x, "L"),
        ("f(x) = sin(x)^2", sympy.sin(2 * x), "f"),
    ],
)
def test_a_written_derivative_or_definition_is_read(text, truth, name):
    """d/dx sin(x) was "missing '*' between two factors: write dx*sin(x)", and y = x^2
    "give the expression alone"; the derivative written before the expression gives the
    variable (and the order), a definition names the result."""
    out = run("derive", text, "--format", "json")
    assert out.exit_code == 0, out.output
    assert sympy.simplify(result_of(out.output) - truth) == 0
    text_out = run("derive", text).output
    assert f"d{name}/d" in text_out or f"∂{name}/∂" in text_out or f"d²{name}/d" in text_out


def test_a_definition_with_two_arguments_is_a_gradient():
    out = run("derive", "f(x, y) = x^2*y", "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["wrt"] == ["x", "y"]
    got = sympy.Matrix(result_of(out.output))
    assert sympy.simplify(got - sympy.Matrix([[2 * x * y, x**2]])) == sympy.zeros(1, 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["d/dx x*y", "--wrt", "y"], "written d/dx, but --wrt is y"),
        (["d²/dx² x**3", "--order", "3"], "derivative of order 2, but --order is 3"),
        (["y = x*y", "--wrt", "x"], "without 'y =' in front"),  # not a definition
        (["d/dx x", "d/dy y"], "written with different derivatives"),
    ],
)
def test_what_is_written_before_must_agree(args, message):
    out = run("derive", *args)
    assert out.exit_code == 2
    assert message in out.output and "Traceback" not in out.output


@pytest.mark.parametrize(
    ("args", "truth", "wrt"),
    [
        (["y = x^3", "--order", "2"], 6 * x, ["x"]),
        (["f(x) = sin(x)", "--order", "3"], -sympy.cos(x), ["x"]),
        (["f(ω) = ω^3"], 3 * omega**2, ["omega"]),
    ],
)
def test_a_definition_writes_no_order_and_may_name_a_greek_variable(args, truth, wrt):
    """y = x^3 --order 2 was refused ("written as a derivative of order 1, but --order is
    2"): a definition says nothing of the order.  f(ω) = ω³ was "give the expression alone,
    without 'f(omega) =' in front", though d/dω ω³ is read."""
    out = run("derive", *args, "--format", "json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["wrt"] == wrt
    got = sympy.sympify(json.loads(out.output)["result"], locals={"x": x, "omega": omega})
    assert sympy.simplify(got - truth) == 0


def test_an_equation_that_is_no_definition_is_shown_as_typed():
    out = run("derive", "f(ω, 2) = ω^2")
    assert out.exit_code == 2
    assert "without 'f(ω, 2) =' in front" in out.output


def test_a_bracket_error_inside_d_dx_brackets_is_where_it_is():
    """∂/∂x [x·y + (x] said "unclosed '(' (column 6)", at the [ (its brackets were read as
    round ones around an unbalanced inside)."""
    out = run("derive", "∂/∂x [x·y + (x]")
    assert out.exit_code == 2
    assert "unmatched ']' (column 15)" in out.output


def test_an_error_after_d_dx_points_into_the_text_as_typed():
    out = run("derive", "d/dx sin(x")
    assert out.exit_code == 2
    lines = out.output.splitlines()
    assert "d/dx sin(x" in lines[1]
    assert lines[2].index("^") == lines[1].index("(")


def test_x_caret_t_with_nothing_declared_says_it_is_a_power():
    """x^T with no vector declared is x to the power of a variable T (a scalar problem);
    a note says so and how to get the transpose (with --vector x it is xᵀ)."""
    import matcalc
    from matcalc.steps import Note

    d = matcalc.derive("x^T*x", "x")
    assert [s.topic for s in d.steps if isinstance(s, Note)] == ["power_t"]
    T = sympy.Symbol("T", real=True)
    got = d.result.subs({s: {"x": x, "T": T}[s.name] for s in d.result.free_symbols})
    assert sympy.simplify(got - sympy.diff(x**T * x, x)) == 0
    assert "--vector x" in d.to_text()
    assert not [s for s in matcalc.derive("x^2*T", "x").steps if isinstance(s, Note)]


def test_a_name_run_together_with_the_variable_gets_a_note():
    """x² + xy by x: xy is one variable, held constant, where a student means x·y; the
    derivative is 2x as typed (SymPy's), and a note says how to write the product."""
    import matcalc
    from matcalc.steps import Note

    d = matcalc.derive("x^2 + xy", "x")
    assert [s.topic for s in d.steps if isinstance(s, Note)] == ["run_together"]
    assert "write x*y" in d.to_text()
    assert sympy.simplify(d.result.subs({s: x for s in d.result.free_symbols}) - 2 * x) == 0
    for quiet in ("alpha*x", "exp(x)*lr", "x*y"):  # no letter of the variable, or apart
        assert not [s for s in matcalc.derive(quiet, "x").steps if isinstance(s, Note)], quiet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ax + b", "--wrt", "x"], "where ax is one variable; for a product write a*x"),
        (["(x+1)(x-1)"], "missing '*' between two factors: write (x+1)*(x-1)"),
        (["1/2x"], "1/2x is ambiguous: write 1/(2*x) or (1/2)*x"),
    ],
)
def test_a_product_written_without_its_star_gets_a_hint(args, message):
    out = run("derive", *args)
    assert out.exit_code == 2 and message in out.output


@pytest.mark.parametrize(
    ("text", "column"),
    [("x^2+2x+1=0", 9), ("x^2 + y^2 = 25", 11), ("sin(x) = cos(x)", 8), ("exp(x) = x^2", 8)],
)
def test_an_equation_is_refused_as_one(text, column):
    """An equation is not an expression to differentiate: one clear line at its =, exit 2.
    x^2+2x+1=0 said only 'invalid syntax', and sin(x) = cos(x) was read as a definition of
    a result named sin and gave the derivative of cos(x), exit 0."""
    out = run("derive", text)
    assert out.exit_code == 2, out.output
    assert "this is an equation" in out.output and f"(column {column})" in out.output
    assert "Traceback" not in out.output
