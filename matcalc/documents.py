r"""Worked-solution documents: a file of problems in; Markdown, LaTeX or PDF out.

Problem files
-------------
TOML (read with ``tomllib``; ``tomli`` on Python 3.10)::

    title = "Worked examples"      # optional, as are author and lang
    author = "A. Teacher"
    lang = "en"                    # the default language; --lang overrides it

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
common commands only (``matcalc.render.document.check_math``: ``\frac{a}{b}``,
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

Pipeline
--------
``load`` → ``ProblemSet`` (validated data) → ``build`` → ``Document`` (one
``Solution`` per problem: rendered strings, made by ``solve`` in worker
processes when ``jobs > 1``, in the same order whatever ``jobs``) →
``render_document`` (``matcalc.render.document``) → ``write`` (atomic; PDF
through pdflatex).

To add a problem field: add it to ``Exercise`` and ``PROBLEM_FIELDS``, read it
in ``_exercise``, and use it in ``solve``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from matcalc.errors import MatcalcError, UsageError, visible
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.problem import LAYOUTS
from matcalc.render.messages import CATALOGUES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

FORMATS = ("markdown", "latex", "pdf")
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".pdf": "pdf"}
TOP_FIELDS = ("title", "author", "lang", "problem", "section")
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
PDFLATEX_MISSING = "pdflatex not found: install texlive-latex-base"
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
    "answer": "answers",
}
"""``; key value`` clauses of a plain-text problem line, and the field each sets."""
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
    error: str = ""
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
    sections: tuple[Section, ...] = ()
    exercises: tuple[Exercise, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    """One worked problem, already rendered: strings only, cheap to send between processes."""

    number: int
    section: int | None
    title: str
    """The title rendered for the format (prose escaped, math kept)."""
    plain_title: str
    """The title as written, for messages on stderr."""
    body: str = ""
    notes: tuple[str, ...] = ()
    error: str = ""
    verdict: str = ""
    """For a problem with an answer: the verdict on one line (for the summary on stderr)."""

    @property
    def failed(self) -> bool:
        return bool(self.error)


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A worked-solution document as data: the problem set and one solution per problem."""

    problems: ProblemSet
    fmt: str
    lang: str
    solutions: tuple[Solution, ...] = field(default=())

    @property
    def failures(self) -> tuple[Solution, ...]:
        return tuple(s for s in self.solutions if s.failed)


