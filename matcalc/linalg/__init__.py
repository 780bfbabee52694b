"""Vectors and matrices as SymPy objects: declarations, operations, shapes, components.

- ``declarations``: "w", "y:N", "X:N,n", "S:sym" → ``Declaration`` objects (``Shapes``);
  a declared vector is a ``VectorName`` symbol, a declared matrix a ``MatrixName``.
- ``base``: ``_Op``, the base of every operation class, and how a class declares its
  shape (``_shape``) and its explicit components (``_components``).
- ``operations``: the input language's operations that are not element-wise (``VDot``,
  ``VSum``, ``Mean``, ``Norm``, ``MatVec``, ``MatT``, ``MMul``, ``MTrace``, ``Inv``, ``Det``,
  ``MPow``) and two display forms (``Circ``, ``MDiff``).
- ``jacobians``: compact Jacobians (``Diag``, ``Ident``, ``Ones``, ``T``, ``OnesMatrix``,
  ``Commutation``, ``Kron``, ``MatProd``) and operators on a scalar's gradient
  (``OPERATORS``: ``Outer``, ``OuterT``, ``Lin``, ``DMat``, ``Rank1``).
- ``shapes``: ``shape_of`` (each class's ``_shape``; element-wise otherwise) and
  evaluation that keeps vectors vectors.
- ``components``: ``explicit(expr, shapes, dims)``, components named as the paper names
  them (w_1, …, X_11, …).

Element-wise arithmetic is ordinary SymPy arithmetic on vector-named symbols: ``w*x`` is
w ⊗ x, ``x + z`` with a scalar z is scalar expansion, ``sin(x)`` applies entry by entry.
Every component obeys the ordinary commutative algebra, so this is exact, and the diagonal
of an element-wise Jacobian is just the scalar derivative (the paper's §4.2).

To add an operation: a class in ``operations.py`` (its docstring, ``nargs``, ``_shape``,
``_components``; re-exported here), its matcher in ``matcalc.engine.vector_rules``, its
printing in ``matcalc.render.vector_notation``, an entry in ``render/code.py`` and
``render/matrix_expr.py``, its rule names in the message catalogue, and its name in the
parser's ``VECTOR_FUNCTIONS``; ``tests/test_registry.py`` fails until all but the last are
there.
"""

from __future__ import annotations

from matcalc.linalg.base import OPERATOR_SHAPE, SCALAR, _Op
from matcalc.linalg.components import _Explicit, components, explicit
from matcalc.linalg.declarations import Declaration, MatrixName, Shapes, declare, dimension
from matcalc.linalg.jacobians import (
    KRONECKER,
    OPERATORS,
    Commutation,
    Diag,
    DMat,
    Ident,
    Kron,
    Lin,
    MatProd,
    Ones,
    OnesMatrix,
    Outer,
    OuterT,
    Rank1,
    T,
)
from matcalc.linalg.operations import (
    Circ,
    Det,
    Inv,
    MatT,
    MatVec,
    MDiff,
    Mean,
    MMul,
    MPow,
    MTrace,
    Norm,
    VDot,
    VSum,
)
from matcalc.linalg.shapes import (
    evaluate_shaped,
    has_vectors,
    is_scalar,
    keep_vector,
    shape_of,
    vector_valued,
)

__all__ = [
    "KRONECKER",
    "OPERATORS",
    "OPERATOR_SHAPE",
    "SCALAR",
    "Circ",
    "Commutation",
    "DMat",
    "Declaration",
    "Det",
    "Diag",
    "Ident",
    "Inv",
    "Kron",
    "Lin",
    "MDiff",
    "MMul",
    "MPow",
    "MTrace",
    "MatProd",
    "MatT",
    "MatVec",
    "MatrixName",
    "Mean",
    "Norm",
    "Ones",
    "OnesMatrix",
    "Outer",
    "OuterT",
    "Rank1",
    "Shapes",
    "T",
    "VDot",
    "VSum",
    "_Explicit",
    "_Op",
    "components",
    "declare",
    "dimension",
    "evaluate_shaped",
    "explicit",
    "has_vectors",
    "is_scalar",
    "keep_vector",
    "shape_of",
    "vector_valued",
]
