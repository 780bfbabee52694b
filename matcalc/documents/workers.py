r"""Working the problems: ``solve`` one (in a worker process), ``build`` them all.

``build`` → ``Document`` (one ``Solution`` per problem: rendered strings, made by
``solve`` in worker processes when ``jobs > 1``, in the same order whatever
``jobs``).  A bad problem costs only itself: its ``Solution`` carries a one-line
``error``.  The pool's workers end with the parent: Ctrl-C and SIGTERM reach the
parent, which kills them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from matcalc.documents.output import check_output
from matcalc.documents.problems import Exercise, ProblemSet, Text, _one_line, _said
from matcalc.errors import MatcalcError, UsageError
from matcalc.limits import DEFAULT_LIMITS, Limits
from matcalc.msg import Msg, text


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
    """Why the problem failed, in the document's language."""
    verdict: str = ""
    """For a problem with an answer: the verdict on one line (for the summary on stderr)."""
    wide: bool = False
    """Compact LaTeX: rendered for the full width of the page, as it does not fit a column."""

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
    part: str = "solutions"
    """"solutions" (worked), "sheet" (the problems only) or "key" (problems and results)."""
    compact: bool = False

    @property
    def failures(self) -> tuple[Solution, ...]:
        return tuple(s for s in self.solutions if s.failed)


WIDE_LINES = 100
"""Compact LaTeX: a problem too wide for a column is set across the page if it takes at
most this many lines of LaTeX (about a page); a longer one stays in a column, with the
rows that do not fit set smaller, rather than take pages of half-empty width."""
PARTS = {"solutions": "solution", "sheet": "problem", "key": "answer"}
"""A document's parts, and the part of each derivation it shows (``Renderer.PARTS``)."""


def solve(
    exercise: Exercise,
    fmt: str,
    lang: str,
    limits: Limits = DEFAULT_LIMITS,
    *,
    part: str = "solutions",
    compact: bool = False,
) -> Solution:
    """Work one problem and render it for ``fmt``; any failure becomes ``Solution.error``.

    ``part``: "solutions" (the worked derivation, its notes and the verdict on a
    student's answer), "sheet" (the problem statement only: no steps, no result, no
    notes) or "key" (the statement, the result and its verification).  A top-level
    function of plain data, so that worker processes can run it.
    """
    from matcalc.api import derive
    from matcalc.documents.layout import code, markup
    from matcalc.render.latex import COMPACT_LINE_WIDTH, set_smaller

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
            error=Msg("err.doc.field_error", name="title", error=_said(error)).text(lang),
        )
    if exercise.error:
        return Solution(
            **head, title=title, error=_in_file_terms(text(exercise.error, lang), "toml", lang)
        )
    try:
        paragraphs = (
            exercise.notes.paragraphs(lang) if exercise.notes and part == "solutions" else ()
        )
        notes = tuple(markup(p, body_format, paragraph=True) for p in paragraphs)
    except ValueError as error:
        message = Msg("err.doc.field_error", name="notes", error=_said(error)).text(lang)
        return Solution(**head, title=title, error=message)
    verdict, wide = "", False
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
        if exercise.answers and part == "solutions":  # judged, beside matcalc's derivation
            from matcalc.answers import check
            from matcalc.render.check import verdict_line

            answers = list(exercise.answers)
            shown: Any = check(
                exprs, answers if len(answers) > 1 else answers[0], exercise.wrt, **options
            )
            verdict = verdict_line(shown, lang=lang)
        else:
            shown = derive(exprs, exercise.wrt, **options)
        kw: dict[str, Any] = {"lang": lang, "compact": compact}
        if part != "solutions":
            kw["part"] = PARTS[part]
        if body_format == "markdown":
            body = shown.to_markdown(**kw)
        else:
            body = shown.to_latex(**kw)
            if compact and set_smaller(body, COMPACT_LINE_WIDTH):  # too wide for a column:
                full = shown.to_latex(**{**kw, "compact": False})  # across the page, unless long
                if full.count("\n") <= WIDE_LINES:
                    body, wide = full, True
    except MatcalcError as error:
        message = _in_file_terms(_one_line(error.line(lang)), exercise.syntax, lang)
        if isinstance(error.__cause__, MemoryError):
            message = _memory_message(limits).text(lang)
        return Solution(**head, title=title, notes=notes, error=message)
    except MemoryError:
        message = _memory_message(limits).text(lang)
        return Solution(**head, title=title, notes=notes, error=message)
    except Exception as error:  # a bug in one problem must not cost the others
        if isinstance(error, ValueError) and "integer string conversion" in str(error):
            failure = Msg("err.too_large_to_print")
        else:
            detail = _one_line(str(error))
            failure = Msg("err.doc.internal", name=type(error).__name__, detail=detail)
        return Solution(**head, title=title, notes=notes, error=failure.text(lang))
    return Solution(
        **head, title=title, body=body.strip("\n"), notes=notes, verdict=verdict, wide=wide
    )


