"""Printer mixins for vectors and matrices, in the paper's notation.

w·x, sum(v), ‖v‖, Xw, Xᵀ, tr(A), diag(x), I, 1, xᵀ, a ⊗ b (an element-wise
product of two vectors), and the outer-product operator of a matrix variable.
Each printer class in ``printing`` mixes in one of these; a new operation in
``matcalc.linalg`` needs one ``_print_<Class>`` method per format here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sympy import (
    Add,
    Basic,
    Function,
    Integral,
    Mod,
    Mul,
    Number,
    Pow,
    Product,
    Rational,
    Sum,
    Symbol,
    exp,
)
from sympy.core.cache import CACHE
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from matcalc.linalg.base import _Op
from matcalc.linalg.jacobians import (
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
    Norm,
    VDot,
    VSum,
)
from matcalc.symbols import VectorName

if TYPE_CHECKING:  # each mixin is typed as the SymPy printer it is mixed into
    from sympy.printing.latex import LatexPrinter as _LatexHost
    from sympy.printing.pretty.pretty import PrettyPrinter as _PrettyHost
    from sympy.printing.str import StrPrinter as _StrHost
else:
    _LatexHost = _PrettyHost = _StrHost = object

_NOT_ATOMIC = (
    VDot,
    MatVec,
    MMul,
    MatT,
    T,
    MatProd,
    Kron,
    Outer,
    OuterT,
    Lin,
    OnesMatrix,
    Rank1,
    Inv,
    MPow,
    exp,
)
"""Functions that print with an operator or a superscript: grouped before ᵀ or ⊗."""
_PRODUCTS = (VDot, MatVec, MMul, MatProd, Kron, Outer, OuterT, Lin, OnesMatrix)


_VECTOR: dict[Basic, bool] = {}
"""``is_vector_expr`` of each expression asked about, emptied with SymPy's cache."""

_BRACKETED: dict[Basic, bool] = {}
"""``_has_bracketed`` of each expression asked about, emptied with SymPy's cache."""


class _ForgetVectors:
    """Registered with SymPy's caches: clearing them empties ``_VECTOR`` and ``_BRACKETED``."""

    __wrapped__ = None

    @staticmethod
    def cache_clear() -> None:
        _VECTOR.clear()
        _BRACKETED.clear()


CACHE.append(_ForgetVectors())

_BRACKETED_CLASSES = (Mod, Integral, Product, Sum)
"""What SymPy's LaTeX printer looks for anywhere in a term or factor (``expr.has``): with
one, the term or factor is bracketed."""


def _has_bracketed(expr: Basic) -> bool:
    """``expr.has(Mod, Integral, Product, Sum)`` (a walk down ``args``), found once per
    subexpression."""
    try:
        return _BRACKETED[expr]
    except KeyError:
        if len(_BRACKETED) > 20_000:  # printing.MEMO_SIZE: a bound, then start again
            _BRACKETED.clear()
        found = _BRACKETED[expr] = isinstance(expr, _BRACKETED_CLASSES) or any(
            _has_bracketed(a) for a in expr.args
        )
        return found
    except TypeError:  # unhashable
        return expr.has(*_BRACKETED_CLASSES)


def is_vector_expr(expr: Basic) -> bool:
    """True for an expression whose value is a column vector (used to print ⊗).

    Found once per expression: each sum and product printed asks it of its terms or
    factors, and each answer is a walk down the tree (an explicit Jacobian of
    components, all scalars, is walked to every leaf)."""
    try:
        return _VECTOR[expr]
    except KeyError:
        if len(_VECTOR) > 20_000:  # printing.MEMO_SIZE: a bound, then start again
            _VECTOR.clear()
        found = _VECTOR[expr] = _is_vector_expr(expr)
        return found
    except TypeError:  # a mutable matrix is unhashable
        return _is_vector_expr(expr)