# -- loading --------------------------------------------------------------------------
def load(path: str | os.PathLike[str]) -> ProblemSet:
    """Read a problem file: TOML when its suffix is ``.toml``, else one expression a line.

    ``-`` reads standard input: TOML when a line starts with ``[[`` (a ``[[problem]]`` or
    ``[[section]]`` table), else one expression a line.  A file of more than
    ``MAX_FILE_BYTES``, or one that is not UTF-8 text, is refused before it is parsed.
    """
    stdin = str(path) == "-"
    path = Path(path)
    name = "standard input" if stdin else visible(path.name)
    try:
        if stdin:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {visible(str(path))}: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{name}: a problem file may have at most {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{name}: not UTF-8 text (byte {error.start + 1})") from None
    junk = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if junk:
        line = text.count("\n", 0, junk.start()) + 1
        code = f"U+{ord(junk.group()):04X}"
        raise UsageError(f"{name}: not a text file (control character {code} on line {line})")
    toml = (
        re.search(r"^\s*\[\[", text, re.M) is not None if stdin else path.suffix.lower() == ".toml"
    )
    problems = loads_toml(text, source=name) if toml else loads_text(text, source=name)
    if len(problems.exercises) > MAX_PROBLEMS:
        raise UsageError(f"{name}: more than {MAX_PROBLEMS} problems; split the file")
    return problems


def loads_text(text: str, *, source: str = "<text>") -> ProblemSet:
    """A plain problem list: one expression per line, ``#`` comments and blank lines skipped.

    A line may end in clauses ``; wrt x,y``, ``; vectors w,x``, ``; matrices X:N,n``,
    ``; functions phi`` and ``; layout denominator``, as the TOML fields of the same names.
    """
    exercises: list[Exercise] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            exercises.append(_text_exercise(len(exercises) + 1, line))
    if not exercises:
        raise UsageError(f"{source}: no problems (one expression per line)")
    return ProblemSet(source=source, exercises=tuple(exercises))


def _text_exercise(number: int, line: str) -> Exercise:
    """One line of a plain problem list: ``EXPR [; wrt x,y] [; vectors w] ...``."""
    expr, *clauses = line.split(";")
    fields: dict[str, list[str]] = {}
    try:
        for clause in clauses:
            key, _, value = clause.strip().partition(" ")
            if key not in TEXT_KEYS:
                known = ", ".join(dict.fromkeys(TEXT_KEYS.values()))
                raise ValueError(
                    f"unknown '; {visible(key)}' after the expression (known: {known})"
                )
            if not value.strip():
                raise ValueError(
                    f"'; {key}' needs a value, as in '; {key} {_EXAMPLE[TEXT_KEYS[key]]}'"
                )
            fields.setdefault(TEXT_KEYS[key], []).append(value.strip())
        if not expr.strip():
            raise ValueError("no expression before the ';'")
        layout = fields.get("layout", ["numerator"])
        if len(layout) > 1 or layout[0] not in LAYOUTS:
            raise ValueError("'; layout' must be numerator or denominator")
        if len(fields.get("wrt", [])) > 1:
            raise ValueError("give '; wrt' once, as in '; wrt x,y'")
    except ValueError as error:
        return Exercise(
            number=number, exprs=(expr.strip() or line,), error=str(error), syntax="text"
        )
    return Exercise(
        number=number,
        exprs=(expr.strip(),),
        wrt=tuple(fields["wrt"]) if "wrt" in fields else None,
        vectors=tuple(fields.get("vectors", ())),
        matrices=tuple(fields.get("matrices", ())),
        functions=tuple(fields.get("functions", ())),
        layout=layout[0],
        answers=tuple(fields.get("answers", ())),
        syntax="text",
    )


_EXAMPLE = {
    "wrt": "x,y",
    "vectors": "w,x",
    "matrices": "X:N,n",
    "functions": "phi",
    "layout": "denominator",
    "answers": "2*x",
}


def loads_toml(text: str, *, source: str = "<toml>") -> ProblemSet:
    """A TOML problem file (see the module docstring for the schema)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{source}: invalid TOML: {visible(_one_line(str(error)))}") from None
    except RecursionError:
        raise UsageError(f"{source}: invalid TOML: arrays or tables nested too deeply") from None
    _check_keys(data, TOP_FIELDS, f"{source}: unknown top-level field")
    try:
        title = _text(data.get("title"), "title")
        author = _text(data.get("author"), "author")
    except ValueError as error:
        raise UsageError(f"{source}: {error}") from None
    lang = data.get("lang")
    if lang is not None and (not isinstance(lang, str) or lang not in CATALOGUES):
        known = ", ".join(CATALOGUES)
        shown = visible(repr(lang)) if isinstance(lang, str) else _toml_type(lang)
        raise UsageError(f"{source}: field 'lang' must be one of {known}, not {shown}")
    if "problem" in data and "section" in data:
        raise UsageError(
            f"{source}: use [[problem]] or [[section]] with [[section.problem]], not both"
        )
    sections, tables = _tables(data, source)
    exercises = tuple(_exercise(n, table, index) for n, (table, index) in enumerate(tables, 1))
    if not exercises:
        raise UsageError(f"{source}: no problems: add [[problem]] tables")
    return ProblemSet(
        source=source, title=title, author=author, lang=lang, sections=sections, exercises=exercises
    )


def _toml_type(value: Any) -> str:
    """How TOML calls a value's type, for messages: 'an array', 'a table', 'an integer', ..."""
    names = {
        list: "an array",
        dict: "a table",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
    }
    return next((n for t, n in names.items() if isinstance(value, t)), "a date or time")


def _tables(
    data: Mapping[str, Any], source: str
) -> tuple[tuple[Section, ...], list[tuple[Any, int | None]]]:
    """Section titles, and every problem table with the index of its section."""
    if "problem" in data:
        problems = data["problem"]
        if not _is_list_of_tables(problems):
            raise UsageError(f"{source}: 'problem' must be an array of tables: write [[problem]]")
        return (), [(p, None) for p in problems]
    sections_in = data.get("section", [])
    if not _is_list_of_tables(sections_in):
        raise UsageError(f"{source}: 'section' must be an array of tables: write [[section]]")
    sections: list[Section] = []
    tables: list[tuple[Any, int | None]] = []
    for i, section in enumerate(sections_in, 1):
        where = f"{source}: section {i}"
        _check_keys(section, SECTION_FIELDS, f"{where}: unknown field")
        try:
            title = _text(section.get("title"), "title")
            notes = _text(section.get("notes"), "notes")
        except ValueError as error:
            raise UsageError(f"{where}: {error}") from None
        if title is None:
            raise UsageError(f"{where}: missing field 'title'")
        problems = section.get("problem", [])
        if not _is_list_of_tables(problems):
            raise UsageError(
                f"{where}: 'problem' must be an array of tables: write [[section.problem]]"
            )
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
            raise ValueError(f"unknown field {visible(repr(unknown[0]))} (known: {known})")
        _text(table.get("title"), "title")
        layout = table.get("layout", "numerator")
        if not isinstance(layout, str) or layout not in LAYOUTS:
            shown = visible(repr(layout)) if isinstance(layout, str) else _toml_type(layout)
            raise ValueError(f"field 'layout' must be numerator or denominator, not {shown}")
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
        return Exercise(number=number, title=title, section=section, error=str(error))


def _exprs(table: Mapping[str, Any]) -> tuple[str, ...]:
    if "expr" in table and "exprs" in table:
        raise ValueError("give field 'expr' or field 'exprs', not both")
    if "expr" in table:
        expr = table["expr"]
        if not isinstance(expr, str) or not expr.strip():
            raise ValueError("field 'expr' must be a non-empty string")
        return (expr,)
    if "exprs" in table:
        exprs = table["exprs"]
        if not isinstance(exprs, list) or not exprs:
            raise ValueError("field 'exprs' must be a non-empty list of strings")
        if not all(isinstance(e, str) and e.strip() for e in exprs):
            raise ValueError("field 'exprs' must be a non-empty list of strings")
        return tuple(exprs)
    raise ValueError("missing field 'expr' (or 'exprs')")


def _order(value: Any) -> int:
    """The ``order`` field: a whole number from 1 to 10."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        raise ValueError("field 'order' must be a whole number from 1 to 10")
    return value


def _names(value: Any, name: str) -> tuple[str, ...]:
    """A string ("x,y") or a list of strings, as given: the API parses the names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"field {name!r} must be a string or a non-empty list of strings")


