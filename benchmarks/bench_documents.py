"""Speed and memory of ``matcalc doc``: 1000 generated problems to Markdown.

    python benchmarks/bench_documents.py            # 1000 problems, --jobs 1 and 2
    python benchmarks/bench_documents.py --problems 200 --jobs 1 2 4

The problems are a generated mix of the paper's kinds (a chain of functions,
the total-derivative rule, the product rule, a gradient, a Jacobian, an
element-wise vector operation, scalar expansion, a sum reduction, the neuron
and the MSE loss), with coefficients and exponents varied so that SymPy's
cache does not make them free.  Each run is the real CLI in a fresh process:

- problems per second for the whole document, and the ratio against
  ``matcalc.derive`` + ``to_markdown`` of one problem in-process
  (``ln(sin(x**3)**2)``, warm, median), and against the same over the mix
  in-process (the first 110 problems): the cost of the document machinery,
  process start-up and workers included;
- peak memory: the largest resident set of the CLI process or any of its
  workers (``RUSAGE_CHILDREN``), and of this process for the in-process baseline
  (``RUSAGE_SELF``).

Target: the 1000-problem document in under 60 s with ``--jobs 2``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0

KINDS = [
    # (title, expr template, wrt, vectors, matrices); {a} {b} {k} vary per problem
    ("chain", "sin({a}*x**{k})", "x", [], []),
    ("four nested", "ln(sin({a}*x**{k})**2)", "x", [], []),
    ("total derivative", "sin(x + {a}*x**{k})", "x", [], []),
    ("product rule", "x**{b}*x**{k}", "x", [], []),
    ("gradient", "{a}*x**{k}*y", ["x", "y"], [], []),
    ("jacobian", ["{a}*x**2*y", "2*x + y**{k}"], ["x", "y"], [], []),
    ("element-wise", "w * x + {a}", "w", ["w", "x"], []),
    ("scalar expansion", "x * z + {a}", "z", ["x"], []),
    ("sum reduction", "sum({a} * x * z)", "x", ["x"], []),
    ("neuron", "max(0, {a} * (w @ x) + b)", "w", ["w", "x"], []),
    ("MSE loss", "sum((y - max(0, X @ w + {a}*b))**2) / N", "w", ["w", "y:N"], ["X:N,n"]),
]


def problems_toml(count: int) -> str:
    """``count`` problems cycling through KINDS, each with its own constants."""
    lines = ['title = "Benchmark"']
    for i in range(count):
        title, template, wrt, vectors, matrices = KINDS[i % len(KINDS)]
        values = {"a": 2 + i % 7, "b": 1 + i % 3, "k": 2 + (i // len(KINDS)) % 6}
        exprs = [
            t.format(**values) for t in ([template] if isinstance(template, str) else template)
        ]
        lines += ["", "[[problem]]", f"title = {json.dumps(f'{title} {i + 1}')}"]
        key = "expr" if len(exprs) == 1 else "exprs"
        lines.append(f"{key} = {json.dumps(exprs[0] if len(exprs) == 1 else exprs)}")
        lines.append(f"wrt = {json.dumps(wrt)}")
        if vectors:
            lines.append(f"vectors = {json.dumps(vectors)}")
        if matrices:
            lines.append(f"matrices = {json.dumps(matrices)}")
    return "\n".join(lines) + "\n"


# Runs in a fresh interpreter, so that RUSAGE_CHILDREN sees only this one CLI run.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(done.returncode, seconds, peak)
sys.stderr.write(done.stderr)
"""


def run_cli(source: Path, out: Path, jobs: int) -> tuple[float, int]:
    command = [
        sys.executable,
        "-m",
        "matcalc",
        "doc",
        str(source),
        "-o",
        str(out),
        "--jobs",
        str(jobs),
    ]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=False
    )
    code, seconds, peak = done.stdout.split()
    if code != "0":
        raise SystemExit(f"matcalc doc --jobs {jobs} failed ({code}):\n{done.stderr}")
    return float(seconds), int(peak)


def baseline(repeat: int = 50) -> float:
    """Seconds for derive + to_markdown of one problem in-process (warm, median)."""
    import matcalc

    def once() -> None:
        matcalc.derive("ln(sin(x**3)**2)").to_markdown()

    once()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mix_in_process(count: int) -> float:
    """Problems per second for derive + to_markdown over the first ``count`` problems of the mix."""
    from matcalc import documents

    sets = documents.loads_toml(problems_toml(count))
    start = time.perf_counter()
    for exercise in sets.exercises:
        documents.solve(exercise, "markdown", "en")
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=1000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    base = baseline()
    base_rate = 1 / base
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"in-process derive + to_markdown of ln(sin(x**3)**2): {base * 1e3:.2f} ms, "
        f"{base_rate:.0f} problems/s, peak memory {self_peak / 1024:.0f} MB"
    )
    mix_rate = mix_in_process(10 * len(KINDS))
    print(
        f"in-process derive + to_markdown over the mix (first {10 * len(KINDS)} problems): "
        f"{mix_rate:.1f} problems/s"
    )
    with tempfile.TemporaryDirectory(prefix="matcalc-bench-") as tmp:
        source = Path(tmp, "problems.toml")
        source.write_text(problems_toml(args.problems), encoding="utf-8")
        outputs = []
        for jobs in args.jobs:
            out = Path(tmp, f"doc-{jobs}.md")
            seconds, peak = run_cli(source, out, jobs)
            rate = args.problems / seconds
            outputs.append(out.read_bytes())
            verdict = ""
            if jobs == 2 and args.problems >= 1000:
                verdict = f"  (target < {TARGET_SECONDS:.0f} s: {'met' if seconds < TARGET_SECONDS else 'MISSED'})"
            print(
                f"matcalc doc, {args.problems} problems, --jobs {jobs}: {seconds:.1f} s, "
                f"{rate:.1f} problems/s = {rate / base_rate:.2f}x the one-problem in-process rate "
                f"({rate / mix_rate:.2f}x the mix in-process), "
                f"peak memory {peak / 1024:.0f} MB per process{verdict}"
            )
        same = all(o == outputs[0] for o in outputs)
        size = len(outputs[0]) / 1e6
        print(f"document: {size:.1f} MB of Markdown; identical for every --jobs: {same}")
        if not same:
            raise SystemExit("the document depends on --jobs")


if __name__ == "__main__":
    main()
