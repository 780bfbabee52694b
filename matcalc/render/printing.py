"""SymPy printers adapted to the paper's notation: small subclasses, no new printers.

* ``MathLatexPrinter`` (a ``LatexPrinter``): ln, typed order, 1[z > 0] for
  Heaviside, f'(a) for the derivative of an undefined function, σ, bold vectors,
  ``bmatrix`` with one row per line.
* ``TextPrinter`` (a ``StrPrinter``): linear Unicode (u₁, x³, ·, ln, σ, √, |x|) or
  pure ASCII (u_1, x^3, *, sigmoid) with ``unicode=False``.
* ``TextPrettyPrinter`` (a ``PrettyPrinter``): the same notation in 2D, for the
  result and for matrices in text.

Every printer memoises what it prints, per instance: a renderer creates its
printers once per rendering, so each subexpression is printed once per format.
``Label`` is a symbol whose name is already formatted, for matrices of
derivative names.  To print a new kind of expression, add ``_print_<Class>``.
"""

from __future__ import annotations

import re
from copy import copy
from itertools import pairwise
from typing import TYPE_CHECKING, Any, ClassVar

from sympy import Add, Basic, Derivative, Function, Mul, Number, Pow, Rational, S, Symbol, exp, log
from sympy.core.add import _addsort
from sympy.core.cache import CACHE
from sympy.core.function import AppliedUndef
from sympy.core.sorting import default_sort_key
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence, precedence_traditional
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import greek_unicode
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.printer import Printer
from sympy.printing.str import StrPrinter
from sympy.simplify.radsimp import fraction

from matcalc.functions import sigmoid
from matcalc.render.vector_notation import LatexVectors, PrettyVectors, TextVectors, is_product

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
PRIME = {True: "′", False: "'"}
# x, u_1, X_12: printed directly (SymPy's general symbol printing is slow).
_SIMPLE_NAME = re.compile(r"([A-Za-z])(?:_(\d+))?\Z")
# A whole integer coefficient followed by a letter or "(": juxtaposed (3x², 2(x + 1)).
_COEFFICIENT = re.compile(r"(?<![\w.])(\d+)\*(?=[^\W\d_]|\()")

if TYPE_CHECKING:  # each mixin is typed as the SymPy printer it is mixed into
    from sympy.printing.printer import Printer as _PrinterHost
else:
    _PrinterHost = object


class Label(Symbol):
    """A symbol whose name is printed verbatim: a preformatted entry of a matrix."""


def _canonical(expr: Basic) -> bool:
    """True when a product's factors are in SymPy's stored order (an evaluated Mul)."""
    args = expr.args[1:] if expr.args[0].is_Number else expr.args
    return all(a.compare(b) <= 0 for a, b in pairwise(args))


def _minus(term: Basic) -> bool:
    """The term is printed with a leading minus sign (a negative number or coefficient)."""
    c = term.args[0] if term.is_Mul else term
    return bool(c.is_Number and c.is_extended_negative)


def _by_degree(terms: tuple) -> list | None:
    """A polynomial in one variable of three or more terms, highest power first, as
    textbooks write it: 8x² - 3x + 2, not 2 - 3x + 8x² (SymPy stores the lowest first);
    in a sum with other terms of that variable only, that polynomial (two terms or more)
    first and the rest after, in stored order: x² + 2x + 1 - (x² + 1)·cos(x)/sin(x),
    3x² + 2x - exp(x).  None for any other sum."""
    if len(terms) < 3:
        return None
    variable, monomials, others = None, [], []
    for term in terms:
        rest = term.as_coeff_Mul()[1]
        if rest is S.One:
            monomials.append((0, term))
            continue
        base, power = rest.as_base_exp()
        if not (base.is_Symbol and power.is_Integer and power > 0) or (
            variable is not None and base != variable
        ):
            others.append(term)
            continue
        variable = base
        monomials.append((int(power), term))
    degrees = [d for d, _ in monomials]
    if variable is None or len(monomials) < 2 or len(set(degrees)) != len(degrees):
        return None
    ordered = [t for _, t in sorted(monomials, key=lambda pair: -pair[0])]
    if len(monomials) == 2 and (not others or _minus(ordered[0])):
        return None  # 1 + x² and 1 - x stay as they are; 3x² + 2x - exp(x) does not
    if others and any(t.free_symbols - {variable} or t.is_polynomial(variable) for t in others):
        return None  # other variables (2 + x + y, 2 + y² - x), or a monomial written
        # otherwise (2 - 3x + 8x² as typed, its -3x a -1·(3x)): as they stand
    return ordered + others


def _stored_order(terms: tuple) -> bool:
    """Whether a sum's terms are in SymPy's own order, as an evaluated sum's are: a sum in
    another order is as the user typed it (x³ + sin(x) - x + 2), and is printed so."""
    ordered = list(terms)
    _addsort(ordered)
    return tuple(ordered) == tuple(terms)


def _plus_first(terms: tuple) -> list:
    """A sum's terms in stored order, but led by its first term without a minus sign:
    x - 1 and x·cos(x) - sin(x), not -1 + x and -sin(x) + x·cos(x) (SymPy stores numbers
    first).  A sum whose terms are all negative is left as it is.  A polynomial in one
    variable of three or more terms goes highest power first (``_by_degree``), unless its
    terms are in an order of the user's (``_stored_order``)."""
    by_degree = _by_degree(terms)
    if by_degree is not None and _stored_order(terms):
        return by_degree
    if not terms or not _minus(terms[0]):
        return list(terms)
    for i, term in enumerate(terms):
        if not _minus(term):
            return [term, *terms[:i], *terms[i + 1 :]]
    return list(terms)