def _text(value: Any, name: str) -> Text | None:
    """A text field: a string, a list of paragraphs, or a table of those by language."""
    if value is None:
        return None
    if isinstance(value, dict):
        if not value:
            raise ValueError(f"field {name!r}: the table of languages is empty")
        unknown = [k for k in value if k not in CATALOGUES]
        if unknown:
            known = ", ".join(CATALOGUES)
            raise ValueError(
                f"field {name!r}: unknown language {visible(repr(unknown[0]))} (known: {known})"
            )
        return Text(tuple((lang, _paragraphs(v, name)) for lang, v in value.items()))
    return Text(((_FALLBACK, _paragraphs(value, name)),))


def _paragraphs(value: Any, name: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"field {name!r} must be a string or a list of strings")
    out = []
    for item in items:
        out += [" ".join(p.split()) for p in re.split(r"\n\s*\n", item) if p.strip()]
    if not out:
        raise ValueError(f"field {name!r} is empty")
    return tuple(out)


def _check_keys(table: Mapping[str, Any], known: Sequence[str], what: str) -> None:
    unknown = [k for k in table if k not in known]
    if unknown:
        raise UsageError(f"{what} {visible(repr(unknown[0]))} (known: {', '.join(known)})")


def _is_list_of_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- building -------------------------------------------------------------------------
def format_for(out: str | os.PathLike[str]) -> str:
    """The output format named by OUT's suffix (.md, .markdown, .tex, .pdf); Markdown for ``-``."""
    if str(out) == "-":
        return "markdown"
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(
            f"cannot tell the format from {Path(out).name!r}: name it .md, .tex or .pdf, or use --format"
        )
    return SUFFIXES[suffix]


