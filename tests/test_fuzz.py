"""Fuzzing the whole pipeline: random expression trees through ``matcalc.derive``.

Every generated case must end in one of two ways:

- a result that agrees with a derivative computed OUTSIDE the engine (``sympy.diff``
  of the expression built here by hand, an undefined f made a known function, or
  ``Matrix.jacobian`` of explicit components for vectors, at n = 2 while matcalc checks
  itself at n = 3), numerically at seeded random points away from kinks, with
  ``verified`` True or None ("not verified": honest where SymPy cannot decide);
- a ``MatcalcError`` that is not an ``InternalError`` (a LimitError included: in the
  default run derive has ``FAST`` seconds a case, so the rare slow case costs little).

Anything else (another exception, an ``InternalError``, ``verified is False``, a
numeric disagreement) is a bug; the minimal inputs found so far are in
``test_regressions.py``.  Trees are generated as data (nested tuples), and both the text
typed into matcalc and the truth are built from the same tree.

Scalar trees (depth up to 6) use every function of the input language (log with a base
too), ``**`` and ``^``, ``+ - * /``, unary minus, integers, rationals, decimals, e, pi,
factorial(4), one or two variables and an undefined f of one or two arguments.  Vector trees use vectors w, x, a, a matrix A and
a scalar b with ``+ - * /`` (element-wise and scalar expansion), element-wise functions,
``@``, ``dot``, ``A @``, ``A.T @``, sum, norm, logsumexp, softmax, trace(A), max(0, ·),
min(0, ·) and powers, reduced to a scalar or left a vector, by x, w, A or b; and matrices
over A (Aᵀ, s·A, sums, products: A transposed and repeated) inside trace, sum, norm and M @ v.

Two more generators aim at the check itself: |u|, |u|², max(u, c), min(u, c) of a u that is
complex on part of the line (√, ln, cube root, acos, … of a small tree), whose truth is a
central difference of the input itself wherever the input is real; max, min or |· - ·| of
two forms equal on an interval or everywhere (u and |u|, sin²u and 1 - cos²u), whose
points on the tie the check must compare, not skip; and unknown functions f and g of one or two arguments nested in
each other (g(f(x), x), f(x)**g(x)), made concrete on the test's side.

The default run is ``CASES`` (2560 cases, derandomized: the same cases on every run);
``pytest -m slow`` runs ``SLOW_CASES`` (20 500).  Random text and bytes to the parser are
in ``test_parse.py``.
"""

from __future__ import annotations

import contextlib
import random
import zlib
from collections.abc import Callable

import pytest
import sympy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sympy import Heaviside, Lambda, Matrix, Max, Min, Symbol
from sympy.core.function import AppliedUndef

import matcalc
from matcalc.deadline import Deadline, alarm
from matcalc.errors import InternalError, LimitError, MatcalcError

X, Y = sympy.symbols("x y", real=True)
F = sympy.Function("f", real=True)
G = sympy.Function("g", real=True)
_T1, _T2 = sympy.symbols("t1 t2", real=True)
F_CONCRETE = {
    1: Lambda(_T1, sympy.sin(_T1) + _T1**3 / 5),
    2: Lambda((_T1, _T2), _T1**2 * _T2 + sympy.cos(_T2)),
}
"""The undefined f replaced by a known function to evaluate both sides."""
G_CONCRETE = {
    1: Lambda(_T1, sympy.exp(_T1 / 4) - _T1),
    2: Lambda((_T1, _T2), sympy.sin(_T1 - 2 * _T2) + _T1 * _T2**2),
}
"""And g (only in the trees of several unknown functions)."""
CONCRETE = {"f": F_CONCRETE, "g": G_CONCRETE}

MEMORY_CAP = 8 << 30
"""Address space for the fuzzing process: a case that would need more raises MemoryError
(a failure if matcalc raises it; SymPy's value too big to compare if the test does)
instead of the kernel killing the whole run.  One vector case of the slow run once grew
the process to 24 GB."""


@pytest.fixture(autouse=True, scope="module")
def _memory_cap():
    try:
        import resource
    except ImportError:  # not on Windows
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = MEMORY_CAP if hard == resource.RLIM_INFINITY else min(MEMORY_CAP, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# -- scalar trees ------------------------------------------------------------------------------
UNARY: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    **{
        name: getattr(sympy, name)
        for name in [
            "sin",
            "cos",
            "tan",
            "cot",
            "sec",
            "csc",
            "asin",
            "acos",
            "atan",
            "acot",
            "asec",
            "acsc",
            "sinh",
            "cosh",
            "tanh",
            "coth",
            "sech",
            "csch",
            "asinh",
            "acosh",
            "atanh",
            "acoth",
            "asech",
            "acsch",
            "exp",
        ]
    },
    "ln": sympy.log,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "sigmoid": lambda a: 1 / (1 + sympy.exp(-a)),
    "log10": lambda a: sympy.log(a) / sympy.log(10),
    "log2": lambda a: sympy.log(a) / sympy.log(2),
    "cbrt": lambda a: sympy.sign(a) * sympy.Abs(a) ** sympy.Rational(1, 3),  # the real root
    "erf": sympy.erf,
    "erfc": sympy.erfc,
    "sign": sympy.sign,
}
BINARY_FUNCTIONS: dict[str, Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    "atan2": sympy.atan2,
    "pow": lambda a, b: a**b,
}
LEAF_NUMBERS = [
    "0",
    "1",
    "2",
    "3",
    "5",
    "1/2",
    "3/4",
    "-2/3",
    "0.5",
    "1.25",
    "e",
    "pi",
    "10",
    "factorial(4)",
]
LOG_BASES = ["2", "10", "e", "1/2"]


