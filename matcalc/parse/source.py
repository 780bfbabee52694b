"""The user's text before Python sees it: pre-checks, the column map and syntax errors.

``read(text, limits)`` checks the raw text (length, blank input, characters, brackets and a
cheap node count) and returns a ``Source``: the text as typed and the ASCII source given to
``ast.parse``, in which friendly Unicode (``−`` ``×`` ``·`` ``÷``, superscript exponents
``x²``, ``x²³``, ``x⁻¹``, and ``√`` as matcalc prints it) and ``^`` are rewritten to Python's
operators and functions, and Greek letters to their names (``ω`` to ``omega``).
``Source.column`` maps an index of that source back to the 1-based column of the text as
typed, so that every error points where the user typed.

Only printable ASCII passes (after the friendly replacements), and not ``# $ ? ` \\ ;``
(``#`` would silently comment out the rest).  A control or format character (a
bidirectional override, a zero-width space) is named in the error escaped, never raw.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Collection
from typing import NamedTuple

from matcalc.errors import LimitError, MatcalcError, ParseError
from matcalc.limits import Limits
from matcalc.msg import Msg

_FRIENDLY = {
    "\u2212": "-",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u00f7": "/",
    "\u2297": "*",  # ⊗, the paper's element-wise product (as matcalc prints it)
    "\u2299": "*",  # ⊙
    "\u2218": "*",  # ∘
    "\u1d40": ".T ",  # ᵀ, apart from what follows: wᵀx is wᵀ and x (it was the attribute Tx)
    "\U0001d7d9": " 1 ",  # 𝟙, the gate 𝟙[z > 0] as matcalc prints it (answers only), apart:
    # x𝟙, 𝟙0 and 𝟙.5 were x1, 10 and 3/2
    "\u2265": ">=",  # ≥ and ≤, in a gate 𝟙[z ≥ 0] of an answer
    "\u2264": "<=",
    "^": "**",
}
_PRODUCT_SIGNS = ("\u00b7", "\u22c5", "\u00d7")
"""· ⋅ ×: with declared vectors, the product the shapes call for (``Source(dot=True)``)."""
_SUPERSCRIPTS = str.maketrans(
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b", "0123456789-"
)
_POWER_RE = re.compile("\u207b?[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+")
"""A run of superscript digits is one exponent, as written: x²³ is x**(23), x⁻¹ is x**(-1)."""
GREEK = {
    "\u03b1": "alpha",
    "\u03b2": "beta",
    "\u03b3": "gamma",
    "\u03b4": "delta",
    "\u03b5": "epsilon",
    "\u03f5": "epsilon",
    "\u03b6": "zeta",
    "\u03b7": "eta",
    "\u03b8": "theta",
    "\u03d1": "theta",
    "\u03b9": "iota",
    "\u03ba": "kappa",
    "\u03bb": "lamda",
    "\u03bc": "mu",
    "\u03bd": "nu",
    "\u03be": "xi",
    "\u03c0": "pi",
    "\u03c1": "rho",
    "\u03c3": "sigma",
    "\u03c4": "tau",
    "\u03c5": "upsilon",
    "\u03c6": "phi",
    "\u03d5": "phi",
    "\u03c7": "chi",
    "\u03c8": "psi",
    "\u03c9": "omega",
}
"""Lowercase Greek letters are the names SymPy prints as those letters (ω is omega, λ is
lamda, π the constant pi), so a physicist's ω·t is omega·t and prints as ω·t.  Not ο
(omicron), which looks like o, nor capitals, which look like Latin ones."""
_ROOT = "\u221a"
_DIGITS = tuple("0123456789")
_OPEN, _CLOSE = {"(": ")", "[": "]", "{": "}"}, {")": "(", "]": "[", "}": "{"}
ACCEPTED = frozenset(
    [*GREEK, *(ch for ch in _FRIENDLY if not ch.isascii()), *"\u2070\u00b9\u00b2\u00b3\u207b"]
    + [chr(c) for c in range(0x2074, 0x207A)]
    + [_ROOT, "\u2202", "\u2016", "\U0001d7cf", "\U0001d7ce"]
)
"""The characters outside ASCII that the parser reads (Greek letters, superscript digits,
−, ×, ·, ⋅, ÷, ⊗, ⊙, ∘, ᵀ, √): an error shows them as typed, every other one escaped."""
_ROOT_RE = re.compile(
    r"(?<![A-Za-z_)\]"
    + "".join(GREEK)
    + "])"
    + _ROOT
    + r"(?:(?=[ \t]*\()|(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]*)?|"
    + "["
    + "".join(GREEK)
    + "]"
    + r")(?![ \t]*[(\[.^]|[ \t]*\*\*|[A-Za-z0-9_\u2070\u00b9\u00b2\u00b3\u2074-\u207b]))"
)
"""√ as matcalc prints it: before a bracket, √(x + 1) is sqrt(x + 1); before a name or a
number that nothing binds to more tightly, √x is sqrt(x) and √2·x is sqrt(2)*x.  Before
anything else (√x², √sin(x), √x.T) it is refused, with a hint to write √(…), and so it is
right after an operand (x√x: "write x*√x")."""
_FRIENDLY_RE = re.compile(
    "|".join([_ROOT_RE.pattern, _POWER_RE.pattern, *map(re.escape, [*_FRIENDLY, *GREEK])])
)


def _friendly(typed: str) -> str:
    """The ASCII source of one match of ``_FRIENDLY_RE``."""
    if typed == _ROOT:  # before a bracket
        return "sqrt"
    if typed.startswith(_ROOT):
        return f"sqrt({ascii_names(typed[1:])})"
    if typed in _FRIENDLY:
        return _FRIENDLY[typed]
    if typed in GREEK:
        return GREEK[typed]
    return f"**({typed.translate(_SUPERSCRIPTS)})"


def ascii_names(text: str) -> str:
    """``text`` with its Greek letters spelled out, as the parser reads them (for --wrt ω)."""
    return "".join(GREEK.get(ch, ch) for ch in text)


_GREEK_LETTER = "[" + "".join(GREEK) + "]"
_GREEK_RUN = re.compile(
    f"{_GREEK_LETTER}[A-Za-z]|[A-Za-z]{_GREEK_LETTER}|{_GREEK_LETTER}{_GREEK_LETTER}"
)
"""A Greek letter side by side with a Latin one or another Greek one: ωt, tω, αβ."""
_BEFORE_OPERAND = re.compile(r"([A-Za-z][A-Za-z0-9_]*)[ \t]+\Z")
_OPERAND = re.compile(r"[A-Za-z0-9_.]+")
"""``sin x``: a name, blanks, then the operand Python stumbled on."""
_EQUATION = re.compile(
    r"\s*([A-Za-z_]\w*(?:\([^()=]*\))?|d[A-Za-z_]\w*\s*/\s*d[A-Za-z_]\w*)\s*=(?!=)(.*)\Z", re.S
)
"""``y = x^2``, ``f(x) = x^2`` or ``dy/dx = 2x`` (an answer as students write it): an
equation, whose right side is the expression."""
_EQUALS = re.compile(r"(?<![=<>!])=(?!=)")
"""One = (not ==, <=, >=, !=): an equation, where the others were not a definition."""
_NAME_BEFORE = re.compile(r"[A-Za-z0-9_.]*\Z")
_TRANSPOSED_END = re.compile(r"(?:\*\*\s*T|\.T)(?=\s*\Z)")
"""A head that ends in a transpose, x**T (x^T) or x.T (xᵀ): juxtaposed, a matrix product."""
_RIGHT_OPERAND = re.compile(r"[A-Za-z0-9_.]+(?:\([^()]*\))?")
"""Two operands side by side (``x y``, ``sin(x)cos(x)``): a product without its ``*``."""
_GAP = re.compile(r"[\w.)\]][ \t]+(?=[\w(])")
"""Blanks between the end of an operand and the start of another: where a * is missing."""
_BAD_CHAR = re.compile(r"[^\t -~]|[#$?`\\;]")
_BRACKET = re.compile(r"""[()\[\]{}'"]""")
_WORD = re.compile(r"[A-Za-z0-9_.]+")
_RESERVED = re.compile(
    r"(?<![\w.])("
    + "|".join(
        sorted(set(keyword.kwlist) - {"and", "or", "not", "if", "else", "True", "False", "None"})
    )
    + r")(?!\w)"
)
"""Words Python keeps for itself that are no operator of the input language: typed as a
name (lambda for λ, in, is, as, …) they were 'invalid syntax' at a column."""


_GREEK_NAME = "[" + "".join(GREEK) + "]"
_WRITTEN_ORDER = r"(?:\^\s*(?P<{0}>[2-9])|(?P<{1}>[\u00b2\u00b3]))?"
_WRITTEN_DERIVATIVE = re.compile(
    r"\s*[d\u2202]"
    + _WRITTEN_ORDER.format("k1", "s1")
    + r"\s*/\s*[d\u2202]\s*(?P<var>[A-Za-z_][A-Za-z0-9_]*|"
    + _GREEK_NAME
    + ")"
    + _WRITTEN_ORDER.format("k2", "s2")
    + r"(?=[ \t(\[])"
)
"""``d/dx sin(x)``, ``d/dx(x²)``, ``∂/∂y [x*y]``, ``d²/dx² f``: the derivative written
before the expression."""
_DEFINITION = re.compile(
    r"\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*(?:\((?P<args>[^()=]*)\))?\s*=(?!=)(?=.*\S)", re.S
)
"""``y = x²``, ``f(x) = x²``, ``f(x, y) = x*y``: a definition, whose right side is the
expression."""
_PLAIN_NAMES = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*\s*\Z")
_OUTPUT_NAME = re.compile(r"[A-Za-z][0-9]*\Z")
_SUPERSCRIPT_ORDER = {"\u00b2": 2, "\u00b3": 3}


class Written(NamedTuple):
    """What the text says around its expression: ``skip`` characters before it (d/dx, y =),
    the variable and order of a written derivative (0: no order is written, as in a
    definition), and the name of a definition."""

    skip: int = 0
    wrt: str | None = None
    order: int = 0
    output: str | None = None


_HALFWIDTH = {0x3000: " ", **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}}


