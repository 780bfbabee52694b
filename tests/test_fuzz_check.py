"""Fuzzing ``matcalc check``: a wrong answer must never be called right.

Random scalar expressions over x and y (sin, cos, exp, ln, sqrt, tanh, atan, sigmoid, abs,
constant powers, ``+ - * /``, unary minus) are judged against answers built here:

- right answers: SymPy's ``diff`` of the same tree built directly in SymPy (the truth,
  from outside matcalc), printed to matcalc's input language by the small printer below,
  and forms of it that SymPy rewrites (``expand``, ``factor_terms``, ``together``,
  ``cancel``, ``expand_log``/``expand_trig``, tanh and sigmoid rewritten to exp, powers
  -1 written as ``**(-1)``, the hand-rule derivative of the student below).  The verdict
  must be ``right`` or, rarely, ``cannot_judge`` (counted as an event);
- wrong answers: the mistakes a student makes, applied by a small differentiator of the
  tree (the "student") at one node: the chain rule's inner derivative dropped, the product
  rule as a product of derivatives or with a term dropped, the quotient rule's numerator
  swapped or its square forgotten, ln'(u) = 1/u, the power rule off by one, the sign of
  cos' flipped, and on the whole answer a sign, a factor 2 or 1/2, an added constant.  The
  verdict must NOT be ``right`` (nor ``other_layout``).

Which verdict is expected is decided numerically, never from matcalc's output: the answer
and the truth are evaluated by SymPy's ``evalf`` (30 digits) at random points of the
input's real domain, positive and negative, small and large (not only where matcalc
samples).  An answer equal to the truth at every such point is right; a mutation is kept
only if it differs from the truth at some point where both are real and finite.  A named
mistake must be true of the answer: ``sign``/``factor`` means answer = factor · truth,
``dropped_term`` answer + term = truth, ``missing_factor`` answer · term = truth; and a
mutation that IS factor · truth (the API's promise: "a constant factor (−1 is a sign)")
must be named so.

Vector checks: the gradient by x of sum(g(A @ x)), norm(g(A @ x)) and the like, the
truth from ``Matrix.jacobian`` of explicit components (n = 2), the answer in matrix form.

The default run is ``CASES`` (about 200 judgements, derandomized); ``pytest -m slow`` runs
``SLOW_CASES``.  The bugs found so far are hand-checked lines of ``data/answers.txt``.
"""

from __future__ import annotations

import cmath
import random
from collections import Counter

import pytest
import sympy
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sympy.printing.str import StrPrinter
from test_fuzz import FUZZ, X, Y, _seed, to_sympy, to_text
from test_fuzz import _memory_cap as _memory_cap  # the same address-space cap (autouse)

import matcalc
from matcalc.errors import InternalError, MatcalcError

FAST = 2.0
"""check's time limit in the default run (derive and judge); the slow run has 10 s."""
CASES = {"scalar": 105, "vector": 30}
"""The default run: two judgements a scalar case (one right form, one mistake), one a
vector case."""
SLOW_CASES = {"scalar": 2500, "vector": 300}
STATS: Counter = Counter()
"""Verdicts seen, by kind of answer: the undecided rate is printed at the end of a run."""

# -- scalar trees -------------------------------------------------------------------------
FUNCTIONS = ["sin", "cos", "exp", "ln", "sqrt", "tanh", "atan", "sigmoid", "abs"]
EXPONENTS = ["2", "3", "-1", "1/2", "-2", "3/2"]
NUMBERS = ["1", "2", "3", "1/2", "10"]


@st.composite
def check_tree(draw, depth: int = 4, variables: tuple[str, ...] = ("x",)):
    """A random scalar tree in test_fuzz's format, of the functions a student meets."""
    if depth == 0:
        return draw(_leaf(variables))
    kinds = ["fn", "op", "fn", "op", "pow", "neg"] + ["leaf"] * (0 if depth == 4 else 6 - depth)
    kind = draw(st.sampled_from(kinds))
    child = check_tree(depth - 1, variables)
    if kind == "leaf":
        return draw(_leaf(variables))
    if kind == "fn":
        return ("fn", draw(st.sampled_from(FUNCTIONS)), draw(child))
    if kind == "op":
        return ("op", draw(st.sampled_from("+-*/")), draw(child), draw(child))
    if kind == "pow":
        return ("pow", "**", draw(child), ("num", draw(st.sampled_from(EXPONENTS))))
    return ("neg", draw(child))