def _leaf(variables: tuple[str, ...]) -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(variables).map(lambda v: ("var", v)),
        st.sampled_from(LEAF_NUMBERS).map(lambda n: ("num", n)),
    )


@st.composite
def scalar_tree(draw, depth: int = 6, variables: tuple[str, ...] = ("x",)):
    """A random scalar expression tree of at most ``depth`` levels."""
    if depth == 0:
        return draw(_leaf(variables))
    # never a bare leaf at the top; below, more leaves the deeper: mostly small trees (cheap),
    # and depth 6 is still reached (a chain of functions)
    leaves = ["leaf"] * (0 if depth == 6 else 11 - depth)
    # leaves last: hypothesis often draws the first choice, and a tree of leaves tests little
    kind = draw(
        st.sampled_from(
            [
                "unary",
                "binary",
                "pow",
                "unary",
                "binary",
                "neg",
                "maxmin",
                "undef",
                "logbase",
                "fn2",
                *leaves,
            ]
        )
    )
    child = scalar_tree(depth - 1, variables)
    if kind == "leaf":
        return draw(_leaf(variables))
    if kind == "unary":
        return ("fn", draw(st.sampled_from(sorted(UNARY))), draw(child))
    if kind == "binary":
        return ("op", draw(st.sampled_from("+-*/")), draw(child), draw(child))
    if kind == "neg":
        return ("neg", draw(child))
    if kind == "fn2":  # atan2(u, v), pow(u, v)
        return ("fn", draw(st.sampled_from(sorted(BINARY_FUNCTIONS))), draw(child), draw(child))
    if kind == "logbase":  # log(u, b) = ln(u)/ln(b)
        return ("fn", "log", draw(child), ("num", draw(st.sampled_from(LOG_BASES))))
    if kind == "pow":
        sign = draw(st.sampled_from(["**", "^"]))
        numbers = st.sampled_from(["2", "3", "-1", "1/2", "-3/2", "0.5", "4"])
        exponent = draw(child) if draw(st.integers(0, 2)) == 0 else ("num", draw(numbers))
        return ("pow", sign, draw(child), exponent)
    if kind == "maxmin":
        name = draw(st.sampled_from(["max", "min"]))
        args = draw(st.lists(child, min_size=2, max_size=2 if depth > 3 else 3))
        return ("fn", name, *args)
    args = draw(st.lists(child, min_size=1, max_size=2))
    return ("fn", "f", *args)


def to_text(tree) -> str:
    kind = tree[0]
    if kind in ("var", "num"):
        return tree[1]
    if kind == "neg":
        return f"-({to_text(tree[1])})"
    if kind == "op":
        return f"({to_text(tree[2])}) {tree[1]} ({to_text(tree[3])})"
    if kind == "pow":
        return f"({to_text(tree[2])}){tree[1]}({to_text(tree[3])})"
    return f"{tree[1]}({', '.join(to_text(a) for a in tree[2:])})"


def _number(text: str) -> sympy.Expr:
    if text.startswith("factorial("):
        return sympy.factorial(int(text[len("factorial(") : -1]))
    if text == "e":
        return sympy.E
    if text == "pi":
        return sympy.pi
    if "/" in text:
        p, q = text.split("/")
        return sympy.Rational(int(p), int(q))
    return sympy.Rational(text)


def to_sympy(tree) -> sympy.Expr:
    """The truth, built by hand from the tree (SymPy's automatic evaluation on)."""
    kind = tree[0]
    if kind == "var":
        return Symbol(tree[1], real=True)
    if kind == "num":
        return _number(tree[1])
    if kind == "neg":
        return -to_sympy(tree[1])
    if kind == "op":
        a, b = to_sympy(tree[2]), to_sympy(tree[3])
        return {"+": a + b, "-": a - b, "*": a * b}[tree[1]] if tree[1] != "/" else a / b
    if kind == "pow":
        return to_sympy(tree[2]) ** to_sympy(tree[3])
    name, args = tree[1], [to_sympy(a) for a in tree[2:]]
    if name == "max":
        return Max(*args)
    if name == "min":
        return Min(*args)
    if name == "f":
        return F(*args)
    if name == "g":
        return G(*args)
    if name == "log" and len(args) == 2:
        return sympy.log(args[0]) / sympy.log(args[1])
    return {**UNARY, **BINARY_FUNCTIONS}[name](*args)


# -- numeric comparison ---------------------------------------------------------------------
KINK = (sympy.Abs, Max, Min, Heaviside, sympy.sign, sympy.acot)
"""Where a value jumps or bends: points near one are not compared.  SymPy's acot jumps at 0
(acot(0) = π/2, acot(-0) written -acot(0)): acot(acot(x) - atan(1/x)) is acot(0) = π/2
everywhere, while its equal form -acot(atan(1/x) - acot(x)) is -π/2."""
UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.AccumBounds)


def _concrete(expr: sympy.Expr) -> sympy.Expr:
    """Undefined f replaced by a known function, derivatives of it worked out."""
    if not any(e.func.__name__ in CONCRETE for e in expr.atoms(AppliedUndef)):
        return expr
    expr = expr.replace(
        lambda e: isinstance(e, sympy.Derivative) and not all(v.is_Symbol for v in e.variables),
        _as_subs,
    )
    # by name, not isinstance: SymPy may have made a new (equal) class f since F
    expr = expr.replace(
        lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in CONCRETE,
        lambda e: CONCRETE[e.func.__name__][len(e.args)](*e.args),
    )
    return expr.doit()