def check_paths(problems: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Refuse, before any work, an output that would lose data or cannot be written.

    OUT may not be the problem file itself, a directory, or anything but a regular file
    (a device such as /dev/null, a pipe, a socket: ``write`` would replace it with a file);
    its directory must exist and be writable.  ``-`` is standard output.
    """
    if str(out) == "-":
        return
    out = Path(out)
    shown = visible(str(out))
    if str(problems) != "-":
        try:
            same = out.exists() and os.path.samefile(problems, out)
        except OSError:
            same = False
        if same or Path(os.path.abspath(problems)) == Path(os.path.abspath(out)):
            raise UsageError(f"-o {shown} is the problem file itself; write the document elsewhere")
    if out.is_dir() or str(out).endswith(os.sep):
        raise UsageError(
            f"-o {shown} is a directory; name a file in it, such as {shown.rstrip(os.sep)}/out.md"
        )
    if out.exists() or out.is_symlink():
        try:
            mode = out.stat().st_mode
        except OSError as error:  # a dangling link
            raise UsageError(f"-o {shown}: {error.strerror or error}") from None
        import stat

        if not stat.S_ISREG(mode):
            raise UsageError(
                f"-o {shown} is not a regular file (a device, a pipe or a socket); "
                "matcalc writes documents to files only"
            )
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"-o {shown}: the directory {visible(str(directory))} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"-o {shown}: the directory {visible(str(directory))} is not writable")


def check_output(fmt: str, lang: str) -> None:
    """Refuse, before any work, what cannot be produced here."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    if lang not in CATALOGUES:
        raise UsageError(f"unknown language {lang!r}: use {', '.join(CATALOGUES)}")
    if fmt in ("latex", "pdf") and lang != "en":
        raise latex_language_refused(lang)
    if fmt == "pdf" and shutil.which("pdflatex") is None:
        raise MatcalcError(PDFLATEX_MISSING)


def latex_language_refused(lang: str) -> UsageError:
    """The one refusal of a LaTeX or PDF document in a language pdflatex cannot typeset here."""
    return UsageError(
        f"--lang {lang}: LaTeX and PDF documents are English only, because pdflatex "
        "needs CJK packages that texlive-latex-base lacks; use --format markdown"
    )


def solve(exercise: Exercise, fmt: str, lang: str, limits: Limits = DEFAULT_LIMITS) -> Solution:
    """Work one problem and render it for ``fmt``; any failure becomes ``Solution.error``.

    A top-level function of plain data, so that worker processes can run it.
    """
    from matcalc.api import derive
    from matcalc.render.document import code, markup

    body_format = "markdown" if fmt == "markdown" else "latex"
    plain = exercise.plain_title(lang)
    head: dict[str, Any] = {
        "number": exercise.number,
        "section": exercise.section,
        "plain_title": plain,
    }
    try:
        title = markup(plain, body_format) if exercise.title else code(plain, body_format)
    except ValueError as error:
        return Solution(
            **head,
            title=markup(f"#{exercise.number}", body_format),
            error=f"field 'title': {error}",
        )
    if exercise.error:
        return Solution(**head, title=title, error=exercise.error)
    try:
        paragraphs = exercise.notes.paragraphs(lang) if exercise.notes else ()
        notes = tuple(markup(p, body_format, paragraph=True) for p in paragraphs)
    except ValueError as error:
        return Solution(**head, title=title, error=f"field 'notes': {error}")
    verdict = ""
    try:
        exprs = list(exercise.exprs) if len(exercise.exprs) > 1 else exercise.exprs[0]
        options: dict[str, Any] = dict(
            vectors=exercise.vectors,
            matrices=exercise.matrices,
            functions=exercise.functions,
            layout=exercise.layout,
            order=exercise.order,
            limits=limits,
        )
        if exercise.answers:  # a student's answer: judged, beside matcalc's derivation
            from matcalc.answers import check
            from matcalc.render.check import verdict_line

            answers = list(exercise.answers)
            shown: Any = check(
                exprs, answers if len(answers) > 1 else answers[0], exercise.wrt, **options
            )
            verdict = verdict_line(shown, lang=lang)
        else:
            shown = derive(exprs, exercise.wrt, **options)
        body = (
            shown.to_markdown(lang=lang) if body_format == "markdown" else shown.to_latex(lang=lang)
        )
    except MatcalcError as error:
        message = _in_file_terms(_one_line(str(error)), exercise.syntax)
        if isinstance(error.__cause__, MemoryError):
            message = _memory_message(limits)
        return Solution(**head, title=title, notes=notes, error=message)
    except MemoryError:
        return Solution(**head, title=title, notes=notes, error=_memory_message(limits))
    except Exception as error:  # a bug in one problem must not cost the others
        if isinstance(error, ValueError) and "integer string conversion" in str(error):
            message = "the result has a number too large to print (more than 4300 digits)"
        else:
            message = f"internal error ({type(error).__name__}: {_one_line(str(error))}); please report it"
        return Solution(**head, title=title, notes=notes, error=message)
    return Solution(**head, title=title, body=body.strip("\n"), notes=notes, verdict=verdict)


_OPTION = re.compile(r"--(wrt|vector|matrix|function|layout)\b(,? e\.g\. --\1 (\S+))?")
_FIELDS = {
    "wrt": "wrt",
    "vector": "vectors",
    "matrix": "matrices",
    "function": "functions",
    "layout": "layout",
}


def _in_file_terms(message: str, syntax: str) -> str:
    """An API error in the words of a problem file: its fields, not derive's --options."""

    def field(match: re.Match[str]) -> str:
        name = _FIELDS[match.group(1)]
        example = match.group(3)
        if syntax == "text":
            after = f" after the expression, e.g. '; {name} {example}'" if example else ""
            return f"'; {name}'{after}"
        return f"field '{name}'" + (f', e.g. {name} = "{example}"' if example else "")

    return _OPTION.sub(field, message)


def _memory_message(limits: Limits) -> str:
    from matcalc.limits import format_bytes

    if limits.max_memory is None:
        return "out of memory"
    return f"memory limit of {format_bytes(limits.max_memory)} exceeded (set it with --memory)"


def build(
    problems: ProblemSet,
    *,
    fmt: str,
    lang: str,
    jobs: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[], None] | None = None,
) -> Document:
    """Work every problem (in ``jobs`` processes) into a ``Document``; order never depends on jobs."""
    check_output(fmt, lang)
    _check_front(problems, fmt, lang)
    work = partial(solve, fmt=fmt, lang=lang, limits=limits)
    tasks = problems.exercises
    solutions: list[Solution] = []
    for solution in _map(work, tasks, jobs):
        solutions.append(solution)
        if progress is not None:
            progress()
    return Document(problems=problems, fmt=fmt, lang=lang, solutions=tuple(solutions))


