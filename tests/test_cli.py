"""The CLI as a user meets it: output, exit codes and one-line errors (CliRunner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from matcalc.cli import main

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


def run(*args: str):
    return CliRunner().invoke(main, list(args))


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
    assert len(lines) == 1 and lines[0].startswith("matcalc: error:"), result.stderr
    assert not Path("/tmp/matcalc_cli_pwned").exists()


def test_parse_error_names_the_column():
    result = run("derive", "sin(x")
    assert "column 4" in result.stderr and "unclosed" in result.stderr


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