def _as_subs(derivative: sympy.Derivative) -> sympy.Expr:
    """∂f(g(x))/∂g(x) as Subs(∂f(t)/∂t, t, g(x)), which survives replacing f and g."""
    dummies = {v: sympy.Dummy("t") for v in set(derivative.variables) if not v.is_Symbol}
    body = derivative.expr.xreplace(dummies)
    counts = [(dummies.get(v, v), n) for v, n in derivative.variable_count]
    return sympy.Subs(sympy.Derivative(body, *counts), list(dummies.values()), list(dummies))


def _near_kink(kinks, point, eps: float = 1e-6) -> bool:
    """True when a kink's argument is not real, or at the kink (within eps), at point."""
    for node in kinks:
        args = node.args[:1] if isinstance(node, Heaviside) else node.args
        values = [_value(a, point) for a in args]
        if any(v is None or abs(v.imag) > 1e-9 for v in values):
            return True
        reals = [v.real for v in values]
        if isinstance(node, (Max, Min)):  # the kink is where two arguments meet
            reals = [p - q for i, p in enumerate(reals) for q in reals[i + 1 :]]
        if any(abs(v) < eps for v in reals):
            return True
    return False


def _value(expr: sympy.Expr, point: dict) -> complex | None:
    """SymPy's own value at ``point``; None where it is not a finite number below 1e10."""
    try:
        number = complex(expr.xreplace(point).evalf(15))
    except (ArithmeticError, TypeError, ValueError, AttributeError, MemoryError, RecursionError):
        return None  # cosh(cosh(cosh(cosh(x)))) at x = 2 does not fit in memory
    if number != number or abs(number) > 1e10:
        return None
    return number


def agree(ours, truth, symbols, seed: int, points: int = 4) -> int:
    """Compare at random points (both finite, off kinks); returns how many were compared."""
    ours, truth = _as_matrix(ours), _as_matrix(truth)
    assert ours.shape == truth.shape, (ours.shape, truth.shape)
    rng = random.Random(seed)
    kinks = set().union(*(e.atoms(*KINK) for e in (*ours, *truth)))
    compared = 0
    for _ in range(points * 3):
        # floats, not rationals: exact arithmetic can make SymPy's evaluation unbounded
        point = {
            s: sympy.Float(sympy.Rational(rng.randint(-2900, 2900), 1000), 30) for s in symbols
        }
        compared += compare_at(ours, truth, point, kinks)
        if compared == points:
            break
    return compared


def compare_at(ours, truth, point: dict, kinks, what=tuple) -> bool:
    """``ours`` and ``truth`` (matrices of one shape) agree at ``point``; False (not compared)
    at a kink or where either is not a finite number.  ``what()`` leads the failure message."""
    if _near_kink(kinks, point):
        return False
    pairs = [(_value(a, point), _value(t, point)) for a, t in zip(ours, truth, strict=True)]
    if any(a is None or t is None for a, t in pairs):
        return False
    for (a, t), o, tr in zip(pairs, ours, truth, strict=True):
        assert abs(a - t) <= 1e-7 * max(1.0, abs(t)), (*what(), point, o, tr, a, t)
    return True


def _as_matrix(value) -> Matrix:
    return Matrix(value) if isinstance(value, sympy.MatrixBase) else Matrix([[value]])


def _kink_convention(expr: sympy.Expr) -> sympy.Expr:
    """SymPy's Heaviside(0) = 1/2, the engine's 0: compare as H(z, 0) (random points avoid 0)."""
    return expr.replace(lambda e: isinstance(e, Heaviside), lambda e: Heaviside(e.args[0], 0))


def _seed(text: str) -> int:
    return zlib.crc32(text.encode())


# -- the scalar property ----------------------------------------------------------------------
FAST = 1.0
"""derive's time limit in the default run: the few slowest cases end in LimitError (an
accepted outcome) instead of taking most of the CI budget.  The slow run uses 10 s."""


@contextlib.contextmanager
def bounded(kind: str, seconds: float = 5.0):
    """Give up on the independent comparison (not on the case) when it is too slow."""
    try:
        with alarm(Deadline(seconds)):
            yield
    except LimitError:
        event(f"{kind}: the reference comparison took too long")


def check_scalar(tree, timeout: float = FAST) -> None:
    text = to_text(tree)
    try:
        d = matcalc.derive(text, "x", timeout=timeout)
    except InternalError as error:  # a bug, with its cause
        raise AssertionError(f"InternalError for {text!r}") from error
    except MatcalcError as error:
        event(f"scalar: {type(error).__name__}")
        return
    assert d.verified is not False, text
    event(f"scalar: verified {d.verified}")
    with bounded("scalar"):
        compare_scalar(tree, text, d)


def compare_scalar(tree, text: str, d) -> None:
    try:
        expr = to_sympy(tree)
    except (TypeError, ValueError, ArithmeticError):
        event("scalar: SymPy cannot build the truth")
        return
    try:  # f made concrete BEFORE differentiating: SymPy's own ∂f(f(x), f(x))/∂f(x) is ambiguous
        concrete = _concrete(expr)
        truth = _kink_convention(sympy.diff(concrete, X))
        ours = _concrete(d.result)
    except (TypeError, ValueError, ArithmeticError):  # f made concrete left SymPy's domain
        event("scalar: SymPy cannot evaluate the concrete f")
        return
    if concrete.has(*UNDEFINED):  # ln(f(0)/x) with the concrete f(0) = 0
        event("scalar: the concrete f makes the expression undefined")
        return
    symbols = sorted((ours.free_symbols | truth.free_symbols) | {X}, key=str)
    compared = agree(ours, truth, symbols, _seed(text), points=2)
    event(f"scalar: compared at {min(compared, 1)}+ points")


