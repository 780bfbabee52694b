"""Cost of `matcalc check` as a ratio to `derive` of the same problem, in one process.

    python benchmarks/bench_check.py [--quick]

For each (problem, answer) pair: the median time of ``check(expr, answer)`` (which
derives, verifies and then judges the answer) against the median of ``derive(expr)``
alone.  Target (issue 15): a check costs at most 2× a derive of the same problem.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)

import matcalc

MSE = dict(wrt="w", vectors=["w", "y:N"], matrices=["X:N,n"])
CASES = [
    ("right", "x**2*sin(x)", "x*(2*sin(x) + x*cos(x))", {}),
    ("dropped term", "x**2*sin(x)", "2*x*sin(x)", {}),
    ("missing factor", "sin(x**2)", "cos(x**2)", {}),
    ("other layout", "w @ x", "x", dict(wrt="w", vectors=["w", "x"])),
    ("factor N", "sum((X @ w - y)**2) / N", "2*X.T @ (X @ w - y)", MSE),
    ("gate outside", "sum((y - max(0, X @ w + b))**2) / N", "2/N * X.T @ (X @ w + b - y)", MSE),
    ("assumption", "-sum(y * ln(softmax(z)))", "softmax(z) - y", dict(wrt="z", vectors=["y", "z"])),
]


def _median(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    repeat = 3 if parser.parse_args().quick else 9
    print(f"{'case':16} {'derive ms':>10} {'check ms':>10} {'ratio':>7}  (target <= 2x)")
    ratios = []
    for name, expr, answer, kw in CASES:
        derive = _median(lambda: matcalc.derive(expr, **kw), repeat)
        check = _median(lambda: matcalc.check(expr, answer, **kw), repeat)
        ratios.append(check / derive)
        print(f"{name:16} {derive * 1e3:10.1f} {check * 1e3:10.1f} {check / derive:6.2f}x")
    print(f"median ratio {statistics.median(ratios):.2f}x, max {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
