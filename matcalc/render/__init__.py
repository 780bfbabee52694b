"""Renderers: one module per format over one base visitor.

- ``base.py``: ``Renderer``, the visitor that walks a derivation's steps and writes the
  paper's sections once, in terms of a few primitives each format supplies; ``sections``
  groups the steps, ``Line`` and ``Block`` are the items a step renders to.
- ``text.py``, ``markdown.py``, ``latex.py``: the formats; ``json.py`` (data, through
  ``StepVisitor``), ``code.py`` (NumPy and PyTorch functions), ``check.py`` (a checked answer).
- ``printing.py``, ``vector_notation.py``, ``matrix_expr.py``: SymPy printer subclasses.
- ``messages.py`` (and ``messages_errors.py``): every sentence, rule name and note, by key
  and language.

The names below are re-exported from ``base`` for ``from matcalc.render import Renderer``.
"""

from matcalc.render.base import (
    NUMBERED,
    SECTION_OF,
    Block,
    Line,
    Renderer,
    Section,
    StepVisitor,
    local_partials,
    section_key,
    sections,
)

__all__ = [
    "NUMBERED",
    "SECTION_OF",
    "Block",
    "Line",
    "Renderer",
    "Section",
    "StepVisitor",
    "local_partials",
    "section_key",
    "sections",
]
