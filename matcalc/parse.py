"""The only place where text becomes mathematics: a whitelisting expression parser.

``parse(text)`` turns a formula such as ``ln(sin(x^3)^2)`` into an *unevaluated*
SymPy tree that keeps the expression as typed (``x*x**2`` stays ``Mul(x, Pow(x, 2))``).
Nothing is ever evaluated: no ``eval``/``exec``/``sympify``; the text goes through

1. pre-checks: length, blank input, friendly Unicode (``−`` ``×`` ``·`` ``²`` ``³``) and
   ``^`` rewritten to ASCII with a column map, a printable-ASCII whitelist, a bracket scan;
2. ``ast.parse(src, mode="eval")``;
3. ``_Parser``: one ``visit_<NodeClass>`` method per allowed AST node; every other node
   is refused with a named ``ParseError`` (messages in ``_REFUSED``).  The walk counts
   nodes and depth, and a numeric size guard (``_Parser.estimate``) refuses any constant
   sub-expression or power that could grow beyond ``max_integer_digits * 10`` digits.

Every error is a ``MatcalcError`` subclass carrying the 1-based column in the text
the user typed.

Extending
---------
* A function is one entry in ``FUNCTIONS``: ``"name": _unary(sympy.cls)`` or
  ``_Fn(min_args, max_args_or_None, builder)``.  If SymPy can evaluate it to a number,
  also add a complex approximation to ``_APPROX`` so the size guard can see through it.
* A binary operator is one entry in ``_BINARY`` (AST operator class name -> method);
  a unary one is one entry in ``_UNARY``.  Named constants live in ``CONSTANTS``.

Decisions
---------
* ``e``/``E`` and ``pi`` are constants and ``e**x`` becomes ``exp(x)``; every other name,
  including ``I``, ``oo`` and ``nan``, is a real ``Symbol``.  A bare function name
  (``sin + 1``) is refused; any other called name is an undefined real function.
* ``int/int`` literals (``1/2``, ``-3/4``) become one ``Rational``; otherwise ``1/x`` is
  ``Pow(x, -1)`` and ``a/b`` is ``Mul(a, Pow(b, -1))``.  A minus directly on a literal
  gives a negative number, so ``x - 3`` is ``Add(x, -3)``.  ``Max``/``Min`` keep SymPy's
  canonical argument order (SymPy sorts them even unevaluated).
* Python integer spellings (``0x1F``, ``1_000``) are accepted; ``#`` is refused (it would
  silently comment out the rest), as are ``$ ? ` \\ ;`` and, after the
  friendly replacements, anything outside printable ASCII.
* The size guard is conservative: a constant whose magnitude or exact size may exceed
  about ``10**(max_integer_digits*10)`` is refused (``2**1000``, ``exp(1000)``).
"""

from __future__ import annotations

import ast
import cmath
import math
import re
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

import sympy
from sympy.core.function import AppliedUndef

from matcalc.errors import LimitError, MatcalcError, ParseError, UnsupportedError
from matcalc.functions import sigmoid
from matcalc.limits import DEFAULT_LIMITS, Limits

__all__ = ["CONSTANTS", "FUNCTIONS", "parse"]

Expr = sympy.Expr
Builder = Callable[["_Parser", ast.Call, list[Expr]], Expr]


class _Fn(NamedTuple):
    """A function table entry: accepted argument counts and how to build the node."""

    min_args: int
    max_args: int | None  # None: no upper bound
    build: Builder


def _unary(cls: type) -> _Fn:
    return _Fn(1, 1, lambda p, node, a: cls(a[0], evaluate=False))


