"""Results in the form textbooks write them: named rewrites of a finished vector result.

``textbook(expr, shapes)`` tries each rewrite of ``REWRITES`` in turn and keeps what
changed, with its name (shown in the Simplify step as the reason, "recognise softmax",
"factor xᵀ"):

- ``softmax``: e^z / sum(e^z) is softmax(z).  Every e^z is written s·S with S = sum(e^z),
  scalars are taken out of the linear operations (transpose, diag, sum, products), S
  cancels, and sum(s) = 1; then s is written back as e^z / sum(e^z), which the printers
  show as softmax(z).  So the softmax Jacobian comes out as diag(s) − s sᵀ and the
  cross-entropy gradient as (sum(y)·softmax(z) − y)ᵀ.  Kept only when S cancels.
- ``collect``: a scalar coefficient is expanded when that makes it shorter:
  −y(1 − σ) − yσ + σ = σ − y.
- ``factor``: terms with the same left factor are factored: xᵀA + (Ax)ᵀ = xᵀA + xᵀAᵀ =
  xᵀ(A + Aᵀ).
- ``distribute``: a number times a sum of vector terms is distributed:
  2(λwᵀ + (Xw − y)ᵀX) = 2(Xw − y)ᵀX + 2λwᵀ.
- ``elementwise``: each element-wise body is simplified as the scalar function of one
  entry that it is (the scalar ``tidy``, with a stand-in symbol for each sum, dot
  product or matrix-vector product in it), and diagonal terms are added where that
  makes them smaller: ((tan²x + 1) ⊗ cot x + (−cot²x − 1) ⊗ tan x)ᵀ is 0, as the
  derivative of tan(x)·cot(x) is for a scalar x.

Every rewrite is an identity; the result is still verified against the input.  The
rewrites are bounded: each works on the tree it is given, with no expansion of products
of sums (``collect`` only expands what is already small).
"""

from __future__ import annotations

from collections.abc import Callable

from sympy import Add, Expr, Mul, Pow, S, Symbol, cancel, exp, expand, expand_mul

from matcalc.engine.simplify import count_ops_fast, evaluate, rebuild, tidy
from matcalc.functions import sigmoid
from matcalc.linalg.base import _Op
from matcalc.linalg.declarations import Declaration, Shapes
from matcalc.linalg.jacobians import OPERATORS, Diag, MatProd, T
from matcalc.linalg.operations import MatT, MatVec, VSum
from matcalc.linalg.shapes import has_vectors, keep_vector, shape_of
from matcalc.symbols import VectorName

MAX_OPS = 400
"""A result larger than this is left as it is (the rewrites are for textbook-sized results)."""


def textbook(expr: Expr, shapes: Shapes) -> tuple[Expr, tuple[str, ...]]:
    """``expr`` in textbook form, and the names of the rewrites that changed it."""
    if not isinstance(expr, Expr) or count_ops_fast(expr) > MAX_OPS:
        return expr, ()
    names: list[str] = []
    for name, rewrite in REWRITES:
        if name in names:
            continue
        try:
            new = rewrite(expr, shapes)
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            new = None
        if new is not None and new != expr:
            expr = new
            names.append(name)
    return expr, tuple(names)


# -- helpers ------------------------------------------------------------------------------
def _scalar(expr: Expr, shapes: Shapes) -> bool:
    try:
        return shape_of(expr, shapes) == (1, 1)
    except Exception:
        return False


def _split(expr: Expr, shapes: Shapes) -> tuple[Expr, Expr]:
    """(scalar factor, the rest) of a product."""
    if not isinstance(expr, Mul):
        return (expr, Mul()) if _scalar(expr, shapes) else (Mul(), expr)
    scalars = [a for a in expr.args if _scalar(a, shapes)]
    rest = [a for a in expr.args if not _scalar(a, shapes)]
    return Mul(*scalars), Mul(*rest)


