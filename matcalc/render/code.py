"""Results as code: a self-contained NumPy (or PyTorch) function computing the derivative.

``numpy_function(d)`` and ``torch_function(d)`` return the source of a module: one
import and one function, named after the problem (``dy_dx``, ``grad_y_w_b``,
``jacobian_y_x``), whose parameters are the problem's variables (the variables of
differentiation first, then the other names of the expression).  ``numpy_expression``
is the result alone as one NumPy expression (JSON's ``result_numpy``).

Conventions of the generated code (they are also in each function's docstring):

- A vector parameter is a 1-D array of its length, a matrix a 2-D array, a scalar of a
  vector problem a number (shape ``()``); each is checked (``ValueError``).  Inside the
  function a vector is a column, shape (n, 1), as the paper writes it.
- A problem with vectors or matrices returns the Jacobian in the problem's layout with
  exactly the shape ``Derivation.explicit()`` has: (1, n) for the gradient of a scalar by
  an n-vector in numerator layout, (n, 1) in denominator layout; a vector by a matrix is
  m × (r·c), the matrix's rows stacked (NumPy's ``reshape`` order).  A scalar by a scalar
  is a 0-d array.
- A scalar problem is vectorised: arrays broadcast together, and the result has the
  broadcast shape; a gradient or Jacobian of scalars adds two trailing axes (rows, cols).
- max(0, ·) and the gate 1[z > 0] are 0 at the kink, as in the paper; σ is computed
  without overflow, and so are the softmax and σ's forms written out by SymPy,
  exp(z)/sum(exp(z)) and exp(u)/(exp(u) + 1)ᵏ, also with (exp(u) + 1)ᵏ multiplied out
  (``_Emitter._stable``); wherever a result is unchanged by multiplying its exponentials
  by one number, each e^u is written e^(u − max u) (vectors: ``shifted``; scalars, by the
  largest argument, max(x, y) in e^x/(e^x + e^y): ``scalar_shift``).

The translation is a dispatch table keyed by the SymPy class name of each node
(``_HANDLERS``): one entry per operation.  A node whose class has no entry raises
``UnsupportedError`` naming it, so an operation added to ``matcalc.linalg`` later fails
loudly until it is given an entry here, never silently.  Names are never spliced into
code unchecked: every name is a validated Python identifier, and numbers are printed
from SymPy numbers, not from the user's text.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import Expr, Integer, MatrixBase, Symbol

from matcalc.errors import UnsupportedError
from matcalc.linalg.base import SCALAR
from matcalc.linalg.declarations import Declaration, MatrixName
from matcalc.linalg.shapes import shape_of
from matcalc.msg import Msg
from matcalc.render.printing import ordered_terms
from matcalc.symbols import VectorName

ATOM, POW, UNARY, MUL, ADD = 100, 60, 50, 40, 30
"""Python precedence of what an emitted piece of code is: parentheses are added below it."""

Code = tuple[str, int]


@dataclass(frozen=True)
class Backend:
    """What differs between NumPy and PyTorch: the module, and the spelling of a few calls."""

    name: str  # "NumPy" or "PyTorch", for messages and docstrings
    module: str  # "numpy" or "torch"
    alias: str  # np or torch
    functions: dict[str, str]  # SymPy function class name -> call, {m} the alias
    float_: str  # the float dtype, in code
    ones: str  # {m}, {n}
    eye: str
    asarray: str  # {m}, {a}
    broadcast: str  # {m}, {a}, {shape}: a, broadcast to shape, as a new float array
    zeros: str
    full: str
    cell: str  # {m}, {a}: a scalar as a 1×1 block


_ELEMENTWISE = {
    "sin": "{m}.sin({0})",
    "cos": "{m}.cos({0})",
    "tan": "{m}.tan({0})",
    "cot": "1 / {m}.tan({0})",
    "sec": "1 / {m}.cos({0})",
    "csc": "1 / {m}.sin({0})",
    "sinh": "{m}.sinh({0})",
    "cosh": "{m}.cosh({0})",
    "tanh": "{m}.tanh({0})",
    "coth": "1 / {m}.tanh({0})",
    "sech": "1 / {m}.cosh({0})",
    "csch": "1 / {m}.sinh({0})",
    "exp": "{m}.exp({0})",
    "log": "{m}.log({0})",
    "Abs": "{m}.abs({0})",
    "sign": "{m}.sign({0})",
    "log10": "{m}.log10({0})",
    "log2": "{m}.log2({0})",
}

NUMPY = Backend(
    name="NumPy",
    module="numpy",
    alias="np",
    functions={
        **_ELEMENTWISE,
        "asin": "{m}.arcsin({0})",
        "acos": "{m}.arccos({0})",
        "atan": "{m}.arctan({0})",
        "acot": "{m}.arctan(1 / {0})",
        "asec": "{m}.arccos(1 / {0})",
        "acsc": "{m}.arcsin(1 / {0})",
        "asinh": "{m}.arcsinh({0})",
        "acosh": "{m}.arccosh({0})",
        "atanh": "{m}.arctanh({0})",
        "acoth": "{m}.arctanh(1 / {0})",
        "asech": "{m}.arccosh(1 / {0})",
        "acsch": "{m}.arcsinh(1 / {0})",
        # σ(z) = 1/(1 + e^(-z)) = e^(-ln(1 + e^(-z))): no overflow for large |z|
        "sigmoid": "{m}.exp(-{m}.logaddexp(0, -{0}))",
        "Heaviside": "{m}.heaviside({0}, {1})",
        "cbrt": "{m}.cbrt({0})",
        "atan2": "{m}.arctan2({0}, {1})",
        # erf, erfc: NumPy has none (scipy.special has): refused, with that hint
    },
    float_="float",
    ones="{m}.ones(({n}, 1))",
    eye="{m}.eye({n})",
    asarray="{m}.asarray({a}, dtype=float)",
    broadcast="{m}.broadcast_to({a}, {shape}).astype(float)",
    zeros="{m}.zeros({shape})",
    full="{m}.full({shape}, {a})",
    cell="{m}.full((1, 1), {a}, dtype=float)",
)

TORCH = Backend(
    name="PyTorch",
    module="torch",
    alias="torch",
    functions={
        **_ELEMENTWISE,
        "asin": "{m}.asin({0})",
        "acos": "{m}.acos({0})",
        "atan": "{m}.atan({0})",
        "acot": "{m}.atan(1 / {0})",
        "asec": "{m}.acos(1 / {0})",
        "acsc": "{m}.asin(1 / {0})",
        "asinh": "{m}.asinh({0})",
        "acosh": "{m}.acosh({0})",
        "atanh": "{m}.atanh({0})",
        "acoth": "{m}.atanh(1 / {0})",
        "asech": "{m}.acosh(1 / {0})",
        "acsch": "{m}.asinh(1 / {0})",
        "sigmoid": "{m}.sigmoid({0})",
        "erf": "{m}.special.erf({0})",
        "erfc": "{m}.special.erfc({0})",
        "Heaviside": "{m}.heaviside({0}, {m}.tensor({1}, dtype={m}.float64))",
        "cbrt": "{m}.sign({0}) * {m}.abs({0}) ** (1 / 3)",  # the real cube root
        "atan2": "{m}.atan2({0}, {1})",
    },
    float_="torch.float64",
    ones="{m}.ones(({n}, 1), dtype={m}.float64)",
    eye="{m}.eye({n}, dtype={m}.float64)",
    asarray="{m}.as_tensor({a}, dtype={m}.float64)",
    broadcast="{m}.broadcast_to({m}.as_tensor({a}, dtype={m}.float64), {shape}).clone()",
    zeros="{m}.zeros({shape}, dtype={m}.float64)",
    full="{m}.full({shape}, {a}, dtype={m}.float64)",
    cell="{m}.as_tensor({a}, dtype={m}.float64).reshape(1, 1)",
)

_BUILTINS = set(dir(builtins))


def _size(value):
    """A size of a shape as SymPy (an int becomes an Integer; a size is never text, so
    nothing here needs ``sympify``)."""
    return sympy.Integer(value) if isinstance(value, int) else value


def _identifier(name: str, what: Msg) -> str:
    """``name`` itself when it is a safe Python identifier, else UnsupportedError."""
    if (
        not name.isidentifier()
        or keyword.iskeyword(name)
        or name in _BUILTINS
        or not name.isascii()
    ):
        raise UnsupportedError(Msg("err.code.name", what=what, name=repr(name)))
    return name


class _Emitter:
    """Expression -> (code, precedence), one handler per SymPy class name."""

    def __init__(self, backend: Backend, shapes: dict, names: dict[Symbol, str], alias: str):
        self.b = backend
        self.shapes = shapes
        self.names = names
        self.m = alias
        self.shifted: frozenset = frozenset()  # vectors u whose e^u is written e^(u − max u)
        self.shift: tuple[list, str] | None = None  # scalars: (the arguments, code of their max)

    # -- helpers --------------------------------------------------------------------------
    def code(self, expr) -> Code:
        if isinstance(expr, MatrixBase):
            raise UnsupportedError(Msg("err.code.matrix_inside"))
        if expr.is_Number or isinstance(expr, sympy.NumberSymbol):
            return self._number(expr)
        if expr is sympy.I:
            raise UnsupportedError(Msg("err.code.not_real", backend=self.b.name))
        name = type(expr).__name__
        handler = _HANDLERS.get(name)
        if handler is None:
            if expr in self.names:  # a variable or a size, whatever its Symbol subclass
                return self.names[expr], ATOM
            raise UnsupportedError(_unsupported(expr, self.b))
        return handler(self, expr)

    def top(self, expr) -> str:
        """The code of a whole result (or block, or entry), with e^u written without overflow
        wherever the value allows it (``shifted``, ``scalar_shift``)."""
        expr = _sorted_exponents(expr)
        self.shifted = shifted(expr, self.shapes)
        bases = scalar_shift(expr) if not self.shapes else None
        if bases:
            codes = [self.code(b)[0] for b in bases]
            top = codes[0]
            for c in codes[1:]:
                top = f"{self.m}.maximum({top}, {c})"
            self.shift = (bases, top)
        try:
            return self.code(expr)[0]
        finally:
            self.shifted, self.shift = frozenset(), None

    def wrap(self, expr, above: int) -> str:
        """Code of ``expr``, in parentheses unless it binds more tightly than ``above``."""
        text, prec = self.code(expr)
        return text if prec > above else f"({text})"

    def shape(self, expr):
        return shape_with_vec(expr, self.shapes) if self.shapes else SCALAR

    def call(self, template: str, *args) -> Code:
        product = template.startswith("1 / ") or " * " in template
        return template.format(*args, m=self.m), (MUL if product else ATOM)

    # -- numbers and names ------------------------------------------------------------------
    def _number(self, expr) -> Code:
        if expr is sympy.pi:
            return f"{self.m}.pi", ATOM
        if expr is sympy.E:
            return f"{self.m}.e", ATOM
        if isinstance(expr, sympy.Integer):
            value = int(expr)
            return str(value), (ATOM if value >= 0 else UNARY)
        if isinstance(expr, sympy.Rational):
            p, q = int(expr.p), int(expr.q)
            return (f"-{-p}/{q}", UNARY) if p < 0 else (f"{p}/{q}", MUL)
        if isinstance(expr, sympy.Float) or expr.is_real:
            number = float(expr)
            if number != number or number in (float("inf"), float("-inf")):
                raise UnsupportedError(Msg("err.code.undefined"))
            return repr(number), (ATOM if number >= 0 else UNARY)
        raise UnsupportedError(Msg("err.code.complex_number"))

    def constant(self, expr) -> Code | None:
        """A constant subexpression that is not a plain number (sin(1), sqrt(2)): a float."""
        if expr.is_number and not expr.is_Number and not isinstance(expr, sympy.NumberSymbol):
            value = sympy.N(expr, 17)
            if not value.is_Float:
                raise UnsupportedError(Msg("err.code.complex_constant"))
            return self._number(value)
        return None

    def _symbol(self, expr) -> Code:
        if expr not in self.names:
            raise UnsupportedError(Msg("err.code.not_variable", name=expr))
        return self.names[expr], ATOM

    # -- arithmetic -------------------------------------------------------------------------
    def _add(self, expr) -> Code:
        const = self.constant(expr)
        if const:
            return const
        out = ""
        # str()'s order (``as_ordered_terms``) without SymPy's evalf of each coefficient
        for i, term in enumerate(ordered_terms(expr)):
            if i == 0:
                out = self.wrap(term, ADD - 1)
            elif term.could_extract_minus_sign():
                out += f" - {self.wrap(-term, ADD)}"
            else:
                out += f" + {self.wrap(term, ADD - 1)}"
        return out, ADD

    def _mul(self, expr) -> Code:
        const = self.constant(expr)
        if const:
            return const
        gated = self._gated(expr)
        if gated is not None:
            return gated
        coeff, factors = expr.as_coeff_mul()
        if coeff.is_negative:
            # -a * b is (-a) * b: the same number exactly, a sign flip
            text, prec = self._product(-coeff, factors)
            return (f"-{text}", MUL) if prec >= MUL else (f"-({text})", UNARY)
        return self._product(coeff, factors)

    def _gated(self, expr) -> Code | None:
        """A product (element-wise) of gates 1[g > 0] and a factor that is infinite or undefined
        where a gate is 0 (1[x > 0]/(2√x), the derivative of √relu(x)): where(g > 0, …, 0),
        which is 0 there, not 0·nan = nan.  None for any other product."""
        gates = [f for f in expr.args if isinstance(f, sympy.Heaviside)]
        if not gates or not singular_factor(expr):
            return None
        rest = sympy.Mul(*(f for f in expr.args if not isinstance(f, sympy.Heaviside)))
        conditions = " & ".join(f"({self.code(g.args[0])[0]} > 0)" for g in gates)
        return f"{self.m}.where({conditions}, {self.code(rest)[0]}, 0.0)", ATOM

    def _stable(self, factors) -> tuple[list, list[str]]:
        """The softmax exp(u)·(Σ exp(u))⁻¹ and σ's forms exp(u)·(exp(u) + 1)⁻ᵏ among
        ``factors``, as code that cannot overflow, and the other factors.  As written,
        exp(u) is inf for u > 709 and inf/inf is nan where the value is at most 1: the
        softmax becomes exp(u − max u)/Σ exp(u − max u), σ(u) its own form, and
        exp(u)/(exp(u) + 1)ᵏ is exp(u − k·ln(1 + exp(u))) with ln(1 + exp(u)) by logaddexp."""
        rest = list(factors)
        pieces: list[str] = []
        for f in factors:
            if not isinstance(f, sympy.exp) or f not in rest:
                continue
            u = f.args[0]
            # e^(c·v)/(e^v + 1)^k, c a whole number (σ(v)² is e^(2v)/(e^v + 1)²): by e^v
            c, v = u.as_coeff_Mul()
            unit = sympy.exp(v) if c.is_Integer and c > 1 else f
            for g in rest:
                if not (isinstance(g, sympy.Pow) and g.exp.is_Integer and g.exp < 0):
                    continue
                k = int(-g.exp)
                softmax = type(g.base).__name__ == "VSum" and g.base.args[0] == f and k == 1
                m, by = _sigma_power(g.base, f), f
                if m is None and unit is not f:
                    m, by = _sigma_power(g.base, unit), unit
                sigma = m is not None
                k *= m or 1
                if softmax and self.shape(u) != SCALAR:
                    shifted = f"{self.wrap(u, ADD - 1)} - {self.m}.max({self.code(u)[0]})"
                    exp = f"{self.m}.exp({shifted})"
                    pieces.append(f"{exp} / {self.m}.sum({exp})")
                elif sigma and k == 1 and by is f:
                    pieces.append(self.call(self.b.functions["sigmoid"], self.arg(u, True))[0])
                elif sigma:
                    text = self.code(by.args[0])[0]
                    zero = "0" if self.b is NUMPY else f"{self.m}.zeros_like({text})"
                    log1p_exp = f"{self.m}.logaddexp({zero}, {text})"
                    spread = self._spread(rest, by, u, f"{k} * {log1p_exp}", g)
                    pieces.append(
                        spread or f"{self.m}.exp({self.wrap(u, ADD - 1)} - {k} * {log1p_exp})"
                    )
                else:
                    continue
                rest.remove(f)
                rest.remove(g)
                break
        return rest, pieces

    def _spread(self, rest: list, by, u, log_power: str, g) -> str | None:
        """exp(u)/(exp(v) + 1)ᵏ times a sum of terms c·exp(v)ʲ among ``rest`` (c free of
        exp(v)), as the sum of c·exp(u + j·v − k·ln(1 + exp(v))): the sum as written is inf
        above v = 709 where the whole is finite, as (2 + x + (2 − x)·eˣ)·eˣ/(eˣ + 1)³, the
        second derivative of x·σ(x).  The sum is taken out of ``rest``; None where there is
        no such sum."""
        v = by.args[0]
        for total in rest:
            if total is g or not total.is_Add or not total.has(by):
                continue
            terms = []
            for term in total.args:
                j, coeff = 0, []
                for f in sympy.Mul.make_args(term):
                    ratio = f.args[0] / v if isinstance(f, sympy.exp) else None
                    if ratio is not None and ratio.is_Integer:
                        j += int(ratio)
                    elif f.has(by):
                        break
                    else:
                        coeff.append(f)
                else:
                    terms.append((sympy.Mul(*coeff), j))
                    continue
                break
            else:
                text = ""
                for c, j in terms:
                    exponent = f"{self.wrap(u + j * v, ADD - 1)} - {log_power}"
                    exp = f"{self.m}.exp({exponent})"
                    minus = c.could_extract_minus_sign()
                    c = -c if minus else c
                    part = exp if c == 1 else f"{self.wrap(c, MUL - 1)} * {exp}"
                    text += (
                        (" - " if minus else " + ") + part
                        if text
                        else ("-" if minus else "") + part
                    )
                rest.remove(total)
                return f"({text})"
        return None

    def _product(self, coeff, factors) -> Code:
        numerator, denominator = [], []
        factors, stable = self._stable(factors)
        if coeff != 1:
            if isinstance(coeff, sympy.Rational) and coeff.q != 1:
                if coeff.p != 1:
                    numerator.append(str(int(coeff.p)))
                denominator.append(str(int(coeff.q)))
            else:
                numerator.append(self.wrap(coeff, MUL - 1))
        for piece in stable:
            numerator.append(f"({piece})" if numerator and " / " in piece else piece)
        for f in factors:
            if isinstance(f, sympy.Pow) and f.exp.is_Number and f.exp.is_negative:
                denominator.append(self.wrap(f.base**-f.exp, MUL))
            else:
                # after a *, a product in parentheses: x * (A @ v) is not (x * A) @ v
                numerator.append(self.wrap(f, MUL - 1 if not numerator else MUL))
        text = " * ".join(numerator) if numerator else "1"
        for d in denominator:
            text += f" / {d}"
        return text, MUL

    def _pow(self, expr) -> Code:
        const = self.constant(expr)
        if const:
            return const
        base, exp = expr.args
        if exp == sympy.S.Half:
            return self._call_name("sqrt", base)
        if exp == -sympy.S.Half:
            return f"1 / {self._call_name('sqrt', base)[0]}", MUL
        if exp.is_Number and exp.is_negative:
            return f"1 / {self.wrap(base**-exp, MUL)}", MUL
        if base is sympy.E:
            return self._call_name("exp", exp)
        return f"{self.wrap(base, POW)}**{self.wrap(exp, POW)}", POW

    def _call_name(self, name: str, arg) -> Code:
        return f"{self.m}.{name}({self.arg(arg)})", ATOM

    def arg(self, expr, operand: bool = False) -> str:
        """An argument of a call (in parentheses when it is an ``operand`` of the template's
        own - or /); a size alone (n) becomes a float array for PyTorch."""
        text, prec = self.code(expr)
        if self.b is TORCH and not (expr.free_symbols - self._sizes()):
            return f"{self.m}.as_tensor({text}, dtype={self.m}.float64)"
        return f"({text})" if operand and prec < ATOM else text

    def _sizes(self) -> set:
        return {
            s
            for s in self.names
            if not isinstance(s, (VectorName, MatrixName)) and s.is_integer and s.is_positive
        }

    # -- element-wise functions --------------------------------------------------------------
    def _function(self, expr) -> Code:
        const = self.constant(expr)
        if const:
            return const
        name = type(expr).__name__
        template = self.b.functions.get(name)
        if template is None and name in ("erf", "erfc"):
            raise UnsupportedError(Msg("err.code.no_numpy", backend=self.b.name, name=name))
        if template is None:
            raise UnsupportedError(_unsupported(expr, self.b))
        if name == "log" and len(expr.args) != 1:
            raise UnsupportedError(_unsupported(expr, self.b))
        if name == "log" and (u := _softplus_argument(expr.args[0])) is not None:
            # ln(1 + e^u) as logaddexp(0, u): e^u is inf above u = 709, where ln(1 + e^u) ≈ u
            text = self.code(u)[0]
            zero = "0" if self.b is NUMPY else f"{self.m}.zeros_like({self.arg(u)})"
            return f"{self.m}.logaddexp({zero}, {text})", ATOM
        if name == "Heaviside":
            h0 = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
            if not h0.is_Number:
                raise UnsupportedError(_unsupported(expr, self.b))
            return self.call(template, self.arg(expr.args[0]), repr(float(h0)))
        if name == "exp" and self.shifted:
            k, u = expr.args[0].as_coeff_Mul()
            if u in self.shifted:  # e^(k·u) as e^(k·(u − max u)): see ``shifted``
                inner = f"{self.wrap(u, ADD - 1)} - {self.m}.max({self.code(u)[0]})"
                inner = inner if k == 1 else f"{self.wrap(k, MUL - 1)} * ({inner})"
                return self.call(template, inner)
        if name == "exp" and self.shift is not None:
            d = _degree_of_argument(expr.args[0], self.shift[0])
            if d:  # e^a as e^(a − d·M), M the largest of the arguments: see ``scalar_shift``
                top = self.shift[1] if d == 1 else f"{d} * {self.shift[1]}"
                return self.call(template, f"{self.wrap(expr.args[0], ADD - 1)} - {top}")
        operand = "-{0}" in template or "/ {0}" in template
        return self.call(template, *(self.arg(a, operand) for a in expr.args))

    def _maxmin(self, expr) -> Code:
        const = self.constant(expr)
        if const:
            return const
        which = "maximum" if isinstance(expr, sympy.Max) else "minimum"
        args = list(expr.args)
        numbers = [a for a in args if a.is_number]
        others = [a for a in args if not a.is_number]
        if self.b is TORCH:  # torch.maximum needs two tensors: a constant bound is a clamp
            text = self.arg(others[0])
            for a in others[1:]:
                text = f"{self.m}.{which}({text}, {self.arg(a)})"
            if numbers:
                bound = self.code(
                    sympy.Max(*numbers) if which == "maximum" else sympy.Min(*numbers)
                )[0]
                key = "min" if which == "maximum" else "max"
                text = f"{self.m}.clamp({text}, {key}={bound})"
            return text, ATOM
        text = self.code(args[0])[0]
        for a in args[1:]:
            text = f"{self.m}.{which}({text}, {self.code(a)[0]})"
        return text, ATOM

    # -- matcalc's vector and matrix operations ------------------------------------------------
    def _vdot(self, expr) -> Code:
        a, b = expr.args
        return f"{self.m}.sum({self.wrap(a, MUL - 1)} * {self.wrap(b, MUL)})", ATOM

    def _vsum(self, expr) -> Code:
        return f"{self.m}.sum({self.code(expr.args[0])[0]})", ATOM

    def _mean(self, expr) -> Code:
        return f"{self.m}.mean({self.code(expr.args[0])[0]})", ATOM

    def _norm(self, expr) -> Code:
        return f"{self.m}.linalg.norm({self.code(expr.args[0])[0]})", ATOM

    def _matmul(self, expr) -> Code:
        return self._chain(list(expr.args))

    def _chain(self, factors) -> Code:
        """A product in order: @ between arrays, * with a scalar (as ``linalg.explicit``)."""
        text, prec = self.code(factors[0])
        was_scalar = self.shape(factors[0]) == SCALAR
        for f in factors[1:]:
            left = text if prec >= MUL else f"({text})"
            scalar = self.shape(f) == SCALAR
            op = "*" if (scalar or was_scalar) else "@"
            text, prec = f"{left} {op} {self.wrap(f, MUL)}", MUL
            was_scalar = was_scalar and scalar
        return text, prec

    def _transpose(self, expr) -> Code:
        arg = expr.args[0]
        if self.shape(arg) == SCALAR:  # the transpose of a scalar (1ᵀ of a 1-vector block)
            return self.code(arg)
        return f"{self.wrap(arg, ATOM - 1)}.T", ATOM

    def _trace(self, expr) -> Code:
        return f"{self.m}.trace({self.code(expr.args[0])[0]})", ATOM

    def _diag(self, expr) -> Code:
        arg = expr.args[0]
        if self.shape(arg) == SCALAR:
            raise UnsupportedError(Msg("err.code.diag_scalar"))
        return f"{self.m}.diagflat({self.code(arg)[0]})", ATOM

    def _inv(self, expr) -> Code:
        return f"{self.m}.linalg.inv({self.code(expr.args[0])[0]})", ATOM

    def _det(self, expr) -> Code:
        return f"{self.m}.linalg.det({self.code(expr.args[0])[0]})", ATOM

    def _matrix_power(self, expr) -> Code:
        base, k = expr.args
        return f"{self.m}.linalg.matrix_power({self.code(base)[0]}, {int(k)})", ATOM

    def _ident(self, expr) -> Code:
        return self.b.eye.format(m=self.m, n=self.size(expr.args[0])), ATOM

    def _ones(self, expr) -> Code:
        return self.b.ones.format(m=self.m, n=self.size(expr.args[0])), ATOM

    def _ones_matrix(self, expr) -> Code:
        rows, cols = (self.size(a) for a in expr.args)
        return self.b.zeros.replace("zeros", "ones").format(
            m=self.m, shape=f"({rows}, {cols})"
        ), ATOM

    def _commutation(self, expr) -> Code:
        """K of an r×c matrix, K vec(X) = vec(Xᵀ) (rows stacked): the identity's rows permuted."""
        rows, cols = (self.size(a) for a in expr.args)
        eye = self.b.eye.format(m=self.m, n=f"{rows} * {cols}")
        return (
            f"{eye}[{self.m}.arange({rows} * {cols}).reshape({rows}, {cols}).T.reshape(-1)]",
            ATOM,
        )

    def _vec(self, expr) -> Code:
        """vec(G): G's entries as a column, its rows stacked (NumPy's and PyTorch's order)."""
        arg = expr.args[0]
        if self.shape(arg) == SCALAR:
            return f"{self.m}.reshape({self.code(arg)[0]}, (-1, 1))", ATOM
        return f"{self.wrap(arg, ATOM - 1)}.reshape(-1, 1)", ATOM

    def _kron(self, expr) -> Code:
        a, b = (self.code(x)[0] for x in expr.args)
        if any(self.shape(x) == SCALAR for x in expr.args):
            a, b = (f"{self.m}.atleast_2d({t})" for t in (a, b))
        return f"{self.m}.kron({a}, {b})", ATOM

    def size(self, expr) -> str:
        """A size (n, 3, r·c) as code."""
        if isinstance(expr, Integer):
            return str(int(expr))
        return self.wrap(expr, MUL)