def _leaf(variables):
    return st.one_of(
        st.sampled_from(variables).map(lambda v: ("var", v)),
        st.sampled_from(variables).map(lambda v: ("var", v)),
        st.sampled_from(NUMBERS).map(lambda n: ("num", n)),
    )


def _has_x(tree) -> bool:
    return tree == ("var", "x") or any(isinstance(t, tuple) and _has_x(t) for t in tree)


def _variables(tree) -> set[sympy.Symbol]:
    """Every variable written in the tree (sin(x - x)·y evaluates to 0, but a student's
    answer by the rules still has y in it)."""
    if tree[0] == "var":
        return {sympy.Symbol(tree[1], real=True)}
    return set().union(*(_variables(t) for t in tree[1:] if isinstance(t, tuple)))


# -- the student: the rules by hand, with one mistake at one node -----------------------------
def _outer(name: str, u: sympy.Expr) -> sympy.Expr:
    """g'(u) for the functions of the trees."""
    s = 1 / (1 + sympy.exp(-u))
    return {
        "sin": sympy.cos(u),
        "cos": -sympy.sin(u),
        "exp": sympy.exp(u),
        "ln": 1 / u,
        "sqrt": 1 / (2 * sympy.sqrt(u)),
        "tanh": 1 - sympy.tanh(u) ** 2,
        "atan": 1 / (1 + u**2),
        "sigmoid": s * (1 - s),
        "abs": sympy.sign(u),
    }[name]


MISTAKES = {
    "fn": ["chain", "chain", "outer_sign"],
    "*": ["product_of_derivatives", "dropped_term"],
    "/": ["quotient_swapped", "quotient_no_square"],
    "-": ["minus_as_plus"],
    "pow": ["power_off_by_one", "power_no_exponent", "chain"],
}
"""The mistakes a student makes at a node of each kind."""


def _nodes(tree, path=()):
    """(path, node) of every node whose rule a student can get wrong, pre-order."""
    kind = tree[0]
    if kind == "fn":
        yield path, "fn"
    elif kind == "op" and tree[1] in "*/-":
        yield path, tree[1]
    elif kind == "pow":
        yield path, "pow"
    for i, child in enumerate(tree[1:], 1):
        if isinstance(child, tuple):
            yield from _nodes(child, (*path, i))


def student(tree, mistake: tuple | None = None, path=()) -> sympy.Expr:
    """d tree/dx by the rules, with ``mistake`` = (path, kind) applied at that node."""
    kind = tree[0]
    wrong = mistake[1] if mistake is not None and mistake[0] == path else None
    if kind == "var":
        return sympy.Integer(1 if tree[1] == "x" else 0)
    if kind == "num":
        return sympy.Integer(0)
    if kind == "neg":
        return -student(tree[1], mistake, (*path, 1))
    if kind == "op":
        u, v = to_sympy(tree[2]), to_sympy(tree[3])
        du, dv = student(tree[2], mistake, (*path, 2)), student(tree[3], mistake, (*path, 3))
        op = tree[1]
        if op == "+":
            return du + dv
        if op == "-":
            return du + dv if wrong == "minus_as_plus" else du - dv
        if op == "*":
            if wrong == "product_of_derivatives":
                return du * dv
            if wrong == "dropped_term":
                return du * v
            return du * v + u * dv
        if wrong == "quotient_swapped":
            return (u * dv - du * v) / v**2
        if wrong == "quotient_no_square":
            return (du * v - u * dv) / v
        return (du * v - u * dv) / v**2
    if kind == "pow":
        u, n = to_sympy(tree[2]), to_sympy(tree[3])
        du = student(tree[2], mistake, (*path, 2))
        if wrong == "power_off_by_one":
            return n * u**n * du
        if wrong == "power_no_exponent":
            return u ** (n - 1) * du
        if wrong == "chain":
            return n * u ** (n - 1)
        return n * u ** (n - 1) * du
    name, arg = tree[1], tree[2]
    u = to_sympy(arg)
    du = student(arg, mistake, (*path, 2))
    outer = _outer(name, u)
    if wrong == "chain":
        return outer
    if wrong == "outer_sign":
        return -outer * du
    return outer * du


