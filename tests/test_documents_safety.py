"""`matcalc doc` loses nothing and trusts nothing (issue 13 §2), and its problem files are
forgiving (issue 14 §1): the output is never the input, a device or a directory; author
text reaches LaTeX only escaped or through checked math; malformed files of any kind end
in one line and exit 2; signals end the workers and remove temporary files; memory is capped.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run

from matcalc import documents
from matcalc.documents.layout import check_math, markup
from matcalc.errors import MatcalcError, UsageError, visible
from matcalc.limits import _address_space_used, memory_cap

ROOT = Path(__file__).parent.parent
HAS_PDFLATEX = shutil.which("pdflatex") is not None


def one_line_error(result, status: int = 2) -> str:
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matcalc: error: "), result.stderr
    return lines[0]


@pytest.fixture
def problems(tmp_path: Path) -> Path:
    path = tmp_path / "problems.toml"
    path.write_text('title = "T"\n[[problem]]\nexpr = "x**2"\n', encoding="utf-8")
    return path


# -- the output --------------------------------------------------------------------------
def test_output_is_never_the_problem_file(problems: Path):
    before = problems.read_bytes()
    line = one_line_error(run("doc", str(problems), "-o", str(problems), "--format", "markdown"))
    assert "is the problem file itself" in line
    assert problems.read_bytes() == before


def test_output_is_never_the_problem_file_through_a_link(problems: Path, tmp_path: Path):
    link = tmp_path / "link.md"
    link.symlink_to(problems)
    before = problems.read_bytes()
    line = one_line_error(run("doc", str(problems), "-o", str(link)))
    assert "problem file itself" in line
    assert problems.read_bytes() == before


def test_output_is_never_a_device_or_a_pipe(problems: Path, tmp_path: Path):
    line = one_line_error(run("doc", str(problems), "-o", "/dev/null", "--format", "markdown"))
    assert "not a regular file" in line
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    one_line_error(run("doc", str(problems), "-o", str(fifo)))
    assert Path("/dev/null").is_char_device()


def test_output_is_never_a_directory(problems: Path, tmp_path: Path):
    line = one_line_error(run("doc", str(problems), "-o", str(tmp_path), "--format", "markdown"))
    assert "is a directory" in line


def test_output_directory_is_checked_before_any_work(problems: Path, tmp_path: Path, monkeypatch):
    worked = []
    monkeypatch.setattr(documents, "build", lambda *a, **k: worked.append(1))
    line = one_line_error(run("doc", str(problems), "-o", str(tmp_path / "missing" / "out.md")))
    assert "does not exist" in line
    assert not worked


# -- malformed problem files ---------------------------------------------------------------
MALFORMED_TOML = [
    'lang = []\n[[problem]]\nexpr = "x"\n',
    'lang = {en = 1}\n[[problem]]\nexpr = "x"\n',
    'lang = 3\n[[problem]]\nexpr = "x"\n',
    "a = " + "[" * 5000 + "]" * 5000 + "\n",
    "a = " + "{b = " * 3000 + "1" + "}" * 3000 + "\n",
    'title = []\n[[problem]]\nexpr = "x"\n',
    'title = {xx = "a"}\n[[problem]]\nexpr = "x"\n',
    "problem = 5\n",
    "problem = [1, 2]\n",
    "section = [[1]]\n",
    "[[section]]\ntitle = 5\n",
    '[[section]]\ntitle = "s"\nproblem = 1\n',
    "[[problem]\n",
    "",
    'x = "\\u001b"\n',
    "title = 1979-05-27\n[[problem]]\nexpr = 'x'\n",
]


@pytest.mark.parametrize("text", MALFORMED_TOML)
def test_malformed_toml_is_one_line_and_exit_2(tmp_path: Path, text: str):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    one_line_error(run("doc", str(path), "-o", str(tmp_path / "out.md")))
    assert not (tmp_path / "out.md").exists()


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(4096),
        b"\x00\x01\x02binary\xff",
        b"x**2\n\x00\n",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        b"x" * (documents.MAX_FILE_BYTES + 1),
    ],
)
@pytest.mark.parametrize("suffix", [".toml", ".txt"])
def test_binary_junk_and_huge_files_are_one_line_and_exit_2(
    tmp_path: Path, data: bytes, suffix: str
):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(data)
    one_line_error(run("doc", str(path), "-o", str(tmp_path / "out.md")))


def test_dev_zero_is_refused_after_reading_only_the_size_limit(tmp_path: Path):
    start = time.perf_counter()
    line = one_line_error(run("doc", "/dev/zero", "-o", str(tmp_path / "out.md")))
    assert "at most" in line
    assert time.perf_counter() - start < 10


def test_a_directory_as_the_problem_file_is_one_line(tmp_path: Path):
    result = run("doc", str(tmp_path), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_bad_problems_in_a_good_file_cost_only_themselves(tmp_path: Path):
    path = tmp_path / "mixed.toml"
    path.write_text(
        "\n".join(
            [
                '[[problem]]\nexpr = "x**2"',
                '[[problem]]\nexpr = "sin("',
                "[[problem]]\nexpr = 5",
                '[[problem]]\nexpr = "x"\nlayout = []',
                '[[problem]]\nexpr = "x"\nnotes = "$\\\\def\\\\a{\\\\a}\\\\a$"',
                '[[problem]]\nexpr = "x"\nnotes = "$\\\\input{/etc/passwd}$"',
                '[[problem]]\nexpr = "x*((x-x+3)**999)**999"',
                '[[problem]]\nexpr = "x**3"',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.md"
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "please report" not in result.output
    failed = [line for line in result.stderr.splitlines() if line.startswith("matcalc: problem")]
    assert [line.split()[2] for line in failed] == ["2", "3", "4", "5", "6", "7"]
    text = out.read_text(encoding="utf-8")
    assert "3 x^{2}" in text  # problem 8 is worked
    assert "$\\def" not in text and "$\\input" not in text  # named in the errors, escaped


# -- LaTeX from a problem file ----------------------------------------------------------------
@pytest.mark.parametrize(
    "math",
    [
        r"\def\a{\a}\a",
        r"\input{/etc/passwd}",
        r"\openin5=/etc/passwd",
        r"\immediate\write18{touch /tmp/pwned}",
        r"\catcode`\^^M=13",
        r"\csname input\endcsname",
        r"x^{",
        r"x}",
        r"x^2^3",
        r"a & b",
        "#1",
        r"\\",
        r"\mathbf{\input{x}}",
        r"\text{\input{x}}",
        r"\frac12",
        r"\left( x",
        r"x^",
        "x\x1b",
    ],
)
def test_math_outside_the_whitelist_is_refused(math: str):
    with pytest.raises(ValueError):
        check_math(math)
    try:  # refused, or (when the $ is escaped, as in $\\$) prose, escaped
        latex = markup(f"see ${math}$", "latex", paragraph=True)
    except ValueError:
        return
    assert math not in latex


def test_the_math_of_the_shipped_problem_files_is_accepted():
    import re

    for path in (ROOT / "derivations").glob("*.toml"):
        for math in re.findall(r"\$([^$]*)\$", path.read_text(encoding="utf-8")):
            check_math(markup(f"${math.replace(chr(92) * 2, chr(92))}$", "latex")[1:-1])


def test_prose_reaches_latex_escaped():
    latex = markup(r"a \input{/etc/passwd} \def\a{\a}\a # & % ~ _ ^ { }", "latex", paragraph=True)
    assert "\\input" not in latex and "\\def" not in latex
    assert "\\textbackslash" in latex or "\\char" in latex


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex not installed")
def test_a_hostile_note_costs_only_its_problem_in_a_pdf(tmp_path: Path):
    path = tmp_path / "hostile.toml"
    path.write_text(
        '[[problem]]\nexpr = "x**2"\nnotes = "$\\\\def\\\\a{\\\\a}\\\\a$"\n'
        '[[problem]]\nexpr = "x**3"\nnotes = "\\\\input{/etc/passwd} and $x^2$ \\\\def\\\\a{\\\\a}\\\\a"\n',
        encoding="utf-8",
    )
    start = time.perf_counter()
    result = run("doc", str(path), "-o", str(tmp_path / "out.pdf"))
    assert time.perf_counter() - start < 120
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_pdflatex_runs_without_shell_escape_and_with_paranoid_file_access(monkeypatch):
    seen = {}

    def fake_run(command, **kw):
        seen.update(command=command, env=kw["env"], timeout=kw["timeout"])
        raise subprocess.TimeoutExpired(command, kw["timeout"])

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/pdflatex")
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setenv("TEXINPUTS", "/etc//:")
    with pytest.raises(MatcalcError, match="pdflatex took longer"):
        documents.compile_pdf("\\documentclass{article}", timeout=5)
    assert "-no-shell-escape" in seen["command"]
    assert seen["env"]["openin_any"] == "p" and seen["env"]["openout_any"] == "p"
    assert "TEXINPUTS" not in seen["env"]
    assert seen["timeout"] <= 5


# -- control and bidi characters ------------------------------------------------------------------
def test_control_and_bidi_characters_are_shown_escaped(tmp_path: Path):
    path = tmp_path / "controls.toml"
    path.write_text(
        '[[problem]]\ntitle = "T\\u001b[31mred\\u202e\\u0007"\nexpr = "x**2"\n'
        'notes = "see \\u001b[2J and \\u202e"\n'
        '[[problem]]\nexpr = "x\\u001b[31m + 1"\n',
        encoding="utf-8",
    )
    for suffix in (".md", ".tex"):
        out = tmp_path / f"out{suffix}"
        result = run("doc", str(path), "-o", str(out))
        assert result.exit_code == 1, result.output
        for text in (out.read_text(encoding="utf-8"), result.stderr):
            assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        assert "x1b" in out.read_text(encoding="utf-8")
        assert "x1b" in result.stderr


def test_visible_escapes_only_invisible_characters():
    assert visible("a\x1bb\u202ec 梯度 ∂") == "a\\x1bb\\u202ec 梯度 ∂"


# -- plain-text problem files -------------------------------------------------------------------
def test_plain_text_lines_take_wrt_and_declarations(tmp_path: Path):
    path = tmp_path / "p.txt"
    path.write_text(
        "# comment\n3*x**2*y ; wrt x,y\nsum(w*x) ; vectors w,x ; wrt w\nx*y ; wrt y ; layout denominator\n",
        encoding="utf-8",
    )
    result = run("doc", str(path), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 0, result.output


def test_plain_text_errors_speak_of_the_file_not_of_derive_options(tmp_path: Path):
    path = tmp_path / "p.txt"
    path.write_text("3*x*y\nx ; foo 1\nw**2 ; wrt W\n", encoding="utf-8")
    result = run("doc", str(path), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 1
    assert "--wrt" not in result.stderr and "--vector" not in result.stderr
    assert "'; wrt x'" in result.stderr
    assert "unknown '; foo'" in result.stderr
    assert "did you mean w?" in result.stderr


def test_toml_errors_speak_of_fields(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[[problem]]\nexpr = "3*x*y"\n', encoding="utf-8")
    result = run("doc", str(path), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 1
    assert "--wrt" not in result.stderr
    assert "field 'wrt'" in result.stderr


def test_dash_reads_the_problem_file_from_standard_input():
    result = run("doc", "-", "-o", "-", stdin="x**2\nsin(x) ; wrt x\n")
    assert result.exit_code == 0, result.output
    assert "Problem 2" in result.stdout
    toml = '[[problem]]\ntitle = "From a pipe"\nexpr = "x**2"\n'
    result = run("doc", "-", "-o", "-", stdin=toml)
    assert result.exit_code == 0, result.output
    assert "From a pipe" in result.stdout


def test_load_refuses_too_many_problems(tmp_path: Path):
    path = tmp_path / "many.txt"
    path.write_text("x\n" * (documents.MAX_PROBLEMS + 1), encoding="utf-8")
    with pytest.raises(UsageError, match="more than"):
        documents.load(path)


# -- memory -------------------------------------------------------------------------------------
def test_memory_cap_applies_to_the_block_and_is_restored():
    before = resource.getrlimit(resource.RLIMIT_AS)
    cap = 512 << 20
    with memory_cap(cap):
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        assert soft != resource.RLIM_INFINITY
        assert soft <= max(cap, _address_space_used() + cap)  # a big test runner gets room
        with pytest.raises(MemoryError):
            bytearray(soft)
    assert resource.getrlimit(resource.RLIMIT_AS) == before


def test_running_out_of_memory_is_a_limit_error(monkeypatch):
    import matcalc.api
    from matcalc.errors import InternalError

    def out_of_memory(*args, **kwargs):
        raise InternalError("could not differentiate") from MemoryError()

    monkeypatch.setattr(matcalc.api, "derive", out_of_memory)
    line = one_line_error(run("derive", "x**2", "--memory", "512M"))
    assert "memory limit of 512 MiB exceeded" in line
    result = run("derive", "x**2", "--format", "json")
    assert result.exit_code == 2
    assert '"kind": "limit"' in result.stdout


@pytest.mark.parametrize("size", ["10", "1e9", "lots", "-1G"])
def test_memory_sizes_outside_the_range_are_usage_errors(size):
    assert run("derive", "x**2", "--memory", size).exit_code == 2


def test_the_cli_stays_under_its_memory_cap():
    """x*((…(x+1)**9…)**9)**9 reached 3.3 GB; under --memory 400M it ends within the cap."""
    expr = "x*((((((((x+1)**9)**9)**9)**9)**9)**9)**9)**9"
    code = (
        "import resource, subprocess, sys\n"
        f"p = subprocess.run([sys.executable, '-m', 'matcalc', 'derive', {expr!r}, '--memory', '400M',"
        " '--timeout', '30'], capture_output=True, text=True)\n"
        "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(p.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    status, peak = done.stdout.split("\n")[0].split()
    assert int(status) in (0, 2), done.stdout
    assert "Traceback" not in done.stdout
    assert int(peak) < 450 * 1024  # kB


# -- signals ---------------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_jobs_2_ends_the_workers_and_keeps_the_output(tmp_path: Path, sig):
    path = tmp_path / "many.txt"
    path.write_text(
        "".join(f"sin(x**{i % 7 + 2} + {i}*x)*exp(x/{i + 1})\n" for i in range(400)),
        encoding="utf-8",
    )
    out = tmp_path / "out.md"
    out.write_text("previous\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "matcalc", "doc", str(path), "-o", str(out), "--jobs", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _children(proc.pid)
    assert workers, "no worker started"
    time.sleep(0.5)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (130, 143), err
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    alive = [
        w
        for w in workers
        if Path(f"/proc/{w}").exists()
        and "zombie" not in Path(f"/proc/{w}/status").read_text()
        and "(Z)" not in Path(f"/proc/{w}/status").read_text()
    ]
    assert not alive
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.md.")]


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex not installed")
def test_sigterm_during_a_pdf_build_removes_the_temporary_directory(tmp_path: Path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    out = tmp_path / "paper.pdf"
    out.write_bytes(b"previous")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "matcalc",
            "doc",
            str(ROOT / "derivations" / "paper.toml"),
            "-o",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(p.name.startswith("matcalc-pdf-") for p in temp.iterdir()):
        assert time.monotonic() < deadline and proc.poll() is None, "no pdflatex directory"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert list(temp.iterdir()) == []
    assert out.read_bytes() == b"previous"


def _limit_in_worker(_: int) -> int:
    return resource.getrlimit(resource.RLIMIT_AS)[0]


def test_doc_workers_inherit_the_memory_cap():
    with memory_cap(1 << 30):
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        assert list(documents.workers._map(_limit_in_worker, [1, 2, 3, 4], jobs=2)) == [soft] * 4
