r"""Worked-solution documents laid out as Markdown or LaTeX (data from ``matcalc.documents``).

``render_document(doc)`` picks ``MarkdownDocument`` or ``LatexDocument``.  Both
lay out the same parts, in order: the front matter (title, author, where the
document comes from), the table of contents, then each section and its numbered
problems.  A problem is its heading, its derivation (rendered by the worker
with ``Derivation.to_markdown``/``to_latex``, which ends with the result and its
verification), then its notes; a failed problem shows its error instead.

``markup(text, fmt)`` turns author text (prose with ``$…$`` math) into the
format.  Every sentence comes from ``messages``.

To add a format: subclass ``DocumentLayout`` with its primitives (``_front``,
``_contents``, ``_section``, ``_problem``, ``_join``) and add it to ``LAYOUT_OF_FORMAT``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from matcalc.errors import FieldError, visible
from matcalc.msg import Msg
from matcalc.render.latex import COMPACT_PREAMBLE, MATH_CHARS, MULTICOLS, escape_prose
from matcalc.render.markdown import escape_markdown
from matcalc.render.messages import Prose, message

# $…$ not preceded by a backslash; the content may not be empty.
_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
# Prose characters escape_prose leaves alone that pdflatex (OT1, utf8) cannot typeset as they are.
_LATEX_PROSE = {"§": r"\S{}", "…": r"\ldots{}", "\u00a0": "~", "¶": r"\P{}", "©": r"\copyright{}"}
# What Markdown reads as the start of a block (heading, quote, list, table, rule).
_BLOCK_START = re.compile(r"^(\s*)([#>+\-=|]|\d+[.)])")


def markup(text: str, fmt: str, *, paragraph: bool = False) -> str:
    """Author text for ``fmt``: ``$…$`` kept as math (Unicode symbols made LaTeX), the rest escaped.

    ``paragraph``: the text starts a Markdown block, so a leading "#", "-" or
    "1." must not make it a heading or a list.  LaTeX output must stay within
    what pdflatex typesets from texlive-latex-base: a character it cannot (say
    ○ or 梯) raises ``ValueError`` naming it.
    """
    out = []
    for i, piece in enumerate(_MATH.split(text)):
        if i % 2:
            out.append(f"${_math(piece)}$")
            continue
        prose = visible(piece.replace(r"\$", "$"))  # no raw control or bidi characters
        out.append(_latex_prose(prose) if fmt == "latex" else _brackets(escape_markdown(prose)))
    result = "".join(out)
    if fmt == "markdown":
        if not paragraph:
            return result
        return _BLOCK_START.sub(lambda m: m.group(1) + _escape_block(m.group(2)), result, count=1)
    _check_latex(result)
    return result


def code(text: str, fmt: str) -> str:
    """Text shown as typed, in a monospaced font: a problem's expression when it has no title."""
    text = visible(text)
    if fmt == "latex":
        return rf"\texttt{{{typesettable(escape_prose(text))}}}"
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _latex_prose(text: str) -> str:
    escaped = escape_prose(text)
    return "".join(_LATEX_PROSE.get(ch, ch) for ch in escaped)


def _math(text: str) -> str:
    out = []
    for ch in text:
        command = MATH_CHARS.get(ch, ch)
        out.append(command + " " if command[-1:].isalpha() and command != ch else command)
    latex = "".join(out)
    check_math(latex)
    return latex