def _pull(expr: Expr, shapes: Shapes) -> Expr:
    """Scalars taken out of the linear operations: T(c·v) = c·T(v), diag(c·v) = c·diag(v),
    sum(c·v) = c·sum(v), (c·A)(d·B) = cd·AB, and the same for A·(c·v)."""
    if not expr.args:
        return expr
    args = [_pull(a, shapes) for a in expr.args]
    if isinstance(expr, (T, Diag, VSum, MatT)) and len(args) == 1:
        c, rest = _split(args[0], shapes)
        if c != 1 and rest != 1:
            return c * expr.func(rest)
        return expr.func(*args)
    if isinstance(expr, (MatProd, MatVec)):
        coefficient, inner = Mul(), []
        for a in args:
            c, rest = _split(a, shapes)
            if rest == 1:  # a scalar factor in a product: keep it as it is
                inner.append(a)
                continue
            coefficient *= c
            inner.append(rest)
        return coefficient * expr.func(*inner)
    return expr.func(*args)


# -- the rewrites -------------------------------------------------------------------------
def _softmax(expr: Expr, shapes: Shapes) -> Expr | None:
    sums = [s for s in expr.atoms(VSum) if isinstance(s.args[0], exp)]
    for total in sums:
        z = total.args[0].args[0]
        rows, cols = shape_of(z, shapes)
        if cols != 1:
            continue
        s = VectorName("s_softmax", real=True)
        big = Symbol("S_softmax", positive=True)
        local = {**shapes, s: Declaration(s, rows, cols)}
        work = expr.xreplace({total: big}).xreplace({exp(z): s * big})
        work = _pull(work, local)
        work = work.xreplace({VSum(s): 1})
        quick = expand_mul(work)  # S cancels term by term (S²/S = S): no polynomial algebra
        work = quick if not quick.has(big) else cancel(work)
        if work.has(big):
            continue
        softmax = Mul(exp(z), Pow(VSum(exp(z)), -1))
        return _pull(work, local).xreplace({s: softmax})
    return None


def _collect(expr: Expr, shapes: Shapes) -> Expr | None:
    def shorter(e: Expr) -> Expr:
        expanded = expand(e)
        return expanded if count_ops_fast(expanded) < count_ops_fast(e) else e

    new = expr.replace(
        lambda e: isinstance(e, Add) and count_ops_fast(e) < 60 and _scalar(e, shapes), shorter
    )
    return new if new != expr else None


def _factor(expr: Expr, shapes: Shapes) -> Expr | None:
    if isinstance(expr, Mul):  # a scalar times such a sum: (Xᵀa + Xᵀb)/N = Xᵀ(a + b)/N
        c, rest = _split(expr, shapes)
        inner = _factor(rest, shapes) if c != 1 and isinstance(rest, Add) else None
        return None if inner is None else c * inner
    if not isinstance(expr, Add):
        return None

    def left_form(term: Expr) -> tuple[Expr, Expr, tuple[Expr, ...]] | None:
        c, rest = _split(term, shapes)
        if isinstance(rest, T) and isinstance(rest.args[0], MatVec):  # (Av)ᵀ = vᵀAᵀ
            a, v = rest.args[0].args
            # (Aᵀ)ᵀ = A: x @ A is MatVec(Aᵀ, x), whose transpose is xᵀA, not xᵀAᵀᵀ
            return c, T(v), (a.args[0] if isinstance(a, MatT) else MatT(a),)
        if isinstance(rest, MatProd) and len(rest.args) >= 2:
            return c, rest.args[0], rest.args[1:]
        return None

    forms = [left_form(t) for t in expr.args]
    groups: dict[Expr, list[tuple[Expr, tuple[Expr, ...]]]] = {}
    for form in forms:
        if form is not None:
            groups.setdefault(form[1], []).append((form[0], form[2]))
    first, members = next(((k, v) for k, v in groups.items() if len(v) >= 2), (None, None))
    if first is None or members is None:
        return None
    inside = Add(
        *(c * (rest[0] if len(rest) == 1 else MatProd(*rest)) for c, rest in members),
        evaluate=False,
    )
    others = [t for t, f in zip(expr.args, forms) if f is None or f[1] != first]
    return Add(*others, MatProd(first, inside))


def _distribute(expr: Expr, shapes: Shapes) -> Expr | None:
    if not isinstance(expr, Mul):
        return None
    numbers = [a for a in expr.args if a.is_Number]
    sums = [a for a in expr.args if isinstance(a, Add)]
    if len(numbers) != 1 or len(sums) != 1 or len(expr.args) != 2 or _scalar(expr, shapes):
        return None
    (number,), (total,) = numbers, sums
    if all(
        isinstance(t, (Symbol, T)) or (t.could_extract_minus_sign() and isinstance(-t, (Symbol, T)))
        for t in total.args
    ):
        return None  # 2(x − a) stays as it is
    terms = sorted(total.args, key=count_ops_fast, reverse=True)
    return Add(*(Mul(number, t) for t in terms), evaluate=False)