def halfwidth(text: str) -> str:
    """``text`` with the full-width forms of ASCII characters (U+FF01 to U+FF5E, and the
    ideographic space) as ASCII, one character for one, so columns stay as typed: a Chinese
    or Japanese input method types （x＋1）＾２，ｙ, which is (x+1)^2,y."""
    return text.translate(_HALFWIDTH) if any(ord(ch) >= 0x3000 for ch in text) else text


def _built_in(name: str) -> bool:
    """A function the parser knows (sin, exp, norm, …), or refuses by name (gamma)."""
    from matcalc.parse.functions import FUNCTIONS, UNSUPPORTED, VECTOR_FUNCTIONS

    return name in FUNCTIONS or name in VECTOR_FUNCTIONS or name in UNSUPPORTED


def written(text: str) -> Written:
    """The derivative or definition written before the expression, as a user writes it on
    paper: ``d/dx sin(x)`` is sin(x) by x, ``d²/dx² x⁴`` of order 2, ``y = x²`` names the
    result y, ``f(x, y) = x*y`` is by x and y.  Text only: nothing is evaluated.  (Full-width
    forms are the caller's to read, ``halfwidth``, as ``derive`` does first.)"""
    match = _WRITTEN_DERIVATIVE.match(text)
    if match is not None:
        orders = [
            int(match.group(k))
            if match.group(k)
            else _SUPERSCRIPT_ORDER.get(match.group(s) or "", 1)
            for k, s in (("k1", "s1"), ("k2", "s2"))
        ]
        rest = text[match.end() :]
        if orders[0] == orders[1] and rest.strip():
            return Written(match.end(), ascii_names(match.group("var")), orders[0])
        return Written()
    match = _DEFINITION.match(text)
    if match is None:
        return Written()
    args = match.group("args")
    if args is not None and _built_in(match.group("name")):
        return Written()  # sin(x) = cos(x): an equation, not a definition of sin
    plain = args is not None and _PLAIN_NAMES.match(ascii_names(args))
    wrt = ascii_names(args).replace(" ", "") if plain else None
    if args is not None and wrt is None:
        return Written()  # f(2) = …: no definition
    name = match.group("name")
    return Written(match.end(), wrt, 0, name if _OUTPUT_NAME.match(name) else None)