FUZZ = dict(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
"""Reproducible in CI: the same generated cases on every run, no example database."""
CASES = {
    "scalar_one": 600,
    "scalar_two": 400,
    "vector": 990,
    "matrix_functions": 10,
    "complex_part": 100,
    "tie": 60,
    "unknown_functions": 100,
    "second_order": 300,
}
"""The default run: 2560 cases.  ``pytest -m slow`` runs SLOW_CASES more."""
SLOW_CASES = {
    "scalar": 12000,
    "vector": 5800,
    "matrix_functions": 200,
    "complex_part": 1000,
    "unknown_functions": 1000,
    "tie": 500,
}


@settings(max_examples=CASES["scalar_one"], **FUZZ)
@given(scalar_tree())
def test_scalar_one_variable(tree) -> None:
    check_scalar(tree)


@settings(max_examples=CASES["scalar_two"], **FUZZ)
@given(scalar_tree(variables=("x", "y")))
def test_scalar_two_variables(tree) -> None:
    check_scalar(tree)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["scalar"], **FUZZ)
@given(scalar_tree(variables=("x", "y")))
def test_scalar_slow(tree) -> None:
    check_scalar(tree, timeout=10.0)


# -- abs, max and min of expressions that are complex on part of the real line ----------------
COMPLEX_ON_PART = ["sqrt", "ln", "cbrt", "acos", "asin", "acosh", "atanh"]


def _has_unknown(tree) -> bool:
    return (
        tree[0] == "fn"
        and tree[1] in ("f", "g")
        or any(isinstance(a, tuple) and _has_unknown(a) for a in tree[1:])
    )


@st.composite
def complex_part_tree(draw, variables: tuple[str, ...] = ("x",)):
    """|u|, |u|², |u|·x, max(u, c) or min(u, c) of a u such as √(…), ln(…), (…)^(1/3) or
    acos(…) that is real on part of the line only (SymPy: principal branches elsewhere)."""
    inner = draw(scalar_tree(depth=2, variables=variables).filter(lambda t: not _has_unknown(t)))
    kind = draw(st.sampled_from(COMPLEX_ON_PART))
    u = ("pow", "**", inner, ("num", "1/3")) if kind == "cbrt" else ("fn", kind, inner)
    if draw(st.booleans()):
        u = ("op", draw(st.sampled_from("+-*")), u, draw(_leaf(variables)))
    outer = draw(st.sampled_from(["abs", "abs2", "absx", "max", "min"]))
    if outer == "abs":
        return ("fn", "abs", u)
    if outer == "abs2":
        return ("pow", "**", ("fn", "abs", u), ("num", "2"))
    if outer == "absx":
        return ("op", "*", ("fn", "abs", u), ("var", variables[0]))
    return ("fn", outer, u, draw(_leaf(variables)))


def _at(expr: sympy.Expr, x0, digits: int = 40, exact: bool = False):
    """expr at x0 as a complex, or (``exact``) as SymPy's 40-digit number; None where it is
    not a finite number below 1e10."""
    try:
        value = expr.xreplace({X: sympy.Float(x0, 60)}).evalf(digits)
        number = complex(value)
    except (ArithmeticError, TypeError, ValueError, AttributeError, MemoryError, RecursionError):
        return None
    if number != number or abs(number) > 1e10:
        return None
    return value if exact else number


def central_difference(expr: sympy.Expr, x0) -> complex | None:
    """d expr/dx at x0 from the input itself (60-digit points, 40-digit values), or None
    where two step sizes disagree (a kink or a pole within reach)."""
    estimates = []
    for h in (1e-15, 1e-13):
        step = sympy.Float(h, 60) * max(1, abs(x0))
        up, down = _at(expr, x0 + step, exact=True), _at(expr, x0 - step, exact=True)
        if up is None or down is None:
            return None
        estimates.append(complex(((up - down) / (2 * step)).evalf(20)))  # not in doubles
    if abs(estimates[0] - estimates[1]) > 1e-8 * max(1.0, abs(estimates[0])):
        return None
    return estimates[0]


def _real_at(expr: sympy.Expr, x0) -> bool:
    v = _at(expr, x0, 20)
    return v is not None and abs(v.imag) <= 1e-12 * max(1.0, abs(v))


def check_against_the_input(text: str, expr: sympy.Expr, d, seed: int, points: int = 4) -> int:
    """Where matcalc says "Verified", its result must be the derivative of the input at every
    point where the input is real, by a central difference of the input itself.  Returns the
    points compared."""
    rng = random.Random(seed)
    compared = 0
    for _ in range(points * 8):
        magnitude = 10 ** rng.uniform(-4, 1.5)
        x0 = sympy.Float(magnitude if rng.random() < 0.5 else -magnitude, 60)
        if not _real_at(expr, x0):
            continue
        truth = central_difference(expr, x0)
        ours = _at(d.result, x0, 20)
        if truth is None or ours is None:
            continue
        assert abs(ours - truth) <= 1e-6 * max(1.0, abs(truth)), (text, float(x0), ours, truth)
        compared += 1
        if compared == points:
            break
    return compared