def _sigma_power(base, f) -> int | None:
    """m where ``base`` is (e^u + 1)^m written out, in powers e^(k·u) of ``f`` = e^u:
    e^(2u) + 2e^u + 1 is (e^u + 1)², the denominator of σ(u)(1 − σ(u)) as SymPy writes
    it; else None."""
    if not isinstance(base, sympy.Add):
        return None
    if set(base.args) == {f, sympy.S.One}:
        return 1
    u, e = f.args[0], sympy.Dummy("e")

    def power(node):
        k, rest = node.args[0].as_coeff_Mul()
        return e**k if rest == u and k.is_Integer and k > 0 else node

    try:
        poly = base.replace(lambda n: isinstance(n, sympy.exp), power)
        if poly.has(u) or not poly.has(e):
            return None
        p = sympy.Poly(poly, e)
        m = p.degree()
        return m if 1 < m <= 8 and p == sympy.Poly((e + 1) ** m, e) else None
    except (sympy.PolynomialError, TypeError, ValueError):
        return None


_MULTILINEAR = frozenset(
    {"Mul", "MatVec", "MMul", "MatProd", "MatT", "T", "Kron", "Diag", "VSum", "VDot", "Mean"}
    | {"MTrace", "Vec"}
)
"""Classes linear in each argument: the degree in e^u of such a node is the sum of its
arguments' degrees."""