def _number_times_one(expr: Basic) -> bool:
    """c·f with a number c > 0 or c = -1 and one factor f whose order SymPy's printers never
    change: ``as_ordered_factors`` is [c, f], and the parts they take apart (the sign; a
    numerator and denominator, ``fraction``) are c and f, or f alone.  Not when f is a
    product, a number or noncommutative, or a power (or exp) whose exponent may be
    negative (a denominator, whose own factors a printer would reorder); and not for
    another negative c, which ``Expr.args_cnc`` splits into -1 and -c."""
    args = expr.args
    if len(args) != 2 or not args[0].is_Rational:
        return False
    c, f = args
    if c.p < 0 and c is not S.NegativeOne:
        return False
    if f.is_Mul or f.is_Number or not f.is_commutative:
        return False
    return not ((f.is_Pow or isinstance(f, exp)) and not f.as_base_exp()[1].is_positive)


MEMO_SIZE = 20_000
"""Most printed forms kept by one printer class and settings (then its memo starts again)."""

_SHARED: dict[type, list[tuple[dict[str, Any], dict]]] = {}
"""By printer class: (settings, memo) for each set of settings met since the last
``clear_memos``; a class has a few (unicode or ASCII, with vectors or not)."""


def shared_memo(printer: Printer, ignore: str = "") -> dict:
    """The memo of every printer of ``printer``'s class and settings, kept across renderings.

    A printed form is a pure function of the expression, the printer class and its
    settings, so the formats of one derivation (Markdown and JSON's LaTeX) and the
    renderings after it reuse what was printed before.  Bounded by ``MEMO_SIZE`` per
    printer, and emptied by ``clear_memos`` (and so by SymPy's ``clear_cache``).
    ``ignore``: a setting left out of the key (the caller keeps apart what depends on it).

    The settings are compared as dicts (equal values, the dict's own ``==``), against a
    copy taken when the memo was made: a rendering's printers change a setting or two
    (``vectors``), and a copy keeps the key as it was."""
    settings = printer._settings
    if ignore in settings:
        settings = settings.copy()
        del settings[ignore]
    entries = _SHARED.setdefault(type(printer), [])
    for k, (known, memo) in enumerate(entries):
        if known == settings:
            if len(memo) > MEMO_SIZE:
                memo = {}
                entries[k] = (known, memo)
            return memo
    memo = {}
    entries.append((settings.copy(), memo))
    return memo


def clear_memos() -> None:
    """Forget every printed form (``sympy.core.cache.clear_cache`` calls this too)."""
    _SHARED.clear()
    _PRECEDENCE.clear()
    _TRADITIONAL.clear()
    _CANONICAL.clear()


_PRECEDENCE: dict[Basic, int] = {}
_TRADITIONAL: dict[Basic, int] = {}
_CANONICAL: dict[Basic, bool] = {}  # whether a product's factors are in SymPy's stored order


def _memoised(table: dict[Basic, Any], compute: Any, item: Any) -> Any:
    """``compute(item)``, kept in ``table`` for an expression (emptied with the printed forms):
    every printer asks the same of the same subexpressions (their precedence, some many
    times; whether a product is in SymPy's order, once in each format)."""
    if not isinstance(item, Basic):
        return compute(item)
    try:
        out = table.get(item)
    except TypeError:  # a mutable matrix is unhashable
        return compute(item)
    if out is None:
        if len(table) > MEMO_SIZE:
            table.clear()
        out = table[item] = compute(item)
    return out


class _StrPrecedence(_PrinterHost):
    """Mixin: ``StrPrinter.parenthesize``, the precedence of each expression found once."""

    def parenthesize(self, item: Any, level: int, strict: bool = False) -> str:
        prec = _memoised(_PRECEDENCE, precedence, item)
        if (prec < level) or ((not strict) and prec <= level):
            return f"({self._print(item)})"
        return self._print(item)


class _ClearMemos:
    """Registered with SymPy's caches, so that clearing them clears the printed forms too
    (a benchmark that clears SymPy's cache before each case times printing honestly)."""

    __wrapped__ = None

    @staticmethod
    def cache_clear() -> None:
        clear_memos()


CACHE.append(_ClearMemos())


_MISSING = object()

_METHODS: dict[tuple[type, type], str] = {}
"""Which method ``Printer._print`` calls, by printer class and expression class: a fixed
property of the two classes, found once ("" for the expression's own print method)."""


def _method(printer: Printer, expr: Basic) -> str:
    """The name of the method SymPy's ``Printer._print`` dispatches ``expr`` to (its MRO
    walk, with its exceptions for undefined functions and renamed subclasses of a function),
    "" for the expression's own ``printmethod`` (``_latex``, ``_pretty``, ``_sympystr``)."""
    if printer.printmethod and hasattr(expr, printer.printmethod):
        return ""
    classes = type(expr).__mro__
    if Function in classes:
        i = classes.index(Function)
        classes = (
            tuple(
                c
                for c in classes[:i]
                if c.__name__ == classes[0].__name__ or c.__name__.endswith("Base")
            )
            + classes[i:]
        )
    for cls in classes:
        name = "_print_" + cls.__name__
        if getattr(printer, name, None) is not None:
            return name
    return "emptyPrinter"