_OPTION = re.compile(r"--(wrt|vector|matrix|function|layout)\b((?:,? e\.g\. |，例如 )--\1 (\S+))?")
_FIELDS = {
    "wrt": "wrt",
    "vector": "vectors",
    "matrix": "matrices",
    "function": "functions",
    "layout": "layout",
}


def _in_file_terms(message: str, syntax: str, lang: str = "en") -> str:
    """An API error in the words of a problem file: its fields, not derive's --options."""

    def field(match: re.Match[str]) -> str:
        name = _FIELDS[match.group(1)]
        example = match.group(3)
        key = f"doc.field.{syntax}" + (".example" if example else "")
        return Msg(key, name=name, example=example).text(lang)

    return _OPTION.sub(field, message)


def _memory_message(limits: Limits) -> Msg:
    from matcalc.limits import format_bytes

    if limits.max_memory is None:
        return Msg("err.out_of_memory")
    return Msg("err.memory_limit", limit=format_bytes(limits.max_memory))


def build(
    problems: ProblemSet,
    *,
    fmt: str,
    lang: str,
    jobs: int = 1,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[], None] | None = None,
    part: str = "solutions",
    compact: bool | None = None,
) -> Document:
    """Work every problem (in ``jobs`` processes) into a ``Document``; order never depends on jobs.

    ``part``: "solutions", "sheet" or "key" (see ``solve``); ``compact``: the compact
    layout (None: as the problem file says).
    """
    check_output(fmt, lang)
    if part not in PARTS:
        raise UsageError(Msg("err.doc.unknown_part", part=repr(part), known=", ".join(PARTS)))
    compact = problems.compact if compact is None else compact
    _check_front(problems, fmt, lang)
    work = partial(solve, fmt=fmt, lang=lang, limits=limits, part=part, compact=compact)
    tasks = problems.exercises
    solutions: list[Solution] = []
    for solution in _map(work, tasks, jobs):
        solutions.append(solution)
        if progress is not None:
            progress()
    return Document(
        problems=problems,
        fmt=fmt,
        lang=lang,
        solutions=tuple(solutions),
        part=part,
        compact=compact,
    )


def _check_front(problems: ProblemSet, fmt: str, lang: str) -> None:
    """The document's own text must render (pdflatex cannot typeset every character)."""
    from matcalc.documents.layout import markup

    fields: list[tuple[str | Msg, Text | None]] = [
        ("title", problems.title),
        ("author", problems.author),
    ]
    for i, section in enumerate(problems.sections, 1):
        fields += [
            (Msg("err.doc.section.field", n=i, name="title"), section.title),
            (Msg("err.doc.section.field", n=i, name="notes"), section.notes),
        ]
    for name, value in fields:
        for paragraph in value.paragraphs(lang) if value else ():
            try:
                markup(paragraph, "markdown" if fmt == "markdown" else "latex")
            except ValueError as error:
                raise UsageError(
                    Msg("err.doc.front", source=problems.source, name=name, error=_said(error))
                ) from None


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
        raise MatcalcError(Msg("err.doc.worker")) from None
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