def _softplus_argument(a):
    """u where ``a`` is 1 + e^u (e^u possibly a product of exponentials, as SymPy splits
    e^((Ax + b)²)); else None."""
    if not a.is_Add or len(a.args) != 2 or sympy.S.One not in a.args:
        return None
    (rest,) = (t for t in a.args if t != 1)
    factors = sympy.Mul.make_args(rest)
    if not all(isinstance(f, sympy.exp) for f in factors):
        return None
    return sympy.Add(*(f.args[0] for f in factors))


def _sorted_exponents(expr):
    """``expr`` with each exponent that is a sum in SymPy's own order of its terms.  A sum
    kept in the order typed, e^((Aᵀx)² + Aᵀx), and the same sum rebuilt by SymPy in the
    Hessian, e^(Aᵀx + (Aᵀx)²), are different trees: e^u/Σe^u was then neither a softmax nor
    shifted, and the Hessian of logsumexp((Aᵀx)² + Aᵀx) was nan where an entry of u > 709."""
    if not isinstance(expr, sympy.Basic) or not expr.has(sympy.exp):
        return expr
    return expr.replace(
        lambda e: isinstance(e, sympy.exp) and e.args[0].is_Add,
        lambda e: sympy.exp(sympy.Add(*e.args[0].args)),
    )


