"""The latency tail: random expressions, matcalc against SymPy in the same process.

    python benchmarks/bench_tail.py                 # 500 scalar + 200 vector expressions
    python benchmarks/bench_tail.py --scalar 100 --vector 40   # a quicker look
    python benchmarks/bench_tail.py --slowest 10    # also list the ten slowest inputs
    python benchmarks/bench_tail.py --cpu           # CPU time of this process, both sides

Expressions come from a fixed seed, so every run times the same inputs:

- scalar: random trees of depth 5 over x and y (sums, differences, products,
  quotients, integer and half-integer powers, and compositions of sin, exp, ln, sqrt,
  tanh, atan and sigmoid), differentiated by x;
- vector: random trees over vectors x, w, a matrix A and a scalar b (element-wise
  + - * and the same functions, A @ ·, reduced by sum or norm or left a vector),
  differentiated by x.

For each one the time of ``matcalc.derive`` plus the four renderings (text, Markdown,
LaTeX, JSON) is set against SymPy doing the same mathematics on the same tree, built
directly as a SymPy expression: ``sympy.diff`` for a scalar, ``Matrix.jacobian`` of the
components at n = 3 for a vector.  Both run in this process, one after the other, with
SymPy's cache cleared before each.  An expression matcalc refuses as undefined as typed
(ln(0), 1/0) is counted apart; a ``LimitError`` under the default time limit is a
refusal.  Reported: the median and the 99th percentile of matcalc's time, the median
ratio matcalc / SymPy, the maximum, and the number refused; and, from the same runs, the
median ratio of derive + the text rendering alone, which is what one ``matcalc derive``
call does.

matcalc memoises printed forms across renderings (``matcalc.render.printing.shared_memo``);
that memo is registered with SymPy's caches, so the ``clear_cache`` before each case
clears it too and no case reuses what an earlier one printed.  The matcalc timed is the
checkout's own (``_checkout``), not an installed one.

Times are wall-clock by default; ``--cpu`` takes this process's CPU time for both sides
instead, which a machine busy with other work disturbs much less (use it to compare two
versions; the p99 target is about the wall clock).

Targets (issue 13): none refused, p99 ≤ 1 s, median ratio ≤ 3.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import _checkout  # noqa: F401  (this checkout's matcalc, not an installed one)
import sympy
from sympy.core.cache import clear_cache

import matcalc
from matcalc.errors import LimitError, MatcalcError, MathError

SEED = 20261129
FUNCS = ("sin", "exp", "ln", "sqrt", "tanh", "atan", "sigmoid")
X, Y = sympy.symbols("x y", real=True)


def _sigmoid(u):
    return 1 / (1 + sympy.exp(-u))


SYMPY_FUNCS = {
    "sin": sympy.sin,
    "exp": sympy.exp,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "tanh": sympy.tanh,
    "atan": sympy.atan,
    "sigmoid": _sigmoid,
}


# -- scalar trees: ("x",) ("n", k) ("f", name, t) ("+", a, b) ("**", a, k) ...
def scalar_tree(rng: random.Random, depth: int):
    if depth <= 1 or rng.random() < 0.15:
        r = rng.random()
        if r < 0.45:
            return ("x",)
        if r < 0.75:
            return ("y",)
        return ("n", rng.choice([1, 2, 3, 5]))
    r = rng.random()
    if r < 0.35:
        return ("f", rng.choice(FUNCS), scalar_tree(rng, depth - 1))
    if r < 0.45:
        return ("**", scalar_tree(rng, depth - 1), rng.choice(["2", "3", "-1", "1/2", "5"]))
    return (rng.choice("+-*/"), scalar_tree(rng, depth - 1), scalar_tree(rng, depth - 1))


def scalar_text(t) -> str:
    kind = t[0]
    if kind in ("x", "y"):
        return kind
    if kind == "n":
        return str(t[1])
    if kind == "f":
        return f"{t[1]}({scalar_text(t[2])})"
    if kind == "**":
        return f"({scalar_text(t[1])})**({t[2]})"
    return f"({scalar_text(t[1])} {kind} {scalar_text(t[2])})"


def scalar_sympy(t):
    kind = t[0]
    if kind == "x":
        return X
    if kind == "y":
        return Y
    if kind == "n":
        return sympy.Integer(t[1])
    if kind == "f":
        return SYMPY_FUNCS[t[1]](scalar_sympy(t[2]))
    if kind == "**":
        return scalar_sympy(t[1]) ** sympy.Rational(t[2])
    a, b = scalar_sympy(t[1]), scalar_sympy(t[2])
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b}[kind]


# -- vector trees: ("x",) ("w",) ("Ax",) ("b",) ("f", name, t) (op, a, b) ("sum", t) ("norm", t)
N = 3
XS = sympy.Matrix([sympy.Symbol(f"x_{i + 1}", real=True) for i in range(N)])
WS = sympy.Matrix([sympy.Symbol(f"w_{i + 1}", real=True) for i in range(N)])
AS = sympy.Matrix(N, N, lambda i, j: sympy.Symbol(f"A_{i + 1}{j + 1}", real=True))
B = sympy.Symbol("b", real=True)


def vector_tree(rng: random.Random, depth: int):
    if depth <= 1 or rng.random() < 0.15:
        return rng.choice([("x",), ("x",), ("w",), ("Ax",), ("b",)])
    r = rng.random()
    if r < 0.4:
        return ("f", rng.choice(FUNCS), vector_tree(rng, depth - 1))
    if r < 0.5:
        return ("**", vector_tree(rng, depth - 1), rng.choice(["2", "3"]))
    return (rng.choice("+-*"), vector_tree(rng, depth - 1), vector_tree(rng, depth - 1))


def vector_case(rng: random.Random):
    tree = vector_tree(rng, 4)
    return (rng.choice(["sum", "sum", "norm", "vec"]), tree)


def vector_text(t) -> str:
    kind = t[0]
    if kind in ("x", "w", "b"):
        return kind
    if kind == "Ax":
        return "(A @ x)"
    if kind == "f":
        return f"{t[1]}({vector_text(t[2])})"
    if kind == "**":
        return f"({vector_text(t[1])})**{t[2]}"
    if kind in ("sum", "norm"):
        return f"{kind}({vector_text(t[1])})"
    if kind == "vec":
        return vector_text(t[1])
    return f"({vector_text(t[1])} {kind} {vector_text(t[2])})"


def vector_sympy(t):
    """A component Matrix (N×1), or a scalar (b)."""
    kind = t[0]
    if kind == "x":
        return XS
    if kind == "w":
        return WS
    if kind == "b":
        return B
    if kind == "Ax":
        return AS * XS
    if kind == "f":
        v = vector_sympy(t[2])
        f = SYMPY_FUNCS[t[1]]
        return v.applyfunc(f) if isinstance(v, sympy.MatrixBase) else f(v)
    if kind == "**":
        v = vector_sympy(t[1])
        k = sympy.Integer(t[2])
        return v.applyfunc(lambda e: e**k) if isinstance(v, sympy.MatrixBase) else v**k
    if kind == "sum":
        v = vector_sympy(t[1])
        return sum(v) if isinstance(v, sympy.MatrixBase) else N * v
    if kind == "norm":
        v = vector_sympy(t[1])
        if not isinstance(v, sympy.MatrixBase):
            v = sympy.Matrix([v] * N)
        return sympy.sqrt(sum(e**2 for e in v))
    if kind == "vec":
        return vector_sympy(t[1])
    a, b = vector_sympy(t[1]), vector_sympy(t[2])
    if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase):
        return {"+": a + b, "-": a - b, "*": a.multiply_elementwise(b)}[kind]
    if kind == "*":
        return a * b
    if isinstance(a, sympy.MatrixBase):
        return a.applyfunc(lambda e: e + b if kind == "+" else e - b)
    if isinstance(b, sympy.MatrixBase):
        return b.applyfunc(lambda e: a + e if kind == "+" else a - e)
    return a + b if kind == "+" else a - b


def _uses_vector(t) -> bool:
    return t[0] in ("x", "w", "Ax") or any(isinstance(a, tuple) and _uses_vector(a) for a in t[1:])


# -- timing ---------------------------------------------------------------------------------------
CLOCK = time.perf_counter  # --cpu: time.process_time


def _timed(fn):
    clear_cache()
    start = CLOCK()
    value = fn()
    return CLOCK() - start, value


def _ours(text: str, **kw):
    """derive and the four renderings; the time of derive + text (what ``matcalc derive``
    prints) is kept apart as well."""

    def run():
        d = matcalc.derive(text, "x", **kw)
        d.to_text()
        run.first = CLOCK() - run.start
        d.to_markdown(), d.to_latex(), d.to_json()
        return d

    return run


def _timed_ours(run) -> tuple[float, float]:
    """(derive + the four renderings, derive + text) in seconds."""
    clear_cache()
    run.start = CLOCK()
    run()
    return CLOCK() - run.start, run.first


def measure(cases, timeout: float | None):
    rows = []  # (text, ours seconds, sympy seconds, outcome, ours with text only)
    for text, truth, kw in cases:
        t_text = float("nan")
        try:
            t_ours, t_text = _timed_ours(_ours(text, timeout=timeout, **kw))
            outcome = "ok"
        except LimitError:
            t_ours, outcome = float("nan"), "refused"
        except MathError:
            t_ours, outcome = float("nan"), "undefined"
        except MatcalcError as error:
            t_ours, outcome = float("nan"), f"error: {error}"
        except Exception as error:  # a bug (in rendering, say): counted, not fatal
            t_ours, outcome = float("nan"), f"error: {type(error).__name__}"
        t_sympy, _ = _timed(truth)
        rows.append((text, t_ours, t_sympy, outcome, t_text))
    return rows


def _percentile(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def report(title: str, rows, slowest: int) -> None:
    done = [r for r in rows if r[3] == "ok"]
    refused = [r for r in rows if r[3] == "refused"]
    undefined = [r for r in rows if r[3] == "undefined"]
    other = [r for r in rows if r[3].startswith("error")]
    times = [r[1] for r in done]
    ratios = [r[1] / max(r[2], 1e-6) for r in done]
    print(
        f"{title}: {len(rows)} expressions, {len(done)} derived, {len(refused)} refused "
        f"(time limit), {len(undefined)} undefined as typed, {len(other)} other errors"
    )
    if done:
        print(
            f"  matcalc: median {statistics.median(times) * 1000:8.1f} ms   "
            f"p99 {_percentile(times, 0.99) * 1000:8.1f} ms   max {max(times) * 1000:8.1f} ms   "
            f"over 1 s: {sum(t > 1 for t in times)}"
        )
        sym = [r[2] for r in done]
        print(
            f"  SymPy:   median {statistics.median(sym) * 1000:8.1f} ms   "
            f"p99 {_percentile(sym, 0.99) * 1000:8.1f} ms   max {max(sym) * 1000:8.1f} ms"
        )
        print(
            f"  ratio matcalc / SymPy: median {statistics.median(ratios):.2f}×   "
            f"p99 {_percentile(ratios, 0.99):.1f}×   max {max(ratios):.1f}×"
        )
        cli = [r[4] / max(r[2], 1e-6) for r in done]
        print(
            f"  derive + text only (what `matcalc derive` prints): median "
            f"{statistics.median(r[4] for r in done) * 1000:.1f} ms, ratio "
            f"{statistics.median(cli):.2f}×"
        )
    for r in other[:5]:
        print(f"  {r[3]}: {r[0]}")
    for r in refused[:5]:
        print(f"  refused: {r[0]}")
    if slowest:
        for text, t, *_ in sorted(done, key=lambda r: -r[1])[:slowest]:
            print(f"  {t * 1000:9.1f} ms  {text}")


def cases(n_scalar: int, n_vector: int) -> tuple[list, list]:
    """The benchmark's inputs, from ``SEED``: (scalar, vector) lists of (text, SymPy's own
    computation of the same derivative, keywords for ``derive``).  The vector cases are
    drawn after the scalar ones, from the same generator."""
    rng = random.Random(SEED)
    scalar: list = []
    while len(scalar) < n_scalar:
        tree = scalar_tree(rng, 5)
        expr = scalar_sympy(tree)
        if not expr.has(X) or expr.has(sympy.zoo, sympy.nan):
            continue
        scalar.append((scalar_text(tree), lambda e=expr: sympy.diff(e, X), {}))
    vector: list = []
    while len(vector) < n_vector:
        case = vector_case(rng)
        if not _uses_vector(case[1]):
            continue
        value = vector_sympy(case)
        if not isinstance(value, sympy.MatrixBase):
            value = sympy.Matrix([value])
        if not value.has(*XS):
            continue
        truth = lambda v=value: v.jacobian(XS)  # noqa: E731
        vector.append((vector_text(case), truth, dict(vectors=["x", "w"], matrices=["A"])))
    return scalar, vector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalar", type=int, default=500)
    parser.add_argument("--vector", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=None, help="default: matcalc's default")
    parser.add_argument("--slowest", type=int, default=0)
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of the wall clock")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time

    scalar, vector = cases(args.scalar, args.vector)

    matcalc.derive("x**2")  # imports and first-call costs are not the point here
    report("scalar", measure(scalar, args.timeout), args.slowest)
    report("vector", measure(vector, args.timeout), args.slowest)


if __name__ == "__main__":
    main()