# -- the printer: SymPy to matcalc's input language --------------------------------------------
class Unprintable(Exception):
    """A SymPy node with no spelling in matcalc's input language (re, im, Derivative …)."""


class InputPrinter(StrPrinter):
    """``str`` of SymPy, spelled as matcalc reads it: ln, abs, e; ``minus_one`` writes the
    powers −1 as ``(b)**(-1)`` instead of ``1/b``."""

    KNOWN = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "atan", "Abs", "sign", "sinh"}
    KNOWN |= {"cosh"}

    def __init__(self, minus_one: bool = False):
        super().__init__({"order": "none"})
        self.minus_one = minus_one

    def _print_Function(self, expr):
        name = type(expr).__name__
        if name not in self.KNOWN:
            raise Unprintable(name)
        spelled = {"log": "ln", "Abs": "abs"}.get(name, name)
        return f"{spelled}({', '.join(self._print(a) for a in expr.args)})"

    _print_log = _print_Abs = _print_sign = _print_exp = _print_Function

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pow(self, expr, rational=False):
        if self.minus_one and expr.exp == -1:
            return f"({self._print(expr.base)})**(-1)"
        return super()._print_Pow(expr, rational)

    def emptyPrinter(self, expr):
        raise Unprintable(type(expr).__name__)

    def _print_Derivative(self, expr):
        raise Unprintable("Derivative")

    _print_Subs = _print_re = _print_im = _print_arg = _print_Piecewise = _print_Derivative
    _print_ImaginaryUnit = _print_Heaviside = _print_Float = _print_Derivative


def spell(expr: sympy.Expr, minus_one: bool = False) -> str:
    text = InputPrinter(minus_one).doprint(expr)
    # the printer's own check: read back by SymPy (test-side text, never a user's)
    names = {"ln": sympy.log, "abs": sympy.Abs, "e": sympy.E, "x": X, "y": Y}
    names.update({s.name: s for s in expr.free_symbols})
    back = sympy.parse_expr(text, local_dict=names)
    if back != expr:  # the same numbers (simplify can take minutes)
        rng = random.Random(_seed(text))
        for _ in range(3):
            point = {s: sympy.Float(rng.uniform(-3, 3), 40) for s in expr.free_symbols}
            a, b = _num(back, point), _num(expr, point)
            assert (a is None) == (b is None), (text, expr, point)
            assert a is None or b is None or _same(a, b), (text, expr, point)
    return text


# -- numbers: the expected verdict, from outside matcalc -----------------------------------
DIGITS = 30


_CMATH = {
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tan: cmath.tan,
    sympy.tanh: cmath.tanh,
    sympy.sinh: cmath.sinh,
    sympy.cosh: cmath.cosh,
    sympy.atan: cmath.atan,
    sympy.Abs: abs,
}


def _double(e: sympy.Expr, point: dict) -> complex:
    """e in complex doubles (cmath); OverflowError where a subexpression overflows."""
    if e.is_Symbol:
        return complex(point[e])
    if e.is_Number or e.is_NumberSymbol:
        return complex(e)
    args = [_double(a, point) for a in e.args]
    if e.is_Add:
        return sum(args, 0j)
    if e.is_Mul:
        out = 1 + 0j
        for a in args:
            out *= a
        return out
    if e.is_Pow:
        return args[0] ** args[1]
    if e.func in _CMATH:
        return complex(_CMATH[e.func](args[0]))
    return 0j  # another function: no overflow of its own


def _overflows(expr: sympy.Expr, point: dict) -> bool:
    """Whether a subexpression overflows in complex doubles: SymPy's evalf of
    exp(exp(exp(exp(x)))) at x = 10 does not end."""
    try:
        value = _double(expr, point)
    except OverflowError:
        return True
    except (ArithmeticError, ValueError, TypeError):  # undefined in doubles: evalf decides
        return False
    return abs(value) == float("inf")


