"""Every equation a derivation shows, checked against truth built outside the engine.

``check_steps(d)`` walks ``d.steps`` (into ``Part`` and ``Stage``) and checks each equation
a reader sees, numerically at random points of the input's own domain (the intermediates
given the values of their definitions there, points where something is not real, not
finite or at a kink skipped), against SymPy's ``diff`` / ``Matrix.jacobian`` of explicit
components (vectors and matrices written out at n = 2, and 3 if asked):

- ``Intermediate``: the last one, shown as y = uₖ = …, is the expression (or the stage's);
- ``LocalDerivative``: ∂(of)/∂(wrt) = ∂/∂(wrt) expr = value, every other intermediate and
  variable held as an independent variable (as the reader is told), and ``expr`` is the
  definition of ``of``; its stated shape;
- ``ChainRule``: each factor is the local derivative it names, the factors in the order shown
  multiply to the value, and the value is the true derivative (intermediates substituted);
- ``TotalDerivative``: each path's ∂(of)/∂(via) and d(via)/d(wrt) are true, the paths sum to
  the value (in denominator layout d(via)/d(wrt) · ∂(of)/∂(via)), and the value is true;
- ``Substitute`` and ``Simplify``: before and after (and a product's factors) are true;
- ``Reshape``: the same entries arranged in the stated shapes;
- ``Part``, ``Stage``, ``Assemble``, ``HessianVector``, the "read" ``DifferentialStep`` and
  ``Explicit``: their results are the true derivatives.

Unknown functions f, g are made concrete on both sides (``test_fuzz._concrete``).  A false
equation raises ``AssertionError`` naming the step and the point.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy
from sympy import ImmutableMatrix, Matrix, MatrixBase, Symbol
from sympy.matrices.exceptions import ShapeError
from test_fuzz import KINK, _concrete, _near_kink, _value, compare_at

from matcalc.engine.layout import Vec
from matcalc.linalg import Declaration, Kron, Outer, OuterT, T, explicit, shape_of
from matcalc.linalg.components import components
from matcalc.linalg.operations import MDiff
from matcalc.steps import (
    Assemble,
    ChainRule,
    DifferentialStep,
    Explicit,
    HessianVector,
    Intermediate,
    LocalDerivative,
    Part,
    Reshape,
    Simplify,
    Stage,
    Substitute,
    TotalDerivative,
)


# --- written out in components (shared with test_layouts) -------------------------------------
def entries(variable) -> list:
    """A variable's components in order: a matrix's rows stacked (row-major)."""
    return list(variable) if isinstance(variable, MatrixBase) else [variable]


def gradient_by_matrix(value, X: Matrix, layout: str) -> Matrix:
    """A scalar by a matrix alone: X's shape in denominator layout, its transpose in numerator."""
    grid = Matrix(X.rows, X.cols, lambda i, j: sympy.diff(value, X[i, j]))
    return grid if layout == "denominator" else grid.T


def assert_same(ours, expected: Matrix, seed: int = 0) -> None:
    """Equal at three random points in [-2, 2] (for smooth inputs defined everywhere)."""
    import random as _random

    ours, expected = Matrix(ours), Matrix(expected)
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    expected = expected.replace(sympy.Heaviside, lambda z, *rest: sympy.Heaviside(z, 0))
    ours = ours.replace(sympy.Heaviside, lambda z, *rest: sympy.Heaviside(z, 0))
    symbols = sorted(ours.free_symbols | expected.free_symbols, key=str)
    rng = _random.Random(seed)
    for _ in range(3):
        point = {s: sympy.Float(rng.uniform(-2, 2), 20) for s in symbols}
        a, e = ours.xreplace(point).evalf(15), expected.xreplace(point).evalf(15)
        for x, y in zip(a, e, strict=True):
            assert abs(complex(x) - complex(y)) < 1e-9 * max(1, abs(complex(y))), (ours, expected)


