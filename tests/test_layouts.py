"""Both layouts, first class; results by several variables of different shapes.

Truth is built here, from outside the engine: each problem is written out by hand in
components (w_1, w_2, …, W_11, W_12, …) at two sizes, n = 2 and n = 3, and differentiated
with SymPy's ``Matrix.jacobian`` by all the variables' components together (a matrix's rows
stacked), transposed for denominator layout.  The engine's result is instantiated with
``Derivation.explicit`` and must have exactly that shape and those entries.

The second half checks that every equation a derivation shows is true in the stated
layout: each local derivative against the Jacobian of its own definition (intermediates
as independent variables), and each chain-rule product against the Jacobian of the input.
"""

from __future__ import annotations

import pytest
import sympy
from conftest import mat, vec
from steps_truth import assert_same, check_steps, dense, entries, gradient_by_matrix, walk
from sympy import ImmutableMatrix, Matrix, MatrixBase, Max, Symbol

import matcalc
from matcalc.engine.layout import Vec
from matcalc.linalg import Declaration, shape_of
from matcalc.problem import LAYOUTS
from matcalc.steps import (
    Assemble,
    ChainRule,
    Intermediate,
    Reshape,
    Shape,
    Simplify,
)

b = Symbol("b", real=True)


def truth(value, variables, layout: str) -> Matrix:
    """Jacobian of ``value`` (a scalar or a column) by all ``variables`` together."""
    outputs = list(value) if isinstance(value, MatrixBase) else [value]
    jac = Matrix(outputs).jacobian([e for v in variables for e in entries(v)])
    return jac.T if layout == "denominator" else jac


# --- problems: text, declarations, wrt, and the same function written out by hand -----------