def _num(expr: sympy.Expr, point: dict) -> complex | None:
    """expr at point (SymPy's evalf, 30 digits), None where not a finite number below 1e12."""
    if _overflows(expr, point):
        return None
    try:
        value = expr.xreplace(point).evalf(DIGITS)
        number = complex(value)
    except (ArithmeticError, TypeError, ValueError, AttributeError, RecursionError):
        return None
    if number != number or abs(number) > 1e12:
        return None
    return number


def _real(v: complex | None) -> bool:
    return v is not None and abs(v.imag) <= 1e-12 * max(1.0, abs(v))


def _same(a: complex, b: complex) -> bool:
    """Equal within the evaluation's precision: relative, with a tiny floor for exact zeros
    computed by cancellation (evalf's 30 digits keep the noise far below it)."""
    return abs(a - b) <= 1e-8 * max(abs(a), abs(b)) or abs(a - b) <= 1e-20


def domain_points(f: sympy.Expr, truth: sympy.Expr, symbols, seed: int, count: int = 16):
    """Points where the input and its derivative are real and finite: both signs, from
    1e-2 to 10 in size, and uniform on [-3, 3]; [(point, truth's value)]."""
    rng = random.Random(seed)
    out = []
    for k in range(count * 5):
        point = {}
        for s in symbols:
            if k % 2:
                value = rng.uniform(-3, 3)
            else:
                value = 10 ** rng.uniform(-2, 1) * rng.choice((-1, 1))
            point[s] = sympy.Float(value, 40)
        fv, tv = _num(f, point), _num(truth, point)
        if _real(fv) and _real(tv):
            out.append((point, tv))
            if len(out) == count:
                break
    return out


def relation(answer: sympy.Expr, points) -> str:
    """ "equal" (at every point, the answer real and finite), "differs" (at some point both
    are real and finite and not equal), or "unclear"."""
    undefined = False
    for point, tv in points:
        av = _num(answer, point)
        if not _real(av):
            undefined = True
            continue
        if not _same(av.real, tv.real):
            return "differs"
    return "unclear" if undefined else "equal"


def holds(lhs: sympy.Expr, rhs: sympy.Expr, points) -> bool:
    """lhs = rhs at every point where both are defined (a named mistake's claim)."""
    compared = 0
    for point, _ in points:
        a, b = _num(lhs, point), _num(rhs, point)
        if a is None or b is None:
            continue
        if not (abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))):
            return False
        compared += 1
    return compared > 0


# -- right forms -----------------------------------------------------------------------------
def _rewrite_exp(e: sympy.Expr) -> sympy.Expr:
    return e.rewrite(sympy.exp)


FORMS = {
    "diff": lambda e: e,
    "expand": sympy.expand,
    "factor_terms": sympy.factor_terms,
    "together": sympy.together,
    "cancel": sympy.cancel,
    "expand_log": lambda e: sympy.expand_log(e, force=True),
    "expand_trig": sympy.expand_trig,
    "tanh_as_exp": lambda e: e.replace(
        lambda n: isinstance(n, sympy.tanh),
        lambda n: (sympy.exp(2 * n.args[0]) - 1) / (sympy.exp(2 * n.args[0]) + 1),
    ),
    "minus_one": lambda e: e,  # printed with **(-1)
    "powsimp_force": lambda e: sympy.powsimp(e, force=True),
    "student": None,  # the hand rules, no mistake
}
"""The right answers' forms.  expand_log with force=True is valid on part of the domain
only: the numbers decide whether such a form is right (then it must be judged right) or
not (then it must not be)."""


XP, YP = sympy.symbols("x y", positive=True)


def _as_if_positive(e: sympy.Expr) -> sympy.Expr:
    """e simplified as if x and y were positive (|x| = x, sqrt(x²) = x, ln(x·y) = ln x +
    ln y): right on part of the domain at most; the numbers decide."""
    e = sympy.powdenest(sympy.expand_log(e.subs({X: XP, Y: YP}), force=True), force=True)
    return e.subs({XP: X, YP: Y})


def _judge(text: str, answer: str, wrt: str, timeout: float):
    try:
        return matcalc.check(text, answer, wrt, timeout=timeout)
    except InternalError as error:
        raise AssertionError(f"InternalError: check {text!r} --answer {answer!r}") from error
    except MatcalcError as error:
        event(f"check: {type(error).__name__}")
        return None


