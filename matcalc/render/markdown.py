r"""Markdown for GitHub, Obsidian, Jupyter and MkDocs (arithmatex), math for KaTeX.

Display math is a ``$$`` block with a blank line before and after, ``$$`` alone
on its lines and, inside, one ``aligned`` environment with one row (and one
matrix row) per line.  Short math in prose is inline ``$…$``.  Step titles are
bold paragraphs, not headings, so that documents can embed a derivation under
their own headings; there are no lists and no HTML.  The math primitives are
those of the LaTeX renderer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from matcalc.render.latex import LatexMath

# Backslash-escape what Markdown would read as emphasis, code, math or HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_$<])")


def escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


class MarkdownRenderer(LatexMath):
    """Bold step titles, prose paragraphs and ``$$`` blocks of ``aligned`` math.

    Compact: without the numbered step titles ("Step 1 — …"); the rule names beside
    the equations say what each step does.
    """

    STEP_TITLES_WHEN_COMPACT = False

    def _escape(self, text: str) -> str:
        return escape_markdown(text)

    def _loud(self, text: str) -> str:
        return f"**{text}**"

    def _heading(self, text: str) -> str:
        return f"**{text}**" if self._depth == 0 else f"*{text}*"

    def _section(self, heading: str | None, items: Sequence[Any]) -> str:
        out = [heading] if heading else []
        for run in self._runs(items):
            if isinstance(run, list):
                rows = " \\\\\n".join(self._rows(run))
                out.append(f"$$\n\\begin{{aligned}}\n{rows}\n\\end{{aligned}}\n$$")
            else:
                out.append(str(run))
        return "\n\n".join(out)

    def _document(self, blocks: Sequence[str]) -> str:
        blocks = [b for b in blocks if b]
        if self.compact:
            blocks = _merged(blocks)
        return self.BLOCK_SEP.join(blocks) + "\n"


_OPEN, _CLOSE = "$$\n\\begin{aligned}\n", "\n\\end{aligned}\n$$"


def _merged(blocks: Sequence[str]) -> list[str]:
    """Consecutive blocks of display math only, as one block (rows a little apart)."""
    out: list[str] = []
    for block in blocks:
        alone = block.startswith(_OPEN) and block.endswith(_CLOSE) and block.count("$$") == 2
        if alone and out and out[-1].startswith(_OPEN) and out[-1].endswith(_CLOSE):
            rows = block[len(_OPEN) : -len(_CLOSE)]
            out[-1] = out[-1][: -len(_CLOSE)] + " \\\\[6pt]\n" + rows + _CLOSE
        else:
            out.append(block)
    return out
