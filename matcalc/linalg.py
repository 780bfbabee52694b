"""Vectors and matrices as SymPy objects: declarations, shapes, operations, components.

Design (see the README's architecture section):

- A declared vector is a ``VectorName`` symbol and a declared matrix a
  ``MatrixName`` symbol; their sizes live in ``Declaration`` objects, passed
  around explicitly (``Shapes``).
- Element-wise arithmetic is ordinary SymPy arithmetic on those symbols: ``w*x``
  is w ⊗ x, ``x + z`` with a scalar z is scalar expansion, ``sin(x)`` and
  ``Max(0, x)`` apply element by element.  Every component obeys the ordinary
  commutative algebra, so this is exact, and the diagonal of an element-wise
  Jacobian is just the scalar derivative (the paper's §4.2).
- Operations that are not element-wise are small ``Function`` classes: ``VDot``,
  ``VSum``, ``Norm``, ``MatVec``, ``MatT``, ``MMul``, ``MTrace``.
- Compact Jacobians are classes too: ``Diag``, ``Ident``, ``Ones``, ``T`` (the
  transpose of a column, a row), ``OnesMatrix`` (𝟏𝟏ᵀ), ``Commutation`` (K) and
  ``MatProd`` (a non-commutative product); Jacobians by or of a matrix are operators on a
  scalar's gradient (``Outer``, ``OuterT``, ``Lin``, ``DMat``, ``Rank1``; ``OPERATORS``).
- ``explicit(expr, shapes, dims)`` expands any of these into a ``sympy.Matrix``
  of components named like the paper: w_1, w_2, …, X_11, X_12, ….

To add an operation: a class here (printing included), its shape in
``shape_of``, its components in ``explicit``, and its Jacobian in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import sympy
from sympy import Add, Expr, Function, ImmutableMatrix, Integer, MatrixBase, Mul, Symbol
from sympy.core.logic import fuzzy_and

from matcalc.errors import ShapeError, UsageError
from matcalc.functions import decide_gate
from matcalc.msg import Msg
from matcalc.symbols import VectorName, bold_latex

SCALAR = (1, 1)


class MatrixName(Symbol):
    """A symbol that stands for a matrix: printed bold (\\mathbf{X})."""

    def _latex(self, printer) -> str:
        return bold_latex(self.name)


@dataclass(frozen=True, slots=True)
class Declaration:
    """A declared vector (rows × 1) or matrix (rows × cols); sizes may be symbols."""

    symbol: Symbol
    rows: Expr
    cols: Expr
    symmetric: bool = False
    """A symmetric matrix (declared "S:sym"): its entries s_ij and s_ji are one variable."""

    @property
    def is_vector(self) -> bool:
        return self.cols == 1


Shapes = dict  # Symbol -> Declaration: every declared name, passed explicitly


def dimension(text: str) -> Expr:
    text = text.strip()
    if text.isdigit() and 0 < int(text) <= 1000:
        return Integer(int(text))
    if text.isidentifier() and not text.startswith("_"):
        return Symbol(text, integer=True, positive=True)
    raise UsageError(Msg("err.decl.dimension", text=repr(text)))


def declare(vectors=(), matrices=()) -> Shapes:
    """Declarations from "w", "y:N" (vectors, default length n) and "X:N,n" (matrices, default n×n)."""
    shapes: Shapes = {}
    n = Symbol("n", integer=True, positive=True)
    for item in _items(vectors, vectors=True):
        name, _, size = item.partition(":")
        symbol = VectorName(_name(name), real=True)
        shapes[symbol] = Declaration(symbol, dimension(size) if size else n, Integer(1))
    for item in _items(matrices):
        name, _, size = item.partition(":")
        symmetric = size.strip() == "sym" or size.strip().endswith(":sym")
        if symmetric:  # "S:sym" (n×n) or "S:m:sym" (m×m)
            size = size.strip().removesuffix("sym").rstrip(":")
            size = f"{size},{size}" if size else ""
        rows, _, cols = size.partition(",")
        if size and not cols:
            raise UsageError(Msg("err.decl.both_sizes", name=name))
        symbol = MatrixName(_name(name), real=True)
        shapes[symbol] = Declaration(
            symbol,
            dimension(rows) if size else n,
            dimension(cols) if size else n,
            symmetric,
        )
    names = [str(s) for s in shapes]
    if len(set(names)) != len(names):
        raise UsageError(Msg("err.decl.twice"))
    return shapes


def _items(spec, *, vectors: bool = False) -> list[str]:
    if isinstance(spec, str):
        spec = [spec]
    out: list[str] = []
    for entry in spec:
        # "w,x" and "b:m,v:m" declare two vectors (a vector has one size), but "X:N,n" is
        # one matrix with two sizes: matrices are separated by ";" once a size is given
        if vectors:
            out.extend(entry.replace(";", ",").split(","))
        else:
            sized = ":" in entry.replace(":sym", "")  # "X,S:sym" is two matrices
            out.extend(entry.split(";") if sized else entry.split(","))
    return [s.strip() for s in out if s.strip()]


def _name(text: str) -> str:
    text = text.strip()
    if not text.isidentifier() or text.startswith("_"):
        raise UsageError(Msg("err.decl.name", text=repr(text)))
    return text


# --- operations that are not element-wise -----------------------------------------


class _Op(Function):
    """Base class: these never evaluate on their own, except that an operation on a zero
    vector or matrix is 0 (w - w evaluates to 0: sum(w - w) is 0, acsc(sum(w - w)) is
    undefined).  0 stands for the zero of any shape; ``Ident(n)`` and ``Ones(n)`` take a
    size, not a vector, and keep it (so do ``OnesMatrix`` and ``Commutation``)."""

    @classmethod
    def eval(cls, *args):
        if cls in (Ident, Ones, OnesMatrix, Commutation):
            return None
        if cls is Lin:
            args = args[:2]  # the third is a flag: 0 is not a zero matrix there
        if any(a == 0 for a in args):
            return Integer(0)
        return None

    def _eval_is_real(self):
        # real when its arguments are: A.T @ (x / sqrt(a)) is not known to be real (a < 0),
        # so max(0, (A.T @ (x / sqrt(a)))**2) is not settled to the square
        return fuzzy_and(a.is_real for a in self.args)

    # Display in matcalc's notation (w·x, xᵀ, Xw, diag(x), 1[z > 0] inside): SymPy's LaTeX
    # (Jupyter) and pretty printers call these; str() stays SymPy's, for machines.
    def _latex(self, printer, **kwargs):
        from matcalc.render.printing import latex_hook

        return latex_hook(self, printer, **kwargs)

    def _pretty(self, printer, **kwargs):
        from matcalc.render.printing import pretty_hook

        return pretty_hook(self, printer, **kwargs)


class VDot(_Op):
    """a · b, the dot product of two vectors (a scalar)."""

    nargs = 2
    # printed with an infix ·, so it binds less tightly than a product: (w·x)², 2(w·x)·y
    precedence = 49  # PRECEDENCE["Mul"] - 1


class VSum(_Op):
    """sum(v) = Σᵢ vᵢ (a scalar)."""

    nargs = 1


class Norm(_Op):
    """‖v‖ = √(Σᵢ vᵢ²) (a scalar)."""

    nargs = 1


class MatVec(_Op):
    """A v, a matrix times a vector (a vector)."""

    nargs = 2


class MatT(_Op):
    """Aᵀ, the transpose of a matrix."""

    nargs = 1


class MMul(_Op):
    """A B, a matrix product (a matrix)."""

    nargs = 2


class MTrace(_Op):
    """tr(A), the sum of the diagonal (a scalar)."""

    nargs = 1


class Inv(_Op):
    """A⁻¹, the inverse of a square matrix (never evaluated: inv of 0 is undefined)."""

    nargs = 1

    @classmethod
    def eval(cls, *args):
        return None


class Det(_Op):
    """det(A), the determinant of a square matrix (a scalar)."""

    nargs = 1


class MPow(_Op):
    """Aᵏ = A A … A (k factors), a matrix power for a small integer k ≥ 2."""

    nargs = 2

    @classmethod
    def eval(cls, *args):
        return Integer(0) if args[0] == 0 else None


class Circ(_Op):
    """A ∘ B, the element-wise product of two matrices (display only, in a note)."""

    nargs = 2


class MDiff(_Op):
    """dX, the differential of a variable (display only: the steps of the differential
    method write df = tr(Gᵀ dX)); ``MDiff(E)`` of an expression is printed d(E)."""

    nargs = 1


# --- compact Jacobians ------------------------------------------------------------


class Diag(_Op):
    """diag(v): the square matrix with v on its diagonal."""

    nargs = 1


class Ident(_Op):
    """I, the identity matrix of size n."""

    nargs = 1


class Ones(_Op):
    """1, the column vector of n ones."""

    nargs = 1


class T(_Op):
    """aᵀ, the transpose of a column vector (a row)."""

    nargs = 1


class Outer(_Op):
    """Outer(v, J): the Jacobian of X v by the matrix X, after J; an operator.

    A row r (the derivative of a scalar) becomes v · (r J), the numerator-layout
    gradient by X.  Outer(v, 1) is ∂(Xv)/∂X itself.
    """

    nargs = 2


class OuterT(_Op):
    """OuterT(v, J): the Jacobian of Xᵀ v by the matrix X, after J; an operator.

    A row r becomes (r J)ᵀ vᵀ, the numerator-layout gradient by X.
    """

    nargs = 2


class Kron(_Op):
    """A ⊗ₖ B, the Kronecker product.

    The Jacobian of a vector by a matrix W is taken by vec(W), W's rows stacked
    (w_11, w_12, …, w_21, …): ∂(W x)/∂vec(W) = I ⊗ₖ xᵀ.
    """

    nargs = 2


class MatProd(_Op):
    """A B …: a product of matrices, in order (not commutative)."""


class Lin(_Op):
    """Lin(P, Q, t): the Jacobian of a matrix U by a matrix X, as the linear map it applies
    to a scalar's numerator-layout gradient G = ∂s/∂U (G_ji = ∂s/∂U_ij): G ↦ P G Q when
    t = 0, G ↦ P Gᵀ Q when t = 1.  Integer 1 stands for an identity of the right size.

    Written as a Jacobian by vec (rows stacked): U = Q X P, so ∂vec(U)/∂vec(X) = Q ⊗ₖ Pᵀ
    (t = 0), and U = Pᵀ Xᵀ Qᵀ, so ∂vec(U)/∂vec(X) = (Pᵀ ⊗ₖ Q) K (t = 1), with K the
    commutation matrix (K vec(X) = vec(Xᵀ)).  ``Outer(v, J)`` is ``Lin(v, J, 0)`` and
    ``OuterT(v, J)`` is ``Lin(Jᵀ, vᵀ, 1)``.
    """

    nargs = 3

    @property
    def precedence(self) -> int:
        # printed with an infix ⊗ₖ (a single I or K when P = Q = 1): z·(A ⊗ₖ Bᵀ)
        identity = all(a == 1 or isinstance(a, Ident) for a in self.args[:2])
        return 1000 if identity else 49


class DMat(_Op):
    """DMat(M): the derivative of a matrix U by a scalar z, M = ∂U/∂z entry by entry.

    A scalar's gradient G = ∂s/∂U times it is tr(G M) (the chain rule, summed over U's
    entries).
    """

    nargs = 1


class Rank1(_Op):
    """Rank1(M, H): ∂U/∂X for a matrix U that depends on X only through a scalar z, with
    M = ∂U/∂z and H = ∂z/∂X: a scalar's gradient G by U becomes tr(G M)·H."""

    nargs = 2


