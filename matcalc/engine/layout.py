"""Layouts and results by several variables (the paper's §3–§4, both layouts).

The engine derives in numerator layout (∂y/∂x is m×n for an m-vector y and an
n-vector x) and ``to_denominator`` then writes *every* step in denominator layout,
not just the result: each local derivative is transposed, the chain rule's
product is taken in the reverse order (∂y/∂x = ∂u/∂x · ∂y/∂u, since
(AB)ᵀ = BᵀAᵀ), each path of the total-derivative chain rule likewise, and the
substituted and simplified forms are the transposes of the numerator ones.  No
step is a bare "now transpose it".

A result by several variables is assembled from one block per variable:

- numerator layout: a block row [∂y/∂w, ∂y/∂b, …], each block m × (size of the
  variable), so that the whole is the Jacobian by all variables' entries listed in
  order;
- denominator layout: the transposes of those blocks, stacked in a column.

A scalar's gradient by a matrix W enters as vec: the entries of ∂y/∂W, W's rows
stacked (w₁₁, w₁₂, …, w₂₁, …), as a column ``Vec`` in denominator layout and its
transpose, a row, in numerator layout; the derivation says so in a ``Reshape``
step.  A vector's Jacobian by W is already taken by vec(W) (``Kron`` forms).

``jacobian_shape`` is the one place that says what shape a derivative has, with
sizes that may be symbols (n, N); ``explicit_value`` writes an assembled result
out in components as one flat matrix.
"""

from __future__ import annotations

from dataclasses import replace

from sympy import Expr, Function, ImmutableMatrix, Integer, MatrixBase, Mul, Symbol

from matcalc.engine.simplify import reordered_only
from matcalc.errors import ShapeError
from matcalc.linalg.base import SCALAR
from matcalc.linalg.components import explicit
from matcalc.linalg.declarations import MatrixName, Shapes
from matcalc.linalg.jacobians import OPERATORS, Kron, MatProd, Outer, OuterT, T
from matcalc.linalg.shapes import shape_of
from matcalc.msg import Msg
from matcalc.steps import (
    ChainRule,
    LocalDerivative,
    Math,
    Note,
    PathTerm,
    Reshape,
    Simplify,
    Step,
    Substitute,
    TotalDerivative,
)


class Vec(Function):
    """vec(A): the entries of the matrix A as a column, A's rows stacked (a₁₁, a₁₂, …)."""

    nargs = 1

    def _sympystr(self, printer) -> str:
        return f"vec({printer._print(self.args[0])})"

    def _latex(self, printer) -> str:
        return rf"\operatorname{{vec}}\left({printer._print(self.args[0])}\right)"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        from matcalc.render.printing import TextPrinter

        inner = TextPrinter({"unicode": printer._use_unicode}).doprint(self.args[0])
        return prettyForm(f"vec({inner})")


# --- shapes ---------------------------------------------------------------------------


def jacobian_shape(expr: Expr, wrt: Symbol, shapes: Shapes, layout: str, *, vec: bool = False):
    """(rows, cols) of ∂expr/∂wrt, sizes possibly symbols.

    Numerator layout: an m-vector by an n-vector is m×n, by a scalar m×1; a scalar by
    an n-vector 1×n; a scalar by an r×c matrix c×r (its gradient, the transpose of the
    matrix's shape), or 1×rc by vec of the matrix when ``vec``; anything with m entries
    by an r×c matrix m×rc.  Denominator layout transposes.
    """
    if isinstance(wrt, Vec):  # by vec(W): W's entries, rows stacked
        wrt, vec = wrt.args[0], True
    rows, cols = shape_of(expr, shapes)
    length = rows * cols
    wrt_rows, wrt_cols = shape_of(wrt, shapes)
    if isinstance(wrt, MatrixName) and length == 1 and not vec:
        shape = (wrt_cols, wrt_rows)
    else:
        shape = (length, wrt_rows * wrt_cols)
    return shape[::-1] if layout == "denominator" else shape


def assembled_shape(expr: Expr, wrts, shapes: Shapes, layout: str):
    """(rows, cols) of the result by several variables: one block per variable."""
    blocks = [jacobian_shape(expr, w, shapes, "numerator", vec=True) for w in wrts]
    shape = (blocks[0][0], sum((b[1] for b in blocks), Integer(0)))
    return shape[::-1] if layout == "denominator" else shape


