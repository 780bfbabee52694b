"""Matrix functions (inv, det, logdet, matrix_power): matcalc's derive against SymPy's
derivative of the explicit components at n = 3, in one process.

    python benchmarks/bench_matrix_functions.py [--cpu]

The check of a matrix function differentiates the input written out in components at
n = 2 and n = 3, at four points each (``verify.verify_matrix_functions``): the cost that
red team 5 saw pass the 10 s limit for 131 of 762 inputs on a loaded machine, such as
3c·det(X⁻¹XA)² (5.9 s of CPU before its inverses and determinants were taken over an exact
field).  SymPy's side is ``Matrix.jacobian`` of the scalar written with SymPy's own inv,
det and powers of the 3×3 matrix of symbols (so it is symbolic, and heavier than one point).
It times the matcalc of the checkout it sits in (``_checkout``), not an installed one; the
cache is cleared before every run.  ``--cpu``: this process's CPU time (steadier on a busy
machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)
import sympy as sp
from sympy.core.cache import clear_cache

import matcalc

N = 3
X = sp.Matrix(N, N, lambda i, j: sp.Symbol(f"X_{i + 1}{j + 1}", real=True))
A = sp.Matrix(N, N, lambda i, j: sp.Symbol(f"A_{i + 1}{j + 1}", real=True))
a = sp.Matrix([sp.Symbol(f"a_{i + 1}", real=True) for i in range(N)])
b = sp.Matrix([sp.Symbol(f"b_{i + 1}", real=True) for i in range(N)])
c = sp.Symbol("c", real=True)

CASES = [  # (matcalc's input, the same scalar in SymPy's components)
    ("det(X)", lambda: X.det()),
    ("logdet(X)", lambda: sp.log(X.det())),
    ("trace(inv(X) @ A)", lambda: (X.inv() * A).trace()),
    ("a @ inv(X) @ b", lambda: (a.T * X.inv() * b)[0]),
    ("det(inv(X) @ A)", lambda: (X.inv() * A).det()),
    ("trace(matrix_power(X, 3))", lambda: (X**3).trace()),
    ("exp(det(X))", lambda: sp.exp(X.det())),
    ("3*c*det(inv(X) @ X @ A)**2", lambda: 3 * c * (X.inv() * X * A).det() ** 2),
    ("trace(inv(X) @ A @ X)", lambda: (X.inv() * A * X).trace()),
    ("ln(det(A @ X))", lambda: sp.log((A * X).det())),
]

CLOCK = time.perf_counter


def timed(fn) -> float:
    clear_cache()
    start = CLOCK()
    fn()
    return CLOCK() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of the wall clock")
    args = parser.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    matcalc.derive("det(X)", "X", matrices="X")  # imports and first-call costs
    ours, theirs = [], []
    print(f"{'input':32} {'matcalc':>9} {'SymPy':>9} {'ratio':>7}")
    for text, truth in CASES:
        mine = timed(lambda t=text: matcalc.derive(t, "X", matrices="X,A", vectors="a,b"))
        sympy_s = timed(lambda f=truth: sp.Matrix([f()]).jacobian(list(X)))
        ours.append(mine)
        theirs.append(sympy_s)
        print(f"{text:32} {mine:8.2f}s {sympy_s:8.2f}s {mine / sympy_s:6.2f}×")
    ratios = [m / s for m, s in zip(ours, theirs)]
    print(
        f"total matcalc {sum(ours):.2f}s, SymPy {sum(theirs):.2f}s; "
        f"median ratio {statistics.median(ratios):.2f}×, max {max(ratios):.2f}×"
    )


if __name__ == "__main__":
    main()
