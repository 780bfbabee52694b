"""Worked-solution documents: loading, failures, atomic writes, --jobs, languages, real tools.

The last tests use real tools: every generated LaTeX document is compiled with
pdflatex and its first page rendered with pdftoppm, and every formula of every
generated Markdown document goes through KaTeX under node (one process for
all).  Locally they skip when a tool is missing; under ``CI=true`` they fail.

``test_derivations_are_up_to_date`` regenerates every ``derivations/*.toml``
and fails, with a diff and the command to run, when a committed document
differs.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import katex_report, require, run

from matcalc import documents
from matcalc.errors import MatcalcError, UsageError
from matcalc.render.messages import CATALOGUES

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"
FIXTURE = Path(__file__).parent / "data" / "documents" / "fixture.toml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- loading ----------------------------------------------------------------------------
def test_load_sections_problems_and_languages(tmp_path):
    path = write(
        tmp_path,
        "p.toml",
        """
title = { en = "Title", zh = "标题" }
lang = "zh"
[[section]]
title = "One"
notes = "About one."
[[section.problem]]
expr = "x**2"
[[section]]
title = "Two"
[[section.problem]]
title = "Jacobian"
exprs = ["x*y", "x + y"]
wrt = "x,y"
layout = "denominator"
[[section.problem]]
expr = "w @ x"
wrt = ["w"]
vectors = ["w", "x"]
notes = ["A.", "B"]
""",
    )
    sets = documents.load(path)
    assert sets.source == "p.toml" and sets.lang == "zh"
    assert sets.title.line("zh") == "标题" and sets.title.line("en") == "Title"
    assert [s.title.line("en") for s in sets.sections] == ["One", "Two"]
    assert [e.number for e in sets.exercises] == [1, 2, 3]
    assert [e.section for e in sets.exercises] == [0, 1, 1]
    one, two, three = sets.exercises
    assert one.exprs == ("x**2",) and one.wrt is None and one.title is None
    assert two.exprs == ("x*y", "x + y") and two.wrt == ("x,y",) and two.layout == "denominator"
    assert three.vectors == ("w", "x") and three.notes.paragraphs("en") == ("A.", "B")
    assert not any(e.error for e in sets.exercises)


def test_plain_text_problem_file(tmp_path):
    path = write(tmp_path, "p.txt", "# derivatives\n\nx**2\n  # indented comment\nsin(x)\n\n")
    sets = documents.load(path)
    assert [e.exprs for e in sets.exercises] == [("x**2",), ("sin(x)",)]
    out = tmp_path / "p.md"
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "## Problem 1: `x**2`" in text and "## Problem 2: `sin(x)`" in text
    assert "## Contents" in text and "# Worked solutions" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title = [", "invalid TOML"),
        ('titel = "x"\n[[problem]]\nexpr = "x"', "unknown top-level field 'titel'"),
        ('lang = "fr"\n[[problem]]\nexpr = "x"', "field 'lang' must be one of en, zh"),
        ('[[problem]]\nexpr = "x"\n[[section]]\ntitle = "s"', "not both"),
        ('title = "no problems"', "no problems"),
        ('[[section]]\n[[section.problem]]\nexpr = "x"', "section 1: missing field 'title'"),
        ('problem = "x"', "'problem' must be an array of tables"),
        ('[[section]]\ntitle = "s"\nproblems = 1', "section 1: unknown field 'problems'"),
        ('title = 3\n[[problem]]\nexpr = "x"', "field 'title' must be a string"),
    ],
)
def test_file_errors_are_one_line_usage_errors(tmp_path, text, message):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(UsageError, match=re.escape(message)):
        documents.load(path)
    result = run("doc", str(path), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("matcalc: error: bad.toml: ")
    assert not (tmp_path / "out.md").exists()


def test_unreadable_file_and_unknown_suffix(tmp_path):
    result = run("doc", str(tmp_path / "missing.toml"), "-o", str(tmp_path / "out.md"))
    assert result.exit_code == 2 and "cannot read" in result.stderr
    path = write(tmp_path, "p.txt", "x**2\n")
    result = run("doc", str(path), "-o", str(tmp_path / "out.html"))
    assert result.exit_code == 2
    assert "cannot tell the format from 'out.html'" in result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('expr = "x"\nwtr = "x"', "unknown field 'wtr'"),
        ('expr = "x"\nexprs = ["x"]', "give field 'expr' or field 'exprs', not both"),
        ('title = "t"', "missing field 'expr' (or 'exprs')"),
        ("expr = 3", "field 'expr' must be a non-empty string"),
        ("exprs = []", "field 'exprs' must be a non-empty list of strings"),
        ('expr = "x"\nwrt = 1', "field 'wrt' must be a string or a non-empty list of strings"),
        ('expr = "x"\nvectors = [1]', "field 'vectors' must be a string"),
        ('expr = "x"\nlayout = "row"', "field 'layout' must be numerator or denominator"),
        ('expr = "x"\nnotes = 5', "field 'notes' must be a string or a list of strings"),
        ('expr = "x"\nnotes = { fr = "x" }', "field 'notes': unknown language 'fr'"),
    ],
)
def test_problem_errors_name_the_field_and_cost_only_that_problem(tmp_path, table, message):
    path = write(tmp_path, "p.toml", f'[[problem]]\nexpr = "x**2"\n[[problem]]\n{table}\n')
    sets = documents.load(path)
    assert sets.exercises[0].error == ""
    error = str(sets.exercises[1].error)  # a catalogue sentence: English as str()
    assert error == message or error.startswith(message)
    doc = documents.build(sets, fmt="markdown", lang="en")
    assert [s.failed for s in doc.solutions] == [False, True]


# -- a bad problem costs only itself ----------------------------------------------------
BROKEN = """
title = "Mixed"
[[problem]]
title = "Good one"
expr = "sin(x**2)"
[[problem]]
title = "Parse error"
expr = "sin(x"
[[problem]]
title = "Bad field"
expr = "x"
layout = "sideways"
[[problem]]
title = "Two variables"
expr = "x*y"
[[problem]]
title = "Too long"
expr = "{}"
[[problem]]
title = "Good two"
expr = "x*x**2"
""".format("+".join(["x"] * 1500))


def test_broken_entries_yield_a_document_of_the_good_ones(tmp_path):
    path = write(tmp_path, "mixed.toml", BROKEN)
    out = tmp_path / "mixed.md"
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[1] for line in lines] == [
        " problem 2 (Parse error)",
        " problem 3 (Bad field)",
        " problem 4 (Two variables)",
        " problem 5 (Too long)",
    ]
    assert lines[0] == "matcalc: problem 2 (Parse error): unclosed '(' (column 4)"
    assert "field 'layout'" in lines[1]
    assert "several variables" in lines[2]
    assert lines[3].endswith("expression is 2999 characters long, the limit is 2000")
    text = out.read_text(encoding="utf-8")
    assert text.count("**Failed: ") == 4 and text.count(" (failed)") == 4
    assert "- [Problem 1: Good one](#problem-1-good-one)\n" in text
    assert "- [Problem 2: Parse error](#problem-2-parse-error) (failed)" in text
    for good in ("Problem 1: Good one", "Problem 6: Good two"):
        body = text.split(f"## {good}")[1].split("\n## ")[0]
        assert "Verified: equal to SymPy's derivative" in body


def test_unexpected_exceptions_become_failures(monkeypatch):
    import matcalc.api

    def boom(*args, **kwargs):
        raise RuntimeError("kaput")

    monkeypatch.setattr(matcalc.api, "derive", boom)
    sets = documents.loads_text("x**2\n")
    doc = documents.build(sets, fmt="markdown", lang="en")
    assert doc.solutions[0].error == "internal error (RuntimeError: kaput); please report it"


def _die(*args, **kwargs):
    os._exit(3)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_a_dead_worker_is_one_error(monkeypatch):
    monkeypatch.setattr(documents.workers, "solve", _die)
    sets = documents.loads_text("x**2\nx**3\n")
    with pytest.raises(MatcalcError, match="a worker process died"):
        documents.build(sets, fmt="markdown", lang="en", jobs=2)


def test_the_documents_own_text_must_typeset(tmp_path):
    path = write(
        tmp_path, "p.toml", '[[section]]\ntitle = "Kreis ○"\n[[section.problem]]\nexpr = "x"\n'
    )
    result = run("doc", str(path), "-o", str(tmp_path / "p.tex"))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "matcalc: error: p.toml: section 1: title: pdflatex cannot typeset '○'"
    )
    assert run("doc", str(path), "-o", str(tmp_path / "p.md")).exit_code == 0


# -- writing ----------------------------------------------------------------------------
def test_output_is_written_atomically(tmp_path, monkeypatch):
    path = write(tmp_path, "p.txt", "x**2\n")
    out = write(tmp_path, "out.tex", "previous document\n")
    # Rendering refused before anything is written: OUT stays as it was.
    result = run("doc", str(path), "-o", str(out), "--lang", "zh")
    assert result.exit_code == 2 and "只支持英文" in result.stderr  # said in Chinese, as asked
    assert out.read_text() == "previous document\n"

    # A failure while writing the temporary file: OUT as it was, no temporary file left.
    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(documents.output.os, "fsync", fail)
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"matcalc: error: cannot write {out}: No space left on device\n"
    assert out.read_text() == "previous document\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tex", "p.txt"]


def test_failed_pdflatex_leaves_the_previous_pdf(tmp_path, monkeypatch):
    require(shutil.which("pdflatex") is not None, "pdflatex")
    # a problem file's math is checked now (an unknown command costs only its problem),
    # so the LaTeX source itself is broken here
    broken = "\\documentclass{article}\n\\begin{document}\n$\\undefinedmacro$\n\\end{document}\n"
    monkeypatch.setattr(documents.output, "render", lambda document: broken)
    path = write(tmp_path, "p.toml", '[[problem]]\nexpr = "x**2"\n')
    out = write(tmp_path, "out.pdf", "previous pdf")
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith("matcalc: error: pdflatex failed: Undefined control sequence.")
    assert result.stderr.count("\n") == 1
    assert out.read_text() == "previous pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf", "p.toml"]


def test_pdflatex_missing_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(documents.output.shutil, "which", lambda name: None)
    path = write(tmp_path, "p.txt", "x**2\n")
    result = run("doc", str(path), "-o", str(tmp_path / "out.pdf"))
    assert result.exit_code == 1
    assert result.stderr == "matcalc: error: pdflatex not found: install texlive-latex-base\n"


def test_format_option_and_standard_output(tmp_path):
    path = write(tmp_path, "p.txt", "x**2\n")
    result = run("doc", str(path), "-o", str(tmp_path / "answers.out"), "--format", "latex")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "answers.out").read_text().startswith("\\documentclass")
    result = run("doc", str(path), "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Worked solutions\n")


def test_latex_refuses_characters_pdflatex_cannot_typeset(tmp_path):
    path = write(
        tmp_path, "p.toml", '[[problem]]\nexpr = "x**2"\nnotes = "a ○ b"\n[[problem]]\nexpr = "x"\n'
    )
    out = tmp_path / "p.tex"
    result = run("doc", str(path), "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "matcalc: problem 1 (x**2): field 'notes': pdflatex cannot typeset '○'"
    )
    assert "Problem 2" in out.read_text()


def test_progress_bar_only_for_twenty_problems_on_a_terminal(monkeypatch, capsys):
    from matcalc import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    with cli._progress(50, "en") as advance:
        advance()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with cli._progress(19, "en") as advance:
        advance()
    assert capsys.readouterr().err == ""
    with cli._progress(20, "zh") as advance:
        for _ in range(20):
            advance()
    assert "推导中" in capsys.readouterr().err


# -- order, jobs and languages ----------------------------------------------------------
def test_jobs_do_not_change_the_document(tmp_path):
    paper = DERIVATIONS / "paper.toml"
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"paper-{jobs}.md"
        result = run("doc", str(paper), "-o", str(out), "--jobs", jobs)
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    mixed = write(tmp_path, "mixed.toml", BROKEN)
    one = documents.build(documents.load(mixed), fmt="latex", lang="en", jobs=1)
    three = documents.build(documents.load(mixed), fmt="latex", lang="en", jobs=3)
    assert one.solutions == three.solutions


def test_lang_zh_gives_chinese_prose(tmp_path):
    out = tmp_path / "fixture.zh.md"
    result = run("doc", str(FIXTURE), "-o", str(out), "--lang", "zh")
    assert result.exit_code == 1  # the fixture's broken problem
    text = out.read_text(encoding="utf-8")
    for word in (
        "## 目录",
        "第 1 题：三层嵌套",
        "作者：测试作者",
        "引入中间变量",
        "已验证",
        "失败：",
        "（失败）",
        "**注**",
    ):
        assert word in text, word
    for word in ("Contents", "Step 1", "Verified", "Introduce", "Failed"):
        assert word not in text, word
    result = run("derive", "ln(sin(x**3)**2)", "--lang", "zh", "--format", "markdown")
    assert result.exit_code == 0 and "第 1 步 — 引入中间变量" in result.stdout


def test_markdown_follows_the_design_rules():
    for path in sorted(DERIVATIONS.glob("*.md")):
        lines = path.read_text(encoding="utf-8").split("\n")
        inside = False
        for i, line in enumerate(lines):
            if line == "$$":
                outside = lines[i + 1] if inside else lines[i - 1]
                assert outside == "", (
                    f"{path.name}:{i + 1}: $$ needs a blank line outside the block"
                )
                inside = not inside
            elif not inside and re.match(r"\s*([-*+]|\d+\.)\s", line):
                assert "$$" not in line, f"{path.name}:{i + 1}: display math inside a list"
        assert "Derivative(" not in "\n".join(lines) and "Dummy" not in "\n".join(lines)


# -- derivations/ never drift from the code ---------------------------------------------
PARTS = ("sheet", "key")


def _outputs() -> list[tuple[Path, Path, str, str]]:
    """(problem file, committed document, lang, part) for every document in derivations/:
    ``paper.md``, ``paper.zh.md``, ``paper.tex``, ``paper.sheet.md``, ``paper.key.zh.md``, …"""
    out = []
    for source in sorted(DERIVATIONS.glob("*.toml")):
        for path in sorted(DERIVATIONS.glob(source.stem + ".*")):
            if path.suffix not in (".md", ".tex"):
                continue
            middle = path.name[len(source.stem) : -len(path.suffix)].split(".")[1:]
            part = middle.pop(0) if middle and middle[0] in PARTS else "solutions"
            if len(middle) > 1 or (middle and middle[0] not in CATALOGUES):
                continue
            out.append((source, path, middle[0] if middle else "en", part))
    return out


def test_every_problem_file_has_its_documents():
    outputs = _outputs()
    for source in DERIVATIONS.glob("*.toml"):
        names = {p.name for s, p, _, _ in outputs if s == source}
        assert {f"{source.stem}.md", f"{source.stem}.tex"} <= names, source.name
    documents_ = [p.name for _, p, _, _ in outputs]
    assert {"paper.zh.md", "paper.sheet.md", "paper.key.md"} <= set(documents_)


def test_derivations_are_up_to_date(tmp_path):
    stale = []
    for source, committed, lang, part in _outputs():
        out = tmp_path / committed.name
        args = ["doc", str(source), "-o", str(out), "--lang", lang, "--jobs", "2"]
        args += ["--part", part] if part != "solutions" else []
        result = run(*args)
        assert result.exit_code == 0, f"{committed.name}: {result.stderr}"
        produced, expected = out.read_text(encoding="utf-8"), committed.read_text(encoding="utf-8")
        if produced != expected:
            diff = difflib.unified_diff(
                expected.splitlines(),
                produced.splitlines(),
                str(committed),
                "regenerated",
                lineterm="",
                n=1,
            )
            command = f"matcalc doc derivations/{source.name} -o derivations/{committed.name}"
            command += f" --lang {lang}" if lang != "en" else ""
            command += f" --part {part}" if part != "solutions" else ""
            stale.append("\n".join([*list(diff)[:60], f"regenerate with: {command}"]))
    assert not stale, "committed documents differ from the code:\n\n" + "\n\n".join(stale)


# -- real tools: pdflatex + pdftoppm, KaTeX under node ----------------------------------
@pytest.fixture(scope="module")
def fixture_documents(tmp_path_factory) -> dict[str, str]:
    """The test fixture rendered as LaTeX and as Markdown (en, zh): broken problem included."""
    sets = documents.load(FIXTURE)
    return {
        "fixture.tex": documents.render(documents.build(sets, fmt="latex", lang="en")),
        "fixture.md": documents.render(documents.build(sets, fmt="markdown", lang="en")),
        "fixture.zh.md": documents.render(documents.build(sets, fmt="markdown", lang="zh")),
    }


def test_every_latex_document_compiles_and_renders(tmp_path, fixture_documents):
    require(shutil.which("pdflatex") is not None, "pdflatex (texlive-latex-base)")
    require(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(DERIVATIONS.glob("*.tex"))}
    sources["fixture.tex"] = fixture_documents["fixture.tex"]
    assert len(sources) >= 3
    for name, latex in sources.items():
        assert latex.isascii() or not re.search(r"[^\x00-\xff]", latex), name
        pdf = tmp_path / (Path(name).stem + ".pdf")
        try:
            pdf.write_bytes(documents.compile_pdf(latex))
        except MatcalcError as error:
            pytest.fail(f"{name}: {error}")
        assert pdf.read_bytes().startswith(b"%PDF")
        stem = tmp_path / Path(name).stem
        done = subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(stem)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{name}: {done.stderr}"
        pages = list(tmp_path.glob(stem.name + "-*.png"))
        assert len(pages) == 1 and pages[0].read_bytes().startswith(b"\x89PNG"), name


def markdown_formulas(name: str, text: str) -> list[dict]:
    """Every display ($$ … $$) and inline ($…$) formula of a Markdown document."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i] == "$$":
            end = lines.index("$$", i + 1)
            out.append(
                {"tex": "\n".join(lines[i + 1 : end]), "display": True, "where": f"{name}:{i + 2}"}
            )
            i = end + 1
            continue
        line = re.sub(r"`[^`]*`", "", lines[i]).replace("\\\\", "")
        for match in re.finditer(r"(?<!\\)\$(.+?)(?<!\\)\$", line):
            out.append({"tex": match.group(1), "display": False, "where": f"{name}:{i + 1}"})
        i += 1
    return out


def test_katex_accepts_every_markdown_formula(fixture_documents):
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(DERIVATIONS.glob("*.md"))}
    texts.update({k: v for k, v in fixture_documents.items() if k.endswith(".md")})
    formulas = [f for name, text in texts.items() for f in markdown_formulas(name, text)]
    assert len(formulas) > 500
    report = katex_report(formulas)
    assert report["checked"] == len(formulas)
    problems = report["errors"] + report["warnings"]
    details = "\n".join(f"{e['where']}: {e['error']}\n    {e['tex'][:200]}" for e in problems[:20])
    assert not problems, f"KaTeX rejects {len(problems)} formula(s):\n{details}"
