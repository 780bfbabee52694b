"""Speed of the scalar engine, as ratios against baselines run on the same machine.

    python benchmarks/bench_scalar.py            # all three parts
    python benchmarks/bench_scalar.py --quick    # fewer repetitions

(a) whole process: ``matcalc derive "ln(sin(x**3)**2)"`` against
    ``python -c "import sympy"``; target ≤ 1.3×.
(b) in process: derive + all four renderings of each paper example, median;
    target ≤ 5 ms, reported also as a ratio to ``sympy.diff`` of the same
    expression.  "warm" repeats the same input (SymPy's cache is hot); "cold"
    clears SymPy's cache before each run.
(c) scaling: nested chains sin(sin(…x…)) of depth 10–200 and sums
    x + x² + … of 10–500 terms; the slope of log(time) against log(size)
    (1.0 is linear).
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)
import sympy

import matcalc

PAPER = [
    ("9*(x + x**2)", None),
    ("3*x**2*y", "x"),
    ("3*x**2*y", "x,y"),
    (["3*x**2*y", "2*x + y**8"], "x,y"),
    ("sin(x**2)", None),
    ("ln(sin(x**3)**2)", None),
    ("x + x**2", None),
    ("sin(x + x**2)", None),
    ("x*x**2", None),
    (["ln(x**2)", "sin(3*x)"], "x"),
]


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def whole_process(repeat: int) -> None:
    exe = shutil.which("matcalc")
    cmd = [exe] if exe else [sys.executable, "-m", "matcalc"]
    ours = cmd + ["derive", "ln(sin(x**3)**2)"]
    base = [sys.executable, "-c", "import sympy"]
    t_ours, t_base = [], []
    for _ in range(repeat):  # interleaved, so drift hits both alike
        for argv, acc in ((base, t_base), (ours, t_ours)):
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            acc.append(time.perf_counter() - start)
    a, b = statistics.median(t_ours), statistics.median(t_base)
    print(
        f"(a) whole process: matcalc derive {a * 1000:.0f} ms, import sympy {b * 1000:.0f} ms, "
        f"ratio {a / b:.2f}x (target <= 1.3x)"
    )


def _all_formats(expr, wrt) -> None:
    d = matcalc.derive(expr, wrt)
    d.to_text(), d.to_markdown(), d.to_latex(), d.to_json()


def _sympy_diff(expr, wrt) -> None:
    exprs = [expr] if isinstance(expr, str) else expr
    symbols = {n: sympy.Symbol(n, real=True) for n in "xy"}
    names = (wrt or "x").split(",")
    for text in exprs:
        e = matcalc.parse.parse(text).doit()
        for n in names:
            sympy.diff(e, symbols[n])


def in_process(repeat: int) -> None:
    print("(b) derive + text + markdown + latex + json, median per example:")
    print(
        f"    {'example':34} {'warm ms':>8} {'cold ms':>8} {'sympy.diff ms':>14} {'warm/diff':>10}"
    )
    warm_all, cold_all = [], []
    for expr, wrt in PAPER:
        _all_formats(expr, wrt)
        warm = _median_time(lambda: _all_formats(expr, wrt), repeat)

        def cold():
            sympy.core.cache.clear_cache()
            _all_formats(expr, wrt)

        cold_t = _median_time(cold, max(5, repeat // 4))
        base = _median_time(lambda: _sympy_diff(expr, wrt), repeat)
        warm_all.append(warm)
        cold_all.append(cold_t)
        label = expr if isinstance(expr, str) else " ; ".join(expr)
        label += f"  wrt {wrt}" if wrt else ""
        print(
            f"    {label[:34]:34} {warm * 1e3:8.2f} {cold_t * 1e3:8.2f} {base * 1e3:14.3f} "
            f"{warm / base:10.1f}"
        )
    print(
        f"    median over examples: warm {statistics.median(warm_all) * 1e3:.2f} ms, "
        f"cold {statistics.median(cold_all) * 1e3:.2f} ms (target <= 5 ms)"
    )


def _chain(depth: int):
    x = sympy.Symbol("x", real=True)
    e = x
    for k in range(depth):
        e = (sympy.sin if k % 2 else sympy.cos)(e, evaluate=False)
    return e


def _sum(terms: int):
    x = sympy.Symbol("x", real=True)
    return sympy.Add(
        *[sympy.Pow(x, k, evaluate=False) for k in range(1, terms + 1)], evaluate=False
    )


def _slope(sizes, times) -> float:
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in times]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    return sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / sum((a - mx) ** 2 for a in xs)


def scaling(repeat: int) -> None:
    limits = matcalc.Limits(max_depth=1000, max_nodes=100_000, timeout=600)
    x = sympy.Symbol("x", real=True)
    for label, make, sizes in (
        ("nested chain depth", _chain, (10, 25, 50, 100, 200)),
        ("sum of terms", _sum, (10, 50, 100, 250, 500)),
    ):
        ours, base = [], []
        for n in sizes:
            e = make(n)
            reps = max(3, repeat // 10)
            ours.append(_median_time(lambda: matcalc.derive(e, limits=limits), reps))
            evaluated = e.doit()
            base.append(_median_time(lambda: sympy.diff(evaluated, x), reps))
        row = ", ".join(
            f"{n}: {t * 1e3:.0f} ms ({t / b:.0f}x diff)" for n, t, b in zip(sizes, ours, base)
        )
        print(f"(c) {label}: {row}")
        print(
            f"    log-log slope: matcalc {_slope(sizes, ours):.2f}, sympy.diff {_slope(sizes, base):.2f} "
            "(1.0 = linear)"
        )


def main() -> None:
    sys.setrecursionlimit(20_000)  # SymPy's printers recurse ~5 frames per nesting level
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 10 if args.quick else 40
    whole_process(5 if args.quick else 15)
    in_process(repeat)
    scaling(repeat)


if __name__ == "__main__":
    main()