class _Memo(_PrinterHost):
    """Mixin: memoise ``_print`` (a renderer prints each expression once), and dispatch
    from a table instead of walking each expression's MRO (``_METHODS``).

    The memo is the printer's own, or one shared within one rendering (the renderers a
    renderer drives: JSON's LaTeX, Jupyter's aligned block), or, after ``share()``, the
    one of all printers of its class and settings (``shared_memo``)."""

    def __init__(self, settings: dict[str, Any] | None = None, memo: dict | None = None) -> None:
        super().__init__(settings)
        self._memo: dict[Basic, Any] = {} if memo is None else memo

    def share(self) -> None:
        """Use the memo shared by printers of this class and these (current) settings."""
        self._memo = shared_memo(self)

    def _print(self, expr: Any, **kwargs: Any) -> Any:
        if kwargs or not isinstance(expr, Basic):
            return self._dispatch(expr, **kwargs)
        try:
            out = self._memo.get(expr, _MISSING)
        except TypeError:  # a mutable matrix is unhashable
            return self._dispatch(expr)
        if out is _MISSING:
            out = self._memo[expr] = self._dispatch(expr)
        return out

    def _dispatch(self, expr: Any, **kwargs: Any) -> Any:
        """``Printer._print``, its choice of method looked up in ``_METHODS``."""
        if not isinstance(expr, Basic) or isinstance(expr, AppliedUndef):
            return super()._print(expr, **kwargs)  # SymPy's own walk: types, unknown functions
        key = (type(self), type(expr))
        name = _METHODS.get(key)
        if name is None:
            name = _METHODS[key] = _method(self, expr)
        self._print_level += 1
        try:
            if not name:
                return getattr(expr, self.printmethod)(self, **kwargs)
            if name == "emptyPrinter":
                return self.emptyPrinter(expr)
            return getattr(self, name)(expr, **kwargs)
        finally:
            self._print_level -= 1


class softmax(Function):
    """Display only: e^z / sum(e^z) is printed softmax(z) (never built by the engine)."""


class logsumexp(Function):
    """Display only: ln(sum(e^z)) is printed logsumexp(z)."""


def display_form(expr: Any) -> Any:
    """The textbook name of ``expr`` where it has one: softmax(z), logsumexp(z); else None."""
    from matcalc.linalg.operations import VSum

    if isinstance(expr, Mul):
        args = list(expr.args)
        for top in args:
            bottom = Pow(VSum(top), -1) if isinstance(top, exp) else None
            if bottom is not None and bottom in args:
                rest = [a for a in args if a is not top and a != bottom]
                return (
                    Mul(*rest, softmax(top.args[0]), evaluate=False)
                    if rest
                    else softmax(top.args[0])
                )
    if isinstance(expr, log) and len(expr.args) == 1 and isinstance(expr.args[0], VSum):
        inner = expr.args[0].args[0]
        if isinstance(inner, exp):
            return logsumexp(inner.args[0])
    return None


class _Notation(_Memo):
    """Mixin: sums in stored (typed) order; products as typed, SymPy's own in its order;
    softmax and logsumexp recognised where they reappear (``display_form``)."""

    _displaying = False

    def _print(self, expr: Any, **kwargs: Any) -> Any:
        # softmax(z) and logsumexp(z) are put in before the tree is printed, so that the
        # parent of e^z/sum(e^z) sees a function (no parentheses around softmax(z))
        if self._displaying or not isinstance(expr, Basic) or not self._settings["vectors"]:
            # both display forms need a sum of a vector, which a scalar derivation never has
            return super()._print(expr, **kwargs)
        # the whole tree is searched once per expression, not at every printing of it
        key = None if kwargs else (_Notation, expr)
        if key is not None:
            try:
                return self._memo[key]
            except KeyError:
                pass
            except TypeError:  # a mutable matrix is unhashable
                key = None
        if not expr.has(log, Pow):
            out = super()._print(expr, **kwargs)
        else:
            self._displaying = True
            try:
                from matcalc.engine.simplify import replace_unevaluated
                from matcalc.linalg.operations import VSum

                # both display forms have a sum of a vector in them (an explicit Jacobian of
                # components never has one): where there is none, nothing to replace
                shown = (
                    replace_unevaluated(
                        expr,
                        lambda e: isinstance(e, (Mul, log)) and display_form(e) is not None,
                        display_form,
                    )
                    if expr.has(VSum)
                    else expr
                )
                out = super()._print(shown, **kwargs)
            finally:
                self._displaying = False
        if key is not None:
            self._memo[key] = out
        return out

    def _print_Add(self, expr: Basic, order: str | None = None) -> Any:
        return super()._print_Add(expr, order="none")

    def _as_ordered_terms(self, expr: Basic, order: str | None = None) -> list[Basic]:
        if order == "none" and isinstance(expr, Add):
            return _plus_first(expr.args)
        return super()._as_ordered_terms(expr, order=order)

    def _print_Mul(self, expr: Basic) -> Any:
        # A product the user typed keeps its order (x·u); SymPy's own products are
        # printed in its usual order (3x²y rather than the stored 3·y·x²).
        settings = self._settings
        # SymPy's order of a number times one factor is that (a number sorts first): its
        # sort keys, costly for a sum, are not needed ("none" keeps the stored order)
        ordered = _memoised(_CANONICAL, _canonical, expr) and not _number_times_one(expr)
        saved, settings["order"] = settings["order"], None if ordered else "none"
        try:
            return super()._print_Mul(expr)
        finally:
            settings["order"] = saved


