r"""Problem files: the format, reading TOML or plain text, and validation.

Problem files
-------------
TOML (read with ``tomllib``; ``tomli`` on Python 3.10)::

    title = "Worked examples"      # optional, as are author, lang and compact
    author = "A. Teacher"
    lang = "en"                    # the default language; --lang overrides it
    compact = true                 # the compact layout, as --compact

    [[section]]                    # sections, in order ...
    title = "2 Review: Scalar derivative rules"
    notes = "..."                  # optional, shown under the section's title

    [[section.problem]]            # ... each with its problems, in order
    title = "A constant factor"    # optional: defaults to the expression
    expr = "9*(x + x**2)"          # or exprs = ["3*x**2*y", "2*x + y**8"] (a Jacobian)
    wrt = "x"                      # "x,y" or ["x", "y"]; optional with one variable
    vectors = ["w", "y:N"]         # optional, as --vector
    matrices = ["X:N,n"]           # optional, as --matrix
    functions = ["phi"]            # optional, as --function
    layout = "numerator"           # or "denominator"
    order = 2                      # optional: a second derivative, or a Hessian
    answer = "2*x + 1"             # optional: a student's answer, judged (matcalc check);
                                   # a list for the entries of a gradient or Jacobian
    notes = "..."                  # a paragraph, or a list of paragraphs

A file without sections has top-level ``[[problem]]`` tables instead; a file
uses one style or the other.  Problems are numbered 1, 2, … through the whole
document.  Every text field (title, author, section titles, notes) may also be
a table by language, ``title = { en = "Gradient", zh = "梯度" }``: the
document's language picks its entry, else English, else the first.  In text
fields ``$…$`` is inline LaTeX math (``\$`` is a dollar sign) and everything
else is prose, escaped for the output format.  The math may use a whitelist of
common commands only (``matcalc.documents.layout.check_math``: ``\frac{a}{b}``,
``\partial``, ``\mathbf{x}``, Greek letters, …, arguments in braces, braces
balanced), so that a note can neither run TeX code nor stop pdflatex.  A blank
line in a note starts a new paragraph.  Control and bidi characters are shown
as escapes (``\x1b``, ``\u202e``), never written raw.

A plain text file (any other suffix) has one expression per line; blank lines
and lines starting with ``#`` are skipped.  An expression with one variable
needs nothing more; otherwise say what to differentiate by after a ``;``, and
declare vectors and matrices the same way (the TOML fields of the same names)::

    ln(sin(x**3)**2)
    3*x**2*y ; wrt x,y
    max(0, w @ x + b) ; vectors w,x ; wrt w
    x.T @ A @ x ; vectors x ; matrices A ; wrt x ; layout denominator

``-`` reads the problem file from standard input: TOML when a line starts with
``[[``, else plain text.  A file is read only up to ``MAX_FILE_BYTES`` (1 MB)
and must be UTF-8 text without control characters.

Errors
------
A file that cannot be read or parsed, or a bad top-level field, is a
``UsageError`` (one line, exit 2); so is an output (``check_paths``) that is the
problem file, a device, a directory, or in a missing directory.  A bad problem (a wrong field, a parse error,
an unsupported construct, a limit) costs only itself: its ``Solution`` carries a
one-line ``error`` naming the problem and the field, the document marks it as
failed, and every other problem is still worked.

To add a problem field: add it to ``Exercise`` and ``PROBLEM_FIELDS``, read it
in ``_exercise``, and use it in ``matcalc.documents.workers.solve``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcalc.errors import FieldError, UsageError, visible
from matcalc.msg import Msg
from matcalc.problem import LAYOUTS
from matcalc.render.messages import CATALOGUES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

TOP_FIELDS = ("title", "author", "lang", "compact", "problem", "section")
SECTION_FIELDS = ("title", "notes", "problem")
PROBLEM_FIELDS = (
    "title",
    "expr",
    "exprs",
    "wrt",
    "vectors",
    "matrices",
    "functions",
    "layout",
    "order",
    "answer",
    "notes",
)
MAX_FILE_BYTES = 1_000_000
"""A problem file larger than this is refused before it is parsed (/dev/zero, a log by mistake)."""
MAX_PROBLEMS = 1000
"""Problems in one file."""
TEXT_KEYS = {
    "wrt": "wrt",
    "vector": "vectors",
    "vectors": "vectors",
    "matrix": "matrices",
    "matrices": "matrices",
    "function": "functions",
    "functions": "functions",
    "layout": "layout",
    "order": "order",
    "answer": "answers",
}
"""``; key value`` clauses of a plain-text problem line, and the field each sets."""


def _typed_keys() -> str:
    """The clause names a line may use, one for each field, as typed: the field's own name
    where it is a clause name (vectors), else its clause name (answer, for answers)."""
    names: dict[str, str] = {}
    for key, field in TEXT_KEYS.items():
        if field not in names or key == field:
            names[field] = key
    return ", ".join(names.values())


TEXT_KNOWN = _typed_keys()
"""For the error about an unknown clause: 'wrt, vectors, …, answer', each one that works."""
_FALLBACK = "en"


# -- data -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Text:
    """Author text in one or more languages: ``((lang, paragraphs), …)``."""

    versions: tuple[tuple[str, tuple[str, ...]], ...]

    def paragraphs(self, lang: str) -> tuple[str, ...]:
        by_lang = dict(self.versions)
        return by_lang.get(lang) or by_lang.get(_FALLBACK) or self.versions[0][1]

    def line(self, lang: str) -> str:
        return " ".join(self.paragraphs(lang))


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A titled group of problems, with optional notes shown under its title."""

    title: Text
    notes: Text | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exercise:
    """One problem of a file, validated; ``error`` is set when it is not valid."""

    number: int
    title: Text | None = None
    exprs: tuple[str, ...] = ()
    wrt: tuple[str, ...] | None = None
    vectors: tuple[str, ...] = ()
    matrices: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    layout: str = "numerator"
    order: int = 1
    """2 for a second derivative (or a Hessian), as derive's --order."""
    answers: tuple[str, ...] = ()
    """A student's answer (its entries, for a gradient): the solution judges it."""
    notes: Text | None = None
    section: int | None = None
    """Index into ``ProblemSet.sections``."""
    error: str | Msg = ""
    """Why the problem is not valid: a catalogue sentence, said in the document's language."""
    syntax: str = "toml"
    """The file's kind ("toml" or "text"): errors name its fields, not derive's options."""

    def plain_title(self, lang: str) -> str:
        if self.title is not None:
            return self.title.line(lang)
        return ", ".join(self.exprs) or f"#{self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProblemSet:
    """A problem file, validated: metadata, section titles and exercises in order."""

    source: str
    """The file's name (no directory), as the document cites it."""
    title: Text | None = None
    author: Text | None = None
    lang: str | None = None
    compact: bool = False
    """The compact layout (``compact = true``), as ``matcalc doc --compact``."""
    sections: tuple[Section, ...] = ()
    exercises: tuple[Exercise, ...] = ()