def shifted(expr, shapes: dict) -> frozenset:
    """The vectors u for which ``expr`` is unchanged when every e^u in it is multiplied by
    the same λ > 0, so that e^(u − max u) may stand for e^u: no entry of it overflows, and
    the sums of e^u left in denominators are at least 1.  ``expr`` must be homogeneous of
    degree 0 in e^u (``_exp_degree``): the Jacobian of softmax(W·x) by W,
    (diag(e)·Σe − e·eᵀ) ⊗ xᵀ/(Σe)², and that of softmax(z/t) by t.  As written, e^u is inf
    for an entry above 709 and the value inf/inf = nan where it is finite."""
    if not shapes or not expr.has(sympy.exp):
        return frozenset()
    out = set()
    for node in expr.atoms(sympy.exp):
        k, u = node.args[0].as_coeff_Mul()
        if u in out or not k.is_Integer or shape_with_vec(u, shapes) == SCALAR:
            continue
        if _exp_degree(expr, u) == 0:
            out.add(u)
    return frozenset(out)


def _exp_degree(expr, u) -> int | None:
    """d where ``expr`` with each e^(k·u) times λᵏ (k ≥ 1) is λᵈ times ``expr``, for every
    λ > 0; None where there is no such d, where u appears in an exponential in another way,
    or where a power of e^u is in a denominator other than a sum of e^(k·u) (≥ 1 once
    shifted: a lone e^(u − max u) may be 0)."""

    def of_exp(e) -> int | None:
        k, rest = e.args[0].as_coeff_Mul()
        if rest == u and k.is_Integer and k > 0:
            return int(k)
        return None if e.args[0].has(u) else 0

    return _degree(
        expr,
        of_exp,
        lambda e: any(
            isinstance(n, sympy.exp) and n.args[0].has(u) for n in sympy.preorder_traversal(e)
        ),
        lambda base: type(base).__name__ == "VSum" and _pure_exp(base, u),
        _MULTILINEAR,
    )


