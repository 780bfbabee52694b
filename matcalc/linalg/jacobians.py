"""Compact Jacobians (the paper's diag(x), I, 1, xᵀ) and the operators of matrix calculus.

Each class declares its shape (``_shape``) and its explicit components (``_components``),
as the operations do (see ``base``).  Jacobians by a matrix, or of a matrix, are kept as
operators on a scalar's gradient (``OPERATORS``: ``Outer``, ``OuterT``, ``Lin``,
``DMat``, ``Rank1``); written out, they are Jacobians by vec, the matrix's rows stacked.
The engine builds and multiplies these (``matcalc.engine.jacobian_algebra``).
"""

from __future__ import annotations

import sympy
from sympy import ImmutableMatrix, Integer, MatrixBase

from matcalc.linalg.base import (
    _Op,
    _Operator,
    _Sized,
    as_matrix,
    kron,
    times_matrix,
    transposed_shape,
    zero,
)


class Diag(_Op):
    """diag(v): the square matrix with v on its diagonal."""

    nargs = 1

    @staticmethod
    def _shape(of, v):
        n = of(v)[0]
        return (n, n)

    @staticmethod
    def _components(v):
        return ImmutableMatrix(sympy.diag(*list(v))) if isinstance(v, MatrixBase) else zero(v)


class Ident(_Sized):
    """I, the identity matrix of size n."""

    nargs = 1

    @staticmethod
    def _shape(of, n):
        return (n, n)

    @staticmethod
    def _components(n):
        return ImmutableMatrix(sympy.eye(int(n)))


class Ones(_Sized):
    """1, the column vector of n ones."""

    nargs = 1

    @staticmethod
    def _shape(of, n):
        return (n, Integer(1))

    @staticmethod
    def _components(n):
        return ImmutableMatrix(sympy.ones(int(n), 1))


class OnesMatrix(_Sized):
    """𝟏𝟏ᵀ, the r×c matrix of ones (the gradient of sum(X))."""

    nargs = 2

    @staticmethod
    def _shape(of, rows, cols):
        return (rows, cols)

    @staticmethod
    def _components(rows, cols):
        return ImmutableMatrix.ones(int(rows), int(cols))


class Commutation(_Sized):
    """K, the commutation matrix of an r×c matrix: K vec(X) = vec(Xᵀ) (rows stacked)."""

    nargs = 2

    @staticmethod
    def _shape(of, rows, cols):
        size = rows * cols
        return (size, size)

    @staticmethod
    def _components(rows, cols):
        rows, cols = int(rows), int(cols)
        out = sympy.zeros(rows * cols, rows * cols)
        for i in range(rows):
            for j in range(cols):
                out[j * rows + i, i * cols + j] = 1  # vec(Xᵀ) from vec(X), rows stacked
        return ImmutableMatrix(out)


class T(_Op):
    """aᵀ, the transpose of a column vector (a row)."""

    nargs = 1

    _shape = staticmethod(transposed_shape)

    @staticmethod
    def _components(a):
        return a.T if isinstance(a, MatrixBase) else a


class Kron(_Op):
    """A ⊗ₖ B, the Kronecker product.

    The Jacobian of a vector by a matrix W is taken by vec(W), W's rows stacked
    (w_11, w_12, …, w_21, …): ∂(W x)/∂vec(W) = I ⊗ₖ xᵀ.
    """

    nargs = 2

    @staticmethod
    def _shape(of, a, b):
        (ra, ca), (rb, cb) = of(a), of(b)
        return (ra * rb, ca * cb)

    @staticmethod
    def _components(a, b):
        return kron(a, b)


class MatProd(_Op):
    """A B …: a product of matrices, in order (not commutative)."""

    @staticmethod
    def _shape(of, *factors):
        return (of(factors[0])[0], of(factors[-1])[1])

    @staticmethod
    def _components(*factors):
        out = factors[0]
        for f in factors[1:]:
            out = times_matrix(out, f)
        return out


# --- operators: Jacobians by a matrix, or of a matrix --------------------------------


