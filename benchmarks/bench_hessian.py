"""Cost of a Hessian against its gradient on the same expression, and against
``sympy.hessian`` of the explicit components at n = 3, in one process.

    python benchmarks/bench_hessian.py [--quick] [--cpu]

Target (issue 12): a Hessian costs at most 5x its gradient (derive, with verification).
The last column is the Hessian-vector product H·v (``hvp="v"``) of the same expression.
It times the matcalc of the checkout it sits in (``_checkout``), not an installed one.
SymPy's cache is cleared before every run, so neither side reuses the other's work.
``--cpu`` times this process's CPU time instead of the wall clock (steadier on a busy
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

MSE = dict(vectors=["w", "y:N"], matrices=["X:N,n"])
CASES = [
    ("xᵀAx", "x.T @ A @ x", "x", dict(vectors=["x"], matrices=["A"])),
    ("logsumexp", "logsumexp(z)", "z", dict(vectors=["z"])),
    (
        "logistic loss",
        "-sum(y * ln(sigmoid(X @ w + b)) + (1 - y) * ln(1 - sigmoid(X @ w + b)))",
        "w",
        MSE,
    ),
]


CLOCK = time.perf_counter  # --cpu: time.process_time


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_cache()
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return statistics.median(times)


def _sympy_hessian(name: str) -> None:
    n, N = 3, 2
    x = sp.Matrix(sp.symbols("x1:4", real=True))
    if name == "xᵀAx":
        A = sp.Matrix(3, 3, sp.symbols("a1:10", real=True))
        sp.hessian((x.T * A * x)[0], list(x))
    elif name == "logsumexp":
        sp.hessian(sp.log(sum(sp.exp(v) for v in x)), list(x))
    else:
        X = sp.Matrix(N, n, sp.symbols("X1:7", real=True))
        y = sp.symbols("y1:3", real=True)
        b = sp.Symbol("b", real=True)
        s = [1 / (1 + sp.exp(-((X * x)[i] + b))) for i in range(N)]
        loss = -sum(y[i] * sp.log(s[i]) + (1 - y[i]) * sp.log(1 - s[i]) for i in range(N))
        sp.hessian(loss, list(x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of the wall clock")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    print(
        f"{'case':14} {'gradient ms':>12} {'Hessian ms':>11} {'ratio':>6} {'sympy.hessian ms':>17}"
        f" {'H·v ms':>7}"
    )
    for name, expr, wrt, kw in CASES:
        g = _median(lambda: matcalc.derive(expr, wrt, **kw), repeat)
        h = _median(lambda: matcalc.derive(expr, wrt, order=2, **kw), repeat)
        s = _median(lambda: _sympy_hessian(name), repeat)
        with_v = dict(kw, vectors=[*kw["vectors"], "v"])
        v = _median(lambda: matcalc.derive(expr, wrt, hvp="v", **with_v), repeat)
        print(
            f"{name:14} {g * 1e3:12.1f} {h * 1e3:11.1f} {h / g:5.1f}x {s * 1e3:17.1f}"
            f" {v * 1e3:7.1f}"
        )
    print("target: Hessian <= 5x gradient")


if __name__ == "__main__":
    main()