# -- loading --------------------------------------------------------------------------
def load(path: str | os.PathLike[str]) -> ProblemSet:
    """Read a problem file: TOML when its suffix is ``.toml``, else one expression a line.

    ``-`` reads standard input: TOML when a line starts with ``[[`` (a ``[[problem]]`` or
    ``[[section]]`` table), else one expression a line.  A file of more than
    ``MAX_FILE_BYTES``, or one that is not UTF-8 text, is refused before it is parsed.
    """
    stdin = str(path) == "-"
    path = Path(path)
    name: str | Msg = Msg("err.doc.stdin") if stdin else visible(path.name)
    try:
        if stdin:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(
            Msg("err.doc.read", path=visible(str(path)), reason=error.strerror or error)
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(Msg("err.doc.too_big", source=name, limit=MAX_FILE_BYTES))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(Msg("err.doc.utf8", source=name, byte=error.start + 1)) from None
    junk = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if junk:
        line = text.count("\n", 0, junk.start()) + 1
        code = f"U+{ord(junk.group()):04X}"
        raise UsageError(Msg("err.doc.control", source=name, code=code, line=line))
    toml = (
        re.search(r"^\s*\[\[", text, re.M) is not None if stdin else path.suffix.lower() == ".toml"
    )
    problems = loads_toml(text, source=name) if toml else loads_text(text, source=name)
    if len(problems.exercises) > MAX_PROBLEMS:
        raise UsageError(Msg("err.doc.too_many", source=name, limit=MAX_PROBLEMS))
    return problems


def loads_text(text: str, *, source: str | Msg = "<text>") -> ProblemSet:
    """A plain problem list: one expression per line, ``#`` comments and blank lines skipped.

    A line may end in clauses ``; wrt x,y``, ``; vectors w,x``, ``; matrices X:N,n``,
    ``; functions phi``, ``; layout denominator``, ``; order 2`` and ``; answer 2*x``, as
    the TOML fields of the same names.
    """
    exercises: list[Exercise] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            exercises.append(_text_exercise(len(exercises) + 1, line))
    if not exercises:
        raise UsageError(Msg("err.doc.no_problems.text", source=source))
    return ProblemSet(source=str(source), exercises=tuple(exercises))


def _text_exercise(number: int, line: str) -> Exercise:
    """One line of a plain problem list: ``EXPR [; wrt x,y] [; vectors w] ...``."""
    expr, *clauses = line.split(";")
    fields: dict[str, list[str]] = {}
    try:
        for clause in clauses:
            key, _, value = clause.strip().partition(" ")
            if key not in TEXT_KEYS:
                raise FieldError(Msg("err.doc.text.unknown", clause=visible(key), known=TEXT_KNOWN))
            if not value.strip():
                example = _EXAMPLE[TEXT_KEYS[key]]
                raise FieldError(Msg("err.doc.text.value", clause=key, example=example))
            fields.setdefault(TEXT_KEYS[key], []).append(value.strip())
        if not expr.strip():
            raise FieldError(Msg("err.doc.text.no_expression"))
        layout = fields.get("layout", ["numerator"])
        if len(layout) > 1 or layout[0] not in LAYOUTS:
            raise FieldError(Msg("err.doc.text.layout"))
        if len(fields.get("wrt", [])) > 1:
            raise FieldError(Msg("err.doc.text.wrt_once"))
        order = fields.get("order", ["1"])
        if len(order) > 1 or not order[0].isdigit() or not 1 <= int(order[0]) <= 10:
            raise FieldError(Msg("err.doc.text.order"))
    except ValueError as error:
        return Exercise(
            number=number, exprs=(expr.strip() or line,), error=_said(error), syntax="text"
        )
    return Exercise(
        number=number,
        exprs=(expr.strip(),),
        wrt=tuple(fields["wrt"]) if "wrt" in fields else None,
        vectors=tuple(fields.get("vectors", ())),
        matrices=tuple(fields.get("matrices", ())),
        functions=tuple(fields.get("functions", ())),
        layout=layout[0],
        order=int(order[0]),
        answers=tuple(fields.get("answers", ())),
        syntax="text",
    )


_EXAMPLE = {
    "wrt": "x,y",
    "vectors": "w,x",
    "matrices": "X:N,n",
    "functions": "phi",
    "layout": "denominator",
    "order": "2",
    "answers": "2*x",
}


def loads_toml(text: str, *, source: str | Msg = "<toml>") -> ProblemSet:
    """A TOML problem file (see the module docstring for the schema)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = visible(_one_line(str(error)))  # tomllib's own words: English only
        raise UsageError(Msg("err.doc.toml", source=source, detail=detail)) from None
    except RecursionError:
        raise UsageError(Msg("err.doc.toml_deep", source=source)) from None
    _check_keys(data, TOP_FIELDS, Msg("err.doc.unknown_top", source=source))
    try:
        title = _text(data.get("title"), "title")
        author = _text(data.get("author"), "author")
    except ValueError as error:
        raise UsageError(Msg("err.doc.at", where=source, error=_said(error))) from None
    lang = data.get("lang")
    if lang is not None and (not isinstance(lang, str) or lang not in CATALOGUES):
        known = ", ".join(CATALOGUES)
        shown = visible(repr(lang)) if isinstance(lang, str) else _toml_type(lang)
        raise UsageError(Msg("err.doc.lang", source=source, known=known, shown=shown))
    compact = data.get("compact", False)
    if not isinstance(compact, bool):
        raise UsageError(Msg("err.doc.compact", source=source, shown=_toml_type(compact)))
    if "problem" in data and "section" in data:
        raise UsageError(Msg("err.doc.both", source=source))
    sections, tables = _tables(data, source)
    exercises = tuple(_exercise(n, table, index) for n, (table, index) in enumerate(tables, 1))
    if not exercises:
        raise UsageError(Msg("err.doc.no_problems.toml", source=source))
    return ProblemSet(
        source=str(source),
        title=title,
        author=author,
        lang=lang,
        compact=compact,
        sections=sections,
        exercises=exercises,
    )


def _toml_type(value: Any) -> Msg:
    """How TOML calls a value's type, for messages: 'an array', 'a table', 'an integer', ..."""
    names = {
        list: "array",
        dict: "table",
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
    }
    name = next((n for t, n in names.items() if isinstance(value, t)), "date")
    return Msg(f"err.doc.type.{name}")


def _tables(
    data: Mapping[str, Any], source: str | Msg
) -> tuple[tuple[Section, ...], list[tuple[Any, int | None]]]:
    """Section titles, and every problem table with the index of its section."""
    if "problem" in data:
        problems = data["problem"]
        if not _is_list_of_tables(problems):
            raise UsageError(Msg("err.doc.problem_tables", source=source))
        return (), [(p, None) for p in problems]
    sections_in = data.get("section", [])
    if not _is_list_of_tables(sections_in):
        raise UsageError(Msg("err.doc.section_tables", source=source))
    sections: list[Section] = []
    tables: list[tuple[Any, int | None]] = []
    for i, section in enumerate(sections_in, 1):
        where = Msg("err.doc.section", source=source, n=i)
        _check_keys(section, SECTION_FIELDS, Msg("err.doc.unknown_field", where=where))
        try:
            title = _text(section.get("title"), "title")
            notes = _text(section.get("notes"), "notes")
        except ValueError as error:
            raise UsageError(Msg("err.doc.at", where=where, error=_said(error))) from None
        if title is None:
            raise UsageError(Msg("err.doc.section_title", where=where))
        problems = section.get("problem", [])
        if not _is_list_of_tables(problems):
            raise UsageError(Msg("err.doc.section_problem_tables", where=where))
        sections.append(Section(title=title, notes=notes))
        tables += [(p, len(sections) - 1) for p in problems]
    return tuple(sections), tables


def _exercise(number: int, table: Mapping[str, Any], section: int | None) -> Exercise:
    """One problem table, validated; a bad field makes an exercise that carries the error."""
    try:
        title = _text(table.get("title"), "title")
    except ValueError:
        title = None
    try:
        unknown = [k for k in table if k not in PROBLEM_FIELDS]
        if unknown:
            known = ", ".join(PROBLEM_FIELDS)
            raise FieldError(
                Msg("err.doc.problem_field", name=visible(repr(unknown[0])), known=known)
            )
        _text(table.get("title"), "title")
        layout = table.get("layout", "numerator")
        if not isinstance(layout, str) or layout not in LAYOUTS:
            shown = visible(repr(layout)) if isinstance(layout, str) else _toml_type(layout)
            raise FieldError(Msg("err.doc.layout", shown=shown))
        return Exercise(
            number=number,
            title=title,
            exprs=_exprs(table),
            wrt=_names(table.get("wrt"), "wrt") or None,
            vectors=_names(table.get("vectors"), "vectors"),
            matrices=_names(table.get("matrices"), "matrices"),
            functions=_names(table.get("functions"), "functions"),
            layout=layout,
            order=_order(table.get("order", 1)),
            answers=_names(table.get("answer"), "answer"),
            notes=_text(table.get("notes"), "notes"),
            section=section,
        )
    except ValueError as error:
        return Exercise(number=number, title=title, section=section, error=_said(error))


def _exprs(table: Mapping[str, Any]) -> tuple[str, ...]:
    if "expr" in table and "exprs" in table:
        raise FieldError(Msg("err.doc.expr_both"))
    if "expr" in table:
        expr = table["expr"]
        if not isinstance(expr, str) or not expr.strip():
            raise FieldError(Msg("err.doc.expr"))
        return (expr,)
    if "exprs" in table:
        exprs = table["exprs"]
        if not isinstance(exprs, list) or not exprs:
            raise FieldError(Msg("err.doc.exprs"))
        if not all(isinstance(e, str) and e.strip() for e in exprs):
            raise FieldError(Msg("err.doc.exprs"))
        return tuple(exprs)
    raise FieldError(Msg("err.doc.expr_missing"))


def _order(value: Any) -> int:
    """The ``order`` field: a whole number from 1 to 10."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise FieldError(Msg("err.doc.order"))
    return value


def _names(value: Any, name: str) -> tuple[str, ...]:
    """A string ("x,y") or a list of strings, as given: the API parses the names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise FieldError(Msg("err.doc.names", name=repr(name)))


def _text(value: Any, name: str) -> Text | None:
    """A text field: a string, a list of paragraphs, or a table of those by language."""
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise FieldError(Msg("err.doc.languages_empty", name=repr(name)))
        unknown = [k for k in value if k not in CATALOGUES]
        if unknown:
            known = ", ".join(CATALOGUES)
            shown = visible(repr(unknown[0]))
            raise FieldError(Msg("err.doc.language", name=repr(name), shown=shown, known=known))
        return Text(tuple((lang, _paragraphs(v, name)) for lang, v in value.items()))
    return Text(((_FALLBACK, _paragraphs(value, name)),))


def _paragraphs(value: Any, name: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise FieldError(Msg("err.doc.strings", name=repr(name)))
    out = []
    for item in items:
        out += [" ".join(p.split()) for p in re.split(r"\n\s*\n", item) if p.strip()]
    if not out:
        raise FieldError(Msg("err.doc.empty", name=repr(name)))
    return tuple(out)


def _check_keys(table: Mapping[str, Any], known: Sequence[str], what: Msg) -> None:
    unknown = [k for k in table if k not in known]
    if unknown:
        name, known_names = visible(repr(unknown[0])), ", ".join(known)
        raise UsageError(Msg("err.doc.unknown", what=what, name=name, known=known_names))


def _said(error: ValueError) -> str | Msg:
    """What a ``ValueError`` says: its catalogue sentence (a ``FieldError``), else its text."""
    return error.msg if isinstance(error, FieldError) else str(error)


def _is_list_of_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _one_line(text: str) -> str:
    return " ".join(text.split())
