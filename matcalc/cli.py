"""The ``matcalc`` command: a thin click layer over ``matcalc.derive``.

Each command calls the Python API, turns ``MatcalcError`` into one line on
stderr with the error's exit status (2: usage, parse or limit; 1: mathematical
failure), and echoes the rendering.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import math
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from matcalc.errors import InternalError, MatcalcError, pointer, visible
from matcalc.msg import Msg
from matcalc.problem import LAYOUTS
from matcalc.render.messages import CATALOGUES, message

FORMATS = ("text", "markdown", "latex", "json")
DERIVE_FORMATS = (*FORMATS, "numpy", "torch")  # derive's result as a NumPy or PyTorch function
LANGS = tuple(CATALOGUES)
DOC_FORMATS = ("markdown", "latex", "pdf")
DOC_PARTS = ("solutions", "sheet", "key")

DERIVE_HELP = """Differentiate EXPR and show every step.

\b
One EXPR and one variable gives a derivative; several --wrt variables give a
gradient (a 1×n row in numerator layout); several EXPRs give a Jacobian (m×n).
With no --wrt, an expression with one variable is differentiated by it.

\b
Input is Python syntax: ** or ^ for powers, ln/log (natural), log(x, b),
log10, log2, exp, sqrt, cbrt, pow, sin … atanh, atan2(y, x), abs, sign,
max/min, erf, erfc, sigmoid, relu, softplus, e and pi.  f(g(x)) for unknown
functions of one letter; declare longer names with --function, e.g. phi.
Declared vectors and matrices work like numpy: * + - / element-wise, @ for
dot and matrix products, .T, sum, norm, dot, trace, softmax, logsumexp,
and for square matrices inv(X) (or X**-1), det, logdet (= ln det) and
matrix_power(X, k) (0 <= k <= 8).  --matrix S:sym declares a symmetric
matrix: its gradient is the symmetric (G + G^T)/2.  Scalars with these are
derived through the differential (df = tr(G^T dX), then read off G).
What matcalc prints it also reads: x², 2x, 2sin(x), √(x + 1), σ(z), |x - 1|,
ln|x|, and with vectors w·x and A·x (dot and matrix products), ⊗
(element-wise), xᵀ or x^T; 1/2x and e^2x are ambiguous, and refused.  A
derivative or definition may be written first: "d/dx sin(x)", "y = x^3".
EXPR may start with a minus ("-x**2"); - reads EXPRs from standard input,
one a line.  --wrt must name a variable of the expression, or a declared one
the expression does not use (its derivative is 0, with a note); a constant
("d/dx pi^2") may be differentiated by any name.

\b
Examples:
  matcalc derive "ln(sin(x**3)**2)"
  matcalc derive "sin(x + x^2)"
  matcalc derive "d/dx x^2*sin(x)"
  matcalc derive "3*x**2*y" --wrt x,y
  matcalc derive "3*x**2*y" "2*x + y**8" --wrt x,y --layout denominator
  matcalc derive "ln(x**2)" "sin(3*x)" --wrt x
  matcalc derive "x**3*sin(x)" --order 2
  matcalc derive "x**2*y + exp(x*y)" --wrt x,y --order 2
  matcalc derive "logsumexp(z)" --vector z,v --wrt z --hvp v
  matcalc derive "max(0, 3*x + 1)" --format markdown
  matcalc derive "x*x**2" --format latex --standalone > work.tex
  matcalc derive "phi(x**2)" --function phi
  matcalc derive "max(0, w @ x + b)" --vector w,x --wrt w --dim n=3
  matcalc derive "sum((y - max(0, X @ w + b))**2) / N" --vector w \\
      --vector y:N --matrix X:N,n --wrt w
  matcalc derive "-sum(y*ln(softmax(z)))" --vector y:m,z:m --wrt z
  matcalc derive "a @ inv(X) @ b" --vector a,b --matrix X --wrt X \\
      --layout denominator
  matcalc derive "logdet(S)" --matrix S:sym --wrt S
  echo "x**2*sin(x)" | matcalc derive -
  matcalc derive "max(0, w @ x + b)" --vector w,x --wrt w \\
      --format numpy > grad.py

\b
--format numpy (or torch) prints a Python function computing the result:
vectors are 1-D arrays, matrices 2-D, and it returns the Jacobian in the
chosen layout (the shape --dim shows), 0 at the kink of max(0, .).