def _expect(c, text: str, answer: str, rel: str, what: str) -> None:
    """The verdict against the numbers' relation; counted in STATS."""
    where = f"matcalc check {text!r} --answer {answer!r} ({what}): {c!r}"
    STATS[f"{what}: {rel} -> {c.verdict}"] += 1
    event(f"{what}: {rel} -> {c.verdict}")
    if rel == "differs":
        assert not c.right, f"a wrong answer called right: {where}"
    elif rel == "equal":
        assert c.verdict in ("right", "cannot_judge"), f"a right answer called wrong: {where}"


def _misremembered(mistake: str, f: sympy.Expr, node) -> sympy.Expr | None:
    """d/dx f with one rule misused, worked here from the problem's own SymPy tree: the
    product or quotient rule at the top, or ``node``'s derivative misremembered."""
    top, bottom = sympy.fraction(f)
    if mistake == "quotient_of_derivatives":
        return sympy.diff(top, X) / sympy.diff(bottom, X)
    if mistake == "denominator_not_squared":
        return (sympy.diff(top, X) * bottom - top * sympy.diff(bottom, X)) / bottom
    if mistake == "product_of_derivatives":
        factors = sympy.Mul.make_args(top)
        varying = [sympy.diff(a, X) for a in factors if a.has(X)]
        return sympy.Mul(*(a for a in factors if not a.has(X)), *varying) / bottom
    if node is None:
        return None
    u = node.exp if mistake == "power_rule_on_exponential" else node.args[0]
    wrong = {
        "power_not_lowered": lambda: node.exp * u**node.exp,
        "power_rule_on_exponential": lambda: u * node.base ** (u - 1),
        "trig_sign": lambda: -sympy.cos(u) if isinstance(node, sympy.sin) else sympy.sin(u),
    }[mistake]() * sympy.diff(u, X)
    p = sympy.Dummy(real=True)
    outer = f.xreplace({node: p})
    return (sympy.diff(outer, X) + sympy.diff(outer, p) * wrong).xreplace({p: node})


MISREMEMBERED = (
    "product_of_derivatives",
    "quotient_of_derivatives",
    "denominator_not_squared",
    "power_not_lowered",
    "power_rule_on_exponential",
    "trig_sign",
)


def _mistake_is_true(c, answer_expr: sympy.Expr, truth: sympy.Expr, points, where: str, f=None):
    """The mistake named is a true statement about the answer."""
    if c.mistake is None:
        return
    by_name = {"x": X, "y": Y}
    term = None
    if c.term is not None:
        term = c.term.xreplace({s: by_name.get(s.name, s) for s in c.term.free_symbols})
    if c.mistake in ("sign", "factor"):
        claim = holds(answer_expr, sympy.sympify(c.factor) * truth, points)
    elif c.mistake == "dropped_term":
        claim = holds(answer_expr + term, truth, points)
    elif c.mistake == "missing_factor":
        claim = holds(answer_expr * term, truth, points)
    elif c.mistake in MISREMEMBERED and f is not None:
        variant = _misremembered(c.mistake, f, term)
        claim = variant is not None and holds(answer_expr, variant, points)
    else:
        claim = True
    assert claim, f"the mistake named is not true: {where}: {c.mistake}, {c.factor}, {term}"