_EXACT = 1 << 53  # integers below this are exact in a float


def _coefficient(number: Any) -> complex:
    """``complex(number)``: for an integer or a fraction of a power of two (exact in a float)
    without SymPy's ``evalf``, which ``Expr.__complex__`` calls, else through it."""
    if number.is_Rational:
        p, q = number.p, number.q
        if -_EXACT < p < _EXACT and q < _EXACT and not q & (q - 1):
            return complex(p / q)
    return complex(number)


def _term_key(term: Any) -> tuple:
    """``Expr._parse_order(None)``'s key: lex on the negated exponents, then the
    noncommutative factors, then the coefficient."""
    _, ((re, im), monom, ncpart) = term
    return (
        tuple(-m for m in monom),
        tuple(e.sort_key(order=None) for e in ncpart),
        ((bool(im), im), (re, im)),
    )


def ordered_terms(expr: Basic) -> list[Basic]:
    """``expr.as_ordered_terms()`` (the order of ``str()``) for a sum: SymPy's code, with
    each term's coefficient made a complex number directly where it is exact
    (``_coefficient``); SymPy's own ``complex()`` evaluates every coefficient with ``evalf``."""
    from sympy.core.exprtools import decompose_power
    from sympy.core.numbers import NumberSymbol

    def number_last(x: Basic) -> bool:
        return not isinstance(x, (Number, NumberSymbol))

    add_args = sorted(expr.args, key=number_last)
    if (
        len(add_args) == 2
        and isinstance(add_args[0], (Number, NumberSymbol))
        and isinstance(add_args[1], Mul)
    ):
        mul_args = sorted(Mul.make_args(add_args[1]), key=number_last)
        if (
            len(mul_args) == 2
            and isinstance(mul_args[0], Number)
            and add_args[0].is_positive
            and mul_args[0].is_negative
        ):
            return add_args
    # Expr.as_terms
    gens: set[Basic] = set()
    terms = []
    for term in expr.args:
        coeff_number, rest = term.as_coeff_Mul()
        coeff = _coefficient(coeff_number)
        cpart: dict[Basic, Any] = {}
        ncpart = []
        if rest is not S.One:
            for factor in Mul.make_args(rest):
                if factor.is_number:
                    try:
                        coeff *= complex(factor)
                    except (TypeError, ValueError):
                        pass
                    else:
                        continue
                if factor.is_commutative:
                    base, power = decompose_power(factor)
                    cpart[base] = power
                    gens.add(base)
                else:
                    ncpart.append(factor)
        terms.append((term, ((coeff.real, coeff.imag), cpart, tuple(ncpart))))
    indices = {g: i for i, g in enumerate(sorted(gens, key=default_sort_key))}
    data = []
    for term, (coeff_pair, cpart, nc) in terms:
        monom = [0] * len(indices)
        for base, power in cpart.items():
            monom[indices[base]] = power
        data.append((term, (coeff_pair, tuple(monom), nc)))
    if not any(term.is_Order for term, _ in data):
        ordered = sorted(data, key=_term_key)
    else:
        ordered = sorted((t for t in data if not t[0].is_Order), key=_term_key, reverse=True)
        ordered += sorted((t for t in data if t[0].is_Order), key=_term_key, reverse=True)
    return [term for term, _ in ordered]


class _NumberTimesOne(_PrinterHost):
    """``_print_Mul`` of a str printer: c·f is in SymPy's order as stored
    (``_number_times_one``), so it is printed with "none", without f's sort key."""

    def _print_Mul(self, expr: Basic) -> str:
        if self.order is not None or not _number_times_one(expr):
            return super()._print_Mul(expr)
        # f first, in SymPy's order, so that the product only reads its printed form back
        # from the memo (its sums must not be printed under "none")
        self._print(expr.args[1])
        settings = self._settings
        settings["order"] = "none"
        try:
            return super()._print_Mul(expr)
        finally:
            settings["order"] = None


class SympyStrPrinter(_NumberTimesOne, _StrPrecedence, _Memo, StrPrinter):
    """``str()`` exactly (what ``parse_expr`` reads back), memoised; matcalc's own functions
    in SymPy's names, so that they read back as the same function (``cbrt(x)`` would read
    back as SymPy's complex x**(1/3), ``log10(x)`` as an unknown function)."""

    def _as_ordered_terms(self, expr: Basic, order: str | None = None) -> list[Basic]:
        if (order or self.order) is None and expr.is_Add:
            return ordered_terms(expr)
        return super()._as_ordered_terms(expr, order=order)

    def _print_log10(self, expr: Basic) -> str:
        return f"log({self._print(expr.args[0])}, 10)"

    def _print_log2(self, expr: Basic) -> str:
        return f"log({self._print(expr.args[0])}, 2)"

    def _print_cbrt(self, expr: Basic) -> str:
        return f"real_root({self._print(expr.args[0])}, 3)"


def _undefined_derivative(expr: Derivative) -> tuple[AppliedUndef, int] | None:
    """(f(a), n) when ``expr`` is the n-th derivative of an undefined f by its only argument."""
    inner = expr.expr
    if not isinstance(inner, AppliedUndef) or len(inner.args) != 1:
        return None
    if len(expr.variable_count) == 1 and expr.variable_count[0][0] == inner.args[0]:
        return inner, int(expr.variable_count[0][1])
    return None