def check_complex_part(tree, timeout: float = FAST) -> None:
    text = to_text(tree)
    try:
        d = matcalc.derive(text, "x", timeout=timeout)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r}") from error
    except MatcalcError as error:
        event(f"complex part: {type(error).__name__}")
        return
    assert d.verified is not False, text
    event(f"complex part: verified {d.verified}")
    if d.verified is not True:
        return
    with bounded("complex part"):
        compared = check_against_the_input(text, to_sympy(tree), d, _seed(text))
        event(f"complex part: compared at {min(compared, 1)}+ points")


@settings(max_examples=CASES["complex_part"], **FUZZ)
@given(complex_part_tree())
def test_abs_max_min_of_values_complex_on_part_of_the_line(tree) -> None:
    check_complex_part(tree)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["complex_part"], **FUZZ)
@given(complex_part_tree())
def test_complex_part_slow(tree) -> None:
    check_complex_part(tree, timeout=10.0)


# -- ties on an interval -----------------------------------------------------------------------
@st.composite
def tie_tree(draw):
    """max, min or |· - ·| of two forms that are equal on an interval or everywhere (u and |u|
    where u ≥ 0, sin²u and 1 - cos²u, u(u + 1) and u² + u): the check meets points on a kink
    of the input there, where the input is differentiable."""
    u = draw(scalar_tree(depth=2).filter(lambda t: not _has_unknown(t)))
    if not _has_x(u):
        u = ("op", "+", u, ("var", "x"))
    one = ("num", "1")
    pairs = [
        (u, ("fn", "abs", u)),
        (("neg", u), ("fn", "abs", u)),
        (
            ("pow", "**", ("fn", "sin", u), ("num", "2")),
            ("op", "-", one, ("pow", "**", ("fn", "cos", u), ("num", "2"))),
        ),
        (("op", "*", u, ("op", "+", u, one)), ("op", "+", ("pow", "**", u, ("num", "2")), u)),
        (u, ("pow", "**", ("pow", "**", u, ("num", "2")), ("num", "1/2"))),
    ]
    a, b = draw(st.sampled_from(pairs))
    outer = draw(st.sampled_from(["max", "min", "absdiff", "maxx"]))
    if outer == "absdiff":
        return ("fn", "abs", ("op", "-", a, b))
    if outer == "maxx":
        return ("op", "*", ("fn", "max", a, b), ("var", "x"))
    return ("fn", outer, a, b)


def _has_x(tree) -> bool:
    return tree == ("var", "x") or (
        isinstance(tree, tuple) and any(isinstance(t, tuple) and _has_x(t) for t in tree)
    )


def check_tie(tree, timeout: float = FAST) -> None:
    text = to_text(tree)
    try:
        d = matcalc.derive(text, "x", timeout=timeout)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r}") from error
    except MatcalcError as error:
        event(f"tie: {type(error).__name__}")
        return
    assert d.verified is not False, text
    event(f"tie: verified {d.verified}")
    if d.verified is not True:
        return
    with bounded("tie"):
        compared = check_against_the_input(text, to_sympy(tree), d, _seed(text))
        event(f"tie: compared at {min(compared, 1)}+ points")


@settings(max_examples=CASES["tie"], **FUZZ)
@given(tie_tree())
def test_ties_on_an_interval(tree) -> None:
    check_tie(tree)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["tie"], **FUZZ)
@given(tie_tree())
def test_ties_slow(tree) -> None:
    check_tie(tree, timeout=10.0)


# -- unknown functions of several arguments ----------------------------------------------------
@st.composite
def unknown_function_tree(draw, depth: int = 3):
    """f and g of one or two arguments, nested, with x in several places: g(f(x), x),
    f(x, g(x)), f(x)**g(x), g(f(x), f(x)) …"""

    def argument(level: int):
        if level > 0 and draw(st.booleans()):
            return draw(unknown_function_tree(level))
        return draw(scalar_tree(depth=2).filter(lambda t: not _has_unknown(t)))

    kind = draw(st.sampled_from(["call", "call", "pow", "op"]))
    if kind == "pow":
        return ("pow", "**", ("fn", "f", argument(0)), ("fn", "g", argument(0)))
    if kind == "op":
        return ("op", draw(st.sampled_from("+-*/")), argument(depth - 1), argument(depth - 1))
    name = draw(st.sampled_from(["f", "g"]))
    arity = draw(st.integers(1, 2))
    return ("fn", name, *(argument(depth - 1) for _ in range(arity)))


def check_unknown_functions(tree, timeout: float = FAST) -> None:
    text = to_text(tree)
    try:
        d = matcalc.derive(text, "x", timeout=timeout)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r}") from error
    except MatcalcError as error:
        event(f"unknown functions: {type(error).__name__}")
        return
    assert d.verified is not False, text
    event(f"unknown functions: verified {d.verified} ({d.verification.method})")
    with bounded("unknown functions"):
        compare_scalar(tree, text, d)


@settings(max_examples=CASES["unknown_functions"], **FUZZ)
@given(unknown_function_tree())
def test_unknown_functions_of_several_arguments(tree) -> None:
    check_unknown_functions(tree)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["unknown_functions"], **FUZZ)
@given(unknown_function_tree())
def test_unknown_functions_slow(tree) -> None:
    check_unknown_functions(tree, timeout=10.0)


# -- vector trees -------------------------------------------------------------------------------
VECTORS = ("w", "x", "a")
DECLARED = dict(vectors=list(VECTORS), matrices=["A"])
N = 2  # matcalc verifies at n = 3 itself: a different size here is more independent
ELEMENTWISE = sorted(UNARY)