def _transpose_out(expr: Expr, shapes: Shapes) -> Expr | None:
    """A sum of transposed terms is the transpose of their sum: −yᵀ + c·sᵀ = (c·s − y)ᵀ."""
    if not isinstance(expr, Add):
        return None
    inner = []
    for term in expr.args:
        c, rest = _split(term, shapes)
        if not isinstance(rest, T):
            return None
        inner.append(c * rest.args[0])
    return T(_positive_first(Add(*inner)))


def _positive_first(expr: Expr) -> Expr:
    """A sum written with its terms that carry no minus sign first (σ − y, not −y + σ), a
    matrix before its transpose (A + Aᵀ), a lone name or number last (w·x + b)."""
    if not isinstance(expr, Add):
        return expr
    terms = sorted(
        expr.args,
        key=lambda t: (
            t.could_extract_minus_sign(),
            isinstance(t, MatT),
            t.is_Symbol or t.is_Number,
        ),
    )
    return Add(*terms, evaluate=False) if list(terms) != list(expr.args) else expr


def _order(expr: Expr, shapes: Shapes) -> Expr | None:
    """Sums with their positive terms first (diag(s) − s sᵀ, σ − y); a product with a
    σ written σ(z)(1 − σ(z)), its scalars before its vectors: σ(u)(1 − σ(u))·xᵀ."""
    from matcalc.engine.simplify import replace_unevaluated

    new = replace_unevaluated(expr, lambda e: isinstance(e, Add), _positive_first)
    if new == expr and not expr.has(sigmoid):
        return None
    new = replace_unevaluated(
        new, lambda e: isinstance(e, Mul) and e.has(sigmoid), lambda e: _sigmoid_first(e, shapes)
    )
    return new if new != expr else None


def _sigmoid_first(product: Mul, shapes: Shapes) -> Expr:
    def rank(factor: Expr) -> tuple[int, int]:
        if not _scalar(factor, shapes):
            return (3, int(isinstance(factor, Add)))
        if factor.is_Number:
            return (0, 0)
        return (2, 0) if isinstance(factor, Add) else (1, 0)

    factors = sorted(product.args, key=rank)
    return Mul(*factors, evaluate=False) if factors != list(product.args) else product


def order_only(expr: Expr) -> Expr:
    """Only the ordering of ``_order``, for scalar results: σ(z)(1 − σ(z))."""
    if not isinstance(expr, Expr) or not expr.has(sigmoid):
        return expr
    new = _order(expr, {})
    return expr if new is None else new


def _factor_right(expr: Expr, shapes: Shapes) -> Expr | None:
    """Matrix-vector products with the same vector: Aᵀx + Ax = (A + Aᵀ)x; rows times the
    same matrix, aᵀX + bᵀX = (a + b)ᵀX; and products that end in the same row, as a gradient by a matrix does in denominator layout:
    2Wx·xᵀ − 2y·xᵀ = 2(Wx − y)·xᵀ, and 2(Wx·xᵀ − y·xᵀ)/N = 2(Wx − y)·xᵀ/N."""
    if isinstance(expr, Mul):  # a scalar times such a sum
        c, rest = _split(expr, shapes)
        inner = _factor_right(rest, shapes) if c != 1 and isinstance(rest, Add) else None
        return None if inner is None else c * inner
    if not isinstance(expr, Add):
        return None
    groups: dict[Expr, list[Expr]] = {}
    terms: dict[Expr, list[Expr]] = {}
    others = []
    for term in expr.args:
        c, rest = _split(term, shapes)
        last = rest.args[-1] if isinstance(rest, (MatVec, MatProd)) else None
        shape = None if last is None else shape_of(last, shapes)
        if shape is not None and (
            (shape[1] == 1 and len(rest.args) == 2)
            or (shape[0] == 1 and len(rest.args) >= 2)
            or (isinstance(rest.args[0], T) and len(rest.args) == 2)  # aᵀX + bᵀX = (a + b)ᵀX
        ):
            head = rest.args[:-1]
            groups.setdefault(last, []).append(c * (head[0] if len(head) == 1 else MatProd(*head)))
            terms.setdefault(last, []).append(term)
        else:
            others.append(term)
    vector, matrices = next(((k, v) for k, v in groups.items() if len(v) >= 2), (None, None))
    if vector is None or matrices is None:
        return None
    plain = sorted(matrices, key=lambda m: isinstance(m, MatT))  # A before Aᵀ
    rest = [t for v, ts in terms.items() if v != vector for t in ts]
    inside = Add(*plain, evaluate=False)
    if all(isinstance(_split(m, shapes)[1], T) for m in plain):  # rows: (a + b)ᵀ
        inside = _transpose_out(inside, shapes) or inside
    elif shape_of(vector, shapes)[0] == 1:  # a row: 2(Wx − y)·xᵀ, as a number times a sum
        inside = _common_number(inside)
    return Add(*others, *rest, MatProd(inside, vector))