def _is_vector_expr(expr: Basic) -> bool:
    if isinstance(expr, VectorName):
        return True
    if isinstance(expr, (MatVec, Ones)):
        return True
    if isinstance(expr, (Symbol, _Op)):
        return False
    if isinstance(expr, Pow):
        return is_vector_expr(expr.base)
    return any(is_vector_expr(a) for a in expr.args)


def vector_terms_first(expr: Add) -> Add | None:
    """Xw + b − y rather than SymPy's b − y + Xw: vectors, then scalars, then subtractions."""
    if not any(is_vector_expr(t) for t in expr.args):
        return None
    terms = sorted(expr.args, key=lambda t: (t.could_extract_minus_sign(), not is_vector_expr(t)))
    return None if tuple(terms) == expr.args else Add(*terms, evaluate=False)


def is_product(expr: Basic) -> bool:
    """A matrix product (Ax, AB·x): the base of a power is it in parentheses, (Ax)²."""
    return isinstance(expr, (MatVec, MMul, MatProd))


def _scalar_only(printer) -> bool:
    """The renderer says the derivation has no vectors: no ⊗ to look for."""
    return not printer._settings.get("vectors", True)


def is_hadamard(expr: Basic) -> bool:
    """True for an element-wise product of two or more vectors (printed with ⊗)."""
    return isinstance(expr, Mul) and _hadamard_split(expr) is not None


def _hadamard_split(expr: Mul) -> tuple[list[Basic], list[Basic]] | None:
    """(scalar factors, vector factors) when two or more factors are vectors."""
    args = _factors(expr)  # -(x ⊗ x) is Mul(-1, Mul(x, x)) as typed: -x ⊗ x, not -x·x
    if any(isinstance(a, Pow) and a.exp.is_negative for a in args):
        return None
    vectors = [a for a in args if is_vector_expr(a)]
    if len(vectors) < 2:
        return None
    return [a for a in args if not is_vector_expr(a)], vectors


def _hadamard_quotient(expr: Mul) -> tuple[Basic, Basic] | None:
    """(numerator, denominator) of a quotient with an element-wise product of two or more
    vectors above or below the bar, printed x ⊗ w/y and x/(y ⊗ z): x·w/y and x/(y·z) would
    read as dot products."""
    args = _factors(expr)
    below = [isinstance(a, Pow) and bool(a.exp.is_negative) for a in args]
    if not any(below):
        return None
    numerator = [a for a, b in zip(args, below, strict=True) if not b]
    denominator = [
        a.base if a.exp == -1 else Pow(a.base, -a.exp, evaluate=False)
        for a, b in zip(args, below, strict=True)
        if b
    ]
    above = sum(1 for a in numerator if is_vector_expr(a))
    under = [f for d in denominator for f in (_factors(d) if isinstance(d, Mul) else [d])]
    if above < 2 and sum(1 for a in under if is_vector_expr(a)) < 2:
        return None  # x/(y + 1): no product of vectors on either side of the bar
    return Mul(*numerator, evaluate=False), Mul(*denominator, evaluate=False)


def _factors(expr: Mul) -> list[Basic]:
    """The factors of a product, nested unevaluated products flattened."""
    return [f for a in expr.args for f in (_factors(a) if isinstance(a, Mul) else [a])]


def _identity(expr: Basic) -> bool:
    return expr == 1 or isinstance(expr, Ident)


def _mmul_factors(expr: Basic) -> list[Basic]:
    """The factors of a matrix product, nested products opened (the product is associative)."""
    return [f for a in expr.args for f in (_mmul_factors(a) if isinstance(a, MMul) else [a])]


def _powered(method):
    """Accept SymPy's ``exp=`` (a power of the function): \\left(…\\right)^{exp}."""

    def print_power(self, expr: Basic, exp: str | None = None) -> str:
        tex = method(self, expr)
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex

    print_power.__name__ = method.__name__
    return print_power