# -- math from a problem file: a small checked whitelist --------------------------------
# Author math reaches pdflatex (and KaTeX) as written, so it may only use these commands,
# with their arguments in braces: no \def, \input, \write, \catcode, no & or # or %, and
# nothing that stops pdflatex (an unbalanced brace, a double superscript) and so would
# cost every other problem of the document.
_GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
)
MATH_COMMANDS_0 = frozenset(
    (
        _GREEK + " partial nabla cdot cdots ldots dots vdots ddots times div pm mp le leq ge geq "
        "ne neq approx equiv sim simeq propto in notin subset subseteq cup cap to rightarrow "
        "leftarrow Rightarrow Leftarrow Leftrightarrow iff implies mapsto infty sum prod int top "
        "bot prime circ bigcirc otimes oplus odot oslash ell ln log exp sin cos tan cot sec csc "
        "sinh cosh tanh coth arcsin arccos arctan max min sup inf lim det dim ker arg quad qquad "
        "lbrace rbrace langle rangle lvert rvert lVert rVert vert Vert mid forall exists "
        "emptyset star ast bullet surd displaystyle textstyle colon lfloor rfloor lceil rceil "
        "big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr"
    ).split()
)
"""Commands without arguments allowed in author math (``\\left``/``\\right`` are checked apart)."""
_ONE_ARGUMENT = (
    "mathbf mathrm mathit mathcal mathbb mathsf boldsymbol operatorname text hat bar tilde "
    "vec dot ddot overline underline widehat widetilde sqrt"
)
MATH_COMMANDS_1 = frozenset(_ONE_ARGUMENT.split())
MATH_COMMANDS_2 = frozenset({"frac", "dfrac", "tfrac", "binom"})
_MATH_CHARS_OK = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-*/=<>()[]|.,;:!?'"
)
_MATH_ESCAPES = frozenset(",;:! {}|_$%&#")
_DELIMITERS = (
    frozenset("()[]|./")
    | {r"\{", r"\}", r"\|"}
    | {
        "\\" + c
        for c in (
            "langle",
            "rangle",
            "lvert",
            "rvert",
            "lVert",
            "rVert",
            "vert",
            "Vert",
            "lfloor",
            "rfloor",
            "lceil",
            "rceil",
            "lbrace",
            "rbrace",
        )
    }
)
_TEXT_OK = re.compile(r"[A-Za-z0-9 ,.;:!?'()\-+=/]*")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|.", re.S)
_LEFT, _RIGHT = r"\left", r"\right"


def check_math(latex: str) -> None:
    """Refuse author math outside the whitelist: ``ValueError`` naming what, and how to write it."""
    _MathChecker(_TOKEN.findall(latex)).group(top=True)


class _MathChecker:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self) -> str | None:
        while self.at < len(self.tokens) and self.tokens[self.at].isspace():
            self.at += 1
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str | None:
        token = self.peek()
        self.at += token is not None
        return token

    def group(self, *, top: bool = False) -> None:
        """Tokens up to the closing brace (or the end, at the top), checked one by one."""
        scripts: set[str] = set()
        depth = 0  # \left ... \right
        while True:
            token = self.take()
            if token is None:
                if not top:
                    raise FieldError(Msg("err.math.open_brace"))
                break
            if token == "}":
                if top:
                    raise FieldError(Msg("err.math.close_brace"))
                break
            if token in ("^", "_"):
                if token in scripts:
                    which = "superscript" if token == "^" else "subscript"
                    raise FieldError(Msg("err.math.double", which=which, example="x^{a^b}"))
                scripts.add(token)
                self.argument(token)
                continue
            scripts = set()
            if token == "{":
                self.group()
            elif token in (_LEFT, _RIGHT):
                depth += 1 if token == _LEFT else -1
                if depth < 0:
                    raise FieldError(Msg("err.math.right"))
                if self.take() not in _DELIMITERS:
                    raise FieldError(Msg("err.math.delimiter", token=token))
            elif token.startswith("\\") and token[1:].isalpha():
                self.command(token)
            elif token.startswith("\\"):
                if token[1] not in _MATH_ESCAPES:
                    raise FieldError(Msg("err.math.token", token=repr(token)))
            elif token not in _MATH_CHARS_OK:
                raise FieldError(Msg("err.math.outside", token=repr(token)))
        if depth:
            raise FieldError(Msg("err.math.left"))

    def command(self, token: str) -> None:
        name = token[1:]
        if name in MATH_COMMANDS_0:
            return
        if name not in MATH_COMMANDS_1 and name not in MATH_COMMANDS_2:
            raise FieldError(Msg("err.math.command", token=token))
        if name == "sqrt" and self.peek() == "[":  # \sqrt[3]{x}
            self.take()
            while (t := self.take()) != "]":
                if t is None or t not in _MATH_CHARS_OK:
                    raise FieldError(Msg("err.math.sqrt", example=r"\sqrt[n]{x}"))
        for _ in range(2 if name in MATH_COMMANDS_2 else 1):
            if self.peek() != "{":
                example = rf"\{name}{{a}}{{b}}" if name in MATH_COMMANDS_2 else rf"\{name}{{x}}"
                raise FieldError(Msg("err.math.braces", token=token, example=example))
            self.take()
            self.text() if name == "text" else self.group()

    def argument(self, script: str) -> None:
        token = self.take()
        if token is None or token in ("}", "^", "_", _LEFT, _RIGHT):
            raise FieldError(Msg("err.math.script", script=script, example=f"x{script}{{2}}"))
        if token == "{":
            self.group()
        elif token.startswith("\\") and token[1:].isalpha():
            if token[1:] not in MATH_COMMANDS_0:
                example = f"x{script}{{{token}{{a}}}}"
                raise FieldError(
                    Msg("err.math.script_braces", token=token, script=script, example=example)
                )
        elif token.startswith("\\"):
            if token[1] not in _MATH_ESCAPES:
                raise FieldError(Msg("err.math.token", token=repr(token)))
        elif token not in _MATH_CHARS_OK:
            raise FieldError(Msg("err.math.outside", token=repr(token)))

    def text(self) -> None:
        r"""The argument of \text: plain words only (it is typeset in text mode)."""
        start = self.at
        while self.at < len(self.tokens) and self.tokens[self.at] != "}":
            self.at += 1
        if self.at == len(self.tokens):
            raise FieldError(Msg("err.math.open_brace"))
        words = "".join(self.tokens[start : self.at])
        self.at += 1
        if not _TEXT_OK.fullmatch(words):
            raise FieldError(Msg("err.math.text", example=r"\text{...}"))