\b
Exit status: 0 verified result; 1 mathematical failure, or a result that is
wrong or not verified; 2 usage, parse or limit error (time, memory, size).
"""


WIDTH_OPTION = click.option(
    "--width",
    type=click.IntRange(min=0),
    metavar="COLUMNS",
    expose_value=False,
    callback=lambda ctx, _param, value: ctx.meta.__setitem__("matcalc.width", value),
    help="Text: wrap lines to this many columns, 0 for never "
    "(default: $COLUMNS, else the terminal's; 80 into a pipe).",
)
"""--width for the commands that print text; ``_width()`` reads it."""


class CommandError(click.ClickException):
    """A ``MatcalcError`` as click reports it: one line (then, for a short one-line input,
    the input and a caret under the column), with the error's exit status, in the language
    of the command (``--lang``, or the problem file's)."""

    def __init__(self, error: MatcalcError):
        self.lang = _lang()
        super().__init__(_one_line(error, self.lang))
        # click reads exit_code from the instance; click >= 8.5 types it as a ClassVar
        self.exit_code = error.exit_code  # type: ignore[misc, unused-ignore]
        self.error = error

    def show(self, file=None) -> None:
        _echo_error(self.format_message(), self.lang)
        for line in pointer(self.error):  # the input, and a caret under the column
            click.echo(line, err=True)


def _one_line(error: MatcalcError, lang: str = "en") -> str:
    return " ".join(error.line(lang).split())


def _echo_error(text: str, lang: str, key: str = "cli.error") -> None:
    """``matcalc: error: text`` (or the warning ``cli.warning``) on stderr, in ``lang``."""
    click.echo(message(key, lang, text=visible(text)), err=True)


LANG_KEY = "matcalc.lang"
"""Where a command keeps its language in click's context, for its error messages."""


def _lang() -> str:
    """The language of the running command: --lang (or the problem file's lang), else en."""
    context = click.get_current_context(silent=True)
    while context is not None:
        if LANG_KEY in context.meta:
            return context.meta[LANG_KEY]
        context = context.parent
    return "en"


def _set_lang(lang: str | None) -> None:
    context = click.get_current_context(silent=True)
    if context is not None and lang in CATALOGUES:
        context.meta[LANG_KEY] = lang


def _argv_lang(args: list[str]) -> str | None:
    """--lang as typed, before click has parsed the command line (best effort)."""
    for a, b in zip(args, [*args[1:], ""]):
        if a == "--lang" and b in CATALOGUES:
            return b
        if a.startswith("--lang=") and a[7:] in CATALOGUES:
            return a[7:]
    return None


def _file_lang(path: object) -> str | None:
    """The ``lang = "…"`` of a TOML problem file, read without parsing it (best effort), so
    that even an error in the file is reported in the file's language."""
    if not isinstance(path, (str, Path)) or not str(path).lower().endswith(".toml"):
        return None
    try:
        if not Path(path).is_file():  # never a FIFO or a device: reading it could block
            return None
        with open(path, encoding="utf-8", errors="replace") as file:
            head = file.read(65536)
    except OSError:
        return None
    match = re.search(r"""^\s*lang\s*=\s*["']([A-Za-z-]+)["']""", head, re.MULTILINE)
    return match.group(1) if match and match.group(1) in CATALOGUES else None


def _click_message(error: click.UsageError) -> Msg | None:
    """click's usage error as a sentence of the catalogue, when it is one matcalc knows."""
    if isinstance(error, LocalizedParameterError):
        return error.msg
    hint = ""
    param = getattr(error, "param", None)
    if param is not None:
        hint = getattr(error, "param_hint", None) or param.get_error_hint(error.ctx)
    if isinstance(error, click.NoSuchOption):
        if error.possibilities:
            close = ", ".join(sorted(error.possibilities))
            return Msg("cli.no_such_option.close", name=error.option_name, close=close)
        return Msg("cli.no_such_option", name=error.option_name)
    if isinstance(error, click.MissingParameter) and param is not None:
        key = "cli.missing_argument" if isinstance(param, click.Argument) else "cli.missing_option"
        return Msg(key, name=hint)
    if isinstance(error, click.BadParameter) and param is not None:
        value = re.match(r"'(.*)' is not one of", error.message or "")
        if isinstance(param.type, click.Choice) and value:
            choices = ", ".join(map(str, param.type.choices))
            return Msg("cli.choice", name=hint, value=value.group(1), choices=choices)
        value = re.match(r"'?(.*?)'? is not (?:a valid integer|in the range)", error.message or "")
        if value:
            return Msg("cli.bad_number", name=hint, value=value.group(1))
        return None
    text = error.format_message()
    match = re.fullmatch(r"Option '(.+)' requires an argument\.", text)
    if match:
        return Msg("cli.needs_value", name=match.group(1))
    match = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", text)
    if match:
        return Msg("cli.extra_arguments", args=match.group(1))
    return None


class LocalizedParameterError(click.BadParameter):
    """An option value refused with a sentence of the catalogue."""

    def __init__(self, msg: Msg, ctx=None, param=None) -> None:
        super().__init__(str(msg), ctx=ctx, param=param)
        self.msg = msg


class LocalizedUsageError(click.UsageError):
    """A usage error of click (no such option, missing argument …) in the command's language:
    one line, then how to get help."""

    exit_code = 2

    def __init__(self, msg: Msg, lang: str, command: str) -> None:
        super().__init__(msg.text(lang))
        self.lang = lang
        self.command = command

    def show(self, file=None) -> None:
        _echo_error(self.format_message(), self.lang)
        click.echo(message("cli.help", self.lang, command=self.command), err=True)


class LocalizedCommand(click.Command):
    """A command whose usage errors speak its language (--lang, or the problem file's)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lang = _argv_lang(args) or self.file_lang(args)
        if lang is not None:
            ctx.meta[LANG_KEY] = lang
        try:
            return self.parse(ctx, args)
        except click.UsageError as error:
            if lang is None or lang == "en" or isinstance(error, JsonUsageError):
                raise
            msg = _click_message(error)
            if msg is None:
                raise
            raise LocalizedUsageError(msg, lang, ctx.command_path) from None

    def parse(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, args)

    def file_lang(self, args: list[str]) -> str | None:
        return None


def _unicode_ok() -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "∂u₁²·√σ⎛".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


STDIN_LIMIT = 1_000_000
"""Bytes read from standard input (``-``): enough for any real list of expressions."""


class ExpressionCommand(LocalizedCommand):
    """A command whose arguments are expressions, which may start with a minus.

    Every token that is not one of the command's options (or an option's value) is an
    argument: ``matcalc derive "-x**2"`` works, and so does ``-- "-x" --wrt x``: options
    count after ``--`` too, since a user who types ``-- "-x" -f json`` means the format.
    An expression that is exactly an option (the expression -w) is written ``(-w)``; an
    unknown ``--name`` is an unknown option, except after ``--``.  With ``--format json``,
    a usage error is a JSON error object, as every other error is.
    """

    def parse(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse(ctx, _expressions_last(self.get_params(ctx), args))
        except click.UsageError as error:
            if _wants_json(args):
                msg = _click_message(error)
                lang = _argv_lang(args) or "en"
                text = msg.text(lang) if msg is not None else error.format_message()
                raise JsonUsageError(text, msg.key if msg is not None else None) from None
            raise


class ProblemFileCommand(LocalizedCommand):
    """``matcalc doc``: usage errors in the problem file's language when --lang is not given."""

    def file_lang(self, args: list[str]) -> str | None:
        return next((lang for a in args if (lang := _file_lang(a))), None)