@st.composite
def vector_tree(draw, depth: int = 6, want: str = "vector", products: int = 2):
    """A random expression over vectors w, x, a, a matrix A and a scalar b.

    ``want`` is "vector" (a length-n vector) or "scalar" (including reductions of vectors).
    At most ``products`` A @ … are nested: A @ A @ A @ A @ w only makes the check slow.
    """
    leaves = 10 - depth  # mostly small trees (cheap); depth 6 is still reached
    if want == "vector":
        kinds = ["op", "fn", "matvec", "scaled", "relu", "op", "neg", "pow", "softmax", "matvec"]
        kinds += ["var"] * leaves
        if not products:
            kinds = [k for k in kinds if k != "matvec"]
    else:
        kinds = ["dot", "op", "sum", "fn", "norm", "lse"] + ["leaf"] * leaves
    kinds += ["matrix"] * (depth > 1 and products > 0)  # trace/sum/norm of M, or M @ v
    kind = draw(st.sampled_from(kinds)) if depth > 0 else kinds[-1]
    vector = vector_tree(depth - 1, "vector", products - (kind == "matvec"))
    scalar = vector_tree(depth - 1, "scalar", products)
    if kind == "matrix":
        matrix = draw(matrix_tree(min(depth - 1, 3)))
        if want == "scalar":
            return ("mred", draw(st.sampled_from(["trace", "sum", "norm"])), matrix)
        return ("mmatvec", matrix, draw(vector))
    if want == "scalar":
        if kind == "leaf":
            return draw(
                st.one_of(
                    st.just(("b",)),
                    st.just(("trace",)),
                    st.sampled_from(LEAF_NUMBERS).map(lambda n: ("num", n)),
                )
            )
        if kind == "dot":  # a @ b or dot(a, b)
            return (draw(st.sampled_from(["dot", "dotfn"])), draw(vector), draw(vector))
        if kind in ("sum", "norm", "lse"):
            return (kind, draw(vector))
        if kind == "op":
            return ("sop", draw(st.sampled_from("+-*/")), draw(scalar), draw(scalar))
        return ("sfn", draw(st.sampled_from(ELEMENTWISE)), draw(scalar))
    if kind == "var":
        return ("v", draw(st.sampled_from(VECTORS)))
    if kind == "matvec":  # A @ v or A.T @ v
        return (draw(st.sampled_from(["matvec", "matTvec"])), draw(vector))
    if kind == "softmax":
        return ("softmax", draw(vector))
    if kind == "op":
        return ("vop", draw(st.sampled_from("+-*/")), draw(vector), draw(vector))
    if kind == "scaled":  # scalar expansion, the scalar on either side
        op, first = draw(st.sampled_from("+-*/")), draw(st.booleans())
        return ("scaled", op, first, draw(scalar), draw(vector))
    if kind == "fn":
        return ("vfn", draw(st.sampled_from(ELEMENTWISE)), draw(vector))
    if kind == "relu":  # max(0, v), min(0, v), max(v, 0)
        return (draw(st.sampled_from(["relu", "relu", "minzero", "relu_r"])), draw(vector))
    if kind == "neg":
        return ("vneg", draw(vector))
    return ("vpow", draw(vector), draw(st.sampled_from(["2", "3", "1/2", "-1"])))


@st.composite
def matrix_tree(draw, depth: int = 3):
    """A random matrix over A (issue 9 §3): A, Aᵀ, scalar multiples (s * M, M * s, M / s),
    sums, and products, so that A appears transposed, repeated, and beside scalars."""
    kinds = ["A", "A", "AT", "scaled", "add", "mul", "mul"] if depth > 0 else ["A", "AT"]
    kind = draw(st.sampled_from(kinds))
    if kind in ("A", "AT"):
        return (kind,)
    inner = matrix_tree(depth - 1)
    if kind == "scaled":
        side = draw(st.sampled_from(["left", "right", "div"]))
        return ("mscaled", side, draw(vector_tree(min(depth, 2), "scalar", 0)), draw(inner))
    if kind == "add":
        return ("madd", draw(st.sampled_from("+-")), draw(inner), draw(inner))
    return ("mmul", draw(inner), draw(inner))


def vector_text(tree) -> str:
    kind, args = tree[0], tree[1:]
    t = vector_text
    return {
        "A": lambda: "A",
        "AT": lambda: "A.T",
        "mscaled": lambda: {
            "left": f"({t(args[1])}) * ({t(args[2])})",
            "right": f"({t(args[2])}) * ({t(args[1])})",
            "div": f"({t(args[2])}) / ({t(args[1])})",
        }[args[0]],
        "madd": lambda: f"({t(args[1])}) {args[0]} ({t(args[2])})",
        "mmul": lambda: f"({t(args[0])}) @ ({t(args[1])})",
        "mred": lambda: f"{args[0]}({t(args[1])})",
        "mmatvec": lambda: f"({t(args[0])}) @ ({t(args[1])})",
        "b": lambda: "b",
        "num": lambda: args[0],
        "v": lambda: args[0],
        "trace": lambda: "trace(A)",
        "dot": lambda: f"({t(args[0])}) @ ({t(args[1])})",
        "dotfn": lambda: f"dot({t(args[0])}, {t(args[1])})",
        "lse": lambda: f"logsumexp({t(args[0])})",
        "softmax": lambda: f"softmax({t(args[0])})",
        "matTvec": lambda: f"A.T @ ({t(args[0])})",
        "minzero": lambda: f"min(0, {t(args[0])})",
        "relu_r": lambda: f"max({t(args[0])}, 0)",
        "sum": lambda: f"sum({t(args[0])})",
        "norm": lambda: f"norm({t(args[0])})",
        "sop": lambda: f"({t(args[1])}) {args[0]} ({t(args[2])})",
        "sfn": lambda: f"{args[0]}({t(args[1])})",
        "matvec": lambda: f"A @ ({t(args[0])})",
        "vop": lambda: f"({t(args[1])}) {args[0]} ({t(args[2])})",
        "scaled": lambda: (
            f"({t(args[2])}) {args[0]} ({t(args[3])})"
            if args[1]
            else f"({t(args[3])}) {args[0]} ({t(args[2])})"
        ),
        "vfn": lambda: f"{args[0]}({t(args[1])})",
        "relu": lambda: f"max(0, {t(args[0])})",
        "vneg": lambda: f"-({t(args[0])})",
        "vpow": lambda: f"({t(args[0])})**({args[1]})",
    }[kind]()


