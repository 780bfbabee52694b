"""The ``matcalc`` command: a thin click layer over ``matcalc.derive``.

Each command calls the Python API, turns ``MatcalcError`` into one line on
stderr with the error's exit status (2: usage, parse or limit; 1: mathematical
failure), and echoes the rendering.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from matcalc.errors import InternalError, MatcalcError, pointer
from matcalc.render.messages import CATALOGUES

FORMATS = ("text", "markdown", "latex", "json", "numpy", "torch")
LANGS = tuple(CATALOGUES)
DOC_FORMATS = ("markdown", "latex", "pdf")

DERIVE_HELP = """Differentiate EXPR and show every step.

\b
One EXPR and one variable gives a derivative; several --wrt variables give a
gradient (a 1×n row in numerator layout); several EXPRs give a Jacobian (m×n).
With no --wrt, an expression with one variable is differentiated by it.

\b
Input is Python syntax: ** or ^ for powers, ln/log (natural), exp, sqrt,
sin … atanh, abs, max/min, sigmoid, e and pi; f(g(x)) for unknown functions.
Declared vectors and matrices work like numpy: * + - / element-wise, @ for
dot and matrix products, .T, sum, norm, dot, trace, softmax, logsumexp.

\b
Examples:
  matcalc derive "ln(sin(x**3)**2)"
  matcalc derive "sin(x + x^2)"
  matcalc derive "3*x**2*y" --wrt x,y
  matcalc derive "3*x**2*y" "2*x + y**8" --wrt x,y --layout denominator
  matcalc derive "ln(x**2)" "sin(3*x)" --wrt x
  matcalc derive "max(0, 3*x + 1)" --format markdown
  matcalc derive "x*x**2" --format latex --standalone > work.tex
  matcalc derive "max(0, w @ x + b)" --vector w,x --wrt w --dim n=3
  matcalc derive "sum((y - max(0, X @ w + b))**2) / N" --vector w --vector y:N --matrix X:N,n --wrt w
  matcalc derive "max(0, w @ x + b)" --vector w,x --wrt w --format numpy > grad.py

\b
--format numpy (or torch) prints a Python function computing the result:
vectors are 1-D arrays, matrices 2-D, and it returns the Jacobian in the
chosen layout (the shape --dim shows), 0 at the kink of max(0, .).

\b
Exit status: 0 verified result; 1 mathematical failure, or a result that is
wrong or not verified; 2 usage, parse or limit error.
"""


class CommandError(click.ClickException):
    """A ``MatcalcError`` as click reports it: one line (then, for a short one-line input,
    the input and a caret under the column), with the error's exit status."""

    def __init__(self, error: MatcalcError):
        super().__init__(_one_line(error))
        self.exit_code = error.exit_code
        self.error = error

    def show(self, file=None) -> None:
        click.echo(f"matcalc: error: {self.format_message()}", err=True)
        for line in pointer(self.error):  # the input, and a caret under the column
            click.echo(line, err=True)


def _one_line(error: MatcalcError) -> str:
    return " ".join(str(error).split())


def _unicode_ok() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "∂u₁²·√σ⎛".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matcalc-steps", prog_name="matcalc")
def main() -> None:
    """matcalc: derivatives with the work shown, as in "The Matrix Calculus You
    Need For Deep Learning" (Parr & Howard).

    Run `matcalc derive --help` for examples.
    """


@main.command(help=DERIVE_HELP)
@click.argument("exprs", nargs=-1, required=True, metavar="EXPR [EXPR ...]")
@click.option("--wrt", "-w", help="Variable(s) to differentiate by, comma-separated: x or x,y.")
@click.option(
    "--layout",
    type=click.Choice(["numerator", "denominator"]),
    default="numerator",
    show_default=True,
    help="Jacobian layout: numerator (rows are gradients, as the paper) or denominator.",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="Output format.",
)
@click.option(
    "--vector", "vectors", multiple=True, metavar="NAMES",
    help="Declare vectors: w,x (length n) or y:N. Repeatable.",
)
@click.option(
    "--matrix", "matrices", multiple=True, metavar="NAME[:ROWS,COLS]",
    help="Declare a matrix: X (n×n) or X:N,n. Repeatable.",
)
@click.option(
    "--dim", "dims", multiple=True, metavar="NAME=SIZE",
    help="Also write the result out in components at this size, e.g. --dim n=3.",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
    metavar="SECONDS", help="Give up (exit 2) after this many seconds.",
)
@click.option("--standalone", is_flag=True, help="LaTeX: a whole document pdflatex compiles.")
@click.option("--ascii", "ascii_only", is_flag=True, help="Text: plain ASCII instead of Unicode.")
@click.option(
    "--lang", type=click.Choice(LANGS), default="en", show_default=True,
    help="Language of the prose (the math is the same).",
)
def derive(exprs, wrt, layout, fmt, vectors, matrices, dims, timeout, standalone, ascii_only, lang) -> None:
    from matcalc.api import derive as derive_api

    try:
        sizes = _sizes(dims)
        derivation = derive_api(
            list(exprs) if len(exprs) > 1 else exprs[0],
            wrt,
            vectors=vectors,
            matrices=matrices,
            layout=layout,
            timeout=timeout,
        )
        if sizes:
            derivation = derivation.with_explicit(**sizes)
    except MatcalcError as error:
        if fmt == "json":
            _echo_json_error(error)
        raise CommandError(error) from None
    try:
        rendered = _render(derivation, fmt, ascii_only=ascii_only, standalone=standalone, lang=lang)
    except MatcalcError as error:  # --format numpy of a result with an unknown function
        raise CommandError(error) from None
    except Exception as error:  # a renderer bug is still one line, never a traceback
        name = type(error).__name__
        message = f"could not render the derivation ({name}); please report it"
        raise CommandError(InternalError(message)) from error
    click.echo(rendered)
    if derivation.verified is False:
        click.echo("matcalc: error: the result does not match SymPy's derivative; please report this bug", err=True)
        sys.exit(1)
    if derivation.verified is None:  # shown, but a script must not take it as checked
        click.echo("matcalc: warning: the result is not verified (SymPy could not decide, and "
                   "the numeric check was inconclusive)", err=True)
        sys.exit(1)