def _expressions_last(params, args: list[str]) -> list[str]:
    """``args`` with the options first, then ``--`` and every other token, in order."""
    takes_value: set[str] = set()
    flags: set[str] = set()
    for param in params:
        if isinstance(param, click.Option):
            names = {*param.opts, *param.secondary_opts}
            (flags if param.is_flag or param.count else takes_value).update(names)
    options: list[str] = []
    rest: list[str] = []
    tokens = iter(args)
    after_separator = False
    for token in tokens:
        if token == "--" and not after_separator:
            after_separator = True
        elif token in takes_value:
            value = next(tokens, None)
            if value is None:
                raise click.BadOptionUsage(token, f"Option '{token}' requires an argument.")
            options += [token, value]
        elif (
            token in flags
            or token.startswith("--")
            and token.partition("=")[0] in takes_value  # --wrt=x
            or not after_separator
            and re.fullmatch(r"--[A-Za-z][\w-]*(=.*)?", token)
        ):  # an unknown --option stays one: click names it and suggests a known one
            options.append(token)
        else:
            rest.append(token)
    return [*options, "--", *rest]


def _wants_json(args: list[str]) -> bool:
    pairs = zip(args, [*args[1:], ""])
    return any(a in ("--format", "-f") and b == "json" or a == "--format=json" for a, b in pairs)


class JsonUsageError(click.UsageError):
    """A usage error (bad option value, missing argument) as JSON on stdout, exit status 2."""

    exit_code = 2

    def __init__(self, text: str, key: str | None = None) -> None:
        super().__init__(text)
        self.key = key

    def show(self, file=None) -> None:
        error = {"kind": "usage", "message": self.format_message(), "column": None}
        if self.key is not None:
            error["key"] = self.key
        click.echo(json.dumps({"error": error}, ensure_ascii=False))


class Seconds(click.ParamType):
    """A time limit: a finite number of seconds, more than 0 and at most an hour."""

    name = "seconds"
    MAX = 3600.0

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (0 < seconds <= self.MAX):  # also refuses nan and inf
            raise LocalizedParameterError(
                Msg("cli.seconds", value=repr(value), max=f"{self.MAX:g}"), ctx, param
            )
        return seconds