def components(name: str) -> Matrix:
    return Matrix([Symbol(f"{name}_{i}", real=True) for i in range(1, N + 1)])


MATRIX_A = Matrix(N, N, lambda i, j: Symbol(f"A_{i + 1}{j + 1}", real=True))
B = Symbol("b", real=True)


def _binary(op: str, p, q):
    """p op q, element-wise when both are vectors, with scalar expansion otherwise."""
    if isinstance(p, Matrix) and isinstance(q, Matrix):
        return Matrix([_binary(op, a, c) for a, c in zip(p, q, strict=True)])
    if isinstance(p, Matrix):
        return p.applyfunc(lambda a: _binary(op, a, q))
    if isinstance(q, Matrix):
        return q.applyfunc(lambda c: _binary(op, p, c))
    return {"+": p + q, "-": p - q, "*": p * q}[op] if op != "/" else p / q


def vector_truth(tree):
    """The tree written out in components at n = N, by hand: an N×1 Matrix or a scalar."""
    kind, args = tree[0], tree[1:]
    v = vector_truth
    if kind == "b":
        return B
    if kind in ("A", "AT"):
        return MATRIX_A if kind == "A" else MATRIX_A.T
    if kind == "mscaled":
        s, m = v(args[1]), v(args[2])
        return m / s if args[0] == "div" else s * m
    if kind == "madd":
        return v(args[1]) + v(args[2]) if args[0] == "+" else v(args[1]) - v(args[2])
    if kind in ("mmul", "mmatvec"):
        return v(args[0]) * v(args[1])
    if kind == "mred":
        m = v(args[1])
        if args[0] == "trace":
            return m.trace()
        total = (
            sum((e**2 for e in m), sympy.Integer(0))
            if args[0] == "norm"
            else sum(m, sympy.Integer(0))
        )
        return sympy.sqrt(total) if args[0] == "norm" else total
    if kind == "num":
        return _number(args[0])
    if kind == "v":
        return components(args[0])
    if kind == "trace":
        return MATRIX_A.trace()
    if kind in ("dot", "dotfn"):
        return (v(args[0]).T * v(args[1]))[0, 0]
    if kind == "lse":
        return sympy.log(sum((sympy.exp(e) for e in v(args[0])), sympy.Integer(0)))
    if kind == "softmax":
        exps = v(args[0]).applyfunc(sympy.exp)
        return exps / sum(exps, sympy.Integer(0))
    if kind == "matTvec":
        return MATRIX_A.T * v(args[0])
    if kind == "minzero":
        return v(args[0]).applyfunc(lambda e: Min(0, e))
    if kind == "sum":
        return sum(v(args[0]), sympy.Integer(0))
    if kind == "norm":
        return sympy.sqrt(sum((e**2 for e in v(args[0])), sympy.Integer(0)))
    if kind in ("sop", "vop"):
        return _binary(args[0], v(args[1]), v(args[2]))
    if kind == "sfn":
        return UNARY[args[0]](v(args[1]))
    if kind == "matvec":
        return MATRIX_A * v(args[0])
    if kind == "scaled":
        op, first, s, vec = args[0], args[1], v(args[2]), v(args[3])
        return _binary(op, s, vec) if first else _binary(op, vec, s)
    if kind == "vfn":
        return v(args[1]).applyfunc(UNARY[args[0]])
    if kind in ("relu", "relu_r"):
        return v(args[0]).applyfunc(lambda e: Max(0, e))
    if kind == "vneg":
        return -v(args[0])
    return v(args[0]).applyfunc(lambda e: e ** _number(args[1]))


def _entries(name: str) -> list:
    """A variable's components in order: b itself, a vector's entries, A's rows stacked."""
    if name == "b":
        return [B]
    return list(MATRIX_A) if name == "A" else list(components(name))


def jacobian_truth(value, wrt: str, layout: str = "numerator") -> Matrix:
    """∂value/∂wrt from the components, in ``layout`` (vec(A) row-major for a vector).

    ``wrt`` may list several variables ("w,b", "A,b,w"): then the Jacobian is by all their
    components together, in order, and a scalar's gradient by A is A's entries, rows stacked.
    """
    names = wrt.split(",")
    if len(names) == 1 and wrt == "A" and not isinstance(value, Matrix):
        # a scalar's gradient by a matrix alone: A's shape, transposed in numerator layout
        grid = Matrix(N, N, lambda i, j: sympy.diff(value, MATRIX_A[i, j]))
        return grid if layout == "denominator" else grid.T
    variables = [e for name in names for e in _entries(name)]
    outputs = list(value) if isinstance(value, Matrix) else [value]
    jac = Matrix(outputs).jacobian(variables)
    return jac.T if layout == "denominator" else jac