class Commutation(_Op):
    """K, the commutation matrix of an r×c matrix: K vec(X) = vec(Xᵀ) (rows stacked)."""

    nargs = 2


class OnesMatrix(_Op):
    """𝟏𝟏ᵀ, the r×c matrix of ones (the gradient of sum(X))."""

    nargs = 2


OPERATORS = (Outer, OuterT, Lin, DMat, Rank1)
"""Jacobians by a matrix, or of a matrix, kept as operators on a scalar's gradient."""
OPERATOR_SHAPE = (Integer(0), Integer(0))
"""The shape ``shape_of`` gives an operator: neither a scalar nor a vector."""

KRONECKER = (Kron, Outer, OuterT, Lin)
"""Kronecker forms, grouped in parentheses inside a product."""


# --- shapes -----------------------------------------------------------------------


def shape_of(expr: Expr, shapes: Shapes) -> tuple[Expr, Expr]:
    """(rows, cols) of ``expr``; (1, 1) for a scalar.  Raises ShapeError."""
    if isinstance(expr, MatrixBase):
        return expr.shape
    if expr in shapes:
        d = shapes[expr]
        return (d.rows, d.cols)
    if isinstance(expr, (VDot, VSum, Norm, MTrace, Det)):
        return SCALAR
    if isinstance(expr, (Inv, MPow, MDiff)):
        return shape_of(expr.args[0], shapes)
    if isinstance(expr, MatVec):
        return (shape_of(expr.args[0], shapes)[0], Integer(1))
    if isinstance(expr, MatT):
        rows, cols = shape_of(expr.args[0], shapes)
        return (cols, rows)
    if isinstance(expr, MMul):
        return (shape_of(expr.args[0], shapes)[0], shape_of(expr.args[1], shapes)[1])
    if isinstance(expr, Diag):
        n = shape_of(expr.args[0], shapes)[0]
        return (n, n)
    if isinstance(expr, Ident):
        return (expr.args[0], expr.args[0])
    if isinstance(expr, Ones):
        return (expr.args[0], Integer(1))
    if isinstance(expr, T):
        rows, cols = shape_of(expr.args[0], shapes)
        return (cols, rows)
    if isinstance(expr, MatProd):
        return (shape_of(expr.args[0], shapes)[0], shape_of(expr.args[-1], shapes)[1])
    if isinstance(expr, Kron):
        (ra, ca), (rb, cb) = (shape_of(a, shapes) for a in expr.args)
        return (ra * rb, ca * cb)
    if isinstance(expr, OPERATORS):
        return OPERATOR_SHAPE
    if isinstance(expr, OnesMatrix):
        return (expr.args[0], expr.args[1])
    if isinstance(expr, Commutation):
        size = expr.args[0] * expr.args[1]
        return (size, size)
    if isinstance(expr, (Add, Mul)) and any(isinstance(a, OPERATORS) for a in _factors_of(expr)):
        return OPERATOR_SHAPE
    # element-wise: the shape of its non-scalar arguments (they must agree)
    found = SCALAR
    for arg in expr.args:
        shape = shape_of(arg, shapes)
        if shape == SCALAR:
            continue
        if found != SCALAR and shape != found:
            raise ShapeError(Msg("err.decl.elementwise", a=_fmt(found), b=_fmt(shape)))
        found = shape
    return found