class LatexVectors(_LatexHost):
    """LaTeX: \\mathbf names come from the symbols; operations here."""

    # SymPy's LatexPrinter asks of every term of a sum and every factor of a product
    # whether it has a Mod (and an Integral, Product or Sum) anywhere in it: a walk down
    # the whole subtree each time.  Where ``_has_bracketed`` (found once per subexpression)
    # says there is none, SymPy's answer is what its other questions give, written out
    # here; otherwise SymPy's own method answers (tests/test_render_shortcuts.py).

    def _needs_mul_brackets(self, expr: Basic, first: bool = False, last: bool = False) -> bool:
        if not isinstance(expr, Basic) or _has_bracketed(expr):
            return super()._needs_mul_brackets(expr, first=first, last=last)
        if expr.is_Mul:
            return not first and bool(expr.could_extract_minus_sign())
        if precedence_traditional(expr) < PRECEDENCE["Mul"] or expr.is_Relational:
            return True
        return bool(expr.is_Piecewise)

    def _needs_add_brackets(self, expr: Basic) -> bool:
        if not isinstance(expr, Basic) or _has_bracketed(expr):
            return super()._needs_add_brackets(expr)
        return bool(expr.is_Relational or expr.is_Add)

    def _print_Add(self, expr: Add, order: str | None = None) -> str:
        reordered = None if _scalar_only(self) else vector_terms_first(expr)
        return super()._print_Add(expr if reordered is None else reordered, order)

    def _group(self, expr: Basic) -> str:
        """``expr`` in parentheses unless it prints as one unit (a name, f(…), diag(…), …)."""
        text = self._print(expr)
        atomic = isinstance(expr, (Symbol, Number)) or (
            isinstance(expr, Function) and not isinstance(expr, _NOT_ATOMIC)
        )
        return text if atomic else rf"\left({text}\right)"

    def _factor_group(self, expr: Basic) -> str:
        """A factor of a matrix product: xᵀ and e^x need no parentheses there, sums do."""
        if isinstance(expr, (MatT, T, Pow, exp, Inv, MPow)):
            return self._print(expr)
        return self._group(expr)

    def _print_Inv(self, expr: Inv) -> str:
        return f"{self._group(expr.args[0])}^{{-1}}"

    def _print_MPow(self, expr: MPow) -> str:
        return f"{self._group(expr.args[0])}^{{{self._print(expr.args[1])}}}"

    @_powered
    def _print_Det(self, expr: Det) -> str:
        return rf"\det\left({self._print(expr.args[0])}\right)"

    def _print_Circ(self, expr: Circ) -> str:
        return " \\circ ".join(self._group(a) for a in expr.args)

    def _print_MDiff(self, expr: MDiff) -> str:
        arg = expr.args[0]
        if isinstance(arg, Symbol):
            return rf"\mathrm{{d}}{self._print(arg)}"
        return rf"\mathrm{{d}}\left({self._print(arg)}\right)"

    def _print_Mul(self, expr: Mul) -> str:
        split = None if _scalar_only(self) else _hadamard_split(expr)
        if split is None:
            quotient = None if _scalar_only(self) else _hadamard_quotient(expr)
            if quotient is not None:  # \frac{x ⊗ w}{y}, not \frac{x w}{y}
                return rf"\frac{{{self._print(quotient[0])}}}{{{self._print(quotient[1])}}}"
            return super()._print_Mul(expr)
        scalars, vectors = split
        head = self._print(Mul(*scalars)) + " " if scalars else ""
        if head.strip() == "-1":
            head = "-"
        return head + r" \otimes ".join(self._group(v) for v in vectors)

    @_powered
    def _print_VDot(self, expr: VDot) -> str:
        form = bilinear(expr)
        if form is not None:
            a, m, b = form
            return rf"{self._group(a)}^{{T}} {self._factor_group(m)} {self._group(b)}"
        a, b = expr.args  # w·x, as the paper writes the dot product
        return rf"{self._group(a)} \cdot {self._group(b)}"

    @_powered
    def _print_VSum(self, expr: VSum) -> str:
        return rf"\operatorname{{sum}}\left({self._print(expr.args[0])}\right)"

    @_powered
    def _print_Mean(self, expr: Mean) -> str:
        return rf"\operatorname{{mean}}\left({self._print(expr.args[0])}\right)"

    def _print_Norm(self, expr: Norm, exp: str | None = None) -> str:
        tex = rf"\left\lVert {self._print(expr.args[0])} \right\rVert"
        return f"{tex}^{{{exp}}}" if exp else tex

    @_powered
    def _print_MatVec(self, expr: MatVec) -> str:
        return " ".join(self._factor_group(a) for a in expr.args)

    @_powered
    def _print_MMul(self, expr: MMul) -> str:
        return " ".join(self._factor_group(a) for a in _mmul_factors(expr))

    @_powered
    def _print_MatT(self, expr: MatT) -> str:
        arg = expr.args[0]
        if isinstance(arg, Inv):  # X⁻ᵀ, the transpose of the inverse
            return f"{self._group(arg.args[0])}^{{-T}}"
        return f"{self._group(arg)}^{{T}}"

    _print_T = _print_MatT

    @_powered
    def _print_MTrace(self, expr: Basic) -> str:
        return rf"\operatorname{{tr}}\left({self._print(expr.args[0])}\right)"

    @_powered
    def _print_Diag(self, expr: Basic) -> str:
        return rf"\operatorname{{diag}}\left({self._print(expr.args[0])}\right)"

    @_powered
    def _print_Ident(self, expr: Basic) -> str:
        return "I"

    @_powered
    def _print_Ones(self, expr: Basic) -> str:
        return r"\mathbf{1}"

    @_powered
    def _print_MatProd(self, expr: Basic) -> str:
        return " ".join(self._factor_group(a) for a in expr.args)

    @_powered
    def _print_Kron(self, expr: Basic) -> str:
        a, b = expr.args
        return rf"{self._group(a)} \otimes_{{K}} {self._group(b)}"

    @_powered
    def _print_Outer(self, expr: Basic) -> str:
        vector, after = expr.args
        return rf"{self._group(after)} \otimes_{{K}} {self._group(vector)}^{{T}}"

    @_powered
    def _print_OuterT(self, expr: Basic) -> str:
        vector, after = expr.args
        return rf"{self._group(vector)}^{{T}} \otimes_{{K}} {self._group(after)}"

    def _identity_or(self, expr: Basic, transposed: bool = False) -> str:
        if _identity(expr):
            return "I"
        return f"{self._group(expr)}^{{T}}" if transposed else self._factor_group(expr)

    @_powered
    def _print_Lin(self, expr: Basic) -> str:
        p, q, t = expr.args
        if _identity(p) and _identity(q):
            return "K" if t else "I"
        if t:
            return (
                rf"\left({self._identity_or(p, True)} \otimes_{{K}} {self._identity_or(q)}"
                r"\right) K"
            )
        return rf"{self._identity_or(q)} \otimes_{{K}} {self._identity_or(p, True)}"

    @_powered
    def _print_DMat(self, expr: Basic) -> str:
        return rf"\operatorname{{vec}}\left({self._print(expr.args[0])}\right)"

    @_powered
    def _print_OnesMatrix(self, expr: Basic) -> str:
        return r"\mathbf{1}\mathbf{1}^{T}"

    @_powered
    def _print_Rank1(self, expr: Basic) -> str:
        m, h = expr.args
        return (
            rf"\operatorname{{vec}}\left({self._print(m)}\right) "
            rf"\operatorname{{vec}}\left({self._group(h)}^{{T}}\right)^{{T}}"
        )

    @_powered
    def _print_Commutation(self, expr: Basic) -> str:
        return "K"