def read(
    text: str, limits: Limits, dot: bool = False, skip: int = 0, functions: Collection[str] = ()
) -> Source:
    """The ``Source`` of ``text`` once its pre-checks pass; a ``MatcalcError`` otherwise.

    ``skip``: the first characters are not the expression (``written``'s d/dx or y =);
    Python sees blanks there, and errors still point into the text as typed.

    ``dot`` (declared vectors): · ⋅ × are read as ``@``, which the parser takes as the
    dot or matrix product between two vectors or matrices (as matcalc prints w·x and A·x)
    and as a plain product where one side is a scalar; without it they are ``*``."""
    if len(text) > limits.max_length:
        raise LimitError(
            Msg("err.too_long", length=len(text), limit=limits.max_length),
            text=text[: limits.max_length],
        )
    text = halfwidth(text)
    if not text.strip():
        raise ParseError(Msg("err.empty"), text=text)
    source = Source(text, dot, skip, functions)
    source.check_characters()
    source.check_greek_runs()
    source.check_brackets(limits.max_depth)
    source.check_size(limits.max_nodes)
    return source


class Source:
    """The user's text, the ASCII source given to Python, and the column map between them."""

    def __init__(
        self, text: str, dot: bool = False, skip: int = 0, functions: Collection[str] = ()
    ) -> None:
        self.text, self.skip, self.dot, self.functions = text, skip, dot, functions
        # (start, end, ASCII) of each run of the text written otherwise in the source, in
        # order: the friendly signs (_FRIENDLY_RE) and the bars of |x| (abs_bars)
        # 2x, 3x⁴, 2sin(x), 2(x + 1), 2√x: a number against what it multiplies, as matcalc
        # prints it; a zero-width piece that Python sees as *
        products = number_products(text, skip)
        pieces = [
            (
                m.start(),
                m.end(),
                "@" if dot and m.group() in _PRODUCT_SIGNS else _friendly(m.group()),
            )
            for m in _FRIENDLY_RE.finditer(text)
            # √ right after a digit is a root only after a number it multiplies (2√x), not
            # after a name's digit (x2√x: left as typed, and refused)
            if not (m.group()[0] == _ROOT and text[m.start() - 1 : m.start()] in _DIGITS)
            or m.start() in products
        ]
        bars = abs_bars(text, skip, functions)
        if bars:
            pieces += [(i, i + 1, ascii) for i, ascii in bars.items()]
        pieces = sorted(pieces + [(i, i, "*") for i in products])
        self._pieces = pieces
        out, at = [], 0
        for start, end, ascii in pieces:
            out += [text[at:start], ascii]
            at = end
        out.append(text[at:])
        src = "".join(out)
        head = self.src_index(skip)  # the source of the text before the expression: blanks
        self.src = " " * head + (_brackets_round(src[head:]) if skip else src[head:])

    def src_index(self, index: int) -> int:
        """The index in the source of the text's ``index`` (at a piece's start)."""
        shift = 0
        for start, end, ascii in self._pieces:
            if start >= index:
                break
            shift += len(ascii) - (end - start)
        return index + shift

    def column(self, index: int) -> int:
        """1-based column in the user's text of ``src[index]`` (computed only for errors)."""
        return self.typed(index)[0] + 1

    def typed(self, index: int) -> tuple[int, int]:
        """The user's characters that ``src[index]`` was read from, as a slice of the text
        (√x for any index in its sqrt(x), the bar for abs(; computed only for errors)."""
        shift = 0  # how much longer src is than text so far
        for start, end, ascii in self._pieces:
            at = start + shift
            if index < at:
                break
            if index < at + len(ascii):
                return start, end
            shift += len(ascii) - (end - start)
        return index - shift, index - shift + 1

    def typed_text(self, start: int, end: int) -> str:
        """The user's text of ``src[start:end]`` (w·x where the source has w@x)."""
        if end <= start:
            return ""
        return self.text[self.typed(start)[0] : self.typed(end - 1)[1]].strip()

    def error(self, cls: type[MatcalcError], message: str | Msg, index: int) -> MatcalcError:
        return cls(message, column=self.column(max(0, index)), text=self.text)

    def check_greek_runs(self) -> None:
        """``ωt``: a Greek letter run into a Latin one (or the other way) would be one name,
        omegat, where a physicist means ω·t."""
        match = _GREEK_RUN.search(self.text, self.skip)
        if match is None:
            return
        name = match.group()
        product = "*".join(name)
        msg = Msg("err.greek_run", name=name, product=product)
        raise ParseError(msg, column=match.start() + 1, text=self.text)

    def check_characters(self) -> None:
        match = _BAD_CHAR.search(self.src)
        if match is None:
            return
        ch = match.group()
        if ch == "#":
            msg = Msg("err.comment")
        elif ch == "\u2016":  # ‖x‖
            msg = Msg("err.norm_bars")
        elif ch in ("\U0001d7cf", "\U0001d7ce"):  # 𝟏 and 𝟎, as matcalc prints them
            msg = Msg("err.bold_digit", ch=ch, write="ones(n)" if ch == "\U0001d7cf" else "0")
        elif ch == _ROOT:  # not before a bracket, a name or a number (see _ROOT_RE)
            if self.src[: match.start()].endswith(tuple("_)]0123456789")) or (
                self.src[: match.start()][-1:].isalpha()
            ):
                left = _left_operand(self.src[: match.start()])
                typed = self.typed_text(match.start() - len(left), match.start()) if left else "x"
                msg = Msg("err.missing_star_root", left=typed)
            else:
                msg = Msg("err.root_sign")
        elif ch in ("\u221b", "\u221c"):  # ∛ ∜
            msg = Msg("err.cube_root" if ch == "\u221b" else "err.fourth_root")
        elif " " <= ch <= "~":
            msg = Msg("err.character", ch=f"'{ch}'")
        else:  # show control and format characters escaped, never raw
            shown = f"'{ch}'" if ch.isprintable() else ascii(ch)
            code = f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".rstrip()
            msg = Msg("err.character.code", ch=shown, code=code)
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
                    msg = Msg("err.brackets_deep", depth=max_depth)
                    raise self.error(LimitError, msg, i)
            elif not stack or src[stack[-1]] != _CLOSE[ch]:
                raise self.error(ParseError, Msg("err.unmatched", ch=ch), i)
            else:
                stack.pop()
            match = _BRACKET.search(src, i + 1)
        if stack:
            raise self.error(ParseError, Msg("err.unclosed", ch=src[stack[-1]]), stack[-1])

    def check_size(self, max_nodes: int) -> None:
        """Cheap lower-bound node count, so a huge input never reaches Python's parser."""
        words = sum(1 for _ in _WORD.finditer(self.src))
        operators = sum(self.src.count(op) for op in "+-*/%@&|~<>=") // 2
        if words + operators > 2 * max_nodes:
            msg = Msg("err.too_many_nodes", nodes=max_nodes)
            raise self.error(LimitError, msg, 0)

    def syntax_error(
        self, exc: SyntaxError, offset: int, functions: Collection[str] = ()
    ) -> MatcalcError:
        """The ``MatcalcError`` for Python's ``exc``, with a hint where the slip is a usual
        one: ``sin x`` (a call without parentheses among ``functions``), ``|x|``."""
        hint = self._hint(exc, offset, functions)
        if hint is not None:
            return hint
        msg = exc.msg or ""
        if "nested" in msg or "too complex" in msg or "Exceeds the limit" in msg:
            return self.error(LimitError, Msg("err.too_deep"), 0)
        index = (exc.offset or 0) - 1 + offset
        if not offset <= index < len(self.src):
            return self.error(ParseError, Msg("err.unexpected_end"), len(self.src.rstrip()))
        if msg.startswith("invalid decimal literal"):
            while index < len(self.src) and (self.src[index].isdigit() or self.src[index] in "._"):
                index += 1
            ambiguous = self._ambiguous_product(index)
            return ambiguous or self.error(ParseError, Msg("err.missing_star"), index)
        if msg.startswith("unterminated"):
            quote = self.src.find("'", offset)
            if quote > 0 and (self.src[quote - 1].isalnum() or self.src[quote - 1] in "_)"):
                return self.error(ParseError, Msg("err.prime"), quote)  # x' (MATLAB), f'(x)
            return self.error(ParseError, Msg("err.unterminated_string"), index)
        return self.error(ParseError, Msg("err.invalid_syntax"), index)

    def _hint(
        self, exc: SyntaxError, offset: int, functions: Collection[str]
    ) -> MatcalcError | None:
        """``sin x`` -> "write sin(x)"; ``|x|`` -> "write abs(x)"; else None."""
        index = (exc.offset or 0) - 1 + offset
        if "forgot a comma" in (exc.msg or "") and exc.end_offset:  # σ(wᵀx + b), sin(x y):
            end = exc.end_offset - 1 + offset  # Python points at the first of the two
            gap = _GAP.search(self.src, max(index, 0), end)
            if gap is not None:
                index = gap.end()
        before = _BEFORE_OPERAND.search(self.src[: max(index, 0)])
        operand = _OPERAND.match(self.src, index) if 0 <= index < len(self.src) else None
        if before is not None and operand is not None and before.group(1) in functions:
            call = f"{before.group(1)}({self.typed_text(*operand.span())})"
            return self.error(ParseError, Msg("err.call_parentheses", call=call), before.start())
        if self.src[index : index + 1] == "!" and self.src[index + 1 : index + 2] != "=":
            return self.error(ParseError, Msg("err.factorial_bang"), index)
        reserved = _RESERVED.search(self.src)
        if reserved is not None:  # lambda·‖w‖², the regularisation weight, as typed
            word = reserved.group(1)
            key = "err.reserved_lambda" if word == "lambda" else "err.reserved_word"
            return self.error(ParseError, Msg(key, word=word), reserved.start(1))
        product = self._bar_product()
        if product is not None:
            return product
        bar = self.src.find("|")
        if bar >= 0 and self.src.find("|", bar + 1) > bar:
            key = "err.norm_bars" if self.src[bar : bar + 2] == "||" else "err.abs_bars"
            return self.error(ParseError, Msg(key), bar)
        equation = _EQUATION.match(self.src)
        if equation is not None and _built_in(equation.group(1).split("(")[0].strip()):
            equation = None  # sin(x) = cos(x): an equation, said below
        if equation is not None and equation.group(2).strip():
            start, end = self.column(equation.start(1)), self.column(equation.end(1) - 1)
            left_side = self.text[start - 1 : end]  # as typed: f(ω), not f(omega)
            return self.error(ParseError, Msg("err.equation", left=left_side), equation.start(2))
        sign = _EQUALS.search(self.src)
        if sign is not None:  # x^2 + 2x + 1 = 0, x^2 + y^2 = 25: an equation, not an expression
            return self.error(ParseError, Msg("err.equation_sides"), sign.start())
        if not 0 <= index < len(self.src):
            return None
        head = self.src[:index]
        left = _left_operand(head)
        right = _RIGHT_OPERAND.match(self.src, index)
        apart = head.endswith((" ", "\t", ")"))  # not 3.5x, which Python reads apart
        if left and right is not None and apart:  # x y, 2 x, sin(x)cos(x), x sin(x)
            end = len(head.rstrip(" \t"))
            start = end - len(left)
            power = head[:start].rstrip(" \t")
            if power.endswith("**"):  # x²√x: the power x², not its exponent
                base = power[:-2].rstrip(" \t")
                start = len(base) - len(_left_operand(base))
            typed_left = self.typed_text(start, end)
            pair = f"{typed_left}*{self.typed_text(*right.span())}"  # as typed: x²*√x
            transposed = _TRANSPOSED_END.search(head)
            if self.dot and transposed is not None:  # xᵀ A x (x^T A x): a matrix product
                base = _left_operand(head[: transposed.start()])
                start = transposed.start() - len(base)
                typed = self.typed_text(start, transposed.end())
                pair = f"{typed} @ {self.typed_text(*right.span())}"
                return self.error(ParseError, Msg("err.missing_matmul_between", pair=pair), index)
            return self.error(ParseError, Msg("err.missing_star_between", pair=pair), index)
        return None

    def _ambiguous_product(self, index: int) -> MatcalcError | None:
        """1/2x or e^2x (a number against a name right after / or ^, at ``src[index]``):
        both readings to write; None for any other number against a name."""
        head = self.src[:index]
        number = re.search(r"[0-9.]+\Z", head)
        if number is None:
            return None
        before = head[: number.start()].rstrip(" \t")
        sign = ""
        if before[-1:] in ("-", "+"):  # x^-2y: the exponent's sign
            sign = self.typed_text(len(before) - 1, len(before))
            before = before[:-1].rstrip(" \t")
        op = "^" if before.endswith("**") else before[-1:]
        if op not in ("/", "^"):
            return None
        base = before[: -2 if before.endswith("**") else -1].rstrip(" \t")
        operand = _left_operand(base)
        power = base[: len(base) - len(operand)].rstrip(" \t")
        if operand and power.endswith("**"):  # x^2/2x: the power x^2, not its exponent 2
            inner = power[:-2].rstrip(" \t")
            operand = base[len(inner) - len(_left_operand(inner)) :]
        right = _RIGHT_OPERAND.match(self.src, index)
        if not operand or right is None:
            return None
        num, name = sign + number.group(), self.typed_text(*right.span())
        typed_op = self.typed_text(len(base), len(before)).strip() or op
        left = self.typed_text(len(base) - len(operand), len(base))
        first = f"{left}{typed_op}({num}*{name})"
        second = f"{left}{typed_op}{num}*{name}" if op == "^" else f"({left}{typed_op}{num})*{name}"
        msg = Msg(
            "err.ambiguous_product",
            typed=f"{left}{typed_op}{num}{name}",
            first=first,
            second=second,
        )
        return self.error(ParseError, msg, index)

    def _bar_product(self) -> MatcalcError | None:
        """``2|x|`` or ``x|x - 1|``: an operand right before an absolute value whose bars
        pair once a * is put between them -> "write 2*|x|"; else None."""
        text = self.text
        for i in range(self.skip, len(text)):
            head = text[self.skip : i].rstrip(" \t")
            if text[i] != "|" or not head or not _ends_operand(head[-1]):
                continue
            bars = abs_bars(text[:i] + "*" + text[i:], self.skip, self.functions)
            if i + 1 not in bars:
                continue
            depth, close = 0, i + 1
            for close in sorted(k for k in bars if k > i + 1):  # the bar closing this one
                depth += 1 if bars[close].endswith("(") else -1
                if depth < 0:
                    break
            pair = f"{_left_operand(head).strip()}*{text[i:close]}"
            return ParseError(Msg("err.missing_star_between", pair=pair), column=i + 1, text=text)
        return None


