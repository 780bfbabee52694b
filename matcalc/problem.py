"""The vocabulary of a problem: its layouts and its kinds, one definition for the API,
the CLI (``--layout``) and problem files (``layout = ...``, ``; layout ...``).

To add a layout, add it to ``LAYOUTS`` and give every step its form in it
(``matcalc.engine.layout``) and its sentences in the message catalogue
(``layout.<name>``, ``assemble.<name>.<kind>``, ``reshape.<name>``).
"""

from __future__ import annotations

LAYOUTS = ("numerator", "denominator")
"""Numerator layout: a gradient is a row (1×n) and a Jacobian's rows are gradients, as the
paper writes them.  Denominator layout: the transposes."""

KINDS = ("derivative", "gradient", "jacobian")
"""What a problem asks for (``Problem.kind``): one expression by one variable, one scalar
expression by several, several expressions (or a vector expression) by several."""
