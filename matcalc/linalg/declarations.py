"""Declared vectors and matrices: "w", "y:N" (vectors) and "X:N,n", "S:sym" (matrices).

A declared vector is a ``VectorName`` symbol and a declared matrix a ``MatrixName``
symbol; their sizes live in ``Declaration`` objects, passed around explicitly (``Shapes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Integer, Symbol

from matcalc.errors import UsageError
from matcalc.msg import Msg
from matcalc.symbols import VectorName, bold_latex


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
    text = _ascii(text.strip())  # τ is tau, as the parser reads it
    if text.isdigit() and 0 < int(text) <= 1000:
        return Integer(int(text))
    if text.isidentifier() and not text.startswith("_"):
        return Symbol(text, integer=True, positive=True)
    raise UsageError(Msg("err.decl.dimension", text=repr(text)))


def declare(vectors=(), matrices=()) -> Shapes:
    """Declarations from "w", "y:N" (vectors, default length n) and "X:N,n" (matrices, default n×n)."""
    shapes: Shapes = {}
    vectors, matrices = _items(vectors, vectors=True), _items(matrices)
    if not (vectors or matrices):
        return shapes  # (a Symbol with assumptions costs a scalar derivative 0.2 ms)
    n = Symbol("n", integer=True, positive=True)
    for item in vectors:
        name, _, size = item.partition(":")
        symbol = VectorName(_name(name), real=True)
        shapes[symbol] = Declaration(symbol, dimension(size) if size else n, Integer(1))
    for item in matrices:
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
    """The declared name as the parser reads it: θ is theta (--vector θ declared a name θ
    that the expression, whose θ is theta, never used: θ·x was a scalar times x)."""
    text = _ascii(text.strip())
    if not text.isidentifier() or text.startswith("_"):
        raise UsageError(Msg("err.decl.name", text=repr(text)))
    return text


def _ascii(text: str) -> str:
    """``text`` with its Greek letters spelled out (``source.ascii_names``)."""
    from matcalc.parse.source import ascii_names  # matcalc.parse imports this package

    return ascii_names(text)
