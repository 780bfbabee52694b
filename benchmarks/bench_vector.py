"""Speed of the vector engine, as ratios against the scalar engine in the same process.

    python benchmarks/bench_vector.py [--quick]

(a) derive + all four renderings of the §5 neuron (by w) and the §6 MSE loss (by w),
    median, against the same for ln(sin(x³)²); target ≤ 4×.
(b) the explicit check alone (writing the problem out at n = 3, N = 2 and comparing
    with SymPy's Matrix.jacobian), median; target ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)

import matcalc
from matcalc.verify import verify_explicit

CASES = {
    "ln(sin(x**3)**2)": dict(expr="ln(sin(x**3)**2)"),
    "neuron by w": dict(expr="max(0, w @ x + b)", wrt="w", vectors=["w", "x"]),
    "MSE loss by w": dict(
        expr="sum((y - max(0, X @ w + b))**2) / N",
        wrt="w",
        vectors=["w", "y:N"],
        matrices=["X:N,n"],
    ),
}


def _median(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _all(spec) -> None:
    spec = dict(spec)
    d = matcalc.derive(spec.pop("expr"), spec.pop("wrt", None), **spec)
    d.to_text(), d.to_markdown(), d.to_latex(), d.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    repeat = 10 if parser.parse_args().quick else 40
    times = {name: _median(lambda s=spec: _all(s), repeat) for name, spec in CASES.items()}
    base = times["ln(sin(x**3)**2)"]
    print("(a) derive + text + markdown + latex + json, median:")
    for name, t in times.items():
        print(f"    {name:18} {t * 1e3:7.2f} ms  {t / base:5.2f}x ln(sin(x³)²)  (target <= 4x)")
    print("(b) explicit verification alone (n = 3, N = 2), median:")
    for name in ("neuron by w", "MSE loss by w"):
        spec = dict(CASES[name])
        d = matcalc.derive(spec.pop("expr"), spec.pop("wrt"), **spec)
        shapes = {decl.symbol: decl for decl in d.problem.declarations}
        expr, wrt = d.problem.exprs[0], d.problem.wrt[0]
        t = _median(lambda: verify_explicit(expr, wrt, d.result, shapes, "numerator"), repeat)
        print(f"    {name:18} {t * 1e3:7.2f} ms  (target <= 200 ms)")


if __name__ == "__main__":
    main()