def shape_text(rows: Expr, cols: Expr) -> str:
    """ "n×1", "1×(n² + 1)": a shape for a sentence (sizes may be symbols)."""

    def size(s: Expr) -> str:
        text = str(s).replace("**2", "²").replace("**3", "³").replace("*", "·")
        return f"({text})" if " " in text else text

    return f"{size(rows)}×{size(cols)}"


# --- denominator layout, step by step ---------------------------------------------------


def to_denominator(steps: tuple[Step, ...], result: Math, calc) -> tuple[tuple[Step, ...], Math]:
    """The numerator-layout ``steps`` and ``result`` written in denominator layout."""
    t = calc.transpose
    done: dict = {}  # the last Simplify step shows the result: tidied once, not twice

    def tidied(expr: Math) -> Math:
        if expr not in done:
            done[expr] = _textbook(calc.tidy(t(expr)), calc)
        return done[expr]

    out: list[Step] = []
    for step in steps:
        if isinstance(step, LocalDerivative):
            step = replace(step, value=t(step.value))
        elif isinstance(step, ChainRule):
            step = replace(
                step,
                factors=step.factors[::-1],
                factor_values=tuple(t(v) for v in reversed(step.factor_values)),
                value=t(step.value),
            )
        elif isinstance(step, TotalDerivative):
            terms = tuple(
                PathTerm(
                    via=term.via,
                    partial_value=t(term.partial_value),
                    total_value=None if term.total_value is None else t(term.total_value),
                )
                for term in step.terms
            )
            step = replace(step, terms=terms, value=t(step.value), layout="denominator")
        elif isinstance(step, Substitute):
            if step.factors:
                factors = tuple(t(f) for f in reversed(step.factors))
                before = _display_reversed(step.before, calc)
                step = replace(
                    step, factors=factors, before=before, after=calc.display_product(factors)
                )
            else:
                step = replace(step, before=t(step.before), after=t(step.after))
        elif isinstance(step, Simplify):
            step = replace(step, before=t(step.before), after=tidied(step.after))
            if reordered_only(step.before, step.after):  # transposed, only reordered
                continue
        elif isinstance(step, Note) and step.topic == "sum_to_one" and step.math is not None:
            step = replace(step, math=tidied(step.math))
        out.append(step)
    transposed = tidied(result)
    last = _shown(out)
    named = [s for s in out if hasattr(s, "of") and hasattr(s, "wrt")]
    if last is not None and last != transposed and not reordered_only(last, transposed) and named:
        of, wrt, partial = named[-1].of, named[-1].wrt, getattr(named[-1], "partial", True)
        out.append(Simplify(of=of, wrt=wrt, before=last, after=transposed, partial=partial))
    return tuple(out), transposed


def _textbook(expr: Math, calc) -> Math:
    """The transposed result in textbook form again (tidying merges what it had split)."""
    from matcalc.engine.textbook import textbook

    return textbook(expr, calc.shapes)[0]


def _display_reversed(product: Math, calc) -> Math:
    """An unevaluated chain-rule product with its factors transposed, in reverse order."""
    factors = product.args if isinstance(product, (Mul, MatProd)) else (product,)
    return calc.display_product([calc.transpose(f) for f in reversed(factors)])


def _shown(steps: list[Step]) -> Math | None:
    """The value the last step shows for the derivative (its final form)."""
    if not steps:
        return None
    step = steps[-1]
    for name in ("after", "value"):
        if hasattr(step, name):
            return getattr(step, name)
    return None


def annotate_shapes(steps: tuple[Step, ...], shapes: Shapes, layout: str) -> tuple[Step, ...]:
    """Each local derivative and chain-rule product with its shape in ``layout``."""
    out = []
    for step in steps:
        if isinstance(step, (LocalDerivative, ChainRule, TotalDerivative)):
            try:
                shape = jacobian_shape(step.of, step.wrt, shapes, layout)
            except ShapeError:  # a shape the engine cannot state: say nothing
                shape = ()
            step = replace(step, shape=tuple(shape))
        out.append(step)
    return tuple(out)


# --- a scalar by a matrix, through a vector: by vec(W), then reshaped ------------------------