def _subs_derivative(expr: Basic) -> tuple[AppliedUndef, int] | None:
    """Subs(f'(ξ), ξ, a) as (f(a), n): SymPy's form of f'(g(x)) in some versions."""
    if len(expr.variables) != 1 or not isinstance(expr.expr, Derivative):
        return None
    found = _undefined_derivative(expr.expr)
    if found is None or found[0].args[0] != expr.variables[0]:
        return None
    return found[0].func(expr.point[0]), found[1]


class _IndicatorMemo:
    """The LaTeX printers' shared memo, whatever their indicator (1[z > 0] is \\mathbb{1} for
    KaTeX, \\mathbf{1} for pdflatex): a printed form without the indicator in it did not
    print a gate, and is the same for every indicator; one with it is kept for its own."""

    def __init__(self, memo: dict, indicator: str) -> None:
        self._shared = memo
        self._indicator = indicator

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._shared[key]
        except KeyError:
            return self._shared[self._indicator, key]

    def get(self, key: Any, default: Any = None) -> Any:
        out = self._shared.get(key, _MISSING)
        return self._shared.get((self._indicator, key), default) if out is _MISSING else out

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(value, str) and self._indicator not in value:
            self._shared[key] = value
        else:
            self._shared[self._indicator, key] = value


class MathLatexPrinter(LatexVectors, _Notation, LatexPrinter):
    """LaTeX in the paper's notation; KaTeX accepts everything it prints."""

    _default_settings: ClassVar[dict[str, Any]] = {
        **LatexPrinter._default_settings,
        "ln_notation": True,
        "order": "none",
        "vectors": True,  # False skips the search for element-wise products of vectors
        "mat_str": "bmatrix",
        "mat_delim": "",
        "indicator": r"\mathbb{1}",  # pdflatex has no blackboard 1: LatexRenderer uses \mathbf{1}
    }

    def share(self) -> None:
        """Share printed forms with LaTeX printers of any indicator (``_IndicatorMemo``)."""
        indicator = self._settings["indicator"]
        self._memo = _IndicatorMemo(shared_memo(self, ignore="indicator"), indicator)  # type: ignore[assignment]

    def parenthesize(
        self, item: Any, level: int, is_neg: bool = False, strict: bool = False
    ) -> str:
        """``LatexPrinter.parenthesize``, the precedence of each expression found once."""
        prec = _memoised(_TRADITIONAL, precedence_traditional, item)
        if is_neg and strict:
            return self._add_parens(self._print(item))
        if (prec < level) or ((not strict) and prec <= level):
            return self._add_parens(self._print(item))
        return self._print(item)

    def _print_Symbol(self, expr: Symbol, style: str = "plain") -> str:
        simple = _SIMPLE_NAME.match(expr.name)
        if simple is None or style != "plain" or self._settings["symbol_names"]:
            return super()._print_Symbol(expr, style)
        letter, sub = simple.groups()
        return letter if sub is None else f"{letter}_{{{sub}}}"

    def _print_Heaviside(self, expr: Basic, exp: str | None = None) -> str:
        z, relation = gate_test(expr)
        tex = rf"{self._settings['indicator']}\left[{self._print(z)} {relation} 0\right]"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_sign(self, expr: Basic, exp: str | None = None) -> str:
        tex = rf"\operatorname{{sign}}\left({self._print(expr.args[0])}\right)"
        return rf"\left({tex}\right)^{{{exp}}}" if exp else tex

    def _print_atan2(self, expr: Basic, exp: str | None = None) -> str:
        args = ", ".join(self._print(a) for a in expr.args)
        name = r"\operatorname{atan2}" + (f"^{{{exp}}}" if exp else "")
        return rf"{name}\left({args}\right)"

    def _print_Pow(self, expr: Pow) -> str:
        # sigmoid._latex takes no ``exp``: print σ(x)^n here (roots and 1/σ go to SymPy)
        exp = expr.exp
        root_or_inverse = exp.is_Rational and (exp.is_negative or exp.q != 1)
        if isinstance(expr.base, sigmoid) and not root_or_inverse:
            return f"{self._print(expr.base)}^{{{self._print(exp)}}}"
        if (
            exp.is_negative
            and exp.is_Rational
            and exp.q == 1
            and (expr.base.is_Mul or (expr.base.is_Pow and fraction(expr, exact=True)[1] == 1))
        ):
            # SymPy's own printer recurses forever on an unevaluated (x/x)**-2, and on
            # ((x/x)**2)**-2, whose denominator ((x/x)**2)**2 evaluates to 1
            base = rf"\left({self._print(expr.base)}\right)"
            power = base if exp == -1 else f"{base}^{{{self._print(-exp)}}}"
            return rf"\frac{{1}}{{{power}}}"
        return super()._print_Pow(expr)

    def _print_Label(self, expr: Label) -> str:
        return expr.name

    def _prime(self, f: AppliedUndef, n: int, arg: Basic) -> str:
        name = self._hprint_Function(f.func.__name__)
        marks = "'" * n if n <= 3 else f"^{{({n})}}"
        return rf"{name}{marks}\left({self._print(arg)}\right)"

    def _print_Derivative(self, expr: Derivative) -> str:
        found = _undefined_derivative(expr)
        if found is None:
            return super()._print_Derivative(expr)
        return self._prime(found[0], found[1], found[0].args[0])

    def _print_Subs(self, expr: Basic) -> str:
        found = _subs_derivative(expr)
        if found is None:
            return super()._print_Subs(expr)
        return self._prime(found[0], found[1], found[0].args[0])

    def _print_MatrixBase(self, expr: Basic) -> str:
        rows = (" & ".join(self._print(e) for e in expr.row(i)) for i in range(expr.rows))
        return "\\begin{bmatrix}\n" + " \\\\\n".join(rows) + "\n\\end{bmatrix}"


