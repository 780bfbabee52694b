"""Fuzzing the steps: every equation a random derivation shows is true (``steps_truth``).

``test_fuzz`` checks the final result of random expressions; here each case's derivation is
walked and every shown equation (local derivatives with the other intermediates held as
independent variables, chain-rule factors and products, total-derivative paths and sums,
substitutions, simplifications, reshapes, parts, stages of second derivatives and Hessians,
H·v) is compared with SymPy's derivative of explicit components at random points of the
input's domain.  The generators are ``test_fuzz``'s: scalar trees of one and two variables
(by x, or the gradient by x, y), Jacobians of two of them, unknown functions, second
derivatives and Hessians (also of vector expressions, with H·v), vector trees in both
layouts, and matrix functions (the differential method: dy = … in terms of dX, each rule's
d(M), the gradient read off).

The default run is ``CASES`` (derandomized: the same cases every run, some 40 s of CPU);
``pytest -m slow`` runs ``SLOW_CASES`` (n = 2 and 3 for vectors).  What it found is in
``test_regressions.py`` and test_layouts' ``STEP_PROBLEMS``.
"""

from __future__ import annotations

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from steps_truth import check_steps
from test_fuzz import (
    DECLARED,
    FAST,
    FUZZ,
    VECTOR_CASES,
    _has_unknown,
    _seed,
    bounded,
    matrix_function_case,
    scalar_tree,
    to_text,
    unknown_function_tree,
    vector_text,
    vector_tree,
)

import matcalc
from matcalc.errors import InternalError, MatcalcError

CASES = {
    "scalar_one": 120,
    "scalar_two": 80,
    "unknown_functions": 40,
    "second_order": 50,
    "hessian": 30,
    "vector": 120,
    "matrix_functions": 4,
    "jacobian": 20,
    "vector_hessian": 10,
}
"""The default run (about a minute of CPU)."""
SLOW_CASES = {
    "scalar": 3000,
    "unknown_functions": 500,
    "second_order": 800,
    "hessian": 400,
    "vector": 2500,
    "matrix_functions": 200,
    "jacobian": 500,
    "vector_hessian": 300,
}


def check(text, wrt: str, kind: str, timeout: float = FAST, sizes=(2,), **options) -> None:
    """Derive ``text`` by ``wrt``; a refusal is fine, otherwise every shown equation is true."""
    try:
        d = matcalc.derive(text, wrt, timeout=timeout, **options)
    except InternalError as error:
        raise AssertionError(f"InternalError for {text!r} by {wrt}") from error
    except MatcalcError as error:
        event(f"{kind}: {type(error).__name__}")
        return
    with bounded(f"{kind} steps", seconds=20.0):
        try:
            checked = check_steps(d, sizes=sizes, seed=_seed(f"{text}{wrt}"))
        except (TypeError, ValueError, ArithmeticError):  # min(x, ln(f(-e))): the concrete
            event(f"{kind}: SymPy cannot build the truth")  # f leaves SymPy's real domain
            return
        event(f"{kind}: {min(checked, 1)}+ equations compared")


SCALAR_TWO = st.tuples(scalar_tree(variables=("x", "y")), st.sampled_from(["x", "x,y", "y,x"]))
SECOND = scalar_tree(depth=4).filter(lambda t: not _has_unknown(t))
HESSIAN = scalar_tree(depth=4, variables=("x", "y")).filter(lambda t: not _has_unknown(t))
JACOBIAN = st.tuples(
    scalar_tree(depth=3, variables=("x", "y")),
    scalar_tree(depth=3, variables=("x", "y")),
    st.sampled_from(["x", "x,y"]),
    st.sampled_from(["numerator", "denominator"]),
)
"""Two expressions: the Jacobian (by x alone, the vector chain rule through g = (g₁, g₂))."""
VECTOR_HESSIAN = st.tuples(vector_tree(depth=4, want="scalar", products=1), st.booleans())
"""A scalar of vectors by x, order 2: the gradient as a column, then its Jacobian; H·v or not."""
HESSIAN_DECLARED = dict(vectors=["w", "x", "a", "v"], matrices=["A"])


def check_jacobian(case, timeout: float = FAST) -> None:
    first, second, wrt, layout = case
    check([to_text(first), to_text(second)], wrt, "Jacobian", timeout=timeout, layout=layout)