def _log(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    ln = sympy.log(a[0], evaluate=False)
    if len(a) == 1:
        return ln
    inverse = sympy.Pow(sympy.log(a[1], evaluate=False), -1, evaluate=False)
    return sympy.Mul(ln, inverse, evaluate=False)


def _factorial(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    limit = p.limits.max_factorial
    if isinstance(a[0], sympy.Integer):
        n = int(a[0])
        if n < 0:
            raise p.error(UnsupportedError, "factorial needs a non-negative integer", node)
        if n > limit:
            raise p.error(LimitError, f"factorial of {n} exceeds the limit of {limit}", node)
        return sympy.Integer(math.factorial(n))
    est = p.estimate(a[0])
    if est is not None and est.value is not None and abs(est.value) > limit:
        raise p.error(LimitError, f"factorial argument exceeds the limit of {limit}", node)
    msg = "factorial is only supported on a whole-number literal, e.g. factorial(5)"
    raise p.error(UnsupportedError, msg, node)


def _sqrt(p: _Parser, node: ast.Call, a: list[Expr]) -> Expr:
    return sympy.Pow(a[0], sympy.Rational(1, 2), evaluate=False)


_TRIG = "sin cos tan cot sec csc asin acos atan acot asec acsc"
_HYP = "sinh cosh tanh coth sech csch asinh acosh atanh acoth asech acsch"

FUNCTIONS: dict[str, _Fn] = {
    **{name: _unary(getattr(sympy, name)) for name in f"{_TRIG} {_HYP} exp".split()},
    "arcsin": _unary(sympy.asin),
    "arccos": _unary(sympy.acos),
    "arctan": _unary(sympy.atan),
    "ln": _unary(sympy.log),
    "log": _Fn(1, 2, _log),
    "sqrt": _Fn(1, 1, _sqrt),
    "abs": _unary(sympy.Abs),
    "Abs": _unary(sympy.Abs),
    "max": _Fn(2, None, lambda p, node, a: sympy.Max(*a, evaluate=False)),
    "Max": _Fn(2, None, lambda p, node, a: sympy.Max(*a, evaluate=False)),
    "min": _Fn(2, None, lambda p, node, a: sympy.Min(*a, evaluate=False)),
    "Min": _Fn(2, None, lambda p, node, a: sympy.Min(*a, evaluate=False)),
    "sigmoid": _unary(sigmoid),
    "factorial": _Fn(1, 1, _factorial),
}
"""Callable names -> table entry.  Add a function here (see the module docstring)."""

CONSTANTS: dict[str, Expr] = {"e": sympy.E, "E": sympy.E, "pi": sympy.pi}

_FRIENDLY = {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/",
             "\u00b2": "**2", "\u00b3": "**3", "^": "**"}
_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")": "(", "]": "[", "}": "{"}
_FRIENDLY_RE = re.compile("|".join(map(re.escape, _FRIENDLY)))
_FRIENDLY_TABLE = str.maketrans(_FRIENDLY)
_BAD_CHAR = re.compile(r"[^\t -~]|[#$?`\\;]")
_BRACKET = re.compile(r"""[()\[\]{}'"]""")

_REFUSED = {
    "Attribute": "attribute access is not allowed",
    "Subscript": "subscripts are not allowed",
    "Slice": "slices are not allowed",
    "Lambda": "lambda expressions are not allowed",
    **dict.fromkeys(["ListComp", "SetComp", "DictComp", "GeneratorExp"],
                    "comprehensions are not allowed"),
    **dict.fromkeys(["JoinedStr", "FormattedValue"], "f-strings are not allowed"),
    "Starred": "starred arguments are not allowed",
    "NamedExpr": "assignment expressions (:=) are not allowed",
    "Compare": "comparisons are not allowed",
    "BoolOp": "boolean operators (and, or) are not allowed",
    "IfExp": "conditional expressions (if/else) are not allowed",
    "Tuple": "commas are only allowed between function arguments",
    "List": "lists are not allowed",
    "Set": "sets are not allowed",
    "Dict": "dictionaries are not allowed",
    **dict.fromkeys(["Await", "Yield", "YieldFrom"], "await and yield are not allowed"),
    "Not": "'not' is not allowed",
    **{op: f"the {sign} operator is not allowed" for op, sign in [
        ("Invert", "~"), ("Mod", "%"), ("FloorDiv", "//"), ("BitOr", "|"), ("BitAnd", "&"),
        ("BitXor", "^"), ("LShift", "<<"), ("RShift", ">>")]},
}
"""AST class name -> refusal message (ParseError) for constructs without a visitor."""

_CONSTANT_REFUSED = {bool: "booleans are not allowed", complex: "imaginary numbers are not allowed",
                     str: "strings are not allowed", bytes: "byte strings are not allowed",
                     type(None): "None is not allowed", type(...): "'...' is not allowed"}
_BINARY = {"Add": "_sum", "Sub": "_sum", "Mult": "_product", "Div": "_product", "Pow": "_power"}
_UNARY = {"USub": "_negative", "UAdd": "_positive"}
_WORD = re.compile(r"[A-Za-z0-9_.]+")
_FLOAT = re.compile(r"(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?")


class _Source:
    """The user's text, the ASCII source given to Python, and the column map between them."""

    def __init__(self, text: str) -> None:
        self.text, self.src = text, text.translate(_FRIENDLY_TABLE)

    def column(self, index: int) -> int:
        """1-based column in the user's text of ``src[index]`` (computed only for errors)."""
        shift = 0  # how much longer src is than text so far
        for match in _FRIENDLY_RE.finditer(self.text):
            start, width = match.start() + shift, len(_FRIENDLY[match.group()])
            if index < start:
                break
            if index < start + width:
                return match.start() + 1
            shift += width - 1
        return index - shift + 1

    def error(self, cls: type[MatcalcError], message: str, index: int) -> MatcalcError:
        return cls(message, column=self.column(max(0, index)), text=self.text)

    def check_characters(self) -> None:
        match = _BAD_CHAR.search(self.src)
        if match is None:
            return
        ch = match.group()
        if ch == "#":
            msg = "comments are not allowed"
        elif " " <= ch <= "~":
            msg = f"character '{ch}' is not allowed"
        else:  # show control and format characters escaped, never raw
            shown = f"'{ch}'" if ch.isprintable() else ascii(ch)
            code = f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
            msg = f"character {shown} ({code}) is not allowed"
        raise self.error(ParseError, msg, match.start())

    def check_brackets(self, max_depth: int) -> None:
        stack: list[int] = []
        src, match = self.src, _BRACKET.search(self.src)
        while match is not None:
            i, ch = match.start(), match.group()
            if ch in "'\"":
                match = _BRACKET.search(src, _skip_string(src, i))
                continue
            if ch in _OPEN:
                stack.append(i)
                if len(stack) > max_depth:
                    msg = f"brackets are nested more than {max_depth} deep"
                    raise self.error(LimitError, msg, i)
            elif not stack or src[stack[-1]] != _CLOSE[ch]:
                raise self.error(ParseError, f"unmatched '{ch}'", i)
            else:
                stack.pop()
            match = _BRACKET.search(src, i + 1)
        if stack:
            raise self.error(ParseError, f"unclosed '{src[stack[-1]]}'", stack[-1])

    def check_size(self, max_nodes: int) -> None:
        """Cheap lower-bound node count, so a huge input never reaches Python's parser."""
        words = sum(1 for _ in _WORD.finditer(self.src))
        operators = sum(self.src.count(op) for op in "+-*/%@&|~<>=") // 2
        if words + operators > 2 * max_nodes:
            msg = f"expression is too large: more than {max_nodes} syntax nodes"
            raise self.error(LimitError, msg, 0)

    def syntax_error(self, exc: SyntaxError, offset: int) -> MatcalcError:
        msg = exc.msg or ""
        if "nested" in msg or "too complex" in msg or "Exceeds the limit" in msg:
            return self.error(LimitError, "expression is too deeply nested or too large", 0)
        index = (exc.offset or 0) - 1 + offset
        if not offset <= index < len(self.src):
            return self.error(ParseError, "unexpected end of expression", len(self.src.rstrip()))
        if msg.startswith("invalid decimal literal"):
            while index < len(self.src) and (self.src[index].isdigit() or self.src[index] in "._"):
                index += 1
            return self.error(ParseError, "missing '*' after a number (write 2*x, not 2x)", index)
        if msg.startswith("unterminated"):
            return self.error(ParseError, "unterminated string", index)
        return self.error(ParseError, "invalid syntax", index)


def _skip_string(src: str, i: int) -> int:
    """Index just after the quoted string starting at ``src[i]`` (end of text if unclosed)."""
    j = i + 1
    while j < len(src):
        if src[j] == "\\":
            j += 2
        elif src[j] == src[i]:
            return j + 1
        else:
            j += 1
    return len(src)


def parse(text: str, *, limits: Limits = DEFAULT_LIMITS) -> Expr:
    """Parse ``text`` into an unevaluated SymPy expression, or raise a ``MatcalcError``."""
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, not {type(text).__name__}")
    if len(text) > limits.max_length:
        raise LimitError(f"expression is {len(text)} characters long, the limit is "
                         f"{limits.max_length}", text=text[: limits.max_length])
    if not text.strip():
        raise ParseError("empty expression", text=text)
    source = _Source(text)
    source.check_characters()
    source.check_brackets(limits.max_depth)
    source.check_size(limits.max_nodes)
    offset = len(source.src) - len(source.src.lstrip(" \t"))
    try:
        tree = ast.parse(source.src[offset:], mode="eval")
    except SyntaxError as exc:
        raise source.syntax_error(exc, offset) from None
    except (RecursionError, MemoryError, ValueError):
        raise source.error(LimitError, "expression is too deeply nested or too large", 0) from None
    try:
        return _Parser(source, offset, limits).visit(tree)
    except (RecursionError, MemoryError):
        raise source.error(LimitError, "expression is too deeply nested or too large", 0) from None
    except (ArithmeticError, TypeError, ValueError) as exc:  # last resort: SymPy refused a node
        raise ParseError(f"cannot build this expression ({_first_line(exc)})", text=text) from None


class _Parser:
    """Whitelist visitor: ``visit_<ASTClass>`` methods build SymPy nodes; nothing else passes."""

    def __init__(self, source: _Source, offset: int, limits: Limits) -> None:
        self.source, self.offset, self.limits = source, offset, limits
        self.src = source.src[offset:]
        self.nodes = self.depth = 0
        self.max_digits = limits.max_integer_digits * 10
        self._memo: dict[Expr, _Est | None] = {}

    # -- plumbing ---------------------------------------------------------------------
    def error(self, cls: type[MatcalcError], message: str, node: ast.AST | int) -> MatcalcError:
        index = node if isinstance(node, int) else getattr(node, "col_offset", 0)
        return self.source.error(cls, message, index + self.offset)

    def count(self, node: ast.AST) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            msg = f"expression is too large: more than {self.limits.max_nodes} syntax nodes"
            raise self.error(LimitError, msg, node)

    def visit(self, node: ast.AST) -> Expr:
        self.count(node)
        self.depth += 1
        try:
            if self.depth > self.limits.max_depth:
                msg = f"expression is nested more than {self.limits.max_depth} levels deep"
                raise self.error(LimitError, msg, node)
            name = type(node).__name__
            method = getattr(self, f"visit_{name}", None)
            if method is None:
                msg = _REFUSED.get(name, f"python syntax '{name}' is not allowed")
                raise self.error(ParseError, msg, node)
            result: Expr = method(node)
        finally:
            self.depth -= 1
        est = self.estimate(result)
        if est is not None and est.digits > self.max_digits:
            msg = _too_big("number too large:", est.digits, self.max_digits, " digits")
            raise self.error(LimitError, msg, node)
        return result

    def op_index(self, node: ast.BinOp) -> int:
        """Index of the operator between the operands (skipping spaces and parentheses)."""
        start = node.left.end_col_offset or 0
        for i, ch in enumerate(self.src[start : node.right.col_offset]):
            if ch not in " \t()":
                return start + i
        return node.col_offset

    # -- leaves -------------------------------------------------------------------------
    def visit_Expression(self, node: ast.Expression) -> Expr:
        return self.visit(node.body)

    def visit_Name(self, node: ast.Name) -> Expr:
        name = node.id
        if name.startswith("_"):
            raise self.error(ParseError, "names may not start with '_'", node)
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.error(ParseError, f"{name} is a function; write {name}(...)", node)
        return sympy.Symbol(name, real=True)

    def visit_Constant(self, node: ast.Constant) -> Expr:
        value = node.value
        if type(value) in _CONSTANT_REFUSED:
            raise self.error(ParseError, _CONSTANT_REFUSED[type(value)], node)
        if isinstance(value, int):
            return self.integer(value, node)
        if isinstance(value, float):
            return self.decimal(node)
        raise self.error(ParseError, f"{type(value).__name__} literals are not allowed", node)

    def integer(self, value: int, node: ast.AST) -> Expr:
        limit, bits = self.limits.max_integer_digits, abs(value).bit_length()
        if bits > limit * 3.33 or (bits >= limit * 3.32 - 4 and abs(value) >= 10**limit):
            raise self.error(LimitError, f"integer has more than {limit} digits", node)
        return sympy.Integer(value)

    def decimal(self, node: ast.Constant) -> Expr:
        """Exact Rational from the literal's own text: 0.5 -> 1/2, 1e-3 -> 1/1000."""
        literal = self.src[node.col_offset : node.end_col_offset].replace("_", "").lower()
        match = _FLOAT.fullmatch(literal)
        if match is None:
            raise self.error(ParseError, "invalid number", node)
        whole, frac, exp = match.group(1), match.group(2) or "", match.group(3)
        if exp is not None and len(exp.lstrip("+-")) > 6:
            raise self.error(LimitError, "number exponent is too large", node)
        shift = int(exp or 0) - len(frac)
        mantissa = (whole + frac).lstrip("0")
        limit = self.limits.max_integer_digits
        if len(mantissa) + max(shift, 0) > limit or -shift > limit:
            raise self.error(LimitError, f"number has more than {limit} digits", node)
        return sympy.Rational(int(mantissa or "0") * 10 ** max(shift, 0), 10 ** max(-shift, 0))

    # -- operators ----------------------------------------------------------------------
    def visit_UnaryOp(self, node: ast.UnaryOp) -> Expr:
        name = type(node.op).__name__
        if name not in _UNARY:
            msg = _REFUSED.get(name, f"operator {name} is not allowed")
            raise self.error(ParseError, msg, node)
        return getattr(self, _UNARY[name])(node.operand)

    def _positive(self, operand: ast.expr) -> Expr:
        return self.visit(operand)

    def _negative(self, operand: ast.expr) -> Expr:
        """Minus: a negative number on a literal, ``Mul(-1, e)`` on anything else."""
        value = self.visit(operand)
        if isinstance(operand, ast.Constant) and isinstance(value, sympy.Number):
            return -value
        return sympy.Mul(sympy.S.NegativeOne, value, evaluate=False)

    def visit_BinOp(self, node: ast.BinOp) -> Expr:
        name = type(node.op).__name__
        if name == "MatMult":
            msg = "the @ operator needs declared vectors"
            raise self.error(UnsupportedError, msg, self.op_index(node))
        if name not in _BINARY:
            msg = _REFUSED.get(name, f"operator {name} is not allowed")
            raise self.error(ParseError, msg, self.op_index(node))
        return getattr(self, _BINARY[name])(node)

    def chain(self, node: ast.BinOp, ops: tuple[str, ...]) -> list[tuple[str, ast.expr]]:
        """Flatten a left-associative chain (a+b-c) into [(op, operand)], first op ''."""
        items: list[tuple[str, ast.expr]] = []
        current: ast.expr = node
        while isinstance(current, ast.BinOp) and type(current.op).__name__ in ops:
            if current is not node:
                self.count(current)
            items.append((type(current.op).__name__, current.right))
            current = current.left
        items.append(("", current))
        return items[::-1]

    def _sum(self, node: ast.BinOp) -> Expr:
        terms = []
        for op, operand in self.chain(node, ("Add", "Sub")):
            terms.append(self._negative(operand) if op == "Sub" else self.visit(operand))
        return sympy.Add(*terms, evaluate=False)

    def _product(self, node: ast.BinOp) -> Expr:
        items = self.chain(node, ("Mult", "Div"))
        values = [self.visit(operand) for _, operand in items]
        if len(items) == 2 and items[1][0] == "Div" and values[1] != 0 and all(
            _int_literal(operand) for _, operand in items
        ):
            return sympy.Rational(values[0], values[1])  # 1/2 is how a rational is typed
        factors = [sympy.Pow(v, -1, evaluate=False) if op == "Div" else v
                   for (op, _), v in zip(items, values, strict=True)]
        first = items[0][1]
        if items[1][0] == "Div" and isinstance(first, ast.Constant) and first.value == 1:
            factors.pop(0)  # 1/x -> Pow(x, -1)
        return factors[0] if len(factors) == 1 else sympy.Mul(*factors, evaluate=False)

    def _power(self, node: ast.BinOp) -> Expr:
        base, exponent = self.visit(node.left), self.visit(node.right)
        where = self.op_index(node)
        est = self.estimate(exponent)
        if est is not None:
            size = _magnitude(est)
            if size > self.limits.max_exponent:
                msg = _too_big("exponent too large:", size, self.limits.max_exponent, "")
                raise self.error(LimitError, msg, where)
        result = (sympy.exp(exponent, evaluate=False) if base == sympy.E
                  else sympy.Pow(base, exponent, evaluate=False))
        est = self.estimate(result)
        if est is not None and est.digits > self.max_digits:
            msg = _too_big("exponent too large: the power would be", est.digits, self.max_digits,
                           " digits")
            raise self.error(LimitError, msg, where)
        return result

    # -- calls --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> Expr:
        func = node.func
        paren = self.src.find("(", func.end_col_offset or 0)
        if isinstance(func, ast.Attribute):
            self.visit(func)  # refused with "attribute access is not allowed"
        if not isinstance(func, ast.Name) or self.src[func.end_col_offset :].lstrip()[:1] != "(":
            raise self.error(ParseError, "only a function name can be called, e.g. sin(x)", paren)
        name = func.id
        if name.startswith("_"):
            raise self.error(ParseError, "names may not start with '_'", func)
        if name in CONSTANTS:
            msg = f"{name} is a constant, not a function; write {name}*(...)"
            raise self.error(ParseError, msg, func)
        if node.keywords:
            raise self.error(ParseError, "keyword arguments are not allowed", node.keywords[0])
        args = [self.visit(arg) for arg in node.args]
        fn = FUNCTIONS.get(name, _Fn(1, None, _undefined))
        if len(args) < fn.min_args or (fn.max_args is not None and len(args) > fn.max_args):
            msg = f"{name} takes {_arity(fn.min_args, fn.max_args)}, got {len(args)}"
            raise self.error(ParseError, msg, node)
        try:
            return fn.build(self, node, args)
        except (ArithmeticError, TypeError, ValueError) as exc:  # SymPy refused the arguments
            msg = f"{name} cannot take these arguments ({_first_line(exc)})"
            raise self.error(ParseError, msg, node) from None

    # -- size guard ---------------------------------------------------------------------
    def estimate(self, expr: Expr) -> _Est | None:
        """Size estimate of a constant expression; None when it has free symbols."""
        if expr not in self._memo:
            self._memo[expr] = self._estimate(expr)
        return self._memo[expr]

    def _estimate(self, expr: Expr) -> _Est | None:
        if isinstance(expr, sympy.Rational):
            digits = math.log10(max(abs(int(expr.p)), abs(int(expr.q)), 1))
            return _Est(_approx(float, expr), digits)
        if isinstance(expr, sympy.NumberSymbol):
            return _Est(_approx(float, expr), 1.0)
        parts = [self.estimate(arg) for arg in expr.args]
        if not expr.args or any(p is None for p in parts):
            return None
        values = [p.value for p in parts if p is not None]
        digits = sum(p.digits for p in parts if p is not None)
        if isinstance(expr, sympy.Pow):
            value = _approx(pow, *values) if None not in values else None
            grown = parts[0].digits * _magnitude(parts[1]) if parts[0].digits else 0.0
            extra = 0.0 if isinstance(expr.exp, sympy.Rational) else parts[1].digits
            return _Est(value, grown + extra)
        if isinstance(expr, (sympy.Add, sympy.Mul)):
            fn = sum if isinstance(expr, sympy.Add) else math.prod
            value = _approx(lambda *v: fn(v), *values) if None not in values else None
            return _Est(value, digits + math.log10(len(parts)))
        fn = None if isinstance(expr, AppliedUndef) else _APPROX.get(type(expr))
        if fn is None:
            return _Est(None, digits)
        if None in values:  # unknown argument: allow for exp-like growth
            return _Est(None, digits + 0.4343 * 10 ** min(digits, 300.0))
        value = _approx(fn, *values)
        if value is None or value == 0:
            return _Est(value, digits)
        return _Est(value, digits + abs(math.log10(abs(value))))


def _undefined(p: _Parser, node: ast.Call, args: list[Expr]) -> Expr:
    name = node.func.id  # type: ignore[attr-defined]
    return sympy.Function(name, real=True)(*args)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


def _int_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) is int