def by_vec(
    steps: tuple[Step, ...], result: Math, wrt: Symbol, layout: str, calc
) -> tuple[Step, ...]:
    """The steps of a scalar's gradient by the matrix ``wrt`` written by vec(wrt) where the
    chain passes through a vector, then one ``Reshape`` step back to the gradient.

    ∂(Wx)/∂W is a Jacobian by vec(W) (rows stacked), n×n²; the chain rule's product through it
    is a 1×n² row by vec(W), not the n×n gradient.  So every derivative by W in such a
    derivation is labelled by vec(W) and a scalar's gradient G is written as the row vec(Gᵀ)ᵀ
    (numerator layout; vec(G), a column, in denominator layout), and the last step arranges
    the result as a matrix.  Nothing equates objects of different shapes.
    """
    if not any(_has_operator(_values(step)) for step in steps):
        return steps
    out = _by_vec_steps(steps, wrt, layout, calc)
    last = _shown(out)
    of = next(s.of for s in reversed(out) if hasattr(s, "of"))  # not a closing Note
    rows, cols = shape_of(wrt, calc.shapes)
    out.append(
        Reshape(
            of=of,
            wrt=wrt,
            before=last,
            after=result,
            before_shape=(rows * cols, 1) if layout == "denominator" else (1, rows * cols),
            after_shape=(rows, cols) if layout == "denominator" else (cols, rows),
            layout=layout,
            to="matrix",
            explanation=Msg("explain.reshape.matrix", wrt=wrt),
        )
    )
    return tuple(out)


def _by_vec_steps(steps: tuple[Step, ...], wrt: Symbol, layout: str, calc) -> list[Step]:
    """Every derivative by the matrix ``wrt`` labelled by vec(wrt), and a scalar's gradient
    by it (of the expression or of a scalar intermediate) written as the row vec(Gᵀ)ᵀ
    (numerator layout; the column vec(G) in denominator layout), so that it multiplies the
    Jacobians by vec(wrt) it meets in the chain rule."""
    target = Vec(wrt)
    written: dict = {}  # each gradient written by vec, so that a Simplify's before is too

    def as_vec(gradient: Math) -> Math:
        if gradient not in written:
            written[gradient] = _as_vec(gradient, layout, calc)
        return written[gradient]

    def scalar(symbol) -> bool:
        return shape_of(symbol, calc.shapes) == SCALAR

    def name(n):
        return replace(n, wrt=Vec(n.wrt)) if isinstance(n.wrt, MatrixName) else n

    def by_matrix(symbol) -> bool:  # a matrix intermediate (u = Xᵀ): by vec(u) too
        return isinstance(symbol, MatrixName) and symbol != wrt

    def via(term):
        return Vec(term.via) if by_matrix(term.via) else term.via

    out: list[Step] = []
    for step in steps:
        if isinstance(step, LocalDerivative) and by_matrix(step.wrt) and scalar(step.of):
            out.append(replace(step, wrt=Vec(step.wrt), value=as_vec(step.value)))
            continue
        if getattr(step, "wrt", None) != wrt:
            out.append(step)
            continue
        if isinstance(step, LocalDerivative):
            step = (
                replace(step, wrt=target)
                if not scalar(step.of)
                else replace(step, wrt=target, value=as_vec(step.value))
            )
        elif isinstance(step, ChainRule):
            values = tuple(
                as_vec(v) if isinstance(f.wrt, MatrixName) and scalar(f.of) else v
                for f, v in zip(step.factors, step.factor_values, strict=True)
            )
            step = replace(
                step,
                wrt=target,
                factors=tuple(name(f) for f in step.factors),
                factor_values=values,
                value=as_vec(step.value) if scalar(step.of) else step.value,
            )
        elif isinstance(step, TotalDerivative):
            terms = tuple(
                PathTerm(
                    via=via(term),
                    partial_value=as_vec(term.partial_value)
                    if (term.via is None or by_matrix(term.via)) and scalar(step.of)
                    else term.partial_value,
                    total_value=None
                    if term.total_value is None
                    else as_vec(term.total_value)
                    if scalar(term.via)
                    else term.total_value,
                )
                for term in step.terms
            )
            value = as_vec(step.value) if scalar(step.of) else step.value
            step = replace(step, wrt=target, terms=terms, value=value)
        elif not scalar(getattr(step, "of", None)):  # a vector's Jacobian is by vec(wrt) already
            step = replace(step, wrt=target)  # type: ignore[call-arg]  # a step with a wrt
        elif isinstance(step, Substitute):
            if step.factors:
                chain = next((c for c in reversed(steps) if isinstance(c, ChainRule)), None)
                step = _vec_factors(step, _by_vec_at(chain, scalar), layout, calc)
                step = replace(step, wrt=target)
            else:
                step = replace(
                    step, wrt=target, before=as_vec(step.before), after=as_vec(step.after)
                )
        elif isinstance(step, Simplify):  # its before: a gradient shown by vec above, or a
            before = written.get(step.before, step.before)  # product of Jacobians by vec(wrt)
            step = replace(step, wrt=target, before=before, after=as_vec(step.after))
            if step.after == _shown(out):  # the vec form of the substituted value is already tidy
                continue
        out.append(step)
    return [_vec_labels(step) for step in out]


