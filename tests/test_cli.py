"""The CLI as a user meets it: output, exit codes and one-line errors (CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from conftest import run

HOSTILE = [
    "__import__('os').system('touch /tmp/matcalc_cli_pwned')",
    "().__class__.__base__.__subclasses__()",
    "lambda: 1",
    "[x for x in y]",
    "(y := 2)",
    "f(*x)",
    "f(x=1)",
    'f"{x}"',
    "sin(x",
    "x + )",
    "",
    "   ",
    "x**(10**10**10)",
    "9**9**9",
    "(" * 10000 + "x" + ")" * 10000,
]


def test_derive_shows_the_papers_steps():
    result = run("derive", "ln(sin(x**3)**2)")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for piece in ("u₁ = x³", "u₂ = sin(u₁)", "u₃ = u₂²", "ln(u₃)", "power rule", "chain rule"):
        assert piece in out, piece
    assert "Verified" in out
    assert "Derivative(" not in out and "Heaviside" not in out and "log(" not in out


def test_ascii_output():
    result = run("derive", "sin(x**2)", "--ascii")
    assert result.exit_code == 0
    assert result.stdout.isascii()


@pytest.mark.parametrize("fmt", ["markdown", "latex", "json"])
def test_every_format(fmt):
    result = run("derive", "sin(x + x**2)", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_json_is_the_contract():
    result = run("derive", "3*x**2*y", "2*x + y**8", "--wrt", "x,y", "--format", "json")
    data = json.loads(result.stdout)
    for key in ("input", "wrt", "result", "result_latex", "verified", "steps"):
        assert key in data
    assert data["verified"] is True
    x, y = sympy.symbols("x y")
    parsed = sympy.parse_expr(data["result"])  # test-only: our own output, not user text
    assert sympy.Matrix(parsed) == sympy.Matrix([[6 * x * y, 3 * x**2], [2, 8 * y**7]])


def test_gradient_and_layout():
    num = run("derive", "3*x**2*y", "--wrt", "x,y", "--format", "json")
    den = run("derive", "3*x**2*y", "--wrt", "x,y", "--layout", "denominator", "--format", "json")
    assert json.loads(num.stdout)["result"] == "Matrix([[6*x*y, 3*x**2]])"
    assert json.loads(den.stdout)["result"] == "Matrix([[6*x*y], [3*x**2]])"


def test_standalone_latex_is_a_document():
    result = run("derive", "x*x**2", "--format", "latex", "--standalone")
    assert result.stdout.lstrip().startswith("\\documentclass")
    assert "\\end{document}" in result.stdout


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_one_line_exit_2(text):
    result = run("derive", text)
    assert result.exit_code == 2, (text, result.output)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # the one-line message first; then, for a short one-line input, the input and a caret
    assert 1 <= len(lines) <= 3 and lines[0].startswith("matcalc: error:"), result.stderr
    assert all(line.isascii() for line in lines[1:])
    assert not Path("/tmp/matcalc_cli_pwned").exists()


def test_parse_error_names_the_column():
    result = run("derive", "sin(x")
    assert "column 4" in result.stderr and "unclosed" in result.stderr


def caret_lines(result) -> tuple[str, str, str]:
    message, echoed, caret = result.stderr.splitlines()
    return message, echoed, caret


def test_parse_error_shows_the_input_and_a_caret():
    result = run("derive", "sin(x")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "matcalc: error: unclosed '(' (column 4)",
        "  sin(x",
        "     ^",
    ]


@pytest.mark.parametrize(
    "text,echoed,under",
    [
        ("x\u202e+y", "x\\u202e+y", "\\u202e"),  # a bidi override is shown escaped
        ("\u0445 + 1", "\\u0445 + 1", "\\u0445"),  # a Cyrillic look-alike of x
        ("x +\x00 1", "x +\\x00 1", "\\x00"),  # NUL
        # what the parser reads (−, ω, ²) is shown as typed, one column each
        ("\u2212x + )", "\u2212x + )", ")"),
        ("\u03c9\u00b2 + \u0445", "\u03c9\u00b2 + \\u0445", "\\u0445"),
    ],
)
def test_caret_is_terminal_safe_and_aligned(text, echoed, under):
    from matcalc.parse.source import ACCEPTED

    result = run("derive", text)
    assert result.exit_code == 2
    message, shown, caret = caret_lines(result)
    assert shown == "  " + echoed
    assert all(ch.isascii() or ch in ACCEPTED for ch in shown)
    assert shown[caret.index("^") :].startswith(under), (shown, caret)


@pytest.mark.parametrize(
    "args,column,text",
    [
        (["x / A", "--vector", "x", "--matrix", "A"], 3, "division by a matrix is not supported"),
        (["w @ X", "--vector", "w", "--matrix", "X:N,n"], 3, "length n does not match N rows"),
        (["x**(10**10**10)"], 7, "exponent too large"),
    ],
)
def test_unsupported_shape_and_limit_errors_point_at_the_column(args, column, text):
    result = run("derive", *args)
    assert result.exit_code == 2
    message, shown, caret = caret_lines(result)
    assert text in message and f"(column {column})" in message
    assert caret.index("^") - 2 == column - 1
    assert "sympy" not in result.stderr.lower() and "Traceback" not in result.stderr


def test_long_input_has_no_caret():
    result = run("derive", "x + " * 40 + ")")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1


def test_math_errors_exit_1_and_name_the_problem():
    result = run("derive", "max(sqrt(-1), x)")
    assert result.exit_code == 1
    assert result.stderr.startswith("matcalc: error: max needs real arguments")
    result = run("derive", "x + 1/0")
    assert result.exit_code == 1 and "undefined" in result.stderr


def test_several_variables_need_wrt():
    result = run("derive", "3*x**2*y")
    assert result.exit_code == 2
    assert "--wrt" in result.stderr


def test_json_errors_are_json():
    result = run("derive", "sin(x", "--format", "json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "parse" and error["column"] == 4


def test_bad_option_is_a_usage_error():
    assert run("derive", "x**2", "--layout", "sideways").exit_code == 2
    assert run("derive", "x**2", "--wrt", "1x").exit_code == 2


def test_help_has_examples():
    result = run("derive", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and 'matcalc derive "ln(sin(x**3)**2)"' in result.stdout


def test_python_dash_m_runs_the_same_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "matcalc", "derive", "x**3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "3x²" in proc.stdout or "3⋅x²" in proc.stdout or "3·x²" in proc.stdout


def test_a_result_that_is_not_verified_exits_1_after_showing_it(monkeypatch):
    """When the check cannot decide (here: made to find no usable point), the derivation
    is shown, and a script gets exit status 1 and one warning line."""
    import matcalc.verify

    monkeypatch.setattr(matcalc.verify, "_symbolically_zero", lambda diff: False)
    monkeypatch.setattr(matcalc.verify, "_numeric", lambda *a, **k: (None, 0))
    result = run("derive", "sin(x)**2")
    assert result.exit_code == 1
    assert "Not verified" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "matcalc: warning: the result is not verified (SymPy could not decide, and the numeric "
        "check was inconclusive)"
    ]