class MemorySize(click.ParamType):
    """An address-space cap: 512M, 2G, 1024 (MiB), or none."""

    name = "size"
    UNITS = {"": 1 << 20, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text in ("none", "0", "off"):
            return 0
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmg]?)i?b?", text)
        nbytes = int(float(match.group(1)) * self.UNITS[match.group(2)]) if match else 0
        if not (64 << 20) <= nbytes <= (1 << 40):
            raise LocalizedParameterError(Msg("cli.memory", value=repr(value)), ctx, param)
        return nbytes


def _limits(memory: int | None):
    """The default limits with the --memory option applied (0: no cap)."""
    import dataclasses

    from matcalc.limits import DEFAULT_LIMITS

    if memory is None:
        return DEFAULT_LIMITS
    return dataclasses.replace(DEFAULT_LIMITS, max_memory=memory or None)


def _memory_error(limits, error: BaseException) -> MatcalcError | None:
    """The limit error for running out of memory (directly, or as the cause of an error)."""
    from matcalc.errors import LimitError
    from matcalc.limits import format_bytes

    if not isinstance(error, MemoryError) and not isinstance(error.__cause__, MemoryError):
        return None
    if limits.max_memory is None:
        return LimitError(Msg("err.out_of_memory"))
    return LimitError(Msg("err.memory_limit", limit=format_bytes(limits.max_memory)))


def _as_failure(limits, error: MatcalcError | MemoryError) -> MatcalcError:
    """``error`` as one of matcalc's: running out of memory becomes the limit error."""
    failure = _memory_error(limits, error)
    if failure is None:
        assert isinstance(error, MatcalcError)  # a MemoryError always has a limit error
        failure = error
    return failure


def _read_stdin(what: str) -> str:
    """Standard input as text, at most ``STDIN_LIMIT`` bytes."""
    from matcalc.errors import UsageError

    data = (
        sys.stdin.buffer.read(STDIN_LIMIT + 1)
        if hasattr(sys.stdin, "buffer")
        else (sys.stdin.read(STDIN_LIMIT + 1).encode("utf-8"))
    )
    if len(data) > STDIN_LIMIT:
        raise UsageError(Msg("cli.stdin.long", what=what, limit=STDIN_LIMIT))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(Msg("cli.stdin.utf8", what=what, byte=error.start + 1)) from None


def _stdin_expressions(exprs: tuple[str, ...]) -> list[str]:
    """EXPRs with ``-`` replaced by the lines of standard input (blank lines, ``#`` skipped)."""
    from matcalc.errors import UsageError

    if "-" not in exprs:
        return list(exprs)
    if exprs.count("-") > 1:
        raise UsageError(Msg("cli.stdin.once"))
    lines = [line.strip() for line in _read_stdin("-").splitlines()]
    read = [line for line in lines if line and not line.startswith("#")]
    if not read:
        raise UsageError(Msg("cli.stdin.empty"))
    at = exprs.index("-")
    return [*exprs[:at], *read, *exprs[at + 1 :]]


class _Commands(click.Group):
    """matcalc's commands; an expression typed where the command belongs (matcalc "x^2")
    is answered with the command that differentiates it, not only 'No such command'."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if (
            name
            and not name.startswith("-")
            and self.get_command(ctx, name) is None
            and not difflib.get_close_matches(name, self.list_commands(ctx))
        ):
            lang = _argv_lang(args) or "en"
            quoted = visible(shlex.quote(name))  # control and bidi characters as escapes
            msg = Msg("cli.no_command.expression", name=visible(name), quoted=quoted)
            raise LocalizedUsageError(msg, lang, ctx.command_path)
        return super().resolve_command(ctx, args)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matcalc-steps", prog_name="matcalc")
def main() -> None:
    """matcalc: derivatives with the work shown, as in "The Matrix Calculus You
    Need For Deep Learning" (Parr & Howard).

    Run `matcalc derive --help` for examples.
    """


def _within_timeout(command: Callable[..., None]) -> Callable[..., None]:
    """Run the whole command under ``--timeout``: parsing, the derivation, verification,
    ``--dim`` and rendering (``derive`` bounds its own part the same way inside)."""

    @functools.wraps(command)
    def run(**kw) -> None:
        from matcalc.deadline import Deadline, alarm
        from matcalc.errors import LimitError

        _set_lang(kw.get("lang"))
        try:
            with alarm(Deadline(kw["timeout"])):
                command(**kw)
        except LimitError as error:
            if kw.get("fmt") == "json":
                _echo_json_error(error)
            raise CommandError(error) from None

    return run


def _options(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several click options as one decorator, shown by ``--help`` in the order given."""

    def apply(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def _layout_option(help: str) -> Callable[[Any], Any]:
    return click.option(
        "--layout", type=click.Choice(LAYOUTS), default="numerator", show_default=True, help=help
    )


def _format_option(formats: Sequence[str], help: str) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "-f",
        "fmt",
        type=click.Choice(formats),
        default="text",
        show_default=True,
        help=help,
    )