class Outer(_Operator):
    """Outer(v, J): the Jacobian of X v by the matrix X, after J; an operator.

    A row r (the derivative of a scalar) becomes v · (r J), the numerator-layout
    gradient by X.  Outer(v, 1) is ∂(Xv)/∂X itself; by vec (rows stacked) it is J ⊗ₖ vᵀ.
    """

    nargs = 2

    @staticmethod
    def _components(v, after):
        return kron(after, as_row(v))


class OuterT(_Operator):
    """OuterT(v, J): the Jacobian of Xᵀ v by the matrix X, after J; an operator.

    A row r becomes (r J)ᵀ vᵀ, the numerator-layout gradient by X; by vec (rows stacked)
    it is vᵀ ⊗ₖ J.
    """

    nargs = 2

    @staticmethod
    def _components(v, after):
        return kron(as_row(v), after)


class Lin(_Operator):
    """Lin(P, Q, t): the Jacobian of a matrix U by a matrix X, as the linear map it applies
    to a scalar's numerator-layout gradient G = ∂s/∂U (G_ji = ∂s/∂U_ij): G ↦ P G Q when
    t = 0, G ↦ P Gᵀ Q when t = 1.  Integer 1 stands for an identity of the right size.

    Written as a Jacobian by vec (rows stacked): U = Q X P, so ∂vec(U)/∂vec(X) = Q ⊗ₖ Pᵀ
    (t = 0), and U = Pᵀ Xᵀ Qᵀ, so ∂vec(U)/∂vec(X) = (Pᵀ ⊗ₖ Q) K (t = 1), with K the
    commutation matrix (K vec(X) = vec(Xᵀ)).  ``Outer(v, J)`` is ``Lin(v, J, 0)`` and
    ``OuterT(v, J)`` is ``Lin(Jᵀ, vᵀ, 1)``.
    """

    nargs = 3
    _zero_args = 2  # the third is a flag: 0 is not a zero matrix there

    @property
    def precedence(self) -> int:
        # printed with an infix ⊗ₖ (a single I or K when P = Q = 1): z·(A ⊗ₖ Bᵀ)
        identity = all(a == 1 or isinstance(a, Ident) for a in self.args[:2])
        return 1000 if identity else 49

    @staticmethod
    def _components(p, q, t):  # by vec (rows stacked): Q ⊗ₖ Pᵀ, or (Pᵀ ⊗ₖ Q)·K
        p, q = as_matrix(p), as_matrix(q)
        if not t:
            return kron(q, p.T)
        return ImmutableMatrix(kron(p.T, q) * Commutation._components(q.cols, p.rows))


class DMat(_Operator):
    """DMat(M): the derivative of a matrix U by a scalar z, M = ∂U/∂z entry by entry.

    A scalar's gradient G = ∂s/∂U times it is tr(G M) (the chain rule, summed over U's
    entries).
    """

    nargs = 1

    @staticmethod
    def _components(m):  # ∂U/∂z by vec (rows stacked): a column
        return ImmutableMatrix(len(m), 1, list(m)) if isinstance(m, MatrixBase) else m


class Rank1(_Operator):
    """Rank1(M, H): ∂U/∂X for a matrix U that depends on X only through a scalar z, with
    M = ∂U/∂z and H = ∂z/∂X: a scalar's gradient G by U becomes tr(G M)·H."""

    nargs = 2

    @staticmethod
    def _components(m, h):  # vec(M)·vec(Hᵀ)ᵀ
        column = DMat._components(m)
        row = ImmutableMatrix(1, len(h), list(h.T)) if isinstance(h, MatrixBase) else h
        return times_matrix(column, row)


def as_row(v):
    """vᵀ of a written-out column (a scalar stays itself)."""
    return v.T if isinstance(v, MatrixBase) else v


OPERATORS = (Outer, OuterT, Lin, DMat, Rank1)
"""Jacobians by a matrix, or of a matrix, kept as operators on a scalar's gradient."""

KRONECKER = (Kron, Outer, OuterT, Lin)
"""Kronecker forms, grouped in parentheses inside a product."""