def _magnitude(est: _Est) -> float:
    """Bound on |value|: the approximation, or 10**digits when the value is unknown."""
    if est.value is not None:
        return abs(est.value)
    return 10 ** min(est.digits, 300.0)


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' * (low != 1)}"
    if high == low:
        return f"{low} argument{'s' * (low != 1)}"
    return f"{low} to {high} arguments" if high > low + 1 else f"{low} or {high} arguments"


def _too_big(prefix: str, size: float, limit: int, unit: str) -> str:
    """'exponent too large: about 387420489 (limit 1000)'; overflowed sizes are 'astronomical'."""
    if not math.isfinite(size) or size > 1e300:
        return f"{prefix} astronomically large (limit {limit}{unit})"
    shown = str(math.ceil(size)) if size < 1e15 else f"{size:.3g}"
    return f"{prefix} about {shown}{unit} (limit {limit}{unit})"


# -- size guard helpers ---------------------------------------------------------------
class _Est(NamedTuple):
    """Size estimate of a constant: approximate value (None: unknown) and an upper
    bound on the decimal digits of any exact number SymPy may evaluate it to."""

    value: complex | None
    digits: float


def _approx(fn: Callable[..., complex], *args: complex) -> complex | None:
    try:
        value = complex(fn(*args))
    except OverflowError:
        return complex(math.inf)
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    return None if cmath.isnan(value) else value


