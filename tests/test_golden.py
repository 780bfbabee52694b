"""Golden files pin the wording of every format for the paper's key examples.

The files in ``tests/golden`` are the reviewed output.  After a deliberate change
of wording, regenerate them and read the diff before committing:

    MATCALC_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py

Truth about the mathematics comes from the engine tests, not from here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import matcalc

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "ln_sin_cube_squared": dict(expr="ln(sin(x**3)**2)"),
    "sin_x_plus_x_squared": dict(expr="sin(x + x**2)"),
    "gradient_3x2y": dict(expr="3*x**2*y", wrt="x,y"),
    "jacobian_f_g": dict(expr=["3*x**2*y", "2*x + y**8"], wrt="x,y"),
    "neuron_by_w": dict(expr="max(0, w @ x + b)", wrt="w", vectors=["w", "x"]),
    "mse_loss_by_w": dict(
        expr="sum((y - max(0, X @ w + b))**2) / N",
        wrt="w",
        vectors=["w", "y:N"],
        matrices=["X:N,n"],
    ),
}

FORMATS = {
    "txt": lambda d: d.to_text(),
    "md": lambda d: d.to_markdown(),
    "tex": lambda d: d.to_latex(),
    "json": lambda d: d.to_json(indent=2) + "\n",
}


def derivation(case: str):
    spec = dict(CASES[case])
    return matcalc.derive(spec.pop("expr"), spec.pop("wrt", None), **spec)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, fmt: str) -> None:
    d = derivation(case)
    assert d.verified is True
    produced = FORMATS[fmt](d)
    path = GOLDEN / f"{case}.{fmt}"
    if os.environ.get("MATCALC_REGENERATE_GOLDEN"):
        path.write_text(produced, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(produced) == json.loads(expected)
    else:
        assert produced == expected, f"{path} differs; see tests/test_golden.py to regenerate"
