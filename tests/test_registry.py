"""The operation registry is complete: every operation class of ``matcalc.linalg`` has a
shape, explicit components, a way to be differentiated (a vector rule, the differential
method, or a declared "never": a compact Jacobian or a display form), a text, pretty and
LaTeX printing, an entry (or a declared refusal) in ``render/code.py`` and
``render/matrix_expr.py``, and the catalogue keys of its rules in English and Chinese.

``missing(cls)`` lists what a class lacks; ``test_a_class_with_nothing_misses_everything``
shows that the check fails for a class that has none of it.  The shapes each class declares
are checked against hand-written ones and against its own components written out, at sizes
m = 2, n = 3 (so that a transposed shape cannot pass).
"""

from __future__ import annotations

import pytest
from sympy import Integer, MatrixBase, Symbol

from matcalc import linalg
from matcalc.engine import vector_rules
from matcalc.linalg.base import OPERATOR_SHAPE, SCALAR, _Op, _Operator, _Sized
from matcalc.render import code, matrix_expr
from matcalc.render.messages import EN, ZH
from matcalc.render.vector_notation import LatexVectors, PrettyVectors, TextVectors

PRINTERS = (TextVectors, PrettyVectors, LatexVectors)


def operation_classes() -> list[type]:
    """Every concrete subclass of ``_Op`` defined in ``matcalc.linalg``."""
    found: set[type] = set()
    todo = list(_Op.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("matcalc.linalg.") and cls not in (_Sized, _Operator):
            found.add(cls)
    return sorted(found, key=lambda c: c.__name__)


CLASSES = operation_classes()


def rule_ids(cls: type) -> list[str]:
    """The catalogue ids of the rules that differentiate ``cls``."""
    ids = [i for rule in vector_rules.MATCHERS.get(cls, ()) for i in rule.ids]
    return ids + list(vector_rules.BY_DIFFERENTIAL.get(cls, ()))


def missing(cls: type) -> list[str]:
    """What ``cls`` lacks of the registry, in words."""
    name = cls.__name__
    out = []
    if not callable(getattr(cls, "_shape", None)):
        out.append("a shape (_shape)")
    if not callable(getattr(cls, "_components", None)):
        out.append("explicit components (_components)")
    homes = [
        bool(vector_rules.MATCHERS.get(cls)),
        cls in vector_rules.BY_DIFFERENTIAL,
        cls in vector_rules.NOT_DIFFERENTIATED,
    ]
    if homes.count(True) != 1:
        out.append("exactly one way to be differentiated (engine/vector_rules.py)")
    if cls not in vector_rules.NOT_DIFFERENTIATED and not rule_ids(cls):
        out.append("the catalogue ids of its rules")
    for key in (f"rule.{i}" for i in rule_ids(cls)):
        for lang, catalogue in (("en", EN), ("zh", ZH)):
            if key not in catalogue:
                out.append(f"{key} in the {lang} catalogue")
    for printer in PRINTERS:
        if f"_print_{name}" not in vars(printer):
            out.append(f"{printer.__name__}._print_{name}")
    if (name in code._HANDLERS) == (name in code.NO_TRANSLATION):
        out.append("one entry in render/code.py (_HANDLERS or NO_TRANSLATION)")
    if (name in matrix_expr._TABLE) == (name in matrix_expr.NO_MATRIX_EXPR):
        out.append("one entry in render/matrix_expr.py (_TABLE or NO_MATRIX_EXPR)")
    return out


def test_the_registry_sees_every_operation_linalg_exports() -> None:
    exported = {
        value
        for value in (getattr(linalg, n) for n in linalg.__all__)
        if isinstance(value, type) and issubclass(value, _Op) and value is not _Op
    }
    assert set(CLASSES) == exported
    assert len(CLASSES) == 26  # 13 in operations.py, 13 in jacobians.py, counted by hand


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_operation_is_complete(cls: type) -> None:
    assert missing(cls) == []


def test_a_class_with_nothing_misses_everything() -> None:
    class Bare(_Op):
        nargs = 1

    lacks = missing(Bare)
    assert "a shape (_shape)" in lacks
    assert "explicit components (_components)" in lacks
    assert "exactly one way to be differentiated (engine/vector_rules.py)" in lacks
    assert [f"{p.__name__}._print_Bare" for p in PRINTERS] == [x for x in lacks if "_print_" in x]
    assert any("render/code.py" in x for x in lacks)
    assert any("render/matrix_expr.py" in x for x in lacks)


def test_a_rule_without_its_catalogue_key_is_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(ZH, "rule.sum_reduction")
    assert missing(linalg.VSum) == ["rule.sum_reduction in the zh catalogue"]


# --- each class's shape, by hand, and its components agree with it ---------------------

m, n = Symbol("m", integer=True, positive=True), Symbol("n", integer=True, positive=True)
DIMS = {m: 2, n: 3}
SHAPES = linalg.declare(vectors=["w", "x", "v:m"], matrices=["A", "X", "B:m,n"])
w, x, v, A, X, B = SHAPES  # w, x: n; v: m; A, X: n×n; B: m×n
I_m, I_n = linalg.Ident(m), linalg.Ident(n)

EXAMPLES = {  # an instance of each class, and its shape written out by hand at m = 2, n = 3
    "VDot": (linalg.VDot(w, x), (1, 1)),
    "VSum": (linalg.VSum(v), (1, 1)),
    "Mean": (linalg.Mean(w), (1, 1)),
    "Norm": (linalg.Norm(B), (1, 1)),
    "MatVec": (linalg.MatVec(B, w), (2, 1)),
    "MatT": (linalg.MatT(B), (3, 2)),
    "MMul": (linalg.MMul(B, A), (2, 3)),
    "MTrace": (linalg.MTrace(A), (1, 1)),
    "Inv": (linalg.Inv(A), (3, 3)),
    "Det": (linalg.Det(A), (1, 1)),
    "MPow": (linalg.MPow(A, Integer(2)), (3, 3)),
    "Circ": (linalg.Circ(A, X), (3, 3)),
    "MDiff": (linalg.MDiff(B), (2, 3)),
    "Diag": (linalg.Diag(v), (2, 2)),
    "Ident": (I_m, (2, 2)),
    "Ones": (linalg.Ones(n), (3, 1)),
    "OnesMatrix": (linalg.OnesMatrix(m, n), (2, 3)),
    "Commutation": (linalg.Commutation(m, n), (6, 6)),
    "T": (linalg.T(v), (1, 2)),
    "Kron": (linalg.Kron(B, linalg.T(w)), (2, 9)),
    "MatProd": (linalg.MatProd(linalg.T(v), B, A), (1, 3)),
    # operators: no shape of their own; written out by vec (rows stacked)
    "Outer": (linalg.Outer(w, I_m), (2, 6)),  # ∂(B w)/∂vec(B) = I ⊗ₖ wᵀ
    "OuterT": (linalg.OuterT(v, I_n), (3, 6)),  # ∂(Bᵀ v)/∂vec(B) = vᵀ ⊗ₖ I
    "Lin": (linalg.Lin(I_n, A, Integer(0)), (9, 9)),  # U = A X: A ⊗ₖ I
    "DMat": (linalg.DMat(B), (6, 1)),
    "Rank1": (linalg.Rank1(B, linalg.T(w)), (6, 3)),
}


def test_every_class_has_an_example() -> None:
    assert sorted(EXAMPLES) == [c.__name__ for c in CLASSES]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_shape_and_components_agree(name: str) -> None:
    expr, expected = EXAMPLES[name]
    shape = linalg.shape_of(expr, SHAPES)
    if isinstance(expr, linalg.OPERATORS):
        assert shape == OPERATOR_SHAPE
    else:
        assert tuple(s if isinstance(s, int) else int(s.subs(DIMS)) for s in shape) == expected
    value = linalg.explicit(expr, SHAPES, DIMS)
    written = value.shape if isinstance(value, MatrixBase) else SCALAR
    assert written == expected