PROBLEMS = {
    "neuron_w_b": (
        "max(0, w @ x + b)",
        dict(vectors=["w", "x"]),
        "w,b",
        lambda n: (Max(0, (vec("w", n).T * vec("x", n))[0] + b), [vec("w", n), b]),
    ),
    "layer_W_c": (
        "max(0, W @ x + c)",
        dict(vectors=["x", "c"], matrices=["W"]),
        "W,c",
        lambda n: (
            (mat("W", n, n) * vec("x", n) + vec("c", n)).applyfunc(lambda e: Max(0, e)),
            [mat("W", n, n), vec("c", n)],
        ),
    ),
    "matvec_X_w": (
        "X @ w",
        dict(vectors=["w"], matrices=["X"]),
        "X,w",
        lambda n: (mat("X", n, n) * vec("w", n), [mat("X", n, n), vec("w", n)]),
    ),
    "readout_c_v": (
        "v @ max(0, W @ x + c)",
        dict(vectors=["x", "c", "v"], matrices=["W"]),
        "c,v",
        lambda n: (
            (
                vec("v", n).T
                * (mat("W", n, n) * vec("x", n) + vec("c", n)).applyfunc(lambda e: Max(0, e))
            )[0],
            [vec("c", n), vec("v", n)],
        ),
    ),
    "scalar_by_matrix_and_scalar": (
        "sum(W @ x) * b",
        dict(vectors=["x"], matrices=["W"]),
        "W,b",
        lambda n: (sum(mat("W", n, n) * vec("x", n)) * b, [mat("W", n, n), b]),
    ),
    "three_shapes": (
        "w @ (W @ x) + b * sum(x)",
        dict(vectors=["w", "x"], matrices=["W"]),
        "b,W,w",
        lambda n: (
            (vec("w", n).T * mat("W", n, n) * vec("x", n))[0] + b * sum(vec("x", n)),
            [b, mat("W", n, n), vec("w", n)],
        ),
    ),
    "vector_by_vector": (
        "sin(w) * x",
        dict(vectors=["w", "x"]),
        "w",
        lambda n: (
            vec("w", n).applyfunc(sympy.sin).multiply_elementwise(vec("x", n)),
            [vec("w", n)],
        ),
    ),
    "vector_by_scalar": (
        "w * b + x",
        dict(vectors=["w", "x"]),
        "b",
        lambda n: (vec("w", n) * b + vec("x", n), [b]),
    ),
    "neuron_by_w": (
        "max(0, w @ x + b)",
        dict(vectors=["w", "x"]),
        "w",
        lambda n: (Max(0, (vec("w", n).T * vec("x", n))[0] + b), [vec("w", n)]),
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_result_has_the_true_shape_and_entries(name: str, layout: str) -> None:
    text, declared, wrt, by_hand = PROBLEMS[name]
    d = matcalc.derive(text, wrt, layout=layout, **declared)
    assert d.verified is True
    for n in (2, 3):
        value, variables = by_hand(n)
        assert_same(d.explicit(n=n), truth(value, variables, layout), seed=n)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_scalar_by_one_matrix_is_the_variable_shape_in_denominator_layout(layout: str) -> None:
    d = matcalc.derive("sum(W @ x)", "W", vectors=["x"], matrices=["W:N,n"], layout=layout)
    assert d.verified is True
    W, x = mat("W", 2, 3), vec("x", 3)
    expected = gradient_by_matrix(sum(W * x), W, layout)
    assert_same(d.explicit(n=3, N=2), expected)
    (shape,) = [s for s in d.steps if isinstance(s, Shape)]
    assert shape.like_variable is (layout == "denominator")
    text = d.to_text()
    assert ("Shape: N×n, laid out as W:" in text) is (layout == "denominator")
    assert ("Shape: n×N, laid out as the transpose of W:" in text) is (layout == "numerator")


def test_explicit_is_one_flat_matrix() -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w,b", vectors=["w", "x"])
    value = d.explicit(n=3)
    assert value.shape == (1, 4)
    assert all(not isinstance(e, MatrixBase) for e in value)
    d = matcalc.derive("max(0, w @ x + b)", "w,b", vectors=["w", "x"], layout="denominator")
    assert d.explicit(n=2).shape == (3, 1)


def test_wrong_assembly_is_caught_by_the_whole_check() -> None:
    """The check compares the assembled result, not each part: transposed blocks fail."""
    from matcalc.verify import verify_explicit

    d = matcalc.derive(
        "v @ max(0, W @ x + c)",
        "c,v",
        vectors=["x", "c", "v"],
        matrices=["W"],
        layout="denominator",
    )
    shapes = {decl.symbol: decl for decl in d.problem.declarations}
    wrong = ImmutableMatrix([list(d.result)])  # a row of the two column blocks
    check = verify_explicit(d.problem.exprs[0], d.problem.wrt, wrong, shapes, "denominator")
    assert check.status is False


def test_mixed_list_with_a_matrix_says_how_it_is_listed() -> None:
    for layout in LAYOUTS:
        d = matcalc.derive("sum(W @ x) * b", "W,b", vectors=["x"], matrices=["W"], layout=layout)
        (reshape,) = [s for s in d.steps if isinstance(s, Reshape)]
        assert isinstance(reshape.after if layout == "denominator" else reshape.after.args[0], Vec)
        text = d.to_text()
        assert "rows stacked" in text
        assert "∂y/∂vec(W)" in text
        assert "Vec(" not in text and "MatVec(" not in d.to_markdown()


def test_no_class_names_in_the_assembled_result() -> None:
    d = matcalc.derive(
        "v @ max(0, W @ x + c)",
        "c,v",
        vectors=["x", "c", "v"],
        matrices=["W"],
        layout="denominator",
    )
    for out in (d.to_text(), d.to_text(unicode=False), d.to_markdown(), d.to_latex()):
        for leak in ("MatVec(", "Max(", "Heaviside(", "Vec("):
            assert leak not in out, (leak, out)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_results_state_their_shape(layout: str) -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors=["w", "x"], layout=layout)
    text = d.to_text()
    assert ("Shape: 1×n, a row." in text) is (layout == "numerator")
    assert ("Shape: n×1, a column." in text) is (layout == "denominator")
    zh = d.to_text(lang="zh")
    assert "形状" in zh


def test_vector_chain_rule_honours_the_layout() -> None:
    x = Symbol("x", real=True)
    exprs = [sympy.log(x**2), sympy.sin(3 * x)]
    for layout in LAYOUTS:
        d = matcalc.derive(["ln(x**2)", "sin(3*x)"], "x", layout=layout)
        assert d.verified is True
        expected = Matrix(exprs).jacobian([x])
        expected = expected.T if layout == "denominator" else expected
        assert Matrix(d.result).shape == expected.shape
        assert sympy.simplify(Matrix(d.result) - expected) == sympy.zeros(*expected.shape)
        (chain,) = [s for s in d.steps if isinstance(s, ChainRule)]
        product = Matrix(chain.factor_values[0]) * Matrix(chain.factor_values[1])
        assert sympy.simplify(product - Matrix(chain.value)) == sympy.zeros(*product.shape)
        assert str(chain.factors[0].of) == ("g" if layout == "denominator" else "y")


def test_denominator_layout_has_no_second_value_for_the_same_symbol() -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors=["w", "x"], layout="denominator")
    simplify = [s for s in d.steps if isinstance(s, Simplify)]
    assert len(simplify) == 1
    assert "transpose the numerator" not in d.to_text()
    (chain,) = [s for s in d.steps if isinstance(s, ChainRule)]
    assert [f.wrt for f in chain.factors][0] == Symbol("w", real=True) or str(
        chain.factors[0].wrt
    ) == "w"