def _as_vec(gradient: Math, layout: str, calc) -> Math:
    """A scalar's gradient G by a matrix as the row vec(Gᵀ)ᵀ by vec (``gradient`` is Gᵀ in
    numerator layout), the column vec(G) in denominator layout."""
    shaped = gradient if layout == "denominator" else calc.tidy(calc.transpose(gradient))
    if shaped == 0:
        return Integer(0)
    return Vec(shaped) if layout == "denominator" else T(Vec(shaped))


def _by_vec_at(chain: Step | None, scalar) -> tuple[int, ...]:
    """The factors of the chain-rule product ``chain`` that are a scalar's gradient by a
    matrix, written by vec (``_as_vec``)."""
    if not isinstance(chain, ChainRule):
        return ()
    return tuple(
        i for i, f in enumerate(chain.factors) if isinstance(f.wrt, MatrixName) and scalar(f.of)
    )


def _vec_factors(step: Substitute, at: tuple[int, ...], layout: str, calc) -> Substitute:
    """The substituted product shown factor by factor, its factors ``at`` by vec as in the
    chain rule's product above it (vec(I)ᵀ there, not I)."""
    if not at or len(step.factors) <= max(at):
        return step
    factors = tuple(_as_vec(f, layout, calc) if i in at else f for i, f in enumerate(step.factors))
    return replace(step, factors=factors, after=calc.display_product(factors))


def vec_matrix_intermediates(steps: tuple[Step, ...], layout: str, calc) -> tuple[Step, ...]:
    """By a scalar or vector variable through a matrix intermediate (u₁ = z·A): the
    derivative of u₁ is by vec (∂vec(u₁)/∂z = vec(A), n²×1), so a scalar's gradient by u₁ is
    written by vec(u₁) too (∂tr(u₁)/∂vec(u₁) = vec(I)ᵀ, 1×n²) and the chain rule's products
    are defined (vec(I)ᵀ·vec(A) = tr(A), not I·vec(A))."""

    def scalar(symbol) -> bool:
        return shape_of(symbol, calc.shapes) == SCALAR

    def by_matrix(symbol) -> bool:
        return isinstance(symbol, MatrixName)

    out: list[Step] = []
    chain: Step | None = None
    for step in steps:
        if isinstance(step, LocalDerivative) and by_matrix(step.wrt) and scalar(step.of):
            step = replace(step, value=_as_vec(step.value, layout, calc))
        elif isinstance(step, Substitute) and step.factors:
            step = _vec_factors(step, _by_vec_at(chain, scalar), layout, calc)
        elif isinstance(step, ChainRule):
            chain = step
            values = tuple(
                _as_vec(v, layout, calc) if by_matrix(f.wrt) and scalar(f.of) else v
                for f, v in zip(step.factors, step.factor_values, strict=True)
            )
            step = replace(step, factor_values=values)
        elif isinstance(step, TotalDerivative) and scalar(step.of):
            terms = tuple(
                replace(t, partial_value=_as_vec(t.partial_value, layout, calc))
                if by_matrix(t.via)
                else t
                for t in step.terms
            )
            step = replace(step, terms=terms)
        out.append(_vec_labels(step))
    return tuple(out)


def _vec_label(symbol):
    return Vec(symbol) if isinstance(symbol, MatrixName) else symbol


def _vec_labels(step: Step) -> Step:
    """Every derivative of or by a matrix (the variable or an intermediate, u = Xᵀ) labelled
    by vec: ∂vec(u)/∂vec(X) is the Kronecker form the step shows, n²×n²."""
    if isinstance(step, (LocalDerivative, ChainRule, TotalDerivative)):
        step = replace(step, of=_vec_label(step.of), wrt=_vec_label(step.wrt))
    if isinstance(step, ChainRule):
        step = replace(
            step,
            factors=tuple(
                replace(f, of=_vec_label(f.of), wrt=_vec_label(f.wrt)) for f in step.factors
            ),
        )
    if isinstance(step, TotalDerivative):
        step = replace(step, terms=tuple(replace(t, via=_vec_label(t.via)) for t in step.terms))
    return step


def _values(step: Step) -> list:
    if isinstance(step, (LocalDerivative, ChainRule)):
        return [step.value, *getattr(step, "factor_values", ())]
    if isinstance(step, TotalDerivative):
        return [
            step.value,
            *(v for t in step.terms for v in (t.partial_value, t.total_value) if v is not None),
        ]
    return []


