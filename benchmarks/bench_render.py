"""The four renderings alone, each against ``sympy.diff`` of the same expression.

    python benchmarks/bench_render.py               # 200 scalar expressions of bench_tail
    python benchmarks/bench_render.py --scalar 500 --vector 200
    python benchmarks/bench_render.py --profile /tmp/render.prof   # cProfile of the renderings

The inputs are ``bench_tail``'s (same seed, same order).  Each case runs as bench_tail
times it: SymPy's cache (and so matcalc's printed forms) cleared, ``matcalc.derive``, then
``to_text``, ``to_markdown``, ``to_latex`` and ``to_json`` one after the other, each timed
apart in CPU time.  Reported per rendering, and for the four together: the median over the
cases of its time in multiples of one ``sympy.diff`` (cache cleared) of the same expression.
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)
import bench_tail as bt
from sympy.core.cache import clear_cache

import matcalc
from matcalc.errors import MatcalcError

FORMATS = ("to_text", "to_markdown", "to_latex", "to_json")


def cases(n_scalar: int, n_vector: int):
    """bench_tail's cases: (text, reference, keywords)."""
    return bt.cases(n_scalar, n_vector)


def measure(rows, profiler: cProfile.Profile | None):
    """Per case: (sympy, derive, text, markdown, latex, json) CPU seconds."""
    clock = time.process_time
    out = []
    for text, truth, kw in rows:
        clear_cache()
        start = clock()
        truth()
        t_sympy = clock() - start
        clear_cache()
        start = clock()
        try:
            d = matcalc.derive(text, "x", **kw)
        except MatcalcError:
            continue
        times = [t_sympy, clock() - start]
        if profiler is not None:
            profiler.enable()
        for name in FORMATS:
            start = clock()
            getattr(d, name)()
            times.append(clock() - start)
        if profiler is not None:
            profiler.disable()
        out.append(times)
    return out


def report(title: str, rows) -> None:
    def median_ratio(k: int | slice) -> float:
        return statistics.median(
            (sum(r[k]) if isinstance(k, slice) else r[k]) / max(r[0], 1e-6) for r in rows
        )

    names = ["derive", *(f.removeprefix("to_") for f in FORMATS)]
    parts = "  ".join(f"{n} {median_ratio(k):.2f}" for k, n in enumerate(names, 1))
    total = sum(sum(r[2:]) for r in rows)
    print(f"{title}: {len(rows)} cases; × sympy.diff (median of per-case ratios): {parts}")
    print(f"  four renderings together {median_ratio(slice(2, 6)):.2f}×; total {total:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalar", type=int, default=200)
    parser.add_argument("--vector", type=int, default=0)
    parser.add_argument("--profile", help="write a cProfile of the renderings to this file")
    args = parser.parse_args()
    scalar, vector = cases(args.scalar, args.vector)
    matcalc.derive("x**2").to_json()  # imports and first-call costs are not the point here
    profiler = cProfile.Profile() if args.profile else None
    if scalar:
        report("scalar", measure(scalar, profiler))
    if vector:
        report("vector", measure(vector, profiler))
    if profiler is not None:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