def _factors_of(expr: Expr):
    """The terms of a sum and factors of a product, nested sums and products opened."""
    for a in expr.args:
        if isinstance(a, (Add, Mul)):
            yield from _factors_of(a)
        else:
            yield a


def _fmt(shape) -> str:
    return "{}×{}".format(*shape)


def is_scalar(expr: Expr, shapes: Shapes) -> bool:
    return shape_of(expr, shapes) == SCALAR


def vector_valued(expr: Expr) -> bool:
    """True for a column vector, even one of length 1 (whose shape is that of a scalar):
    a declared vector, X v, or an element-wise function of one."""
    if isinstance(expr, (VectorName, MatVec)):
        return True
    if isinstance(expr, (_Op, MatrixName)) or not isinstance(expr, sympy.Basic):
        return False
    return any(vector_valued(a) for a in expr.args)


def has_vectors(expr: Expr) -> bool:
    return any(isinstance(s, (VectorName, MatrixName)) for s in expr.free_symbols)


# --- evaluation that keeps vectors vectors ------------------------------------------


def evaluate_shaped(expr, shapes: Shapes):
    """Evaluate an unevaluated tree; a vector that cancels to a constant c becomes c·1.

    Vectors are commutative symbols, so SymPy evaluates w/w and √u ⊗ (1/√u) to 1 and w - w
    to 0: a vector read as a scalar (sum(w/w) would be 1, not n).  Where a vector is
    required (an argument of sum, norm, @, ᵀ, diag, … and the whole expression) a nonzero
    constant is written c·Ones(n) again; inside element-wise arithmetic the scalar c is
    right as it is (scalar expansion), and 0 stays 0, the zero of any shape.
    """
    return keep_vector(_evaluate_keeping(expr, shapes), expr, shapes)


