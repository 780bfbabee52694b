"""Helpers shared by the test modules (import them: ``from conftest import require``).

``require`` skips a test without an external tool locally and fails it under CI=true,
where ``.ci/run`` installs the tool; ``katex_report`` runs KaTeX (node and libjs-katex)
over formulas; ``run`` runs the CLI in-process; ``vec`` and ``mat`` are the explicit
components that the references (``sympy.diff``, ``Matrix.jacobian``) differentiate.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner, Result
from sympy import Matrix, Symbol

from matcalc.cli import main

IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
KATEX_CHECK = Path(__file__).parent / "katex_check.js"
KATEX_PATHS = ("/usr/share/javascript/katex/katex.min.js", "/usr/share/javascript/katex/katex.js")


def require(ok: bool, what: str) -> None:
    """Skip without a tool locally; fail under CI=true, where .ci/run installs it."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing, and CI=true: .ci/run must install it")
    pytest.skip(f"{what} is not installed")


def katex_report(formulas: list[dict[str, object]], timeout: float = 300) -> dict:
    """KaTeX's verdict on ``formulas`` ({"tex", "display", "where"} each): a dict with
    "checked", "errors" and "warnings" (tests/katex_check.js)."""
    node = shutil.which("node") or shutil.which("nodejs")
    require(node is not None, "node (nodejs)")
    katex = next((p for p in KATEX_PATHS if Path(p).exists()), None)
    require(katex is not None, "KaTeX (libjs-katex)")
    done = subprocess.run(
        [str(node), str(KATEX_CHECK), str(katex)],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def run(*args: str, stdin: str | None = None) -> Result:
    """``matcalc ARGS`` in this process (click's CliRunner), ``stdin`` as standard input."""
    return CliRunner().invoke(main, list(args), input=stdin)


def vec(name: str, n: int = 3) -> Matrix:
    """The explicit components of a vector: the column (name_1, …, name_n), real."""
    return Matrix([Symbol(f"{name}_{i}", real=True) for i in range(1, n + 1)])


def mat(name: str, rows: int, cols: int) -> Matrix:
    """The explicit components of a matrix: name_ij (1-based), real."""
    return Matrix(rows, cols, lambda i, j: Symbol(f"{name}_{i + 1}{j + 1}", real=True))


def same(a, b) -> bool:
    """Symbolically equal (SymPy's simplify of the difference is 0)."""
    return sympy.simplify(a - b) == 0


def flat(text: str, sep: str = " ") -> str:
    """The output with its line breaks undone (text is filled to the terminal's width)."""
    return sep.join(text.split())