def dense(value, shapes, dims, comps=None):
    """A compact Jacobian written out; the operator Outer(v, J) is J ⊗ₖ vᵀ; vec(A) lists A's
    entries with its rows stacked, as a column.  With no vectors (``shapes`` empty) a
    scalar is a 1×1 matrix and a matrix itself."""
    if not shapes:
        return (
            ImmutableMatrix(value) if isinstance(value, MatrixBase) else ImmutableMatrix([[value]])
        )
    value = sympy.sympify(value)
    if isinstance(value, T) and isinstance(value.args[0], Vec):
        return dense(value.args[0], shapes, dims, comps).T
    if isinstance(value, Vec):
        inner = dense(value.args[0], shapes, dims, comps)
        return ImmutableMatrix(len(inner), 1, list(inner))
    value = value.replace(lambda e: isinstance(e, Outer), lambda e: Kron(e.args[1], T(e.args[0])))
    value = value.replace(lambda e: isinstance(e, OuterT), lambda e: Kron(T(e.args[0]), e.args[1]))
    value = value.replace(  # vec(M) inside a product: M's entries, rows stacked, a column
        lambda e: isinstance(e, Vec),
        lambda e: ImmutableMatrix(list(Matrix(explicit(e.args[0], shapes, dims, comps)))),
    )
    out = explicit(value, shapes, dims, comps)
    return out if isinstance(out, MatrixBase) else ImmutableMatrix([[out]])


def variable_components(symbol, shapes, dims, comps=None):
    """The components of a variable (or of vec(A)) in order."""
    if isinstance(symbol, Vec):
        return entries(explicit(symbol.args[0], shapes, dims, comps))
    if symbol not in shapes:
        return [symbol]
    return entries(explicit(symbol, shapes, dims, comps))


def jacobian(of_value, wrt, shapes, dims, layout, comps=None):
    """SymPy's Jacobian of the written-out ``of_value`` by ``wrt``'s components."""
    outputs = entries(of_value)
    variables = variable_components(wrt, shapes, dims, comps)
    if wrt in shapes and shapes[wrt].cols != 1 and len(outputs) == 1:  # a scalar by a matrix
        X = explicit(wrt, shapes, dims, comps)
        grid = gradient_by_matrix(outputs[0], Matrix(X), layout)
        if getattr(shapes[wrt], "symmetric", False):  # s_ij = s_ji, one variable: the
            # symmetric gradient (G + Gᵀ)/2 has half its derivative off the diagonal
            grid = grid.applyfunc(lambda e: e)
            for i in range(grid.rows):
                for j in range(grid.cols):
                    if i != j:
                        grid[i, j] = grid[i, j] / 2
        return grid
    jac = Matrix(outputs).jacobian(variables)
    return jac.T if layout == "denominator" else jac


def _operators(value) -> bool:
    """A product with an operator of the engine among its factors (Lin, DMat, Outer …)."""
    names = {"Lin", "DMat", "Outer", "OuterT", "Rank1"}
    return any(type(n).__name__ in names for n in sympy.preorder_traversal(value))


def walk(steps):
    """The steps, those of each ``Part`` in place of it."""
    for step in steps:
        if isinstance(step, Part):
            yield from walk(step.steps)
        else:
            yield step


# --- numbers at points of the input's own domain -------------------------------------------------
@dataclass
class Points:
    """Random points of the domain: values of the variables, and of every intermediate (and
    its components) computed from its definition there."""

    base: list  # the variables' symbols (components for vectors)
    rng: random.Random
    domain: list = field(default_factory=list)  # expressions that must be real and finite there
    points: list = field(default_factory=list)
    wanted: int = 2

    def generate(self, expansions: dict) -> None:
        """``expansions``: each intermediate (component) symbol → its value in the variables."""
        concrete = {s: _concrete(sympy.sympify(e)) for s, e in expansions.items()}
        domain = [_concrete(sympy.sympify(e)) for e in self.domain]
        kinks = set().union(set(), *(e.atoms(*KINK) for e in [*concrete.values(), *domain]))
        for _ in range(self.wanted * 8):
            point = {
                s: sympy.Float(sympy.Rational(self.rng.randint(-2900, 2900), 1000), 30)
                for s in self.base
            }
            values = {}
            ok = True
            for s, e in concrete.items():
                v = _precise(e, point)
                if v is None:
                    ok = False
                    break
                values[s] = v
            if not ok:
                continue
            full = {**point, **values}
            if any((v := _value(e, point)) is None or abs(v.imag) > 1e-9 for e in domain):
                continue
            if _near_kink(kinks, point):
                continue
            self.points.append(full)
            if len(self.points) == self.wanted:
                return