def _evaluate_keeping(expr, shapes: Shapes):
    if isinstance(expr, MatrixBase):
        return expr.applyfunc(lambda e: evaluate_shaped(e, shapes))
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = [_evaluate_keeping(a, shapes) for a in expr.args]
    if isinstance(expr, _Op):
        args = [keep_vector(v, a, shapes) for v, a in zip(args, expr.args, strict=True)]
    return decide_gate(expr.func(*args))


def keep_vector(value, original, shapes: Shapes):
    """``value`` (what ``original`` evaluated to) as s·Ones(n) if a vector collapsed to a
    scalar s: a constant (w/w is 1) or not (max(0, (x/x)·(w·a)) is max(0, w·a))."""
    if value == 0 or value.has(Ones) or not has_vectors(original):
        return value
    if has_vectors(value) and shape_of(value, shapes) != SCALAR:  # still a vector: the usual case
        return value
    rows, cols = shape_of(original, shapes)
    return value * Ones(rows) if cols == 1 and rows != 1 else value


# --- explicit components ------------------------------------------------------------


def jacobian_shape(
    expr, wrt: Symbol, shapes: Shapes, dims: dict[Symbol, int], layout: str
) -> tuple[int, int]:
    """Rows × columns of ∂expr/∂wrt written out at ``dims``.

    Numerator layout: an m-vector by an n-vector is m×n; a scalar by an r×c matrix is
    c×r; an m-vector by a matrix is m × (r·c), the matrix's rows stacked.  Denominator
    layout transposes.  Used to write the zero Jacobian, which the engine keeps as 0.
    """

    def size(s) -> int:
        return int(s.subs(dims)) if isinstance(s, Expr) else int(s)

    rows, cols = (size(s) for s in shape_of(expr, shapes))
    length = rows * cols
    wrt_rows, wrt_cols = (size(s) for s in shape_of(wrt, shapes))
    if wrt_cols > 1:
        shape = (wrt_cols, wrt_rows) if length == 1 else (length, wrt_rows * wrt_cols)
    else:
        shape = (length, wrt_rows)
    return shape[::-1] if layout == "denominator" else shape


