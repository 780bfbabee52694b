"""The derivation as data: frozen dataclasses, no logic.

The engine builds these; renderers only read them.  Every mathematical value is a
SymPy object in a typed field (``Expr`` for scalars, ``ImmutableMatrix`` for
vectors and Jacobians), so a renderer never has to call ``diff`` or
``simplify``.  No step holds prose: a rule is a ``Rule`` (catalogue ids), and
``explanation`` is a ``Msg`` (a catalogue key with its values), which renderers look up in
``matcalc.render.messages`` in the language asked for.

To add a kind of step: add a dataclass here with a ``kind`` class attribute (the
JSON ``kind``), build it in the engine, and give a renderer a ``_render_<Class>``
method only where the generic fallback is weak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from sympy import Expr, MatrixBase, Symbol

from matcalc.msg import Msg

Math: TypeAlias = Expr | MatrixBase
"""A scalar expression, or a matrix (a vector is an n×1 or 1×n matrix)."""


class Rule(str):
    """The name of a rule as catalogue ids, which reads as its English name.

    ``clauses`` holds clauses of parts, each part ``(id, name)``: the catalogue key
    ``rule.<id>`` and the value of its ``{name}`` ("" if none).  Parts are joined by ", ",
    clauses by "; ": ((("elementwise", ""),), (("constant_multiple", ""), ("power", "")))
    reads "element-wise, so diagonal; constant multiple rule, power rule".  The ``str``
    value is that English name (JSON's ``rule``, the Python API); renderers translate
    ``clauses`` with ``messages.rule_text``.
    """

    clauses: tuple[tuple[tuple[str, str], ...], ...]

    def __new__(cls, clauses: tuple[tuple[tuple[str, str], ...], ...]) -> Rule:
        from matcalc.render.messages import rule_text

        self = super().__new__(cls, rule_text(clauses, "en"))
        self.clauses = clauses
        return self

    @classmethod
    def named(cls, key: str, name: str = "") -> Rule:
        """The rule ``rule.<key>`` of the catalogue, alone."""
        return cls((((key, name),),))

    def and_part(self, other: Rule) -> Rule:
        """This rule, then ``other`` as further parts of the last clause ("A, B")."""
        last = self.clauses[-1] + other.clauses[0]
        return Rule((*self.clauses[:-1], last, *other.clauses[1:]))

    def and_clause(self, other: Rule) -> Rule:
        """This rule, then ``other`` as further clauses ("A; B")."""
        return Rule((*self.clauses, *other.clauses))

    def text(self, lang: str = "en") -> str:
        from matcalc.render.messages import rule_text

        return rule_text(self.clauses, lang)

    def __getnewargs__(self) -> tuple:  # type: ignore[override, unused-ignore]  # pickling
        return (self.clauses,)


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivativeName:
    """The symbol d(of)/d(wrt), or ∂(of)/∂(wrt) when ``partial``."""

    of: Symbol
    wrt: Symbol
    partial: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """What was asked: differentiate ``exprs`` with respect to ``wrt``.

    ``kind`` is one of ``matcalc.problem.KINDS``: "derivative" (one expression, one
    variable), "gradient" (one scalar expression, several variables) or "jacobian"
    (several expressions, or a vector expression by several variables); ``layout`` one
    of ``matcalc.problem.LAYOUTS``.
    ``output`` names the result (y, or f when y is taken).
    """

    text: tuple[str, ...]
    exprs: tuple[Expr, ...]
    wrt: tuple[Symbol, ...]
    kind: str
    layout: str
    output: Symbol
    declarations: tuple = ()
    """Declared vectors and matrices (``linalg.Declaration``); empty for scalar problems."""
    order: int = 1
    """The order of the derivative: 2 for d²y/dx², or for the Hessian of a gradient problem."""
    hvp: Symbol | None = None
    """The vector v of a Hessian-vector product H·v (order 2, by one vector variable)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Base class of every step."""

    kind: ClassVar[str] = "step"
    explanation: Msg | None = None
    """What the step does, as a catalogue sentence (JSON's ``explanation``); None: the
    renderer says it from the step's kind."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Intermediate(Step):
    """name = definition, built from earlier intermediates and the variables."""

    kind: ClassVar[str] = "intermediate"
    name: Symbol
    definition: Math
    depends_on: tuple[Symbol, ...] = ()
    output: Symbol | None = None
    """Set on the last intermediate when it is also the result: y = u₄ = ln(u₃)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalDerivative(Step):
    """d(of)/d(wrt) = d/d(wrt) expr = value, justified by ``rule``."""

    kind: ClassVar[str] = "local_derivative"
    of: Symbol
    wrt: Symbol
    expr: Math
    value: Math
    rule: str
    partial: bool = False
    held_constant: tuple[Symbol, ...] = ()
    shape: tuple[Expr, ...] = ()
    """(rows, cols) of the value in the problem's layout, for vector problems; () if not stated."""

    @property
    def name(self) -> DerivativeName:
        return DerivativeName(of=self.of, wrt=self.wrt, partial=self.partial)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainRule(Step):
    """d(of)/d(wrt) = product of ``factors``; their values, then the product."""

    kind: ClassVar[str] = "chain_rule"
    of: Symbol
    wrt: Symbol
    factors: tuple[DerivativeName, ...]
    factor_values: tuple[Math, ...]
    value: Math
    partial: bool = False
    vector: bool = False
    shape: tuple[Expr, ...] = ()
    """(rows, cols) of the product in the problem's layout; () if not stated."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PathTerm:
    """One path from wrt to ``of``: ∂(of)/∂(via) · d(via)/d(wrt), or ∂(of)/∂(wrt) directly."""

    via: Symbol | None
    partial_value: Math
    total_value: Math | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TotalDerivative(Step):
    """d(of)/d(wrt) = ∂(of)/∂(wrt) + Σ ∂(of)/∂(u) · d(u)/d(wrt), one term per path."""

    kind: ClassVar[str] = "total_derivative"
    of: Symbol
    wrt: Symbol
    terms: tuple[PathTerm, ...]
    value: Math
    partial: bool = False
    layout: str = "numerator"
    """In denominator layout each path is written d(via)/d(wrt) · ∂(of)/∂(via)."""
    shape: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Substitute(Step):
    """Replace each intermediate by its definition: before → after."""

    kind: ClassVar[str] = "substitute"
    of: Symbol
    wrt: Symbol
    before: Math
    after: Math
    replacements: tuple[tuple[Symbol, Math], ...]
    factors: tuple[Math, ...] = ()
    """For a chain-rule product, ``after`` factor by factor (for display)."""
    partial: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Simplify(Step):
    """Rewrite before → after without changing its value."""

    kind: ClassVar[str] = "simplify"
    of: Symbol
    wrt: Symbol
    before: Math
    after: Math
    partial: bool = False
    rewrites: tuple[str, ...] = ()
    """Named textbook rewrites applied (``engine.textbook``): "softmax", "factor", …"""


@dataclass(frozen=True, slots=True, kw_only=True)
class DifferentialStep(Step):
    """One step of the differential method for a scalar f by a matrix (or vector) X.

    ``stage`` "take": df = d(expr) = value, by the differential ``rules`` used, each
    (rule name, d(M), its value); "cyclic": df = value, dX moved to the end of each trace
    by tr(AB) = tr(BA), so that df = tr(Gᵀ·dX); "read": ∂f/∂X = value, read off
    df = tr(Gᵀ·dX): G in denominator layout, Gᵀ in numerator ``layout``.
    """

    kind: ClassVar[str] = "differential"
    of: Symbol
    wrt: Symbol
    stage: str
    expr: Math
    value: Math
    rules: tuple[tuple[Rule, Math, Math], ...] = ()
    layout: str = "denominator"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(Step):
    """A convention or remark the reader needs, e.g. the value at a kink."""

    kind: ClassVar[str] = "note"
    topic: str
    math: Math | None = None
    about: Symbol | None = None
    """The name a note is about (the y of "when the entries of y sum to 1")."""
    equals: Math | None = None
    """What ``math`` equals everywhere (a max or min settled to one of its arguments)."""
    others: tuple[Math, ...] = ()
    """The arguments of that max or min that ``equals`` is never below (max) or above (min)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Part(Step):
    """The derivation of one entry of a gradient or Jacobian: ∂(expr)/∂(wrt)."""

    kind: ClassVar[str] = "part"
    of: Symbol
    expr: Expr
    wrt: Symbol
    steps: tuple[Step, ...]
    result: Expr
    partial: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage(Step):
    """One order of a higher derivative: ``expr`` (the previous order's result, or the input
    for order 1) differentiated by ``wrt`` with the same method, giving ``result``.

    For a Hessian, stage 2 differentiates each entry of the gradient (named ``y_x``, the
    textbook's subscript notation for ∂y/∂x) by every variable, and ``result`` is the
    symmetric matrix of second partial derivatives.
    """

    kind: ClassVar[str] = "stage"
    of: Symbol
    wrt: tuple[Symbol, ...]
    order: int
    expr: Math
    steps: tuple[Step, ...]
    result: Math
    partial: bool = False
    hessian: bool = False
    names: tuple[Symbol, ...] = ()
    """How the stage's steps name what they differentiate: y' for dy/dx, or y_x, y_y for
    the entries of the gradient."""
    layout: str = ""
    """The layout the stage's steps are in when it is not the problem's: stage 1 of a
    vector Hessian writes the gradient as a column, in denominator layout, whatever the
    Hessian's layout; empty when the stage is in the problem's layout."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HessianVector(Step):
    """H·v without forming H: the Hessian ``hessian`` times the vector ``vector``, each term
    multiplied from the right (``rules``: diag(a)·v = a ⊗ v, (a·bᵀ)·v = a·(b·v),
    (A·B)·v = A·(B·v), I·v = v), giving ``value``, simplified to ``result``."""

    kind: ClassVar[str] = "hessian_vector"
    of: Symbol
    vector: Symbol
    hessian: Math
    value: Math
    result: Math
    rules: tuple[str, ...] = ()
    """The ids of the rules used, in ``HVP_RULES`` order ("diag", "outer", "product", "identity")."""
    rewrites: tuple[str, ...] = ()
    """The textbook rewrites of the simplification (see ``Simplify.rewrites``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Assemble(Step):
    """Place the entries in a gradient (1×n) or Jacobian (m×n), in ``layout``."""

    kind: ClassVar[str] = "assemble"
    of: Symbol
    shape: str
    layout: str
    entries: tuple[tuple[DerivativeName, ...], ...]
    value: MatrixBase
    size: tuple[Expr, ...] = ()
    """(rows, cols) of the assembled result, sizes possibly symbols (n + 1); () if only ``shape``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reshape(Step):
    """A scalar's gradient by a matrix, ``before`` (a matrix), listed as vec: ``after``
    (or back, with ``to="matrix"``).

    vec stacks the matrix variable's rows (w₁₁, w₁₂, …, w₂₁, …): a column in denominator
    layout, its transpose (a row) in numerator layout.  Used to assemble a result by
    several variables of different shapes.
    """

    kind: ClassVar[str] = "reshape"
    of: Symbol
    wrt: Symbol
    before: Math
    after: Math
    before_shape: tuple[Expr, ...]
    after_shape: tuple[Expr, ...]
    layout: str
    to: str = "vec"
    """"vec": a gradient listed as vec (to assemble); "matrix": a derivative by vec(W)
    arranged as the gradient by W."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Shape(Step):
    """The result's shape, stated after it: a row, a column or a matrix.

    ``variable`` is the matrix variable of a scalar's gradient by one matrix, and
    ``like_variable`` says whether the result has that matrix's shape (denominator
    layout, as PyTorch's ``.grad``) or its transpose (numerator layout).
    """

    kind: ClassVar[str] = "shape"
    of: Symbol
    rows: Expr
    cols: Expr
    variable: Symbol | None = None
    like_variable: bool | None = None
    by_vec: Symbol | None = None
    """The matrix variable W when the result is a Jacobian by vec(W) (a vector by W)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Explicit(Step):
    """The result written out in components at concrete sizes (w_1, w_2, …, X_11, …)."""

    kind: ClassVar[str] = "explicit"
    of: Symbol
    wrt: Symbol
    sizes: tuple[tuple[Symbol, int], ...]
    value: MatrixBase


@dataclass(frozen=True, slots=True, kw_only=True)
class Verify(Step):
    """The result compared with SymPy's own derivative.

    ``status`` is True (equal), False (a bug: they differ) or None (undecided).
    ``method`` is "symbolic", "numeric" or "substitution" (unknown functions replaced by
    concrete ones); ``reference`` is SymPy's derivative.
    """

    kind: ClassVar[str] = "verify"
    status: bool | None
    method: str
    reference: Math
    points: int = 0
    detail: str = ""
    sizes: tuple[tuple[Symbol, int], ...] = ()
    """For a vector result: the sizes at which the components were compared."""
    hessian: bool = False
    """The reference is SymPy's Hessian of the components (at ``sizes`` and at ``more_sizes``)."""
    hvp: Symbol | None = None
    """For a Hessian-vector product: the vector v the reference Hessian is multiplied by."""
    functions: tuple[tuple[tuple[Expr, Expr], ...], ...] = ()
    """For method "substitution": each substitution made, as pairs (f(t), its stand-in)."""
    more_sizes: tuple[tuple[Symbol, int], ...] = ()
    """For method "components": the second size at which the components were compared."""
    positive: tuple[Expr, ...] = ()
    """For method "components": the determinants kept positive at every point (det X in
    ln det X, which is real only there: the input's own domain)."""
    near_identity: bool = True
    """For method "components": every point was 2I + E (else some were −(2I + E), (2I + E)/4
    or random, where the input is not real at 2I + E)."""
