"""Results as code: the generated NumPy (and PyTorch) functions against independent numbers.

The truth never comes from the code generator.  It is a central finite difference, in
NumPy, of the INPUT expression, evaluated either

- through ``sympy.lambdify`` of the expression written out in components (the problems of
  ``derivations/*.toml``), or
- through this file's own NumPy evaluation of a fuzz tree (``numeric``), built from the
  same tree as the text typed into matcalc (500 vector cases of ``test_fuzz``'s generator).

A generated function is matcalc's own output, so exec'ing it here is safe; user text is
never exec'd.  PyTorch is optional (``pip install -e ".[torch]"``): its tests compare with
``torch.autograd`` and are skipped, with the reason shown, when torch is not installed.
"""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, event, given, settings
from sympy import MatrixBase
from test_fuzz import UNARY, VECTOR_CASES, vector_text

import matcalc
from matcalc import documents
from matcalc.errors import InternalError, MatcalcError, UnsupportedError
from matcalc.functions import rewrite_builtin
from matcalc.linalg import declare, explicit
from matcalc.parse import parse
from matcalc.render.code import numpy_expression, numpy_function, torch_function

ROOT = Path(__file__).resolve().parents[1]
DIMS = {"n": 3, "N": 4, "m": 2}


def load(source: str):
    """The one function a generated module defines."""
    space: dict = {}
    exec(compile(source, "<matcalc>", "exec"), space)  # matcalc's own output, not user text
    functions = [
        v
        for k, v in space.items()
        if callable(v) and not k.startswith("__") and getattr(v, "__module__", None) is None
    ]
    assert len(functions) == 1, source
    return functions[0]


# -- finite differences ------------------------------------------------------------------------


def central(f, args: dict, name: str, h: float = 1e-6) -> np.ndarray:
    """∂f/∂args[name] by central differences: rows are f's entries (row-major, as ravel),
    columns the entries of args[name] (row-major): the numerator-layout Jacobian."""
    base = np.asarray(args[name], dtype=float)
    columns = []
    for i in range(base.size):
        step = np.zeros(base.size)
        step[i] = h * max(1.0, abs(base.ravel()[i]))
        plus = {**args, name: base + step.reshape(base.shape)}
        minus = {**args, name: base - step.reshape(base.shape)}
        columns.append((np.ravel(f(**plus)) - np.ravel(f(**minus))) / (2 * step[i]))
    return np.stack(columns, axis=1)


def layout(jacobian: np.ndarray, value_size: int, wrt_shape: tuple, layout_name: str) -> np.ndarray:
    """The numerator-layout ``central`` Jacobian in matcalc's shape and layout: a scalar by a
    matrix is the matrix's shape transposed; the denominator layout is the transpose."""
    out = jacobian
    if value_size == 1 and len(wrt_shape) == 2:
        out = jacobian.reshape(wrt_shape).T
    return out.T if layout_name == "denominator" else out


def fuzz_truth(f, env, wrt: str, layout_name: str, h: float = 1e-6) -> np.ndarray:
    """The Jacobian of f by ``wrt`` ("x", or "A,b,w": all their entries in order, a matrix's
    rows stacked) in ``layout_name``, by central differences."""
    names = wrt.split(",")
    size = int(np.size(f(**env)))
    if len(names) == 1:
        return layout(central(f, env, wrt, h), size, np.shape(env[wrt]), layout_name)
    jac = np.concatenate([central(f, env, name, h) for name in names], axis=1)
    return jac.T if layout_name == "denominator" else jac


def close(ours, truth, smooth) -> int:
    """Compare where the truth is finite and smooth (central differences at two steps agree)."""
    ours, truth = np.asarray(ours, dtype=float), np.asarray(truth, dtype=float)
    assert ours.shape == truth.shape, (ours.shape, truth.shape)
    mask = np.isfinite(truth) & smooth
    np.testing.assert_allclose(ours[mask], truth[mask], rtol=2e-5, atol=2e-5)
    return int(mask.sum())


def smooth_mask(a, b, scale=1e-4) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(all="ignore"):
        return np.isfinite(a) & np.isfinite(b) & (np.abs(a - b) <= scale * (1 + np.abs(a)))


# -- every problem of derivations/ --------------------------------------------------------------


def problems():
    out = []
    for path in sorted((ROOT / "derivations").glob("*.toml")):
        for ex in documents.load(path).exercises:
            out.append(pytest.param(ex, id=f"{path.stem}-{ex.number}"))
    return out


def _component_function(ex, shapes, module="numpy"):
    """The input expression(s) as a NumPy (or PyTorch) function of the declared arrays, by
    lambdify of its components at DIMS (or of the scalar expression itself)."""
    exprs = [parse(t, shapes=shapes) if shapes else parse(t) for t in ex.exprs]
    dims = {
        s: DIMS[s.name]
        for d in shapes.values()
        for s in (d.rows.free_symbols | d.cols.free_symbols)
    }
    values = [rewrite_builtin(explicit(e, shapes, dims) if shapes else e) for e in exprs]
    # entry by entry, row-major: lambdify's tensor([[...]]) of a matrix would cut the autograd graph
    values = [entry for v in values for entry in (list(v) if isinstance(v, MatrixBase) else [v])]
    free = sorted(set().union(*(sympy.sympify(v).free_symbols for v in values)), key=str)
    xp = np if module == "numpy" else __import__("torch")
    modules = "numpy"
    if module != "numpy":  # SymPy prints Max as torch.max(0, z), which torch refuses
        values = [v.replace(sympy.Max, _max_by_abs) for v in values]
        modules = "torch"
    fn = sympy.lambdify(free, values, modules)
    sized = {s.name for s in dims}

    def f(**args):
        env = {}
        for s in free:
            name = s.name
            head, _, index = name.partition("_")
            if head in args and index and np.ndim(args[head]) >= 1:
                array = args[head]
                digits = [int(c) - 1 for c in index]
                env[s] = array[tuple(digits)] if array.ndim == len(digits) else array[digits[0]]
            elif name in sized:
                env[s] = DIMS[name]
            else:
                env[s] = args[name]
        with np.errstate(all="ignore"):
            out = fn(*(env[s] for s in free))
        if xp is not np:
            parts = [
                o if isinstance(o, xp.Tensor) else xp.tensor(float(o), dtype=xp.float64)
                for o in out
            ]
            return parts[0] if len(parts) == 1 else xp.stack(parts)
        parts = [np.asarray(o, dtype=float) for o in out]
        if len(parts) == 1:
            return parts[0]
        return np.stack(parts, axis=-1)

    return f, dims


def _max_by_abs(*args):
    """max(a, b) = (a + b + |a - b|)/2, which lambdify writes for PyTorch (off the kink)."""
    out = args[0]
    for a in args[1:]:
        out = (out + a + sympy.Abs(out - a, evaluate=False)) / 2
    return out


def by_name(shapes, name: str):
    return next((d for s, d in shapes.items() if str(s) == name), None)