def components(shapes: Shapes, dims: dict[Symbol, int]) -> dict[Symbol, ImmutableMatrix]:
    """Each declared name as a matrix of Symbols w_1 … or X_11 … at concrete sizes."""
    out = {}
    for symbol, d in shapes.items():
        rows, cols = int(d.rows.subs(dims)), int(d.cols.subs(dims))
        if d.is_vector:
            entries = [[Symbol(f"{symbol.name}_{i}", real=True)] for i in range(1, rows + 1)]
        elif d.symmetric:  # s_ji is s_ij: one variable
            entries = [
                [
                    Symbol(f"{symbol.name}_{min(i, j)}{max(i, j)}", real=True)
                    for j in range(1, cols + 1)
                ]
                for i in range(1, rows + 1)
            ]
        else:
            entries = [
                [Symbol(f"{symbol.name}_{i}{j}", real=True) for j in range(1, cols + 1)]
                for i in range(1, rows + 1)
            ]
        out[symbol] = ImmutableMatrix(entries)
    return out


def explicit(expr, shapes: Shapes, dims: dict[Symbol, int]):
    """``expr`` with every vector and matrix written out in components."""
    return _Explicit(components(shapes, dims), dims).run(expr)


class _Explicit:
    def __init__(self, values: dict, dims: dict):
        self.values = values
        self.dims = dims

    def run(self, expr):
        if isinstance(expr, MatrixBase):
            rows = [[self.run(e) for e in expr.row(i)] for i in range(expr.rows)]
            return _flatten_blocks(rows)
        if expr in self.values:
            return self.values[expr]
        if not expr.args:
            return expr.subs(self.dims) if expr.free_symbols & set(self.dims) else expr
        method = getattr(self, f"_{type(expr).__name__}", None)
        args = [self.run(a) for a in expr.args]
        if method is not None:
            return method(*args)
        if isinstance(expr, sympy.Add):
            return _broadcast_fold(args, lambda a, b: a + b)
        if isinstance(expr, sympy.Mul):
            return _broadcast_fold(args, _times)
        return _elementwise(expr.func, args)

    # a scalar where a vector belongs is 0, the zero vector (evaluate_shaped): w - w
    def _VDot(self, a, b):
        if not isinstance(a, MatrixBase) or not isinstance(b, MatrixBase):
            return _zero(a, b)
        return (a.T * b)[0, 0]

    def _VSum(self, a):
        return sum(a, Integer(0)) if isinstance(a, MatrixBase) else _zero(a)

    def _Norm(self, a):
        if not isinstance(a, MatrixBase):
            return _zero(a)
        return sympy.sqrt(sum((e**2 for e in a), Integer(0)))

    def _MatVec(self, a, v):
        if not isinstance(v, MatrixBase):
            _zero(v)
            return ImmutableMatrix.zeros(a.rows, 1)
        return ImmutableMatrix(a * v)

    def _MatT(self, a):
        return a.T

    def _MMul(self, a, b):
        return ImmutableMatrix(a * b)

    def _MTrace(self, a):
        return a.trace()

    def _Inv(self, a):
        if not isinstance(a, MatrixBase):
            raise ShapeError("the inverse of a zero matrix is undefined")
        # adj(A)/det(A): SymPy's own inv checks invertibility with simplify (slow)
        det = a.det(method="berkowitz")
        if det == 0:
            raise ValueError("a singular matrix has no inverse")
        return ImmutableMatrix(a.adjugate(method="berkowitz") / det)

    def _Det(self, a):
        return a.det(method="berkowitz") if isinstance(a, MatrixBase) else _zero(a)

    def _MPow(self, a, k):
        return ImmutableMatrix(a ** int(k)) if isinstance(a, MatrixBase) else _zero(a)

    def _Diag(self, v):
        return ImmutableMatrix(sympy.diag(*list(v))) if isinstance(v, MatrixBase) else _zero(v)

    def _Ident(self, n):
        return ImmutableMatrix(sympy.eye(int(n)))

    def _Ones(self, n):
        return ImmutableMatrix(sympy.ones(int(n), 1))

    def _T(self, a):
        return a.T if isinstance(a, MatrixBase) else a

    def _Kron(self, a, b):
        from sympy.matrices.expressions.kronecker import kronecker_product

        a = a if isinstance(a, MatrixBase) else ImmutableMatrix([[a]])
        b = b if isinstance(b, MatrixBase) else ImmutableMatrix([[b]])
        return ImmutableMatrix(kronecker_product(a, b))

    def _OnesMatrix(self, rows, cols):
        return ImmutableMatrix.ones(int(rows), int(cols))

    def _Commutation(self, rows, cols):
        rows, cols = int(rows), int(cols)
        out = sympy.zeros(rows * cols, rows * cols)
        for i in range(rows):
            for j in range(cols):
                out[j * rows + i, i * cols + j] = 1  # vec(Xᵀ) from vec(X), rows stacked
        return ImmutableMatrix(out)

    def _DMat(self, m):  # ∂U/∂z by vec (rows stacked): a column
        return ImmutableMatrix(len(m), 1, list(m)) if isinstance(m, MatrixBase) else m

    def _Lin(self, p, q, t):  # by vec (rows stacked): Q ⊗ₖ Pᵀ, or (Pᵀ ⊗ₖ Q)·K
        from sympy.matrices.expressions.kronecker import kronecker_product

        p, q = (a if isinstance(a, MatrixBase) else ImmutableMatrix([[a]]) for a in (p, q))
        if not t:
            return ImmutableMatrix(kronecker_product(q, p.T))
        return ImmutableMatrix(kronecker_product(p.T, q) * self._Commutation(q.cols, p.rows))

    def _Rank1(self, m, h):  # vec(M)·vec(Hᵀ)ᵀ
        column = self._DMat(m)
        row = ImmutableMatrix(1, len(h), list(h.T)) if isinstance(h, MatrixBase) else h
        return _times_matrix(column, row)

    def _MatProd(self, *factors):
        out = factors[0]
        for f in factors[1:]:
            out = _times_matrix(out, f)
        return out