def _brackets(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")


def _escape_block(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker


def _check_latex(text: str) -> None:
    for ch in text:
        if ord(ch) < 128 or (0xC0 <= ord(ch) <= 0xFF and ch not in "×÷ðÐþÞ"):
            continue
        name = unicodedata.name(ch, "unnamed")
        raise FieldError(Msg("err.math.typeset", ch=repr(ch), code=f"U+{ord(ch):04X} {name}"))


def typesettable(latex: str) -> str:
    """LaTeX with every character pdflatex cannot typeset written as its code point."""
    out = []
    for ch in latex:
        try:
            _check_latex(ch)
            out.append(ch)
        except ValueError:
            out.append(f"U+{ord(ch):04X}")
    return "".join(out)


def github_slug(text: str, taken: dict[str, int]) -> str:
    """The anchor GitHub (and MkDocs, for plain ASCII titles) gives a heading."""
    plain = re.sub(r"\\(.)", r"\1", text).lower()
    slug = "".join(ch for ch in plain if ch.isalnum() or ch in " -_").replace(" ", "-")
    count = taken.get(slug, 0)
    taken[slug] = count + 1
    return f"{slug}-{count}" if count else slug


class DocumentLayout:
    """The parts of a document in order; subclasses supply the format's primitives."""

    fmt = ""

    def __init__(self, *, lang: str = "en") -> None:
        self.lang = lang
        self.part = "solutions"
        self.compact = False

    def render(self, doc: Any) -> str:
        sets = doc.problems
        self.part, self.compact = doc.part, doc.compact
        title = self._markup_line(sets.title) if sets.title else self._msg("doc.title")
        author = self._markup_line(sets.author) if sets.author else ""
        sections = [self._markup_line(s.title) for s in sets.sections]
        headings = [self._problem_heading(s) for s in doc.solutions]
        subtitle = self._msg(f"doc.part.{doc.part}") if doc.part != "solutions" else ""
        if subtitle and not sets.title:  # "Problem sheet", not "Worked solutions"
            title, subtitle = subtitle, ""
        generated = self._msg("doc.generated", source=Prose(sets.source))
        parts = [self._front(title, subtitle, author, generated)]
        if doc.part == "solutions" and not doc.compact:  # a sheet or a key is short
            parts.append(self._contents(title, sections, doc.solutions, headings))
        groups = self._groups(len(sections), doc.solutions, headings)
        for index, members in groups:
            if index is not None:
                section = sets.sections[index]
                notes = section.notes.paragraphs(self.lang) if section.notes else ()
                notes = [markup(p, self.fmt, paragraph=True) for p in notes]
                parts.append(self._section(sections[index], notes))
            for solution, heading in members:
                parts.append(self._problem(solution, heading, nested=bool(sections)))
        return self._join(parts)

    @staticmethod
    def _groups(
        count: int, solutions: Sequence[Any], headings: Sequence[str]
    ) -> list[tuple[int | None, list]]:
        """(section index or None, [(solution, heading), …]) in document order, empty sections too."""
        groups: list[tuple[int | None, list]] = [(None, [])] + [(i, []) for i in range(count)]
        for solution, heading in zip(solutions, headings):
            index = 0 if solution.section is None else solution.section + 1
            groups[index][1].append((solution, heading))
        return [g for g in groups if g[0] is not None or g[1]]

    # -- shared helpers ---------------------------------------------------------------
    def _msg(self, key: str, **kw: object) -> str:
        return message(key, self.lang, escape=self._escape, **kw)

    def _markup_line(self, text: Any) -> str:
        return markup(text.line(self.lang), self.fmt)

    def _problem_heading(self, solution: Any) -> str:
        return self._msg("doc.problem", n=Prose(str(solution.number)), title=solution.title)

    def _notes(self, solution: Any) -> list[str]:
        return [self._strong(self._msg("doc.notes")), *solution.notes] if solution.notes else []

    def _failure(self, solution: Any) -> str:
        if self.fmt == "markdown":
            return self._strong(self._msg("doc.failed", message=Prose(visible(solution.error))))
        # "--wrt" must not become an en dash
        error = typesettable(escape_prose(visible(solution.error))).replace("--", "-{}-")
        return self._strong(self._msg("doc.failed", message=error))

    # -- primitives -------------------------------------------------------------------
    def _escape(self, text: str) -> str:
        raise NotImplementedError

    def _strong(self, text: str) -> str:
        raise NotImplementedError

    def _front(self, title: str, subtitle: str, author: str, generated: str) -> str:
        raise NotImplementedError

    def _contents(
        self, title: str, sections: Sequence[str], solutions: Sequence[Any], headings: Sequence[str]
    ) -> str:
        raise NotImplementedError

    def _section(self, title: str, notes: Sequence[str]) -> str:
        raise NotImplementedError

    def _problem(self, solution: Any, heading: str, nested: bool) -> str:
        raise NotImplementedError

    def _join(self, parts: Sequence[str]) -> str:
        raise NotImplementedError


class MarkdownDocument(DocumentLayout):
    """ATX headings, a bulleted contents list with GitHub anchors, blank lines between blocks."""

    fmt = "markdown"

    def _escape(self, text: str) -> str:
        return escape_markdown(text)

    def _strong(self, text: str) -> str:
        return f"**{text}**"

    def _front(self, title: str, subtitle: str, author: str, generated: str) -> str:
        lines = [f"# {title}"]
        if subtitle:
            lines.append(f"**{subtitle}**")
        if author:
            lines.append(self._msg("doc.author", author=author))
        lines.append(f"*{generated}*")
        return "\n\n".join(lines)

    def _contents(
        self, title: str, sections: Sequence[str], solutions: Sequence[Any], headings: Sequence[str]
    ) -> str:
        taken: dict[str, int] = {}
        contents = self._msg("doc.contents")
        for heading in (title, contents):  # headings before the listed ones take their anchors
            github_slug(heading, taken)
        lines = [f"## {contents}", ""]
        indent = "    " if sections else ""
        for index, members in self._groups(len(sections), solutions, headings):
            if index is not None:
                lines.append(f"- [{sections[index]}](#{github_slug(sections[index], taken)})")
            for solution, heading in members:
                failed = f" {self._msg('doc.failed.toc')}" if solution.failed else ""
                lines.append(f"{indent}- [{heading}](#{github_slug(heading, taken)}){failed}")
        return "\n".join(lines)

    def _section(self, title: str, notes: Sequence[str]) -> str:
        return "\n\n".join([f"## {title}", *notes])

    def _problem(self, solution: Any, heading: str, nested: bool) -> str:
        level = "###" if nested else "##"
        body = self._failure(solution) if solution.failed else solution.body
        return "\n\n".join([f"{level} {heading}", body, *self._notes(solution)])

    def _join(self, parts: Sequence[str]) -> str:
        return "\n\n".join(p for p in parts if p) + "\n"


class LatexDocument(DocumentLayout):
    r"""An ``article`` with amsmath and amssymb only, ``\tableofcontents`` and unnumbered headings."""

    fmt = "latex"
    # Wider text for long chain-rule products, without the geometry package.
    PREAMBLE = (
        "\\documentclass[11pt]{article}\n"
        "\\usepackage{amsmath}\n"
        "\\usepackage{amssymb}\n"
        "\\addtolength{\\textwidth}{1.4in}\n"
        "\\addtolength{\\oddsidemargin}{-0.7in}\n"
        "\\addtolength{\\evensidemargin}{-0.7in}\n"
        "\\allowdisplaybreaks\n"
        "\\sloppy\n"
    )

    def _escape(self, text: str) -> str:
        return escape_prose(text)

    def _strong(self, text: str) -> str:
        return rf"\medskip\noindent\textbf{{{text}}}\par"

    def _front(self, title: str, subtitle: str, author: str, generated: str) -> str:
        if subtitle:
            title += f"\\\\[0.3em]\\large {subtitle}"
        return (
            (COMPACT_PREAMBLE if self.compact else self.PREAMBLE)
            + f"\\renewcommand{{\\contentsname}}{{{self._msg('doc.contents')}}}\n"
            + f"\\title{{{title}}}\n\\author{{{author}}}\n\\date{{}}\n"
            + "\\begin{document}\n\\maketitle\n"
            + f"\\noindent\\textit{{{generated}}}\\par"
            + (f"\n\n{_COLUMNS}" if self.compact else "")
        )

    def _contents(
        self, title: str, sections: Sequence[str], solutions: Sequence[Any], headings: Sequence[str]
    ) -> str:
        return "\\tableofcontents"

    def _section(self, title: str, notes: Sequence[str]) -> str:
        head = f"\\section*{{{title}}}\n\\addcontentsline{{toc}}{{section}}{{{title}}}"
        return "\n\n".join([head, *(rf"\noindent {p}\par" for p in notes)])

    def _problem(self, solution: Any, heading: str, nested: bool) -> str:
        command, level = ("subsection", "subsection") if nested else ("section", "section")
        entry = heading + (f" {self._msg('doc.failed.toc')}" if solution.failed else "")
        head = f"\\{command}*{{{heading}}}\n\\addcontentsline{{toc}}{{{level}}}{{{entry}}}"
        body = self._failure(solution) if solution.failed else solution.body
        notes = self._notes(solution)
        if notes:
            notes = [notes[0], *(rf"\noindent {p}\par" for p in notes[1:])]
        if self.part == "sheet":  # room to work the problem
            notes.append(rf"\vspace{{{5 if self.compact else 8}\baselineskip}}")
        problem = "\n\n".join([head, body, *notes])
        if self.compact and solution.wide:  # across the page, between two runs of columns
            return f"{_END_COLUMNS}\n\n{problem}\n\n{_COLUMNS}"
        return problem

    def _join(self, parts: Sequence[str]) -> str:
        text = "\n\n".join(p for p in parts if p)
        if self.compact:
            # the front matter opens the columns; a wide last problem leaves them empty
            text = f"{text}\n\n{_END_COLUMNS}".replace(f"{_COLUMNS}\n\n{_END_COLUMNS}", "")
            text = text.rstrip("\n")
        return text + "\n\n\\end{document}\n"


_COLUMNS, _END_COLUMNS = (s.strip() for s in MULTICOLS)


LAYOUT_OF_FORMAT = {"markdown": MarkdownDocument, "latex": LatexDocument, "pdf": LatexDocument}


def render_document(doc: Any) -> str:
    """``doc`` (a ``matcalc.documents.Document``) as Markdown or LaTeX source."""
    return LAYOUT_OF_FORMAT[doc.fmt](lang=doc.lang).render(doc)