def _precise(expr, point: dict) -> sympy.Float | None:
    """A real value of ``expr`` at ``point`` to 30 digits; None where it is not a finite
    real number (below 1e10, as ``_value`` requires).  An intermediate's value is kept at
    30 digits, not rounded to a double: u = 4·10⁹ rounded moves sin(u) in its 7th digit."""
    approx = _value(expr, point)
    if approx is None or abs(approx.imag) > 1e-9:
        return None
    try:
        value = sympy.re(expr.xreplace(point).evalf(30))
    except (ArithmeticError, TypeError, ValueError, AttributeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, sympy.Float) else sympy.Float(approx.real, 30)


def same_at_points(ours, truth, points: Points, what) -> int:
    """``ours`` and ``truth`` (matrices of the same shape) agree at ``points``."""
    ours, truth = Matrix(ours), Matrix(truth)
    assert ours.shape == truth.shape, (what(), "shape", ours.shape, truth.shape)
    ours = ours.applyfunc(lambda e: _concrete(_heaviside(e)))
    truth = truth.applyfunc(lambda e: _concrete(_heaviside(e)))
    kinks = set().union(set(), *(e.atoms(*KINK) for e in (*ours, *truth)))
    return sum(compare_at(ours, truth, point, kinks, lambda: (what(),)) for point in points.points)


def _heaviside(e):
    """SymPy's Heaviside(0) = 1/2, the engine's 0: compared as H(z, 0) (points avoid 0)."""
    if not isinstance(e, sympy.Basic):
        return e
    return e.replace(
        lambda h: isinstance(h, sympy.Heaviside), lambda h: sympy.Heaviside(h.args[0], 0)
    )


def _product(factors, what=lambda: ""):
    """The product in order; a factor shown as the number 0 is a zero matrix of the shape
    its neighbours need (vec(I)ᵀ·0·𝟏ᵀ with ∂vec(u)/∂s = 0 stated n²×1)."""
    out = factors[0]
    zero = False
    for k, f in enumerate(factors[1:], 2):
        last = k == len(factors)
        if zero or (f.shape == (1, 1) and f[0, 0] == 0 and out.shape != (1, 1) and not last):
            zero = True
            out = sympy.zeros(out.shape[0], f.shape[1] if f.shape != (1, 1) else 1)
            continue
        if out.shape == (1, 1):
            out = f * out[0, 0]
        elif f.shape == (1, 1):
            out = out * f[0, 0]
        else:
            assert out.shape[1] == f.shape[0], (
                what(),
                "factors that cannot be multiplied",
                out.shape,
                f.shape,
            )
            out = Matrix(out) * Matrix(f)
    return Matrix(out)


# --- the walk ------------------------------------------------------------------------------------
@dataclass
class Scope:
    """One list of steps: the expression its steps differentiate (y, f, y', f_x, g …) and its
    intermediates."""

    expr: object
    layout: str
    definitions: dict = field(default_factory=dict)  # u → definition (intermediates as symbols)