def _arguments(fn, shapes, dims, rng, batch=None):
    import inspect

    args = {}
    by_name = {str(s): d for s, d in shapes.items()}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind is param.KEYWORD_ONLY:
            args[name] = DIMS[name]
            continue
        d = by_name.get(name)
        if d is None:
            args[name] = (
                rng.uniform(0.3, 1.7, size=batch) * rng.choice([-1, 1], size=batch)
                if batch
                else float(rng.uniform(0.3, 1.7) * rng.choice([-1, 1]))
            )
        else:
            shape = (
                (int(d.rows.subs(dims)),)
                if d.is_vector
                else (int(d.rows.subs(dims)), int(d.cols.subs(dims)))
            )
            args[name] = rng.normal(size=shape)
            if getattr(d, "symmetric", False):  # S:sym: symmetric positive definite (ln det S)
                args[name] = args[name] @ args[name].T + np.eye(shape[0])
    return args


@pytest.mark.parametrize("ex", problems())
def test_derivations_numpy_agrees_with_finite_differences(ex) -> None:
    shapes = declare(ex.vectors, ex.matrices)
    d = matcalc.derive(
        list(ex.exprs) if len(ex.exprs) > 1 else ex.exprs[0],
        ex.wrt,
        vectors=ex.vectors,
        matrices=ex.matrices,
        layout=ex.layout,
    )
    fn = load(numpy_function(d))
    truth_f, dims = _component_function(ex, shapes)
    rng = np.random.default_rng(len(ex.exprs[0]) + ex.number)
    compared = 0
    for _ in range(3):
        args = _arguments(fn, shapes, dims, rng, batch=None if shapes else 5)
        ours = fn(**args)
        wrt = [str(w) for w in d.problem.wrt]
        if not shapes:  # vectorised: entry by entry, 5 points at once
            columns = []
            for w in wrt:
                h = 1e-6 * np.maximum(1, np.abs(args[w]))
                plus, minus = (
                    truth_f(**{**args, w: args[w] + h}),
                    truth_f(**{**args, w: args[w] - h}),
                )
                columns.append((plus - minus) / (2 * h[..., None] if np.ndim(plus) > 1 else 2 * h))
            truth = np.stack(columns, axis=-1)
            truth = (
                truth.reshape(ours.shape) if ours.ndim == truth.ndim else truth.reshape(ours.shape)
            )
            if ex.layout == "denominator" and isinstance(d.result, MatrixBase):
                truth = np.swapaxes(np.stack(columns, axis=-1), -1, -2)
            compared += close(ours, truth, np.isfinite(truth))
            continue
        value_size = np.size(truth_f(**args))
        blocks = []
        for w in wrt:
            wrt_shape = np.shape(args[w])
            jac = central(truth_f, args, w)
            coarse = central(truth_f, args, w, h=1e-4)
            blocks.append(
                (
                    layout(jac, value_size, wrt_shape, ex.layout),
                    layout(coarse, value_size, wrt_shape, ex.layout),
                )
            )
        if len(wrt) == 1 and getattr(by_name(shapes, wrt[0]), "symmetric", False):
            # S's components are tied (S_12 stands at (1, 2) and (2, 1)): the differences give
            # the full ∂f/∂s_ij above the diagonal and 0 below; the symmetric gradient G_s with
            # tr(G_sᵀ dS) = df has half of it on both sides
            blocks = [((t + t.T) / 2, (c + c.T) / 2) for t, c in blocks]
        axis = 1 if ex.layout == "numerator" else 0
        truth = np.concatenate([b[0] for b in blocks], axis=axis)
        coarse = np.concatenate([b[1] for b in blocks], axis=axis)
        if truth.size == 1 and np.ndim(ours) == 0:
            truth, coarse = truth.reshape(()), coarse.reshape(())
        compared += close(ours, truth, smooth_mask(truth, coarse, 1e-3))
    assert compared > 0


# -- 500 vector fuzz cases ------------------------------------------------------------------------

FUZZ_N = 3
FUZZ_CASES = 500
COUNTS = {"cases": 0, "compared": 0, "refused": 0}


def numeric(tree, env, ops=None):
    """The fuzz tree evaluated in NumPy (or with ``ops``, PyTorch), by hand: vectors are 1-D
    arrays of length FUZZ_N."""
    if ops is not None and ops is not NUMPY_OPS:
        return _numeric(tree, env, ops)
    return _numeric(tree, env, NUMPY_OPS)


def _numeric(tree, env, ops):
    kind, args = tree[0], tree[1:]
    v = lambda t: _numeric(t, env, ops)  # noqa: E731
    xp = ops["xp"]
    if kind in ("A", "AT"):
        return env["A"] if kind == "A" else env["A"].T
    if kind == "mscaled":
        scale, m = v(args[1]), v(args[2])
        return m / scale if args[0] == "div" else scale * m
    if kind == "madd":
        return v(args[1]) + v(args[2]) if args[0] == "+" else v(args[1]) - v(args[2])
    if kind in ("mmul", "mmatvec"):
        return v(args[0]) @ v(args[1])
    if kind == "mred":
        m = v(args[1])
        if args[0] == "trace":
            return xp.trace(m)
        return xp.sqrt(xp.sum(m**2)) if args[0] == "norm" else xp.sum(m)
    if kind == "b":
        return env["b"]
    if kind == "num":
        value = float(_number(args[0]))
        return value if xp is np else xp.tensor(value, dtype=xp.float64)
    if kind == "v":
        return env[args[0]]
    if kind == "trace":
        return xp.trace(env["A"])
    if kind in ("dot", "dotfn"):
        return xp.sum(v(args[0]) * v(args[1]))
    if kind == "lse":
        return xp.log(xp.sum(xp.exp(v(args[0]))))
    if kind == "softmax":
        e = xp.exp(v(args[0]))
        return e / xp.sum(e)
    if kind == "matTvec":
        return env["A"].T @ v(args[0])
    if kind == "matvec":
        return env["A"] @ v(args[0])
    if kind == "minzero":
        return ops["min0"](v(args[0]))
    if kind in ("relu", "relu_r"):
        return ops["max0"](v(args[0]))
    if kind == "sum":
        return xp.sum(v(args[0]))
    if kind == "norm":
        return xp.sqrt(xp.sum(v(args[0]) ** 2))
    if kind in ("sop", "vop"):
        return _op(args[0], v(args[1]), v(args[2]))
    if kind == "scaled":
        op, first, s, vec = args[0], args[1], v(args[2]), v(args[3])
        return _op(op, s, vec) if first else _op(op, vec, s)
    if kind in ("sfn", "vfn"):
        return ops[args[0]](v(args[1]))
    if kind == "vneg":
        return -v(args[0])
    return v(args[0]) ** float(_number(args[1]))


def _op(op, p, q):
    return {"+": lambda: p + q, "-": lambda: p - q, "*": lambda: p * q, "/": lambda: p / q}[op]()


def _number(text: str):
    if text == "factorial(4)":
        return sympy.Integer(24)
    if text in ("e", "pi"):
        return {"e": sympy.E, "pi": sympy.pi}[text]
    return sympy.Rational(text) if "." not in text else sympy.Float(text)


NUMPY_UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "cot": lambda a: 1 / np.tan(a),
    "sec": lambda a: 1 / np.cos(a),
    "csc": lambda a: 1 / np.sin(a),
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "acot": lambda a: np.arctan(1 / a),
    "asec": lambda a: np.arccos(1 / a),
    "acsc": lambda a: np.arcsin(1 / a),
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "coth": lambda a: 1 / np.tanh(a),
    "sech": lambda a: 1 / np.cosh(a),
    "csch": lambda a: 1 / np.sinh(a),
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "acoth": lambda a: np.arctanh(1 / a),
    "asech": lambda a: np.arccosh(1 / a),
    "acsch": lambda a: np.arcsinh(1 / a),
    "exp": np.exp,
    "ln": np.log,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "log10": np.log10,
    "log2": np.log2,
    "cbrt": np.cbrt,
    "sign": np.sign,
    "erf": np.vectorize(math.erf, otypes=[float]),
    "erfc": np.vectorize(math.erfc, otypes=[float]),
}