def _memory_option(help: str) -> Callable[[Any], Any]:
    return click.option("--memory", type=MemorySize(), default=None, metavar="SIZE", help=help)


# The options that derive and check share.
WRT_OPTION = click.option(
    "--wrt", "-w", help="Variable(s) to differentiate by, comma-separated: x or x,y."
)
DECLARATION_OPTIONS = _options(
    click.option(
        "--vector",
        "vectors",
        multiple=True,
        metavar="NAMES",
        help="Declare vectors: w,x (length n) or y:N. Repeatable.",
    ),
    click.option(
        "--matrix",
        "matrices",
        multiple=True,
        metavar="NAME[:ROWS,COLS]",
        help="Declare a matrix: X (n×n), X:N,n, or S:sym (symmetric, n×n). Repeatable.",
    ),
)
TIMEOUT_OPTION = click.option(
    "--timeout",
    type=Seconds(),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up (exit 2) after this many seconds (at most 3600).",
)
ORDER_OPTION = click.option(
    "--order",
    "-k",
    type=click.IntRange(1, 10),
    default=1,
    show_default=True,
    metavar="K",
    help="The K-th derivative, each order derived from the last; with several --wrt "
    "variables, --order 2 is the Hessian.",
)
PROCESS_MEMORY = "Cap the memory (address space) of the process: 512M, 2G or none  [default: 1G]"
OUTPUT_OPTIONS = _options(
    click.option("--standalone", is_flag=True, help="LaTeX: a whole document pdflatex compiles."),
    click.option(
        "--ascii", "ascii_only", is_flag=True, help="Text: plain ASCII instead of Unicode."
    ),
    WIDTH_OPTION,
    click.option(
        "--lang",
        type=click.Choice(LANGS),
        default="en",
        show_default=True,
        help="Language of the prose (the math is the same).",
    ),
)


@main.command(help=DERIVE_HELP, cls=ExpressionCommand)
@click.argument("exprs", nargs=-1, required=True, metavar="EXPR [EXPR ...]")
@WRT_OPTION
@_layout_option(
    "Jacobian layout: numerator (rows are gradients, as the paper) or denominator "
    "(columns; every step transposed). By several variables the result is a row of blocks "
    "(a column in denominator layout), a matrix's entries listed as vec, rows stacked."
)
@_format_option(
    DERIVE_FORMATS, "Output format; numpy and torch print the result as a Python function."
)
@DECLARATION_OPTIONS
@click.option(
    "--function",
    "functions",
    multiple=True,
    metavar="NAMES",
    help="Declare unknown functions with longer names: phi or phi,psi (f, g, h, … need no "
    "declaration). Repeatable.",
)
@click.option(
    "--dim",
    "dims",
    multiple=True,
    metavar="NAME=SIZE",
    help="Also write the result out in components at this size, e.g. --dim n=3.",
)
@TIMEOUT_OPTION
@_memory_option(PROCESS_MEMORY)
@ORDER_OPTION
@click.option(
    "--hvp",
    metavar="V",
    default=None,
    help="The Hessian-vector product H·V (V a declared vector as long as the --wrt vector): "
    "the Hessian, then H times V from the right, without forming H.",
)
@OUTPUT_OPTIONS
@_within_timeout
def derive(
    exprs,
    wrt,
    layout,
    fmt,
    vectors,
    matrices,
    functions,
    dims,
    timeout,
    memory,
    order,
    hvp,
    standalone,
    ascii_only,
    lang,
) -> None:
    from matcalc.api import derive as derive_api
    from matcalc.limits import memory_cap

    limits = _limits(memory)
    click.get_current_context().with_resource(memory_cap(limits.max_memory))
    try:
        _refuse_latex_language(fmt, standalone, lang)
        sizes = _sizes(dims)
        exprs = _stdin_expressions(exprs)
        derivation = derive_api(
            list(exprs) if len(exprs) > 1 else exprs[0],
            wrt,
            vectors=vectors,
            matrices=matrices,
            layout=layout,
            order=order,
            timeout=timeout,
            functions=functions,
            limits=limits,
            hvp=hvp,
        )
        if sizes:
            _check_sizes(derivation, sizes)
            derivation = derivation.with_explicit(**sizes)
    except (MatcalcError, MemoryError) as error:
        error = _as_failure(limits, error)
        if fmt == "json":
            _echo_json_error(error)
        raise CommandError(error) from None
    try:
        rendered = _render(derivation, fmt, ascii_only=ascii_only, standalone=standalone, lang=lang)
    except Exception as error:  # a renderer bug is still one line, never a traceback
        raise _render_error(error, limits, fmt) from error
    click.echo(rendered)
    if derivation.verified is False:
        _echo_error(message("cli.not_verified", lang), lang)
        sys.exit(1)
    if derivation.verified is None:  # shown, but a script must not take it as checked
        undefined = any(getattr(s, "method", "") == "undefined" for s in derivation.steps)
        key = "cli.undefined" if undefined else "cli.undecided"
        _echo_error(message(key, lang), lang, key="cli.warning")
        sys.exit(1)


