"""Worked-solution documents: a file of problems in; Markdown, LaTeX or PDF out.

One module per concern:

- ``problems``: the problem-file format (TOML or one expression a line), reading and
  validation → ``ProblemSet``;
- ``workers``: ``solve`` one problem, ``build`` them all in N processes → ``Document``;
- ``layout``: the page layout of a ``Document`` as Markdown or LaTeX;
- ``output``: the format from a file name, checks before any work, atomic writing and
  pdflatex.

Pipeline
--------
``load`` → ``ProblemSet`` (validated data) → ``build`` → ``Document`` (one
``Solution`` per problem: rendered strings, made by ``solve`` in worker
processes when ``jobs > 1``, in the same order whatever ``jobs``) →
``render_document`` (``layout``) → ``write`` (atomic; PDF through pdflatex).

To add a problem field: add it to ``Exercise`` and ``PROBLEM_FIELDS``
(``problems``), read it in ``_exercise``, and use it in ``solve`` (``workers``).
"""

from __future__ import annotations

from matcalc.documents.output import (
    FORMATS,
    PDFLATEX_MISSING,
    SUFFIXES,
    check_output,
    check_paths,
    compile_pdf,
    format_for,
    latex_language_refused,
    render,
    write,
    write_atomic,
)
from matcalc.documents.problems import (
    LAYOUTS,
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    PROBLEM_FIELDS,
    SECTION_FIELDS,
    TEXT_KEYS,
    TOP_FIELDS,
    Exercise,
    ProblemSet,
    Section,
    Text,
    load,
    loads_text,
    loads_toml,
)
from matcalc.documents.workers import Document, Solution, build, solve

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS",
    "PDFLATEX_MISSING",
    "PROBLEM_FIELDS",
    "SECTION_FIELDS",
    "SUFFIXES",
    "TEXT_KEYS",
    "TOP_FIELDS",
    "Document",
    "Exercise",
    "ProblemSet",
    "Section",
    "Solution",
    "Text",
    "build",
    "check_output",
    "check_paths",
    "compile_pdf",
    "format_for",
    "latex_language_refused",
    "load",
    "loads_text",
    "loads_toml",
    "render",
    "solve",
    "write",
    "write_atomic",
]