class TextPrinter(TextVectors, _StrPrecedence, _Notation, StrPrinter):
    """Linear text: Unicode (u₁, x³, 3x²·cos(x), ln, σ) or ASCII with ``unicode=False``."""

    _default_settings: ClassVar[dict[str, Any]] = {
        **StrPrinter._default_settings,
        "order": "none",
        "vectors": True,
        "unicode": True,
    }

    @property
    def _uni(self) -> bool:
        return self._settings["unicode"]

    def _print_Symbol(self, expr: Symbol) -> str:
        if not self._uni or isinstance(expr, Label):
            return expr.name
        simple = _SIMPLE_NAME.match(expr.name)
        if simple is not None:
            letter, sub = simple.groups()
            return letter if sub is None else letter + sub.translate(SUBSCRIPTS)
        name, sups, subs = split_super_sub(expr.name)
        name = greek_unicode.get(name, name)
        if sups or not all(s.isdigit() for s in subs):
            return expr.name if not subs else name + "_" + "_".join(subs) + "".join(sups)
        return name + "".join(subs).translate(SUBSCRIPTS)

    _print_Dummy = _print_Symbol

    def _print_Pow(self, expr: Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp is S.Half:
            return ("√(%s)" if self._uni else "sqrt(%s)") % self._print(base)
        if -exp is S.Half:
            return "1/" + self._print(Pow(base, S.Half, evaluate=False))
        product = is_product(base)  # (Ax)², 1/(Ax): Ax² would read A·x², as A @ x**2 does
        if exp is S.NegativeOne:
            if product:
                return f"1/({self._print(base)})"
            return "1/" + self.parenthesize(base, PRECEDENCE["Mul"], strict=False)
        if exp.is_Rational and exp < -1 or (exp.is_Rational and -1 < exp < 0 and not rational):
            # 1/(1 + x²)^(3/2) and 1/x^(2/3), as the 2D and LaTeX forms show them
            return "1/" + self.parenthesize(Pow(base, -exp, evaluate=False), PRECEDENCE["Mul"])
        if exp.is_Integer and exp > 1 and self._uni:
            below = (
                f"({self._print(base)})"
                if product
                else self.parenthesize(base, PRECEDENCE["Pow"], strict=False)
            )
            return below + str(exp).translate(SUPERSCRIPTS)
        if product:
            above = self.parenthesize(exp, PRECEDENCE["Pow"], strict=False)
            return f"({self._print(base)})^{above}"
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Mul(self, expr: Basic) -> str:
        hadamard = self._hadamard(expr)
        if hadamard is not None:
            return hadamard
        args = expr.args
        if len(args) == 2 and args[0] is S.NegativeOne and args[1].is_number:
            # -10**6 as typed: SymPy's str shows the unevaluated -1*10**6 as it is stored
            return "-" + self.parenthesize(args[1], PRECEDENCE["Mul"], strict=False)
        first = args[0]
        if first.is_Mul and first.args[0].is_Number and first.args[0] < 0:
            # -y·ln(p) and -10**6*x**2 as typed are (-y)·ln(p) and (-1·10⁶)·x², products
            # whose first factor is negative: its sign goes in front, as the user wrote it
            # (a -1 dropped, so that 10⁶ stays as typed; SymPy's own products are flat)
            c, *others = first.args
            head = others if c is S.NegativeOne else [-c, *others]
            rest = Mul(*head, *args[1:], evaluate=False)
            return "-" + self.parenthesize(rest, PRECEDENCE["Mul"], strict=True)
        out = super()._print_Mul(expr)
        for f in args:  # SymPy's own x/((2*y)) for a product kept below the bar as typed:
            # its parentheses for a Pow(-1) of a product come on top of parenthesize's
            if f.is_Pow and f.exp is S.NegativeOne and isinstance(f.base, (Mul, Pow)):
                inner = self._print(f.base)
                out = out.replace(f"/(({inner}))", f"/({inner})")
        if not self._uni:
            return out
        return _COEFFICIENT.sub(r"\1", out).replace("*", "·")

    def _print_MatMul(self, expr: Basic) -> str:
        return super()._print_MatMul(expr).replace("*", "·" if self._uni else "*")

    def _print_log(self, expr: Basic) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: Basic) -> str:
        z, relation = gate_test(expr)
        return f"{indicator(self._uni)}[{self._print(z)} {relation} 0]"

    def _print_sigmoid(self, expr: Basic) -> str:
        return ("σ(%s)" if self._uni else "sigmoid(%s)") % self._print(expr.args[0])

    def _print_log10(self, expr: Basic) -> str:
        return ("log₁₀(%s)" if self._uni else "log10(%s)") % self._print(expr.args[0])

    def _print_log2(self, expr: Basic) -> str:
        return ("log₂(%s)" if self._uni else "log2(%s)") % self._print(expr.args[0])

    def _print_Abs(self, expr: Basic) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Max(self, expr: Basic) -> str:
        return f"max({self.stringify(expr.args, ', ')})"

    def _print_Min(self, expr: Basic) -> str:
        return f"min({self.stringify(expr.args, ', ')})"

    def _print_Exp1(self, expr: Basic) -> str:
        return "e"

    def _print_Pi(self, expr: Basic) -> str:
        return "π" if self._uni else "pi"

    def _print_ImaginaryUnit(self, expr: Basic) -> str:
        # SymPy's str() writes I, the way a variable named I prints: ⅈ, as in the 2D form
        return "ⅈ" if self._uni else "I"

    def _print_Transpose(self, expr: Basic) -> str:
        arg = self.parenthesize(expr.arg, PRECEDENCE["Pow"], strict=False)
        return arg + ("ᵀ" if self._uni else "^T")

    def _print_Identity(self, expr: Basic) -> str:
        return "I"

    def _prime(self, f: AppliedUndef, n: int, arg: Basic) -> str:
        return f"{f.func.__name__}{PRIME[self._uni] * n}({self._print(arg)})"

    def _print_Derivative(self, expr: Derivative) -> str:
        found = _undefined_derivative(expr)
        if found is not None:
            return self._prime(found[0], found[1], found[0].args[0])
        d = "∂" if self._uni and len(expr.free_symbols) > 1 else "d"
        wrt = "".join(f"{d}{self._print(v)}" for v, n in expr.variable_count for _ in range(n))
        return f"{d}/{wrt}({self._print(expr.expr)})"

    def _print_Subs(self, expr: Basic) -> str:
        found = _subs_derivative(expr)
        if found is not None:
            return self._prime(found[0], found[1], found[0].args[0])
        pairs = ", ".join(f"{self._print(v)} = {self._print(p)}" for v, p in zip(*expr.args[1:]))
        return f"[{self._print(expr.expr)}] at {pairs}"

    def _print_MatrixBase(self, expr: Basic) -> str:
        rows = [", ".join(self._print(e) for e in expr.row(i)) for i in range(expr.rows)]
        if expr.cols == 1 and expr.rows > 1:
            return f"[{', '.join(rows)}]{'ᵀ' if self._uni else '^T'}"
        return f"[{'; '.join(rows)}]"