def _degree(expr, of_exp, relevant, below, products) -> int | None:
    """The degree of ``expr`` in its exponentials, or None where it has none: ``of_exp(e)``
    for an exponential e, 0 for a subtree not ``relevant``, the same for every term of a
    sum, the sum over the arguments of a node in ``products`` (linear in each argument),
    k·d for a whole power k, and a negative power only of a base ``below`` accepts.  Any
    other node with a relevant exponential in it has no degree."""
    if isinstance(expr, sympy.exp):
        return of_exp(expr)
    if not relevant(expr):
        return 0
    name = type(expr).__name__
    if name == "Pow":
        d = _degree(expr.base, of_exp, relevant, below, products)
        if d is None or not expr.exp.is_Integer:
            return None
        if expr.exp < 0 and d != 0 and not below(expr.base):
            return None
        return d * int(expr.exp)
    if name in ("Add", "MatAdd"):
        same = {_degree(a, of_exp, relevant, below, products) for a in expr.args}
        return same.pop() if len(same) == 1 else None
    if name in products:
        total = 0
        for a in expr.args:
            d = _degree(a, of_exp, relevant, below, products)
            if d is None:
                return None
            total += d
        return total
    return None


def scalar_shift(expr) -> list | None:
    """The arguments v₁ … v_k (k ≥ 2) of the exponentials of a scalar ``expr`` when ``expr``
    is unchanged by e^(vᵢ) → λ·e^(vᵢ) for every i at once (each e^a, a = Σ cᵢ·vᵢ + c₀ with
    whole cᵢ ≥ 0, then scales by λ^(Σ cᵢ)), and every denominator holding an e^a is a sum of
    positive multiples of exponentials with every e^(vᵢ) among them: with λ = e^(−M), M the
    largest vᵢ, no e^a overflows and each such denominator is at least its smallest
    coefficient.  ∂/∂x ln(e^x + e^y) = e^x/(e^x + e^y) is nan for x, y above 709 as written;
    shifted, it is e^(x − M)/(e^(x − M) + e^(y − M)).  Else None."""
    nodes = expr.atoms(sympy.exp)
    if len(nodes) < 2 or any(n.args[0].has(sympy.exp) for n in nodes):
        return None  # (e^(e^x): the inner one shifted would change the outer one's value)
    bases: dict = {}
    for node in nodes:
        terms = _linear_terms(node.args[0])
        if terms is None:
            return None
        bases.update(dict.fromkeys(terms))
    if len(bases) < 2 or _scalar_degree(expr, bases) != 0:
        return None
    return sorted(bases, key=sympy.default_sort_key)


def _linear_terms(a) -> dict | None:
    """a = Σ cᵢ·vᵢ + c₀ as {vᵢ: cᵢ} (whole cᵢ ≥ 1, vᵢ not a number), or None."""
    out: dict = {}
    for term in sympy.Add.make_args(a):
        c, v = term.as_coeff_Mul()
        if v.is_number:
            continue  # e^(a + 1) is e·e^a: a constant factor
        if not (c.is_Integer and c > 0) or v.is_Add:
            return None
        out[v] = out.get(v, 0) + int(c)
    return out or None


def _degree_of_argument(a, bases) -> int:
    terms = _linear_terms(a) or {}
    return sum(c for v, c in terms.items() if v in bases)