# --- every equation shown is true in the stated layout -----------------------------------

STEP_PROBLEMS = [
    ("max(0, w @ x + b)", dict(vectors=["w", "x"]), "w"),
    ("max(0, w @ x + b)", dict(vectors=["w", "x"]), "b"),
    ("sum((y - max(0, X @ w + b))**2) / N", dict(vectors=["w", "y:N"], matrices=["X:N,n"]), "w"),
    ("norm(A @ x)", dict(vectors=["x"], matrices=["A"]), "x"),
    ("max(0, W @ x + c)", dict(vectors=["x", "c"], matrices=["W"]), "c"),
    ("w @ x + x @ x", dict(vectors=["w", "x"]), "x"),
    ("sin(w) * exp(x)", dict(vectors=["w", "x"]), "w"),
    ("sum(W @ x) + b", dict(vectors=["x"], matrices=["W"]), "W"),
    ("sum(W @ x) + norm(W @ x)", dict(vectors=["x"], matrices=["W:N,n"]), "W"),
    ("v @ max(0, W.T @ x)", dict(vectors=["x", "v"], matrices=["W"]), "W"),
    # the matrix engine (issue 9 §3): matrix intermediates, by vec
    ("trace(X.T @ (z*X))", dict(matrices=["X:N,n"]), "X"),
    ("trace((A @ X).T @ (X @ B))", dict(matrices=["A", "X", "B"]), "X"),
    ("X @ A @ w", dict(vectors=["w"], matrices=["X:N,n", "A"]), "X"),
    ("(z*A) @ x", dict(vectors=["x"], matrices=["A:N,n"]), "z"),
    ("trace(z*A) + sum(z*A)", dict(matrices=["A"]), "z"),
    ("trace(trace(X)*X)", dict(matrices=["X"]), "X"),
    ("b @ X.T @ X @ c", dict(vectors=["b", "c"], matrices=["X:N,n"]), "X"),
    # found by test_fuzz_steps: a scalar intermediate's gradient by the matrix in a vector's
    # Jacobian was the matrix exp(u₁)·wᵀ, shown as ∂u₃/∂vec(A) (1×n²) and multiplied by u₂
    ("softmax(A.T @ w)", dict(vectors=["w"], matrices=["A"]), "A"),
    ("softmax(A.T @ w)", dict(vectors=["w"], matrices=["A"]), "w,A"),
    # and by a scalar through a matrix intermediate: ∂u₂/∂u₁ = I (n×n) times vec(A) (n²×1)
    ("(z*A) @ x", dict(vectors=["x"], matrices=["A"]), "z"),
    # and its substituted product, shown factor by factor, began I·(b·I)·… (I, n×n)
    ("trace((A.T / sum(x)) @ A * b)", dict(vectors=["x"], matrices=["A"]), "x"),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("text,declared,wrt", STEP_PROBLEMS)
def test_every_shown_equation_is_true(text, declared, wrt, layout) -> None:
    d = matcalc.derive(text, wrt, layout=layout, **declared)
    assert d.verified is True
    assert check_steps(d, sizes=(2, 3)) > 0


@pytest.mark.parametrize("layout", LAYOUTS)
def test_chain_rule_factors_multiply_to_the_product(layout: str) -> None:
    """The chain rule's factors, in the order shown, multiply to its value (at n = 2, 3)."""
    for text, declared, wrt in STEP_PROBLEMS[:4]:
        d = matcalc.derive(text, wrt, layout=layout, **declared)
        shapes = {decl.symbol: decl for decl in d.problem.declarations}
        for step in walk(d.steps):
            if isinstance(step, Intermediate):
                rows, cols = shape_of(step.definition, shapes)
                if (rows, cols) != (1, 1):
                    shapes[step.name] = Declaration(step.name, rows, cols)
        for n in (2, 3):
            dims = {
                s: n for d_ in shapes.values() for s in (d_.rows, d_.cols) if isinstance(s, Symbol)
            }
            for step in walk(d.steps):
                if not isinstance(step, ChainRule):
                    continue
                factors = [dense(v, shapes, dims) for v in step.factor_values]
                product = factors[0]
                for f in factors[1:]:
                    product = Matrix(product) * Matrix(f)
                assert_same(product, dense(step.value, shapes, dims), seed=n)


def test_assemble_states_the_shape() -> None:
    d = matcalc.derive("max(0, W @ x + c)", "W,c", vectors=["x", "c"], matrices=["W"])
    (assemble,) = [s for s in d.steps if isinstance(s, Assemble)]
    n = Symbol("n", integer=True, positive=True)
    assert assemble.size == (n, n**2 + n)
    assert "n×(n² + n)" in d.to_text()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_vector_by_a_matrix_is_labelled_by_vec(layout: str) -> None:
    d = matcalc.derive("W @ x", "W", vectors=["x"], matrices=["W:N,n"], layout=layout)
    assert d.verified is True
    text = d.to_text(width=0)  # phrases whole: not wrapped to 80 columns
    assert "∂y/∂vec(W) = I ⊗ₖ" in text and "∂y/∂W" not in text
    assert "rows stacked" in text
    W, x = mat("W", 2, 3), vec("x", 3)
    assert_same(d.explicit(n=3, N=2), truth(W * x, [W], layout))


def test_scalar_gradients_and_jacobians_state_their_shape() -> None:
    assert "Shape: 1×2, a row." in matcalc.derive("3*x**2*y", "x,y").to_text()
    assert (
        "Shape: 2×1, a column." in matcalc.derive("3*x**2*y", "x,y", layout="denominator").to_text()
    )
    assert "Shape: 2×2." in matcalc.derive(["3*x**2*y", "2*x + y**8"], "x,y").to_text()


def test_total_derivative_paths_are_reversed_in_denominator_layout() -> None:
    numerator = matcalc.derive("w @ x + x @ x", "x", vectors=["w", "x"]).to_text()
    denominator = matcalc.derive(
        "w @ x + x @ x", "x", vectors=["w", "x"], layout="denominator"
    ).to_text()
    assert "∂u₅/∂u₂ · ∂u₂/∂x + ∂u₅/∂u₄ · ∂u₄/∂x" in numerator
    assert "∂u₂/∂x · ∂u₅/∂u₂ + ∂u₄/∂x · ∂u₅/∂u₄" in denominator
    assert "Shape: n×1, a column." in denominator


def test_a_gradient_by_vec_is_simplified_from_vec_to_vec() -> None:
    """Red team 4: by a matrix through a matrix intermediate in denominator layout, the
    Simplify step by vec(X) had the n×n gradient as its ``before`` (JSON's "before"), not
    the n²×1 column vec(G) its ``after`` and the step above it show."""
    d = matcalc.derive(
        "b @ X.T @ X @ c", "X", vectors=["b", "c"], matrices=["X"], layout="denominator"
    )
    X, bv, c = mat("X", 3, 3), vec("b", 3), vec("c", 3)
    y = (bv.T * X.T * X * c)[0]
    column = Matrix([sympy.diff(y, e) for e in X])  # vec(∂y/∂X): X's rows stacked
    shapes = {decl.symbol: decl for decl in d.problem.declarations}
    dims = {Symbol("n", integer=True, positive=True): 3}
    (simplify,) = [s for s in d.steps if isinstance(s, Simplify)]
    assert simplify.wrt == Vec(d.problem.wrt[0])
    for side in (simplify.before, simplify.after):
        assert_same(dense(side, shapes, dims), column)


@pytest.mark.parametrize("layout,says", [("numerator", "Row i"), ("denominator", "Column i")])
def test_the_hessian_sentence_names_the_layouts_gradients(layout: str, says: str) -> None:
    """Red team 4: under "Layout: denominator (columns are gradients)" the Hessian stage said
    "Row i holds the derivatives of the gradient's i-th entry": in denominator layout ∂g/∂x
    has ∂gᵢ/∂xⱼ at (j, i), so column i holds them (row i only by the symmetry it states)."""
    for text, wrt, declared in (
        ("x.T @ A @ x", "x", dict(vectors=["x"], matrices=["A"])),
        ("x**2*y + exp(x*y)", "x,y", {}),
    ):
        d = matcalc.derive(text, wrt, order=2, layout=layout, **declared)
        assert f"{says} holds the derivatives of the gradient's i-th entry" in d.to_text(width=0)


def test_the_matrix_product_rule_states_its_layout() -> None:
    """Red team 4: beside ∂vec(u₁)/∂vec(X) = (A ⊗ₖ I)ᵀ in denominator layout, the rule said
    ∂vec(AXB)/∂vec(X) = A ⊗ Bᵀ: the numerator-layout form (by hand, in denominator layout it
    is its transpose Aᵀ ⊗ₖ B), and with ⊗, the element-wise product's sign."""
    d = matcalc.derive(
        "trace((A @ X).T @ (X @ B))", "X", matrices=["A", "X", "B"], layout="denominator"
    )
    text = d.to_text(width=0)
    assert "∂vec(AXB)/∂vec(X) = A ⊗ₖ Bᵀ in numerator layout" in text
    assert "A ⊗ Bᵀ" not in text
    assert "= A kron B^T in numerator layout" in d.to_text(unicode=False, width=0)
