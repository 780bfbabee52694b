"""The operations of the input language that are not element-wise, and two display forms.

Each class says what it is (its docstring), its shape (``_shape``) and its explicit
components (``_components``, from its arguments written out); see ``base``.  Its
derivative lives in ``matcalc.engine.vector_rules`` (or ``engine.differential`` for
inv, det and matrix powers), its printing in ``matcalc.render.vector_notation``.

A scalar standing where a vector belongs is 0, the zero vector (``shapes.evaluate_shaped``
leaves w - w as 0): an operation on it is 0 (``zero``).
"""

from __future__ import annotations

import sympy
from sympy import ImmutableMatrix, Integer, MatrixBase

from matcalc.errors import MathError
from matcalc.linalg.base import (
    SCALAR,
    _Op,
    argument_shape,
    scalar_shape,
    transposed_shape,
    zero,
)
from matcalc.msg import Msg


class VDot(_Op):
    """a · b, the dot product of two vectors (a scalar)."""

    nargs = 2
    # printed with an infix ·, so it binds less tightly than a product: (w·x)², 2(w·x)·y
    precedence = 49  # PRECEDENCE["Mul"] - 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(a, b):
        if not isinstance(a, MatrixBase) or not isinstance(b, MatrixBase):
            return zero(a, b)
        return (a.T * b)[0, 0]


class VSum(_Op):
    """sum(v) = Σᵢ vᵢ (a scalar)."""

    nargs = 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(v):
        return sum(v, Integer(0)) if isinstance(v, MatrixBase) else zero(v)


class Mean(_Op):
    """mean(v) = (1/n) Σᵢ vᵢ, the mean of the entries of an n-vector (a scalar)."""

    nargs = 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(v):
        total = VSum._components(v)
        return total / len(v) if isinstance(v, MatrixBase) else total


class Norm(_Op):
    """‖v‖ = √(Σᵢ vᵢ²) (a scalar)."""

    nargs = 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(v):
        if not isinstance(v, MatrixBase):
            return zero(v)
        return sympy.sqrt(sum((e**2 for e in v), Integer(0)))


class MatVec(_Op):
    """A v, a matrix times a vector (a vector)."""

    nargs = 2

    @staticmethod
    def _shape(of, a, v):
        return (of(a)[0], Integer(1))

    @staticmethod
    def _components(a, v):
        if not isinstance(v, MatrixBase):
            zero(v)
            return ImmutableMatrix.zeros(a.rows, 1)
        return ImmutableMatrix(a * v)


class MatT(_Op):
    """Aᵀ, the transpose of a matrix."""

    nargs = 1

    _shape = staticmethod(transposed_shape)

    @staticmethod
    def _components(a):
        return a.T


class MMul(_Op):
    """A B, a matrix product (a matrix)."""

    nargs = 2

    @staticmethod
    def _shape(of, a, b):
        return (of(a)[0], of(b)[1])

    @staticmethod
    def _components(a, b):
        return ImmutableMatrix(a * b)


class MTrace(_Op):
    """tr(A), the sum of the diagonal (a scalar)."""

    nargs = 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(a):
        return a.trace()


def _exact_matrix(a):
    """``a`` as SymPy's ``DomainMatrix`` over an exact domain (integers, rationals, or
    polynomials and rational functions of one symbol, as the matrix functions' check writes
    X with one entry moved by t), or None where an entry needs SymPy's general expressions
    (exp(1/2), √2) or holds several symbols.  Its determinant and inverse are then exact and cancelled as
    they are made: through adjugates of unsimplified fractions of t, det(inv(X)·A) took
    seconds at n = 3, and a chain of them the whole time limit."""
    from sympy.polys.matrices import DomainMatrix

    if a.shape[0] != a.shape[1] or len(a.free_symbols) > 1:
        return None  # written out in symbols (explicit, --dim): as SymPy's own forms
    try:
        exact = DomainMatrix.from_Matrix(a)
    except Exception:  # a domain SymPy cannot build: the general way
        return None
    domain = exact.domain
    if domain.is_EX or domain.is_EXRAW or not domain.is_Exact:
        return None
    return exact


class Inv(_Op):
    """A⁻¹, the inverse of a square matrix (never evaluated: inv of 0 is undefined)."""

    nargs = 1
    _zero_args = 0

    _shape = staticmethod(argument_shape)

    @staticmethod
    def _components(a):
        if not isinstance(a, MatrixBase):
            raise MathError(Msg("err.inverse_zero"))
        exact = _exact_matrix(a)
        if exact is not None:  # numbers, or rational functions of the check's t
            exact = exact.to_field()
            if exact.det() == exact.domain.zero:
                raise ValueError("a singular matrix has no inverse")
            return ImmutableMatrix(exact.inv().to_Matrix())
        # adj(A)/det(A): SymPy's own inv checks invertibility with simplify (slow)
        det = a.det(method="berkowitz")
        if det == 0:
            raise ValueError("a singular matrix has no inverse")
        return ImmutableMatrix(a.adjugate(method="berkowitz") / det)


class Det(_Op):
    """det(A), the determinant of a square matrix (a scalar)."""

    nargs = 1

    _shape = staticmethod(scalar_shape)

    @staticmethod
    def _components(a):
        if not isinstance(a, MatrixBase):
            return zero(a)
        exact = _exact_matrix(a)
        if exact is not None:  # numbers, or rational functions of the check's t
            return exact.domain.to_sympy(exact.det())
        return a.det(method="berkowitz")


class MPow(_Op):
    """Aᵏ = A A … A (k factors), a matrix power for a small integer k ≥ 2."""

    nargs = 2
    _zero_args = 1  # k is a number, never a zero matrix

    _shape = staticmethod(argument_shape)

    @staticmethod
    def _components(a, k):
        return ImmutableMatrix(a ** int(k)) if isinstance(a, MatrixBase) else zero(a)


# --- display only: in the steps of the differential method and its notes ------------


class Circ(_Op):
    """A ∘ B, the element-wise product of two matrices (display only, in a note)."""

    nargs = 2

    @staticmethod
    def _shape(of, a, b):
        return of(a) if of(a) != SCALAR else of(b)

    @staticmethod
    def _components(a, b):
        if isinstance(a, MatrixBase) and isinstance(b, MatrixBase):
            return ImmutableMatrix(a.multiply_elementwise(b))
        return a * b


class MDiff(_Op):
    """dX, the differential of a variable (display only: the steps of the differential
    method write df = tr(Gᵀ dX)); ``MDiff(E)`` of an expression is printed d(E)."""

    nargs = 1

    _shape = staticmethod(argument_shape)

    @staticmethod
    def _components(a):  # the differential of each entry
        return a.applyfunc(MDiff) if isinstance(a, MatrixBase) else MDiff(a)