def _scalar_degree(expr, bases) -> int | None:
    """The degree of ``expr`` under e^(vᵢ) → λ·e^(vᵢ) (``scalar_shift``), or None."""

    def of_exp(e) -> int | None:
        terms = _linear_terms(e.args[0])
        return None if terms is None else sum(terms.values())

    return _degree(
        expr,
        of_exp,
        lambda e: e.has(sympy.exp),
        lambda base: _covering_sum(base, bases),
        ("Mul",),
    )


def _covering_sum(base, bases) -> bool:
    """A sum of positive multiples of exponentials with every e^(vᵢ) itself among them."""
    if not base.is_Add:
        return False
    singles: set = set()
    for term in base.args:
        c, e = term.as_coeff_Mul()
        if not (c.is_positive and isinstance(e, sympy.exp)):
            return False
        terms = _linear_terms(e.args[0])
        if terms is not None and len(terms) == 1 and set(terms.values()) == {1}:
            singles.update(terms)
    return singles >= set(bases)


def _pure_exp(vsum, u) -> bool:
    """Σ e^(k·u), k ≥ 1: at least 1 once u is shifted by its maximum."""
    inner = vsum.args[0]
    if not isinstance(inner, sympy.exp):
        return False
    k, rest = inner.args[0].as_coeff_Mul()
    return rest == u and k.is_Integer and k > 0


def shape_with_vec(expr, shapes: dict):
    """``shape_of``, knowing vec(G) too (rows·cols × 1): each vec(G) is stood in for by a
    vector of that length."""
    if not any(type(e).__name__ == "Vec" for e in sympy.preorder_traversal(expr)):
        return shape_of(expr, shapes)
    extended = dict(shapes)

    def stand_in(node):
        rows, cols = shape_with_vec(node.args[0], shapes)
        symbol = VectorName(f"vec{len(extended)}_", real=True)
        extended[symbol] = Declaration(symbol, rows * cols, Integer(1))
        return symbol

    replaced = expr.replace(lambda e: type(e).__name__ == "Vec", stand_in)
    return shape_of(replaced, extended)


def _unsupported(expr, backend: Backend) -> Msg:
    from sympy.core.function import AppliedUndef

    if isinstance(expr, AppliedUndef):
        return Msg("err.code.unknown_function", backend=backend.name, name=expr.func)
    if isinstance(expr, (sympy.Derivative, sympy.Subs)):
        return Msg("err.code.unknown_derivative", backend=backend.name)
    name = getattr(expr.func, "__name__", "this operation").lower()
    return Msg("err.code.no_translation", backend=backend.name, name=name)


_HANDLERS: dict[str, Callable[[_Emitter, Expr], Code]] = {
    "Symbol": _Emitter._symbol,
    "Dummy": _Emitter._symbol,
    "VectorName": _Emitter._symbol,
    "MatrixName": _Emitter._symbol,
    "Add": _Emitter._add,
    "Mul": _Emitter._mul,
    "Pow": _Emitter._pow,
    **dict.fromkeys(
        [
            *_ELEMENTWISE,
            "asin",
            "acos",
            "atan",
            "acot",
            "asec",
            "acsc",
            "asinh",
            "acosh",
            "atanh",
            "acoth",
            "asech",
            "acsch",
            "sigmoid",
            "erf",
            "erfc",
            "Heaviside",
            "cbrt",
            "atan2",
        ],
        _Emitter._function,
    ),
    "Max": _Emitter._maxmin,
    "Min": _Emitter._maxmin,
    # matcalc.linalg: one entry per class
    "VDot": _Emitter._vdot,
    "VSum": _Emitter._vsum,
    "Mean": _Emitter._mean,
    "Norm": _Emitter._norm,
    "MatVec": _Emitter._matmul,
    "MMul": _Emitter._matmul,
    "MatProd": _Emitter._matmul,
    "MatT": _Emitter._transpose,
    "T": _Emitter._transpose,
    "MTrace": _Emitter._trace,
    "Diag": _Emitter._diag,
    "Ident": _Emitter._ident,
    "Inv": _Emitter._inv,
    "Det": _Emitter._det,
    "MPow": _Emitter._matrix_power,
    "Ones": _Emitter._ones,
    "Kron": _Emitter._kron,
    "OnesMatrix": _Emitter._ones_matrix,
    "Commutation": _Emitter._commutation,
    "Vec": _Emitter._vec,  # matcalc.engine.layout: a gradient by a matrix among several variables
}
"""SymPy class name -> translation.  A class without an entry is refused (UnsupportedError)."""

NO_TRANSLATION = {
    "Outer": "an operator of the engine (a Jacobian by a matrix), never a result",
    "OuterT": "an operator of the engine (a Jacobian by a matrix), never a result",
    "Lin": "a Jacobian of a matrix by a matrix, kept as an operator; refused as a result",
    "DMat": "a Jacobian of a matrix by a scalar, kept as an operator; refused as a result",
    "Rank1": "a Jacobian of a matrix through a scalar, kept as an operator; refused as a result",
    "Circ": "display only: a note of the differential method",
    "MDiff": "display only: the steps of the differential method",
}
"""matcalc.linalg classes with no entry in ``_HANDLERS`` on purpose (refused like any other)."""


# -- the function around the expression ---------------------------------------------------------


def numpy_function(d) -> str:
    """The source of a module with one NumPy function computing ``d``'s result."""
    return _Function(d, NUMPY).source()


def torch_function(d) -> str:
    """The source of a module with one PyTorch function computing ``d``'s result."""
    return _Function(d, TORCH).source()


def numpy_expression(d) -> str:
    """``d``'s result as one NumPy expression (JSON's ``result_numpy``).

    ``np`` is NumPy; each vector is a column array of shape (n, 1), each matrix a 2-D
    array, each scalar a number, and each symbolic size (n, N, …) an int of that name.  It
    evaluates to the Jacobian in the problem's layout, with the shape ``explicit()`` has.
    """
    f = _Function(d, NUMPY, names_as_written=True)
    return f.result_code()


def _is_size(symbol) -> bool:
    return (
        symbol.is_integer is True
        and symbol.is_positive is True
        and not isinstance(symbol, (VectorName, MatrixName))
    )


