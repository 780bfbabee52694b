r"""Output: the format from a file name, checks before any work, atomic writing, pdflatex.

``check_paths`` and ``check_output`` refuse, before any work, what would lose data or
cannot be produced; ``write`` renders a ``Document`` and replaces OUT atomically
(``write_atomic``), through ``compile_pdf`` for PDF: pdflatex with a time limit,
without shell escape and with paranoid file access.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from matcalc.documents.problems import _one_line
from matcalc.errors import MatcalcError, UsageError, visible
from matcalc.msg import Msg
from matcalc.render.messages import CATALOGUES

if TYPE_CHECKING:
    from matcalc.documents.workers import Document

FORMATS = ("markdown", "latex", "pdf")
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".tex": "latex", ".pdf": "pdf"}
PDFLATEX_MISSING = Msg("err.doc.pdflatex_missing")


def format_for(out: str | os.PathLike[str]) -> str:
    """The output format named by OUT's suffix (.md, .markdown, .tex, .pdf); Markdown for ``-``."""
    if str(out) == "-":
        return "markdown"
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(Msg("err.doc.format_from", name=repr(Path(out).name)))
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
            raise UsageError(Msg("err.doc.out_is_source", out=shown))
    if out.is_dir() or str(out).endswith(os.sep):
        raise UsageError(
            Msg("err.doc.out_directory", out=shown, example=f"{shown.rstrip(os.sep)}/out.md")
        )
    if out.exists() or out.is_symlink():
        try:
            mode = out.stat().st_mode
        except OSError as error:  # a dangling link
            raise UsageError(
                Msg("err.doc.out_error", out=shown, reason=error.strerror or error)
            ) from None
        import stat

        if not stat.S_ISREG(mode):
            raise UsageError(Msg("err.doc.out_special", out=shown))
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(Msg("err.doc.no_directory", out=shown, directory=visible(str(directory))))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(Msg("err.doc.not_writable", out=shown, directory=visible(str(directory))))


def check_output(fmt: str, lang: str) -> None:
    """Refuse, before any work, what cannot be produced here."""
    if fmt not in FORMATS:
        raise UsageError(Msg("err.doc.unknown_format", fmt=repr(fmt), known=", ".join(FORMATS)))
    if lang not in CATALOGUES:
        raise UsageError(
            Msg("err.doc.unknown_language", language=repr(lang), known=", ".join(CATALOGUES))
        )
    if fmt in ("latex", "pdf") and lang != "en":
        raise latex_language_refused(lang)
    if fmt == "pdf" and shutil.which("pdflatex") is None:
        raise MatcalcError(PDFLATEX_MISSING)


def latex_language_refused(lang: str) -> UsageError:
    """The one refusal of a LaTeX or PDF document in a language pdflatex cannot typeset here."""
    return UsageError(Msg("err.doc.latex_language", language=lang))


def render(document: Document) -> str:
    """The document as Markdown or LaTeX source (LaTeX for PDF)."""
    from matcalc.documents.layout import render_document

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
        raise MatcalcError(
            Msg("err.doc.write", path=path, reason=error.strerror or error)
        ) from None
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
            raise MatcalcError(
                Msg("err.doc.write", path=path, reason=error.strerror or error)
            ) from None
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
                raise MatcalcError(Msg("err.doc.pdflatex_time", seconds=f"{timeout:g}")) from None
            if done.returncode != 0:
                raise MatcalcError(Msg("err.doc.pdflatex_failed", detail=_latex_error(done.stdout)))
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