NUMPY_OPS = {
    **NUMPY_UNARY,
    "xp": np,
    "max0": lambda a: np.maximum(0, a),
    "min0": lambda a: np.minimum(0, a),
}


def _torch_ops():
    try:
        import torch
    except ImportError:
        return None
    t = torch
    return {
        "xp": t,
        "max0": lambda a: t.clamp(a, min=0),
        "min0": lambda a: t.clamp(a, max=0),
        "sin": t.sin,
        "cos": t.cos,
        "tan": t.tan,
        "cot": lambda a: 1 / t.tan(a),
        "sec": lambda a: 1 / t.cos(a),
        "csc": lambda a: 1 / t.sin(a),
        "asin": t.asin,
        "acos": t.acos,
        "atan": t.atan,
        "acot": lambda a: t.atan(1 / a),
        "asec": lambda a: t.acos(1 / a),
        "acsc": lambda a: t.asin(1 / a),
        "sinh": t.sinh,
        "cosh": t.cosh,
        "tanh": t.tanh,
        "coth": lambda a: 1 / t.tanh(a),
        "sech": lambda a: 1 / t.cosh(a),
        "csch": lambda a: 1 / t.sinh(a),
        "asinh": t.asinh,
        "acosh": t.acosh,
        "atanh": t.atanh,
        "acoth": lambda a: t.atanh(1 / a),
        "asech": lambda a: t.acosh(1 / a),
        "acsch": lambda a: t.asinh(1 / a),
        "exp": t.exp,
        "ln": t.log,
        "log": t.log,
        "sqrt": t.sqrt,
        "abs": t.abs,
        "sigmoid": lambda a: 1 / (1 + t.exp(-a)),
        "log10": t.log10,
        "log2": t.log2,
        "cbrt": lambda a: t.sign(a) * t.abs(a) ** (1 / 3),
        "sign": t.sign,
        "erf": t.special.erf,
        "erfc": t.special.erfc,
    }


TORCH_OPS = _torch_ops()


def test_the_numpy_table_covers_the_fuzz_functions() -> None:
    assert set(NUMPY_UNARY) == set(UNARY)
    if TORCH_OPS is not None:
        assert set(TORCH_OPS) - {"xp", "max0", "min0"} == set(UNARY)


@settings(
    max_examples=FUZZ_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(VECTOR_CASES)
def test_vector_fuzz_numpy_agrees_with_finite_differences(case) -> None:
    tree, wrt, layout_name = case
    text = vector_text(tree)
    try:
        d = matcalc.derive(
            text, wrt, vectors=["w", "x", "a"], matrices=["A"], timeout=0.5, layout=layout_name
        )
    except InternalError:
        raise
    except MatcalcError:
        event("codegen: refused by derive")
        return
    COUNTS["cases"] += 1
    try:
        source = numpy_function(d)
    except UnsupportedError:
        # acosh(w - w): a result that is not real; erf has no NumPy function
        assert _refusable(d), (text, wrt, d.result)
        event("codegen: refused (not real, or erf)")
        return
    fn = load(source)
    rng = random.Random(text + wrt)
    env = {name: np.array([rng.uniform(-2, 2) for _ in range(FUZZ_N)]) for name in ("w", "x", "a")}
    env["A"] = np.array([[rng.uniform(-2, 2) for _ in range(FUZZ_N)] for _ in range(FUZZ_N)])
    env["b"] = rng.uniform(-2, 2)

    def f(**args):
        with np.errstate(all="ignore"):
            return np.asarray(numeric(tree, args), dtype=float)

    import inspect

    params = list(inspect.signature(fn).parameters)
    with np.errstate(all="ignore"):
        ours = fn(**{p: env[p] for p in params})
        truth = fuzz_truth(f, env, wrt, layout_name)
        coarse = fuzz_truth(f, env, wrt, layout_name, h=1e-4)
    if truth.size == 1 and np.ndim(ours) == 0:
        truth, coarse = truth.reshape(()), coarse.reshape(())
    mask = smooth_mask(truth, coarse, 1e-3) & (np.abs(truth) < 1e6)
    n = close(ours, truth, mask)
    COUNTS["compared"] += n > 0
    event(f"codegen: compared {min(n, 1)}+")


def _refusable(d) -> bool:
    """A result code may refuse: not real (sqrt(-1)), erf for NumPy, or a Jacobian kept as an
    operator (Lin, DMat, Rank1: matrix-valued by a matrix)."""
    operators = ("Lin", "DMat", "Rank1", "Outer", "OuterT")
    return d.result.has(sympy.I, sympy.erf, sympy.erfc) or any(
        type(node).__name__ in operators for node in sympy.preorder_traversal(d.result)
    )


def test_vector_fuzz_compared_most_cases() -> None:
    """Not vacuous: most derived cases were compared at some entry (run after the fuzz test)."""
    if COUNTS["cases"] == 0:
        pytest.skip("the fuzz test did not run in this session")
    assert COUNTS["compared"] >= 0.6 * COUNTS["cases"], COUNTS


# -- what the code looks like, and what it refuses ----------------------------------------------


def test_a_neuron_gives_a_named_function_with_shape_checks() -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors="w,x")
    source = numpy_function(d)
    assert "def grad_y_w(w, x, b):" in source
    assert "max(0, w @ x + b)" in source and "numerator layout" in source
    assert "np.heaviside(" in source and ", 0.0)" in source
    fn = load(source)
    w, x = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(fn(w, x, 1.0), [x])
    np.testing.assert_allclose(fn(w, x, -20.0), [[0, 0, 0]])
    np.testing.assert_allclose(fn(np.zeros(3), x, 0.0), [[0, 0, 0]])  # the kink: 0
    with pytest.raises(ValueError, match="x must have shape"):
        fn(w, np.ones(4), 1.0)
    with pytest.raises(ValueError, match="w must be a vector"):
        fn(np.ones((3, 1)), x, 1.0)
    with pytest.raises(ValueError, match="b must be a number"):
        fn(w, x, np.ones(2))


def test_denominator_layout_is_a_column() -> None:
    d = matcalc.derive("w @ x", "w", vectors="w,x", layout="denominator")
    fn = load(numpy_function(d))
    assert fn(np.ones(3), np.arange(3.0)).shape == (3, 1)


def test_scalar_problems_are_vectorised() -> None:
    d = matcalc.derive("sin(x)**3/3 + 2*sin(x)")
    fn = load(numpy_function(d))
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(fn(x), (np.sin(x) ** 2 + 2) * np.cos(x))
    assert fn(0.5).shape == ()
    d = matcalc.derive("3*x**2*y", "x,y")
    g = load(numpy_function(d))
    assert g(np.ones(4), 2.0).shape == (4, 1, 2)
    np.testing.assert_allclose(g(1.0, 2.0), [[12.0, 3.0]])