class _Function:
    def __init__(self, d, backend: Backend, *, names_as_written: bool = False):
        self.d = d
        self.p = p = d.problem
        self.b = backend
        self.shapes = {decl.symbol: decl for decl in p.declarations}
        sized = {
            size
            for decl in self.shapes.values()
            for size in (decl.rows.free_symbols | decl.cols.free_symbols)
        }
        # a size used as a number (sum(...) / N) is read off the arrays' shapes, not passed
        free = set().union(*(e.free_symbols for e in p.exprs)) - sized
        others = sorted(
            (s for s in free if s not in p.wrt),
            key=lambda s: (not isinstance(s, (VectorName, MatrixName)), str(s)),
        )
        hvp = getattr(p, "hvp", None)
        # H·v(x, v, …): the direction right after the variable
        self.params = [*p.wrt, *([hvp] if hvp else []), *(s for s in others if s != hvp)]
        self.taken: set[str] = set()
        self.names: dict[Symbol, str] = {}
        for s in self.params:
            name = _identifier(str(s), Msg("err.code.the_variable"))
            if name in self.taken:
                raise UnsupportedError(Msg("err.code.same_name", name=name))
            self.names[s] = name
            self.taken.add(name)
        self.alias = backend.alias if names_as_written else self.fresh(backend.alias)
        sizes: list[Symbol] = []
        for decl in self.shapes.values():
            for s in (decl.rows, decl.cols):
                for size in sorted(s.free_symbols, key=str):
                    if size not in sizes:
                        sizes.append(size)
        self.sizes = sizes
        for size in sizes:
            self.names[size] = str(size) if names_as_written else self.fresh(str(size))
        self.emitter = _Emitter(backend, self.shapes, self.names, self.alias)

    def fresh(self, base: str) -> str:
        name = base
        while name in self.taken or name in _BUILTINS or keyword.iskeyword(name):
            name += "_"
        self.taken.add(name)
        return name

    # -- shapes ---------------------------------------------------------------------------------
    def target(self, expr, wrt, vec: bool = False) -> tuple:
        """The Jacobian's shape, symbolic (``engine.layout.jacobian_shape``, the one place
        that says it): by a matrix among several variables, by vec of the matrix."""
        from matcalc.engine.layout import jacobian_shape

        return tuple(jacobian_shape(expr, wrt, self.shapes, self.p.layout, vec=vec))

    def shape_code(self, shape) -> str:
        parts = [self.emitter.size(_size(s)) for s in shape]
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"

    def blocks(self) -> list[list[tuple[Expr, tuple[Expr, Expr]]]]:
        """The result as rows of (expression, target shape)."""
        p, result = self.p, self.d.result
        order = getattr(p, "order", 1)
        if getattr(p, "hvp", None) is not None:  # H·v, a column as long as the variable
            return [[(result, (shape_of(p.wrt[0], self.shapes)[0], Integer(1)))]]
        if order == 2 and len(p.wrt) == 1 and self.shapes and not isinstance(result, MatrixBase):
            # the Hessian of a scalar by a vector: the Jacobian of its gradient, s×s
            rows, cols = shape_of(p.wrt[0], self.shapes)
            if shape_of(p.exprs[0], self.shapes) == SCALAR and cols == 1:
                return [[(result, (rows, rows))]]
        if not isinstance(result, MatrixBase):
            return [[(result, self.target(p.exprs[0], p.wrt[0]))]]
        exprs, wrt = list(p.exprs), list(p.wrt)
        if len(exprs) == 1 and len(wrt) == 1:
            raise UnsupportedError(Msg("err.code.blocks"))
        rows, cols = (len(exprs), len(wrt)) if p.layout == "numerator" else (len(wrt), len(exprs))
        if result.shape != (rows, cols):
            raise UnsupportedError(Msg("err.code.blocks"))
        out = []
        for i in range(rows):
            row = []
            for j in range(cols):
                e, w = (exprs[i], wrt[j]) if p.layout == "numerator" else (exprs[j], wrt[i])
                row.append((result[i, j], self.target(e, w, vec=True)))
            out.append(row)
        return out

    def block_code(self, expr, target) -> str:
        # vec of the zero matrix is the zero column: the block is 0, written at its shape
        expr = expr.replace(
            lambda e: type(e).__name__ == "Vec" and e.args[0] == 0, lambda e: Integer(0)
        )
        natural = shape_with_vec(expr, self.shapes)
        if expr.is_Number and target != SCALAR:  # 0, or a 1 in a block
            value = repr(float(expr))
            return (
                self.b.zeros.format(m=self.alias, shape=self.shape_code(target))
                if expr == 0
                else self.b.full.format(m=self.alias, shape=self.shape_code(target), a=value)
            )
        text = self.emitter.top(expr)
        if natural == SCALAR and target == SCALAR:
            return text
        if natural == SCALAR:
            return self.b.broadcast.format(m=self.alias, a=text, shape=self.shape_code(target))
        if tuple(sympy.simplify(a - b) for a, b in zip(natural, target)) != (0, 0):
            raise UnsupportedError(
                Msg(
                    "err.code.shape",
                    shape=f"{natural[0]}×{natural[1]}",
                    target=f"{target[0]}×{target[1]}",
                )
            )
        return text

    def result_code(self) -> str:
        if not self.shapes:
            return self.scalar_result_code(None)
        blocks = self.blocks()
        if len(blocks) == 1 and len(blocks[0]) == 1:
            return self.block_code(*blocks[0][0])
        rows = [
            [
                self.block_code(e, t)
                if t != SCALAR
                else self.b.cell.format(m=self.alias, a=self.block_code(e, t))
                for e, t in row
            ]
            for row in blocks
        ]
        return self.concatenate(rows)

    def concatenate(self, rows: list[list[str]]) -> str:
        m = self.alias
        if self.b is NUMPY:
            return f"{m}.block([{', '.join('[' + ', '.join(r) + ']' for r in rows)}])"
        joined = [f"{m}.cat([{', '.join(r)}], dim=1)" for r in rows]
        return joined[0] if len(joined) == 1 else f"{m}.cat([{', '.join(joined)}], dim=0)"

    def scalar_result_code(self, shape: str | None) -> str:
        """A scalar problem: broadcast to ``shape`` (the inputs' broadcast shape) if given."""
        m, result = self.alias, self.d.result
        if not isinstance(result, MatrixBase):
            text = self.emitter.top(result)
            return text if shape is None else self.b.broadcast.format(m=m, a=text, shape=shape)
        if shape is None:
            rows = [
                ", ".join(self.emitter.top(e) for e in result.row(i)) for i in range(result.rows)
            ]
            return f"{m}.array([{', '.join('[' + r + ']' for r in rows)}])"
        cells = [
            [
                self.b.broadcast.format(m=m, a=self.emitter.top(e), shape=shape)
                for e in result.row(i)
            ]
            for i in range(result.rows)
        ]
        dim = "axis" if self.b is NUMPY else "dim"
        stacked = [f"{m}.stack([{', '.join(r)}], {dim}=-1)" for r in cells]
        return f"{m}.stack([{', '.join(stacked)}], {dim}=-2)"

    # -- the function -----------------------------------------------------------------------------
    def kind(self) -> str:
        """derivative (a scalar by a scalar), gradient (a scalar by several) or Jacobian;
        of order 2 or more, the second (k-th) derivative or the Hessian."""
        p = self.p
        order = getattr(p, "order", 1)
        if getattr(p, "hvp", None) is not None:
            return f"Hessian-vector product H·{p.hvp}"
        if order > 1:
            by_vector = len(p.wrt) > 1 or (
                bool(self.shapes) and shape_of(p.wrt[0], self.shapes) != SCALAR
            )
            if by_vector:
                return "Hessian" if order == 2 else f"derivative of order {order}"
            return "second derivative" if order == 2 else f"derivative of order {order}"
        scalar = (
            all(shape_of(e, self.shapes) == SCALAR for e in p.exprs)
            if self.shapes
            else len(p.exprs) == 1
        )
        if scalar and len(p.wrt) == 1 and shape_of(p.wrt[0], self.shapes) == SCALAR:
            return "derivative"
        return "gradient" if scalar else "Jacobian"

    def function_name(self) -> str:
        p = self.p
        out = str(p.output) if str(p.output).isidentifier() else "f"
        wrt = "_".join(self.names[w] for w in p.wrt)
        kind, order = self.kind(), getattr(p, "order", 1)
        if getattr(p, "hvp", None) is not None:
            return self.fresh(f"hvp_{out}_{wrt}")
        if order > 1:
            base = f"hessian_{out}_{wrt}" if kind == "Hessian" else f"d{order}{out}_d{wrt}{order}"
            if kind not in ("Hessian", "second derivative") and (len(p.wrt) > 1 or self.shapes):
                base = f"d{order}_{out}_{wrt}"
            return self.fresh(base)
        base = {"derivative": f"d{out}_d{wrt}", "gradient": f"grad_{out}_{wrt}"}.get(
            kind, f"jacobian_{out}_{wrt}"
        )
        return self.fresh(base)

    def describe(self, s: Symbol) -> str:
        decl = self.shapes.get(s)
        if decl is None:
            return "a number" if self.shapes else "a number or an array (broadcast)"
        if decl.is_vector:
            return f"a vector of length {decl.rows}, shape ({decl.rows},)"
        return f"a matrix, {decl.rows}×{decl.cols}, shape ({decl.rows}, {decl.cols})"

    def returns(self) -> str:
        p = self.p
        if not self.shapes:
            if isinstance(self.d.result, MatrixBase):
                r, c = self.d.result.shape
                return (
                    f"an array of shape (..., {r}, {c}): the {self.kind()} ({p.layout} layout) "
                    "for each element of the inputs' broadcast shape"
                )
            return "an array of the inputs' broadcast shape"
        blocks = self.blocks()
        rows = sum(_size(row[0][1][0]) for row in blocks)
        cols = sum(_size(t[1]) for _, t in blocks[0])
        if len(blocks) == 1 and len(blocks[0]) == 1 and blocks[0][0][1] == SCALAR:
            return "a number (a 0-d array)"
        return f"an array of shape ({rows}, {cols}), the {self.kind()} in {p.layout} layout"

    def docstring(self) -> list[str]:
        p = self.p
        text = "; ".join(p.text)
        safe = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        wrt = ", ".join(self.names[w] for w in p.wrt)
        lines = [f'"""The {self.kind()} of {safe} with respect to {wrt}, in {p.layout} layout.', ""]
        lines.append("Arguments:")
        for s in self.params:
            lines.append(f"    {self.names[s]}: {self.describe(s)}")
        for size in self.unbound:
            lines.append(f"    {self.names[size]}: the size {size} (keyword)")
        lines.append(f"Returns {self.returns()}.")
        if self.shapes:
            lines.append("Vectors are columns inside the function, as the paper writes them.")
        if self.d.result.has(sympy.Heaviside, sympy.Max, sympy.Min, sympy.Abs, sympy.sign):
            lines.append("At a kink (max(0, z) at z = 0) the derivative is 0, as in the paper.")
        positive = [d for step in self.d.steps for d in getattr(step, "positive", ())]
        if positive:  # ln det: the check's own domain, said where the code is read
            from matcalc.render.printing import TextPrinter

            plain = TextPrinter({"unicode": False})  # inv(X), as the code writes it
            dets = ", ".join(plain.doprint(d) for d in dict.fromkeys(positive))
            lines.append(f"ln det is real only where {dets} > 0: the input is undefined elsewhere,")
            lines.append("and the value returned there is not its derivative.")
        verified = {True: "verified", None: "not verified", False: "NOT VERIFIED"}[self.d.verified]
        lines.append(f"Generated by matcalc from its {verified} result.")
        lines.append('"""')
        return lines

    def checks(self) -> list[str]:
        m, asarray, out = self.alias, self.b.asarray, []
        bound: set = set()
        for s in self.params:
            name = self.names[s]
            out.append(f"{name} = {asarray.format(m=m, a=name)}")
            decl = self.shapes.get(s)
            if decl is None:
                if self.shapes:
                    out += [
                        f"if {name}.shape != ():",
                        f'    raise ValueError(f"{name} must be a number, got shape {{{name}.shape}}")',
                    ]
                continue
            dims = [decl.rows] if decl.is_vector else [decl.rows, decl.cols]
            what = "vector (a 1-D array)" if decl.is_vector else "matrix (a 2-D array)"
            out += [
                f"if {name}.ndim != {len(dims)}:",
                f'    raise ValueError(f"{name} must be a {what}, got shape {{{name}.shape}}")',
            ]
            new = [d for d in dims if isinstance(d, Symbol) and d not in bound]
            for i, dim in enumerate(dims):
                if dim in new and dims.index(dim) == i:
                    out.append(f"{self.names[dim]} = {name}.shape[{i}]")
                    bound.add(dim)
            expected = self.shape_code(dims)
            if len(new) < len(dims):
                label = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
                out += [
                    f"if {name}.shape != {expected}:",
                    f'    raise ValueError(f"{name} must have shape {label} = {{{expected}}}, '
                    f'got {{{name}.shape}}")',
                ]
        self.bound = bound
        return out

    def source(self) -> str:
        body: list[str] = []
        checks = self.checks()
        needed = set()
        if self.shapes:
            needed = (
                set(sympy.Tuple(self.d.result).free_symbols)
                if not isinstance(self.d.result, MatrixBase)
                else set(self.d.result.free_symbols)
            )
            for row in self.blocks():
                for _, target in row:
                    needed |= set().union(*(_size(t).free_symbols for t in target))
        self.unbound = [s for s in self.sizes if s in needed and s not in self.bound]
        vectors = [s for s in self.params if s in self.shapes and self.shapes[s].is_vector]
        shape_name = None
        if not self.shapes:
            shape_name = self.fresh("shape")
            parts = ", ".join(f"{self.names[s]}.shape" for s in self.params)
            broadcast = "broadcast_shapes"
            checks.append(
                f"{shape_name} = {self.alias}.{broadcast}({parts})  "
                "# ValueError if they do not broadcast"
            )
        body += checks
        if vectors:
            body.append("# vectors as columns, shape (n, 1)")
            body += [f"{self.names[v]} = {self.names[v]}.reshape(-1, 1)" for v in vectors]
        result = self.scalar_result_code(shape_name) if not self.shapes else self.result_code()
        if self.shapes and self.blocks() == [[(self.d.result, SCALAR)]]:
            result = self.b.asarray.format(m=self.alias, a=result)
        body.append(f"return {result}")
        name = self.function_name()
        params = [self.names[s] for s in self.params]
        if self.unbound:
            params += ["*", *(self.names[s] for s in self.unbound)]
        alias = self.alias
        head = (
            f"import {self.b.module}"
            if alias == self.b.module
            else f"import {self.b.module} as {alias}"
        )
        lines = [head, "", "", f"def {name}({', '.join(params)}):"]
        lines += [("    " + line) if line else "" for line in [*self.docstring(), *body]]
        return "\n".join(lines) + "\n"


def singular_factor(product) -> bool:
    """A power with a negative or fractional exponent among ``product``'s factors."""
    return any(
        isinstance(f, sympy.Pow) and (not f.exp.is_integer or f.exp.is_negative)
        for f in product.args
    )
