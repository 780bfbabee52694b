"""Names matcalc introduces: intermediates u₁ … u_k, the output y, vector names.

Names are deterministic and never clash with the user's own symbols or unknown functions
(``names_used``): if the input already uses u, intermediates are called v (then w, t, …).
"""

from __future__ import annotations

from collections.abc import Iterable

from sympy import Basic, Symbol
from sympy.core.function import AppliedUndef

INTERMEDIATE_LETTERS = ("u", "v", "w", "t", "s", "r", "q", "p")
OUTPUT_LETTERS = ("y", "f", "g", "h", "F", "Y")


def names_used(exprs: Iterable[Basic]) -> set[Symbol]:
    """The input's symbols, and a symbol for each unknown function's name: y(x) takes y, so
    the output is not also called y (names never clash with the user's, functions included)."""
    out: set[Symbol] = set()
    for expr in exprs:
        out |= expr.free_symbols
        out |= {Symbol(f.func.__name__) for f in expr.atoms(AppliedUndef)}
    return out


def _names_in(symbols: Iterable[Symbol]) -> set[str]:
    return {str(s) for s in symbols}


def intermediate_names(count: int, taken: Iterable[Symbol]) -> list[Symbol]:
    """u (one) or u_1 … u_count, with a letter whose names are all free."""
    used = _names_in(taken)
    for letter in INTERMEDIATE_LETTERS:
        names = [letter] if count == 1 else [f"{letter}_{k}" for k in range(1, count + 1)]
        if not used.intersection(names) and letter not in used:
            return [Symbol(n, real=True) for n in names]
    return [Symbol(f"u_{k}'", real=True) for k in range(1, count + 1)]


def output_name(taken: Iterable[Symbol]) -> Symbol:
    """y, or the first of f, g, h, … that the input does not use."""
    used = _names_in(taken)
    for letter in OUTPUT_LETTERS:
        if letter not in used:
            return Symbol(letter, real=True)
    return Symbol("y'", real=True)


def bold_latex(name: str) -> str:
    """\\mathbf{u}_{1} for u_1: the letter bold, the index not."""
    letter, _, index = name.partition("_")
    return rf"\mathbf{{{letter}}}" + (f"_{{{index}}}" if index else "")


class VectorName(Symbol):
    """A symbol that stands for a column vector: printed bold (\\mathbf{g})."""

    def _latex(self, printer) -> str:
        return bold_latex(self.name)