def bilinear(expr: VDot) -> tuple[Basic, Basic, Basic] | None:
    """(a, M, b) when the dot product ``expr`` is the bilinear form aᵀMb, written so:
    a·(Mb), and (Mᵀa)·b, the tree of a @ M @ b as typed (a row times M is (Mᵀa)ᵀ)."""
    a, b = expr.args
    if isinstance(b, MatVec) and not isinstance(a, MatVec):
        return a, b.args[0], b.args[1]
    if isinstance(a, MatVec) and isinstance(a.args[0], MatT) and not isinstance(b, MatVec):
        return a.args[1], a.args[0].args[0], b
    return None


class TextVectors(_StrHost):
    """Linear text: w·x, sum(v), ‖v‖, Xw, Xᵀ, diag(x), 𝟏, xᵀ, a ⊗ b (ASCII: dot, ^T, *)."""

    def _group(self, expr: Basic) -> str:
        return self.parenthesize(expr, PRECEDENCE["Mul"], strict=False)

    def _tee(self) -> str:
        return "ᵀ" if self._uni else "^T"

    def _print_Add(self, expr: Add, order: str | None = None) -> str:
        reordered = None if _scalar_only(self) else vector_terms_first(expr)
        return super()._print_Add(expr if reordered is None else reordered, order)

    def _hadamard(self, expr: Mul) -> str | None:
        """a ⊗ b for a product of vectors; None for any other product."""
        split = None if _scalar_only(self) else _hadamard_split(expr)
        if split is None:
            quotient = None if _scalar_only(self) else _hadamard_quotient(expr)
            if quotient is None:
                return None
            numerator, denominator = quotient  # x ⊗ w/y: element-wise, read either way
            below = self._print(denominator)
            if isinstance(denominator, (Mul, Add)) and not _enclosed(below):
                below = f"({below})"  # x ⊗ w/(y ⊗ z)
            above = self.parenthesize(numerator, PRECEDENCE["Mul"], strict=True)  # (x - w)/…
            return f"{above}/{below}"
        scalars, vectors = split
        head = self._print(Mul(*scalars)) if scalars else ""
        head = "-" if head == "-1" else head + ("·" if head and self._uni else "*" if head else "")
        sep = " ⊗ " if self._uni else " * "
        return head + sep.join(self._hadamard_operand(v) for v in vectors)

    def _hadamard_operand(self, expr: Basic) -> str:
        """An operand of a ⊗ b: a product written with · in parentheses, u ⊗ (Aᵀ·w) ⊗ v, so
        that it does not read as (u ⊗ Aᵀ)·(w ⊗ v); Xw stays as it is.  In ASCII every
        product: (A @ x) * (B @ x), as Python reads it (@ and * bind alike, from the left)."""
        text = self._group(expr)
        dotted = not self._uni or "·" in text
        if isinstance(expr, (MatVec, MMul)) and dotted and not _enclosed(text):
            return f"({text})"
        return text

    def _print_VDot(self, expr: VDot) -> str:
        form = bilinear(expr) if self._uni else None
        if form is not None:  # aᵀMb, as a bilinear form is written (and typed: a @ M @ b)
            # (Ax)ᵀ·A·x: a product before ᵀ in parentheses, not Axᵀ (A times a row)
            parts = [self._transposed(form[0]) + "ᵀ", self._group(form[1]), self._group(form[2])]
            return ("" if all(isinstance(e, Symbol) for e in form) else "·").join(parts)
        a, b = (self._dot_operand(e) for e in expr.args)
        return f"{a}·{b}" if self._uni else f"dot({a}, {b})"  # w·x, as the paper writes it

    def _dot_operand(self, expr: Basic) -> str:
        """An operand of a·b: a product (Xᵀ·a) in parentheses, so that (Xᵀ·a)·b does not
        read as a product of three factors."""
        if self._uni and isinstance(expr, (MatVec, MMul)):
            return f"({self._print(expr)})"
        return self._group(expr)

    def _print_VSum(self, expr: VSum) -> str:
        return f"sum({self._print(expr.args[0])})"

    def _print_Mean(self, expr: Mean) -> str:
        return f"mean({self._print(expr.args[0])})"

    def _print_Norm(self, expr: Norm) -> str:
        inner = self._print(expr.args[0])
        return f"‖{inner}‖" if self._uni else f"norm({inner})"

    def _print_MatVec(self, expr: MatVec) -> str:
        sep = (
            ""
            if self._uni and all(isinstance(a, Symbol) for a in expr.args)
            else ("·" if self._uni else " @ ")
        )
        return sep.join(self._product_operand(a) for a in expr.args)

    def _product_operand(self, expr: Basic) -> str:
        """A factor of a matrix product: a quotient in parentheses, Aᵀ·(1/(eˣ + 1)), not
        Aᵀ·1/(eˣ + 1), which reads (Aᵀ·1)/(eˣ + 1) (and is that in Python, in ASCII)."""
        text = self._group(expr)
        if isinstance(expr, Pow) and expr.exp.is_negative and not _enclosed(text):
            return f"({text})"
        return text

    def _print_MMul(self, expr: MMul) -> str:
        """ABC for a product of names, else A·(…)·C: (AB)C is ABC, as typed."""
        factors = _mmul_factors(expr)
        sep = (
            ""
            if self._uni and all(isinstance(a, Symbol) for a in factors)
            else ("·" if self._uni else " @ ")
        )
        return sep.join(self._product_operand(a) for a in factors)

    def _transposed(self, expr: Basic) -> str:
        """(Aw)ᵀ, (A·u)ᵀ: a product before ᵀ in parentheses, or ᵀ would bind to its last factor;
        so is a power, (1/√u)ᵀ and (x²)ᵀ, not 1/√uᵀ (ᵀ on √u alone) or x²ᵀ (a power 2ᵀ)."""
        text = self._group(expr)
        power = isinstance(expr, Pow) and expr.exp != Rational(1, 2)  # √(u)ᵀ reads whole
        if (power or isinstance(expr, _PRODUCTS)) and not _enclosed(text):
            return f"({text})"
        return text

    def _print_MatT(self, expr: MatT) -> str:
        arg = expr.args[0]
        if isinstance(arg, Inv):  # X⁻ᵀ, the transpose of the inverse
            inner = self._superscript_base(arg.args[0])
            return inner + "⁻ᵀ" if self._uni else f"inv({self._print(arg.args[0])})^T"
        if isinstance(arg, MPow):
            return f"({self._print(arg)}){self._tee()}"
        return self._transposed(arg) + self._tee()

    def _superscript_base(self, expr: Basic) -> str:
        """The base of ⁻¹ or ᵏ: one that ends in a superscript itself in parentheses,
        (X⁻¹)², not X⁻¹² (read X to the power −12), and (X²)⁻¹, (Xᵀ)³."""
        text = self._transposed(expr)
        if isinstance(expr, (Inv, MPow, MatT, T)) and not _enclosed(text):
            return f"({text})"
        return text

    def _print_Inv(self, expr: Inv) -> str:
        if not self._uni:
            return f"inv({self._print(expr.args[0])})"
        return self._superscript_base(expr.args[0]) + "⁻¹"

    def _print_MPow(self, expr: MPow) -> str:
        base, k = expr.args
        if not self._uni:
            return f"matrix_power({self._print(base)}, {k})"
        exponent = str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
        return self._superscript_base(base) + exponent

    def _print_Det(self, expr: Det) -> str:
        return f"det({self._print(expr.args[0])})"

    def _print_Circ(self, expr: Circ) -> str:
        return ("∘" if self._uni else " * ").join(self._group(a) for a in expr.args)

    def _print_MDiff(self, expr: MDiff) -> str:
        arg = expr.args[0]
        return f"d{self._print(arg)}" if isinstance(arg, Symbol) else f"d({self._print(arg)})"

    def _print_T(self, expr: T) -> str:
        return self._transposed(expr.args[0]) + self._tee()

    def _print_MTrace(self, expr: Basic) -> str:
        return f"tr({self._print(expr.args[0])})"

    def _print_Diag(self, expr: Basic) -> str:
        return f"diag({self._print(expr.args[0])})"

    def _print_Ident(self, expr: Basic) -> str:
        return "I"

    def _print_Ones(self, expr: Basic) -> str:
        return "𝟏" if self._uni else "ones"

    def _print_MatProd(self, expr: Basic) -> str:
        sep = "·" if self._uni else " @ "
        return sep.join(self._product_operand(a) for a in expr.args)

    def _kron(self) -> str:
        return " ⊗ₖ " if self._uni else " kron "

    def _print_Kron(self, expr: Basic) -> str:
        a, b = expr.args
        return self._transposed(a) + self._kron() + self._transposed(b)  # (A·w) ⊗ₖ …: grouped

    def _print_Outer(self, expr: Basic) -> str:
        vector, after = expr.args
        return self._group(after) + self._kron() + self._transposed(vector) + self._tee()

    def _print_OuterT(self, expr: Basic) -> str:
        vector, after = expr.args
        return self._transposed(vector) + self._tee() + self._kron() + self._group(after)

    def _identity_or(self, expr: Basic, transposed: bool = False) -> str:
        if _identity(expr):
            return "I"
        return self._transposed(expr) + self._tee() if transposed else self._group(expr)

    def _print_Lin(self, expr: Basic) -> str:
        """The Jacobian of a matrix by a matrix, by vec (rows stacked): Q ⊗ₖ Pᵀ, or (Pᵀ ⊗ₖ Q)·K."""
        p, q, t = expr.args
        if _identity(p) and _identity(q):
            return "K" if t else "I"
        if t:
            dot = "·" if self._uni else " @ "
            return f"({self._identity_or(p, True)}{self._kron()}{self._identity_or(q)}){dot}K"
        return self._identity_or(q) + self._kron() + self._identity_or(p, True)

    def _print_DMat(self, expr: Basic) -> str:
        """∂U/∂z by vec (rows stacked), as the Kronecker forms of a matrix by a matrix are."""
        return f"vec({self._print(expr.args[0])})"

    def _print_OnesMatrix(self, expr: Basic) -> str:
        return "𝟏𝟏ᵀ" if self._uni else "ones @ ones^T"

    def _print_Rank1(self, expr: Basic) -> str:
        """vec(M)·vec(Hᵀ)ᵀ: the Jacobian by vec (rows stacked) through a scalar."""
        m, h = expr.args
        dot = "·" if self._uni else " @ "
        return f"vec({self._print(m)}){dot}vec({self._transposed(h)}{self._tee()}){self._tee()}"

    def _print_Commutation(self, expr: Basic) -> str:
        return "K"