class StepChecker:
    def __init__(self, d, n: int = 2, seed: int = 0, points: int = 2):
        self.d = d
        self.problem = d.problem
        self.declared = {decl.symbol: decl for decl in d.problem.declarations}
        self.vector = bool(self.declared)
        self.n = n
        self.rng = random.Random(seed)
        self.wanted = points
        self.checked = 0
        self.matrices: dict = {}  # scalar problems: a vector intermediate → its value
        self.vectors: dict = {}  # scalar problems: a vector intermediate g → (g_1, g_2, …)
        self.parts: dict = {}  # the name of each part's expression (f_1, f_x …) → it

    # -- expressions written out -----------------------------------------------------------------
    def _dims(self, shapes):
        return {
            s: self.n if s.name == "n" else 2
            for d_ in shapes.values()
            for s in (d_.rows, d_.cols)
            if isinstance(s, Symbol)
        }

    def run(self) -> int:
        problem = self.problem
        expr = problem.exprs[0] if len(problem.exprs) == 1 else Matrix([list(problem.exprs)]).T
        self._collect_parts(self.d.steps)
        self._steps(self.d.steps, Scope(expr, problem.layout))
        return self.checked

    def _collect_parts(self, steps) -> None:
        for step in steps:
            if isinstance(step, Part):
                self.parts[step.of] = step.expr
            if isinstance(step, (Part, Stage)):
                self._collect_parts(step.steps)

    def _steps(self, steps, scope: Scope) -> None:
        shapes = dict(self.declared)
        intermediates = [s for s in steps if isinstance(s, Intermediate)]
        for step in intermediates:
            scope.definitions[step.name] = step.definition
            if self.vector:
                rows, cols = shape_of(step.definition, shapes)
                if (rows, cols) != (1, 1):
                    shapes[step.name] = Declaration(step.name, rows, cols)
        self.shapes = shapes
        self.dims = self._dims(shapes)
        self.comps = components(shapes, self.dims) if self.vector else {}
        # each intermediate (its components) → its value in the variables
        expanded: dict = {}
        values: dict = {}
        for step in intermediates:
            if self.vector:
                comps = {**self.comps, **expanded}
                value = explicit(step.definition, shapes, self.dims, comps)
                expanded[step.name] = value
                if step.name in shapes:
                    for c, v in zip(entries(self.comps[step.name]), entries(value), strict=True):
                        values[c] = v
                else:
                    values[step.name] = value
            elif isinstance(step.definition, MatrixBase):  # g = (g_1, g_2, …) of a Jacobian
                value = Matrix(step.definition).xreplace(expanded)
                named = self._component_symbols(steps)
                self.matrices[step.name] = value
                if f"{step.name.name}_1" in named:  # its components appear further on
                    self.vectors[step.name] = [
                        named[f"{step.name.name}_{i + 1}"] for i in range(len(value))
                    ]
                    for c, v in zip(self.vectors[step.name], value, strict=True):
                        expanded[c] = v
                        values[c] = v
            else:
                value = sympy.sympify(step.definition).xreplace(expanded)
                expanded[step.name] = value
                values[step.name] = value
        self.expanded = expanded
        base_value = self.write(scope.expr, intermediates_expanded=True)
        base = sorted(
            set().union(*(sympy.sympify(e).free_symbols for e in [*values.values(), *base_value]))
            | set().union(*(sympy.sympify(e).free_symbols for e in self._variables()))
            - set(values),
            key=str,
        )
        self.points = Points(base, self.rng, domain=list(base_value), wanted=self.wanted)
        self.points.generate(values)
        self.scope = scope

        for step in intermediates:
            if step.output is not None:
                self.same(
                    self.write(step.name, intermediates_expanded=True),
                    base_value,
                    lambda s=step: f"{s.output} = {s.name} = the expression",
                )
        for step in steps:
            self._step(step, scope)

    @staticmethod
    def _component_symbols(steps) -> dict:
        out = {}
        for step in steps:
            for value in (getattr(step, "definition", None), getattr(step, "expr", None)):
                if isinstance(value, sympy.Basic):
                    out.update({str(s): s for s in value.free_symbols})
        return out

    def _variables(self):
        out = []
        for v in self.problem.wrt:
            out += variable_components(v, self.declared, self._dims(self.declared))
        if self.problem.hvp is not None:
            out += variable_components(self.problem.hvp, self.declared, self._dims(self.declared))
        return out

    def write(self, value, intermediates_expanded: bool = False):
        """``value`` as a matrix of components (intermediates as symbols, or expanded)."""
        if not self.vector:
            if intermediates_expanded and isinstance(value, Symbol) and value in self.matrices:
                return Matrix(self.matrices[value])
            if isinstance(value, Symbol) and value in self.vectors:
                value = Matrix(self.vectors[value])
            m = dense(value, {}, {})
            return m.xreplace(self.expanded) if intermediates_expanded else m
        comps = {**self.comps, **self.expanded} if intermediates_expanded else self.comps
        try:
            return dense(value, self.shapes, self.dims, comps)
        except ShapeError as error:  # a shown product of factors that do not fit
            raise AssertionError(("cannot be written out", value, str(error))) from error

    def truth(self, of_value, wrt, layout):
        """∂(of_value)/∂(wrt), both written out (``of_value`` a matrix of components).
        Unknown functions are made concrete first: SymPy's own ∂f(f(x), f(x))/∂f(x) is
        ambiguous (it counts both arguments, then the chain rule counts them again)."""
        if not self.vector:
            of_value = Matrix(of_value).applyfunc(_concrete)
            if isinstance(wrt, Symbol) and wrt in self.vectors:
                wrt = tuple(self.vectors[wrt])
            if isinstance(wrt, (tuple, list)):
                jac = Matrix(list(of_value)).jacobian(list(wrt))
            else:
                jac = Matrix(list(of_value)).jacobian([wrt])
            return jac.T if layout == "denominator" else jac
        if isinstance(wrt, (tuple, list)):
            variables = [
                c for w in wrt for c in variable_components(w, self.shapes, self.dims, self.comps)
            ]
            jac = Matrix(list(of_value)).jacobian(variables)
            return jac.T if layout == "denominator" else jac
        return jacobian(
            ImmutableMatrix(of_value) if len(of_value) > 1 else of_value[0],
            wrt,
            self.shapes,
            self.dims,
            layout,
            self.comps,
        )

    def same(self, ours, truth, what) -> None:
        ours = Matrix(ours)
        truth = Matrix(truth)
        if ours.shape == (1, 1) and ours[0, 0] == 0:  # 0 is a zero matrix of any shape
            ours = sympy.zeros(*truth.shape)
        if truth.shape == (1, 1) and truth[0, 0] == 0:
            truth = sympy.zeros(*ours.shape)
        self.checked += same_at_points(ours, truth, self.points, what) > 0

    def _of_expr(self, of, expanded: bool):
        name = of.args[0] if isinstance(of, Vec) else of
        if name in self.scope.definitions:
            return self.write(name, intermediates_expanded=expanded)
        return self.write(self.scope.expr, intermediates_expanded=expanded)

    def local(self, of, wrt, layout):
        """∂(of)/∂(wrt) with every other intermediate and variable independent."""
        name = of.args[0] if isinstance(of, Vec) else of
        definition = self.scope.definitions.get(name, self.scope.expr)
        return self.truth(self.write(definition), wrt, layout)

    def total(self, of, wrt, layout):
        """d(of)/d(wrt) with the intermediates replaced by their definitions."""
        return self.truth(self._of_expr(of, expanded=True), wrt, layout)

    def _step(self, step, scope: Scope) -> None:
        layout = scope.layout
        desc = lambda: f"{type(step).__name__} {step!r}"[:1500]  # noqa: E731
        if isinstance(step, LocalDerivative):
            name = step.of.args[0] if isinstance(step.of, Vec) else step.of
            if name in scope.definitions:
                self.same(
                    self.write(step.expr),
                    self.write(scope.definitions[name]),
                    lambda: f"expr is not the definition: {desc()}",
                )
            expected = self.truth(self.write(step.expr), step.wrt, layout)
            self.same(self.write(step.value), expected, desc)
            self._stated_shape(step.shape, expected, desc)
            held = set(step.held_constant)
            assert step.wrt not in held, (desc(), "the variable itself held constant")
            named = {str(s) for s in sympy.sympify(step.expr).free_symbols}
            assert all(str(h) in named for h in held), (desc(), "held constant but not in it")
        elif isinstance(step, ChainRule):
            factors = [self.write(v) for v in step.factor_values]
            for name, value in zip(step.factors, factors, strict=True):
                self.same(
                    value,
                    self.local(name.of, name.wrt, layout),
                    lambda n=name: f"factor {n}: {desc()}",
                )
            self.same(
                _product(factors, desc),
                self.write(step.value),
                lambda: f"product of the factors: {desc()}",
            )
            truth = self.total(step.of, step.wrt, layout)
            self.same(self.write(step.value), truth, desc)
            self._stated_shape(step.shape, truth, desc)
        elif isinstance(step, TotalDerivative):
            products = []
            for term in step.terms:
                partial = self.write(term.partial_value)
                if term.via is None:
                    self.same(
                        partial,
                        self.local(step.of, step.wrt, layout),
                        lambda t=term: f"direct term {t}: {desc()}",
                    )
                    products.append(partial)
                    continue
                self.same(
                    partial,
                    self.local(step.of, term.via, layout),
                    lambda t=term: f"∂/∂via of {t}: {desc()}",
                )
                total = self.write(term.total_value)
                self.same(
                    self.write(term.total_value),
                    self.total(term.via, step.wrt, layout),
                    lambda t=term: f"d(via) of {t}: {desc()}",
                )
                pair = [total, partial] if step.layout == "denominator" else [partial, total]
                products.append(_product(pair, desc))
            if products:
                total_sum = products[0]
                for p in products[1:]:
                    total_sum = total_sum + p
                self.same(total_sum, self.write(step.value), lambda: f"sum of the paths: {desc()}")
            truth = self.total(step.of, step.wrt, layout)
            self.same(self.write(step.value), truth, desc)
            self._stated_shape(step.shape, truth, desc)
        elif isinstance(step, (Substitute, Simplify)):
            truth = self.total(step.of, step.wrt, layout)
            self.same(self.write(step.after), truth, lambda: f"after: {desc()}")
            # ``before`` too: the text shows it as the previous step's value, and JSON gives
            # it (in denominator layout, by vec(X), it was once the n×n gradient); a chain of
            # operators (a gradient by a matrix, Lin·DMat·…) is not written out here: it is
            # the Combine step's value, checked there factor by factor
            try:
                before = self.write(step.before)
            except AssertionError as error:
                if error.args[0][0] != "cannot be written out" or not _operators(step.before):
                    raise
            else:
                self.same(before, truth, lambda: f"before: {desc()}")
            if isinstance(step, Substitute):
                for name, value in step.replacements:
                    self.same(
                        self.write(value),
                        self.write(name, True),
                        lambda n=name: f"{n} = …: {desc()}",
                    )
                if step.factors:
                    factors = [self.write(f) for f in step.factors]
                    self.same(_product(factors, desc), truth, lambda: f"factors: {desc()}")
        elif isinstance(step, Reshape) and self.vector:
            # vec stacks the rows of the gradient G (X's shape; Gᵀ in numerator layout)
            before, after = Matrix(self.write(step.before)), Matrix(self.write(step.after))
            matrix, column = (after, before) if step.to == "matrix" else (before, after)
            zero = all(e == 0 for e in (*before, *after))
            if not zero:
                grid = matrix if layout == "denominator" else matrix.T
                self.same(
                    Matrix([list(column)]), Matrix([list(grid)]), lambda: f"entries: {desc()}"
                )
                for value, shape in ((before, step.before_shape), (after, step.after_shape)):
                    stated = tuple(int(sympy.sympify(s).subs(self.dims)) for s in shape)
                    assert value.shape == stated, (desc(), value.shape, stated)
        elif isinstance(step, Part):
            inner = Scope(step.expr, layout)
            saved = self._save()
            self._steps(step.steps, inner)
            self._restore(saved)
            self.same(
                self.write(step.result),
                self.truth(self.write(step.expr, True), step.wrt, layout),
                lambda: f"Part result: {desc()}",
            )
        elif isinstance(step, Stage):
            self._stage(step, scope)
        elif isinstance(step, Assemble) and not self.vector:
            truth = Matrix(
                [[sympy.diff(self._named(e.of), e.wrt) for e in row] for row in step.entries]
            )
            self.same(self.write(step.value), truth, lambda: f"Assemble: {desc()}")
        elif isinstance(step, HessianVector):
            hessian = self.write(step.hessian)
            v = self.write(step.vector)
            self.same(self.write(step.value), Matrix(hessian) * Matrix(v), lambda: f"H·v: {desc()}")
            self.same(
                self.write(step.result), self.write(step.value), lambda: f"H·v simplified: {desc()}"
            )
        elif isinstance(step, DifferentialStep) and step.stage == "read":
            truth = self.truth(self.write(scope.expr, True), step.wrt, step.layout)
            self.same(self.write(step.value), truth, lambda: f"read off: {desc()}")
        elif isinstance(step, DifferentialStep):  # dy = … in terms of dX
            differential, with_d = self._differentials(step.wrt)
            self.same(with_d(step.value), differential(scope.expr), lambda: f"dy: {desc()}")
            for rule, of, value in step.rules:
                self.same(with_d(value), differential(of.args[0]), lambda r=rule: f"{r}: {desc()}")
        elif isinstance(step, Explicit):
            pass  # the result at concrete sizes: test_fuzz compares it with the truth

    def _stated_shape(self, shape, truth, what) -> None:
        """The shape a step states, (rows, cols) at this size, is the truth's."""
        if shape and self.vector:
            stated = tuple(int(sympy.sympify(s).subs(self.dims)) for s in shape)
            assert stated == truth.shape, (what(), "stated shape", stated, truth.shape)

    def _differentials(self, X):
        """(M ↦ dM = Σ ∂M/∂X_ij·dX_ij written out, value ↦ value with dX written out), the
        points given random values of the dX_ij."""
        # a symmetric matrix's s_ij and s_ji are one variable (and dS is symmetric)
        entries_x = list(dict.fromkeys(variable_components(X, self.shapes, self.dims, self.comps)))
        ds = [Symbol(f"d{c.name}", real=True) for c in entries_x]
        for point in self.points.points:
            for d in ds:
                point.setdefault(d, sympy.Float(self.rng.uniform(-2, 2), 30))
        index = {c: i for i, c in enumerate(entries_x)}

        def differential(value):
            m = Matrix(self.write(value, True))
            return m.applyfunc(lambda e: sum(sympy.diff(e, c) * d for c, d in zip(entries_x, ds)))

        def with_d(value):
            m = Matrix(self.write(value))
            return m.replace(
                lambda e: isinstance(e, MDiff) and e.args[0] in index,
                lambda e: ds[index[e.args[0]]],
            )

        return differential, with_d

    def _named(self, name):
        return self.parts.get(name, self.scope.expr)

    def _save(self):
        return (self.shapes, self.dims, self.comps, self.expanded, self.points, self.scope)

    def _restore(self, saved):
        self.shapes, self.dims, self.comps, self.expanded, self.points, self.scope = saved

    def _stage(self, stage: Stage, scope: Scope) -> None:
        # a vector Hessian's stage 1 is the gradient as a column (denominator layout)
        layout = (
            "denominator"
            if (
                self.vector
                and stage.hessian is False
                and stage.order == 1
                and self.problem.order == 2
            )
            else scope.layout
        )
        inner = Scope(stage.expr, layout)
        saved = self._save()
        self._steps(stage.steps, inner)
        self._restore(saved)
        expr = self.write(stage.expr, True)
        desc = lambda: f"Stage {stage.order} result: {stage!r}"[:1500]  # noqa: E731
        if stage.hessian and not self.vector:
            grad = list(expr)
            truth = Matrix([[sympy.diff(g, w) for w in stage.wrt] for g in grad])
        elif stage.order == 1 and len(stage.wrt) > 1 and not self.vector:
            truth = self.truth(expr, tuple(stage.wrt), layout)
        else:
            truth = self.truth(expr, stage.wrt[-1], layout)
        self.same(self.write(stage.result, True), truth, desc)


def check_steps(d, sizes=(2,), seed: int = 0, points: int = 2) -> int:
    """Check every shown equation of ``d`` (see the module's docstring); returns how many
    equations were compared at one point or more."""
    checked = 0
    for n in sizes if d.problem.declarations else (None,):
        try:
            checked += StepChecker(d, n=n or 2, seed=seed, points=points).run()
        except ValueError as error:  # logdet(Aᵀ - A) at n = 3: undefined at that size
            if "singular" not in str(error):
                raise
    return checked