def _refuse_latex_language(fmt: str, standalone: bool, lang: str) -> None:
    """A standalone LaTeX document must compile: refused in Chinese, as ``matcalc doc`` does."""
    if fmt == "latex" and standalone and lang != "en":
        from matcalc.documents import latex_language_refused

        raise latex_language_refused(lang)


def _render_error(error: Exception, limits, fmt: str) -> CommandError:
    """One line for a failure while rendering: a limit (memory, a huge number), else a bug."""
    if isinstance(error, MatcalcError):
        failure: MatcalcError | None = error
    else:
        failure = _memory_error(limits, error) or _too_large(error)
    if failure is None:
        name = type(error).__name__
        failure = InternalError(Msg("err.cli.render", name=name))
    if fmt == "json":
        _echo_json_error(failure)
    return CommandError(failure)


def _too_large(error: BaseException) -> MatcalcError | None:
    """Python refuses to print an integer of more than 4300 digits: a limit, not a bug."""
    from matcalc.errors import LimitError

    if isinstance(error, ValueError) and "integer string conversion" in str(error):
        return LimitError(Msg("err.too_large_to_print"))
    return None


def _check_sizes(derivation, sizes: dict[str, int]) -> None:
    """--dim names sizes of the problem's vectors and matrices, and only those."""
    from matcalc.errors import UsageError
    from matcalc.verify import default_dims

    shapes = {d.symbol: d for d in derivation.problem.declarations}
    given = ", ".join(f"{k}={v}" for k, v in sizes.items())
    if not shapes:
        raise UsageError(Msg("cli.dim.no_vectors", given=given))
    known = sorted(s.name for s in default_dims(shapes))
    unknown = sorted(set(sizes) - set(known))
    if unknown:
        if not known:
            raise UsageError(Msg("cli.dim.numbers", name=unknown[0]))
        raise UsageError(Msg("cli.dim.unknown", name=unknown[0], known=", ".join(known)))


DOC_HELP = """Turn a file of problems into a document of worked solutions.

\b
PROBLEMS is a TOML problem file (title, author, lang, compact, then
[[problem]] or [[section]] tables with title, expr or exprs, wrt, vectors,
matrices, functions, layout, order, answer and notes; see
derivations/paper.toml), or a text file with one expression per line
(# comments), optionally followed by ; wrt x,y and ; vectors w,x,
; matrices X:N,n, ; layout denominator, ; order 2, ; answer 2*x.
PROBLEMS - reads standard input.  Math in titles and notes ($...$) may use
common commands only (\\frac, \\partial, \\mathbf, Greek letters, ...).
The format comes from --format or from OUT's suffix: .md, .tex or .pdf
(pdflatex, from texlive-latex-base).  OUT is never PROBLEMS, a device or a
directory.

\b
--part sheet writes the problems only, numbered, with room to work (no
steps, no results, no notes): a problem sheet to hand out.  --part key
writes a short answer key: each problem, its result and the verification
line.  --compact sets two problems or more to a page (LaTeX/PDF: two columns
of smaller type, no contents; Markdown: no contents, no step titles); a
problem file can ask for it with compact = true.

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
  matcalc doc derivations/paper.toml -o paper-compact.pdf --compact
  matcalc doc derivations/paper.toml -o sheet.pdf --part sheet
  matcalc doc derivations/paper.toml -o key.pdf --part key --compact
  matcalc doc derivations/paper.toml -o key.zh.md --part key --lang zh
  matcalc doc problems.txt -o answers.md --jobs 4
  printf 'x**2*y ; wrt x,y\\n' | matcalc doc - -o -

\b
Exit status: 0 every problem worked; 1 some problem failed (the document
is still written) or pdflatex failed; 2 the file or an option is unusable;
130 or 143 interrupted (Ctrl-C, SIGTERM: OUT is left as it was).
"""