class PrettyVectors(_PrettyHost):
    """2D text: vector operations print as their linear text, on one line.

    The printer class supplies ``linear``, its linear text printer (``printing.TextPrinter``):
    this module does not import ``printing``, which imports it."""

    linear: ClassVar[type]

    def _linear(self, expr: Basic):
        from sympy.printing.pretty.stringpict import prettyForm

        form = prettyForm(self.linear({"unicode": self._use_unicode}).doprint(expr))
        if is_product(expr) or isinstance(expr, VDot):  # its power: (Ax)², (w·x)², not Ax²
            form.binding = prettyForm.MUL
        return form

    def _print_Mul(self, expr: Mul):
        if not _scalar_only(self) and (
            _hadamard_split(expr) is not None or _hadamard_quotient(expr) is not None
        ):
            return self._linear(expr)
        return super()._print_Mul(expr)


for _name in (
    "VDot",
    "VSum",
    "Mean",
    "Norm",
    "MatVec",
    "MatT",
    "MMul",
    "MTrace",
    "Diag",
    "Ident",
    "Ones",
    "T",
    "MatProd",
    "Outer",
    "OuterT",
    "Kron",
    "Lin",
    "DMat",
    "OnesMatrix",
    "Commutation",
    "Rank1",
    "Inv",
    "Det",
    "MPow",
    "MDiff",
    "Circ",
    "Max",
    "Min",
):  # SymPy's 2D printer has no max
    setattr(PrettyVectors, f"_print_{_name}", PrettyVectors._linear)


def _enclosed(text: str) -> bool:
    """Whether ``text`` is one group in parentheses: (A·x), not (Aᵀ + A)ᵀ·x, whose first
    "(" closes before its end (a ᵀ after it would bind to x alone)."""
    if not text.startswith("("):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return i == len(text) - 1
    return False