DOC_HELP = """Turn a file of problems into a document of worked solutions.

\b
PROBLEMS is a TOML problem file (title, author, lang, then [[problem]] or
[[section]] tables with title, expr or exprs, wrt, vectors, matrices,
layout and notes; see derivations/paper.toml), or a text file with one
expression per line (# comments).  The format comes from --format or from
OUT's suffix: .md, .tex or .pdf (pdflatex, from texlive-latex-base).

\b
A problem that fails is reported on stderr and marked as failed in the
document; every other problem is still worked.  OUT is replaced atomically,
and only when the document is complete.

\b
Examples:
  matcalc doc derivations/paper.toml -o derivations/paper.md
  matcalc doc derivations/paper.toml -o derivations/paper.tex
  matcalc doc derivations/paper.toml -o paper.pdf
  matcalc doc derivations/paper.toml -o derivations/paper.zh.md --lang zh
  matcalc doc problems.txt -o answers.md --jobs 4

\b
Exit status: 0 every problem worked; 1 some problem failed (the document
is still written) or pdflatex failed; 2 the file or an option is unusable.
"""


@main.command(help=DOC_HELP)
@click.argument("problems", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The document to write (- for standard output).",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(DOC_FORMATS), default=None,
    help="Output format  [default: from OUT's suffix]",
)
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 256), default=1, show_default=True,
    help="Worker processes; the document is the same for any number.",
)
@click.option(
    "--lang", type=click.Choice(LANGS), default=None,
    help="Language of the prose  [default: the file's lang, else en]",
)
def doc(problems, out, fmt, jobs, lang) -> None:
    from matcalc import documents

    try:
        problem_set = documents.load(problems)
        fmt = fmt or documents.format_for(out)
        lang = lang or problem_set.lang or "en"
        documents.check_output(fmt, lang)
        with _progress(len(problem_set.exercises), lang) as advance:
            document = documents.build(problem_set, fmt=fmt, lang=lang, jobs=jobs, progress=advance)
        documents.write(document, out)
    except MatcalcError as error:
        raise CommandError(error) from None
    for failure in document.failures:
        click.echo(f"matcalc: problem {failure.number} ({failure.plain_title}): {failure.error}", err=True)
    if document.failures:
        sys.exit(1)


@contextlib.contextmanager
def _progress(total: int, lang: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for 20 problems or more, when stderr is a terminal."""
    if total < 20 or not sys.stderr.isatty():
        yield lambda: None
        return
    from matcalc.render.messages import message

    with click.progressbar(length=total, label=message("doc.progress", lang), file=sys.stderr) as bar:
        yield lambda: bar.update(1)


def _render(derivation, fmt: str, *, ascii_only: bool, standalone: bool, lang: str) -> str:
    if fmt == "text":
        return derivation.to_text(unicode=not ascii_only and _unicode_ok(), lang=lang)
    if fmt == "markdown":
        return derivation.to_markdown(lang=lang)
    if fmt == "latex":
        return derivation.to_latex(standalone=standalone, lang=lang)
    if fmt == "numpy":
        return derivation.to_numpy().rstrip("\n")
    if fmt == "torch":
        return derivation.to_torch().rstrip("\n")
    return derivation.to_json(indent=2, lang=lang)


def _sizes(dims: tuple[str, ...]) -> dict[str, int]:
    from matcalc.errors import UsageError

    out = {}
    for item in dims:
        name, _, value = item.partition("=")
        if not name.strip().isidentifier() or not value.strip().isdigit() or not 0 < int(value) <= 50:
            raise UsageError(f"--dim {item!r}: write NAME=SIZE with a size from 1 to 50, e.g. --dim n=3")
        out[name.strip()] = int(value)
    return out


def _echo_json_error(error: MatcalcError) -> None:
    payload = {"error": {"kind": error.kind, "message": error.message, "column": error.column}}
    click.echo(json.dumps(payload, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