@main.command(help=DOC_HELP, cls=ProblemFileCommand)
@click.argument("problems", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option(
    "--output",
    "-o",
    "out",
    required=True,
    type=click.Path(path_type=Path, allow_dash=True),
    help="The document to write (- for standard output); never the problem file, a device "
    "or a directory.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(DOC_FORMATS),
    default=None,
    help="Output format  [default: from OUT's suffix]",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes; the document is the same for any number.",
)
@click.option(
    "--lang",
    type=click.Choice(LANGS),
    default=None,
    help="Language of the prose  [default: the file's lang, else en]",
)
@_memory_option(
    "Cap the memory (address space) of the process and its workers: 512M, 2G or none  [default: 1G]"
)
@click.option(
    "--part",
    type=click.Choice(DOC_PARTS),
    default="solutions",
    show_default=True,
    help="solutions: worked solutions; sheet: the problems only, with room to work; "
    "key: each problem with its result.",
)
@click.option(
    "--compact",
    is_flag=True,
    default=False,
    help="Two problems or more to a page (also: compact = true in a TOML problem file).",
)
def doc(problems, out, fmt, jobs, lang, memory, part, compact) -> None:
    from matcalc import documents
    from matcalc.limits import memory_cap

    limits = _limits(memory)
    context = click.get_current_context()
    context.with_resource(memory_cap(limits.max_memory))  # forked workers inherit it
    context.with_resource(_signals_raise())
    _set_lang(lang or _file_lang(problems))
    try:
        documents.check_paths(problems, out)
        problem_set = documents.load(problems)
        fmt = fmt or documents.format_for(out)
        lang = lang or problem_set.lang or "en"
        _set_lang(lang)
        documents.check_output(fmt, lang)
        with _progress(len(problem_set.exercises), lang) as advance:
            document = documents.build(
                problem_set,
                fmt=fmt,
                lang=lang,
                jobs=jobs,
                limits=limits,
                progress=advance,
                part=part,
                compact=compact or None,
            )
        documents.write(document, out)
    except MatcalcError as error:
        raise CommandError(error) from None
    except (KeyboardInterrupt, Terminated) as stop:
        lang = _lang()
        if str(out) == "-":
            click.echo(message("cli.interrupted", lang), err=True)
        else:
            click.echo(message("cli.interrupted.unchanged", lang, out=visible(str(out))), err=True)
        sys.exit(143 if isinstance(stop, Terminated) else 130)
    except Exception as error:  # a bug is still one line, never a traceback
        failure = _memory_error(limits, error) or InternalError(
            Msg("err.cli.document", name=type(error).__name__)
        )
        raise CommandError(failure) from error
    for solution in document.solutions:  # a marked sheet: each answer's verdict
        if solution.verdict and not solution.failed:
            line = message(
                "cli.problem",
                lang,
                n=solution.number,
                title=solution.plain_title,
                text=solution.verdict,
            )
            click.echo(visible(line), err=True)
    for failed in document.failures:
        line = message(
            "cli.problem", lang, n=failed.number, title=failed.plain_title, text=failed.error
        )
        click.echo(visible(line), err=True)
    if document.failures:
        sys.exit(1)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that workers and temporary files are cleaned up."""


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Terminated`` (Ctrl-C raises KeyboardInterrupt)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


CHECK_HELP = """Judge your own answer for the derivative of EXPR, and name the likely mistake.

\b
ANSWER is written in the same input language as EXPR (x.T, @, sum, softmax,
sigmoid, ...), for example --answer "2*x*sin(x) + x**2*cos(x)"; a row is
2*x.T, and a Jacobian may use diag(v), eye(n), ones(n) and a @ b.T
("diag(s) - s @ s.T"), the ReLU gate 1[z > 0] or heaviside(z), and the
notation matcalc prints (2·(A·x − b)ᵀ·A, σ(z)·(1 − σ(z))).  Give --answer
once per entry for a gradient or Jacobian of scalars, row by row.
The answer is compared with a reference built from EXPR (SymPy's derivative,
or the Jacobian of the explicit components), never executed.

\b
Verdicts: right; right in the other layout (a transpose: a convention, not
a mistake); right under an assumption (entries summing to 1, a symmetric
matrix); wrong, with the likely mistake named (a constant factor, a sign, a
transpose, a dropped term, a missing chain-rule factor, the product or
quotient rule misused, a power rule or trig derivative misremembered, the
ReLU gate outside the sum over samples, A where Aᵀ belongs) and where it
enters the derivation; cannot judge.

\b
Examples:
  matcalc check "x**2*sin(x)" --answer "2*x*sin(x)"
  matcalc check "sin(x)/x" --answer "(x*cos(x) - sin(x))/x"
  matcalc check "sin(x**2)" --answer "cos(x**2)"
  matcalc check "x**3*sin(x)" --order 2 \\
      --answer "6*x*sin(x) + 6*x**2*cos(x) - x**3*sin(x)"
  matcalc check "w @ x" --vector w,x --wrt w --answer "x"
  matcalc check "-sum(y * ln(softmax(z)))" --vector y,z --wrt z \\
      --answer "softmax(z) - y"
  matcalc check "sum((y - max(0, X @ w + b))**2) / N" --vector w \\
      --vector y:N --matrix X:N,n --wrt w \\
      --answer "2/N * X.T @ (X @ w + b - y)"

\b
Exit status: 0 right (also in the other layout, or under a stated
assumption); 1 wrong, or cannot judge; 2 usage, parse or limit error.
"""


@main.command(name="check", help=CHECK_HELP, cls=ExpressionCommand)
@click.argument("exprs", nargs=-1, required=True, metavar="EXPR [EXPR ...]")
@click.option(
    "--answer",
    "-a",
    "answers",
    multiple=True,
    required=True,
    metavar="ANSWER",
    help="Your answer, in the input language. Repeat for several entries.",
)
@WRT_OPTION
@_layout_option("The layout you are asked to answer in.")
@_format_option(FORMATS, "Output format.")
@DECLARATION_OPTIONS
@TIMEOUT_OPTION
@_memory_option(PROCESS_MEMORY)
@ORDER_OPTION
@OUTPUT_OPTIONS
@_within_timeout
def check_command(
    exprs,
    answers,
    wrt,
    layout,
    fmt,
    vectors,
    matrices,
    timeout,
    memory,
    order,
    standalone,
    ascii_only,
    lang,
) -> None:
    from matcalc.answers import check as check_api
    from matcalc.limits import memory_cap

    limits = _limits(memory)
    click.get_current_context().with_resource(memory_cap(limits.max_memory))
    try:
        _refuse_latex_language(fmt, standalone, lang)
        result = check_api(
            list(exprs) if len(exprs) > 1 else exprs[0],
            list(answers) if len(answers) > 1 else answers[0],
            wrt,
            vectors=vectors,
            matrices=matrices,
            layout=layout,
            order=order,
            timeout=timeout,
            limits=limits,
        )
    except (MatcalcError, MemoryError) as error:
        error = _as_failure(limits, error)
        if fmt == "json":
            _echo_json_error(error)
        raise CommandError(error) from None
    try:
        if fmt == "json":
            rendered = result.to_json(indent=2, lang=lang)
        elif fmt == "text":
            rendered = result.to_text(
                unicode=not ascii_only and _unicode_ok(), lang=lang, width=_width()
            )
        elif fmt == "markdown":
            rendered = result.to_markdown(lang=lang)
        else:
            rendered = result.to_latex(standalone=standalone, lang=lang)
    except Exception as error:  # a renderer bug is still one line, never a traceback
        name = type(error).__name__
        raise CommandError(InternalError(Msg("err.cli.render_check", name=name))) from error
    click.echo(rendered)
    if result.verdict in ("wrong", "cannot_judge"):
        sys.exit(1)


@contextlib.contextmanager
def _progress(total: int, lang: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for 20 problems or more, when stderr is a terminal."""
    if total < 20 or not sys.stderr.isatty():
        yield lambda: None
        return
    from matcalc.render.messages import message

    with click.progressbar(
        length=total, label=message("doc.progress", lang), file=sys.stderr
    ) as bar:
        yield lambda: bar.update(1)


def _width() -> int:
    """Text width: --width, else $COLUMNS, else the terminal's; 80 into a pipe or a file."""
    context = click.get_current_context(silent=True)
    width = context.meta.get("matcalc.width") if context is not None else None
    if width is not None:
        return width
    isatty = getattr(sys.stdout, "isatty", None)
    if os.environ.get("COLUMNS") or (isatty is not None and isatty()):
        return shutil.get_terminal_size().columns
    return 80


def _render(derivation, fmt: str, *, ascii_only: bool, standalone: bool, lang: str) -> str:
    if fmt == "text":
        return derivation.to_text(
            unicode=not ascii_only and _unicode_ok(), lang=lang, width=_width()
        )
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
        if (
            not name.strip().isidentifier()
            or not value.strip().isdigit()
            or not 0 < int(value) <= 50
        ):
            raise UsageError(Msg("cli.dim.syntax", item=repr(item)))
        out[name.strip()] = int(value)
    return out


def _echo_json_error(error: MatcalcError) -> None:
    """The error as JSON on stdout: ``message`` in the command's language, and the stable
    catalogue ``key`` (when the message has one)."""
    payload: dict = {
        "kind": error.kind,
        "message": error.localized(_lang()),
        "column": error.column,
    }
    if error.key is not None:
        payload["key"] = error.key
    click.echo(json.dumps({"error": payload}, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