def check_vector_hessian(case, timeout: float = FAST, sizes=(2,)) -> None:
    tree, hvp = case
    options = dict(order=2, hvp="v") if hvp else dict(order=2)
    check(vector_text(tree), "x", "vector Hessian", timeout, sizes, **options, **HESSIAN_DECLARED)


@settings(max_examples=CASES["scalar_one"], **FUZZ)
@given(scalar_tree())
def test_steps_scalar_one_variable(tree) -> None:
    check(to_text(tree), "x", "scalar")


@settings(max_examples=CASES["scalar_two"], **FUZZ)
@given(SCALAR_TWO, st.sampled_from(["numerator", "denominator"]))
def test_steps_scalar_two_variables(case, layout) -> None:
    tree, wrt = case
    check(to_text(tree), wrt, "scalar", layout=layout)


@settings(max_examples=CASES["unknown_functions"], **FUZZ)
@given(unknown_function_tree())
@example(  # the slow run's find: intermediates as doubles (u₈ ≈ -4·10⁹) moved sin(u₈)
    tree=(
        "fn",
        "f",
        ("fn", "g", ("neg", ("neg", ("num", "1")))),
        (
            "fn",
            "f",
            (
                "pow",
                "**",
                ("fn", "f", ("pow", "**", ("op", "-", ("num", "pi"), ("var", "x")), ("num", "4"))),
                ("fn", "g", ("pow", "**", ("neg", ("var", "x")), ("num", "-3/2"))),
            ),
            ("var", "x"),
        ),
    )
)
def test_steps_unknown_functions(tree) -> None:
    check(to_text(tree), "x", "unknown functions")


@settings(max_examples=CASES["second_order"], **FUZZ)
@given(SECOND)
@example(  # the slow run's find: acot jumps at 0, and acot(x) - atan(1/x) is 0 everywhere
    tree=(
        "fn",
        "acot",
        (
            "op",
            "-",
            ("fn", "atan", ("pow", "**", ("var", "x"), ("num", "-1"))),
            ("fn", "acot", ("var", "x")),
        ),
    )
)
def test_steps_second_order(tree) -> None:
    check(to_text(tree), "x", "order 2", order=2)


@settings(max_examples=CASES["hessian"], **FUZZ)
@given(HESSIAN)
def test_steps_hessian(tree) -> None:
    check(to_text(tree), "x,y", "Hessian", order=2)


@settings(max_examples=CASES["vector"], **FUZZ)
@given(VECTOR_CASES)
@example(  # the slow run's find: ∂vec(u₃)/∂u₂ of u₂·(A - A) is shown as 0, stated n²×1
    case=(
        (
            "mred",
            "trace",
            (
                "mscaled",
                "left",
                ("dot", ("vop", "+", ("v", "w"), ("v", "x")), ("vfn", "abs", ("v", "w"))),
                ("madd", "-", ("A",), ("A",)),
            ),
        ),
        "x",
        "numerator",
    )
)
def test_steps_vector(case) -> None:
    tree, wrt, layout = case
    check(vector_text(tree), wrt, "vector", layout=layout, **DECLARED)


@settings(max_examples=CASES["matrix_functions"], **FUZZ)
@given(matrix_function_case())
@example(case=("det(matrix_power(A, 2)) + sum(A)", "A", "numerator"))  # d sum(A) was 1ᵀ·dA
def test_steps_matrix_functions(case) -> None:
    text, wrt, layout = case
    check(text, wrt, "matrix functions", timeout=10.0, layout=layout, **DECLARED)


@settings(max_examples=CASES["jacobian"], **FUZZ)
@given(JACOBIAN)
def test_steps_jacobian(case) -> None:
    check_jacobian(case)


@settings(max_examples=CASES["vector_hessian"], **FUZZ)
@given(VECTOR_HESSIAN)
@example(  # the slow run's find: H·v multiplied exp(x) ⊗ a by the number b·v as a matrix
    case=(("sum", ("vop", "+", ("v", "w"), ("vfn", "acos", ("softmax", ("v", "x"))))), True)
)
def test_steps_vector_hessian(case) -> None:
    check_vector_hessian(case)