def _check_front(problems: ProblemSet, fmt: str, lang: str) -> None:
    """The document's own text must render (pdflatex cannot typeset every character)."""
    from matcalc.render.document import markup

    fields = [("title", problems.title), ("author", problems.author)]
    for i, section in enumerate(problems.sections, 1):
        fields += [(f"section {i}: title", section.title), (f"section {i}: notes", section.notes)]
    for name, text in fields:
        for paragraph in text.paragraphs(lang) if text else ():
            try:
                markup(paragraph, "markdown" if fmt == "markdown" else "latex")
            except ValueError as error:
                raise UsageError(f"{problems.source}: {name}: {error}") from None


def _map(
    work: Callable[[Exercise], Solution], tasks: Sequence[Exercise], jobs: int
) -> Iterable[Solution]:
    if jobs <= 1 or len(tasks) <= 1:
        yield from map(work, tasks)
        return
    workers = min(jobs, len(tasks))
    # Small chunks keep the workers evenly loaded and the progress bar moving.
    chunk = max(1, min(16, len(tasks) // (workers * 8)))
    context = _fork_context()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start)
    try:
        yield from pool.map(work, tasks, chunksize=chunk)
    except BrokenProcessPool:
        raise MatcalcError("a worker process died (out of memory?); try fewer --jobs") from None
    except BaseException:  # Ctrl-C, SIGTERM, an error: the workers end now, not after their work
        _end_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start() -> None:
    """In each worker: the default SIGTERM (the parent's handler raises), no Ctrl-C, and an
    end with the parent."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    if sys.platform.startswith("linux"):
        try:  # PR_SET_PDEATHSIG: SIGKILL when the parent dies, even by SIGKILL
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl
            pass


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes (the executor has no public way to)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        try:
            process.kill()
        except (OSError, ValueError, AttributeError):
            pass


def _fork_context():
    """Fork on Linux: workers inherit the imported SymPy instead of importing it again."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return None


# -- writing --------------------------------------------------------------------------
def render(document: Document) -> str:
    """The document as Markdown or LaTeX source (LaTeX for PDF)."""
    from matcalc.render.document import render_document

    return render_document(document)


def write(document: Document, out: str | os.PathLike[str]) -> None:
    """Render ``document`` and write it to ``out`` atomically (``-``: standard output)."""
    source = render(document)
    data = compile_pdf(source) if document.fmt == "pdf" else source.encode("utf-8")
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    write_atomic(Path(out), data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    An interrupted or failed write leaves ``path`` as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise MatcalcError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _mode_for(path))
        os.replace(temp, path)
    except BaseException as error:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise MatcalcError(f"cannot write {path}: {error.strerror or error}") from None
        raise


def _mode_for(path: Path) -> int:
    """The existing file's permissions, else what the umask gives a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def compile_pdf(latex: str, *, timeout: float = 120) -> bytes:
    """Run pdflatex in a temporary directory; the PDF's bytes.

    Twice at least, for the table of contents, and again (up to four runs) while
    the contents still change: a long contents moves every page number once.
    ``timeout`` bounds all the runs together.  pdflatex runs without shell escape and
    with paranoid file access (no reading or writing outside its directory).  The
    temporary directory is removed however the build ends (an error, the time limit,
    Ctrl-C or SIGTERM, which the CLI turns into an exception).
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise MatcalcError(PDFLATEX_MISSING)
    # Paranoid file access and no shell escape: a problem file's math cannot read or run anything.
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    for name in ("TEXINPUTS", "TEXMFCNF", "TEXMFHOME", "TEXMF"):  # no search path from outside
        env.pop(name, None)
    command = [
        exe,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        "document.tex",
    ]
    import time

    end = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="matcalc-pdf-") as tmp:
        Path(tmp, "document.tex").write_text(latex, encoding="utf-8")
        contents = Path(tmp, "document.toc")
        previous = None
        for run in range(4):
            try:
                done = subprocess.run(
                    command,
                    cwd=tmp,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=max(end - time.monotonic(), 0.1),
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise MatcalcError(f"pdflatex took longer than {timeout:g} s") from None
            if done.returncode != 0:
                raise MatcalcError(f"pdflatex failed: {_latex_error(done.stdout)}")
            current = contents.read_bytes() if contents.exists() else b""
            if run >= 1 and current == previous:
                break
            previous = current
        return Path(tmp, "document.pdf").read_bytes()


def _latex_error(log: bytes) -> str:
    """The first error of a pdflatex log, with its line number, in one line."""
    lines = log.decode("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            where = next((ln for ln in lines[i + 1 : i + 12] if re.match(r"l\.\d+", ln)), "")
            number = re.match(r"l\.(\d+)", where)
            at = f" (document.tex line {number.group(1)})" if number else ""
            return _one_line(line.lstrip("! ")) + at
    return "see the pdflatex log (no error line found)"