class _PrettyMul(_PrinterHost):
    """Mixin: SymPy's ``PrettyPrinter._print_Mul``, without its search for physical units.

    SymPy's own imports ``sympy.physics.units`` on first use (0.2 s, a sixth of the CLI's
    start-up) only to put quantities last, and matcalc never has any.  The rest is SymPy's
    code, so products are drawn as ``sympy.pretty`` draws them (tests/test_text_render.py).
    """

    def _print_Mul(self, product: Basic) -> prettyForm:
        args = product.args
        if args[0] is S.One or any(isinstance(arg, Number) for arg in args[1:]):
            # an unevaluated product: every factor shown, in order
            forms = [self._print(a) for a in args]
            negone = forms[0] == "-1"
            if negone:
                forms[0] = prettyForm("1", 0, 0)
            out = _times(*forms)
            return prettyForm("-" + out.s, out.baseline, out.binding) if negone else out
        if self.order not in ("old", "none"):
            args = product.as_ordered_factors()
        numer, denom = [], []
        for item in args:
            if (
                item.is_commutative
                and item.is_Pow
                and item.exp.is_Rational
                and item.exp.is_negative
            ):
                if item.exp != -1:
                    denom.append(Pow(item.base, -item.exp, evaluate=False))
                else:
                    denom.append(Pow(item.base, -item.exp))
            elif item.is_Rational and item is not S.Infinity:
                if item.p != 1:
                    numer.append(Rational(item.p))
                if item.q != 1:
                    denom.append(Rational(item.q))
            else:
                numer.append(item)
        top = [self._print(a) for a in numer] or [self._print(S.One)]
        if not denom:
            return _times(*top)
        return _times(*top) / _times(*[self._print(b) for b in denom])


def _times(first: prettyForm, *others: prettyForm) -> prettyForm:
    """SymPy's 2D product, with the one multiplication dot of matcalc's text, "·" (SymPy
    draws "⋅", U+22C5, while every linear product is "·": 2⋅(w ⊗ x)ᵀ·X mixed them)."""
    out = prettyForm.__mul__(first, *others)
    if "⋅" not in out.s:
        return out
    return prettyForm(out.s.replace("⋅", "·"), out.baseline, out.binding)


def gate_test(gate: Basic) -> tuple[Basic, str]:
    """(z, relation) to print the gate 1[u > 0] as 𝟙[z relation 0]: 𝟙[x < 0] for u = -x
    (every term of u negative), as one writes it; the answers' parser reads it back as the
    same gate.  1 - x stays 𝟙[1 - x > 0], as typed."""
    u = gate.args[0]
    terms = u.args if u.is_Add else (u,)
    if all(t.as_coeff_Mul()[0].is_extended_negative for t in terms):  # -x, -x - 1; not 1 - x
        return -u, "<"
    return u, ">"


def indicator(unicode: bool) -> str:
    """The indicator of 1[z > 0] in text: the double-struck 𝟙 (U+1D7D9, the usual sign, in
    the block of the ones vector's 𝟏), so that a factor 1 beside it does not read as 11
    (𝟙[z > 0]·1·𝟏ᵀ, where 1[z > 0]·1·𝟏ᵀ was ambiguous); ASCII keeps 1[z > 0]."""
    return "𝟙" if unicode else "1"