# -- the slow run: pytest -m slow tests/test_fuzz_steps.py ---------------------------------------
@pytest.mark.slow
@settings(max_examples=SLOW_CASES["scalar"], **FUZZ)
@given(SCALAR_TWO, st.sampled_from(["numerator", "denominator"]))
def test_steps_scalar_slow(case, layout) -> None:
    tree, wrt = case
    check(to_text(tree), wrt, "scalar", timeout=10.0, layout=layout)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["unknown_functions"], **FUZZ)
@given(unknown_function_tree())
def test_steps_unknown_functions_slow(tree) -> None:
    check(to_text(tree), "x", "unknown functions", timeout=10.0)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["second_order"], **FUZZ)
@given(SECOND)
def test_steps_second_order_slow(tree) -> None:
    check(to_text(tree), "x", "order 2", timeout=10.0, order=2)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["hessian"], **FUZZ)
@given(HESSIAN)
def test_steps_hessian_slow(tree) -> None:
    check(to_text(tree), "x,y", "Hessian", timeout=10.0, order=2)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["vector"], **FUZZ)
@given(VECTOR_CASES)
def test_steps_vector_slow(case) -> None:
    tree, wrt, layout = case
    check(vector_text(tree), wrt, "vector", timeout=10.0, sizes=(2, 3), layout=layout, **DECLARED)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["matrix_functions"], **FUZZ)
@given(matrix_function_case())
def test_steps_matrix_functions_slow(case) -> None:
    text, wrt, layout = case
    check(text, wrt, "matrix functions", timeout=20.0, sizes=(2, 3), layout=layout, **DECLARED)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["jacobian"], **FUZZ)
@given(JACOBIAN)
def test_steps_jacobian_slow(case) -> None:
    check_jacobian(case, timeout=10.0)


@pytest.mark.slow
@settings(max_examples=SLOW_CASES["vector_hessian"], **FUZZ)
@given(VECTOR_HESSIAN)
def test_steps_vector_hessian_slow(case) -> None:
    check_vector_hessian(case, timeout=10.0, sizes=(2, 3))


# -- the checker itself: a planted error in any kind of step is caught ---------------------------
def _planted(d, kind: str, change):
    """``d`` with the first step of class ``kind`` (searched in Parts and Stages) changed."""
    from dataclasses import replace

    done = []

    def walk(steps):
        out = []
        for step in steps:
            if type(step).__name__ == kind and not done:
                step = change(step)
                done.append(step)
            elif hasattr(step, "steps"):
                step = replace(step, steps=walk(step.steps))
            out.append(step)
        return tuple(out)

    planted = replace(d, steps=walk(d.steps))
    assert done, kind
    return planted


@pytest.mark.parametrize(
    ("text", "wrt", "options", "kind", "field"),
    [
        ("sin(x + x^2)", "x", {}, "LocalDerivative", "value"),
        ("sin(x + x^2)", "x", {}, "TotalDerivative", "value"),
        ("sin(x + x^2)", "x", {}, "Substitute", "after"),
        ("x**2*y + exp(x*y)", "x,y", {}, "Simplify", "after"),
        ("x**2*y + exp(x*y)", "x,y", {"order": 2}, "Assemble", "value"),
        ("x**3*sin(x)", "x", {"order": 2}, "Stage", "result"),
        ("ln(sin(x)**2)", "x", {}, "ChainRule", "value"),
        ("max(0, w @ x + b)", "w", {"vectors": ["w", "x"]}, "LocalDerivative", "value"),
        ("max(0, w @ x + b)", "w", {"vectors": ["w", "x"]}, "ChainRule", "value"),
        ("w @ x + x @ x", "x", {"vectors": ["w", "x"]}, "TotalDerivative", "value"),
        (
            "a @ inv(X) @ b",
            "X",
            {"vectors": ["a", "b"], "matrices": ["X"]},
            "DifferentialStep",
            "value",
        ),
        (
            "logsumexp(z)",
            "z",
            {"vectors": ["z", "v"], "order": 2, "hvp": "v"},
            "HessianVector",
            "value",
        ),
    ],
)
def test_the_checker_catches_a_planted_error(text, wrt, options, kind, field) -> None:
    from dataclasses import replace

    d = matcalc.derive(text, wrt, **options)
    assert check_steps(d) > 0

    def change(step):
        value = getattr(step, field)
        return replace(step, **{field: value * 2 if value != 0 else 1})

    with pytest.raises(AssertionError):
        check_steps(_planted(d, kind, change))
