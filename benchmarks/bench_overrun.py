"""How far past its time limit matcalc runs, over the hostile corpus and heavy inputs.

    python benchmarks/bench_overrun.py              # limit 1 s, main thread and a worker thread
    python benchmarks/bench_overrun.py --timeout 2 --cli   # also the whole CLI command

Every line of ``tests/data/hostile.txt`` plus the heavy inputs of issue 13 is derived by x
(and rendered as text) under the limit, in the main thread (SIGALRM) and in a worker thread
(cooperative checks and bounded SymPy calls only); with ``--cli``, ``matcalc derive ...
--timeout T`` is also timed as a whole process (imports excluded: it reports the command's
own elapsed time, from a wrapper that imports first).  Reported: the worst elapsed time and
its overrun past the limit, per mode, and any outcome that is not a ``MatcalcError``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)

import matcalc
from matcalc.errors import MatcalcError

ROOT = Path(__file__).resolve().parent.parent
HEAVY = [
    "x*((((x+1)**9)**9)**9)**9",
    "x*(x+y+z+1)**200",
    "x*((((((((x+1)**9)**9)**9)**9)**9)**9)**9)**9",
    "(x**2 + x + 1)**100*(x**3 - x + 2)**100",
    "(((exp(y)) - ((x)/(2 + (y)**2)))**2*(3))/(2 + (((1/(1 + (3)**2)) + ((x) + (x*y)))"
    "*(1/(1 + (sigmoid(2*x))**2)))**2)",
    "(1+x+x**2+x**3)**40/(1-x)**40",
    "x*((x-x+3)**999)**999",
]
CLI_WRAPPER = """
import sys, time
import matcalc.cli, matcalc.api, matcalc.render.text
start = time.monotonic()
try:
    matcalc.cli.main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(f"{time.monotonic() - start:.3f} {code}", file=sys.stderr)
"""


def corpus() -> list[str]:
    lines = (ROOT / "tests" / "data" / "hostile.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")] + HEAVY


def one(text: str, timeout: float) -> tuple[float, str]:
    start = time.monotonic()
    try:
        matcalc.derive(text, "x", timeout=timeout).to_text()
        outcome = "result"
    except MatcalcError as error:
        outcome = type(error).__name__
    except Exception as error:  # a bug: reported, not fatal
        outcome = f"BUG {type(error).__name__}"
    return time.monotonic() - start, outcome


def in_thread(text: str, timeout: float) -> tuple[float, str]:
    box: list[tuple[float, str]] = []
    thread = threading.Thread(target=lambda: box.append(one(text, timeout)), daemon=True)
    thread.start()
    thread.join(600)
    return box[0] if box else (600.0, "still running")


def cli(text: str, timeout: float) -> tuple[float, str]:
    args = [
        sys.executable,
        "-c",
        CLI_WRAPPER,
        "derive",
        text,
        "--wrt",
        "x",
        "--timeout",
        str(timeout),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=ROOT)
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "nan ?"
    elapsed, code = last.split()[:2]
    return float(elapsed), f"exit {code}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--cli", action="store_true", help="also time whole CLI commands")
    args = parser.parse_args()
    modes = {"main thread": one, "worker thread": in_thread}
    if args.cli:
        modes["cli"] = cli
    texts = corpus()
    for mode, run in modes.items():
        worst, worst_text = 0.0, ""
        for text in texts:
            elapsed, outcome = run(text, args.timeout)
            if outcome.startswith(("BUG", "still")):
                print(f"  {mode}: {outcome}: {text[:70]!r}")
            if elapsed > worst:
                worst, worst_text = elapsed, text
        print(
            f"{mode:14s} {len(texts)} inputs, limit {args.timeout:g} s: worst {worst:.2f} s, "
            f"overrun {max(0.0, worst - args.timeout):.2f} s  ({worst_text[:50]!r})"
        )


if __name__ == "__main__":
    main()