def check_vector(case, timeout: float = FAST) -> None:
    tree, wrt, layout = case
    text = vector_text(tree)
    try:
        d = matcalc.derive(text, wrt, timeout=timeout, layout=layout, **DECLARED)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r} by {wrt}") from error
    except MatcalcError as error:
        event(f"vector: {type(error).__name__}")
        return
    # None ("not verified") is honest where the expression is undefined at most points
    # (x / max(0, w)); False never is
    assert d.verified is not False, (text, wrt)
    event(f"vector: verified {d.verified}")
    with bounded("vector"):
        compare_vector(tree, wrt, text, d, layout)


def compare_vector(tree, wrt: str, text: str, d, layout: str = "numerator") -> None:
    try:
        truth = _kink_convention(jacobian_truth(vector_truth(tree), wrt, layout))
    except (TypeError, ValueError, ArithmeticError):
        event("vector: SymPy cannot build the truth")
        return
    ours = d.explicit(n=N)
    symbols = sorted(Matrix(ours).free_symbols | truth.free_symbols, key=str)
    compared = agree(ours, truth, symbols, _seed(text + wrt), points=2)
    event(f"vector: compared at {min(compared, 1)}+ points")


VECTOR_CASES = st.tuples(
    st.one_of(vector_tree(want="vector"), vector_tree(want="scalar")),
    # one variable, or a mixed list of vectors, the scalar b and the matrix A
    st.sampled_from(["x", "x", "w", "A", "b", "w,b", "x,A", "A,b,w", "b,x"]),
    st.sampled_from(["numerator", "numerator", "denominator"]),
)


@settings(max_examples=CASES["vector"], **FUZZ)
@given(VECTOR_CASES)
def test_vector_expressions(case) -> None:
    check_vector(case)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["vector"], **FUZZ)
@given(VECTOR_CASES)
def test_vector_slow(case) -> None:
    check_vector(case, timeout=10.0)


# -- matrix functions (issue 12): inv, det, logdet, matrix_power with the old operations ----------
@st.composite
def matrix_function_text(draw) -> str:
    """A scalar with inv, det, logdet or matrix_power of a random matrix over A, combined with
    traces, bilinear forms, scalar functions and the vector fuzzer's scalars."""
    m = vector_text(draw(matrix_tree(1)))
    inner = draw(st.sampled_from([f"inv({m})", f"matrix_power({m}, 2)", f"({m})**-1", m, "A"]))
    scalar = draw(
        st.sampled_from(
            [
                f"det({inner})",
                f"logdet({inner})",
                f"trace({inner})",
                f"x @ {inner} @ w",
                f"trace({inner} @ A.T)",
                f"ln(det({inner}))",
                f"sum(inv({m}) @ x)",
                f"norm({inner} @ x)",
            ]
        )
    )
    other = vector_text(draw(vector_tree(2, "scalar", 1)))
    shape = draw(
        st.sampled_from(["{s}", "exp({s})", "({s})**2", "{s} + {o}", "{s} * {o}", "sin({s})"])
    )
    return shape.format(s=scalar, o=other)


@st.composite
def matrix_function_case(draw):
    return (
        draw(matrix_function_text()),
        draw(st.sampled_from(["A", "A", "x", "b", "A,b"])),
        draw(st.sampled_from(["numerator", "denominator"])),
    )


def check_matrix_function(case, timeout: float = 10.0) -> None:
    """No internal error, refusals are MatcalcErrors naming what is unsupported, and a
    result is never marked verified when it is not (verify_matrix_functions compares with
    SymPy's derivative of the explicit components at n = 2 and n = 3)."""
    text, wrt, layout = case
    try:
        d = matcalc.derive(text, wrt, timeout=timeout, layout=layout, **DECLARED)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r} by {wrt}") from error
    except MatcalcError as error:
        assert str(error).strip() and "\n" not in str(error).strip(), text
        event(f"matrix functions: {type(error).__name__}")
        return
    assert d.verified is not False, (text, wrt, d.to_text())
    event(f"matrix functions: verified {d.verified}")


@settings(max_examples=CASES["matrix_functions"], **FUZZ)
@given(matrix_function_case())
def test_matrix_functions(case) -> None:
    check_matrix_function(case)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["matrix_functions"], **FUZZ)
@given(matrix_function_case())
def test_matrix_functions_slow(case) -> None:
    check_matrix_function(case, timeout=20.0)


def test_the_default_run_has_2000_cases() -> None:
    assert sum(CASES.values()) >= 2000 and sum(SLOW_CASES.values()) >= 20000


# -- second derivatives (issue 12): order 2 against sympy.diff(·, x, 2) ---------------------
def check_second_order(tree, timeout: float = FAST) -> None:
    text = to_text(tree)
    try:
        d = matcalc.derive(text, "x", order=2, timeout=timeout)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r} (order 2)") from error
    except MatcalcError as error:
        event(f"order 2: {type(error).__name__}")
        return
    assert d.verified is not False, text
    event(f"order 2: verified {d.verified}")
    with bounded("order 2"):
        try:
            truth = _kink_convention(sympy.diff(to_sympy(tree), X, 2))
        except (TypeError, ValueError, ArithmeticError):
            event("order 2: SymPy cannot build the truth")
            return
        symbols = sorted(d.result.free_symbols | truth.free_symbols | {X}, key=str)
        compared = agree(d.result, truth, symbols, _seed(text), points=2)
        event(f"order 2: compared at {min(compared, 1)}+ points")


@settings(max_examples=CASES["second_order"], **FUZZ)
@given(scalar_tree(depth=4).filter(lambda t: not _has_unknown(t)))
def test_second_derivatives(tree) -> None:
    check_second_order(tree)
