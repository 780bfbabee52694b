"""The base of every operation class: ``_Op``, the scalar shape, and helpers for components.

An operation is a SymPy ``Function`` subclass of ``_Op`` that declares, next to its
definition, its own shape and its own explicit components (``operations.py``,
``jacobians.py``)::

    class MatVec(_Op):
        nargs = 2

        @staticmethod
        def _shape(of, a, v):  # ``of`` gives the shape of an argument
            return (of(a)[0], Integer(1))

        @staticmethod
        def _components(a, v):  # the arguments written out (matrices, or scalars for 0)
            return ImmutableMatrix(a * v) if isinstance(v, MatrixBase) else ...

A shape many classes share is named once here (``scalar_shape``, ``argument_shape``,
``transposed_shape``): ``_shape = staticmethod(scalar_shape)``.

``shapes.shape_of`` and ``components.explicit`` call these; a class without them is
element-wise (the shape of its non-scalar arguments, applied entry by entry).
"""

from __future__ import annotations

from typing import ClassVar

from sympy import Function, ImmutableMatrix, Integer, MatrixBase
from sympy.core.logic import fuzzy_and

from matcalc.errors import ShapeError
from matcalc.msg import Msg

SCALAR = (1, 1)
OPERATOR_SHAPE = (Integer(0), Integer(0))
"""The shape ``shape_of`` gives an operator: neither a scalar nor a vector."""


class _Op(Function):
    """Base class: these never evaluate on their own, except that an operation on a zero
    vector or matrix is 0 (w - w evaluates to 0: sum(w - w) is 0, acsc(sum(w - w)) is
    undefined).  0 stands for the zero of any shape; ``Ident(n)`` and ``Ones(n)`` take a
    size, not a vector, and keep it (so do ``OnesMatrix`` and ``Commutation``)."""

    _zero_args: ClassVar[int | None] = None
    """How many leading arguments make the operation 0 when one of them is 0 (None: all)."""

    @classmethod
    def eval(cls, *args):
        checked = args if cls._zero_args is None else args[: cls._zero_args]
        if any(a == 0 for a in checked):
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


class _Sized(_Op):
    """An operation whose arguments are sizes, not vectors: it keeps them, 0 included."""

    _zero_args = 0


class _Operator(_Op):
    """A Jacobian by a matrix, or of a matrix, kept as an operator on a scalar's gradient."""

    @staticmethod
    def _shape(of, *args):
        return OPERATOR_SHAPE


# --- shapes many classes share ------------------------------------------------------


def scalar_shape(of, *args):
    """A scalar, whatever the arguments (a dot product, a sum, a trace, …)."""
    return SCALAR


def argument_shape(of, a, *rest):
    """The shape of the first argument (an inverse, a power, a differential)."""
    return of(a)


def transposed_shape(of, a):
    """The shape of the argument, transposed."""
    rows, cols = of(a)
    return (cols, rows)


# --- helpers for components ---------------------------------------------------------


def zero(*values):
    """0 when one of ``values`` (scalars standing for vectors) is the zero vector."""
    if any(v == 0 for v in values if not isinstance(v, MatrixBase)):
        return Integer(0)
    raise ShapeError(Msg("err.decl.scalar", values=values))


def times_matrix(a, b):
    """a·b, a matrix product when both are matrices."""
    if isinstance(a, MatrixBase) and isinstance(b, MatrixBase):
        return ImmutableMatrix(a * b)
    return a * b


def as_matrix(a):
    """``a`` as a matrix: a scalar becomes 1×1."""
    return a if isinstance(a, MatrixBase) else ImmutableMatrix([[a]])


def kron(a, b):
    """The Kronecker product of two matrices (a scalar is 1×1)."""
    from sympy.matrices.expressions.kronecker import kronecker_product

    return ImmutableMatrix(kronecker_product(as_matrix(a), as_matrix(b)))