def _zero(*values):
    """0 when one of ``values`` (scalars standing for vectors) is the zero vector."""
    if any(v == 0 for v in values if not isinstance(v, MatrixBase)):
        return Integer(0)
    raise ShapeError(Msg("err.decl.scalar", values=values))


def _unwrap(a, other):
    """A 1×1 matrix (a vector of length 1, X v with X 1×n) as its entry, beside a larger one."""
    if (
        isinstance(a, MatrixBase)
        and a.shape == (1, 1)
        and isinstance(other, MatrixBase)
        and other.shape != (1, 1)
    ):
        return a[0, 0]
    return a


def _times_matrix(a, b):
    if isinstance(a, MatrixBase) and isinstance(b, MatrixBase):
        return ImmutableMatrix(a * b)
    return a * b


def _times(a, b):
    a, b = _unwrap(a, b), _unwrap(b, a)
    if isinstance(a, MatrixBase) and isinstance(b, MatrixBase):
        return ImmutableMatrix(a.multiply_elementwise(b))
    return a * b


def _broadcast_fold(args, op):
    out = args[0]
    for arg in args[1:]:
        a, b = out, arg
        if isinstance(a, MatrixBase) and not isinstance(b, MatrixBase):
            b = ImmutableMatrix.ones(*a.shape) * b if op is not _times else b
        elif isinstance(b, MatrixBase) and not isinstance(a, MatrixBase):
            a = ImmutableMatrix.ones(*b.shape) * a if op is not _times else a
        out = op(a, b)
    return out


def _elementwise(func, args):
    if func in (sympy.Max, sympy.Min):  # their evaluation compares arguments: slow, and not needed
        func = partial(func, evaluate=False)
    shape = next((a.shape for a in args if isinstance(a, MatrixBase)), None)
    if shape is None:
        return func(*args)
    rows, cols = shape
    return ImmutableMatrix(
        rows,
        cols,
        lambda i, j: func(*(a[i, j] if isinstance(a, MatrixBase) else a for a in args)),
    )


def _flatten_blocks(rows):
    return ImmutableMatrix(rows)