def test_a_constant_derivative_has_the_inputs_shape() -> None:
    fn = load(numpy_function(matcalc.derive("2*x + 1")))
    assert fn(np.zeros((2, 3))).shape == (2, 3) and fn(0.0) == 2.0


def test_the_sigmoid_does_not_overflow() -> None:
    fn = load(numpy_function(matcalc.derive("sigmoid(x)")))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = fn(np.array([-800.0, 0.0, 800.0]))
    np.testing.assert_allclose(values, [0.0, 0.25, 0.0], atol=1e-300)


def test_an_unknown_function_is_refused_clearly() -> None:
    d = matcalc.derive("f(x)*x")
    with pytest.raises(UnsupportedError, match="unknown function"):
        numpy_function(d)


def test_an_operation_without_a_translation_is_refused_loudly() -> None:
    """A class added to linalg later has no entry: refused, never printed as something else."""
    from matcalc import linalg
    from matcalc.render import code

    class Frob(linalg._Op):
        nargs = 1

    d = matcalc.derive("x @ x", "x", vectors="x")
    fake = type(d)(problem=d.problem, steps=d.steps, result=sympy.Mul(2, Frob(d.problem.wrt[0])))
    emitter = code._Emitter(code.NUMPY, {}, {d.problem.wrt[0]: "x"}, "np")
    with pytest.raises(UnsupportedError, match=r"frob\(…\)"):
        emitter.code(Frob(d.problem.wrt[0]))
    assert fake.result.has(Frob)


def test_names_are_never_code() -> None:
    """The docstring escapes the input; a name that is not a Python name is refused."""
    x = sympy.Symbol("x", real=True)
    d = matcalc.derive(sympy.sin(x))
    source = numpy_function(d)
    assert source.count('"""') == 2
    bad = sympy.Symbol("lambda", real=True)
    with pytest.raises(UnsupportedError, match="not a usable Python name"):
        numpy_function(matcalc.derive(sympy.sin(bad)))


def test_a_variable_called_np_does_not_hide_numpy() -> None:
    fn_source = numpy_function(matcalc.derive("np * x**2", "x"))
    assert "import numpy as np_" in fn_source
    fn = load(fn_source)
    np.testing.assert_allclose(fn(3.0, 2.0), 12.0)


def test_numpy_expression_is_one_expression() -> None:
    d = matcalc.derive("sum((X @ w - y)**2) / N", "w", vectors=["w", "y:N"], matrices=["X:N,n"])
    text = numpy_expression(d)
    assert text == "2 * (-y + X @ w).T @ X / N" or "X @ w" in text
    rng = np.random.default_rng(0)
    X, w, y = rng.normal(size=(4, 3)), rng.normal(size=(3, 1)), rng.normal(size=(4, 1))
    value = eval(
        text, {"np": np, "X": X, "w": w, "y": y, "N": 4}
    )  # matcalc's output, not user text
    np.testing.assert_allclose(value, 2 * (X @ w - y).T @ X / 4)