_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_MULTIPLIED = re.compile("[A-Za-z(" + "".join(GREEK) + _ROOT + "]")
_LITERAL_TAIL = re.compile(r"[eE][+-]?[0-9]|[jJ](?![A-Za-z0-9_])|(?<=0)[xXbBoO][0-9A-Fa-f]")
"""After a number, what makes it one Python literal: 1e5, 2e-3, 2j (complex), 0x1F."""


def number_products(text: str, skip: int = 0) -> list[int]:
    """The indices of ``text`` (from ``skip``) right after a number written against what it
    multiplies, a name, a function or a bracket: 2x, 3.5y, 2sin(x), 2(x + 1), 2π, 10x·y.
    Not within a name (x2, log10), a literal (1e5, 2j) or a blank apart (2 x: refused with
    "write 2*x"), nor right after / or ^ (and ** or √), where it is ambiguous: 1/2x is
    1/(2x) to some and x/2 to Python, e^2x is e^(2x) or e²·x; those are refused (see
    ``Source.syntax_error``)."""
    out = []
    for m in _NUMBER.finditer(text, skip):
        end = m.end()
        if end >= len(text) or not _MULTIPLIED.match(text, end):
            continue
        before = text[skip : m.start()]
        if before and (before[-1].isalnum() or before[-1] in "_."):
            continue  # x2y, log10(x): within a name
        if _LITERAL_TAIL.match(text, end):
            continue
        last = before.rstrip(" \t")
        if last[-1:] in ("-", "+", "\u2212"):  # x^-2y, sin^-1(x): the exponent's sign
            last = last[:-1].rstrip(" \t")
        if last[-1:] in ("/", "^", "\u00f7", _ROOT) or last.endswith("**"):
            continue  # 1/2x, e^2x, 2**3x, √2x: ambiguous, refused
        out.append(end)
    return out