def _has_operator(values) -> bool:
    return any(isinstance(v, Expr) and v.has(Outer, OuterT, Kron, *OPERATORS) for v in values)


def relabel_by_vec(steps: tuple[Step, ...], wrt: Symbol, layout: str, calc) -> tuple[Step, ...]:
    """Steps of a vector's (or matrix's) Jacobian by the matrix ``wrt``, labelled by vec(wrt):
    their values are already Jacobians by vec(wrt), rows stacked (I ⊗ₖ xᵀ), except the
    gradients of scalar intermediates (u = sum(exp(Aᵀw)) in softmax(Aᵀw)), written by vec
    as in ``by_vec``: 𝟏ᵀ·(wᵀ ⊗ₖ diag(exp(u₁))) is the row vec(w·exp(u₁)ᵀ)ᵀ, not the
    matrix exp(u₁)·wᵀ."""
    return tuple(_by_vec_steps(steps, wrt, layout, calc))


# --- results by several variables ---------------------------------------------------------


def assemble(
    expr: Expr, parts, shapes: Shapes, layout: str, calc
) -> tuple[tuple[Step, ...], ImmutableMatrix]:
    """(reshape steps, the block row or column) from each variable's part."""
    steps: list[Step] = []
    blocks = []
    for part in parts:
        block = part.result
        if isinstance(part.wrt, MatrixName) and shape_of(expr, shapes) == SCALAR:
            gradient = block if layout == "denominator" else calc.tidy(calc.transpose(block))
            block = Vec(gradient) if layout == "denominator" else T(Vec(gradient))
            r, c = shape_of(part.wrt, shapes)
            steps.append(
                Reshape(
                    of=part.of,
                    wrt=part.wrt,
                    before=part.result,
                    after=block,
                    before_shape=jacobian_shape(expr, part.wrt, shapes, layout),
                    after_shape=jacobian_shape(expr, part.wrt, shapes, layout, vec=True),
                    layout=layout,
                    explanation=Msg("explain.reshape.vec", shape=f"{r}×{c}", wrt=part.wrt),
                )
            )
        blocks.append(block)
    value = (
        ImmutableMatrix([blocks])
        if layout == "numerator"
        else ImmutableMatrix([[b] for b in blocks])
    )
    return tuple(steps), value


# --- explicit components -----------------------------------------------------------------


def explicit_value(
    expr: Expr, wrts, layout: str, result: Math, shapes: Shapes, dims: dict
) -> ImmutableMatrix:
    """``result`` = ∂expr/∂wrts written out in components at ``dims``: one flat matrix of its
    true shape (the blocks of a result by several variables side by side, or stacked)."""
    if len(wrts) == 1:
        return _block(result, jacobian_shape(expr, wrts[0], shapes, layout), shapes, dims)
    # the blocks as the result arranges them (a row of blocks, or a column), so that a
    # result assembled the wrong way round has the wrong shape
    shapes_of = iter([jacobian_shape(expr, w, shapes, layout, vec=True) for w in wrts])
    rows = [
        ImmutableMatrix.hstack(*(_block(b, next(shapes_of), shapes, dims) for b in result.row(i)))
        for i in range(result.rows)
    ]
    return ImmutableMatrix.vstack(*rows)


def _size(s, dims) -> int:
    return int(s.subs(dims)) if isinstance(s, Expr) else int(s)


def _block(value: Math, shape, shapes: Shapes, dims: dict) -> ImmutableMatrix:
    rows, cols = (_size(s, dims) for s in shape)
    transposed = isinstance(value, T) and isinstance(value.args[0], Vec)
    if transposed:
        value = value.args[0]
    if isinstance(value, Vec):
        inner = explicit(value.args[0], shapes, dims)
        inner = inner if isinstance(inner, MatrixBase) else ImmutableMatrix([[inner]])
        value = ImmutableMatrix(len(inner), 1, list(inner))  # row-major: rows stacked
        if not any(inner) and value.shape != (rows * cols, 1):
            value = ImmutableMatrix.zeros(rows * cols, 1)
        return value.T if transposed else value
    out = explicit(value, shapes, dims)
    if isinstance(out, MatrixBase):
        return ImmutableMatrix(out)
    if out == 0:  # 0 stands for the zero Jacobian of any shape
        return ImmutableMatrix.zeros(rows, cols)
    return ImmutableMatrix([[out]])