# -- the command line -------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matcalc", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_format_numpy_prints_the_function() -> None:
    result = run(
        "derive", "max(0, w @ x + b)", "--vector", "w,x", "--wrt", "w", "--format", "numpy"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("import numpy as np\n")
    fn = load(result.stdout)
    np.testing.assert_allclose(fn([1, 1], [2, 3], 1), [[2, 3]])


def test_format_numpy_refusal_is_one_line() -> None:
    result = run("derive", "f(x)*x", "--format", "numpy")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "unknown function" in result.stderr


def test_json_has_result_numpy_for_vector_results() -> None:
    d = matcalc.derive("max(0, w @ x + b)", "w", vectors="w,x")
    data = d.to_dict()
    assert data["result_numpy"] == "np.heaviside(b + np.sum(w * x), 0.0) * x.T"
    for forbidden in ("MatProd", "MatVec", "VDot", "T(", "VSum"):
        assert forbidden not in data["result"], data["result"]
    assert data["result"] == "Heaviside(b + Trace(w.T*x), 0)*x.T"
    scalar = matcalc.derive("sin(x)").to_dict()
    assert "result_numpy" not in scalar
    assert sympy.parse_expr(scalar["result"]) == sympy.cos(sympy.Symbol("x"))


# -- PyTorch (optional) ------------------------------------------------------------------------------
# Skipped, with this reason, where PyTorch is not installed; .ci/run installs the CPU wheel when
# it lies on the machine's disk, so CI runs them.

TORCH_MISSING = "PyTorch is not installed (optional: pip install -e '.[torch]')"


def _torch():
    return pytest.importorskip("torch", reason=TORCH_MISSING)


@pytest.mark.parametrize("ex", problems())
def test_derivations_torch_agrees_with_autograd(ex) -> None:
    torch = _torch()
    shapes = declare(ex.vectors, ex.matrices)
    d = matcalc.derive(
        list(ex.exprs) if len(ex.exprs) > 1 else ex.exprs[0],
        ex.wrt,
        vectors=ex.vectors,
        matrices=ex.matrices,
        layout=ex.layout,
    )
    fn = load(torch_function(d))
    truth_f, dims = _component_function(ex, shapes, "torch")
    rng = np.random.default_rng(ex.number)
    for _ in range(2):
        args = {
            k: torch.as_tensor(v, dtype=torch.float64)
            for k, v in _arguments(fn, shapes, dims, rng).items()
        }
        ours = fn(**args).detach().numpy()
        blocks = []
        for w in (str(s) for s in d.problem.wrt):
            jac = torch.autograd.functional.jacobian(
                lambda t, w=w, args=args: truth_f(**{**args, w: t}), args[w]
            )
            size = int(np.prod(truth_f(**args).shape))
            matrix = jac.detach().numpy().reshape(size, -1)
            block = layout(matrix, size, tuple(args[w].shape), ex.layout)
            if getattr(by_name(shapes, w), "symmetric", False):  # tied entries: see above
                block = (block + block.T) / 2
            blocks.append(block)
        truth = np.concatenate(blocks, axis=1 if ex.layout == "numerator" else 0)
        truth = truth.reshape(ours.shape)
        np.testing.assert_allclose(ours, truth, rtol=1e-9, atol=1e-12)


TORCH_CASES = 150


@settings(
    max_examples=TORCH_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(VECTOR_CASES)
def test_vector_fuzz_torch_agrees_with_autograd(case) -> None:
    torch = _torch()
    tree, wrt, layout_name = case
    text = vector_text(tree)
    try:
        d = matcalc.derive(
            text, wrt, vectors=["w", "x", "a"], matrices=["A"], timeout=0.5, layout=layout_name
        )
    except InternalError:
        raise
    except MatcalcError:
        return
    try:
        source = torch_function(d)
    except UnsupportedError:
        assert _refusable(d), (text, wrt, d.result)
        return
    fn = load(source)
    rng = random.Random(text + wrt)
    env = {
        name: torch.tensor([rng.uniform(-2, 2) for _ in range(FUZZ_N)], dtype=torch.float64)
        for name in ("w", "x", "a")
    }
    env["A"] = torch.tensor(
        [[rng.uniform(-2, 2) for _ in range(FUZZ_N)] for _ in range(FUZZ_N)], dtype=torch.float64
    )
    env["b"] = torch.tensor(rng.uniform(-2, 2), dtype=torch.float64)

    import inspect

    ours = fn(**{p: env[p] for p in inspect.signature(fn).parameters}).detach().numpy()
    names = wrt.split(",")
    size = int(torch.as_tensor(numeric(tree, env, TORCH_OPS)).numel())
    blocks = []
    for name in names:

        def f(t, name=name):
            value = torch.as_tensor(numeric(tree, {**env, name: t}, TORCH_OPS), dtype=torch.float64)
            return value.reshape(-1)  # contiguous, for autograd's jacobian

        jac = torch.autograd.functional.jacobian(f, env[name]).detach().numpy().reshape(size, -1)
        blocks.append(jac)
    if len(names) == 1:
        truth = layout(blocks[0], size, tuple(env[wrt].shape), layout_name)
    else:
        truth = np.concatenate(blocks, axis=1)
        truth = truth.T if layout_name == "denominator" else truth
    truth = truth.reshape(ours.shape)
    # autograd differentiates max(0, z) and |z| with 0 at the kink as well; where the function
    # is undefined (nan) both are nan
    mask = np.isfinite(truth) & np.isfinite(ours)
    assert (np.isfinite(truth) == np.isfinite(ours)).all() or not mask.all()
    np.testing.assert_allclose(ours[mask], truth[mask], rtol=1e-7, atol=1e-9)


# -- JSON's result: SymPy's own matrix expressions, read back --------------------------------------


def _sympy_value(expr, subs):
    """A parsed matrix expression at concrete values, evaluated by SymPy alone."""
    if isinstance(expr, sympy.BlockMatrix):
        return np.block(
            [
                [_sympy_value(b, subs).reshape(b.shape) for b in expr.blocks.row(i)]
                for i in range(expr.blocks.rows)
            ]
        )
    value = expr.subs(subs)
    value = value.replace(
        lambda q: isinstance(q, sympy.MatrixExpr) and not isinstance(q, sympy.MatrixSymbol),
        lambda q: q.as_explicit(),
    ).doit()
    if isinstance(value, sympy.MatrixExpr):
        value = value.as_explicit()
    if isinstance(value, MatrixBase):
        return np.array(value.evalf(), dtype=float)
    return np.array(float(value))


CLASS_NAMES = re.compile(
    r"\b(VDot|VSum|Norm|MatVec|MatT|MMul|MTrace|Diag|Ident|Ones|T|Outer|OuterT|Kron|MatProd)\("
)
"""matcalc.linalg's class names, which no output may show."""

VECTOR_PROBLEMS = [p for p in problems() if p.values[0].vectors or p.values[0].matrices]


@pytest.mark.parametrize("ex", VECTOR_PROBLEMS)
def test_json_result_reads_back_as_sympy_matrix_expressions(ex) -> None:
    import inspect

    from matcalc.functions import sigmoid

    d = matcalc.derive(
        ex.exprs[0], ex.wrt, vectors=ex.vectors, matrices=ex.matrices, layout=ex.layout
    )
    text = d.to_dict()["result"]
    leaked = CLASS_NAMES.findall(json.dumps(d.to_dict()))  # steps included
    assert not leaked, leaked
    for forbidden in ("MatProd", "MatVec", "VDot", "VSum", "Diag(", "Ident(", "Ones(", "T("):
        assert forbidden not in text.replace("Trace(", "").replace("DiagMatrix(", ""), text
    shapes = {decl.symbol: decl for decl in d.problem.declarations}
    sizes = {
        s.name: s
        for decl in shapes.values()
        for s in (decl.rows.free_symbols | decl.cols.free_symbols)
    }
    local = {str(k): sympy.MatrixSymbol(str(k), v.rows, v.cols) for k, v in shapes.items()}
    local.update(sizes)
    local["sigmoid"] = sigmoid
    parsed = sympy.parse_expr(text, local_dict=local)
    dims = {s: DIMS[name] for name, s in sizes.items()}
    parsed = parsed.subs(dims)
    fn = load(numpy_function(d))
    rng = np.random.default_rng(ex.number)
    args, subs = {}, {}
    for name in inspect.signature(fn).parameters:
        decl = next((v for k, v in shapes.items() if str(k) == name), None)
        if decl is None:
            args[name] = float(rng.normal())
            subs[sympy.Symbol(name, real=True)] = args[name]
            subs[sympy.Symbol(name)] = args[name]
            continue
        rows, cols = int(decl.rows.subs(dims)), int(decl.cols.subs(dims))
        value = rng.normal(size=(rows, cols))
        args[name] = value.ravel() if decl.is_vector else value
        subs[sympy.MatrixSymbol(name, rows, cols)] = sympy.ImmutableMatrix(value)
    ours = fn(**args)
    np.testing.assert_allclose(_sympy_value(parsed, subs).reshape(np.shape(ours)), ours, rtol=1e-9)


READ_BACK_CASES = 150
READ_BACK_LENGTH = 160
"""SymPy's own evaluation of a long matrix expression (as_explicit, doit) takes minutes."""


@settings(
    max_examples=READ_BACK_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(VECTOR_CASES)
def test_vector_fuzz_json_result_reads_back(case) -> None:
    """JSON's result, parsed by SymPy with MatrixSymbols, equals the generated NumPy code (which
    the test above checks against finite differences) at a random point, n = 3."""
    tree, wrt, layout_name = case
    text = vector_text(tree)
    try:
        d = matcalc.derive(
            text, wrt, vectors=["w", "x", "a"], matrices=["A"], timeout=0.5, layout=layout_name
        )
        source = numpy_function(d)
    except InternalError:
        raise
    except MatcalcError:
        return
    try:
        data = d.to_dict()
    except RecursionError:  # seen once, flaky, under pytest's deeper stack: SymPy's printing
        event("read back: RecursionError while rendering")
        return
    leaked = CLASS_NAMES.findall(json.dumps(data))  # steps included
    assert not leaked, (text, leaked)
    result = data["result"]
    if "vec(" in result:  # a gradient by A among several variables: SymPy has no vec
        event("read back: vec, in matcalc's notation")
        return
    if len(result) > READ_BACK_LENGTH:
        event("read back: too long to evaluate with SymPy")
        return
    for forbidden in ("MatProd", "MatVec", "VDot", "VSum", "Ident(", "Ones(", "T(", "Kron("):
        assert forbidden not in result.replace("Trace(", ""), result
    n = sympy.Symbol("n", integer=True, positive=True)
    local = {v: sympy.MatrixSymbol(v, n, 1) for v in ("w", "x", "a")}
    local.update(A=sympy.MatrixSymbol("A", n, n), n=n)
    try:
        parsed = sympy.parse_expr(result, local_dict=local).subs(n, FUZZ_N)
    except RecursionError:
        event("read back: RecursionError in SymPy")
        return
    rng = random.Random(text)
    values = {v: np.array([rng.uniform(-2, 2) for _ in range(FUZZ_N)]) for v in ("w", "x", "a")}
    values["A"] = np.array([[rng.uniform(-2, 2) for _ in range(FUZZ_N)] for _ in range(FUZZ_N)])
    values["b"] = rng.uniform(-2, 2)
    subs = {sympy.Symbol("b", real=True): values["b"], sympy.Symbol("b"): values["b"]}
    for v in ("w", "x", "a"):
        subs[sympy.MatrixSymbol(v, FUZZ_N, 1)] = sympy.ImmutableMatrix(values[v])
    subs[sympy.MatrixSymbol("A", FUZZ_N, FUZZ_N)] = sympy.ImmutableMatrix(values["A"])
    import inspect

    fn = load(source)
    with np.errstate(all="ignore"):
        ours = np.asarray(fn(**{p: values[p] for p in inspect.signature(fn).parameters}))
    try:
        theirs = _sympy_value(parsed, subs).reshape(ours.shape)
    except (
        TypeError,
        ValueError,
        RecursionError,
    ):  # a value SymPy leaves symbolic or complex (sqrt(-1))
        event("read back: not a real number")
        return
    mask = np.isfinite(ours) & np.isfinite(theirs)
    np.testing.assert_allclose(theirs[mask], ours[mask], rtol=1e-7, atol=1e-9)


def test_format_torch_prints_a_function_for_scalar_problems_too() -> None:
    torch = _torch()
    result = run("derive", "sigmoid(x)*y", "--wrt", "x,y", "--format", "torch")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("import torch\n")
    fn = load(result.stdout)
    x, y = torch.tensor([0.5, -1.0], dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64)
    s = torch.sigmoid(x)
    expected = torch.stack([s * (1 - s) * y, s], dim=-1).reshape(2, 1, 2)
    assert torch.allclose(fn(x, y), expected)


def test_to_numpy_and_to_torch_are_the_derivation_methods() -> None:
    d = matcalc.derive("x.T @ A @ x", "x", vectors="x", matrices="A")
    assert d.to_numpy() == numpy_function(d) and d.to_torch() == torch_function(d)
    fn = load(d.to_numpy())
    A, x = np.arange(9.0).reshape(3, 3), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(fn(x, A), [x @ (A + A.T)])


def test_a_product_after_a_star_keeps_its_parentheses() -> None:
    """wᵀ ⊗ (xᵀA): Python reads wᵀ * xᵀ @ A as (wᵀ * xᵀ) @ A, a different row."""
    from matcalc import linalg
    from matcalc.render import code

    shapes = declare(["w", "x"], ["A"])
    w, x, A = sorted(shapes, key=str)[1:] + sorted(shapes, key=str)[:1]
    expr = sympy.Mul(linalg.T(w), linalg.MatProd(linalg.T(x), A), evaluate=False)
    text = code._Emitter(code.NUMPY, shapes, {w: "w", x: "x", A: "A"}, "np").code(expr)[0]
    rng = np.random.default_rng(3)
    values = {
        "w": rng.normal(size=(3, 1)),
        "x": rng.normal(size=(3, 1)),
        "A": rng.normal(size=(3, 3)),
    }
    got = eval(text, {"np": np, **values})  # matcalc's output, not user text
    np.testing.assert_allclose(got, values["w"].T * (values["x"].T @ values["A"]))


@pytest.mark.parametrize(
    "text",
    [
        "cbrt(x**2 + 1) * x",
        "atan2(x, 2) + atan2(3, x)",
        "log10(x**2 + 1) + log2(x**2 + 2)",
        "sign(x) * x**3",
        "pow(x, 3) / (1 + x**2)",
    ],
)
def test_the_newer_functions_agree_with_finite_differences(text) -> None:
    x = sympy.Symbol("x", real=True)
    fn = load(numpy_function(matcalc.derive(text)))
    truth_f = sympy.lambdify(x, rewrite_builtin(parse(text)).subs(sympy.Symbol("x"), x), "numpy")
    points = np.array([-1.7, -0.6, 0.45, 1.3, 2.2])
    h = 1e-6
    truth = (truth_f(points + h) - truth_f(points - h)) / (2 * h)
    np.testing.assert_allclose(fn(points), truth, rtol=1e-6, atol=1e-8)


def test_erf_is_refused_for_numpy_with_a_hint_and_written_for_torch() -> None:
    d = matcalc.derive("x * erf(x)")
    with pytest.raises(UnsupportedError, match="scipy.special"):
        numpy_function(d)
    torch = _torch()
    fn = load(torch_function(d))
    x = torch.tensor([-0.8, 0.3, 1.5], dtype=torch.float64, requires_grad=True)
    (x * torch.special.erf(x)).sum().backward()
    assert torch.allclose(fn(x.detach()), x.grad)


def test_a_hessian_agrees_with_second_differences() -> None:
    d = matcalc.derive("x**2*y + exp(x*y) + sin(x)", "x,y", order=2)
    source = numpy_function(d)
    assert "def hessian_f_x_y(x, y):" in source and "The Hessian of" in source
    fn = load(source)
    f = lambda x, y: x**2 * y + np.exp(x * y) + np.sin(x)  # noqa: E731
    point, h = np.array([0.7, -0.4]), 1e-4
    truth = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h, np.eye(2)[j] * h
            truth[i, j] = (
                f(*(point + e_i + e_j))
                - f(*(point + e_i - e_j))
                - f(*(point - e_i + e_j))
                + f(*(point - e_i - e_j))
            ) / (4 * h * h)
    np.testing.assert_allclose(fn(*point), truth, rtol=1e-5, atol=1e-6)
    second = load(numpy_function(matcalc.derive("x**3*sin(x)", order=2)))
    assert "def d2y_dx2(x):" in numpy_function(matcalc.derive("x**3*sin(x)", order=2))
    g = lambda x: x**3 * np.sin(x)  # noqa: E731
    np.testing.assert_allclose(
        second(0.9), (g(0.9 + h) - 2 * g(0.9) + g(0.9 - h)) / h**2, rtol=1e-5
    )


@pytest.mark.parametrize(
    ("text", "layout_name"),
    [
        ("x @ A @ x", "numerator"),
        ("sum(exp(x)) + b * (x @ x)", "denominator"),
        ("logsumexp(x)", "numerator"),
        ("norm(A @ x)", "numerator"),
    ],
)
def test_a_hessian_by_a_vector_agrees_with_second_differences(text, layout_name) -> None:
    d = matcalc.derive(text, "x", vectors="x", matrices="A", order=2, layout=layout_name)
    source = numpy_function(d)
    assert "def hessian_y_x(" in source and "The Hessian of" in source
    fn = load(source)
    rng = np.random.default_rng(5)
    env = {"x": rng.normal(size=3), "A": rng.normal(size=(3, 3)), "b": 0.7}
    tree_f = {
        "x @ A @ x": lambda x, A, b: x @ A @ x,
        "sum(exp(x)) + b * (x @ x)": lambda x, A, b: np.sum(np.exp(x)) + b * (x @ x),
        "logsumexp(x)": lambda x, A, b: np.log(np.sum(np.exp(x))),
        "norm(A @ x)": lambda x, A, b: np.linalg.norm(A @ x),
    }[text]
    h, x0 = 1e-4, env["x"]
    truth = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e_i, e_j = np.eye(3)[i] * h, np.eye(3)[j] * h
            value = lambda x: tree_f(x, env["A"], env["b"])  # noqa: E731
            truth[i, j] = (
                value(x0 + e_i + e_j)
                - value(x0 + e_i - e_j)
                - value(x0 - e_i + e_j)
                + value(x0 - e_i - e_j)
            ) / (4 * h * h)
    import inspect

    ours = fn(**{p: env[p] for p in inspect.signature(fn).parameters})
    np.testing.assert_allclose(
        ours, truth if layout_name == "numerator" else truth.T, rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("layout_name", ["numerator", "denominator"])
def test_mean_as_code_and_as_a_matrix_expression(layout_name) -> None:
    """mean(v) is np.mean in code and Trace(OneMatrix(1, n)*v)/n in JSON's result; both
    agree with central differences of the input written in NumPy by hand."""
    d = matcalc.derive(
        "mean((y - A @ x)**2) + exp(mean(x))",
        "x",
        vectors=["x", "y:N"],
        matrices=["A:N,n"],
        layout=layout_name,
    )
    assert d.verified is True
    source = numpy_function(d)
    assert "np.mean(" in source
    fn = load(source)
    rng = np.random.default_rng(11)
    A, x0, y = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)

    def f(x):
        return np.mean((y - A @ x) ** 2) + np.exp(np.mean(x))

    h = 1e-6
    truth = np.array([[(f(x0 + h * e) - f(x0 - h * e)) / (2 * h) for e in np.eye(3)]])
    truth = truth if layout_name == "numerator" else truth.T
    np.testing.assert_allclose(fn(x=x0, y=y, A=A), truth, rtol=1e-6, atol=1e-8)
    result = json.loads(d.to_json())["result"]
    assert "Mean(" not in result and "Trace(OneMatrix(1, n)*x)/n" in result


def _function_of(d) -> object:
    namespace: dict = {}
    exec(d.to_numpy(), namespace)  # generated code, the output under test
    return next(v for k, v in namespace.items() if k.startswith(("d", "grad", "jac")))


def test_red_team_gated_singular_product_is_0_where_the_gate_is_closed():
    """Red team: the code of d/dx √relu(x), np.heaviside(x, 0.0) / 2 / np.sqrt(x), was nan
    for every x < 0 (0·nan), where the slope is 0; now np.where(x > 0, …, 0.0).  Truth by
    hand: 0 for x < 0, 1/(2√x) for x > 0; for sum(acos(min(1, x))), 0 for x_i > 1 and
    -1/√(1 - x_i²) inside."""
    with np.errstate(invalid="ignore", divide="ignore"):
        f = _function_of(matcalc.derive("sqrt(relu(x))"))
        got = np.asarray(f(np.array([-2.0, -0.5, 0.25, 4.0])), dtype=float)
        assert got.tolist() == pytest.approx([0.0, 0.0, 1.0, 0.25])
        g = _function_of(matcalc.derive("sum(acos(min(1, x)))", "x", vectors=["x"]))
        got = np.asarray(g(np.array([2.0, 0.5, 0.0])), dtype=float)
        assert got.ravel().tolist() == pytest.approx([0.0, -1 / math.sqrt(0.75), -1.0])


@pytest.mark.parametrize(
    ("text", "wrt", "options", "args", "truth"),
    [
        # ∇ logsumexp(z) = softmax(z); by hand at z = (1000, 1000 - ln 3): (3/4, 1/4)
        (
            "logsumexp(z)",
            "z",
            {"vectors": "z"},
            {"z": [1000.0, 1000.0 - math.log(3)]},
            [[0.75, 0.25]],
        ),
        # cross-entropy: softmax(z)·sum(y) − y, by hand
        (
            "-sum(y*ln(softmax(z)))",
            "z",
            {"vectors": "y,z"},
            {"z": [1000.0, 1000.0 - math.log(3)], "y": [0.0, 1.0]},
            [[0.75, -0.75]],
        ),
        # the softmax's Jacobian diag(s) − s·sᵀ with s = (3/4, 1/4)
        (
            "softmax(z)",
            "z",
            {"vectors": "z"},
            {"z": [1000.0, 1000.0 - math.log(3)]},
            [[0.1875, -0.1875], [-0.1875, 0.1875]],
        ),
        # H·v of logsumexp: s ⊗ v − s·(s·v), s = (3/4, 1/4), v = (1, 0)
        (
            "logsumexp(z)",
            "z",
            {"vectors": "z,v", "hvp": "v"},
            {"z": [1000.0, 1000.0 - math.log(3)], "v": [1.0, 0.0]},
            [[0.1875], [-0.1875]],
        ),
        # logsumexp(u), u = (Aᵀx)² + Aᵀx, whose Hessian rebuilt the sum as Aᵀx + (Aᵀx)², a
        # second tree, so e^u/Σe^u was neither a softmax nor shifted (nan): at A = I,
        # x = (40, 30), u = (1640, 930), p = softmax(u) = (1, 0) to double precision, and
        # H = J·(diag(p) − p·pᵀ)·J + 2diag(p) with J = diag(2x + 1) is diag(2, 0) (by hand)
        (
            "logsumexp((A.T @ x)**2 + A.T @ x)",
            "x",
            {"vectors": "x,v", "matrices": "A", "hvp": "v"},
            {"x": [40.0, 30.0], "A": [[1.0, 0.0], [0.0, 1.0]], "v": [1.0, 1.0]},
            [[2.0], [0.0]],
        ),
        (
            "logsumexp((A.T @ x)**2 + A.T @ x)",
            "x",
            {"vectors": "x", "matrices": "A", "order": 2},
            {"x": [40.0, 30.0], "A": [[1.0, 0.0], [0.0, 1.0]]},
            [[2.0, 0.0], [0.0, 0.0]],
        ),
        # d softplus(x)/dx = σ(x): 1 at 800, 0 at -800, 1/2 at 0
        ("sum(softplus(x))", "x", {"vectors": "x"}, {"x": [800.0, -800.0, 0.0]}, [[1.0, 0.0, 0.5]]),
        # the Hessian of ln(1 + exp(w·x)) is σ(w·x)(1 − σ(w·x))·x·xᵀ: 0 far out, 1/4·x·xᵀ at 0
        (
            "ln(1 + exp(w @ x))",
            "w",
            {"vectors": "w,x", "order": 2},
            {"w": [800.0, 0.0], "x": [1.0, 1.0]},
            [[0.0, 0.0], [0.0, 0.0]],
        ),
        # Xᵀ·diag(σ(Xw)(1 − σ(Xw)))·X, SymPy's denominator e^(2Xw) + 2e^(Xw) + 1 = (e^(Xw) + 1)²:
        # at X = I, w = (800, 0), diag(0, 1/4)
        (
            "sum(softplus(X @ w))",
            "w",
            {"vectors": "w", "matrices": "X", "order": 2},
            {"w": [800.0, 0.0], "X": [[1.0, 0.0], [0.0, 1.0]]},
            [[0.0, 0.0], [0.0, 0.25]],
        ),
        # ∂s_i/∂W_jk = (δ_ij·s_i − s_i·s_j)·x_k: with x = (1, 0) and W·x = (1000, 1000 − ln 3),
        # s = (3/4, 1/4), rows (3/16, 0, −3/16, 0) and (−3/16, 0, 3/16, 0)
        (
            "softmax(W @ x)",
            "W",
            {"vectors": "x", "matrices": "W"},
            {"W": [[1000.0, 0.0], [1000.0 - math.log(3), 0.0]], "x": [1.0, 0.0]},
            [[0.1875, 0.0, -0.1875, 0.0], [-0.1875, 0.0, 0.1875, 0.0]],
        ),
        # ∂s_i/∂t = s_i·(Σ_j s_j·z_j − z_i)/t²: z = 2·(1000, 1000 − ln 3), t = 2, s = (3/4, 1/4),
        # (−3 ln 3/32, 3 ln 3/32)
        (
            "softmax(z/t)",
            "t",
            {"vectors": "z"},
            {"z": [2000.0, 2000.0 - 2 * math.log(3)], "t": 2.0},
            [[-3 * math.log(3) / 32], [3 * math.log(3) / 32]],
        ),
    ],
)
def test_red_team_softmax_and_sigmoid_code_does_not_overflow(text, wrt, options, args, truth):
    """Red team: exp(z)/sum(exp(z)) and exp(x)/(exp(x) + 1) were emitted as written, so the
    generated gradient of logsumexp, cross-entropy, softmax, softplus (and H·v, Hessians) was
    nan (inf/inf) as soon as an entry passed 709; now exp(z − max z)/sum(exp(z − max z)) and
    σ's own overflow-free form.  The last three (the softplus Hessian, softmax(W·x) by W,
    softmax(z/t) by t) divide by (Σ e^u)² or (e^u + 1)² written out: e^u is shifted by max u
    wherever the value is unchanged (``code.shifted``).  Truth by hand (in the comments)."""
    f = load(matcalc.derive(text, wrt, **options).to_numpy())
    with np.errstate(over="raise", invalid="raise"):
        got = f(**{k: np.array(v) for k, v in args.items()})
    np.testing.assert_allclose(np.asarray(got, dtype=float), truth, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(
    ("text", "wrt", "order", "truth"),
    [
        # ∂/∂x ln(eˣ + eʸ) = eˣ/(eˣ + eʸ) = 3/4 where x − y = ln 3 (by hand)
        ("ln(exp(x) + exp(y))", "x", 1, [0.75] * 3),
        # ∂²/∂x² is s(1 − s) with s = 3/4: 3/16 (by hand)
        ("ln(exp(x) + exp(y))", "x", 2, [0.1875] * 3),
        # the gradient of s = eˣ/(eˣ + eʸ) by (x, y) is (s(1 − s), −s(1 − s)) (by hand)
        ("exp(x)/(exp(x) + exp(y))", "x,y", 1, [[[0.1875, -0.1875]]] * 3),
    ],
)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_scalar_softmax_of_two_does_not_overflow(text, wrt, order, truth, backend):
    """eˣ/(eˣ + eʸ) and its relatives were emitted as written: nan (inf/inf) for x, y above 709
    and 0/0 below −745.  Each e^a is now shifted by the largest argument, max(x, y), where
    the value is unchanged by it (``code.scalar_shift``).  At x = 800, −800 and 0, y = x − ln 3."""
    x = [800.0, -800.0, 0.0]
    y = [v - math.log(3) for v in x]
    d = matcalc.derive(text, wrt, order=order)
    if backend == "torch":
        torch = _torch()
        got = load(d.to_torch())(
            torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        )
        np.testing.assert_allclose(got.numpy(), truth, rtol=1e-12)
        return
    with np.errstate(over="raise", invalid="raise", under="ignore"):
        got = load(d.to_numpy())(np.array(x), np.array(y))
    np.testing.assert_allclose(got, truth, rtol=1e-12)


_X, _Y = sympy.symbols("x y", real=True)


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        # e^(e^x) with e^x inside: shifting the inner one would change the outer one's value
        (
            "exp(exp(x))/(exp(exp(x)) + exp(y))",
            sympy.exp(sympy.exp(_X)) / (sympy.exp(sympy.exp(_X)) + sympy.exp(_Y)),
        ),
        ("exp(x + 1)/(exp(x) + exp(y))", sympy.exp(_X + 1) / (sympy.exp(_X) + sympy.exp(_Y))),
        ("exp(2*x)/(exp(x) + exp(y))**2", sympy.exp(2 * _X) / (sympy.exp(_X) + sympy.exp(_Y)) ** 2),
        (
            "sin(x)*exp(x)/(exp(x) + exp(y))",
            sympy.sin(_X) * sympy.exp(_X) / (sympy.exp(_X) + sympy.exp(_Y)),
        ),
    ],
)
def test_a_shift_of_the_exponentials_keeps_the_value(text, truth):
    """Wherever e^a is shifted (or not), the code's value is SymPy's derivative's (built here
    with SymPy's own API) at ordinary points."""
    f = load(matcalc.derive(text, "x").to_numpy())
    want = sympy.diff(truth, _X)
    for xv, yv in [(0.3, -0.2), (1.1, 0.9), (-1.0, 0.5)]:
        got = float(f(np.array(xv), np.array(yv)))
        assert got == pytest.approx(float(want.subs({_X: xv, _Y: yv})), rel=1e-9)


def test_red_team_scalar_softplus_code_does_not_overflow():
    """d/dx softplus(x) = σ(x), written exp(x)/(exp(x) + 1): nan at x = 800 (it is 1)."""
    f = load(numpy_function(matcalc.derive("softplus(x)")))
    with np.errstate(over="raise", invalid="raise"):
        got = f(np.array([800.0, -800.0, 0.0]))
    np.testing.assert_allclose(got, [1.0, 0.0, 0.5], atol=1e-300)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_red_team_a_softplus_left_in_the_result_does_not_overflow(backend):
    """ln(1 + e^u) left in a result (d/dx softplus(x)² = 2σ(x)·softplus(x)) was written
    log(exp(x) + 1): inf at x = 800, where it is 800 (+ e^-800).  Now logaddexp(0, x).
    By hand: 2·1·800 at 800, 0 at -800, 2·(1/2)·ln 2 at 0; and the gradient of
    sum(softplus(x))² at x = (800, -800, 0) is 2(800 + ln 2)·(σ(800), σ(-800), σ(0))."""
    x = np.array([800.0, -800.0, 0.0])
    scalar = matcalc.derive("softplus(x)**2")
    vector = matcalc.derive("sum(softplus(x))**2", "x", vectors="x")
    want = [1600.0, 0.0, math.log(2)]
    total = 2 * (800 + math.log(2))
    want_vector = [[total, 0.0, total / 2]]
    if backend == "torch":
        torch = _torch()
        t = torch.tensor(x, dtype=torch.float64)
        np.testing.assert_allclose(load(scalar.to_torch())(t).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(load(vector.to_torch())(t).numpy(), want_vector, rtol=1e-12)
        return
    with np.errstate(over="raise", invalid="raise", under="ignore"):
        np.testing.assert_allclose(load(scalar.to_numpy())(x), want, rtol=1e-12)
        np.testing.assert_allclose(load(vector.to_numpy())(x), want_vector, rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_red_team_a_square_of_the_sigmoid_does_not_overflow(backend):
    """e^(2u)/(e^u + 1)², σ(u)² as SymPy writes it in a second derivative, was emitted as
    written: nan (inf/inf) above u = 709 (the Hessian of b @ softplus(x * (A @ x)) at |x| ~ 30).
    Now exp(2u − 2·logaddexp(0, u)).  By hand, (x·σ(x))'' = 2σ' + x·σ'' with σ' = σ(1 − σ),
    σ'' = σ'(1 − 2σ): 0 at x = ±800 (to double precision) and 1/2 at 0."""
    d = matcalc.derive("x*exp(x)/(exp(x) + 1)", order=2)
    x = np.array([800.0, 0.0, -800.0])
    want = [0.0, 0.5, 0.0]
    if backend == "torch":
        torch = _torch()
        got = load(d.to_torch())(torch.tensor(x, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
        return
    with np.errstate(over="raise", invalid="raise", under="ignore"):
        got = load(d.to_numpy())(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