def _ends_operand(ch: str) -> bool:
    """Whether an operand may end with ``ch``: a name, a number, a bracket, x', 5!."""
    return ch.isalnum() or ch in "_)]}.'!"


def abs_bars(text: str, skip: int = 0, functions: Collection[str] = ()) -> dict[int, str]:
    """The bars of ``|x|`` in ``text`` (from ``skip``), each index to its ASCII: ``abs(`` where
    a bar opens, ``)`` where it closes; ``(abs(`` and ``))`` right after a function's name
    (``ln|x|`` is ln(|x|)).  A bar opens where an operand is expected (at the start, after an
    operator, an opening bracket or another opening bar) and closes after an operand, the
    innermost open bar at the same depth of brackets.  Empty (nothing read as |x|) where the
    bars do not pair that way (``2|x|``, ``|x|y|``, ``(|x)|``), or pair as a norm ``||x||``:
    the parser's hints for those stand."""
    if "|" not in text:
        return {}
    out: dict[int, str] = {}
    stack: list[tuple[int, int]] = []  # (index, bracket depth) of each open bar
    closed_at: dict[int, int] = {}  # index of an opening bar -> index of its closing bar
    depth, last = 0, None  # last: index of the last character that is not blank
    for i in range(skip, len(text)):
        ch = text[i]
        if ch in " \t":
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if stack and stack[-1][1] == depth:
                return {}  # (|x) or [|x]: the bar is not closed within its brackets
            depth -= 1
        elif ch == "|":
            name = _NAME_BEFORE.search(text, skip, last + 1) if last is not None else None
            word = name.group() if name is not None else ""
            after_operand = last is not None and (
                _ends_operand(text[last]) or out.get(last) in (")", "))")
            )
            if word and word in functions and last is not None and text[last].isalnum():
                out[i] = "(abs("  # ln|x|: the function's argument
                stack.append((i, depth))
            elif not after_operand:
                out[i] = "abs("
                stack.append((i, depth))
            elif stack and stack[-1][1] == depth:
                opened = stack.pop()[0]
                out[i] = "))" if out[opened] == "(abs(" else ")"
                closed_at[opened] = i
            else:
                return {}  # 2|x| or |x|y|: not an absolute value as written
        last = i
    if stack:
        return {}
    if any(i + 1 in closed_at and closed_at[i + 1] + 1 == c for i, c in closed_at.items()):
        return {}  # ||x||: the norm's bars (the parser says to write norm(x))
    return out


def _brackets_round(src: str) -> str:
    """``src`` with one pair of square brackets around the whole written as parentheses
    (after a written derivative: d/dx [x²]), the same width; anything else as it is."""
    inner = src.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return src
    stack: list[str] = []
    for i, ch in enumerate(inner):
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _CLOSE and (not stack or stack.pop() != _CLOSE[ch]):
            return src  # [x + (x]: the brackets' own error, where it is
        if not stack and i < len(inner) - 1:
            return src  # [a] + [b]: not one pair
    start, end = src.index("["), src.rindex("]")
    return src[:start] + "(" + src[start + 1 : end] + ")" + src[end + 1 :]


def _left_operand(text: str) -> str:
    """The operand that ends ``text`` (a name or number, or a call or bracket up to its
    ``)``), blanks after it allowed; "" where ``text`` does not end in one."""
    text = text.rstrip(" \t")
    end = len(text)
    if text.endswith(")"):
        depth = 0
        for end in range(len(text) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(text[end], 0)
            if depth == 0:
                break
        else:
            return ""
    name = _NAME_BEFORE.search(text[:end])
    return (name.group() if name else "") + text[end:]


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


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]