def _common_number(total: Expr) -> Expr:
    """A sum with a number common to its terms, written as that number times the sum:
    2Wx − 2y = 2(Wx − y)."""
    numbers = [t.as_coeff_Mul()[0] for t in total.args]
    common = abs(numbers[0])
    for n in numbers[1:]:
        common = common.gcd(abs(n)) if common.is_Integer and n.is_Integer else S.One
    if common == 1 or not common.is_Integer:
        return total
    return Mul(common, Add(*(t / common for t in total.args)), evaluate=False)


def factor_only(expr: Expr, shapes: Shapes) -> Expr:
    """``expr`` with a common factor taken out on the left or else on the right (the
    "factor" rewrites alone), for results built outside the chain rule (the differential)."""
    for rewrite in (_factor, _factor_right):
        try:
            new = rewrite(expr, shapes)
        except (TypeError, ValueError, AttributeError, NotImplementedError):
            new = None
        if new is not None and new != expr:
            return new
    return expr


def sum_to_one(expr: Expr, shapes: Shapes, rewrites: tuple[str, ...]) -> list[tuple[Expr, Expr]]:
    """(y, the form when the entries of y sum to 1) for each declared vector y whose sum
    multiplies a recognised softmax: the cross-entropy gradient is (softmax(z) − y)ᵀ then."""
    if "softmax" not in rewrites:
        return []
    out = []
    for total in sorted(expr.atoms(VSum), key=str):
        v = total.args[0]
        if v in shapes and shapes[v].is_vector:
            out.append((v, expr.xreplace({total: 1})))
    return out


def _combine(expr: Expr, shapes: Shapes) -> Expr | None:
    """P·diag(a)·Q + P·diag(b)·Q = P·diag(a + b)·Q, the sum simplified: the logistic loss's
    Hessian Xᵀdiag(y ⊗ σ(1 − σ))X + Xᵀdiag((1 − y) ⊗ σ(1 − σ))X is Xᵀdiag(σ ⊗ (1 − σ))X."""
    from sympy import factor_terms

    if not isinstance(expr, Add):
        return None
    groups: dict = {}
    rest = []
    for term in expr.args:
        if isinstance(term, MatProd) and len(term.args) == 3 and isinstance(term.args[1], Diag):
            groups.setdefault((term.args[0], term.args[2]), []).append(term.args[1].args[0])
        else:
            rest.append(term)
    if all(len(v) == 1 for v in groups.values()):
        return None
    combined = [
        MatProd(p, Diag(factor_terms(expand(Add(*inner)))), q) for (p, q), inner in groups.items()
    ]
    return Add(*rest, *combined)


def _elementwise(expr: Expr, shapes: Shapes) -> Expr | None:
    new = _tidy_bodies(expr, shapes)
    return new if new != expr else None


def _tidy_bodies(expr: Expr, shapes: Shapes) -> Expr:
    """``expr`` with each element-wise body tidied as a scalar (``_tidy_body``) and the
    diagonal terms of each sum added where their sum tidies to less."""
    if not expr.args or isinstance(expr, Symbol):
        return expr
    if _is_body(expr, shapes):
        return _tidy_body(expr, shapes)
    args = tuple(_tidy_bodies(a, shapes) for a in expr.args)
    # a body that became 0 makes its transpose, diag or product 0 (evaluated, not 0ᵀ)
    new = expr.func(*args) if any(a == 0 for a in args) else rebuild(expr, args)
    return _add_diagonals(new, shapes) if isinstance(new, Add) else new