class TextPrettyPrinter(PrettyVectors, _Notation, _PrettyMul, PrettyPrinter):
    """2D text (``sympy.pretty``) in the paper's notation: ln, 1[z > 0], f′(a), σ."""

    linear = TextPrinter  # vector operations print as linear text

    _default_settings: ClassVar[dict[str, Any]] = {
        **PrettyPrinter._default_settings,
        "order": "none",
        "vectors": True,
        "wrap_line": False,
    }

    def _print(self, expr: Any, **kwargs: Any) -> Any:
        # SymPy's pretty printer adjusts the forms it gets back in place (the baseline of
        # an exponent, the binding of a function): a memoised form is handed out as a
        # copy, or the exponent 2 of sin²(x) would lift every later coefficient 2.
        form = super()._print(expr, **kwargs)
        return copy(form) if isinstance(form, prettyForm) else form

    def _print_Pow(self, power: Pow) -> prettyForm:
        # x^(1/x) and x^(1/n) as the powers they are: SymPy draws a name's reciprocal as
        # the index of a root (ˣ√x), beside x^(1/x - 1) in the same result; a number's
        # reciprocal stays a root (√x, ∛x)
        b, e = power.as_base_exp()
        if e.is_Pow and e.exp is S.NegativeOne and e.base.is_Symbol:
            return self._print(b) ** self._print(e)
        return super()._print_Pow(power)

    def _print_log(self, expr: Basic) -> prettyForm:
        return self._print_Function(expr, func_name="ln")

    def _print_Heaviside(self, expr: Basic) -> prettyForm:
        z, relation = gate_test(expr)
        inner = prettyForm(*self._print(z).right(f" {relation} 0"))
        return prettyForm(*prettyForm(*inner.parens("[", "]")).left(indicator(self._use_unicode)))

    def _print_Label(self, expr: Label) -> prettyForm:
        return prettyForm(expr.name)

    def _print_atan2(self, expr: Basic) -> prettyForm:
        # not _print_Function: it draws the name as a symbol, atan₂
        name = prettyForm("atan2")
        args = prettyForm(*self._print_seq(expr.args, delimiter=", ").parens())
        form = prettyForm(*args.left(name), binding=prettyForm.FUNC)
        form.prettyFunc, form.prettyArgs = name, args  # for a power: atan2²(y, x)
        return form

    def _prime(self, f: AppliedUndef, n: int, arg: Basic) -> prettyForm:
        name = f.func.__name__ + PRIME[self._use_unicode] * n
        return self._print_Function(f.func(arg), func_name=name)

    def _print_Derivative(self, expr: Derivative) -> prettyForm:
        found = _undefined_derivative(expr)
        if found is None:
            return super()._print_Derivative(expr)
        return self._prime(found[0], found[1], found[0].args[0])

    def _print_Subs(self, expr: Basic) -> prettyForm:
        found = _subs_derivative(expr)
        if found is None:
            return super()._print_Subs(expr)
        return self._prime(found[0], found[1], found[0].args[0])


# -- display hooks: matcalc's operations shown by any SymPy printer ----------------------------
def _own(printer: Any, expr: Basic, **kwargs: Any) -> Any:
    """``printer``'s own ``_print_<Class>`` for ``expr`` (the hook is not called again)."""
    for cls in type(expr).__mro__:
        method = getattr(printer, f"_print_{cls.__name__}", None)
        if method is not None:
            return method(expr, **kwargs)
    return printer.emptyPrinter(expr)


def latex_hook(expr: Basic, printer: Any, **kwargs: Any) -> str:
    """``_latex`` of matcalc's operations: matcalc's LaTeX, also inside ``sympy.latex``."""
    if isinstance(printer, MathLatexPrinter):
        return _own(printer, expr, **kwargs)
    return MathLatexPrinter()._print(expr, **kwargs)


def pretty_hook(expr: Basic, printer: Any, **kwargs: Any) -> prettyForm:
    """``_pretty`` of matcalc's operations: matcalc's notation, also inside ``sympy.pretty``."""
    if isinstance(printer, TextPrettyPrinter):
        return _own(printer, expr, **kwargs)
    unicode = getattr(printer, "_use_unicode", True)
    return TextPrettyPrinter({"use_unicode": unicode})._print(expr, **kwargs)


def _settings(printer: type[Printer], settings: dict[str, Any]) -> dict[str, Any]:
    """The settings ``sympy.init_printing`` passes that ``printer`` knows and that are set."""
    return {k: v for k, v in settings.items() if v is not None and k in printer._default_settings}


def pretty(expr: Any, **settings: Any) -> str:
    """``expr`` in 2D in matcalc's notation (1[z > 0], ln, σ, w·x, xᵀ), like ``sympy.pretty``."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    printer = TextPrettyPrinter(_settings(TextPrettyPrinter, settings))
    previous = pretty_use_unicode(settings.get("use_unicode"))  # as sympy.pretty does
    try:
        return printer.doprint(expr)
    finally:
        pretty_use_unicode(previous)


def latex(expr: Any, **settings: Any) -> str:
    """``expr`` in LaTeX in matcalc's notation, like ``sympy.latex``."""
    return MathLatexPrinter(_settings(MathLatexPrinter, settings)).doprint(expr)


def init_printing(**settings: Any) -> None:
    """``sympy.init_printing`` with matcalc's printers: every result displays in the paper's
    notation in Jupyter, IPython and at the Python prompt, 1[z > 0] included."""
    import sympy

    sympy.init_printing(pretty_printer=pretty, latex_printer=latex, **settings)