def check_scalar_case(tree, form: str, pick: int, global_mistake: str, timeout=FAST) -> None:
    if not _has_x(tree):
        tree = ("op", "*", tree, ("var", "x"))
    text = to_text(tree)
    f = to_sympy(tree)
    truth = sympy.diff(f, X)
    symbols = sorted(f.free_symbols | _variables(tree) | {X}, key=str)
    points = domain_points(f, truth, symbols, _seed(text))
    if len(points) < 4 or truth.has(sympy.Derivative, sympy.re, sympy.im):
        event("scalar: no real domain, or a truth with re/im")
        return
    # one right answer ...
    try:
        if form == "student":
            right = student(tree)  # |u|' = sign(u)·u' holds for a real u only: numbers decide
        else:
            right = FORMS[form](truth)
        answer = spell(right, minus_one=form == "minus_one")
    except Unprintable as what:
        event(f"scalar: unprintable {what}")
        answer = None
    if answer is not None:
        rel = relation(right, points)
        c = _judge(text, answer, "x", timeout)
        if c is not None:
            _expect(c, text, answer, rel, f"right form ({form})")
            if rel == "equal" and c.verdict == "cannot_judge":
                event(f"UNDECIDED right form: {text} --answer {answer}")
    # ... and one mistake
    nodes = list(_nodes(tree))
    if global_mistake == "node" and nodes:
        path, kind = nodes[pick % len(nodes)]
        mistake = MISTAKES[kind][pick // len(nodes) % len(MISTAKES[kind])]
        wrong = student(tree, (path, mistake))
        name = mistake
    else:
        name = "factor2" if global_mistake == "node" else global_mistake
        base = student(tree)
        if relation(base, points) != "equal":  # |u|' = sign(u)·u' for a complex u
            base = truth
        wrong = {
            "sign": -base,
            "factor2": 2 * base,
            "half": base / 2,
            "plus_one": base + 1,
            "abs_dropped": base.replace(sympy.Abs, lambda u: u).replace(sympy.sign, lambda u: 1),
            "abs_negated": base.replace(sympy.Abs, lambda u: -u).replace(sympy.sign, lambda u: -1),
            "positive_x": _as_if_positive(truth),
        }[name]
        wrong = sympy.sympify(wrong)  # sign(u) replaced by -1 alone is the int -1
    rel = relation(wrong, points)
    if rel != "differs":
        event(f"mistake {name}: not different on the domain")
        return
    try:
        answer = spell(wrong)
    except Unprintable as what:
        event(f"scalar: unprintable {what}")
        return
    c = _judge(text, answer, "x", timeout)
    if c is None:
        return
    _expect(c, text, answer, rel, f"mistake ({name})")
    where = f"matcalc check {text!r} --answer {answer!r}"
    _mistake_is_true(c, wrong, truth, points, where, f)
    if name in ("sign", "factor2", "half") and c.verdict == "wrong":  # the API's promise
        want = {"sign": -1, "factor2": 2, "half": sympy.Rational(1, 2)}[name]
        assert c.mistake in ("sign", "factor") and c.factor == want, (where, c, c.factor)


@st.composite
def scalar_case(draw, variables=("x",)):
    tree = draw(check_tree(variables=variables))
    form = draw(st.sampled_from(sorted(FORMS)))
    pick = draw(st.integers(0, 50))
    global_mistake = draw(
        st.sampled_from(
            ["node", "node", "node", "sign", "half", "plus_one", "abs_dropped", "abs_negated"]
            + ["positive_x"]
        )
    )
    return tree, form, pick, global_mistake


@settings(max_examples=CASES["scalar"] * 2 // 3, **FUZZ)
@given(scalar_case())
def test_check_scalar_one_variable(case) -> None:
    check_scalar_case(*case)


@settings(max_examples=CASES["scalar"] // 3, **FUZZ)
@given(scalar_case(variables=("x", "y")))
def test_check_scalar_two_variables(case) -> None:
    check_scalar_case(*case)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["scalar"], **FUZZ)
@given(scalar_case(variables=("x", "y")))
def test_check_scalar_slow(case) -> None:
    check_scalar_case(*case, timeout=10.0)


@pytest.fixture(autouse=True, scope="module")
def _report_stats():
    yield
    if STATS:
        print("\ncheck fuzz verdicts:")
        for key, count in sorted(STATS.items()):
            print(f"  {count:5d}  {key}")


# -- vectors: gradients of sum, norm and sum of squares of g(A @ x) --------------------------
U = sympy.Symbol("U", real=True)
VECTOR_FUNCTIONS = ["sin", "cos", "exp", "tanh", "atan", "sigmoid", "abs"]
N = 2
"""The explicit size of the truth here (matcalc judges at its own sizes)."""


def _g(name: str, u: sympy.Expr) -> sympy.Expr:
    return to_sympy(("fn", name, ("var", "U"))).xreplace({sympy.Symbol("U", real=True): u})


def _elementwise(expr: sympy.Expr) -> str:
    """A scalar formula in U spelled as an element-wise one of A @ x."""
    return spell(expr).replace("U", "(A @ x)")


VECTOR_MISTAKES = ["transpose", "no_matrix", "sign", "factor2", "outer_sign", "no_norm"]


def vector_answer(reducer: str, name: str, mistake: str | None):
    """(text, answer as a function of the explicit A and x) of d reducer(g(A @ x))/dx,
    denominator layout, with ``mistake`` applied."""
    gp = _outer(name, U) if name != "abs" else sympy.sign(U)
    if mistake == "outer_sign":
        gp = -gp
    g = _g(name, U)
    inner = {"sum": gp, "sumsq": 2 * g * gp, "norm": g * gp}[reducer]
    matrix = "A" if mistake == "transpose" else "A.T"
    text = f"{matrix} @ ({_elementwise(inner)})" if mistake != "no_matrix" else _elementwise(inner)
    if reducer == "norm" and mistake != "no_norm":
        text = f"({text}) / norm({_elementwise(g)})"
    factor = {"sign": -1, "factor2": 2}.get(mistake or "", 1)
    if factor != 1:
        text = f"{factor}*({text})"

    def value(A: sympy.Matrix, x: sympy.Matrix) -> sympy.Matrix:
        z = A * x
        column = sympy.Matrix([inner.xreplace({U: zi}) for zi in z])
        out = column if mistake == "no_matrix" else (A if mistake == "transpose" else A.T) * column
        if reducer == "norm" and mistake != "no_norm":
            out = out / sympy.sqrt(sum(_g(name, zi) ** 2 for zi in z))
        return factor * out

    return text, value


def check_vector_case(reducer: str, name: str, mistake: str | None, timeout=FAST) -> None:
    outer = {"sum": "sum({})", "sumsq": "sum({}**2)", "norm": "norm({})"}[reducer]
    text = outer.format(f"{name}(A @ x)")
    A = sympy.Matrix(N, N, lambda i, j: sympy.Symbol(f"A_{i + 1}{j + 1}", real=True))
    x = sympy.Matrix([sympy.Symbol(f"x_{i + 1}", real=True) for i in range(N)])
    gz = [_g(name, zi) for zi in A * x]
    f = {"sum": sum(gz), "sumsq": sum(g**2 for g in gz), "norm": sympy.sqrt(sum(g**2 for g in gz))}
    truth = sympy.Matrix([f[reducer]]).jacobian(x).T  # a column: denominator layout
    answer, value = vector_answer(reducer, name, mistake)
    mine = value(A, x)
    rng = random.Random(_seed(text + answer))
    rel = "equal"
    for _ in range(6):
        point = {s: sympy.Float(rng.uniform(-2, 2), 30) for s in (*A, *x)}
        t = [_num(e, point) for e in truth]
        a = [_num(e, point) for e in mine]
        if any(v is None for v in t + a) or not all(_real(v) for v in t + a):
            continue
        if not all(_same(p.real, q.real) for p, q in zip(a, t)):
            rel = "differs"
            break
    if mistake is not None and rel != "differs":
        event(f"vector mistake {mistake}: not different")
        return
    try:
        c = matcalc.check(
            text, answer, "x", vectors=["x"], matrices=["A"], layout="denominator", timeout=timeout
        )
    except InternalError as error:
        raise AssertionError(f"InternalError: check {text!r} --answer {answer!r}") from error
    except MatcalcError as error:
        event(f"vector check: {type(error).__name__}")
        return
    where = f"matcalc check {text!r} --vector x --matrix A --wrt x --layout denominator"
    _expect(c, where, answer, rel, f"vector {'right' if mistake is None else mistake}")


@st.composite
def vector_case(draw):
    reducer = draw(st.sampled_from(["sum", "sumsq", "norm"]))
    name = draw(st.sampled_from(VECTOR_FUNCTIONS))
    mistake = draw(st.sampled_from([None, None, *VECTOR_MISTAKES]))
    return reducer, name, mistake


@settings(max_examples=CASES["vector"], **FUZZ)
@given(vector_case())
def test_check_vector(case) -> None:
    check_vector_case(*case)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["vector"], **FUZZ)
@given(vector_case())
def test_check_vector_slow(case) -> None:
    check_vector_case(*case, timeout=10.0)