def _is_body(expr: Expr, shapes: Shapes) -> bool:
    """An element-wise expression of columns (or a scalar one with a vector outside any
    sum or dot product) with a sum in it: something the scalar ``tidy`` may shorten."""
    if isinstance(expr, _Op) or not expr.has(Add) or not has_vectors(expr):
        return False
    try:
        if shape_of(expr, shapes)[1] != 1:
            return False
        return all(
            not isinstance(leaf, OPERATORS) and shape_of(leaf, shapes)[1] == 1
            for leaf in _op_leaves(expr)
        )
    except Exception:  # no shape (an operator, or a mismatch): not a body
        return False


def _op_leaves(expr: Expr) -> list[Expr]:
    """The outermost linear-algebra operations in ``expr`` (sum(v), w·x, Xw, …)."""
    if isinstance(expr, _Op):
        return [expr]
    return [leaf for a in expr.args for leaf in _op_leaves(a)]


def _tidy_body(body: Expr, shapes: Shapes) -> Expr:
    """``body`` tidied as the scalar function of one entry: each operation in it (its own
    arguments tidied first) stands in as a real symbol, so the scalar rewrites see only
    entries; a body that collapses to a nonzero constant c is c·1 again."""
    leaves = {}
    for i, leaf in enumerate(dict.fromkeys(_op_leaves(body))):
        inner = rebuild(leaf, tuple(_tidy_bodies(a, shapes) for a in leaf.args))
        leaves[leaf] = (
            Symbol(f"_entry_{i}", real=True) if leaf.is_real else Symbol(f"_entry_{i}"),
            inner,
        )
    stood = _put(body, {leaf: s for leaf, (s, _) in leaves.items()})
    tidied = tidy(stood)
    # shorter than the body both as written and as SymPy evaluates it: a gain that is
    # only SymPy's own evaluation (−(a + b) for −a − b) is not a simplification
    # (−(a + b) for −a − b, by the measure, is no simplification to a reader either)
    measured = tidied
    negated = isinstance(tidied, Mul) and len(tidied.args) == 2 and tidied.args[0] == -1
    if negated and isinstance(tidied.args[1], Add):
        measured = Add(*(-t for t in tidied.args[1].args))
    if count_ops_fast(measured) >= min(count_ops_fast(stood), count_ops_fast(evaluate(stood))):
        return body  # nothing shorter: the body as it was written
    value = _put(tidied, dict(leaves.values()))
    return keep_vector(value, body, shapes)


def _put(expr: Expr, mapping: dict) -> Expr:
    """``expr`` with the subtrees of ``mapping`` replaced, the rest left unevaluated (so
    that 2(a + b) is not multiplied out on the way)."""
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    return rebuild(expr, tuple(_put(a, mapping) for a in expr.args))


def _add_diagonals(total: Add, shapes: Shapes) -> Expr:
    """c·diag(a) + d·diag(b) = diag(c·a + d·b), kept where that body tidies to fewer
    operations than the terms had (diag((tan²x + 1) ⊗ cot x) + diag((−cot²x − 1) ⊗ tan x)
    is diag(0), which is 0)."""
    diagonals, rest = [], []
    for term in total.args:
        c, rest_of = _split(term, shapes)
        if isinstance(rest_of, Diag) and not has_vectors(c):
            diagonals.append((term, c * rest_of.args[0]))
        else:
            rest.append(term)
    if len(diagonals) < 2:
        return total
    body = Add(*(b for _, b in diagonals))
    merged = Diag(_tidy_body(body, shapes)) if _is_body(body, shapes) else None
    if merged is None or count_ops_fast(merged) >= count_ops_fast(Add(*(t for t, _ in diagonals))):
        return total
    return Add(*rest, merged)


REWRITES: tuple[tuple[str, Callable[[Expr, Shapes], Expr | None]], ...] = (
    ("softmax", _softmax),
    ("combine", _combine),
    ("collect", _collect),
    ("factor", _factor),
    ("factor", _factor_right),
    ("distribute", _distribute),
    ("transpose", _transpose_out),
    ("elementwise", _elementwise),
    ("order", _order),
)
"""Applied in this order; "order" (positive terms first) is not worth naming to a reader."""