def _reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    def reciprocal(z: complex) -> complex:
        try:
            return 1 / f(z)
        except OverflowError:
            return 0j

    return reciprocal


def _sigmoid(z: complex) -> complex:
    return 1 / (1 + cmath.exp(-z)) if z.real >= 0 else cmath.exp(z) / (1 + cmath.exp(z))


def _of_reciprocal(f: Callable[[complex], complex]) -> Callable[[complex], complex]:
    return lambda z: f(1 / z)


_APPROX: dict[type, Callable[..., complex]] = {
    getattr(sympy, name): getattr(cmath, name)
    for name in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
                 "acosh", "atanh", "exp", "log")
}
_RECIPROCALS = {"cot": "tan", "sec": "cos", "csc": "sin", "coth": "tanh", "sech": "cosh",
                "csch": "sinh"}
_APPROX.update({getattr(sympy, r): _reciprocal(getattr(cmath, f)) for r, f in _RECIPROCALS.items()})
_APPROX.update({getattr(sympy, "a" + r): _of_reciprocal(getattr(cmath, "a" + f))
                for r, f in _RECIPROCALS.items()})
_APPROX.update({
    sympy.Abs: abs, sigmoid: _sigmoid,
    sympy.Max: lambda *z: max(z, key=lambda w: w.real),
    sympy.Min: lambda *z: min(z, key=lambda w: w.real),
})
"""SymPy class -> complex approximation, used only by the size guard."""
